"""Rung 2 of the extraction ladder: page state decoders (Next.js ``__NEXT_DATA__`` and
app-router rows, Nuxt 3 ``__NUXT_DATA__`` revived without evaluating anything, Nuxt 2
``window.__NUXT__`` when it is JSON) and the bounded walk that searches them by key.
"""

from __future__ import annotations

import json
import logging
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from leadcrawler.extraction.page import HtmlPage

logger = logging.getLogger(__name__)

# --- Rung 2: embedded state JSON ---------------------------------------------------------
#
# JS applications ship the page's data inside the HTML for hydration: Next.js in
# ``<script id="__NEXT_DATA__">`` (pages router) or in ``self.__next_f.push(...)`` chunks
# (app router, React Server Components), Nuxt 3 in ``<script id="__NUXT_DATA__">`` (a
# "devalue" payload), Nuxt 2 in ``window.__NUXT__``. The readers below return plain JSON
# values (dicts, lists, scalars) or None; :func:`walk_json` and :func:`find_values` search
# them by key name, bounded, whatever their shape.

MAX_STATE_CHARS = 8_000_000  # characters of one state script; a bigger one is skipped
MAX_JSON_DEPTH = 64  # nesting levels revived or walked; deeper values are left out
MAX_JSON_NODES = 100_000  # dict entries and list items one walk visits at most

# devalue's negative references: undefined, array hole, NaN, +inf, -inf, -0.
_DEVALUE_CONSTANTS: dict[int, Any] = {-1: None, -2: None, -3: None, -4: None, -5: None, -6: 0}
# devalue tags whose payload (the rest of the array) is literal, not references.
_DEVALUE_LITERAL_TAGS = frozenset({"Date", "RegExp", "BigInt", "URL", "URLSearchParams"})
_FLIGHT_PUSH_RE = re.compile(r"self\.__next_f\.push\(\s*(\[.*\])\s*\)\s*;?\s*$", re.DOTALL)
_FLIGHT_ROW_RE = re.compile(r"^[0-9a-fA-F]+:(?=[\[{])")
_WINDOW_NUXT_RE = re.compile(r"window\.__NUXT__\s*=\s*")


def _loads(raw: str, where: str, url: str) -> Any | None:
    if len(raw) > MAX_STATE_CHARS:
        logger.debug("Skipping %s on %s: %d characters", where, url, len(raw))
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        logger.debug("Skipping malformed %s on %s", where, url)
        return None


def _script_by_id(response: HtmlPage, script_id: str) -> str | None:
    raw = response.xpath("//script[@id=$i]/text()", i=script_id).get()
    return raw.strip() if raw and raw.strip() else None


def next_data(response: HtmlPage) -> dict[str, Any] | None:
    """The Next.js page state (``<script id="__NEXT_DATA__">``), or None."""
    raw = _script_by_id(response, "__NEXT_DATA__")
    data = _loads(raw, "__NEXT_DATA__", response.url) if raw else None
    return data if isinstance(data, dict) else None


def nuxt_data(response: HtmlPage) -> Any | None:
    """The Nuxt 3 page state (``<script id="__NUXT_DATA__">``) revived, or None."""
    raw = _script_by_id(response, "__NUXT_DATA__")
    payload = _loads(raw, "__NUXT_DATA__", response.url) if raw else None
    if isinstance(payload, list):
        return revive_nuxt(payload)
    return payload if isinstance(payload, dict) else None


def window_nuxt(response: HtmlPage) -> dict[str, Any] | None:
    """Nuxt 2's ``window.__NUXT__ = {...}`` when it is a JSON literal, else None.

    Nuxt 2 usually writes it as a JavaScript function call (``(function(a,b){...}(1,2))``);
    that form would need a JavaScript engine and is left to the rendering rung.
    """
    for script in response.xpath("//script[not(@src)]/text()").getall():
        match = _WINDOW_NUXT_RE.search(script)
        if not match or len(script) > MAX_STATE_CHARS:
            continue
        try:
            data, _end = json.JSONDecoder().raw_decode(script, match.end())
        except (ValueError, RecursionError):
            return None
        return data if isinstance(data, dict) else None
    return None


def next_flight(response: HtmlPage) -> list[Any] | None:
    """The JSON rows of a Next.js app-router page (``self.__next_f.push([1, "..."])``).

    The pushed strings concatenate into React Server Component rows, ``<hex id>:<payload>``
    one per line; the rows whose payload is JSON (component trees with their props, where
    the page's data travels) are returned, the others (module and style references, raw
    text) are skipped. None when the page has no such rows.
    """
    chunks: list[str] = []
    size = 0
    for script in response.xpath("//script[not(@src)]/text()").getall():
        match = _FLIGHT_PUSH_RE.search(script.strip())
        if not match:
            continue
        pushed = _loads(match.group(1), "self.__next_f chunk", response.url)
        if isinstance(pushed, list) and len(pushed) > 1 and pushed[0] == 1:
            text = pushed[1]
            if not isinstance(text, str):
                continue
            size += len(text)
            if size > MAX_STATE_CHARS:
                break
            chunks.append(text)
    rows: list[Any] = []
    for line in "".join(chunks).splitlines():
        match = _FLIGHT_ROW_RE.match(line)
        if match:
            row = _loads(line[match.end() :], "flight row", response.url)
            if isinstance(row, dict | list):
                rows.append(row)
    return rows or None


def revive_nuxt(payload: Any) -> Any:
    """Resolve a Nuxt 3 / devalue payload into plain JSON values.

    The payload is a flat array: entry 0 is the root; in objects and plain arrays every
    value is an integer index into the array (negative ones are constants such as
    ``undefined``); an array starting with a string is a tagged value (``["Reactive", 3]``,
    ``["Set", 4, 5]``, ``["Map", k, v]``, ``["Date", "2024-..."]``, ``["null", k, v]``).
    Shared references are revived once and shared; a reference back into a value being
    revived (a cycle) and anything nested deeper than :data:`MAX_JSON_DEPTH` become None.
    Nothing is evaluated. Returns None when ``payload`` is not a non-empty list.
    """
    if not isinstance(payload, list) or not payload:
        return None
    values: list[Any] = payload
    revived: dict[int, Any] = {}
    in_progress: set[int] = set()

    def ref(index: Any, depth: int) -> Any:
        if isinstance(index, bool) or not isinstance(index, int):
            return None
        if index < 0:
            return _DEVALUE_CONSTANTS.get(index)
        if index >= len(values) or index in in_progress or depth > MAX_JSON_DEPTH:
            return None
        if index in revived:
            return revived[index]
        in_progress.add(index)
        try:
            value = entry(values[index], depth)
        finally:
            in_progress.discard(index)
        revived[index] = value
        return value

    def entry(value: Any, depth: int) -> Any:
        if isinstance(value, dict):
            return {str(key): ref(item, depth + 1) for key, item in value.items()}
        if not isinstance(value, list):
            return value  # a string, number, boolean or null stands for itself
        if not value or not isinstance(value[0], str):
            return [ref(item, depth + 1) for item in value]
        tag, rest = value[0], value[1:]
        if tag in _DEVALUE_LITERAL_TAGS:
            return rest[0] if rest and isinstance(rest[0], str | int | float) else None
        if tag == "Set":
            return [ref(item, depth + 1) for item in rest]
        if tag in ("Map", "null"):
            # Map: [key ref, value ref, ...]; "null" (prototype-less object): [key, value ref, ...]
            pairs = zip(rest[::2], rest[1::2], strict=False)
            if tag == "Map":
                return {str(ref(k, depth + 1)): ref(v, depth + 1) for k, v in pairs}
            return {str(k): ref(v, depth + 1) for k, v in pairs}
        # Custom reducers (Nuxt's Reactive, ShallowReactive, Ref, ShallowRef, EmptyRef,
        # NuxtError, Island...) wrap one referenced value.
        return ref(rest[0], depth + 1) if len(rest) == 1 else None

    return ref(0, 0)


_NOT_KEY_CHARS_RE = re.compile(r"[\W_]+")


def json_key(key: str) -> str:
    """A key as compared by :func:`find_values`: ``support_email``, ``supportEmail``
    and ``Support-Email`` are all ``supportemail``."""
    return _NOT_KEY_CHARS_RE.sub("", key).casefold()


@dataclass(frozen=True, slots=True)
class JsonEntry:
    """One ``key: value`` of a dict met by :func:`walk_json`."""

    path: tuple[str, ...]  # the dict keys from the root down to ``parent`` (list indexes left out)
    key: str
    value: Any
    parent: dict[str, Any]


def walk_json(
    obj: Any,
    *,
    skip: Iterable[str] = (),
    max_depth: int = MAX_JSON_DEPTH,
    max_nodes: int = MAX_JSON_NODES,
) -> Iterator[JsonEntry]:
    """Every dict entry nested in ``obj``, breadth first: shallow entries come first.

    The subtrees under keys in ``skip`` (compared with :func:`json_key`) are not entered.
    Bounded by ``max_depth`` levels and ``max_nodes`` visited entries; a container met
    twice (shared or cyclic references) is walked once.
    """
    if not isinstance(obj, dict | list):
        return
    skipped = {json_key(key) for key in skip}
    queue: deque[tuple[tuple[str, ...], Any, int]] = deque([((), obj, 0)])
    seen: set[int] = set()
    budget = max_nodes
    while queue:
        path, node, depth = queue.popleft()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            items: Iterable[tuple[Any, Any]] = node.items()
        else:
            items = ((None, item) for item in node)
        for key, value in items:
            budget -= 1
            if budget < 0:
                return
            child_path = path
            if key is not None:
                key = str(key)
                yield JsonEntry(path, key, value, node)
                if json_key(key) in skipped:
                    continue
                child_path = (*path, key)
            if isinstance(value, dict | list) and value and depth < max_depth:
                queue.append((child_path, value, depth + 1))


def find_values(
    obj: Any, keys: Iterable[str], *, skip: Iterable[str] = ()
) -> Iterator[tuple[str, Any]]:
    """``(key, value)`` for every entry of the JSON ``obj`` whose key is in ``keys``.

    Keys compare with :func:`json_key` (case, ``_`` and ``-`` ignored), so ``{"email"}``
    finds ``"Email"`` and ``{"supportEmail"}`` finds ``"support_email"``. Shallow entries
    come first; ``skip`` and the bounds are those of :func:`walk_json`.
    """
    wanted = {json_key(key) for key in keys}
    for entry in walk_json(obj, skip=skip):
        if json_key(entry.key) in wanted:
            yield entry.key, entry.value
