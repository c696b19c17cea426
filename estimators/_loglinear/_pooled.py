"""Strata that borrow strength: a hierarchical log-linear model whose capture parameters are partially pooled.

In stratum s the counts of the 2**k - 1 observable capture patterns follow the log-linear model of Fienberg (1972),
log mu_sh = lambda_s + sum_j alpha_sj h_j + sum_{j<l} gamma_sjl h_j h_l. The stratum levels lambda_s are free (a
flat prior, the Poisson counterpart of p(N_s) proportional to 1/N_s), so every stratum keeps its own size; the
capture parameters are exchangeable across strata, alpha_sj ~ Normal(mu_j, tau_j) and gamma_sjl ~
Normal(g_jl, omega_jl), as in the hierarchical capture-recapture models of Rivot & Prevost (2002) and Schofield &
Barker (2014) and the partial pooling of Gelman & Hill (2007, ch. 12-13). With every tau and omega at zero the
strata share one capture model, whose likelihood is that of the pooled table; as they grow the strata become
independent. As in :mod:`._bayes`, each lambda_s and N_s is integrated out exactly (Madigan & York 1997): the cells
of a stratum are multinomial with probabilities pi_sh / (1 - pi_s0) and N_s - n_s given pi_s0 is negative binomial.

The counts are ``pm.Data``: :class:`LoglinearPooledModel` compiles once per (lists, number of strata, settings)
and fits any tables of that shape (simulation replicates, re-cut strata).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from .. import _provenance, _warn
from .._summary import Summary, format_label, warning_codes
from .._validation import (
    BOOL,
    LEVEL,
    SEED,
    InstanceOf,
    Integral,
    Interval,
    Options,
    Real,
    check_level,
    check_positive_int,
    resolve_seed,
    validate_params,
)
from ..diagnostics import chain_diagnostics, diagnostic_messages, warn_if_poor
from ..exceptions import DataError, IdentifiabilityWarning
from ..histories import CaptureHistories, pattern_index, pattern_label, pattern_matrix
from ..results import PosteriorEstimate
from ..strata import COLUMNS, StrataResult, _split_strata
from ._bayes import MAX_LISTS, design_columns, term_name, unlisted_draws

METHOD = "loglinear_pooled"
POOLING = ("partial", "complete")
INTERACTIONS = ("pooled", "shared", "none")


# ---------------------------------------------------------------------------------------------- data (pure)
def stratum_cells(h: CaptureHistories, lists: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(counts, observable) over the 2**k - 1 observable patterns of ``lists`` for a stratum's table.

    A list missing from the stratum's table (no record there: :meth:`CaptureHistories.strata` drops it) is taken
    as not operating there, so every pattern that includes it is impossible (``observable`` 0), not merely empty.
    """
    lists = list(lists)
    k = len(lists)
    columns = [lists.index(name) for name in h.lists]
    full = np.zeros((len(h.patterns), k), dtype=np.int64)
    full[:, columns] = h.patterns
    counts = np.bincount(pattern_index(full), weights=h.counts, minlength=2**k)[1:]
    absent = [j for j, name in enumerate(lists) if name not in h.lists]
    patterns = pattern_matrix(k)[1:]
    observable = ~patterns[:, absent].any(axis=1) if absent else np.ones(len(patterns), dtype=bool)
    return counts.astype(float), observable.astype(float)


def two_way_terms(k: int) -> tuple[tuple[int, int], ...]:
    """Every pair of lists (no two-way terms for two lists: with them N is not identified)."""
    return tuple(combinations(range(k), 2)) if k >= 3 else ()


# ---------------------------------------------------------------------------------------------- the model
def build_model(lists: Sequence[str], labels: Sequence[str], *, pooling="partial", interactions="pooled",
                main_scale=5.0, interaction_scale=2.5, tau_scale=1.0, groups=()):
    """The PyMC model for ``len(labels)`` strata over ``lists``; data ``counts`` and ``observable`` (stratum, cell).

    ``groups``: (name, level of each stratum as integers 0..L-1) per grouping factor (region, month): each factor
    adds a main-effect deviation by level, alpha_sj = mu_j + sum_f sigma_fj u_f[level_f(s), j] + tau_j z_sj
    (crossed random effects, Gelman & Hill 2007, ch. 13).

    Non-centred (alpha_sj = mu_j + tau_j z_sj): with small strata the data say little about each alpha_sj and the
    centred form puts NUTS in the funnel of tau_j (Papaspiliopoulos, Roberts & Skold 2007).
    """
    import pymc as pm
    import pytensor.tensor as pt

    k = len(lists)
    terms = two_way_terms(k) if interactions != "none" else ()
    cells = [pattern_label(p) for p in pattern_matrix(k)[1:]]
    coords = {"stratum": list(labels), "list": list(lists), "cell": cells,
              "term": [term_name(t, lists) for t in terms]}
    main_design = pattern_matrix(k)[1:].astype(float)
    term_design = design_columns(k, terms)
    shape = (len(labels), len(cells))
    with pm.Model(coords=coords) as model:
        counts = pm.Data("counts", np.ones(shape), dims=("stratum", "cell"))
        observable = pm.Data("observable", np.ones(shape), dims=("stratum", "cell"))
        mu = pm.Normal("mu", 0.0, main_scale, dims="list")
        if pooling == "partial":
            tau = pm.HalfNormal("tau", tau_scale, dims="list")
            z = pm.Normal("z", 0.0, 1.0, dims=("stratum", "list"))
            alpha = mu + tau * z
            for name, index in groups:
                index = np.asarray(index, dtype=int)
                model.add_coord(f"{name}_level", [str(level) for level in range(index.max() + 1)])
                sigma = pm.HalfNormal(f"sigma_{name}", tau_scale, dims="list")
                u = pm.Normal(f"u_{name}", 0.0, 1.0, dims=(f"{name}_level", "list"))
                alpha = alpha + sigma * u[index]
        else:
            alpha = pt.broadcast_to(mu, (len(labels), k))
        eta = pt.dot(alpha, main_design.T)
        if terms:
            g = pm.Normal("g", 0.0, interaction_scale, dims="term")
            if interactions == "pooled" and pooling == "partial":
                omega = pm.HalfNormal("omega", tau_scale, dims="term")
                w = pm.Normal("w", 0.0, 1.0, dims=("stratum", "term"))
                gamma = g + omega * w
            else:
                gamma = pt.broadcast_to(g, (len(labels), len(terms)))
            eta = eta + pt.dot(gamma, term_design.T)
        # impossible cells (a list absent from the stratum) have probability zero
        eta = pt.where(observable > 0, eta, -np.inf)
        log_total = pm.math.logsumexp(eta, axis=1, keepdims=True)
        log_p = eta - log_total
        # the conditional multinomial of each stratum, less its constant coefficient
        pm.Potential("cells", pt.sum(pt.where(observable > 0, counts * log_p, 0.0)))
        # the all-zero cell has linear predictor 0, so pi_s0 = 1 / (1 + sum_h exp(eta_sh))
        pm.Deterministic("pi0", pt.exp(-pt.softplus(log_total[:, 0])), dims="stratum")
    return model


_POSITIVE = [Interval(Real, 0, None, closed="neither")]
_MODEL_OPTIONS = {
    "pooling": [Options(POOLING)],
    "interactions": [Options(INTERACTIONS)],
    "main_scale": _POSITIVE,
    "interaction_scale": _POSITIVE,
    "tau_scale": _POSITIVE,
}


def _check_groups(groups, n_strata: int) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """((name, level index of each stratum), ...) from {name: sequence of integer levels, one per stratum}."""
    if groups is None:
        return ()
    if not isinstance(groups, Mapping):
        raise ValueError(f"`groups` must be a dict of factor name -> level of each stratum; got {groups!r}.")
    out = []
    for name, index in groups.items():
        index = np.asarray(index)
        if index.shape != (n_strata,) or index.dtype.kind not in "iu" or index.min() < 0:
            raise DataError(f"Group {name!r} must give an integer level >= 0 for each of the {n_strata} strata; got "
                            f"{index.tolist()!r}.")
        out.append((str(name), tuple(int(i) for i in index)))
    return tuple(out)


def group_levels(groups, labels) -> dict:
    """{name: (integer level of each stratum, level names)} from ``groups`` as :func:`loglinear_pooled` takes it.

    ``groups`` is a list of positions in tuple labels (strata split ``by`` several columns: ``[0, 1]`` for region
    and month), or a dict name -> {stratum label: level}.
    """
    if isinstance(groups, Mapping):
        named = {}
        for name, mapping in groups.items():
            if not isinstance(mapping, Mapping):
                raise ValueError(f"`groups[{name!r}]` must map each stratum label to its level; got {mapping!r}.")
            missing = [format_label(label) for label in labels if label not in mapping]
            if missing:
                raise DataError(f"`groups[{name!r}]` gives no level for strata {missing[:5]!r}.")
            named[str(name)] = [mapping[label] for label in labels]
    elif isinstance(groups, Sequence) and not isinstance(groups, str):
        if not all(isinstance(label, tuple) for label in labels):
            raise ValueError("`groups` as positions needs strata labelled by tuples (split `by` several columns); "
                             "pass a dict name -> {stratum label: level} instead.")
        named = {}
        for position in groups:
            if not isinstance(position, int) or not all(0 <= position < len(label) for label in labels):
                raise ValueError(f"`groups` position {position!r} is not a position in the strata labels.")
            named[f"level{position}"] = [label[position] for label in labels]
    else:
        raise ValueError(f"`groups` must be a list of label positions or a dict; got {groups!r}.")
    out = {}
    for name, values in named.items():
        levels = list(dict.fromkeys(values))
        out[name] = ([levels.index(value) for value in values], levels)
    return out


class LoglinearPooledModel:
    """The hierarchical log-linear model of :func:`loglinear_pooled` for given lists and strata, compiled once.

    Parameters
    ----------
    lists : sequence of str
        The list names, in the order of the tables' patterns.
    n_strata : int
        Number of strata (the model's shape; any tables of this many strata over these lists refit it).
    pooling, interactions, main_scale, interaction_scale, tau_scale
        As in :func:`loglinear_pooled`.

    Notes
    -----
    The model is built and compiled (nutpie, fast-math off so a seed repeats the draws) on the first fit; later fits
    only swap the counts. Pickling drops the compiled code.

    Examples
    --------
    >>> import estimators
    >>> model = estimators.LoglinearPooledModel(["A", "B", "C"], 20)
    >>> model.describe()
    'main effects ~ N(mu_j, tau_j) by stratum + two-way interactions ~ N(g_t, omega_t) by stratum'
    """

    # the lists, the number of strata and their groups are the data's shape, checked below
    @validate_params(_MODEL_OPTIONS, exempt=("lists", "n_strata", "groups"))
    def __init__(self, lists, n_strata, *, pooling="partial", interactions="pooled", main_scale=5.0,
                 interaction_scale=2.5, tau_scale=1.0, groups=None):
        if isinstance(lists, str) or not isinstance(lists, Sequence):
            raise ValueError(f"`lists` must be a sequence of list names; got {lists!r}.")
        self.lists = tuple(str(name) for name in lists)
        if len(set(self.lists)) != len(self.lists):
            raise DataError(f"`lists` names a list twice: {list(self.lists)!r}.")
        if not 2 <= len(self.lists) <= MAX_LISTS:
            raise DataError(f"loglinear_pooled handles 2 to {MAX_LISTS} lists; got {len(self.lists)}.")
        self.n_strata = check_positive_int("n_strata", n_strata)
        self.pooling = pooling
        self.interactions = interactions
        self.main_scale = float(main_scale)
        self.interaction_scale = float(interaction_scale)
        self.tau_scale = float(tau_scale)
        self.groups = _check_groups(groups, self.n_strata)
        if self.groups and pooling == "complete":
            raise ValueError("`groups` add partially pooled effects; they cannot go with pooling='complete'.")
        self._compiled = None

    @property
    def k(self) -> int:
        return len(self.lists)

    @property
    def settings(self) -> dict:
        return {"lists": list(self.lists), "n_strata": self.n_strata, "pooling": self.pooling,
                "interactions": self.interactions, "main_scale": self.main_scale,
                "interaction_scale": self.interaction_scale, "tau_scale": self.tau_scale,
                "groups": {name: list(index) for name, index in self.groups}}

    @property
    def terms(self) -> tuple[tuple[int, int], ...]:
        return two_way_terms(self.k) if self.interactions != "none" else ()

    @property
    def compiled(self) -> bool:
        return self._compiled is not None

    def __getstate__(self):
        return {**self.__dict__, "_compiled": None}

    def compile(self) -> float:
        """Build and compile the model if not done yet; return the seconds it took (0 when already compiled)."""
        if self._compiled is not None:
            return 0.0
        from .._nutpie import compile_pymc_model

        start = time.perf_counter()
        model = build_model(self.lists, [str(s) for s in range(self.n_strata)], pooling=self.pooling,
                            interactions=self.interactions, main_scale=self.main_scale,
                            interaction_scale=self.interaction_scale, tau_scale=self.tau_scale,
                            groups=self.groups)
        keep = ["mu", "pi0"] + [name for name in ("tau", "g", "omega") if name in model.named_vars]
        keep += [f"sigma_{name}" for name, _ in self.groups]
        self._compiled = compile_pymc_model(model, var_names=keep)
        return time.perf_counter() - start

    def describe(self) -> str:
        if self.pooling == "complete":
            main = "main effects shared by all strata"
            inter = "two-way interactions shared" if self.terms else ""
        else:
            main = "main effects ~ N(mu_j, tau_j) by stratum"
            if self.groups:
                main = (f"main effects = mu_j + {' + '.join(name for name, _ in self.groups)} effects + stratum "
                        "effect (each normal, own scale)")
            inter = {"pooled": "two-way interactions ~ N(g_t, omega_t) by stratum",
                     "shared": "two-way interactions shared by all strata"}.get(self.interactions, "")
            inter = inter if self.terms else ""
        return " + ".join(part for part in (main, inter) if part)

    def __repr__(self):
        return (f"LoglinearPooledModel(lists={list(self.lists)!r}, n_strata={self.n_strata}, {self.describe()}, "
                f"compiled={self.compiled})")

    def sample(self, counts: np.ndarray, observable: np.ndarray, *, chains, draws, tune, target_accept, cores,
               seed: int, progress: bool = False):
        """(posterior DataTree of nutpie, N draws (chain, draw, stratum), divergences, compile s, sampling s)."""
        counts = np.asarray(counts, dtype=float)
        if counts.shape != (self.n_strata, 2**self.k - 1):
            raise DataError(f"This model was built for {self.n_strata} strata over {self.k} lists; the counts have "
                            f"shape {counts.shape}. Build a LoglinearPooledModel for that shape.")
        compile_seconds = self.compile()
        import nutpie

        nuts_seed, unlisted_seed = np.random.SeedSequence(seed).spawn(2)
        compiled = self._compiled.with_data(counts=counts, observable=np.asarray(observable, dtype=float))
        start = time.perf_counter()
        idata = nutpie.sample(compiled, chains=chains, draws=draws, tune=tune, cores=cores,
                              seed=int(nuts_seed.generate_state(1, dtype=np.uint32)[0]),
                              progress_bar=bool(progress), save_warmup=False, target_accept=target_accept)
        seconds = time.perf_counter() - start
        pi0 = np.asarray(idata["posterior"]["pi0"].values)  # (chain, draw, stratum)
        n = counts.sum(axis=1)
        rng = np.random.default_rng(unlisted_seed)
        totals = n + unlisted_draws(pi0, n, rng)
        divergences = int(np.asarray(idata["sample_stats"]["diverging"]).sum())
        return idata, totals, divergences, compile_seconds, seconds


# ---------------------------------------------------------------------------------------------- result
@dataclass(frozen=True, kw_only=True, eq=False)
class PooledStrataResult(StrataResult):
    """Per-stratum posteriors of N from :func:`loglinear_pooled`, one joint fit over all strata.

    The fields of :class:`~estimators.StrataResult` (``table`` has two more columns, ``r_hat`` and ``ess_bulk`` of
    each stratum's N), and:

    Attributes
    ----------
    diagnostics : pandas.DataFrame
        R-hat, bulk and tail ESS and MCSE of the median for each stratum's N, the total, and the pooling
        scales tau (main effects) and omega (interactions); divergent transitions in the facts of :meth:`summary`.
    divergences : int
        Divergent transitions of NUTS over all chains.
    total_draws : numpy.ndarray
        Draws of the total over the fitted strata, (chains * draws,), the sum of the strata's N draw by draw.
    idata : xarray.DataTree
        nutpie's posterior (``mu``, ``tau``, ``g``, ``omega``, ``pi0`` by stratum) with ``N`` (stratum) and
        ``N_total`` added; ``attrs`` hold settings, seed, settings hash and package version.
    model : str
        The model in words.
    warnings : tuple of str
        Warnings of the joint fit (convergence, identifiability, lists absent from strata).
    """

    diagnostics: pd.DataFrame = field(default_factory=pd.DataFrame)
    divergences: int = 0
    total_draws: np.ndarray = field(default_factory=lambda: np.zeros(0))
    idata: object = None
    model: str = ""
    warnings: tuple = ()

    def total(self, level: float | None = None) -> PosteriorEstimate:
        """The posterior of N summed over the fitted strata (draws of the joint posterior summed draw by draw).

        The strata share their capture parameters' hyper-distribution, so their N are dependent a posteriori;
        summing draws of the joint posterior keeps that dependence (unlike :meth:`StrataResult.total`, which
        treats strata as independent).
        """
        level = self.level if level is None else check_level(level)
        notes = []
        if self.errors:
            notes.append(f"{len(self.errors)} stratum/strata could not be a table and are not in the total: "
                         + ", ".join(format_label(label) for label in self.errors))
        if self.n_unplaced:
            notes.append(f"{self.n_unplaced:,} records are in no stratum and are not in the total")
        row = self.diagnostics.loc["N (total)"]
        return PosteriorEstimate.from_draws(
            self.total_draws, level=level, method=f"{self.method}, total over {len(self.results)} strata",
            n_observed=int(sum(r.n_observed for r in self.results.values())),
            interval_kind="equal-tailed credible (joint posterior of the strata, draws summed)",
            warnings=tuple(notes), model=self.model,
            diagnostics={"r_hat": float(row["r_hat"]), "ess_bulk": float(row["ess_bulk"]),
                         "ess_tail": float(row["ess_tail"]), "divergences": self.divergences},
            details={"strata": len(self.results)},
        )

    def summary(self) -> Summary:
        base = super().summary()
        total = self.total()
        strata = self.diagnostics.drop(index=[i for i in self.diagnostics.index if not i.startswith("N[")])
        facts = [*base.facts, ("model", self.model),
                 ("total", f"{total.estimate:,.0f} [{total.interval[0]:,.0f}, {total.interval[1]:,.0f}]"),
                 ("largest R-hat (N)", round(float(strata["r_hat"].max()), 3)),
                 ("smallest bulk ESS (N)", int(strata["ess_bulk"].min())),
                 ("divergent transitions", self.divergences)]
        table = self.table.set_index("stratum")[["n_observed", "estimate", "lower", "upper", "r_hat", "ess_bulk"]]
        return Summary(title=f"Estimates by stratum, partially pooled: {self.method}", facts=facts, table=table,
                       notes=[*self.warnings, *base.notes])


# ---------------------------------------------------------------------------------------------- public function
def _quantile_mcse(values: np.ndarray, q: float = 0.5) -> float:
    """MCSE of the q-quantile of (chain, draw) values: the ESS of the indicator x <= quantile gives the sd of the
    quantile's probability, mapped through the draws' quantiles (Vehtari et al. 2021, section 4.3; normal
    approximation of their beta interval)."""
    from ..diagnostics import ess_bulk

    flat = np.asarray(values, dtype=float).reshape(-1)
    ess = ess_bulk((np.asarray(values) <= np.quantile(flat, q)).astype(float))
    spread = np.sqrt(q * (1 - q) / max(float(ess), 1.0))
    low, high = np.quantile(flat, [max(q - spread, 0.0), min(q + spread, 1.0)])
    return float((high - low) / 2)


def _diagnostics_table(totals: np.ndarray, labels, idata, divergences: int) -> pd.DataFrame:
    rows = {}
    for s, label in enumerate(labels):
        rows[f"N[{format_label(label)}]"] = totals[:, :, s]
    rows["N (total)"] = totals.sum(axis=2)
    posterior = idata["posterior"]
    for name in ("tau", "omega", *[n for n in posterior.data_vars if n.startswith("sigma_")]):
        if name in posterior:
            values = np.asarray(posterior[name].values)
            dim = posterior[name].dims[-1]
            for i, coordinate in enumerate(posterior[name][dim].values):
                rows[f"{name}[{coordinate}]"] = values[:, :, i]
    table = {}
    for name, values in rows.items():
        d = chain_diagnostics(values)
        table[name] = {"r_hat": d["r_hat"], "ess_bulk": d["ess_bulk"], "ess_tail": d["ess_tail"],
                       "mcse_median": _quantile_mcse(values)}
    return pd.DataFrame.from_dict(table, orient="index")


def _lists_of(strata: Mapping, histories) -> tuple[str, ...]:
    if isinstance(histories, CaptureHistories):
        return histories.lists
    seen = []
    for h in strata.values():
        seen += [name for name in h.lists if name not in seen]
    return tuple(seen)


@validate_params(
    {
        **_MODEL_OPTIONS,
        "freq": [None, InstanceOf(str, "a pandas frequency such as 'W' or 'MS'")],
        "chains": [Interval(Integral, 1, None)],
        "draws": [Interval(Integral, 1, None)],
        "tune": [Interval(Integral, 1, None)],
        "level": LEVEL,
        "random_seed": SEED,
        "progress": BOOL,
        "target_accept": [Interval(Real, 0.5, 1, closed="left")],
        "cores": [None, Interval(Integral, 1, None)],
        "model": [None, InstanceOf(LoglinearPooledModel, "a LoglinearPooledModel")],
    },
    # the table, how to split it and how strata group are data, checked where used
    exempt=("histories", "by", "groups"),
)
def loglinear_pooled(histories, by=None, *, freq=None, pooling="partial", interactions="pooled", groups=None,
                     chains=4,
                     draws=1000, tune=1000, level=0.95, random_seed=None, progress=False, main_scale=5.0,
                     interaction_scale=2.5, tau_scale=1.0, target_accept=0.95, cores=None,
                     model=None) -> PooledStrataResult:
    """N by stratum from one hierarchical log-linear model whose capture parameters are partially pooled.

    Strata (weeks, regions, region x month) are fitted jointly. In stratum s the counts of the 2**k - 1
    observable capture patterns follow the log-linear model of Fienberg (1972),

        log mu_sh = lambda_s + sum_j alpha_sj h_j + sum_{j<l} gamma_sjl h_j h_l,

    with its own level lambda_s (so its own N_s: p(N_s) proportional to 1/N_s, as Madigan & York 1997) and capture
    parameters drawn from distributions shared by all strata (Rivot & Prevost 2002; Schofield & Barker 2014;
    Gelman & Hill 2007, ch. 12-13):

        alpha_sj ~ Normal(mu_j, tau_j),  gamma_sjl ~ Normal(g_jl, omega_jl),
        mu_j ~ Normal(0, main_scale),  g_jl ~ Normal(0, interaction_scale),  tau_j, omega_jl ~ HalfNormal(tau_scale).

    A small stratum's capture parameters are thus estimated partly from the others (as much as the data say the
    strata are alike, through tau and omega) instead of from its few overlaps alone. With ``pooling="complete"``
    all strata share one capture model (tau = omega = 0): its likelihood is that of the pooled table, and the sum
    of the N_s has the posterior of :func:`loglinear_bayes` with ``prior="normal"`` on that table. Each lambda_s
    and N_s is integrated out exactly: the cells of a stratum are multinomial with probabilities
    pi_sh / (1 - pi_s0), NUTS (nutpie) samples the continuous parameters, and N_s - n_s is drawn afterwards from
    its negative binomial given pi_s0 (seeded). A list with no record in a stratum (dropped from that stratum's
    table by :meth:`CaptureHistories.strata`) is taken as not operating there: its patterns are impossible.

    Assumptions: each stratum a closed population; list dependence captured by two-way interactions (the k-way
    term zero, untestable); strata exchangeable in their capture parameters (no trend across strata beyond what
    tau and omega absorb); records linked without error. With three lists and ``interactions="pooled"`` every
    stratum has all two-way terms, and its N is determined only through the pooling: prefer ``"shared"`` or
    ``"none"`` unless the strata are many.

    Parameters
    ----------
    histories : CaptureHistories or dict
        A table with covariates to split with ``by`` (and ``freq``), or a dict of stratum label -> table, as
        :func:`estimate_strata` takes.
    by : str or list of str, optional
        Covariate column(s) defining the strata.
    freq : str, optional
        Bin a date column into periods first ("W", "MS", ...), as in :func:`estimate_strata`.
    pooling : {"partial", "complete"}
        ``"complete"``: one capture model for all strata (tau = omega = 0).
    interactions : {"pooled", "shared", "none"}
        Two-way list interactions partially pooled across strata, shared by all strata, or left out
        (independent lists). Two lists have none.
    groups : list of int or dict, optional
        Factors that strata share (the place and the period of region x month strata), each adding its own
        partially pooled deviation of the main effects, so that alpha_sj = mu_j + sum_f sigma_fj u_f[level] +
        tau_j z_sj (crossed random effects; Gelman & Hill 2007, ch. 13): strata of one region borrow more from each
        other than from other regions. Positions in tuple labels (strata split ``by=["region", "month"]``:
        ``[0, 1]``), or a dict name -> {stratum label: level}. Default: strata exchangeable.
    chains, draws, tune : int
        NUTS chains, draws kept per chain, tuning steps per chain.
    level : float
        Level of the equal-tailed credible intervals.
    random_seed : int, numpy Generator or None
        Seeds NUTS and the draws of N; the integer used is in ``settings["random_seed"]`` and ``idata.attrs``.
    progress : bool
        Show nutpie's progress bar.
    main_scale, interaction_scale : float
        Standard deviations of the normal priors of the mean main effects mu_j and mean interactions g_t.
    tau_scale : float
        Scale of the half-normal priors of tau_j and omega_t, the spread of the capture parameters between strata
        (on the log-odds scale; 1 allows capture odds to differ by a factor of e between typical strata).
    target_accept : float
        NUTS target acceptance rate.
    cores : int, optional
        Chains sampled at the same time (default one per core, at most ``chains``).
    model : LoglinearPooledModel, optional
        A model built (and compiled by an earlier fit) for these lists, this number of strata and these settings:
        it is refitted without compiling.

    Returns
    -------
    PooledStrataResult
        ``table`` (one row per stratum: stratum, n_observed, estimate (posterior median), lower, upper, ...,
        r_hat, ess_bulk), ``results`` (label -> :class:`PosteriorEstimate` of that stratum's N), ``total(level)``
        (the posterior of the sum, from the joint draws), ``diagnostics`` (R-hat, ESS, MCSE of each N, the total,
        tau and omega), ``divergences``, ``idata``, ``summary()``, ``plot(ax)``; it pickles.

    Raises
    ------
    DataError
        When the strata do not share their lists' names, or no stratum can be a table.

    Warns
    -----
    ConvergenceWarning
        When R-hat, ESS or divergences of the total or of any stratum's N fail the thresholds of
        :mod:`estimators.diagnostics`.
    IdentifiabilityWarning
        When no record in any stratum is on two or more lists.

    See Also
    --------
    estimate_strata : strata fitted independently, with any estimator.

    References
    ----------
    .. [1] Fienberg, S. E. (1972). The multiple recapture census for closed populations and incomplete 2^k
       contingency tables. *Biometrika* 59(3), 591-603.
    .. [2] Madigan, D. & York, J. C. (1997). Bayesian methods for estimation of the size of a closed population.
       *Biometrika* 84(1), 19-31.
    .. [3] Rivot, E. & Prevost, E. (2002). Hierarchical Bayesian analysis of capture-mark-recapture data.
       *Canadian Journal of Fisheries and Aquatic Sciences* 59(11), 1768-1784.
    .. [4] Schofield, M. R. & Barker, R. J. (2014). Hierarchical modeling of abundance in closed population
       capture-recapture models under heterogeneity. *Environmental and Ecological Statistics* 21(3), 435-451.
    .. [5] Gelman, A. & Hill, J. (2007). *Data Analysis Using Regression and Multilevel/Hierarchical Models*.
       Cambridge University Press (chapters 12-13, partial pooling).
    .. [6] Papaspiliopoulos, O., Roberts, G. O. & Skold, M. (2007). A general framework for the parametrization
       of hierarchical models. *Statistical Science* 22(1), 59-73.

    Examples
    --------
    Six weeks of 60 deaths each, three independent lists (the fit compiles the model, about half a minute):

    >>> import estimators
    >>> from estimators.simulate import independent_lists
    >>> weeks = {w: independent_lists(60, (0.4, 0.35, 0.3), random_seed=w).histories for w in range(6)}
    >>> fit = estimators.loglinear_pooled(weeks, interactions="none", draws=500, tune=500,
    ...                                   random_seed=1)  # doctest: +SKIP
    >>> fit.table[["stratum", "n_observed", "estimate", "lower", "upper"]].head(2)  # doctest: +SKIP
       stratum  n_observed  estimate  lower  upper
    0        0          42      57.0   47.0   73.0
    1        1          44      58.0   49.0   72.0
    >>> total = fit.total()  # doctest: +SKIP
    >>> round(total.estimate), [round(b) for b in total.interval]  # doctest: +SKIP
    (354, [322, 393])
    """
    start_time = time.perf_counter()
    strata, failed, labels, unplaced = _split_strata(histories, by, freq)
    if not strata:
        raise DataError("No stratum can be a capture-recapture table (see each stratum's error): "
                        + "; ".join(f"{format_label(label)}: {error}" for label, (_, error) in failed.items()))
    lists = _lists_of(strata, histories)
    fitted = [label for label in labels if label in strata]
    levels = group_levels(groups, fitted) if groups is not None else {}
    indices = {name: index for name, (index, _) in levels.items()} or None
    if model is None:
        model = LoglinearPooledModel(lists, len(fitted), pooling=pooling, interactions=interactions,
                                     main_scale=main_scale, interaction_scale=interaction_scale,
                                     tau_scale=tau_scale, groups=indices)
    elif model.lists != lists or model.n_strata != len(fitted):
        raise DataError(f"`model` was built for {model.n_strata} strata over {list(model.lists)!r}; these data have "
                        f"{len(fitted)} strata over {list(lists)!r}. Build a LoglinearPooledModel for them.")
    elif (model.pooling, model.interactions, model.main_scale, model.interaction_scale, model.tau_scale,
          model.groups) != (pooling, interactions, float(main_scale), float(interaction_scale), float(tau_scale),
                            _check_groups(indices, len(fitted))):
        raise ValueError("`model` was built with other settings than those passed; pass the model's own "
                         f"({model.settings}) or build a new one.")
    level = check_level(level)
    cores = min(chains, os.cpu_count() or 1) if cores is None else int(cores)
    seed = resolve_seed(random_seed)
    cells = [stratum_cells(strata[label], lists) for label in fitted]
    counts = np.array([c for c, _ in cells])
    observable = np.array([o for _, o in cells])

    notes = []
    overlap = pattern_matrix(len(lists))[1:].sum(axis=1) >= 2
    if counts[:, overlap].sum() == 0:
        message = ("No record in any stratum is on two or more lists: N is determined by the priors alone. Link "
                   "the lists, or report the observed counts as lower bounds.")
        _warn.warn(message, IdentifiabilityWarning)
        notes.append(message)
    absent = {format_label(label): [name for name in lists if name not in strata[label].lists] for label in fitted}
    absent = {label: names for label, names in absent.items() if names}
    if absent:
        notes.append("Lists with no record in a stratum are taken as not operating there: "
                     + "; ".join(f"{label}: {', '.join(names)}" for label, names in absent.items()))

    idata, totals, divergences, compile_seconds, seconds = model.sample(
        counts, observable, chains=chains, draws=draws, tune=tune, target_accept=float(target_accept),
        cores=cores, seed=seed, progress=progress)
    diagnostics = _diagnostics_table(totals, fitted, idata, divergences)
    worst = diagnostics.drop(index=[i for i in diagnostics.index if not i.startswith("N")])
    summary_diagnostics = {"chains": chains, "draws per chain": draws, "r_hat": float(worst["r_hat"].max()),
                           "ess_bulk": float(worst["ess_bulk"].min()), "ess_tail": float(worst["ess_tail"].min()),
                           "divergences": divergences}
    notes += warn_if_poor(summary_diagnostics, "N (worst stratum or total)")

    import xarray as xr

    posterior = idata["posterior"].to_dataset()
    posterior = posterior.assign_coords(stratum=[format_label(label) for label in fitted])
    for name, (_, names) in levels.items():
        posterior = posterior.assign_coords({f"{name}_level": [format_label(value) for value in names]})
    posterior["N"] = (("chain", "draw", "stratum"), totals)
    posterior["N_total"] = (("chain", "draw"), totals.sum(axis=2))
    idata["posterior"] = posterior
    idata["observed_data"] = xr.Dataset(
        {"cells": (("stratum", "cell"), counts)},
        coords={"stratum": [format_label(label) for label in fitted],
                "cell": [pattern_label(p) for p in pattern_matrix(len(lists))[1:]]})
    settings = {**model.settings, "chains": chains, "draws": draws, "tune": tune,
                "target_accept": float(target_accept), "sampler": "nutpie NUTS", "level": level,
                "strata": [format_label(label) for label in fitted],
                "group levels": {name: [format_label(value) for value in names]
                                 for name, (_, names) in levels.items()}}
    provenance = _provenance.attrs(METHOD, settings, seed)
    idata.attrs.update(provenance)

    results, rows = {}, []
    for s, label in enumerate(fitted):
        key = f"N[{format_label(label)}]"
        d = chain_diagnostics(totals[:, :, s], divergences)
        stratum_notes = tuple(diagnostic_messages(d, f"N of stratum {format_label(label)}"))
        result = PosteriorEstimate.from_draws(
            totals[:, :, s].reshape(-1), level=level, method=METHOD, n_observed=int(counts[s].sum()),
            model=model.describe(), warnings=stratum_notes, diagnostics=d,
            details={**_provenance.details(provenance), "stratum": label})
        results[label] = result
        rows.append(dict(stratum=label, n_observed=int(counts[s].sum()), estimate=result.estimate,
                         lower=result.interval[0], upper=result.interval[1], method=METHOD,
                         warnings=warning_codes(list(stratum_notes)), cached=False, error="",
                         seconds=seconds / len(fitted),
                         warning_details="; ".join(stratum_notes),
                         r_hat=diagnostics.loc[key, "r_hat"], ess_bulk=diagnostics.loc[key, "ess_bulk"]))
    for label, (n_observed, error) in failed.items():
        rows.append(dict(stratum=label, n_observed=n_observed, estimate=np.nan, lower=np.nan, upper=np.nan,
                         method=METHOD, warnings="", cached=False, error=error, seconds=0.0, warning_details="",
                         r_hat=np.nan, ess_bulk=np.nan))
    order = {label: i for i, label in enumerate(labels)}
    rows.sort(key=lambda row: order[row["stratum"]])
    table = pd.DataFrame(rows, columns=[*COLUMNS, "r_hat", "ess_bulk"])
    settings.update({"random_seed": seed, "compile seconds": compile_seconds, "sampling seconds": seconds})
    return PooledStrataResult(
        table=table, results=results, errors={label: error for label, (_, error) in failed.items()},
        method=METHOD, settings=settings, level=level, seconds=time.perf_counter() - start_time,
        unplaced=unplaced, diagnostics=diagnostics, divergences=divergences,
        total_draws=totals.sum(axis=2).reshape(-1), idata=idata, model=model.describe(), warnings=tuple(notes))
