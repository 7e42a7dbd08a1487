"""A log formatter that keeps personal data out of the logs.

Scrapy logs every scraped and dropped item in full (at DEBUG and WARNING). Leads hold
e-mails and phone numbers, and logs are kept, shipped and read by people who need no
such data (LGPD minimisation), so items are logged by their uid, source URL and a
summary, and any e-mail or phone that still slips into a message is masked.

Settings: ``LOG_FORMATTER = "leadcrawler.logformatter.MaskingLogFormatter"``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

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
        result["args"] = {
            **_args(result),
            "item": describe(item),
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
