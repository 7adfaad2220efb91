"""Watch lists by object, by cone and by HEALPix pixels, checked against astropy and healpy."""

import healpy as hp
import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord

from fink_like.errors import ConfigError
from fink_like.filters.watchlist import WatchList


@pytest.fixture(scope="module")
def alerts(shared_data):
    from fink_like.surveys.files import read_alert_files

    paths = sorted((shared_data / "ztf" / "alerts-4.02").glob("*.avro"))[:120]
    paths += sorted((shared_data / "lsst" / "alerts-9.0").glob("*.avro"))[:30]
    return read_alert_files(paths).select(["alert_id", "object_id", "ra", "dec"])


def test_objects_inline_and_from_file(alerts, tmp_path):
    ids = alerts["object_id"].to_pylist()
    chosen = sorted(set(ids[::17]))
    (tmp_path / "ids.csv").write_text("object_id\n" + "\n".join(chosen[1:]) + "\n")
    wl = WatchList.from_spec({"objects": chosen[:1], "objects_file": "ids.csv"}, tmp_path)
    got = {a for a, keep in zip(ids, wl.mask(alerts).to_pylist()) if keep}
    assert got == set(chosen)


def test_cones_match_astropy_separation(alerts, tmp_path):
    ra, dec = alerts["ra"].to_numpy(), alerts["dec"].to_numpy()
    # cones centred 2 arcsec away from a few alerts, radius 3" (inside) or 1" (outside)
    centres = SkyCoord(ra[::25] * u.deg, dec[::25] * u.deg).directional_offset_by(0 * u.deg, 2 * u.arcsec)
    radii = np.where(np.arange(len(centres)) % 2 == 0, 3.0, 1.0)
    lines = ["ra,dec,radius_arcsec"] + [f"{float(c.ra.deg)!r},{float(c.dec.deg)!r},{r}" for c, r in zip(centres, radii)]
    (tmp_path / "cones.csv").write_text("\n".join(lines) + "\n")
    wl = WatchList.from_spec({"cones_file": "cones.csv"}, tmp_path)
    points = SkyCoord(ra * u.deg, dec * u.deg)
    want = np.zeros(len(ra), bool)
    for c, r in zip(centres, radii):
        want |= points.separation(c).arcsec <= r
    assert want.sum() >= 2
    assert np.array_equal(wl.mask(alerts).to_numpy(zero_copy_only=False), want)


def test_multi_order_pixels(alerts, tmp_path):
    ra, dec = alerts["ra"].to_numpy(), alerts["dec"].to_numpy()
    p6 = hp.ang2pix(2**6, ra, dec, nest=True, lonlat=True)
    p11 = hp.ang2pix(2**11, ra, dec, nest=True, lonlat=True)
    (tmp_path / "moc.yaml").write_text(f"6: [{int(p6[0])}]\n11: [{int(p11[40])}, {int(p11[80])}]\n")
    wl = WatchList.from_spec({"pixels_file": "moc.yaml"}, tmp_path)
    want = (p6 == p6[0]) | np.isin(p11, [p11[40], p11[80]])
    assert np.array_equal(wl.mask(alerts).to_numpy(zero_copy_only=False), want)
    inline = WatchList.from_spec({"pixels": [f"6/{p6[0]}", f"11/{p11[40]}", f"11/{p11[80]}"]})
    assert inline.mask(alerts).equals(wl.mask(alerts))


@pytest.mark.parametrize("spec, fragment", [
    ({}, "empty"),
    ({"object": ["x"]}, "unknown key(s) object"),
    ({"cones": [{"ra": 400, "dec": 0, "radius_arcsec": 1}]}, "0 <= ra < 360"),
    ({"cones": [[1, 2]]}, "give ra, dec"),
    ({"pixels": ["8-12"]}, "order/ipix"),
    ({"pixels": ["1/48"]}, "ipix < 12*4**order"),
    ({"cones_file": "nope.csv"}, "cannot be read"),
])
def test_bad_watch_lists(spec, fragment, tmp_path):
    with pytest.raises(ConfigError) as info:
        WatchList.from_spec(spec, tmp_path)
    assert fragment in str(info.value)
