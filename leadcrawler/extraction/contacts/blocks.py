"""The visible text of a page, one string per block, with quotations marked."""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from leadcrawler.extraction.contacts.credits import Credits
from leadcrawler.extraction.contacts.folding import fold
from leadcrawler.extraction.contacts.tree import HIDDEN_TAGS, class_words, is_block

# Testimonials, reviews and quotations: the handles in them are other people's.
_QUOTE_TAGS = frozenset({"blockquote", "q", "cite"})
_QUOTE_HINTS = (
    "depoiment", "testimonial", "review", "avaliac", "comentario", "comment", "feedback",
    "quote", "citacao", "resultado", "alunos", "alunas", "clientes", "prova-social",
    "provasocial", "socialproof",
)  # fmt: skip
_QUOTE_HINTS_RE = re.compile("|".join(_QUOTE_HINTS))


def _is_quote(elem: Any) -> bool:
    """A testimonial, review or quotation: what other people say, with their handles."""
    if elem.tag in _QUOTE_TAGS:
        return True
    names = class_words(elem)
    return _QUOTE_HINTS_RE.search(names) is not None


_ICON_TAGS = frozenset({"i", "span", "svg", "img", "em"})
_ICON_NETWORKS = ("instagram", "tiktok", "youtube", "telegram")


def _icon_network(elem: Any) -> str | None:
    """The network an empty icon element stands for (``<i class="fab fa-instagram">``)."""
    if elem.tag not in _ICON_TAGS or (elem.text or "").strip():
        return None
    if len(elem) and elem.tag != "svg":  # an svg's children are its drawing
        return None
    names = fold(" ".join(elem.get(attr) or "" for attr in ("class", "alt", "aria-label", "title")))
    return next((network for network in _ICON_NETWORKS if network in names), None)


def text_blocks(root: Any, credits: Credits) -> list[tuple[str, bool, bool]]:
    """The visible text, one string per block, without the agency credits.

    With each block: whether only ``<br>`` separates it from the block before (the next
    line of one paragraph, not another paragraph), and whether it sits in a testimonial
    or quotation (:func:`_is_quote`).
    """
    blocks: list[tuple[str, bool, bool]] = []
    parts: list[str] = []
    br_only = False  # the boundaries since the last block were all <br>
    quotes: list[Any] = []  # the testimonial elements the walk is inside

    def flush(by_br: bool = False) -> None:
        nonlocal br_only
        text = " ".join("".join(parts).split())
        parts.clear()
        if text:
            blocks.append((text, br_only, bool(quotes)))
            br_only = by_br
        else:
            br_only = br_only and by_br

    def add(text: str | None, cut: int | None) -> None:
        if text:
            parts.append(text[:cut] if cut is not None else text)

    walker = etree.iterwalk(root, events=("start", "end", "comment", "pi"))
    for event, elem in walker:
        if event in ("comment", "pi"):
            add(elem.tail, credits.tail_cut.get(elem))
            continue
        if event == "start":
            if is_block(elem):
                flush(elem.tag == "br")
            icon = _icon_network(elem)
            if icon:
                parts.append(
                    f" {icon} "
                )  # "<i class='fa-instagram'></i> @ana" reads "instagram @ana"
            if elem.tag in HIDDEN_TAGS or elem in credits.elements:
                walker.skip_subtree()
                continue
            if _is_quote(elem):
                flush()
                quotes.append(elem)
            add(elem.text, credits.text_cut.get(elem))
        else:
            if is_block(elem) or (quotes and quotes[-1] is elem):
                flush(elem.tag == "br")
            if quotes and quotes[-1] is elem:
                quotes.pop()
            if elem is not root:
                add(elem.tail, credits.tail_cut.get(elem))
    flush()
    return blocks
