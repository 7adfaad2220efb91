"""The xmatch module against independent astropy matches over the full catalogues."""

from __future__ import annotations

import pickle
from pathlib import Path

import astropy.units as u
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from astropy.coordinates import SkyCoord, search_around_sky

from fink_like.config import load_settings
from fink_like.errors import PluginError
from fink_like_xmatch.index import HealpixIndex
from fink_like_xmatch.catalogs import CatalogSpec
from fink_like_xmatch.module import XmatchModule

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def default_params(shared_data, tmp_path_factory):
    """The xmatch params shipped in conf/local.yaml, paths pointed at the shared data."""
    spec = next(m for m in load_settings(ROOT / "conf" / "local.yaml", env={}).science.modules
                if m.name == "xmatch")
    params = dict(spec.params, cache_dir=str(tmp_path_factory.mktemp("xmatch-cache")))

    def fix(path):
        return str(shared_data / Path(path).relative_to("../shared/data"))
    params["catalogs"] = [dict(c, path=[fix(p) for p in c["path"]] if isinstance(c["path"], list)
                               else fix(c["path"])) for c in spec.params["catalogs"]]
    return params


@pytest.fixture(scope="module")
def xmatch(default_params):
    module = XmatchModule()
    module.load(default_params)
    return module


@pytest.fixture(scope="module")
def all_real_alerts(shared_data):
    from fink_like.science.samples import real_sample

    return real_sample(shared_data, per_folder=150)


def brute_force(ra, dec, cat_ra, cat_dec, radius):
    """(index, sep arcsec) of the nearest row within radius: astropy search over every row."""
    alerts = SkyCoord(ra * u.deg, dec * u.deg)
    catalog = SkyCoord(cat_ra * u.deg, cat_dec * u.deg)
    ia, ic, sep, _ = search_around_sky(alerts, catalog, radius * u.arcsec)
    best = pd.DataFrame({"a": ia, "c": ic, "s": sep.arcsec}).sort_values(["a", "s", "c"]).groupby("a").first()
    index = np.full(len(ra), -1)
    seps = np.full(len(ra), np.nan)
    index[best.index.to_numpy()] = best["c"].to_numpy()
    seps[best.index.to_numpy()] = best["s"].to_numpy()
    return index, seps


def read_plain(entry) -> pd.DataFrame:
    """The catalogue read independently of the module (pandas/astropy), one frame."""
    paths = entry["path"] if isinstance(entry["path"], list) else [entry["path"]]
    frames = []
    for path in paths:
        if path.endswith(".parquet"):
            frames.append(pd.read_parquet(path))
        elif path.endswith(".fits"):
            from astropy.table import Table

            table = Table.read(path)
            frames.append(pd.DataFrame({c: np.asarray(table[c]).astype(str) if table[c].dtype.kind == "S"
                                        else np.asarray(table[c]).astype(float)
                                        for c in (entry["ra_col"], entry["dec_col"], entry.get("name_col"),
                                                  entry.get("class_col")) if c}))
        else:
            frame = pd.read_csv(path, skipinitialspace=True, dtype=str)
            frame.columns = [c.strip() for c in frame.columns]
            coords = SkyCoord(frame[entry["ra_col"]], frame[entry["dec_col"]], unit=(u.hourangle, u.deg))
            frame[entry["ra_col"]], frame[entry["dec_col"]] = coords.ra.deg, coords.dec.deg
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def expected_labels(entry, frame, index):
    def clean(value):
        text = None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value).strip()
        return None if text in (None, "", "None", "nan") else text

    names = entry.get("name_col")
    names = [names] if isinstance(names, str) else names
    out_names, out_classes = [], []
    for i in index:
        if i < 0:
            out_names.append(None)
            out_classes.append(None)
            continue
        row = frame.iloc[i]
        if names:
            out_names.append(next((clean(row[n]) for n in names if clean(row[n])), None))
        else:
            out_names.append(f"{entry['name']}#{i}")
        out_classes.append(clean(row[entry["class_col"]]) if entry.get("class_col") else None)
    return out_names, out_classes


@pytest.fixture(scope="module")
def plain_catalogs(default_params):
    return {entry["name"]: read_plain(entry) for entry in default_params["catalogs"]}


def check_against_brute_force(xmatch, default_params, plain_catalogs, ra, dec):
    out = xmatch.process(pa.table({"ra": ra, "dec": dec}))
    matched = 0
    for entry in default_params["catalogs"]:
        frame = plain_catalogs[entry["name"]]
        index, seps = brute_force(ra, dec, frame[entry["ra_col"]].to_numpy(float),
                                  frame[entry["dec_col"]].to_numpy(float), entry["radius_arcsec"])
        names, classes = expected_labels(entry, frame, index)
        prefix = f"xm_{entry['name']}_"
        assert out[prefix + "name"].to_pylist() == names, entry["name"]
        assert out[prefix + "class"].to_pylist() == classes, entry["name"]
        got = np.array(out[prefix + "sep"].to_pylist(), dtype=float)
        np.testing.assert_allclose(got, seps, rtol=1e-6, atol=1e-6, equal_nan=True)
        matched += int((index >= 0).sum())
    return out, matched


def test_real_alerts_match_like_a_search_over_the_full_catalogues(xmatch, default_params, plain_catalogs,
                                                                   all_real_alerts):
    ra = all_real_alerts["ra"].to_numpy()
    dec = all_real_alerts["dec"].to_numpy()
    _, matched = check_against_brute_force(xmatch, default_params, plain_catalogs, ra, dec)
    assert matched > 10  # real alerts do sit on catalogued sources


def test_synthetic_alerts_near_vsx_stars(xmatch, default_params, plain_catalogs, shared_data):
    vsx = pq.read_table(shared_data / "catalogs" / "vsx.parquet").to_pandas()
    rng = np.random.default_rng(7)
    rows = rng.choice(len(vsx), 300, replace=False)
    stars = SkyCoord(vsx["RAJ2000"].to_numpy()[rows] * u.deg, vsx["DEJ2000"].to_numpy()[rows] * u.deg)
    moved = stars.directional_offset_by(rng.uniform(0, 360, 300) * u.deg, rng.uniform(0, 3.0, 300) * u.arcsec)
    _, matched = check_against_brute_force(xmatch, default_params, plain_catalogs, moved.ra.deg, moved.dec.deg)
    assert matched >= 150  # most moved stars stay within VSX's 1.5 arcsec
    # one alert exactly on a known star: VSX row 1000 (type M)
    exact = xmatch.process(pa.table({"ra": [vsx["RAJ2000"][1000]], "dec": [vsx["DEJ2000"][1000]]}))
    assert exact["xm_vsx_name"].to_pylist() == ["vsx#1000"]
    assert exact["xm_vsx_class"].to_pylist() == [vsx["VType"][1000].strip()]
    assert exact["xm_vsx_sep"].to_pylist() == [0.0]


@pytest.mark.parametrize("radius", [3.0, 3600.0])  # neighbour pixels / disc query
def test_ra_wrap_and_poles(tmp_path, radius):
    rng = np.random.default_rng(3)
    ra = np.concatenate([rng.uniform(359.99, 360.01, 1000) % 360, rng.uniform(0, 360, 1000),
                         rng.uniform(0, 360, 1000)])
    dec = np.concatenate([rng.uniform(-0.01, 0.01, 1000), rng.uniform(89.99, 90, 1000),
                          rng.uniform(-90, -89.99, 1000)])
    path = tmp_path / "edge.parquet"
    pq.write_table(pa.table({"ra": ra, "dec": dec, "id": [f"s{i}" for i in range(len(ra))]}), path)
    module = XmatchModule()
    module.load({"cache_dir": str(tmp_path / "cache"), "catalogs": [
        {"name": "edge", "path": str(path), "ra_col": "ra", "dec_col": "dec", "name_col": "id",
         "radius_arcsec": radius}]})
    alerts_ra = np.concatenate([rng.uniform(359.99, 360.01, 100) % 360, rng.uniform(0, 360, 200)])
    alerts_dec = np.concatenate([rng.uniform(-0.01, 0.01, 100), rng.uniform(89.99, 90, 100),
                                 rng.uniform(-90, -89.99, 100)])
    out = module.process(pa.table({"ra": alerts_ra, "dec": alerts_dec}))
    alerts = SkyCoord(alerts_ra * u.deg, alerts_dec * u.deg)
    catalog = SkyCoord(ra * u.deg, dec * u.deg)
    seps = alerts[:, None].separation(catalog[None, :]).arcsec  # every pair: true brute force
    nearest = seps.argmin(axis=1)
    within = seps[np.arange(len(alerts)), nearest] <= radius
    assert within.sum() > 250
    assert out["xm_edge_name"].to_pylist() == [f"s{i}" if w else None for i, w in zip(nearest, within)]
    np.testing.assert_allclose(np.array(out["xm_edge_sep"].to_pylist(), float),
                               np.where(within, seps[np.arange(len(alerts)), nearest], np.nan),
                               rtol=1e-6, atol=1e-6, equal_nan=True)


def test_index_is_built_once_and_keyed_by_content(tmp_path):
    path = tmp_path / "cat.csv"
    path.write_text("ra,dec,name\n10.0,20.0,a\n10.0,20.001,b\n")
    spec = CatalogSpec.from_params({"name": "tiny", "path": str(path), "ra_col": "ra", "dec_col": "dec",
                                    "name_col": "name", "radius_arcsec": 2})
    first = HealpixIndex.open(spec, tmp_path / "cache")
    stamp = (first.folder / "coords.npy").stat().st_mtime_ns
    again = HealpixIndex.open(spec, tmp_path / "cache")
    assert again.folder == first.folder and (again.folder / "coords.npy").stat().st_mtime_ns == stamp
    path.write_text("ra,dec,name\n10.0,20.0,a\n")
    changed = HealpixIndex.open(spec, tmp_path / "cache")
    assert changed.folder != first.folder and changed.rows == 1
    positions, seps = first.match(np.array([10.0, 50.0, np.nan]), np.array([20.0005, 0.0, 0.0]), 2.0)
    assert positions[1:].tolist() == [-1, -1] and np.isnan(seps[1:]).all()
    assert first.labels["name"][int(positions[0])].as_py() == "a"


def test_module_pickles_and_reopens_its_indexes(xmatch):
    clone = pickle.loads(pickle.dumps(xmatch))
    batch = pa.table({"ra": [0.3126, 10.0], "dec": [47.6859, 10.0]})
    assert clone.process(batch) == xmatch.process(batch)
    assert clone.model_hash == xmatch.model_hash
    assert xmatch.process(batch)["xm_4lac_name"].to_pylist() == ["4FGL J0001.2+4741", None]


@pytest.mark.parametrize("entry, message", [
    ({"name": "Bad Name"}, "name must match"),
    ({"name": "c"}, "missing path, ra_col, dec_col, radius_arcsec"),
    ({"name": "c", "path": "x.parquet", "ra_col": "a", "dec_col": "b", "radius_arcsec": -1}, "radius_arcsec must be in"),
    ({"name": "c", "path": "x.parquet", "ra_col": "a", "dec_col": "b", "radius_arcsec": 1, "colour": 1}, "unknown keys"),
    ({"name": "c", "path": "nowhere.parquet", "ra_col": "a", "dec_col": "b", "radius_arcsec": 1}, "file not found: nowhere.parquet"),
])
def test_bad_catalogue_configuration_is_named(tmp_path, entry, message):
    with pytest.raises(PluginError, match=message):
        XmatchModule().load({"cache_dir": str(tmp_path), "catalogs": [entry]})


def test_missing_column_and_format_are_named(tmp_path, shared_data):
    gcvs = str(shared_data / "catalogs" / "gcvs.parquet")
    with pytest.raises(PluginError, match="has no column\\(s\\) \\['RA'\\]"):
        XmatchModule().load({"cache_dir": str(tmp_path), "catalogs": [
            {"name": "g", "path": gcvs, "ra_col": "RA", "dec_col": "dec", "radius_arcsec": 1}]})
    other = tmp_path / "cat.txt"
    other.write_text("x")
    with pytest.raises(PluginError, match="unsupported format '.txt'"):
        XmatchModule().load({"cache_dir": str(tmp_path), "catalogs": [
            {"name": "g", "path": str(other), "ra_col": "a", "dec_col": "b", "radius_arcsec": 1}]})
