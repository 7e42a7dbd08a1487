"""Text as the contact rules match it: folded for words, cleaned for values."""

from __future__ import annotations

import unicodedata

from leadcrawler.domain.text import strip_invisible


def fold(text: str) -> str:
    """Lower case, no accents, NFKC: for matching words, never for values."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return unicodedata.normalize("NFKC", bare).casefold()


def clean(text: str) -> str:
    # Full-width at signs and digits read as ASCII; zero-width and bidi characters go.
    return unicodedata.normalize("NFKC", strip_invisible(text))
