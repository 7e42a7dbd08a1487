"""Contact evidence on one page of a producer's own site: pure functions, no network.

:func:`extract_page` reads one HTML page (a Scrapy ``TextResponse`` or any
:class:`~leadcrawler.extraction.page.HtmlPage`, or the page URL and its
HTML text) and returns a :class:`PageContacts`: the :class:`~leadcrawler.domain.items.ContactPoint`
values found there, the CNPJs whose check digits are right, legal-name candidates written
next to them, and links to selling platforms. :func:`contact_page_links` says which
same-site links are worth visiting next (contato, fale-conosco, sobre, termos...).

What counts, and how sure it is (``ContactPoint.method`` / ``certainty``):

- e-mail: ``mailto:`` links (``mailto``, certain); Cloudflare's ``data-cfemail`` and
  ``/cdn-cgi/l/email-protection#`` encodings (``cfemail``, certain); addresses in the
  visible text (``text``, uncertain) and obfuscated ones such as
  ``contato [arroba] loja.com.br`` or ``contato(at)loja(dot)com`` (``obfuscated``,
  uncertain; the spelling found is kept in ``details["as_written"]``). HTML entities are
  decoded by the parser, so they read as text. An address
  :func:`leadcrawler.domain.emails.check_email` rejects (``logo@2x.png``, ``a@[127.0.0.1]``,
  ``x@example.com``, homoglyphs...) is not a contact and is left out.
- phone: ``tel:`` links (``tel``, certain) and Brazilian spellings in the visible text
  (``text``: uncertain, certain in a labelled block such as ``Telefone:``, ``WhatsApp:``,
  ``Contato:``, whose label goes in ``details["label"]``). Loose text numbers must be valid
  once repaired (:func:`leadcrawler.domain.phones.normalize_phone` with ``repair=True``) and be
  written with a separator, so that order numbers and CPFs are not read as phones.
- WhatsApp: ``wa.me/<digits>`` (percent-encoded too), ``api.whatsapp.com/send?phone=``,
  ``web.whatsapp.com/send?phone=`` (``wa.me``, certain). Group invites
  (``chat.whatsapp.com/<code>``) are nobody's number and are left out.
- JSON-LD (``<script type="application/ld+json">``, lists and ``@graph`` flattened): the
  ``email``, ``telephone`` (validated like text numbers; a WhatsApp link is one),
  ``sameAs`` profiles and ``contactPoint`` entries of a top-level ``Organization``,
  ``LocalBusiness`` or ``Person`` (and their subtypes) are taken (``jsonld``, certain)
  under the same rules as links. Nested nodes (a Product's ``brand``, a WebSite's
  ``creator``), a node whose ``url`` is another site or a platform, and values the page
  credits to its web agency are not.
- social: profile links (``link``, certain) of Instagram, YouTube, TikTok, Facebook,
  LinkedIn, Telegram, X/Twitter and Linktree (``details["link_hub"]``: a page of more
  links), with ``details["network"]`` and ``details["handle"]``. Posts, reels, videos,
  share buttons and intents are not profiles (:func:`social_profile`).

Never taken: anything of the selling platforms themselves (every domain in
``platforms.toml`` plus kiwify.com.br, hotmart.com, hub.la and their subdomains, and their
own social handles), and whatever sits in a web agency's credit ("Desenvolvido por",
"Site por", "by <agency>"...). What was left out is counted in ``PageContacts.rejected``
by reason (no values: they may be personal data).

A legal name is taken next to a CNPJ in the same line, or alone on the line above it in
the same paragraph (``Ana Doces Ltda<br>CNPJ: ...``).

Reads no settings; the caller gives the phone rules (``PhoneRules``: the region of numbers
written without ``+`` and whether legacy Brazilian spellings are repaired), the normalize
step's, so a site's numbers are read the way the chain reads them.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import phonenumbers
from lxml import etree
from parsel import Selector
from w3lib.html import get_base_url

from leadcrawler.domain.cnpj import is_valid_cnpj, normalize_cnpj
from leadcrawler.domain.emails import (
    EMAIL_IN_TEXT_RE,
    EMAIL_LOCAL_PART,
    EMAIL_TLD,
    check_email,
    email_key,
)
from leadcrawler.domain.items import Certainty, ContactKind, ContactPoint, utcnow
from leadcrawler.domain.phones import PhoneRules, is_whatsapp_link, whatsapp_phone_text
from leadcrawler.domain.platforms import canonical_platform_url, platform_for_url
from leadcrawler.domain.social import NETWORK_HOSTS, network_host, social_profile
from leadcrawler.domain.text import clean_text, strip_invisible
from leadcrawler.domain.urls import (
    canonical_url,
    is_platform_domain,
    registered_domain,
)
from leadcrawler.extraction.page import HtmlPage

PageSource = HtmlPage | str

# Elements whose text nobody sees.
_HIDDEN_TAGS = frozenset(
    {
        "head", "script", "style", "template", "svg", "math", "iframe", "object", "canvas",
        "textarea", "select", "audio", "video",
    }
)  # fmt: skip
# Elements that start a new line of text: a label and a number in different blocks are
# not "labelled", and text in two blocks never joins into one address or number.
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "br", "dd", "details", "dialog",
        "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
        "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "li", "main", "nav", "ol",
        "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
        "ul", "button", "option", "caption",
    }
)  # fmt: skip
_FOOTER_HINTS = ("footer", "rodape", "copyright", "bottom")
_CREDIT_HINTS = ("credit", "creditos", "developer", "desenvolvedor", "agencia", "madeby", "devby")
# On folded text (lower case, no accents): a credit verb with "por"/"by" close after it.
# Strong phrases are web credits wherever they are (in a short line); weak ones ("criado
# por", "made by") also describe courses and methods, so they count only in a footer.
_CREDIT_GAP = r"\b[^.|\n]{0,25}?\b(?:por|by|pela|pelo)\b"
_CREDIT_STRONG_RE = re.compile(
    r"\b(?:desenvolvid[oa]s?|programad[oa]s?|hospedad[oa]s?|developed|powered|designed)"
    + _CREDIT_GAP
    + r"|\b(?:site|website|layout|tema|theme|template|design|webdesign|desenvolvimento)"
    r"\s+(?:por|by|pela|pelo)\b"
    r"|^\W*by\b"  # English "by" opening a line of a Portuguese page: an agency's credit
)
_CREDIT_WEAK_RE = re.compile(
    r"\b(?:criad[oa]s?|feit[oa]s?|produzid[oa]s?|projetad[oa]s?|mantid[oa]s?|created|made"
    r"|built|tecnologia)" + _CREDIT_GAP + r"|^\W*por\W*$"
)
_CREDIT_SCOPE_MAX = 100  # characters: a credit outside a footer is a short line

_OBF_AT = r"(?:\s*[\[({<]\s*(?:arroba|at|@)\s*[\])}>]\s*|\s+arroba\s+|\s+@\s*|\s*@\s+)"
_OBF_DOT = r"(?:\s*[\[({<]\s*(?:ponto|dot|\.)\s*[\])}>]\s*|\s+(?:ponto|dot)\s+|\.)"
_OBF_BARE_DOT = re.compile(r"\s+(?:ponto|dot)\s+", re.IGNORECASE)
_OBF_RE = re.compile(
    rf"(?<![\w.+-])({EMAIL_LOCAL_PART}){_OBF_AT}([\w-]{{1,63}}(?:{_OBF_DOT}[\w-]{{1,63}})*{_OBF_DOT}{EMAIL_TLD})"
    r"(?![\w-]|\.[^\W\d_])",
    re.IGNORECASE,
)
_OBF_DOT_RE = re.compile(_OBF_DOT, re.IGNORECASE)
_CF_PATH = "/cdn-cgi/l/email-protection"

# Phone labels (folded text). A number right after one, or in a block that starts with
# one, or in the block after a block that is only a label, is "labelled".
_LABELS = (
    r"telefones?|tel|fones?|celular|cel|whatsapp|whats|wpp|zap|contatos?|atendimento|sac"
    r"|ligue(?: para)?|fale conosco|suporte|comercial|phone|call"
)
_LABEL_BEFORE_RE = re.compile(rf"\b({_LABELS})\b\W{{0,6}}(?:\w{{1,4}}\W{{1,3}})?$")
_LABEL_START_RE = re.compile(rf"^\W*({_LABELS})\b")
_LABEL_ONLY_RE = re.compile(rf"^\W*({_LABELS})(?:\W+(?:{_LABELS}|e|ou))*\W*$")
# Digit groups that are not phones: CNPJ, CPF, dates, CEP; blanked before the phone search.
_NOT_PHONE_RE = re.compile(
    r"\d{2}\.?\d{3}\.?\d{3}\s?/\s?\d{4}-?\d{2}"  # CNPJ
    r"|\d{3}\.\d{3}\.\d{3}-\d{2}"  # CPF
    r"|\d{1,2}/\d{1,2}/\d{2,4}"  # date
    r"|\b(?:cep|cpf|cnpj)\W{0,3}[\d.\-/]+",  # labelled numbers
    re.IGNORECASE,
)
_URL_IN_TEXT_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_PHONE_SEPARATOR_RE = re.compile(r"[\s().+-]")

# CNPJ as printed ("12.345.678/0001-95"; the alphanumeric CNPJ from 2026 too), or 14
# digits right after the word CNPJ.
_CNPJ_RE = re.compile(
    r"(?<![\w./-])([0-9A-Z]{2}\.[0-9A-Z]{3}\.[0-9A-Z]{3}\s?/\s?[0-9A-Z]{4}-\d{2}"
    r"|\d{2}\.?\d{3}\.?\d{3}/\d{4}-?\d{2})(?![\w/-])"
    r"|\bCNPJ\W{0,5}(?:n[ºo°.]*\s*)?(\d{14})\b",
    re.IGNORECASE,
)
# A legal name: after "Razão social:", or the capitalised words before a company suffix.
_RAZAO_SOCIAL_RE = re.compile(
    r"(?:raz[aã]o social|nome empresarial)\s*[:\-\u2013]\s*([^|•·;,\n]{3,120}?)"
    r"(?=\s*(?:[|•·;,\n]|\s[-\u2013]\s|\bCNPJ|\binscrit|$))",
    re.IGNORECASE,
)
_COMPANY_SUFFIX_RE = re.compile(
    r"(?<![\w/])(?:LTDA|Ltda|EIRELI|Eireli|S/A|S\.A\.?|ME|EPP|MEI|SLU)(?![\w/])\.?"
)
_NAME_WORD_RE = re.compile(r"^(?:[A-ZÀ-Ý0-9][\w'\u2019&.-]*|de|da|do|das|dos|e|&|-)$")
_NAME_CONNECTORS = frozenset({"de", "da", "do", "das", "dos", "e", "&", "-"})
_NAME_MAX_WORDS = 12

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


@dataclass(frozen=True, slots=True)
class PlatformLink:
    """A link to a selling platform found on the page."""

    platform: str  # platforms.toml key, "kiwify"
    url: str  # canonical platform URL (no query: affiliate ids and buyers' prefill data)
    product_id: str | None  # the platform's id when the link is a product/checkout page


@dataclass(slots=True)
class PageContacts:
    """Everything :func:`extract_page` found on one page."""

    url: str
    contacts: list[ContactPoint] = field(default_factory=list)
    cnpjs: list[str] = field(default_factory=list)  # 14 characters, check digits verified
    legal_names: list[str] = field(default_factory=list)  # candidates next to a CNPJ
    platform_links: list[PlatformLink] = field(default_factory=list)
    rejected: dict[str, int] = field(default_factory=dict)  # "email/file_name" -> count


# --- helpers -------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Lower case, no accents, NFKC: for matching words, never for values."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return unicodedata.normalize("NFKC", bare).casefold()


def _clean(text: str) -> str:
    # Full-width at signs and digits read as ASCII; zero-width and bidi characters go.
    return unicodedata.normalize("NFKC", strip_invisible(text))


def decode_cfemail(encoded: str) -> str | None:
    """Decode Cloudflare's e-mail obfuscation (``data-cfemail`` / ``email-protection#``).

    The hex string's first byte is the XOR key for every following byte; the result is
    UTF-8. None when ``encoded`` is not such a string.
    """
    try:
        data = bytes.fromhex(encoded.strip())
    except ValueError:
        return None
    if len(data) < 2:
        return None
    key = data[0]
    try:
        return bytes(byte ^ key for byte in data[1:]).decode("utf-8")
    except UnicodeDecodeError:
        return None


# --- CNPJ ----------------------------------------------------------------------------


def find_cnpjs(text: str) -> list[str]:
    """CNPJs in ``text`` with correct check digits, normalised (14 characters), in order."""
    return [cnpj for cnpj, _start, _end in _cnpj_matches(text) if cnpj is not None]


def _cnpj_matches(text: str) -> Iterator[tuple[str | None, int, int]]:
    """Every CNPJ-shaped string: its normalised form (None if the check digits are wrong)."""
    for match in _CNPJ_RE.finditer(_clean(text)):
        raw = match.group(1) or match.group(2)
        cnpj = normalize_cnpj(raw)
        yield (cnpj if cnpj and is_valid_cnpj(cnpj) else None), match.start(), match.end()


def _name_before_suffix(text: str, suffix: re.Match[str]) -> str | None:
    words: list[str] = []
    for word in reversed(text[: suffix.start()].split()):
        if len(words) >= _NAME_MAX_WORDS or not _NAME_WORD_RE.match(word):
            break
        words.insert(0, word)
    while words and (words[0] in _NAME_CONNECTORS or not re.search(r"[^\W\d_]", words[0])):
        words.pop(0)  # "2024 Ana Doces LTDA", "e Ana Doces LTDA"
    if not words:
        return None
    return clean_text(" ".join([*words, suffix.group(0)]), max_length=150)


def _legal_name_near(text: str, start: int, end: int) -> str | None:
    """The company name written next to a CNPJ at ``text[start:end]``, if any."""
    candidates: list[tuple[int, int, int, str]] = []
    for match in _RAZAO_SOCIAL_RE.finditer(text):
        name = clean_text(match.group(1), max_length=150)
        if name:
            candidates.append((match.start(), match.end(), 0, name))
    for match in _COMPANY_SUFFIX_RE.finditer(text):
        name = _name_before_suffix(text, match)
        if name:
            candidates.append((match.end() - len(name), match.end(), 1, name))
    best: tuple[int, int, str] | None = None
    for cand_start, cand_end, rank, name in candidates:
        distance = start - cand_end if cand_end <= start else cand_start - end
        if -5 <= distance <= 80 and (best is None or (rank, abs(distance)) < best[:2]):
            best = (rank, abs(distance), name)
    return best[2] if best else None


# --- the page walk -------------------------------------------------------------------


def _root_and_urls(source: PageSource, url: str | None) -> tuple[Any, str, str]:
    """The lxml root element, the page URL and the base URL for relative links."""
    if not isinstance(source, str):
        if url is None:
            # As Scrapy's get_base_url: a <base href> is looked for in the first 4 KiB.
            return source.selector.root, source.url, get_base_url(source.text[:4096], source.url)
        return source.selector.root, url, get_base_url(source.text, url)
    if url is None:
        raise ValueError("the page URL is required with HTML text")
    html = source.replace("\x00", "")
    return Selector(text=html or "<html></html>").root, url, get_base_url(html, url)


def _absolute(base_url: str, href: str) -> str | None:
    """``href`` resolved against the page, or None when it is not a URL at all."""
    try:
        url = urljoin(base_url, _clean(href).strip())
        urlsplit(url).port  # noqa: B018  (raises on a bad port or unbalanced brackets)
    except ValueError:
        return None
    return url


def _classes(elem: Any) -> str:
    return _fold(f"{elem.get('class') or ''} {elem.get('id') or ''}").replace("-", "")


def _in_footer(elem: Any) -> bool:
    for node in (elem, *elem.iterancestors()):
        if node.tag == "footer" or any(hint in _classes(node) for hint in _FOOTER_HINTS):
            return True
    return False


def _is_block(elem: Any) -> bool:
    return isinstance(elem.tag, str) and elem.tag in _BLOCK_TAGS


@dataclass(slots=True)
class _Credits:
    """What a web agency's credit covers: whole elements, and text cut at an offset."""

    elements: set[Any] = field(default_factory=set)
    # Keyed by the element itself, not id(): lxml makes a new proxy (with a new id) for a
    # node nobody holds, so only a held reference finds the same node again.
    text_cut: dict[Any, int] = field(default_factory=dict)  # elem -> offset in .text
    tail_cut: dict[Any, int] = field(default_factory=dict)  # elem -> offset in .tail

    def covers(self, elem: Any) -> bool:
        return any(node in self.elements for node in (elem, *elem.iterancestors()))


def _line_after(siblings: Iterator[Any], credits: _Credits) -> None:
    # The credit runs to the end of its line: inline siblings up to a <br> or a block.
    for sibling in siblings:
        if _is_block(sibling):
            return
        credits.elements.add(sibling)
        credits.tail_cut[sibling] = 0


def _find_credits(root: Any) -> _Credits:
    credits = _Credits()
    for elem in root.iter():
        if not isinstance(elem.tag, str) or elem.tag in _HIDDEN_TAGS:
            continue
        if elem.tag not in ("html", "body") and any(h in _classes(elem) for h in _CREDIT_HINTS):
            credits.elements.add(elem)
            continue
        for kind in ("text", "tail"):
            text = elem.text if kind == "text" else elem.tail
            owner = elem if kind == "text" else elem.getparent()
            if not text or owner is None:
                continue
            folded = _fold(text)
            match = _CREDIT_STRONG_RE.search(folded)
            if match is not None and not _in_footer(owner):
                scope = owner
                while scope.getparent() is not None and not _is_block(scope):
                    scope = scope.getparent()
                if len(" ".join(scope.itertext()).strip()) > _CREDIT_SCOPE_MAX:
                    match = None
            if match is None:
                match = _CREDIT_WEAK_RE.search(folded)
                if match is None or not _in_footer(owner):
                    continue
            # Folding keeps offsets for Latin text; cut a little early rather than late.
            start = max(0, min(match.start(), len(text)))
            if kind == "text":
                credits.text_cut[elem] = start
                _line_after(iter(elem), credits)
                if not _is_block(elem):  # <a>Site por X</a>, <small>...: the rest of the line
                    credits.elements.add(elem)
                    credits.tail_cut[elem] = 0
                    _line_after(elem.itersiblings(), credits)
            else:
                credits.tail_cut[elem] = start
                _line_after(elem.itersiblings(), credits)
    return credits


def _credit_texts(root: Any, credits: _Credits) -> list[str]:
    """The visible text the agency credits cover."""
    texts: list[str] = []
    for elem in root.iter():
        if not isinstance(elem.tag, str) or elem.tag in _HIDDEN_TAGS:
            continue
        cut = credits.text_cut.get(elem)
        if elem in credits.elements and not any(
            a in credits.elements for a in elem.iterancestors()
        ):
            pieces = list(elem.itertext())
            if cut is not None and elem.text and pieces:
                pieces[0] = pieces[0][cut:]  # the text before the credit is not the agency's
            texts.append(" ".join(pieces))
        elif cut is not None and elem.text:
            texts.append(elem.text[cut:])
        cut = credits.tail_cut.get(elem)
        if cut is not None and elem.tail:
            texts.append(elem.tail[cut:])
    return texts


def _blocks(root: Any, credits: _Credits) -> list[tuple[str, bool]]:
    """The visible text, one string per block, without the agency credits.

    With each block: whether only ``<br>`` separates it from the block before (the next
    line of one paragraph, not another paragraph).
    """
    blocks: list[tuple[str, bool]] = []
    parts: list[str] = []
    br_only = False  # the boundaries since the last block were all <br>

    def flush(by_br: bool = False) -> None:
        nonlocal br_only
        text = " ".join("".join(parts).split())
        parts.clear()
        if text:
            blocks.append((text, br_only))
            br_only = by_br
        else:
            br_only = br_only and by_br

    def add(text: str | None, cut: int | None) -> None:
        if text:
            parts.append(text[:cut] if cut is not None else text)

    walker = etree.iterwalk(root, events=("start", "end", "comment", "pi"))
    for event, elem in walker:
        if event in ("comment", "pi"):
            add(elem.tail, credits.tail_cut.get(elem))
            continue
        if event == "start":
            if _is_block(elem):
                flush(elem.tag == "br")
            if elem.tag in _HIDDEN_TAGS or elem in credits.elements:
                walker.skip_subtree()
                continue
            add(elem.text, credits.text_cut.get(elem))
        else:
            if _is_block(elem):
                flush(elem.tag == "br")
            if elem is not root:
                add(elem.tail, credits.tail_cut.get(elem))
    flush()
    return blocks


# --- JSON-LD -------------------------------------------------------------------------

# schema.org types whose contacts are the page owner's; subtypes by their name's ending.
_LD_OWNER_TYPES = frozenset(
    {"Organization", "LocalBusiness", "Person", "Corporation", "ProfessionalService", "NGO"}
)
_LD_OWNER_SUFFIXES = ("Organization", "Business", "Store")
_LD_MAX_NODES = 1_000  # per page: hostile or generated pages can hold huge graphs
_URI_SCHEME_RE = re.compile(r"^(?:tel|callto):", re.IGNORECASE)


def _mailto_addresses(value: str) -> list[str]:
    """The addresses of a ``mailto:`` link (or of a bare address), without its query."""
    value = value.strip()
    if value[:7].lower() == "mailto:":
        value = value[7:]
    return [a for a in unquote(value.split("?", 1)[0]).split(",") if a.strip()]


def _ld_strings(value: Any) -> list[str]:
    """A JSON-LD value as strings: ``"x"``, ``["x", "y"]``, ``{"@id": "x"}``."""
    items = value if isinstance(value, list) else [value]
    strings: list[str] = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("@id", item.get("@value"))
        if isinstance(item, str) and item.strip():
            strings.append(item.strip())
    return strings


def _ld_nodes(value: Any) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict)]


def _ld_is_owner(node: dict[str, Any]) -> bool:
    for kind in _ld_strings(node.get("@type")):
        name = kind.rsplit("/", 1)[-1].rsplit(":", 1)[-1]  # "https://schema.org/Person"
        if name in _LD_OWNER_TYPES or name.endswith(_LD_OWNER_SUFFIXES):
            return True
    return False


def _json_ld_nodes(root: Any, credits: _Credits) -> Iterator[dict[str, Any] | None]:
    """The top-level JSON-LD nodes of the page (lists and ``@graph`` flattened).

    Nested nodes (a WebSite's ``creator``, a Product's ``brand``) are someone else's. None
    stands for a script that is not JSON.
    """
    count = 0
    for script in root.iter("script"):
        kind = (script.get("type") or "").split(";", 1)[0].strip().lower()
        if kind != "application/ld+json" or credits.covers(script):
            continue
        raw = (script.text or "").strip()
        raw = raw.removeprefix("<!--").removesuffix("-->").strip()
        try:
            data = json.loads(raw, strict=False)  # strict=False: raw newlines in strings
        except (ValueError, RecursionError):
            yield None
            continue
        stack = [data]
        while stack and count < _LD_MAX_NODES:
            node = stack.pop(0)
            if isinstance(node, list):
                stack[:0] = node
                continue
            if not isinstance(node, dict):
                continue
            count += 1
            graph = node.get("@graph")
            if isinstance(graph, (list, dict)):
                stack[:0] = [graph]
            yield node


def _same_site(url: str, page_url: str) -> bool:
    def site(value: str) -> str:
        return registered_domain(value) or (urlsplit(value).hostname or "").lower()

    return site(url) == site(page_url)


# --- collecting ----------------------------------------------------------------------


@dataclass(slots=True)
class _Collector:
    url: str
    phones: PhoneRules
    found_at: datetime
    page: PageContacts
    index: dict[tuple[ContactKind, str], int] = field(default_factory=dict)
    # Values the page gives its web agency (kind, key): never taken from JSON-LD either.
    credited: frozenset[tuple[ContactKind, str]] = frozenset()

    def reject(self, reason: str) -> None:
        self.page.rejected[reason] = self.page.rejected.get(reason, 0) + 1

    def add(
        self,
        kind: ContactKind,
        value: str,
        key: str,
        method: str,
        certainty: Certainty,
        details: dict[str, Any] | None = None,
    ) -> None:
        contact = ContactPoint(
            kind=kind,
            value=value,
            source_url=self.url,
            found_at=self.found_at,
            method=method,
            certainty=certainty,
            details=details or {},
        )
        if method == "jsonld" and (kind, key) in self.credited:
            self.reject("credit")
            return
        position = self.index.get((kind, key))
        if position is None:
            self.index[(kind, key)] = len(self.page.contacts)
            self.page.contacts.append(contact)
        elif (
            certainty == Certainty.CERTAIN
            and self.page.contacts[position].certainty != Certainty.CERTAIN
        ):
            self.page.contacts[position] = contact  # a link beats the same value in text

    def email(self, raw: str, method: str, certainty: Certainty, as_written: str = "") -> None:
        address = _clean(raw).strip()
        check = check_email(address)
        if not check.ok:
            self.reject(f"email/{check.reason}")
            return
        if is_platform_domain(address):
            self.reject("email/platform")
            return
        details = {"as_written": as_written} if as_written else None
        self.add(ContactKind.EMAIL, address, email_key(address), method, certainty, details)

    def phone(self, raw: str, method: str, certainty: Certainty, label: str | None = None) -> None:
        info = self.phones.parse(raw)
        if info is None or (method in ("text", "jsonld") and not info.is_valid):
            self.reject("phone/invalid")
            return
        details = {"label": label} if label else None
        self.add(ContactKind.PHONE, raw.strip(), info.e164, method, certainty, details)

    def link(self, href: str) -> None:
        scheme = href.split(":", 1)[0].lower() if ":" in href else ""
        if scheme == "mailto":
            for address in _mailto_addresses(href):
                self.email(address, "mailto", Certainty.CERTAIN)
            return
        if scheme in ("tel", "callto"):
            number = unquote(href.split(":", 1)[1]).strip()
            if number:
                self.phone(number, "tel", Certainty.CERTAIN)
            return
        if is_whatsapp_link(href):
            self.whatsapp(href)
            return
        if scheme not in ("http", "https"):
            return
        if _CF_PATH in href:
            decoded = decode_cfemail(href.rsplit("#", 1)[-1])
            if decoded:
                self.email(decoded, "cfemail", Certainty.CERTAIN)
            return
        platform = platform_for_url(href)
        if platform is not None:
            link = PlatformLink(
                platform.key, canonical_platform_url(href), platform.product_id(href)
            )
            if link not in self.page.platform_links:
                self.page.platform_links.append(link)
            return
        self.social(href, "link")

    def social(self, href: str, method: str) -> None:
        profile = social_profile(href)
        if profile is not None:
            details: dict[str, Any] = {"network": profile.network, "handle": profile.handle}
            if profile.link_hub:
                details["link_hub"] = True
            self.add(
                ContactKind.SOCIAL, href, profile.url.lower(), method, Certainty.CERTAIN, details
            )
        elif network_host(urlsplit(href).hostname or "") in NETWORK_HOSTS:
            self.reject("social/not_a_profile")

    def whatsapp(self, href: str, method: str = "wa.me") -> None:
        text = whatsapp_phone_text(href)
        if text is None:
            host = (urlsplit(href if "://" in href else f"https://{href}").hostname or "").lower()
            self.reject(
                "whatsapp/group_invite" if host == "chat.whatsapp.com" else "whatsapp/no_number"
            )
            return
        info = self.phones.parse(text)
        key = info.e164 if info else re.sub(r"\D", "", text)
        self.add(ContactKind.WHATSAPP, href, key, method, Certainty.CERTAIN)

    def json_ld(self, node: dict[str, Any]) -> None:
        """The contacts of a JSON-LD Organization, LocalBusiness or Person node."""
        urls = [*_ld_strings(node.get("url")), *_ld_strings(node.get("@id"))]
        owner_url = next((u for u in urls if u.lower().startswith(("http://", "https://"))), None)
        profiles = _ld_strings(node.get("sameAs"))
        if owner_url is not None:
            if is_platform_domain(urlsplit(owner_url).hostname or ""):
                self.reject("jsonld/platform")  # the platform's own schema on its pages
                return
            if social_profile(owner_url) is not None:
                profiles.insert(0, owner_url)
            elif not _same_site(owner_url, self.url):
                self.reject("jsonld/other_site")  # someone else: an agency, a partner
                return
        points = [node, *_ld_nodes(node.get("contactPoint"))]
        for point in points:
            label = next(iter(_ld_strings(point.get("contactType"))), None)
            for value in _ld_strings(point.get("email")):
                for address in _mailto_addresses(value):
                    self.email(address, "jsonld", Certainty.CERTAIN)
            for value in _ld_strings(point.get("telephone")):
                if is_whatsapp_link(value):
                    self.whatsapp(value, "jsonld")
                else:
                    number = unquote(_URI_SCHEME_RE.sub("", value.strip())).strip()
                    if number:
                        self.phone(number, "jsonld", Certainty.CERTAIN, label)
        for url in profiles:
            if is_whatsapp_link(url):
                self.whatsapp(url, "jsonld")
            elif url.lower().startswith(("http://", "https://")):
                self.social(url, "jsonld")

    def text_emails(self, block: str) -> str:
        """Take the e-mails in ``block``; return it with them blanked out."""
        for match in _OBF_RE.finditer(block):
            local, domain = match.group(1), match.group(2)
            written = match.group(0)
            bare = _OBF_BARE_DOT.search(domain)
            if bare and "." in domain[: bare.start()]:
                # "ana arroba loja.com.br ponto de venda": the address ends at the sentence.
                written = written[: len(written) - len(domain) + bare.start()]
                domain = domain[: bare.start()]
            address = f"{local}@{_OBF_DOT_RE.sub('.', domain)}"
            if address != written:
                self.email(address, "obfuscated", Certainty.UNCERTAIN, as_written=written)
                block = block.replace(written, " " * len(written), 1)
        for match in EMAIL_IN_TEXT_RE.finditer(block):
            self.email(match.group(1), "text", Certainty.UNCERTAIN)
        return EMAIL_IN_TEXT_RE.sub(lambda m: " " * len(m.group(0)), block)

    def text_phones(self, block: str, previous: str) -> None:
        text = _URL_IN_TEXT_RE.sub(lambda m: " " * len(m.group(0)), block)
        text = _NOT_PHONE_RE.sub(lambda m: " " * len(m.group(0)), text)
        folded_block = _fold(block)
        block_label = _LABEL_START_RE.match(folded_block) or _LABEL_ONLY_RE.match(_fold(previous))
        matcher = phonenumbers.PhoneNumberMatcher(
            text, self.phones.region, leniency=phonenumbers.Leniency.POSSIBLE
        )
        for match in matcher:
            raw = match.raw_string
            before = _LABEL_BEFORE_RE.search(_fold(text[max(0, match.start - 40) : match.start]))
            label = before or block_label
            if label is None and not _PHONE_SEPARATOR_RE.search(raw):
                self.reject("phone/bare_digits")  # order numbers, ids, timestamps
                continue
            certainty = Certainty.CERTAIN if label else Certainty.UNCERTAIN
            self.phone(raw, "text", certainty, label.group(1) if label else None)

    def text_cnpjs(self, block: str, line_above: str = "") -> None:
        """Take the CNPJs in ``block`` and the legal names next to them.

        ``line_above`` is the line before ``block`` in the same paragraph (a ``<br>``
        between them): a name alone on it ("Ana Doces Ltda<br>CNPJ: ...") is the CNPJ's.
        """
        text = _clean(block)
        above = _clean(line_above)
        for cnpj, start, end in _cnpj_matches(block):
            if cnpj is None:
                self.reject("cnpj/check_digits")
                continue
            if cnpj not in self.page.cnpjs:
                self.page.cnpjs.append(cnpj)
            name = _legal_name_near(text, start, end)
            if name is None and above:
                shift = len(above) + 1
                name = _legal_name_near(f"{above}\n{text}", start + shift, end + shift)
            if name and name not in self.page.legal_names:
                self.page.legal_names.append(name)


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
    root, page_url, base_url = _root_and_urls(source, url)
    page = PageContacts(url=page_url)
    rules = phones or PhoneRules(region=region, repair=True)
    collector = _Collector(page_url, rules, found_at or utcnow(), page)
    # What the agency credits hold, read as if it were the producer's, to know it again.
    credited = _Collector(page_url, rules, collector.found_at, PageContacts(url=page_url))
    credits = _find_credits(root)
    for elem in root.iter():
        if not isinstance(elem.tag, str) or elem.tag in _HIDDEN_TAGS:
            continue
        if credits.covers(elem):
            if elem.get("href") or elem.get("data-cfemail"):
                collector.reject("credit")
                href = elem.get("href") if elem.tag in ("a", "area") else None
                link = _absolute(base_url, href) if href else None
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
        if href and href.strip():
            link = _absolute(base_url, href)
            if link is None:
                collector.reject("link/bad_url")
            else:
                collector.link(link)
    for text in _credit_texts(root, credits):
        credited.text_phones(credited.text_emails(_clean(text)), "")
    collector.credited = frozenset(credited.index)
    for node in _json_ld_nodes(root, credits):
        if node is None:
            collector.reject("jsonld/bad_json")
        elif _ld_is_owner(node):
            collector.json_ld(node)
    previous = ""
    for block, after_br in _blocks(root, credits):
        clean = _clean(block)
        rest = collector.text_emails(clean)
        collector.text_cnpjs(rest, previous if after_br else "")
        collector.text_phones(rest, previous)
        previous = clean
    return page


def extract_contacts(
    source: PageSource, url: str | None = None, *, region: str = "BR"
) -> list[ContactPoint]:
    """The :class:`ContactPoint` values of :func:`extract_page`, alone."""
    return extract_page(source, url, region=region).contacts


# --- contact pages -------------------------------------------------------------------


def _page_priority(path: str, text: str) -> int | None:
    words = re.sub(r"[^a-z0-9]+", "-", _fold(unquote(path))).strip("-")
    label = re.sub(r"[^a-z0-9]+", "-", _fold(text)).strip("-")
    for priority, names in enumerate(_CONTACT_PAGE_GROUPS):
        for name in names:
            pattern = rf"(?:^|-){re.escape(name)}(?:-|$)"
            if re.search(pattern, words) or re.search(pattern, label):
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
    root, page_url, base = _root_and_urls(response_or_html, base_url)
    site = registered_domain(page_url) or (urlsplit(page_url).hostname or "").lower()
    own = canonical_url(page_url)
    found: dict[str, tuple[int, int]] = {}
    for position, elem in enumerate(root.iter("a", "area")):
        href = elem.get("href")
        if not href:
            continue
        absolute = _absolute(base, href)
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
