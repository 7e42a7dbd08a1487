"""Export of the historical base for analysts: one row per lead, in priority order.

CSV (default dialect ``excel-br``: ``;`` separator, UTF-8 with BOM, CRLF, so Excel in
Brazilian Portuguese opens it with accents and columns right; ``rfc4180`` gives plain
comma-separated UTF-8) or JSON Lines (arrays and objects kept as such).

Every CSV cell is safe from formula injection (CWE-1236): a cell whose first
non-blank character is ``= + - @``, or that starts with a tab, CR or NUL, gets a leading
``'``. E.164 phones start with ``+`` and are affected; ``--phone-format digits`` or
``national`` gives spreadsheet-friendly phones that need no quote.

Rows stream from the base and are written as they come: memory stays flat however
large the base is. The file is written under a temporary name and renamed at the end,
so a failed export never leaves half a file behind.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import phonenumbers

from leadcrawler.domain.identity import social_key
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
    "tier", "score_reasons", "first_seen", "last_seen",
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
            key.split(":", 1)[1].split("/", 1)[0].removesuffix(".com").removesuffix(".ee")
            for c in valid(contacts, "social")
            if (key := social_key(c["value"]))
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
    instagram = [c["value"] for c in socials if "instagram.com" in c["value"]]
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
                "price_brl": str(o["price_brl"]) if o["price_brl"] is not None else None,
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
                        format_brl(Decimal(o["price_brl"])) if o["price_brl"] else "",
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
) -> int:
    """Write ``leads`` to ``output`` (``-`` for standard output); returns the row count."""
    records = (lead_record(lead, phone_format) for lead in leads)

    def write(handle: IO[str]) -> int:
        if fmt == "jsonl":
            return write_jsonl(records, handle)
        return write_csv(records, handle, dialect)

    if output == "-":
        assert stdout is not None
        return write(stdout)
    target = Path(output)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as handle:
            count = write(handle)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return count
