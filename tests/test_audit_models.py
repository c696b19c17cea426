"""Checks written from the published formulas, independently of the package's own helpers: Madigan & York's
posterior by direct computation, and symmetry and input-form invariance of the model-based estimators."""

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import gammaln

from estimators import (
    CaptureHistories,
    IdentifiabilityWarning,
    chapman,
    graphical_bma,
    load_dataset,
    loglinear,
    mle_exists,
    pairwise,
)
from estimators import decomposable_graphs

# The eight decomposable graphs on lists 0, 1, 2, written out by hand: (cliques, separators).
THREE_LIST_GRAPHS = [
    ([(0,), (1,), (2,)], []),
    ([(0, 1), (2,)], []),
    ([(0, 2), (1,)], []),
    ([(1, 2), (0,)], []),
    ([(0, 1), (0, 2)], [(0,)]),
    ([(0, 1), (1, 2)], [(1,)]),
    ([(0, 2), (1, 2)], [(2,)]),
    ([(0, 1, 2)], []),
]


def _log_dirichlet_multinomial(table: dict, lists: tuple, unlisted: int, delta: float) -> float:
    """log D(A): the ordered-sample probability of the marginal table on the lists A under a Dirichlet prior with
    delta * 2**(3 - |A|) per marginal cell (Madigan & York 1997, eq. 3)."""
    alpha = delta * 2.0 ** (3 - len(lists))
    margin = {}
    for pattern, count in [((0, 0, 0), unlisted), *table.items()]:
        key = tuple(pattern[j] for j in lists)
        margin[key] = margin.get(key, 0) + count
    total = sum(margin.values())
    cells = list(itertools.product((0, 1), repeat=len(lists)))
    return (
        gammaln(alpha * len(cells))
        - gammaln(total + alpha * len(cells))
        + sum(gammaln(margin.get(cell, 0) + alpha) - gammaln(alpha) for cell in cells)
    )


def _madigan_york_posterior(table: dict, support, delta: float):
    """Joint posterior of (graph, u) under equal graph weights and the prior 1/N, normalised on ``support``."""
    n = sum(table.values())
    log_post = np.empty((len(THREE_LIST_GRAPHS), len(support)))
    for g, (cliques, separators) in enumerate(THREE_LIST_GRAPHS):
        for i, u in enumerate(support):
            log_table = sum(_log_dirichlet_multinomial(table, c, u, delta) for c in cliques) - sum(
                _log_dirichlet_multinomial(table, s, u, delta) for s in separators
            )
            # multinomial coefficient N! / u! (the prod y! is constant) and the prior 1/N
            log_post[g, i] = log_table + gammaln(n + u + 1) - gammaln(u + 1) - np.log(n + u)
    post = np.exp(log_post - log_post.max())
    return post.sum(axis=0) / post.sum(), post.sum(axis=1) / post.sum()


def test_graphical_bma_equals_madigan_york_by_direct_computation():
    table = {(1, 0, 0): 6, (0, 1, 0): 5, (0, 0, 1): 4, (1, 1, 0): 3, (1, 0, 1): 2, (0, 1, 1): 2, (1, 1, 1): 1}
    h = CaptureHistories.from_mapping({"".join(map(str, p)): c for p, c in table.items()}, lists=["A", "B", "C"])
    support = np.arange(0, 61)
    delta = 1 / 8
    with pytest.warns(IdentifiabilityWarning, match="beyond the given unlisted_support"):
        fit = graphical_bma(h, unlisted_support=support, random_seed=0)
    pmf, graph_probabilities = _madigan_york_posterior(table, support, delta)
    np.testing.assert_array_equal(fit.pmf[0], h.n_observed + support)
    np.testing.assert_allclose(fit.pmf[1], pmf, rtol=1e-9, atol=1e-15)
    # the package's graph order differs from the hand-written one: match by edges
    ours = {frozenset(g.edges): p for g, p in zip(decomposable_graphs(3), fit.details["model_probabilities"])}
    for (cliques, _), probability in zip(THREE_LIST_GRAPHS, graph_probabilities):
        edges = frozenset(pair for c in cliques for pair in itertools.combinations(c, 2))
        assert ours[edges] == pytest.approx(probability, rel=1e-9)


def _permuted(h: CaptureHistories, order) -> CaptureHistories:
    frame = h.to_frame(dense=True)
    lists = [h.lists[j] for j in order]
    return CaptureHistories.from_counts(frame[lists + ["count"]], lists=lists)


@pytest.mark.parametrize("order", [(2, 0, 3, 1), (3, 2, 1, 0)])
def test_graphical_bma_does_not_depend_on_list_order(order):
    h = load_dataset("LCMCR_kosovo")
    a, b = graphical_bma(h, random_seed=3), graphical_bma(_permuted(h, order), random_seed=3)
    assert (a.estimate, *a.interval) == (b.estimate, *b.interval)
    np.testing.assert_allclose(a.pmf[1], b.pmf[1], rtol=1e-9, atol=1e-15)
    assert a.details["top_model_probability"] == pytest.approx(b.details["top_model_probability"], rel=1e-9)


def test_input_forms_give_the_same_results():
    # Whole-number floats, bool or '0'/'1' list columns, split duplicate rows and explicit zero rows all build
    # the same table, so every estimator must return the same numbers.
    h = load_dataset("Rcapture_HIV")
    frame = h.to_frame(dense=True)
    forms = {"floats": frame.assign(count=frame["count"].astype(float))}
    forms["bools"] = frame.astype({name: bool for name in h.lists})
    forms["strings"] = frame.astype({name: str for name in h.lists})
    half = frame["count"] // 2
    forms["duplicates"] = pd.concat([frame.assign(count=half), frame.assign(count=frame["count"] - half)])
    forms["zero row"] = pd.concat([frame, frame.head(1).assign(count=0)])

    def numbers(histories):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return (
                loglinear(histories).interval,
                chapman(histories, ("c1", "c2")).interval,
                tuple(pairwise(histories)["estimate"]),
                bool(mle_exists(histories, "[12,13,23,4]")),
            )

    expected = numbers(h)
    for name, form in forms.items():
        assert numbers(CaptureHistories.from_counts(form, lists=list(h.lists))) == expected, name
