"""Settings for unattended runs (cron, Scrapyd): base settings, stricter and quieter."""

from __future__ import annotations

from settings.base import *  # noqa: F403

LOG_LEVEL = "INFO"
# Cron runs must end: stop a runaway crawl after 6 hours.
CLOSESPIDER_TIMEOUT = 6 * 3600  # seconds
