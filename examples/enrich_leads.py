"""Run raw leads through the enricher into a base, without Scrapy.

    python examples/enrich_leads.py [DATABASE_URL]      (default: sqlite:///data/example.sqlite3)

The same chain a crawl uses (normalize → validate → enrich → dedupe → qualify → persist),
fed from a plain list: an importer or an API does the same with its own source. MX checks
are off here (no DNS is asked); the project's other settings apply.
"""

from __future__ import annotations

import sys

from leadcrawler.domain.items import Certainty, ContactKind, ContactPoint, Lead, Offer, Sighting
from leadcrawler.domain.platforms import platform_for_url
from leadcrawler.enricher import enrich_leads

RAW = [
    # name, e-mail, phone as written, checkout
    (
        "Ana Doces",
        "Contato@AnaDoces.com.br",
        "(11) 98765-4321",
        "https://pay.kiwify.com.br/Ab12Cd3",
    ),
    ("Ana Doces", "contato@anadoces.com.br", None, "https://pay.hotmart.com/A12345678B"),
    ("Studio Yoga", None, "(21) 3456-7890", "https://pay.hub.la/Qz7Xw1Pq9Lm2Nb4Vc6Rt"),
    (None, "not an e-mail", None, None),  # nobody: rejected, counted
]


def raw_lead(name: str | None, email: str | None, phone: str | None, checkout: str | None) -> Lead:
    url = checkout or "https://example.com.br/"
    contacts = [
        ContactPoint(kind=kind, value=value, source_url=url, method="import",
                     certainty=Certainty.CERTAIN)
        for kind, value in ((ContactKind.EMAIL, email), (ContactKind.PHONE, phone))
        if value
    ]  # fmt: skip
    platform = platform_for_url(checkout) if checkout else None
    offers = [Offer(platform=platform.key, checkout_url=checkout)] if checkout and platform else []
    return Lead(
        sighting=Sighting(source="import", url=url, spider="example"),
        display_name=name,
        contacts=contacts,
        offers=offers,
    )


def main(argv: list[str]) -> int:
    database_url = argv[1] if len(argv) > 1 else "sqlite:///data/example.sqlite3"
    leads = [raw_lead(*row) for row in RAW]
    report = enrich_leads(leads, database_url, ENRICH_DNS_ENABLED=False)
    created = report.stats.get("leadcrawler/persist/created", 0)
    print(f"{len(report.kept)} lead(s) kept, {created} new in {database_url}")
    for reason, count in sorted(report.rejected.items()):
        print(f"rejected: {count} ({reason})")
    for lead in report.kept:
        print(f"{lead.tier} {lead.score:>3}  {lead.display_name or '-'}  {lead.lead_uid}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
