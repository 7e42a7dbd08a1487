"""Qualify step: score each sighting and give it a tier, with the points per criterion.

The rules live in an operator-editable TOML file (``QUALIFY_RULES_FILE``). The persist
step re-scores the merged lead in the base with the same rules (handed over by the chain),
so a producer seen on several platforms is scored on everything known about them.

Settings (this step owns the ``QUALIFY_`` prefix): ``QUALIFY_ENABLED``, ``QUALIFY_RULES_FILE``.
"""

from __future__ import annotations

from leadcrawler.domain.facts import facts_from_item
from leadcrawler.domain.items import Lead
from leadcrawler.domain.scoring import Rules, RulesError, score
from leadcrawler.enricher.config import ConfigError, Settings, Stats


def rules_from_settings(settings: Settings) -> Rules:
    """The rule book ``QUALIFY_RULES_FILE`` names; ConfigError when missing or wrong."""
    try:
        return Rules.from_file(settings.get("QUALIFY_RULES_FILE"))
    except RulesError as exc:
        raise ConfigError(str(exc)) from exc


class Qualifier:
    def __init__(self, stats: Stats, rules: Rules) -> None:
        self.stats = stats
        self.rules = rules

    def qualify(self, lead: Lead) -> Lead:
        result = score(facts_from_item(lead), self.rules, now=lead.sighting.seen_at)
        lead.score, lead.tier, lead.score_reasons = result.score, result.tier, result.reasons
        self.stats.inc_value(f"leadcrawler/qualify/tier/{result.tier}")
        return lead
