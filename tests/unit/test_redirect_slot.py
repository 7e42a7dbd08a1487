"""A page a redirect led to is throttled and paused in its own host's download slot."""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from leadcrawler.middlewares import (
    RedirectSlotMiddleware,
    RetryAfterConfig,
    RetryAfterMiddleware,
    _slot_key,
)
from settings import base

PROJECT_SETTINGS = {k: getattr(base, k) for k in dir(base) if k.isupper()}


def redirected(slot: str, location: str) -> Request:
    """What Scrapy's RedirectMiddleware makes of a 301 to ``location``."""
    crawler = get_crawler(settings_dict=PROJECT_SETTINGS)
    first = Request("https://kiwify.app/s000001", meta={"download_slot": slot})
    answer = Response(first.url, status=301, headers={"Location": location}, request=first)
    result: Any = RedirectMiddleware.from_crawler(crawler).process_response(first, answer)
    assert isinstance(result, Request)
    return result


def test_a_redirect_target_leaves_the_short_links_slot() -> None:
    request = redirected("kiwify.app", "https://www.produtor1.com.br/")
    assert _slot_key(None, request) == "kiwify.app"  # Scrapy alone: the short link's slot
    crawler = get_crawler(settings_dict=PROJECT_SETTINGS)
    RedirectSlotMiddleware.from_crawler(crawler).process_request(request)
    assert _slot_key(None, request) == "www.produtor1.com.br"


def test_a_503_on_the_target_pauses_the_target_host_not_the_short_link_host() -> None:
    crawler = get_crawler(settings_dict=PROJECT_SETTINGS)
    request = redirected("kiwify.app", "https://www.produtor1.com.br/")
    RedirectSlotMiddleware.from_crawler(crawler).process_request(request)
    assert crawler.stats is not None
    retry_after = RetryAfterMiddleware(
        RetryAfterConfig.from_settings(crawler.settings), crawler.stats
    )
    busy = Response(request.url, status=503, headers={"Retry-After": "120"}, request=request)
    retry_after.process_response(request, busy)
    assert set(retry_after.paused_until) == {"www.produtor1.com.br"}


def test_a_slot_the_spider_chose_is_kept() -> None:
    request = redirected("platform-checkouts", "https://pay.kiwify.com.br/c000001")
    crawler = get_crawler(settings_dict=PROJECT_SETTINGS)
    RedirectSlotMiddleware.from_crawler(crawler).process_request(request)
    assert request.meta["download_slot"] == "platform-checkouts"


def test_same_host_redirects_keep_their_slot() -> None:
    request = redirected("kiwify.app", "https://kiwify.app/other")
    crawler = get_crawler(settings_dict=PROJECT_SETTINGS)
    RedirectSlotMiddleware.from_crawler(crawler).process_request(request)
    assert request.meta["download_slot"] == "kiwify.app"
