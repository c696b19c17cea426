"""Bayesian model averaging over decomposable graphical models (Madigan & York 1997).

The complete 2**k table (observed cells plus the unlisted count in the all-zero cell) is multinomial; each
decomposable graph on the k lists gives a hyper-Dirichlet prior (Dawid & Lauritzen 1993) whose marginal
likelihood factorises over the graph's cliques and separators. The posterior over (graph, unlisted count) is
computed exactly on the integers, so the posterior of N is an exact probability mass function.

Unlike the R package dga, the support of the unlisted count is not a user-supplied grid: it is extended until a
bound on the neglected posterior mass falls below ``tail_tolerance``, and a posterior whose tail is too heavy for
its interval to be fixed by the data is refused (see :func:`graphical_bma`).

Beyond 6 lists (or with ``method="mc3"``) the graphs are sampled by MC3 instead of enumerated, and the posterior
of N mixes the visited graphs' exact posteriors by visit frequency.

Modules: ``_graphs`` (enumeration of the decomposable graphs), ``_marginal`` (marginal likelihood),
``_mc3`` (the MC3 sampler and each graph's evidence),
``_model`` (the joint log posterior and interval bounds), ``_tail`` (bounds beyond the support),
``_evaluation`` (the posterior on runs of unlisted counts; its pair sums in numpy, or for MC3 and large
evaluations in the numba kernels of ``_compiled``, imported only then),
``_support`` (given or adaptive support, refusals),
``_estimator`` (:func:`graphical_bma`).
"""

from ._estimator import graphical_bma
from ._graphs import MAX_LISTS, DecomposableGraph, decomposable_graphs
from ._marginal import log_marginal_likelihood
from ._support import MAX_UNLISTED

__all__ = [
    "graphical_bma",
    "decomposable_graphs",
    "DecomposableGraph",
    "log_marginal_likelihood",
    "MAX_LISTS",
    "MAX_UNLISTED",
]
