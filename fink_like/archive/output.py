"""Query results to files or the terminal: table, json, csv, parquet."""

from __future__ import annotations

import datetime
import io
import json
import math
import sys

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from fink_like.errors import QueryError

FORMATS = ("table", "json", "csv", "parquet")
TABLE_COLUMNS = ("object_id", "alert_id", "survey", "mjd", "ra", "dec", "band", "mag", "magerr",
                 "class", "separation_arcsec", "sso_class", "dt_days", "prob_density", "kind")


def records(table: pa.Table) -> list[dict]:
    """Rows as strict-JSON-ready dicts (timestamps as ISO strings, NaN and infinities as null)."""
    return [_clean(row) for row in table.to_pylist()]


def _clean(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return value


def flat(table: pa.Table) -> pa.Table:
    """Nested columns (light curves, provenance) as JSON strings, for CSV."""
    out = table
    for i, field in enumerate(table.schema):
        if pa.types.is_nested(field.type):
            text = [None if v is None else json.dumps(v, default=str) for v in table.column(i).to_pylist()]
            out = out.set_column(i, field.name, pa.array(text, pa.string()))
    return out


MEDIA_TYPES = {"json": "application/json", "csv": "text/csv", "parquet": "application/vnd.apache.parquet"}


def encode(table: pa.Table, fmt: str) -> bytes:
    """``table`` as a ``json``, ``csv`` or ``parquet`` file's bytes."""
    if fmt == "parquet":
        buf = io.BytesIO()
        pq.write_table(table, buf)
        return buf.getvalue()
    if fmt == "json":
        return (json.dumps(records(table), indent=1) + "\n").encode()
    if fmt == "csv":
        buf = io.BytesIO()
        pacsv.write_csv(flat(table), buf)
        return buf.getvalue()
    raise QueryError(f"unknown format {fmt!r}: use one of {', '.join(MEDIA_TYPES)}")


def text_table(table: pa.Table) -> str:
    """Columns right-aligned under their names; floats with 6 decimals, nulls as ``-``.

    Plain Python on purpose: pandas' ``to_string`` would cost ``fink-like query`` about a
    second of imports (docs/benchmarks.md).
    """
    def cell(value) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "-"
        return f"{value:.6f}" if isinstance(value, float) else str(value)

    columns = [[name, *map(cell, table.column(name).to_pylist())] for name in table.column_names]
    widths = [max(map(len, column)) for column in columns]
    rows = zip(*(([c.rjust(w) for c in column]) for column, w in zip(columns, widths)))
    return "\n".join(" ".join(row) for row in rows)


def render(table: pa.Table, fmt: str, output: str | None = None, stream=None) -> None:
    """Write ``table`` as ``fmt`` to ``output`` (a path) or ``stream`` (default stdout)."""
    if fmt not in FORMATS:
        raise QueryError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if fmt == "parquet":
        if not output:
            raise QueryError("--format parquet needs --output FILE")
        pq.write_table(table, output)
        return
    if fmt == "table":
        cols = [c for c in TABLE_COLUMNS if c in table.column_names]
        text = (text_table(table.select(cols)) if table.num_rows else "(no alerts)") + "\n"
    else:
        text = encode(table, fmt).decode()
    if output:
        with open(output, "w") as handle:
            handle.write(text)
    else:
        (stream or sys.stdout).write(text)
