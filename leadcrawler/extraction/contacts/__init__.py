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
  share buttons and intents are not profiles (:func:`social_profile`). ``@handles``
  written as text (``text_handle``, uncertain, ``details["as_written"]``) when a word
  near them names the network ("No meu Instagram (@ana)", "TikTok @ana"; an empty icon
  element such as ``<i class="fa-instagram">`` reads as its network's name), a follow word
  does ("Siga @ana", "me segue": the network the page links profiles of, else
  Instagram), or the line is only the handle on a page that links profiles of one
  network. Never in testimonials, reviews or quotations (``blockquote``, ``q``, ``cite``,
  classes such as ``depoimentos``), after a credit or partner word ("Fotos: @x",
  "Parceria com @y"), inside an e-mail address or domain; more than three text handles
  on one page are a list of people and none is taken.
- links a browser follows outside ``href``: WhatsApp and ``mailto:`` targets of
  ``onclick`` handlers, ``javascript:`` hrefs and inline scripts that
  ``window.open``/``location.href=`` them (``script``, certain); markup after
  ``</html>`` is read as the end of ``<body>`` (:func:`browser_tree`).

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

One module per job: :mod:`.reader` walks the page (:func:`extract_page`), :mod:`.collector`
holds the rules per kind of value, :mod:`.tree` the page as a browser shows it (tree, base
URL, script buttons), :mod:`.blocks` its visible text, :mod:`.credits` what an agency's
credit covers, :mod:`.patterns` e-mail and phone spellings, :mod:`.handles` handles written
as text, :mod:`.cnpj` CNPJs and legal names, :mod:`.jsonld` the owner's JSON-LD, and
:mod:`.pages` which same-site pages to visit next.
"""

from __future__ import annotations

from leadcrawler.extraction.contacts.cnpj import find_cnpjs
from leadcrawler.extraction.contacts.collector import PageContacts, PlatformLink
from leadcrawler.extraction.contacts.pages import contact_page_links
from leadcrawler.extraction.contacts.patterns import decode_cfemail
from leadcrawler.extraction.contacts.reader import extract_contacts, extract_page
from leadcrawler.extraction.contacts.tree import PageSource, browser_tree, script_links

__all__ = [
    "PageContacts",
    "PageSource",
    "PlatformLink",
    "browser_tree",
    "contact_page_links",
    "decode_cfemail",
    "extract_contacts",
    "extract_page",
    "find_cnpjs",
    "script_links",
]
