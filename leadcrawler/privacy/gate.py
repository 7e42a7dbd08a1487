"""The privacy gate: one call per sighting, before it is enriched, stored or logged.

:meth:`PrivacyGate.screen` minimises the lead to the allowlist
(:mod:`leadcrawler.privacy.minimise`), stamps the legal basis, purpose and
legitimate-interest assessment reference from the settings, and tells whether the
person is on the suppression list. A suppressed sighting goes no further: no site
visit, no DNS lookup, nothing stored. Persist and export check the list again (it may
have grown since the gate loaded it).

The gate holds the suppression list as a set of HMAC hashes (loaded once per crawl);
pure and synchronous, it can be called from a spider callback or a pipeline.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from leadcrawler.domain.items import Lead
from leadcrawler.privacy.config import PrivacyConfig
from leadcrawler.privacy.keys import key_hash, lead_suppression_keys, url_identities
from leadcrawler.privacy.minimise import minimise


@dataclass(slots=True)
class Screening:
    suppressed: bool
    dropped: Counter[str] = field(default_factory=Counter)  # minimisation discards by reason


class LegalBasisMissing(ValueError):
    """A lead reached storage without its legal basis, purpose or LIA reference."""


def require_legal_basis(lead: Lead) -> None:
    missing = [n for n in ("legal_basis", "purpose", "lia_reference") if not getattr(lead, n)]
    if missing:
        raise LegalBasisMissing(
            f"lead {lead.lead_uid or '?'} has no {', '.join(missing)}: refusing to store it"
        )


class PrivacyGate:
    def __init__(
        self, config: PrivacyConfig, suppressed: Iterable[str] = (), region: str = "BR"
    ) -> None:
        self.config = config
        self.suppressed: set[str] = set(suppressed)
        self.region = region

    def screen(self, lead: Lead) -> Screening:
        """Minimise and stamp ``lead`` in place; say whether its person is suppressed."""
        dropped = minimise(lead)
        config = self.config  # what PrivacyConfig.stamp() names, without a dict per lead
        lead.legal_basis = config.legal_basis
        lead.purpose = config.purpose
        lead.lia_reference = config.lia_reference
        return Screening(self.is_suppressed(lead) if self.suppressed else False, dropped)

    def is_suppressed(self, lead: Lead) -> bool:
        if not self.suppressed:
            return False  # an empty list: no key to compute (and no phone to parse)
        return self.any_suppressed(lead_suppression_keys(lead, self.region))

    def url_suppressed(self, url: str) -> bool:
        """A page that names a suppressed person by its address (their checkout, profile
        or own site): it is not requested at all."""
        return self.any_suppressed(url_identities(url))

    def any_suppressed(self, keys: Iterable[str]) -> bool:
        if not self.suppressed:
            return False
        pepper = self.config.pepper
        return any(key_hash(pepper, key) in self.suppressed for key in keys)
