"""The page as a browser shows it: its lxml tree, base URL, blocks, and script buttons.

:func:`browser_tree` reads markup after ``</html>`` as the end of ``<body>``;
:func:`script_links` finds the WhatsApp and ``mailto:`` targets of script buttons.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree
from parsel import Selector
from w3lib.html import get_base_url

from leadcrawler.extraction.contacts.folding import clean, fold
from leadcrawler.extraction.page import HtmlPage

PageSource = HtmlPage | str

# Elements whose text nobody sees.
HIDDEN_TAGS = frozenset(
    {
        "head", "script", "style", "template", "svg", "math", "iframe", "object", "canvas",
        "textarea", "select", "audio", "video",
    }
)  # fmt: skip
# Elements that start a new line of text: a label and a number in different blocks are
# not "labelled", and text in two blocks never joins into one address or number.
BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "br", "dd", "details", "dialog",
        "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
        "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "li", "main", "nav", "ol",
        "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
        "ul", "button", "option", "caption",
    }
)  # fmt: skip

# --- links a browser follows outside href: script buttons, markup after </html> ---------

_SCRIPT_TARGET = (
    r"(?:https?:)?//(?:wa\.me|(?:api|web)\.whatsapp\.com)/[^'\"`\s<>]*|mailto:[^'\"`\s<>]+"
)
# Any WhatsApp or mailto literal in an onclick handler or a javascript: href.
_HANDLER_LINK_RE = re.compile(rf"(['\"`])({_SCRIPT_TARGET})\1", re.IGNORECASE)
# In an inline <script>: only a literal that the script opens or navigates to.
_SCRIPT_NAV_RE = re.compile(
    r"(?:window\.open|location\.(?:assign|replace))\s*\(\s*(['\"`])"
    rf"({_SCRIPT_TARGET})\1"
    r"|location(?:\.href)?\s*=\s*(['\"`])"
    rf"({_SCRIPT_TARGET})\3",
    re.IGNORECASE,
)
NOT_SCRIPT_TYPES = ("application/ld+json", "application/json", "text/template", "text/x-template")


def script_links(code: str, *, navigation_only: bool = False) -> list[str]:
    """WhatsApp and ``mailto:`` URLs a script button opens.

    ``onclick="window.open('https://wa.me/55...')"``, ``location.href='mailto:...'``,
    ``href="javascript:..."``: in a handler every such literal is the button's target; in
    an inline ``<script>`` (``navigation_only``) only one passed to ``window.open``,
    ``location.assign/replace`` or assigned to ``location``/``location.href`` is.
    """
    links: list[str] = []
    if navigation_only:
        for match in _SCRIPT_NAV_RE.finditer(code):
            links.append(match.group(2) or match.group(4))
    else:
        links = [match.group(2) for match in _HANDLER_LINK_RE.finditer(code)]
    return [("https:" + link) if link.startswith("//") else link for link in links]


def browser_tree(root: Any) -> Any:
    """``root`` with the markup after ``</html>`` moved to the end of ``<body>``.

    Browsers render what follows ``</html>`` as part of the body (floating WhatsApp
    buttons injected by plugins often land there); lxml keeps it in a second top-level
    element that a walk from the root never sees. Idempotent; returns ``root``.
    """
    strays = [node for node in root.itersiblings() if isinstance(node.tag, str) and len(node)]
    if not strays:
        return root
    body = root.find("body")
    if body is None:
        body = etree.SubElement(root, "body")
    for stray in strays:
        if stray.text and stray.text.strip():
            etree.SubElement(body, "span").text = stray.text
            stray.text = None
        for child in list(stray):
            body.append(child)
    return root


def root_and_urls(source: PageSource, url: str | None) -> tuple[Any, str, str]:
    """The lxml root element, the page URL and the base URL for relative links."""
    if not isinstance(source, str):
        if url is None:
            # As Scrapy's get_base_url: a <base href> is looked for in the first 4 KiB.
            root = browser_tree(source.selector.root)
            return root, source.url, get_base_url(source.text[:4096], source.url)
        return browser_tree(source.selector.root), url, get_base_url(source.text, url)
    if url is None:
        raise ValueError("the page URL is required with HTML text")
    html = source.replace("\x00", "")
    root = browser_tree(Selector(text=html or "<html></html>").root)
    return root, url, get_base_url(html, url)


def absolute_url(base_url: str, href: str) -> str | None:
    """``href`` resolved against the page, or None when it is not a URL at all."""
    try:
        url = urljoin(base_url, clean(href).strip())
        urlsplit(url).port  # noqa: B018  (raises on a bad port or unbalanced brackets)
    except ValueError:
        return None
    return url


def class_words(elem: Any) -> str:
    """An element's class and id, folded, without hyphens ("rodape", "credit", "depoimento")."""
    return _class_words(elem.get("class"), elem.get("id"))


@lru_cache(maxsize=4096)
def _class_words(classes: str | None, ident: str | None) -> str:
    # Cached: a page, and a site's pages, repeat the same few class attributes hundreds of
    # times, and the credit, footer and quotation tests ask for them once per element.
    return fold(f"{classes or ''} {ident or ''}").replace("-", "")


def is_block(elem: Any) -> bool:
    return isinstance(elem.tag, str) and elem.tag in BLOCK_TAGS
