"""Reading raw lists: formats, encodings, delimiters, headers and --map."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from leadcrawler.domain.items import ContactKind, Lead
from leadcrawler.intake.reader import IntakeError, open_source, parse_mapping
from leadcrawler.intake.rows import Reject, to_lead

NOW = datetime(2026, 11, 29, tzinfo=UTC)


def rows_of(path: Path, mapping: list[str] | None = None) -> list:  # type: ignore[type-arg]
    source = open_source(path, parse_mapping(mapping))
    try:
        return list(source.rows)
    finally:
        source.close()


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8-sig", ";"), ("utf-8", ","), ("cp1252", ";"), ("cp1252", "\t"), ("utf-8", "|")],
)
def test_headers_in_any_case_and_accent_with_any_delimiter(
    tmp_path: Path, encoding: str, delimiter: str
) -> None:
    header = [
        "NOME",
        "e-mail",
        "Telefone/Celular",
        "WhatsApp",
        "Site",
        "Instagram",
        "CNPJ",
        "Empresa",
        "Observações",
    ]
    row = [
        "José Ávila",
        "jose@avila.com.br",
        "(11) 98765-4321",
        "11 91234-5678",
        "avila.com.br",
        "@avila",
        "11.222.333/0001-81",
        "Ávila Cursos",
        "ligar",
    ]
    path = tmp_path / "lista.csv"
    path.write_bytes("\r\n".join(delimiter.join(cells) for cells in (header, row)).encode(encoding))
    source = open_source(path)
    [raw] = list(source.rows)
    source.close()
    assert source.unknown_columns() == ["Observações"]
    assert raw.line == 2
    assert raw.values == {
        "name": ["José Ávila"],
        "email": ["jose@avila.com.br"],
        "phone": ["(11) 98765-4321"],
        "whatsapp": ["11 91234-5678"],
        "website": ["avila.com.br"],
        "instagram": ["@avila"],
        "cnpj": ["11.222.333/0001-81"],
        "company": ["Ávila Cursos"],
    }


def test_quoted_line_breaks_keep_line_numbers_and_nul_and_huge_cells_are_handled(
    tmp_path: Path,
) -> None:
    path = tmp_path / "l.csv"
    path.write_text(
        'Nome;Email;Obs\n"Ana\nDoces";ana@x.com.br;"a\nb\nc"\nBia\x00;bia@y.com.br;\n'
        + "Caio;"
        + "c" * 200_000
        + ";\n",
        encoding="utf-8",
    )
    ana, bia, caio = rows_of(path)
    assert (ana.line, bia.line, caio.line) == (2, 6, 7)  # Ana spans lines 2 to 5
    assert ana.first("name") == "Ana\nDoces"
    assert bia.first("name") == "Bia" and bia.problems == ["nul_bytes"]
    assert caio.problems == ["cell_too_long"]


def test_map_names_other_columns_and_ignores_some(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_text("Contato Comercial,Zap Vendas,Origem\nana@x.com.br,11987654321,feira\n")
    [row] = rows_of(path, ["Contato Comercial=email", "zap vendas=whatsapp", "Origem=ignore"])
    assert row.values == {"email": ["ana@x.com.br"], "whatsapp": ["11987654321"]}
    with pytest.raises(IntakeError, match="unknown field 'mail'"):
        parse_mapping(["Contato=mail"])


def test_xlsx_and_jsonl(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Nome", "Celular", "E-mail"])
    sheet.append(["Ana", 11987654321, "ana@x.com.br"])
    book.save(tmp_path / "l.xlsx")
    [row] = rows_of(tmp_path / "l.xlsx")
    assert row.values == {"name": ["Ana"], "phone": ["11987654321"], "email": ["ana@x.com.br"]}
    assert row.line == 2

    lines = [json.dumps({"nome": "Bia", "emails": ["b@y.com.br", "bia@y.com.br"]}), "{broken"]
    (tmp_path / "l.jsonl").write_text("\n".join(lines) + "\n")
    bia, broken = rows_of(tmp_path / "l.jsonl")
    assert bia.values == {"name": ["Bia"], "email": ["b@y.com.br", "bia@y.com.br"]}
    assert broken.problems == ["unreadable: not a JSON object"]


def test_a_row_becomes_a_lead_with_provenance_or_a_reject(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_text(
        "Nome;Email;Instagram;Telefone\nAna;ana@x.com.br;@ana.doces;(11) 98765-4321\nSó nome;;;\n"
    )
    ana_row, nobody = rows_of(path)
    ana = to_lead(ana_row, "l.csv", NOW)
    assert isinstance(ana, Lead)
    assert ana.sighting.url == "import:l.csv#2"
    assert [(c.kind, c.value) for c in ana.contacts] == [
        (ContactKind.EMAIL, "ana@x.com.br"),
        (ContactKind.PHONE, "(11) 98765-4321"),
        (ContactKind.SOCIAL, "https://www.instagram.com/ana.doces/"),
    ]
    assert {c.source_url for c in ana.contacts} == {"import:l.csv#2"}
    assert {c.found_at for c in ana.contacts} == {NOW}
    assert to_lead(nobody, "l.csv", NOW) == Reject(
        3, "nothing_to_reach", "no e-mail, phone, WhatsApp, site, profile or CNPJ"
    )


def test_unreadable_files_are_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(IntakeError, match="empty"):
        open_source(tmp_path / "empty.csv")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(IntakeError, match="xls"):
        open_source(tmp_path / "old.xls")
    (tmp_path / "bad.xlsx").write_bytes(b"not a zip")
    with pytest.raises(IntakeError, match=r"not a readable \.xlsx"):
        open_source(tmp_path / "bad.xlsx")
