"""Intra-night linking: detections that one linear motion on the sky explains.

Pure numpy/scipy, no survey and no Spark: positions (degrees), times (MJD) and a night
label per detection in, tracklets out. Motion is fitted in the gnomonic projection
around each tracklet's first detection, so tracklets across RA = 0 and near the poles
are handled like any other.

Rules (all thresholds in :class:`LinkParams`):

* two detections *pair* when they belong to the same night, are at least ``min_dt_s``
  apart in time, at least ``min_sep_arcsec`` apart on the sky (closer is the same
  position: a stationary source), and the implied rate is at most ``max_rate_arcsec_h``;
* pairs connected through shared detections form a group; a group is a tracklet when a
  straight line at constant rate passes within ``tolerance_arcsec`` of every member
  (fitted by least squares). A group that no single line explains is split: the line
  through the pair that explains most members is kept, and the rest is linked again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fink_like.sky.cone import separation_deg, unit_vectors
from fink_like.sky.projection import tangent_plane

ARCSEC = 1.0 / 3600.0


@dataclass(frozen=True)
class LinkParams:
    """Thresholds of the linker (see the module docstring)."""

    min_dt_s: float = 60.0
    min_sep_arcsec: float = 1.0
    max_rate_arcsec_h: float = 720.0
    tolerance_arcsec: float = 1.0
    max_span_h: float = 14.0


@dataclass(frozen=True)
class Motion:
    """A straight-line fit: rate (arcsec/hour), position angle (degrees east of north), worst residual."""

    rate_arcsec_h: float
    pa_deg: float
    max_residual_arcsec: float


def fit_motion(ra, dec, mjd) -> Motion:
    """Least-squares linear motion of detections (at least two, at different times)."""
    ra, dec, mjd = (np.asarray(x, dtype=float) for x in (ra, dec, mjd))
    xi, eta, _ = tangent_plane(ra[0], dec[0], ra, dec)
    hours = (mjd - mjd[0]) * 24.0
    design = np.column_stack([np.ones_like(hours), hours])
    (x0, vx), *_ = np.linalg.lstsq(design, xi, rcond=None)
    (y0, vy), *_ = np.linalg.lstsq(design, eta, rcond=None)
    residual = np.hypot(xi - (x0 + vx * hours), eta - (y0 + vy * hours))
    rate = math.degrees(math.hypot(vx, vy)) * 3600.0
    pa = math.degrees(math.atan2(vx, vy)) % 360.0
    return Motion(rate, pa, float(np.degrees(residual.max())) * 3600.0)


def pairs(ra, dec, mjd, night, params: LinkParams) -> np.ndarray:
    """Index pairs ``(i, j)``, ``i < j``, of detections that may be one moving object.

    Each night is searched on its own, within the distance the fastest allowed motion
    covers over that night's time span in the batch (at most ``max_span_h``).
    """
    ra, dec, mjd, night = (np.asarray(x) for x in (ra, dec, mjd, night))
    found = [_night_pairs(np.flatnonzero(night == n), ra, dec, mjd, params) for n in np.unique(night)]
    out = np.concatenate(found) if found else np.empty((0, 2), dtype=np.int64)
    return out[np.lexsort((out[:, 1], out[:, 0]))] if len(out) else out


def _night_pairs(rows: np.ndarray, ra, dec, mjd, params: LinkParams) -> np.ndarray:
    from scipy.spatial import cKDTree

    if len(rows) < 2:
        return np.empty((0, 2), dtype=np.int64)
    vec = unit_vectors(ra[rows].astype(float), dec[rows].astype(float))
    t = mjd[rows].astype(float)
    span_h = min(params.max_span_h, float(np.ptp(t)) * 24.0)
    reach = math.radians(params.max_rate_arcsec_h * span_h / 3600.0)
    found = cKDTree(vec).query_pairs(2 * math.sin(min(reach, math.pi) / 2), output_type="ndarray")
    if not len(found):
        return np.empty((0, 2), dtype=np.int64)
    i, j = found[:, 0], found[:, 1]
    dt_h = np.abs(t[j] - t[i]) * 24.0
    sep = separation_deg(ra[rows[i]], dec[rows[i]], ra[rows[j]], dec[rows[j]]) * 3600.0
    ok = (dt_h * 3600.0 >= params.min_dt_s) & (sep >= params.min_sep_arcsec) & (dt_h <= params.max_span_h)
    ok &= sep <= params.max_rate_arcsec_h * dt_h
    i, j = rows[i[ok]], rows[j[ok]]
    return np.column_stack([np.minimum(i, j), np.maximum(i, j)])


def tracklets(ra, dec, mjd, night, params: LinkParams = LinkParams()) -> list[np.ndarray]:
    """Groups of detection indices (sorted, at least two each) consistent with one linear motion."""
    ra, dec, mjd = (np.asarray(x, dtype=float) for x in (ra, dec, mjd))
    out: list[np.ndarray] = []
    for group, edges in _components(pairs(ra, dec, mjd, night, params)):
        out.extend(_split(group, edges, ra, dec, mjd, params))
    return sorted(out, key=lambda t: int(t[0]))


def _components(edges: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Connected groups of detections, each sorted, with its own edges (in their input order).

    Groups come in the order of their smallest member. The work is linear in the number
    of edges: each group's edges are picked once, however many groups there are.
    """
    if not len(edges):
        return []
    members, local = np.unique(edges, return_inverse=True)
    local = local.reshape(edges.shape)
    parent = np.arange(len(members))

    def root(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in local.tolist():
        a, b = root(i), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)
    # A root is its group's smallest member, so groups sorted by root come in that order;
    # every group has members and edges, so both splits below have one part per root.
    roots = np.array([root(m) for m in range(len(members))])
    edge_roots = roots[local[:, 0]]
    grouped_members = members[np.argsort(roots, kind="stable")]
    grouped_edges = edges[np.argsort(edge_roots, kind="stable")]
    member_cuts = np.cumsum(np.unique(roots, return_counts=True)[1])[:-1]
    edge_cuts = np.cumsum(np.unique(edge_roots, return_counts=True)[1])[:-1]
    return list(zip(np.split(grouped_members, member_cuts), np.split(grouped_edges, edge_cuts)))


def _split(group, edges, ra, dec, mjd, params) -> list[np.ndarray]:
    """The group if one line explains it, else the best line's members and the rest linked again.

    ``edges`` are the group's own edges.
    """
    if len(group) == 2 or fit_motion(ra[group], dec[group], mjd[group]).max_residual_arcsec <= params.tolerance_arcsec:
        return [group]
    best = _best_line(group, edges, ra, dec, mjd, params.tolerance_arcsec)
    rest = np.setdiff1d(group, best)
    rest_edges = edges[np.isin(edges[:, 0], rest) & np.isin(edges[:, 1], rest)]
    return [best] + [t for g, e in _components(rest_edges) for t in _split(g, e, ra, dec, mjd, params)]


def _best_line(group, edges, ra, dec, mjd, tolerance_arcsec) -> np.ndarray:
    """Members of ``group`` on the line of the first edge that explains most of them.

    Every edge sharing a start detection ``i`` is scored at once, from one projection of
    the group around ``i`` (the arithmetic of :func:`_near_line`, element by element);
    the winner's members are then taken from :func:`_near_line` itself.
    """
    counts = np.empty(len(edges), dtype=np.int64)
    at = np.searchsorted(group, edges[:, 1])  # group is sorted and holds every end
    for i in np.unique(edges[:, 0]):
        rows = np.flatnonzero(edges[:, 0] == i)
        xi, eta, _ = tangent_plane(ra[i], dec[i], ra[group], dec[group])
        xj, ej = xi[at[rows]][:, None], eta[at[rows]][:, None]
        frac = (mjd[group][None, :] - mjd[i]) / (mjd[edges[rows, 1]] - mjd[i])[:, None]
        miss = np.hypot(xi[None, :] - frac * xj, eta[None, :] - frac * ej)
        counts[rows] = (np.degrees(miss) * 3600.0 <= tolerance_arcsec).sum(axis=1)
    i, j = edges[int(np.argmax(counts))]  # the first edge with the highest count, as in edge order
    return group[_near_line(i, j, group, ra, dec, mjd, tolerance_arcsec)]


def _near_line(i, j, group, ra, dec, mjd, tolerance_arcsec) -> np.ndarray:
    """Which members of ``group`` lie within the tolerance of the motion through ``i`` and ``j``."""
    xi, eta, _ = tangent_plane(ra[i], dec[i], ra[group], dec[group])
    xj, ej, _ = tangent_plane(ra[i], dec[i], np.array([ra[j]]), np.array([dec[j]]))
    span = mjd[j] - mjd[i]
    frac = (mjd[group] - mjd[i]) / span
    miss = np.hypot(xi - frac * xj[0], eta - frac * ej[0])
    return np.degrees(miss) * 3600.0 <= tolerance_arcsec
