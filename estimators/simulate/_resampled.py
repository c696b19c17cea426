"""Scenario (g): tables resampled from log-linear models fitted to the shipped real datasets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

import numpy as np

from ..exceptions import DataError
from ..histories import CaptureHistories, pattern_matrix
from ._closed import Simulation, from_cell_probabilities


def _two_way_design(k: int, terms: Sequence[tuple[int, int]]) -> np.ndarray:
    patterns = pattern_matrix(k)[1:].astype(float)
    columns = [np.ones(len(patterns)), *patterns.T, *(patterns[:, i] * patterns[:, j] for i, j in terms)]
    return np.column_stack(columns)


@dataclass(frozen=True)
class RealModel:
    """A log-linear model fitted to a real table, used as the truth for resampling.

    Attributes
    ----------
    dataset : str
    lists : tuple of str
    interactions : tuple of (int, int)
        The two-way terms chosen (list indices).
    truth : int
        The fitted N, rounded: the population size of every resampled table.
    probabilities : ndarray
        Fitted probability of each of the 2**k cells (index 0 = unlisted).
    """

    dataset: str
    lists: tuple[str, ...]
    interactions: tuple[tuple[int, int], ...]
    truth: int
    probabilities: np.ndarray

    @property
    def model(self) -> str:
        """The model in hierarchical bracket notation over list numbers (1-based)."""
        k = len(self.lists)
        inside = {j for pair in self.interactions for j in pair}
        terms = [f"{i + 1}{j + 1}" for i, j in self.interactions] + [str(j + 1) for j in range(k) if j not in inside]
        return "[" + ",".join(terms) + "]"


def _fit_two_way(histories: CaptureHistories, terms) -> tuple[float, float, np.ndarray] | None:
    from .._glm import fit_poisson

    y = histories.dense_counts()[1:].astype(float)
    design = _two_way_design(histories.k, terms)
    fit = fit_poisson(design, y)
    if not fit.converged or not np.all(np.isfinite(fit.coef)):
        return None
    unlisted = float(np.exp(fit.coef[0]))
    bic = fit.deviance + design.shape[1] * np.log(y.sum())
    return bic, unlisted, fit.fitted


@lru_cache(maxsize=None)
def fitted_real_model(dataset: str, max_ratio: float = 10.0) -> RealModel:
    """Fit main effects plus BIC-selected two-way interactions to a shipped dataset; return it as a truth.

    Forward selection: starting from independence, add the two-way interaction that lowers BIC most (BIC with
    the number of observed people, as Rcapture), while the fit converges and the fitted N stays below
    ``max_ratio`` times the observed count (a guard against models whose MLE is near non-existence, which
    would make a poor truth). This mirrors Chan, Silverman & Vincent (2021), who simulated from models fitted
    to the real tables.

    Parameters
    ----------
    dataset : str
        Name of a shipped closed-population dataset (see :func:`estimators.list_datasets`); strata are summed.
    max_ratio : float
        Largest N / n accepted for a candidate model.

    Returns
    -------
    RealModel

    Examples
    --------
    >>> model = fitted_real_model("CARE1_HAV")
    >>> model.truth > 271
    True
    """
    from ..datasets import load_dataset

    histories = load_dataset(dataset, collapse=True)
    n = histories.n_observed
    k = histories.k
    chosen: list[tuple[int, int]] = []
    best = _fit_two_way(histories, chosen)
    if best is None:
        raise DataError(f"The independence model does not converge on {dataset!r}; it cannot serve as a truth.")
    while True:
        candidates = []
        for pair in combinations(range(k), 2):
            if pair in chosen:
                continue
            result = _fit_two_way(histories, [*chosen, pair])
            if result is not None and n + result[1] <= max_ratio * n:
                candidates.append((result[0], pair, result))
        # a model needs at least one degree of freedom left: 2**k - 1 cells against 1 + k + terms parameters
        candidates = [c for c in candidates if 1 + k + len(chosen) + 1 < 2**k - 1]
        if not candidates:
            break
        bic, pair, result = min(candidates, key=lambda c: c[0])
        if bic >= best[0]:
            break
        chosen.append(pair)
        best = result
    _, unlisted, fitted = best
    truth = int(round(n + unlisted))
    cells = np.concatenate([[unlisted], fitted])
    cells = cells / cells.sum()
    cells.flags.writeable = False
    return RealModel(dataset, histories.lists, tuple(chosen), truth, cells)


def resampled_table(dataset: str, *, random_seed=None):
    """Scenario (g): a table drawn from the log-linear model fitted to a real dataset (truth = its fitted N).

    Parameters
    ----------
    dataset : str
        A shipped closed-population dataset, e.g. ``"LCMCR_kosovo"``.
    random_seed : None, int or numpy Generator

    Returns
    -------
    Simulation

    References
    ----------
    Chan, L., Silverman, B. W. & Vincent, K. (2021). Multiple systems estimation for sparse capture data:
    inferential challenges when there are nonoverlapping lists. JASA 116(535), 1297-1306.

    Examples
    --------
    >>> sim = resampled_table("CARE1_HAV", random_seed=0)
    >>> sim.histories.lists
    ('L1', 'L2', 'L3')
    """
    model = fitted_real_model(dataset)
    sim = from_cell_probabilities(model.probabilities, model.truth, lists=model.lists, random_seed=random_seed)
    return Simulation(sim.histories, sim.truth, f"resampled_{dataset}", sim.probabilities)
