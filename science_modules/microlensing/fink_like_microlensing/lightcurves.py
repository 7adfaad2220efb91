"""The detections of a batch grouped per (alert, band), for segment arithmetic.

Every feature in this package is computed with ``np.bincount`` over *groups*: one group
per (alert, band). This module takes the flat points of the light-curve accessor
(:mod:`fink_like.science.lightcurve`) sorted by group then time, so that no Python loop
over alerts is ever needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from fink_like.science.lightcurve import BANDS, columns, read_points

INPUTS = columns("lc", ("flux", "fluxerr"))
"""Canonical columns this package reads."""


@dataclass(frozen=True)
class Points:
    """Valid detections of a batch, sorted by (alert, band, time).

    Attributes
    ----------
    n_alerts
        Rows in the batch (alerts without a valid point still count).
    alert, band
        Row index and band code (index into :data:`BANDS`) of each point.
    t, flux, err
        MJD, difference flux (nJy) and its error.
    group
        Dense group id of each point: one group per (alert, band) pair.
    group_alert
        Alert row of each group.
    """

    n_alerts: int
    alert: np.ndarray
    band: np.ndarray
    t: np.ndarray
    flux: np.ndarray
    err: np.ndarray
    group: np.ndarray
    group_alert: np.ndarray

    @property
    def n_groups(self) -> int:
        return len(self.group_alert)


def flatten(table: pa.Table) -> Points:
    """Valid detections of ``table`` as a :class:`Points`, read through the light-curve accessor.

    A point is kept when its time, flux and band are present and finite and its error
    is finite and positive; the others carry no usable measurement.

    Raises
    ------
    AlertError
        ``missing_column`` when a ``lc_*`` column is absent, ``ragged_history`` when the
        four lists of an alert differ in length, ``unknown_band`` for a band outside
        :data:`BANDS` (see :func:`fink_like.science.lightcurve.read_points`).
    """
    points = read_points(table, "lc", ("flux", "fluxerr"))
    points = points.where(points.usable("mjd", "flux", "fluxerr", known_band=True)).sorted("band", "mjd")
    group, group_alert = points.groups()
    return Points(table.num_rows, points.row, points.band, points.mjd, points.flux, points.fluxerr,
                  group, group_alert)
