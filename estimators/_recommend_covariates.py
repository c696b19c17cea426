"""Covariates in :func:`estimators.estimate`: whether capture differs by a recorded covariate, and the methods
run within its levels.

When capture differs between groups of people that the records name (a region, sex, a period), pooling the groups
is heterogeneous capture: every pair of lists looks positively dependent and N is underestimated. The evidence and
the design: ``benchmarks/results/calibration_records.md`` and ``benchmarks/NOTES.md``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._contingency import homogeneity_test
from .exceptions import DataError
from .histories import CaptureHistories, _holds_dates, pattern_index, pattern_matrix

# a column with more distinct values than this is not tested as a stratum (an identifier, a date, a name)
MAX_LEVELS = 20
# tested columns whose pattern distributions differ at this level, Bonferroni over the columns, are named
ALPHA = 0.01


def pattern_table(h: CaptureHistories, column: str) -> tuple[list, np.ndarray]:
    """(levels, (levels, 2**k) counts): the observed capture patterns of each level of ``column``.

    Records with no value in the column are left out.
    """
    values = pd.Series(h.covariates[column])
    present = values.notna().to_numpy()
    try:
        codes, levels = pd.factorize(values[present], sort=True)
    except TypeError:  # values that cannot be ordered together (text and numbers): in order of appearance
        codes, levels = pd.factorize(values[present], sort=False)
    table = np.zeros((len(levels), 2**h.k))
    np.add.at(table, (codes, pattern_index(h.patterns[present])), h.counts[present])
    return list(levels), table


def lists_in_every_level(table: np.ndarray, k: int) -> np.ndarray | None:
    """The (levels, patterns) table over the lists with records in every level, the others summed out.

    A list absent from a level (it started late, or did not work in a region) changes the patterns there by its
    absence, not by anyone's capture; that is for the late-list check, not this test. Records seen only by such
    lists are left out. None when fewer than two lists remain.
    """
    patterns = pattern_matrix(k)
    present = (table @ patterns) > 0
    keep = present.all(axis=0)
    if keep.all():
        return table
    if keep.sum() < 2:
        return None
    marginal = np.zeros((table.shape[0], 2 ** int(keep.sum())))
    np.add.at(marginal.T, pattern_index(patterns[:, keep]), table.T)
    return marginal[:, 1:]


def candidate_columns(h: CaptureHistories) -> list[str]:
    """Covariates that could be strata: 2 to ``MAX_LEVELS`` distinct values, not dates."""
    out = []
    for name, values in h.covariates.items():
        series = pd.Series(values)
        try:
            levels = series.nunique(dropna=True)
        except TypeError:  # unhashable values (lists, dicts): not a stratum column
            continue
        if 2 <= levels <= MAX_LEVELS and not _holds_dates(series):
            out.append(name)
    return out


def capture_differs(h: CaptureHistories, columns=None) -> list[tuple[str, float, int]]:
    """(column, p-value, levels) for each candidate column whose capture patterns differ between its levels
    (Pearson chi-square, Bonferroni over the columns tested at ``ALPHA``). A column that is a function of the
    pattern (each pattern in one level only, as conting's ``censored`` marker of one cell) is not tested."""
    columns = candidate_columns(h) if columns is None else list(columns)
    found = []
    for column in columns:
        levels, table = pattern_table(h, column)
        if ((table > 0).sum(axis=0) <= 1).all():
            continue  # every pattern in one level only: the column is read from the lists (a cell marker)
        table = lists_in_every_level(table, h.k)
        if table is None:
            continue
        _, df, p = homogeneity_test(table)
        if df and p < ALPHA / len(columns):
            found.append((column, p, len(levels)))
    return found


def check_covariates(h: CaptureHistories, covariates) -> list[str]:
    """The covariate names, checked: known columns, no missing values. Raises DataError naming the fix."""
    names = [covariates] if isinstance(covariates, str) else list(covariates)
    if not names:
        raise DataError("`covariates` is empty: name at least one column, or leave it out (None).")
    unknown = [n for n in names if n not in h.covariates]
    if unknown:
        raise DataError(f"Unknown covariate column(s) {unknown!r}; the records' other columns are "
                        f"{list(h.covariates)!r}.")
    for name in names:
        missing = pd.Series(h.covariates[name]).isna().to_numpy()
        if missing.any():
            n = int(h.counts[missing].sum())
            raise DataError(
                f"Covariate {name!r} is missing for {n:,} of {h.n_observed:,} records. Impute it and pass the "
                f"imputations: estimate(impute(records, lists=..., columns=[{name!r}]), covariates=[...]); or leave "
                "the covariate out. Dropping those records would bias N downward unless they are missing at random.")
        levels = pd.Series(h.covariates[name]).nunique()
        if levels > MAX_LEVELS:
            raise DataError(f"Covariate {name!r} has {levels} distinct values (at most {MAX_LEVELS}): bin it into "
                            "a few groups first (a continuous covariate suits estimators.huggins).")
    return names


def absent_lists(h: CaptureHistories, covariates: list[str]) -> dict[str, list]:
    """List -> the levels (of the covariates' cross-classification) where it has no record, for the lists
    that have records in some level but not in all."""
    keys = [pd.Series(h.covariates[name]).astype(str).to_numpy() for name in covariates]
    totals = pd.DataFrame(h.patterns * h.counts[:, None], columns=list(h.lists)).groupby(keys).sum()
    labels = [" / ".join(level) if isinstance(level, tuple) else level for level in totals.index]
    return {name: [label for label, zero in zip(labels, totals[name] == 0) if zero]
            for name in h.lists if (totals[name] == 0).any()}
