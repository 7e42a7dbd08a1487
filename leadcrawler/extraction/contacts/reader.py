"""The page reader: :func:`extract_page` walks one page and collects its contacts."""

from __future__ import annotations

from datetime import datetime

from leadcrawler.domain.items import Certainty, ContactPoint, utcnow
from leadcrawler.domain.phones import PhoneRules
from leadcrawler.extraction.contacts.blocks import text_blocks
from leadcrawler.extraction.contacts.collector import Collector, PageContacts
from leadcrawler.extraction.contacts.credits import credit_texts, find_credits
from leadcrawler.extraction.contacts.folding import clean
from leadcrawler.extraction.contacts.jsonld import json_ld_nodes, ld_is_owner
from leadcrawler.extraction.contacts.patterns import decode_cfemail
from leadcrawler.extraction.contacts.tree import (
    HIDDEN_TAGS,
    NOT_SCRIPT_TYPES,
    PageSource,
    absolute_url,
    root_and_urls,
    script_links,
)


def extract_page(
    source: PageSource,
    url: str | None = None,
    *,
    region: str = "BR",
    found_at: datetime | None = None,
    phones: PhoneRules | None = None,
) -> PageContacts:
    """The contact evidence on one page.

    ``source`` is an :class:`HtmlPage` such as Scrapy's ``TextResponse`` (``url`` defaults
    to its URL) or the page's HTML text (then ``url`` is required). ``phones`` say how
    numbers are read (default: ``region``, the country assumed for numbers written
    without ``+``, with repairs on); ``found_at`` (default: now, UTC) is stamped on every
    contact.
    Contacts are unique per kind and value (a ``mailto:`` link and the same address in
    the text are one contact, the link's), in the order first seen: links first, then
    JSON-LD, then text.
    """
    root, page_url, base_url = root_and_urls(source, url)
    page = PageContacts(url=page_url)
    rules = phones or PhoneRules(region=region, repair=True)
    collector = Collector(page_url, rules, found_at or utcnow(), page)
    # What the agency credits hold, read as if it were the producer's, to know it again.
    credited = Collector(page_url, rules, collector.found_at, PageContacts(url=page_url))
    credits = find_credits(root)
    for elem in root.iter():
        if not isinstance(elem.tag, str) or elem.tag in HIDDEN_TAGS:
            continue
        if credits.covers(elem):
            if elem.get("href") or elem.get("data-cfemail"):
                collector.reject("credit")
                href = elem.get("href") if elem.tag in ("a", "area") else None
                link = absolute_url(base_url, href) if href else None
                if link:
                    credited.link(link)
                decoded = decode_cfemail(elem.get("data-cfemail") or "")
                if decoded:
                    credited.email(decoded, "cfemail", Certainty.CERTAIN)
            continue
        encoded = elem.get("data-cfemail")
        if encoded:
            decoded = decode_cfemail(encoded)
            if decoded:
                collector.email(decoded, "cfemail", Certainty.CERTAIN)
        href = elem.get("href") if elem.tag in ("a", "area") else None
        if href and href.strip().lower().startswith("javascript:"):
            for link in script_links(href):
                collector.link(link, "script")
        elif href and href.strip():
            link = absolute_url(base_url, href)
            if link is None:
                collector.reject("link/bad_url")
            else:
                collector.link(link)
        handler = elem.get("onclick")
        if handler:
            for link in script_links(handler):
                collector.link(link, "script")
    for script in root.iter("script"):
        kind = (script.get("type") or "").split(";", 1)[0].strip().lower()
        if script.get("src") or kind in NOT_SCRIPT_TYPES or credits.covers(script):
            continue
        for link in script_links(script.text or "", navigation_only=True):
            collector.link(link, "script")
    for text in credit_texts(root, credits):
        credited.text_phones(credited.text_emails(clean(text)), "")
    collector.credited = frozenset(credited.index)
    for node in json_ld_nodes(root, credits):
        if node is None:
            collector.reject("jsonld/bad_json")
        elif ld_is_owner(node):
            collector.json_ld(node)
    previous = ""
    handles: list[tuple[str, str, str]] = []
    for block, after_br, quoted in text_blocks(root, credits):
        cleaned = clean(block)
        rest = collector.text_emails(cleaned)
        collector.text_cnpjs(rest, previous if after_br else "")
        collector.text_phones(rest, previous)
        if quoted:
            collector.reject_handles(rest, "handle/quoted")
        else:
            handles += collector.text_handles(rest)
        previous = cleaned
    collector.add_handles(handles)
    return page


def extract_contacts(
    source: PageSource, url: str | None = None, *, region: str = "BR"
) -> list[ContactPoint]:
    """The :class:`ContactPoint` values of :func:`extract_page`, alone."""
    return extract_page(source, url, region=region).contacts
