"""Cleaning of free text taken from pages (names, product titles) before it is stored.

Page text is untrusted: it can hide zero-width characters and bidi overrides (visual
spoofing, "ASCII smuggling" in Unicode tag characters), carry NUL bytes that some
databases reject, lone surrogates that cannot be encoded as UTF-8, or be absurdly long.
:func:`clean_text` turns any of that into a short, single-line, NFC string or ``None``.

Reads no settings.
"""

from __future__ import annotations

import re
import unicodedata

# Names and titles longer than this are page garbage (a whole paragraph caught by a loose
# selector, or a hostile 100 KB value); they are cut, never rejected. Characters, not bytes.
MAX_TEXT_LENGTH = 500

# Characters that render as nothing but are not format characters (category Cf), so the
# category test below misses them: combining grapheme joiner, Hangul fillers, braille blank.
# They are used to fake empty or look-alike names.
_INVISIBLE_LETTERS = frozenset("\u034f\u115f\u1160\u3164\uffa0\u2800")

_WHITESPACE_RE = re.compile(r"\s+")  # str patterns match Unicode spaces, NBSP included


def _keep(char: str) -> bool:
    if char.isspace():
        return True  # tabs, newlines, NBSP...: collapsed to one space afterwards
    if char in _INVISIBLE_LETTERS:
        return False
    # Cc: NUL and the other C0/C1 controls; Cf: zero-width chars (U+200B..U+200D, U+2060,
    # U+FEFF), bidi controls (U+200E/F, U+202A..U+202E, U+2066..U+2069), soft hyphen, tag
    # characters; Cs: lone surrogates, which make UTF-8 encoding (and the database) fail.
    return unicodedata.category(char) not in ("Cc", "Cf", "Cs")


def strip_invisible(s: str) -> str:
    """``s`` without control, format (zero-width, bidi) and surrogate characters.

    Whitespace is kept as is; use :func:`clean_text` for display text.
    """
    if s.isascii() and s.isprintable():
        return s  # the common case, without a per-character pass
    if _INVISIBLE_LETTERS.isdisjoint(s) and "".join(s.split()).isprintable():
        # Accented text: no Cc/Cf/Cs character outside whitespace (which is kept), so
        # nothing to strip (isprintable() is False for every Cc, Cf and Cs character).
        return s
    return "".join(char for char in s if _keep(char))


def clean_text(s: str | None, max_length: int = MAX_TEXT_LENGTH) -> str | None:
    """NFC, no invisible characters, whitespace runs collapsed to one space, stripped.

    Returns ``None`` for ``None`` and for text that is empty once cleaned. Text longer than
    ``max_length`` characters is cut there (at a word boundary when one is near).
    """
    if s is None:
        return None
    if s.isprintable() and _INVISIBLE_LETTERS.isdisjoint(s):
        # The common case: nothing to strip, and the space is the only whitespace a
        # printable string holds, so only a double space needs collapsing.
        text = s if s.isascii() else unicodedata.normalize("NFC", s)
        if "  " in text:
            text = _WHITESPACE_RE.sub(" ", text)
        text = text.strip()
    else:
        text = unicodedata.normalize("NFC", strip_invisible(s))
        text = _WHITESPACE_RE.sub(" ", text).strip()
    if len(text) > max_length:
        cut = text[:max_length]
        space = cut.rfind(" ")
        # Prefer not to cut a word in half, unless that loses more than a tenth.
        if space >= max_length * 9 // 10:
            cut = cut[:space]
        text = cut.rstrip()
    return text or None
