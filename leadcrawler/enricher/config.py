"""What the enricher needs from its host: settings to read and stats to count into.

A crawl hands over Scrapy's settings and stats collector, which already fit these
protocols; a script uses :class:`SettingsMap` (the project defaults of ``settings.base``,
overridden by keyword) and :class:`MemoryStats`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Protocol


class ConfigError(ValueError):
    """A setting is missing or makes no sense; the message names it."""


class Settings(Protocol):
    def get(self, name: str, default: Any = None) -> Any: ...
    def getbool(self, name: str, default: bool = False) -> bool: ...
    def getint(self, name: str, default: int = 0) -> int: ...
    def getfloat(self, name: str, default: float = 0.0) -> float: ...
    def getlist(self, name: str, default: list[Any] | None = None) -> list[Any]: ...


class Stats(Protocol):
    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...
    def set_value(self, key: str, value: Any) -> None: ...
    def get_value(self, key: str, default: Any = None) -> Any: ...
    def get_stats(self) -> dict[str, Any]: ...


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", "", "none"}


class SettingsMap:
    """Plain settings: a mapping read the way Scrapy reads its settings."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = dict(values)

    @classmethod
    def from_module(cls, module: str = "settings.base", **overrides: Any) -> SettingsMap:
        """The upper-case names of ``module`` (the project defaults), then ``overrides``."""
        loaded = importlib.import_module(module)
        values = {name: getattr(loaded, name) for name in dir(loaded) if name.isupper()}
        return cls({**values, **overrides})

    def __getitem__(self, name: str) -> Any:
        return self.values.get(name)

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def getbool(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name, default)
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in _TRUE | _FALSE:
                return lowered in _TRUE
            raise ConfigError(f"{name} must be true or false, not {value!r}")
        return bool(value)

    def getint(self, name: str, default: int = 0) -> int:
        try:
            return int(self.values.get(name, default))
        except (TypeError, ValueError):
            raise ConfigError(f"{name} must be a whole number") from None

    def getfloat(self, name: str, default: float = 0.0) -> float:
        try:
            return float(self.values.get(name, default))
        except (TypeError, ValueError):
            raise ConfigError(f"{name} must be a number") from None

    def getlist(self, name: str, default: list[Any] | None = None) -> list[Any]:
        value = self.values.get(name, default)
        if value is None:
            return []
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return list(value)


class MemoryStats:
    """Counters in a dict: what a crawl's stats collector does, for scripts."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        values = self.values
        values[key] = values.get(key, start) + count

    def set_value(self, key: str, value: Any) -> None:
        self.values[key] = value

    def get_value(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def get_stats(self) -> dict[str, Any]:
        return dict(self.values)
