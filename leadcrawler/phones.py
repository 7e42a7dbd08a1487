"""Phone numbers: parse whatever a page wrote into E.164 plus offline facts about it.

:func:`normalize_phone` parses with libphonenumber (``phonenumbers``), after NFKC (so
full-width digits U+FF10..U+FF19 read as digits) and removal of invisible characters. For a
Brazilian number it adds the area code (DDD) and its state (UF) from
``leadcrawler/data/ddd.toml``. :func:`phone_problem` says, as a short machine-readable
reason, why a value is not a valid number. :func:`whatsapp_phone_text` reads the number
out of a WhatsApp link (``wa.me/55...``, ``api.whatsapp.com/send?phone=55...``).

Repairing legacy spellings (8-digit mobiles written before the extra 9, carrier codes) is
deliberately not done here yet: :func:`repair_raw` is the single place where it goes.

Reads no settings; the default region comes from the caller (``NORMALIZE_DEFAULT_REGION``).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from urllib.parse import parse_qs, urlsplit

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberType, ValidationResult

from leadcrawler.text import strip_invisible


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


@cache
def ddd_states() -> dict[str, str]:
    """Brazilian area code (DDD, two digits) -> state (UF), from ``data/ddd.toml``."""
    raw = tomllib.loads(resources.files("leadcrawler.data").joinpath("ddd.toml").read_text("utf-8"))
    table: dict[str, str] = {}
    for state, codes in raw["states"].items():
        for code in codes:
            ddd = f"{int(code):02d}"
            if ddd in table:
                raise ValueError(f"ddd.toml: DDD {ddd} listed under {table[ddd]} and {state}")
            table[ddd] = state
    return table


def repair_raw(text: str, region: str) -> str:
    """Extension point: rewrite legacy spellings before parsing. Currently the identity.

    The planned repairs (a separate issue) go here and nowhere else: Brazilian mobiles
    written with 8 digits before the extra 9 was added ("(11) 9123-4567"), and carrier
    selection codes that libphonenumber does not strip itself. ``text`` is already NFKC
    and free of invisible characters; return the text to parse.
    """
    return text


# libphonenumber knows "ext."/"x" but not the Portuguese word for an extension.
_RAMAL_RE = re.compile(r"[\s,;-]*\b(?:ramal|r\.)\s*(\d{1,6})\s*$", re.IGNORECASE)


def _prepare(raw: str) -> str:
    text = unicodedata.normalize("NFKC", strip_invisible(raw)).strip()
    return _RAMAL_RE.sub(r" ext. \1", text)


def _parse(raw: str, region: str) -> tuple[PhoneNumber | None, str | None]:
    """The parsed number, or None and the reason it cannot be one."""
    text = _prepare(raw)
    if not text:
        return None, "empty"
    text = repair_raw(text, region)
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        return None, _PARSE_REASONS.get(exc.error_type, "not_a_number")
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible != ValidationResult.IS_POSSIBLE:
        return None, _POSSIBLE_REASONS.get(possible, "invalid_length")
    if (
        number.country_code == 55
        and len(phonenumbers.national_significant_number(number)) in (8, 9)
        and not phonenumbers.is_valid_number(number)
    ):
        # "91234-5678": a Brazilian local number without its DDD. Its E.164 would be
        # another, wrong number; which area it belongs to is not known here.
        return None, "missing_area_code"
    return number, None


def normalize_phone(raw: str, region: str = "BR") -> PhoneInfo | None:
    """Parse ``raw`` (any common spelling, ``tel:`` URIs too) into a :class:`PhoneInfo`.

    ``region`` is the country assumed for numbers written without ``+``. Returns None
    when ``raw`` is not a number of a possible length; a number that has a possible length
    but does not exist in the plan comes back with ``is_valid=False`` (the validate stage
    decides what to do with it).
    """
    number, _reason = _parse(raw, region)
    if number is None:
        return None
    number_type = _TYPES.get(phonenumbers.number_type(number), PhoneType.UNKNOWN)
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
        is_valid=phonenumbers.is_valid_number(number),
        number_type=number_type,
        country_code=int(number.country_code or 0),
        region=number_region,
        ddd=ddd,
        state=state,
        whatsapp_capable=number_region == "BR" and number_type == PhoneType.MOBILE,
    )


def phone_problem(raw: str, region: str = "BR") -> str | None:
    """Why ``raw`` is not a valid phone number (a short machine-readable reason), or None.

    Reasons: ``empty``, ``not_a_number``, ``invalid_country_code``, ``too_short``,
    ``too_long``, ``invalid_length``, ``missing_area_code``, ``invalid_number`` (a possible
    length, but not a number in the numbering plan).
    """
    number, reason = _parse(raw, region)
    if number is None:
        return reason
    return None if phonenumbers.is_valid_number(number) else "invalid_number"


def is_whatsapp_link(value: str) -> bool:
    """Whether ``value`` is a WhatsApp link (``wa.me``, ``*.whatsapp.com``, ``whatsapp://``)."""
    return bool(_WHATSAPP_LINK_RE.match(strip_invisible(value).strip()))


def whatsapp_phone_text(value: str) -> str | None:
    """The phone number in a WhatsApp value, as text to give :func:`normalize_phone`.

    Links (``wa.me/5511...``, ``api.whatsapp.com/send?phone=55...``, ``whatsapp://send?...``)
    hold the number in international form without ``+``; it is returned with one. A value
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
        segment = parts.path.strip("/").split("/", 1)[0]
        if _WA_ME_NUMBER_RE.match(segment):
            return "+" + re.sub(r"\D", "", segment)
    if host in _WHATSAPP_HOSTS or parts.scheme.lower() == "whatsapp":
        for phone in parse_qs(parts.query).get("phone", []):
            digits = re.sub(r"\D", "", phone)
            if digits:
                return "+" + digits
    return None
