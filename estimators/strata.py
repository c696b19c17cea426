"""Estimating many strata (weeks, regions, ...) at scale: parallel fits, a progress bar and a content-addressed cache.

Fits run with joblib (loky processes by default; a Dask cluster on request) and finish in any order. With a cache
directory every stratum's result is stored under a key made of the stratum's table (its fingerprint) and the
method's name, code and settings, so a rerun fits only the strata whose table or settings changed.
"""

from __future__ import annotations

import hashlib
import inspect
import math
import numbers
import sys
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from . import _registry
from ._validation import BOOL, InstanceOf, Integral, Interval, Options, check_choice, check_level, validate_params
from .exceptions import DataError
from .histories import CaptureHistories, FailedStratum, _coverage_warnings
from ._parallel import BACKENDS, Scheduler, backend_context, check_backend
from ._strata_cache import _cached, _fit_batch, _fitter, _method_identity, _package_digest, _stratum_key, _Unkeyable
from ._summary import Summary, format_label, warning_codes
from .results import Estimate, PosteriorEstimate, thin_draws

# `warnings` holds each warning's first clause, short enough for a table; `warning_details` the full text
COLUMNS = ["stratum", "n_observed", "estimate", "lower", "upper", "method", "warnings", "cached", "error",
           "seconds", "warning_details"]


# ------------------------------------------------------------------------------------------------ result
@dataclass(frozen=True, kw_only=True, eq=False)
class StrataResult:
    """Per-stratum estimates of N from :func:`estimate_strata`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per stratum: ``stratum, n_observed, estimate, lower, upper, method, warnings, cached, error,
        seconds, warning_details`` (``error`` is empty for strata that were fitted; ``cached`` says the result came
        from the cache; ``warnings`` gives each warning's first clause, ``warning_details`` the full text).
    results : mapping
        Stratum label -> the method's result (an :class:`Estimate` or :class:`PosteriorEstimate`), fitted strata
        only.
    errors : mapping
        Stratum label -> error message, for strata whose fit failed.
    method : str
        The method's name.
    settings : mapping
        The method's options as passed.
    level : float
        Interval level of the per-stratum results (the ``level`` option, else the results' own).
    seconds : float
        Wall time of the whole call.
    unplaced : mapping
        Records in no stratum, by reason: ``{"no date": n, "coarse date": n}`` when binning a date column
        (``freq``) met records with no date, or with a date known only to a period longer than one bin. Their deaths
        are in no stratum's estimate nor in :meth:`total`.
    """

    table: pd.DataFrame
    results: Mapping
    errors: Mapping
    method: str
    settings: Mapping = field(default_factory=dict)
    level: float = 0.95
    seconds: float = 0.0
    unplaced: Mapping = field(default_factory=dict)

    @property
    def n_unplaced(self) -> int:
        """Records in no stratum (no date, or a date too coarse for the bins): see ``unplaced``."""
        return int(sum(self.unplaced.values()))

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    @property
    def n_cached(self) -> int:
        return int(self.table["cached"].sum())

    def total(self, level: float | None = None) -> Estimate:
        """N summed over the fitted strata (strata are taken as independent).

        Bayesian results (all with draws): the draws are summed stratum by stratum, giving draws of the total
        (median and equal-tailed interval); runs of different lengths are first thinned evenly to the shortest.
        Otherwise the estimates are summed and the interval is the normal (Wald) interval from the summed
        variances; a stratum's variance is its standard error squared, or, where the method gives none,
        (upper - lower) / (2 z) squared from its own interval (said in the warnings).
        Failed strata are left out, with a warning naming them.

        Caution: a small-sample bias shared by every stratum adds up over strata while the interval widens only
        as their square root, so strata that each cover their own truth can sum to a total whose interval misses
        (``benchmarks/bench_strata.py`` shows it on weekly strata of about 60 deaths). When the total is the
        target, also fit the pooled table or fewer, larger strata.
        """
        level = self.level if level is None else check_level(level)
        if not self.results:
            raise ValueError("No stratum was fitted, so there is no total; see the `error` column.")
        fitted = list(self.results.values())
        notes = []
        if self.errors:
            notes.append(
                f"{len(self.errors)} stratum/strata failed and are not in the total: "
                + ", ".join(format_label(label) for label in self.errors)
            )
        if self.n_unplaced:
            notes.append(f"{self.n_unplaced:,} records are in no stratum ("
                         + ", ".join(f"{reason}: {n:,}" for reason, n in self.unplaced.items())
                         + ") and are not in the total")
        n_observed = int(sum(r.n_observed for r in fitted))
        method = f"{self.method}, total over {len(fitted)} strata"
        if all(isinstance(r, PosteriorEstimate) and len(r.draws) for r in fitted):
            shortest = min(len(r.draws) for r in fitted)
            if any(len(r.draws) != shortest for r in fitted):
                # runs that extend themselves (latent_class) end at different lengths: an evenly spaced subset
                # of each run is still a sample of its posterior
                notes.append(f"strata have different numbers of draws ({min(len(r.draws) for r in fitted):,} to "
                             f"{max(len(r.draws) for r in fitted):,}); each was thinned evenly to {shortest:,}")
            draws = np.sum([thin_draws(np.asarray(r.draws, float), shortest) for r in fitted], axis=0)
            return PosteriorEstimate.from_draws(
                draws, level=level, method=method, n_observed=n_observed,
                interval_kind="equal-tailed credible (draws summed across independent strata)",
                warnings=tuple(notes), details={"strata": len(fitted)},
            )
        z = stats.norm.ppf(0.5 + level / 2)
        variance = 0.0
        from_width = []
        for label, result in self.results.items():
            if result.std_error is not None and np.isfinite(result.std_error):
                variance += result.std_error**2
            else:
                lower, upper = result.interval
                z_own = stats.norm.ppf(0.5 + result.level / 2)
                variance += ((upper - lower) / (2 * z_own)) ** 2
                from_width.append(label)
        if from_width:
            notes.append(
                "No standard error for " + ", ".join(repr(label) for label in from_width)
                + "; its variance was taken from its interval's width, (upper - lower) / (2 z), squared."
            )
        estimate = float(sum(r.estimate for r in fitted))
        spread = z * math.sqrt(variance)
        interval = (max(estimate - spread, n_observed), estimate + spread) if np.isfinite(spread) else (
            float("nan"), float("nan"))
        if not np.isfinite(spread):
            notes.append("A stratum's interval is unbounded, so the total's interval does not exist.")
        return Estimate(
            estimate=estimate, interval=interval, level=level, method=method, n_observed=n_observed,
            interval_kind="Wald on the sum (variances of independent strata summed)",
            std_error=math.sqrt(variance), warnings=tuple(notes), details={"strata": len(fitted)},
        )

    def summary(self) -> Summary:
        facts = [
            ("method", self.method),
            ("strata", len(self.table)),
            ("fitted", len(self.results)),
            ("failed", len(self.errors)),
            *([("records in no stratum", ", ".join(f"{n:,} ({reason})" for reason, n in self.unplaced.items()))]
              if self.n_unplaced else []),
            ("from cache", self.n_cached),
            ("wall time (s)", round(self.seconds, 2)),
        ]
        # the level alone does not say what the bounds are (log-normal, profile, credible, ...)
        kinds = sorted({getattr(result, "interval_kind", "") for result in self.results.values()} - {""})
        facts.append(("interval", f"{self.level:.0%} {' / '.join(kinds)}".strip()))
        table = self.table.set_index("stratum")[["n_observed", "estimate", "lower", "upper", "cached"]]
        notes = [f"stratum {format_label(label)} failed: {message}" for label, message in self.errors.items()]
        if self.n_unplaced:
            notes.append(f"{self.n_unplaced:,} records are in no stratum (no date, or a date coarser than a bin): "
                         "their deaths are in no stratum's estimate; impute them (estimators.impute) or fit the "
                         "pooled table.")
        warned = self.table.loc[self.table["warnings"] != "", "stratum"].tolist()
        if warned:
            notes.append(f"{len(warned)} {'stratum has' if len(warned) == 1 else 'strata have'} warnings (see the "
                         "`warnings` column): "
                         + ", ".join(format_label(label) for label in warned[:10])
                         + (" ..." if len(warned) > 10 else ""))
        return Summary(title=f"Estimates by stratum: {self.method}", facts=facts, table=table, notes=notes)

    def __str__(self):
        return str(self.summary())

    def __repr__(self) -> str:
        # one line: the per-stratum results stay out of it (print() or summary() shows the table)
        return (f"<StrataResult {self.method}: {len(self.table):,} strata, {len(self.results):,} fitted, "
                f"{len(self.errors):,} failed, {self.n_cached:,} from cache>")

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def plot(self, ax=None, **kwargs):
        """Estimate and interval of N by stratum, with the observed count; returns the axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(8, 3.5))
        table = self.table[self.table["error"] == ""]
        labels = table["stratum"].tolist()
        dates = all(isinstance(label, pd.Timestamp) for label in labels)
        x = pd.DatetimeIndex(labels) if dates else np.arange(len(labels))
        estimate = table["estimate"].to_numpy(float)
        errors = np.vstack([estimate - table["lower"].to_numpy(float), table["upper"].to_numpy(float) - estimate])
        ax.errorbar(x, estimate, yerr=errors, fmt=kwargs.pop("fmt", "o"), ms=3, capsize=2,
                    label=f"N, {self.level:.0%} interval", **kwargs)
        ax.plot(x, table["n_observed"].to_numpy(float), "x", color="tab:red", ms=4, label="observed n")
        if not dates:
            ax.set_xticks(x, [str(label) for label in labels], rotation=90 if len(labels) > 12 else 0)
        ax.set_xlabel("stratum")
        ax.set_ylabel("N (total)")
        ax.set_title(f"{self.method} by stratum", fontsize=9)
        ax.legend(fontsize=8)
        return ax


# ------------------------------------------------------------------------------------------------ pieces
def _resolve_method(method):
    """(name, callable) for a public estimator's name or any callable ``f(histories, **options)``."""
    if isinstance(method, str):
        import estimators

        entry = _registry.BY_NAME.get(method)
        if entry is None or not entry.per_stratum:
            known = sorted(e.name for e in _registry.per_stratum())
            joint = ", ".join(f"{e.cli!r} (every stratum in one model, estimators.{e.name})"
                              for e in _registry.joint_strata())
            raise ValueError(f"`method` must be a callable or one of the estimators {known!r}, or {joint}; got "
                             f"{method!r}.")
        try:
            # through the package, as a user would call it (estimators.<name>), not the submodule directly
            function = getattr(estimators, method) if entry.top_level else entry.load()
        except (AttributeError, ImportError) as error:
            raise ValueError(f"`method` {method!r} is not available in this installation ({error}).") from None
        return method, function
    if callable(method):
        return getattr(method, "__name__", type(method).__name__), method
    raise ValueError(f"`method` must be an estimator's name (e.g. 'chapman') or a callable; got {method!r}.")


def _joint_entry(method):
    """The registry's entry when ``method`` names (or is) an estimator that fits all strata in one model, else None."""
    for entry in _registry.joint_strata():
        if isinstance(method, str):
            if method in (entry.cli, entry.name):
                return entry
        elif (getattr(method, "__name__", None) == entry.function
              and getattr(method, "__module__", "").startswith(f"estimators.{entry.module}")):
            return entry
    return None


def _fit_jointly(entry, histories, by, freq, *, n_jobs, backend, scheduler, cache, progress, batch_size, options):
    """``estimate_strata(method="pooled")``: one model over every stratum, so the options that organise independent
    per-stratum fits (workers, cluster, cache, batches) do not apply and are refused rather than ignored."""
    from ._records import Imputations

    how = f"method={entry.cli!r} fits every stratum in one joint model (estimators.{entry.name})"
    if isinstance(histories, Imputations):
        raise ValueError(f"{how}; it does not take Imputations: fit each completed table "
                         "(`imputations.histories()`) with it, or use a per-stratum method here.")
    if n_jobs != 1:
        raise ValueError(f"`n_jobs` runs independent strata in parallel, but {how}: leave `n_jobs` at 1 and pass "
                         f"`cores` (chains sampled at the same time) instead; got n_jobs={n_jobs!r}.")
    if backend != "joblib" or scheduler is not None:
        raise ValueError(f"`backend` and `scheduler` send independent strata to workers, but {how}, sampled in "
                         "this process: leave backend='joblib' and scheduler=None.")
    if cache is not None:
        raise ValueError(f"`cache` stores each stratum's fit under its own table, but {how}: a stratum's estimate "
                         "depends on every other stratum, so it cannot be cached alone. Pass cache=None.")
    if batch_size is not None:
        raise ValueError(f"`batch_size` groups independent strata into tasks, but {how}: leave it at None.")
    function = entry.load()
    _check_options(entry.name, function, options)
    # as the per-stratum bar: shown only on a terminal (nutpie's bar here)
    return function(histories, by, freq=freq, progress=bool(progress) and sys.stderr.isatty(), **options)


def _check_options(name: str, function, options: Mapping) -> None:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(None, **options)
    except TypeError as error:
        raise ValueError(f"Method {name!r} does not accept these options {sorted(options)!r}: {error}.") from None


def _stratum_seed(random_seed: int, label) -> int:
    """A seed per stratum from the user's seed and the stratum's label: independent, and the same in any order."""
    label_key = int.from_bytes(hashlib.sha256(repr(label).encode()).digest()[:8], "little")
    return int(np.random.SeedSequence([random_seed, label_key]).generate_state(1, dtype=np.uint32)[0])


def _split_strata(histories, by, freq) -> tuple[dict, dict, list, dict]:
    """(label -> table, label -> (n_observed, error) for strata that cannot be a capture-recapture table, every
    label in the order the strata are reported, records in no stratum by reason)."""
    failed, unplaced = {}, {}
    if isinstance(histories, CaptureHistories):
        if by is None:
            raise ValueError(
                "`by` is required with a single CaptureHistories: name the covariate column(s) defining the "
                f"strata (covariates: {list(histories.covariates)!r}), or pass a dict of tables."
            )
        # a stratum that cannot be a table (one person, a single list) must not stop the others, as a failing
        # fit does not
        split = histories.split_strata(by, freq)
        unplaced = dict(getattr(split, "unplaced", {}))
        column = by if isinstance(by, str) else (list(by)[0] if len(list(by)) == 1 else None)
        if column is not None and (freq is not None or np.asarray(histories.covariates[column]).dtype.kind == "M"):
            # strata by date: a list absent for part of the study is named, as from_records does
            _coverage_warnings(histories.covariates[column], histories.patterns, histories.lists,
                               histories.counts, column=column)
        strata = {label: h for label, h in split.items() if not isinstance(h, FailedStratum)}
        failed = {label: (h.n_observed, f"DataError: {h.error}") for label, h in split.items()
                  if isinstance(h, FailedStratum)}
        labels = list(split)
    elif isinstance(histories, Mapping):
        if by is not None or freq is not None:
            raise ValueError("`by` and `freq` apply to a single CaptureHistories; a dict is already stratified.")
        strata = dict(histories)
        for label, table in strata.items():
            if not isinstance(table, CaptureHistories):
                raise DataError(f"Stratum {label!r} is a {type(table).__name__}, not a CaptureHistories.")
        labels = list(strata)
    else:
        raise DataError(
            f"`histories` must be a CaptureHistories or a dict of them; got {type(histories).__name__}."
        )
    if not strata and not failed:
        raise DataError("There are no strata to fit.")
    return strata, failed, labels, unplaced


# ------------------------------------------------------------------------------------------------ public
@validate_params(
    {
        "freq": [None, InstanceOf(str, "a pandas frequency such as 'W' or 'MS'")],
        "n_jobs": [Interval(Integral, 1, None), Options({-1})],
        "backend": [Options(BACKENDS)],
        "scheduler": [None, Scheduler()],
        "progress": BOOL,
        "batch_size": [None, Interval(Integral, 1, None)],
    },
    # the table and how to split it are data; `method` and `cache` are objects checked where used;
    # **method_options are checked by the method itself (and its seed and level below)
    exempt=("histories", "by", "method", "cache"),
)
def estimate_strata(histories, by=None, *, freq=None, method="loglinear_bayes", n_jobs=1, backend="joblib",
                    scheduler=None, cache=None, progress=True, batch_size=None, **method_options) -> StrataResult:
    """Fit an estimator to every stratum (week, region, ...) in parallel, with a progress bar and a cache.

    Each stratum is an independent capture-recapture table; this function only organises the work. Fits run
    with joblib processes (``n_jobs``) or on a Dask cluster (``backend="dask"``), are collected as they finish,
    and, with ``cache``, are stored under a content address: the stratum's table (its
    :meth:`~estimators.CaptureHistories.fingerprint`), the method's name and code, and its options. A rerun
    reads unchanged strata from the cache and fits only the rest.

    Parameters
    ----------
    histories : CaptureHistories, dict or Imputations
        A table with covariates to split with ``by`` (and ``freq``), or a dict of stratum label -> table. Or the
        :class:`~estimators.Imputations` of person records (:func:`~estimators.impute`): each completed table is
        split and fitted, and the fits are combined stratum by stratum with :func:`~estimators.pool` (Rubin's
        rules, or mixed posterior draws), returning a :class:`~estimators.StrataResult` whose table adds each stratum's
        between-imputation share of variance.
    by : str or list of str, optional
        Covariate column(s) defining the strata (see :meth:`CaptureHistories.strata`).
    freq : str, optional
        Bin a date column into periods first ("D", "W", "M", ...). Records with no date are in no stratum, and so
        are those whose date is a ``pandas.Period`` longer than one bin (a month Period fits a month bin; a year
        Period fits none): a warning says how many, and the result's ``unplaced`` counts them. With strata by a
        date column a list with no records over a long stretch where the others have many (it started late,
        paused or stopped early) is named in a warning (:func:`~estimators.histories.list_coverage_gaps`).
    method : str or callable
        A public estimator's name (``"loglinear_bayes"``, ``"chapman"``, ``"loglinear"``, ``"graphical_bma"``,
        ``"latent_class"``, ...) or any callable ``f(histories, **options)`` returning an
        :class:`~estimators.Estimate`. Or ``"pooled"``: strata that borrow strength, every stratum fitted at once
        by :func:`~estimators.loglinear_pooled` (partially pooled capture parameters), which returns its
        ``PooledStrataResult`` exactly as calling it with the same ``by``, ``freq`` and options would; ``n_jobs``,
        ``backend``, ``scheduler``, ``cache`` and ``batch_size`` organise independent fits and are then refused
        unless left at their defaults (its ``cores`` runs chains in parallel). A callable with a ``batch_fitter`` attribute (as ``loglinear_bayes``)
        is replaced by ``batch_fitter()``, a fitter that reuses compiled models: across all strata with
        ``n_jobs=1``, across each batch of strata in a worker process otherwise.
    n_jobs : int
        Parallel workers (-1: all cores). ``1`` runs in this process. On Dask the cluster's workers set the
        parallelism instead.
    backend : {"joblib", "dask"}
        ``"dask"`` runs the same fits on a Dask cluster through ``joblib.parallel_config(backend="dask")``
        (needs ``dask[distributed]``): on ``scheduler`` if given, else on the ``dask.distributed.Client`` active
        in this process, else on a local cluster (one single-threaded worker process per core) started for the
        call and closed after it. With :class:`~estimators.Imputations` one client serves every imputation.
    scheduler : str or dask.distributed.Client, optional
        The Dask scheduler's address (e.g. ``"tcp://10.0.0.5:8786"``) or a connected Client; only with
        ``backend="dask"``.
    cache : str or path, optional
        Directory of the result cache (``joblib.Memory``); ``None`` for no cache. An entry is keyed by the stratum's
        table and everything else that determines its result: the method's name, its code (for user code also the
        default values, closure variables, the module-level functions and values it uses), the arguments bound by
        ``functools.partial``, a callable object's class and state, the options, the source of every module of
        this package, its version and those of NumPy, SciPy, pandas, PyMC, PyTensor and Numba. Editing any of them
        invalidates the entries. A method or option that cannot be hashed (a closure over a lock, say) is fitted
        without the cache, with a warning. An entry that cannot be read (a write cut short) is refitted, with a
        warning, and is not counted as cached. Results with ``random_seed=None`` are random: a cached one is
        reused as it is.
    progress : bool
        Show a progress bar (tqdm; off anyway when stderr is not a terminal).
    batch_size : int, optional
        Strata per task. Default 1, or, for methods with a ``batch_fitter`` run in several processes, one batch
        per worker (one compilation per worker; the progress bar then advances a batch at a time: pass a smaller
        ``batch_size`` for finer progress at the cost of more compilations).
    **method_options
        Passed to the method for every stratum (e.g. ``level``, ``draws``). An integer ``random_seed`` is turned
        into one independent seed per stratum (from the seed and the stratum's label), so results do not depend on
        the order or the worker in which strata run (with ``method="pooled"`` it seeds the one joint fit).

    Returns
    -------
    StrataResult
        ``table`` (one row per stratum: stratum, n_observed, estimate, lower, upper, method, warnings, cached,
        error, seconds), ``results`` (label -> result), ``errors`` (label -> message), ``total()`` (N summed over
        strata), ``summary()``, ``plot(ax)``. With ``method="pooled"`` the ``PooledStrataResult`` of
        :func:`~estimators.loglinear_pooled`, whose ``total()`` sums the joint posterior's draws.

    Notes
    -----
    A stratum whose fit raises is recorded in ``errors`` and the ``error`` column; the others are unaffected. So is
    a stratum in which fewer than two lists have records (one person, say), which cannot be a table at all.
    Warnings raised during a fit are caught and listed in the ``warnings`` column (and kept in the cache).

    References
    ----------
    .. [1] Ball, P., Asher, J., Sulmont, D. & Manrique, D. (2003). *How many Peruvians have died?* AAAS /
       HRDAG (stratified multiple-systems estimation, strata estimated separately and summed).
    .. [2] Manrique-Vallier, D., Price, M. E. & Gohdes, A. (2013). Multiple systems estimation techniques for
       estimating casualties in armed conflicts. In *Counting Civilian Casualties*, Oxford University Press.

    Examples
    --------
    >>> import estimators, pandas as pd
    >>> frame = pd.DataFrame({"A": [1, 0, 1, 1, 0, 1], "B": [0, 1, 1, 0, 1, 1],
    ...                       "region": ["north"] * 3 + ["south"] * 3, "count": [30, 20, 10, 25, 25, 5]})
    >>> h = estimators.CaptureHistories.from_counts(frame, lists=["A", "B"])
    >>> fits = estimators.estimate_strata(h, by="region", method="chapman", progress=False)
    >>> fits.table[["stratum", "n_observed"]].to_dict("list")
    {'stratum': ['north', 'south'], 'n_observed': [60, 55]}
    """
    from ._records import Imputations, pool

    joint = _joint_entry(method)
    if joint is not None:
        return _fit_jointly(joint, histories, by, freq, n_jobs=n_jobs, backend=backend, scheduler=scheduler,
                            cache=cache, progress=progress, batch_size=batch_size, options=method_options)
    if isinstance(histories, Imputations):
        # one fit per completed table, pooled; an integer seed gives each imputation its own stream
        seed = method_options.get("random_seed")
        check_backend(backend, scheduler)
        fits = []
        # one Dask client for all the imputations' fits (found or started once, not once per imputation)
        with backend_context(backend, scheduler) as client:
            for i, table in enumerate(histories.histories()):
                options = dict(method_options)
                if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
                    options["random_seed"] = int(np.random.SeedSequence([int(seed), i]).generate_state(1)[0])
                fits.append(estimate_strata(table, by, freq=freq, method=method, n_jobs=n_jobs, backend=backend,
                                            scheduler=client, cache=cache, progress=progress,
                                            batch_size=batch_size, **options))
        return pool(fits)
    start_time = time.perf_counter()
    strata, unsplit, labels, unplaced = _split_strata(histories, by, freq)
    name, function = _resolve_method(method)
    check_choice("backend", backend, BACKENDS)
    check_backend(backend, scheduler)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or not (n_jobs >= 1 or n_jobs == -1):
        raise ValueError(f"`n_jobs` must be a positive integer or -1 (all cores); got {n_jobs!r}.")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral)
                                   or batch_size < 1):
        raise ValueError(f"`batch_size` must be a positive integer; got {batch_size!r}.")
    seed = method_options.get("random_seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise ValueError(
            f"`random_seed` must be None or a non-negative integer here (a Generator cannot be shared by parallel "
            f"workers); got {seed!r}."
        )
    if "level" in method_options:
        check_level(method_options["level"])
    _check_options(name, function, method_options)

    memory, identity = None, ""
    if cache is not None:
        try:
            identity = _method_identity(name, function, method_options, _package_digest())
        except _Unkeyable as reason:
            # a key that leaves out part of the settings would serve one call's results to another
            warnings.warn(f"The cache is not used: {reason}, so the results cannot be keyed by all that "
                          "determines them. Every stratum is fitted.", UserWarning, stacklevel=2)
        else:
            import joblib

            memory = joblib.Memory(location=str(cache), verbose=0)

    items = []
    for label, h in strata.items():
        options = dict(method_options)
        if seed is not None:
            options["random_seed"] = _stratum_seed(int(seed), label)
        items.append((label, h, options, _stratum_key(identity, options)))

    from tqdm.auto import tqdm

    records, pending = {}, []
    bar = tqdm(total=len(items), desc=f"{name} by stratum", unit="stratum", disable=None if progress else True)
    try:
        if memory is not None:
            call = _cached(memory)
            for item in items:
                label, h, options, key = item
                if call.check_call_in_cache(h.fingerprint(), key, options, h, function):
                    records[label] = _fit_batch([item], function, memory)[0]
                    bar.update(1)
                else:
                    pending.append(item)
        else:
            pending = items
        if pending:
            import joblib

            with backend_context(backend, scheduler) as client:
                # on Dask the cluster's cores set the parallelism (joblib's Dask backend ignores n_jobs)
                workers = joblib.effective_n_jobs(n_jobs) if client is None else sum(client.ncores().values())
                if batch_size is None:
                    # In this process (one worker) the fitter below is shared by all batches; worker processes get
                    # a pickled copy per batch, so there one batch per worker compiles once per worker: a compile
                    # costs several fits, which outweighs a finer progress bar.
                    reuses = getattr(function, "batch_fitter", None) is not None and workers > 1
                    batch_size = math.ceil(len(pending) / workers) if reuses else 1
                batches = [pending[i:i + batch_size] for i in range(0, len(pending), batch_size)]
                fit = _fitter(function)
                parallel = joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")
                tasks = (joblib.delayed(_fit_batch)(batch, fit, memory) for batch in batches)
                for batch_records in parallel(tasks):
                    for record in batch_records:
                        records[record[0]] = record
                    bar.update(len(batch_records))
    finally:
        bar.close()

    for label, (n_observed, error) in unsplit.items():
        records[label] = (label, None, (), error, 0.0, False, "")
    observed = {label: h.n_observed for label, h in strata.items()} | {label: n for label, (n, _) in unsplit.items()}
    rows, results, errors, refitted = [], {}, {}, {}
    for label in labels:
        _, result, messages, error, seconds, cached, unreadable = records[label]
        if unreadable:
            refitted[label] = unreadable
            messages = (*messages, f"the cached result could not be read ({unreadable}) and was refitted")
        row = dict(stratum=label, n_observed=observed[label], estimate=np.nan, lower=np.nan, upper=np.nan,
                   method=name, warnings="", cached=cached, error=error, seconds=seconds, warning_details="")
        if result is None:
            errors[label] = error
            if messages:
                row.update(warnings=warning_codes(list(messages)), warning_details="; ".join(messages))
        else:
            results[label] = result
            notes = list(getattr(result, "warnings", ())) + [m for m in messages if m not in result.warnings]
            row.update(estimate=result.estimate, lower=result.interval[0], upper=result.interval[1],
                       method=getattr(result, "method", name) or name, warnings=warning_codes(notes),
                       warning_details="; ".join(notes))
        rows.append(row)
    if refitted:
        warnings.warn(
            f"{len(refitted)} cache {'entry' if len(refitted) == 1 else 'entries'} could not be read (corrupt or "
            "incomplete) and were refitted, so they are not counted as cached: "
            + ", ".join(f"{label!r} ({reason})" for label, reason in refitted.items()), UserWarning, stacklevel=2)
    table = pd.DataFrame(rows, columns=COLUMNS)
    levels = [getattr(result, "level", None) for result in results.values()]
    level = method_options.get("level", next((value for value in levels if value is not None), 0.95))
    return StrataResult(table=table, results=results, errors=errors, method=name, settings=dict(method_options),
                        level=level, seconds=time.perf_counter() - start_time, unplaced=unplaced)
