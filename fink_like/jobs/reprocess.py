"""Batch reprocessing of the raw lake, night by night, with a chosen set of science modules.

Each night ``YYYYMMDD`` of the range is one Spark batch job: the night's raw partition
is read with ``spark.read.parquet``, and :meth:`Pipeline.run_partition` (source ``raw``,
stages ``science`` and, unless disabled, ``archive``) runs on every input partition
through ``mapInArrow``; only counts come back to the driver.

The science files of the night are first written to a hidden staging area,
``<science>/.reprocess/night=<night>/`` (hidden names are ignored by Spark and pyarrow),
then swapped in: the night's old files are removed and the new ones moved into
``<science>/night=<night>/``. Readers never see a night's alerts twice.

A small JSON state file, ``<checkpoint_dir>/reprocess/state.json``, records every
finished night with the hash of the module set (names, params), the quality cuts and
whether the archive was written. A rerun skips nights finished with the same hash; a
night cut short is redone from scratch after its staging area is cleared. Archive
writes are upserts on keys that depend only on the alert, so redoing a night is safe.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Callable, Sequence

import pyarrow as pa
import pyarrow.fs as pafs

from fink_like.config import ModuleSpec, Settings, join_uri
from fink_like.errors import FinkLikeError, PluginError, UsageError
from fink_like.jobs import lake
from fink_like.jobs.stages import Pipeline, PartitionStats, concat, conform

STAGING = ".reprocess"
STATE_FILE = "state.json"
STATS_SCHEMA = "stats string"

Hook = Callable[[str, str], None]


class ReprocessError(FinkLikeError):
    """A night could not be reprocessed (its counts do not reconcile, or the swap failed)."""


@dataclass
class NightResult:
    """What reprocessing one night did."""

    night: str
    alerts: int = 0
    science: int = 0
    quality_rejected: int = 0
    archived: int = 0
    module_errors: dict = field(default_factory=dict)
    seconds: float = 0.0


# -- arguments -------------------------------------------------------------------------

def parse_night(text: str) -> str:
    """``YYYY-MM-DD`` or ``YYYYMMDD`` -> ``YYYYMMDD``; UsageError on anything else.

    Examples
    --------
    >>> parse_night("2020-01-01")
    '20200101'
    """
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(text, fmt).date().strftime("%Y%m%d")
        except ValueError:
            continue
    raise UsageError(f"invalid date {text!r}: expected YYYY-MM-DD or YYYYMMDD")


def night_range(since: str, until: str) -> tuple[str, str]:
    """Both ends as ``YYYYMMDD``, checked to be in order."""
    first, last = parse_night(since), parse_night(until)
    if first > last:
        raise UsageError(f"--since {since} is after --until {until}")
    return first, last


def choose_modules(settings: Settings, names: Sequence[str] | None = None,
                   params: dict | None = None) -> list[ModuleSpec]:
    """The module specs to run: the enabled configured ones, or ``names`` (any installed).

    A named module keeps its configured parameters; ``params`` (module name -> mapping)
    overrides them key by key, e.g. ``{"snia": {"model_version": "v2"}}``.

    Raises
    ------
    UsageError
        Unknown or repeated module names, or params for a module that is not chosen.
    """
    configured = {m.name: m for m in settings.science.modules}
    if names:
        if len(set(names)) != len(names):
            raise UsageError(f"--modules names a module twice: {' '.join(names)}")
        specs = [configured.get(n, ModuleSpec(name=n)) for n in names]
    else:
        specs = [m for m in settings.science.modules if m.enabled]
    params = params or {}
    if not isinstance(params, dict) or not all(isinstance(v, dict) for v in params.values()):
        raise UsageError('--module-params must be a JSON object of objects, e.g. {"snia": {"model_version": "v2"}}')
    chosen = [s.name for s in specs]
    stray = sorted(set(params) - set(chosen))
    if stray:
        raise UsageError(f"--module-params names module(s) {stray} that are not run; chosen: {chosen}")
    specs = [ModuleSpec(name=s.name, enabled=True, params={**s.params, **params.get(s.name, {})})
             for s in specs]
    from fink_like.science.runner import ScienceRunner

    try:
        ScienceRunner(specs)  # resolves every name and checks output collisions, loads nothing
    except PluginError as exc:
        raise UsageError(str(exc)) from exc
    return specs


def with_modules(settings: Settings, specs: Sequence[ModuleSpec]) -> Settings:
    """``settings`` running ``specs``, writing its science files into the staging area."""
    science = settings.science.model_copy(update={"modules": list(specs)})
    staging = settings.lake.model_copy(update={"science": join_uri(settings.lake.science, STAGING)})
    return settings.model_copy(update={"science": science, "lake": staging})


def run_key(specs: Sequence[ModuleSpec], settings: Settings, archive: bool) -> str:
    """Hash of what decides a night's output: modules and params, quality cuts, archive on/off."""
    what = {"modules": [[s.name, s.params] for s in specs],
            "quality_cuts": settings.science.quality_cuts, "archive": archive}
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()[:16]


# -- lake and state files ----------------------------------------------------------------

def raw_nights(settings: Settings, first: str, last: str) -> list[str]:
    """The raw lake's night partitions between ``first`` and ``last`` inclusive, sorted."""
    fs, base = lake.filesystem(settings.lake_path("raw"), settings.lake)
    if fs.get_file_info(base).type != pafs.FileType.Directory:
        return []
    prefix = f"{lake.PARTITION}="
    nights = []
    for info in fs.get_file_info(pafs.FileSelector(base)):
        name = info.base_name
        if info.type == pafs.FileType.Directory and name.startswith(prefix):
            night = name[len(prefix):]
            if len(night) == 8 and night.isdigit() and first <= night <= last:
                nights.append(night)
    return sorted(nights)


class State:
    """The finished nights, as ``{night: {"key": ..., "alerts": ..., ...}}`` in a JSON file."""

    def __init__(self, uri: str):
        self.fs, self.path = lake.filesystem(join_uri(uri, STATE_FILE))
        self.nights: dict[str, dict] = {}
        if self.fs.get_file_info(self.path).type == pafs.FileType.File:
            with self.fs.open_input_stream(self.path) as f:
                try:
                    self.nights = json.loads(f.read().decode())["nights"]
                except (ValueError, KeyError, TypeError) as exc:
                    raise ReprocessError(f"reprocess state file {self.path} is corrupt ({exc}): "
                                         "delete it or run with --restart") from exc

    def done(self, night: str, key: str) -> bool:
        return self.nights.get(night, {}).get("key") == key

    def forget(self, night: str) -> None:
        if self.nights.pop(night, None) is not None:
            self._save()

    def finish(self, result: NightResult, key: str) -> None:
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.nights[result.night] = {"key": key, "finished": stamp, **asdict(result)}
        self._save()

    def _save(self) -> None:
        directory = self.path.rsplit("/", 1)[0]
        self.fs.create_dir(directory, recursive=True)
        tmp = f"{directory}/.{STATE_FILE}.tmp"
        with self.fs.open_output_stream(tmp) as f:
            f.write(json.dumps({"nights": self.nights}, indent=1, sort_keys=True).encode())
        self.fs.move(tmp, self.path)


def clear_staging(settings: Settings, night: str) -> None:
    """Remove what an interrupted run left in the night's staging area."""
    fs, base = lake.filesystem(settings.lake_path("science"), settings.lake)
    directory = f"{base}/{STAGING}/{lake.PARTITION}={night}"
    if fs.get_file_info(directory).type != pafs.FileType.NotFound:
        fs.delete_dir(directory)


def swap_in(settings: Settings, night: str) -> int:
    """Replace the night's science files by the staged ones; return the number of files moved."""
    fs, base = lake.filesystem(settings.lake_path("science"), settings.lake)
    staged_dir = f"{base}/{STAGING}/{lake.PARTITION}={night}"
    final_dir = f"{base}/{lake.PARTITION}={night}"
    staged = _files(fs, staged_dir)
    fs.create_dir(final_dir, recursive=True)
    for old in _files(fs, final_dir):
        fs.delete_file(f"{final_dir}/{old}")
    for name in staged:
        fs.move(f"{staged_dir}/{name}", f"{final_dir}/{name}")
    fs.delete_dir(staged_dir)
    return len(staged)


def _files(fs: pafs.FileSystem, directory: str) -> list[str]:
    """Visible Parquet files of one directory (hidden in-flight files are skipped)."""
    if fs.get_file_info(directory).type != pafs.FileType.Directory:
        return []
    return sorted(i.base_name for i in fs.get_file_info(pafs.FileSelector(directory))
                  if i.type == pafs.FileType.File and not i.base_name.startswith((".", "_")))


# -- Spark ---------------------------------------------------------------------------------

def run_night(spark, pipeline: Pipeline, night: str) -> NightResult:
    """Read one raw night, run the pipeline on each partition, write the staging area."""
    from pyspark.sql.pandas.types import from_arrow_schema

    from fink_like.surveys.canonical import CANONICAL_SCHEMA

    t0 = time.perf_counter()
    raw = pipeline.settings.lake_path("raw")
    from pyspark.sql import functions as F

    from fink_like.jobs.stages import SOURCE_FILE

    df = (spark.read.schema(from_arrow_schema(CANONICAL_SCHEMA)).option("basePath", raw)
          .parquet(f"{raw}/{lake.PARTITION}={night}"))
    df = df.withColumn(SOURCE_FILE, F.col("_metadata.file_path"))  # outputs named after their input
    batch_id = int(night)  # one deterministic file name per input partition of the night

    def run(batches):
        from pyspark import TaskContext

        table = concat(batches)
        if table.num_rows == 0:  # a file split holding no row group: nothing to write
            stats = PartitionStats()
        else:
            # Load every model even if all rows fail the cuts, so provenance always carries
            # the model hash: a night's output must not depend on what a worker did before.
            pipeline.warm_up()
            stats = pipeline.run_partition(conform(table), batch_id, TaskContext.get().partitionId())
        yield pa.RecordBatch.from_pylist([{"stats": json.dumps(asdict(stats))}])

    parts = [PartitionStats(**json.loads(r["stats"])) for r in df.mapInArrow(run, STATS_SCHEMA).collect()]
    result = NightResult(night)
    for p in parts:
        result.alerts += p.consumed
        result.science += p.science
        result.quality_rejected += p.quality_rejected
        result.archived += p.archived
        for module, n in p.module_errors.items():
            result.module_errors[module] = result.module_errors.get(module, 0) + n
    if result.science != result.alerts or ("archive" in pipeline.stages and result.archived != result.alerts):
        raise ReprocessError(f"night {night}: {result.alerts} alerts read but {result.science} enriched "
                             f"and {result.archived} archived")
    result.seconds = round(time.perf_counter() - t0, 3)
    return result


def reprocess(settings: Settings, since: str, until: str, *, modules: Sequence[str] | None = None,
              module_params: dict | None = None, archive: bool = True, restart: bool = False,
              progress: Callable[[str], None] | None = None, hook: Hook | None = None) -> dict:
    """Reprocess every raw night from ``since`` to ``until``; return the summary.

    Parameters
    ----------
    since, until
        Inclusive night range, ``YYYY-MM-DD`` or ``YYYYMMDD``.
    modules, module_params
        See :func:`choose_modules`.
    archive
        Also upsert the night's alerts into the archive.
    restart
        Redo nights the state file records as finished.
    progress
        Called with one line of text per night (the CLI prints it on stderr).
    hook
        Called as ``hook(event, night)`` with ``"staged"`` (written, not yet swapped)
        and ``"done"``; for tests that simulate a crash.
    """
    from fink_like.jobs.spark import get_spark
    from fink_like.science.registry import pin_specs

    first, last = night_range(since, until)
    # Pinned once (model_version: latest -> vN): one model version for the whole run, and
    # the run key changes when a retrain publishes a new version, so nights are redone.
    specs = pin_specs(choose_modules(settings, modules, module_params))
    key = run_key(specs, settings, archive)
    stages = ("science", "archive") if archive else ("science",)
    pipeline = Pipeline(with_modules(settings, specs), "raw", stages)
    state = State(join_uri(settings.spark.checkpoint_dir, "reprocess"))
    nights = raw_nights(settings, first, last)
    say = progress or (lambda line: None)
    spark = get_spark(settings)
    done, skipped, t0 = [], [], time.perf_counter()
    for i, night in enumerate(nights, 1):
        if not restart and state.done(night, key):
            skipped.append(night)
            say(f"night {night}: already done with this module set, skipped ({i}/{len(nights)})")
            continue
        state.forget(night)
        clear_staging(settings, night)
        result = run_night(spark, pipeline, night)
        _notify(hook, "staged", night)
        swap_in(settings, night)
        state.finish(result, key)
        done.append(result)
        _notify(hook, "done", night)
        say(f"night {night}: {result.alerts} alerts, {result.seconds:.1f} s ({i}/{len(nights)} nights)")
    return summary(first, last, specs, key, nights, done, skipped, time.perf_counter() - t0)


def _notify(hook: Hook | None, event: str, night: str) -> None:
    if hook is not None:
        hook(event, night)


def summary(first, last, specs, key, nights, done, skipped, seconds) -> dict:
    """The final JSON-ready report."""
    errors: dict = {}
    for r in done:
        for module, n in r.module_errors.items():
            errors[module] = errors.get(module, 0) + n
    return {
        "since": first, "until": last, "key": key,
        "modules": [{"name": s.name, "params": s.params} for s in specs],
        "nights_total": len(nights), "nights_done": len(done), "nights_skipped": len(skipped),
        "alerts": sum(r.alerts for r in done), "archived": sum(r.archived for r in done),
        "quality_rejected": sum(r.quality_rejected for r in done), "module_errors": errors,
        "seconds": round(seconds, 3), "nights": {r.night: asdict(r) for r in done},
        "skipped": skipped,
    }
