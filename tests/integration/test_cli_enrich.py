"""`leadcrawler enrich --retry-failed` when the MX checks cannot run: a line, not a traceback."""

from __future__ import annotations

from typing import Any

import pytest

from leadcrawler import cli
from leadcrawler.domain.identity import keys_for_lead
from leadcrawler.domain.items import ContactKind
from leadcrawler.storage.store import open_store
from tests.support.factories import contact, lead


def test_retry_with_unusable_name_servers_says_so(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    stored = lead("Ana", contacts=[contact(ContactKind.EMAIL, "ana@anadoces.com.br")])
    stored.contacts[0].details["mx_status"] = "dns-timeout"
    stored.identity_keys = keys_for_lead(stored)
    stored.lead_uid = "a1"
    store = open_store(sqlite_url)
    store.save([stored], None, None)
    store.engine.dispose()

    real = cli.project_settings

    def bad_dns(database_url: str | None = None) -> Any:
        settings = real(database_url)
        settings.set("ENRICH_DNS_ENABLED", True, priority="cmdline")
        settings.set("ENRICH_DNS_NAMESERVERS", ["dns.google"], priority="cmdline")
        return settings

    monkeypatch.setattr(cli, "project_settings", bad_dns)
    code = cli.main(["enrich", "--retry-failed", "--skip-sites", "--database-url", sqlite_url])
    out = capsys.readouterr().out
    assert code == 0
    assert "MX checks are off:" in out and "not an IP address" in out
    assert "MX checks retried for 0 lead(s)" in out


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("INTAKE_WORKERS=abc", "INTAKE_WORKERS must be a whole number, not 'abc'"),
        ("INTAKE_WORKERS=-3", "INTAKE_WORKERS must be between 0 and 64, not -3"),
        ("INTAKE_WORKERS=100000", "INTAKE_WORKERS must be between 0 and 64, not 100000"),
        ("INTAKE_READ_BATCH=0", "INTAKE_READ_BATCH must be at least 1, not 0"),
        ("INTAKE_MAX_IN_FLIGHT=x", "INTAKE_MAX_IN_FLIGHT must be a whole number, not 'x'"),
    ],
)
def test_a_wrong_intake_setting_is_one_line_before_any_row_is_read(
    sqlite_url: str, tmp_path: Any, capsys: Any, setting: str, message: str
) -> None:
    listing = tmp_path / "lista.csv"
    listing.write_text("Nome;E-mail\nAna;ana@anadoces.com.br\n", encoding="utf-8")
    code = cli.main(
        ["enrich", str(listing), "--skip-sites", "--database-url", sqlite_url, "-s", setting]
    )
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.strip() == f"error: {message}"
    assert "Imported" not in captured.out
