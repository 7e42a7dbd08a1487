"""What one page yields, value by value: the rules for each kind of contact."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import phonenumbers

from leadcrawler.domain.emails import EMAIL_IN_TEXT_RE, check_email, email_key
from leadcrawler.domain.items import Certainty, ContactKind, ContactPoint
from leadcrawler.domain.phones import PhoneRules, is_whatsapp_link, whatsapp_phone_text
from leadcrawler.domain.platforms import canonical_platform_url, platform_for_url
from leadcrawler.domain.social import NETWORK_HOSTS, network_host, social_profile
from leadcrawler.domain.urls import is_platform_domain
from leadcrawler.extraction.contacts.cnpj import cnpj_matches, legal_name_near
from leadcrawler.extraction.contacts.folding import clean, fold
from leadcrawler.extraction.contacts.handles import (
    DOMAIN_ENDING_RE,
    FOLLOW_CUE_RE,
    HANDLE_PROFILE_URLS,
    HANDLE_RE,
    MAX_TEXT_HANDLES,
    NETWORK_CUES,
    OTHER_PERSON_RE,
)
from leadcrawler.extraction.contacts.jsonld import URI_SCHEME_RE, ld_nodes, ld_strings, same_site
from leadcrawler.extraction.contacts.patterns import (
    CF_PATH,
    DIGIT_RE,
    LABEL_BEFORE_RE,
    LABEL_ONLY_RE,
    LABEL_START_RE,
    NOT_PHONE_RE,
    OBF_BARE_DOT,
    OBF_DOT_RE,
    OBF_RE,
    PHONE_SEPARATOR_RE,
    URL_IN_TEXT_RE,
    decode_cfemail,
    mailto_addresses,
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


@dataclass(slots=True)
class Collector:
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

    def email(self, raw: str, method: str, certainty: Certainty, as_written: str = "") -> bool:
        """Take an address; False when it is not one (a platform's address still is one)."""
        address = clean(raw).strip()
        check = check_email(address)
        if not check.ok:
            self.reject(f"email/{check.reason}")
            return False
        if is_platform_domain(address):
            self.reject("email/platform")
            return True
        details = {"as_written": as_written} if as_written else None
        self.add(ContactKind.EMAIL, address, email_key(address), method, certainty, details)
        return True

    def phone(self, raw: str, method: str, certainty: Certainty, label: str | None = None) -> None:
        info = self.phones.parse(raw)
        if info is None or (method in ("text", "jsonld") and not info.is_valid):
            self.reject("phone/invalid")
            return
        details = {"label": label} if label else None
        self.add(ContactKind.PHONE, raw.strip(), info.e164, method, certainty, details)

    def link(self, href: str, via: str = "") -> None:
        """A link's target; ``via="script"`` for one a script button opens."""
        scheme = href.split(":", 1)[0].lower() if ":" in href else ""
        if scheme == "mailto":
            for address in mailto_addresses(href):
                self.email(address, via or "mailto", Certainty.CERTAIN)
            return
        if scheme in ("tel", "callto"):
            number = unquote(href.split(":", 1)[1]).strip()
            if number:
                self.phone(number, "tel", Certainty.CERTAIN)
            return
        if is_whatsapp_link(href):
            self.whatsapp(href, via or "wa.me")
            return
        if scheme not in ("http", "https"):
            return
        if CF_PATH in href:
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

    def linked_networks(self) -> set[str]:
        """Networks of the profiles this page links to (or lists in JSON-LD)."""
        return {
            str(c.details.get("network"))
            for c in self.page.contacts
            if c.kind == ContactKind.SOCIAL and c.method in ("link", "jsonld")
        }

    def text_handles(self, block: str) -> list[tuple[str, str, str]]:
        """``(network, handle, as written)`` for the @handles in ``block`` tied to a network."""
        found: list[tuple[str, str, str]] = []
        folded = fold(block)
        for match in HANDLE_RE.finditer(block):
            handle = match.group(1).rstrip(".")
            if DOMAIN_ENDING_RE.search(handle) or not re.search(r"[A-Za-z]", handle):
                self.reject("handle/not_a_handle")  # "@empresa.com.br", "@2x"
                continue
            before = folded[max(0, match.start() - 60) : match.start()]
            after = folded[match.end() : match.end() + 40]
            if OTHER_PERSON_RE.search(folded[max(0, match.start() - 30) : match.start()]):
                self.reject("handle/other_person")
                continue
            network = self._handle_network(before, after, block, match)
            if network is None:
                self.reject("handle/no_network")
                continue
            found.append((network, handle, match.group(0)))
        return found

    def _handle_network(self, before: str, after: str, block: str, match: Any) -> str | None:
        cues = [
            (len(before) - hit.end(), network)
            for network, pattern in NETWORK_CUES
            for hit in pattern.finditer(before)
        ] + [
            (hit.start() + 1, network)
            for network, pattern in NETWORK_CUES
            for hit in pattern.finditer(after)
        ]
        if cues:
            return min(cues)[1]  # the network word closest to the handle
        linked = self.linked_networks() & set(HANDLE_PROFILE_URLS)
        if FOLLOW_CUE_RE.search(before) or FOLLOW_CUE_RE.search(after):
            return linked.pop() if len(linked) == 1 else "instagram"
        alone = not (block[: match.start()] + block[match.end() :]).strip(" |-·•:,")
        if alone and len(linked) == 1:
            return linked.pop()  # a footer line "@ana" on a page linking her Instagram
        return None

    def reject_handles(self, block: str, reason: str) -> None:
        for _match in HANDLE_RE.finditer(block):
            self.reject(reason)

    def add_handles(self, handles: list[tuple[str, str, str]]) -> None:
        """Add the text handles of the page, unless there are too many to be one producer's."""
        distinct = {(network, handle.lower()) for network, handle, _written in handles}
        if len(distinct) > MAX_TEXT_HANDLES:
            self.page.rejected["handle/too_many"] = len(distinct)
            return
        for network, handle, written in handles:
            url = HANDLE_PROFILE_URLS[network].format(handle)
            profile = social_profile(url)
            if profile is None:
                self.reject("handle/not_a_profile")  # a platform's own, or a bad shape
                continue
            details = {"network": network, "handle": profile.handle, "as_written": written}
            self.add(
                ContactKind.SOCIAL,
                profile.url,
                profile.url.lower(),
                "text_handle",
                Certainty.UNCERTAIN,
                details,
            )

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
        urls = [*ld_strings(node.get("url")), *ld_strings(node.get("@id"))]
        owner_url = next((u for u in urls if u.lower().startswith(("http://", "https://"))), None)
        profiles = ld_strings(node.get("sameAs"))
        if owner_url is not None:
            if is_platform_domain(urlsplit(owner_url).hostname or ""):
                self.reject("jsonld/platform")  # the platform's own schema on its pages
                return
            if social_profile(owner_url) is not None:
                profiles.insert(0, owner_url)
            elif not same_site(owner_url, self.url):
                self.reject("jsonld/other_site")  # someone else: an agency, a partner
                return
        points = [node, *ld_nodes(node.get("contactPoint"))]
        for point in points:
            label = next(iter(ld_strings(point.get("contactType"))), None)
            for value in ld_strings(point.get("email")):
                for address in mailto_addresses(value):
                    self.email(address, "jsonld", Certainty.CERTAIN)
            for value in ld_strings(point.get("telephone")):
                if is_whatsapp_link(value):
                    self.whatsapp(value, "jsonld")
                else:
                    number = unquote(URI_SCHEME_RE.sub("", value.strip())).strip()
                    if number:
                        self.phone(number, "jsonld", Certainty.CERTAIN, label)
        for url in profiles:
            if is_whatsapp_link(url):
                self.whatsapp(url, "jsonld")
            elif url.lower().startswith(("http://", "https://")):
                self.social(url, "jsonld")

    def text_emails(self, block: str) -> str:
        """Take the e-mails in ``block``; return it with them blanked out."""
        for match in OBF_RE.finditer(block):
            local, domain = match.group(1), match.group(2)
            written = match.group(0)
            bare = OBF_BARE_DOT.search(domain)
            if bare and "." in domain[: bare.start()]:
                # "ana arroba loja.com.br ponto de venda": the address ends at the sentence.
                written = written[: len(written) - len(domain) + bare.start()]
                domain = domain[: bare.start()]
            address = f"{local}@{OBF_DOT_RE.sub('.', domain)}"
            # "Siga @ana.bolos" is no address: left in the text, it may be a handle.
            if address != written and self.email(
                address, "obfuscated", Certainty.UNCERTAIN, as_written=written
            ):
                block = block.replace(written, " " * len(written), 1)
        for match in EMAIL_IN_TEXT_RE.finditer(block):
            self.email(match.group(1), "text", Certainty.UNCERTAIN)
        return EMAIL_IN_TEXT_RE.sub(lambda m: " " * len(m.group(0)), block)

    def text_phones(self, block: str, previous: str) -> None:
        if not DIGIT_RE.search(block):
            return  # most blocks: libphonenumber's matcher needs a digit to find anything
        text = URL_IN_TEXT_RE.sub(lambda m: " " * len(m.group(0)), block)
        text = NOT_PHONE_RE.sub(lambda m: " " * len(m.group(0)), text)
        folded_block = fold(block)
        block_label = LABEL_START_RE.match(folded_block) or LABEL_ONLY_RE.match(fold(previous))
        matcher = phonenumbers.PhoneNumberMatcher(
            text, self.phones.region, leniency=phonenumbers.Leniency.POSSIBLE
        )
        for match in matcher:
            raw = match.raw_string
            before = LABEL_BEFORE_RE.search(fold(text[max(0, match.start - 40) : match.start]))
            label = before or block_label
            if label is None and not PHONE_SEPARATOR_RE.search(raw):
                self.reject("phone/bare_digits")  # order numbers, ids, timestamps
                continue
            certainty = Certainty.CERTAIN if label else Certainty.UNCERTAIN
            self.phone(raw, "text", certainty, label.group(1) if label else None)

    def text_cnpjs(self, block: str, line_above: str = "") -> None:
        """Take the CNPJs in ``block`` and the legal names next to them.

        ``line_above`` is the line before ``block`` in the same paragraph (a ``<br>``
        between them): a name alone on it ("Ana Doces Ltda<br>CNPJ: ...") is the CNPJ's.
        """
        text = clean(block)
        if not DIGIT_RE.search(text):
            return  # every CNPJ spelling ends in two digits
        above = clean(line_above)
        for cnpj, start, end in cnpj_matches(block):
            if cnpj is None:
                self.reject("cnpj/check_digits")
                continue
            if cnpj not in self.page.cnpjs:
                self.page.cnpjs.append(cnpj)
            name = legal_name_near(text, start, end)
            if name is None and above:
                shift = len(above) + 1
                name = legal_name_near(f"{above}\n{text}", start + shift, end + shift)
            if name and name not in self.page.legal_names:
                self.page.legal_names.append(name)
