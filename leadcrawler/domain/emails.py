"""E-mail addresses: normalise what a page wrote, check it offline, flag free and role boxes.

:func:`normalize_email` strips what pages wrap around an address (``mailto:``, its query,
angle brackets, trailing punctuation, invisible characters) and asks ``email-validator``
(no DNS) for the normalised form: domain lower-cased and in Unicode (IDNA decoded), local
part NFC with its case kept (mailbox names may be case-sensitive). :func:`email_key` is
the fully lower-cased form used as identity (``Foo@GMAIL.com`` and ``foo@gmail.com`` are
one person). :func:`check_email` is the validate stage's verdict, with a short reason.

Checks beyond syntax, each with its reason: special-use and documentation domains
(``localhost``, ``.test``, ``example.com``...), IP literals, quoted local parts, asset file
names that look like addresses (``logo@2x.png``: the "TLD" is a file extension),
homoglyphs (Cyrillic/Greek letters mixed with Latin, or a Cyrillic label that spells Latin
under a Latin TLD), and domains with no known public suffix.

Data: ``leadcrawler/domain/data/free_mail_domains.txt`` and
``leadcrawler/domain/data/role_localparts.txt``.
Reads no settings.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from urllib.parse import unquote

from email_validator import EmailNotValidError, ValidatedEmail, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES, DOT_ATOM_TEXT
from email_validator.syntax import validate_email_length

from leadcrawler.domain.text import strip_invisible
from leadcrawler.domain.urls import registered_domain

# E-mail addresses in text (one pattern for every reader: site pages, page state, links).
# Unicode letters are allowed (user@exämple.com.br is a valid address); check_email judges
# what was found.
EMAIL_LOCAL_PART = r"[\w.+-]{1,64}"
EMAIL_TLD = r"[^\W\d_]{2,24}"
EMAIL_IN_TEXT_RE = re.compile(
    rf"(?<![\w.+-])({EMAIL_LOCAL_PART}@(?:[\w-]{{1,63}}\.)+{EMAIL_TLD})(?![\w-]|\.[^\W\d_])"
)

MAX_EMAIL_LENGTH = 254  # characters; RFC 5321 path limit less the angle brackets

# Special-use names (RFC 6761, RFC 6762, RFC 7686, RFC 8375, ICANN's .internal), matched
# against the last label; no mail is delivered there.
SPECIAL_USE_TLDS = frozenset({"localhost", "local", "test", "invalid", "example", "onion", "arpa"})
SPECIAL_USE_TLDS |= {"internal", "localdomain", "lan", "home"}
# Documentation domains (RFC 2606): the placeholder in many site templates.
DOCUMENTATION_DOMAINS = frozenset({"example.com", "example.net", "example.org"})
_DOCUMENTATION_SUFFIXES = tuple(f".{domain}" for domain in sorted(DOCUMENTATION_DOMAINS))
# File extensions that show up after an "@" in asset names (retina images "logo@2x.png",
# CDN paths "lib@1.2.0.min.js"). None of them is a top-level domain (".map" is one: left out).
FILE_EXTENSIONS = frozenset(
    {
        "png", "jpg", "jpeg", "gif", "webp", "svg", "avif", "bmp", "ico", "tif", "tiff", "heic",
        "js", "mjs", "css", "json", "pdf", "mp4", "webm", "woff", "woff2", "ttf",
    }
)  # fmt: skip

# Cyrillic letters drawn like Latin ones: a label made only of them (xn--80ak6aa92e, shown
# as "apple") reads as Latin but is another domain.
_CYRILLIC_LOOKALIKES = frozenset("аеорсухіјѕԁԛԝӏһԍАВЕКМНОРСТХЅІЈ")
_CONFUSABLE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK"})


@dataclass(frozen=True, slots=True)
class EmailCheck:
    """The verdict on one address. Flags are set whenever the syntax is valid."""

    ok: bool
    normalized: str | None
    reason: str | None = None  # machine-readable, when not ok: "syntax", "too_long"...
    free_provider: bool = False
    role_address: bool = False


def _load_lines(name: str) -> frozenset[str]:
    text = resources.files("leadcrawler.domain.data").joinpath(name).read_text("utf-8")
    lines = (line.strip().lower() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


@cache
def free_mail_domains() -> frozenset[str]:
    return _load_lines("free_mail_domains.txt")


@cache
def role_localparts() -> frozenset[str]:
    return _load_lines("role_localparts.txt")


def is_free_provider(domain: str) -> bool:
    """Whether ``domain`` (the part after the @) is a free/consumer mailbox provider."""
    return domain.strip().rstrip(".").lower() in free_mail_domains()


def is_role_address(local_part: str) -> bool:
    """Whether ``local_part`` names a function (contato, suporte, noreply...), not a person."""
    return local_part.strip().lower().split("+", 1)[0] in role_localparts()


def _prepare(raw: str) -> str:
    text = strip_invisible(raw).strip()
    if text[:7].lower() == "mailto:":
        # A mailto URL: percent-encoded, may carry ?subject=...&body=...
        text = strip_invisible(unquote(text[7:].split("?", 1)[0])).strip()
    # Sentence punctuation and the angle brackets of "Name <a@b.com>" are never part of it.
    text = text.rstrip(".,;:")
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip().rstrip(".,;:")
    return text


@lru_cache(maxsize=4096)  # normalize, validate and identity read the same address
def _validate(text: str) -> ValidatedEmail:
    # Most addresses are a plain ASCII local part at a domain shared by many addresses
    # (a list of 100,000 people has a few thousand domains): email-validator judges each
    # domain once, and a plain local part needs no more than its own syntax check. The
    # result is the one validate_email() would return (tests/unit/test_emails.py).
    local, _, domain = text.rpartition("@")
    if (
        len(local) <= 64
        and DOT_ATOM_TEXT.match(local)
        and local.lower() not in CASE_INSENSITIVE_MAILBOX_NAMES
    ):
        # copy.copy() without its generic protocol (__reduce_ex__, a failed __setstate__
        # lookup through ValidatedEmail.__getattr__): same class, same attributes.
        at_domain = ValidatedEmail.__new__(ValidatedEmail)
        at_domain.__dict__.update(_validate_domain(domain).__dict__)
        at_domain.original = text
        at_domain.local_part = at_domain.ascii_local_part = local
        at_domain.smtputf8 = False
        at_domain.normalized = f"{local}@{at_domain.domain}"
        at_domain.ascii_email = f"{local}@{at_domain.ascii_domain}"
        validate_email_length(at_domain)
        return at_domain
    return _validate_slowly(text)


@lru_cache(maxsize=4096)
def _validate_domain(domain: str) -> ValidatedEmail:
    """What email-validator says of any plain address at ``domain`` (raises if invalid)."""
    return _validate_slowly(f"x@{domain}")


def _validate_slowly(text: str) -> ValidatedEmail:
    return validate_email(
        text,
        check_deliverability=False,  # offline; MX checks belong to network enrichment
        allow_quoted_local=False,
        allow_domain_literal=False,
        allow_display_name=False,
        globally_deliverable=True,
        strict=True,  # enforce the 64-character limit of the local part too
    )


@lru_cache(maxsize=4096)  # a pure function the chain asks up to four times per address
def normalize_email(raw: str) -> str | None:
    """The normalised form of the address in ``raw``, or None if it is not a valid address.

    ``" mailto:Foo@GMAIL.com?subject=oi "`` -> ``"Foo@gmail.com"``. Only syntax is judged
    here; :func:`check_email` also rejects syntactically valid junk (``logo@2x.png``).
    """
    text = _prepare(raw)
    if not text or len(text) > MAX_EMAIL_LENGTH:
        return None
    try:
        return _validate(text).normalized
    except EmailNotValidError:
        return None


def email_key(addr: str) -> str:
    """The identity form of an address: normalised, then fully lower-cased."""
    return (normalize_email(addr) or _prepare(addr)).lower()


def _precheck(text: str) -> str | None:
    if not text:
        return "empty"
    if len(text) > MAX_EMAIL_LENGTH:
        return "too_long"
    if "@" not in text:
        return "syntax"
    local, domain = text.rsplit("@", 1)
    if local.startswith('"'):
        return "quoted_local"
    if domain.startswith("["):
        return "ip_literal"
    domain = domain.rstrip(".").lower()
    last_label = domain.rsplit(".", 1)[-1]
    if (
        last_label in SPECIAL_USE_TLDS
        or domain in DOCUMENTATION_DOMAINS
        or domain.endswith(_DOCUMENTATION_SUFFIXES)
    ):
        return "special_use_domain"
    if last_label in FILE_EXTENSIONS:
        return "file_name"
    return None


def _reason_from_error(message: str) -> str:
    # email-validator only has one exception class for syntax; its messages are stable
    # enough to recover the few reasons the pre-checks cannot see.
    lowered = message.lower()
    if "too long" in lowered:
        return "too_long"
    if "special-use" in lowered:
        return "special_use_domain"
    return "syntax"


def _scripts(text: str) -> set[str]:
    scripts = set()
    for char in text:
        if char.isalpha():
            scripts.add(unicodedata.name(char, "UNKNOWN").split(" ", 1)[0])
    return scripts


def _is_homoglyph(local: str, domain: str) -> bool:
    if local.isascii() and domain.isascii():
        return False  # one script, and no Cyrillic letter to pass for a Latin one
    labels = domain.split(".")
    for part in (local, *labels):
        if len(_scripts(part) & _CONFUSABLE_SCRIPTS) > 1:
            return True
    if labels[-1].isascii():
        for label in labels[:-1]:
            letters = [char for char in label if char.isalpha()]
            if letters and all(char in _CYRILLIC_LOOKALIKES for char in letters):
                return True
    return False


@lru_cache(maxsize=4096)  # normalize and validate judge the same address
def check_email(addr: str) -> EmailCheck:
    """Whether ``addr`` is an address worth keeping, and what kind.

    Reasons when not ok: ``empty``, ``syntax``, ``too_long``, ``quoted_local``,
    ``ip_literal``, ``special_use_domain``, ``file_name``, ``homoglyph``, ``unknown_tld``.
    """
    text = _prepare(addr)
    reason = _precheck(text)
    if reason is not None:
        return EmailCheck(ok=False, normalized=None, reason=reason)
    try:
        validated = _validate(text)
    except EmailNotValidError as exc:
        return EmailCheck(ok=False, normalized=None, reason=_reason_from_error(str(exc)))
    if _is_homoglyph(validated.local_part, validated.domain):
        reason = "homoglyph"
    elif registered_domain(validated.ascii_domain) is None:
        reason = "unknown_tld"
    return EmailCheck(
        ok=reason is None,
        normalized=validated.normalized,
        reason=reason,
        free_provider=is_free_provider(validated.ascii_domain),
        role_address=is_role_address(validated.local_part),
    )
