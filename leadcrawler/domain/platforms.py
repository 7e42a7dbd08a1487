"""The registry of selling platforms, loaded from ``leadcrawler/domain/data/platforms.toml``.

One place says which hosts belong to which platform and what a product page URL looks
like there; spiders, discovery and the normalize stage all ask this module.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from urllib.parse import urlsplit, urlunsplit


@dataclass(frozen=True, slots=True)
class Platform:
    key: str
    name: str
    hosts: tuple[str, ...]
    product_paths: tuple[re.Pattern[str], ...]
    dorks: tuple[str, ...]
    private_hosts: tuple[str, ...]
    checkout: str | None = None  # template with {id}
    domains: tuple[str, ...] = ()  # other domains it owns: help centres, mailboxes, marketing

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


@cache
def load_platforms() -> dict[str, Platform]:
    raw = tomllib.loads(
        resources.files("leadcrawler.domain.data").joinpath("platforms.toml").read_text("utf-8")
    )
    return {
        key: Platform(
            key=key,
            name=spec["name"],
            hosts=tuple(h.lower() for h in spec["hosts"]),
            product_paths=tuple(re.compile(p) for p in spec["product_paths"]),
            dorks=tuple(spec.get("dorks", ())),
            private_hosts=tuple(h.lower() for h in spec.get("private_hosts", ())),
            checkout=spec.get("checkout"),
            domains=tuple(d.lower() for d in spec.get("domains", ())),
        )
        for key, spec in raw.items()
    }


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
