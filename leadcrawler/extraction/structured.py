"""Rung 1 of the extraction ladder: structured data (``og:*``/``twitter:*`` meta, JSON-LD)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from leadcrawler.extraction.page import HtmlPage

logger = logging.getLogger(__name__)


def meta(response: HtmlPage, *names: str) -> str | None:
    """The first non-empty ``<meta property|name=...>`` content among ``names``."""
    for name in names:
        value = response.xpath("//meta[@property=$n or @name=$n]/@content", n=name).get()
        if value and value.strip():
            return value.strip()
    return None


def json_ld(response: HtmlPage) -> Iterator[dict[str, Any]]:
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
