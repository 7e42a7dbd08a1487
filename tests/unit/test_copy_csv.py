"""The writer's COPY text, built column by column, is exactly the cell-by-cell text.

``batchwrite.copy_csv`` (the fast way) and ``copy_csv_by_cell`` (the reference) on a corpus of
rows for every table the writer COPYs into: quotes, commas, line breaks, empty strings next to
NULLs, NULs inside values, backslashes, accents, timestamps, numbers and JSON.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from itertools import cycle, islice
from typing import Any

import pytest

from leadcrawler.storage.batchwrite import copy_csv as copy_tuples
from leadcrawler.storage.batchwrite import copy_csv_by_cell as by_cell_tuples
from leadcrawler.storage.batchwrite import json_text
from leadcrawler.storage.models import (
    ContactRow,
    LeadKey,
    LeadRow,
    OfferRow,
    SightingKey,
    SightingRow,
    ValueHistory,
)

T0 = datetime(2026, 11, 30, 5, 17, 54, 460160, tzinfo=UTC)
TEXTS = [
    "Ana Souza",
    "",
    'Ana "Doces" Souza',
    '"',
    '""',
    "a,b",
    "linha 1\nlinha 2",
    "cr\r\nlf",
    "tab\there",
    "back\\slash\\N",
    "\\.",
    "João Ação — ü 中文 🎉",
    " espaços ",
    '=HYPERLINK("x")',
    "x" * 700,
]
MOMENTS = [T0, T0 + timedelta(microseconds=1), T0.replace(microsecond=0), T0 - timedelta(days=400),
           datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-3)))]  # fmt: skip
DICTS: list[Any] = [
    {},
    {"free_provider": False, "role_address": False, "disposable": False},
    {"business_email": 25, "whatsapp": 20, "recent": 5},
    {"site": "failed: http_503", "aspas": 'a "b"', "ç": "ã", "n": None, "f": 1.5},
    {"nested": {"list": [1, "dois", {"tres": [None, True]}]}, "emoji": "🎉"},
    {"nul": "a\x00b", "newline": "a\nb"},
]


def column_values(column: Any, i: int) -> Any:
    kind = type(column.type).__name__
    if kind == "JSON":
        return None if column.nullable and i % 7 == 3 else DICTS[i % len(DICTS)]
    if kind == "DateTime":
        return None if column.nullable and i % 5 == 2 else MOMENTS[i % len(MOMENTS)]
    if kind == "Integer":
        return None if column.nullable and i % 4 == 1 else [0, 7, -3, 2**40][i % 4]
    if kind == "Numeric":
        return None if i % 3 == 1 else [Decimal("97.00"), Decimal("0.5"), Decimal("1E+3")][i % 3]
    return None if column.nullable and i % 6 == 5 else TEXTS[i % len(TEXTS)]


def corpus(model: Any, count: int = 120) -> list[dict[str, Any]]:
    table = model.__table__
    return [
        {column.name: column_values(column, i * 7 + j) for j, column in enumerate(table.c)}
        for i in range(count)
    ]


def copy_csv(table: Any, names: list[str], rows: list[dict[str, Any]]) -> str:
    return copy_tuples(table, names, [tuple(row[n] for n in names) for row in rows])


def copy_csv_by_cell(table: Any, names: list[str], rows: list[dict[str, Any]]) -> str:
    return by_cell_tuples(table, names, [tuple(row[n] for n in names) for row in rows])


MODELS = [LeadRow, LeadKey, ContactRow, OfferRow, ValueHistory, SightingRow, SightingKey]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__tablename__)
def test_column_by_column_is_the_cell_by_cell_text(model: Any) -> None:
    rows = corpus(model)
    names = list(rows[0])
    assert copy_csv(model.__table__, names, rows) == copy_csv_by_cell(model.__table__, names, rows)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__tablename__)
def test_every_value_of_a_column_null_or_not(model: Any) -> None:
    table = model.__table__
    for value in (None, "", '"', "\x00"):
        rows = [
            {c.name: value if type(c.type).__name__ in ("String", "Text") else column_values(c, i)
             for c in table.c}
            for i in range(5)
        ]  # fmt: skip
        names = list(rows[0])
        assert copy_csv(table, names, rows) == copy_csv_by_cell(table, names, rows)


def test_a_value_holding_a_nul_is_written_as_before_not_as_null() -> None:
    rows = [{"lead_id": 1, "key": "a\x00"}, {"lead_id": 2, "key": "\x00"}]
    text = copy_csv(LeadKey.__table__, ["lead_id", "key"], rows)
    assert text == '"1","a\x00"\n"2","\x00"\n'  # PostgreSQL refuses it, as it always did


def test_nulls_and_empty_strings_stay_apart() -> None:
    rows = [{"lead_id": 1, "field": "x", "ref": "", "value": None}]
    text = copy_csv(ValueHistory.__table__, ["lead_id", "field", "ref", "value"], rows)
    assert text == '"1","x","",\n'


def test_json_text_is_json_dumps() -> None:
    values = [*DICTS, [], [1, {"a": None}], "texto", 3, None, {"b": Decimal("1")}]
    for value in islice(cycle(values), 3 * len(values)):
        try:
            expected = json.dumps(value)
        except TypeError as exc:
            with pytest.raises(TypeError, match=str(exc)):
                json_text(value)
            continue
        assert json_text(value) == expected
    circular: dict[str, Any] = {}
    circular["self"] = circular
    with pytest.raises(ValueError, match="Circular"):
        json_text(circular)
    assert json_text(DICTS[2]) == json.dumps(DICTS[2])  # and it still works afterwards
