"""Model searches for hierarchical log-linear models: exhaustive (k <= 5), R's ``step()``, forward stepwise.

* k <= 5: every hierarchical model containing all main effects and no k-way term (Rcapture ``closedpMS.t``:
  8, 113 and 6,893 models for k = 3, 4, 5), ranked by AIC or BIC, BIC with the log of the number of observed
  units as penalty.
* k >= 6, ``select="aic"``/``"bic"``: R's ``step()`` in both directions over two-list interactions from the
  main-effects model with that penalty.
* ``select="stepwise"`` (any k): the forward stepwise method of Chan, Silverman & Vincent (2021) as in SparseMSE
  ``stepwisefit``: add the two-list interaction with the smallest Poisson p-value of its observed overlap while
  that p-value is below ``pthresh``.

In every search a model whose maximum-likelihood estimate does not exist (:mod:`._existence`) is skipped and
counted, never returned. Each search works on a raw count vector, so the bootstrap can rerun it on resampled tables.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .._lazy import special
from .._validation import Interval, Real
from ._existence import ExistenceOracle
from ._fit import Fits, fit_models
from ._model import HierarchicalModel, term_mask

SELECT = ("aic", "bic", "stepwise")
MAX_EXHAUSTIVE_LISTS = 5


@lru_cache(maxsize=None)
def hierarchical_models(k: int) -> tuple[HierarchicalModel, ...]:
    """Every hierarchical model with all main effects and without the k-way term (Rcapture ``closedpMS.t``).

    The k-way term is excluded because with it N is not identifiable, and main effects are forced as in Rcapture,
    so there are 8, 113 and 6,893 models for k = 3, 4, 5.
    """
    if k > MAX_EXHAUSTIVE_LISTS:
        raise ValueError(f"Exhaustive enumeration is limited to k <= {MAX_EXHAUSTIVE_LISTS} lists; got {k}.")
    singles = tuple(term_mask((j,), k) for j in range(k))
    # Candidate terms in design-column order (order, then positions); a model is the set of candidates it holds,
    # written as an integer whose bit n - 1 - i says whether it holds candidate i. The order of the models is
    # then the order of these integers, the order Rcapture's closedpMS.t lists them in, and each model costs a
    # few integer operations instead of a recursion and a generating-class search (6,893 models for k = 5: a
    # quarter of a second of the first search in a fresh process).
    levels = [[term_mask(c, k) for c in itertools.combinations(range(k), size)] for size in range(2, k)]
    candidates = [term for level in levels for term in level]
    n = len(candidates)
    bit = {term: 1 << (n - 1 - i) for i, term in enumerate(candidates)}
    # Hierarchy: a term may enter only if all its sub-terms one order down are in (main effects always are).
    needs = {term: sum(bit.get(term & ~(1 << b), 0) for b in range(k) if term >> b & 1) for term in candidates}
    masks = [0]
    for level in levels:
        grown = []
        for mask in masks:
            allowed = [bit[term] for term in level if needs[term] & mask == needs[term]]
            for size in range(len(allowed) + 1):
                for chosen in itertools.combinations(allowed, size):
                    grown.append(mask | sum(chosen))
        masks = grown
    masks.sort()
    # A held term is in the generating class unless a held term one list larger contains it.
    covering = {
        term: sum(bit.get(term | 1 << b, 0) for b in range(k) if not term >> b & 1) for term in (*singles, *candidates)
    }
    by_order = [(term, bit[term], covering[term]) for level in reversed(levels) for term in level]
    models = []
    for mask in masks:
        held = tuple(term for term in candidates if mask & bit[term])
        generators = tuple(term for term, own, cover in by_order if mask & own and not mask & cover)
        generators += tuple(term for term in singles if not mask & covering[term])
        models.append(HierarchicalModel(k, generators, singles + held))
    return tuple(models)


@dataclass(frozen=True)
class Selection:
    model: HierarchicalModel | None
    fits: Fits | None  # fits of the chosen model (index 0) or of all models searched
    index: int
    search: str
    n_models: int
    n_nonexistent: int
    lp_calls: int


def exhaustive(y, k: int, criterion: str, oracle: ExistenceOracle | None = None) -> Selection:
    oracle = oracle or ExistenceOracle(y, k)
    fits = fit_models(y, k, hierarchical_models(k), oracle)
    values = np.where(fits.ok, fits.criterion(criterion), np.inf)
    index = int(np.argmin(values)) if fits.ok.any() else -1
    return Selection(
        fits.models[index] if index >= 0 else None,
        fits,
        index,
        f"exhaustive over {len(fits.models)} hierarchical models by {criterion.upper()}",
        len(fits.models),
        int((~fits.ok).sum()),
        oracle.lp_calls,
    )


def _pairs(k: int) -> list[int]:
    """Two-list interactions a stepwise search may add; none for k = 2, where the pair is the k-way term."""
    return [term_mask(pair, k) for pair in itertools.combinations(range(k), 2)] if k > 2 else []


def with_pairs(k: int, pairs) -> HierarchicalModel:
    return HierarchicalModel.from_terms([term_mask((j,), k) for j in range(k)] + list(pairs), k)


def step_search(y, k: int, criterion: str, oracle: ExistenceOracle | None = None) -> Selection:
    """R ``step(direction="both")`` over two-list interactions from the main-effects model, penalty 2 (AIC) or
    log(n) (BIC): move to the best of all single additions and deletions while that lowers the criterion."""
    oracle = oracle or ExistenceOracle(y, k)
    pairs = _pairs(k)
    current: tuple[int, ...] = ()
    current_fit = fit_models(y, k, [with_pairs(k, current)], oracle)
    if not current_fit.ok[0]:
        return Selection(None, current_fit, -1, "stepwise (R step)", 1, 1, oracle.lp_calls)
    seen, skipped = {current}, set()
    while True:
        candidates = [tuple(p for p in current if p != drop) for drop in current]
        candidates += [tuple(sorted(current + (add,))) for add in pairs if add not in current]
        fits = fit_models(y, k, [with_pairs(k, c) for c in candidates], oracle)
        seen.update(candidates)
        skipped.update(c for c, good in zip(candidates, fits.ok) if not good)
        values = np.where(fits.ok, fits.criterion(criterion), np.inf)
        best = int(np.argmin(values))
        if not values[best] < current_fit.criterion(criterion)[0]:
            break
        current = candidates[best]
        current_fit = fit_models(y, k, [with_pairs(k, current)], oracle)
    direction = f"stepwise in both directions over two-list interactions by {criterion.upper()} (as R step())"
    return Selection(current_fit.models[0], current_fit, 0, direction, len(seen), len(skipped), oracle.lp_calls)


def poisson_stepwise(y, k: int, pthresh: float = 0.02, oracle: ExistenceOracle | None = None) -> Selection:
    """Chan, Silverman & Vincent (2021) forward stepwise selection (SparseMSE ``stepwisefit``).

    From the main-effects model, each not-yet-included pair of lists is scored by the Poisson p-value
    ``min(P(X <= n_ij), P(X >= n_ij))`` of its observed overlap n_ij, X ~ Poisson(fitted overlap of the current
    model). The pair with the smallest p-value (first in list order on ties) among those whose model passes the
    existence check is added while that p-value is below ``pthresh``. Candidates are checked in p-value order,
    which selects the same pair as checking all of them.
    """
    oracle = oracle or ExistenceOracle(y, k)
    y = np.asarray(y, dtype=float)
    cells = np.arange(1, len(y) + 1, dtype=np.int64)
    pairs = _pairs(k)
    contains = np.array([(cells & p) == p for p in pairs], dtype=float).reshape(len(pairs), len(cells))
    observed = contains @ y
    included: list[int] = []
    fits = fit_models(y, k, [with_pairs(k, included)], oracle)
    tried = 1
    while fits.ok[0] and len(included) < len(pairs):
        expected = contains @ fits.fitted[0]
        # min(P(X <= n), P(X >= n)) for X ~ Poisson(expected); P(X >= 0) = 1.
        upper = np.where(observed > 0, special.pdtrc(np.maximum(observed - 1, 0), expected), 1.0)
        pvalues = np.minimum(special.pdtr(observed, expected), upper)
        order = sorted((pvalues[j], j) for j in range(len(pairs)) if pairs[j] not in included)
        chosen = None
        for pvalue, j in order:
            if not pvalue < pthresh:
                break
            tried += 1
            if oracle.check(with_pairs(k, included + [pairs[j]]).terms):
                chosen = j
                break
        if chosen is None:
            break
        included.append(pairs[chosen])
        fits = fit_models(y, k, [with_pairs(k, included)], oracle)
    index = 0 if fits.ok[0] else -1
    return Selection(
        fits.models[0] if index == 0 else None,
        fits,
        index,
        f"forward stepwise by Poisson p-values of overlaps, pthresh={pthresh:g} (Chan, Silverman & Vincent 2021)",
        tried,
        int(not fits.ok[0]),
        oracle.lp_calls,
    )


def select_model(y, k: int, select: str, pthresh: float = 0.02) -> Selection:
    """The search ``loglinear`` runs for ``select`` on a count vector over cells 1 .. 2**k - 1."""
    oracle = ExistenceOracle(y, k)
    if select == "stepwise":
        return poisson_stepwise(y, k, pthresh, oracle)
    if k <= MAX_EXHAUSTIVE_LISTS:
        return exhaustive(y, k, select, oracle)
    return step_search(y, k, select, oracle)


def check_pthresh(pthresh) -> float:
    if isinstance(pthresh, bool) or not isinstance(pthresh, (int, float)) or not 0 < float(pthresh) < 1:
        raise ValueError(
            f"`pthresh` must be a p-value threshold strictly between 0 and 1 (e.g. 0.02); got {pthresh!r}."
        )
    return float(pthresh)


PTHRESH = Interval(Real, 0, 1, closed="neither",
                    description="a p-value threshold strictly between 0 and 1 (e.g. 0.02)")

