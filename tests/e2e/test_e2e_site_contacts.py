"""A producer's landing page as real ones are written, crawled and exported with the README's
commands: her Instagram written as text, her WhatsApp only in a floating button after
</html>, her e-mail only behind a script button, testimonials quoting other people."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from leadcrawler.cli import main

SITE = "https://www.doceriadajulia.com.br/"


@pytest.mark.usefixtures("fixture_web")
def test_landing_page_contacts_reach_the_export(run_crawl, sqlite_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    crawl = run_crawl("site", sqlite_url, f"urls={SITE}")
    assert crawl.returncode == 0, crawl.log[-3000:]
    out = tmp_path / "leads.jsonl"
    assert main(["export", "-o", str(out), "--format", "jsonl", "--database-url", sqlite_url]) == 0
    [julia] = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    # Her only number is the WhatsApp button after </html>: it is in the phone column.
    assert julia["phone"] == "+5531994127730"
    assert julia["phones"] == ["+5531994127730"]
    assert julia["whatsapp"] == ["+5531994127730"]
    assert julia["email"] == "julia@doceriadajulia.com.br"  # the script button's mailto
    # Her handle written as text; not her students' (testimonials) nor the photographer's.
    assert julia["instagram"] == ["https://instagram.com/doceriadajulia"]
    everything = json.dumps(julia)
    for other in ("carol.doces.sp", "bia_confeita", "lentedamarina", "pixelbrigadeiro"):
        assert other not in everything
