"""Bayesian log-linear multiple-systems estimation with shrinkage on the list interactions.

The model is the hierarchical Poisson log-linear model of Fienberg (1972) over all two-way (optionally three-way)
interactions, with a regularised horseshoe prior (Piironen & Vehtari 2017) on the interactions instead of a model
search. The all-zero cell is marginalised: with p(N) proportional to 1/N the observed cells are conditionally
multinomial with probabilities pi_h / (1 - pi_0), so NUTS (nutpie) samples only continuous parameters and N - n is
drawn afterwards, exactly, from its negative binomial given pi_0.

The log density and its gradient are hand-written Numba kernels (:mod:`._bayes_kernel`) that take the table, the
terms and the prior settings as data: they are compiled once per installation, cached on disk, and serve every
table and shape. :func:`build_model` states the same model in PyMC.
"""

from __future__ import annotations

import json
import numbers
import os
import time
from collections.abc import Sequence
from itertools import combinations

import numpy as np

from .. import _provenance, _warn
from .._validation import (
    BOOL,
    LEVEL,
    SEED,
    Integral,
    Interval,
    Options,
    Real,
    check_choice,
    check_level,
    check_positive,
    check_positive_int,
    resolve_seed,
    validate_params,
)
from ..diagnostics import chain_diagnostics, warn_if_poor
from ..exceptions import DataError, IdentifiabilityWarning, NonexistentEstimateError
from ..histories import CaptureHistories, check_histories, pattern_label, pattern_matrix
from ..results import PosteriorEstimate

PRIORS = ("horseshoe", "normal")
MAX_LISTS = 10
METHOD = "loglinear_bayes"


# ---------------------------------------------------------------------------------------------- terms (pure)
def term_name(term: Sequence[int], lists: Sequence[str]) -> str:
    """``(0, 2)`` -> ``"A:C"`` for lists ``A, B, C``."""
    return ":".join(lists[j] for j in term)


def parse_term(term, lists: Sequence[str]) -> tuple[int, ...]:
    """A term given as ``"A:B"``, ``("A", "B")`` or ``(0, 1)`` as sorted list positions."""
    k = len(lists)
    if isinstance(term, str):
        parts = term.split(":")
    elif isinstance(term, Sequence):
        parts = list(term)
    else:
        raise ValueError(
            f"A term must be a string like 'A:B' or a sequence of list names or positions; got {term!r}."
        )
    positions = []
    for part in parts:
        if isinstance(part, numbers.Integral) and not isinstance(part, bool):
            if not 0 <= int(part) < k:
                raise ValueError(f"Term {term!r}: list position {part} is outside 0..{k - 1}.")
            positions.append(int(part))
        elif isinstance(part, str) and part in lists:
            positions.append(lists.index(part))
        else:
            raise ValueError(f"Term {term!r}: {part!r} is not one of the lists {list(lists)!r} or a position.")
    positions = tuple(sorted(positions))
    if len(set(positions)) != len(positions):
        raise ValueError(f"Term {term!r} names a list twice.")
    if len(positions) < 2:
        raise ValueError(
            f"Term {term!r} is a main effect; main effects are always in the model. Fix or forbid interactions "
            "(two or more lists, e.g. 'A:B')."
        )
    if len(positions) == k:
        raise ValueError(
            f"Term {term!r} is the {k}-way interaction, which is confounded with the unobserved cell and so with "
            "N (Fienberg 1972); it cannot be in the model."
        )
    return positions


def model_terms(lists: Sequence[str], interactions: int = 2, fixed=None, forbidden=None):
    """The shrunk and the fixed interaction terms of the model, as tuples of list positions.

    Candidates are all interactions of order 2 .. min(``interactions``, k - 1) (the k-way term is never
    identifiable). ``fixed`` terms are always in the model without shrinkage (they may be of any order below k);
    ``forbidden`` terms are left out.
    """
    lists = list(lists)
    k = len(lists)
    fixed = [parse_term(t, lists) for t in _as_term_list(fixed, "fixed")]
    forbidden = [parse_term(t, lists) for t in _as_term_list(forbidden, "forbidden")]
    both = sorted(set(fixed) & set(forbidden))
    if both:
        raise ValueError(
            f"Term(s) {[term_name(t, lists) for t in both]} are both fixed and forbidden; choose one."
        )
    candidates = [
        term for order in range(2, min(interactions, k - 1) + 1) for term in combinations(range(k), order)
    ]
    shrunk = [t for t in candidates if t not in set(fixed) | set(forbidden)]
    fixed = sorted(set(fixed), key=lambda t: (len(t), t))
    return tuple(shrunk), tuple(fixed)


def _as_term_list(terms, name: str) -> list:
    if terms is None:
        return []
    if isinstance(terms, str):
        return [terms]
    if not isinstance(terms, Sequence):
        raise ValueError(f"`{name}` must be a list of terms such as ['A:B', (0, 2)]; got {terms!r}.")
    if terms and all(isinstance(t, numbers.Integral) for t in terms):
        return [tuple(terms)]
    return list(terms)


def design_columns(k: int, terms: Sequence[tuple[int, ...]]) -> np.ndarray:
    """(2**k - 1, len(terms)) 0/1 matrix: column t is 1 for the observable cells on every list of term t."""
    patterns = pattern_matrix(k)[1:].astype(float)
    if not terms:
        return np.zeros((len(patterns), 0))
    return np.column_stack([patterns[:, list(term)].prod(axis=1) for term in terms])


def default_global_scale(n_observed: float, n_terms: int, expected: float | None = None) -> float:
    """Piironen & Vehtari's (2017, eq. 3.12) global scale p0 / (D - p0) * sigma / sqrt(n).

    For Poisson counts the pseudo-variance of a cell is 1/mu, so sigma / sqrt(cells) = 1 / sqrt(n_observed).
    ``expected`` is the prior guess p0 of the number of non-zero interactions (default min(1, D/2)).
    """
    p0 = min(1.0, n_terms / 2) if expected is None else float(expected)
    return p0 / (n_terms - p0) / np.sqrt(n_observed)


def unlisted_draws(pi0: np.ndarray, n_observed: int, rng: np.random.Generator) -> np.ndarray:
    """Exact draws of N - n given pi_0: negative binomial with n successes and success probability 1 - pi_0.

    Under p(N) proportional to 1/N, p(N | pi, n) is proportional to C(N - 1, n - 1) pi_0^(N - n).
    """
    pi0 = np.asarray(pi0, dtype=float)
    return rng.negative_binomial(n_observed, np.clip(1.0 - pi0, 1e-300, 1.0)).astype(float)


# ---------------------------------------------------------------------------------------------- the model
def build_model(lists: Sequence[str], shrunk, fixed, *, prior="horseshoe", slab_scale=2.5, slab_df=4.0,
                main_scale=5.0):
    """The same model in PyMC, for tables over ``lists`` with the given interaction terms; counts are ``pm.Data``.

    :class:`LoglinearBayesModel` samples hand-written Numba kernels of this model (:mod:`._bayes_kernel`), which load
    from a disk cache instead of compiling; this statement of it is for extending the model and for the tests,
    which check that both give the same log density and gradient.

    Data: ``counts`` (dims ``cell``, the 2**k - 1 observable cells) and, with a horseshoe, ``global_scale`` (tau0).
    """
    import pymc as pm
    import pytensor.tensor as pt

    k = len(lists)
    cells = [pattern_label(p) for p in pattern_matrix(k)[1:]]
    coords = {
        "list": list(lists),
        "cell": cells,
        "term": [term_name(t, lists) for t in shrunk],
        "fixed_term": [term_name(t, lists) for t in fixed],
    }
    main_design = pattern_matrix(k)[1:].astype(float)
    with pm.Model(coords=coords) as model:
        counts = pm.Data("counts", np.ones(len(cells)), dims="cell")
        main = pm.Normal("main", 0.0, main_scale, dims="list")
        eta = pt.dot(main_design, main)
        if shrunk and prior == "horseshoe":
            # Half-Cauchy scales written as half-normal x sqrt(inverse-gamma): the same prior, and a geometry NUTS
            # handles without the divergences of the direct form (Piironen & Vehtari 2017, appendix C).
            global_scale = pm.Data("global_scale", 1.0)
            tau_a = pm.HalfNormal("tau_a", 1.0)
            tau_b = pm.InverseGamma("tau_b", 0.5, 0.5)
            tau = pm.Deterministic("tau", global_scale * tau_a * pt.sqrt(tau_b))
            lam_a = pm.HalfNormal("lam_a", 1.0, dims="term")
            lam_b = pm.InverseGamma("lam_b", 0.5, 0.5, dims="term")
            lam = lam_a * pt.sqrt(lam_b)
            c2 = pm.InverseGamma("c2", slab_df / 2, slab_df * slab_scale**2 / 2)
            lam_tilde = pt.sqrt(c2 * lam**2 / (c2 + tau**2 * lam**2))
            z = pm.Normal("z", 0.0, 1.0, dims="term")
            interaction = pm.Deterministic("interaction", z * tau * lam_tilde, dims="term")
            eta = eta + pt.dot(design_columns(k, shrunk), interaction)
        elif shrunk:
            interaction = pm.Normal("interaction", 0.0, slab_scale, dims="term")
            eta = eta + pt.dot(design_columns(k, shrunk), interaction)
        if fixed:
            fixed_effect = pm.Normal("fixed", 0.0, slab_scale, dims="fixed_term")
            eta = eta + pt.dot(design_columns(k, fixed), fixed_effect)
        log_total = pm.math.logsumexp(eta)
        pm.Multinomial("cells", n=counts.sum(), p=pt.exp(eta - log_total), observed=counts, dims="cell")
        # The all-zero cell has linear predictor 0, so pi_0 = 1 / (1 + sum_h exp(eta_h)).
        pm.Deterministic("pi0", pt.exp(-pt.softplus(log_total)))
    return model


_POSITIVE = [Interval(Real, 0, None, closed="neither")]
# the model's options, shared by LoglinearBayesModel and loglinear_bayes; the term lists are checked against the lists
_MODEL_OPTIONS = {
    "interactions": [Interval(Integral, 2, None)],
    "prior": [Options(PRIORS)],
    "expected_interactions": [None, *_POSITIVE],
    "slab_scale": _POSITIVE,
    "slab_df": _POSITIVE,
    "main_scale": _POSITIVE,
}


class LoglinearBayesModel:
    """A shrinkage log-linear model for tables over given lists, compiled once and fitted to many tables.

    Parameters
    ----------
    lists : sequence of str
        The list names (every table fitted must have exactly these lists, in this order).
    interactions, prior, fixed, forbidden, expected_interactions, slab_scale, slab_df, main_scale
        As in :func:`loglinear_bayes`.

    Notes
    -----
    The model's Numba kernels are loaded (from Numba's disk cache, compiled on first use after installation) on the
    first :meth:`fit`; every fit then packs its table into the kernels' data. Pickling drops the loaded kernels (a
    worker process loads its own). :meth:`fit` returns the :class:`~estimators.PosteriorEstimate` that
    :func:`loglinear_bayes` describes.

    References
    ----------
    The model and its priors are those of :func:`loglinear_bayes` (Fienberg 1972; the regularised horseshoe of
    Piironen & Vehtari 2017; Madigan & York 1997 for N), where the full references are given.

    Examples
    --------
    >>> import estimators
    >>> h = estimators.load_dataset("LCMCR_kosovo").collapse()
    >>> model = estimators.LoglinearBayesModel(h.lists, forbidden=["EXH:HRW"])
    >>> model.describe()
    'main effects + horseshoe on [EXH:ABA, EXH:OSCE, ABA:OSCE, ABA:HRW, OSCE:HRW]'
    >>> fits = [model.fit(table, random_seed=1) for table in (h,)]  # loads the kernels once  # doctest: +SKIP
    """

    @validate_params(_MODEL_OPTIONS, exempt=("lists", "fixed", "forbidden"))
    def __init__(self, lists, *, interactions=2, prior="horseshoe", fixed=None, forbidden=None,
                 expected_interactions=None, slab_scale=2.5, slab_df=4.0, main_scale=5.0):
        if isinstance(lists, str) or not isinstance(lists, Sequence):
            raise ValueError(f"`lists` must be a sequence of list names; got {lists!r}.")
        self.lists = tuple(str(name) for name in lists)
        k = len(self.lists)
        if not 2 <= k <= MAX_LISTS:
            raise DataError(f"loglinear_bayes handles 2 to {MAX_LISTS} lists; got {k}. Merge or drop lists first.")
        self.interactions = check_positive_int("interactions", interactions, minimum=2)
        if self.interactions > 3:
            raise ValueError(f"`interactions` must be 2 or 3; got {interactions!r}.")
        self.prior = check_choice("prior", prior, PRIORS)
        self.shrunk, self.fixed = model_terms(self.lists, self.interactions, fixed, forbidden)
        if expected_interactions is not None:
            expected_interactions = check_positive("expected_interactions", expected_interactions)
            if self.shrunk and expected_interactions >= len(self.shrunk):
                raise ValueError(
                    f"`expected_interactions` must be below the number of shrunk terms ({len(self.shrunk)}); "
                    f"got {expected_interactions!r}."
                )
        self.expected_interactions = expected_interactions
        self.slab_scale = check_positive("slab_scale", slab_scale)
        self.slab_df = check_positive("slab_df", slab_df)
        self.main_scale = check_positive("main_scale", main_scale)
        self._compiled = None
        self._designs = None

    @property
    def k(self) -> int:
        return len(self.lists)

    @property
    def settings(self) -> dict:
        """Everything that defines the model (not the sampler), JSON-serialisable."""
        return {
            "lists": list(self.lists),
            "interactions": self.interactions,
            "prior": self.prior,
            "shrunk_terms": [term_name(t, self.lists) for t in self.shrunk],
            "fixed_terms": [term_name(t, self.lists) for t in self.fixed],
            "expected_interactions": self.expected_interactions,
            "slab_scale": self.slab_scale,
            "slab_df": self.slab_df,
            "main_scale": self.main_scale,
        }

    @property
    def compiled(self) -> bool:
        return self._compiled is not None

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_compiled"] = None
        state["_designs"] = None
        return state

    def compile(self) -> float:
        """Load the model's kernels if not done yet; return the seconds it took (0 when already loaded).

        The kernels are compiled by Numba once per installation and cached on disk; the first fit in a process
        only loads them.
        """
        if self._compiled is not None:
            return 0.0
        start = time.perf_counter()
        from . import _bayes_kernel

        self._compiled = _bayes_kernel
        self._designs = (pattern_matrix(self.k)[1:].astype(float), design_columns(self.k, self.shrunk),
                         design_columns(self.k, self.fixed))
        return time.perf_counter() - start

    def global_scale(self, n_observed: int) -> float | None:
        """The horseshoe's tau0 for a table of ``n_observed`` people (None without a horseshoe)."""
        if not self.shrunk or self.prior != "horseshoe":
            return None
        return default_global_scale(n_observed, len(self.shrunk), self.expected_interactions)

    def fit(self, h: CaptureHistories, *, chains=4, draws=1000, tune=1000, level=0.95, random_seed=None,
            progress=False, target_accept=0.99, cores=None) -> PosteriorEstimate:
        """Sample the posterior for table ``h`` (its lists must be :attr:`lists`); see :func:`loglinear_bayes`."""
        check_histories(h)
        if h.lists != self.lists:
            raise DataError(
                f"This model was built for lists {list(self.lists)!r}; the table has {list(h.lists)!r}. "
                "Build a LoglinearBayesModel for those lists."
            )
        chains = check_positive_int("chains", chains)
        draws = check_positive_int("draws", draws)
        tune = check_positive_int("tune", tune)
        level = check_level(level)
        target_accept = float(target_accept)
        if not 0.5 <= target_accept < 1:
            raise ValueError(f"`target_accept` must be in [0.5, 1); got {target_accept!r}.")
        cores = min(chains, os.cpu_count() or 1) if cores is None else check_positive_int("cores", cores)
        seed = resolve_seed(random_seed)
        counts = h.dense_counts()[1:]
        n = int(h.n_observed)
        notes = _check_table(h, self.shrunk + self.fixed)

        compile_seconds = self.compile()
        import nutpie

        from .._nutpie import LOW_RANK
        import xarray as xr

        nuts_seed, unlisted_seed = np.random.SeedSequence(seed).spawn(2)
        kernel = self._compiled
        packed = kernel.pack(
            counts, *self._designs, horseshoe=self.prior == "horseshoe", main_scale=self.main_scale,
            slab_scale=self.slab_scale, slab_df=self.slab_df, global_scale=self.global_scale(n) or 0.0,
        )
        compiled = kernel.nutpie_model(
            packed, lists=self.lists, shrunk_names=[term_name(t, self.lists) for t in self.shrunk],
            fixed_names=[term_name(t, self.lists) for t in self.fixed], slab_df=self.slab_df,
            slab_scale=self.slab_scale,
        )
        start = time.perf_counter()
        idata = nutpie.sample(
            compiled, chains=chains, draws=draws, tune=tune, cores=cores,
            seed=int(nuts_seed.generate_state(1, dtype=np.uint32)[0]), progress_bar=bool(progress),
            save_warmup=False, target_accept=target_accept, **LOW_RANK,
        )
        sampling_seconds = time.perf_counter() - start

        posterior = idata["posterior"].to_dataset()
        pi0 = posterior["pi0"].values
        total = n + unlisted_draws(pi0, n, np.random.default_rng(unlisted_seed))
        posterior["N"] = (("chain", "draw"), total)
        posterior["unlisted"] = (("chain", "draw"), total - n)
        idata["posterior"] = posterior
        idata["observed_data"] = xr.Dataset(
            {"cells": ("cell", counts)}, coords={"cell": [pattern_label(p) for p in pattern_matrix(self.k)[1:]]}
        )
        divergences = int(np.asarray(idata["sample_stats"]["diverging"]).sum())
        diagnostics = chain_diagnostics(total, divergences)
        notes += warn_if_poor(diagnostics, "N")

        sampler = {"chains": chains, "draws": draws, "tune": tune, "target_accept": target_accept,
                   "sampler": "nutpie NUTS"}
        settings = {**self.settings, **sampler, "level": level, "global_scale": self.global_scale(n)}
        provenance = _provenance.attrs(METHOD, settings, seed)
        idata.attrs.update(provenance)
        return PosteriorEstimate.from_draws(
            total.reshape(-1),
            level=level,
            method=METHOD,
            n_observed=n,
            model=self.describe(),
            warnings=tuple(notes),
            details={
                **_provenance.details(provenance),
                "settings": settings,
                "compile seconds": compile_seconds,
                "sampling seconds": sampling_seconds,
            },
            diagnostics=diagnostics,
            idata=idata,
        )

    def describe(self) -> str:
        """Short model label, e.g. ``"horseshoe on [A:B, A:C, B:C]"``."""
        parts = ["main effects"]
        if self.shrunk:
            parts.append(f"{self.prior} on [{', '.join(term_name(t, self.lists) for t in self.shrunk)}]")
        if self.fixed:
            parts.append(f"fixed [{', '.join(term_name(t, self.lists) for t in self.fixed)}]")
        return " + ".join(parts)

    def __repr__(self):
        return f"LoglinearBayesModel(lists={list(self.lists)!r}, {self.describe()}, compiled={self.compiled})"


def _check_table(h: CaptureHistories, terms) -> list[str]:
    """Refuse tables with no overlap at all; warn where an interaction is determined by its prior alone."""
    if h.capture_frequencies[1:].sum() == 0:
        raise NonexistentEstimateError(
            "No record is on two or more lists, so the lists' overlap (the whole basis of the estimate) is empty "
            "and N is not estimable under any log-linear model. Link the lists, or report the observed count as "
            "a lower bound."
        )
    notes = []
    counts = h.dense_counts()
    patterns = pattern_matrix(h.k)
    for term in terms:
        on_all = patterns[:, list(term)].all(axis=1)
        if counts[on_all].sum() == 0:
            message = (
                f"No record is on all of {term_name(term, h.lists)}; that interaction is determined by its prior, "
                "not the data, and N with it. Compare with a model that forbids the term."
            )
            _warn.warn(message, IdentifiabilityWarning)
            notes.append(message)
    return notes


# ---------------------------------------------------------------------------------------------- public function
@validate_params(
    {
        **_MODEL_OPTIONS,
        "chains": [Interval(Integral, 1, None)],
        "draws": [Interval(Integral, 1, None)],
        "tune": [Interval(Integral, 1, None)],
        "level": LEVEL,
        "random_seed": SEED,
        "progress": BOOL,
        "target_accept": [Interval(Real, 0.5, 1, closed="left")],
        "cores": [None, Interval(Integral, 1, None)],
    },
    exempt=("h", "fixed", "forbidden"),
)
def loglinear_bayes(h: CaptureHistories, *, interactions=2, prior="horseshoe", fixed=None, forbidden=None,
                    chains=4, draws=1000, tune=1000, level=0.95, random_seed=None, progress=False,
                    expected_interactions=None, slab_scale=2.5, slab_df=4.0, main_scale=5.0,
                    target_accept=0.99, cores=None) -> PosteriorEstimate:
    """Bayesian log-linear estimate of N with a regularised horseshoe prior on the list interactions.

    The expected count of capture pattern h is mu_h = exp(lambda + sum_j beta_j h_j + sum_t gamma_t prod_{j in t}
    h_j) (Fienberg 1972): main effects beta_j for every list, interactions gamma_t for every set t of 2 (and, with
    ``interactions=3``, 3) lists, never the k-way term (it is confounded with N). Instead of choosing one model, all
    candidate interactions are kept and shrunk towards zero by a regularised horseshoe (Piironen & Vehtari 2017):
    gamma_t = z_t tau lambda~_t, z_t ~ N(0, 1), lambda_t ~ C+(0, 1), tau ~ C+(0, tau0), lambda~_t^2 =
    c^2 lambda_t^2 / (c^2 + tau^2 lambda_t^2), c^2 ~ Inv-Gamma(nu/2, nu s^2/2) (slab scale s, slab df nu), with
    tau0 = p0 / (D - p0) / sqrt(n) for D candidate terms and p0 expected non-zero ones. Main effects are
    N(0, ``main_scale**2``). The intercept's prior is flat on lambda, the Poisson counterpart of p(N)
    proportional to 1/N; it and N are integrated out exactly: the observed cells are then multinomial with
    probabilities pi_h / (1 - pi_0), and N - n given pi_0 is negative binomial with n successes and probability
    1 - pi_0, drawn after sampling (seeded). The continuous parameters are sampled by NUTS with nutpie.

    Assumptions: a closed population; list dependence (and heterogeneity that acts like it) captured by
    interactions up to the chosen order, the k-way interaction being zero (an untestable assumption); records
    linked without error.

    Parameters
    ----------
    h : CaptureHistories
        The table (covariates are summed over; fit strata with :func:`estimators.estimate_strata`).
    interactions : {2, 3}
        Highest order of the shrunk interactions (capped at k - 1).
    prior : {"horseshoe", "normal"}
        ``"normal"`` puts N(0, ``slab_scale**2``) on every interaction, without shrinkage (for comparison).
    fixed : list of terms, optional
        Interactions always in the model, with the N(0, ``slab_scale**2``) prior and no shrinkage, named like
        ``"A:B"``, ``("A", "B")`` or by position ``(0, 1)``. May be of any order below k.
    forbidden : list of terms, optional
        Interactions left out of the model.
    chains, draws, tune : int
        NUTS chains, draws kept per chain, tuning steps per chain.
    level : float
        Level of the equal-tailed credible interval.
    random_seed : int, numpy Generator or None
        Seeds NUTS and the draws of N; the integer used (fresh entropy for None, one drawn from a Generator) is
        stored in ``details["random_seed"]``.
    progress : bool
        Show nutpie's progress bar.
    cores : int, optional
        Chains sampled at the same time (default: one per core, at most ``chains``); 1 when strata are already
        fitted in parallel.
    expected_interactions : float, optional
        p0, the prior guess of the number of non-zero interactions (default min(1, D/2)).
    slab_scale, slab_df : float
        Scale and degrees of freedom of the horseshoe's slab (the prior of large interactions).
    main_scale : float
        Standard deviation of the main effects' normal prior.
    target_accept : float
        NUTS target acceptance rate. The horseshoe's funnel needs small steps: the default 0.99 avoids the
        divergent transitions that 0.95 gives on small tables, for about twice the sampling time (see
        ``benchmarks/NOTES.md``).

    Returns
    -------
    PosteriorEstimate
        ``estimate`` the posterior median of N, ``interval`` the equal-tailed interval at ``level``, ``draws`` of
        N, ``hdi(level)``, ``diagnostics`` (R-hat, bulk/tail ESS of N, divergences), ``idata`` (the
        DataTree: posterior ``main`` (list), ``interaction`` (term), ``fixed`` (fixed_term), ``tau``, ``c2``,
        ``pi0``, ``N``, ``unlisted``; ``attrs`` with settings, seed, settings hash and package version), ``model``
        and ``details`` (settings, seed, compile and sampling seconds).

    Raises
    ------
    NonexistentEstimateError
        When no record is on two or more lists.

    Warns
    -----
    IdentifiabilityWarning
        When an interaction in the model has no record on all its lists (its value, and N, come from the prior).
    ConvergenceWarning
        When R-hat, ESS or divergences fail the thresholds of :mod:`estimators.diagnostics`, or when fewer than 2
        chains or 4 draws leave R-hat undefined (convergence unchecked).

    See Also
    --------
    LoglinearBayesModel : compile once, fit many tables of the same lists (strata, simulation replicates).

    References
    ----------
    .. [1] Fienberg, S. E. (1972). The multiple recapture census for closed populations and incomplete 2^k
       contingency tables. *Biometrika* 59(3), 591-603.
    .. [2] Piironen, J. & Vehtari, A. (2017). Sparsity information and regularization in the horseshoe and other
       shrinkage priors. *Electronic Journal of Statistics* 11(2), 5018-5051.
    .. [3] Carvalho, C. M., Polson, N. G. & Scott, J. G. (2010). The horseshoe estimator for sparse signals.
       *Biometrika* 97(2), 465-480.
    .. [4] Madigan, D. & York, J. C. (1997). Bayesian methods for estimation of the size of a closed population.
       *Biometrika* 84(1), 19-31 (the prior p(N) proportional to 1/N and the conditional multinomial).
    .. [5] Hoffman, M. D. & Gelman, A. (2014). The No-U-Turn sampler. *JMLR* 15, 1593-1623.

    Examples
    --------
    >>> import estimators
    >>> h = estimators.load_dataset("LCMCR_kosovo").collapse()
    >>> fit = estimators.loglinear_bayes(h, random_seed=1)  # doctest: +SKIP
    >>> round(fit.estimate), [round(b) for b in fit.interval]  # doctest: +SKIP
    (13942, [12168, 16170])
    """
    check_histories(h)
    model = LoglinearBayesModel(
        h.lists, interactions=interactions, prior=prior, fixed=fixed, forbidden=forbidden,
        expected_interactions=expected_interactions, slab_scale=slab_scale, slab_df=slab_df, main_scale=main_scale,
    )
    return model.fit(h, chains=chains, draws=draws, tune=tune, level=level, random_seed=random_seed,
                     progress=progress, target_accept=target_accept, cores=cores)


class LoglinearBayesFitter:
    """Fits many tables with :func:`loglinear_bayes`, compiling one model per (lists, model settings) and reusing it.

    Used by :func:`estimators.estimate_strata` for each batch of strata; its state is the compiled models only.
    """

    MODEL_OPTIONS = ("interactions", "prior", "fixed", "forbidden", "expected_interactions", "slab_scale",
                     "slab_df", "main_scale")

    def __init__(self):
        self._models = {}

    def __call__(self, h: CaptureHistories, **options) -> PosteriorEstimate:
        check_histories(h)
        model_options = {key: options.pop(key) for key in self.MODEL_OPTIONS if key in options}
        key = (h.lists, json.dumps(model_options, sort_keys=True, default=repr))
        if key not in self._models:
            self._models[key] = LoglinearBayesModel(h.lists, **model_options)
        return self._models[key].fit(h, **options)


# estimate_strata looks for `batch_fitter`: a factory of a callable with the same signature that may keep compiled
# models between the strata of one batch.
loglinear_bayes.batch_fitter = LoglinearBayesFitter
