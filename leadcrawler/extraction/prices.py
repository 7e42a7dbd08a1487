"""BRL prices on product pages: the amount a buyer pays in one go.

"R$ 197,00 à vista" first, else the first amount that is neither an instalment
("12x de R$ 19,90") nor an old price ("De R$ 147,00 por ..."); struck-out text is left out
by the caller (:data:`leadcrawler.extraction.labels.STRUCK`).
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal, InvalidOperation
from typing import Any

logger = logging.getLogger(__name__)

# "R$ 1.497,00", "R$97", "R$ 19,90"; the thousands separator is "." and decimals ",".
PRICE_RE = re.compile(r"R\$\s*(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d{2}))?")
INSTALMENT_RE = re.compile(r"\d{1,2}\s*x\s*(?:de\s*)?$", re.IGNORECASE)
# "De R$ 147,00 por R$ 97,00": the first amount is the old price.
OLD_PRICE_BEFORE_RE = re.compile(r"\bde\s*$", re.IGNORECASE)
OLD_PRICE_AFTER_RE = re.compile(r"^\s*(?:,\s*)?(?:por|agora)\b", re.IGNORECASE)


def parse_brl(text: str) -> Decimal | None:
    """The first BRL amount in ``text`` (``R$ 1.497,00`` -> ``1497.00``)."""
    match = PRICE_RE.search(text)
    return _amount(match) if match else None


def to_decimal(value: Any) -> Decimal | None:
    """A JSON price (``97``, ``"97.00"``, ``"97,00"``) as a Decimal, or None."""
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount >= 0 else None


def _amount(match: re.Match[str]) -> Decimal | None:
    try:
        return Decimal(f"{match.group(1).replace('.', '')}.{match.group(2) or '00'}")
    except InvalidOperation:
        return None


def page_price(text: str) -> Decimal | None:
    """The price a buyer pays in one go: "à vista" first, else the first non-instalment amount."""
    cash: Decimal | None = None
    first: Decimal | None = None
    for match in PRICE_RE.finditer(text):
        before = text[max(0, match.start() - 12) : match.start()]
        if INSTALMENT_RE.search(before):
            continue  # "12x de R$ 19,90" is an instalment, not the price
        if OLD_PRICE_BEFORE_RE.search(before) and OLD_PRICE_AFTER_RE.search(
            text[match.end() : match.end() + 12]
        ):
            continue  # "De R$ 147,00 por ..." is the old price
        amount = _amount(match)
        if amount is None:
            continue
        if first is None:
            first = amount
        following = text[match.end() : match.end() + 12].lower()
        if cash is None and ("à vista" in following or "a vista" in following):
            cash = amount
    return cash if cash is not None else first
