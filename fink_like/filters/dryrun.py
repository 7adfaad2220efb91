"""Dry run: what a filter would have selected over past nights of the science lake.

The filter runs in Spark batch mode (so it scales with the cluster) through the same
:class:`~fink_like.filters.engine.FilterEngine`, the same column conformance and the same
``other_*`` association columns as the live distribution stage, so it selects exactly
the alerts the stream would publish. Per night it reports the alerts selected, their
archive classes (:func:`fink_like.archive.model.classify`) and cross-match types
(``catalogue:class`` of each ``xm_*`` match), the spectroscopic labels of the selected
objects where known (``distribution.labels_file``) with a purity for ``target``, and ten
sample alerts; over the range, the expected messages per day.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa

from fink_like.errors import QueryError
from fink_like.filters.store import UserFilter

SAMPLES = 10
SELECTED_SCHEMA = pa.schema([("night", pa.string()), ("alert_id", pa.int64()), ("object_id", pa.string()),
                             ("survey", pa.string()), ("mjd", pa.float64()), ("ra", pa.float64()),
                             ("dec", pa.float64()), ("mag", pa.float64()), ("band", pa.string()),
                             ("class", pa.string()), ("xmatch", pa.string())])


@dataclass
class NightReport:
    night: str
    alerts: int
    selected: int
    classes: dict = field(default_factory=dict)
    xmatch: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    labelled: int = 0
    purity: float | None = None
    samples: list = field(default_factory=list)


@dataclass
class DryRunReport:
    filter: str
    version: int
    since: str
    until: str
    target: str | None
    nights: list
    alert_ids: list
    expected_per_day: float

    def to_dict(self) -> dict:
        return asdict(self)


def resolve(settings, text: str, store) -> UserFilter:
    """A stored filter by name, a filter of the settings file by name, or an expression."""
    from fink_like.filters.store import NAME, user_filter

    if NAME.match(text):
        head = store.head(text)
        if head is not None:
            return head.spec
        for spec in settings.distribution.filters:
            if spec.name == text:
                return user_filter({**spec.model_dump(), "version": 0})
    return user_filter({"name": "dry-run", "topic": "dry-run", "expression": text})


def select_partition(spec: UserFilter, settings, batches):
    """Spark-free core, run on executors: the selected alerts of one partition, summarised."""
    from fink_like.archive.model import classify
    from fink_like.jobs.stages import Pipeline, concat, conform

    table = conform(concat(batches))
    if table.num_rows == 0:
        return
    pipeline = Pipeline(settings, "science", ("distribute",), user_filters=(spec,))
    engine = pipeline._engine(table.schema)
    if engine.load_failures:
        raise QueryError(f"filter {spec.name!r} cannot run: {next(iter(engine.load_failures.values()))}")
    masks = engine.evaluate(pipeline.filter_view(table, engine))
    if spec.name in engine.failures:
        raise QueryError(f"filter {spec.name!r} failed: {engine.failures[spec.name]}")
    rows = [i for i, keep in enumerate(masks[spec.name].to_pylist()) if keep]
    out = []
    for row in table.take(pa.array(rows, type=pa.int64())).to_pylist():
        xm = sorted(f"{c[3:-5]}:{row[c]}" for c in row if c.startswith("xm_") and c.endswith("_class") and row[c])
        out.append({**{k: row.get(k) for k in SELECTED_SCHEMA.names if k in row}, "class": classify(row),
                    "xmatch": ";".join(xm)})
    yield pa.RecordBatch.from_pylist(out, schema=SELECTED_SCHEMA)


def dry_run(spark, settings, spec: UserFilter, since: str, until: str, target: str | None = None) -> DryRunReport:
    """Run ``spec`` over the science lake's nights ``since..until`` (``YYYYMMDD``, inclusive).

    ``spark``: a session, or None to get the configured one once the nights are known to exist.
    """
    from fink_like.jobs import lake

    path = settings.lake_path("science")
    available = lake.nights(path)
    nights = [n for n in available if since <= n <= until]
    if not nights:
        raise QueryError(f"no night of the science lake {path} between {since} and {until} "
                         f"(it holds: {', '.join(available) or 'nothing'})")
    if spark is None:
        from fink_like.jobs.spark import get_spark

        spark = get_spark(settings)
    # Only this filter: the settings file's filters are not evaluated alongside it.
    settings = settings.model_copy(update={"distribution": settings.distribution.model_copy(update={"filters": []})})
    df = spark.read.option("mergeSchema", "true").parquet(path)
    df = df.withColumn("night", df["night"].cast("string"))  # Spark infers partition values as integers
    df = df.where(df["night"].isin(nights))
    totals = {r["night"]: r["count"] for r in df.groupBy("night").count().collect()}
    from pyspark.sql.pandas.types import from_arrow_schema

    rows = df.mapInArrow(lambda it: select_partition(spec, settings, it), from_arrow_schema(SELECTED_SCHEMA)).collect()
    return summarise(spec, since, until, target, nights, totals, [r.asDict() for r in rows],
                     read_labels(settings.distribution.labels_file))


def summarise(spec, since, until, target, nights, totals, rows, labels) -> DryRunReport:
    by_night: dict[str, list[dict]] = {n: [] for n in nights}
    for r in rows:
        by_night[r["night"]].append(r)
    reports = []
    for night in nights:
        chosen = sorted(by_night[night], key=lambda r: (r["mjd"], r["alert_id"]))
        known = [labels[r["object_id"]] for r in chosen if r["object_id"] in labels]
        purity = None
        if target and known:
            purity = sum(1 for k in known if k.startswith(target)) / len(known)
        reports.append(NightReport(
            night, totals.get(night, 0), len(chosen), dict(Counter(r["class"] for r in chosen)),
            dict(Counter(x for r in chosen for x in r["xmatch"].split(";") if x)), dict(Counter(known)),
            len(known), purity, chosen[:SAMPLES]))
    per_day = sum(r.selected for r in reports) / len(reports)
    ids = sorted(r["alert_id"] for r in rows)
    return DryRunReport(spec.name, spec.version, since, until, target, reports, ids, per_day)


def read_labels(path: str) -> dict[str, str]:
    """ZTF object id -> spectroscopic class (columns ``objectId``, ``tns``); empty when absent."""
    file = Path(path)
    if not file.is_file():
        return {}
    with open(file, newline="") as fh:
        return {row["objectId"]: row["tns"] for row in csv.DictReader(fh)
                if row.get("tns") and row["tns"] != "nan"}
