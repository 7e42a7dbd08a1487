"""The enricher chain's shortcuts answer as the long way does, on corpora of spellings.

Each shortcut skips work when its answer is certain (no CPF candidate in a text, no
http(s) scheme in a value, nothing to clean in a name); these tests run both ways.
"""

from __future__ import annotations

import itertools
import re
import unicodedata

import pytest

from leadcrawler.domain import text as text_module
from leadcrawler.domain import urls
from leadcrawler.domain.text import clean_text, strip_invisible
from leadcrawler.privacy import minimise as minimise_module

PIECES = [
    "", " ", "  ", "\t", "\n", "\u00a0", "\u2003", "\u200b", "\u202e", "\u034f", "\u3164",
    "\x00", "\x85", "\udcff", "a", "Ana", "João", "Jo\u0061\u0303o", "ÁGUA", "Ω", "ß", "x" * 3,
    "-", ".", ":", "/", "@", "#", "%", "CPF", "cpf:", "c.p.f.", "F", "f", "nº", "123",
    "529.982.247-25", "52998224725", "111.444.777-35", "123.456.789-09", "(11) 90000-0001",
    "١٢٣", "http", "HTTPS", "import", "mailto", "+55", "\U000e0041",
]  # fmt: skip


def _texts() -> list[str]:
    found = list(PIECES)
    found += ["".join(pair) for pair in itertools.product(PIECES, repeat=2)]
    found += [" ".join(triple) for triple in itertools.permutations(PIECES[14:40], 3)][:4000]
    found += ["CPF 529.982.247-25 Ana", "Ana (cpf: 52998224725)", "C.P.F. nº 111.444.777-35"]
    found += ["cpf 529 982 247 25", "CPF-52998224725-", "Loja CPF123.456.789-09"]
    found += ["a" * 600, "palavra " * 80, " ".join(["x" * 40] * 15)]
    return found


TEXTS = _texts()


def _clean_text_long_way(
    s: str | None, max_length: int = text_module.MAX_TEXT_LENGTH
) -> str | None:
    # clean_text before its shortcut for printable text.
    if s is None:
        return None
    text = unicodedata.normalize("NFC", strip_invisible(s))
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > max_length:
        cut = text[:max_length]
        space = cut.rfind(" ")
        if space >= max_length * 9 // 10:
            cut = cut[:space]
        text = cut.rstrip()
    return text or None


def test_clean_text_shortcut_answers_as_the_long_way() -> None:
    for text in TEXTS:
        assert clean_text(text) == _clean_text_long_way(text), repr(text)
        assert clean_text(text, max_length=7) == _clean_text_long_way(text, 7), repr(text)


def _find_cpfs_long_way(text: str) -> list[str]:
    is_cpf = minimise_module.is_cpf
    found = [
        m.group(0) for m in minimise_module._CPF_FORMATTED.finditer(text) if is_cpf(m.group(0))
    ]
    found += [
        m.group(1) for m in minimise_module._CPF_LABELLED.finditer(text) if is_cpf(m.group(1))
    ]
    return found


def test_find_cpfs_shortcut_answers_as_the_long_way() -> None:
    holding = 0
    for text in TEXTS:
        expected = _find_cpfs_long_way(text)
        assert minimise_module.find_cpfs(text) == expected, repr(text)
        if expected:
            holding += 1
            assert minimise_module.may_hold_cpf(text), repr(text)
        assert minimise_module.strip_cpf(text)[1] == bool(expected)
    assert holding > 100  # the corpus does hold CPFs


URLS = [
    "import:list.csv#12", "import:lista de leads.csv#3", "https://loja.com.br/", "http://Loja.COM.BR:80/x",
    "HTTPS://loja.com.br", "hTtP://loja.com.br", "ftp://loja.com.br/", "mailto:ana@loja.com.br",
    "javascript:alert(1)", "//loja.com.br/x", "/caminho", "loja.com.br", "www.loja.com.br/x?a=1",
    "loja.com.br:8080/x", "localhost:8000", "h ttps://loja.com.br", " https://loja.com.br",
    "\thttps://loja.com.br", "ht\ttps://loja.com.br", "htt\nps://x.com", "\x00https://x.com",
    "https\x00://x.com", "1http://x.com", "+http://x.com", "http+x://y.com", "http.://y.com",
    "https:loja.com.br", "https:/loja.com.br", "https://[::1]/", "https://[::1/", "http://x.com:99999/",
    "https://usuário@loja.com.br", "https://açaí.com.br/", "ÿhttp://x.com", "é:x", ":x", "", " ",
    "data:text/html,oi", "tel:+5511900000001", "https://pay.kiwify.com.br/abc?cpf=52998224725",
    "https://x.com/529.982.247-25", "\u200bhttps://x.com", "https\u200b://x.com", "Import:x#1",
    "https://x.com:", "http://:80", "http://", "https://www.instagram.com/Ana.Doces/?igsh=1",
]  # fmt: skip


@pytest.mark.parametrize("assume_scheme", [None, "https", "http"])
def test_canonical_url_shortcut_answers_as_the_long_way(
    monkeypatch: pytest.MonkeyPatch, assume_scheme: str | None
) -> None:
    corpus = URLS + [a + b for a, b in itertools.product(URLS[:20], ["", "#1", " x", ":", "?q=1"])]
    fast = [urls.canonical_url(url, assume_scheme=assume_scheme) for url in corpus]
    monkeypatch.setattr(urls, "_not_web", lambda text: False)
    slow = [urls.canonical_url(url, assume_scheme=assume_scheme) for url in corpus]
    assert fast == slow
    assert any(fast) and not all(fast)


def test_to_lead_fills_each_field_by_name() -> None:
    # to_lead builds its Lead, Sighting and contacts positionally (keywords cost more than
    # the construction): the result must be the one spelled out field by field.
    from datetime import UTC, datetime

    from leadcrawler.domain.items import Certainty, ContactKind, ContactPoint, Lead, Sighting
    from leadcrawler.intake.reader import RawRow
    from leadcrawler.intake.rows import to_lead

    now = datetime(2026, 11, 30, tzinfo=UTC)
    row = RawRow(
        7,
        {
            "name": ["Ana"], "company": ["Doces Ltda"], "cnpj": ["11.222.333/0001-81"],
            "website": ["loja.com.br"], "email": ["a@loja.com.br", "b@loja.com.br"],
            "phone": ["(11) 90000-0001"], "whatsapp": ["11 90000-0002"],
            "instagram": ["@ana.doces"], "linkedin": ["ana"], "social": ["x.com/ana"],
        },
    )  # fmt: skip
    where = "import:l.csv#7"

    def contact(kind: ContactKind, value: str) -> ContactPoint:
        return ContactPoint(
            kind=kind, value=value, source_url=where, found_at=now, method="import",
            certainty=Certainty.CERTAIN,
        )  # fmt: skip

    assert to_lead(row, "l.csv", now) == Lead(
        sighting=Sighting(source="import", url=where, spider="intake", seen_at=now),
        display_name="Ana",
        legal_name="Doces Ltda",
        cnpj="11.222.333/0001-81",
        website="loja.com.br",
        contacts=[
            contact(ContactKind.EMAIL, "a@loja.com.br"),
            contact(ContactKind.EMAIL, "b@loja.com.br"),
            contact(ContactKind.PHONE, "(11) 90000-0001"),
            contact(ContactKind.WHATSAPP, "11 90000-0002"),
            contact(ContactKind.SOCIAL, "https://www.instagram.com/ana.doces/"),
            contact(ContactKind.SOCIAL, "https://www.linkedin.com/in/ana"),
            contact(ContactKind.SOCIAL, "x.com/ana"),
        ],
    )
