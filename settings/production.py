"""Settings for unattended runs (cron, Scrapyd): base settings, stricter and quieter."""

from __future__ import annotations

import os

from settings.base import *  # noqa: F403

# LGPD: no crawl, export or subject command without the secret suppression pepper
# (LEADCRAWLER_PRIVACY_PEPPER) and the reference of the written legitimate-interest
# assessment (LEADCRAWLER_LIA_REFERENCE).
PRIVACY_REQUIRE_PEPPER = True
PRIVACY_LIA_REFERENCE = os.environ.get("LEADCRAWLER_LIA_REFERENCE", "")

LOG_LEVEL = "INFO"
# Cron runs must end: stop a runaway crawl after 6 hours.
CLOSESPIDER_TIMEOUT = 6 * 3600  # seconds
