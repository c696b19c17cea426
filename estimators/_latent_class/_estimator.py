"""The estimator :func:`latent_class`: settings, chains in threads, diagnostics and warnings on N.

The sampler itself is in ``_gibbs`` (numba); this module checks the inputs, runs the chains and turns their draws
of N into a :class:`~estimators.PosteriorEstimate`.
"""

from __future__ import annotations

import math
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
from ..diagnostics import ESS_MIN, R_HAT_MAX, chain_diagnostics, diagnostic_messages, warn_if_poor
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
#: max_sweeps="auto" allows this many doublings of the first run (5,120,000 sweeps with the defaults; two 3-list
#: tables of 30,000 records needed 1,280,000 and 2,560,000: benchmarks/results/latent_class_mixing.md) for tables of
#: up to AUTO_PATTERNS observed patterns, one fewer per doubling of the patterns beyond (a sweep costs about
#: 3 + 0.25 x patterns microseconds, more with K = 15 than K = 7: a spent budget took 211 CPU s on the 5-list UK
#: table at load 5), and at least AUTO_MIN_DOUBLINGS.
AUTO_DOUBLINGS = 9
AUTO_PATTERNS = 16
AUTO_MIN_DOUBLINGS = 4
DEFAULT_FIRST_RUN = 1000 * 10  # draws x thin
#: An extended run keeps every draw until a chain holds this many (or `draws`), then thins further.
KEEP_DRAWS = 1000


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


def auto_sweeps(patterns: int, first_run: int) -> int:
    """The budget max_sweeps="auto" for a table of ``patterns`` observed patterns and a first run of ``first_run``
    sweeps per chain: AUTO_DOUBLINGS doublings of it, one fewer per doubling of the patterns beyond AUTO_PATTERNS,
    at least AUTO_MIN_DOUBLINGS; and no more than as many doublings of the default first run allow, unless the
    first run is longer (a long first run is not multiplied up)."""
    fewer = max(0, math.floor(math.log2(max(patterns, 1) / AUTO_PATTERNS)))
    factor = 2 ** max(AUTO_MIN_DOUBLINGS, AUTO_DOUBLINGS - fewer)
    return min(first_run * factor, max(first_run, DEFAULT_FIRST_RUN * factor))


def _check_budget(max_sweeps, max_seconds, draws: int, thin: int, patterns: int) -> tuple[int | None, float | None]:
    if isinstance(max_sweeps, str) and max_sweeps == "auto":
        max_sweeps = auto_sweeps(patterns, draws * thin)
    elif max_sweeps is not None:
        max_sweeps = check_positive_int("max_sweeps", max_sweeps)
        if max_sweeps < draws * thin:
            raise ValueError(
                f"`max_sweeps` ({max_sweeps:,}) must be at least draws * thin = {draws * thin:,}, the sweeps of the "
                "first run; raise it, or pass max_sweeps=None for a run of fixed length."
            )
    if max_seconds is not None:
        max_seconds = check_positive("max_seconds", max_seconds)
    return max_sweeps, max_seconds


def _latent_class_iv(h, K, chains, draws, burn, thin, level, alpha_prior, n_jobs, overrelaxation, max_sweeps,
                     max_seconds):
    check_histories(h)
    if K is None:
        K = default_classes(h.k)
    else:
        K = check_positive_int("K", K, minimum=2)
    budget = _check_budget(max_sweeps, max_seconds, check_positive_int("draws", draws),
                           check_positive_int("thin", thin), int(np.count_nonzero(h.collapse().counts)))
    return dict(
        max_sweeps=budget[0],
        max_seconds=budget[1],
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
         "conditional mean)"))],
     "max_sweeps": [AnyOf(None, Interval(Integral, 1, None), Options({"auto"}),
                          description='"auto", a positive integer or None (a run of fixed length)')],
     "max_seconds": [Interval(Real, 0, None, closed="neither"), None]},
    exempt=("h",),
)
def latent_class(
    h: CaptureHistories,
    *,
    K: int | None = None,
    chains: int = 4,
    draws: int = 1000,
    burn: int = 10_000,
    thin: int = 10,
    level: float = 0.95,
    random_seed=None,
    alpha_prior: tuple[float, float] = (0.25, 0.25),
    n_jobs: int | None = None,
    progress: bool = False,
    overrelaxation: float = OVERRELAXATION,
    max_sweeps: int | str | None = "auto",
    max_seconds: float | None = None,
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
    number of unlisted people (negative binomial, with everyone's class summed out) and the classes (a multinomial
    split of each pattern's count, the unlisted included), then lambda and the weights, then alpha. By default
    each lambda_jk and stick whose Beta conditional is close to normal is moved by an overrelaxed Metropolis step
    (Adler 1981; Neal 1998) with coefficient ``overrelaxation``, which leaves the posterior unchanged and lowers
    the autocorrelation of N; every 10th sweep draws them exactly. Chains start from draws of the priors, relabel
    classes by weight after 500 sweeps, run ``burn`` sweeps more, and keep every ``thin``-th of ``draws * thin``
    sweeps. Class labels may switch, which is harmless for N: R-hat and bulk/tail ESS are computed on N only.

    **Run length.** The autocorrelation of N grows with the size of the table (the classes of many people move
    the parameters only a little per sweep), so no fixed length suits every table. The run is therefore extended
    until R-hat of N is at most 1.01 and its bulk and tail ESS at least 400, or until its budget
    (``max_sweeps``, and ``max_seconds`` if given) is spent: each extension continues every chain for as many
    sweeps as it has run after the burn-in. It keeps all the draws while a chain holds fewer than
    max(``draws``, 1,000) (an ESS of 400 needs more draws than that), and from then on doubles ``thin`` and keeps
    every other draw, so a long run holds a bounded number of draws. ``details`` reports the extensions, the
    final ``thin`` and why the run stopped, and a :class:`~estimators.ConvergenceWarning` says so when the budget
    ran out first. With ``max_seconds`` unset, the draws depend on ``random_seed`` only. On sparse tables a
    chain can stay for 10^5 sweeps in a state with few classes and a much lower N before it reaches the bulk;
    several chains from dispersed starts expose this through R-hat (see Warns): raise ``burn`` then. Mixing
    measurements, and the moves tried and left out, are in ``benchmarks/NOTES.md`` (section latent_class) and
    ``benchmarks/results/latent_class_mixing.md``.

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
        Sweeps per kept draw in the first run (doubled by each extension). The first run is ``draws * thin``
        sweeps per chain after the burn-in: 10,000 by default, a tenth of LCMCR's reference settings (burn
        10,000, thin 100, 1,000 draws), which the extensions reach and pass when the table needs them.
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
    max_sweeps : "auto", int or None
        Budget of the extensions: sweeps per chain after the burn-in, at most (at least ``draws * thin``). "auto"
        (default): 9 doublings of the first run (5,120,000 sweeps with the defaults) for tables of up to 16
        observed patterns, one doubling fewer for each doubling of the patterns beyond 16 (a sweep costs about in
        proportion to them), and at least 4 (160,000 sweeps with the defaults); but never more than that many
        doublings of the default first run unless the first run itself is longer. ``details["max_sweeps"]`` gives
        the number used. None: one run of ``draws * thin`` sweeps, never extended.
    max_seconds : float, optional
        Also stop extending when the next extension would end after this many seconds of the call (wall time,
        estimated from the sampling so far). The number of extensions then depends on the machine's speed, so
        the draws are no longer a function of ``random_seed`` alone. Default None (no time limit).

    Returns
    -------
    PosteriorEstimate
        ``estimate`` the posterior median of N, ``interval`` the equal-tailed interval at ``level``, ``draws``
        all kept draws of N (chains concatenated), ``diagnostics`` R-hat and bulk/tail ESS of N, ``details``
        the settings, the run's length (``extensions``, the final ``thin``, ``sweeps per chain``, ``stopped``:
        "targets met", "max_sweeps reached", "max_seconds reached" or why it was not extended), seeds
        (``random_seed``, the ``entropy`` of the SeedSequence), timings, posterior summaries of alpha and of the
        number of occupied classes, and ``draws by chain``.

    Warns
    -----
    ConvergenceWarning
        R-hat of N above 1.01 or bulk/tail ESS below 400 when the run stops: with a second warning naming the
        budget that ran out (raise ``max_sweeps`` or ``max_seconds``), or, for a fixed run, run more ``draws``
        or larger ``thin``. When R-hat is
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
    Runs shorter than the defaults, for an example. The first is extended until R-hat and ESS of N pass; the
    second, with a budget of one run, stops there and warns, keeping the same messages in the result.

    >>> import warnings
    >>> import estimators
    >>> h = estimators.load_dataset("CARE1_HAV")
    >>> fit = estimators.latent_class(h, K=10, draws=500, burn=5000, thin=20, random_seed=1)
    >>> fit.details["stopped"], fit.details["extensions"], fit.details["draws per chain"], fit.warnings
    ('targets met', 1, 1000, ())
    >>> with warnings.catch_warnings(record=True):
    ...     short = estimators.latent_class(h, K=10, draws=500, burn=5000, thin=20, random_seed=1, max_sweeps=10_000)
    >>> short.details["stopped"], len(short.warnings) > 0
    ('max_sweeps reached', True)
    >>> bool(h.n_observed < fit.estimate < 3 * h.n_observed)
    True
    >>> fit.details["draws by chain"].shape
    (4, 1000)
    """
    settings = _latent_class_iv(h, K, chains, draws, burn, thin, level, alpha_prior, n_jobs, overrelaxation,
                                max_sweeps, max_seconds)
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
    n_draws, thin = settings["draws"], settings["thin"]
    cpu_by_chain = np.zeros(settings["chains"])

    def first_run(index, child):
        cpu = time.thread_time()
        chain = _gibbs.start_chain(
            child, patterns, counts, settings["K"], a_alpha, b_alpha, upper_unobserved, WARMUP_SWEEPS,
            settings["overrelaxation"],
        )
        out = _gibbs.continue_chain(chain, settings["burn"], n_draws, thin)
        cpu_by_chain[index] += time.thread_time() - cpu
        return chain, out

    def extension(index, chain, extra, every):
        cpu = time.thread_time()
        out = _gibbs.continue_chain(chain, 0, extra, every)
        cpu_by_chain[index] += time.thread_time() - cpu
        return out

    started = time.perf_counter()
    # Compile (or load the cached compilation) before the chains start, so threads do not queue on numba's
    # compile lock and the per-chain timings measure sampling only.
    _gibbs.run_chain(
        np.random.SeedSequence(0), patterns, counts, settings["K"], a_alpha, b_alpha, upper_unobserved, 1, 0, 1, 1
    )
    compiled = time.perf_counter()
    started_chains = _run_chains(first_run, children, settings["n_jobs"], progress)
    chain_states = [chain for chain, _ in started_chains]
    outputs = [list(out) for _, out in started_chains]
    # Extend until N's R-hat and ESS pass (no message) or the budget is spent. Each extension doubles every chain's
    # sweeps. While a chain holds fewer than KEEP_DRAWS draws (or `draws`) it keeps them all: an ESS of 400 needs
    # more draws than that. Beyond, it doubles the thinning and keeps every other draw so far, so a long run holds
    # a bounded number of draws. The chains continue from where they stopped, with their own streams, so the draws
    # depend on the seed only (unless `max_seconds` stops the run).
    keep_cap = max(n_draws, KEEP_DRAWS)
    extensions, stopped = 0, None
    if settings["max_sweeps"] is None:
        stopped = "fixed length (max_sweeps=None)"
    elif settings["chains"] < 2 or n_draws < 4:
        stopped = "not extended: R-hat needs 2 or more chains of 4 or more draws"
    while stopped is None:
        if not diagnostic_messages(chain_diagnostics(np.stack([out[0] for out in outputs]))):
            stopped = "targets met"
            break
        if n_draws * thin * 2 > settings["max_sweeps"]:
            stopped = "max_sweeps reached"
            break
        # the next extension takes about as long as the sampling after the burn-in so far, which this bounds
        sampling = time.perf_counter() - compiled
        if settings["max_seconds"] is not None and time.perf_counter() - started + sampling > settings["max_seconds"]:
            stopped = "max_seconds reached"
            break
        if 2 * n_draws <= keep_cap:
            extra, n_draws = n_draws, 2 * n_draws
        else:
            kept = n_draws // 2
            for out in outputs:
                for i, values in enumerate(out):
                    out[i] = values[1::2][:kept]
            extra = n_draws - kept
            thin *= 2
        added = _run_chains(lambda index, chain: extension(index, chain, extra, thin), chain_states,
                            settings["n_jobs"], False)
        for out, more in zip(outputs, added):
            for i, values in enumerate(more):
                out[i] = np.concatenate([out[i], values])
        extensions += 1
    elapsed = time.perf_counter() - started

    n_by_chain = np.stack([out[0] for out in outputs])
    alpha_draws = np.concatenate([out[1] for out in outputs])
    occupied = np.concatenate([out[2] for out in outputs])
    iterations = WARMUP_SWEEPS + settings["burn"] + n_draws * thin
    diagnostics = chain_diagnostics(n_by_chain)
    messages = warn_if_poor(diagnostics, "N")
    if messages and stopped in ("max_sweeps reached", "max_seconds reached"):
        budget = (f"max_sweeps={settings['max_sweeps']:,}" if stopped == "max_sweeps reached"
                  else f"max_seconds={settings['max_seconds']:g}")
        message = (
            f"The run was extended {extensions} time(s), to {n_draws * thin:,} sweeps per chain after the burn-in "
            f"(thin {thin}), and stopped at its budget ({budget}) before R-hat of N fell below {R_HAT_MAX} and its "
            f"ESS reached {ESS_MIN:.0f}; raise `{budget.split('=')[0]}` (or `chains`) and fit again."
        )
        messages.append(message)
        _warn.warn(message, ConvergenceWarning)
    for message, category in _model_warnings(n_by_chain, n, upper_unobserved, h.k, diagnostics["r_hat"], settings):
        messages.append(message)
        _warn.warn(message, category)

    details = {
        "K": settings["K"],
        "alpha_prior": settings["alpha_prior"],
        "chains": settings["chains"],
        "draws per chain": n_draws,
        "warmup sweeps": WARMUP_SWEEPS,
        "burn": settings["burn"],
        "thin": thin,
        "first thin": settings["thin"],
        "extensions": extensions,
        "stopped": stopped,
        "max_sweeps": settings["max_sweeps"],
        "max_seconds": settings["max_seconds"],
        "sweeps per chain": n_draws * thin,
        "iterations per chain": iterations,
        "unlisted cap": upper_unobserved,
        "random_seed": int(seed_sequence.entropy),
        "entropy": seed_sequence.entropy,
        "chain spawn keys": [child.spawn_key for child in children],
        "n_jobs": settings["n_jobs"],
        "overrelaxation": settings["overrelaxation"],
        "seconds": elapsed,
        "seconds compiling": compiled - started,
        "cpu seconds per chain": cpu_by_chain.tolist(),
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
    """``one_chain(index, item)`` for every item of ``children``, in order, in ``n_jobs`` threads."""
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(children), desc="latent_class chains", unit="chain")
    results = []
    if n_jobs == 1:
        for index, child in enumerate(children):
            results.append(one_chain(index, child))
            if bar is not None:
                bar.update()
    else:
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            futures = [pool.submit(one_chain, index, child) for index, child in enumerate(children)]
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
