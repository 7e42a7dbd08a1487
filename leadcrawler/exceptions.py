"""Exceptions shared by leadcrawler's components."""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest


class DeferredRequest(IgnoreRequest):
    """A request not sent for a passing reason (its domain is paused, its robots.txt is
    unreachable for now). Its frontier URL stays pending and the attempt is not counted.
    """
