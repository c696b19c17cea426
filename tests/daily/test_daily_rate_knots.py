"""rate_model="weekly_knots": the interpolation matrix by hand (the fit itself is measured by
benchmarks/bench_daily_speed.py)."""

import numpy as np

from estimators._daily._model import RATE_MODELS, knot_matrix


def test_knot_matrix_interpolates_linearly_between_weekly_knots():
    W = knot_matrix(181)
    assert W.shape == (181, 27)  # knots on days 0, 7, ..., 182
    assert np.allclose(W.sum(1), 1.0)
    values = np.arange(27) * 7.0  # a straight line through the knots is reproduced on every day
    assert np.allclose(W @ values, np.arange(181))
    assert W[3].tolist()[:2] == [4 / 7, 3 / 7]
    assert "weekly_knots" in RATE_MODELS
