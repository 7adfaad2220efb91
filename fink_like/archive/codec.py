"""Values as bytes, HBase-style: every cell value is UTF-8 JSON of the column's value.

Numbers keep full precision (JSON floats round-trip, ``NaN`` included), lists and
structs (light curves, provenance) become JSON arrays and objects, timestamps are
integer milliseconds since the epoch (UTC). A null is an absent cell.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from json.encoder import encode_basestring
from typing import Iterable

import pyarrow as pa

from fink_like.surveys.canonical import CANONICAL_SCHEMA, HISTORY, IDENTITY, QUALITY, TRANSPORT

SURVEY_COLUMNS = tuple(f.name for f in IDENTITY + QUALITY + HISTORY if not f.name.startswith("ul_"))
"""Columns stored in family ``s`` of the main table."""
TRANSPORT_COLUMNS = tuple(f.name for f in TRANSPORT)
UPPER_LIMIT_COLUMNS = ("ul_mjd", "ul_band", "ul_maglim")
NOT_IN_MAIN = ("packet",) + UPPER_LIMIT_COLUMNS
CLASS_COLUMN = "class"
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def family_of(column: str) -> bytes:
    """``s`` for survey fields, ``a`` for the derived class, ``b`` for everything the broker adds."""
    if column in SURVEY_COLUMNS:
        return b"s"
    if column == CLASS_COLUMN:
        return b"a"
    return b"b"


def qualifier(column: str) -> bytes:
    """The full ``family:qualifier`` of a column."""
    return family_of(column) + b":" + column.encode()


def python_values(table: pa.Table, column: str) -> list:
    """A column as Python values, timestamps as integer milliseconds."""
    col = table.column(column)
    if pa.types.is_timestamp(col.type):
        col = col.cast(pa.timestamp("ms", tz="UTC")).cast(pa.int64())
    return col.to_pylist()


def _float_json(value: float) -> str:
    """A float as the JSON encoder writes it (``NaN`` and ``Infinity`` allowed)."""
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


# The JSON encoder's own output for scalars, without building an encoder per value:
# ``JSONEncoder.encode`` makes a new C encoder for every number, most of a cell's cost.
_SCALARS = {str: encode_basestring, float: _float_json, int: int.__repr__,
            bool: lambda value: "true" if value else "false"}


def encode_value(value) -> bytes:
    """One cell value (never called with None: nulls are absent cells); same bytes as ``_dumps``."""
    scalar = _SCALARS.get(type(value))
    return (scalar(value) if scalar is not None else _dumps(value)).encode()


def encode_column(values: Iterable) -> list[bytes | None]:
    return [None if v is None else encode_value(v) for v in values]


def decode_cells(cells: dict[bytes, bytes], families: tuple[bytes, ...] = (b"s", b"b", b"a")) -> dict:
    """Cells of a main row as ``{column: value}`` (family dropped).

    Every cell is already JSON, so the row is parsed as one JSON object (one parser call
    per row instead of one per cell: most of the cost of reading a page).
    """
    parts = []
    for column, value in cells.items():
        family, _, name = column.partition(b":")
        if family in families:
            parts.append(_key(name) + b":" + value)
    return json.loads(b"{" + b",".join(parts) + b"}")


@lru_cache(maxsize=4096)
def _key(name: bytes) -> bytes:
    """A column name as a JSON object key (names repeat on every row: computed once)."""
    return _dumps(name.decode()).encode()


RESULT_FAMILIES = (b"s", b"b", b"a", b"q")
"""Families of a query's rows: the main table's, and ``q`` for values the query computed."""
TIMESTAMP_COLUMNS = tuple(f.name for f in CANONICAL_SCHEMA if pa.types.is_timestamp(f.type))


def column_order(rows: list[dict], extra_front: tuple[str, ...] = ()) -> list[str]:
    """Every column of ``rows``: ``extra_front``, then canonical order, then the rest sorted."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    canonical = [n for n in CANONICAL_SCHEMA.names if n in names]
    front = [n for n in extra_front if n in names and n not in canonical]
    return front + canonical + sorted(n for n in names if n not in canonical and n not in front)


def _iso(milliseconds: int) -> str:
    import datetime as dt

    return (dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(milliseconds=milliseconds)).isoformat()


def json_rows(rows: list[dict], extra_front: tuple[str, ...] = ()) -> list[dict]:
    """Rows as the API answers them: every column in :func:`column_order` (absent ones null),
    timestamps as ISO-8601 strings, exactly as ``records(rows_to_table(rows))`` but without
    building the Arrow table. NaN becomes null when serialised (orjson).
    """
    names = column_order(rows, extra_front)
    stamps = [n for n in TIMESTAMP_COLUMNS if n in names]
    out = []
    for row in rows:
        record = {n: row.get(n) for n in names}
        for n in stamps:
            if record[n] is not None:
                record[n] = _iso(record[n])
        out.append(record)
    return out


def rows_to_table(rows: list[dict], extra_front: tuple[str, ...] = ()) -> pa.Table:
    """Decoded rows as an Arrow table: canonical columns in canonical order and types first."""
    arrays, fields = [], []
    for name in column_order(rows, extra_front):
        values = [row.get(name) for row in rows]
        if name in CANONICAL_SCHEMA.names:
            field = CANONICAL_SCHEMA.field(name).with_nullable(True)
            arrays.append(pa.array(values, type=field.type))
            fields.append(field)
        else:
            array = pa.array(values)
            arrays.append(array)
            fields.append(pa.field(name, array.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))
