"""The producers' own sites under tests/fixtures/web agree with sites_expected.json.

``sites_expected.json`` is the ground truth for the website-enrichment tests: which pages a
crawler may read on each producer's site, the contacts a good extractor finds there, and the
values it must never take (web agencies, selling platforms, buyers' prefill data, pages
robots.txt forbids). ``dns_zone.json`` holds the DNS facts of the e-mail domains. These
tests check that the fixtures are consistent (files exist, CNPJs are valid, DNS facts cover
every e-mail domain) and run :func:`leadcrawler.extraction.contacts.extract_page` over every listed
page, as served by :class:`fixtureweb.FixtureWeb` (its lookup is used without
starting the server).

What the extractor misses, or takes when it should not, is never removed from the fixtures:
the extractor is fixed instead.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from parsel import Selector
from protego import Protego

from fixtureweb import FixtureWeb
from leadcrawler.domain.cnpj import is_valid_cnpj
from leadcrawler.domain.emails import email_key
from leadcrawler.domain.items import ContactKind
from leadcrawler.domain.phones import normalize_phone, whatsapp_phone_text
from leadcrawler.domain.platforms import platform_for_url
from leadcrawler.domain.social import social_profile
from leadcrawler.enricher.dns import is_disposable
from leadcrawler.extraction.contacts import (
    PageContacts,
    contact_page_links,
    extract_page,
)
from tests.conftest import FIXTURES

WEB_ROOT = FIXTURES / "web"
EXPECTED = json.loads((FIXTURES / "sites_expected.json").read_text("utf-8"))
ZONE = json.loads((FIXTURES / "dns_zone.json").read_text("utf-8"))
SITES: list[dict[str, Any]] = EXPECTED["sites"]
LIVE = [s for s in SITES if not s["dead"]]
WEB = FixtureWeb(WEB_ROOT)  # never started: answer() is the server's own lookup
ROBOTS_AGENT = "leadcrawler"  # the product token of settings.base.USER_AGENT
TEST_NETS = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]
SITE_KEYS = {
    "home", "producer", "emails", "phones", "whatsapp", "social", "cnpj", "legal_name",
    "platform_offers", "must_not_contain", "pages", "robots_disallowed", "dead", "email_mx",
}  # fmt: skip
# Hosts that were here before these fixtures (kiwify_expected.json): robots.txt by fallback.
PREEXISTING_HOSTS = {"www.anadavilaconfeitaria.com.br"}
MX_STATUSES = {"valid-mx", "null-mx", "no-mx+a", "nxdomain", "disposable"}


def site_id(site: dict[str, Any]) -> str:
    parts = urlsplit(site["home"])
    return (parts.hostname or "") + (parts.path if parts.path != "/" else "")


def fetch(url: str) -> Any:
    parts = urlsplit(url)
    assert parts.hostname is not None
    return WEB.answer(parts.hostname, parts.path or "/")


def page_html(url: str) -> str:
    answer = fetch(url)
    assert answer.status == 200, f"{url} answers {answer.status}"
    return answer.body.decode("utf-8")


def robots(host: str) -> Protego:
    answer = WEB.answer(host, "/robots.txt")
    assert answer.status == 200, f"{host}/robots.txt answers {answer.status}"
    return Protego.parse(answer.body.decode("utf-8"))


# --- normalising values ----------------------------------------------------------------


def e164(text: str) -> str | None:
    info = normalize_phone(text, "BR", repair=True)
    return info.e164 if info else None


def social_key(url: str) -> str:
    profile = social_profile(url)
    return profile.url.lower() if profile else url.lower()


def value_key(value: str) -> str:
    """A must_not_contain or expected value in the form found values are compared in."""
    if "://" in value:
        return social_key(value)
    if "@" in value:
        return email_key(value)
    return value.lower()


@dataclass
class Found:
    pages: list[PageContacts] = field(default_factory=list)
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    whatsapp: set[str] = field(default_factory=set)
    social: set[str] = field(default_factory=set)
    raw: set[str] = field(default_factory=set)  # every value as written, lower case
    cnpjs: set[str] = field(default_factory=set)
    legal_names: set[str] = field(default_factory=set)
    offers: set[tuple[str, str | None]] = field(default_factory=set)

    def normalized(self) -> set[str]:
        return self.emails | self.phones | self.whatsapp | self.social

    def contains(self, value: str) -> bool:
        needle = value.lower()
        return value_key(value) in self.normalized() or any(needle in raw for raw in self.raw)


def offer_key(url: str) -> tuple[str, str | None]:
    platform = platform_for_url(url)
    assert platform is not None, f"{url} is no selling platform's page"
    return platform.key, platform.product_id(url)


def legal_key(name: str) -> str:
    return " ".join(name.casefold().rstrip(".").split())


def extract_all(urls: list[str]) -> Found:
    found = Found()
    for url in urls:
        extract_into(found, page_html(url), url)
    return found


def extract_all_html(html: str, url: str) -> Found:
    found = Found()
    extract_into(found, html, url)
    return found


def extract_into(found: Found, html: str, url: str) -> None:
    page = extract_page(html, url)
    found.pages.append(page)
    found.cnpjs.update(page.cnpjs)
    found.legal_names.update(legal_key(n) for n in page.legal_names)
    for link in page.platform_links:
        found.offers.add((link.platform, link.product_id))
        found.raw.add(link.url.lower())
    for contact in page.contacts:
        found.raw.add(contact.value.lower())
        if contact.kind == ContactKind.EMAIL:
            found.emails.add(email_key(contact.value))
        elif contact.kind == ContactKind.PHONE:
            found.phones.add(e164(contact.value) or contact.value)
        elif contact.kind == ContactKind.WHATSAPP:
            text = whatsapp_phone_text(contact.value) or contact.value
            found.whatsapp.add(e164(text) or text)
        elif contact.kind == ContactKind.SOCIAL:
            found.social.add(social_key(contact.value))


# --- the JSON files --------------------------------------------------------------------


def test_expected_files_are_well_formed() -> None:
    homes = [s["home"] for s in SITES]
    assert len(homes) == len(set(homes))
    assert len([s for s in SITES if not s.get("link_hub")]) >= 12
    for site in SITES:
        assert site.keys() >= SITE_KEYS, site["home"]
        assert set(site["email_mx"].values()) <= MX_STATUSES, site["home"]
        assert all(e == e.lower() for e in site["emails"]), site["home"]
        assert all(p.startswith("+55") for p in site["phones"] + site["whatsapp"]), site["home"]
    assert set(ZONE) >= {"mx", "null_mx", "a_only", "nxdomain"}


def test_dns_zone_covers_every_email_domain() -> None:
    for site in SITES:
        domains = {email.rsplit("@", 1)[1] for email in site["emails"]}
        assert domains == set(site["email_mx"]), site["home"]
        for domain, status in site["email_mx"].items():
            if status == "valid-mx":
                assert domain in ZONE["mx"] and not is_disposable(domain), domain
            elif status == "disposable":
                assert is_disposable(domain) and domain in ZONE["mx"], domain
            elif status == "null-mx":
                assert domain in ZONE["null_mx"], domain
            elif status == "no-mx+a":
                assert domain in ZONE["a_only"] and domain not in ZONE["mx"], domain
            else:
                assert domain in ZONE["nxdomain"], domain
    listed = [*ZONE["mx"], *ZONE["null_mx"], *ZONE["a_only"], *ZONE["nxdomain"]]
    assert len(listed) == len(set(listed)), "a domain has two contradictory DNS facts"
    addresses = [*ZONE["a_only"].values(), *ZONE.get("mx_hosts", {}).values()]
    for address in addresses:
        assert any(ipaddress.ip_address(address) in net for net in TEST_NETS), address


@pytest.mark.parametrize("site", [s for s in SITES if s["cnpj"]], ids=site_id)
def test_cnpj_check_digits(site: dict[str, Any]) -> None:
    assert is_valid_cnpj(site["cnpj"])
    assert site["legal_name"]


# --- the pages on disk -----------------------------------------------------------------


@pytest.mark.parametrize("site", SITES, ids=site_id)
def test_pages_are_served(site: dict[str, Any]) -> None:
    host = urlsplit(site["home"]).hostname
    assert host is not None
    assert host in PREEXISTING_HOSTS or (WEB_ROOT / host / "robots.txt").is_file()
    if site["dead"]:
        assert fetch(site["home"]).status == 503
        assert fetch(site["home"] + "contato").status == 503
        assert robots(host).can_fetch(site["home"], ROBOTS_AGENT)
        assert not site["pages"] and not site["emails"] and not site["phones"]
        return
    assert site["pages"][0] == site["home"]
    parser = robots(host)
    for url in site["pages"]:
        assert "<html" in page_html(url).lower(), url
        assert parser.can_fetch(url, ROBOTS_AGENT), url
    for url in site["robots_disallowed"]:
        assert "<html" in page_html(url).lower(), url
        assert not parser.can_fetch(url, ROBOTS_AGENT), url
    for url in site.get("not_found", []):
        assert fetch(url).status == 404, url


@pytest.mark.parametrize("site", [s for s in LIVE if not s.get("link_hub")], ids=site_id)
def test_listed_pages_are_the_linked_contact_pages(site: dict[str, Any]) -> None:
    linked: set[str] = set()
    for url in site["pages"]:
        linked.update(contact_page_links(page_html(url), url))
    assert set(site["pages"][1:]) <= linked
    assert linked <= set(site["pages"]) | set(site["robots_disallowed"]) | set(
        site.get("not_found", [])
    )


@pytest.mark.parametrize("site", [s for s in SITES if s.get("link_hub")], ids=site_id)
def test_link_hub_points_to_the_own_site(site: dict[str, Any]) -> None:
    hrefs = Selector(text=page_html(site["home"])).css("a::attr(href)").getall()
    assert site["own_site"] in hrefs
    assert any(s["home"] == site["own_site"] and s["producer"] == site["producer"] for s in SITES)


# --- what the extractor reads ----------------------------------------------------------


@pytest.mark.parametrize("site", LIVE, ids=site_id)
def test_extractor_finds_the_expected_contacts(site: dict[str, Any]) -> None:
    # Exactly the producer's contacts: every expected value, nothing else.
    found = extract_all(site["pages"])
    for kind, listed, got in (
        ("email", site["emails"], found.emails),
        ("phone", site["phones"], found.phones),
        ("whatsapp", site["whatsapp"], found.whatsapp),
        ("social", site["social"], found.social),
    ):
        expected = {value_key(v) for v in listed}
        assert got == expected, (
            f"{kind}: missing {sorted(expected - got)}, extra {sorted(got - expected)}"
        )
    if site["cnpj"]:
        assert found.cnpjs == {site["cnpj"]}
        assert found.legal_names == {legal_key(site["legal_name"])}
    else:
        assert not found.cnpjs and not found.legal_names
    assert {offer_key(url) for url in site["platform_offers"]} == found.offers


@pytest.mark.parametrize("site", LIVE, ids=site_id)
def test_extractor_takes_nothing_forbidden(site: dict[str, Any]) -> None:
    found = extract_all(site["pages"])
    wrong = [value for value in site["must_not_contain"] if found.contains(value)]
    assert not wrong


@pytest.mark.parametrize("site", [s for s in LIVE if s["robots_disallowed"]], ids=site_id)
def test_disallowed_pages_hold_only_forbidden_contacts(site: dict[str, Any]) -> None:
    # The fixture is meaningful: the page robots.txt forbids has contacts of its own, and
    # all of them are in must_not_contain (reading it would leak them).
    found = extract_all(site["robots_disallowed"])
    forbidden = {value_key(v) for v in site["must_not_contain"]}
    values = found.emails | found.phones | found.whatsapp
    assert values
    assert values <= forbidden


def test_contacts_belong_to_one_producer() -> None:
    # Identity resolution links appearances that share a contact: a producer's e-mail, phone
    # or profile on any other host of the fixture web (another producer's site, a checkout)
    # would link two different people.
    owner: dict[str, str] = {}
    hosts: dict[str, set[str]] = {}
    for site in SITES:
        hosts.setdefault(site["producer"], set()).add(urlsplit(site["home"]).hostname or "")
        for value in site["emails"] + site["phones"] + site["whatsapp"] + site["social"]:
            assert owner.setdefault(value_key(value), site["producer"]) == site["producer"], value
    for file in sorted(WEB_ROOT.glob("*/**/*.html")):
        host, *rest = file.relative_to(WEB_ROOT).parts
        url = f"https://{host}/{'/'.join(rest).removesuffix('index.html').removesuffix('.html')}"
        found = extract_all_html(file.read_text("utf-8", errors="replace"), url)
        for key in found.normalized():
            producer = owner.get(key)
            assert producer is None or host in hosts[producer], (key, url, producer)
