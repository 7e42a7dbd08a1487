"""Privacy settings, checked once: legal basis, purpose, LIA reference, retention, pepper.

Settings (``settings/base.py``): ``PRIVACY_LEGAL_BASIS`` (``legitimate_interest``, LGPD
art. 7 IX), ``PRIVACY_PURPOSE``, ``PRIVACY_LIA_REFERENCE`` (where the written
legitimate-interest assessment lives), ``PRIVACY_RETENTION_DAYS``,
``PRIVACY_REQUIRE_PEPPER`` (production: True).

The suppression pepper is a secret: it is read from the environment variable
``LEADCRAWLER_PRIVACY_PEPPER`` only, never from a settings file. Without it, production
settings refuse to start; development settings fall back to a fixed, publicly known
development pepper and say so in a WARNING every time (hashes made with it are only as
secret as this source file, and do not match the production list).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

PEPPER_ENV = "LEADCRAWLER_PRIVACY_PEPPER"
DEV_PEPPER = "leadcrawler-development-pepper-not-secret"  # public, documented: dev only
LEGAL_BASES = frozenset({"legitimate_interest"})  # LGPD art. 7 IX; the only one prospecting has
MIN_PEPPER_LENGTH = 16


class PrivacyConfigError(ValueError):
    """The privacy settings are missing or wrong; the message says which and how to fix it."""


@dataclass(frozen=True, slots=True)
class PrivacyConfig:
    legal_basis: str
    purpose: str
    lia_reference: str
    retention_days: int
    pepper: bytes
    dev_pepper: bool = False

    @classmethod
    def from_settings(
        cls, settings: Any, environ: Mapping[str, str] | None = None, *, warn: bool = True
    ) -> PrivacyConfig:
        """Read and check the settings; raises :class:`PrivacyConfigError`.

        ``warn=False``: the caller says itself that the development pepper is in use where
        it matters (the CLI's commands that write suppression hashes), so read-only commands
        answer with their one line and nothing else.
        """
        env = os.environ if environ is None else environ
        legal_basis = str(settings.get("PRIVACY_LEGAL_BASIS") or "").strip()
        purpose = str(settings.get("PRIVACY_PURPOSE") or "").strip()
        lia = str(settings.get("PRIVACY_LIA_REFERENCE") or "").strip()
        if legal_basis not in LEGAL_BASES:
            raise PrivacyConfigError(
                f"PRIVACY_LEGAL_BASIS must be one of {sorted(LEGAL_BASES)}, not {legal_basis!r}"
            )
        if not purpose:
            raise PrivacyConfigError("PRIVACY_PURPOSE is empty: say why leads are collected")
        if not lia:
            raise PrivacyConfigError(
                "PRIVACY_LIA_REFERENCE is empty: name the written legitimate-interest "
                "assessment (document id or URL)"
            )
        try:
            retention = int(settings.get("PRIVACY_RETENTION_DAYS"))
        except (TypeError, ValueError):
            raise PrivacyConfigError("PRIVACY_RETENTION_DAYS must be a whole number") from None
        if retention < 1:
            raise PrivacyConfigError("PRIVACY_RETENTION_DAYS must be at least 1")
        pepper = env.get(PEPPER_ENV, "")
        dev = False
        if not pepper:
            if _truthy(settings.get("PRIVACY_REQUIRE_PEPPER")):
                raise PrivacyConfigError(
                    f"{PEPPER_ENV} is not set: production refuses to start without the "
                    "suppression pepper (a long random secret, the same on every machine)"
                )
            pepper, dev = DEV_PEPPER, True
            if warn:
                _warn_dev_pepper()
        elif len(pepper) < MIN_PEPPER_LENGTH:
            raise PrivacyConfigError(
                f"{PEPPER_ENV} must be at least {MIN_PEPPER_LENGTH} characters"
            )
        return cls(
            legal_basis=legal_basis,
            purpose=purpose,
            lia_reference=lia,
            retention_days=retention,
            pepper=pepper.encode("utf-8"),
            dev_pepper=dev,
        )

    def stamp(self) -> dict[str, str]:
        """What every stored lead carries."""
        return {
            "legal_basis": self.legal_basis,
            "purpose": self.purpose,
            "lia_reference": self.lia_reference,
        }


_warned: list[bool] = []


def _warn_dev_pepper() -> None:
    if _warned:
        return
    _warned.append(True)
    logger.warning(
        "%s is not set: using the public development pepper. Suppression hashes made now "
        "will not match a production list; never run production like this.",
        PEPPER_ENV,
    )


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
