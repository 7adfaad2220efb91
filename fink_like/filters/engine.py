"""The filter engine: every configured filter, checked at load, evaluated in one pass.

Expression filters share one :class:`~fink_like.filters.nodes.Evaluation` per batch, so
a column or a sub-expression used by several filters is materialised once; adding a
filter adds only what is new in it.

Examples
--------
>>> import pyarrow as pa
>>> from fink_like.config import FilterSpec
>>> t = pa.table({"snia_prob": [0.9, 0.1], "ndethist": [2, 40]})
>>> engine = FilterEngine([FilterSpec(name="sn", topic="t.sn", expression="snia_prob > 0.5")], t.schema)
>>> engine.evaluate(t)["sn"].to_pylist()
[True, False]
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import pyarrow as pa

from fink_like.config import FilterSpec
from fink_like.errors import ConfigError, FinkLikeError
from fink_like.filters import nodes
from fink_like.filters.base import load_plugin, load_plugin_source
from fink_like.filters.expr import compile_filter
from fink_like.filters.isolation import FilterFailure, call_with_budget
from fink_like.filters.watchlist import WatchList

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedFilter:
    """One enabled filter ready to run: its spec and its implementation."""

    spec: FilterSpec
    kind: str          # "expression" | "plugin" | "watchlist"
    impl: object       # CompiledFilter | AlertFilter | WatchList

    @property
    def columns(self) -> frozenset[str]:
        if self.kind == "expression":
            return self.impl.columns
        return frozenset(getattr(self.impl, "required_columns", ()))

    @property
    def version(self) -> int:
        """The store's version of a user filter; 0 for a filter of the settings file."""
        return getattr(self.spec, "version", 0)

    @property
    def notify(self) -> tuple[str, ...]:
        return tuple(getattr(self.spec, "notify", ()))


class FilterEngine:
    """All enabled filters of ``specs``, validated against ``schema``.

    Parameters
    ----------
    specs
        ``settings.distribution.filters``; disabled ones are skipped.
    schema
        The enriched alert schema (canonical columns + module outputs + provenance).
    base_dir
        Where relative watch-list files are looked up.
    plugins
        Name -> class or entry point; default: the ``fink_like.filters`` entry points.
    plugin_budget
        Seconds a plugin may run on one batch (``distribution.plugin_budget_seconds``).

    A plugin that raises or overruns its budget is taken out of this engine (its name and
    reason land in :attr:`failures`); the other filters of the batch go on. The stream's
    driver then disables it in the filter store (:mod:`fink_like.filters.live`).

    Raises
    ------
    ConfigError
        ``distribution.filters[NAME]: ...`` for a bad expression, an unknown column, an
        unknown plugin or an unreadable watch list, all at construction.
    """

    def __init__(self, specs: list[FilterSpec], schema: pa.Schema, base_dir: str | Path = ".",
                 plugins: Mapping[str, object] | None = None, plugin_budget: float = 5.0):
        self.schema = schema
        self.plugin_budget = plugin_budget
        self.failures: dict[str, str] = {}
        self.load_failures: dict[str, str] = {}
        self.filters: list[LoadedFilter] = []
        for spec in specs:
            if spec.enabled:
                self.filters.append(_load(spec, schema, base_dir, plugins))

    def add(self, spec: FilterSpec, base_dir: str | Path = ".") -> bool:
        """Load one more filter; one that cannot load is recorded in :attr:`load_failures`
        (key ``name@version``) instead of raising, so a user's filter never stops the others."""
        if not spec.enabled:
            return False
        try:
            self.filters.append(_load(spec, self.schema, base_dir, None))
            return True
        except FinkLikeError as exc:
            self.load_failures[f"{spec.name}@{getattr(spec, 'version', 0)}"] = str(exc)
            log.error("filter %s not loaded: %s", spec.name, exc)
            return False

    @classmethod
    def from_settings(cls, settings, schema: pa.Schema, base_dir: str | Path = ".", **kwargs) -> "FilterEngine":
        """The engine for ``settings.distribution.filters``."""
        return cls(list(settings.distribution.filters), schema, base_dir, **kwargs)

    @property
    def topics(self) -> dict[str, str]:
        """Filter name -> topic."""
        return {f.spec.name: f.spec.topic for f in self.filters}

    @property
    def required_columns(self) -> frozenset[str]:
        """Every column some filter reads."""
        return frozenset().union(*(f.columns for f in self.filters)) if self.filters else frozenset()

    @property
    def healthy(self) -> list[LoadedFilter]:
        """The filters not taken out by a failure."""
        return [f for f in self.filters if f.spec.name not in self.failures]

    def evaluate(self, table: pa.Table) -> dict[str, pa.BooleanArray]:
        """One boolean mask per healthy filter, computed in one pass over ``table``."""
        shared = nodes.Evaluation(table)
        out = {}
        for f in self.healthy:
            if f.kind == "plugin":
                mask = self._run_plugin(f, table)
                if mask is None:
                    continue
            elif f.kind == "expression":
                mask = f.impl.mask(table, shared)
            else:
                mask = nodes.to_mask(f.impl.mask(table), table.num_rows)
            out[f.spec.name] = mask
        return out

    def _run_plugin(self, f: LoadedFilter, table: pa.Table) -> pa.BooleanArray | None:
        try:
            mask = call_with_budget(lambda: nodes.to_mask(f.impl.mask(table), table.num_rows),
                                    self.plugin_budget, f.spec.name)
            if len(mask) != table.num_rows:
                raise FilterFailure(f"gave {len(mask)} booleans for {table.num_rows} alerts")
            return mask
        except Exception as exc:  # any failure of user code: isolate the filter, keep going
            reason = f"{type(exc).__name__}: {exc}"
            self.failures[f.spec.name] = reason
            log.error("filter %s (version %s) taken out: %s", f.spec.name, f.version, reason)
            return None


def _load(spec: FilterSpec, schema: pa.Schema, base_dir, plugins) -> LoadedFilter:
    try:
        if spec.expression is not None:
            return LoadedFilter(spec, "expression", compile_filter(spec.expression, schema))
        if spec.plugin is not None:
            return LoadedFilter(spec, "plugin", load_plugin(spec.plugin, schema, plugins))
        if getattr(spec, "plugin_source", None) is not None:
            source = load_plugin_source(spec.plugin_source, spec.plugin_file or spec.name, schema)
            return LoadedFilter(spec, "plugin", source)
        if spec.watchlist is not None:
            watch = WatchList.from_spec(spec.watchlist, base_dir)
            missing = [c for c in watch.required_columns if c not in schema.names]
            if missing:
                raise ConfigError(f"watch list needs column(s) {', '.join(missing)}")
            return LoadedFilter(spec, "watchlist", watch)
    except ConfigError as exc:
        raise ConfigError(f"distribution.filters[{spec.name}]: {exc}") from exc
    raise ConfigError(f"distribution.filters[{spec.name}]: give one of expression, plugin, watchlist")
