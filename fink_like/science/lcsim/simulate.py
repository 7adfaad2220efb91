"""Draw labelled alerts: cadence -> model -> noise -> detections -> truncation -> table."""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
import pyarrow as pa

from fink_like.science.lcsim import events, supernovae, variables
from fink_like.science.lcsim.assemble import LightCurves, build_table
from fink_like.science.lcsim.cadence import SimulationError, SurveyCadence, draw_epochs, get_cadence
from fink_like.science.lcsim.photometry import observe

CLASSES: tuple[str, ...] = (
    "SN Ia", "SN II", "SN Ibc", "microlensing", "RR Lyrae", "Cepheid",
    "eclipsing binary", "CV", "AGN", "constant",
)
"""Every label the simulator can draw, in a fixed order (part of the seeding)."""

_MODELS = {
    "SN Ia": supernovae.sn_ia,
    "SN II": supernovae.sn_ii,
    "SN Ibc": supernovae.sn_ibc,
    "microlensing": events.microlensing,
    "RR Lyrae": variables.rr_lyrae,
    "Cepheid": variables.cepheid,
    "eclipsing binary": variables.eclipsing_binary,
    "CV": events.cataclysmic_variable,
    "AGN": variables.agn,
    "constant": variables.constant,
}
_CHUNK = 2000          # objects per model call: bounds memory of the night grid
_MAX_ROUNDS = 50       # redraws for objects that never reach S/N >= 5


def _counts(n, classes) -> dict[str, int]:
    if isinstance(n, Mapping):
        if classes is not None:
            raise SimulationError("give either n as a mapping or classes, not both")
        counts = dict(n)
    else:
        chosen = list(CLASSES if classes is None else classes)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise SimulationError(f"n must be an int or a mapping class -> int, not {type(n).__name__}")
        if not chosen:
            raise SimulationError("classes is empty: nothing to simulate")
        base, extra = divmod(int(n), len(chosen))
        counts = {label: base + (i < extra) for i, label in enumerate(chosen)}
    for label, count in counts.items():
        if label not in _MODELS:
            raise SimulationError(f"unknown class {label!r}: choose from {list(CLASSES)}")
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
            raise SimulationError(f"count for class {label!r} must be a non-negative int, got {count!r}")
    return counts


def _draw_batch(label, m, cad: SurveyCadence, rng, truncate: bool, history_days) -> LightCurves:
    """Simulate ``m`` objects and keep those with a detection, cut at their alert epoch."""
    ep = draw_epochs(rng, m, cad)
    diff, total, truth = _MODELS[label](rng, ep)
    flux, fluxerr, det = observe(rng, diff, total, ep.maglim)
    ndet = np.bincount(ep.obj[det], minlength=m)
    keep_obj = ndet > 0
    # The alert is the k-th detection: uniform over detections (alerts at all phases) or the last.
    k = np.floor(rng.random(m) * ndet).astype(np.int64) if truncate else ndet - 1
    det_idx = np.nonzero(det)[0]
    det_start = np.concatenate([[0], np.cumsum(ndet)])[:-1]
    alert_at = np.full(m, -1, dtype=np.int64)
    alert_at[keep_obj] = det_idx[det_start[keep_obj] + k[keep_obj]]
    keep_epoch = np.arange(ep.obj.size) <= alert_at[ep.obj]
    meta = dict(truth)
    # The object's detection count and first detection, whatever the history window shows.
    meta["ndethist"] = (k + 1).astype(float)
    meta["first_mjd"] = np.full(m, np.nan)
    meta["first_mjd"][keep_obj] = ep.mjd[det_idx[det_start[keep_obj]]]
    if history_days is not None:
        alert_mjd = ep.mjd[np.maximum(alert_at, 0)]
        keep_epoch &= ep.mjd >= alert_mjd[ep.obj] - history_days
    lcs = LightCurves(m, ep.obj, ep.mjd, ep.band, flux, fluxerr, det, ep.maglim,
                      np.array([label] * m, dtype=object), meta)
    return lcs.take(keep_epoch, keep_obj)


def _simulate_class(label, count, cad, rng, truncate, history_days) -> LightCurves | None:
    parts, have = [], 0
    for _ in range(_MAX_ROUNDS):
        if have >= count:
            break
        need = count - have
        batch = _draw_batch(label, min(_CHUNK, int(need * 1.25) + 8), cad, rng, truncate, history_days)
        if batch.n > need:
            keep = np.zeros(batch.n, dtype=bool)
            keep[:need] = True
            batch = batch.take(np.ones(batch.obj.size, dtype=bool), keep)
        parts.append(batch)
        have += batch.n
    if have < count:
        raise SimulationError(f"could not draw {count} detectable {label} light curves for {cad.survey}")
    return LightCurves.concat(parts) if parts else None


def simulate(
    n: int | Mapping[str, int],
    survey: str = "ztf",
    seed: int = 0,
    classes: Iterable[str] | None = None,
    truncate: bool = True,
    forced_photometry: bool = False,
    history_days: float | None = None,
) -> pa.Table:
    """Simulate labelled alerts with the canonical schema, plus ``label`` and ``truth_*``.

    Parameters
    ----------
    n
        Total number of alerts, split evenly over ``classes`` (earlier classes get the
        remainder), or a mapping ``{class: count}``.
    survey
        ``"ztf"`` or ``"rubin"`` (``"lsst"`` is accepted; the ``survey`` column is ``"lsst"``).
    seed
        Everything is a deterministic function of ``(seed, survey, class)``.
    classes
        Subset of :data:`CLASSES` when ``n`` is an int (default: all).
    truncate
        Cut each light curve at a random detection (alerts at every phase); otherwise
        the alert is the last detection of the season.
    forced_photometry
        Fill ``fp_*`` with every epoch up to the alert (detected or not); else empty.
    history_days
        Keep only epochs within this many days before the alert in the history lists,
        like ZTF's 30-day ``prv_candidates`` (``ndethist``/``first_mjd`` still count the
        whole history). ``None`` keeps the whole season.

    Returns
    -------
    pyarrow.Table
        Schema :data:`fink_like.science.lcsim.LCSIM_SCHEMA`, one row per object, rows
        shuffled. Every row has at least one detection (``lc_*`` never empty), detections
        have ``|flux| / fluxerr >= 5``.

    Examples
    --------
    >>> t = simulate({"SN Ia": 3, "AGN": 2}, survey="ztf", seed=1)
    >>> t.num_rows, sorted(set(t.column("label").to_pylist()))
    (5, ['AGN', 'SN Ia'])
    """
    cad = get_cadence(survey)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SimulationError(f"seed must be a non-negative int, got {seed!r}")
    counts = _counts(n, classes)
    if history_days is not None and not history_days > 0:
        raise SimulationError(f"history_days must be positive or None, got {history_days!r}")
    survey_code = 1 if cad.survey == "ztf" else 2
    parts = []
    for label, count in counts.items():
        if count:
            rng = np.random.default_rng([int(seed), survey_code, CLASSES.index(label)])
            parts.append(_simulate_class(label, count, cad, rng, truncate, history_days))
    final_rng = np.random.default_rng([int(seed), survey_code, 1000])
    if not parts:
        empty = LightCurves(0, *(np.zeros(0, t) for t in (np.int64, float, np.int64, float, float, bool, float)),
                            np.zeros(0, dtype=object), {})
        return build_table(LightCurves.concat([empty]), cad, final_rng, int(seed), forced_photometry)
    lcs = LightCurves.concat(parts)
    lcs = lcs.permute(final_rng.permutation(lcs.n))
    return build_table(lcs, cad, final_rng, int(seed), forced_photometry)
