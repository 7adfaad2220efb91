"""The portal's pages over HTTP: search and downloads, bad input, streams and run report."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fink_like.api.portal.search import parse_dec, parse_ra, parse_radius
from fink_like.errors import QueryError


def cells(html: str, table_id: str, column: int) -> list[str]:
    body = html.split(f"id='{table_id}'", 1)[1].split("</table>", 1)[0].split("<tbody>", 1)[1]
    return [re.sub("<[^>]+>", "", row.split("<td")[column + 1].split(">", 1)[1].rsplit("</td>", 1)[0])
            for row in body.split("<tr>")[1:]]


@pytest.mark.parametrize("text, degrees", [("193.82", 193.82), ("12:00:00", 180.0), ("12h30m00s", 187.5),
                                           ("23:59:59.9", 359.999583), ("-10", 350.0)])
def test_ra_in_degrees_or_sexagesimal_hours(text, degrees):
    assert parse_ra(text) == pytest.approx(degrees, abs=1e-6)


@pytest.mark.parametrize("text, degrees", [("-5.5", -5.5), ("-05:30:00", -5.5), ("+89d59m24s", 89.99), ("90", 90)])
def test_dec_in_degrees_or_sexagesimal(text, degrees):
    assert parse_dec(text) == pytest.approx(degrees)


@pytest.mark.parametrize("text, arcsec", [("5", 5), ("5 arcsec", 5), ("2'", 120), ("1.5 arcmin", 90),
                                          ("1 deg", 3600), ('3"', 3), ("1e1", 10)])
def test_radius_with_units(text, arcsec):
    assert parse_radius(text) == pytest.approx(arcsec)


@pytest.mark.parametrize("call, text", [(parse_ra, "12:99:00"), (parse_ra, "abc"), (parse_dec, "91"),
                                        (parse_dec, "-90:30:00"), (parse_radius, "5 parsec"),
                                        (parse_radius, "-1"), (parse_ra, "1" * 100), (parse_ra, "nan")])
def test_bad_angles_are_refused_with_the_value(call, text):
    with pytest.raises(QueryError) as info:
        call(text)
    assert repr(text[:60])[:-1] in str(info.value)


def test_class_search_pages_and_downloads(portal, portal_alerts):
    df = portal_alerts.select(["alert_id", "snia_prob", "xm_vsx_name"]).to_pandas()
    expected = set(df[(df.snia_prob > 0.5) & df.xm_vsx_name.isna()].alert_id)
    seen, url = [], "/portal/search?class=SN+Ia+candidate&limit=40&go=1"
    while url:
        html = portal.get(url).text
        seen += [int(a) for a in cells(html, "results", 1)]
        found = re.search(r"id='next-page' href='([^']+)'", html)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen))
    params = {"class": "SN Ia candidate", "limit": 500}
    as_json = portal.get("/portal/search.json", params=params)
    as_csv = pd.read_csv(io.BytesIO(portal.get("/portal/search.csv", params=params).content))
    as_parquet = pq.read_table(io.BytesIO(portal.get("/portal/search.parquet", params=params).content))
    assert as_json.headers["content-disposition"].startswith("attachment")
    assert {r["alert_id"] for r in as_json.json()} == set(as_csv.alert_id) == \
        set(as_parquet.column("alert_id").to_pylist()) == expected


def test_topic_search_is_the_topic_filter(portal, portal_alerts):
    df = portal_alerts.select(["alert_id", "snia_prob", "ndethist"]).to_pandas()
    expected = set(df[(df.snia_prob > 0.5) & (df.ndethist >= 2)].alert_id)
    html = portal.get("/portal/search", params={"topic": "t.sn", "limit": 500, "go": 1}).text
    assert {int(a) for a in cells(html, "results", 1)} == expected


@pytest.mark.parametrize("params, message", [
    ({"ra": "12:99:00", "dec": "1"}, "cannot read ra"),
    ({"ra": "1", "dec": "95"}, "outside [-90, 90]"),
    ({"ra": "1", "dec": "1", "radius": "50 deg"}, "too large"),
    ({"ra": "1"}, "needs both ra and dec"),
    ({"object_id": "ZTF'; DROP TABLE fink_like_alerts; --"}, "invalid object id"),
    ({"object_id": "x" * 200}, "200 characters"),
    ({"class": "dragons"}, "unknown class"),
    ({"topic": "nope"}, "unknown topic"),
    ({"since": "yesterday"}, "cannot read date"),
    ({"since": "60010", "until": "60000"}, "is after until"),
])
def test_bad_searches_say_what_is_wrong(portal, params, message):
    got = portal.get("/portal/search", params=params | {"go": 1})
    assert got.status_code == 400
    error = re.search(r"id='search-error'>([^<]*)<", got.text).group(1)
    assert message in error.replace("&#x27;", "'").replace("&quot;", '"')
    assert len(error) < 400


@pytest.mark.parametrize("url", ["/portal/objects/ZTF00nothere", "/portal/objects/a_b", "/portal/objects/" + "y" * 3000,
                                 "/portal/search?limit=100000", "/portal/search.xls", "/portal/search?radius=" + "9" * 300])
def test_bad_pages_are_4xx(portal, url):
    got = portal.get(url)
    assert 400 <= got.status_code < 500 and len(got.text) < 5000


def night(mjd: float) -> str:
    return (dt.datetime(1858, 11, 17) + dt.timedelta(days=float(mjd))).strftime("%Y%m%d")


def test_streams_page_counts(portal, portal_settings, portal_alerts):
    from fink_like.jobs.lake import write_partitioned
    from fink_like.surveys.canonical import QUARANTINE_SCHEMA

    write_partitioned(portal_alerts, portal_settings.lake_path("science"), "part-b0-p0.parquet")
    reasons = ["truncated", "bad_schema_id", "truncated"]
    quarantine = pa.Table.from_pylist([{"reason": r, "night": "20250906", "value": b"x"} for r in reasons],
                                      schema=QUARANTINE_SCHEMA)
    write_partitioned(quarantine, portal_settings.lake_path("quarantine"), "part-b0-p0.parquet")
    df = portal_alerts.select(["snia_prob", "ndethist", "night", "mjd", "xm_vsx_name"]).to_pandas()
    html = portal.get("/portal/streams").text
    nights = cells(html, "topic-volumes", 0)
    sn = df[(df.snia_prob > 0.5) & (df.ndethist >= 2)].night.value_counts()
    young = df[df.ndethist <= 3].night.value_counts()
    assert [int(v) for v in cells(html, "topic-volumes", 1)] == [int(sn.get(n, 0)) for n in nights]
    assert [int(v) for v in cells(html, "topic-volumes", 2)] == [int(young.get(n, 0)) for n in nights]
    assert cells(html, "topics", 4) == [str(len(df[(df.snia_prob > 0.5) & (df.ndethist >= 2)])),
                                        str(len(df[df.ndethist <= 3]))]
    klass = np.where(df.xm_vsx_name.notna(), "Known variable star",
                     np.where(df.snia_prob > 0.5, "SN Ia candidate", "Unclassified"))
    per_night = Counter(night(m) for m in df.mjd)
    rows = dict(zip(cells(html, "nights", 0), cells(html, "nights", 1)))
    assert {n: int(v) for n, v in rows.items() if int(v)} == dict(per_night)
    quarantined = dict(zip(cells(html, "nights", 0), cells(html, "nights", 3)))
    assert quarantined["20250906"] == "truncated: 2, bad_schema_id: 1"
    classes = dict(zip(cells(html, "nights", 0), cells(html, "nights", 4)))
    busiest = max(per_night, key=per_night.get)
    expected = Counter(k for k, m in zip(klass, df.mjd) if night(m) == busiest)
    assert classes[busiest] == ", ".join(f"{k}: {n}" for k, n in expected.most_common())


def test_report_page_links_to_objects(portal, portal_settings):
    from fink_like.jobs.run_report import latency_histogram, score_summary

    latencies = [0.4, 1.5, 1.7, 3.0, 12.0, 400.0]
    summary = {"alerts_replayed": 6, "archive_rows": 6, "topics": {"t.sn": 2, "t.young": 1},
               "stages": {"consumed": 6, "raw": 6, "archived": 6, "latency_seconds": {"p50": 2.3, "p95": 303.0}},
               "scores": score_summary({"snia_prob": [0.1, 0.6, 0.95]}),
               "latency_histogram": latency_histogram(latencies)}
    assert summary["latency_histogram"]["counts"] == [1, 0, 2, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]
    path = Path(portal_settings.archive.path).parent / "report" / "summary.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(summary))
    html = portal.get("/portal/report").text
    assert html.count('class="bar"') == 6 + 2 + 14 + 10  # stages, topics, latency buckets, score bins
    assert cells(html, "topic-counts", 1) == ["2", "1"]
    links = re.findall(r"href='(/portal/objects/[^']+)'", html)
    assert links and all(portal.get(link).status_code == 200 for link in links)
