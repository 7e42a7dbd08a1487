"""Page-reading helpers shared by the source spiders: the rungs of the extraction ladder.

1. structured data: ``og:*``/``twitter:*`` meta and JSON-LD;
2. embedded state JSON (``__NEXT_DATA__``, ``__NUXT_DATA__``) — grown by the sources issue;
3. visible-text patterns (the "em nome de" footer, "Autor:", BRL prices).

Helpers return raw strings; cleaning belongs to the normalize stage.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from scrapy.http import TextResponse

logger = logging.getLogger(__name__)

WHITESPACE_RE = re.compile(r"\s+")
# "R$ 1.497,00", "R$97", "R$ 19,90"; the thousands separator is "." and decimals ",".
PRICE_RE = re.compile(r"R\$\s*(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d{2}))?")
INSTALMENT_RE = re.compile(r"\d{1,2}\s*x\s*(?:de\s*)?$", re.IGNORECASE)
# "De R$ 147,00 por R$ 97,00": the first amount is the old price.
OLD_PRICE_BEFORE_RE = re.compile(r"\bde\s*$", re.IGNORECASE)
OLD_PRICE_AFTER_RE = re.compile(r"^\s*(?:,\s*)?(?:por|agora)\b", re.IGNORECASE)


def meta(response: TextResponse, *names: str) -> str | None:
    """The first non-empty ``<meta property|name=...>`` content among ``names``."""
    for name in names:
        value = response.xpath("//meta[@property=$n or @name=$n]/@content", n=name).get()
        if value and value.strip():
            return value.strip()
    return None


def json_ld(response: TextResponse) -> Iterator[dict[str, Any]]:
    """Every JSON-LD object on the page (``@graph`` and lists flattened); bad JSON skipped."""
    for raw in response.xpath('//script[@type="application/ld+json"]/text()').getall():
        try:
            data = json.loads(raw)
        except ValueError:
            logger.debug("Skipping malformed JSON-LD on %s", response.url)
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            node = stack.pop(0)
            if not isinstance(node, dict):
                continue
            graph = node.get("@graph")
            if isinstance(graph, list):
                stack.extend(graph)
            yield node


def ld_type_is(node: dict[str, Any], wanted: str) -> bool:
    kind = node.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return wanted in kinds


def ld_name(value: Any) -> str | None:
    """``"X"`` or ``{"name": "X"}`` (a Person/Organization) -> ``"X"``."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        return value["name"] or None
    if isinstance(value, list) and value:
        return ld_name(value[0])
    return None


HIDDEN = ("script", "style", "noscript", "template")
STRUCK = ("s", "del", "strike")  # struck-out text: an old price, not the one paid


def visible_text(response: TextResponse, skip: tuple[str, ...] = ()) -> str:
    """The page's text as a reader sees it: no scripts, styles or templates, spaces collapsed.

    ``skip`` names more elements whose text is left out (e.g. :data:`STRUCK`).
    """
    excluded = " and ".join(f"not(ancestor::{tag})" for tag in (*HIDDEN, *skip))
    parts = response.xpath(f"//body//text()[{excluded}]").getall()
    return WHITESPACE_RE.sub(" ", " ".join(parts)).strip()


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
