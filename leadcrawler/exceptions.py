"""Exceptions shared by leadcrawler's components."""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest

# A setting of a switched-on component is wrong (the message names it). Unlike NotConfigured
# ("switch this component off") it stops the crawl before it starts: only <STAGE>_ENABLED
# switches a stage off. One class for the enricher and the Scrapy side.
from leadcrawler.enricher.config import ConfigError

__all__ = ["ConfigError", "DeferredRequest"]


class DeferredRequest(IgnoreRequest):
    """A request not sent for a passing reason (its domain is paused, its robots.txt is
    unreachable for now). Its frontier URL stays pending and the attempt is not counted.
    """
