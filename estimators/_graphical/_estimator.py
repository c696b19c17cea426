"""graphical_bma: argument checks, the posterior of N from the support's pmf, and the result."""

from __future__ import annotations

import numbers
from functools import lru_cache

import numpy as np

from .. import _warn
from .._validation import (
    BOOL,
    LEVEL,
    SEED,
    Callable,
    Integral,
    Interval,
    Options,
    Real,
    check_level,
    check_param,
    check_positive,
    check_positive_int,
    validate_params,
)
from ..exceptions import ConvergenceWarning, IdentifiabilityWarning, NonexistentEstimateError
from ..diagnostics import chain_diagnostics, diagnostic_messages
from ..histories import CaptureHistories, check_histories
from ..results import PosteriorEstimate, seeded_generator
from ._graphs import (
    MAX_LISTS,
    MAX_SAMPLED_LISTS,
    _graph_arrays,
    _graph_arrays_without_complete,
    _sparse_arrays_of,
    decomposable_graphs,
)
from ._marginal import _marginals, _marginals_from_patterns, logsumexp
from ._model import _make_model
from ._support import _RESOLUTION, MAX_UNLISTED, _adaptive_posterior, _posterior_on_support
from ._tail import _tail_terms


# MC3's default run: chains started apart, iterations per chain (the first quarter discarded as burn-in).
MC3_CHAINS = 4
MC3_ITERATIONS = 20_000
# temperatures="auto": copies per chain (heats 1, 1/2, 1/4, 1/8) in the rerun after a plain run fails its checks
AUTO_TEMPERATURES = 4


@lru_cache(maxsize=1)
def _thread_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _graphical_bma_iv(h, delta, log_prior, unlisted_support, max_lists, level, tail_tolerance, random_seed, n_draws,
                      method, n_iter, n_chains, temperatures):
    check_histories(h)
    max_lists = check_positive_int("max_lists", max_lists, minimum=2)
    if max_lists > MAX_SAMPLED_LISTS:
        raise ValueError(
            f"`max_lists` must be at most {MAX_SAMPLED_LISTS}: beyond it the 2**k table and its subsets' marginal "
            f"tables grow too large; got {max_lists}."
        )
    if method not in ("auto", "exact", "mc3"):
        raise ValueError(f"`method` must be 'auto', 'exact' or 'mc3'; got {method!r}.")
    if h.k > max_lists:
        raise ValueError(
            f"graphical_bma accepts at most max_lists={max_lists} lists; these histories have {h.k} lists "
            f"({', '.join(h.lists)}). Merge similar lists (h.merge_lists({{'A+B': ['A', 'B']}})) or drop small "
            "ones (h.drop_lists([...])) first"
            + (f", or raise max_lists up to {MAX_SAMPLED_LISTS}." if h.k <= MAX_SAMPLED_LISTS else ".")
        )
    if method == "exact" and h.k > MAX_LISTS:
        raise ValueError(
            f"method='exact' enumerates every decomposable graph, possible for at most {MAX_LISTS} lists; these "
            f"histories have {h.k}. Use method='mc3' (or 'auto'), which samples the graphs."
        )
    method = "mc3" if method == "mc3" or h.k > MAX_LISTS else "exact"
    n_iter = check_positive_int("n_iter", n_iter, minimum=100)
    n_chains = check_positive_int("n_chains", n_chains, minimum=1)
    if temperatures != "auto":
        temperatures = check_positive_int("temperatures", temperatures, minimum=1)
    level = check_level(level)
    delta = 2.0 ** -h.k if delta is None else check_positive("delta", delta)
    if log_prior is not None and not callable(log_prior):
        raise ValueError(
            f"`log_prior` must be None (prior proportional to 1/N) or a callable taking an array of N and "
            f"returning the log prior; got {type(log_prior).__name__}."
        )
    if isinstance(tail_tolerance, bool) or not isinstance(tail_tolerance, numbers.Real) or not (
        0 < tail_tolerance < (1 - level) / 2
    ):
        raise ValueError(
            f"`tail_tolerance` must be a probability in (0, {(1 - level) / 2:g}) (below the interval's tail "
            f"probability (1 - level)/2), e.g. 1e-8; got {tail_tolerance!r}."
        )
    if unlisted_support is not None:
        support = np.asarray(unlisted_support)
        if support.ndim != 1 or support.size == 0:
            raise ValueError(
                f"`unlisted_support` must be a non-empty 1-d sequence of unlisted counts (e.g. range(0, 5 * n + 1)); "
                f"got shape {support.shape}."
            )
        if not np.issubdtype(support.dtype, np.number) or not np.all(np.isfinite(support)):
            raise ValueError("`unlisted_support` must hold finite numbers (non-negative integers).")
        if np.any(support < 0) or np.any(support != np.round(support)):
            bad = support[(support < 0) | (support != np.round(support))][0]
            raise ValueError(f"`unlisted_support` must hold non-negative integers; got {bad!r}.")
        support = support.astype(np.int64)
        if np.any(np.diff(support) <= 0):  # sorting is costly on long grids that are already increasing
            support = np.unique(support)
        if support.size != np.asarray(unlisted_support).size:
            raise ValueError("`unlisted_support` has repeated values; give each unlisted count once.")
        unlisted_support = support
    n_draws = check_positive_int("n_draws", n_draws)
    rng, seed = seeded_generator(random_seed)
    return (h, float(delta), log_prior, unlisted_support, max_lists, level, float(tail_tolerance), rng, seed, n_draws,
            method, n_iter, n_chains, temperatures)


@validate_params(
    {"delta": [None, Interval(Real, 0, None, closed="neither")], "log_prior": [None, Callable()],
     "max_lists": [Interval(Integral, 2, None)], "level": LEVEL,
     "tail_tolerance": [Interval(Real, 0, 0.5, closed="neither")], "random_seed": SEED,
     "n_draws": [Interval(Integral, 1, None)], "exclude_saturated": BOOL,
     "method": [Options({"auto", "exact", "mc3"})], "n_iter": [Interval(Integral, 100, None)],
     "n_chains": [Interval(Integral, 1, None)], "temperatures": [Interval(Integral, 1, None), Options({"auto"})]},
    exempt=("h", "unlisted_support"),
)
def graphical_bma(
    h: CaptureHistories,
    *,
    delta: float | None = None,
    log_prior: Callable[[np.ndarray], np.ndarray] | None = None,
    unlisted_support=None,
    max_lists: int = MAX_SAMPLED_LISTS,
    level: float = 0.95,
    tail_tolerance: float = 1e-8,
    random_seed=None,
    n_draws: int = 4000,
    exclude_saturated: bool = False,
    method: str = "auto",
    n_iter: int = MC3_ITERATIONS,
    n_chains: int = MC3_CHAINS,
    temperatures: int | str = "auto",
) -> PosteriorEstimate:
    """Population size by Bayesian model averaging over decomposable graphical models (Madigan & York 1997).

    The complete 2**k table, the observed cells plus the u people on no list, is multinomial. Every
    decomposable graph G on the k lists (equal prior weight) carries a hyper-Dirichlet prior with ``delta``
    per cell, which spreads ``delta * 2**(k - |A|)`` over each cell of the marginal table on a clique or
    separator A. The marginal likelihood of the table is then exact,

        p(y, u | G) = N! / (u! prod y!) * prod_C D(C) / prod_S D(S),

    with D(A) the Dirichlet-multinomial probability of the marginal table on A and N = n + u, and the joint
    posterior p(G, u | y) is proportional to p(y, u | G) p(N). This is the formula of the R package dga's
    ``bma.cr``. The posterior of N is returned as an exact probability mass function.

    Up to 6 lists every decomposable graph is enumerated (18,154 on 6 lists; ``method="exact"``). Beyond, the
    graphs are sampled by MC3 (``method="mc3"``; Madigan & York 1995, 1997): ``n_chains`` Metropolis-Hastings
    chains, started apart (the empty graph, the complete graph, random decomposable graphs), each propose adding or
    removing one edge, the pair drawn uniformly; a proposal that is not decomposable (checked by maximum
    cardinality search) is rejected, and a decomposable one G' replaces G with probability
    min(1, p(y | G') / p(y | G)), where p(y | G) = sum_u p(y, u | G) p(n + u) is summed exactly up to 2,047
    unlisted and by quadrature beyond. The first quarter of each chain is discarded. The posterior of N is the
    mixture, over the graphs visited after that, of each graph's exact posterior of N weighted by its visit
    frequency (Rao-Blackwellised), computed on the integers with the tail bounds below; ``model_probabilities``
    are the visit frequencies. Convergence is checked on a draw of N taken at every iteration from the current
    graph's posterior (rank-normalised R-hat <= 1.01 and bulk and tail ESS >= 400 over the chains), with a
    :class:`ConvergenceWarning` when it fails. Against enumeration on 5 and 6 lists the graph probabilities and
    the quantiles of N agree within Monte Carlo error (tests/graphical/test_mc3.py). Single-edge moves mix slowly
    when the posterior puts weight on graphs several edges apart that imply different N. Metropolis coupling
    (parallel tempering; Geyer 1991) then helps: with ``temperatures`` T > 1 each chain runs T - 1 heated copies
    whose targets are p(y | G)**(2**-r), r = 1 .. T - 1, flatter, so they cross between such graphs, and after
    every iteration two neighbouring copies of a chain propose to exchange their graphs, accepted with
    probability min(1, (p(y | G_r+1) / p(y | G_r))**(b_r - b_r+1)). Only the unheated copy is recorded, so the
    target is unchanged. ``temperatures="auto"`` runs the plain chains first and, if their checks fail, runs again
    with 4 copies per chain (about four times the work, more on many lists, where the heated copies meet many
    more graphs).

    The support of u is not a user grid. It is extended in blocks until a bound on the posterior mass beyond it
    is below ``tail_tolerance`` (relative to the mass found, itself a lower bound on the normalising constant).
    The bound is rigorous for the default prior: each graph's term t(u) = p(y, u | G) p(n + u) is a ratio of
    Gamma functions, so t(u+1)/t(u) = prod (u + b_i)**s_i is explicit. Beyond the support t is evaluated
    exactly on a ladder of unlisted counts (steps 1, 2, 4, ... up to half the count, to 10**4 times the
    support's end), and between rungs it is bounded with bounds on that ratio and on its slope
    (``x/(1+x) <= log(1+x) <= x`` and second-order versions); past the last rung, t(u) <= t(U) (u/U)**kappa
    with kappa -> e = sum(s_i b_i), the exponent of the tail t(u) ~ C u**e. The same interval bounds let the
    computation inside the support skip (graph, interval) pairs whose total mass is below 1e-12 of the
    posterior, and drop graphs whose whole remaining tail is negligible. For a user ``log_prior`` the bound
    also assumes something about the prior beyond the support, read from its last block: if its log ratio
    log p(N+1) - log p(N) was non-increasing there (log-concave tails: negative binomial, Poisson) it stays
    so; otherwise, if the prior was non-increasing, it keeps decaying at least like N**-g with the smallest g
    seen on that block (g = 1 for 1/N, which then gives exactly the default's result).

    Under the prior 1/N the posterior is proper whenever delta > 0, but its tail decays only like N**e, and the
    saturated graph, whose e = -1 - (2**k - 1) delta is the largest, has positive posterior probability: the
    posterior mean of N is infinite unless delta > 1/(2**k - 1), so with dga's delta = 2**-k it is always
    infinite (``details["posterior_mean_finite"]``; a mean computed from the truncated pmf, or dga's, is an
    artefact of the truncation), and a tolerance of 1e-8 can need astronomically large N. When
    ``tail_tolerance`` is out of reach below ``MAX_UNLISTED`` (2,000,000 people unlisted), the result is
    returned with an :class:`IdentifiabilityWarning` if the neglected mass cannot move the median or either
    interval bound by more than 0.1% (checked on the computed cdf), and :class:`NonexistentEstimateError` is
    raised otherwise: the interval would then be set by the prior and delta rather than by the lists (for
    example when lists never overlap, which dga answers with whatever its grid truncates to). Every graph's e
    is below -1 under the prior 1/N (the data part of e is minus the records linking cliques across their
    separators, never positive, and the delta part is negative); an improper posterior from a user prior
    never meets the tolerance and is refused the same way.

    Parameters
    ----------
    h : CaptureHistories
        The lists (covariates are summed over). At most ``max_lists`` lists.
    delta : float, optional
        Hyper-Dirichlet parameter per cell of the full table; default ``2**-k`` (dga's suggestion).
    log_prior : callable, optional
        ``log_prior(N)`` for an array of N (floats) returns the log prior (up to a constant); default
        ``-log N``. For example the negative-binomial prior of Madigan & York's 3-list example,
        ``N log b - (N + a) log(1 + b) + lgamma(N + a) - lgamma(N + 1)`` with a = 13.14, b = 55.17.
    unlisted_support : sequence of int, optional
        Restrict the unlisted count to these values (dga's ``Nmissing``), for exact comparison with dga. The
        posterior is then normalised on them; a warning says when the mass beyond their maximum may exceed
        ``tail_tolerance``.
    max_lists : int
        Largest number of lists accepted (at most 12, the default; up to 6 the graphs can be enumerated).
    level : float
        Level of the equal-tailed credible interval.
    tail_tolerance : float
        Largest posterior mass the adaptive support may neglect (a bound, see above); below (1 - level)/2.
    random_seed : None, int or numpy Generator
        Seeds MC3's chains and the draws taken from the pmf. The integer used (fresh entropy for None, one drawn from a
        Generator) is recorded in ``details["random_seed"]``.
    n_draws : int
        Number of posterior draws of N returned in ``draws``.
    exclude_saturated : bool
        Leave the complete (saturated) graph, one clique holding every list, out of the model space, whose other
        graphs keep equal prior weight. Under it the unlisted cell is not identified (it is the k-way
        interaction), so its posterior of N is set by the prior and delta; with 3 lists it is 1 of 8 graphs and
        can take most of the posterior mass and the heaviest tail (CARE1_HAV: probability 0.71, and the default
        refuses). Published 3-list analyses leave the saturated model out, as log-linear analyses must. The
        default, False, is R's dga: ``bma.cr`` with ``graphs3``/``graphs4``/``graphs5`` ("all of the
        decomposable graphical models", the complete graph included) and ``log.prior.model.weights`` 0, a
        uniform prior over all of them. :func:`estimators.estimate` sets it when the default refuses. MC3 then
        never visits the complete graph.
    method : {"auto", "exact", "mc3"}
        "exact" enumerates the decomposable graphs (at most 6 lists); "mc3" samples them; "auto", the default,
        enumerates up to 6 lists and samples beyond.
    n_iter : int
        MC3 iterations per chain, the first quarter discarded (at least 100). Ignored by "exact".
    n_chains : int
        MC3 chains. Ignored by "exact".
    temperatures : int or "auto"
        Copies per MC3 chain for Metropolis coupling (1: plain MC3); "auto": plain MC3, rerun with 4 copies
        when R-hat or ESS of N fails its check. Ignored by "exact".

    Returns
    -------
    PosteriorEstimate
        ``estimate`` the posterior median of N, ``interval`` the equal-tailed interval at ``level``, ``pmf``
        (support of N, probabilities), ``draws`` sampled from the pmf, and ``details``: ``delta``,
        ``n_graphs``, ``support`` ("adaptive" or "given"), ``unlisted_max`` (largest unlisted count
        evaluated), ``N_max``, ``neglected_tail_mass`` (bound on the posterior mass beyond ``N_max``, relative to
        the mass inside), ``tail_tolerance``, ``prior``, ``tail_exponent`` (heaviest tail exponent e among the
        graphs) and ``posterior_mean_finite`` (both None for a user prior), ``top_model`` and
        ``top_model_probability``, ``top_models`` (up to ten (cliques, posterior probability) pairs, best
        first), ``model_probabilities`` (one per graph of :func:`decomposable_graphs`, less the complete graph
        with ``exclude_saturated``; with MC3 one per visited graph, most visited first: their visit frequencies),
        ``exclude_saturated``, ``random_seed`` and ``method`` ("exact" or "mc3"). With MC3 also ``n_chains``,
        ``n_iter``, ``temperatures`` (the copies per chain of the run reported), ``burn_in`` (per chain),
        ``acceptance_rate`` (accepted moves per iteration, averaged over chains), ``decomposable_proposals``
        (share of proposals that were decomposable), ``n_graphs_evaluated`` (distinct graphs whose evidence was
        computed), ``r_hat``, ``ess_bulk`` and ``ess_tail`` of N,
        ``mc3_draws`` (chains x kept iterations, the draws of N) and ``mc3_graphs`` (the same shape: each
        iteration's graph, as a position in ``model_probabilities``). ``tail_exponent`` is then over the visited
        graphs.

    Raises
    ------
    NonexistentEstimateError
        When the posterior is improper, or its tail too heavy for the median and interval to be fixed by the
        data (see above), or the prior is zero wherever the posterior was evaluated.
    ValueError
        When the posterior still rises at ``MAX_UNLISTED`` unlisted people (millions of records): its bulk is out
        of reach of the exact computation.

    Warns
    -----
    ConvergenceWarning
        With MC3, when R-hat of N exceeds 1.01 or its bulk or tail ESS is below 400: raise ``n_iter``.
    IdentifiabilityWarning
        With ``unlisted_support``, when the posterior mass beyond the given support may exceed
        ``tail_tolerance`` (the result is then conditional on the truncation, as dga's always is); with the
        adaptive support, when the tolerance was out of reach but the median and interval are pinned down.

    References
    ----------
    .. [1] Madigan, D. and York, J. C. (1997). Bayesian methods for estimation of the size of a closed
       population. Biometrika 84(1), 19-31.
    .. [2] Dawid, A. P. and Lauritzen, S. L. (1993). Hyper Markov laws in the statistical analysis of
       decomposable graphical models. The Annals of Statistics 21(3), 1272-1317.
    .. [3] Johndrow, J., Lum, K. and Ball, P. dga: Capture-Recapture Estimation using Bayesian Model
       Averaging. R package version 2.0.2 (2025).
    .. [4] Madigan, D. and York, J. (1995). Bayesian graphical models for discrete data. International
       Statistical Review 63(2), 215-232.
    .. [5] Tarjan, R. E. and Yannakakis, M. (1984). Simple linear-time algorithms to test chordality of
       graphs, test acyclicity of hypergraphs, and selectively reduce acyclic hypergraphs. SIAM Journal on
       Computing 13(3), 566-579.
    .. [6] Geyer, C. J. (1991). Markov chain Monte Carlo maximum likelihood. In Computing Science and
       Statistics: Proceedings of the 23rd Symposium on the Interface, 156-163.

    Examples
    --------
    >>> from estimators import load_dataset, graphical_bma
    >>> fit = graphical_bma(load_dataset("LCMCR_kosovo"), random_seed=1)
    >>> fit.estimate, fit.interval, fit.details["n_graphs"]
    (12595.0, (9827.0, 16544.0), 61)
    >>> fit.details["top_model"], round(fit.details["top_model_probability"], 3)
    ('[EXH,ABA,OSCE][EXH,OSCE,HRW]', 0.986)

    Seven lists, beyond enumeration, sampled by MC3 (a short run):

    >>> from estimators.simulate import independent_lists
    >>> h = independent_lists(1000, [0.2] * 7, random_seed=3).histories
    >>> fit = graphical_bma(h, n_iter=4000, random_seed=1)
    >>> fit.details["method"], fit.details["r_hat"] < 1.01, fit.interval[0] < 1000 < fit.interval[1]
    ('mc3', True, True)
    """
    (h, delta, log_prior, support, max_lists, level, tail_tolerance, rng, seed, n_draws, method, n_iter,
     n_chains, temperatures) = _graphical_bma_iv(h, delta, log_prior, unlisted_support, max_lists, level,
                                                 tail_tolerance, random_seed, n_draws, method, n_iter, n_chains,
                                                 temperatures)
    k = h.k
    exclude_saturated = check_param("exclude_saturated", exclude_saturated, BOOL)
    run = None
    if method == "mc3":
        from ._mc3 import _Evidence, _run_mc3  # loaded only for MC3: an enumerating fit pays no import for it

        marginals = _marginals_from_patterns(h.dense_counts(), k, delta)
        evidence = _Evidence(marginals, k, log_prior, exclude_saturated, support)
        run = _run_mc3(evidence, n_iter, n_chains, rng, 1 if temperatures == "auto" else temperatures)
        mixing = chain_diagnostics(run.n_draws)
        if temperatures == "auto":
            temperatures = 1
            if diagnostic_messages(mixing, "N"):
                temperatures = AUTO_TEMPERATURES
                run = _run_mc3(evidence, n_iter, n_chains, rng, temperatures)
                mixing = chain_diagnostics(run.n_draws)
        improper = evidence.improper()
        if improper is not None:
            raise NonexistentEstimateError(
                f"The posterior of N is improper: under graph {improper.label(h.lists)} met by MC3 its tail does "
                "not decay faster than 1/N (a flat or increasing log_prior?). Use a prior that decays at least like "
                "1/N (the default) or a larger delta."
            )
        graphs, arrays = run.graphs, _sparse_arrays_of(run.graphs, k)
        # Each visited graph's posterior of N (its t(u) / evidence) weighted by its visit frequency; a graph whose
        # evidence is zero (a prior zero wherever it was evaluated) contributes nothing.
        with np.errstate(invalid="ignore"):
            log_weight = np.where(np.isfinite(run.log_evidence), np.log(run.frequencies) - run.log_evidence, -np.inf)
        model = _make_model(arrays, marginals, log_prior, log_weight)
    else:
        if exclude_saturated:
            graphs, arrays = _graph_arrays_without_complete(k)
        else:
            graphs, arrays = decomposable_graphs(k), _graph_arrays(k)
        marginals = _marginals(h.dense_counts(), k, delta)
        model = _make_model(arrays, marginals, log_prior)
    positive, negative = _tail_terms(arrays, marginals, default_prior=log_prior is None)
    n = h.n_observed

    tail = (1 - level) / 2
    # The matrix products are small: BLAS threads would only contend (and spin after each product, taking the
    # core this thread needs), worst of all inside parallel strata. Even with 4 lists a long support makes
    # them large enough to be threaded, and setting the limit is cheap (benchmarks/NOTES.md).
    limit = _thread_controller().limit(limits=1, user_api="blas")
    with limit:
        if support is None:
            found = _adaptive_posterior(model, positive, negative, tail_tolerance, (tail, 0.5, 1 - tail), h,
                                        graphs)
        else:
            found = (*_posterior_on_support(model, positive, negative, support, tail_tolerance), None)
    unlisted, log_pmf, log_graph_mass, log_neglected, heavy = found

    log_z = logsumexp(log_pmf)
    if not np.isfinite(log_z):
        raise NonexistentEstimateError(
            f"The posterior has no mass on the unlisted counts evaluated (N = {n:,} to {n + int(unlisted[-1]):,}): "
            "the prior (log_prior) is zero there"
            + (
                ", and a prior zero at the end of that range is taken to stay zero beyond it. If it puts mass on "
                "larger N, pass unlisted_support covering it."
                if support is None
                else "."
            )
        )
    pmf = np.exp(log_pmf - log_z)
    pmf /= pmf.sum()
    if run is None:
        model_probabilities = np.exp(log_graph_mass - logsumexp(log_graph_mass))
    else:
        model_probabilities = run.frequencies
    neglected = float(np.exp(min(log_neglected - log_z, 0.0)))

    warning_messages = []
    if run is not None:
        for message in diagnostic_messages(mixing, "N"):
            heated = f", {temperatures} tempered copies each" if temperatures > 1 else ""
            message = (f"MC3 over decomposable graphs: {message} Raise n_iter (now {n_iter:,} per chain{heated})"
                       + (" or temperatures." if temperatures < AUTO_TEMPERATURES else "."))
            _warn.warn(message, ConvergenceWarning)
            warning_messages.append(message)
    if support is not None and not neglected <= tail_tolerance:
        message = (
            f"The posterior mass beyond the given unlisted_support (max {int(unlisted[-1]):,}) may be as large "
            f"as {neglected:.2g} of the mass inside it: the result is conditional on N <= {n + int(unlisted[-1]):,}. "
            "Omit unlisted_support to let the support grow until the neglected mass is below tail_tolerance."
        )
        _warn.warn(message, IdentifiabilityWarning)
        warning_messages.append(message)

    exponent = np.sum(positive - negative, axis=1)
    # Under the default prior the saturated graph (when in the model space) has the heaviest tail,
    # N**(-1 - (2**k - 1) delta).
    tail_exponent = float(np.max(exponent)) if log_prior is None else None
    mean_finite = None if tail_exponent is None else tail_exponent < -2
    if heavy is not None:
        mean_note = "; the posterior mean of N is infinite" if mean_finite is False else ""
        message = (
            f"The posterior of N has a heavy tail: under graph {graphs[heavy.graph].label(h.lists)} it decays only "
            f"like N^{heavy.exponent:.3f}{mean_note}. Up to {neglected:.2g} of the posterior mass may lie beyond "
            f"N = {n + int(unlisted[-1]):,} (tail_tolerance={tail_tolerance:g} would need unlisted counts beyond "
            f"{MAX_UNLISTED:,}); that cannot move the median or the interval bounds by more than "
            f"{_RESOLUTION:.1%}, but the pmf, draws and mean are truncated there."
        )
        _warn.warn(message, IdentifiabilityWarning)
        warning_messages.append(message)

    n_support = n + unlisted
    cdf = np.cumsum(pmf)

    def quantile(q):
        return float(n_support[min(int(np.searchsorted(cdf, q)), len(cdf) - 1)])

    order = np.argsort(-model_probabilities, kind="stable")
    top = tuple((graphs[i].label(h.lists), float(model_probabilities[i])) for i in order[:10])
    details = {
        "delta": delta,
        "n_graphs": len(graphs),
        "support": "adaptive" if support is None else "given",
        "unlisted_max": int(unlisted[-1]),
        "N_max": int(n + unlisted[-1]),
        "neglected_tail_mass": neglected,
        "tail_tolerance": tail_tolerance,
        "prior": "1/N" if log_prior is None else "user log_prior",
        "tail_exponent": tail_exponent,
        "posterior_mean_finite": mean_finite,
        "top_model": top[0][0],
        "top_model_probability": top[0][1],
        "top_models": top,
        "model_probabilities": model_probabilities,
        "exclude_saturated": bool(exclude_saturated),
        "random_seed": seed,
        "method": method,
    }
    if run is not None:
        details.update(
            n_chains=n_chains,
            n_iter=n_iter,
            temperatures=temperatures,
            burn_in=run.burn_in,
            acceptance_rate=float(np.mean(run.acceptance)),
            decomposable_proposals=run.decomposable,
            n_graphs_evaluated=run.n_evaluated,
            r_hat=mixing["r_hat"],
            ess_bulk=mixing["ess_bulk"],
            ess_tail=mixing["ess_tail"],
            mc3_draws=run.n_draws,
            mc3_graphs=run.graph_index,
        )
    # rng.choice(n_support, n_draws, p=pmf) computed the same way (the same draws).
    values = n_support.astype(float)
    draws = values[np.searchsorted(cdf / cdf[-1], rng.random(n_draws), side="right")]
    return PosteriorEstimate(
        estimate=quantile(0.5),
        interval=(quantile(tail), quantile(1 - tail)),
        level=level,
        method="graphical_bma",
        n_observed=n,
        interval_kind="equal-tailed credible",
        model=(f"average over {len(graphs):,} decomposable graphs{' visited by MC3' if run is not None else ''}"
               f"{' (saturated graph excluded)' if exclude_saturated else ''} (delta={delta:g})"),
        warnings=tuple(warning_messages),
        details=details,
        draws=draws,
        pmf=(values, pmf),
    )

