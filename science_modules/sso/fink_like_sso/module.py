"""The ``sso`` science module: known solar-system objects and candidate moving objects.

No network and no ephemerides: it reads the survey's own association (``ssnamenr``,
``ssdistnr``, ``ss_object_id``) and links the batch's detections within each night.

Classes (``sso_class``):

``known_sso``
    the survey associated a known object within ``known_radius_arcsec`` (ZTF
    ``ssnamenr`` with ``ssdistnr``), or Rubin gave an ``ssObjectId``.
``candidate_sso``
    not known, no history at its position (one detection: ``ndethist`` <= 1 and a
    one-point light curve), positive difference, no stellar counterpart (no PS1 source
    within ``star_radius_arcsec`` with ``sgscore1`` >= ``star_score``), and linked with
    at least one other such detection of the same night by one linear motion
    (:mod:`fink_like_sso.linking`).
``not_sso``
    everything else.

Evidence: ``sso_distance_arcsec`` (to the known object), ``sso_rate_arcsec_h`` and
``sso_pa_deg`` (apparent motion fitted over the night's detections of the same known
object, or of the tracklet, when they are at different positions), ``sso_ndet_night``
(those detections), ``sso_tracklet`` (``<night>-<first alert id>`` of a candidate's
tracklet). Linking sees one batch: detections of one object split over two micro-batches
are not linked (the archive's ``query sso`` shows the whole track of a known object).
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fink_like.science.base import ScienceModule
from fink_like.science.params import Field, ModuleParams
from fink_like_sso import __version__
from fink_like_sso.linking import LinkParams, fit_motion, tracklets

KNOWN, CANDIDATE, NONE = "known_sso", "candidate_sso", "not_sso"


class SsoParams(ModuleParams):
    """Thresholds of :class:`SsoModule` (all change its outputs, all enter ``model_hash``)."""

    known_radius_arcsec: float = Field(5.0, gt=0)
    star_radius_arcsec: float = Field(1.5, ge=0)
    star_score: float = Field(0.5, ge=0, le=1)
    min_dt_s: float = Field(LinkParams.min_dt_s, ge=0)
    min_sep_arcsec: float = Field(LinkParams.min_sep_arcsec, ge=0)
    max_rate_arcsec_h: float = Field(LinkParams.max_rate_arcsec_h, gt=0)
    tolerance_arcsec: float = Field(LinkParams.tolerance_arcsec, gt=0)
    max_span_h: float = Field(LinkParams.max_span_h, gt=0)


class SsoModule(ScienceModule):
    """Solar-system classification of every alert (see the module docstring and :class:`SsoParams`)."""

    name = "sso"
    version = __version__
    inputs = ("alert_id", "mjd", "ra", "dec", "night", "isdiffpos", "ndethist", "lc_mjd",
              "sgscore1", "distpsnr1", "ssnamenr", "ssdistnr", "ss_object_id")
    outputs = {
        "sso_class": pa.string(),
        "sso_name": pa.string(),
        "sso_distance_arcsec": pa.float64(),
        "sso_rate_arcsec_h": pa.float64(),
        "sso_pa_deg": pa.float64(),
        "sso_ndet_night": pa.int32(),
        "sso_tracklet": pa.string(),
    }
    Params = SsoParams

    def load(self, params: SsoParams) -> None:
        self.link = LinkParams(**{f.name: getattr(params, f.name) for f in fields(LinkParams)})
        self.known_radius = params.known_radius_arcsec
        self.star_radius = params.star_radius_arcsec
        self.star_score = params.star_score

    def process(self, batch: pa.Table) -> dict:
        n = batch.num_rows
        col = {name: batch[name].to_numpy(zero_copy_only=False) for name in ("ra", "dec", "mjd")}
        names = batch["ssnamenr"].to_pylist()
        nights = np.array(batch["night"].to_pylist(), dtype=object)
        known = self.known(batch, names)
        out_class = np.where(known, KNOWN, NONE).astype(object)
        rate, pa_deg = np.full(n, np.nan), np.full(n, np.nan)
        ndet = np.zeros(n, dtype=np.int32)
        tracklet = np.full(n, None, dtype=object)
        ids = np.array(batch["alert_id"].to_pylist(), dtype=object)
        keys = [(names[i] or f"#{oid}", nights[i]) for i, oid in enumerate(batch["ss_object_id"].to_pylist())]
        for members in _groups([keys[i] for i in np.flatnonzero(known)], np.flatnonzero(known)):
            self._evidence(members, col, rate, pa_deg, ndet)
        pool = np.flatnonzero(self.fresh(batch) & ~known)
        for group in tracklets(col["ra"][pool], col["dec"][pool], col["mjd"][pool], nights[pool], self.link):
            members = pool[group]
            out_class[members] = CANDIDATE
            tracklet[members] = f"{nights[members[0]]}-{min(ids[members])}"
            self._evidence(members, col, rate, pa_deg, ndet)
        distance = np.where(known, batch["ssdistnr"].to_numpy(zero_copy_only=False).astype(float), np.nan)
        return {
            "sso_class": pa.array(out_class, pa.string()),
            "sso_name": pa.array([names[i] if known[i] else None for i in range(n)], pa.string()),
            "sso_distance_arcsec": pa.array(distance, mask=np.isnan(distance)),
            "sso_rate_arcsec_h": pa.array(rate, mask=np.isnan(rate)),
            "sso_pa_deg": pa.array(pa_deg, mask=np.isnan(pa_deg)),
            "sso_ndet_night": pa.array(ndet, mask=ndet == 0),
            "sso_tracklet": pa.array(tracklet, pa.string()),
        }

    def known(self, batch: pa.Table, names: list) -> np.ndarray:
        """Alerts associated by the survey with a known object close enough."""
        dist = batch["ssdistnr"].to_numpy(zero_copy_only=False).astype(float)
        named = np.array([x is not None for x in names], dtype=bool)
        near = np.isnan(dist) | (dist <= self.known_radius)
        return (named & near) | pc.is_valid(batch["ss_object_id"]).to_numpy(zero_copy_only=False)

    def fresh(self, batch: pa.Table) -> np.ndarray:
        """New positive detections with no history at their position and no stellar counterpart."""
        ndet = pc.fill_null(batch["ndethist"], 1).to_numpy(zero_copy_only=False)
        points = pc.list_value_length(batch["lc_mjd"]).fill_null(1).to_numpy(zero_copy_only=False)
        positive = pc.fill_null(batch["isdiffpos"], True).to_numpy(zero_copy_only=False)
        score = pc.fill_null(batch["sgscore1"], 0.0).to_numpy(zero_copy_only=False)
        dist = pc.fill_null(batch["distpsnr1"], np.inf).to_numpy(zero_copy_only=False)
        star = (dist <= self.star_radius) & (score >= self.star_score)
        return (ndet <= 1) & (points <= 1) & positive & ~star

    def _evidence(self, members, col, rate, pa_deg, ndet) -> None:
        ndet[members] = len(members)
        ra, dec, mjd = col["ra"][members], col["dec"][members], col["mjd"][members]
        if len(members) < 2 or np.ptp(mjd) * 86400.0 < self.link.min_dt_s:
            return
        motion = fit_motion(ra, dec, mjd)
        rate[members] = motion.rate_arcsec_h
        pa_deg[members] = motion.pa_deg


def _groups(keys: list, rows: np.ndarray) -> list[np.ndarray]:
    """Rows sharing a key (object and night), in first-seen order."""
    groups: dict = {}
    for key, row in zip(keys, rows):
        groups.setdefault(key, []).append(row)
    return [np.array(g) for g in groups.values()]
