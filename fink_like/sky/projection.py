"""The gnomonic (tangent-plane) projection: small sky patches as flat coordinates.

Used where a shape or a motion is easier on a plane: error ellipses of multi-messenger
events, and the straight-line motion of solar-system objects within a night.

Examples
--------
>>> xi, eta, front = tangent_plane(0.0, 0.0, [1.0, 180.0], [0.0, 0.0])
>>> round(float(xi[0]), 6), bool(front[0]), bool(front[1])
(0.017455, True, False)
"""

from __future__ import annotations

import math

import numpy as np


def tangent_plane(ra0: float, dec0: float, ra, dec):
    """Gnomonic coordinates (xi east, eta north, in tangent units) and the front-hemisphere mask.

    Points at 90 degrees or more from the centre have no projection: their mask is False
    and their coordinates are meaningless (finite, never a division by zero).
    """
    ra_r, dec_r = np.radians(np.asarray(ra, dtype=float)), np.radians(np.asarray(dec, dtype=float))
    a0, d0 = math.radians(ra0), math.radians(dec0)
    cos_c = np.sin(d0) * np.sin(dec_r) + np.cos(d0) * np.cos(dec_r) * np.cos(ra_r - a0)
    front = cos_c > 0
    safe = np.where(front, cos_c, 1.0)
    xi = np.cos(dec_r) * np.sin(ra_r - a0) / safe
    eta = (np.cos(d0) * np.sin(dec_r) - np.sin(d0) * np.cos(dec_r) * np.cos(ra_r - a0)) / safe
    return xi, eta, front
