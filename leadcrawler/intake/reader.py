"""Reading raw lead lists as sales teams really have them: CSV, XLSX and JSON Lines.

- CSV: UTF-8 with or without BOM, else Excel's cp1252; ``;``, ``,``, tab or ``|``
  detected from the first lines; quoted fields may hold line breaks. The line of a
  record is the physical line it starts on (the header is line 1).
- XLSX (openpyxl, read-only, streamed): the first sheet; the first non-empty row is the
  header; the line is the sheet's row number.
- JSON Lines: one object per line; its keys are read like headers.

Headers are matched in any case and accent, pt-BR or English (``Nome``, ``E-mail``,
``Telefone``, ``Celular``, ``WhatsApp``, ``Site``, ``Instagram``, ``CNPJ``, ``Empresa``...),
and ``--map column=field`` names the rest. Columns that match nothing are reported,
never stored. Everything is streamed: memory does not grow with the file.

Pure: no Scrapy, no database.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

# What a column can be. ``ignore`` drops a column on purpose (not reported as unknown).
FIELDS = (
    "name",
    "company",
    "email",
    "phone",
    "whatsapp",
    "website",
    "instagram",
    "facebook",
    "tiktok",
    "youtube",
    "linkedin",
    "social",
    "cnpj",
    "ignore",
)

# Folded header (lower case, no accents, letters and digits only) -> field.
HEADER_SYNONYMS: dict[str, str] = {
    **dict.fromkeys(
        ("nome", "name", "nomecompleto", "fullname", "produtor", "produtora", "responsavel",
         "contato", "contact", "nomedocontato", "contactname", "cliente", "lead", "firstname"),
        "name",
    ),
    **dict.fromkeys(
        ("empresa", "company", "razaosocial", "nomefantasia", "companhia", "organizacao",
         "organization", "negocio", "business", "legalname", "companyname", "marca", "brand"),
        "company",
    ),
    **dict.fromkeys(
        ("email", "emails", "mail", "correioeletronico", "enderecodeemail", "emailaddress",
         "emailcomercial", "emailprincipal"),
        "email",
    ),
    **dict.fromkeys(
        ("telefone", "telefones", "fone", "tel", "phone", "phones", "phonenumber", "celular",
         "cel", "mobile", "telefonecelular", "telefonefixo", "numero", "telefonecomercial"),
        "phone",
    ),
    **dict.fromkeys(("whatsapp", "whats", "wpp", "zap", "zapzap", "wa"), "whatsapp"),
    **dict.fromkeys(
        ("site", "website", "url", "web", "homepage", "pagina", "sitio", "dominio", "domain"),
        "website",
    ),
    **dict.fromkeys(("instagram", "insta", "ig", "perfilinstagram"), "instagram"),
    **dict.fromkeys(("facebook", "fb"), "facebook"),
    **dict.fromkeys(("tiktok",), "tiktok"),
    **dict.fromkeys(("youtube", "canal", "canalyoutube"), "youtube"),
    **dict.fromkeys(("linkedin",), "linkedin"),
    **dict.fromkeys(("redesocial", "redessociais", "social", "perfil"), "social"),
    **dict.fromkeys(("cnpj", "cnpjcpf"), "cnpj"),
}  # fmt: skip

MAX_CELL_CHARS = 10_000  # a longer cell is cut and the row is told so (a 100 KB cell is junk)
SNIFF_BYTES = 64 * 1024


class IntakeError(ValueError):
    """The file cannot be read at all (one clear line for the user)."""


def fold_header(header: str) -> str:
    decomposed = unicodedata.normalize("NFKD", header.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z]", "", bare)


def parse_mapping(items: list[str] | None) -> dict[str, str]:
    """``["Contato Comercial=email", ...]`` -> folded column -> field; IntakeError if bad."""
    mapping: dict[str, str] = {}
    for item in items or []:
        column, sep, target = item.rpartition("=")
        target = target.strip().lower()
        if not sep or not column.strip():
            raise IntakeError(f"--map takes COLUMN=FIELD, not {item!r}")
        if target not in FIELDS:
            raise IntakeError(
                f"--map {item!r}: unknown field {target!r}; fields are {', '.join(FIELDS)}"
            )
        mapping[fold_header(column)] = target
    return mapping


@dataclass(slots=True)
class RawRow:
    """One record of the file: its line and its values per field (several per cell)."""

    line: int
    values: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # e.g. "nul_bytes", "cell_too_long"

    def first(self, name: str) -> str | None:
        found = self.values.get(name)
        return found[0] if found else None


@dataclass(slots=True)
class Columns:
    """How the header was understood."""

    fields: list[str | None]  # per column position: its field, or None (unknown/ignored)
    unknown: list[str]  # headers that matched nothing, as written


def plan_columns(headers: list[str], mapping: Mapping[str, str]) -> Columns:
    fields: list[str | None] = []
    unknown: list[str] = []
    for header in headers:
        folded = fold_header(header or "")
        target = mapping.get(folded) or HEADER_SYNONYMS.get(folded)
        if target is None and folded:
            # "E-mail do produtor", "Telefone (celular)": the first known word decides.
            for synonym, candidate in HEADER_SYNONYMS.items():
                if len(synonym) >= 4 and folded.startswith(synonym):
                    target = candidate
                    break
        if target is None:
            if (header or "").strip():
                unknown.append(header.strip())
            fields.append(None)
        else:
            fields.append(None if target == "ignore" else target)
    return Columns(fields, unknown)


_EMAIL_SPLIT = re.compile(r"[;,\s|/]+")
_PHONE_SPLIT = re.compile(r"[;,|/]+|\s{2,}")
# The fields whose cells may hold several values: how they are cut apart, and the run of
# spaces that cuts them. A printable text has no whitespace but the ASCII space (tested on
# every code point), so a printable cell without that run and without ``;,|/`` is one value
# and needs no regular expression (most cells).
_SPLITTERS = {
    "email": (_EMAIL_SPLIT.split, " "),
    "phone": (_PHONE_SPLIT.split, "  "),
    "whatsapp": (_PHONE_SPLIT.split, "  "),
}


def split_cell(name: str, text: str) -> list[str]:
    """A cell may hold several values: ``a@x.com; b@y.com``, ``(11) 9999-0000 / 3333-0000``."""
    splitter = _SPLITTERS.get(name)
    if splitter is not None and not (
        text.isprintable()
        and splitter[1] not in text
        and ";" not in text
        and "," not in text
        and "|" not in text
        and "/" not in text
    ):
        parts = splitter[0](text)
        if len(parts) > 1:
            return [stripped for part in parts if (stripped := part.strip())]
    text = text.strip()
    return [text] if text else []


def clean_cell(value: Any, problems: list[str]) -> str:
    text = "" if value is None else str(value)
    if "\x00" in text:
        text = text.replace("\x00", "")
        problems.append("nul_bytes")
    if len(text) > MAX_CELL_CHARS:
        text = text[:MAX_CELL_CHARS]
        problems.append("cell_too_long")
    return text.strip()


def build_row(line: int, cells: list[Any], columns: Columns) -> RawRow:
    values: dict[str, list[str]] = {}
    problems: list[str] = []
    # Cells past the last header have no field: zip stops at the shorter of the two.
    for value, name in zip(cells, columns.fields, strict=False):
        if name is None:
            continue
        if value.__class__ is str and "\x00" not in value and len(value) <= MAX_CELL_CHARS:
            text = value.strip()  # clean_cell's answer for a plain cell, without the call
        else:
            text = clean_cell(value, problems)
        if text:
            found = values.get(name)
            if found is None:
                values[name] = split_cell(name, text)  # a new list, even when empty
            else:
                found.extend(split_cell(name, text))
    return RawRow(line, values, problems)


# --- formats ------------------------------------------------------------------------------


def detect_encoding(path: Path) -> str:
    """``utf-8-sig`` when the whole file is UTF-8 (BOM or not), else ``cp1252`` (Excel)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8-sig"


def sniff_delimiter(sample: str) -> str:
    lines = [line for line in sample.splitlines()[:20] if line.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=";,\t|").delimiter
    except csv.Error:
        counts = {d: lines[0].count(d) for d in ";,\t|"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


@dataclass
class Source:
    """An opened list: its rows (streamed), how its columns were read, and its size."""

    path: Path
    kind: str  # csv | xlsx | jsonl
    columns: Columns | None
    rows: Iterator[RawRow]
    encoding: str | None = None
    delimiter: str | None = None
    handle: IO[Any] | None = None
    unknown_keys: set[str] = field(default_factory=set)  # JSON Lines: keys that matched nothing

    def position(self) -> int | None:
        """Bytes read so far (for a progress bar), when known."""
        if self.handle is None:
            return None
        try:
            return int(self.handle.buffer.tell()) if hasattr(self.handle, "buffer") else None
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()

    def unknown_columns(self) -> list[str]:
        found = list(self.columns.unknown) if self.columns else []
        return found + sorted(self.unknown_keys - set(found))


def open_source(path: Path, mapping: Mapping[str, str] | None = None) -> Source:
    """Open ``path`` by its extension (.csv/.txt/.tsv, .xlsx, .jsonl/.ndjson)."""
    mapping = dict(mapping or {})
    if not path.is_file():
        raise IntakeError(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _open_xlsx(path, mapping)
    if suffix in (".jsonl", ".ndjson", ".json"):
        return _open_jsonl(path, mapping)
    if suffix in (".xls",):
        raise IntakeError(
            f"{path.name}: old Excel .xls files are not read; save it as .xlsx or CSV"
        )
    return _open_csv(path, mapping)


def _open_csv(path: Path, mapping: dict[str, str]) -> Source:
    # Long quoted cells are read (up to 16 MiB) and then cut: a 100 KB cell is not an error.
    csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))
    encoding = detect_encoding(path)
    handle = path.open("r", encoding=encoding, newline="")
    sample = handle.read(SNIFF_BYTES)
    handle.seek(0)
    delimiter = sniff_delimiter(sample)
    reader = csv.reader(handle, delimiter=delimiter)
    header: list[str] | None = None
    for header_cells in reader:
        if any(cell.strip() for cell in header_cells):
            header = header_cells
            break
    if header is None:
        handle.close()
        raise IntakeError(f"{path.name}: the file is empty (no header line)")
    columns = plan_columns(header, mapping)
    if not any(columns.fields):
        handle.close()
        raise IntakeError(
            f"{path.name}: no column is a name, e-mail, phone, site, social profile or CNPJ "
            f"(headers: {', '.join(h for h in header if h.strip())[:200]}); use --map COLUMN=FIELD"
        )

    def rows() -> Iterator[RawRow]:
        start = reader.line_num + 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                row = RawRow(line=start, problems=[f"unreadable: {exc}"])
                start = reader.line_num + 1
                yield row
                continue
            line, start = start, reader.line_num + 1
            if not any(map(str.strip, cells)):
                continue  # blank lines are not rows
            yield build_row(line, cells, columns)

    return Source(path, "csv", columns, rows(), encoding, delimiter, handle)


def _open_xlsx(path: Path, mapping: dict[str, str]) -> Source:
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, OSError, KeyError, ValueError) as exc:
        raise IntakeError(f"{path.name}: not a readable .xlsx file ({exc})") from None
    sheet = book.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    header: list[str] | None = None
    line = 0
    for cells in iterator:
        line += 1
        if any(c is not None and str(c).strip() for c in cells):
            header = ["" if c is None else str(c) for c in cells]
            break
    if header is None:
        book.close()
        raise IntakeError(f"{path.name}: the first sheet is empty")
    columns = plan_columns(header, mapping)
    first_line = line

    def rows() -> Iterator[RawRow]:
        number = first_line
        try:
            for cells in iterator:
                number += 1
                if not any(c is not None and str(c).strip() for c in cells):
                    continue
                yield build_row(number, [_xlsx_text(c) for c in cells], columns)
        finally:
            book.close()

    return Source(path, "xlsx", columns, rows())


def _xlsx_text(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone typed as a number: 11987654321.0 -> 11987654321
    return value


def _open_jsonl(path: Path, mapping: dict[str, str]) -> Source:
    encoding = detect_encoding(path)
    handle = path.open("r", encoding=encoding)
    source = Source(path, "jsonl", None, iter(()), encoding, None, handle)
    plans: dict[tuple[str, ...], Columns] = {}

    def rows() -> Iterator[RawRow]:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError:
                yield RawRow(line=number, problems=["unreadable: not a JSON object"])
                continue
            if not isinstance(record, dict):
                yield RawRow(line=number, problems=["unreadable: not a JSON object"])
                continue
            yield row_from_mapping(number, record, mapping, plans, source.unknown_keys)

    source.rows = rows()
    return source


def row_from_mapping(
    line: int,
    record: Mapping[str, Any],
    mapping: Mapping[str, str],
    plans: dict[tuple[str, ...], Columns],
    unknown: set[str],
) -> RawRow:
    """A JSON object (a file line or an API item) as a row; keys are read like headers."""
    keys = tuple(str(k) for k in record)
    columns = plans.get(keys)
    if columns is None:
        columns = plans[keys] = plan_columns(list(keys), mapping)
        unknown.update(columns.unknown)
    cells: list[Any] = []
    for value in record.values():
        if isinstance(value, list):
            cells.append(" ; ".join(str(v) for v in value if v is not None))
        elif isinstance(value, dict):
            cells.append(None)  # nested objects are not lead fields
        else:
            cells.append(value)
    return build_row(line, cells, columns)


def open_text_csv(text: str, name: str, mapping: Mapping[str, str] | None = None) -> Source:
    """A CSV held in memory (an API body) read like a file."""
    handle = io.StringIO(text.lstrip("\ufeff"))
    delimiter = sniff_delimiter(text[:SNIFF_BYTES])
    reader = csv.reader(handle, delimiter=delimiter)
    header = next(reader, None)
    if not header:
        raise IntakeError("the CSV body is empty (no header line)")
    columns = plan_columns(header, dict(mapping or {}))

    def rows() -> Iterator[RawRow]:
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if any(cell.strip() for cell in cells):
                yield build_row(line, cells, columns)

    return Source(Path(name), "csv", columns, rows(), "utf-8", delimiter, None)
