"""The run report as a page: stage counts, topic volumes, latency and scores as figures.

The same renderer writes ``report/report.html`` at the end of ``fink-like run`` (object
links then point at ``api.host:api.port``) and serves ``/portal/report`` from the live
archive, which ``fink-like run --serve`` keeps up after the run.
"""

from __future__ import annotations

import json
from html import escape

from fink_like.api.portal.layout import object_url, page, section, table
from fink_like.api.portal.streams import latency_html
from fink_like.api.portal.svg import bars
from fink_like.archive.model import CLASSES, UNKNOWN_CLASS
from fink_like.errors import FinkLikeError

STAGES = ("consumed", "raw", "quarantined", "science", "quality_rejected", "archived")


def notable_objects(archive, per_class: int = 3) -> list[list]:
    """The newest few objects of every class but the unclassified: [object, class, mjd, survey]."""
    out, seen = [], set()
    for label in CLASSES:
        if label == UNKNOWN_CLASS:
            continue
        try:
            rows = archive.by_class(label, limit=50).table.select(["object_id", "mjd", "survey"]).to_pylist()
        except (FinkLikeError, KeyError):
            continue
        picked = 0
        for row in rows:
            if row["object_id"] not in seen and picked < per_class:
                seen.add(row["object_id"])
                picked += 1
                out.append([row["object_id"], label, row["mjd"], row["survey"]])
    return out


def render(summary: dict | None, objects: list[list], base_url: str = "") -> str:
    """The report page; ``base_url`` prefixes object links (empty when served by the portal)."""
    if not summary:
        return page("Run report", "<h1>Run report</h1><p>No run summary beside this archive: "
                                  "run <code>fink-like run</code> (add <code>--serve</code> to browse it).</p>")
    stages = summary.get("stages", {})
    counts = [stages.get(s, 0) or 0 for s in STAGES]
    topics = summary.get("topics", {})
    parts = [section("Stages", bars(list(STAGES), counts, ylabel="alerts", cls="bars stages")
                     + table(["stage", "alerts"], [[s, c] for s, c in zip(STAGES, counts)], "stage-counts"), "stages"),
             section("Topics", bars(list(topics), list(topics.values()), ylabel="alerts", cls="bars topics")
                     + table(["topic", "alerts"], [[t, n] for t, n in topics.items()], "topic-counts"), "topics"),
             section("Latency", latency_html(summary), "latency-section")]
    scores = summary.get("scores", {})
    figures = "".join(
        f"<figure>{bars([f'{i / 10:.1f}' for i in range(10)], s['histogram_0_to_1'], xlabel=name, ylabel='alerts', width=360, height=200, cls='bars score')}"
        f"<figcaption>{escape(name)}: n={s['n']}, mean={s['mean']}</figcaption></figure>"
        for name, s in scores.items())
    parts.append(section("Score distributions", f"<div class='figures'>{figures}</div>", "scores"))
    parts.append(section("Objects to look at", table(
        ["object", "class", "mjd", "survey"], objects, "objects",
        links={"object": lambda oid: base_url + object_url(oid)}), "objects-section"))
    facts = {k: summary.get(k) for k in ("alerts_replayed", "replay_rate_per_s", "archive_rows")}
    head = ("<h1>Run report</h1><p class='facts'>" + " · ".join(f"{escape(k)} <b>{escape(str(v))}</b>"
                                                                 for k, v in facts.items()) + "</p>")
    raw = f"<details><summary>summary.json</summary><pre>{escape(json.dumps(summary, indent=1))}</pre></details>"
    return page("Run report", head + "".join(parts) + raw)
