"""The linker's best-line search scores all edges at once and picks what the per-edge loop picks."""

from __future__ import annotations

import numpy as np

from fink_like_sso.linking import LinkParams, _best_line, _near_line, pairs


def _one_by_one(group, edges, ra, dec, mjd, tolerance):
    best = None
    for i, j in edges:
        on_line = group[_near_line(i, j, group, ra, dec, mjd, tolerance)]
        if best is None or len(on_line) > len(best):
            best = on_line
    return best


def test_best_line_equals_the_per_edge_search():
    rng = np.random.default_rng(3)
    for trial in range(20):
        n = int(rng.integers(5, 60))
        ra0, dec0 = rng.uniform(0, 360), rng.uniform(-80, 80)
        mjd = 60000.2 + np.sort(rng.uniform(0, 0.3, n))
        hours = (mjd - mjd[0]) * 24
        # two crossing movers plus clutter, all within a few arcminutes
        ra = ra0 + np.where(np.arange(n) % 3 == 0, 30 * hours, -20 * hours) / 3600 + rng.normal(0, 2e-4, n)
        dec = dec0 + np.where(np.arange(n) % 3 == 0, 10 * hours, 25 * hours) / 3600 + rng.normal(0, 2e-4, n)
        edges = pairs(ra, dec, mjd, np.zeros(n, dtype=int), LinkParams())
        if not len(edges):
            continue
        group = np.unique(edges)
        for tolerance in (1.0, 3.0):
            expected = _one_by_one(group, edges, ra, dec, mjd, tolerance)
            assert np.array_equal(_best_line(group, edges, ra, dec, mjd, tolerance), expected), trial
