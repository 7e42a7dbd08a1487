"""Export of the historical base for analysts: one row per lead, in priority order.

CSV (default dialect ``excel-br``: ``;`` separator, UTF-8 with BOM, CRLF, so Excel in
Brazilian Portuguese opens it with accents and columns right; ``rfc4180`` gives plain
comma-separated UTF-8) or JSON Lines (arrays and objects kept as such).

Every CSV cell is safe from formula injection (CWE-1236): a cell whose first
non-blank character is ``= + - @``, or that starts with a tab, CR or NUL, gets a leading
``'``. E.164 phones start with ``+`` and are affected; ``--phone-format digits`` or
``national`` gives spreadsheet-friendly phones that need no quote.

Rows stream from the base and are written as they come: memory stays flat however
large the base is. A file is written under a temporary name and renamed at the end, so a
failed export never leaves half a file behind (see :func:`export_target` for special files
and permissions).
"""

from __future__ import annotations

import csv
import json
import os
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import phonenumbers

from leadcrawler.domain.identity import social_key
from leadcrawler.domain.social import network_name
from leadcrawler.storage.readmodel import (
    StoredLead,
    ranked_emails,
    ranked_phones,
    valid,
    whatsapp_numbers,
)

COLUMNS = (
    "lead_id", "name", "email", "emails", "email_status", "phone", "phones", "whatsapp",
    "instagram", "website", "domain", "platforms", "offers", "source_urls", "presence", "score",
    "tier", "score_reasons", "first_seen", "last_seen", "legal_basis", "purpose", "lia_reference",
)  # fmt: skip
MULTI_SEPARATOR = " | "
FORMULA_TRIGGERS = ("=", "+", "-", "@")
PHONE_FORMATS = ("e164", "national", "digits")


@dataclass(frozen=True, slots=True)
class CsvDialect:
    delimiter: str
    bom: bool


CSV_DIALECTS = {
    "excel-br": CsvDialect(delimiter=";", bom=True),
    "rfc4180": CsvDialect(delimiter=",", bom=False),
}


def neutralise(cell: str) -> str:
    """Make a cell inert in spreadsheets (OWASP CSV injection guidance)."""
    if not cell:
        return cell
    if cell[0] in ("\t", "\r", "\0", "\n") or cell.lstrip(" ").startswith(FORMULA_TRIGGERS):
        return "'" + cell
    return cell


def format_phone(e164: str, style: str) -> str:
    if style == "e164":
        return e164
    if style == "digits":
        return e164.lstrip("+")
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def format_brl(amount: Decimal | None) -> str:
    if amount is None:
        return ""
    whole, cents = f"{amount:,.2f}".split(".")
    return f"R$ {whole.replace(',', '.')},{cents}"


def presence(lead: StoredLead) -> dict[str, Any]:
    """Where the producer is present: networks, own domain (and whether it takes mail),
    platforms and offers seen."""
    contacts = lead["contacts"]
    networks = sorted(
        {
            network
            for c in valid(contacts, "social")
            if social_key(c["value"]) and (network := network_name(c["value"]))
        }
    )
    domain = lead["domain"]
    checked = [
        c["details"] or {}
        for c in valid(contacts, "email")
        if domain and c["value"].endswith("@" + domain) and (c["details"] or {}).get("mx_status")
    ]
    mail = (
        any(d["mx_status"] == "valid-mx" or d.get("a_fallback") for d in checked)
        if checked
        else None
    )
    return {
        "networks": networks,
        "own_domain": domain,
        "own_domain_mail": mail,  # None: no e-mail on it was checked
        "platforms": len({o["platform"] for o in lead["offers"]}),
        "offers": len(lead["offers"]),
    }


def presence_text(summary: dict[str, Any]) -> str:
    parts = [", ".join(summary["networks"]) or "no social"]
    if summary["own_domain"]:
        mail = {True: "mail ok", False: "no mail", None: "mail unchecked"}
        parts.append(f"{summary['own_domain']} ({mail[summary['own_domain_mail']]})")
    else:
        parts.append("no own domain")
    parts.append(f"{summary['platforms']} platform(s), {summary['offers']} offer(s)")
    return " · ".join(parts)


def lead_record(lead: StoredLead, phone_format: str = "e164") -> dict[str, Any]:
    """The export's view of one lead (lists stay lists; CSV joins them)."""
    emails = ranked_emails(lead)
    phones = ranked_phones(lead)
    whatsapp = whatsapp_numbers(lead)
    socials = valid(lead["contacts"], "social")
    instagram = [c["value"] for c in socials if network_name(c["value"]) == "instagram"]
    best_email = emails[0] if emails else None
    email_status = ""
    if best_email is not None:
        details = best_email["details"] or {}
        email_status = str(details.get("mx_status") or best_email["status"])
    return {
        "lead_id": lead["lead_id"],
        "name": lead["name"] or "",
        "email": best_email["value"] if best_email else "",
        "emails": [c["value"] for c in emails],
        "email_status": email_status,
        "phone": format_phone(phones[0]["value"], phone_format) if phones else "",
        "phones": [format_phone(c["value"], phone_format) for c in phones],
        "whatsapp": list(dict.fromkeys(format_phone(c["value"], phone_format) for c in whatsapp)),
        "instagram": instagram,
        "website": lead["website"] or "",
        "domain": lead["domain"] or "",
        "platforms": sorted({o["platform"] for o in lead["offers"]}),
        "offers": [
            {
                "platform": o["platform"],
                "product_name": o["product_name"],
                # a number (JSON), never a string or a repr
                "price_brl": float(o["price_brl"]) if o["price_brl"] is not None else None,
                "checkout_url": o["checkout_url"],
            }
            for o in lead["offers"]
        ],
        "source_urls": list(lead["source_urls"]),
        "presence": presence(lead),
        "score": lead["score"],
        "tier": lead["tier"] or "",
        "score_reasons": dict(lead["score_reasons"] or {}),
        "first_seen": _iso(lead["first_seen"]),
        "last_seen": _iso(lead["last_seen"]),
        # LGPD transparency: why each lead is held (settings PRIVACY_*).
        "legal_basis": lead.get("legal_basis") or "",
        "purpose": lead.get("purpose") or "",
        "lia_reference": lead.get("lia_reference") or "",
    }


def _iso(moment: datetime | None) -> str:
    return moment.isoformat().replace("+00:00", "Z") if moment else ""


def csv_cells(record: dict[str, Any]) -> list[str]:
    cells: list[str] = []
    for column in COLUMNS:
        value = record[column]
        if column == "offers":
            value = [
                " — ".join(
                    part
                    for part in (
                        o["product_name"] or "",
                        format_brl(Decimal(str(o["price_brl"])))
                        if o["price_brl"] is not None
                        else "",
                        o["checkout_url"],
                    )
                    if part
                )
                for o in value
            ]
        elif column == "presence":
            value = presence_text(value)
        elif column == "score_reasons":
            value = [f"{name} {points:+d}" for name, points in value.items()]
        if isinstance(value, list):
            value = MULTI_SEPARATOR.join(str(v) for v in value)
        cells.append(neutralise("" if value is None else str(value)))
    return cells


def write_csv(records: Iterable[dict[str, Any]], handle: IO[str], dialect: str) -> int:
    spec = CSV_DIALECTS[dialect]
    if spec.bom:
        handle.write("\ufeff")
    writer = csv.writer(
        handle, delimiter=spec.delimiter, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n"
    )
    writer.writerow(COLUMNS)
    count = 0
    for record in records:
        writer.writerow(csv_cells(record))
        count += 1
    return count


def write_jsonl(records: Iterable[dict[str, Any]], handle: IO[str]) -> int:
    count = 0
    for record in records:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def export(
    leads: Iterable[StoredLead],
    output: str,
    *,
    fmt: str = "csv",
    dialect: str = "excel-br",
    phone_format: str = "e164",
    stdout: IO[str] | None = None,
    digest: Any = None,
) -> int:
    """Write ``leads`` to ``output`` (``-`` for standard output); returns the row count.

    ``digest`` (a :mod:`hashlib` object) is fed the UTF-8 bytes written, whatever the
    target (a file, a FIFO, standard output): the audit log records the export's hash.
    """
    records = (lead_record(lead, phone_format) for lead in leads)

    def write(handle: IO[str]) -> int:
        if digest is not None:
            handle = HashingWriter(handle, digest)  # type: ignore[assignment]
        if fmt == "jsonl":
            return write_jsonl(records, handle)
        return write_csv(records, handle, dialect)

    try:
        with export_target(output, stdout) as handle:
            return write(handle)
    except OSError as exc:
        if output == "-" or isinstance(exc, BrokenPipeError):
            raise
        raise ExportError(f"cannot write to {output}: {exc.strerror or exc}") from None


class HashingWriter:
    """A text stream that passes writes through and feeds their UTF-8 bytes to a digest."""

    def __init__(self, inner: IO[str], digest: Any) -> None:
        self.inner = inner
        self.digest = digest

    def write(self, text: str) -> int:
        self.digest.update(text.encode("utf-8"))
        return self.inner.write(text)

    def flush(self) -> None:
        self.inner.flush()


class ExportError(ValueError):
    """The export cannot be written where it was asked to go; the message says why."""


NEW_EXPORT_MODE = 0o600  # exports hold personal data: only the owner reads a new one


@contextmanager
def export_target(output: str, stdout: IO[str] | None = None) -> Iterator[IO[str]]:
    """Where an export goes. ``-`` is standard output.

    A regular file (or a new one) is written under a temporary name beside it and renamed
    over it when complete, keeping the old file's permission bits (a new export is 0600:
    it holds personal data). Anything else that exists - a FIFO, a device such as
    ``/dev/null`` or ``/dev/full``, a symbolic link - is written to as a stream, never
    replaced. A directory or a missing folder is an :class:`ExportError`.
    """
    if output == "-":
        assert stdout is not None
        yield stdout
        return
    target = Path(output)
    try:
        existing = target.stat()  # follows a symlink to what it names
    except FileNotFoundError:
        existing = None
    except OSError as exc:
        raise ExportError(f"cannot write to {output}: {exc.strerror}") from None
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise ExportError(f"{output} is a directory; give a file name")
    if target.is_symlink() or (existing is not None and not stat.S_ISREG(existing.st_mode)):
        with open(target, "w", encoding="utf-8", newline="") as stream:
            yield stream
        return
    if not target.parent.is_dir():
        raise ExportError(f"folder {target.parent} does not exist")
    mode = stat.S_IMODE(existing.st_mode) if existing is not None else NEW_EXPORT_MODE
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        os.fchmod(descriptor, mode)  # the umask does not narrow or widen it
        with open(descriptor, "w", encoding="utf-8", newline="") as handle:
            yield handle
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


# --- deltas: `--changed-since LAST` -------------------------------------------------------


def state_path(output: str) -> Path:
    """Where the last export to ``output`` is recorded: a small JSON file beside it."""
    target = Path(output).resolve()
    return target.with_name(f".{target.name}.last-export.json")


def last_export(output: str) -> datetime | None:
    """When the last complete export to ``output`` started, or None (never, or unreadable)."""
    try:
        raw = json.loads(state_path(output).read_text("utf-8"))
        moment = datetime.fromisoformat(raw["started_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def record_export(output: str, started_at: datetime, rows: int) -> None:
    """Remember a complete export (written only after the file itself was renamed in place)."""
    path = state_path(output)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(
        json.dumps({"started_at": started_at.isoformat(), "rows": rows, "output": output}),
        "utf-8",
    )
    os.replace(partial, path)
