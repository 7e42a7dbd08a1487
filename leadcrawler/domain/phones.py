"""Phone numbers: parse whatever a page wrote into E.164 plus offline facts about it.

:func:`normalize_phone` parses with libphonenumber (``phonenumbers``), after NFKC (so
full-width digits U+FF10..U+FF19 read as digits) and removal of invisible characters. For a
Brazilian number it adds the area code (DDD) and its state (UF) from
``leadcrawler/domain/data/ddd.toml``. :func:`phone_problem` says, as a short machine-readable
reason, why a value is not a valid number. :func:`whatsapp_phone_text` reads the number
out of a WhatsApp link (``wa.me/55...``, ``api.whatsapp.com/send?phone=55...``).

Brazilian repairs live in :func:`repair_raw` and nowhere else. Two kinds:

- spellings of the same number that libphonenumber cannot read: carrier selection codes it
  does not list (``0 17 11 ...``, it knows only some), the ``xx`` placeholder
  (``(0xx11)``: read today only by accident, as keypad letters for carrier 99), ``00 55``
  written for ``+55``, a DDD written before ``0800``;
- legacy numbers that are now another number: a mobile written with 8 digits before the
  extra 9 was added (``(11) 9123-4567`` is ``+55 11 99123-4567`` today), and a DDD written
  before a nationwide shared-cost number (``(11) 4004-0000`` is ``4004-0000``).

The second kind changes the E.164, so :class:`PhoneInfo` says which one was applied
(``repaired``: ``"ninth_digit"`` or ``"shared_cost_ddd"``) for provenance. Repairs are
opt-in (``normalize_phone(..., repair=True)``), so that a caller decides when a
page's number may be rewritten.

Reads no settings; the default region comes from the caller (``NORMALIZE_DEFAULT_REGION``)
and so does the repair switch (proposed: ``NORMALIZE_PHONE_REPAIR``).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from urllib.parse import parse_qs, unquote, urlsplit

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberType, ValidationResult

from leadcrawler.domain.text import strip_invisible


class PhoneType(StrEnum):
    MOBILE = "mobile"
    LANDLINE = "landline"
    TOLL_FREE = "toll_free"
    SHARED_COST = "shared_cost"  # BR 3003/4004 numbers
    VOIP = "voip"
    UNKNOWN = "unknown"  # includes "fixed line or mobile" (US plans cannot tell them apart)


_TYPES = {
    PhoneNumberType.MOBILE: PhoneType.MOBILE,
    PhoneNumberType.FIXED_LINE: PhoneType.LANDLINE,
    PhoneNumberType.TOLL_FREE: PhoneType.TOLL_FREE,
    PhoneNumberType.SHARED_COST: PhoneType.SHARED_COST,
    PhoneNumberType.VOIP: PhoneType.VOIP,
}

# Why a value is not a usable number, keyed by libphonenumber's own codes.
_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "invalid_country_code",
    NumberParseException.NOT_A_NUMBER: "not_a_number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too_short",
    NumberParseException.TOO_SHORT_NSN: "too_short",
    NumberParseException.TOO_LONG: "too_long",
}
_POSSIBLE_REASONS = {
    ValidationResult.INVALID_COUNTRY_CODE: "invalid_country_code",
    ValidationResult.TOO_SHORT: "too_short",
    ValidationResult.TOO_LONG: "too_long",
    ValidationResult.INVALID_LENGTH: "invalid_length",
    # A number only dialable inside its area (written without area code): area unknown.
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "missing_area_code",
}

_WHATSAPP_HOSTS = frozenset({"wa.me", "www.wa.me", "api.whatsapp.com", "web.whatsapp.com"})
_WHATSAPP_GROUP_HOSTS = frozenset({"chat.whatsapp.com"})
_WA_ME_NUMBER_RE = re.compile(r"^\+?[\d\s().-]{8,}$")
_WHATSAPP_LINK_RE = re.compile(
    r"^(?:(?:https?://)?(?:www\.)?(?:wa\.me|(?:api|web|chat)\.whatsapp\.com)(?:[/?#]|$)|whatsapp://)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class PhoneInfo:
    """A parsed phone number and the facts that need no network to know."""

    e164: str  # "+5511912345678"
    is_valid: bool  # phonenumbers.is_valid_number: the number exists in the numbering plan
    number_type: PhoneType
    country_code: int  # 55
    region: str | None  # "BR"; None for non-geographic numbers
    ddd: str | None  # Brazilian area code, "11"
    state: str | None  # the DDD's state (UF), "SP"
    whatsapp_capable: bool  # a Brazilian mobile: can have WhatsApp
    repaired: str | None = None  # "ninth_digit" or "shared_cost_ddd": the E.164 was rewritten


@cache
def ddd_states() -> dict[str, str]:
    """Brazilian area code (DDD, two digits) -> state (UF), from ``data/ddd.toml``."""
    raw = tomllib.loads(
        resources.files("leadcrawler.domain.data").joinpath("ddd.toml").read_text("utf-8")
    )
    table: dict[str, str] = {}
    for state, codes in raw["states"].items():
        for code in codes:
            ddd = f"{int(code):02d}"
            if ddd in table:
                raise ValueError(f"ddd.toml: DDD {ddd} listed under {table[ddd]} and {state}")
            table[ddd] = state
    return table


# Repairs that rewrite the number itself; PhoneInfo.repaired names the one applied.
NINTH_DIGIT = "ninth_digit"
SHARED_COST_DDD = "shared_cost_ddd"

# "0xx11", "(0 XX 11)", "0-xx-(11)": the long-distance prefix with a placeholder for the
# carrier code. Only at the start, where a dialling prefix can be.
_XX_CARRIER_RE = re.compile(r"^(\(?\s*0)\s*[-.]?\s*\(?\s*xx\s*\)?", re.IGNORECASE)
# A DDD in front of a nationwide 0800/0300/0500/0900 number: "(11) 0800 123 4567".
_DDD_BEFORE_NONGEO_RE = re.compile(r"^\(?\s*[1-9]{2}\s*\)?\s*[-.]?\s*(0[3589]00\b)")
_SPELLING_CHARS_RE = re.compile(r"^[\d\s().-]+$")
_URI_SCHEME_RE = re.compile(r"^(?:tel|callto):", re.IGNORECASE)


def _repair_spelling(text: str) -> str:
    """The same number, written so that libphonenumber reads it."""
    scheme = _URI_SCHEME_RE.match(text)
    if scheme and _SPELLING_CHARS_RE.match(unquote(text[scheme.end() :])):
        text = unquote(text[scheme.end() :])  # "tel:0%2017%2011..." as a plain spelling
    text = _XX_CARRIER_RE.sub(r"\1 ", text)
    text = _DDD_BEFORE_NONGEO_RE.sub(r"\1", text)
    if not _SPELLING_CHARS_RE.match(text):
        return text  # "+55 ...", letters, an extension: nothing below applies
    digits = re.sub(r"\D", "", text)
    ddds = ddd_states()
    # "00 55 11 9...": an international prefix without carrier code, for +55.
    if digits.startswith("0055") and len(digits) - 4 in (10, 11) and digits[4:6] in ddds:
        return "+" + digits[2:]
    # 0 + carrier code (two digits, 12 to 99; libphonenumber knows only some) + DDD + 8 or
    # 9 digits: 13 or 14 digits in all, more than any national number, so never ambiguous.
    if len(digits) in (13, 14) and digits[0] == "0" and digits[1] != "0" and digits[3:5] in ddds:
        return "0" + digits[3:]
    return text


@cache
def _br_national_prefix() -> re.Pattern[str]:
    """BR's national prefix (and carrier code) as libphonenumber reads it off a number."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("BR")
    pattern = metadata.national_prefix_for_parsing if metadata is not None else None
    if not pattern:
        raise RuntimeError("libphonenumber has no national prefix for BR")
    return re.compile(pattern)


def _plus55(national: str) -> PhoneNumber:
    """``phonenumbers.parse(f"+55{national}")`` for ``national``, a string of 2 to 17 digits.

    Without a national prefix in front (libphonenumber's own pattern for BR says), the
    number is country code 55 and ``national`` as it is: built without parsing text.
    """
    if _br_national_prefix().match(national):
        return phonenumbers.parse(f"+55{national}")
    return PhoneNumber(country_code=55, national_number=int(national))


def _ninth_digit(number: PhoneNumber) -> PhoneNumber | None:
    """The 9-digit mobile a legacy 8-digit one (DDD + [6-9]xxx-xxxx) became, if it exists.

    Anatel added the 9 to every Brazilian mobile between 2012 and 2016; numbers written
    before that (still on many pages) start with 6 to 9 after the DDD.
    """
    national = phonenumbers.national_significant_number(number)
    if len(national) != 10 or national[:2] not in ddd_states() or national[2] not in "6789":
        return None
    candidate = _plus55(f"{national[:2]}9{national[2:]}")
    if phonenumbers.number_type(candidate) != PhoneNumberType.MOBILE:
        return None
    candidate.extension = number.extension
    return candidate


def _shared_cost_without_ddd(number: PhoneNumber) -> PhoneNumber | None:
    """``(11) 4004-0000`` -> ``4004-0000``: shared-cost numbers are the same in every DDD."""
    national = phonenumbers.national_significant_number(number)
    if len(national) != 10 or national[:2] not in ddd_states():
        return None
    candidate = _plus55(national[2:])
    if phonenumbers.number_type(candidate) != PhoneNumberType.SHARED_COST:
        return None
    candidate.extension = number.extension
    return candidate


def _repair_parsed(
    text: str, region: str
) -> tuple[str, PhoneNumber | None, str | None, NumberParseException | None]:
    """``text`` repaired, the number it parses to, the repair that changed the number (if
    one did) and the parse error (if it did not parse): one parse of the value."""
    text = _repair_spelling(unicodedata.normalize("NFKC", text))
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        return text, None, None, exc
    repaired, name = _repair_number(number)
    if name is None:
        return text, number, None, None
    e164 = phonenumbers.format_number(repaired, phonenumbers.PhoneNumberFormat.E164)
    suffix = f" ext. {repaired.extension}" if repaired.extension else ""
    return e164 + suffix, repaired, name, None


def _repair_number(number: PhoneNumber) -> tuple[PhoneNumber, str | None]:
    """The number a legacy Brazilian ``number`` is now, and the repair's name (None: as is)."""
    if number.country_code != 55:
        return number, None
    for repair, name in ((_ninth_digit, NINTH_DIGIT), (_shared_cost_without_ddd, SHARED_COST_DDD)):
        repaired = repair(number)
        if repaired is not None:
            return repaired, name
    return number, None


def _repair(text: str, region: str) -> tuple[str, str | None]:
    """``text`` repaired, and the name of the repair that changed the number (if one did)."""
    repaired_text, _number, name, _error = _repair_parsed(text, region)
    return repaired_text, name


def repair_raw(text: str, region: str) -> str:
    """Rewrite legacy Brazilian spellings and numbers into ones libphonenumber reads right.

    ``"0 17 11 91234-5678"`` -> ``"011912345678"`` (carrier code dropped);
    ``"(0xx11) 3456-7890"`` -> ``"(0 11) 3456-7890"``; ``"00 55 11 91234-5678"`` ->
    ``"+5511912345678"``; ``"(11) 9123-4567"`` -> ``"+5511991234567"`` (the ninth digit);
    ``"(11) 4004-0000"`` -> ``"+5540040000"``. Anything else comes back unchanged (after
    NFKC). ``text`` is usually already NFKC and free of invisible characters.
    """
    return _repair(text, region)[0]


# libphonenumber knows "ext."/"x" but not the Portuguese word for an extension.
_RAMAL_RE = re.compile(r"[\s,;-]*\b(?:ramal|r\.)\s*(\d{1,6})\s*$", re.IGNORECASE)


# The Brazilian spellings nearly every list uses, ASCII only: "(11) 98765-4321",
# "11987654321", "+55 11 98765-4321", "(011) 3456-7890". Groups: "+55", trunk "0", DDD,
# the number's two halves (the first never starting with 0 or 1, so that no repair of
# _repair_spelling applies, e.g. a DDD written before 0800).
_COMMON_SPELLING_RE = re.compile(
    r"(\+55 ?)?\(?(0?)([1-9][0-9])\)?[ .-]?([2-9][0-9]{3,4})[ .-]?([0-9]{4})", re.ASCII
)


def _read_common_spelling(raw: str, region: str) -> PhoneNumber | None:
    """What ``phonenumbers.parse`` gives for ``raw`` (after :func:`_prepare` and
    :func:`_repair_spelling`, which leave these spellings as they are), when ``raw`` is a
    common Brazilian spelling; None for anything else (parse it).

    Without text to read, the number is country code 55 and the DDD plus the 8 or 9 digits:
    no IDD, no carrier code, no extension. Not taken here: "55" first without "+" (DDD 55:
    libphonenumber may read it as the country code), a trunk "0" after "+55", and numbers
    without "+55" when the default region is not BR. Type, validity and format still come
    from libphonenumber's metadata. tests/unit/test_phones.py compares both ways on a corpus.
    """
    match = _COMMON_SPELLING_RE.fullmatch(raw)
    if match is None:
        return None
    plus, trunk, ddd, head, tail = match.groups()
    if ddd not in ddd_states():
        return None
    if plus:
        if trunk:
            return None
    elif region != "BR" or (ddd == "55" and not trunk):
        return None
    return PhoneNumber(country_code=55, national_number=int(ddd + head + tail))


def _prepare(raw: str) -> str:
    text = unicodedata.normalize("NFKC", strip_invisible(raw)).strip()
    return _RAMAL_RE.sub(r" ext. \1", text)


def _parse(
    raw: str, region: str, repair: bool
) -> tuple[PhoneNumber | None, str | None, str | None]:
    """The parsed number, or None and the reason it cannot be one; and the repair applied."""
    repaired = None
    number = _read_common_spelling(raw, region)
    error: NumberParseException | None = None
    if number is not None:
        if repair:
            number, repaired = _repair_number(number)
    else:
        text = _prepare(raw)
        if not text:
            return None, "empty", None
        if repair:
            text, number, repaired, error = _repair_parsed(text, region)
        if number is None and error is None:
            try:
                number = phonenumbers.parse(text, region)
            except NumberParseException as exc:
                error = exc
    if number is None:
        assert error is not None
        return None, _PARSE_REASONS.get(error.error_type, "not_a_number"), None
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible != ValidationResult.IS_POSSIBLE:
        return None, _POSSIBLE_REASONS.get(possible, "invalid_length"), None
    if (
        number.country_code == 55
        and len(phonenumbers.national_significant_number(number)) in (8, 9)
        and not phonenumbers.is_valid_number(number)
    ):
        # "91234-5678": a Brazilian local number without its DDD. Its E.164 would be
        # another, wrong number; which area it belongs to is not known here.
        return None, "missing_area_code", None
    return number, None, repaired


def normalize_phone(raw: str, region: str = "BR", *, repair: bool = False) -> PhoneInfo | None:
    """Parse ``raw`` (any common spelling, ``tel:`` URIs too) into a :class:`PhoneInfo`.

    ``region`` is the country assumed for numbers written without ``+``. Returns None
    when ``raw`` is not a number of a possible length; a number that has a possible length
    but does not exist in the plan comes back with ``is_valid=False`` (the validate stage
    decides what to do with it). With ``repair``, :func:`repair_raw` runs first and
    ``PhoneInfo.repaired`` names the repair that changed the number, if any.
    """
    number, _reason, repaired = _parse(raw, region, repair)
    if number is None:
        return None
    plan_type = phonenumbers.number_type(number)
    number_type = _TYPES.get(plan_type, PhoneType.UNKNOWN)
    number_region = phonenumbers.region_code_for_number(number)
    if number_region in (None, "ZZ", "001"):
        number_region = None
    ddd = state = None
    if number_region == "BR" and number_type in (PhoneType.MOBILE, PhoneType.LANDLINE):
        candidate = phonenumbers.national_significant_number(number)[:2]
        if candidate in ddd_states():
            ddd, state = candidate, ddd_states()[candidate]
    return PhoneInfo(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        # is_valid_number() is exactly "the plan knows its type": not asked twice.
        is_valid=plan_type != PhoneNumberType.UNKNOWN,
        number_type=number_type,
        country_code=int(number.country_code or 0),
        region=number_region,
        ddd=ddd,
        state=state,
        whatsapp_capable=number_region == "BR" and number_type == PhoneType.MOBILE,
        repaired=repaired,
    )


def phone_problem(raw: str, region: str = "BR", *, repair: bool = False) -> str | None:
    """Why ``raw`` is not a valid phone number (a short machine-readable reason), or None.

    Reasons: ``empty``, ``not_a_number``, ``invalid_country_code``, ``too_short``,
    ``too_long``, ``invalid_length``, ``missing_area_code``, ``invalid_number`` (a possible
    length, but not a number in the numbering plan). ``repair`` as in :func:`normalize_phone`.
    """
    number, reason, _repaired = _parse(raw, region, repair)
    if number is None:
        return reason
    return None if phonenumbers.is_valid_number(number) else "invalid_number"


def is_whatsapp_link(value: str) -> bool:
    """Whether ``value`` is a WhatsApp link (``wa.me``, ``*.whatsapp.com``, ``whatsapp://``)."""
    return bool(_WHATSAPP_LINK_RE.match(strip_invisible(value).strip()))


def whatsapp_phone_text(value: str) -> str | None:
    """The phone number in a WhatsApp value, as text to give :func:`normalize_phone`.

    Links (``wa.me/5511...``, ``api.whatsapp.com/send?phone=55...``, ``whatsapp://send?...``)
    hold the number in international form without ``+``; it is returned with one. The
    number may be percent-encoded (``wa.me/+55%2011%2091234-5678``: it is decoded first). A value
    that is not a link is returned unchanged. None for links with no number: group invites
    (``chat.whatsapp.com/<code>`` is a group, not a person) and ``wa.me/message/<code>``.
    """
    text = strip_invisible(value).strip()
    if not is_whatsapp_link(text):
        return text
    if "://" not in text:
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if host in _WHATSAPP_GROUP_HOSTS:
        return None
    if host in ("wa.me", "www.wa.me"):
        # "wa.me/+55%2011%2091234-5678": pages escape the spaces and the plus sign.
        segment = unquote(parts.path).strip("/").split("/", 1)[0]
        if _WA_ME_NUMBER_RE.match(segment):
            return "+" + re.sub(r"\D", "", segment)
    if host in _WHATSAPP_HOSTS or parts.scheme.lower() == "whatsapp":
        for phone in parse_qs(parts.query).get("phone", []):
            digits = re.sub(r"\D", "", unquote(phone))  # "%252B55...": escaped twice
            if digits:
                return "+" + digits
    return None


@dataclass(frozen=True, slots=True)
class PhoneRules:
    """How this deployment reads phone numbers: the region assumed for numbers written
    without ``+`` and whether legacy Brazilian spellings are repaired. One object, owned by
    the normalize step (``NORMALIZE_DEFAULT_REGION``, ``NORMALIZE_PHONE_REPAIR``) and handed
    to everything else that reads numbers (validate, the website visit), so they agree."""

    region: str = "BR"
    repair: bool = True

    @classmethod
    def checked(cls, region: object, repair: bool) -> PhoneRules:
        """Raises ValueError when ``region`` is not a region libphonenumber knows."""
        code = str(region or "").upper()
        if code not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{code!r} is not a known region")
        return cls(region=code, repair=repair)

    def parse(self, raw: str) -> PhoneInfo | None:
        return normalize_phone(raw, self.region, repair=self.repair)

    def problem(self, raw: str) -> str | None:
        return phone_problem(raw, self.region, repair=self.repair)


class PhoneReadings:
    """What parsing each number gave, by E.164, so that a value is parsed once per run.

    The normalize step parses a contact's number and records the result here; the validate
    and enrich steps read the same :class:`PhoneInfo` instead of parsing the E.164 again.
    Bounded (least recently recorded first out); a number not found is parsed as before.
    """

    def __init__(self, max_size: int = 10_000) -> None:
        self.max_size = max_size
        # An OrderedDict: the oldest entry leaves in O(1) (a dict's next(iter()) walks
        # over the holes its deletions left at the front: ~6 us once full).
        self._infos: OrderedDict[str, PhoneInfo] = OrderedDict()

    def record(self, info: PhoneInfo) -> PhoneInfo:
        self._infos[info.e164] = info
        self._infos.move_to_end(info.e164)
        while len(self._infos) > self.max_size:
            self._infos.popitem(last=False)
        return info

    def get(self, e164: str) -> PhoneInfo | None:
        return self._infos.get(e164)
