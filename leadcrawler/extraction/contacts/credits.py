"""What a web agency's credit covers ("Desenvolvido por", "Site por", "by <agency>").

Its links, addresses and numbers are the agency's, never the producer's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from leadcrawler.extraction.contacts.folding import fold
from leadcrawler.extraction.contacts.tree import HIDDEN_TAGS, class_words, is_block

_FOOTER_HINTS = ("footer", "rodape", "copyright", "bottom")
_CREDIT_HINTS = ("credit", "creditos", "developer", "desenvolvedor", "agencia", "madeby", "devby")
# Each hint list as one search (a hint anywhere in the folded class and id).
_FOOTER_HINTS_RE = re.compile("|".join(_FOOTER_HINTS))
_CREDIT_HINTS_RE = re.compile("|".join(_CREDIT_HINTS))
# On folded text (lower case, no accents): a credit verb with "por"/"by" close after it.
# Strong phrases are web credits wherever they are (in a short line); weak ones ("criado
# por", "made by") also describe courses and methods, so they count only in a footer.
_CREDIT_GAP = r"\b[^.|\n]{0,25}?\b(?:por|by|pela|pelo)\b"
_CREDIT_STRONG_RE = re.compile(
    r"\b(?:desenvolvid[oa]s?|programad[oa]s?|hospedad[oa]s?|developed|powered|designed)"
    + _CREDIT_GAP
    + r"|\b(?:site|website|layout|tema|theme|template|design|webdesign|desenvolvimento)"
    r"\s+(?:por|by|pela|pelo)\b"
    r"|^\W*by\b"  # English "by" opening a line of a Portuguese page: an agency's credit
)
_CREDIT_WEAK_RE = re.compile(
    r"\b(?:criad[oa]s?|feit[oa]s?|produzid[oa]s?|projetad[oa]s?|mantid[oa]s?|created|made"
    r"|built|tecnologia)" + _CREDIT_GAP + r"|^\W*por\W*$"
)
_CREDIT_SCOPE_MAX = 100  # characters: a credit outside a footer is a short line


def _in_footer(elem: Any) -> bool:
    for node in (elem, *elem.iterancestors()):
        if node.tag == "footer" or _FOOTER_HINTS_RE.search(class_words(node)):
            return True
    return False


@dataclass(slots=True)
class Credits:
    """What a web agency's credit covers: whole elements, and text cut at an offset."""

    elements: set[Any] = field(default_factory=set)
    # Keyed by the element itself, not id(): lxml makes a new proxy (with a new id) for a
    # node nobody holds, so only a held reference finds the same node again.
    text_cut: dict[Any, int] = field(default_factory=dict)  # elem -> offset in .text
    tail_cut: dict[Any, int] = field(default_factory=dict)  # elem -> offset in .tail

    def covers(self, elem: Any) -> bool:
        if not self.elements:
            return False  # most pages credit no agency: no walk up the tree per element
        return any(node in self.elements for node in (elem, *elem.iterancestors()))


def _line_after(siblings: Iterator[Any], credits: Credits) -> None:
    # The credit runs to the end of its line: inline siblings up to a <br> or a block.
    for sibling in siblings:
        if is_block(sibling):
            return
        credits.elements.add(sibling)
        credits.tail_cut[sibling] = 0


def find_credits(root: Any) -> Credits:
    credits = Credits()
    for elem in root.iter():
        if not isinstance(elem.tag, str) or elem.tag in HIDDEN_TAGS:
            continue
        if elem.tag not in ("html", "body") and _CREDIT_HINTS_RE.search(class_words(elem)):
            credits.elements.add(elem)
            continue
        for kind in ("text", "tail"):
            text = elem.text if kind == "text" else elem.tail
            owner = elem if kind == "text" else elem.getparent()
            if not text or owner is None:
                continue
            folded = fold(text)
            match = _CREDIT_STRONG_RE.search(folded)
            if match is not None and not _in_footer(owner):
                scope = owner
                while scope.getparent() is not None and not is_block(scope):
                    scope = scope.getparent()
                if len(" ".join(scope.itertext()).strip()) > _CREDIT_SCOPE_MAX:
                    match = None
            if match is None:
                match = _CREDIT_WEAK_RE.search(folded)
                if match is None or not _in_footer(owner):
                    continue
            # Folding keeps offsets for Latin text; cut a little early rather than late.
            start = max(0, min(match.start(), len(text)))
            if kind == "text":
                credits.text_cut[elem] = start
                _line_after(iter(elem), credits)
                if not is_block(elem):  # <a>Site por X</a>, <small>...: the rest of the line
                    credits.elements.add(elem)
                    credits.tail_cut[elem] = 0
                    _line_after(elem.itersiblings(), credits)
            else:
                credits.tail_cut[elem] = start
                _line_after(elem.itersiblings(), credits)
    return credits


def credit_texts(root: Any, credits: Credits) -> list[str]:
    """The visible text the agency credits cover."""
    texts: list[str] = []
    for elem in root.iter():
        if not isinstance(elem.tag, str) or elem.tag in HIDDEN_TAGS:
            continue
        cut = credits.text_cut.get(elem)
        if elem in credits.elements and not any(
            a in credits.elements for a in elem.iterancestors()
        ):
            pieces = list(elem.itertext())
            if cut is not None and elem.text and pieces:
                pieces[0] = pieces[0][cut:]  # the text before the credit is not the agency's
            texts.append(" ".join(pieces))
        elif cut is not None and elem.text:
            texts.append(elem.text[cut:])
        cut = credits.tail_cut.get(elem)
        if cut is not None and elem.tail:
            texts.append(elem.tail[cut:])
    return texts
