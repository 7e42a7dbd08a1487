"""Lead qualification: a 0-100 score, a tier and the points per criterion.

The rules come from an operator-editable TOML file (``QUALIFY_RULES_FILE``, by default
``settings/qualification.toml``, read by the qualify step). :func:`score` applies them to the
facts of a lead; leads are scored through :func:`leadcrawler.domain.facts.score_lead`, by the
qualify step (one sighting) and the historical base (a merged lead, ``leadcrawler
rescore``), so a lead's score never depends on which of them computed it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from leadcrawler.packaged import read_text

WEIGHT_NAMES = (
    "business_email",
    "free_email",
    "whatsapp",
    "phone",
    "own_domain",
    "cnpj",
    "social",
    "social_max",
    "extra_platform",
    "extra_platform_max",
    "offer",
    "offer_max",
    "price_mid",
    "price_high",
    "recent",
)
MAX_RECENT_DAYS = 36_500  # a century: beyond it a date difference overflows
PENALTY_NAMES = ("role_only_email", "free_only_email", "disposable_only_email", "no_channel")


class RulesError(ValueError):
    """The qualification rules file is missing, malformed or contradictory."""


@dataclass(frozen=True, slots=True)
class Rules:
    weights: dict[str, int]
    penalties: dict[str, int]
    price_mid: Decimal
    price_high: Decimal
    recent_days: int
    tier_a: int
    tier_b: int

    @classmethod
    def from_file(cls, path: str | Path) -> Rules:
        try:
            raw = tomllib.loads(read_text(path))  # also from a deployed (zipped) egg
        except FileNotFoundError as exc:
            raise RulesError(f"qualification rules file not found: {path}") from exc
        except IsADirectoryError as exc:
            raise RulesError(f"qualification rules file {path} is a directory") from exc
        except UnicodeDecodeError as exc:
            raise RulesError(f"qualification rules file {path} is not UTF-8 text") from exc
        except OSError as exc:
            raise RulesError(f"qualification rules file {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise RulesError(f"qualification rules file {path} is not valid TOML: {exc}") from exc
        return cls.from_dict(raw, source=str(path))

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str = "<rules>") -> Rules:
        try:
            weights = {name: int(raw["weights"][name]) for name in WEIGHT_NAMES}
            penalties = {name: int(raw["penalties"][name]) for name in PENALTY_NAMES}
            rules = cls(
                weights=weights,
                penalties=penalties,
                price_mid=Decimal(str(raw["prices"]["mid"])),
                price_high=Decimal(str(raw["prices"]["high"])),
                recent_days=int(raw["recency"]["recent_days"]),
                tier_a=int(raw["tiers"]["A"]),
                tier_b=int(raw["tiers"]["B"]),
            )
        except KeyError as exc:
            raise RulesError(f"{source}: missing rule {exc.args[0]!r}") from exc
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise RulesError(f"{source}: a rule is not a number: {exc}") from exc
        if not 0 <= rules.tier_b < rules.tier_a <= 100:
            raise RulesError(f"{source}: tiers must satisfy 0 <= B < A <= 100")
        if rules.price_mid > rules.price_high:
            raise RulesError(f"{source}: prices.mid must not exceed prices.high")
        if any(w < 0 for w in weights.values()):
            raise RulesError(f"{source}: weights must be >= 0 (use [penalties] for minuses)")
        if not 1 <= rules.recent_days <= MAX_RECENT_DAYS:
            raise RulesError(f"{source}: recency.recent_days must be 1 to {MAX_RECENT_DAYS}")
        if any(p > 0 for p in penalties.values()):
            raise RulesError(f"{source}: penalties must be <= 0")
        return rules


@dataclass(slots=True)
class LeadFacts:
    """What scoring looks at, summarised from a lead (one sighting or the merged record)."""

    business_emails: int = 0
    free_emails: int = 0
    role_emails: int = 0
    disposable_emails: int = 0  # counted apart: they earn no e-mail points
    undeliverable_emails: int = 0  # MX says mail cannot arrive: no points either
    whatsapp: bool = False
    phones: int = 0
    own_domain: bool = False
    cnpj: bool = False
    social_networks: set[str] = field(default_factory=set)
    platforms: set[str] = field(default_factory=set)
    offers: int = 0
    max_price: Decimal | None = None
    last_seen: datetime | None = None


class Score(NamedTuple):  # immutable; a named tuple is built several times faster
    score: int
    tier: str
    reasons: dict[str, int]


@lru_cache(maxsize=64)
def _days(days: int) -> timedelta:
    return timedelta(days=days)


def score(facts: LeadFacts, rules: Rules, now: datetime | None = None) -> Score:
    """Score ``facts``; ``reasons`` maps each criterion that counted to its points.

    A criterion is in ``reasons`` only when it gives points (none: left out), in the order
    below.
    """
    w, p = rules.weights, rules.penalties
    reasons: dict[str, int] = {}

    if facts.business_emails:
        if points := w["business_email"]:
            reasons["business_email"] = points
    elif facts.free_emails and (points := w["free_email"]):
        reasons["free_email"] = points
    if facts.whatsapp:
        if points := w["whatsapp"]:
            reasons["whatsapp"] = points
    elif facts.phones and (points := w["phone"]):
        reasons["phone"] = points
    if facts.own_domain and (points := w["own_domain"]):
        reasons["own_domain"] = points
    if facts.cnpj and (points := w["cnpj"]):
        reasons["cnpj"] = points
    if points := min(w["social"] * len(facts.social_networks), w["social_max"]):
        reasons["social"] = points
    extra = max(len(facts.platforms) - 1, 0)
    if points := min(w["extra_platform"] * extra, w["extra_platform_max"]):
        reasons["extra_platforms"] = points
    if points := min(w["offer"] * facts.offers, w["offer_max"]):
        reasons["offers"] = points
    if facts.max_price is not None:
        if facts.max_price >= rules.price_high:
            if points := w["price_high"]:
                reasons["price_high"] = points
        elif facts.max_price >= rules.price_mid and (points := w["price_mid"]):
            reasons["price_mid"] = points
    if facts.last_seen is not None:
        now = now or datetime.now(UTC)
        last_seen = facts.last_seen
        if last_seen.tzinfo is None:
            last_seen = last_seen.replace(tzinfo=UTC)
        if now - last_seen <= _days(rules.recent_days) and (points := w["recent"]):
            reasons["recent"] = points

    emails = facts.business_emails + facts.free_emails
    if emails and facts.role_emails >= emails and (points := p["role_only_email"]):
        reasons["role_only_email"] = points
    if facts.free_emails and not facts.business_emails and (points := p["free_only_email"]):
        reasons["free_only_email"] = points
    if facts.disposable_emails and not emails and (points := p["disposable_only_email"]):
        reasons["disposable_only_email"] = points
    if not emails and not facts.whatsapp and not facts.phones and (points := p["no_channel"]):
        reasons["no_channel"] = points

    total = max(0, min(100, sum(reasons.values())))
    if total >= rules.tier_a:
        tier = "A"
    elif total >= rules.tier_b:
        tier = "B"
    else:
        tier = "C"
    return Score(total, tier, reasons)
