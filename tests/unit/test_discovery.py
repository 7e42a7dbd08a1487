"""Discovery parsers: SearXNG, Brave, DuckDuckGo answers and Wayback CDX pages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request, TextResponse

from leadcrawler.domain.platforms import load_platforms
from leadcrawler.extraction.discovery import cdx_rows, keep_platform_url
from leadcrawler.spiders.engines import BraveEngine, DuckDuckGoEngine, SearxngEngine


def json_response(url: str, data: Any, status: int = 200) -> TextResponse:
    return TextResponse(
        url, body=json.dumps(data).encode(), status=status, encoding="utf-8", request=Request(url)
    )


def test_searxng_results_and_blocked_is_not_empty() -> None:
    engine = SearxngEngine("http://searx.local/")
    request = engine.request("site:pay.kiwify.com.br confeitaria", 2)
    assert (
        request.url
        == "http://searx.local/search?q=site%3Apay.kiwify.com.br+confeitaria&format=json&pageno=2"
    )
    ok = engine.parse(
        json_response(
            request.url,
            {
                "query": "q",
                "results": [{"url": "https://pay.kiwify.com.br/AbC1234", "title": "x"}],
                "unresponsive_engines": [],
            },
        )
    )
    assert ok.urls == ["https://pay.kiwify.com.br/AbC1234"] and ok.blocked is None and ok.has_more
    blocked = engine.parse(
        json_response(
            request.url,
            {"results": [], "unresponsive_engines": [["google", "CAPTCHA"], ["bing", "timeout"]]},
        )
    )
    assert blocked.blocked == "unresponsive_engines" and blocked.urls == []
    empty = engine.parse(json_response(request.url, {"results": [], "unresponsive_engines": []}))
    assert empty.blocked is None and empty.urls == [] and not empty.has_more
    assert engine.parse(json_response(request.url, {}, status=403)).blocked == "json_disabled"
    assert (
        engine.parse(TextResponse(request.url, body=b"<html>", encoding="utf-8")).blocked
        == "not_json"
    )


def test_brave_sends_the_key_and_reads_web_results() -> None:
    engine = BraveEngine("secret-key")
    request = engine.request("site:pay.hub.la yoga", 3)
    assert request.headers["X-Subscription-Token"] == b"secret-key"
    assert "offset=2" in request.url and "count=20" in request.url
    page = engine.parse(
        json_response(
            request.url,
            {
                "web": {"results": [{"url": "https://pay.hub.la/pNvftlqYLpsT2RlpwLID"}]},
                "query": {"more_results_available": True},
            },
        )
    )
    assert page.urls == ["https://pay.hub.la/pNvftlqYLpsT2RlpwLID"] and page.has_more
    assert engine.parse(json_response(request.url, {}, status=401)).blocked == "bad_api_key"
    assert engine.parse(json_response(request.url, {}, status=429)).blocked == "rate_limited"


DDG_RESULTS = """<html><body><div id="links">
<div class="result web-result"><h2><a class="result__a" href="//duckduckgo.com/l/?uddg=https%3A%2F%2Fpay.kiwify.com.br%2FAbC1234%3Fsrc%3Dx&rut=abc">Curso</a></h2>
<a class="result__snippet">...</a></div>
<div class="result web-result"><h2><a class="result__a" href="https://hub.la/g/pNvftlqYLpsT2RlpwLID">Grupo</a></h2></div>
<div class="nav-link"><form action="/html/" method="post"><input type="hidden" name="s" value="30"></form></div>
</div></body></html>"""


def test_duckduckgo_decodes_redirect_links_and_spots_captchas() -> None:
    engine = DuckDuckGoEngine()
    request = engine.request("site:kiwify.app confeitaria", 2)
    assert (
        request.url.startswith("https://html.duckduckgo.com/html/?")
        and "s=30" in request.url
        and "kl=br-pt" in request.url
    )
    page = engine.parse(HtmlResponse(request.url, body=DDG_RESULTS.encode(), request=request))
    assert page.urls == [
        "https://pay.kiwify.com.br/AbC1234?src=x",
        "https://hub.la/g/pNvftlqYLpsT2RlpwLID",
    ]
    assert page.has_more
    captcha = HtmlResponse(
        request.url, body=b'<form id="challenge-form" action="/d.js"></form>', request=request
    )
    assert engine.parse(captcha).blocked == "captcha"


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        (
            "https://pay.kiwify.com.br/AbC1234?afid=9&email=buyer@x.com",
            ("kiwify", "https://pay.kiwify.com.br/AbC1234"),
        ),
        ("http://kiwify.app/AbC1234/", ("kiwify", "https://kiwify.app/AbC1234")),
        (
            "https://pay.hub.la/pNvftlqYLpsT2RlpwLID",
            ("hubla", "https://pay.hub.la/pNvftlqYLpsT2RlpwLID"),
        ),
        (
            "https://pay.hotmart.com/A12345678B?checkoutMode=10",
            ("hotmart", "https://pay.hotmart.com/A12345678B"),
        ),
        ("https://dashboard.kiwify.com.br/products", None),  # private, never a source
        ("https://pay.kiwify.com.br/", None),
        ("https://kiwify.com.br/blog/post", None),
        ("https://example.com/pay.kiwify.com.br/AbC1234", None),
        ("https://sun.eduzz.com/123456", None),  # a known platform, but not chosen
    ],
)
def test_only_chosen_platforms_product_pages_are_kept(
    url: str, kept: tuple[str, str] | None
) -> None:
    platforms = {k: v for k, v in load_platforms().items() if k in {"kiwify", "hubla", "hotmart"}}
    assert keep_platform_url(url, platforms) == kept


def test_cdx_rows_and_resume_key() -> None:
    data = [
        ["original", "timestamp", "statuscode"],
        ["https://pay.kiwify.com.br/AbC1234", "20240101000000", "200"],
        ["https://pay.kiwify.com.br/XyZ9876?afid=1", "20240102000000", "200"],
        [],
        ["cGF5Lmtpd2lmeS5jb20uYnIvWHlaOTg3Ng=="],
    ]
    rows, resume = cdx_rows(data)
    assert [r["original"] for r in rows] == [
        "https://pay.kiwify.com.br/AbC1234",
        "https://pay.kiwify.com.br/XyZ9876?afid=1",
    ]
    assert resume == "cGF5Lmtpd2lmeS5jb20uYnIvWHlaOTg3Ng=="
    assert cdx_rows(data[:3]) == (rows, None)
    assert cdx_rows([]) == ([], None)
    assert cdx_rows({"error": "x"}) == ([], None)
