"""CNPJs written on a page and the legal names next to them."""

from __future__ import annotations

import re
from collections.abc import Iterator

from leadcrawler.domain.cnpj import is_valid_cnpj, normalize_cnpj
from leadcrawler.domain.text import clean_text
from leadcrawler.extraction.contacts.folding import clean

# CNPJ as printed ("12.345.678/0001-95"; the alphanumeric CNPJ from 2026 too), or 14
# digits right after the word CNPJ.
_CNPJ_RE = re.compile(
    r"(?<![\w./-])([0-9A-Z]{2}\.[0-9A-Z]{3}\.[0-9A-Z]{3}\s?/\s?[0-9A-Z]{4}-\d{2}"
    r"|\d{2}\.?\d{3}\.?\d{3}/\d{4}-?\d{2})(?![\w/-])"
    r"|\bCNPJ\W{0,5}(?:n[ºo°.]*\s*)?(\d{14})\b",
    re.IGNORECASE,
)
# A legal name: after "Razão social:", or the capitalised words before a company suffix.
_RAZAO_SOCIAL_RE = re.compile(
    r"(?:raz[aã]o social|nome empresarial)\s*[:\-\u2013]\s*([^|•·;,\n]{3,120}?)"
    r"(?=\s*(?:[|•·;,\n]|\s[-\u2013]\s|\bCNPJ|\binscrit|$))",
    re.IGNORECASE,
)
_COMPANY_SUFFIX_RE = re.compile(
    r"(?<![\w/])(?:LTDA|Ltda|EIRELI|Eireli|S/A|S\.A\.?|ME|EPP|MEI|SLU)(?![\w/])\.?"
)
_NAME_WORD_RE = re.compile(r"^(?:[A-ZÀ-Ý0-9][\w'\u2019&.-]*|de|da|do|das|dos|e|&|-)$")
_NAME_CONNECTORS = frozenset({"de", "da", "do", "das", "dos", "e", "&", "-"})
_NAME_MAX_WORDS = 12


def find_cnpjs(text: str) -> list[str]:
    """CNPJs in ``text`` with correct check digits, normalised (14 characters), in order."""
    return [cnpj for cnpj, _start, _end in cnpj_matches(text) if cnpj is not None]


def cnpj_matches(text: str) -> Iterator[tuple[str | None, int, int]]:
    """Every CNPJ-shaped string: its normalised form (None if the check digits are wrong)."""
    for match in _CNPJ_RE.finditer(clean(text)):
        raw = match.group(1) or match.group(2)
        cnpj = normalize_cnpj(raw)
        yield (cnpj if cnpj and is_valid_cnpj(cnpj) else None), match.start(), match.end()


def _name_before_suffix(text: str, suffix: re.Match[str]) -> str | None:
    words: list[str] = []
    for word in reversed(text[: suffix.start()].split()):
        if len(words) >= _NAME_MAX_WORDS or not _NAME_WORD_RE.match(word):
            break
        words.insert(0, word)
    while words and (words[0] in _NAME_CONNECTORS or not re.search(r"[^\W\d_]", words[0])):
        words.pop(0)  # "2024 Ana Doces LTDA", "e Ana Doces LTDA"
    if not words:
        return None
    return clean_text(" ".join([*words, suffix.group(0)]), max_length=150)


def legal_name_near(text: str, start: int, end: int) -> str | None:
    """The company name written next to a CNPJ at ``text[start:end]``, if any."""
    candidates: list[tuple[int, int, int, str]] = []
    for match in _RAZAO_SOCIAL_RE.finditer(text):
        name = clean_text(match.group(1), max_length=150)
        if name:
            candidates.append((match.start(), match.end(), 0, name))
    for match in _COMPANY_SUFFIX_RE.finditer(text):
        name = _name_before_suffix(text, match)
        if name:
            candidates.append((match.end() - len(name), match.end(), 1, name))
    best: tuple[int, int, str] | None = None
    for cand_start, cand_end, rank, name in candidates:
        distance = start - cand_end if cand_end <= start else cand_start - end
        if -5 <= distance <= 80 and (best is None or (rank, abs(distance)) < best[:2]):
            best = (rank, abs(distance), name)
    return best[2] if best else None
