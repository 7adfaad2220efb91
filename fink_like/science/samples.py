"""Canonical alert samples for validating, running and benchmarking modules.

Real alerts come from the survey files (``fink_like.surveys.read_alert_files``) or from a
Parquet file of canonical rows (a raw or science lake file).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from fink_like.errors import FinkLikeError, UsageError

ALERT_FOLDERS = ("ztf/alerts-3.3", "ztf/alerts-4.02", "lsst/alerts-7.4", "lsst/alerts-9.0")


def read_input(paths: list[str] | str) -> pa.Table:
    """Canonical alerts from Parquet files, or from alert files and folders (Avro).

    Raises
    ------
    UsageError
        When a path does not exist.
    """
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise UsageError(f"input not found: {', '.join(map(str, missing))}")
    parquet = [p for p in paths if str(p).endswith(".parquet")]
    tables = []
    if parquet:
        import pyarrow.parquet as pq

        tables += [pq.read_table(p) for p in parquet]
    others = [p for p in paths if p not in parquet]
    if others:
        from fink_like.surveys import read_alert_files

        tables.append(read_alert_files(others))
    return pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]


def real_sample(data_dir: str | Path, per_folder: int = 40) -> pa.Table:
    """The first ``per_folder`` alert files of every survey and schema version in ``data_dir``.

    Raises
    ------
    FinkLikeError
        When ``data_dir`` holds none of the alert folders.
    """
    from fink_like.surveys import read_alert_files

    files = []
    for folder in ALERT_FOLDERS:
        found = sorted((Path(data_dir) / folder).glob("*.avro"))
        files.extend(found[:per_folder])
    if not files:
        raise FinkLikeError(f"no alert files under {data_dir} ({', '.join(ALERT_FOLDERS)})")
    return read_alert_files(files)


def without_history(table: pa.Table) -> pa.Table:
    """The same alerts as if each were the object's first: one detection, no limits, no forced photometry.

    The light curve keeps only the triggering measurement (``mjd``, ``band``, ``flux``...).
    """
    n = table.num_rows
    one = pa.array(range(n + 1), pa.int32())
    zero = pa.array([0] * (n + 1), pa.int32())

    def single(column: str, source: str) -> pa.Array:
        values = table[source].combine_chunks().cast(table.schema.field(column).type.value_type)
        return pa.ListArray.from_arrays(one, values)

    def empty(column: str) -> pa.Array:
        return pa.ListArray.from_arrays(zero, pa.array([], table.schema.field(column).type.value_type))

    replace = {
        "lc_mjd": single("lc_mjd", "mjd"), "lc_band": single("lc_band", "band"),
        "lc_flux": single("lc_flux", "flux"), "lc_fluxerr": single("lc_fluxerr", "fluxerr"),
        "lc_mag": single("lc_mag", "mag"), "lc_magerr": single("lc_magerr", "magerr"),
        "ndethist": pa.array([1] * n, pa.int32()), "first_mjd": table["mjd"].combine_chunks(),
    }
    replace.update({c: empty(c) for c in ("ul_mjd", "ul_band", "ul_maglim", "fp_mjd", "fp_band",
                                          "fp_flux", "fp_fluxerr")})
    out = table
    for column, values in replace.items():
        if column in out.column_names:
            index = out.column_names.index(column)
            out = out.set_column(index, out.schema.field(column), values)
    return out


def repeat_to(table: pa.Table, rows: int) -> pa.Table:
    """``table`` repeated until it has at least ``rows`` rows (for stable timings)."""
    if table.num_rows == 0:
        raise FinkLikeError("cannot repeat an empty sample")
    copies = -(-rows // table.num_rows)
    return pa.concat_tables([table] * copies)


def non_null_counts(table: pa.Table, columns) -> dict[str, int]:
    """Non-null values per column (summaries of a run)."""
    return {c: int(len(table[c]) - table[c].null_count) if c in table.column_names else 0
            for c in columns}


__all__ = ["read_input", "real_sample", "without_history", "repeat_to", "non_null_counts"]
