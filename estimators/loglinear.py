"""Hierarchical Poisson log-linear models for k lists: fitting, exhaustive and stepwise model search, intervals for N.

The counts of the 2**k - 1 observable capture patterns are independent Poisson with log mean
``u + sum of the terms of the model that the pattern contains`` (Fienberg 1972; Cormack 1989). The never-listed
pattern has log mean ``u``, so N = n + exp(u). Models are hierarchical: written by their generating class in
the bracket notation of Rcapture, e.g. ``"[12,13,4]"`` for the interactions of list 1 with lists 2 and 3 and the
main effects of all four lists.

Model search follows the R packages the results are checked against:

* k <= 5: every hierarchical model containing all main effects and no k-way term (Rcapture ``closedpMS.t``:
  8, 113 and 6,893 models for k = 3, 4, 5), ranked by AIC or BIC, BIC with the log of the number of observed
  units as penalty.
* k >= 6, ``select="aic"``/``"bic"``: R's ``step()`` in both directions over two-list interactions from the
  main-effects model with that penalty.
* ``select="stepwise"`` (any k): the forward stepwise method of Chan, Silverman & Vincent (2021) as in SparseMSE
  ``stepwisefit``: add the two-list interaction with the smallest Poisson p-value of its observed overlap while
  that p-value is below ``pthresh``.

In every search a model whose maximum-likelihood estimate does not exist (:mod:`estimators.existence`) is
skipped and counted, never returned.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import special, stats

from . import _warn
from . import _glm
from ._validation import LEVEL, Interval, Options, Real, check_choice, check_level, validate_params
from .exceptions import ConvergenceWarning, DataError, NonexistentEstimateError
from .existence import ExistenceOracle, describe, term_columns
from .histories import CaptureHistories, check_histories
from .results import Estimate

SELECT = ("aic", "bic", "stepwise")
INTERVALS = ("profile", "wald")
MAX_EXHAUSTIVE_LISTS = 5
# Beyond this the 2**k-cell table is nearly all zeros and step() over k(k-1)/2 pairs takes minutes and gigabytes.
MAX_LISTS = 12
DIGIT_NOTATION_MAX_LISTS = 9
METHOD = "log-linear model (Poisson, hierarchical)"


# --------------------------------------------------------------------------------------------------------------
# Models: terms are bit masks over lists (list position j is bit k-1-j, as cell indices in dense_counts()).


def positions(mask: int, k: int) -> tuple[int, ...]:
    """0-based list positions in a term mask, ascending."""
    return tuple(j for j in range(k) if mask >> (k - 1 - j) & 1)


def term_mask(list_positions, k: int) -> int:
    return sum(1 << (k - 1 - j) for j in list_positions)


@lru_cache(maxsize=None)
def _order_keys(k: int) -> tuple:
    """Sort key of every mask (order, then positions): computed once per k because searches sort thousands."""
    return tuple((bin(mask).count("1"), positions(mask, k)) for mask in range(2**k))


def _term_order(mask: int, k: int):
    return _order_keys(k)[mask]


def closure(generators, k: int) -> tuple[int, ...]:
    """Every non-empty subset of every generator, sorted by order then lexicographically (the design's columns)."""
    terms = set()
    for generator in generators:
        members = positions(generator, k)
        for size in range(1, len(members) + 1):
            for subset in itertools.combinations(members, size):
                terms.add(term_mask(subset, k))
    return tuple(sorted(terms, key=lambda t: _term_order(t, k)))


def generating_class(terms, k: int) -> tuple[int, ...]:
    """Maximal terms, ordered as Rcapture names models: highest order first, then lexicographically."""
    terms = set(terms)
    # In a hierarchical family a term has a superset iff it has one exactly one list larger.
    maximal = [t for t in terms if not any((t | 1 << bit) in terms for bit in range(k) if not t >> bit & 1)]
    keys = _order_keys(k)
    return tuple(sorted(maximal, key=lambda t: (-keys[t][0], keys[t][1])))


@dataclass(frozen=True)
class HierarchicalModel:
    """A hierarchical log-linear model over k lists: its generating class and all its terms (bit masks)."""

    k: int
    generators: tuple[int, ...]
    terms: tuple[int, ...]

    @property
    def n_parameters(self) -> int:
        return 1 + len(self.terms)

    @classmethod
    def from_terms(cls, terms, k: int) -> "HierarchicalModel":
        """From a hierarchically closed set of terms (every subset of a term is a term)."""
        keys = _order_keys(k)
        terms = tuple(sorted(set(terms), key=keys.__getitem__))
        return cls(k, generating_class(terms, k), terms)

    def name(self, lists=None) -> str:
        """Bracket notation: ``"[12,3]"`` (1-based positions) for k <= 9, list names joined by ':' beyond."""
        if self.k <= DIGIT_NOTATION_MAX_LISTS:
            body = ",".join("".join(str(j + 1) for j in positions(g, self.k)) for g in self.generators)
        else:
            body = ",".join(":".join(str(lists[j]) for j in positions(g, self.k)) for g in self.generators)
        return f"[{body}]"

    def term_label_fn(self, lists):
        return lambda mask: ":".join(str(lists[j]) for j in positions(mask, self.k))

    @classmethod
    def parse(cls, model, lists) -> "HierarchicalModel":
        """Read a model given in bracket notation or as a list of terms; raise ValueError naming the problem."""
        lists = tuple(lists)
        k = len(lists)
        if isinstance(model, HierarchicalModel):
            if model.k != k:
                raise ValueError(f"`model` is for {model.k} lists but the data have {k}.")
            return model
        if isinstance(model, str):
            raw_terms = _split_bracket(model, lists)
        elif isinstance(model, (list, tuple)):
            raw_terms = [_read_term(term, lists, model) for term in model]
        else:
            raise ValueError(
                f"`model` must be a bracket string such as '[12,3]' or a list of terms such as [['A', 'B'], ['C']]; "
                f"got {model!r}."
            )
        if not raw_terms:
            raise ValueError(
                f"`model` {model!r} has no terms; every list needs at least its main effect, e.g. "
                f"'[{','.join(str(j + 1) for j in range(min(k, 9)))}]' for independence."
            )
        masks = []
        for members in raw_terms:
            if len(set(members)) != len(members):
                raise ValueError(f"Term {_show(members, lists)} in `model` {model!r} repeats a list.")
            if len(members) == k:
                raise ValueError(
                    f"Term {_show(members, lists)} in `model` {model!r} is the {k}-way interaction: with it the "
                    "model is saturated including the never-listed cell and N is not identifiable. Drop it."
                )
            masks.append(term_mask(members, k))
        for i, mask in enumerate(masks):
            for j, other in enumerate(masks):
                if i != j and other & mask == mask and (mask != other or j < i):
                    raise ValueError(
                        f"`model` {model!r} is not a hierarchical generating class: term "
                        f"{_show(positions(mask, k), lists)} is already implied by "
                        f"{_show(positions(other, k), lists)}. List only the highest-order terms, e.g. '[12,3]'."
                    )
        covered = 0
        for mask in masks:
            covered |= mask
        missing = [lists[j] for j in range(k) if not covered >> (k - 1 - j) & 1]
        if missing:
            raise ValueError(
                f"`model` {model!r} leaves out list(s) {missing}: every list needs at least its main effect "
                "(Rcapture and SparseMSE models always include them). Add them as single terms."
            )
        return cls.from_terms(closure(masks, k), k)


def _show(members, lists) -> str:
    return "[" + ":".join(str(lists[j]) for j in members) + "]"


def _split_bracket(text: str, lists) -> list[tuple[int, ...]]:
    k = len(lists)
    body = text.strip()
    if body.startswith("[") and body.endswith("]"):
        body = body[1:-1]
    tokens = [token.strip() for token in body.split(",")] if body.strip() else []
    if any(token == "" for token in tokens):
        raise ValueError(f"`model` {text!r} has an empty term; write terms separated by commas, e.g. '[12,3]'.")
    terms = []
    for token in tokens:
        if k <= DIGIT_NOTATION_MAX_LISTS and re.fullmatch(r"\d+", token):
            _check_digit_reading(token, lists, text)
        if re.fullmatch(r"\d+", token) and token not in lists:
            if k > DIGIT_NOTATION_MAX_LISTS:
                raise ValueError(
                    f"Term {token!r} in `model` {text!r}: with {k} lists digit notation is ambiguous; write each term "
                    f"as list names joined by ':' (e.g. '[{lists[0]}:{lists[1]},{lists[2]}]') or pass a list of "
                    f"terms such as [[{lists[0]!r}, {lists[1]!r}], [{lists[2]!r}]]."
                )
            members = []
            for digit in token:
                position = int(digit)
                if not 1 <= position <= k:
                    raise ValueError(
                        f"List position {position} in term {token!r} of `model` {text!r} is out of range: the data "
                        f"have {k} lists, numbered 1..{k} ({', '.join(lists)})."
                    )
                members.append(position - 1)
            terms.append(tuple(members))
        else:
            terms.append(tuple(_list_position(name.strip(), lists, text) for name in token.split(":")))
    return terms


def _check_digit_reading(token: str, lists, text: str) -> None:
    """Refuse a digit term that lists named by digits let be read two ways (names, or 1-based positions)."""
    k = len(lists)
    if token in lists:
        by_name = (lists.index(token),)
    elif all(digit in lists for digit in token):
        by_name = tuple(lists.index(digit) for digit in token)
    else:
        return
    if all(1 <= int(digit) <= k for digit in token):
        by_position = tuple(int(digit) - 1 for digit in token)
        if by_position != by_name:
            raise ValueError(
                f"Term {token!r} in `model` {text!r} is ambiguous: the lists are named by digits "
                f"({', '.join(map(str, lists))}), so it could mean lists {_show(by_name, lists)} by name or "
                f"{_show(by_position, lists)} by position. Pass a list of terms by name instead, e.g. "
                f"[{[lists[j] for j in by_name]!r}, ...]."
            )


def _list_position(item, lists, model) -> int:
    if isinstance(item, str):
        if item in lists:
            return lists.index(item)
        raise ValueError(f"Unknown list {item!r} in `model` {model!r}; the lists are {list(lists)}.")
    if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
        if 1 <= int(item) <= len(lists):
            return int(item) - 1
        raise ValueError(
            f"List position {item} in `model` {model!r} is out of range: positions are 1..{len(lists)}."
        )
    raise ValueError(f"Cannot read {item!r} in `model` {model!r} as a list name or 1-based position.")


def _read_term(term, lists, model) -> tuple[int, ...]:
    if isinstance(term, str):
        if term in lists:
            return (lists.index(term),)
        return _split_bracket("[" + term + "]", lists)[0] if "," not in term else _bad_term(term, model)
    if isinstance(term, (int, np.integer)) and not isinstance(term, bool):
        return (_list_position(term, lists, model),)
    if isinstance(term, (list, tuple)) and term:
        return tuple(_list_position(item, lists, model) for item in term)
    return _bad_term(term, model)


def _bad_term(term, model):
    raise ValueError(
        f"Cannot read term {term!r} of `model` {model!r}: give a term as a list of list names or 1-based positions."
    )


def design_matrix(model, lists) -> np.ndarray:
    """Poisson design of ``model`` over the 2**k - 1 observable cells (rows in dense order, first list most
    significant; columns: intercept, then the model's terms by order and position, each a 0/1 indicator)."""
    hierarchical = HierarchicalModel.parse(model, lists)
    return term_columns(np.arange(1, 2 ** len(lists), dtype=np.int64), hierarchical.terms)


@lru_cache(maxsize=None)
def hierarchical_models(k: int) -> tuple[HierarchicalModel, ...]:
    """Every hierarchical model with all main effects and without the k-way term (Rcapture ``closedpMS.t``).

    The k-way term is excluded because with it N is not identifiable, and main effects are forced as in Rcapture,
    so there are 8, 113 and 6,893 models for k = 3, 4, 5.
    """
    if k > MAX_EXHAUSTIVE_LISTS:
        raise ValueError(f"Exhaustive enumeration is limited to k <= {MAX_EXHAUSTIVE_LISTS} lists; got {k}.")
    singles = [term_mask((j,), k) for j in range(k)]
    candidates = [
        term_mask(c, k) for size in range(2, k) for c in itertools.combinations(range(k), size)
    ]
    # Hierarchy: a term may enter only if all its sub-terms one order down are in (main effects always are).
    below = [[c & ~(1 << bit) for bit in range(k) if c >> bit & 1] for c in candidates]
    keys = _order_keys(k)
    models = []
    chosen_list: list[int] = []

    def extend(index: int, chosen: set):
        if index == len(candidates):
            # Candidates are visited in design-column order, so singles + chosen is already sorted.
            terms = tuple(singles + chosen_list)
            models.append(HierarchicalModel(k, generating_class(terms, k), terms))
            return
        term = candidates[index]
        extend(index + 1, chosen)
        if keys[term][0] == 2 or all(sub in chosen for sub in below[index]):
            chosen.add(term)
            chosen_list.append(term)
            extend(index + 1, chosen)
            chosen_list.pop()
            chosen.remove(term)

    extend(0, set())
    return tuple(models)


# --------------------------------------------------------------------------------------------------------------
# Fitting many models at once.


@dataclass(frozen=True)
class Fits:
    """Fit statistics of a batch of models on one table (arrays aligned with ``models``)."""

    models: tuple[HierarchicalModel, ...]
    ok: np.ndarray  # MLE exists and is identifiable
    exists: np.ndarray
    identifiable: np.ndarray
    estimate: np.ndarray
    std_error: np.ndarray
    intercept: np.ndarray
    intercept_variance: np.ndarray
    loglik: np.ndarray
    deviance: np.ndarray
    n_parameters: np.ndarray
    df: np.ndarray
    aic: np.ndarray
    bic: np.ndarray
    converged: np.ndarray
    checks: tuple
    fitted: np.ndarray  # (models, cells) fitted means, 0 on removed cells, nan where not fitted

    def criterion(self, name: str) -> np.ndarray:
        return self.aic if name == "aic" else self.bic


def fit_models(y: np.ndarray, k: int, models, oracle: ExistenceOracle, fit_nonexistent: bool = False) -> Fits:
    """Existence check and Poisson fit of every model; models without an MLE get nan (or, with
    ``fit_nonexistent``, the supremum of their likelihood, approached by a capped number of Newton steps)."""
    models = tuple(models)
    y = np.asarray(y, dtype=float)
    n_cells = len(y)
    cells = np.arange(1, n_cells + 1, dtype=np.int64)
    n_observed = float(y.sum())
    checks = tuple(oracle.check_many([model.terms for model in models]))
    size = len(models)
    ok = np.array([bool(c) for c in checks], dtype=bool)
    out = {name: np.full(size, np.nan) for name in ("intercept", "intercept_variance", "loglik", "deviance")}
    converged = np.zeros(size, dtype=bool)
    fitted = np.full((size, n_cells), np.nan)
    todo = [i for i in range(size) if ok[i] or fit_nonexistent]
    groups: dict[tuple[int, bool], list[int]] = {}
    for i in todo:
        groups.setdefault((len(checks[i].kept_terms), bool(ok[i])), []).append(i)
    for (width, good), members in groups.items():
        term_matrix = np.array([checks[i].kept_terms for i in members], dtype=np.int64).reshape(len(members), width)
        designs = np.ones((len(members), n_cells, width + 1))
        designs[:, :, 1:] = ((cells[None, :, None] & term_matrix[:, None, :]) == term_matrix[:, None, :])
        weights = np.array([checks[i].kept_cells for i in members], dtype=float)
        batch = _glm.fit_poisson_batch(designs, y, weights, max_iter=_glm.MAX_ITER if good else 40)
        index = np.array(members)
        out["intercept"][index] = batch.coef[:, 0]
        out["intercept_variance"][index] = batch.intercept_variance
        out["loglik"][index] = batch.loglik
        out["deviance"][index] = batch.deviance
        converged[index] = batch.converged
        fitted[index] = batch.fitted
    n_parameters = np.array([m.n_parameters for m in models], dtype=float)
    unlisted = np.where(ok, np.exp(out["intercept"]), np.nan)
    variance = unlisted**2 * out["intercept_variance"] + unlisted
    return Fits(
        models=models,
        ok=ok,
        exists=np.array([c.exists for c in checks], dtype=bool),
        identifiable=np.array([c.identifiable for c in checks], dtype=bool),
        estimate=n_observed + unlisted,
        std_error=np.sqrt(np.maximum(variance, 0.0)),
        intercept=out["intercept"],
        intercept_variance=out["intercept_variance"],
        loglik=out["loglik"],
        deviance=out["deviance"],
        n_parameters=n_parameters,
        df=n_cells - n_parameters,
        aic=-2 * out["loglik"] + 2 * n_parameters,
        # Rcapture: BIC = AIC + (log(n) - 2) * rank, n the number of observed units.
        bic=-2 * out["loglik"] + math.log(max(n_observed, 1.0)) * n_parameters,
        converged=converged,
        checks=checks,
        fitted=fitted,
    )


# --------------------------------------------------------------------------------------------------------------
# Searches. Each returns (chosen index into fits, fits, facts about the search) on a raw count vector, so the
# bootstrap can rerun them on resampled tables.


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


def _with_pairs(k: int, pairs) -> HierarchicalModel:
    return HierarchicalModel.from_terms([term_mask((j,), k) for j in range(k)] + list(pairs), k)


def step_search(y, k: int, criterion: str, oracle: ExistenceOracle | None = None) -> Selection:
    """R ``step(direction="both")`` over two-list interactions from the main-effects model, penalty 2 (AIC) or
    log(n) (BIC): move to the best of all single additions and deletions while that lowers the criterion."""
    oracle = oracle or ExistenceOracle(y, k)
    pairs = _pairs(k)
    current: tuple[int, ...] = ()
    current_fit = fit_models(y, k, [_with_pairs(k, current)], oracle)
    if not current_fit.ok[0]:
        return Selection(None, current_fit, -1, "stepwise (R step)", 1, 1, oracle.lp_calls)
    seen, skipped = {current}, set()
    while True:
        candidates = [tuple(p for p in current if p != drop) for drop in current]
        candidates += [tuple(sorted(current + (add,))) for add in pairs if add not in current]
        fits = fit_models(y, k, [_with_pairs(k, c) for c in candidates], oracle)
        seen.update(candidates)
        skipped.update(c for c, good in zip(candidates, fits.ok) if not good)
        values = np.where(fits.ok, fits.criterion(criterion), np.inf)
        best = int(np.argmin(values))
        if not values[best] < current_fit.criterion(criterion)[0]:
            break
        current = candidates[best]
        current_fit = fit_models(y, k, [_with_pairs(k, current)], oracle)
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
    fits = fit_models(y, k, [_with_pairs(k, included)], oracle)
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
            if oracle.check(_with_pairs(k, included + [pairs[j]]).terms):
                chosen = j
                break
        if chosen is None:
            break
        included.append(pairs[chosen])
        fits = fit_models(y, k, [_with_pairs(k, included)], oracle)
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


# --------------------------------------------------------------------------------------------------------------
# Public functions.


def _check_pthresh(pthresh) -> float:
    if isinstance(pthresh, bool) or not isinstance(pthresh, (int, float)) or not 0 < float(pthresh) < 1:
        raise ValueError(
            f"`pthresh` must be a p-value threshold strictly between 0 and 1 (e.g. 0.02); got {pthresh!r}."
        )
    return float(pthresh)


_PTHRESH = Interval(Real, 0, 1, closed="neither",
                    description="a p-value threshold strictly between 0 and 1 (e.g. 0.02)")


@validate_params(
    {"select": [Options(SELECT)], "interval": [Options(INTERVALS)], "level": LEVEL,
     "pthresh": [_PTHRESH]},
    exempt=("h", "model"),
)
def loglinear(
    h: CaptureHistories,
    model=None,
    *,
    select: str = "bic",
    interval: str = "profile",
    level: float = 0.95,
    pthresh: float = 0.02,
) -> Estimate:
    """Estimate N with a hierarchical Poisson log-linear model, given or selected.

    The 2**k - 1 observable pattern counts are independent Poisson with log mean the sum of the model's terms
    that the pattern contains; the never-listed pattern has log mean equal to the intercept u, so
    N = n + exp(u) (Fienberg 1972; Cormack 1989). Terms model dependence between lists (list interactions); the
    untestable assumption is that the highest-order interaction is zero. The interval is the multinomial
    profile-likelihood interval of Cormack (1992), as Rcapture's ``closedpCI.t``; ``interval="wald"`` gives
    n + exp(u +- z se(u)) instead (SparseMSE's interval).

    Parameters
    ----------
    h : CaptureHistories
        The observed lists (k >= 2).
    model : str, sequence of terms, or None
        Generating class in bracket notation, ``"[12,13,4]"`` (1-based list positions, k <= 9), or list names
        joined by ``:`` (``"[A:B,C]"``), or a list of terms (``[["A", "B"], ["C"]]``, positions allowed). Every
        list must appear; the k-way term is not allowed. ``None`` selects a model (see ``select``).
    select : {"bic", "aic", "stepwise"}
        With ``model=None``: for k <= 5, the lowest BIC or AIC over all hierarchical models (Rcapture
        ``closedpMS.t``); for k >= 6, R's ``step()`` in both directions over two-list interactions with that
        penalty. ``"stepwise"``: forward selection of two-list interactions by Poisson p-values (SparseMSE).
        BIC's penalty is log(n), n the number of people observed, as in Rcapture.
    interval : {"profile", "wald"}
        Interval for N.
    level : float
        Interval level.
    pthresh : float
        P-value threshold of ``select="stepwise"``.

    Returns
    -------
    Estimate
        ``estimate`` = n + exp(u) (Rcapture's "abundance"), ``interval``, ``std_error`` (delta method),
        ``model`` (bracket notation), ``details`` with ``aic``, ``bic``, ``deviance``, ``df``,
        ``multinomial_mle`` (centre of the profile interval), ``n_models`` searched and ``n_nonexistent``
        (models skipped because their MLE does not exist), ``search``.

    Raises
    ------
    NonexistentEstimateError
        ``model`` was given and its MLE of N does not exist or is not identifiable (see
        :func:`estimators.mle_exists`), or no model in the search has one.

    Warns
    -----
    ConvergenceWarning
        The fit did not converge, or a profile bound was not found (reported as nan).

    References
    ----------
    .. [1] Fienberg, S. E. (1972). The multiple recapture census for closed populations and incomplete 2^k
       contingency tables. *Biometrika* 59(3), 591-603.
    .. [2] Cormack, R. M. (1989). Log-linear models for capture-recapture. *Biometrics* 45(2), 395-413.
    .. [3] Cormack, R. M. (1992). Interval estimation for mark-recapture studies of closed populations.
       *Biometrics* 48(2), 567-576.
    .. [4] Baillargeon, S. and Rivest, L.-P. (2007). Rcapture: loglinear models for capture-recapture in R.
       *Journal of Statistical Software* 19(5).
    .. [5] Chan, L., Silverman, B. W. and Vincent, K. (2021). Multiple systems estimation for sparse capture
       data: inferential challenges when there are nonoverlapping lists. *JASA* 116(535), 1297-1306.
    .. [6] Fienberg, S. E. and Rinaldo, A. (2012). Maximum likelihood estimation in log-linear models.
       *Annals of Statistics* 40(2), 996-1023.

    Examples
    --------
    >>> from estimators import load_dataset, loglinear
    >>> h = load_dataset("Rcapture_HIV")
    >>> fit = loglinear(h, select="bic")
    >>> fit.model, round(fit.estimate)
    ('[1,2,3,4]', 11125)
    >>> round(loglinear(h, "[12,3,4]").estimate)
    12318
    """
    histories = check_histories(h, "h")
    check_choice("select", select, SELECT)
    check_choice("interval", interval, INTERVALS)
    level = check_level(level)
    pthresh = _check_pthresh(pthresh)
    k, lists = histories.k, histories.lists
    if k > MAX_LISTS:
        raise DataError(
            f"{k} lists make 2**{k} = {2**k:,} cells: a log-linear model search over them is not practical and its "
            f"cells are almost all empty. Merge related lists (histories.merge_lists) down to {MAX_LISTS} or fewer, "
            "or use heterogeneity(h, kind=...) or chao_lower_bound(h), which need only the capture frequencies."
        )
    y = np.asarray(histories.dense_counts(), dtype=float)[1:]
    warn: list[str] = []
    if model is not None:
        hierarchical = HierarchicalModel.parse(model, lists)
        oracle = ExistenceOracle(y, k)
        check = oracle.check(hierarchical.terms)
        if not check:
            report = describe(check, oracle, lists, hierarchical.name(lists), hierarchical.term_label_fn(lists))
            raise NonexistentEstimateError(report.message)
        fits = fit_models(y, k, [hierarchical], oracle)
        selection = Selection(hierarchical, fits, 0, "model given", 1, 0, oracle.lp_calls)
    else:
        selection = select_model(y, k, select, pthresh)
        if selection.model is None:
            # Every search contains the independence model and fails only if it fails: its check names the cells
            # (lists that never overlap, but also, e.g., a list holding everybody).
            independence = _with_pairs(k, [])
            oracle = ExistenceOracle(y, k)
            report = describe(
                oracle.check(independence.terms), oracle, lists, independence.name(lists),
                independence.term_label_fn(lists),
            )
            raise NonexistentEstimateError(
                f"No log-linear model searched ({selection.search}) has a maximum-likelihood estimate of N that "
                f"exists. {report.message}"
            )
        if selection.n_nonexistent:
            warn.append(
                f"{selection.n_nonexistent} of the {selection.n_models} models searched were skipped because their "
                "maximum-likelihood estimate of N does not exist or is not identifiable (Fienberg-Rinaldo check)."
            )
    settings = {"select": None if model is not None else select}
    if model is None and select == "stepwise":
        settings["pthresh"] = pthresh
    return _estimate(histories, selection, interval, level, warn, settings)


def _estimate(histories, selection: Selection, interval: str, level: float, warn: list[str], settings) -> Estimate:
    fits, i = selection.fits, selection.index
    check = fits.checks[i]
    lists = histories.lists
    y = np.asarray(histories.dense_counts(), dtype=float)[1:]
    kept = check.kept_cells
    cells = np.arange(1, len(y) + 1, dtype=np.int64)
    design = term_columns(cells[kept], check.kept_terms)
    if not fits.converged[i]:
        warn.append("The Poisson fit did not converge; the estimate may be inaccurate.")
        _warn.warn(warn[-1], ConvergenceWarning)
    if check.empty_terms:
        label = selection.model.term_label_fn(lists)
        warn.append(
            "Lists never recorded together ("
            + ", ".join(label(t) for t in check.empty_terms)
            + "): their interaction is estimated as -infinity (cells fitted as 0), as in SparseMSE."
        )
    details = {
        "aic": float(fits.aic[i]),
        "bic": float(fits.bic[i]),
        "deviance": max(float(fits.deviance[i]), 0.0),  # a saturated fit gives -1e-15: rounding, not a deviance
        "df": int(fits.df[i]),
        "n_parameters": int(fits.n_parameters[i]),
        "search": selection.search,
        "n_models": selection.n_models,
        "n_nonexistent": selection.n_nonexistent,
        **settings,
    }
    if interval == "profile":
        profile = _glm.profile_interval(design, y[kept], level)
        bounds = (profile.lower, profile.upper)
        details["multinomial_mle"] = float(profile.mle)
        kind = "profile likelihood"
        if not profile.upper_found:
            warn.append("The upper profile-likelihood bound was not reached (reported as nan): N is barely bounded.")
            _warn.warn(warn[-1], ConvergenceWarning)
        if not profile.lower_found:
            # recorded, not raised: nothing is wrong with the fit, the data just allow N = n
            warn.append("The profile likelihood does not drop enough before N = n: the lower bound is n (as Rcapture).")
    else:
        z = stats.norm.ppf(0.5 + level / 2)
        spread = z * math.sqrt(max(fits.intercept_variance[i], 0.0))
        n = histories.n_observed
        bounds = (n + math.exp(fits.intercept[i] - spread), n + math.exp(fits.intercept[i] + spread))
        kind = "Wald (log-normal on the unlisted count)"
    return Estimate(
        estimate=float(fits.estimate[i]),
        interval=bounds,
        level=level,
        method=METHOD,
        n_observed=histories.n_observed,
        interval_kind=kind,
        model=selection.model.name(lists),
        std_error=float(fits.std_error[i]),
        warnings=tuple(warn),
        details=details,
    )


@validate_params(
    {"criterion": [Options(("aic", "bic"))]},
    exempt=("h",),
)
def loglinear_models(h: CaptureHistories, *, criterion: str = "bic") -> pd.DataFrame:
    """All hierarchical log-linear models for k <= 5 lists, fitted and ranked by BIC or AIC.

    The family is Rcapture's ``closedpMS.t``: all main effects, no k-way term (8, 113, 6,893 models for
    k = 3, 4, 5). Models whose MLE of N does not exist (Fienberg & Rinaldo 2012) stay in the table, ranked by
    the supremum of their likelihood, with ``exists`` False and ``estimate`` nan, so it shows when an
    unchecked search would have returned them.

    Parameters
    ----------
    h : CaptureHistories
        The observed lists, 3 <= k <= 5 (k = 2 has one model).
    criterion : {"bic", "aic"}
        Ranking.

    Returns
    -------
    pandas.DataFrame
        One row per model, best first: ``model`` (bracket notation), ``terms`` (its interactions), ``parameters``,
        ``df``, ``deviance``, ``AIC``, ``BIC``, ``estimate`` (n + exp(u)), ``std_error``, ``exists``.

    References
    ----------
    .. [1] Baillargeon, S. and Rivest, L.-P. (2007). Rcapture: loglinear models for capture-recapture in R.
       *Journal of Statistical Software* 19(5).
    .. [2] Fienberg, S. E. and Rinaldo, A. (2012). Maximum likelihood estimation in log-linear models.
       *Annals of Statistics* 40(2), 996-1023.

    Examples
    --------
    >>> from estimators import load_dataset, loglinear_models
    >>> table = loglinear_models(load_dataset("Rcapture_HIV"))
    >>> len(table), table.model.iloc[0]
    (113, '[1,2,3,4]')
    """
    histories = check_histories(h, "h")
    check_choice("criterion", criterion, ("aic", "bic"))
    k, lists = histories.k, histories.lists
    if k > MAX_EXHAUSTIVE_LISTS:
        raise ValueError(
            f"loglinear_models enumerates all hierarchical models only for k <= {MAX_EXHAUSTIVE_LISTS} lists "
            f"(the data have {k}); use loglinear(h, select='bic') for a stepwise search."
        )
    y = np.asarray(histories.dense_counts(), dtype=float)[1:]
    fits = fit_models(y, k, hierarchical_models(k), ExistenceOracle(y, k), fit_nonexistent=True)
    rows = []
    for i, model in enumerate(fits.models):
        label = model.term_label_fn(lists)
        rows.append(
            {
                "model": model.name(lists),
                "terms": ", ".join(label(t) for t in model.terms if bin(t).count("1") > 1),
                "parameters": int(fits.n_parameters[i]),
                "df": int(fits.df[i]),
                "deviance": fits.deviance[i],
                "AIC": fits.aic[i],
                "BIC": fits.bic[i],
                "estimate": fits.estimate[i],
                "std_error": fits.std_error[i] if fits.ok[i] else np.nan,
                "exists": bool(fits.ok[i]),
            }
        )
    table = pd.DataFrame(rows)
    key = "AIC" if criterion == "aic" else "BIC"
    return table.sort_values(key, kind="stable").reset_index(drop=True)
