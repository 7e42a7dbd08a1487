"""The pure privacy rules: who a value names, keyed hashes, minimisation, settings."""

from __future__ import annotations

import hashlib

import pytest

import settings.base as base_settings
import settings.production as production_settings
from leadcrawler.domain.items import ContactKind, ContactPoint, Lead, Offer, Sighting
from leadcrawler.privacy.config import DEV_PEPPER, PEPPER_ENV, PrivacyConfig, PrivacyConfigError
from leadcrawler.privacy.gate import LegalBasisMissing, PrivacyGate, require_legal_basis
from leadcrawler.privacy.keys import hashes, key_hash, subject_keys
from leadcrawler.privacy.minimise import find_cpfs, is_cpf, minimise

PEPPER = "a-test-pepper-of-enough-length"


def settings_of(module: object, **overrides: object) -> dict[str, object]:
    values = {n: getattr(module, n) for n in dir(module) if n.isupper()}
    return {**values, **overrides}


@pytest.mark.parametrize(
    "variants",
    [
        ["Foo@GMAIL.com", "foo@gmail.com", " mailto:FOO@gmail.com ", "foo\u200b@gmail.com"],
        ["(11) 91234-5678", "+55 11 9 1234-5678", "0 xx 11 91234-5678", "5511912345678"],
        [
            "https://www.instagram.com/Ana.Doces/",
            "instagram.com/ana.doces",
            "https://instagram.com/ana.doces?igsh=abc",
        ],
        ["11.222.333/0001-81", "11222333000181"],
        ["https://kiwify.app/Fn8kQ2z", "https://pay.kiwify.com.br/Fn8kQ2z?email=x%40y.com"],
    ],
)
def test_case_and_format_variants_name_the_same_person(variants: list[str]) -> None:
    keys = {tuple(subject_keys(v)) for v in variants}
    assert len(keys) == 1, keys
    assert keys.pop()  # and it names someone


def test_values_that_name_nobody_give_no_key() -> None:
    assert subject_keys("") == []
    assert subject_keys("123") == []
    assert subject_keys("not a thing") == []


def test_hashes_are_keyed_and_reveal_nothing() -> None:
    digest = key_hash(PEPPER.encode(), "email:ana@doces.com.br")
    plain = hashlib.sha256(b"email:ana@doces.com.br").hexdigest()
    assert digest != plain  # an unsalted hash is reversible by dictionary: not this
    assert digest != key_hash(b"another-pepper-entirely", "email:ana@doces.com.br")
    assert "ana" not in digest and len(digest) == 64
    assert hashes(PEPPER.encode(), ["a:1", "a:1", "b:2"]) == [
        key_hash(PEPPER.encode(), "a:1"),
        key_hash(PEPPER.encode(), "b:2"),
    ]


def test_cpf_check_digits() -> None:
    assert is_cpf("529.982.247-25")
    assert not is_cpf("529.982.247-26")
    assert not is_cpf("111.111.111-11")
    assert find_cpfs("Produtora: Maria, CPF 52998224725") == ["52998224725"]
    assert find_cpfs("Ligue (11) 98765-4321") == []


def _lead() -> Lead:
    return Lead(
        sighting=Sighting(
            source="kiwify",
            url="https://pay.kiwify.com.br/Fn8kQ2z?email=comprador%40gmail.com&cpf=52998224725",
            spider="kiwify",
        ),
        display_name="Maria Souza - CPF: 529.982.247-25",
        contacts=[
            ContactPoint(
                kind=ContactKind.PHONE,
                value="529.982.247-25",
                source_url="https://loja.com.br/",
                method="text",
            ),
            ContactPoint(
                kind=ContactKind.EMAIL,
                value="contato@loja.com.br",
                source_url="https://loja.com.br/contato?nome=Jo%C3%A3o&email=joao%40gmail.com",
                method="mailto",
                details={"as_written": "contato@loja.com.br", "buyer_cookie": "xyz"},
            ),
            ContactPoint(
                kind=ContactKind.PHONE,
                value="(11) 98765-4321",
                source_url="https://loja.com.br/",
                method="tel",
            ),
        ],
        offers=[
            Offer(platform="kiwify", checkout_url="https://pay.kiwify.com.br/Fn8kQ2z?cpf=1"),
            Offer(platform="x", checkout_url="https://loja.com.br/obrigado/529.982.247-25"),
        ],
        enrichment={"site": "ok", "session_cookie": "abc"},
    )


def test_minimisation_discards_cpfs_buyers_data_and_what_is_not_allowlisted() -> None:
    item = _lead()
    dropped = minimise(item)
    text = repr(item)
    for personal in ("529.982.247-25", "52998224725", "comprador", "joao", "Jo%C3%A3o"):
        assert personal not in text
    assert item.display_name == "Maria Souza"
    assert [c.value for c in item.contacts] == ["contato@loja.com.br", "(11) 98765-4321"]
    assert item.contacts[0].details == {"as_written": "contato@loja.com.br"}
    assert item.contacts[0].source_url == "https://loja.com.br/contato"
    assert [o.checkout_url for o in item.offers] == ["https://pay.kiwify.com.br/Fn8kQ2z"]
    assert item.enrichment == {"site": "ok"}
    assert dropped["cpf"] >= 2 and dropped["contact_detail"] == 1 and dropped["offer_url"] == 1


def test_the_gate_stamps_the_legal_basis_and_knows_the_suppressed() -> None:
    config = PrivacyConfig.from_settings(settings_of(base_settings), {PEPPER_ENV: PEPPER})
    suppressed = hashes(config.pepper, subject_keys("+55 (11) 98765-4321"))
    gate = PrivacyGate(config, suppressed)
    item = _lead()
    with pytest.raises(LegalBasisMissing):
        require_legal_basis(item)
    screening = gate.screen(item)
    require_legal_basis(item)
    assert item.legal_basis == "legitimate_interest"
    assert item.lia_reference == config.lia_reference
    assert screening.suppressed
    other = _lead()
    other.contacts = other.contacts[1:2]
    assert not gate.screen(other).suppressed
    assert gate.url_suppressed("https://kiwify.app/Fn8kQ2z") is False


def test_production_refuses_to_start_without_a_pepper_or_an_assessment() -> None:
    production = settings_of(production_settings, PRIVACY_LIA_REFERENCE="LIA-2026-01")
    with pytest.raises(PrivacyConfigError, match=PEPPER_ENV):
        PrivacyConfig.from_settings(production, {})
    with pytest.raises(PrivacyConfigError, match="at least"):
        PrivacyConfig.from_settings(production, {PEPPER_ENV: "short"})
    assert PrivacyConfig.from_settings(production, {PEPPER_ENV: PEPPER}).pepper == PEPPER.encode()
    with pytest.raises(PrivacyConfigError, match="PRIVACY_LIA_REFERENCE"):
        PrivacyConfig.from_settings(
            settings_of(production_settings, PRIVACY_LIA_REFERENCE=""), {PEPPER_ENV: PEPPER}
        )
    with pytest.raises(PrivacyConfigError, match="PRIVACY_LEGAL_BASIS"):
        PrivacyConfig.from_settings(
            settings_of(base_settings, PRIVACY_LEGAL_BASIS="consent"), {PEPPER_ENV: PEPPER}
        )


def test_development_falls_back_to_the_public_pepper_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import leadcrawler.privacy.config as config_module

    config_module._warned.clear()
    config = PrivacyConfig.from_settings(settings_of(base_settings), {})
    assert config.dev_pepper and config.pepper == DEV_PEPPER.encode()
    assert PEPPER_ENV in caplog.text and "development pepper" in caplog.text
