"""The registry of selling platforms, loaded from ``leadcrawler/domain/data/platforms.toml``.

One place says which hosts belong to which platform and what a product page URL looks
like there; spiders, discovery and the normalize stage all ask this module.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# Page-state formats the generic ladder tries, in this order, unless a platform says otherwise.
STATE_FORMATS = ("next_data", "next_flight", "nuxt_data", "window_nuxt")
# A seller id when the platform gives no shape: letters, digits, "_" and "-".
DEFAULT_SELLER_ID = r"[A-Za-z0-9][A-Za-z0-9_-]{2,63}"
MONEY_CONVENTIONS = ("reais", "cents")


@dataclass(frozen=True, slots=True)
class Platform:
    key: str
    name: str
    hosts: tuple[str, ...]
    product_paths: tuple[re.Pattern[str], ...]
    dorks: tuple[str, ...]
    private_hosts: tuple[str, ...]
    checkout: str | None = None  # template with {id}
    # How the platform's page state writes money as a whole number: "cents" (9700 is
    # R$ 97,00, the Stripe/Pagar.me/Iugu convention) or "reais" (97 is R$ 97,00).
    money_in_state: str = "reais"
    states: tuple[str, ...] = STATE_FORMATS  # page-state formats to try, in order
    seller_id: re.Pattern[str] = re.compile(DEFAULT_SELLER_ID)  # shape of a seller id
    domains: tuple[str, ...] = ()  # other domains it owns: help centres, mailboxes, marketing
    # A small reader of the platform's own (extraction's PAGE_READERS) in place of the
    # generic structured-data and text rungs, for pages the generic ladder misreads.
    reader: str | None = None

    def checkout_url(self, url: str) -> str:
        """The canonical checkout URL of a product page: short links map to their checkout."""
        product_id = self.product_id(url)
        if self.checkout and product_id:
            return self.checkout.format(id=product_id)
        return canonical_platform_url(url)

    def product_id(self, url: str) -> str | None:
        """The platform's id for a product/checkout page URL, or None if it is not one."""
        parts = urlsplit(url)
        if (parts.hostname or "").lower() not in self.hosts:
            return None
        for pattern in self.product_paths:
            match = pattern.match(parts.path)
            if match:
                return match.group("id")
        return None


class PlatformFileError(ValueError):
    """A platforms file is missing, not TOML, or describes a platform wrongly."""


_extra_files: list[Path] = []


def register_platform_files(paths: Iterable[str | Path]) -> None:
    """Add platforms files read after the bundled one (``PLATFORMS_EXTRA_FILES``).

    Called once at start-up, before any page is read: a table here with the key of a
    bundled platform replaces it. Raises :class:`PlatformFileError` on a bad file.
    """
    added = [Path(p) for p in paths if str(p).strip() and Path(p) not in _extra_files]
    if not added:
        return
    for path in added:
        _parse_file(path.read_text("utf-8") if path.is_file() else None, str(path))
    _extra_files.extend(added)
    load_platforms.cache_clear()


@cache
def load_platforms() -> dict[str, Platform]:
    bundled = (
        resources.files("leadcrawler.domain.data").joinpath("platforms.toml").read_text("utf-8")
    )
    platforms = _parse_file(bundled, "platforms.toml")
    for path in _extra_files:
        platforms.update(_parse_file(path.read_text("utf-8"), str(path)))
    return platforms


def _parse_file(text: str | None, where: str) -> dict[str, Platform]:
    if text is None:
        raise PlatformFileError(f"platforms file {where} does not exist")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlatformFileError(f"platforms file {where} is not valid TOML: {exc}") from None
    return {key: _platform(key, spec, where) for key, spec in raw.items()}


def _platform(key: str, spec: Any, where: str) -> Platform:
    def fail(problem: str) -> PlatformFileError:
        return PlatformFileError(f"{where}: platform {key!r}: {problem}")

    if not isinstance(spec, dict):
        raise fail("must be a table")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
        raise fail("the key must be lower-case letters, digits and _ (it names the spider)")
    for required in ("name", "hosts", "product_paths"):
        if not spec.get(required):
            raise fail(f"{required} is required")
    money = spec.get("money_in_state", "reais")
    if money not in MONEY_CONVENTIONS:
        raise fail(f"money_in_state must be one of {', '.join(MONEY_CONVENTIONS)}")
    states = tuple(spec.get("states", STATE_FORMATS))
    unknown = [state for state in states if state not in STATE_FORMATS]
    if unknown:
        raise fail(f"unknown states {unknown}; known: {', '.join(STATE_FORMATS)}")
    try:
        paths = tuple(re.compile(p) for p in spec["product_paths"])
        seller_id = re.compile(spec.get("seller_id", DEFAULT_SELLER_ID))
    except re.error as exc:
        raise fail(f"bad regular expression: {exc}") from None
    if any("id" not in pattern.groupindex for pattern in paths):
        raise fail('every product_paths pattern needs a named group "id"')
    reader = spec.get("reader")
    if reader is not None and not (isinstance(reader, str) and re.fullmatch(r"[a-z_]+", reader)):
        raise fail("reader must name a page reader (lower-case letters and _)")
    return Platform(
        key=key,
        name=spec["name"],
        hosts=tuple(h.lower() for h in spec["hosts"]),
        product_paths=paths,
        dorks=tuple(spec.get("dorks", ())),
        private_hosts=tuple(h.lower() for h in spec.get("private_hosts", ())),
        checkout=spec.get("checkout"),
        money_in_state=money,
        states=states,
        seller_id=seller_id,
        domains=tuple(d.lower() for d in spec.get("domains", ())),
        reader=reader,
    )


def platform_for_url(url: str) -> Platform | None:
    """The platform whose host serves ``url`` (public or private host), if any."""
    host = (urlsplit(url).hostname or "").lower()
    for platform in load_platforms().values():
        if host in platform.hosts or host in platform.private_hosts:
            return platform
    return None


def canonical_platform_url(url: str) -> str:
    """https, lower-case host, no query string or fragment, no trailing slash.

    Platform query strings only carry tracking/affiliate ids and buyer prefill data.
    """
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(("https", host, path, "", ""))
