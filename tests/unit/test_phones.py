from __future__ import annotations

import pytest

from leadcrawler.domain.phones import (
    NINTH_DIGIT,
    SHARED_COST_DDD,
    PhoneType,
    ddd_states,
    is_whatsapp_link,
    normalize_phone,
    phone_problem,
    repair_raw,
    whatsapp_phone_text,
)

BR_MOBILE = "+5511912345678"


@pytest.mark.parametrize(
    "raw",
    [
        "(11) 91234-5678",
        "+55 11 9 1234-5678",
        "+55 (11) 91234-5678",
        "11 9 1234-5678",
        "0 xx 11 91234-5678",  # long-distance prefix with a carrier placeholder
        "0xx11 91234-5678",
        "0 21 11 91234-5678",  # with a real carrier code
        "5511912345678",  # wa.me style, without +
        "tel:+55-11-91234-5678",
        # full-width digits and parentheses
        "\uff08\uff11\uff11\uff09 \uff19\uff11\uff12\uff13\uff14-\uff15\uff16\uff17\uff18",
        "(11) 9\u200b1234-5678",  # zero-width space
        "\u202e(11) 91234-5678",  # RTL override
        "+55 (11) 91234-5678 ramal 22",  # the extension is not part of the number
    ],
)
def test_brazilian_mobile_spellings_give_one_e164(raw: str) -> None:
    for repair in (False, True):
        info = normalize_phone(raw, repair=repair)
        assert info is not None
        assert info.e164 == BR_MOBILE
        assert info.is_valid
        assert info.number_type == PhoneType.MOBILE
        assert (info.country_code, info.region, info.ddd, info.state) == (55, "BR", "11", "SP")
        assert info.whatsapp_capable
        assert info.repaired is None


def test_landline_has_ddd_and_state_but_no_whatsapp() -> None:
    info = normalize_phone("(21) 3456-7890")
    assert info is not None
    assert info.e164 == "+552134567890"
    assert info.number_type == PhoneType.LANDLINE
    assert (info.ddd, info.state) == ("21", "RJ")
    assert not info.whatsapp_capable


@pytest.mark.parametrize(
    ("raw", "ddd", "state"),
    [
        ("(61) 3333-4444", "61", "DF"),
        ("(92) 99123-4567", "92", "AM"),
        ("(51) 3222-1111", "51", "RS"),
    ],
)
def test_ddd_to_state(raw: str, ddd: str, state: str) -> None:
    info = normalize_phone(raw)
    assert info is not None
    assert (info.ddd, info.state) == (ddd, state)


def test_toll_free_has_no_ddd() -> None:
    info = normalize_phone("0800 123 4567")
    assert info is not None
    assert info.e164 == "+558001234567"
    assert info.number_type == PhoneType.TOLL_FREE
    assert info.is_valid
    assert (info.ddd, info.state, info.whatsapp_capable) == (None, None, False)


def test_shared_cost_number() -> None:
    info = normalize_phone("4004-0000")
    assert info is not None
    assert info.number_type == PhoneType.SHARED_COST
    assert info.ddd is None


def test_foreign_number_keeps_its_country() -> None:
    info = normalize_phone("+1 415 555 2671")
    assert info is not None
    assert info.e164 == "+14155552671"
    assert (info.country_code, info.region) == (1, "US")
    assert (info.ddd, info.state, info.whatsapp_capable) == (None, None, False)
    # US plans do not tell mobiles from landlines.
    assert info.number_type == PhoneType.UNKNOWN


def test_uk_landline_with_other_default_region() -> None:
    info = normalize_phone("020 7946 0958", region="GB")
    assert info is not None
    assert info.e164 == "+442079460958"
    assert info.number_type == PhoneType.LANDLINE


def test_legacy_8_digit_mobile_is_left_alone_without_repair() -> None:
    # Without repair=True the number is read literally: it is not in today's plan.
    info = normalize_phone("(11) 9123-4567")
    assert info is not None
    assert not info.is_valid
    assert info.repaired is None
    assert phone_problem("(11) 9123-4567") == "invalid_number"


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("(11) 9123-4567", "+5511991234567"),
        ("(11) 8123-4567", "+5511981234567"),
        ("(11) 7123-4567", "+5511971234567"),  # libphonenumber still accepts 7xxx (old SME)
        ("(11) 6123-4567", "+5511961234567"),
        ("(21) 9876-5432", "+5521998765432"),
        ("+55 11 9123-4567", "+5511991234567"),
        ("+551191234567", "+5511991234567"),  # a wa.me link's number
        ("0 xx 11 9123-4567", "+5511991234567"),  # carrier placeholder and ninth digit
        ("(0xx11) 9123-4567", "+5511991234567"),
        ("tel:+55-11-9123-4567", "+5511991234567"),
        (
            "\uff08\uff11\uff11\uff09 \uff19\uff11\uff12\uff13-\uff14\uff15\uff16\uff17",
            "+5511991234567",
        ),
    ],
)
def test_legacy_8_digit_mobile_gets_its_ninth_digit(raw: str, e164: str) -> None:
    info = normalize_phone(raw, repair=True)
    assert info is not None
    assert info.e164 == e164
    assert info.is_valid
    assert info.number_type == PhoneType.MOBILE
    assert info.whatsapp_capable
    assert info.repaired == NINTH_DIGIT == "ninth_digit"
    assert phone_problem(raw, repair=True) is None


def test_ninth_digit_repair_keeps_the_extension() -> None:
    info = normalize_phone("(11) 9123-4567 ramal 22", repair=True)
    assert info is not None
    assert (info.e164, info.repaired) == ("+5511991234567", NINTH_DIGIT)


@pytest.mark.parametrize(
    "raw",
    [
        "(11) 3456-7890",  # landlines start with 2 to 5: never given a 9
        "(11) 5123-4567",
        "(11) 2123-4567",
    ],
)
def test_landlines_are_not_repaired(raw: str) -> None:
    info = normalize_phone(raw, repair=True)
    assert info is not None
    assert info.number_type == PhoneType.LANDLINE
    assert info.repaired is None
    assert not info.whatsapp_capable


def test_nine_digit_mobiles_are_not_repaired() -> None:
    info = normalize_phone("(11) 91234-5678", repair=True)
    assert info is not None
    assert (info.e164, info.repaired) == (BR_MOBILE, None)


def test_legacy_mobile_without_ddd_cannot_be_repaired() -> None:
    assert normalize_phone("9123-4567", repair=True) is None
    assert phone_problem("9123-4567", repair=True) == "missing_area_code"


def test_repair_does_not_touch_foreign_numbers() -> None:
    # Ten digits starting with a DDD-like pair and a 9, but under another country code.
    info = normalize_phone("(11) 9123-4567", region="US", repair=True)
    assert info is None or info.repaired is None
    us = normalize_phone("+1 415 955 2671", repair=True)
    assert us is not None
    assert (us.e164, us.repaired) == ("+14159552671", None)


@pytest.mark.parametrize(
    "raw",
    [
        "0 xx 11 91234-5678",
        "0XX 11 91234-5678",
        "(0xx11) 91234-5678",
        "(0 xx 11) 91234-5678",
        "0-xx-11-91234-5678",
        "0 15 11 91234-5678",  # Vivo
        "0 21 11 91234-5678",  # Claro
        "0 41 11 91234-5678",  # TIM
        "0 17 11 91234-5678",  # a carrier code libphonenumber does not list
        "0 85 11 91234-5678",
        "(0 15 11) 91234-5678",
        "01511912345678",
        "011 91234-5678",  # long-distance prefix alone
        "00 55 11 91234-5678",  # international prefix for +55 without a carrier code
        "0055 11 91234-5678",
        "+55 (11) 9 1234-5678",
        "tel:0%2017%2011%2091234-5678",
    ],
)
def test_carrier_selection_prefixes_are_stripped(raw: str) -> None:
    info = normalize_phone(raw, repair=True)
    assert info is not None
    assert info.e164 == BR_MOBILE
    assert info.repaired is None  # the same number, only spelled with a dialling prefix


def test_carrier_prefix_on_a_landline() -> None:
    info = normalize_phone("0 17 21 3456-7890", repair=True)
    assert info is not None
    assert (info.e164, info.number_type, info.state) == ("+552134567890", PhoneType.LANDLINE, "RJ")


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+55 (11) 9 8765-4321", "+5511987654321"),
        ("+55 11 98765 4321", "+5511987654321"),
        ("55 11 9 8765-4321", "+5511987654321"),
    ],
)
def test_international_spellings(raw: str, e164: str) -> None:
    for repair in (False, True):
        info = normalize_phone(raw, repair=repair)
        assert info is not None
        assert info.e164 == e164
        assert info.number_type == PhoneType.MOBILE


@pytest.mark.parametrize(
    ("raw", "e164", "repaired"),
    [
        ("4004-0000", "+5540040000", None),
        ("4003-3030", "+5540033030", None),
        ("3003 1234", "+5530031234", None),
        ("(11) 4004-0000", "+5540040000", SHARED_COST_DDD),  # the DDD is meaningless here
        ("+55 11 3003-1234", "+5530031234", SHARED_COST_DDD),
        ("0300 789 1234", "+553007891234", None),
    ],
)
def test_shared_cost_numbers_have_no_ddd(raw: str, e164: str, repaired: str | None) -> None:
    info = normalize_phone(raw, repair=True)
    assert info is not None
    assert (info.e164, info.number_type) == (e164, PhoneType.SHARED_COST)
    assert (info.ddd, info.state, info.whatsapp_capable) == (None, None, False)
    assert info.repaired == repaired


@pytest.mark.parametrize(
    "raw",
    [
        "0800 123 4567",
        "0800-123-4567",
        "0800 1234567",
        "(11) 0800 123 4567",  # a DDD written in front of a nationwide number
        "+55 0800 123 4567",
        "\uff10\uff18\uff10\uff10 \uff11\uff12\uff13 \uff14\uff15\uff16\uff17",
    ],
)
def test_toll_free_spellings(raw: str) -> None:
    info = normalize_phone(raw, repair=True)
    assert info is not None
    assert (info.e164, info.number_type) == ("+558001234567", PhoneType.TOLL_FREE)
    assert (info.ddd, info.whatsapp_capable, info.repaired) == (None, False, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0 17 11 91234-5678", "011912345678"),
        ("(0xx11) 3456-7890", "(0 11) 3456-7890"),
        ("00 55 11 91234-5678", "+5511912345678"),
        ("(11) 9123-4567", "+5511991234567"),
        ("(11) 4004-0000", "+5540040000"),
        ("(11) 0800 123 4567", "0800 123 4567"),
        ("(11) 91234-5678", "(11) 91234-5678"),  # nothing to repair
        ("+1 415 555 2671", "+1 415 555 2671"),
        ("abc", "abc"),
        ("", ""),
    ],
)
def test_repair_raw(text: str, expected: str) -> None:
    assert repair_raw(text, "BR") == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("123", "too_short"),
        ("", "empty"),
        ("\u200b ", "empty"),
        ("abc", "not_a_number"),
        ("+55 11", "too_short"),
        ("1234567890123456", "too_long"),
        ("(11) 91234-56789", "too_long"),
        ("+999 1234567", "invalid_country_code"),
        ("91234-5678", "missing_area_code"),  # local number without DDD
        ("3456-7890", "missing_area_code"),
    ],
)
def test_not_numbers(raw: str, reason: str) -> None:
    for repair in (False, True):
        assert normalize_phone(raw, repair=repair) is None
        assert phone_problem(raw, repair=repair) == reason


def test_phone_problem_is_none_for_valid_numbers() -> None:
    assert phone_problem("(11) 91234-5678") is None
    assert phone_problem(BR_MOBILE, region="US") is None  # +55 wins over the region


def test_ddd_table_has_all_67_codes_in_27_states() -> None:
    table = ddd_states()
    assert len(table) == 67
    assert len(set(table.values())) == 27
    assert all(len(code) == 2 and code.isdigit() and code[1] != "0" for code in table)
    assert table["11"] == "SP"
    assert table["99"] == "MA"
    assert table["68"] == "AC"
    assert "20" not in table
    assert "23" not in table


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://wa.me/5511912345678", "+5511912345678"),
        ("wa.me/5511912345678?text=Ol%C3%A1", "+5511912345678"),
        ("https://wa.me/+55 (11) 91234-5678", "+5511912345678"),
        ("https://wa.me/+55%2011%2091234-5678", "+5511912345678"),  # percent-encoded
        ("https://wa.me/%2B55%20(11)%2091234-5678?text=oi", "+5511912345678"),
        ("https://wa.me/55%C2%A011%C2%A091234-5678", "+5511912345678"),  # no-break spaces
        ("https://api.whatsapp.com/send?phone=%252B5511912345678", "+5511912345678"),
        ("https://api.whatsapp.com/send?phone=5511912345678&text=oi", "+5511912345678"),
        ("https://api.whatsapp.com/send/?phone=%2B5511912345678", "+5511912345678"),
        ("https://web.whatsapp.com/send?phone=5511912345678", "+5511912345678"),
        ("whatsapp://send?phone=5511912345678", "+5511912345678"),
        ("https://chat.whatsapp.com/AbCdEfGh123", None),  # a group, not a person
        ("https://wa.me/message/ABCDEF123", None),
        ("https://api.whatsapp.com/send?text=oi", None),
        ("(11) 91234-5678", "(11) 91234-5678"),  # not a link: unchanged
        ("WhatsApp: (11) 91234-5678", "WhatsApp: (11) 91234-5678"),
    ],
)
def test_whatsapp_phone_text(value: str, expected: str | None) -> None:
    assert whatsapp_phone_text(value) == expected


def test_whatsapp_link_numbers_normalise() -> None:
    text = whatsapp_phone_text("https://wa.me/5511912345678")
    assert text is not None
    info = normalize_phone(text, region="US")  # the link is international: region unused
    assert info is not None
    assert info.e164 == BR_MOBILE


def test_is_whatsapp_link() -> None:
    assert is_whatsapp_link("https://wa.me/5511912345678")
    assert is_whatsapp_link("API.WhatsApp.com/send?phone=1")
    assert not is_whatsapp_link("https://notwa.me/5511912345678")
    assert not is_whatsapp_link("WhatsApp: (11) 91234-5678")


@pytest.mark.parametrize(
    "raw",
    [
        "+55 11 91234-5678", "+55 11 3456-7890", "+55 11 1234-5678", "+55 00 91234-5678",
        "+55 11 4004-0000", "+55 0800 123 4567", "+1 650 253 0000", "+1 555 010 0000",
        "+44 20 7946 0958", "+351 912 345 678", "+800 1234 5678", "+882 1234 5678",
        "+55 11 51234-5678", "+55 99 91234-5678",
    ],
)  # fmt: skip
def test_validity_is_read_from_the_number_type_as_libphonenumber_would(raw: str) -> None:
    import phonenumbers

    info = normalize_phone(raw, "BR")
    assert info is not None
    assert info.is_valid == phonenumbers.is_valid_number(phonenumbers.parse(raw, "BR"))


# Area codes in use, and two-digit prefixes that are not one (00-10, 20, 23, 90...).
_CORPUS_CODES = [
    *sorted(ddd_states()),
    "00", "01", "10", "20", "23", "25", "26", "29", "30", "36", "39", "40", "50", "52", "56",
    "57", "58", "59", "60", "70", "72", "76", "78", "80", "90",
]  # fmt: skip
# The subscriber part, as (first half, second half): 9-digit mobiles, legacy 8-digit
# mobiles (6-9), landlines (2-5), shared cost (3003, 4004, 4020...), 0800/0300 numbers
# and what is none of these (starting with 0 or 1, 9 digits not starting with 9).
_CORPUS_SUBSCRIBERS = [
    ("91234", "5678"), ("99999", "9999"), ("98765", "4321"), ("90000", "0000"),
    ("81234", "5678"), ("71234", "5678"), ("61234", "5678"), ("51234", "5678"),
    ("31234", "5678"), ("21234", "5678"), ("01234", "5678"), ("11234", "5678"),
    ("9123", "4567"), ("8765", "4321"), ("7123", "4567"), ("6123", "4567"), ("9012", "3456"),
    ("5123", "4567"), ("4123", "4567"), ("3456", "7890"), ("2345", "6789"), ("1234", "5678"),
    ("0123", "4567"), ("4004", "0000"), ("3003", "1234"), ("4003", "5555"), ("4020", "1234"),
    ("4090", "1234"), ("0800", "1234"), ("0800 123", "4567"), ("0300", "1234"),
    ("123", "4567"), ("912345", "6789"), ("9123", "45678"),
]  # fmt: skip
# How pages and lists write a number: {d} the area code, {a} and {b} the two halves.
_CORPUS_SPELLINGS = [
    "({d}) {a}-{b}", "({d}){a}-{b}", "({d}) {a} {b}", "{d} {a}-{b}", "{d} {a} {b}",
    "{d}{a}{b}", "{d} {a}{b}", "{d}-{a}-{b}", "{d}.{a}.{b}", "({d}) {a}.{b}", "({d} {a}-{b}",
    "{d}) {a}-{b}", "({d}) {a}{b}", "+55 {d} {a}-{b}", "+55{d}{a}{b}", "+55 ({d}) {a}-{b}",
    "+55({d}){a}-{b}", "+55 {d}{a}{b}", "+55-{d}-{a}-{b}", "0{d} {a}-{b}", "(0{d}) {a}-{b}",
    "0{d}{a}{b}", "(0{d}){a}{b}", "0 {d} {a}-{b}", "+55 0{d} {a}-{b}", "+55 (0{d}) {a}-{b}",
    "55 {d} {a}-{b}", "55{d}{a}{b}", "+55  {d} {a}-{b}", "+ 55 {d} {a}-{b}",
    "(0xx{d}) {a}-{b}", "0 21 {d} {a}-{b}", "0 17 {d} {a}{b}", "0{d}{a}{b}0",
    "00 55 {d} {a}-{b}", "0055{d}{a}{b}", "tel:+55-{d}-{a}-{b}", "tel:0{d}{a}{b}",
    "callto:{d}{a}{b}", "({d}) {a}-{b} ramal 22", "({d}) {a}-{b} r. 7", "+55 {d} {a}-{b} ext. 5",
    "({d}) {a}-{b} x12", " ({d}) {a}-{b} ", "({d}) {a}-{b}\u200b", "\u202e({d}) {a}-{b}",
    "({d})\u00a0{a}-{b}", "({d}) {a}\u2013{b}", "{d} 9 {a}-{b}", "({d}) {a}-{b}.",
    "({d}) {a}-{b} / {a}-{b}", "Tel: ({d}) {a}-{b}", "{d}{a}{b}{b}", "+{d}{a}{b}",
    "+1 {d}{a}{b}", "+351 {d} {a} {b}", "({d}){a}--{b}", "(({d})) {a}-{b}",
]  # fmt: skip
_CORPUS_OTHERS = [
    "", " ", "abc", "123", "0", "+", "+55", "+55 11", "(11)", "+1 650 253 0000",
    "+44 20 7946 0958", "+351 912 345 678", "+800 1234 5678", "+882 1234 5678",
    "1-800-FLOWERS", "0800 123 4567", "0800-723-0000", "4004-0000", "3003 1234",
    "91234-5678", "3456-7890", "12345678901234567890", "+55 11 91234-5678 ou 3456-7890",
    "(11) ９１２３４-５６７８", "\uff08\uff11\uff11\uff09 \uff19\uff11\uff12\uff13\uff14-\uff15\uff16\uff17\uff18",
    "(١١) ٩١٢٣٤-٥٦٧٨", "wa.me/5511912345678", "+55 11 91234-5678;ext=3",
]  # fmt: skip


def phone_corpus(every: int = 1) -> list[str]:
    """Every area code (and some that are none) x kinds of numbers x ways to write them.

    With ``every`` > 1, one spelling in ``every`` per (area code, number), rotated: each
    spelling still meets every area code and each (area code, number) several spellings.
    """
    corpus = list(_CORPUS_OTHERS)
    pairs = [(code, pair) for code in _CORPUS_CODES for pair in _CORPUS_SUBSCRIBERS]
    for index, (code, (first, second)) in enumerate(pairs):
        for rank, spelling in enumerate(_CORPUS_SPELLINGS):
            if (index + rank) % every == 0:
                corpus.append(spelling.format(d=code, a=first, b=second))
    # Full-width digits: read after NFKC, never by the shortcut.
    full_width = str.maketrans("0123456789()", "０１２３４５６７８９（）")
    corpus += [raw.translate(full_width) for raw in corpus[:: len(_CORPUS_SPELLINGS) + 1]]
    return corpus


def test_the_common_spelling_shortcut_reads_what_libphonenumber_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """_read_common_spelling (no parse of text) against the full path: the same PhoneInfo
    and the same problem, with and without repairs, for every value the shortcut takes."""
    from leadcrawler.domain import phones

    corpus = phone_corpus(every=5)
    cases = [(region, repair) for region in ("BR", "US") for repair in (True, False)]
    taken = {
        region: [raw for raw in corpus if phones._read_common_spelling(raw, region) is not None]
        for region in ("BR", "US")
    }
    assert len(taken["BR"]) > 5_000 and len(taken["US"]) > 1_000  # the shortcut is used

    def outcomes(region: str, repair: bool) -> list[tuple[object, ...]]:
        return [
            (normalize_phone(raw, region, repair=repair), phone_problem(raw, region, repair=repair))
            for raw in taken[region]
        ]

    fast = [outcomes(region, repair) for region, repair in cases]
    monkeypatch.setattr(phones, "_read_common_spelling", lambda raw, region: None)
    slow = [outcomes(region, repair) for region, repair in cases]
    for (region, repair), fast_outcomes, slow_outcomes in zip(cases, fast, slow, strict=True):
        for raw, one, other in zip(taken[region], fast_outcomes, slow_outcomes, strict=True):
            assert one == other, (raw, region, repair)
    # Each kind of outcome is in the comparison.
    infos = [info for info, _problem in fast[0] if info is not None]
    assert {info.repaired for info in infos} == {None, NINTH_DIGIT, SHARED_COST_DDD}
    assert {info.number_type for info in infos} >= {
        PhoneType.MOBILE,
        PhoneType.LANDLINE,
        PhoneType.SHARED_COST,
    }
    assert {problem for _info, problem in fast[0]} == {None, "invalid_number"}


def test_numbers_built_without_parsing_are_the_ones_parse_gives() -> None:
    """_plus55 (the repairs' candidates) against phonenumbers.parse("+55...")."""
    import phonenumbers

    from leadcrawler.domain import phones

    for code in _CORPUS_CODES:
        for first, second in _CORPUS_SUBSCRIBERS:
            for national in (code + first + second, first + second, code + "9" + first + second):
                national = national.replace(" ", "")
                assert phones._plus55(national) == phonenumbers.parse(f"+55{national}"), national


def test_phone_readings_keep_the_most_recently_recorded() -> None:
    from leadcrawler.domain.phones import PhoneReadings

    readings = PhoneReadings(max_size=3)
    infos = [normalize_phone(f"(11) 9123{i}-5678") for i in range(5)]
    assert all(info is not None for info in infos)
    a, b, c, d, e = (info for info in infos if info is not None)
    for info in (a, b, c, a, d):  # a recorded again: b is now the oldest
        readings.record(info)
    assert [readings.get(info.e164) for info in (a, b, c, d)] == [a, None, c, d]
    readings.record(e)
    assert [readings.get(info.e164) for info in (a, c, d, e)] == [a, None, d, e]
