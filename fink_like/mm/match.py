"""Alerts against events: inside the region, within the event's time window.

One function serves the live matcher (a batch of alerts against every active event)
and the retroactive search (one event against the archive's candidates), so both apply
exactly the same rule: ``t0 - before <= mjd <= t0 + after`` and ``region.contains``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fink_like.mm.store import StoredEvent


@dataclass(frozen=True)
class Match:
    """One alert inside one event: row index, event, probability density (sky maps), offset."""

    row: int
    event_id: str
    messenger: str
    prob_density: float | None
    dt_days: float


def match_event(event: StoredEvent, ra, dec, mjd) -> list[Match]:
    """Rows of (ra, dec, mjd) that match ``event`` (active or not: the caller decides)."""
    ra, dec, mjd = (np.atleast_1d(np.asarray(x, dtype=float)) for x in (ra, dec, mjd))
    if event.region is None or event.t0 is None or not len(ra):
        return []
    lo, hi = event.window
    rows = np.flatnonzero((mjd >= lo) & (mjd <= hi))
    if not len(rows):
        return []
    inside = event.region.contains(ra[rows], dec[rows])
    rows = rows[inside]
    density = event.region.density(ra[rows], dec[rows])
    return [Match(int(r), event.event_id, event.messenger, None if np.isnan(d) else float(d),
                  float(mjd[r] - event.t0)) for r, d in zip(rows, density)]


def match_batch(events: list[StoredEvent], ra, dec, mjd) -> list[list[Match]]:
    """Per row, its matches with every active event, the most probable first.

    Order: highest probability density first (sky maps), then the smallest time offset.
    """
    out: list[list[Match]] = [[] for _ in range(len(np.atleast_1d(ra)))]
    for event in events:
        if event.active:
            for m in match_event(event, ra, dec, mjd):
                out[m.row].append(m)
    for row in out:
        row.sort(key=lambda m: (-(m.prob_density or 0.0), abs(m.dt_days), m.event_id))
    return out


def match_record(match: Match, alert: dict, kind: str) -> dict:
    """The JSON row kept in the event's record for one matched alert."""
    return {"alert_id": int(alert["alert_id"]), "object_id": alert["object_id"], "mjd": alert["mjd"],
            "ra": alert["ra"], "dec": alert["dec"], "dt_days": match.dt_days,
            "prob_density": match.prob_density, "kind": kind}
