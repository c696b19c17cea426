"""Whether a list's coverage changes over the study, read from the records before any fit: the choice
``time_varying_capture="auto"`` makes (:func:`auto_time_varying`).

Among the deaths recorded by the other lists, the share that list ``j`` also recorded estimates ``j``'s capture
probability (the Lincoln-Petersen idea; exactly so when ``j`` captures independently of them, and a constant
ratio of it when the dependence does not change). So where ``j``'s coverage is constant that share is the same
in every period, whatever the number of deaths, and a chi-square test of homogeneity over consecutive blocks of
the study detects a drift or a jump in ``j``'s coverage. Only records dated to the day enter; the other lists are
those present on every bin of ``j``'s window (``list_windows``), their capture marginalised over the rest, so a
list that starts late does not change what is compared.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._contingency import homogeneity_test as contingency_test
from ..histories import pattern_matrix
from ._inputs import DailyData, bin_presence

# the test is run on at most this many consecutive blocks of roughly equal numbers of reference records
BLOCKS = 8
# and each block has at least this many: the chi-square approximation needs expected counts well above 5
MIN_REFERENCE = 50
# the dispersion between bins is estimated, and allowed for, only from at least this many degrees of freedom (with
# few bins a change inside one block inflates it more than lumps of records do)
MIN_DISPERSION_DF = 30
# family-wise level over the lists tested (Bonferroni): a false alarm costs 2-3x the fitting time, not coverage
# (benchmarks/results/calibration_grid.md, rows defaults_time_varying)
ALPHA = 0.01


@dataclass(frozen=True)
class Drift:
    """The list whose share of the other lists' records changes most over the study (smallest p-value)."""

    list_name: str
    p_value: float
    first_share: float  # share of the other lists' records it also recorded, first block
    last_share: float  # and last block
    blocks: int
    lists_tested: int
    step_days: int = 7  # the capture walk's step, capture_bin_days

    def message(self) -> str:
        absent = ""
        if min(self.first_share, self.last_share) == 0:
            absent = (f" {self.list_name!r} recorded none of them in the {'first' if self.first_share == 0 else 'last'}"
                      " period: if it did not exist then, say so with list_windows (a random walk of its capture "
                      "cannot reach zero).")
        return (
            f"time_varying_capture='auto' lets each list's coverage change over the study (a random walk with "
            f"a step every {self.step_days} days, capture_bin_days): of the deaths the other lists recorded, {self.list_name!r} also recorded "
            f"{self.first_share:.0%} in the first of {self.blocks} periods and {self.last_share:.0%} in the last "
            f"(chi-square test of equal shares, p = {self.p_value:.1e}, {self.lists_tested} lists tested). With "
            "constant coverage the deaths no list recorded would be spread over the days by the wrong capture "
            f"probabilities.{absent} Pass time_varying_capture=False to assume constant coverage."
        )


def shares_by_bin(cells: np.ndarray, bits: np.ndarray, j: int, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(records recorded by a ``reference`` list, of them also by list ``j``) per bin; ``cells``: (bins, patterns)."""
    seen = bits[:, reference].any(axis=1)
    return cells[:, seen].sum(axis=1), cells[:, seen & (bits[:, j] == 1)].sum(axis=1)


def blocks(counts: np.ndarray, n_blocks: int = BLOCKS, min_count: float = MIN_REFERENCE) -> np.ndarray:
    """(bins,) block label of consecutive bins, about equal ``counts`` per block, each with >= ``min_count``.

    As many blocks as ``n_blocks`` and ``min_count`` allow (at least one); a short last block joins the one before.
    """
    total = float(counts.sum())
    n = int(max(1, min(n_blocks, total // min_count))) if total > 0 else 1
    cumulative = np.cumsum(counts) - counts / 2  # each bin's middle on the cumulative scale
    labels = np.minimum((cumulative / total * n).astype(int), n - 1) if total > 0 else np.zeros(len(counts), int)
    sums = np.bincount(labels, weights=counts, minlength=n)
    for b in range(n - 1, 0, -1):
        if sums[b] < min_count:
            labels[labels == b] = b - 1
            sums[b - 1] += sums[b]
            sums[b] = 0
    return np.unique(labels, return_inverse=True)[1]


def homogeneity_test(hits: np.ndarray, totals: np.ndarray) -> float:
    """p-value of Pearson's chi-square test that the share ``hits / totals`` is the same in every block."""
    return contingency_test(np.column_stack([hits, totals - hits]))[2]


def dispersion(hits: np.ndarray, totals: np.ndarray, label: np.ndarray) -> tuple[float, int]:
    """(Pearson dispersion, its degrees of freedom) of the per-bin shares around their block's share.

    Under binomial sampling each bin's ``(hits - totals p)^2 / (totals p (1 - p))`` has mean one, so their sum over
    the bins, divided by the bins less the blocks, estimates the extra-binomial variation (McCullagh & Nelder 1989,
    section 4.5): records that enter lists together (one incident reported as a whole, a batch of records
    undated together) make it exceed one.
    """
    used = totals > 0
    block_hits, block_totals = np.bincount(label, weights=hits), np.bincount(label, weights=totals)
    p = np.divide(block_hits, block_totals, out=np.zeros_like(block_hits), where=block_totals > 0)[label]
    variance = totals * p * (1.0 - p)
    keep = used & (variance > 0)
    df = int(keep.sum()) - len(np.unique(label[keep]))
    if df < 1:
        return 1.0, 0
    return float(((hits[keep] - totals[keep] * p[keep]) ** 2 / variance[keep]).sum() / df), df


def drift_test(hits: np.ndarray, totals: np.ndarray, label: np.ndarray) -> float:
    """p-value that the share is the same in every block, allowing for extra-binomial variation between bins.

    Pearson's chi-square over the blocks; where the bins vary more than binomially about their block's share
    (:func:`dispersion` above one, from at least ``MIN_DISPERSION_DF`` degrees of freedom), the quasi-likelihood F
    test of the same statistic divided by the dispersion (McCullagh & Nelder 1989, section 4.5.2), so lumps of
    records do not read as a change in coverage.
    """
    from scipy.stats import f

    block_hits, block_totals = np.bincount(label, weights=hits), np.bincount(label, weights=totals)
    table = np.column_stack([block_hits, block_totals - block_hits])
    statistic, df, p_value = contingency_test(table)
    phi, df_within = dispersion(hits, totals, label)
    if df == 0 or phi <= 1.0 or df_within < MIN_DISPERSION_DF:
        return p_value
    return float(f.sf(statistic / df / phi, df, df_within))


def capture_drift(data: DailyData, *, alpha: float = ALPHA) -> Drift | None:
    """The clearest change in a list's coverage over the study, or None when no list's changes at ``alpha``
    (Bonferroni over the lists tested) or none can be tested (fewer than two lists, too few dated records)."""
    if data.k < 2:
        return None
    present = bin_presence(data)
    bits = pattern_matrix(data.k)[1:]  # the patterns of list_cells' columns
    found, tested = [], 0
    for j in range(data.k):
        window = present[:, j]
        reference = np.flatnonzero(present[window].all(axis=0) & (np.arange(data.k) != j))
        if not window.any() or not len(reference):
            continue
        bin_totals, bin_hits = shares_by_bin(data.list_cells[window], bits, j, reference)
        label = blocks(bin_totals)
        totals, hits = np.bincount(label, weights=bin_totals), np.bincount(label, weights=bin_hits)
        if len(totals) < 2:
            continue
        tested += 1
        found.append((drift_test(bin_hits, bin_totals, label), j, hits[0] / totals[0], hits[-1] / totals[-1],
                      len(totals)))
    if not found:
        return None
    p_value, j, first, last, n_blocks = min(found)
    if p_value * tested >= alpha:
        return None
    return Drift(data.list_names[j], p_value, float(first), float(last), n_blocks, tested, data.capture_bin_days)


def auto_time_varying(data: DailyData) -> tuple[bool, str | None]:
    """``time_varying_capture="auto"``: (True, why) when some list's coverage changes (:func:`capture_drift`),
    else (False, None)."""
    drift = capture_drift(data)
    return (False, None) if drift is None else (True, drift.message())
