"""Which same-site pages are worth a visit for contacts (contato, sobre, termos...)."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from leadcrawler.domain.urls import canonical_url, is_platform_domain, registered_domain
from leadcrawler.extraction.contacts.folding import fold
from leadcrawler.extraction.contacts.tree import PageSource, absolute_url, root_and_urls

# Same-site pages worth a visit for contacts, by priority (folded, separators as "-").
_CONTACT_PAGE_GROUPS: tuple[tuple[str, ...], ...] = (
    ("contato", "contatos", "contact", "contact-us", "fale-conosco", "faleconosco",
     "fale-com", "atendimento", "suporte", "support", "sac"),
    ("sobre", "sobre-nos", "sobre-mim", "quem-somos", "quemsomos", "about", "about-us"),
    ("termos", "termos-de-uso", "termos-de-servico", "privacidade", "politica-de-privacidade",
     "terms", "privacy", "privacy-policy", "lgpd"),
)  # fmt: skip
_NOT_A_PAGE_RE = re.compile(
    r"\.(?:pdf|jpe?g|png|gif|webp|svg|zip|mp4|mp3|docx?|xlsx?|css|js)$", re.IGNORECASE
)


# One pattern per group, compiled once: any of its names as whole "-"-separated words.
_CONTACT_PAGE_RES = tuple(
    re.compile(r"(?:^|-)(?:" + "|".join(map(re.escape, names)) + r")(?:-|$)")
    for names in _CONTACT_PAGE_GROUPS
)
_NOT_WORD_RE = re.compile(r"[^a-z0-9]+")


def _page_priority(path: str, text: str) -> int | None:
    words = _NOT_WORD_RE.sub("-", fold(unquote(path))).strip("-")
    label = _NOT_WORD_RE.sub("-", fold(text)).strip("-")
    for priority, pattern in enumerate(_CONTACT_PAGE_RES):
        if pattern.search(words) or pattern.search(label):
            return priority
    return None


def contact_page_links(response_or_html: PageSource, base_url: str | None = None) -> list[str]:
    """Same-site links likely to hold contacts, most useful first, without duplicates.

    A link qualifies when its path or its text names a contact page (contato,
    fale-conosco, suporte, atendimento), an about page (sobre, quem-somos) or a legal page
    (termos, privacidade: where CNPJ and legal name usually are); the result is sorted by
    that order, then by position on the page. "Same site" is the same registered domain
    as ``base_url`` (default: the response's URL); the page itself, other schemes,
    non-HTML files and platform hosts are left out. URLs come back canonical
    (:func:`leadcrawler.domain.urls.canonical_url`).
    """
    root, page_url, base = root_and_urls(response_or_html, base_url)
    site = registered_domain(page_url) or (urlsplit(page_url).hostname or "").lower()
    own = canonical_url(page_url)
    found: dict[str, tuple[int, int]] = {}
    for position, elem in enumerate(root.iter("a", "area")):
        href = elem.get("href")
        if not href:
            continue
        absolute = absolute_url(base, href)
        link = canonical_url(absolute) if absolute else None
        if link is None or link == own or link in found:
            continue
        parts = urlsplit(link)
        host_site = registered_domain(link) or (parts.hostname or "").lower()
        if host_site != site or is_platform_domain(link) or _NOT_A_PAGE_RE.search(parts.path):
            continue
        priority = _page_priority(
            parts.path, " ".join(elem.itertext()) + " " + (elem.get("title") or "")
        )
        if priority is not None:
            found[link] = (priority, position)
    return sorted(found, key=found.__getitem__)
