"""Text as the contact rules match it: folded for words, cleaned for values."""

from __future__ import annotations

import re
import unicodedata

from leadcrawler.domain.text import strip_invisible

# The combining marks of Latin accents (U+0300..U+036F but U+034F, the grapheme joiner, which
# is no mark: combining class 0). Text that is ASCII once they are gone folds by lower().
_LATIN_MARKS_RE = re.compile("[\u0300-\u034e\u0350-\u036f]")


def fold(text: str) -> str:
    """Lower case, no accents, NFKC: for matching words, never for values."""
    if text.isascii():
        return text.lower()  # NFKD and NFKC leave ASCII as it is; casefold is lower()
    bare = _LATIN_MARKS_RE.sub("", unicodedata.normalize("NFKD", text))
    if bare.isascii():  # "Informações": the common Portuguese case, no per-character pass
        return bare.lower()
    bare = "".join(char for char in bare if not unicodedata.combining(char))
    return unicodedata.normalize("NFKC", bare).casefold()


def clean(text: str) -> str:
    # Full-width at signs and digits read as ASCII; zero-width and bidi characters go.
    return unicodedata.normalize("NFKC", strip_invisible(text))
