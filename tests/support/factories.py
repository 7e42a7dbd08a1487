"""Small builders of leads for tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from leadcrawler.domain.items import ContactKind, ContactPoint, ContactStatus, Lead, Offer, Sighting

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def contact(
    kind: ContactKind,
    value: str,
    *,
    url: str = "https://pay.kiwify.com.br/AbC1234",
    when: datetime = T0,
    **details: object,
) -> ContactPoint:
    return ContactPoint(
        kind=kind,
        value=value,
        normalized=value,
        source_url=url,
        found_at=when,
        status=ContactStatus.VALID,
        method="test",
        details=dict(details),
    )


def lead(
    name: str | None = "Ana Souza",
    *,
    checkout: str | None = "https://pay.kiwify.com.br/AbC1234",
    price: str | None = "97.00",
    platform: str = "kiwify",
    contacts: list[ContactPoint] | None = None,
    seen_at: datetime = T0,
    seller_id: str | None = None,
    keys: list[str] | None = None,
) -> Lead:
    offers = []
    if checkout:
        offers.append(
            Offer(
                platform=platform,
                checkout_url=checkout,
                product_name="Curso de Teste",
                price_brl=Decimal(price) if price else None,
                seller_id=seller_id,
            )
        )
    item = Lead(
        sighting=Sighting(
            source=platform, url=checkout or "https://x.com.br/", spider=platform, seen_at=seen_at
        ),
        display_name=name,
        contacts=contacts or [],
        offers=offers,
    )
    if keys is not None:
        item.identity_keys = keys
    return item


def project_settings(**overrides: object) -> dict[str, object]:
    """The test settings module as a dict, with ``overrides`` on top."""
    import settings.test as module

    values = {name: getattr(module, name) for name in dir(module) if name.isupper()}
    return {**values, **overrides}
