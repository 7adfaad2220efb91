"""Turn simulated, truncated light curves into rows of the canonical alert schema."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

import fink_like
from fink_like.science.lcsim.cadence import SurveyCadence
from fink_like.science.lcsim.photometry import flux_to_mag, magerr_from_snr
from fink_like.surveys.canonical import CANONICAL_SCHEMA

TRUTH_COLUMNS = (
    "truth_z", "truth_t0", "truth_period", "truth_amplitude", "truth_abs_mag", "truth_mag0",
    "truth_u0", "truth_te", "truth_blend", "truth_x1", "truth_c",
)
"""Per-object truth (float64, null where it does not apply to the class)."""

LCSIM_SCHEMA = pa.schema(
    list(CANONICAL_SCHEMA)
    + [pa.field("label", pa.string(), nullable=False)]
    + [pa.field(name, pa.float64()) for name in TRUTH_COLUMNS]
)
"""Canonical columns, then ``label`` and the ``truth_*`` columns."""

_PER_OBJECT = TRUTH_COLUMNS + ("ndethist", "first_mjd")
SCHEMA_VERSION = "lcsim-1"
_MJD_UNIX_EPOCH = 40587.0


@dataclass
class LightCurves:
    """Flat epochs of ``n`` objects (object-major, time-sorted); each object's last epoch
    is the detection that triggers its alert."""

    n: int
    obj: np.ndarray
    mjd: np.ndarray
    band: np.ndarray
    flux: np.ndarray
    fluxerr: np.ndarray
    detected: np.ndarray
    maglim: np.ndarray
    labels: np.ndarray
    truth: dict

    def take(self, keep_epoch: np.ndarray, keep_obj: np.ndarray) -> "LightCurves":
        """Keep some epochs of some objects; objects are renumbered in their order."""
        new_id = np.cumsum(keep_obj) - 1
        sel = keep_epoch & keep_obj[self.obj]
        return LightCurves(
            int(keep_obj.sum()), new_id[self.obj[sel]], self.mjd[sel], self.band[sel], self.flux[sel],
            self.fluxerr[sel], self.detected[sel], self.maglim[sel], self.labels[keep_obj],
            {k: v[keep_obj] for k, v in self.truth.items()},
        )

    @staticmethod
    def concat(parts: list["LightCurves"]) -> "LightCurves":
        shift = np.cumsum([0] + [p.n for p in parts[:-1]])
        cat = np.concatenate
        return LightCurves(
            sum(p.n for p in parts), cat([p.obj + s for p, s in zip(parts, shift)]),
            cat([p.mjd for p in parts]), cat([p.band for p in parts]), cat([p.flux for p in parts]),
            cat([p.fluxerr for p in parts]), cat([p.detected for p in parts]),
            cat([p.maglim for p in parts]), cat([p.labels for p in parts]),
            {k: cat([p.truth.get(k, np.full(p.n, np.nan)) for p in parts]) for k in _PER_OBJECT},
        )

    def permute(self, order: np.ndarray) -> "LightCurves":
        """Reorder objects: new object ``i`` is old object ``order[i]``; epochs keep time order."""
        rank = np.empty(self.n, dtype=np.int64)
        rank[order] = np.arange(self.n)
        idx = np.argsort(rank[self.obj], kind="stable")
        return LightCurves(
            self.n, rank[self.obj][idx], self.mjd[idx], self.band[idx], self.flux[idx],
            self.fluxerr[idx], self.detected[idx], self.maglim[idx], self.labels[order],
            {k: v[order] for k, v in self.truth.items()},
        )


def _lists(values, obj, mask, n, arrow_type):
    counts = np.bincount(obj[mask], minlength=n)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values[mask], type=arrow_type))


def _nights(mjd: np.ndarray) -> list[str]:
    days = np.floor(mjd - _MJD_UNIX_EPOCH).astype("int64").astype("datetime64[D]")
    return [d.replace("-", "") for d in np.datetime_as_string(days, unit="D")]


def _sky(rng: np.random.Generator, n: int, cad: SurveyCadence):
    lo, hi = np.radians(cad.dec_range)
    dec = np.degrees(np.arcsin(rng.uniform(np.sin(lo), np.sin(hi), n)))
    return rng.uniform(0.0, 360.0, n), dec


STAR_LIKE_NEIGHBOUR = 0.3
"""Fraction of simulated ZTF alerts whose nearest PS1 source is star-like (any class)."""


def _ps1_neighbour(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``sgscore1`` and ``distpsnr1`` drawn independently of the class label.

    They must carry no information about the simulated class: a classifier trained on
    them would learn the simulator, not the sky. A random :data:`STAR_LIKE_NEIGHBOUR`
    of alerts get a star-like neighbour (score uniform in 0.7-1), the others a
    galaxy-like one (0-0.4); the distance is uniform in 0-3 arcsec for all.
    """
    star_like = rng.random(n) < STAR_LIKE_NEIGHBOUR
    sgscore1 = np.where(star_like, rng.uniform(0.7, 1.0, n), rng.uniform(0.0, 0.4, n))
    return sgscore1, rng.uniform(0.0, 3.0, n)


def build_table(lcs: LightCurves, cad: SurveyCadence, rng: np.random.Generator, seed: int,
                forced_photometry: bool) -> pa.Table:
    """Arrow table with ``LCSIM_SCHEMA``: one alert per object, at its last epoch."""
    n = lcs.n
    bands = np.asarray(cad.bands, dtype=object)[lcs.band]
    mag = flux_to_mag(lcs.flux)
    magerr = magerr_from_snr(lcs.flux, lcs.fluxerr)
    last = np.concatenate([[0], np.cumsum(np.bincount(lcs.obj, minlength=n))])[1:] - 1
    det = lcs.detected
    all_epochs = np.ones(lcs.obj.size, dtype=bool) if forced_photometry else np.zeros(lcs.obj.size, dtype=bool)
    ra, dec = _sky(rng, n, cad)
    ztf = cad.survey == "ztf"
    sgscore1, distpsnr1 = _ps1_neighbour(rng, n)
    ids = (np.int64(seed % 100_000) * 1_000_000_000 + 1_000_000 * (cad.survey == "lsst")
           + np.arange(n, dtype=np.int64))
    mjd_ms = np.round((lcs.mjd[last] - _MJD_UNIX_EPOCH) * 86_400_000).astype("int64")
    null_f = pa.nulls(n, pa.float64())
    cols = {
        "survey": pa.array([cad.survey] * n),
        "schema_version": pa.array([SCHEMA_VERSION] * n),
        "alert_id": pa.array(ids),
        "object_id": pa.array([f"sim-{cad.survey}-{seed}-{i:07d}" for i in range(n)]),
        "source_id": pa.array(ids),
        "mjd": pa.array(lcs.mjd[last]),
        "ra": pa.array(ra), "dec": pa.array(dec),
        "band": pa.array(bands[last].tolist(), pa.string()),
        "flux": pa.array(lcs.flux[last]), "fluxerr": pa.array(lcs.fluxerr[last]),
        "mag": pa.array(mag[last]), "magerr": pa.array(magerr[last]),
        "isdiffpos": pa.array(lcs.flux[last] > 0),
        "ndethist": pa.array(lcs.truth["ndethist"].astype(np.int32)),
        "first_mjd": pa.array(lcs.truth["first_mjd"]),
        "rb": pa.array(rng.uniform(0.65, 1.0, n)) if ztf else null_f,
        "drb": pa.array(rng.uniform(0.9, 1.0, n)) if ztf else null_f,
        "nbad": pa.array(np.zeros(n, np.int32)) if ztf else pa.nulls(n, pa.int32()),
        "reliability": null_f if ztf else pa.array(rng.uniform(0.65, 1.0, n)),
        "flags": pa.nulls(n, pa.int64()) if ztf else pa.array(np.zeros(n, np.int64)),
        "ssdistnr": null_f, "ssnamenr": pa.nulls(n, pa.string()), "ssmagnr": null_f,
        "ss_object_id": pa.nulls(n, pa.int64()),
        "sgscore1": pa.array(sgscore1) if ztf else null_f,
        "distpsnr1": pa.array(distpsnr1) if ztf else null_f,
        "lc_mjd": _lists(lcs.mjd, lcs.obj, det, n, pa.float64()),
        "lc_band": _lists(bands, lcs.obj, det, n, pa.string()),
        "lc_flux": _lists(lcs.flux, lcs.obj, det, n, pa.float64()),
        "lc_fluxerr": _lists(lcs.fluxerr, lcs.obj, det, n, pa.float64()),
        "lc_mag": _lists(mag, lcs.obj, det, n, pa.float64()),
        "lc_magerr": _lists(magerr, lcs.obj, det, n, pa.float64()),
        "ul_mjd": _lists(lcs.mjd, lcs.obj, ~det, n, pa.float64()),
        "ul_band": _lists(bands, lcs.obj, ~det, n, pa.string()),
        "ul_maglim": _lists(lcs.maglim, lcs.obj, ~det, n, pa.float64()),
        "fp_mjd": _lists(lcs.mjd, lcs.obj, all_epochs, n, pa.float64()),
        "fp_band": _lists(bands, lcs.obj, all_epochs, n, pa.string()),
        "fp_flux": _lists(lcs.flux, lcs.obj, all_epochs, n, pa.float64()),
        "fp_fluxerr": _lists(lcs.fluxerr, lcs.obj, all_epochs, n, pa.float64()),
        "topic": pa.array([f"lcsim-{cad.survey}"] * n),
        "partition": pa.array(np.zeros(n, np.int32)),
        "offset": pa.array(np.arange(n, dtype=np.int64)),
        "kafka_timestamp": pa.array(mjd_ms, pa.timestamp("ms", tz="UTC")),
        "ingest_time": pa.array(mjd_ms, pa.timestamp("ms", tz="UTC")),
        "broker_version": pa.array([fink_like.__version__] * n),
        "night": pa.array(_nights(lcs.mjd[last])),
        "packet": pa.array([b""] * n, pa.binary()),
        "label": pa.array(lcs.labels.tolist(), pa.string()),
    }
    for name in TRUTH_COLUMNS:
        cols[name] = pa.array(lcs.truth[name], pa.float64(), from_pandas=True)
    return pa.Table.from_pydict(cols, schema=LCSIM_SCHEMA)
