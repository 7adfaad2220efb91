"""The REST API over an archive of real alerts: answers, pagination, cutouts, bad input."""

from __future__ import annotations

import gzip
import io
import random
import warnings
from urllib.parse import quote

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from PIL import Image

from fink_like.archive import model
from fink_like.surveys import decode_packet


def test_object_light_curve(client, api_alerts):
    df = api_alerts.select(["object_id", "alert_id", "mjd"]).to_pandas()
    oid = df.object_id.value_counts().index[0]
    body = client.get(f"/objects/{oid}").json()
    expected = df[df.object_id == oid].sort_values(["mjd", "alert_id"]).alert_id.tolist()
    assert [r["alert_id"] for r in body["results"]] == expected
    assert body["count"] == len(expected) and body["next_cursor"] is None


def test_cone_matches_brute_force(client, api_alerts):
    ra, dec = np.asarray(api_alerts.column("ra")), np.asarray(api_alerts.column("dec"))
    centre = SkyCoord(ra[10] * u.deg, dec[10] * u.deg)
    sep = SkyCoord(ra * u.deg, dec * u.deg).separation(centre).arcsec
    body = client.get("/cone", params={"ra": ra[10], "dec": dec[10], "radius": 7200, "limit": 500}).json()
    expected = set(np.asarray(api_alerts.column("alert_id"))[sep <= 7200].tolist())
    assert {r["alert_id"] for r in body["results"]} == expected


def test_class_pages_cover_everything_once(client, api_alerts):
    probs = np.asarray(api_alerts.column("snia_prob"))
    mjd = np.asarray(api_alerts.column("mjd"))
    expected = np.asarray(api_alerts.column("alert_id"))[probs > 0.5]
    seen, cursor = [], None
    while True:
        params = {"limit": 13} | ({"cursor": cursor} if cursor else {})
        body = client.get("/classes/SN Ia candidate", params=params).json()
        seen += [r["alert_id"] for r in body["results"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(expected.tolist()) and len(seen) == len(set(seen))
    order = dict(zip(np.asarray(api_alerts.column("alert_id")).tolist(), mjd.tolist()))
    assert [order[a] for a in seen] == sorted((order[a] for a in seen), reverse=True)


def test_latest(client, api_alerts):
    body = client.get("/latest", params={"limit": 5}).json()
    newest = np.sort(np.asarray(api_alerts.column("mjd")))[::-1][:5]
    assert [r["mjd"] for r in body["results"]] == pytest.approx(newest.tolist())


@pytest.mark.parametrize("row", [0, -1])  # a ZTF alert (gzipped stamps) and a Rubin one (plain)
def test_cutouts_as_fits_and_png(client, api_alerts, row):
    row = row % api_alerts.num_rows
    aid = api_alerts.column("alert_id")[row].as_py()
    adapter, record = decode_packet(api_alerts.column("packet")[row].as_py())
    stamp = adapter.cutouts(record)["difference"]
    plain = gzip.decompress(stamp) if stamp[:2] == b"\x1f\x8b" else stamp
    got = client.get(f"/alerts/{aid}/cutouts/difference.fits")
    assert got.status_code == 200 and got.headers["content-type"] == "application/fits"
    assert got.content == plain
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fits.verify.VerifyWarning)  # ZTF's SIMPLE card is padded oddly
        shape = fits.open(io.BytesIO(plain))[0].data.shape
    png = client.get(f"/alerts/{aid}/cutouts/difference.png")
    image = Image.open(io.BytesIO(png.content))
    assert png.headers["content-type"] == "image/png" and image.mode == "L"
    assert image.size[0] % shape[1] == 0 and image.size[1] % shape[0] == 0


def test_openapi_lists_every_endpoint(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/objects/{object_id}", "/cone", "/classes/{name}", "/latest",
            "/alerts/{alert_id}/cutouts/{stamp}"} <= set(paths)


BAD = [
    "/cone?ra=10&dec=91&radius=5", "/cone?ra=10&dec=-90.5&radius=5", "/cone?ra=10&dec=0&radius=-1",
    "/cone?ra=10&dec=0&radius=1e9", "/cone?ra=nan&dec=0&radius=1", "/cone?ra=10&dec=0",
    "/cone?ra=x&dec=0&radius=1", "/cone?ra=1&dec=0&radius=1&since=notadate",
    "/cone?ra=1&dec=0&radius=1&since=60010&until=60000", "/cone?ra=inf&dec=0&radius=1",
    "/latest?limit=0", "/latest?limit=-3", "/latest?limit=501", "/latest?limit=2.5", "/latest?limit=abc",
    "/latest?cursor=%25%25", "/classes/dragons", "/classes/SN%20Ia%20candidate?since=bad",
    "/objects/a_b", "/objects/" + "x" * 100, "/objects/%00", "/alerts/-1/cutouts/science.fits",
    "/alerts/abc/cutouts/science.fits", "/alerts/1/cutouts/sky.png", "/alerts/1/cutouts/science.jpg",
    "/alerts/1/cutouts/science.fits", "/alerts/99999999999999999999999/cutouts/science.png",
]


@pytest.mark.parametrize("url", BAD)
def test_bad_input_is_a_clear_4xx(client, url):
    got = client.get(url)
    assert 400 <= got.status_code < 500, (url, got.status_code, got.text)
    assert got.json()["detail"]


def test_fuzzed_parameters_never_give_a_5xx(client):
    rnd = random.Random(42)
    junk = ["", "-", "1e400", "-1e400", "NaN", "0x10", "∞", "'; drop", "%", "999999999999", "-0",
            "2024-13-45", "60000.5", "12:00", "\x00", "None", "[]", "1" * 400]
    endpoints = [("/cone", ["ra", "dec", "radius", "since", "until", "limit", "cursor"]),
                 ("/latest", ["limit", "cursor"]), ("/classes/Blazar", ["since", "until", "limit", "cursor"])]
    for _ in range(150):
        path, names = rnd.choice(endpoints)
        params = {n: rnd.choice(junk) for n in names if rnd.random() < 0.7}
        if path == "/cone":
            params = {"ra": "1", "dec": "1", "radius": "1"} | params
        got = client.get(path, params=params)
        assert got.status_code < 500, (path, params, got.text)
    for name in junk + list(model.CLASSES):
        quoted = quote(name, safe="")
        assert client.get(f"/classes/{quoted}").status_code < 500
        assert client.get(f"/objects/{quoted}").status_code < 500
