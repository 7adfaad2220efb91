"""The streams page: each topic's filter and volume per night, latency, a summary per night.

Sources, all read at request time (cached for :data:`TTL_S` seconds):

* topic volumes per night: the configured filters (the stream's own engine) evaluated
  over the science lake, reading only the columns they need;
* alerts and classes per night: the archive's class index (one key per alert);
* quarantined messages and their reasons per night: the quarantine lake;
* end-to-end latency p50/p95 and its histogram (the buckets of the Prometheus
  histogram ``fink_like_end_to_end_latency_seconds``): the run's ``report/summary.json``
  beside the archive.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter, defaultdict
from html import escape
from pathlib import Path

from fink_like.api.portal.layout import page, query_url, section, table
from fink_like.api.portal.svg import bars
from fink_like.archive import model

TTL_S = 30.0


def summary_path(settings) -> Path:
    """Where ``fink-like run`` wrote the summary of the run that filled this archive."""
    return Path(settings.archive.path).parent / "report" / "summary.json"


def read_summary(settings) -> dict | None:
    path = summary_path(settings)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def mjd_night(mjd: float) -> str:
    """The UTC date (YYYYMMDD) of an MJD."""
    import datetime as dt

    return (dt.datetime(1858, 11, 17) + dt.timedelta(days=mjd)).strftime("%Y%m%d")


def classes_per_night(archive) -> dict[str, Counter]:
    """night -> Counter of archive classes, from the keys of the class index.

    Counted by (class, integer MJD) first: a UTC night starts at an integer MJD, so the
    date is computed once per day rather than once per alert.
    """
    days = Counter()
    for key, _ in archive.backend.scan(archive._table("class")):
        label, inv, _rest = key.split(b"_", 2)
        days[label, int(model.MJD_MAX - float(inv))] += 1
    out: dict[str, Counter] = defaultdict(Counter)
    for (label, day), n in days.items():
        out[mjd_night(day)][label.decode()] += n
    return dict(out)


def quarantine_per_night(settings) -> dict[str, Counter]:
    from fink_like.jobs.lake import read_lake

    try:
        table = read_lake(settings.lake_path("quarantine"), columns=["reason", "night"])
    except Exception:  # an absent or foreign lake leaves the section empty, not the page broken
        return {}
    out: dict[str, Counter] = defaultdict(Counter)
    for reason, night in zip(table.column("reason").to_pylist(), table.column("night").to_pylist()) if table.num_rows else ():
        out[night][reason] += 1
    return dict(out)


def topic_volumes(settings, context) -> dict[str, Counter]:
    """topic -> Counter of alerts per night that its filter selects in the science lake."""
    from fink_like.jobs.lake import read_lake

    needed = sorted(set(context.engine.required_columns) | {"night"})
    try:
        table = read_lake(settings.lake_path("science"), columns=needed)
    except Exception:
        return {}
    if not table.num_rows:
        return {}
    masks = context.engine.evaluate(_conformed(table, context))
    nights = table.column("night").to_pylist()
    names = {f.spec.name: f.spec.topic for f in context.engine.filters}
    return {names[name]: Counter(n for n, m in zip(nights, mask.fill_null(False).to_pylist()) if m)
            for name, mask in masks.items()}


def _conformed(table, context):
    from fink_like.api.portal.context import conform

    return conform(table, context.schema)


class StreamsData:
    """The facts of the streams page, recomputed at most every :data:`TTL_S` seconds."""

    def __init__(self, settings, archive, context):
        self.settings, self.archive, self.context = settings, archive, context
        self._cached: tuple[float, dict] | None = None
        self._lock = threading.Lock()

    def get(self) -> dict:
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] > TTL_S:
                self._cached = (time.monotonic(), {
                    "classes": classes_per_night(self.archive),
                    "quarantine": quarantine_per_night(self.settings),
                    "topics": topic_volumes(self.settings, self.context),
                    "summary": read_summary(self.settings),
                })
            return self._cached[1]


def latency_html(summary: dict | None) -> str:
    if not summary or not summary.get("stages", {}).get("latency_seconds"):
        return "<p>No latency measured: run <code>fink-like run</code> to fill this archive.</p>"
    lat = summary["stages"]["latency_seconds"]
    text = " · ".join(f"{k} <b>{v:.2f} s</b>" for k, v in lat.items())
    hist = summary.get("latency_histogram")
    figure = ""
    if hist:
        labels = [f"≤{b:g}s" if b is not None else f">{hist['le'][-2]:g}s" for b in hist["le"]]
        figure = bars(labels, hist["counts"], xlabel="end-to-end latency (Kafka timestamp → publication)",
                      ylabel="alerts", cls="bars latency")
    return f"<p id='latency'>{text}</p>{figure}"


def render(data: dict, settings) -> str:
    """The streams page."""
    topics = data["topics"]
    nights = sorted(set(data["classes"]) | set(data["quarantine"]) | {n for c in topics.values() for n in c})
    rows = []
    for spec in settings.distribution.filters:
        rule = spec.expression or (f"plugin {spec.plugin}" if spec.plugin else "watch list")
        rows.append([spec.topic, spec.name, rule, "yes" if spec.enabled else "no",
                     sum(topics.get(spec.topic, Counter()).values())])
    filt = table(["topic", "filter", "definition", "enabled", "alerts"], rows, "topics")
    names = [spec.topic for spec in settings.distribution.filters]
    volume = table(["night"] + names, [[n] + [topics.get(t, Counter()).get(n, 0) for t in names] for n in nights],
                   "topic-volumes")
    # Issue 14's filter dry-run belongs here: a form posting an expression to its API route.
    dry_run = "<div id='filter-dry-run'></div>"
    night_rows = []
    for night in nights:
        classes, quarantine = data["classes"].get(night, Counter()), data["quarantine"].get(night, Counter())
        night_rows.append([night, sum(classes.values()), sum(quarantine.values()),
                           ", ".join(f"{r}: {n}" for r, n in quarantine.most_common()),
                           ", ".join(f"{c}: {n}" for c, n in classes.most_common())])
    nights_html = table(["night", "alerts archived", "quarantined", "quarantine reasons", "classes"],
                        night_rows, "nights")
    topic_links = " ".join(f"<a href='{escape(query_url('/portal/search', {'topic': t, 'go': 1}))}'>{escape(t)}</a>"
                           for t in names)
    body = ("<h1>Streams</h1>" + section("Topics", filt + dry_run + f"<p>Browse: {topic_links}</p>", "topic-section")
            + section("Topic volume per night (filters over the science lake)", volume, "volume-section")
            + section("End-to-end latency", latency_html(data["summary"]), "latency-section")
            + section("Nights", nights_html, "night-section"))
    return page("Streams", body)
