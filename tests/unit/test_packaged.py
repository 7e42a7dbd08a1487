"""Files inside a zipped egg (how Scrapyd imports a deployed project) are still readable."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from leadcrawler.packaged import read_text


def test_reads_a_plain_file_and_a_file_inside_an_egg(tmp_path: Path) -> None:
    plain = tmp_path / "rules.toml"
    plain.write_text("a = 1\n", "utf-8")
    assert read_text(plain) == "a = 1\n"
    egg = tmp_path / "r1.egg"
    with zipfile.ZipFile(egg, "w") as archive:
        archive.writestr("settings/qualification.toml", "tier_a = 60\n")
    assert read_text(egg / "settings" / "qualification.toml") == "tier_a = 60\n"


def test_a_missing_file_is_file_not_found(tmp_path: Path) -> None:
    egg = tmp_path / "r1.egg"
    with zipfile.ZipFile(egg, "w") as archive:
        archive.writestr("settings/other.toml", "")
    with pytest.raises(FileNotFoundError):
        read_text(egg / "settings" / "qualification.toml")
    with pytest.raises(FileNotFoundError):
        read_text(tmp_path / "nowhere" / "x.toml")
