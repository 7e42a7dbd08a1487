"""Scrapy feed exporters that write what ``leadcrawler export`` writes.

``scrapy crawl kiwify -O leads.csv`` (or ``-O leads.jsonl``) gives one row per sighting (each
final, enriched and qualified item) with exactly the export's columns, built by the export's
own row builder (``lead_record`` and ``csv_cells`` in :mod:`leadcrawler.storage.export`):
lists joined with `` | ``, offers as ``Product — R$ 97,00 — URL``, dates ISO 8601, the
CWE-1236 guard on every CSV cell. JSON Lines keeps arrays and objects as JSON.

Registered for the ``csv`` and ``jsonl`` formats in ``FEED_EXPORTERS`` (``settings/base.py``).
Settings: ``FEED_CSV_DIALECT`` (``excel-br`` default: ``;``, UTF-8 BOM, CRLF, for Excel in
Brazilian Portuguese; ``rfc4180`` for plain comma-separated UTF-8) and ``FEED_PHONE_FORMAT``
(``e164``, ``national``, ``digits``). ``FEED_EXPORT_ENCODING`` still chooses the encoding.

A spider that yields leads (``yields_leads``: the platform and site spiders) writes leads
only: the ``DiscoveredUrl`` items it yields for checkout links found on sites go to the
frontier, not to the analysts' file (they are counted in the log). The discovery spiders'
``DiscoveredUrl`` items are written with their own fields, dates as ISO 8601.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import logging
from datetime import datetime
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any, Self, cast

from scrapy.exporters import BaseItemExporter

from leadcrawler.domain.items import Lead
from leadcrawler.storage.export import (
    COLUMNS,
    CSV_DIALECTS,
    PHONE_FORMATS,
    csv_cells,
    lead_record,
    neutralise,
)
from leadcrawler.storage.readmodel import StoredLead

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


def lead_as_stored(lead: Lead) -> StoredLead:
    """A crawled :class:`Lead` in the shape the base hands to the export (one sighting)."""
    seen = lead.sighting.seen_at
    record: dict[str, Any] = {
        "lead_id": lead.lead_uid or "",
        "name": lead.display_name or lead.legal_name,
        "legal_name": lead.legal_name,
        "cnpj": lead.cnpj,
        "website": lead.website,
        "domain": lead.domain,
        "score": lead.score,
        "tier": lead.tier,
        "score_reasons": lead.score_reasons,
        "first_seen": seen,
        "last_seen": seen,
        "source_urls": [lead.sighting.url],
        "contacts": [
            {
                "kind": str(c.kind),
                "value": c.normalized or c.value,
                "status": str(c.status),
                "details": c.details,
            }
            for c in lead.contacts
        ],
        "offers": [
            {
                "platform": o.platform,
                "checkout_url": o.checkout_url,
                "product_name": o.product_name,
                "price_brl": o.price_brl,
                "seller_id": o.seller_id,
            }
            for o in lead.offers
        ],
    }
    return cast(StoredLead, record)


def feed_record(lead: Lead, phone_format: str = "e164") -> dict[str, Any]:
    """The export's record of one crawled lead."""
    return lead_record(lead_as_stored(lead), phone_format)


def plain_record(item: Any) -> dict[str, Any]:
    """Any other dataclass item, flat: dates ISO 8601, decimals as numbers."""
    is_instance = dataclasses.is_dataclass(item) and not isinstance(item, type)
    record = dataclasses.asdict(item) if is_instance else dict(item)
    return {key: _plain(value) for key, value in record.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Decimal):
        return float(value)
    return value


class _LeadExporterBase(BaseItemExporter):
    def __init__(
        self,
        file: IO[bytes],
        *,
        csv_dialect: str = "excel-br",
        phone_format: str = "e164",
        leads_only: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(dont_fail=True, **kwargs)
        self.leads_only = leads_only
        self.skipped = 0
        if csv_dialect not in CSV_DIALECTS:
            raise ValueError(f"FEED_CSV_DIALECT must be one of {sorted(CSV_DIALECTS)}")
        if phone_format not in PHONE_FORMATS:
            raise ValueError(f"FEED_PHONE_FORMAT must be one of {list(PHONE_FORMATS)}")
        self.file = file
        self.csv_dialect = csv_dialect
        self.phone_format = phone_format
        self.charset: str = self.encoding or "utf-8"

    @classmethod
    def from_crawler(cls, crawler: Crawler, file: IO[bytes], **kwargs: Any) -> Self:
        kwargs.setdefault("csv_dialect", crawler.settings.get("FEED_CSV_DIALECT", "excel-br"))
        kwargs.setdefault("phone_format", crawler.settings.get("FEED_PHONE_FORMAT", "e164"))
        kwargs.setdefault("leads_only", bool(getattr(crawler.spidercls, "yields_leads", False)))
        return cls(file, **kwargs)

    def wanted(self, item: Any) -> bool:
        """False for what a lead spider's feed leaves out (counted, said at the end)."""
        if self.leads_only and not isinstance(item, Lead):
            self.skipped += 1
            return False
        return True

    def report_skipped(self) -> None:
        if self.skipped:
            logger.info(
                "%d item(s) that are not leads (frontier URLs, or another kind than the first "
                "row) were not written to the feed",
                self.skipped,
            )

    def record(self, item: Any) -> dict[str, Any]:
        if isinstance(item, Lead):
            return feed_record(item, self.phone_format)
        return plain_record(item)


class LeadCsvItemExporter(_LeadExporterBase):
    """CSV with the export's columns, dialect and formula guard."""

    def __init__(self, file: IO[bytes], **kwargs: Any) -> None:
        super().__init__(file, **kwargs)
        spec = CSV_DIALECTS[self.csv_dialect]
        self.stream = io.TextIOWrapper(
            file, encoding=self.charset, newline="", line_buffering=False, write_through=True
        )
        self.writer = csv.writer(self.stream, delimiter=spec.delimiter, lineterminator="\r\n")
        self.bom = spec.bom and self.charset.replace("_", "-").lower() in ("utf-8", "utf8")
        self.header: tuple[str, ...] | None = None
        self.kind: type | None = None

    def start_exporting(self) -> None:
        if self.bom:
            self.stream.write("\ufeff")

    def export_item(self, item: Any) -> None:
        if not self.wanted(item):
            return
        if self.header is None:
            self.kind = type(item)
            self.header = COLUMNS if isinstance(item, Lead) else tuple(plain_record(item))
            self.writer.writerow(self.header)
        if type(item) is not self.kind:  # one CSV, one kind of row
            self.skipped += 1
            return
        record = self.record(item)
        if isinstance(item, Lead):
            self.writer.writerow(csv_cells(record))
        else:
            cells = ("" if record.get(c) is None else str(record.get(c)) for c in self.header)
            self.writer.writerow([neutralise(cell) for cell in cells])

    def finish_exporting(self) -> None:
        self.report_skipped()
        self.stream.flush()
        self.stream.detach()  # the feed storage closes the file itself


class LeadJsonLinesItemExporter(_LeadExporterBase):
    """JSON Lines with the export's records: arrays and objects stay JSON."""

    def export_item(self, item: Any) -> None:
        if not self.wanted(item):
            return
        line = json.dumps(self.record(item), ensure_ascii=False, default=str) + "\n"
        self.file.write(line.encode(self.charset))

    def finish_exporting(self) -> None:
        self.report_skipped()
