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
