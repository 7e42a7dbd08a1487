"""Qualify stage: score each sighting and give it a tier, with the points per criterion.

The rules live in an operator-editable TOML file (``QUALIFY_RULES_FILE``). The persist
stage re-scores the merged lead in the base with the same rules, so a producer seen on
several platforms is scored on everything known about them.

Settings: ``QUALIFY_ENABLED``, ``QUALIFY_RULES_FILE``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from scrapy.exceptions import NotConfigured

from leadcrawler.domain.facts import facts_from_item
from leadcrawler.domain.items import Lead
from leadcrawler.domain.scoring import Rules, RulesError, score

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector


class QualifyPipeline:
    def __init__(self, stats: StatsCollector, rules: Rules) -> None:
        self.stats = stats
        self.rules = rules

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("QUALIFY_ENABLED"):
            raise NotConfigured("QUALIFY_ENABLED is off")
        try:
            rules = Rules.from_file(settings["QUALIFY_RULES_FILE"])
        except RulesError as exc:
            raise NotConfigured(str(exc)) from exc
        assert crawler.stats is not None
        return cls(stats=crawler.stats, rules=rules)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Lead):
            return item
        result = score(facts_from_item(item), self.rules, now=item.sighting.seen_at)
        item.score, item.tier, item.score_reasons = result.score, result.tier, result.reasons
        self.stats.inc_value(f"leadcrawler/qualify/tier/{result.tier}")
        return item
