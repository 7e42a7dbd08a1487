"""URL canonicalisation and registered domains, the same for every stage.

:func:`canonical_url` gives one spelling per page so that the same website or checkout
found twice compares equal, and it is the privacy filter for URLs: checkout links carry
buyers' data in prefill parameters (``email=``, ``cpf=``...) and those must never be
stored (LGPD art. 6 III). Tracking parameters go too.

:func:`registered_domain` uses tldextract's bundled Public Suffix List snapshot only: no
download and no cache written to disk, so it behaves the same offline, in CI and in
production. The PSL's private section is included, so shops on shared hosting
(``loja.myshopify.com``, ``x.blogspot.com``) keep a domain of their own instead of all
sharing the host's.

Reads no settings.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cache, lru_cache
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import idna
import tldextract

from leadcrawler.domain.platforms import canonical_platform_url, load_platforms, platform_for_url
from leadcrawler.domain.social import SHARED_SITE_DOMAINS
from leadcrawler.domain.text import strip_invisible

ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}

# Query parameters dropped from every URL (compared lower-cased). Tracking ids, and the
# checkout prefill fields that may carry a buyer's personal data.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gbraid", "wbraid", "dclid", "msclkid", "yclid", "ttclid",
        "twclid", "li_fat_id", "mc_cid", "mc_eid", "igshid", "igsh", "srsltid", "_ga",
        "_gl", "_hsenc", "_hsmi", "mkt_tok", "ref", "src", "sck", "afid", "coupon",
    }
)  # fmt: skip
PERSONAL_PARAMS = frozenset(
    {
        "email", "e-mail", "e_mail", "mail", "name", "nome", "first_name", "last_name",
        "fullname", "full_name", "phone", "telefone", "tel", "celular", "whatsapp", "cpf",
        "cnpj", "document", "documento", "doc", "rg", "cep", "zipcode",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_",)
# Prefill fields under names nobody listed (``customer_email``, ``buyer[phone]``): a name
# containing one of these, or a value shaped like an e-mail, is dropped as well.
_PERSONAL_NAME_PARTS = ("email", "mail", "cpf", "cnpj", "phone", "fone", "celular", "whats")
_EMAIL_LIKE_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

# A bare host (with optional port and path) written without a scheme: "www.loja.com.br/x".
_SCHEMELESS_RE = re.compile(r"^(?:[\w-]+\.)+[^\W\d_]{2,}(?::\d{1,5})?(?:[/?#]|$)")
_ASCII_HOST_RE = re.compile(r"^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$")
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


def _drop_param(name: str, value: str) -> bool:
    key = name.strip().lower()
    if key in TRACKING_PARAMS or key in PERSONAL_PARAMS or key.startswith(TRACKING_PREFIXES):
        return True
    if any(part in key for part in _PERSONAL_NAME_PARTS):
        return True
    return bool(_EMAIL_LIKE_RE.search(value))


@lru_cache(maxsize=8192)
def canonical_host(host: str) -> str | None:
    """Lower-case ASCII (IDNA) form of a host name, or None if it is not a usable host.

    IP addresses come back as written (IPv6 without brackets); a trailing dot is dropped.
    Cached: a page names the same few hosts in all its links.
    """
    host = strip_invisible(host).strip().rstrip(".").lower()
    if not host:
        return None
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError:
            return None
    if not _ASCII_HOST_RE.match(host) or len(host) > 253:
        return None
    return host


_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_C0_CONTROL_OR_SPACE = frozenset(map(chr, range(0x21)))  # what urlsplit strips or drops


def _not_web(text: str) -> bool:
    """True when ``urlsplit(text)`` certainly finds no http(s) scheme (so
    :func:`canonical_url` is None): no colon, or a scheme other than http(s) before the
    first one, or no scheme at all as urlsplit reads it. False when unsure."""
    colon = text.find(":")
    if colon < 0:
        return True
    head = text[:colon]
    if _SCHEME_RE.fullmatch(head):
        return head.lower() not in ALLOWED_SCHEMES
    # Not a scheme, unless urlsplit would strip or drop characters of it first.
    return _C0_CONTROL_OR_SPACE.isdisjoint(head)


def canonical_url(url: str | None, *, assume_scheme: str | None = None) -> str | None:
    """One canonical spelling of an http(s) URL, or None for anything else.

    Lower-case scheme and host, IDNA host, no default port, no user info (credentials and
    the ``https://pay.kiwify.com.br@evil.example/`` trick), no fragment, no tracking or
    personal-prefill query parameters, the remaining parameters sorted. URLs of a known
    selling platform lose their whole query (:func:`canonical_platform_url`).

    ``assume_scheme`` (``"http"`` or ``"https"``) is used for a value written without one
    that starts with a host name, like ``www.loja.com.br``; other scheme-less values
    (``//x``, ``/path``, ``mailto:...``) are still refused.
    """
    if url is None:
        return None
    text = strip_invisible(url).strip()
    if not text:
        return None
    if assume_scheme and "://" not in text and _SCHEMELESS_RE.match(text):
        text = f"{assume_scheme}://{text}"
    if _not_web(text):
        return None  # e.g. an import's provenance, ``import:list.csv#12``: nothing to parse
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:  # bad port, unbalanced IPv6 brackets
        return None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES or parts.hostname is None:
        return None
    host = canonical_host(parts.hostname)
    if host is None:
        return None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    # Whitespace inside a URL is an artefact of the page's HTML (WHATWG drops tabs and
    # newlines); other unsafe characters are percent-encoded, existing escapes kept.
    path = quote(re.sub(r"[\t\n\r]", "", parts.path), safe=_PATH_SAFE) or "/"
    params = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _drop_param(name, value)
    ]
    query = urlencode(sorted(params), quote_via=quote)
    canonical = urlunsplit((scheme, netloc, path, query, ""))
    if platform_for_url(canonical) is not None:
        return canonical_platform_url(canonical)
    return canonical


@cache
def _extractor() -> tldextract.TLDExtract:
    # Built on first use, not at import: reading the snapshot costs a few milliseconds.
    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )


@lru_cache(maxsize=8192)  # the same hosts come back in every batch of leads
def registered_domain(url_or_host: str | None) -> str | None:
    """The registrable domain (public suffix + one label) of a URL or host name.

    ``https://www.loja.com.br/x`` -> ``loja.com.br``. ASCII (IDNA) form. None for IP
    addresses, ``localhost`` and hosts with no known public suffix.
    """
    if not url_or_host:
        return None
    text = strip_invisible(url_or_host).strip()
    if "://" in text:
        try:
            hostname = urlsplit(text).hostname
        except ValueError:
            return None
    else:
        hostname = text.split("/", 1)[0].rsplit(":", 1)[0] if "[" not in text else None
    host = canonical_host(hostname) if hostname else None
    return None if host is None else _registered_host(host)


@lru_cache(maxsize=8192)
def _registered_host(host: str) -> str | None:
    """:func:`registered_domain` of a canonical host (cached: the public suffix lookup and
    the IP address test cost more than everything else a link needs)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return None
    result = _extractor()(host)
    if not result.suffix or not result.domain:
        return None
    return result.top_domain_under_public_suffix


_URL_IN_TEXT_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s,]+")


def without_secrets(url: str) -> str:
    """``url`` with no user name, password, query string or fragment.

    Checkout links carry a buyer's prefilled e-mail, name, phone or CPF in the query, and a
    URL may carry credentials: neither belongs in a record of what was crawled.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparsable URL>"
    if ":" in host:
        host = f"[{host}]"
    return urlunsplit((parts.scheme, host + port, parts.path, "", ""))


def redact_arguments(arguments: dict[str, object]) -> dict[str, object]:
    """Spider arguments as stored in ``runs.arguments``: every URL in them canonicalised."""
    return {
        name: _URL_IN_TEXT_RE.sub(lambda m: without_secrets(m.group(0)), value)
        if isinstance(value, str)
        else value
        for name, value in arguments.items()
    }


@cache
def platform_domains() -> frozenset[str]:
    """Registered domains the selling platforms own (``platforms.toml``: their hosts, private
    hosts and other ``domains``): an address or site there is the platform's, never a
    producer's."""
    hosts = [h for p in load_platforms().values() for h in (*p.hosts, *p.private_hosts, *p.domains)]
    return frozenset(d for d in map(registered_domain, hosts) if d)


def is_platform_domain(host_or_url: str) -> bool:
    """Whether a host, URL or e-mail domain belongs to a selling platform."""
    domain = registered_domain(host_or_url.rsplit("@", 1)[-1])
    return domain is not None and domain in platform_domains()


def own_domain(website: str | None) -> str | None:
    """The registered domain of ``website`` when it can be the producer's own site: not a
    selling platform's, not a social network's or link hub's."""
    if not website or platform_for_url(website) is not None:
        return None
    domain = registered_domain(website)
    if domain in SHARED_SITE_DOMAINS or domain in platform_domains():
        return None
    return domain
