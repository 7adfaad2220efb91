"""The frozen science-output table: what every speed change must leave exactly as it was.

Every shared alert (``../shared/data``: ZTF 3.3 and 4.02, Rubin 7.4 and 9.0) goes through
the in-process path of the stream (``decode_batch``, the quality cuts and the enabled
modules of ``conf/local.yaml``, as ``fink_like.jobs.stages.Pipeline`` applies them). The
result keeps the canonical columns (minus transport and time of ingestion), every
module's output columns and the stable part of the provenance (module, version, model
hash, status), one row per alert, sorted by alert id. ``test_science_golden.py``
compares it value by value with the frozen Parquet file.

When science changes on purpose (a retrained model, a new module, a new canonical
column), regenerate the table with one command and commit it with the change::

    make freeze-science        # = .venv/bin/python tests/science/golden.py --write

snia runs with an empty model folder, so it uses the model shipped in its package,
never whatever ``var/models/snia`` holds on this machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[2]
FROZEN = Path(__file__).resolve().parent / "data" / "science_outputs.parquet"
CONFIG = ROOT / "conf" / "local.yaml"
FOLDERS = ("ztf/alerts-3.3", "ztf/alerts-4.02", "lsst/alerts-7.4", "lsst/alerts-9.0")
# Columns that say when or how an alert travelled, not what it is.
TRANSPORT = ("topic", "partition", "offset", "kafka_timestamp", "ingest_time", "broker_version", "key", "packet")


def settings(model_dir: Path):
    """``conf/local.yaml``, with snia pointed at ``model_dir`` (empty: the shipped model), mm at an empty store."""
    from fink_like.config import load_settings

    loaded = load_settings(CONFIG, env={})
    # mm reads an empty event store of its own: events received on this machine change nothing
    overrides = {"snia": {"model_dir": str(model_dir)}, "mm": {"store": {"path": str(model_dir / "mm" / "events.sqlite")}}}
    modules = [m.model_copy(update={"params": {**m.params, **overrides[m.name]}}) if m.name in overrides else m
               for m in loaded.science.modules]
    science = loaded.science.model_copy(update={"modules": modules})
    return loaded.model_copy(update={"science": science})


def science_outputs(data_dir: Path, batch_size: int = 0) -> pa.Table:
    """The stable science outputs of every shared alert, sorted by ``alert_id``.

    ``batch_size`` > 0 runs the modules on slices of that many alerts (to show that
    results do not depend on how the stream splits a batch).
    """
    from fink_like.jobs.stages import compile_cuts, quality_mask
    from fink_like.science.runner import ScienceRunner
    from fink_like.surveys import decode_batch
    from fink_like.surveys.files import load_file_messages, messages_table

    with tempfile.TemporaryDirectory() as models:
        conf = settings(Path(models))
        messages = load_file_messages([Path(data_dir) / f for f in FOLDERS])
        canonical, quarantine = decode_batch(messages_table(messages))
        if quarantine.num_rows:
            raise RuntimeError(f"shared alerts quarantined: {quarantine['reason'].to_pylist()}")
        runner = ScienceRunner(conf.science.modules)
        cuts = compile_cuts(conf.science.quality_cuts)
        step = batch_size or canonical.num_rows
        parts = []
        for start in range(0, canonical.num_rows, step):
            part = canonical.slice(start, step)
            parts.append(runner.process(part, mask=quality_mask(part, cuts)))
        enriched = pa.concat_tables(parts)
    return stable(enriched)


def stable(enriched: pa.Table) -> pa.Table:
    """Drop transport columns and the provenance's free-text error; sort by alert id."""
    table = enriched.drop_columns([c for c in TRANSPORT if c in enriched.column_names])
    provenance = table["provenance"].combine_chunks()
    items = provenance.flatten()
    kept = pa.StructArray.from_arrays([items.field(n) for n in ("module", "version", "model_hash", "status")],
                                      names=["module", "version", "model_hash", "status"])
    kept = pa.ListArray.from_arrays(provenance.offsets, kept)
    table = table.set_column(table.schema.get_field_index("provenance"), "provenance", kept)
    return table.take(pc.sort_indices(table, [("survey", "ascending"), ("alert_id", "ascending")]))


FLOAT32 = "bnn_"
"""Prefix of the outputs computed in float32 by torch (bnn's GRU): their last bits follow
the machine's kernels, the rest of the table does not move between machines."""
FLOAT32_RTOL, FLOAT32_ATOL = 1e-5, 1e-6


def machine() -> str:
    """What decides the last bits of the float32 outputs: CPU model, torch and its kernel path."""
    import platform

    import numpy
    import torch

    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            model = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), model)
    except OSError:
        pass
    return (f"{model}; torch {torch.__version__} {torch.backends.cpu.get_cpu_capability()}; "
            f"numpy {numpy.__version__}")


def frozen_machine(table: pa.Table) -> str | None:
    """The :func:`machine` that froze ``table`` (None for a table frozen before it was recorded)."""
    meta = table.schema.metadata or {}
    return meta[b"machine"].decode() if b"machine" in meta else None


def differences(expected: pa.Table, actual: pa.Table, limit: int = 10, float32_close: bool = False) -> list[str]:
    """Human-readable differences, column by column (empty when the tables are equal).

    With ``float32_close``, the float32 outputs (:data:`FLOAT32`) need only agree within
    float32 rounding (``FLOAT32_RTOL``, ``FLOAT32_ATOL``); every other column, exactly.
    """
    import numpy as np

    out = []
    if expected.column_names != actual.column_names:
        out.append(f"columns differ: only frozen {sorted(set(expected.column_names) - set(actual.column_names))}, "
                   f"only now {sorted(set(actual.column_names) - set(expected.column_names))}")
    if expected.num_rows != actual.num_rows:
        out.append(f"{expected.num_rows} frozen rows, {actual.num_rows} now")
        return out
    ids = expected["alert_id"].to_pylist()
    for name in expected.column_names:
        if name not in actual.column_names:
            continue
        a, b = expected[name], actual[name]
        if a.type != b.type:
            out.append(f"{name}: type {a.type} frozen, {b.type} now")
        elif float32_close and name.startswith(FLOAT32):
            x = a.to_numpy(zero_copy_only=False).astype(float)
            y = b.to_numpy(zero_copy_only=False).astype(float)
            far = ~np.isclose(y, x, rtol=FLOAT32_RTOL, atol=FLOAT32_ATOL, equal_nan=True)
            if far.any():
                rows = np.flatnonzero(far).tolist()
                shown = ", ".join(f"alert {ids[i]}: {x[i]!r} -> {y[i]!r}" for i in rows[:3])
                out.append(f"{name}: {len(rows)} rows differ beyond float32 rounding ({shown})")
        elif not a.equals(b):
            rows = [i for i, (x, y) in enumerate(zip(a.to_pylist(), b.to_pylist())) if x != y and x == x]
            shown = ", ".join(f"alert {ids[i]}: {_short(a[i].as_py())} -> {_short(b[i].as_py())}" for i in rows[:3])
            out.append(f"{name}: {len(rows)} rows differ ({shown})")
        if len(out) >= limit:
            break
    return out


def _short(value, width: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= width else text[:width] + "..."


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Compare (or, with --write, refreeze) the science outputs.")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--write", action="store_true", help=f"write {FROZEN.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    table = science_outputs(Path(args.data))
    if args.write:
        FROZEN.parent.mkdir(parents=True, exist_ok=True)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"machine": machine().encode()})
        pq.write_table(table, FROZEN, compression="zstd", compression_level=19)
        print(f"wrote {FROZEN} ({table.num_rows} alerts, {len(table.column_names)} columns, "
              f"{FROZEN.stat().st_size / 1e3:.0f} KB)")
        return 0
    frozen = pq.read_table(FROZEN)
    diffs = differences(frozen, table, float32_close=frozen_machine(frozen) != machine())
    print("\n".join(diffs) or f"{table.num_rows} alerts: science outputs equal the frozen table")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
