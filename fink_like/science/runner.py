"""Run the enabled science modules over a batch of canonical alerts, isolating failures.

Every alert leaves with every module's output columns (typed as declared, null where
the module did not run or failed) and a ``provenance`` list telling, per module, its
version, model version and hash, and status: ``ok``, ``skipped`` (failed the quality
cuts) or ``error`` with the message in ``error``. Errors are per row: when a module
raises on a batch, :func:`fink_like.science.isolation.isolate` finds the rows that make
it fail, and only those get ``error``. A result that breaks the contract (a missing
column, a wrong length or type) and a model that does not load fail the whole batch.
One bad module, or one bad alert, never stops the stream.
"""

from __future__ import annotations

import logging
import time
from typing import Iterator, Sequence

import numpy as np
import pyarrow as pa

from fink_like.config import ModuleSpec
from fink_like.errors import PluginError
from fink_like.science.base import ScienceModule
from fink_like.science.isolation import describe, isolate
from fink_like.science.registry import (
    PROVENANCE_COLUMN, check_collisions, declared_outputs, load_module, pin_specs, resolve,
)

log = logging.getLogger("fink_like.science")

PROVENANCE_STRUCT = pa.struct([
    pa.field("module", pa.string()),
    pa.field("version", pa.string()),
    pa.field("model_hash", pa.string()),
    pa.field("model_version", pa.string()),
    pa.field("status", pa.string()),
    pa.field("error", pa.string()),
])
PROVENANCE_TYPE = pa.list_(PROVENANCE_STRUCT)


class _Entry:
    """One configured module: its spec (loaded lazily) or an instance given ready-made."""

    def __init__(self, module: ModuleSpec | ScienceModule):
        if isinstance(module, ScienceModule):
            self.spec = self.configured = None
            self.instance = module
            self.cls = type(module)
            self.outputs = declared_outputs(self.cls, getattr(module, "params", {}))
        elif isinstance(module, ModuleSpec):
            self.configured, self.instance = module, None
            self.cls = resolve(module.name)
            self.outputs = declared_outputs(self.cls, module.params)
            self.spec = pin_specs([module])[0]
        else:
            raise PluginError(f"ScienceRunner takes ModuleSpec or ScienceModule items, got {module!r}")
        self.name = self.cls.name
        self.model_hash = self.model_version = None
        self.load_error = None

    def get(self) -> ScienceModule:
        if self.load_error is not None:  # load once per process, failures included
            raise PluginError(f"not loaded in this process: {self.load_error}")
        if self.instance is None:
            try:
                self.instance = load_module(self.spec.name, self.spec.params)
            except PluginError as exc:
                self.load_error = str(exc)
                raise
        if self.model_hash is None:
            self.model_hash = self.instance.model_hash
            self.model_version = self.instance.model_version
        return self.instance

    def reload(self) -> None:
        """Pin the configured parameters again (a newer ``latest``) and load on next use."""
        if self.configured is not None:
            self.spec = pin_specs([self.configured])[0]
            self.instance = self.model_hash = self.model_version = self.load_error = None

    def __getstate__(self):
        state = dict(self.__dict__)
        if self.spec is not None:
            state["instance"] = None  # reloaded once per executor process, from the cache
            state["model_hash"] = state["model_version"] = None
            state["load_error"] = None
        return state


class ScienceRunner:
    """Apply modules in order to Arrow tables; picklable, models loaded lazily per process.

    Parameters
    ----------
    modules : sequence of ModuleSpec or ScienceModule
        Specs (from ``settings.science.modules``; disabled ones are skipped) are resolved,
        their parameters validated and pinned now (:func:`~fink_like.science.registry.pin_specs`),
        so an unknown name or parameter or a column collision fails on the driver, and
        every process loads the same model version, on first use. Ready instances must
        already be loaded and picklable.

    Attributes
    ----------
    stats : dict
        Per module name: ``batches``, ``alerts`` (rows given to the module), ``errors``
        (batches with a failed row), ``row_errors`` (rows not scored) and ``seconds``,
        counted in this process.
    """

    def __init__(self, modules: Sequence[ModuleSpec | ScienceModule]):
        self._entries = [_Entry(m) for m in modules
                         if not (isinstance(m, ModuleSpec) and not m.enabled)]
        check_collisions((e.name, e.outputs) for e in self._entries)
        self.stats = {e.name: {"batches": 0, "alerts": 0, "errors": 0, "row_errors": 0, "seconds": 0.0}
                      for e in self._entries}

    @classmethod
    def from_settings(cls, settings) -> "ScienceRunner":
        """The runner for ``settings.science.modules``."""
        return cls(settings.science.modules)

    def reload(self) -> None:
        """Take the newest model versions now: re-pin every spec, reload on next use.

        The explicit reload of a long-lived runner; a stream takes new versions only when
        its query restarts (:func:`fink_like.jobs.stream.start` pins once).
        """
        for entry in self._entries:
            entry.reload()

    def load_all(self) -> None:
        """Load every module's model in this process now (else it happens on first use)."""
        for entry in self._entries:
            entry.get()

    @property
    def module_names(self) -> list[str]:
        return [e.name for e in self._entries]

    def output_fields(self) -> list[pa.Field]:
        """The columns the runner adds, provenance last."""
        fields = [pa.field(c, t) for e in self._entries for c, t in e.outputs.items()]
        return fields + [pa.field(PROVENANCE_COLUMN, PROVENANCE_TYPE)]

    def output_schema(self, input_schema: pa.Schema) -> pa.Schema:
        """Schema of :meth:`process`'s result (for Spark's ``mapInArrow``)."""
        added = self.output_fields()
        names = {f.name for f in added}
        kept = [f for f in input_schema if f.name not in names]
        return pa.schema(kept + added, metadata=input_schema.metadata)

    def process(self, table: pa.Table | pa.RecordBatch, mask: pa.BooleanArray | None = None) -> pa.Table:
        """Input columns + each module's outputs + ``provenance``, one row per input row.

        Parameters
        ----------
        table : pyarrow.Table
            Canonical alerts. Columns named like a module output (a reprocessed science
            table) are replaced.
        mask : pyarrow.BooleanArray, optional
            True for alerts that passed the quality cuts; False or null rows are
            ``skipped``: null outputs, modules never see them.

        Raises
        ------
        PluginError
            When the table lacks a column a module reads, or the mask has the wrong length.
        """
        if isinstance(table, pa.RecordBatch):
            table = pa.Table.from_batches([table])
        n = table.num_rows
        keep = _mask_to_numpy(mask, n)
        rows = np.flatnonzero(keep)
        # Modules see only the columns they read, so the packet bytes are never copied.
        needed = [c for c in table.column_names if any(c in e.cls.inputs for e in self._entries)]
        selected = table.select(needed)
        if len(rows) != n:
            selected = selected.take(pa.array(rows))
        scatter = None if len(rows) == n else _scatter_index(keep)
        columns, errors = {}, []
        for entry in self._entries:
            missing = [c for c in entry.cls.inputs if c not in table.column_names]
            if missing:
                raise PluginError(f"science module {entry.name!r} needs columns {missing} "
                                  "that the input table lacks")
            outputs, row_errors = self._run_one(entry, selected) if len(rows) else ({}, None)
            for column, dtype in entry.outputs.items():
                arr = outputs.get(column, pa.nulls(len(rows), dtype))
                columns[column] = arr if scatter is None else arr.take(scatter)
            errors.append(row_errors)
        out = table.drop_columns([c for c in table.column_names
                                  if c in columns or c == PROVENANCE_COLUMN])
        for column, arr in columns.items():
            out = out.append_column(pa.field(column, arr.type), arr)
        provenance = self._provenance(keep, errors)
        return out.append_column(pa.field(PROVENANCE_COLUMN, PROVENANCE_TYPE), provenance)

    def map_batches(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """``mapInArrow`` adapter: every row is processed (apply quality cuts upstream)."""
        for batch in batches:
            yield from self.process(batch).to_batches()

    def _run_one(self, entry: _Entry, selected: pa.Table):
        """(outputs, per-row errors or None when every row scored); counts stats, never raises."""
        stats = self.stats[entry.name]
        start = time.perf_counter()
        n = selected.num_rows
        part = selected.select(list(entry.cls.inputs))
        try:
            outputs, errors = self._score(entry, entry.get(), part)
        except Exception as exc:  # the model did not load, or the result breaks the contract
            outputs, errors = {}, [describe(exc)] * n
        failed = 0 if errors is None else sum(e is not None for e in errors)
        if failed:
            stats["errors"] += 1
            stats["row_errors"] += failed
            first = next(e for e in errors if e is not None)
            log.error("science module %s failed on a batch: %d of %d alerts not scored; first error: %s",
                      entry.name, failed, n, first,
                      extra={"science_module": entry.name, "alerts": n, "failed_alerts": failed})
        stats["batches"] += 1
        stats["alerts"] += n
        stats["seconds"] += time.perf_counter() - start
        return outputs, errors

    @staticmethod
    def _score(entry: _Entry, module: ScienceModule, part: pa.Table):
        """Run the module on the batch; if it raises, isolate the rows that make it fail."""
        try:
            result = module.process(part)
        except Exception as exc:  # isolation: any failure of module code is data
            return isolate(lambda t: coerce_outputs(module.process(t), entry.outputs, t.num_rows),
                           part, entry.outputs, first_error=describe(exc))
        return coerce_outputs(result, entry.outputs, part.num_rows), None

    def _provenance(self, keep: np.ndarray, errors: list) -> pa.Array:
        """One entry per row and module; ``errors[j]`` is module j's per-row errors (or None)."""
        n, m = len(keep), len(self._entries)
        status = np.full((n, m), "skipped", dtype=object)
        error = np.full((n, m), None, dtype=object)
        for j, row_errors in enumerate(errors):
            if row_errors is None:
                status[keep, j] = "ok"
                continue
            row_errors = np.array(row_errors, dtype=object)
            status[keep, j] = np.where(np.equal(row_errors, None), "ok", "error")
            error[keep, j] = row_errors
        # None when the model never loaded (all rows skipped, or loading failed).
        per_module = [(e.name, e.cls.version, e.model_hash, e.model_version) for e in self._entries]
        constant = [pa.array(np.tile(np.array(column, dtype=object), n), pa.string())
                    for column in zip(*per_module)] if m else [pa.array([], pa.string())] * 4
        struct = pa.StructArray.from_arrays(
            constant + [pa.array(status.ravel(), pa.string()), pa.array(error.ravel(), pa.string())],
            fields=list(PROVENANCE_STRUCT))
        offsets = np.arange(0, n * m + 1, m) if m else np.zeros(n + 1)
        offsets = pa.array(offsets, pa.int32())
        return pa.ListArray.from_arrays(offsets, struct, type=PROVENANCE_TYPE)


def science_output_schema(input_schema: pa.Schema, specs: Sequence[ModuleSpec]) -> pa.Schema:
    """The science lake's schema for these module specs, without loading any model."""
    return ScienceRunner(specs).output_schema(input_schema)


def _mask_to_numpy(mask, n: int) -> np.ndarray:
    if mask is None:
        return np.ones(n, dtype=bool)
    if isinstance(mask, pa.ChunkedArray):
        mask = mask.combine_chunks()
    if not isinstance(mask, pa.BooleanArray):
        raise PluginError(f"mask must be a pyarrow BooleanArray, got {type(mask).__name__}")
    if len(mask) != n:
        raise PluginError(f"mask has {len(mask)} values for a table of {n} rows")
    return mask.fill_null(False).to_numpy(zero_copy_only=False).astype(bool)


def _scatter_index(keep: np.ndarray) -> pa.Array:
    """Take-indices that spread the selected rows back, null where a row was skipped."""
    positions = np.cumsum(keep) - 1
    return pa.array(positions, type=pa.int64(), mask=~keep)


def coerce_outputs(result, declared: dict, n: int) -> dict[str, pa.Array]:
    """Check and cast a module's result to its declared columns, types and length.

    Raises
    ------
    PluginError
        Not a mapping, a missing or undeclared column, a wrong length, or a value that
        does not convert to the declared type.
    """
    if not isinstance(result, dict):
        raise PluginError(f"process() must return a dict of columns, got {type(result).__name__}")
    missing = [c for c in declared if c not in result]
    extra = [c for c in result if c not in declared]
    if missing or extra:
        raise PluginError(f"process() returned columns {sorted(result)}; declared {sorted(declared)}")
    return {column: _coerce(column, result[column], dtype, n) for column, dtype in declared.items()}


def _coerce(column: str, value, dtype: pa.DataType, n: int) -> pa.Array:
    try:
        if isinstance(value, pa.ChunkedArray):
            value = value.combine_chunks()
        if isinstance(value, pa.Array):
            arr = value if value.type == dtype else value.cast(dtype)
        else:
            arr = pa.array(value, type=dtype, from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise PluginError(f"output {column!r} does not convert to {dtype}: {exc}") from exc
    if len(arr) != n:
        raise PluginError(f"output {column!r} has {len(arr)} values for {n} alerts")
    return arr
