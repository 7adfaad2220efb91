"""What a submitted filter must pass before it is stored: syntax, columns, contract, speed.

:func:`prepare` turns what a user gives (an expression, a plugin entry point or file, a
watch list with files) into a self-contained :class:`~fink_like.filters.store.UserFilter`:
a plugin file's code and a watch list's files are read now and kept in the spec, so the
stored version runs the same everywhere. :func:`check` then builds the same engine the
stream builds, against the columns the stream sees, and runs it on a sample of real
alerts from the science lake; every failure is a :class:`~fink_like.errors.FinkLikeError`
naming the problem (position and close column names for an expression).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from fink_like.errors import ConfigError, PluginError
from fink_like.filters.store import UserFilter, user_filter


@dataclass(frozen=True)
class CheckReport:
    """The outcome of the submission checks."""

    name: str
    kind: str
    columns: tuple[str, ...]
    sample_size: int
    selected: int
    ms_per_alert: float | None


def prepare(data: dict, base_dir: str | Path = ".") -> UserFilter:
    """A self-contained spec from submitted fields (``plugin_file`` read, watch-list files inlined)."""
    data = {k: v for k, v in data.items() if v is not None}
    base = Path(base_dir)
    if data.get("plugin_file") and "plugin_source" not in data:
        path = base / data["plugin_file"]
        try:
            data["plugin_source"] = path.read_text()
        except OSError as exc:
            raise ConfigError(f"filter plugin file {path} cannot be read: {exc}") from exc
        data["plugin_file"] = path.name
    if isinstance(data.get("watchlist"), dict):
        data["watchlist"] = inline_watchlist(data["watchlist"], base)
    return user_filter(data)


def inline_watchlist(spec: dict, base_dir: Path) -> dict:
    """The watch list with its files read: object ids, cones and one ASCII MOC."""
    from fink_like.filters.watchlist import WatchList

    watch = WatchList.from_spec(spec, base_dir)
    out: dict = {}
    if watch.objects:
        out["objects"] = list(watch.objects)
    if len(watch.cones):
        out["cones"] = [{"ra": r, "dec": d, "radius_arcsec": s} for r, d, s in watch.cones.tolist()]
    if watch.regions:
        moc = watch.regions[0].moc
        for region in watch.regions[1:]:
            moc = moc.union(region.moc)
        out["moc"] = moc.to_string(format="ascii")
    return out


def stream_schema(settings) -> pa.Schema:
    """The columns a filter sees in the stream: canonical, module outputs, ``other_*``."""
    from fink_like.archive.association import OTHER_FIELDS
    from fink_like.science.runner import science_output_schema
    from fink_like.surveys.canonical import CANONICAL_SCHEMA

    schema = science_output_schema(CANONICAL_SCHEMA, [m for m in settings.science.modules if m.enabled])
    return pa.schema(list(schema) + [f for f in OTHER_FIELDS if f.name not in schema.names])


def lake_sample(settings, size: int) -> pa.Table | None:
    """Up to ``size`` alerts of the newest nights of the science lake (None when it is empty)."""
    from fink_like.jobs import lake

    try:
        nights = sorted(lake.nights(settings.lake_path("science")), reverse=True)
    except OSError:
        return None
    parts, count = [], 0
    for night in nights:
        part = lake.read_lake(settings.lake_path("science"), nights=[night])
        parts.append(part)
        count += part.num_rows
        if count >= size:
            break
    if not count:
        return None
    return pa.concat_tables(parts, promote_options="permissive").slice(0, size)


def check(spec: UserFilter, settings, sample: pa.Table | None = None) -> CheckReport:
    """Build ``spec`` as the stream would, and run it on ``sample`` (or a lake sample).

    Raises
    ------
    ConfigError
        Syntax (with position), unknown column (with close names), too slow on the sample.
    PluginError
        A plugin that cannot be imported, breaks the contract, or fails on the sample.
    """
    from fink_like.archive.association import OTHER_FIELDS
    from fink_like.filters.engine import FilterEngine

    dist = settings.distribution
    if sample is None:
        sample = lake_sample(settings, dist.check_sample_size)
    if sample is not None:
        sample = _with_other_columns(sample, OTHER_FIELDS)
    schema = sample.schema if sample is not None else stream_schema(settings)
    engine = FilterEngine([spec.model_copy(update={"enabled": True})], schema,
                          plugin_budget=dist.plugin_budget_seconds)
    loaded = engine.filters[0]
    if sample is None or sample.num_rows == 0:
        return CheckReport(spec.name, spec.kind, tuple(sorted(loaded.columns)), 0, 0, None)
    t0 = time.perf_counter()
    masks = engine.evaluate(sample)
    ms = (time.perf_counter() - t0) * 1000.0 / sample.num_rows
    if engine.failures:
        raise PluginError(f"filter {spec.name!r} failed on {sample.num_rows} sample alerts: "
                          f"{engine.failures[spec.name]}")
    if ms > dist.check_max_ms_per_alert:
        raise ConfigError(f"filter {spec.name!r} is too slow: {ms:.3f} ms per alert on {sample.num_rows} "
                          f"sample alerts (limit distribution.check_max_ms_per_alert = {dist.check_max_ms_per_alert})")
    selected = sum(1 for v in masks[spec.name].to_pylist() if v)
    return CheckReport(spec.name, spec.kind, tuple(sorted(loaded.columns)), sample.num_rows, selected, ms)


def _with_other_columns(table: pa.Table, fields) -> pa.Table:
    for f in fields:
        if f.name not in table.column_names:
            table = table.append_column(f, pa.nulls(table.num_rows, f.type))
    return table
