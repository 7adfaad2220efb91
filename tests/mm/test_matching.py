"""Live and retroactive matching equal a brute-force computation; retractions stop matches.

Sky maps are generated here with healpy: a Gaussian probability blob on a flat nested
map, whose faint pixels are merged four by four into their parent cell, so the map is
multi-order like an LVK one. The brute force works on the flat map, pixel by pixel.
"""

from __future__ import annotations

import math

import healpy as hp
import numpy as np
import pyarrow as pa
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord

from fink_like.archive.writer import ArchiveWriter
from fink_like.mm.ingest import NoticeIngestor
from fink_like.mm.regions import Circle, Ellipse, SkyMap
from fink_like_mm.module import MmModule

NSIDE = 64
T0 = 60676.125  # 2025-01-01T03:00:00Z, the time of lvk_notice


def gaussian_map(ra0: float, dec0: float, sigma_deg: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(uniq, density) of a multi-order map, and the flat density per nested pixel it equals."""
    npix = hp.nside2npix(NSIDE)
    vec = np.array(hp.pix2vec(NSIDE, np.arange(npix), nest=True))
    centre = hp.ang2vec(ra0, dec0, lonlat=True)
    dist = np.arccos(np.clip(centre @ vec, -1, 1))
    prob = np.exp(-0.5 * (dist / math.radians(sigma_deg)) ** 2) + 1e-12
    prob /= prob.sum()
    density = prob / hp.nside2pixarea(NSIDE)
    # merge faint groups of four (far outside any credible region) into their parent cell
    groups = density.reshape(-1, 4)
    faint = groups.max(axis=1) < density.max() * 1e-4
    flat = density.copy().reshape(-1, 4)
    flat[faint] = groups[faint].mean(axis=1, keepdims=True)
    order = int(math.log2(NSIDE))
    parents = np.flatnonzero(faint)
    children = np.flatnonzero(~faint)[:, None] * 4 + np.arange(4)
    uniq = np.concatenate([4 * 4 ** (order - 1) + parents, 4 * 4 ** order + children.ravel()])
    dens = np.concatenate([groups[faint].mean(axis=1), density.reshape(-1, 4)[~faint].ravel()])
    return uniq, dens, flat.ravel()


def brute_force(flat: np.ndarray, ra, dec, mjd, before: float, after: float, credible=0.9, t0=T0):
    """Rows inside the credible region and the time window (flat map, pixel by pixel)."""
    prob = flat * hp.nside2pixarea(NSIDE)
    order = np.argsort(-flat, kind="stable")
    before_p = np.cumsum(prob[order]) - prob[order]
    inside = np.zeros(len(flat), dtype=bool)
    inside[order[before_p < credible]] = True
    pix = hp.ang2pix(NSIDE, ra, dec, nest=True, lonlat=True)
    timely = (mjd >= t0 - before) & (mjd <= t0 + after)
    return set(np.flatnonzero(inside[pix] & timely).tolist())


def alerts_around(ra0, dec0, n=3000, spread_deg=25.0, seed=0) -> pa.Table:
    rng = np.random.default_rng(seed)
    centre = SkyCoord(ra0 * u.deg, dec0 * u.deg)
    pos = centre.directional_offset_by(rng.uniform(0, 360, n) * u.deg,
                                       np.degrees(np.arccos(rng.uniform(math.cos(math.radians(spread_deg)), 1, n)))
                                       * u.deg)
    mjd = T0 + rng.uniform(-3, 20, n)
    ids = np.arange(n) + 10_000
    return pa.table({
        "survey": ["ztf"] * n, "alert_id": pa.array(ids, pa.int64()), "object_id": [f"OBJ{i}" for i in ids],
        "source_id": pa.array(ids, pa.int64()), "mjd": mjd, "ra": pos.ra.deg % 360.0, "dec": pos.dec.deg,
        "night": ["20250101"] * n})


@pytest.fixture
def settings(make_settings):
    return make_settings()


def module_for(settings) -> MmModule:
    module = MmModule()
    module.load({"store": {"path": settings.mm.store.path}})
    return module


@pytest.mark.parametrize("ra0, dec0", [(359.0, 20.0), (60.0, 87.0)], ids=["across-ra0", "around-pole"])
def test_live_and_retroactive_sky_map_matches_equal_brute_force(settings, ra0, dec0, lvk_notice):
    uniq, density, flat = gaussian_map(ra0, dec0, 4.0)
    alerts = alerts_around(ra0, dec0)
    ra, dec, mjd = (alerts[c].to_numpy() for c in ("ra", "dec", "mjd"))
    window = settings.mm.windows["GW"]
    expected = brute_force(flat, ra, dec, mjd, window.before_days, window.after_days)
    pix = hp.ang2pix(NSIDE, ra, dec, nest=True, lonlat=True)
    assert 100 < len(expected) < 2500
    if dec0 > 80:
        assert any(dec[i] > 89 for i in expected) and len({int(ra[i] // 90) for i in expected}) == 4
    else:
        assert any(ra[i] > 359.5 for i in expected) and any(ra[i] < 0.5 for i in expected)

    # retroactive: the alerts are archived first, then the notice arrives
    ArchiveWriter(settings).write(alerts)
    ingestor = NoticeIngestor(settings, retro=True, publish=False)
    assert ingestor.ingest(lvk_notice(uniq, density), {"topic": "test"}) == [("lvk-S250101ab", "new")]
    retro = {m["alert_id"] - 10_000 for m in ingestor.store.matches("lvk-S250101ab")}
    assert retro == expected
    assert ingestor.report.retro_matches == {"lvk-S250101ab": len(expected)}

    # live: the same alerts streamed after the notice
    out = module_for(settings).process(alerts.select(list(MmModule.inputs)))
    live = {i for i, e in enumerate(out["mm_event_id"].to_pylist()) if e == "lvk-S250101ab"}
    assert live == expected
    got = np.array([out["mm_prob_density"][i].as_py() for i in sorted(expected)])
    want = flat[pix[sorted(expected)]] / (flat.sum() * hp.nside2pixarea(NSIDE))
    assert got == pytest.approx(want, rel=1e-9)
    assert [out["mm_dt_days"][i].as_py() for i in sorted(expected)] == pytest.approx(mjd[sorted(expected)] - T0)
    assert out["mm_messenger"].to_pylist().count("GW") == len(expected)


def test_circle_and_ellipse_equal_brute_force():
    alerts = alerts_around(359.9, -10.0, n=4000, spread_deg=3.0, seed=3)
    ra, dec = alerts["ra"].to_numpy(), alerts["dec"].to_numpy()
    sky = SkyCoord(ra * u.deg, dec * u.deg)
    centre = SkyCoord(359.9 * u.deg, -10.0 * u.deg)
    sep = centre.separation(sky).deg
    assert set(np.flatnonzero(Circle(359.9, -10.0, 1.2).contains(ra, dec))) == set(np.flatnonzero(sep <= 1.2))
    # ellipse: tangent-plane radius tan(sep) at position angle theta, against the rotated axes
    a, b, pa_deg = 2.0, 0.7, 30.0
    theta = centre.position_angle(sky).rad - math.radians(pa_deg)
    r = np.tan(np.radians(sep))
    inside = (r * np.cos(theta) / math.tan(math.radians(a))) ** 2 + \
        (r * np.sin(theta) / math.tan(math.radians(b))) ** 2 <= 1
    got = Ellipse(359.9, -10.0, a, b, pa_deg).contains(ra, dec)
    assert 200 < inside.sum() < 3000
    assert set(np.flatnonzero(got)) == set(np.flatnonzero(inside))


def test_index_pixels_cover_the_region():
    uniq, density, _ = gaussian_map(60.0, 87.0, 4.0)
    region = SkyMap(uniq, density)
    alerts = alerts_around(60.0, 87.0, n=3000, seed=5)
    ra, dec = alerts["ra"].to_numpy(), alerts["dec"].to_numpy()
    covered = set(region.index_pixels(128).tolist())
    for kind in (region, Circle(0.2, 45.0, 2.0), Ellipse(359.5, -30.0, 3.0, 1.0, 45.0)):
        pixels = set(kind.index_pixels(128).tolist()) if kind is not region else covered
        inside = kind.contains(ra, dec)
        assert set(hp.ang2pix(128, ra[inside], dec[inside], nest=True, lonlat=True).tolist()) <= pixels


def test_moc_of_the_credible_region_has_its_area():
    uniq, density, _ = gaussian_map(200.0, -40.0, 3.0)
    region = SkyMap(uniq, density)
    moc = region.moc()
    assert moc.sky_fraction * 41252.96125 == pytest.approx(region.area_deg2, rel=1e-9)
    # a 2-D Gaussian holds 90% within sqrt(2 ln 10) sigma
    assert region.area_deg2 == pytest.approx(math.pi * 2 * math.log(10) * 3.0 ** 2, rel=0.05)
    ra, dec = np.array([200.0, 200.0]), np.array([-40.0, -55.0])
    assert moc.contains_lonlat(ra * u.deg, dec * u.deg).tolist() == region.contains(ra, dec).tolist()


def test_retraction_removes_future_matches_and_keeps_past_ones(settings, lvk_notice):
    uniq, density, _ = gaussian_map(120.0, 10.0, 3.0)
    alerts = alerts_around(120.0, 10.0, n=500, spread_deg=3.0, seed=9)
    alerts = alerts.set_column(alerts.column_names.index("mjd"), "mjd", pa.array(np.full(500, T0 + 1.0)))
    ingestor = NoticeIngestor(settings, retro=False)
    ingestor.ingest(lvk_notice(uniq, density), {"topic": "test"})
    module = module_for(settings)
    first = module.process(alerts.select(list(MmModule.inputs)))
    matched = first["mm_event_id"].drop_null()
    assert len(matched) > 100
    assert ingestor.ingest(lvk_notice(uniq, density, alert_type="RETRACTION"), {"topic": "test"}) == [
        ("lvk-S250101ab", "retracted")]
    again = module.process(alerts.select(list(MmModule.inputs)))
    assert again["mm_event_id"].null_count == 500
    record = ingestor.store.get("lvk-S250101ab")
    assert record.record["status"] == "retracted" and record.record["version"] == 2
    assert len(ingestor.store.matches("lvk-S250101ab")) == len(matched)   # live matches before it stay
    # a late update after the retraction does not bring the event back
    assert ingestor.ingest(lvk_notice(uniq, density, alert_type="UPDATE"), {"topic": "test"}) == [
        ("lvk-S250101ab", "ignored")]
    assert module.process(alerts.select(list(MmModule.inputs)))["mm_event_id"].null_count == 500


def test_an_update_replaces_the_region(settings, lvk_notice):
    ingestor = NoticeIngestor(settings, retro=False)
    first = gaussian_map(120.0, 10.0, 3.0)
    ingestor.ingest(lvk_notice(*first[:2]), {"topic": "test"})
    moved = gaussian_map(300.0, -20.0, 3.0)
    assert ingestor.ingest(lvk_notice(*moved[:2], alert_type="UPDATE"), {"topic": "test"}) == [
        ("lvk-S250101ab", "updated")]
    out = module_for(settings).process(pa.table({
        "alert_id": [1, 2], "object_id": ["a", "b"], "mjd": [T0 + 1, T0 + 1], "ra": [120.0, 300.0],
        "dec": [10.0, -20.0]}))
    assert out["mm_event_id"].to_pylist() == [None, "lvk-S250101ab"]
