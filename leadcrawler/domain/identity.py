"""Identity resolution rules: which keys say two sightings are the same producer.

Strong keys link on their own: normalised e-mail, E.164 phone (a WhatsApp number shares
it), CNPJ, platform seller/store id, canonical checkout URL, social handle.

Weak keys need supporting evidence: the registered domain of the producer's own website
(``Lead.domain``: never a free-mail, platform, social or link-hub domain) links two leads
only when their names also agree (fuzzy, :func:`names_agree`). A web agency hosting
several producers under one domain therefore never merges them, and a name alone never
links anyone.

A checkout found as a link on a site (``Offer.linked``: the producer's own products, or
the ones in a "cursos que eu recomendo" section) is weak too: ``linked:<checkout>``. It
links the site's owner to the checkout's own sighting (``checkout:<checkout>``) and to
other sites linking it only when the names agree (:func:`lookups`); its own page says
whose it is.

The dedupe stage, the persist stage and ``leadcrawler dedupe --rebuild`` all use these
functions, so a rebuild after a rule change gives what a fresh crawl would.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from urllib.parse import urlsplit

from rapidfuzz import fuzz

from leadcrawler.domain.emails import email_key, is_free_provider
from leadcrawler.domain.items import ContactKind, ContactStatus, Lead
from leadcrawler.domain.social import CANONICAL_HOSTS, NETWORK_HOSTS

CHECKOUT_PREFIX = "checkout:"
LINKED_PREFIX = "linked:"
UID_PREFIX = "uid:"  # the lead a stored sighting was written to (``sighting_keys`` only)
WEAK_PREFIXES = ("domain:", LINKED_PREFIX)
CONTACT_PREFIXES = ("email:", "phone:", "social:", "cnpj:")
SITE_SOURCES = frozenset({"site"})  # sightings of a producer's own website, not a platform page
DEFAULT_NAME_SIMILARITY = 85  # 0-100, rapidfuzz token-set ratio that counts as "same name"

# network (named by :mod:`leadcrawler.domain.social`) -> how many leading path segments make
# the handle
SOCIAL_HANDLE_SEGMENTS = {
    "instagram": 1,
    "tiktok": 1,
    "youtube": 2,  # /@handle, /channel/<id>, /c/<name>
    "x": 1,
    "telegram": 1,
    "linktree": 1,
    "facebook": 1,
    "linkedin": 2,  # /in/<handle>, /company/<handle>
}
# Hosts of a network whose links have never made an identity key. Keying them (and the
# hosts behind prefixes other than www. and m., which social.network_host also reads) would
# give stored leads keys they do not have, and suppression hashes that were never computed:
# that takes a re-key of the base (``leadcrawler dedupe --rebuild``), not a code change.
UNKEYED_NETWORK_HOSTS = frozenset({"instagr.am", "fb.com", "fb.me", "telegram.me"})
NOT_HANDLES = frozenset(
    {
        "p", "reel", "reels", "explore", "stories", "share", "sharer.php", "watch",
        "intent", "hashtag", "search", "home", "tv", "s", "joinchat", "+",
    }
)  # fmt: skip


def is_weak(key: str) -> bool:
    return key.startswith(WEAK_PREFIXES)


def lookups(key: str) -> list[tuple[str, bool]]:
    """The stored keys ``key`` may link to, each with whether that link is weak.

    A checkout and a site's link to the same checkout are the same URL under two
    prefixes: they meet, weakly, in both directions.
    """
    if key.startswith(CHECKOUT_PREFIX):
        return [(key, False), (LINKED_PREFIX + key.removeprefix(CHECKOUT_PREFIX), True)]
    if key.startswith(LINKED_PREFIX):
        return [(key, True), (CHECKOUT_PREFIX + key.removeprefix(LINKED_PREFIX), True)]
    return [(key, is_weak(key))]


def sighting_keys(
    recorded: Iterable[str], *, source: str, max_checkouts: int, max_contacts: int
) -> list[str]:
    """The keys a stored sighting links with under the current rules (``dedupe --rebuild``).

    ``recorded``: the keys written with the sighting. A checkout on a producer's-site
    sighting is a link found there (``linked:``), never the site owner's own checkout
    (older versions wrote it as ``checkout:``); a sighting linking more than
    ``max_checkouts`` checkouts is a directory of products and links nobody by them; one
    carrying more than ``max_contacts`` contacts (and CNPJs) is a directory of people and
    links nobody by those.
    """
    keys = list(dict.fromkeys(recorded))
    if source in SITE_SOURCES:
        keys = [
            LINKED_PREFIX + key.removeprefix(CHECKOUT_PREFIX)
            if key.startswith(CHECKOUT_PREFIX)
            else key
            for key in keys
        ]
        keys = list(dict.fromkeys(keys))
    if sum(key.startswith(LINKED_PREFIX) for key in keys) > max_checkouts:
        keys = [key for key in keys if not key.startswith(LINKED_PREFIX)]
    if sum(key.startswith(CONTACT_PREFIXES) for key in keys) > max_contacts:
        keys = [key for key in keys if not key.startswith(CONTACT_PREFIXES)]
    return keys


def social_key(url: str) -> str | None:
    """``https://www.instagram.com/Ana.Doces/`` -> ``social:instagram.com/ana.doces``."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    network = NETWORK_HOSTS.get(host) if host not in UNKEYED_NETWORK_HOSTS else None
    if network is None:
        return None
    segments = SOCIAL_HANDLE_SEGMENTS[network]
    path = [s for s in parts.path.split("/") if s]
    if not path or path[0].lower() in NOT_HANDLES:
        return None
    if network == "youtube" and path[0].startswith("@"):
        segments = 1
    if len(path) < segments:
        return None
    handle = "/".join(path[:segments]).lower()
    return f"social:{CANONICAL_HOSTS.get(host, host)}/{handle}"


def identity_keys(
    *,
    cnpj: str | None,
    domain: str | None,
    contacts: Iterable[tuple[str, str | None, str]],
    offers: Iterable[tuple[str, str, str | None]],
    linked: Iterable[str] = (),
) -> list[str]:
    """Keys for a producer, most specific first.

    ``contacts``: ``(kind, normalized value, status)``; ``offers``:
    ``(platform, checkout_url, seller_id)``; ``linked``: checkout URLs a site links to
    (weak keys). Invalid contacts never link anyone.
    """
    return _identity_keys(cnpj, domain, contacts, offers, linked)


def _identity_keys(
    cnpj: str | None,
    domain: str | None,
    contacts: Iterable[tuple[str, str | None, str]],
    offers: Iterable[tuple[str, str, str | None]],
    linked: Iterable[str],
) -> list[str]:
    keys: list[str] = []
    if cnpj:
        keys.append(f"cnpj:{cnpj}")
    for kind, value, status in contacts:
        if status != ContactStatus.VALID or not value:
            continue
        if kind == ContactKind.EMAIL:
            keys.append(f"email:{email_key(value)}")
        elif kind in (ContactKind.PHONE, ContactKind.WHATSAPP):
            keys.append(f"phone:{value}")
        elif kind == ContactKind.SOCIAL:
            handle = social_key(value)
            if handle:
                keys.append(handle)
    for platform, checkout_url, seller_id in offers:
        if seller_id:
            keys.append(f"seller:{platform}:{seller_id}")
        keys.append(f"{CHECKOUT_PREFIX}{checkout_url}")
    for checkout_url in linked:
        keys.append(f"{LINKED_PREFIX}{checkout_url}")
    if domain and not is_free_provider(domain):
        keys.append(f"domain:{domain}")
    return list(dict.fromkeys(keys))


def keys_for_lead(lead: Lead) -> list[str]:
    offers = lead.offers
    return _identity_keys(
        lead.cnpj,
        lead.domain,
        [(c.kind, c.normalized, c.status) for c in lead.contacts],
        [(o.platform, o.checkout_url, o.seller_id) for o in offers if not o.linked]
        if offers
        else (),
        [o.checkout_url for o in offers if o.linked] if offers else (),
    )


def _fold(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(ch if ch.isalnum() else " " for ch in bare)


def names_agree(a: str | None, b: str | None, threshold: int = DEFAULT_NAME_SIMILARITY) -> bool:
    """True when two producer names are close enough to support a weak key."""
    if not a or not b:
        return False
    fa, fb = _fold(a), _fold(b)
    if fuzz.token_sort_ratio(fa, fb) >= threshold:
        return True
    # One name contained in the other ("Ana D'Ávila" / "Ana D'Ávila Confeitaria") counts
    # only with two shared words: a lone first name is no evidence.
    shared = {t for t in fa.split() if len(t) > 1} & {t for t in fb.split() if len(t) > 1}
    return len(shared) >= 2 and fuzz.token_set_ratio(fa, fb) >= threshold
