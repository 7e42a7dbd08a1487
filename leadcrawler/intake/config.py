"""The import's own settings (``INTAKE_*``), read and checked in one place.

``INTAKE_READ_BATCH`` (records read per trip to the reader thread, ≥ 1),
``INTAKE_MAX_IN_FLIGHT`` (leads in Scrapy's item path at once, ≥ 1) and ``INTAKE_WORKERS``
(worker processes for rows with nothing to visit: ``0`` one per core for big files, else
1 to :data:`MAX_WORKERS`). A wrong value is a :class:`ConfigError` naming the setting: the
import stops before it reads a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from leadcrawler.enricher.config import ConfigError

MAX_WORKERS = 64  # more processes than that on one machine is a typo, not a wish


def _whole(settings: Any, name: str, default: int, low: int, high: int | None = None) -> int:
    raw = settings.get(name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConfigError(f"{name} must be {bound}, not {value}")
    return value


@dataclass(frozen=True, slots=True)
class IntakeConfig:
    read_batch: int = 1000
    max_in_flight: int = 2000
    workers: int = 0  # 0: automatic (leadcrawler.intake.workers.worker_count)

    @classmethod
    def from_settings(cls, settings: Any) -> IntakeConfig:
        return cls(
            read_batch=_whole(settings, "INTAKE_READ_BATCH", 1000, 1),
            max_in_flight=_whole(settings, "INTAKE_MAX_IN_FLIGHT", 2000, 1),
            workers=_whole(settings, "INTAKE_WORKERS", 0, 0, MAX_WORKERS),
        )
