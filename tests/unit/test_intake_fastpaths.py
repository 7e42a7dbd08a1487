"""The reader's and the workers' fast paths give what the plain code gave, on a corpus.

``split_cell`` skips the regular expression for a cell with one value, ``build_row`` skips
``clean_cell`` for a plain text cell, and rows cross to the worker processes as tuples: the
reference implementations below are the code as it was before, kept to compare with.
"""

from __future__ import annotations

import itertools
import pickle
import random
import re
import sys
from typing import Any

import pytest

from leadcrawler.intake.reader import (
    FIELDS,
    MAX_CELL_CHARS,
    Columns,
    RawRow,
    build_row,
    clean_cell,
    split_cell,
)
from leadcrawler.intake.workers import from_wire, to_wire

_EMAIL_SPLIT = re.compile(r"[;,\s|/]+")
_PHONE_SPLIT = re.compile(r"[;,|/]+|\s{2,}")


def reference_split_cell(name: str, text: str) -> list[str]:
    if name == "email":
        parts = _EMAIL_SPLIT.split(text)
    elif name in ("phone", "whatsapp"):
        parts = _PHONE_SPLIT.split(text)
    else:
        parts = [text]
    return [p.strip() for p in parts if p.strip()]


def reference_clean_cell(value: Any, problems: list[str]) -> str:
    text = "" if value is None else str(value)
    if "\x00" in text:
        text = text.replace("\x00", "")
        problems.append("nul_bytes")
    if len(text) > MAX_CELL_CHARS:
        text = text[:MAX_CELL_CHARS]
        problems.append("cell_too_long")
    return text.strip()


def reference_build_row(line: int, cells: list[Any], columns: Columns) -> RawRow:
    row = RawRow(line=line)
    for position, value in enumerate(cells):
        name = columns.fields[position] if position < len(columns.fields) else None
        if name is None:
            continue
        text = reference_clean_cell(value, row.problems)
        if text:
            row.values.setdefault(name, []).extend(reference_split_cell(name, text))
    return row


# Every character Python calls whitespace (``\s`` and ``str.isspace`` agree, tested below),
# and non-printable ones that are not.
WHITESPACE = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
ODD = ["\x00", "\x07", "\x1b", "\u200b", "\u200e", "\ufeff", "\u00ad", "\ud7ff", "\U0001f600"]
SEPARATORS = [";", ",", "|", "/", ";;", " / ", " ; ", ", ", "||"]

EMAILS = [
    "produtor0@empresa0.com.br",
    "Ana.Souza+vendas@Empresa.COM.BR",
    "joão@exemplo.com.br",
    "a@b.co",
    "@",
    "sem-arroba",
    "mailto:x@y.com",
    "x@y.com.",
    '"quoted name"@x.com',
    "ação@ç.br",
]
PHONES = [
    "(11) 90000-0000",
    "+55 11 98765-4321",
    "11987654321",
    "(21) 3333-0000 ramal 12",
    "0800 123 4567",
    "55 (11) 9 8765 4321",
    "+55-11-98765-4321",
    "tel: 11 3333 0000",
]
OTHER = [
    "Produtor 0",
    "Empresa Ltda.",
    "https://www.x.com.br/a/b?c=d;e",
    "@perfil",
    "12.345.678/0001-90",
]


def corpus() -> list[str]:
    rng = random.Random(10)
    texts: list[str] = ["", " ", "  ", "x", ";", " ; ", "/", "a/b", "a  b", "a \t b", "a\tb"]
    texts += EMAILS + PHONES + OTHER
    values = EMAILS + PHONES + OTHER
    for value, other in itertools.product(values, [*EMAILS[:3], *PHONES[:3]]):
        for sep in SEPARATORS:
            texts.append(f"{value}{sep}{other}")
    for value in values:
        for space in WHITESPACE + ODD:
            texts.append(f"{value}{space}")
            texts.append(f"{space}{value}")
            texts.append(value.replace(" ", space, 1))
            texts.append(f"{value}{space}{space}{value}")
            texts.append(f"{value}{space} {value}")
            texts.append(f"{value} {space}{value}")
    for _ in range(3000):  # random mixes of values, separators and odd spacing
        parts = [rng.choice(values) for _ in range(rng.randint(1, 4))]
        joints = [rng.choice([*SEPARATORS, " ", "  ", *WHITESPACE, *ODD]) for _ in parts]
        texts.append("".join(p + j for p, j in zip(parts, joints, strict=True)))
    texts.append("x" * (MAX_CELL_CHARS + 5))
    texts.append(("a@b.com; " * 2000).strip())
    return texts


CORPUS = corpus()


def test_whitespace_is_the_same_for_the_regex_and_for_str() -> None:
    # split_cell's fast path rests on this: a printable text has no whitespace but " ".
    space = re.compile(r"\s")
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        assert bool(space.match(char)) == char.isspace(), hex(code)
        if char.isspace() and char != " ":
            assert not char.isprintable(), hex(code)


@pytest.mark.parametrize("name", [*FIELDS, "unknown"])
def test_split_cell_matches_the_reference_on_the_corpus(name: str) -> None:
    for text in CORPUS:
        assert split_cell(name, text) == reference_split_cell(name, text), (name, text)


def test_split_cell_answers_new_lists() -> None:
    first = split_cell("email", "a@b.com")
    first.append("changed")
    assert split_cell("email", "a@b.com") == ["a@b.com"]


CELLS: list[Any] = [
    None,
    "",
    "  ",
    0,
    11987654321,
    11987654321.0,
    3.5,
    True,
    "a\x00b@x.com",
    "\x00",
    " (11) 9\x000000-0000 ",
    "y" * (MAX_CELL_CHARS + 1),
    " " + "y" * MAX_CELL_CHARS,
    "z\x00" * MAX_CELL_CHARS,
]


class Text(str):
    """A str subclass (a library's cell type): not the plain str fast path."""


def test_clean_cell_matches_the_reference() -> None:
    for value in [*CELLS, *CORPUS[:2000], Text(" a@b.com ")]:
        problems: list[str] = []
        expected: list[str] = []
        assert clean_cell(value, problems) == reference_clean_cell(value, expected)
        assert problems == expected


def test_build_row_matches_the_reference_on_random_rows() -> None:
    rng = random.Random(20)
    fields: list[str | None] = [*FIELDS, None]
    cells = [*CELLS, *CORPUS, Text("a@b.com;c@d.com")]
    for line in range(4000):
        width = rng.randint(0, 7)
        columns = Columns([rng.choice(fields) for _ in range(width)], [])
        row = [rng.choice(cells) for _ in range(rng.randint(0, width + 2))]
        assert build_row(line, row, columns) == reference_build_row(line, row, columns), row


def test_rows_cross_to_a_worker_unchanged() -> None:
    rng = random.Random(30)
    columns = Columns(["name", "email", "phone", None, "whatsapp", "email"], [])
    rows = [
        build_row(line, [rng.choice([*CELLS, *CORPUS]) for _ in range(6)], columns)
        for line in range(500)
    ]
    rows.append(RawRow(9, {}, ["unreadable: x"]))
    wire = pickle.loads(pickle.dumps(to_wire(rows), protocol=pickle.HIGHEST_PROTOCOL))
    assert from_wire(wire) == rows
