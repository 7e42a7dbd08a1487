"""The enricher chain's shortcuts answer as the long way does, on corpora of spellings.

Each shortcut skips work when its answer is certain (no CPF candidate in a text, no
http(s) scheme in a value, nothing to clean in a name); these tests run both ways.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from datetime import UTC, datetime, timedelta

import pytest

from leadcrawler.domain import text as text_module
from leadcrawler.domain import urls
from leadcrawler.domain.scoring import LeadFacts, Rules
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


def _score_long_way(
    facts: LeadFacts, rules: Rules, now: datetime | None
) -> tuple[int, str, dict[str, int]]:
    # scoring.score as it was written first (a helper per criterion), for comparison.
    w, p = rules.weights, rules.penalties
    f = facts
    reasons: dict[str, int] = {}

    def add(name: str, points: int) -> None:
        if points:
            reasons[name] = points

    add("business_email", w["business_email"] if f.business_emails else 0)
    if not f.business_emails:
        add("free_email", w["free_email"] if f.free_emails else 0)
    add("whatsapp", w["whatsapp"] if f.whatsapp else 0)
    if not f.whatsapp:
        add("phone", w["phone"] if f.phones else 0)
    add("own_domain", w["own_domain"] if f.own_domain else 0)
    add("cnpj", w["cnpj"] if f.cnpj else 0)
    add("social", min(w["social"] * len(f.social_networks), w["social_max"]))
    extra = max(len(f.platforms) - 1, 0)
    add("extra_platforms", min(w["extra_platform"] * extra, w["extra_platform_max"]))
    add("offers", min(w["offer"] * f.offers, w["offer_max"]))
    if f.max_price is not None:
        if f.max_price >= rules.price_high:
            add("price_high", w["price_high"])
        elif f.max_price >= rules.price_mid:
            add("price_mid", w["price_mid"])
    if f.last_seen is not None:
        now = now or datetime.now(UTC)
        last_seen = f.last_seen
        if last_seen.tzinfo is None:
            last_seen = last_seen.replace(tzinfo=UTC)
        if now - last_seen <= timedelta(days=rules.recent_days):
            add("recent", w["recent"])
    emails = f.business_emails + f.free_emails
    if emails and f.role_emails >= emails:
        add("role_only_email", p["role_only_email"])
    if f.free_emails and not f.business_emails:
        add("free_only_email", p["free_only_email"])
    if f.disposable_emails and not emails:
        add("disposable_only_email", p["disposable_only_email"])
    if not emails and not f.whatsapp and not f.phones:
        add("no_channel", p["no_channel"])
    total = max(0, min(100, sum(reasons.values())))
    tier = "A" if total >= rules.tier_a else "B" if total >= rules.tier_b else "C"
    return total, tier, reasons


def test_score_answers_as_the_long_way_on_random_facts_and_rules() -> None:
    import random
    from decimal import Decimal

    from leadcrawler.domain.scoring import PENALTY_NAMES, WEIGHT_NAMES, score

    rnd = random.Random(10)
    now = datetime(2026, 11, 30, tzinfo=UTC)
    for _ in range(3000):
        rules = Rules(
            weights={name: rnd.choice([0, 0, 1, 5, 10, 25]) for name in WEIGHT_NAMES},
            penalties={name: rnd.choice([0, -5, -20]) for name in PENALTY_NAMES},
            price_mid=Decimal(rnd.choice([50, 100])),
            price_high=Decimal(rnd.choice([100, 500])),
            recent_days=rnd.choice([1, 30, 365]),
            tier_a=rnd.choice([40, 70]),
            tier_b=rnd.choice([10, 30]),
        )
        seen = rnd.choice([None, now, now - timedelta(days=40), (now - timedelta(days=2))])
        if seen is not None and rnd.random() < 0.3:
            seen = seen.replace(tzinfo=None)
        facts = LeadFacts(
            business_emails=rnd.choice([0, 0, 1, 2]),
            free_emails=rnd.choice([0, 0, 1]),
            role_emails=rnd.choice([0, 1, 2]),
            disposable_emails=rnd.choice([0, 1]),
            undeliverable_emails=rnd.choice([0, 1]),
            whatsapp=rnd.random() < 0.4,
            phones=rnd.choice([0, 0, 1, 3]),
            own_domain=rnd.random() < 0.5,
            cnpj=rnd.random() < 0.3,
            social_networks=set(
                rnd.sample(["instagram", "x", "youtube", "tiktok"], rnd.randint(0, 4))
            ),
            platforms=set(rnd.sample(["kiwify", "hotmart", "hubla"], rnd.randint(0, 3))),
            offers=rnd.choice([0, 1, 4, 9]),
            max_price=rnd.choice(
                [None, Decimal("0"), Decimal("75.5"), Decimal("100"), Decimal("999")]
            ),
            last_seen=seen,
        )
        when = rnd.choice([now, None]) if seen is not None and seen.tzinfo else now
        got = score(facts, rules, when)
        expected = _score_long_way(facts, rules, when)
        assert (got.score, got.tier, got.reasons) == expected
        assert list(got.reasons) == list(expected[2])  # same order: stored as written


def test_new_uid_is_a_uuid4_spelled_as_str_uuid4() -> None:
    import uuid

    from leadcrawler.enricher.dedupe import new_uid

    uids = [new_uid() for _ in range(5000)]
    assert len(set(uids)) == len(uids)
    for uid in uids:
        parsed = uuid.UUID(uid)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert str(parsed) == uid
    # Every random bit is used: each hex digit outside the fixed ones takes all 16 values.
    for position in (0, 9, 15, 20, 35):
        assert len({uid[position] for uid in uids}) == 16
    assert {uid[14] for uid in uids} == {"4"} and {uid[19] for uid in uids} == set("89ab")
