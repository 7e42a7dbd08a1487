"""Rung 3 of the extraction ladder: the page's visible text, labelled names ("Vendido por",
"Produtor:", "Autor:"), contact links and e-mail addresses next to a support cue."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from functools import cache

from leadcrawler.domain.emails import EMAIL_IN_TEXT_RE
from leadcrawler.domain.items import ContactKind
from leadcrawler.domain.phones import is_whatsapp_link, whatsapp_phone_text
from leadcrawler.extraction.page import HtmlPage
from leadcrawler.extraction.producer import (
    _DASHES,
    WHITESPACE_RE,
    mentions_platform,
    platform_owned,
    plausible_name,
)

logger = logging.getLogger(__name__)

HIDDEN = ("script", "style", "noscript", "template")
STRUCK = ("s", "del", "strike")  # struck-out text: an old price, not the one paid


def visible_text(response: HtmlPage, skip: tuple[str, ...] = ()) -> str:
    """The page's text as a reader sees it: no scripts, styles or templates, spaces collapsed.

    ``skip`` names more elements whose text is left out (e.g. :data:`STRUCK`).
    """
    excluded = " and ".join(f"not(ancestor::{tag})" for tag in (*HIDDEN, *skip))
    parts = response.xpath(f"//body//text()[{excluded}]").getall()
    return WHITESPACE_RE.sub(" ", " ".join(parts)).strip()


# --- Rung 3 helpers: labelled names and contact links in the rendered text -----------------

NOT_READ = ("form", "select", "option", "textarea", "button")  # buyer inputs and controls
# Page chrome: the platform's header, menus, footer, cookie banners and dialogs.
_CHROME = ("footer", "nav", "header", "form", "aside")
_CHROME_ROLES = ("contentinfo", "navigation", "banner", "dialog", "alertdialog")
_CHROME_NAMES = ("footer", "cookie", "navbar", "topbar")  # in class or id, for <div> chrome
# "Vendido por X", "oferecido por X", "em nome de X": the label may sit mid-sentence.
_BY_LABEL_RE = re.compile(
    r"\b(?:(?:vendido|oferecido|criado|produzido|ministrado|apresentado|publicado)\s+por"
    r"|em\s+nome\s+de)\b\s*:?\s*",
    re.IGNORECASE,
)
# "Produtor: X", "Autor - X", or the label alone with the name in the next text node.
_ROLE_LABEL_RE = re.compile(
    r"^(?:produtor|produtora|autor|autora|autores|criador|criadora|vendedor|vendedora"
    r"|instrutor|instrutora|professor|professora|mentor|mentora)(?:\s*\(a\))?"
    rf"(?:\s*[:{_DASHES}]\s*|\s*:?\s*$)",
    re.IGNORECASE,
)
# Where a name in running text ends: punctuation, "(", " - ", the next clause. A full stop
# ends it only after a word of 4+ letters, so "Dra. Ana" and "Marcos V. Teixeira" stay whole.
_NAME_END_RE = re.compile(
    rf"\s*(?:[|\u2022\u00b7;:()\[\]]|\s[{_DASHES}]\s|,\s|(?<=\w{{4}})[.!?](?:\s|$)|\s+e\s+que\b"
    r"|\s+CNPJ\b|\s+CPF\b|\s+-\s*$)"
)
_SUPPORT_CUE_RE = re.compile(
    r"suporte|contato|d[úu]vidas?|atendimento|fale\s+com|escreva|e-?mail\s+d[oa]\s+"
    r"(?:produtor|autor|vendedor|criador)",
    re.IGNORECASE,
)


def text_nodes(response: HtmlPage, skip: tuple[str, ...] = NOT_READ) -> list[str]:
    """The page's visible text nodes in order, spaces collapsed, empty ones left out."""
    excluded = " and ".join(f"not(ancestor::{tag})" for tag in (*HIDDEN, *skip))
    texts = response.xpath(f"//body//text()[{excluded}]").getall()
    return [node for node in (WHITESPACE_RE.sub(" ", t).strip() for t in texts) if node]


@cache
def _content_only() -> str:
    """An XPath predicate: the node is outside the page's chrome."""
    tags = " or ".join(f"ancestor::{tag}" for tag in _CHROME)
    roles = " or ".join(f"@role='{role}'" for role in _CHROME_ROLES)
    names = " or ".join(
        f"contains(translate(@{attr}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'),"
        f" '{name}')"
        for attr in ("class", "id")
        for name in _CHROME_NAMES
    )
    return f"not({tags} or ancestor-or-self::*[{roles} or {names}])"


def labelled_name(nodes: Iterable[str]) -> str | None:
    """The name after a seller label in text nodes ("Vendido por X", "Autor: X")."""
    items = list(nodes)
    for index, node in enumerate(items):
        rests = [node[m.end() :] for m in _BY_LABEL_RE.finditer(node)]
        role = _ROLE_LABEL_RE.match(node)
        if role:
            rests.append(node[role.end() :])
        for rest in rests:
            if not rest.strip() and index + 1 < len(items):
                rest = items[index + 1]
            name = _name_in(rest)
            if name:
                return name
    return None


def _name_in(text: str) -> str | None:
    name = _NAME_END_RE.split(text.strip(), maxsplit=1)[0].strip().rstrip(".!?,:;")
    letters = [char for char in name if char.isalpha()]
    if not letters or not (letters[0].isupper() or name[0].isdigit()):
        return None  # running text ("do curso", "quem comprou"), not a name
    return plausible_name(name)


def link_contacts(response: HtmlPage) -> Iterator[tuple[ContactKind, str, str]]:
    """``(kind, value, method)`` for ``mailto:`` and WhatsApp links in the page's content.

    Links in the header, menus, footer, forms and dialogs are the platform's; so is any
    link whose text names a platform ("Suporte Hubla") or whose address is a platform's.
    """
    for link in response.xpath(f"//body//a[@href][{_content_only()}]"):
        href = (link.attrib.get("href") or "").strip()
        around = " ".join(link.xpath("..//text()").getall())
        if href.lower().startswith("mailto:"):
            address = href[7:].split("?", 1)[0]
            if EMAIL_IN_TEXT_RE.fullmatch(address) and not platform_owned(address):
                yield ContactKind.EMAIL, href, "mailto"
        elif is_whatsapp_link(href) and whatsapp_phone_text(href) and not mentions_platform(around):
            yield ContactKind.WHATSAPP, href, "whatsapp_link"


def text_emails(response: HtmlPage) -> Iterator[str]:
    """E-mail addresses written in the page's content next to a support/contact cue."""
    excluded = " and ".join(f"not(ancestor::{tag})" for tag in HIDDEN)
    nodes = [
        WHITESPACE_RE.sub(" ", t).strip()
        for t in response.xpath(f"//body//text()[{excluded} and {_content_only()}]").getall()
    ]
    nodes = [node for node in nodes if node]
    for index, node in enumerate(nodes):
        for match in EMAIL_IN_TEXT_RE.finditer(node):
            address = match.group().rstrip(".")
            # The cue is in the same sentence, or just before an address standing alone
            # ("<span>Suporte:</span> <a>x@y</a>").
            alone = not node.replace(match.group(), "").strip(" .,:;-")
            around = nodes[index - 1] if alone and index else node
            if _SUPPORT_CUE_RE.search(around) and not platform_owned(address):
                yield address
