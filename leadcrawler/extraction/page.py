"""What the readers read: an HTML page with its URL, as Scrapy's ``TextResponse`` or parsel.

The extraction readers take any :class:`HtmlPage`: a crawl hands them Scrapy's
``TextResponse`` as it is, a script or an importer wraps saved HTML in :class:`Page`.
Nothing here imports Scrapy.
"""

from __future__ import annotations

from typing import Any, Protocol

from parsel import Selector, SelectorList


class HtmlPage(Protocol):
    @property
    def url(self) -> str: ...

    @property
    def text(self) -> str: ...

    @property
    def selector(self) -> Selector: ...

    def xpath(self, query: str, **kwargs: Any) -> SelectorList[Any]: ...


class Page:
    """An HTML page read from anywhere: its URL and its text."""

    def __init__(self, url: str, text: str) -> None:
        self._url = url
        self._text = text
        self._selector: Selector | None = None

    @property
    def url(self) -> str:
        return self._url

    @property
    def text(self) -> str:
        return self._text

    @property
    def selector(self) -> Selector:
        if self._selector is None:
            self._selector = Selector(text=self._text.replace("\x00", "") or "<html></html>")
        return self._selector

    def xpath(self, query: str, **kwargs: Any) -> SelectorList[Any]:
        return self.selector.xpath(query, **kwargs)
