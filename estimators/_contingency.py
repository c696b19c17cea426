"""Pearson's chi-square test of homogeneity for a count table, shared by the package's checks of capture
(a list's coverage over time in ``daily_rates``, capture patterns across covariate levels in ``estimate``)."""

from __future__ import annotations

import numpy as np

# columns expected fewer than this many times in some row are pooled into one
MIN_EXPECTED = 5.0


def homogeneity_test(table: np.ndarray) -> tuple[float, int, float]:
    """Pearson chi-square test that every row of a (rows, columns) count table has the same distribution.

    Empty rows and columns are dropped; columns expected fewer than ``MIN_EXPECTED`` times in some row are pooled
    into one. Returns (statistic, degrees of freedom, p-value); (0, 0, 1) when fewer than two rows or columns
    remain.
    """
    from scipy.special import chdtrc

    t = np.asarray(table, float)
    t = t[t.sum(axis=1) > 0]
    t = t[:, t.sum(axis=0) > 0]
    if t.shape[0] >= 2 and t.shape[1] >= 2:
        expected = t.sum(axis=1, keepdims=True) * t.sum(axis=0, keepdims=True) / t.sum()
        rare = (expected < MIN_EXPECTED).any(axis=0)
        if rare.any() and (~rare).any():
            t = np.column_stack([t[:, ~rare], t[:, rare].sum(axis=1)])
    if t.shape[0] < 2 or t.shape[1] < 2:
        return 0.0, 0, 1.0
    expected = t.sum(axis=1, keepdims=True) * t.sum(axis=0, keepdims=True) / t.sum()
    statistic = float(((t - expected) ** 2 / expected).sum())
    df = (t.shape[0] - 1) * (t.shape[1] - 1)
    return statistic, df, float(chdtrc(df, statistic))
