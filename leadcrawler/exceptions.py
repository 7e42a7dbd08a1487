"""Exceptions shared by leadcrawler's components."""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest


class ConfigError(ValueError):
    """A setting of a switched-on component is wrong; the message names the setting.

    Unlike ``NotConfigured`` (which Scrapy reads as "switch this component off") it stops the
    crawl before it starts: only ``<STAGE>_ENABLED = False`` switches a stage off.
    """


class DeferredRequest(IgnoreRequest):
    """A request not sent for a passing reason (its domain is paused, its robots.txt is
    unreachable for now). Its frontier URL stays pending and the attempt is not counted.
    """
