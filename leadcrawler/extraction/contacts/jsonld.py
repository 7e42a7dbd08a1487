"""The page owner's JSON-LD nodes (Organization, LocalBusiness, Person)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from leadcrawler.domain.urls import registered_domain
from leadcrawler.extraction.contacts.credits import Credits

# schema.org types whose contacts are the page owner's; subtypes by their name's ending.
_LD_OWNER_TYPES = frozenset(
    {"Organization", "LocalBusiness", "Person", "Corporation", "ProfessionalService", "NGO"}
)
_LD_OWNER_SUFFIXES = ("Organization", "Business", "Store")
_LD_MAX_NODES = 1_000  # per page: hostile or generated pages can hold huge graphs
URI_SCHEME_RE = re.compile(r"^(?:tel|callto):", re.IGNORECASE)


def ld_strings(value: Any) -> list[str]:
    """A JSON-LD value as strings: ``"x"``, ``["x", "y"]``, ``{"@id": "x"}``."""
    items = value if isinstance(value, list) else [value]
    strings: list[str] = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("@id", item.get("@value"))
        if isinstance(item, str) and item.strip():
            strings.append(item.strip())
    return strings


def ld_nodes(value: Any) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict)]


def ld_is_owner(node: dict[str, Any]) -> bool:
    for kind in ld_strings(node.get("@type")):
        name = kind.rsplit("/", 1)[-1].rsplit(":", 1)[-1]  # "https://schema.org/Person"
        if name in _LD_OWNER_TYPES or name.endswith(_LD_OWNER_SUFFIXES):
            return True
    return False


def json_ld_nodes(root: Any, credits: Credits) -> Iterator[dict[str, Any] | None]:
    """The top-level JSON-LD nodes of the page (lists and ``@graph`` flattened).

    Nested nodes (a WebSite's ``creator``, a Product's ``brand``) are someone else's. None
    stands for a script that is not JSON.
    """
    count = 0
    for script in root.iter("script"):
        kind = (script.get("type") or "").split(";", 1)[0].strip().lower()
        if kind != "application/ld+json" or credits.covers(script):
            continue
        raw = (script.text or "").strip()
        raw = raw.removeprefix("<!--").removesuffix("-->").strip()
        try:
            data = json.loads(raw, strict=False)  # strict=False: raw newlines in strings
        except (ValueError, RecursionError):
            yield None
            continue
        stack = [data]
        while stack and count < _LD_MAX_NODES:
            node = stack.pop(0)
            if isinstance(node, list):
                stack[:0] = node
                continue
            if not isinstance(node, dict):
                continue
            count += 1
            graph = node.get("@graph")
            if isinstance(graph, (list, dict)):
                stack[:0] = [graph]
            yield node


def same_site(url: str, page_url: str) -> bool:
    def site(value: str) -> str:
        return registered_domain(value) or (urlsplit(value).hostname or "").lower()

    return site(url) == site(page_url)
