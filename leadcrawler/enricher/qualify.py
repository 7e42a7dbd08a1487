"""Qualify step: score each sighting and give it a tier, with the points per criterion.

The rules live in an operator-editable TOML file (``QUALIFY_RULES_FILE``).

One score per write: the score stored in the base is computed once per write, by the
set-based writer, for the merged lead (everything known about the producer, on every
platform), with this step's rules (handed over by the chain). What this step computes is
the *sighting's* score: the same function (:func:`~leadcrawler.domain.facts.score_lead`) of
the same shape (:class:`~leadcrawler.domain.facts.LeadView`), over what this sighting alone
shows, judged at the time it was seen. It is a preview, never written over the stored one:
it is what the crawl's feed (``-O leads.csv``), its tier counts and a run without persist
see, because an item leaves for the feed before its batch is written (persist buffers
``PERSIST_BATCH_SIZE`` leads) and so can never carry the stored score. Without rules
(qualify off) the writer computes no score: a new lead keeps the one its item carries.

Settings (this step owns the ``QUALIFY_`` prefix): ``QUALIFY_ENABLED``, ``QUALIFY_RULES_FILE``.
"""

from __future__ import annotations

from leadcrawler.domain.facts import ContactView, LeadView, OfferView, score_lead
from leadcrawler.domain.items import Lead
from leadcrawler.domain.scoring import Rules, RulesError
from leadcrawler.enricher.config import ConfigError, Settings, Stats


def rules_file(settings: Settings) -> str:
    """The rule book's path (``QUALIFY_RULES_FILE``)."""
    return str(settings.get("QUALIFY_RULES_FILE") or "")


def rules_from_settings(settings: Settings) -> Rules:
    """The rule book ``QUALIFY_RULES_FILE`` names; ConfigError when missing or wrong."""
    try:
        return Rules.from_file(rules_file(settings))
    except RulesError as exc:
        raise ConfigError(str(exc)) from exc


def rules_for_crawl(settings: Settings) -> Rules | None:
    """The rules a crawl scores with: None when ``QUALIFY_ENABLED`` is off.

    Raises :class:`ConfigError` when ``QUALIFY_RULES_FILE`` is missing or wrong.
    """
    if not settings.getbool("QUALIFY_ENABLED"):
        return None
    return rules_from_settings(settings)


def sighting_view(lead: Lead) -> LeadView:
    """One sighting as scoring reads a lead: what the base would hold from it alone."""
    return LeadView(
        [ContactView(c.kind, c.normalized or c.value, c.status, c.details) for c in lead.contacts],
        [OfferView(o.platform, o.price_brl) for o in lead.offers] if lead.offers else [],
        lead.domain,
        lead.cnpj,
        lead.sighting.seen_at,
    )


class Qualifier:
    def __init__(self, stats: Stats, rules: Rules) -> None:
        self.stats = stats
        self.rules = rules

    def qualify(self, lead: Lead) -> Lead:
        result = score_lead(sighting_view(lead), self.rules, lead.sighting.seen_at)
        lead.score, lead.tier, lead.score_reasons = result
        self.stats.inc_value(
            _TIER_KEYS.get(result.tier) or f"leadcrawler/qualify/tier/{result.tier}"
        )
        return lead


_TIER_KEYS = {tier: f"leadcrawler/qualify/tier/{tier}" for tier in ("A", "B", "C")}
