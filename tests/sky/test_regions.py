"""Cones and MOCs against brute force, across RA = 0 and near both poles."""

import healpy as hp
import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord

from fink_like.errors import ConfigError
from fink_like.sky import disc_pixels, in_any_cone, load_moc, pairs_within, separation_deg
from fink_like.sky.moc import SkyRegion
from fink_like.sky.skymap import ProbabilityMap


def points_around(ra0, dec0, n=4000, spread_deg=2.0, seed=3):
    """Random points within a few degrees of (ra0, dec0), drawn on the sphere (so across RA = 0 / poles)."""
    rng = np.random.default_rng(seed)
    centre = SkyCoord(ra0 * u.deg, dec0 * u.deg)
    moved = centre.directional_offset_by(rng.uniform(0, 360, n) * u.deg, rng.uniform(0, spread_deg, n) * u.deg)
    return moved.ra.deg, moved.dec.deg


HARD_PLACES = [(0.0, 0.0), (359.9, 30.0), (0.05, -45.0), (123.0, 89.7), (250.0, -89.8), (10.0, 89.99)]


@pytest.mark.parametrize("ra0, dec0", HARD_PLACES)
def test_cones_equal_astropy_separation(ra0, dec0):
    ra, dec = points_around(ra0, dec0)
    cones = np.array([[ra0, dec0, 1800.0], [(ra0 + 0.6) % 360, max(min(dec0 + 0.4, 90), -90), 900.0]])
    got = in_any_cone(ra, dec, cones)
    points = SkyCoord(ra * u.deg, dec * u.deg)
    want = np.zeros(len(ra), bool)
    for c_ra, c_dec, radius in cones:
        want |= points.separation(SkyCoord(c_ra * u.deg, c_dec * u.deg)).arcsec <= radius
    assert 50 < want.sum() < len(ra)  # both sides of the edge are exercised
    assert np.array_equal(got, want)


@pytest.mark.parametrize("ra0, dec0", HARD_PLACES)
def test_separation_and_covering_pixels(ra0, dec0):
    ra, dec = points_around(ra0, dec0)
    want = SkyCoord(ra * u.deg, dec * u.deg).separation(SkyCoord(ra0 * u.deg, dec0 * u.deg)).deg
    assert np.allclose(separation_deg(ra0, dec0, ra, dec), want, rtol=0, atol=1e-12)
    inside = want <= 1.0
    pixels = disc_pixels(128, ra0, dec0, 1.0)
    assert np.all(np.diff(pixels) > 0)
    assert set(hp.ang2pix(128, ra[inside], dec[inside], nest=True, lonlat=True).tolist()) <= set(pixels.tolist())


def test_pairs_within_give_the_separation():
    ra, dec = points_around(0.0, 0.0, n=300, spread_deg=0.001)
    pairs = pairs_within(ra[:1], dec[:1], ra, dec, 1.5)
    sep = SkyCoord(ra * u.deg, dec * u.deg).separation(SkyCoord(ra[0] * u.deg, dec[0] * u.deg)).arcsec
    assert sorted(j for _, j, _ in pairs) == sorted(np.nonzero(sep <= 1.5)[0].tolist())
    for _, j, s in pairs:
        assert s == pytest.approx(sep[j], abs=1e-3)


@pytest.mark.parametrize("ra0, dec0", HARD_PLACES)
def test_moc_equals_healpix_brute_force(ra0, dec0):
    ra, dec = points_around(ra0, dec0)
    # the cells of a few points at orders 6, 9 and 12, plus a range of cells at order 9
    cells = {}
    for order, picks in ((6, ra[:1]), (9, ra[1:4]), (12, ra[4:30])):
        idx = np.nonzero(np.isin(ra, picks))[0]
        cells[order] = hp.ang2pix(2**order, ra[idx], dec[idx], nest=True, lonlat=True).tolist()
    first9 = cells[9][0]
    text = " ".join(f"{o}/" + " ".join(map(str, sorted(set(c)))) for o, c in cells.items())
    text += f" 9/{first9 + 1}-{first9 + 3}"
    region = load_moc(text)
    want = np.zeros(len(ra), bool)
    for order, ipix in cells.items():
        want |= np.isin(hp.ang2pix(2**order, ra, dec, nest=True, lonlat=True), ipix)
    want |= np.isin(hp.ang2pix(2**9, ra, dec, nest=True, lonlat=True), range(first9 + 1, first9 + 4))
    assert want.sum() > 30 and not want.all()
    assert np.array_equal(region.contains(ra, dec), want)
    # the same region from its JSON form and from a file, and after pickling (executors)
    import pickle

    same = load_moc({str(o): c for o, c in cells.items()} | {})
    assert np.array_equal(same.contains(ra, dec) | np.isin(hp.ang2pix(2**9, ra, dec, nest=True, lonlat=True),
                                                         range(first9 + 1, first9 + 4)), want)
    assert np.array_equal(pickle.loads(pickle.dumps(region)).contains(ra, dec), want)


def test_moc_files(tmp_path):
    region = load_moc("5/100-103 7/2000")
    (tmp_path / "r.txt").write_text("5/100-103 7/2000\n")
    region.moc.save(str(tmp_path / "r.fits"), format="fits")
    (tmp_path / "r.json").write_text('{"5": [100, 101, 102, 103], "7": [2000]}')
    for name in ("r.txt", "r.fits", "r.json"):
        assert load_moc(name, tmp_path).moc == region.moc, name


@pytest.mark.parametrize("source, fragment", [
    ("8/", "empty"),
    ({"8": []}, "empty"),
    ("30/1", "order 30 is outside 0..29"),
    ("3/768", "cell 3/768 does not exist"),
    ("12 8/1", "comes before any 'order/'"),
    ("8/abc", "not a cell number"),
    ("8/5-2", "reversed"),
    ("missing.fits", "does not exist"),
    ({"x": [1]}, "expected {order: [ipix, ...]}"),
    ("", "give an ASCII MOC"),
])
def test_bad_mocs_are_clear_errors(source, fragment, tmp_path):
    with pytest.raises(ConfigError) as info:
        load_moc(source, tmp_path)
    assert fragment in str(info.value)


def test_corrupt_moc_file(tmp_path):
    (tmp_path / "bad.fits").write_bytes(b"SIMPLE  = not a fits file at all")
    with pytest.raises(ConfigError, match="is not a valid MOC"):
        load_moc("bad.fits", tmp_path)


def test_empty_region_refused():
    from mocpy import MOC

    with pytest.raises(ConfigError, match="empty"):
        SkyRegion(MOC.new_empty(29))


def test_credible_region_of_a_multi_order_sky_map(tmp_path):
    """The 90% region of a probability sky map (UNIQ, PROBDENSITY), like a GW localisation."""
    from astropy.table import Table

    order, npix = 4, 12 * 4**4
    prob = np.full(npix, 1e-7)
    prob[[100, 101, 102, 103]] = [0.5, 0.3, 0.15, 0.05]
    prob /= prob.sum()
    table = Table({"UNIQ": 4 * 4**order + np.arange(npix), "PROBDENSITY": prob / (4 * np.pi / npix) / u.sr})
    table.meta.update({"PIXTYPE": "HEALPIX", "ORDERING": "NUNIQ", "COORDSYS": "C", "MOCORDER": order,
                       "INDXSCHM": "EXPLICIT"})
    table.write(tmp_path / "skymap.multiorder.fits")
    region = load_moc("skymap.multiorder.fits", tmp_path, probability=0.9)
    # brute force: the most probable cells until their cumulated probability reaches 0.9
    # (a cell is in when the probability of the cells before it is below 0.9)
    ranked = np.argsort(-prob, kind="stable")
    inside = ranked[np.cumsum(prob[ranked]) - prob[ranked] < 0.9]
    ra, dec = hp.pix2ang(2**order, np.arange(npix), nest=True, lonlat=True)
    assert sorted(inside.tolist()) == [100, 101, 102]
    assert np.array_equal(region.contains(ra, dec), np.isin(np.arange(npix), inside))
    # the same region as an event's sky map (one definition of a credible region)
    assert np.array_equal(ProbabilityMap.from_fits((tmp_path / "skymap.multiorder.fits").read_bytes()).contains(ra, dec),
                          region.contains(ra, dec))
    with pytest.raises(ConfigError, match="probability must be in"):
        load_moc("skymap.multiorder.fits", tmp_path, probability=1.5)
