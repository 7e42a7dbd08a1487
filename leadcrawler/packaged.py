"""Reading a file that may sit inside a zipped egg (a Scrapyd deployment).

Scrapyd imports a deployed project straight from its ``.egg`` (a zip file), so a default such
as ``settings/qualification.toml`` becomes ``.../r1.egg/settings/qualification.toml``: not a
file the operating system can open. :func:`read_text` opens it from the archive instead.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath


def read_text(path: str | Path, encoding: str = "utf-8") -> str:
    """The text of ``path``, also when one of its parent folders is really a zip archive.

    Raises ``FileNotFoundError`` when it is in neither place.
    """
    target = Path(path)
    try:
        return target.read_text(encoding)
    except (FileNotFoundError, NotADirectoryError):
        for archive in target.parents:
            if archive.is_file() and zipfile.is_zipfile(archive):
                member = PurePosixPath(*target.relative_to(archive).parts).as_posix()
                with zipfile.ZipFile(archive) as egg:
                    try:
                        return egg.read(member).decode(encoding)
                    except KeyError:
                        break
        raise FileNotFoundError(str(path)) from None
