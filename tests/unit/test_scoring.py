"""Qualification rules: explainable points, tiers, and rule files that reject contradictions."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from leadcrawler.domain.scoring import LeadFacts, Rules, RulesError, score
from settings.base import QUALIFY_RULES_FILE
from tests.support.factories import T0


@pytest.fixture
def rules() -> Rules:
    return Rules.from_file(QUALIFY_RULES_FILE)


def test_reasons_add_up_to_the_score(rules: Rules) -> None:
    facts = LeadFacts(
        business_emails=1,
        whatsapp=True,
        own_domain=True,
        social_networks={"instagram.com"},
        platforms={"kiwify", "hotmart"},
        offers=3,
        max_price=Decimal("497"),
        last_seen=T0,
    )
    result = score(facts, rules, now=T0 + timedelta(days=1))
    assert result.reasons == {
        "business_email": 25,
        "whatsapp": 20,
        "own_domain": 10,
        "social": 3,
        "extra_platforms": 8,
        "offers": 6,
        "price_high": 8,
        "recent": 5,
    }
    assert result.score == sum(result.reasons.values()) == 85
    assert result.tier == "A"


def test_a_lead_with_no_channel_is_penalised_and_tier_c(rules: Rules) -> None:
    result = score(LeadFacts(platforms={"kiwify"}, offers=1), rules, now=T0)
    assert result.reasons["no_channel"] == -15
    assert result.score == 0  # never below zero
    assert result.tier == "C"


def test_role_only_email_is_penalised(rules: Rules) -> None:
    role = score(LeadFacts(business_emails=1, role_emails=1), rules, now=T0)
    personal = score(LeadFacts(business_emails=1), rules, now=T0)
    assert role.reasons["role_only_email"] == -5
    assert personal.score - role.score == 5


def test_stale_leads_lose_the_recency_points(rules: Rules) -> None:
    fresh = score(LeadFacts(free_emails=1, last_seen=T0), rules, now=T0 + timedelta(days=10))
    stale = score(LeadFacts(free_emails=1, last_seen=T0), rules, now=T0 + timedelta(days=90))
    assert "recent" in fresh.reasons and "recent" not in stale.reasons


@pytest.mark.parametrize(
    ("section", "change", "message"),
    [
        ("tiers", {"A": 30, "B": 40}, "tiers"),
        ("prices", {"mid": 500, "high": 100}, "prices.mid"),
        ("weights", {"phone": -3}, "weights"),
        ("penalties", {"no_channel": 5}, "penalties"),
        ("weights", {"phone": "lots"}, "not a number"),
    ],
)
def test_contradictory_rules_are_rejected(
    tmp_path: Path, section: str, change: dict[str, object], message: str
) -> None:
    import tomllib

    raw = tomllib.loads(Path(QUALIFY_RULES_FILE).read_text("utf-8"))
    raw[section].update(change)
    with pytest.raises(RulesError, match=message):
        Rules.from_dict(raw)


def test_missing_rules_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="not found"):
        Rules.from_file(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[weights\n")
    with pytest.raises(RulesError, match="not valid TOML"):
        Rules.from_file(broken)


def test_free_and_disposable_only_contacts_are_penalised(rules: Rules) -> None:
    free = score(LeadFacts(free_emails=1), rules, now=T0)
    assert free.reasons == {"free_email": 12, "free_only_email": -3}
    disposable = score(LeadFacts(disposable_emails=1, phones=1), rules, now=T0)
    assert disposable.reasons == {"phone": 8, "disposable_only_email": -20}
    assert disposable.score == 0


def test_undeliverable_and_disposable_emails_earn_nothing() -> None:
    from leadcrawler.domain.facts import ContactView, LeadView, build_facts

    def email(**details: object) -> ContactView:
        return ContactView("email", "a@b.com.br", "valid", dict(details))

    facts = build_facts(
        LeadView(
            [
                email(mx_status="null-mx"),
                email(mx_status="nxdomain"),
                email(mx_status="no-mx", a_fallback=False),
                email(disposable=True),
            ],
            [],
            domain=None,
            cnpj=None,
            last_seen=None,
        )
    )
    assert (facts.business_emails, facts.undeliverable_emails, facts.disposable_emails) == (0, 3, 1)
    ok = build_facts(
        LeadView(
            [
                email(mx_status="valid-mx"),
                email(mx_status="no-mx", a_fallback=True),
                email(mx_status="dns-timeout"),
            ],
            [],
            domain=None,
            cnpj=None,
            last_seen=None,
        )
    )
    assert ok.business_emails == 3  # a DNS timeout is retried later, not held against it


def test_a_network_counts_once_whatever_host_its_links_use() -> None:
    from leadcrawler.domain.facts import ContactView, LeadView, build_facts

    def social(url: str) -> ContactView:
        return ContactView("social", url, "valid", {})

    facts = build_facts(
        LeadView(
            [
                social("https://twitter.com/anadoces"),
                social("https://x.com/anadoces"),
                social("https://m.facebook.com/anadoces"),
                social("https://www.instagram.com/anadoces/"),
                social("https://www.pinterest.com/anadoces/"),
            ],
            [],
            domain=None,
            cnpj=None,
            last_seen=None,
        )
    )
    assert facts.social_networks == {"x", "facebook", "instagram", "pinterest.com"}
