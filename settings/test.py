"""Settings for the test suite's crawls: fast, deterministic, no politeness delays.

Tests point ``http_proxy``/``https_proxy`` at the local fixture web; nothing here names it.
"""

from __future__ import annotations

from settings.base import *  # noqa: F403

AUTOTHROTTLE_ENABLED = False
DOWNLOAD_DELAY = 0
DOWNLOAD_SLOTS = {}  # no per-source delays in tests
PLATFORM_DOWNLOAD_SLOT = None
RETRY_TIMES = 1
LOG_LEVEL = "DEBUG"
# The fixture web terminates HTTPS with a self-signed certificate.
RENDER_IGNORE_HTTPS_ERRORS = True
# No resolver answers here: tests that check MX start their own dnsmasq and set
# ENRICH_DNS_NAMESERVERS; the others must never send DNS traffic anywhere.
ENRICH_DNS_ENABLED = False
# Waits short enough for tests, long enough to be measurable.
RETRY_AFTER_DEFAULT = 0.3  # seconds
RETRY_AFTER_MAX = 1.5  # seconds
RETRY_AFTER_BACKOFF_BASE = 0.05  # seconds
RETRY_AFTER_BACKOFF_MAX = 0.2  # seconds
CIRCUIT_BREAKER_COOLDOWN = 2.0  # seconds
