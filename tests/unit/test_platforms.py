"""Platforms are data: the registry, its checks, and one generated spider per platform."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from leadcrawler.domain import platforms as platforms_module
from leadcrawler.domain.platforms import PlatformFileError, load_platforms, register_platform_files
from leadcrawler.spiderloader import PlatformSpiderLoader
from leadcrawler.spiders.base import StatePageSpider
from leadcrawler.spiders.ladder import LadderSpider
from leadcrawler.spiders.serp import SerpSpider
from settings import base

NINE_URLS = {
    "eduzz": "https://chk.eduzz.com/2034567",
    "monetizze": "https://app.monetizze.com.br/checkout/DKX214788?sck=abc",
    "braip": "https://ev.braip.com/checkout/pl7Xk2Qa/che9Lm3Tz",
    "ticto": "https://checkout.ticto.app/O4K7P2M9",
    "cakto": "https://pay.cakto.com.br/cKt9w2Xa",
    "kirvano": "https://pay.kirvano.com/7d1e5a90-3c2b-4f6e-9a8d-1b2c3d4e5f60",
    "greenn": "https://payfast.greenn.com.br/55821",
    "perfectpay": "https://go.perfectpay.com.br/PPU38CNFK2",
    "lastlink": "https://lastlink.com/p/CX4Z81QW/checkout-payment",
}


def test_every_platform_has_product_pages_dorks_and_private_hosts() -> None:
    platforms = load_platforms()
    assert len(platforms) == 12
    for key, url in NINE_URLS.items():
        platform = platforms[key]
        assert platform.product_id(url), key
        assert platform.dorks and platform.private_hosts, key
        for host in platform.private_hosts:
            assert platform.product_id(f"https://{host}/abcdef") is None
    assert platforms["eduzz"].product_id("https://sun.eduzz.com/") is None
    assert platforms["monetizze"].product_id("https://app.monetizze.com.br/login") is None
    assert platforms["hubla"].money_in_state == "cents"
    assert platforms["eduzz"].money_in_state == "reais"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[x]\nname = 'X'\n", "platform 'x': hosts is required"),
        (
            "[x]\nname = 'X'\nhosts = ['a.b']\nproduct_paths = ['^/(?P<id>\\\\d+)$']\n"
            "money_in_state = 'dollars'\n",
            "money_in_state must be one of reais, cents",
        ),
        ("[x]\nname = 'X'\nhosts = ['a.b']\nproduct_paths = ['^/(\\\\d+)$']\n", 'group "id"'),
        ("[x]\nname = 'X'\nhosts = ['a.b']\nproduct_paths = ['(']\n", "bad regular expression"),
        ("[X-Y]\nname = 'X'\nhosts = ['a.b']\nproduct_paths = ['^/(?P<id>a)']\n", "the key"),
        ("[x\n", "not valid TOML"),
        (
            "[x]\nname = 'X'\nhosts = ['a.b']\nproduct_paths = ['^/(?P<id>a)']\nreader = 3\n",
            "platform 'x': reader must name a page reader",
        ),
    ],
)
def test_a_wrong_platforms_file_is_refused_with_a_clear_message(
    tmp_path: Path, toml: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml, "utf-8")
    with pytest.raises(PlatformFileError, match=message.replace("(", r"\(")):
        register_platform_files([path])
    with pytest.raises(PlatformFileError, match="does not exist"):
        register_platform_files([tmp_path / "missing.toml"])
    assert "x" not in load_platforms()  # nothing half-registered


def test_every_data_only_platform_gets_the_generic_ladder_spider() -> None:
    loader = PlatformSpiderLoader(Settings({"SPIDER_MODULES": ["leadcrawler.spiders"]}))
    names = set(loader.list())
    assert set(load_platforms()) <= names
    eduzz = loader.load("eduzz")
    assert issubclass(eduzz, LadderSpider) and eduzz.platform_key == "eduzz"
    assert not issubclass(loader.load("kiwify"), LadderSpider)  # Kiwify keeps its own


def test_kiwify_is_read_by_the_shared_ladder_with_its_own_small_reader() -> None:
    loader = PlatformSpiderLoader(Settings({"SPIDER_MODULES": ["leadcrawler.spiders"]}))
    assert issubclass(loader.load("kiwify"), StatePageSpider)
    kiwify = load_platforms()["kiwify"]
    assert kiwify.reader == "kiwify" and kiwify.states == ()
    assert all(load_platforms()[key].reader is None for key in ("hubla", "hotmart", "eduzz"))


def test_a_platform_naming_an_unknown_reader_stops_the_crawl_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "extra.toml"
    path.write_text(
        "[x]\nname = 'X'\nhosts = ['x.example']\nproduct_paths = ['^/(?P<id>a)']\n"
        "reader = 'nope'\n",
        "utf-8",
    )
    monkeypatch.setattr(platforms_module, "_extra_files", [])
    settings = {"SPIDER_MODULES": ["leadcrawler.spiders"], "PLATFORMS_EXTRA_FILES": [str(path)]}
    try:
        with pytest.raises(
            SystemExit, match=r"^leadcrawler: platform 'x': unknown reader 'nope'; known: kiwify$"
        ):
            PlatformSpiderLoader(Settings(settings))
    finally:
        monkeypatch.undo()
        load_platforms.cache_clear()
    assert "x" not in load_platforms()


def test_a_data_only_platform_gets_a_polite_download_slot() -> None:
    eduzz = LadderSpider.for_platform(load_platforms()["eduzz"])
    settings = {
        "DOWNLOAD_SLOTS": base.DOWNLOAD_SLOTS,
        "PLATFORM_DOWNLOAD_SLOT": base.PLATFORM_DOWNLOAD_SLOT,
    }
    crawler = get_crawler(eduzz, settings_dict=settings)
    slots = crawler.settings.getdict("DOWNLOAD_SLOTS")
    assert slots["sun.eduzz.com"] == slots["chk.eduzz.com"] == {"concurrency": 2, "delay": 1.0}
    assert slots["pay.kiwify.com.br"] == base.DOWNLOAD_SLOTS["pay.kiwify.com.br"]


def test_discovery_searches_every_platform_by_default() -> None:
    spider = SerpSpider(query="confeitaria")
    assert set(spider.platforms) == set(load_platforms())
    dorks = set(spider.dorks())
    assert "site:sun.eduzz.com confeitaria" in dorks
    assert "site:lastlink.com/p confeitaria" in dorks
    assert set(SerpSpider(query="x", platforms="eduzz").platforms) == {"eduzz"}
