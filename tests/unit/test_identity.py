"""Identity rules: strong keys, the weak domain key, social handles, name agreement."""

from __future__ import annotations

import pytest

from leadcrawler.domain.identity import identity_keys, is_weak, lookups, names_agree, social_key


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://www.instagram.com/Ana.Doces/", "social:instagram.com/ana.doces"),
        ("https://instagram.com/ana.doces?igsh=x", "social:instagram.com/ana.doces"),
        ("https://instagram.com/p/Cx123/", None),
        ("https://www.instagram.com/reel/Cx123/", None),
        ("https://www.youtube.com/@CanalDaAna", "social:youtube.com/@canaldaana"),
        ("https://youtube.com/channel/UCabc", "social:youtube.com/channel/ucabc"),
        ("https://youtube.com/watch?v=abc", None),
        ("https://twitter.com/ana", "social:x.com/ana"),
        ("https://www.linkedin.com/in/ana-souza/", "social:linkedin.com/in/ana-souza"),
        ("https://linktr.ee/anasouza", "social:linktr.ee/anasouza"),
        ("https://t.me/joinchat/abc", None),
        ("https://example.com/ana", None),
    ],
)
def test_social_handles(url: str, key: str | None) -> None:
    assert social_key(url) == key


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://m.facebook.com/anadoces", "social:facebook.com/anadoces"),
        ("https://telegram.me/anadoces", None),
        ("https://instagr.am/anadoces", None),
        ("https://fb.com/anadoces", None),
        ("https://mobile.facebook.com/anadoces", None),
        ("https://web.facebook.com/anadoces", None),
    ],
)
def test_social_keys_stay_as_stored(url: str, key: str | None) -> None:
    """Network names come from domain/social.py, but a key is what the base already holds:
    aliases and prefixes that never made a key still make none (keying them is a re-key of
    the base, not a code change)."""
    assert social_key(url) == key


def test_free_mail_domains_never_become_keys() -> None:
    keys = identity_keys(cnpj=None, domain="gmail.com", contacts=[], offers=[])
    assert keys == []
    keys = identity_keys(cnpj=None, domain="anadoces.com.br", contacts=[], offers=[])
    assert keys == ["domain:anadoces.com.br"]
    assert is_weak(keys[0])


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Ana D'Ávila", "ANA D AVILA", True),
        ("Ana D'Ávila", "Ana D'Ávila Confeitaria", True),
        ("Educação Financeira Ltda", "EDUCACAO FINANCEIRA LTDA.", True),
        ("Ana", "Ana Souza", False),  # a lone first name is no evidence
        ("Ana Souza", "Bia Lima", False),
        ("Ana Souza", None, False),
    ],
)
def test_names_agree(a: str, b: str | None, same: bool) -> None:
    assert names_agree(a, b) is same


def test_a_checkout_a_site_links_is_a_weak_key_that_meets_the_checkout() -> None:
    keys = identity_keys(
        cnpj=None,
        domain=None,
        contacts=[],
        offers=[("kiwify", "https://pay.kiwify.com.br/AbC1234", None)],
        linked=["https://pay.kiwify.com.br/XyZ9876"],
    )
    assert keys == [
        "checkout:https://pay.kiwify.com.br/AbC1234",
        "linked:https://pay.kiwify.com.br/XyZ9876",
    ]
    assert not is_weak(keys[0])
    assert is_weak(keys[1])
    # Both spellings find each other, and only weakly (names must agree).
    assert lookups("linked:https://pay.kiwify.com.br/X") == [
        ("linked:https://pay.kiwify.com.br/X", True),
        ("checkout:https://pay.kiwify.com.br/X", True),
    ]
    assert lookups("checkout:https://pay.kiwify.com.br/X") == [
        ("checkout:https://pay.kiwify.com.br/X", False),
        ("linked:https://pay.kiwify.com.br/X", True),
    ]
    assert lookups("email:a@b.com.br") == [("email:a@b.com.br", False)]
