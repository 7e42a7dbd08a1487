"""Social networks and link hubs: one definition for every reader and rule.

Which hosts belong to which network (and their canonical host), which links are profiles
(:func:`social_profile`: ``instagram.com/ana`` yes, a post, a reel or a share link no),
link hubs, the sites whose domain is shared by everyone with a page there, and how a bare
handle found in page state becomes a profile URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from leadcrawler.domain.platforms import load_platforms
from leadcrawler.domain.text import strip_invisible


@dataclass(frozen=True, slots=True)
class SocialProfile:
    """A link that is a profile (a person's or a business's page) on a social network."""

    network: str  # instagram, youtube, tiktok, facebook, linkedin, telegram, x, linktree
    handle: str  # "ana.doces", "@ana", "channel/UC...", "in/ana", "company/loja"
    url: str  # https, host without www/m., path of the profile only
    link_hub: bool = False  # a page of further links (Linktree)


# A producer whose "website" is an Instagram profile or a link hub has no domain of their own.
SHARED_SITE_DOMAINS = frozenset(
    {
        "instagram.com", "facebook.com", "fb.com", "youtube.com", "youtu.be", "tiktok.com",
        "linkedin.com", "twitter.com", "x.com", "threads.net", "pinterest.com", "t.me",
        "telegram.me", "wa.me", "whatsapp.com", "linktr.ee", "beacons.ai", "bio.link",
        "google.com", "bit.ly",
    }
)  # fmt: skip

LINK_HUB_DOMAINS = frozenset({"linktr.ee", "beacons.ai", "bio.link"})

# A network's name as page state writes it ({"instagram": "ana"}) -> how a bare handle there
# becomes a profile URL ("" when a handle alone is not enough: LinkedIn needs /in/ or
# /company/, so only URLs are taken).
HANDLE_URLS = {
    "instagram": "https://www.instagram.com/{}/",
    "tiktok": "https://www.tiktok.com/@{}",
    "youtube": "https://www.youtube.com/@{}",
    "facebook": "https://www.facebook.com/{}",
    "twitter": "https://x.com/{}",
    "x": "https://x.com/{}",
    "telegram": "https://t.me/{}",
    "linkedin": "",
}


@cache
def _platform_handles() -> frozenset[str]:
    suffixes = ("", "br", "oficial", "official", "brasil", "app")
    return frozenset(key + suffix for key in load_platforms() for suffix in suffixes)


_INSTAGRAM_RESERVED = frozenset(
    {
        "p", "reel", "reels", "tv", "explore", "stories", "accounts", "direct", "about", "legal",
        "developer", "web", "s", "share", "tags", "locations", "challenge", "oauth", "emails",
        "session", "api", "static", "privacy", "terms", "help", "press", "ar",
    }
)  # fmt: skip
_YOUTUBE_KINDS = frozenset({"channel", "c", "user"})
_TIKTOK_HANDLE_RE = re.compile(r"^@[\w.]{2,24}$")
_FACEBOOK_RESERVED = frozenset(
    {
        "sharer.php", "sharer", "share", "share.php", "dialog", "plugins", "login", "login.php",
        "watch", "story.php", "permalink.php", "photo.php", "photo", "photos", "hashtag",
        "events", "groups", "gaming", "marketplace", "help", "policies", "privacy", "ads",
        "business", "l.php", "tr", "search", "home.php", "video.php", "reel", "reels",
        "stories", "media", "notes", "watchparty", "fundraisers", "messages", "recover",
    }
)  # fmt: skip
_TELEGRAM_RESERVED = frozenset(
    {"share", "joinchat", "addstickers", "addemoji", "addlist", "proxy", "socks", "s", "c",
     "iv", "login", "setlanguage", "boost", "contact"}
)  # fmt: skip
_X_RESERVED = frozenset(
    {
        "intent", "share", "home", "search", "hashtag", "i", "explore", "messages",
        "notifications", "settings", "login", "signup", "tos", "privacy", "compose", "widgets",
    }
)  # fmt: skip
# Linktree's own pages (sign-up, legal, help, marketing, reports): never a user's hub.
_LINKTREE_RESERVED = frozenset(
    {
        "s", "register", "signup", "sign-up", "join", "login", "log-in", "logout", "auth",
        "admin", "account", "dashboard", "settings", "privacy", "terms", "legal", "cookies",
        "cookie-notice", "security", "trust-center", "report", "help", "support", "contact",
        "about", "careers", "press", "blog", "marketplace", "discover", "explore", "features",
        "pricing", "plans", "templates", "examples", "creators", "enterprise", "partners",
        "developers", "api", "app", "download", "products", "solutions", "resources",
        "community", "learn", "guides", "status", "accessibility", "link-in-bio",
    }
)  # fmt: skip
NETWORK_HOSTS = {
    "instagram.com": "instagram",
    "instagr.am": "instagram",
    "youtube.com": "youtube",
    "tiktok.com": "tiktok",
    "facebook.com": "facebook",
    "fb.com": "facebook",
    "fb.me": "facebook",
    "linkedin.com": "linkedin",
    "t.me": "telegram",
    "telegram.me": "telegram",
    "x.com": "x",
    "twitter.com": "x",
    "linktr.ee": "linktree",
}
CANONICAL_HOSTS = {
    "instagr.am": "instagram.com",
    "fb.com": "facebook.com",
    "fb.me": "facebook.com",
    "telegram.me": "t.me",
    "twitter.com": "x.com",
}
_HOST_PREFIXES = ("www.", "m.", "mobile.", "web.", "pt-br.", "pt.", "br.", "business.")


def network_host(host: str) -> str:
    host = host.lower().rstrip(".")
    if host in NETWORK_HOSTS:
        return host
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and host[len(prefix) :] in NETWORK_HOSTS:
            return host[len(prefix) :]
    return host


def network_name(url: str) -> str | None:
    """The name of the network ``url`` is on (``instagram``, ``x``, ``telegram``...).

    Aliases and mobile hosts name their network (``twitter.com`` and ``m.facebook.com``
    too); a host no network here knows is named by itself, without ``www.`` (a Pinterest
    or Threads link still counts as a presence somewhere); None for a value without a host.
    """
    try:
        host = urlsplit(strip_invisible(url).strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = network_host(host)
    return NETWORK_HOSTS.get(host) or host.removeprefix("www.")


def _profile_path(network: str, segments: list[str], query: dict[str, list[str]]) -> str | None:
    """The profile's path (its handle), or None when the link is not a profile."""
    first = segments[0] if segments else ""
    lowered = first.lower()
    if network == "instagram":
        ok = len(segments) == 1 and lowered not in _INSTAGRAM_RESERVED
        return first if ok and re.fullmatch(r"[\w.]{1,30}", first, re.ASCII) else None
    if network == "youtube":
        if first.startswith("@") and len(first) > 1:
            return first  # /@handle, /@handle/videos: the channel
        if lowered in _YOUTUBE_KINDS and len(segments) >= 2:
            return f"{lowered}/{segments[1]}"
        return None
    if network == "tiktok":
        return first if len(segments) == 1 and _TIKTOK_HANDLE_RE.match(first) else None
    if network == "facebook":
        if lowered == "profile.php":
            ids = query.get("id", [])
            return f"profile.php?id={ids[0]}" if ids and ids[0].isdigit() else None
        if lowered in ("pages", "people", "pg") and len(segments) >= 2:
            return "/".join(segments[:3] if lowered != "pg" else segments[1:2])
        ok = len(segments) == 1 and lowered not in _FACEBOOK_RESERVED
        return first if ok and re.fullmatch(r"[\w.-]{2,80}", first) else None
    if network == "linkedin":
        if lowered in ("in", "company", "school") and len(segments) >= 2:
            return f"{lowered}/{segments[1]}"
        return None
    if network == "telegram":
        ok = len(segments) == 1 and lowered not in _TELEGRAM_RESERVED
        return first if ok and re.fullmatch(r"[A-Za-z]\w{3,31}", first) else None
    if network == "x":
        ok = len(segments) == 1 and lowered not in _X_RESERVED
        return first if ok and re.fullmatch(r"\w{1,15}", first, re.ASCII) else None
    if network == "linktree":
        ok = len(segments) == 1 and lowered not in _LINKTREE_RESERVED
        return first if ok and re.fullmatch(r"[\w.-]{1,60}", first) else None
    return None


def social_profile(url: str) -> SocialProfile | None:
    """The social profile ``url`` points to, or None (not a network, or a post/share link).

    ``instagram.com/ana`` yes, ``instagram.com/p/...``, ``/reel/``, ``/explore/`` no;
    ``youtube.com/@ana``, ``/channel/UC...``, ``/c/ana``, ``/user/ana`` yes, ``/watch`` and
    ``youtu.be`` no; ``tiktok.com/@ana`` yes, its videos no; ``facebook.com/<page>`` and
    ``profile.php?id=`` yes, ``sharer.php`` and posts no; ``linkedin.com/in|company/<x>``;
    ``t.me/<handle>`` (not ``joinchat`` or ``+invite``); ``x.com``/``twitter.com/<handle>``
    (not ``intent``/``share``/``status``); ``linktr.ee/<handle>`` (a link hub; not
    Linktree's own ``/register``, ``/privacy``, ``/s/...``, ``/login``, ``/pricing``...).
    """
    try:
        parts = urlsplit(strip_invisible(url).strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = network_host(parts.hostname)
    network = NETWORK_HOSTS.get(host)
    if network is None:
        return None
    segments = [unquote(s) for s in parts.path.split("/") if s]
    path = _profile_path(network, segments, parse_qs(parts.query))
    if path is None:
        return None
    handle_key = re.sub(r"[^a-z0-9]", "", path.rsplit("/", 1)[-1].lower())
    if handle_key in _platform_handles():
        return None  # the platform's own profile, not the producer's
    canonical_host = CANONICAL_HOSTS.get(host, host)
    path_part, _, query = path.partition("?")
    profile_url = urlunsplit(("https", canonical_host, "/" + path_part, query, ""))
    return SocialProfile(
        network=network, handle=path, url=profile_url, link_hub=network == "linktree"
    )


# The registered domains of the networks (and their link hub, Linktree): a link there is
# a profile candidate, never a producer's own site.
NETWORK_DOMAINS = frozenset(NETWORK_HOSTS)
