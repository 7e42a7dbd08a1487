"""CNPJ, the Brazilian company registry number: its spelling and its check digits."""

from __future__ import annotations

import re

from leadcrawler.domain.text import strip_invisible

# CNPJ: 12 base characters then 2 check digits. From July 2026 the base may hold capital
# letters (Receita Federal, IN RFB 2.229/2024); older ones are all digits.
_CNPJ_RE = re.compile(r"^[0-9A-Z]{12}[0-9]{2}$")
_CNPJ_WEIGHTS = (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)


def normalize_cnpj(raw: str | None) -> str | None:
    """The 14-character CNPJ in ``raw`` without punctuation, or None.

    ``"12.345.678/0001-95"`` and ``"CNPJ: 12.345.678/0001-95"`` -> ``"12345678000195"``.
    Check digits are :func:`is_valid_cnpj`'s business.
    """
    if not raw:
        return None
    text = strip_invisible(raw).upper()
    compact = re.sub(r"[^0-9A-Z]", "", text)
    if _CNPJ_RE.match(compact):
        return compact
    digits = re.sub(r"\D", "", text)  # a label around it: "CNPJ 12.345.678/0001-95"
    return digits if len(digits) == 14 else None


def _cnpj_check_digit(base: str) -> str:
    # Each character counts as its code point minus 48: digits as themselves, letters
    # A=17...Z=42 (the alphanumeric CNPJ rule, identical to the old one for digits).
    weights = _CNPJ_WEIGHTS[-len(base) :]
    total = sum((ord(char) - 48) * weight for char, weight in zip(base, weights, strict=True))
    remainder = total % 11
    return "0" if remainder < 2 else str(11 - remainder)


def is_valid_cnpj(cnpj: str) -> bool:
    """Whether a normalised 14-character CNPJ has correct check digits."""
    if len(cnpj) != 14 or not cnpj[12:].isdigit() or len(set(cnpj)) == 1:
        return False
    if not all(char.isdigit() or "A" <= char <= "Z" for char in cnpj[:12]):
        return False
    first = _cnpj_check_digit(cnpj[:12])
    second = _cnpj_check_digit(cnpj[:12] + first)
    return cnpj[12:] == first + second
