"""Step encoding checked value by value against the documented formulas."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from fink_like.errors import AlertError
from fink_like_bnn.sequences import BANDS, N_FEATURES, encode


def table(curves):
    names = ("lc_mjd", "lc_band", "lc_flux", "lc_fluxerr")
    return pa.table({n: [list(c[k]) for c in curves] for k, n in enumerate(names)})


def test_each_step_follows_the_documented_formulas():
    t, b, f, e = [10.0, 11.5, 14.0], ["g", "r", "y"], [200.0, -400.0, 100.0], [10.0, 20.0, 40.0]
    steps, lengths = encode(table([(t, b, f, e)]))
    assert steps.shape == (1, 3, N_FEATURES) and steps.dtype == np.float32
    assert lengths.tolist() == [3]
    expected = np.zeros((3, N_FEATURES))
    expected[:, 0] = np.log1p([0.0, 1.5, 2.5]) / 5
    expected[:, 1] = np.log1p([0.0, 1.5, 4.0]) / 5
    for k, band in enumerate(b):
        expected[k, 2 + BANDS.index(band)] = 1.0
    expected[:, 8] = np.array(f) / 400.0
    expected[:, 9] = np.array(e) / 400.0
    expected[:, 10] = np.arcsinh(np.array(f) / np.array(e)) / 5
    expected[:, 11] = np.arcsinh(np.array(f) / 1000.0) / 10
    np.testing.assert_allclose(steps[0], expected, rtol=1e-6, atol=1e-7)


def test_long_histories_keep_their_latest_steps_and_short_ones_are_padded():
    long = (np.arange(10.0), ["g"] * 10, np.arange(1.0, 11.0), np.ones(10))
    short = ([3.0], ["i"], [5.0], [1.0])
    steps, lengths = encode(table([long, short]), max_steps=4)
    assert lengths.tolist() == [4, 1]
    np.testing.assert_allclose(steps[0, :, 8], np.arange(7.0, 11.0) / 10.0)
    assert steps[0, 0, 0] == 0.0  # the first kept step has no predecessor
    np.testing.assert_allclose(steps[0, 1:, 0], np.log1p(1.0) / 5)
    assert np.all(steps[1, 1:] == 0)


def test_invalid_points_are_skipped_and_empty_rows_have_length_zero():
    dirty = ([1.0, 2.0, float("nan"), 4.0], ["g"] * 4, [1.0, None, 3.0, 4.0], [1.0, 1.0, 1.0, -1.0])
    steps, lengths = encode(table([dirty, ([], [], [], [])]))
    assert lengths.tolist() == [1, 0]
    assert steps.shape[1] == 1
    assert np.all(steps[1] == 0)


def test_empty_batch_gives_an_empty_array():
    steps, lengths = encode(table([([1.0], ["g"], [1.0], [1.0])]).slice(0, 0))
    assert steps.shape == (0, 1, N_FEATURES) and lengths.shape == (0,)


@pytest.mark.parametrize("curves, reason", [
    ([([1.0], ["Y"], [1.0], [1.0])], "unknown_band"),
    ([([1.0, 2.0], ["g", "g"], [1.0], [1.0, 1.0])], "ragged_history"),
])
def test_bad_histories_raise_alert_errors(curves, reason):
    with pytest.raises(AlertError) as info:
        encode(table(curves))
    assert info.value.reason == reason
