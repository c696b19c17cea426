"""The estimator :func:`latent_class`: settings, chains in threads, diagnostics and warnings on N.

The sampler itself is in ``_gibbs`` (numba); this module checks the inputs, runs the chains and turns their draws
of N into a :class:`~estimators.PosteriorEstimate`.
"""

from __future__ import annotations

import numbers
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .. import _warn
from .._validation import (
    BOOL,
    LEVEL,
    SEED,
    AnyOf,
    Integral,
    Interval,
    Options,
    Pair,
    Real,
    check_level,
    check_positive,
    check_positive_int,
    resolve_seed,
    validate_params,
)
from ..diagnostics import R_HAT_MAX, chain_diagnostics, warn_if_poor
from ..exceptions import ConvergenceWarning, IdentifiabilityWarning
from ..histories import CaptureHistories, check_histories
from ..results import PosteriorEstimate

#: LCMCR caps the unlisted count at this multiple of the number listed (a truncation of the 1/N prior).
UNLISTED_CAP_FACTOR = 20
#: Sweeps before the classes are relabelled by decreasing weight (as LCMCR does after its start-up).
WARMUP_SWEEPS = 500
# Coefficient of the overrelaxed beta updates: near -1, so each update lands near the mirror image of the
# current value and N keeps moving along its ridge (measurements: benchmarks/NOTES.md, latent_class).
OVERRELAXATION = -0.98
MAX_DEFAULT_CLASSES = 15


def default_classes(k: int) -> int:
    """K = min(2**k - 1, 15): never more classes than observable patterns, and at most 15."""
    return int(min(2**k - 1, MAX_DEFAULT_CLASSES))


def chains_apart(n_by_chain: np.ndarray, level: float, share: float = 0.2) -> bool:
    """Whether the chains' medians of N spread over more than ``share`` of the pooled credible interval's width.

    R-hat above its threshold has two causes that call for different remedies: too few effective draws (the
    chains agree up to Monte Carlo error; run longer) or a chain held apart, in another region of the
    posterior (only a longer burn-in helps). Medians a fifth of the interval apart are far beyond the Monte
    Carlo error of a median from a few hundred effective draws.
    """
    tail = (1 - check_level(level)) / 2
    lower, upper = np.quantile(n_by_chain, [tail, 1 - tail])
    medians = np.median(n_by_chain, axis=1)
    return bool(medians.max() - medians.min() > share * (upper - lower))


def _check_alpha_prior(alpha_prior) -> tuple[float, float]:
    try:
        shape, rate = alpha_prior
    except (TypeError, ValueError):
        raise ValueError(
            f"`alpha_prior` must be a pair (shape, rate) of positive numbers, e.g. (0.25, 0.25); got {alpha_prior!r}."
        ) from None
    return check_positive("alpha_prior shape", shape), check_positive("alpha_prior rate", rate)


def _check_n_jobs(n_jobs, chains: int) -> int:
    cores = os.cpu_count() or 1
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral)
                               or not (n_jobs >= 1 or n_jobs == -1)):
        raise ValueError(f"`n_jobs` must be a positive integer, or -1 or None (one per core); got {n_jobs!r}.")
    if n_jobs is None or n_jobs == -1:
        return max(1, min(chains, cores))
    return min(int(n_jobs), chains)


def _check_overrelaxation(value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not -1.0 < float(value) <= 0.0:
        raise ValueError(
            f"`overrelaxation` must be a number in (-1, 0] (0: plain Gibbs; the default -0.98 mirrors each "
            f"near-normal beta update about its conditional mean); got {value!r}."
        )
    return float(value)


def _latent_class_iv(h, K, chains, draws, burn, thin, level, alpha_prior, n_jobs, overrelaxation):
    check_histories(h)
    if K is None:
        K = default_classes(h.k)
    else:
        K = check_positive_int("K", K, minimum=2)
    return dict(
        K=K,
        chains=check_positive_int("chains", chains),
        draws=check_positive_int("draws", draws),
        burn=check_positive_int("burn", burn, minimum=0),
        thin=check_positive_int("thin", thin),
        level=check_level(level),
        alpha_prior=_check_alpha_prior(alpha_prior),
        n_jobs=_check_n_jobs(n_jobs, check_positive_int("chains", chains)),
        overrelaxation=_check_overrelaxation(overrelaxation),
    )


@validate_params(
    {"K": [Interval(Integral, 2, None), None], "chains": [Interval(Integral, 1, None)],
     "draws": [Interval(Integral, 1, None)], "burn": [Interval(Integral, 0, None)],
     "thin": [Interval(Integral, 1, None)], "level": LEVEL, "random_seed": SEED,
     "alpha_prior": [Pair(*[Interval(Real, 0, None, closed="neither")] * 2, description=(
         "a pair (shape, rate) of positive numbers, e.g. (0.25, 0.25) (alpha_prior shape and alpha_prior rate "
         "both > 0)"))],
     "n_jobs": [AnyOf(None, Interval(Integral, 1, None), Options({-1}),
                      description="a positive integer, or -1 or None (one per core)")],
     "progress": BOOL,
     "overrelaxation": [Interval(Real, -1, 0, closed="right", description=(
         "a number in (-1, 0] (0: plain Gibbs; the default -0.98 mirrors each near-normal beta update about its "
         "conditional mean)"))]},
    exempt=("h",),
)
def latent_class(
    h: CaptureHistories,
    *,
    K: int | None = None,
    chains: int = 4,
    draws: int = 1000,
    burn: int = 10_000,
    thin: int = 100,
    level: float = 0.95,
    random_seed=None,
    alpha_prior: tuple[float, float] = (0.25, 0.25),
    n_jobs: int | None = None,
    progress: bool = False,
    overrelaxation: float = OVERRELAXATION,
) -> PosteriorEstimate:
    """Population size under the Dirichlet-process latent-class model of Manrique-Vallier (2016), as in R's LCMCR.

    People differ in how likely they are to be recorded, and those differences make lists dependent. This model
    sorts the population into latent classes, each with its own inclusion probability on every list, and lets a
    Dirichlet process decide how many classes the data support.

    **Model.** Each person belongs to one of ``K`` latent classes with stick-breaking weights nu (a Dirichlet
    process truncated at ``K``, concentration alpha ~ Gamma(shape, rate) = ``alpha_prior``). Given the class, the
    person is on list j with probability lambda_jk, independently across lists, lambda_jk ~ Beta(1, 1). The
    population size N has prior proportional to 1/N, truncated (as in LCMCR) at N <= 21 n, i.e. at most 20
    unlisted people per listed one.

    **Assumptions, and when it fails.** Lists are independent *within* each class: the dependence between lists
    is taken to come from people differing in how easy they are to record (heterogeneity). Direct list-to-list
    dependence (one list copying another) is not modelled. In the package's simulation benchmark
    (``benchmarks/RESULTS.md``, 200 tables per scenario) its 95% intervals covered the true N in 94-98% of tables in
    every scenario but one: independent lists, low capture, the heterogeneous 5-list design of Manrique-Vallier
    (2016), a single positive or negative two-way dependence, a referral from one list to another, lists that
    never overlap, and tables resampled from a log-linear fit to CARE1_HAV. On tables resampled from the two-way
    log-linear dependence structure fitted to the Kosovo data they covered it in only 17% (relative bias -31%;
    :func:`graphical_bma` covered it in 92%): when lists may depend on each other directly, compare with
    :func:`graphical_bma`. With only two lists the model is not identified; when lists barely overlap the posterior
    may run into the truncation of N, and the upper bound then reflects the prior, not the data (both are warned
    about).

    **Sampler.** The exact data-augmentation Gibbs sampler of the paper (compiled with numba): each sweep draws the
    number of unlisted people and everyone's class, then lambda and the weights, then alpha. By default each
    lambda_jk and stick whose Beta conditional is close to normal is moved by an overrelaxed Metropolis step
    (Adler 1981; Neal 1998) with coefficient ``overrelaxation``, which leaves the posterior unchanged and lowers
    the autocorrelation of N; every 10th sweep draws them exactly. Chains start from draws of the priors, relabel
    classes by weight after 500 sweeps, run ``burn`` sweeps more, and keep every ``thin``-th of ``draws * thin``
    sweeps. Class labels may switch, which is harmless for N: R-hat and bulk/tail ESS are computed on N only.

    Successive sweeps are strongly autocorrelated in N, so keep the default thinning or raise it. On sparse tables a
    chain can stay for 10^5 sweeps in a state with few classes and a much lower N before it reaches the bulk;
    several chains from dispersed starts expose this through R-hat (see Warns): raise ``burn`` then. Mixing
    measurements, and the moves tried and left out, are in ``benchmarks/NOTES.md`` (section latent_class).

    Parameters
    ----------
    h : CaptureHistories
        Counts of people by list-inclusion pattern (covariates are ignored; strata are pooled).
    K : int, optional
        Truncation level (maximum number of classes), >= 2. Default ``min(2**k - 1, 15)`` for k lists. LCMCR's
        default is 5; published analyses often use 10 or more. The Dirichlet process fills small classes readily
        (the number occupied grows like alpha log N), so a full truncation is common and harmless; what matters is
        that N does not move when K is raised (``details`` reports the mean number of occupied classes and the
        share of draws with all K occupied).
    chains : int
        Independent chains, each from its own seed (default 4).
    draws : int
        Draws of N kept per chain.
    burn : int
        Sweeps discarded per chain after the 500 warm-up sweeps.
    thin : int
        Sweeps per kept draw. The defaults (burn 10,000, thin 100, 1,000 draws) are LCMCR's reference settings,
        per chain.
    level : float
        Level of the equal-tailed credible interval.
    random_seed : None, int or numpy.random.Generator
        Seed; chain seeds are spawned from it with :class:`numpy.random.SeedSequence`, so the same seed gives
        identical draws whatever ``n_jobs``. The integer used (fresh entropy for None, one drawn from a
        Generator) is recorded in ``details["random_seed"]``.
    alpha_prior : (float, float)
        Shape and rate of the Gamma prior on the Dirichlet-process concentration alpha (LCMCR's a_alpha,
        b_alpha).
    n_jobs : int, optional
        Chains run at the same time, in threads (the compiled sampler releases the GIL). Default: one per core.
        Use 1 when strata are already fitted in parallel.
    progress : bool
        Show a progress bar over chains.
    overrelaxation : float
        Coefficient in (-1, 0] of the overrelaxed updates of lambda and the sticks; 0 gives the plain Gibbs
        sampler of the paper, as LCMCR runs it. Default -0.98. The posterior is the same either way; only the
        autocorrelation of the draws differs.

    Returns
    -------
    PosteriorEstimate
        ``estimate`` the posterior median of N, ``interval`` the equal-tailed interval at ``level``, ``draws``
        all kept draws of N (chains concatenated), ``diagnostics`` R-hat and bulk/tail ESS of N, ``details``
        the settings, seeds (``random_seed``, the ``entropy`` of the SeedSequence), timings, posterior summaries
        of alpha and of the number of occupied classes, and ``draws by chain``.

    Warns
    -----
    ConvergenceWarning
        R-hat of N above 1.01 or bulk/tail ESS below 400: run more ``draws`` or larger ``thin``. When R-hat is
        high because the chains' medians lie apart (by more than a fifth of the interval), a second warning says a
        chain is held in another region: raise ``burn``. Fewer than 2 chains or 4 draws: R-hat cannot be
        computed, and the run says that its convergence is unchecked.
    IdentifiabilityWarning
        The posterior reaches the truncation N <= 21 n: the data do not bound N and the upper bound reflects the
        truncation, not the data (e.g. lists that never overlap). Also with only two lists, where the model is
        not identified.

    See Also
    --------
    graphical_bma : Bayesian model averaging over decomposable log-linear models (direct list dependence).

    References
    ----------
    .. [1] Manrique-Vallier, D. (2016). Bayesian population size estimation using Dirichlet process mixtures.
       *Biometrics* 72(4):1246-1254. doi:10.1111/biom.12502
    .. [2] Manrique-Vallier, D., Ball, P. & Sadinle, M. (2022). LCMCR: Bayesian non-parametric latent-class
       capture-recapture. R package version 0.4.14.
    .. [3] Adler, S. L. (1981). Over-relaxation method for the Monte Carlo evaluation of the partition function
       for multiquadratic actions. *Physical Review D* 23(12):2901-2904.
    .. [4] Neal, R. M. (1998). Suppressing random walks in Markov chain Monte Carlo using ordered overrelaxation.
       In *Learning in Graphical Models*, 205-228.
    .. [5] Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. & Bürkner, P.-C. (2021). Rank-normalization,
       folding, and localization: an improved R-hat for assessing convergence of MCMC. *Bayesian Analysis*
       16(2):667-718.

    Examples
    --------
    A run short enough for an example; it warns that its chains are too short, and keeps the same messages in the
    result. Use the defaults for real work.

    >>> import warnings
    >>> import estimators
    >>> h = estimators.load_dataset("CARE1_HAV")
    >>> with warnings.catch_warnings(record=True):
    ...     fit = estimators.latent_class(h, K=10, draws=500, burn=5000, thin=20, random_seed=1)
    >>> len(fit.warnings) > 0
    True
    >>> bool(h.n_observed < fit.estimate < 3 * h.n_observed)
    True
    >>> fit.details["draws by chain"].shape
    (4, 500)
    """
    settings = _latent_class_iv(h, K, chains, draws, burn, thin, level, alpha_prior, n_jobs, overrelaxation)
    from . import _gibbs  # numba: imported on first use, so `import estimators` stays fast

    collapsed = h.collapse()
    patterns = np.ascontiguousarray(collapsed.patterns, dtype=np.int64)
    counts = np.ascontiguousarray(np.round(collapsed.counts), dtype=np.int64)
    n = int(counts.sum())
    upper_unobserved = UNLISTED_CAP_FACTOR * n
    # one SeedSequence for the fit; chains get its spawned children (independent streams)
    seed_sequence = np.random.SeedSequence(resolve_seed(random_seed))
    children = seed_sequence.spawn(settings["chains"])
    a_alpha, b_alpha = settings["alpha_prior"]

    def one_chain(child):
        started, cpu = time.perf_counter(), time.thread_time()
        out = _gibbs.run_chain(
            child, patterns, counts, settings["K"], a_alpha, b_alpha, upper_unobserved,
            WARMUP_SWEEPS, settings["burn"], settings["draws"], settings["thin"], settings["overrelaxation"],
        )
        return out, (time.perf_counter() - started, time.thread_time() - cpu)

    started = time.perf_counter()
    # Compile (or load the cached compilation) before the chains start, so threads do not queue on numba's
    # compile lock and the per-chain timings measure sampling only.
    _gibbs.run_chain(
        np.random.SeedSequence(0), patterns, counts, settings["K"], a_alpha, b_alpha, upper_unobserved, 1, 0, 1, 1
    )
    compiled = time.perf_counter()
    results = _run_chains(one_chain, children, settings["n_jobs"], progress)
    elapsed = time.perf_counter() - started

    n_by_chain = np.stack([out[0] for out, _ in results])
    alpha_draws = np.concatenate([out[1] for out, _ in results])
    occupied = np.concatenate([out[2] for out, _ in results])

    diagnostics = chain_diagnostics(n_by_chain)
    messages = warn_if_poor(diagnostics, "N")
    for message, category in _model_warnings(n_by_chain, n, upper_unobserved, h.k, diagnostics["r_hat"], settings):
        messages.append(message)
        _warn.warn(message, category)

    details = {
        "K": settings["K"],
        "alpha_prior": settings["alpha_prior"],
        "chains": settings["chains"],
        "draws per chain": settings["draws"],
        "warmup sweeps": WARMUP_SWEEPS,
        "burn": settings["burn"],
        "thin": settings["thin"],
        "iterations per chain": WARMUP_SWEEPS + settings["burn"] + settings["draws"] * settings["thin"],
        "unlisted cap": upper_unobserved,
        "random_seed": int(seed_sequence.entropy),
        "entropy": seed_sequence.entropy,
        "chain spawn keys": [child.spawn_key for child in children],
        "n_jobs": settings["n_jobs"],
        "overrelaxation": settings["overrelaxation"],
        "seconds": elapsed,
        "seconds compiling": compiled - started,
        "seconds per chain": [seconds for _, (seconds, _) in results],
        "cpu seconds per chain": [cpu for _, (_, cpu) in results],
        "alpha median": float(np.median(alpha_draws)),
        "occupied classes": float(np.mean(occupied)),
        "share of draws with every class occupied": float(np.mean(occupied == settings["K"])),
        "draws by chain": n_by_chain,
        "sampler": "data-augmentation Gibbs (Manrique-Vallier 2016), numba, xoshiro256** streams",
    }
    return PosteriorEstimate.from_draws(
        n_by_chain.reshape(-1),
        level=settings["level"],
        method="latent_class",
        n_observed=n,
        model=f"Dirichlet-process latent classes, K = {settings['K']}",
        warnings=tuple(messages),
        details=details,
        diagnostics=diagnostics,
    )


def _run_chains(one_chain, children, n_jobs: int, progress: bool) -> list:
    """``one_chain(child)`` for every seed in ``children``, in order, in ``n_jobs`` threads."""
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(children), desc="latent_class chains", unit="chain")
    results = []
    if n_jobs == 1:
        for child in children:
            results.append(one_chain(child))
            if bar is not None:
                bar.update()
    else:
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            futures = [pool.submit(one_chain, child) for child in children]
            for future in futures:
                results.append(future.result())
                if bar is not None:
                    bar.update()
    if bar is not None:
        bar.close()
    return results


def _model_warnings(n_by_chain, n: int, upper_unobserved: int, k: int, r_hat: float, settings: dict) -> list:
    """(message, category) for what the draws of N say beyond R-hat and ESS: a chain held apart, two lists, the cap."""
    found = []
    if r_hat > R_HAT_MAX and chains_apart(n_by_chain, settings["level"]):
        # Not too few draws but a chain held in a state with few classes, which only a longer burn-in lets it leave.
        chain_medians = np.median(n_by_chain, axis=1)
        found.append((
            f"Chain medians of N differ ({', '.join(f'{m:,.0f}' for m in chain_medians)}): a chain may be held "
            f"in a low-probability state; increase `burn` (e.g. burn={max(10 * settings['burn'], 100_000)}) and "
            "compare again.",
            ConvergenceWarning,
        ))
    if k == 2:
        found.append((
            "With two lists the latent-class model is not identified (a two-class model already has more "
            "parameters than the three observable cells): the posterior of N reflects the priors. Use more lists, "
            "or a two-list estimator with its stated independence assumption.",
            IdentifiabilityWarning,
        ))
    tail = (1 - settings["level"]) / 2
    near_cap = float(np.mean(n_by_chain - n > upper_unobserved / 2))
    if near_cap > tail:
        found.append((
            f"{near_cap:.1%} of the draws of N exceed {n + upper_unobserved // 2:,} (more than "
            f"{UNLISTED_CAP_FACTOR // 2} unlisted per listed person); the posterior runs into the prior's truncation "
            f"at N <= {n + upper_unobserved:,}, so the upper bound reflects that cap rather than the data. Lists "
            "with little overlap cannot bound N under this model.",
            IdentifiabilityWarning,
        ))
    return found
