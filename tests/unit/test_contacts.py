from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from leadcrawler.domain.items import Certainty, ContactKind, ContactPoint
from leadcrawler.domain.social import social_profile
from leadcrawler.domain.urls import is_platform_domain
from leadcrawler.extraction.contacts import (
    PageContacts,
    PlatformLink,
    contact_page_links,
    decode_cfemail,
    extract_contacts,
    extract_page,
    find_cnpjs,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SITE = FIXTURES / "web" / "www.anadavilaconfeitaria.com.br"
URL = "https://www.loja.com.br/"
VALID_CNPJ = "11.222.333/0001-81"
ALNUM_CNPJ = "12.ABC.345/01DE-35"  # the alphanumeric CNPJ (from July 2026)


def page(body: str, url: str = URL) -> PageContacts:
    return extract_page(f"<html><body>{body}</body></html>", url)


def values(body: str, kind: ContactKind) -> list[str]:
    return [c.value for c in page(body).contacts if c.kind == kind]


def only(body: str, kind: ContactKind) -> ContactPoint:
    found = [c for c in page(body).contacts if c.kind == kind]
    assert len(found) == 1, found
    return found[0]


def cfemail(address: str, key: int = 0x5A) -> str:
    """Cloudflare's encoding: the key byte, then each UTF-8 byte XOR the key, in hex."""
    return bytes([key, *(b ^ key for b in address.encode("utf-8"))]).hex()


# --- the fixture site ------------------------------------------------------------------


def test_fixture_home_page() -> None:
    url = "https://www.anadavilaconfeitaria.com.br/"
    result = extract_page((SITE / "index.html").read_text("utf-8"), url)
    got = {(c.kind, c.value, c.method, c.certainty) for c in result.contacts}
    assert got == {
        (
            ContactKind.EMAIL,
            "contato@anadavilaconfeitaria.com.br",
            "mailto",
            Certainty.CERTAIN,
        ),
        (
            ContactKind.WHATSAPP,
            "https://wa.me/5531990001234?text=Ol%C3%A1%20Ana",
            "wa.me",
            Certainty.CERTAIN,
        ),
        (
            ContactKind.SOCIAL,
            "https://www.instagram.com/anadavila.confeitaria/",
            "link",
            Certainty.CERTAIN,
        ),
    }
    assert all(c.source_url == url for c in result.contacts)
    assert result.platform_links == [
        PlatformLink("kiwify", "https://pay.kiwify.com.br/Lm4Np0q", "Lm4Np0q"),
        PlatformLink("kiwify", "https://pay.kiwify.com.br/q2W9eRt", "q2W9eRt"),
    ]
    assert result.rejected == {"whatsapp/group_invite": 1}
    assert contact_page_links((SITE / "index.html").read_text("utf-8"), url) == [
        "https://www.anadavilaconfeitaria.com.br/contato"
    ]


def test_fixture_contact_page() -> None:
    url = "https://www.anadavilaconfeitaria.com.br/contato"
    body = (SITE / "contato.html").read_bytes()
    response = HtmlResponse(url=url, body=body, encoding="utf-8")
    result = extract_page(response)
    assert result.url == url
    [email, phone] = result.contacts
    assert (email.kind, email.value, email.method) == (
        ContactKind.EMAIL,
        "contato@anadavilaconfeitaria.com.br",
        "obfuscated",
    )
    assert email.details == {"as_written": "contato [arroba] anadavilaconfeitaria.com.br"}
    assert (phone.kind, phone.value, phone.certainty) == (
        ContactKind.PHONE,
        "(31) 99000-1234",
        Certainty.CERTAIN,  # "chame no WhatsApp (31) ...": labelled
    )
    assert phone.details == {"label": "whatsapp"}
    # ajuda.kiwify.com.br is the platform's help centre, not the producer's.
    assert result.platform_links == []
    assert contact_page_links(response) == []  # links to "/" and to itself only


def test_response_and_text_give_the_same_result() -> None:
    html = '<html><body><a href="mailto:ana@loja.com.br">x</a> (11) 3456-7890</body></html>'
    response = HtmlResponse(url=URL, body=html.encode(), encoding="utf-8")
    from_response = [(c.kind, c.value, c.method) for c in extract_contacts(response)]
    from_text = [(c.kind, c.value, c.method) for c in extract_contacts(html, URL)]
    assert from_response == from_text
    assert len(from_text) == 2


def test_html_text_needs_a_url() -> None:
    with pytest.raises(ValueError, match="URL"):
        extract_page("<p>x</p>")
    with pytest.raises(ValueError, match="URL"):
        contact_page_links("<p>x</p>")


def test_provenance_on_every_contact() -> None:
    when = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    html = '<a href="tel:+5511912345678">x</a> <a href="https://instagram.com/ana">i</a>'
    contacts = extract_page(html, URL, found_at=when).contacts
    assert len(contacts) == 2
    assert all(c.source_url == URL and c.found_at == when for c in contacts)


# --- e-mails --------------------------------------------------------------------------


def test_mailto_is_certain_and_loses_its_query() -> None:
    contact = only(
        '<a href="mailto:Vendas@Loja.com.br?subject=Ol%C3%A1&body=x">fale</a>', ContactKind.EMAIL
    )
    assert (contact.value, contact.method, contact.certainty) == (
        "Vendas@Loja.com.br",
        "mailto",
        Certainty.CERTAIN,
    )


def test_mailto_with_percent_encoding_and_several_addresses() -> None:
    body = '<a href="mailto:ana%40loja.com.br,%20bia@loja.com.br">x</a>'
    assert values(body, ContactKind.EMAIL) == ["ana@loja.com.br", "bia@loja.com.br"]


def test_text_email_is_uncertain() -> None:
    contact = only("<p>Escreva para ana.souza@loja.com.br.</p>", ContactKind.EMAIL)
    assert (contact.value, contact.method, contact.certainty) == (
        "ana.souza@loja.com.br",
        "text",
        Certainty.UNCERTAIN,
    )


def test_same_address_in_link_and_text_is_one_certain_contact() -> None:
    body = '<p>ana@loja.com.br</p><a href="mailto:ana@loja.com.br">ana@loja.com.br</a>'
    contact = only(body, ContactKind.EMAIL)
    assert (contact.method, contact.certainty) == ("mailto", Certainty.CERTAIN)


def test_addresses_differing_in_case_are_one() -> None:
    assert len(values("<p>Ana@LOJA.com.br e ana@loja.com.br</p>", ContactKind.EMAIL)) == 1


@pytest.mark.parametrize(
    ("written", "address"),
    [
        ("contato [arroba] dominio.com.br", "contato@dominio.com.br"),
        ("contato (arroba) dominio.com.br", "contato@dominio.com.br"),
        ("contato arroba dominio.com.br", "contato@dominio.com.br"),
        ("contato(at)dominio(dot)com", "contato@dominio.com"),
        ("contato [at] dominio [dot] com [dot] br", "contato@dominio.com.br"),
        ("contato {at} dominio [ponto] com [ponto] br", "contato@dominio.com.br"),
        ("contato [arroba] dominio [ponto] com", "contato@dominio.com"),
        ("contato arroba dominio ponto com ponto br", "contato@dominio.com.br"),
        ("contato @ dominio.com.br", "contato@dominio.com.br"),
        ("CONTATO [AT] DOMINIO [DOT] COM", "CONTATO@DOMINIO.COM"),
    ],
)
def test_obfuscated_addresses(written: str, address: str) -> None:
    contact = only(f"<p>Escreva: {written}, obrigado.</p>", ContactKind.EMAIL)
    assert (contact.value, contact.method, contact.certainty) == (
        address,
        "obfuscated",
        Certainty.UNCERTAIN,
    )
    assert contact.details == {"as_written": written}


def test_obfuscation_stops_at_the_end_of_the_address() -> None:
    body = "<p>ana arroba loja.com.br ponto de venda</p>"
    assert values(body, ContactKind.EMAIL) == ["ana@loja.com.br"]


@pytest.mark.parametrize(
    "text",
    [
        "Meet us at loja.com.br",  # English "at" without brackets
        "Compre 1 arroba de carne",
        "Vendemos por arroba.",
    ],
)
def test_sentences_are_not_obfuscated_addresses(text: str) -> None:
    assert values(f"<p>{text}</p>", ContactKind.EMAIL) == []


def test_html_entities_are_decoded() -> None:
    body = (
        "<p>&#99;&#111;&#110;&#116;&#97;&#116;&#111;&#64;loja&#46;com&#46;br</p>"
        '<a href="mailto:&#118;endas&commat;loja.com.br">x</a>'
    )
    assert sorted(values(body, ContactKind.EMAIL)) == ["contato@loja.com.br", "vendas@loja.com.br"]


def test_cloudflare_cfemail() -> None:
    encoded = cfemail("contato@loja.com.br")
    body = (
        f'<a href="/cdn-cgi/l/email-protection#{encoded}">'
        f'<span class="__cf_email__" data-cfemail="{encoded}">[email&#160;protected]</span></a>'
    )
    contact = only(body, ContactKind.EMAIL)
    assert (contact.value, contact.method, contact.certainty) == (
        "contato@loja.com.br",
        "cfemail",
        Certainty.CERTAIN,
    )


def test_cloudflare_email_protection_link_alone() -> None:
    body = f'<a href="/cdn-cgi/l/email-protection#{cfemail("ana@loja.com.br", 0x13)}">x</a>'
    assert values(body, ContactKind.EMAIL) == ["ana@loja.com.br"]


@pytest.mark.parametrize(
    ("encoded", "decoded"),
    [
        (cfemail("a@b.com.br"), "a@b.com.br"),
        (cfemail("usuário@empresa.com.br", 0xA5), "usuário@empresa.com.br"),
        ("", None),
        ("5a", None),  # the key alone
        ("zz11", None),
        ("5a3", None),  # odd length
        ("00ff", None),  # not UTF-8
    ],
)
def test_decode_cfemail(encoded: str, decoded: str | None) -> None:
    assert decode_cfemail(encoded) == decoded


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("logo@2x.png", "email/file_name"),
        ("banner@3x.webp", "email/file_name"),
        ("lib@1.2.0.min.js", "email/file_name"),
        ("contato@example.com", "email/special_use_domain"),
        ("contato@\u0430pple.com", "email/homoglyph"),  # Cyrillic a
        ("contato@loja.invalidtld", "email/unknown_tld"),
    ],
)
def test_junk_addresses_are_not_contacts(text: str, reason: str) -> None:
    result = page(f'<p>{text}</p><img src="/img/{text}">')
    assert result.contacts == []
    assert result.rejected == {reason: 1}


@pytest.mark.parametrize(
    "text",
    ["a@[127.0.0.1]", "x@localhost", '"john doe"@example.com', "@loja.com.br", "ana@", "a@b"],
)
def test_non_addresses_are_not_found(text: str) -> None:
    assert values(f"<p>{text}</p>", ContactKind.EMAIL) == []


def test_zero_width_and_bidi_characters_are_dropped() -> None:
    body = "<p>con\u200btato@lo\u200dja.com.br e \u202eana@loja.com.br</p>"
    assert values(body, ContactKind.EMAIL) == ["contato@loja.com.br", "ana@loja.com.br"]


def test_full_width_at_sign() -> None:
    assert values("<p>contato\uff20loja.com.br</p>", ContactKind.EMAIL) == ["contato@loja.com.br"]


def test_internationalised_addresses_are_kept_whole() -> None:
    body = "<p>user@exämple.com.br e usuário@empresa.com.br</p>"
    assert values(body, ContactKind.EMAIL) == ["user@exämple.com.br", "usuário@empresa.com.br"]


def test_overlong_address_is_not_a_contact() -> None:
    assert values(f"<p>{'a' * 65}@loja.com.br</p>", ContactKind.EMAIL) == []


def test_emails_in_scripts_styles_and_attributes_are_ignored() -> None:
    body = (
        "<script>var e = 'ana@loja.com.br';</script><style>/* bia@loja.com.br */</style>"
        '<input value="cia@loja.com.br"><template><p>dani@loja.com.br</p></template>'
        "<!-- eva@loja.com.br -->"
    )
    assert values(body, ContactKind.EMAIL) == []


def test_text_in_separate_blocks_does_not_join() -> None:
    assert values("<p>contato</p><p>@loja.com.br</p>", ContactKind.EMAIL) == []


# --- phones ---------------------------------------------------------------------------


def test_tel_link_is_certain() -> None:
    contact = only('<a href="tel:+55-11-91234-5678">Ligue</a>', ContactKind.PHONE)
    assert (contact.value, contact.method, contact.certainty) == (
        "+55-11-91234-5678",
        "tel",
        Certainty.CERTAIN,
    )


def test_tel_link_and_the_same_number_in_text_are_one() -> None:
    body = '<p>(11) 91234-5678</p><a href="tel:11912345678">(11) 91234-5678</a>'
    contact = only(body, ContactKind.PHONE)
    assert contact.method == "tel"


@pytest.mark.parametrize(
    "written",
    [
        "(11) 98765-4321",
        "11 9 8765-4321",
        "+55 (11) 98765-4321",
        "+55 11 9 8765-4321",
        "0 xx 11 98765-4321",
        "(11) 3456-7890",
        "0800 123 4567",
        "4004-0000",
        "3003 1234",
        "(11) 9123-4567",  # legacy 8-digit mobile: valid once repaired
        "+1 415 555 2671",
    ],
)
def test_brazilian_text_formats(written: str) -> None:
    contact = only(f"<p>Chame a gente em {written} hoje.</p>", ContactKind.PHONE)
    assert (contact.value, contact.method, contact.certainty) == (
        written,
        "text",
        Certainty.UNCERTAIN,
    )


@pytest.mark.parametrize(
    ("body", "label"),
    [
        ("<p>Telefone: (11) 3456-7890</p>", "telefone"),
        ("<p>Tel.: (11) 3456-7890</p>", "tel"),
        ("<p><strong>WhatsApp:</strong> (11) 98765-4321</p>", "whatsapp"),
        ("<p>Contato: (11) 3456-7890 ou (11) 98765-4321</p>", "contato"),
        ("<p>Fale com a gente pelo WhatsApp (11) 98765-4321</p>", "whatsapp"),
        ("<dl><dt>Telefone</dt><dd>(11) 3456-7890</dd></dl>", "telefone"),
        ("<p>SAC<br>0800 123 4567</p>", "sac"),
    ],
)
def test_labelled_phones_are_certain(body: str, label: str) -> None:
    phones = [c for c in page(body).contacts if c.kind == ContactKind.PHONE]
    assert phones
    for contact in phones:
        assert contact.certainty == Certainty.CERTAIN
        assert contact.details == {"label": label}


@pytest.mark.parametrize(
    "text",
    [
        "CNPJ 11.222.333/0001-81",
        "CPF 119.123.456-78",
        "CPF: 11912345678",
        "Em 12/05/2024 às 10h",
        "CEP 01310-100",
        "R$ 1.997,00 ou 12x de R$ 197,90",
        "Pedido 11987654321",  # a bare digit run in loose text: an id, not a phone
        "Código 91234-5678",  # no DDD: which area is unknown
        "Ligue 123",
        "https://loja.com.br/p/11987654321",
    ],
)
def test_numbers_that_are_not_phones(text: str) -> None:
    assert values(f"<p>{text}</p>", ContactKind.PHONE) == []


# --- WhatsApp -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "href",
    [
        "https://wa.me/5511912345678",
        "https://wa.me/5511912345678?text=Ol%C3%A1",
        "https://api.whatsapp.com/send?phone=5511912345678&text=oi",
        "https://web.whatsapp.com/send?phone=5511912345678",
        "whatsapp://send?phone=5511912345678",
    ],
)
def test_whatsapp_links(href: str) -> None:
    contact = only(f'<a href="{href}">WhatsApp</a>', ContactKind.WHATSAPP)
    assert (contact.value, contact.method, contact.certainty) == (href, "wa.me", Certainty.CERTAIN)


def test_percent_encoded_whatsapp_link() -> None:
    href = "https://wa.me/+55%2031%2099876-5432"
    contact = only(f'<a href="{href}">31 99876-5432</a>', ContactKind.WHATSAPP)
    assert (contact.value, contact.method) == (href, "wa.me")
    body = f'<a href="{href}">a</a><a href="https://wa.me/5531998765432">b</a>'
    assert len(values(body, ContactKind.WHATSAPP)) == 1  # the same number


def test_whatsapp_links_to_one_number_are_one() -> None:
    body = (
        '<a href="https://wa.me/5511912345678">a</a>'
        '<a href="https://api.whatsapp.com/send?phone=5511912345678">b</a>'
    )
    assert len(values(body, ContactKind.WHATSAPP)) == 1


@pytest.mark.parametrize(
    ("href", "reason"),
    [
        ("https://chat.whatsapp.com/Hf2XbQ9kLmN4pRtV7sYzA1", "whatsapp/group_invite"),
        ("https://wa.me/message/ABCDEF123", "whatsapp/no_number"),
        ("https://api.whatsapp.com/send?text=oi", "whatsapp/no_number"),
    ],
)
def test_whatsapp_links_without_a_person(href: str, reason: str) -> None:
    result = page(f'<a href="{href}">Grupo</a>')
    assert result.contacts == []
    assert result.rejected == {reason: 1}


# --- social profiles ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "network", "handle", "canonical"),
    [
        (
            "https://www.instagram.com/ana.doces/",
            "instagram",
            "ana.doces",
            "https://instagram.com/ana.doces",
        ),
        ("https://instagram.com/ana_doces?igsh=abc", "instagram", "ana_doces", None),
        ("https://www.youtube.com/@AnaDoces", "youtube", "@AnaDoces", None),
        ("https://youtube.com/@AnaDoces/videos", "youtube", "@AnaDoces", None),
        ("https://www.youtube.com/channel/UC1234567890", "youtube", "channel/UC1234567890", None),
        ("https://m.youtube.com/c/AnaDoces", "youtube", "c/AnaDoces", None),
        ("https://www.tiktok.com/@ana.doces", "tiktok", "@ana.doces", None),
        ("https://www.facebook.com/anadoces", "facebook", "anadoces", None),
        ("https://m.facebook.com/anadoces/", "facebook", "anadoces", None),
        (
            "https://www.facebook.com/profile.php?id=100012345",
            "facebook",
            "profile.php?id=100012345",
            "https://facebook.com/profile.php?id=100012345",
        ),
        ("https://www.linkedin.com/in/ana-doces/", "linkedin", "in/ana-doces", None),
        ("https://br.linkedin.com/company/ana-doces", "linkedin", "company/ana-doces", None),
        ("https://t.me/anadoces", "telegram", "anadoces", None),
        ("https://x.com/anadoces", "x", "anadoces", None),
        ("https://twitter.com/anadoces", "x", "anadoces", "https://x.com/anadoces"),
        ("https://linktr.ee/anadoces", "linktree", "anadoces", None),
    ],
)
def test_social_profiles(url: str, network: str, handle: str, canonical: str | None) -> None:
    profile = social_profile(url)
    assert profile is not None
    assert (profile.network, profile.handle) == (network, handle)
    assert profile.link_hub == (network == "linktree")
    if canonical:
        assert profile.url == canonical


@pytest.mark.parametrize(
    "url",
    [
        "https://www.instagram.com/p/Cx1abc/",
        "https://www.instagram.com/reel/Cx1abc/",
        "https://www.instagram.com/reels/Cx1abc/",
        "https://www.instagram.com/explore/tags/doces/",
        "https://www.instagram.com/stories/ana/123/",
        "https://www.instagram.com/ana/p/Cx1abc/",
        "https://www.youtube.com/watch?v=abc",
        "https://www.youtube.com/shorts/abc",
        "https://www.youtube.com/embed/abc",
        "https://youtu.be/abc",
        "https://www.tiktok.com/@ana.doces/video/123",
        "https://www.tiktok.com/tag/doces",
        "https://www.facebook.com/sharer.php?u=https://loja.com.br",
        "https://www.facebook.com/sharer/sharer.php?u=x",
        "https://www.facebook.com/anadoces/posts/123",
        "https://www.facebook.com/groups/123",
        "https://www.facebook.com/share/abc",
        "https://www.linkedin.com/shareArticle?url=x",
        "https://www.linkedin.com/posts/ana_123",
        "https://t.me/joinchat/AAAA",
        "https://t.me/+AbCdEf",
        "https://t.me/share/url?url=x",
        "https://t.me/anadoces/123",
        "https://twitter.com/intent/tweet?text=x",
        "https://x.com/share?url=x",
        "https://x.com/anadoces/status/123",
        # Linktree's own pages, not hubs
        "https://linktr.ee/register?utm_source=linktree_profile&utm_campaign=anadoces",
        "https://linktr.ee/privacy",
        "https://linktr.ee/s/about/trust-center/report/?profile=anadoces",
        "https://linktr.ee/login",
        "https://linktr.ee/signup",
        "https://linktr.ee/Terms",
        "https://linktr.ee/blog",
        "https://linktr.ee/help",
        "https://linktr.ee/marketplace",
        "https://linktr.ee/discover",
        "https://linktr.ee/features",
        "https://linktr.ee/pricing",
        "https://linktr.ee/templates",
        "https://linktr.ee/?utm_source=linktree_profile",
        "https://www.instagram.com/kiwify/",  # a platform's own profile
        "https://www.instagram.com/hotmartbr/",
        "https://notinstagram.com/ana",
        "mailto:ana@instagram.com",
        "https://instagram.com/",
    ],
)
def test_not_profiles(url: str) -> None:
    assert social_profile(url) is None


def test_social_contact_details() -> None:
    body = '<a href="https://linktr.ee/anadoces">links</a>'
    contact = only(body, ContactKind.SOCIAL)
    assert (contact.value, contact.method, contact.certainty) == (
        "https://linktr.ee/anadoces",
        "link",
        Certainty.CERTAIN,
    )
    assert contact.details == {"network": "linktree", "handle": "anadoces", "link_hub": True}


def test_share_buttons_are_counted_not_taken() -> None:
    result = page(
        '<a href="https://www.facebook.com/sharer.php?u=x">f</a>'
        '<a href="https://twitter.com/intent/tweet?text=x">t</a>'
    )
    assert result.contacts == []
    assert result.rejected == {"social/not_a_profile": 2}


def test_same_profile_twice_is_one() -> None:
    body = '<a href="https://www.instagram.com/ana/">a</a><a href="https://instagram.com/Ana?igsh=1">b</a>'
    assert len(values(body, ContactKind.SOCIAL)) == 1


# --- platforms ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "pay.kiwify.com.br",
        "ajuda.kiwify.com.br",
        "kiwify.com.br",
        "kiwify.app",
        "hotmart.com",
        "suporte.hotmart.com",
        "hub.la",
        "app.hub.la",
        "sun.eduzz.com",
        "x.eduzz.com",
        "suporte@kiwify.com.br",
    ],
)
def test_platform_domains(host: str) -> None:
    assert is_platform_domain(host)


@pytest.mark.parametrize("host", ["loja.com.br", "kiwifyfake.com.br", "hub.la.loja.com.br"])
def test_not_platform_domains(host: str) -> None:
    assert not is_platform_domain(host)


def test_platform_contacts_are_never_taken() -> None:
    result = page(
        '<a href="mailto:suporte@kiwify.com.br">k</a> <p>ajuda@hotmart.com, contato@hub.la</p>'
        '<a href="https://ajuda.kiwify.com.br/">ajuda</a>'
    )
    assert result.contacts == []
    assert result.rejected == {"email/platform": 3}


def test_platform_links() -> None:
    result = page(
        '<a href="https://pay.kiwify.com.br/Lm4Np0q?src=site&email=buyer@x.com">a</a>'
        '<a href="https://pay.hotmart.com/A12345678B?off=x">b</a>'
        '<a href="https://pay.kiwify.com.br/Lm4Np0q">again</a>'
        '<a href="https://members.kiwify.com/area">members</a>'
    )
    assert result.platform_links == [
        PlatformLink("kiwify", "https://pay.kiwify.com.br/Lm4Np0q", "Lm4Np0q"),
        PlatformLink("hotmart", "https://pay.hotmart.com/A12345678B", "A12345678B"),
        PlatformLink("kiwify", "https://members.kiwify.com/area", None),
    ]
    assert result.contacts == []


# --- agency credits -------------------------------------------------------------------


@pytest.mark.parametrize(
    "credit",
    [
        'Desenvolvido por <a href="https://agencia.com.br">Agência X</a>',
        'Site por <a href="https://agencia.com.br">Agência X</a>',
        'Criado por <a href="https://agencia.com.br">Agência X</a>',
        'Feito com ♥ por <a href="https://agencia.com.br">Agência X</a>',
        'Powered by <a href="https://agencia.com.br">Agência X</a>',
        'by <a href="https://agencia.com.br">Agência X</a>',
        '<a href="https://agencia.com.br">Desenvolvido por Agência X</a>',
    ],
)
def test_agency_credit_in_footer_is_ignored(credit: str) -> None:
    body = (
        '<main><a href="mailto:ana@loja.com.br">Ana</a></main>'
        f"<footer><p>© 2024 Ana Doces</p><p>{credit} · contato@agencia.com.br "
        '<a href="https://instagram.com/agenciax">@agenciax</a> '
        '<a href="mailto:oi@agencia.com.br">e-mail</a> (11) 3456-7890</p></footer>'
    )
    result = page(body)
    assert [c.value for c in result.contacts] == ["ana@loja.com.br"]
    assert result.rejected.get("credit", 0) >= 2


def test_credit_keeps_what_is_before_it_on_the_line() -> None:
    body = (
        f"<footer><p>Ana Doces LTDA, CNPJ {VALID_CNPJ}, ana@loja.com.br | Desenvolvido por "
        '<a href="https://agencia.com.br">Agência X</a> oi@agencia.com.br</p>'
        '<p><a href="https://instagram.com/anadoces">Instagram</a></p></footer>'
    )
    result = page(body)
    assert [c.value for c in result.contacts] == [
        "https://instagram.com/anadoces",
        "ana@loja.com.br",
    ]
    assert result.cnpjs == ["11222333000181"]


def test_credit_in_the_middle_of_a_text_is_cut() -> None:
    # The cut is kept for the <p> itself, whatever lxml does with its Python proxies.
    body = "<footer><p>ana@loja.com.br · Site por Agência X - oi@agencia.com.br</p></footer>"
    assert values(body, ContactKind.EMAIL) == ["ana@loja.com.br"]


def test_credit_element_by_class() -> None:
    body = (
        '<div class="site-credits"><a href="https://instagram.com/agenciax">Agência X</a></div>'
        '<a href="https://instagram.com/anadoces">Ana</a>'
    )
    assert values(body, ContactKind.SOCIAL) == ["https://instagram.com/anadoces"]


def test_a_course_made_by_the_producer_is_not_a_credit() -> None:
    # "criado por" outside a footer describes the course, and her links are hers.
    body = (
        "<main><section><h2>Sobre o curso</h2><p>Método criado por Ana D'Ávila, confeiteira há "
        "12 anos, que ensina mais de 3 mil alunas a vender doces de casa. Siga "
        '<a href="https://instagram.com/anadoces">@anadoces</a>.</p></section></main>'
    )
    assert values(body, ContactKind.SOCIAL) == ["https://instagram.com/anadoces"]


# --- CNPJ and legal name --------------------------------------------------------------


def test_cnpj_with_verified_check_digits() -> None:
    result = page(
        f"<footer><p>Ana Doces LTDA - CNPJ {VALID_CNPJ}</p>"
        "<p>Outro: 11.222.333/0001-82 e 00.000.000/0000-00</p></footer>"
    )
    assert result.cnpjs == ["11222333000181"]
    assert result.legal_names == ["Ana Doces LTDA"]
    assert result.rejected == {"cnpj/check_digits": 2}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"CNPJ {VALID_CNPJ}", ["11222333000181"]),
        ("CNPJ: 11222333000181", ["11222333000181"]),
        ("CNPJ nº 11.222.333/0001-81", ["11222333000181"]),
        ("11.222.333 / 0001-81", ["11222333000181"]),
        (f"CNPJ {ALNUM_CNPJ}", ["12ABC34501DE35"]),
        ("11.222.333/0001-82", []),
        ("11222333000181", []),  # bare digits without the label: could be anything
        ("CPF 529.982.247-25", []),
        (f"{VALID_CNPJ} e {VALID_CNPJ}", ["11222333000181", "11222333000181"]),
    ],
)
def test_find_cnpjs(text: str, expected: list[str]) -> None:
    assert find_cnpjs(text) == expected


@pytest.mark.parametrize(
    ("text", "name"),
    [
        (f"© 2024 Ana Doces LTDA - CNPJ {VALID_CNPJ}", "Ana Doces LTDA"),
        (f"ANA D'ÁVILA CONFEITARIA LTDA. CNPJ: {VALID_CNPJ}", "ANA D'ÁVILA CONFEITARIA LTDA."),
        (f"Razão social: Confeitaria da Ana Ltda, CNPJ {VALID_CNPJ}", "Confeitaria da Ana Ltda"),
        (f"CNPJ {VALID_CNPJ} - Ana Souza Cursos ME", "Ana Souza Cursos ME"),
        (f"Todos os direitos reservados a Ana Doces EIRELI, CNPJ {VALID_CNPJ}", "Ana Doces EIRELI"),
        (f"CNPJ {VALID_CNPJ}", None),
    ],
)
def test_legal_name_next_to_the_cnpj(text: str, name: str | None) -> None:
    assert page(f"<footer><p>{text}</p></footer>").legal_names == ([name] if name else [])


@pytest.mark.parametrize(
    ("html", "name"),
    [
        (f"<p>Ana Doces Ltda<br>CNPJ: {VALID_CNPJ}<br>Belo Horizonte/MG</p>", "Ana Doces Ltda"),
        (f"<p>Razão social: Ana Doces Ltda<br/>CNPJ {VALID_CNPJ}</p>", "Ana Doces Ltda"),
        (f"<p>Ana Doces Ltda</p><p>CNPJ: {VALID_CNPJ}</p>", None),  # another paragraph
        (f"<p>Ana Doces Ltda<br>Rua das Flores, 10<br>CNPJ: {VALID_CNPJ}</p>", None),
        (f"<p>Ana Doces ME<br>Outra Empresa Ltda - CNPJ {VALID_CNPJ}</p>", "Outra Empresa Ltda"),
    ],
)
def test_legal_name_on_the_line_above_the_cnpj(html: str, name: str | None) -> None:
    result = page(html)
    assert result.cnpjs == ["11222333000181"]
    assert result.legal_names == ([name] if name else [])


# --- JSON-LD ---------------------------------------------------------------------------


def ld(*nodes: object, extra: str = "") -> str:
    scripts = "".join(
        f'<script type="application/ld+json">{json.dumps(node)}</script>' for node in nodes
    )
    return f"<html><head>{scripts}</head><body>{extra}</body></html>"


def ld_contacts(html: str) -> set[tuple[ContactKind, str]]:
    return {(c.kind, c.value) for c in extract_page(html, URL).contacts}


ORGANIZATION = {
    "@context": "https://schema.org",
    "@type": "Organization",
    "name": "Ana Doces",
    "url": URL,
    "logo": "https://www.loja.com.br/logo@2x.png",
    "email": "mailto:Contato@loja.com.br",
    "telephone": "+55-11-3456-7890",
    "sameAs": [
        "https://www.instagram.com/anadoces/",
        "https://www.youtube.com/@anadoces",
        "https://www.instagram.com/p/Cx1abc/",  # a post, not a profile
        "https://linktr.ee/privacy",
    ],
}


def test_json_ld_organization() -> None:
    result = extract_page(ld(ORGANIZATION), URL)
    got = {(c.kind, c.value, c.method, c.certainty) for c in result.contacts}
    assert got == {
        (ContactKind.EMAIL, "Contato@loja.com.br", "jsonld", Certainty.CERTAIN),
        (ContactKind.PHONE, "+55-11-3456-7890", "jsonld", Certainty.CERTAIN),
        (ContactKind.SOCIAL, "https://www.instagram.com/anadoces/", "jsonld", Certainty.CERTAIN),
        (ContactKind.SOCIAL, "https://www.youtube.com/@anadoces", "jsonld", Certainty.CERTAIN),
    }
    assert result.rejected == {"social/not_a_profile": 2}
    social = next(c for c in result.contacts if "instagram" in c.value)
    assert social.details == {"network": "instagram", "handle": "anadoces"}


@pytest.mark.parametrize(
    "data",
    [
        {"@context": "https://schema.org", "@graph": [{"@type": "WebSite"}, ORGANIZATION]},
        [{"@type": "WebPage"}, ORGANIZATION],
        {**ORGANIZATION, "@type": "LocalBusiness"},
        {**ORGANIZATION, "@type": ["Person", "Thing"]},
        {**ORGANIZATION, "@type": "EducationalOrganization"},
        {**ORGANIZATION, "@type": "https://schema.org/ProfessionalService"},
    ],
)
def test_json_ld_graphs_lists_and_types(data: object) -> None:
    kinds = [c.kind for c in extract_page(ld(data), URL).contacts]
    assert sorted(kinds) == sorted(
        [ContactKind.EMAIL, ContactKind.PHONE, ContactKind.SOCIAL, ContactKind.SOCIAL]
    )


def test_json_ld_contact_points() -> None:
    node = {
        "@type": "Organization",
        "contactPoint": [
            {
                "@type": "ContactPoint",
                "contactType": "customer service",
                "telephone": "(11) 3456-7890",
            },
            {"@type": "ContactPoint", "email": ["sac@loja.com.br", "imprensa@loja.com.br"]},
            {"@type": "ContactPoint", "telephone": "https://wa.me/5511912345678"},
        ],
    }
    result = extract_page(ld(node), URL)
    assert {(c.kind, c.value) for c in result.contacts} == {
        (ContactKind.PHONE, "(11) 3456-7890"),
        (ContactKind.EMAIL, "sac@loja.com.br"),
        (ContactKind.EMAIL, "imprensa@loja.com.br"),
        (ContactKind.WHATSAPP, "https://wa.me/5511912345678"),
    }
    phone = next(c for c in result.contacts if c.kind == ContactKind.PHONE)
    assert (phone.method, phone.details) == ("jsonld", {"label": "customer service"})


def test_json_ld_person_profile_url() -> None:
    node = {"@type": "Person", "name": "Ana", "url": "https://www.instagram.com/anadoces"}
    assert ld_contacts(ld(node)) == {(ContactKind.SOCIAL, "https://www.instagram.com/anadoces")}


def test_json_ld_loses_to_a_link_and_beats_text() -> None:
    node = {"@type": "Organization", "email": "contato@loja.com.br", "telephone": "(11) 3456-7890"}
    body = '<a href="mailto:contato@loja.com.br">e-mail</a><p>Ligue (11) 3456-7890</p>'
    methods = {c.kind: c.method for c in extract_page(ld(node, extra=body), URL).contacts}
    assert methods == {ContactKind.EMAIL: "mailto", ContactKind.PHONE: "jsonld"}


@pytest.mark.parametrize(
    ("node", "reason"),
    [
        ({"@type": "Organization", "email": "suporte@kiwify.com.br"}, "email/platform"),
        ({"@type": "Organization", "email": "logo@2x.png"}, "email/file_name"),
        ({"@type": "Organization", "telephone": "(00) 0000-0000"}, "phone/invalid"),
        (
            {"@type": "Organization", "sameAs": "https://www.instagram.com/kiwify/"},
            "social/not_a_profile",
        ),
        (
            {"@type": "Organization", "url": "https://hub.la", "email": "contato@loja.com.br"},
            "jsonld/platform",
        ),
        (
            {
                "@type": "Organization",
                "url": "https://agencia.com.br/",
                "email": "oi@agencia.com.br",
            },
            "jsonld/other_site",
        ),
    ],
)
def test_json_ld_filters(node: dict[str, object], reason: str) -> None:
    result = extract_page(ld(node), URL)
    assert result.contacts == []
    assert result.rejected == {reason: 1}


def test_json_ld_does_not_take_the_agency_credit() -> None:
    node = {
        "@type": "Organization",
        "url": URL,
        "email": ["contato@loja.com.br", "oi@agenciaweb.com.br"],
        "telephone": "(11) 3333-4444",
        "sameAs": ["https://www.instagram.com/agenciaweb/"],
    }
    credit = (
        "<footer><p>Site desenvolvido por <a href='https://www.instagram.com/agenciaweb/'>"
        "Agência Web</a> - oi@agenciaweb.com.br - (11) 3333-4444</p></footer>"
    )
    assert ld_contacts(ld(node, extra=credit)) == {(ContactKind.EMAIL, "contato@loja.com.br")}


@pytest.mark.parametrize(
    "footer",
    [
        "<p>(11) 3456-7890 · Site por Agência X - oi@agenciax.com.br</p>",
        "<p><small>(11) 3456-7890 · Site por <a href='https://agenciax.com.br'>X</a></small></p>",
    ],
)
def test_json_ld_keeps_what_is_before_the_credit(footer: str) -> None:
    node = {"@type": "Organization", "telephone": "+55 11 3456-7890"}
    contacts = extract_page(ld(node, extra=f"<footer>{footer}</footer>"), URL).contacts
    assert [(c.kind, c.method) for c in contacts] == [(ContactKind.PHONE, "jsonld")]


def test_json_ld_nested_and_other_nodes_are_not_read() -> None:
    nodes = [
        {"@type": "Product", "brand": {"@type": "Organization", "email": "marca@loja.com.br"}},
        {"@type": "WebSite", "creator": {"@type": "Organization", "email": "dev@dev.com.br"}},
        {"@type": "Event", "email": "evento@loja.com.br"},
    ]
    assert ld_contacts(ld(*nodes)) == set()


def test_json_ld_bad_json_is_counted() -> None:
    html = (
        '<script type="application/ld+json">{"@type": "Organization", </script>'
        '<script type="application/ld+json; charset=utf-8">'
        '{"@type": "Organization", "email": "contato@loja.com.br"}</script>'
        '<script type="application/json">{"@type": "Organization", "email": "x@loja.com.br"}</script>'
    )
    result = extract_page(f"<html><head>{html}</head></html>", URL)
    assert [c.value for c in result.contacts] == ["contato@loja.com.br"]
    assert result.rejected == {"jsonld/bad_json": 1}


# --- adversarial pages ----------------------------------------------------------------


def test_broken_and_hostile_html_does_not_crash() -> None:
    deep = "<div>" * 10_000 + "ana@loja.com.br" + "</div>" * 10_000
    for html in (
        deep,
        "<p>unclosed <b>ana@loja.com.br <i>(11) 3456-7890",
        "\x00<p>ana\x00@loja.com.br</p>",
        "\ufeff<p>ana@loja.com.br</p>",
        "",
        "<p>JoÃ£o contato(at)x.com.br</p>",
        "<a href='http://[::1'>x</a><a href='mailto:'>y</a><a href='tel:'>z</a>",
    ):
        result = extract_page(html, URL)
        assert isinstance(result.contacts, list)
        contact_page_links(html, URL)


def test_mojibake_page_still_gives_the_address() -> None:
    assert values("<p>JoÃ£o: contato(at)x.com.br</p>", ContactKind.EMAIL) == ["contato@x.com.br"]


# --- contact pages --------------------------------------------------------------------


def test_contact_page_links() -> None:
    html = """<html><body>
      <a href="/politica-de-privacidade">Política de Privacidade</a>
      <a href="/quem-somos">Quem somos</a>
      <a href="/institucional/fale-conosco/">Fale</a>
      <a href="/p/1">Fale conosco</a>
      <a href="https://loja.com.br/contato?utm_source=x#form">Contato</a>
      <a href="/contato">Contato de novo</a>
      <a href="/termos">Termos de uso</a>
      <a href="/Sobre">Sobre</a>
      <a href="/suporte">Suporte</a>
      <a href="/atendimento">Atendimento</a>
      <a href="/blog/como-fazer-brigadeiro">Blog</a>
      <a href="/produtos">Produtos</a>
      <a href="https://outra.com.br/contato">Contato de outro site</a>
      <a href="https://ajuda.kiwify.com.br/contato">Ajuda da plataforma</a>
      <a href="mailto:contato@loja.com.br">contato</a>
      <a href="/termos-de-uso.pdf">Termos (PDF)</a>
      <a href="/">Início</a>
      <a href="https://www.loja.com.br/">Página inicial</a>
    </body></html>"""
    links = contact_page_links(html, "https://www.loja.com.br/")
    assert links == [
        "https://www.loja.com.br/institucional/fale-conosco/",
        "https://www.loja.com.br/p/1",
        "https://loja.com.br/contato",
        "https://www.loja.com.br/contato",
        "https://www.loja.com.br/suporte",
        "https://www.loja.com.br/atendimento",
        "https://www.loja.com.br/quem-somos",
        "https://www.loja.com.br/Sobre",
        "https://www.loja.com.br/politica-de-privacidade",
        "https://www.loja.com.br/termos",
    ]
    assert contact_page_links(html, "https://www.loja.com.br/") == links  # stable


def test_contact_page_links_respects_base_href() -> None:
    html = '<html><head><base href="https://loja.com.br/site/"></head><body><a href="contato">c</a></body></html>'
    assert contact_page_links(html, "https://loja.com.br/x") == ["https://loja.com.br/site/contato"]


def test_contact_page_links_from_a_response() -> None:
    body = b'<a href="/contato">Contato</a><a href="/sobre">Sobre</a>'
    response = HtmlResponse(url="https://loja.com.br/sobre", body=body, encoding="utf-8")
    assert contact_page_links(response) == ["https://loja.com.br/contato"]


# --- links a browser follows outside href ---------------------------------------------


def test_script_buttons_open_whatsapp_and_mail() -> None:
    body = (
        "<button onclick=\"window.open('https://wa.me/5511987654321?text=Oi', '_blank')\">"
        "Fale no WhatsApp</button>"
        '<a href="javascript:void(0)" onclick="location.href=\'mailto:contato@anadoces.com.br\'">'
        "Escreva</a>"
        "<a href=\"javascript:window.open('//api.whatsapp.com/send?phone=5511912345678')\">Zap</a>"
    )
    found = {(c.kind, c.value, c.method, c.certainty) for c in page(body).contacts}
    assert found == {
        (ContactKind.WHATSAPP, "https://wa.me/5511987654321?text=Oi", "script", Certainty.CERTAIN),
        (ContactKind.EMAIL, "contato@anadoces.com.br", "script", Certainty.CERTAIN),
        (
            ContactKind.WHATSAPP,
            "https://api.whatsapp.com/send?phone=5511912345678",
            "script",
            Certainty.CERTAIN,
        ),
    }


def test_inline_scripts_count_only_where_they_navigate() -> None:
    body = (
        "<div id='zap'>WhatsApp</div><script>"
        "document.getElementById('zap').onclick = function () {"
        " window.location.href = 'https://wa.me/5521999887766'; };"
        "var outro = 'https://wa.me/551140040000';"  # a string, not a button's target
        "</script>"
        '<script type="application/json">{"x": "https://wa.me/5531977776666"}</script>'
    )
    assert values(body, ContactKind.WHATSAPP) == ["https://wa.me/5521999887766"]


def test_an_agency_credits_script_button_is_not_the_producers() -> None:
    body = (
        "<p>Ana Doces</p><footer><p>Site por <a onclick=\"window.open('https://wa.me/5511955554444')\">"
        "Agência X</a></p></footer>"
    )
    assert values(body, ContactKind.WHATSAPP) == []


def test_markup_after_html_and_outside_body_is_read() -> None:
    html = (
        "<html><head><title>Ana</title><a href='mailto:ana@anadoces.com.br'>e-mail</a></head>"
        "<body><p>Bolos</p></body></html>\n"
        '<div class="whats-float"><a href="https://wa.me/5521999887766">WhatsApp</a></div>'
        "<p>Telefone: (11) 3456-7890</p>"
    )
    found = {(c.kind, c.value) for c in extract_page(html, URL).contacts}
    assert (ContactKind.WHATSAPP, "https://wa.me/5521999887766") in found
    assert (ContactKind.EMAIL, "ana@anadoces.com.br") in found
    assert (ContactKind.PHONE, "(11) 3456-7890") in found
    response = HtmlResponse(URL, body=html.encode())
    once, twice = extract_page(response).contacts, extract_page(response).contacts
    assert [(c.kind, c.value) for c in once] == [(c.kind, c.value) for c in twice]  # idempotent
    assert len(once) == len(found)


# --- @handles written as text ------------------------------------------------------------


def socials(body: str, url: str = URL) -> dict[str, ContactPoint]:
    return {c.value: c for c in page(body, url).contacts if c.kind == ContactKind.SOCIAL}


@pytest.mark.parametrize(
    ("body", "profile"),
    [
        (
            "<p>No meu Instagram (@fulana.doces) eu posto receitas.</p>",
            "instagram.com/fulana.doces",
        ),
        ("<p>Perfil oficial no instagram: @ana_confeitaria</p>", "instagram.com/ana_confeitaria"),
        ("<p>Me segue no insta: @bolosdaana.</p>", "instagram.com/bolosdaana"),
        ("<p>Siga @ana.bolos para mais receitas</p>", "instagram.com/ana.bolos"),
        ("<p>Vídeos no TikTok @anatok</p>", "tiktok.com/@anatok"),
        ("<p>Meu canal no YouTube: @anacozinha</p>", "youtube.com/@anacozinha"),
    ],
)
def test_handles_tied_to_a_network_by_nearby_words(body: str, profile: str) -> None:
    [found] = socials(body).values()
    assert found.value == f"https://{profile}"
    assert (found.method, found.certainty) == ("text_handle", Certainty.UNCERTAIN)
    assert found.details["as_written"].startswith("@")


def test_a_handle_alone_is_tied_by_the_pages_own_profile_link() -> None:
    body = (
        '<header><a href="https://www.tiktok.com/@anadoces">TikTok</a></header>'
        "<footer><p>@anadoces.receitas</p></footer>"
    )
    assert set(socials(body)) == {
        "https://www.tiktok.com/@anadoces",
        "https://tiktok.com/@anadoces.receitas",
    }
    # With no network word and no profile link, a lone handle is nobody's.
    assert socials("<footer><p>@anadoces</p></footer>") == {}


def test_testimonial_quoted_and_other_peoples_handles_are_not_taken() -> None:
    body = (
        '<section class="depoimentos"><div class="card">'
        "<p>Amei o curso! Me segue no Instagram @maria_aluna</p></div></section>"
        "<blockquote>Siga também @outra_pessoa no insta</blockquote>"
        "<p>Fotos: @joaofotografo (Instagram)</p>"
        "<p>Parceria com @marca_de_formas no Instagram</p>"
        "<p>Meu Instagram: @ana_doces</p>"
    )
    result = page(body)
    assert [c.value for c in result.contacts if c.kind == ContactKind.SOCIAL] == [
        "https://instagram.com/ana_doces"
    ]
    assert result.rejected["handle/quoted"] == 2
    assert result.rejected["handle/other_person"] == 2


def test_email_fragments_and_domains_are_not_handles() -> None:
    body = (
        "<p>Instagram e e-mail: ana@anadoces.com.br</p>"
        "<p>Siga no Instagram @anadoces.com.br</p>"
        "<p>Instagram: contato @ 2x</p>"
    )
    assert socials(body) == {}


def test_a_page_listing_many_handles_lists_other_people() -> None:
    body = "".join(f"<p>Instagram: @convidada_{n}</p>" for n in range(5))
    result = page(body)
    assert socials(body) == {}
    assert result.rejected["handle/too_many"] == 5


def test_a_linked_handle_stays_the_certain_link() -> None:
    body = (
        '<a href="https://www.instagram.com/ana_doces/">Instagram</a>'
        "<p>Me segue no Instagram: @ana_doces</p>"
    )
    [found] = socials(body).values()
    assert (found.method, found.certainty) == ("link", Certainty.CERTAIN)


@pytest.mark.parametrize(
    ("icon", "profile"),
    [
        ('<i class="fab fa-instagram"></i>', "https://instagram.com/anadoces"),
        ('<img src="/ig.png" alt="Instagram">', "https://instagram.com/anadoces"),
        ('<svg aria-label="TikTok"><path d="M0 0"/></svg>', "https://tiktok.com/@anadoces"),
    ],
)
def test_an_icon_beside_a_handle_names_its_network(icon: str, profile: str) -> None:
    [found] = socials(f"<footer><p>{icon} @anadoces</p></footer>").values()
    assert (found.value, found.certainty) == (profile, Certainty.UNCERTAIN)
    assert socials('<footer><p><i class="icon-heart"></i> @anadoces</p></footer>') == {}
