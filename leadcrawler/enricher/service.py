"""The enricher as a service: normalize → validate → enrich → dedupe → qualify → persist.

One :class:`Chain` per run of the enricher, whatever feeds it: a crawl (the item pipelines
in :mod:`leadcrawler.pipelines` each call their step), an import, the API, or a script::

    from leadcrawler.enricher import enrich_leads
    report = enrich_leads(leads, database_url="sqlite:///data/leads.sqlite3")

Each step is built from the settings that carry its prefix (``NORMALIZE_*``,
``VALIDATE_*``, ``ENRICH_*``, ``DEDUPE_*``, ``QUALIFY_*``, ``PERSIST_*``) and is None when
its ``<PREFIX>_ENABLED`` is off. Steps that need each other's rules get them from the chain,
not from each other's settings: validate reads phones as normalize does, persist re-scores
with qualify's rules and resolves identities with dedupe's similarity. The base is the
host's (one per crawl, from the storage extension; one per script): the chain never opens
one. Dedupe consults the base only when the chain persists into it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from leadcrawler.domain.items import Lead
from leadcrawler.domain.phones import PhoneReadings
from leadcrawler.domain.scoring import Rules
from leadcrawler.enricher.config import ConfigError, MemoryStats, Settings, SettingsMap, Stats
from leadcrawler.enricher.dedupe import DedupeConfig, Deduper
from leadcrawler.enricher.enrich import Enricher, SiteVisitConfig, mx_checker_from_settings
from leadcrawler.enricher.normalize import NormalizeConfig, Normalizer
from leadcrawler.enricher.persist import PersistConfig, Persister
from leadcrawler.enricher.qualify import Qualifier, rules_for_crawl
from leadcrawler.enricher.validate import Validator
from leadcrawler.privacy.config import PrivacyConfig
from leadcrawler.privacy.gate import PrivacyGate
from leadcrawler.storage.base import Base

logger = logging.getLogger(__name__)


class Rejected(Exception):
    """A step rejected the lead; ``reason`` is short and machine-readable."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"{reason}: no name, CNPJ, own domain or valid contact")
        self.step = step
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Rejection:
    lead: Lead
    reason: Rejected


class Chain:
    """The steps of one enricher run, built lazily from settings and sharing one stats."""

    def __init__(self, settings: Settings, stats: Stats) -> None:
        self.settings = settings
        self.stats = stats
        self._built: dict[str, Any] = {}
        self.base: Base | None = None
        # Each phone number is parsed once, by normalize; validate and enrich read the result.
        self.phone_readings = PhoneReadings()

    def enabled(self, step: str) -> bool:
        return bool(self.settings.getbool(f"{step.upper()}_ENABLED"))

    def _once(self, name: str, build: Any) -> Any:
        if name not in self._built:
            self._built[name] = build() if self.enabled(name) else None
        return self._built[name]

    # Configuration shared between steps: each read once, by the step owning its prefix.

    @property
    def normalize_config(self) -> NormalizeConfig:
        if "normalize_config" not in self._built:
            self._built["normalize_config"] = NormalizeConfig.from_settings(self.settings)
        return self._built["normalize_config"]

    @property
    def site_visit_config(self) -> SiteVisitConfig:
        """The enrich step's site visit limits, read by the spiders that visit sites."""
        if "site_visit_config" not in self._built:
            self._built["site_visit_config"] = SiteVisitConfig.from_settings(self.settings)
        return self._built["site_visit_config"]

    @property
    def dedupe_config(self) -> DedupeConfig:
        if "dedupe_config" not in self._built:
            self._built["dedupe_config"] = DedupeConfig.from_settings(self.settings)
        return self._built["dedupe_config"]

    @property
    def rules(self) -> Rules | None:
        """The qualify step's rule book (None when qualify is off), used by persist too."""
        if "rules" not in self._built:
            self._built["rules"] = rules_for_crawl(self.settings)
        return self._built["rules"]

    # The privacy gate is not a switchable step: no lead is collected without a legal basis,
    # and a suppressed person never goes further. Raises PrivacyConfigError on bad settings.

    @property
    def privacy_gate(self) -> PrivacyGate:
        if "privacy_gate" not in self._built:
            self._built["privacy_gate"] = PrivacyGate(PrivacyConfig.from_settings(self.settings))
        gate: PrivacyGate = self._built["privacy_gate"]
        return gate

    def load_suppression(self, base: Base) -> None:
        """Load the base's suppression list into the gate (blocking: call from a thread)."""
        from leadcrawler.storage.privacy import PrivacyStore

        gate = self.privacy_gate
        gate.suppressed = PrivacyStore(base.engine, gate.config).suppressed_hashes()

    # The steps; None when switched off. Building one raises ConfigError on a bad setting.

    @property
    def normalizer(self) -> Normalizer | None:
        return self._once(
            "normalize", lambda: Normalizer(self.stats, self.normalize_config, self.phone_readings)
        )

    @property
    def validator(self) -> Validator | None:
        return self._once(
            "validate",
            lambda: Validator(
                self.stats,
                self.normalize_config.phones,
                self.phone_readings,
                require_contact=self.settings.getbool("VALIDATE_REQUIRE_CONTACT"),
            ),
        )

    @property
    def enricher(self) -> Enricher | None:
        return self._once(
            "enrich",
            lambda: Enricher(
                self.stats, mx_checker_from_settings(self.settings), self.phone_readings
            ),
        )

    @property
    def deduper(self) -> Deduper | None:
        return self._once("dedupe", lambda: Deduper(self.stats, self.dedupe_config))

    @property
    def qualifier(self) -> Qualifier | None:
        def build() -> Qualifier:
            rules = self.rules
            assert rules is not None
            return Qualifier(self.stats, rules)

        return self._once("qualify", build)

    @property
    def name_similarity(self) -> int:
        """The identity rule dedupe and persist share (dedupe's setting, else the default)."""
        if self.enabled("dedupe"):
            return self.dedupe_config.name_similarity
        return DedupeConfig().name_similarity

    @property
    def persister(self) -> Persister | None:
        def build() -> Persister:
            config = PersistConfig.from_settings(self.settings)
            return Persister(self.stats, config, None, self._rules_or_none())

        return self._once("persist", build)

    def _rules_or_none(self) -> Rules | None:
        try:
            return self.rules
        except ConfigError as exc:
            logger.warning("Stored leads will not be re-scored: %s", exc)
            return None

    def use_base(self, base: Base | None) -> None:
        """Give the chain the host's base: persist writes there, dedupe consults it."""
        self.base = base
        if base is not None:
            self.load_suppression(base)
        persister = self.persister
        if base is None or persister is None:
            return
        persister.store = base.leads(self.name_similarity)
        deduper = self.deduper
        if deduper is not None:
            deduper.store = persister.store

    # Running leads through every enabled step.

    async def start(self, source: str, arguments: dict[str, Any] | None = None) -> None:
        if self.persister is not None:
            await self.persister.start_run(source, dict(arguments or {}))

    def screen(self, lead: Lead) -> Lead:
        """The steps that need nothing but the lead: privacy, normalize, validate.

        Raises :class:`Rejected`.
        """
        return self._screen(lead, self.privacy_gate, self.normalizer, self.validator)

    def _screen(
        self,
        lead: Lead,
        gate: PrivacyGate,
        normalizer: Normalizer | None,
        validator: Validator | None,
    ) -> Lead:
        screening = gate.screen(lead)
        for why, count in screening.dropped.items():
            self.stats.inc_value(f"leadcrawler/privacy/minimised/{why}", count)
        if screening.suppressed:
            self.stats.inc_value("leadcrawler/privacy/suppressed")
            raise Rejected("privacy", "suppressed")
        if normalizer is not None:
            normalizer.normalize(lead)
        if validator is not None:
            reason = validator.validate(lead)
            if reason is not None:
                raise Rejected("validate", reason)
        return lead

    async def process_batch(self, leads: list[Lead]) -> tuple[list[Lead], list[Rejection]]:
        """Run ``leads`` through every enabled step (privacy, normalize, validate, enrich,
        dedupe, qualify, persist) as one batch: one DNS question per new e-mail domain of
        the batch and one identity lookup in the base for it. Returns the leads kept and
        the rejected ones with their reasons; the kept ones are handed to persist (written
        by ``PERSIST_BATCH_SIZE``, the rest at :meth:`finish`).
        """
        kept: list[Lead] = []
        rejected: list[Rejection] = []
        if leads:  # the steps are built on first use, as screen() would
            screen, gate = self._screen, self.privacy_gate
            normalizer, validator = self.normalizer, self.validator
            for lead in leads:
                try:
                    kept.append(screen(lead, gate, normalizer, validator))
                except Rejected as reject:
                    rejected.append(Rejection(lead, reject))
        if self.enricher is not None:
            await self.enricher.enrich_many(kept)
        if self.deduper is not None:
            await self.deduper.dedupe_many(kept)
        qualifier = self.qualifier
        if qualifier is not None:
            for lead in kept:
                qualifier.qualify(lead)
        if self.persister is not None:
            await self.persister.add_many(kept)
        return kept, rejected

    async def finish(self) -> None:
        if self.enricher is not None:
            self.enricher.finish()
        if self.persister is not None:
            await self.persister.finish()


@dataclass
class Report:
    """What a run of the enricher did: the leads kept, the rejects and the counts."""

    kept: list[Lead] = field(default_factory=list)
    rejected: dict[str, int] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)


async def enrich_batch(
    leads: Iterable[Lead],
    chain: Chain,
    source: str = "enricher",
    arguments: dict[str, Any] | None = None,
    batch_size: int = 1000,
) -> Report:
    """Run ``leads`` through ``chain`` as one run of the base, ``batch_size`` at a time."""
    report = Report()
    await chain.start(source, arguments)
    try:
        for batch in _batches(leads, batch_size):
            kept, rejected = await chain.process_batch(batch)
            report.kept.extend(kept)
            for rejection in rejected:
                reason = rejection.reason.reason
                report.rejected[reason] = report.rejected.get(reason, 0) + 1
    finally:
        await chain.finish()
    report.stats = chain.stats.get_stats()
    return report


def _batches(leads: Iterable[Lead], size: int) -> Iterator[list[Lead]]:
    batch: list[Lead] = []
    for lead in leads:
        batch.append(lead)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def enrich_leads(
    leads: Iterable[Lead],
    database_url: str | None = None,
    settings: Settings | None = None,
    source: str = "enricher",
    **overrides: Any,
) -> Report:
    """Run raw leads through the whole chain into the base at ``database_url``; no crawl.

    ``settings`` default to the project's (``settings.base``) with ``overrides`` on top;
    without a ``database_url`` nothing is stored (persist is off). Blocking.
    """
    if settings is None:
        settings = SettingsMap.from_module("settings.base", **overrides)
    if database_url is None:
        settings = SettingsMap({**_as_dict(settings), "PERSIST_ENABLED": False})
    chain = Chain(settings, MemoryStats())
    base = None
    if database_url is not None and chain.enabled("persist"):
        base = Base.open(database_url, settings.getbool("DATABASE_AUTO_MIGRATE", True))
    try:
        chain.use_base(base)
        return asyncio.run(enrich_batch(leads, chain, source))
    finally:
        if base is not None:
            base.close()


def _as_dict(settings: Settings) -> dict[str, Any]:
    if isinstance(settings, SettingsMap):
        return dict(settings.values)
    copy = getattr(settings, "copy_to_dict", None)
    if copy is not None:
        return dict(copy())
    raise ConfigError("settings must be a SettingsMap or Scrapy settings")
