from __future__ import annotations

import pytest

from leadcrawler.domain.text import MAX_TEXT_LENGTH, clean_text, strip_invisible


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Ana   Silva  ", "Ana Silva"),
        ("Ana\u00a0Silva", "Ana Silva"),  # NBSP
        ("Ana\t\n\r Silva\u2003Souza\u3000Lima", "Ana Silva Souza Lima"),
        ("An\u200ba\u200c \u200dSil\u2060va\ufeff", "Ana Silva"),  # zero-width
        ("\u202eavliS anA\u202c", "avliS anA"),  # RTL override removed, text kept
        ("\u200e\u200fA\u202a\u202b\u202d\u2066\u2067\u2068\u2069B", "AB"),  # bidi controls
        ("Jo\x00\u00e3o\x07\x1b", "Jo\u00e3o"),  # NUL and other C0 controls
        ("Jo\x85ao", "Jo ao"),  # NEL is a line break
        ("Loja\u00adMaria", "LojaMaria"),  # soft hyphen
        ("Ana\U000e0041\U000e0042", "Ana"),  # Unicode tag characters (ASCII smuggling)
        ("Ana\udcff", "Ana"),  # lone surrogate from a bad decode
        ("\u3164", None),  # Hangul filler: an "invisible name"
        ("\u2800 \u200b\u00a0", None),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_clean_text(raw: str | None, expected: str | None) -> None:
    assert clean_text(raw) == expected


def test_clean_text_composes_to_nfc() -> None:
    decomposed = "Jo\u0061\u0303o"  # "a" + combining tilde
    assert clean_text(decomposed) == "Jo\u00e3o"
    assert len(clean_text(decomposed) or "") == 4


@pytest.mark.parametrize(
    "name",
    ["Robert'); DROP TABLE leads;--", "O'Brien", "' OR '1'='1", "Ana \u2019Ninja\u2019", "=1+1"],
)
def test_clean_text_keeps_sql_and_quote_characters(name: str) -> None:
    # Storage uses bound parameters; cleaning must not mangle legitimate punctuation.
    assert clean_text(name) == name


def test_clean_text_result_is_utf8_encodable() -> None:
    cleaned = clean_text("Loja\udc80\ud800 da Ana\x00")
    assert cleaned == "Loja da Ana"
    cleaned.encode("utf-8")


def test_clean_text_caps_100_kb_at_a_word_boundary() -> None:
    cleaned = clean_text("palavra " * 12_800)  # ~100 KB
    assert cleaned is not None
    assert len(cleaned) <= MAX_TEXT_LENGTH
    assert len(cleaned) >= MAX_TEXT_LENGTH * 9 // 10
    assert cleaned.endswith("palavra")


def test_clean_text_caps_a_text_without_spaces_exactly() -> None:
    assert clean_text("x" * 100_000) == "x" * MAX_TEXT_LENGTH


def test_clean_text_custom_max_length() -> None:
    assert clean_text("abcdef", max_length=3) == "abc"


def test_strip_invisible_keeps_whitespace() -> None:
    assert strip_invisible("a\u200b b\nc\x00") == "a b\nc"
    assert strip_invisible("plain ascii") == "plain ascii"
