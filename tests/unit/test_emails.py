from __future__ import annotations

from collections.abc import Callable

import pytest
from email_validator import EmailNotValidError, ValidatedEmail

from leadcrawler.domain.emails import (
    FILE_EXTENSIONS,
    check_email,
    email_key,
    free_mail_domains,
    is_free_provider,
    is_role_address,
    normalize_email,
    role_localparts,
)
from leadcrawler.domain.urls import registered_domain


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("contato@loja.com.br", "contato@loja.com.br"),
        ("  Foo@GMAIL.com ", "Foo@gmail.com"),  # domain lower-cased, local case kept
        ("mailto:Contato@Loja.com.br", "Contato@loja.com.br"),
        ("MAILTO:contato@loja.com.br?subject=Ol%C3%A1&body=x", "contato@loja.com.br"),
        ("mailto:contato%40loja.com.br", "contato@loja.com.br"),
        ("<contato@loja.com.br>", "contato@loja.com.br"),
        ("contato@loja.com.br.", "contato@loja.com.br"),  # end of a sentence
        ("contato@loja.com.br,", "contato@loja.com.br"),
        ("con\u200btato@loja.com.br", "contato@loja.com.br"),  # zero-width space
        ("contato@loja\u202e.com.br", "contato@loja.com.br"),  # RTL override
        ("\ufeffcontato@loja.com.br", "contato@loja.com.br"),  # BOM
        ("user@exämple.com.br", "user@exämple.com.br"),
        ("user@xn--exmple-cua.com.br", "user@exämple.com.br"),  # IDNA decoded: one spelling
        ("usuário@empresa.com.br", "usuário@empresa.com.br"),
        ("contato+site@loja.com.br", "contato+site@loja.com.br"),
    ],
)
def test_normalize_email(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        '"john doe"@example.com',
        "a@[127.0.0.1]",
        "x@localhost",
        "contato",
        "contato@",
        "@loja.com.br",
        "a..b@loja.com.br",
        "a@b@loja.com.br",
        "Ana <ana@loja.com.br>",
        "mailto:a@loja.com.br,b@loja.com.br",
        "a" * 250 + "@loja.com.br",
        "",
    ],
)
def test_normalize_email_refuses(raw: str) -> None:
    assert normalize_email(raw) is None


def test_email_key_joins_letter_case_variants() -> None:
    assert email_key("Foo@GMAIL.com") == email_key("foo@gmail.com") == "foo@gmail.com"
    assert email_key("mailto:Ana.Souza@Cursos.com.br") == "ana.souza@cursos.com.br"
    assert email_key("user@XN--EXMPLE-CUA.com.br") == email_key("User@exämple.com.br")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ('"john doe"@example.com', "quoted_local"),
        ("a@[127.0.0.1]", "ip_literal"),
        ("x@localhost", "special_use_domain"),
        ("x@loja.test", "special_use_domain"),
        ("x@loja.local", "special_use_domain"),
        ("x@example.com", "special_use_domain"),  # template placeholder
        ("x@mail.example.org", "special_use_domain"),
        ("logo@2x.png", "file_name"),
        ("icon@3x.webp", "file_name"),
        ("hero@2x.JPG", "file_name"),
        ("jquery@3.6.0.min.js", "file_name"),
        ("ivan@g\u043e\u043egle.com", "homoglyph"),  # Cyrillic "o"s among Latin letters
        ("p\u0430ypal@loja.com.br", "homoglyph"),  # Cyrillic "a" in the local part
        ("x@xn--80ak6aa92e.com", "homoglyph"),  # all-Cyrillic "apple" under .com
        ("x@empresa.combr", "unknown_tld"),
        ("a" * 250 + "@loja.com.br", "too_long"),
        ("a" * 65 + "@loja.com.br", "too_long"),  # local part over 64
        ("contato", "syntax"),
        ("a..b@loja.com.br", "syntax"),
        ("contato@loja..com.br", "syntax"),
        ("", "empty"),
        ("\u200b", "empty"),
    ],
)
def test_check_email_rejects(raw: str, reason: str) -> None:
    result = check_email(raw)
    assert not result.ok
    assert result.reason == reason


@pytest.mark.parametrize(
    "raw",
    [
        "contato@loja.com.br",
        "user@exämple.com.br",
        "usuário@empresa.com.br",
        "почта@пример.рф",  # all-Cyrillic address under a Cyrillic TLD is fine
        "ana@minhaloja.myshopify.com",
    ],
)
def test_check_email_accepts(raw: str) -> None:
    result = check_email(raw)
    assert result.ok
    assert result.reason is None
    assert result.normalized == normalize_email(raw)


def test_check_email_flags() -> None:
    free = check_email("Foo@GMAIL.com")
    assert free.ok
    assert free.normalized == "Foo@gmail.com"
    assert free.free_provider
    assert not free.role_address

    role = check_email("mailto:Contato@Loja.com.br")
    assert role.ok
    assert role.role_address
    assert not role.free_provider

    both = check_email("suporte@uol.com.br")
    assert both.free_provider
    assert both.role_address

    person = check_email("ana.souza@cursos.com.br")
    assert not person.free_provider
    assert not person.role_address


@pytest.mark.parametrize(
    "domain", ["gmail.com", "hotmail.com", "outlook.com", "live.com", "yahoo.com", "yahoo.com.br",
               "bol.com.br", "uol.com.br", "terra.com.br", "ig.com.br", "icloud.com", "proton.me",
               "protonmail.com", "GMAIL.COM", "gmail.com."],
)  # fmt: skip
def test_free_providers(domain: str) -> None:
    assert is_free_provider(domain)


@pytest.mark.parametrize("domain", ["loja.com.br", "gmail.com.br.example", "mail.google.com"])
def test_not_free_providers(domain: str) -> None:
    assert not is_free_provider(domain)


@pytest.mark.parametrize(
    "local", ["contato", "contact", "suporte", "support", "sac", "financeiro", "comercial",
              "atendimento", "vendas", "info", "admin", "noreply", "no-reply", "ouvidoria",
              "faleconosco", "marketing", "rh", "juridico", "Contato", "contato+site"],
)  # fmt: skip
def test_role_addresses(local: str) -> None:
    assert is_role_address(local)


@pytest.mark.parametrize("local", ["ana", "ana.contato", "joao.vendas", "maria"])
def test_personal_local_parts(local: str) -> None:
    assert not is_role_address(local)


def test_data_files_are_clean() -> None:
    for entry in free_mail_domains():
        assert registered_domain(entry) is not None, entry
    assert all(entry == entry.strip().lower() and " " not in entry for entry in role_localparts())
    assert len(free_mail_domains()) > 20
    assert len(role_localparts()) > 40


def test_file_extensions_are_not_top_level_domains() -> None:
    # Otherwise "file_name" would reject real addresses.
    for extension in FILE_EXTENSIONS:
        assert registered_domain(f"example.{extension}") is None, extension


FAST_PATH_CORPUS = [
    "produtor@empresa.com.br",
    "Ana.Souza+cursos@Gmail.COM",
    "x@xn--exmple-cua.com.br",
    "ana@exämple.com.br",
    "POSTMASTER@empresa.com.br",
    "Abuse@empresa.com.br",
    "a" * 64 + "@empresa.com.br",
    "a" * 65 + "@empresa.com.br",
    "a@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + "." + "e" * 57 + ".com",
    "b" * 60 + "@" + "c" * 63 + "." + "d" * 63 + "." + "e" * 60 + ".com.br",
    "ana..souza@empresa.com.br",
    ".ana@empresa.com.br",
    "ana.@empresa.com.br",
    "ana@empresa",
    "ana@localhost",
    "ana@empresa..com",
    "ana@-empresa.com",
    "ana@",
    "@empresa.com",
    "ana@empresa@outra.com",
    "josé@empresa.com.br",
    "o'neil&filhos{1}@empresa.com.br",
    "ana@empresa.test",
    "ana@192.168.0.1",
]


@pytest.mark.parametrize("address", FAST_PATH_CORPUS)
def test_the_shared_domain_shortcut_answers_as_email_validator_does(address: str) -> None:
    from leadcrawler.domain import emails

    def outcome(validate: Callable[[str], ValidatedEmail]) -> tuple[str, ...]:
        try:
            found = validate(address)
        except EmailNotValidError as exc:
            return ("invalid", str(exc))
        return (
            found.normalized,
            found.local_part,
            found.domain,
            found.ascii_domain,
            str(found.ascii_email),
            str(found.smtputf8),
        )

    assert outcome(emails._validate) == outcome(emails._validate_slowly)
