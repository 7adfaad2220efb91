"""Labelled real light curves -> canonical ZTF-like alerts at chosen ages.

Reads any folder in the ``shared/data/labelled`` format (``objects.csv`` with one row per
object and its ``class``; ``lightcurves.parquet`` with one row per measurement) and builds
the canonical alert (:mod:`fink_like.surveys.canonical`) that a ZTF-like survey would have
sent for each object at each *age*: days after its first detection, or ``"all"`` for the
whole light curve. The alert is the last detection inside the window; ``lc_*`` holds every
detection up to it (``history_days`` keeps only the last N days, as real ZTF packets do).

Every photometry kind is first made *alert-like*, so that a classifier cannot tell the
sources apart by how they were measured (:func:`alert_like`):

* ZTF bands ``g`` and ``r`` only; one point per band and night (the first);
* positive difference flux with SNR >= :data:`MIN_SNR` (what the alert stream detects);
* an error floor of :data:`ERROR_FLOOR` of the flux (YSE forced photometry is more
  precise than alert PSF photometry);
* ``kind=ogle`` (OGLE I band *total* magnitudes at near-daily cadence) goes through
  :func:`ogle_to_ztf`, documented there.

Examples
--------
>>> from fink_like.science.labelled import read_labelled, build_alerts  # doctest: +SKIP
>>> alerts = build_alerts(read_labelled("../shared/data/labelled"), ages=(20, "all"))  # doctest: +SKIP
>>> alerts.table.num_rows == len(alerts.meta)  # doctest: +SKIP
True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from fink_like.errors import FinkLikeError
from fink_like.surveys.canonical import CANONICAL_SCHEMA

OBJECT_COLUMNS = ("object_id", "class")
POINT_COLUMNS = ("object_id", "mjd", "band", "mag", "magerr", "flux_njy", "fluxerr_njy", "kind")
KINDS = ("forced", "alert", "compiled", "ogle")
BANDS = {"forced": ("g", "r", "i"), "alert": ("g", "r", "i"), "compiled": ("g", "r", "i"), "ogle": ("I",)}
ZTF_BANDS = ("g", "r")
MIN_SNR = 5.0
ERROR_FLOOR = 0.05
ZP_NJY = 31.4
SEED = 20261201


class LabelledDataError(FinkLikeError):
    """A labelled folder is unusable: missing file or column, unknown band or kind, no objects."""


@dataclass(frozen=True)
class LabelledSet:
    """Objects (``object_id``, ``class``, ``source``, ...) and their alert-like points."""

    objects: pd.DataFrame
    points: pd.DataFrame


@dataclass(frozen=True)
class AlertSet:
    """Canonical alerts and, row for row, ``object_id``, ``age``, ``class``, ``source``."""

    table: pa.Table
    meta: pd.DataFrame


def _read(path: Path, reader, columns) -> pd.DataFrame:
    if not path.is_file():
        raise LabelledDataError(f"{path}: file not found (a labelled folder holds objects.csv "
                                "and lightcurves.parquet)")
    try:
        frame = reader(path)
    except Exception as exc:  # parser errors have many types
        raise LabelledDataError(f"{path}: cannot be read: {exc}") from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise LabelledDataError(f"{path}: missing column(s) {missing}; required {list(columns)}")
    return frame


def read_labelled(folder: str | Path, seed: int = SEED) -> LabelledSet:
    """Read, check and make alert-like a labelled folder.

    Raises
    ------
    LabelledDataError
        Missing files or columns, unknown kinds or bands (naming them and an example
        object), objects without class, or no object left with a detection.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise LabelledDataError(f"labelled folder {folder} does not exist")
    objects = _read(folder / "objects.csv", lambda p: pd.read_csv(p, dtype={"object_id": str}), OBJECT_COLUMNS)
    points = _read(folder / "lightcurves.parquet", pd.read_parquet, POINT_COLUMNS)
    _check_values(objects, points, folder)
    if "source" not in objects.columns:
        objects["source"] = "unknown"
    points = alert_like(points, seed)
    kept = objects[objects["object_id"].isin(points["object_id"].unique())].reset_index(drop=True)
    if kept.empty:
        raise LabelledDataError(f"{folder}: no object has an alert-like detection "
                                f"(g/r, SNR >= {MIN_SNR:g}); empty set")
    return LabelledSet(kept, points)


def _check_values(objects: pd.DataFrame, points: pd.DataFrame, folder: Path) -> None:
    if objects.empty or points.empty:
        raise LabelledDataError(f"{folder}: empty set ({len(objects)} objects, {len(points)} points)")
    if objects["class"].isna().any():
        bad = objects.loc[objects["class"].isna(), "object_id"].iloc[0]
        raise LabelledDataError(f"{folder}/objects.csv: object {bad} has no class")
    unknown_kind = sorted(set(points["kind"].astype(str)) - set(KINDS))
    if unknown_kind:
        raise LabelledDataError(f"{folder}/lightcurves.parquet: unknown kind(s) {unknown_kind}; known {list(KINDS)}")
    for kind, bands in BANDS.items():
        rows = points[(points["kind"] == kind) & ~points["band"].isin(bands)]
        if len(rows):
            raise LabelledDataError(
                f"{folder}/lightcurves.parquet: unknown band(s) {sorted(set(rows['band'].astype(str)))} "
                f"for kind {kind!r} (object {rows['object_id'].iloc[0]}); known {list(bands)}")
    orphans = set(points["object_id"]) - set(objects["object_id"])
    if orphans:
        raise LabelledDataError(f"{folder}: {len(orphans)} object(s) in lightcurves.parquet are not in "
                                f"objects.csv, e.g. {sorted(orphans)[0]}")


def _flux(mag):
    return 10.0 ** (-0.4 * (np.asarray(mag, float) - ZP_NJY))


def alert_like(points: pd.DataFrame, seed: int = SEED) -> pd.DataFrame:
    """ZTF-like detections (``object_id, mjd, band, flux, fluxerr``) of every kind.

    Where a source gives only magnitudes, the flux comes from them (zero point 31.4).
    """
    ztf = points[points["kind"] != "ogle"].copy()
    missing = ztf["flux_njy"].isna() | ztf["fluxerr_njy"].isna()
    ztf.loc[missing, "flux_njy"] = _flux(ztf.loc[missing, "mag"])
    ztf.loc[missing, "fluxerr_njy"] = ztf.loc[missing, "flux_njy"] * ztf.loc[missing, "magerr"] / 1.0857
    ztf = ztf.rename(columns={"flux_njy": "flux", "fluxerr_njy": "fluxerr"})
    ztf = ztf[ztf["band"].isin(ZTF_BANDS)][["object_id", "mjd", "band", "flux", "fluxerr"]]
    ztf["fluxerr"] = np.maximum(ztf["fluxerr"], ERROR_FLOOR * ztf["flux"].abs())
    ztf = ztf[np.isfinite(ztf["flux"]) & (ztf["fluxerr"] > 0) & (ztf["flux"] / ztf["fluxerr"] >= MIN_SNR)]
    ogle = ogle_to_ztf(points[points["kind"] == "ogle"], seed)
    out = pd.concat([p for p in (ztf, ogle) if len(p)], ignore_index=True) if len(ogle) else ztf.copy()
    out["night"] = np.floor(out["mjd"] - 0.3).astype(np.int64)  # ZTF nights change at ~07:00 UTC
    out = out.sort_values(["object_id", "mjd"], kind="stable").drop_duplicates(["object_id", "band", "night"])
    return out.drop(columns="night").reset_index(drop=True)


def ogle_to_ztf(points: pd.DataFrame, seed: int = SEED) -> pd.DataFrame:
    """What a difference-imaging survey at ZTF cadence would detect of OGLE I-band light curves.

    Recipe, per object (random draws from ``seed``, so reproducible):

    1. Total flux from I (zero point 31.4, nJy); **baseline** = median flux of the whole
       light curve (events last weeks, the curves years), difference flux = flux - baseline.
    2. **Colours and depth**: the source is placed in the ZTF sky as ``r = I + c_rI + d``
       with ``c_rI ~ U(0.2, 0.8)``, ``g - r ~ U(0.4, 1.0)`` and a dimming ``d ~ U(0, 1)``
       mag (bulge stars are brighter than a typical ZTF field). Microlensing is
       achromatic, so each band's difference flux is the I one times its flux ratio.
    3. **Cadence**: each OGLE night is kept in ``r`` with probability 1/2 and in ``g``
       with probability 1/3 (about 2 and 3 days between visits, as in the ZTF public
       survey); OGLE's own seasonal gaps (the bulge is visible ~8 months a year) remain.
    4. **Noise**: per visit, a 5-sigma depth ``m_lim ~ N(20.5, 0.4)``; the error is the
       scaled OGLE error combined with ``flux(m_lim) / 5``, and that noise is added.
    5. **Detection**: ``|difference flux| / error >= 5`` (negative differences are
       detections too, as ``isdiffpos = f`` alerts).
    """
    if points.empty:
        return pd.DataFrame(columns=["object_id", "mjd", "band", "flux", "fluxerr"])
    rng = np.random.default_rng(seed)
    out = []
    for object_id, curve in points.groupby("object_id", sort=True):
        total = _flux(curve["mag"])
        total_err = total * curve["magerr"].to_numpy(float) / 1.0857
        diff = total - np.median(total)
        c_ri, g_r, dim = rng.uniform(0.2, 0.8), rng.uniform(0.4, 1.0), rng.uniform(0.0, 1.0)
        for band, shift, keep in (("r", c_ri + dim, 1 / 2), ("g", c_ri + g_r + dim, 1 / 3)):
            ratio = 10.0 ** (-0.4 * shift)
            visit = rng.random(len(curve)) < keep
            depth = _flux(rng.normal(20.5, 0.4, len(curve))) / 5.0
            err = np.hypot(total_err * ratio, depth)
            flux = diff * ratio + rng.normal(0.0, 1.0, len(curve)) * depth
            det = visit & (np.abs(flux) / err >= MIN_SNR)
            out.append(pd.DataFrame({"object_id": object_id, "mjd": curve["mjd"].to_numpy(float)[det],
                                     "band": band, "flux": flux[det], "fluxerr": err[det]}))
    return pd.concat(out, ignore_index=True)


def parse_ages(text: str) -> tuple:
    """``"10,20,40,all"`` -> ``(10.0, 20.0, 40.0, "all")``; LabelledDataError on anything else."""
    ages = []
    for part in (p.strip() for p in str(text).split(",")):
        if part == "all":
            ages.append("all")
            continue
        try:
            value = float(part)
        except ValueError as exc:
            raise LabelledDataError(f"age {part!r} is neither a number of days nor 'all'") from exc
        if not np.isfinite(value) or value < 0:
            raise LabelledDataError(f"age {part!r} must be a non-negative number of days")
        ages.append(value)
    if not ages:
        raise LabelledDataError("no ages given")
    return tuple(ages)


def build_alerts(lset: LabelledSet, ages=("all",), history_days: float | None = None) -> AlertSet:
    """One canonical alert per object and age (the last detection within the window).

    Parameters
    ----------
    lset
        From :func:`read_labelled`.
    ages
        Days after the first detection, or ``"all"``.
    history_days
        Keep only detections at most this many days before the alert (ZTF packets: 30).
    """
    points = lset.points
    first = points.groupby("object_id")["mjd"].transform("min")
    objects = lset.objects.set_index("object_id")
    rows, meta = [], []
    for age in ages:
        window = points if age == "all" else points[points["mjd"] <= first + float(age)]
        for object_id, curve in window.groupby("object_id", sort=True):
            if history_days is not None:
                curve = curve[curve["mjd"] >= curve["mjd"].iloc[-1] - history_days]
            rows.append(_alert_row(object_id, curve, float(first[curve.index[0]]), objects.loc[object_id]))
            meta.append({"object_id": object_id, "age": age, "class": objects.at[object_id, "class"],
                         "source": objects.at[object_id, "source"]})
    if not rows:
        raise LabelledDataError("no alert could be built: empty set")
    table = _to_table(rows)
    return AlertSet(table, pd.DataFrame(meta))


def _alert_row(object_id: str, curve: pd.DataFrame, first_mjd: float, obj: pd.Series) -> dict:
    t, f, e = (curve[c].to_numpy(float) for c in ("mjd", "flux", "fluxerr"))
    band = curve["band"].tolist()
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = ZP_NJY - 2.5 * np.log10(np.abs(f))
    magerr = 1.0857 * e / np.abs(f)
    ra, dec = (float(obj.get(k)) if pd.notna(obj.get(k, np.nan)) else 0.0 for k in ("ra", "dec"))
    return {
        "object_id": object_id, "mjd": t[-1], "ra": ra, "dec": dec, "band": band[-1],
        "flux": f[-1], "fluxerr": e[-1], "mag": mag[-1], "magerr": magerr[-1], "isdiffpos": bool(f[-1] > 0),
        "ndethist": len(t), "first_mjd": first_mjd,
        "lc_mjd": t.tolist(), "lc_band": band, "lc_flux": f.tolist(), "lc_fluxerr": e.tolist(),
        "lc_mag": mag.tolist(), "lc_magerr": magerr.tolist(),
    }


def _to_table(rows: list[dict]) -> pa.Table:
    n = len(rows)
    columns = {name: [r[name] for r in rows] for name in rows[0]}
    ids = np.arange(1, n + 1, dtype=np.int64)
    columns |= {"survey": ["ztf"] * n, "schema_version": ["labelled"] * n, "alert_id": ids, "source_id": ids,
                "ul_mjd": [[]] * n, "ul_band": [[]] * n, "ul_maglim": [[]] * n, "fp_mjd": [[]] * n,
                "fp_band": [[]] * n, "fp_flux": [[]] * n, "fp_fluxerr": [[]] * n, "packet": [b""] * n,
                "night": [_night(m) for m in columns["mjd"]]}
    arrays = [pa.array(columns[f.name], f.type) if f.name in columns else pa.nulls(n, f.type)
              for f in CANONICAL_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=CANONICAL_SCHEMA)


def _night(mjd: float) -> str:
    return (pd.Timestamp("1858-11-17") + pd.Timedelta(days=float(mjd))).strftime("%Y%m%d")
