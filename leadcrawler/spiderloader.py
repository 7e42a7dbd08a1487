"""Scrapy's spider loader, plus one generic ladder spider per platform that is only data.

Settings: ``SPIDER_MODULES`` (as Scrapy), ``PLATFORMS_EXTRA_FILES`` (more platforms files,
read after the bundled ``leadcrawler/data/platforms.toml``; a table there with a bundled
key replaces that platform; a platform naming a page ``reader`` extraction does not have
stops the crawl with one line). A platform with a spider module of its own (``kiwify``,
``hubla``, ``hotmart``) keeps it; every other one gets
:class:`leadcrawler.spiders.ladder.LadderSpider` under its key, so ``scrapy crawl <key>``
and ``scrapy list`` know it without any Python.
"""

from __future__ import annotations

from scrapy.settings import BaseSettings
from scrapy.spiderloader import SpiderLoader

from leadcrawler.domain.platforms import PlatformFileError, load_platforms, register_platform_files
from leadcrawler.extraction.extract import PAGE_READERS
from leadcrawler.spiders.ladder import LadderSpider


class PlatformSpiderLoader(SpiderLoader):
    def __init__(self, settings: BaseSettings) -> None:
        try:
            register_platform_files(settings.getlist("PLATFORMS_EXTRA_FILES"))
        except (OSError, PlatformFileError) as exc:
            # A clear one-line error and a non-zero exit, not a traceback.
            raise SystemExit(f"leadcrawler: {exc}") from None
        for key, platform in load_platforms().items():
            if platform.reader is not None and platform.reader not in PAGE_READERS:
                raise SystemExit(
                    f"leadcrawler: platform {key!r}: unknown reader {platform.reader!r}; "
                    f"known: {', '.join(PAGE_READERS)}"
                )
        super().__init__(settings)

    def _load_all_spiders(self) -> None:
        super()._load_all_spiders()

        for key, platform in load_platforms().items():
            if key not in self._spiders:
                self._spiders[key] = LadderSpider.for_platform(platform)
