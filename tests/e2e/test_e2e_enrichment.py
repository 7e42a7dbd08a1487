"""End to end: producers' sites crawled through the fixture web, e-mails checked against a
real DNS server (dnsmasq) — contacts, MX statuses, repaired phones, CNPJ and the stats.

Ground truth: tests/fixtures/sites_expected.json and tests/fixtures/dns_zone.json.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from leadcrawler.domain.platforms import platform_for_url
from tests.conftest import FIXTURES
from tests.e2e.test_e2e_kiwify import leads
from tests.support.dnsserver import DnsServer, running_dnsmasq

SITES = json.loads((FIXTURES / "sites_expected.json").read_text("utf-8"))["sites"]
ZONE = json.loads((FIXTURES / "dns_zone.json").read_text("utf-8"))


def zone_config() -> str:
    lines = [
        "listen-address=127.0.0.1",
        "bind-interfaces",
        "no-resolv",
        "no-hosts",
        "log-queries",
        "local-ttl=300",
        "local=/com.br/",  # anything not listed below does not exist
        "local=/com/",
    ]
    for domain, (exchange, preference) in ZONE["mx"].items():
        lines.append(f"mx-host={domain},{exchange},{preference}")
    for host, address in ZONE["mx_hosts"].items():
        lines.append(f"host-record={host},{address}")
    lines += [f"mx-host={domain},.,0" for domain in ZONE["null_mx"]]
    lines += [f"host-record={domain},{address}" for domain, address in ZONE["a_only"].items()]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def zone_dns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnsServer]:
    probe = next(iter(ZONE["mx_hosts"]))
    with running_dnsmasq(tmp_path_factory.mktemp("zone"), zone_config(), probe) as server:
        yield server


def expected_per_lead() -> list[dict[str, Any]]:
    """A link hub and the site it points to are one producer: one lead, their values joined."""
    by_home = {site["home"]: dict(site) for site in SITES if not site.get("link_hub")}
    for hub in (site for site in SITES if site.get("link_hub")):
        own = by_home[hub["own_site"]]
        for key in ("emails", "phones", "whatsapp", "social", "must_not_contain"):
            own[key] = sorted(set(own[key]) | set(hub[key]))
        own["platform_offers"] = sorted(set(own["platform_offers"]) | set(hub["platform_offers"]))
    return list(by_home.values())


def checkout(url: str) -> str:
    """Short links and product pages name their checkout (kiwify.app/X -> pay.kiwify.com.br/X)."""
    platform = platform_for_url(url)
    assert platform is not None, url
    return platform.checkout_url(url)


def stat(log: str, key: str) -> float:
    match = re.search(rf"'{re.escape(key)}': ([0-9.]+)", log)
    assert match, f"{key} missing from the crawl's stats"
    return float(match.group(1))


def valid(lead: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {c["value"]: c for c in lead["contacts"] if c["kind"] == kind and c["status"] == "valid"}


def test_sites_give_checked_contacts_and_the_stats_say_how_it_went(
    run_crawl,  # type: ignore[no-untyped-def]
    fixture_web,  # type: ignore[no-untyped-def]
    zone_dns: DnsServer,
    sqlite_url: str,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    fixture_web.reset_sequences()
    homes = tmp_path / "sites.txt"
    homes.write_text("\n".join(site["home"] for site in SITES) + "\n")
    result = run_crawl(
        "site",
        sqlite_url,
        f"urls_file={homes}",
        "-sENRICH_DNS_ENABLED=true",
        f"-sENRICH_DNS_NAMESERVERS={zone_dns.address}",
        "-sENRICH_DNS_TIMEOUT=2",
    )
    assert result.returncode == 0, result.log[-3000:]
    stored = {row["domain"]: row for row in leads(sqlite_url)}

    for site in expected_per_lead():
        domain = site["home"].split("//", 1)[1].split("/", 1)[0].removeprefix("www.")
        lead = stored.get(domain)
        assert lead is not None, f"no lead for {site['home']}"  # even a dead site is kept
        if site["dead"]:
            assert lead["contacts"] == []
            continue
        emails = valid(lead, "email")
        assert set(emails) == set(site["emails"]), site["home"]
        for address, contact in emails.items():
            expected = site["email_mx"].get(address.rsplit("@", 1)[1])
            status = contact["details"]["mx_status"]
            if expected == "no-mx+a":
                assert (status, contact["details"]["a_fallback"]) == ("no-mx", True)
            elif expected == "disposable":
                assert contact["details"]["disposable"] is True
            elif expected:
                assert status == expected, address
        assert set(valid(lead, "phone")) == set(site["phones"]), site["home"]
        assert set(valid(lead, "whatsapp")) == set(site["whatsapp"]), site["home"]
        for number, phone in valid(lead, "phone").items():
            assert phone["details"]["phone_type"] in {
                "mobile",
                "landline",
                "toll_free",
                "shared_cost",
            }
            if phone["details"]["phone_type"] == "mobile":
                assert phone["details"]["whatsapp_capable"] is True
                assert phone["details"]["ddd"] == number[3:5]
        assert set(site["social"]) <= set(valid(lead, "social")), site["home"]
        assert lead["cnpj"] == site["cnpj"], site["home"]
        if site.get("legal_name"):
            # "Ltda" and "Ltda." are the same abbreviation.
            assert lead["legal_name"].rstrip(".") == site["legal_name"], site["home"]
        offers = {o["checkout_url"] for o in lead["offers"]}
        assert {checkout(u) for u in site["platform_offers"]} <= offers, site["home"]
        found = {c["value"] for c in lead["contacts"]}
        for value in site["must_not_contain"]:
            assert value not in found, (site["home"], value)

    log = result.log
    assert 0 < stat(log, "leadcrawler/enrich/success_rate") < 100  # the dead site failed
    assert stat(log, "leadcrawler/enrich/mean_seconds_per_lead") > 0
    for field in ("email", "phone", "whatsapp", "social", "cnpj", "website"):
        assert 0 <= stat(log, f"leadcrawler/enrich/coverage/{field}") <= 100
    assert stat(log, "leadcrawler/enrich/coverage/website") == 100
    assert stat(log, "leadcrawler/enrich/site/failed") == sum(site["dead"] for site in SITES)
    # One DNS query per e-mail domain for the whole run.
    for domain in ZONE["mx"]:
        assert zone_dns.logged(domain) <= 1, domain


def test_a_platform_crawl_ends_with_enriched_leads(
    run_crawl, zone_dns: DnsServer, sqlite_url: str
) -> None:  # type: ignore[no-untyped-def]
    from leadcrawler.storage.export import lead_record

    result = run_crawl(
        "kiwify",
        sqlite_url,
        "urls=https://pay.kiwify.com.br/Lm4Np0q,https://kiwify.app/aNa7Vnd,https://pay.kiwify.com.br/Fn8kQ2z",
        "-sENRICH_DNS_ENABLED=true",
        f"-sENRICH_DNS_NAMESERVERS={zone_dns.address}",
    )
    assert result.returncode == 0, result.log[-3000:]
    by_name = {row["name"]: row for row in leads(sqlite_url)}
    ana = by_name["Ana D'Ávila"]  # her checkout and her site, through the sales link
    [email] = valid(ana, "email").values()
    assert (email["value"], email["details"]["mx_status"]) == (
        "contato@anadavilaconfeitaria.com.br",
        "valid-mx",
    )
    assert email["source_url"].startswith("https://www.anadavilaconfeitaria.com.br/")
    whatsapp = valid(ana, "whatsapp")["+5531990001234"]
    phone = valid(ana, "phone")["+5531990001234"]
    assert (phone["details"]["phone_type"], phone["details"]["ddd"], phone["details"]["state"]) == (
        "mobile",
        "31",
        "MG",
    )
    assert phone["details"]["whatsapp_capable"] and whatsapp["details"]["whatsapp_capable"]
    presence = lead_record(ana)["presence"]
    assert presence["own_domain"] == "anadavilaconfeitaria.com.br"
    assert presence["own_domain_mail"] is True
    assert presence["networks"] == ["instagram"]
    assert ana["tier"] in {
        "A",
        "B",
    }  # reachable: a deliverable e-mail on her own domain and WhatsApp
    # Educação Financeira's checkout has no contacts and no site: kept, tier C, explained.
    assert by_name["Educação Financeira Ltda"]["score_reasons"]["no_channel"] < 0
    # Coverage counts the crawl's lead sightings: 1 of 3 pages (the site) had an e-mail.
    assert stat(result.log, "leadcrawler/enrich/coverage/email") == 33.3
    assert stat(result.log, "leadcrawler/enrich/success_rate") == 100.0
