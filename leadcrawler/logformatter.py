"""A log formatter that keeps personal data out of the logs.

Scrapy logs every scraped and dropped item in full (at DEBUG and WARNING). Leads hold
e-mails and phone numbers, and logs are kept, shipped and read by people who need no
such data (LGPD minimisation), so items are logged by their uid, source URL and a
summary, and any e-mail or phone that still slips into a message is masked.

Every other log line is covered too: :func:`install_log_masking` (run by the
:class:`LogMasking` extension in every crawl, and by the ``leadcrawler`` command) wraps
the process's log-record factory, so any message from any logger (the project's, Scrapy's,
Twisted's, the API server's) has its e-mails and phone numbers masked before a handler
sees it.

Settings: ``LOG_FORMATTER = "leadcrawler.logformatter.MaskingLogFormatter"``,
``EXTENSIONS = {"leadcrawler.logformatter.LogMasking": 0}`` (no switch: logs are kept and
shipped, personal data must never be in them).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Self

from scrapy.logformatter import LogFormatter, LogFormatterResult

from leadcrawler.domain.items import Lead

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.http import Response
    from twisted.python.failure import Failure

EMAIL_RE = re.compile(r"([\w.+-])[\w.+-]*@([\w-]+\.)+[\w-]+", re.UNICODE)
PHONE_RE = re.compile(r"(\+?\d[\d\s().-]{6,}\d)(\d{2})")


def mask(text: str) -> str:
    """``ana@loja.com.br`` -> ``a***@***``; ``+5511987654321`` -> ``***21``."""
    text = EMAIL_RE.sub(lambda m: f"{m.group(1)}***@***", text)
    return PHONE_RE.sub(lambda m: f"***{m.group(2)}", text)


# Phone numbers as they show up in messages: E.164 (+5511987654321), WhatsApp-link digits
# (5511987654321) and the Brazilian written form ((11) 98765-4321, 11 9876-5432). Narrower
# than PHONE_RE so that byte counts, timings and ids in ordinary log lines stay readable.
_LOG_PHONE_RE = re.compile(
    r"\+\d[\d ().-]{8,20}\d|(?<![\w.])55\d{10,11}(?!\d)|\(?\b\d{2}\)?[ ]?9?[ ]?\d{4}-\d{4}\b"
)


def mask_log_text(text: str) -> str:
    """E-mails and phone numbers masked, the rest of a log message untouched."""
    if "@" in text:  # most log lines have none: the e-mail pattern is the dearer scan
        text = EMAIL_RE.sub(lambda m: f"{m.group(1)}***@***", text)
    return _LOG_PHONE_RE.sub(lambda m: "***" + m.group(0)[-2:], text)


_installed: list[bool] = []


def install_log_masking() -> None:
    """Mask personal data in every log record this process creates (idempotent)."""
    if _installed:
        return
    _installed.append(True)
    make_record = logging.getLogRecordFactory()

    def masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let logging report it as usual
            return record
        clean = mask_log_text(message)
        if clean != message:
            record.msg, record.args = clean, None
        return record

    logging.setLogRecordFactory(masked_record)


class LogMasking:
    """Extension: installs :func:`install_log_masking` when a crawl starts."""

    @classmethod
    def from_crawler(cls, crawler: Any) -> Self:
        install_log_masking()
        return cls()


def describe(item: Any) -> str:
    if isinstance(item, Lead):
        return (
            f"<Lead uid={item.lead_uid} source={item.sighting.url} "
            f"contacts={len(item.contacts)} offers={len(item.offers)} tier={item.tier}>"
        )
    return mask(repr(item))[:500]


def _args(result: LogFormatterResult) -> dict[str, Any]:
    args = result["args"]
    return dict(args) if isinstance(args, dict) else {}


class MaskingLogFormatter(LogFormatter):
    def scraped(
        self, item: Any, response: Response | Failure | None, spider: Spider
    ) -> LogFormatterResult:
        result = super().scraped(item, response, spider)
        result["args"] = {**_args(result), "item": describe(item)}
        return result

    def dropped(
        self,
        item: Any,
        exception: BaseException,
        response: Response | Failure | None,
        spider: Spider,
    ) -> LogFormatterResult:
        result = super().dropped(item, exception, response, spider)
        # A suppressed person leaves no trace, not even the page they were seen on.
        suppressed = type(exception).__name__ == "SuppressedLead"
        result["args"] = {
            **_args(result),
            "item": "<Lead suppressed>" if suppressed else describe(item),
            "exception": mask(str(exception)),
        }
        return result

    def item_error(
        self,
        item: Any,
        exception: BaseException,
        response: Response | Failure | None,
        spider: Spider,
    ) -> LogFormatterResult:
        result = super().item_error(item, exception, response, spider)
        result["args"] = {**_args(result), "item": describe(item)}
        return result
