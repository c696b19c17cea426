"""The daily-rates model: its priors, its statement in PyMC (:func:`build_model`) and :class:`DailyRatesModel`,
which samples it with nutpie on the hand-written kernels of :mod:`._kernel`.

The kernels read every data value, prior setting and shape from one packed array, so a model refits new data of
the same shape, and the alternatives of :func:`estimators.sensitivity`, with nothing to compile; PyMC is imported
only by :func:`build_model`.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np

from .._validation import check_choice
from ..exceptions import DataError
from ..histories import pattern_index, pattern_matrix
from ._inputs import DailyData, heterogeneous

RATE_MODELS = ("random_walk", "constant", "weekly", "weekly_knots")


def knot_matrix(days: int, spacing: int = 7) -> np.ndarray:
    """(days, knots) weights that interpolate values at knots ``0, spacing, 2 spacing, ...`` linearly over days.

    The last knot is at or after the last day. Rows sum to one.

    Examples
    --------
    >>> knot_matrix(9, 4).round(2).tolist()[:3]
    [[1.0, 0.0, 0.0], [0.75, 0.25, 0.0], [0.5, 0.5, 0.0]]
    """
    knots = int(np.ceil((days - 1) / spacing)) + 1
    day = np.arange(days)
    left, frac = day // spacing, (day % spacing) / spacing
    W = np.zeros((days, knots))
    W[day, left] = 1 - frac
    right = np.minimum(left + 1, knots - 1)
    W[day, right] += frac
    return W


@dataclass(frozen=True)
class Priors:
    """Prior settings that enter the compiled model as data (changing them needs no recompilation).

    Attributes
    ----------
    rate_level : (float, float) or None
        Normal prior (mean, sd) of the mean log daily rate; None: centred on twice the highest documented daily
        count, sd 2.5 (weakly informative: a factor of 12 either way covers 95%).
    rw_scale : float
        Half-normal scale of the random walk's step sd (per day; per week for ``rate_model="weekly"`` and
        ``"weekly_knots"``).
    dependence_scale : float
        Normal prior sd of the two-way list interactions (log odds ratios); 0 forces independent lists.
    capture_rw_scale : float
        Half-normal scale of each list's log-odds step per day (``time_varying_capture=True``); the walk steps
        every ``capture_bin_days`` days, by ``sqrt(capture_bin_days)`` times this.
    tally_coverage : (float, float)
        Beta(a, b) prior of each tally's coverage.
    bias_scale : float
        Log-scale sd of each survey's representativeness factor (log-normal, median ``bias_median``).
    bias_median : float
        Median of each survey's representativeness factor (below 1: the survey under-reports deaths).
    class_scale : float
        Half-normal scale of each step between consecutive capture classes' log-odds (``capture_classes > 1``).
    class_share_prior : float
        Concentration of the symmetric Dirichlet prior of the capture classes' shares.
    """

    rate_level: tuple[float, float] | None = None
    rw_scale: float = 0.1
    dependence_scale: float = 0.5
    capture_rw_scale: float = 0.1
    tally_coverage: tuple[float, float] = (1.0, 1.0)
    bias_scale: float = 0.3
    bias_median: float = 1.0
    class_scale: float = 1.5
    class_share_prior: float = 1.0


def _default_level(data: DailyData) -> tuple[float, float]:
    """Weakly informative prior for the mean log daily rate.

    With matched lists it is the level of *listed* deaths, centred on the listed count per day; without lists but
    with a tally, the level of the tally's documented deaths, centred on its count per day; with surveys alone, the
    level of all deaths, centred on one a day. The sd of 2.5 spans a factor of 130 either way at 95%: the prior
    sets the scale, not the answer.
    """
    if data.k:
        # With lists the level parameter is that of listed deaths (see build_model).
        return float(np.log(max(data.n_listed / data.days, 0.1))), 2.5
    j = data.anchor_tally
    if j >= 0:
        # Without lists the level parameter is that of the anchor tally's documented deaths (see build_model).
        rows = data.tally_index == j
        return float(np.log(max(data.tally_counts[rows].sum() / data.tally_matrix[rows].sum(), 0.1))), 2.5
    return 0.0, 2.5


# Gauss-Hermite nodes that integrate the normal capture effect of capture_classes="normal". Largest relative error
# of a 4-list pattern probability against adaptive quadrature: 11 nodes 6e-5 at sd 1, 2% at sd 2, 16% at sd 3;
# 21 nodes 8e-4 at sd 2, 2.4% at sd 3 (the sd's prior puts 18% above 2).
NORMAL_NODES = 21


def class_count(capture_classes: int | str) -> int:
    """Mixture components of the capture model: the classes, or the quadrature nodes of a normal effect."""
    return NORMAL_NODES if capture_classes == "normal" else int(capture_classes)


def normal_nodes(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and log weights of ``n``-point Gauss-Hermite quadrature against the standard normal density."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(n)
    return nodes, np.log(weights / weights.sum())


@dataclass(frozen=True)
class _Structure:
    """What changes the model graph (and so needs a new compilation)."""

    shape_key: tuple
    rate_model: str
    time_varying_capture: bool
    bin_days: int
    capture_classes: int | str = 1
    capture_bin_days: int = 0  # the capture walk's step (0: no walk)


def _say(progress: bool, text: str) -> None:
    """A stage of the fit on stderr when the caller asked for progress (nutpie draws its own bar)."""
    if progress:
        print(f"daily_rates: {text}", file=sys.stderr, flush=True)


def capture_step_scale(priors, data) -> float:
    """Half-normal scale of one step of the capture walk: ``capture_rw_scale`` per day, so a step of
    ``capture_bin_days`` days has ``sqrt(capture_bin_days)`` times it (the walk's spread over the study does not
    depend on the step's width)."""
    return float(priors.capture_rw_scale) * float(np.sqrt(data.capture_bin_days))


def _pairs(k: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(k) for j in range(i + 1, k)]


def _data_values(data: DailyData, priors: Priors) -> dict:
    level = priors.rate_level or _default_level(data)
    k = data.k
    values = {
        "level_prior": np.array(level, dtype=float),
        "rw_scale": np.array(priors.rw_scale, dtype=float),
        "pop_prior": np.array([np.log(data.population[0]), data.population[1]]),
    }
    if k:
        values.update(
            list_cells=data.list_cells,
            presence_maps=presence_maps(data.presence),
            day_group=data.groups.astype("int64"),
            dependence_scale=np.array(priors.dependence_scale if k >= 3 else 0.0, dtype=float),
            capture_rw_scale=np.array(capture_step_scale(priors, data), dtype=float),
            class_scale=np.array(priors.class_scale, dtype=float),
            class_share_prior=np.array(priors.class_share_prior, dtype=float),
        )
    if len(data.tally_counts):
        values.update(
            tally_counts=data.tally_counts,
            tally_matrix=data.tally_matrix,
            tally_index=data.tally_index,
            tally_prior=np.array(priors.tally_coverage, dtype=float),
        )
    n_bias = len(data.survey_deaths) + len(data.household_n)
    if n_bias:
        values["bias_scale"] = np.full(n_bias, float(priors.bias_scale))
        values["bias_log_median"] = np.full(n_bias, np.log(float(priors.bias_median)))
    if len(data.survey_deaths):
        values.update(
            survey_deaths=data.survey_deaths,
            survey_person_days=data.survey_person_days,
            survey_alpha=data.survey_alpha,
            survey_matrix=data.survey_matrix,
        )
    if len(data.survey_deaths):
        dated = data.survey_day_counts.sum(axis=1)
        np.add.at(dated, data.survey_event_survey, data.survey_event_counts)
        values.update(survey_day_counts=data.survey_day_counts, survey_dated=dated,
                      survey_recall_days=data.survey_matrix.astype(bool).sum(axis=1).astype(float))
    if len(data.survey_event_counts):
        values.update(
            survey_event_first=data.survey_event_first.astype("int64"),
            survey_event_last=data.survey_event_last.astype("int64"),
            survey_event_counts=data.survey_event_counts,
            survey_event_survey=data.survey_event_survey.astype("int64"),
        )
    if len(data.household_n):
        values.update(
            household_n=data.household_n,
            household_affected=data.household_affected,
            household_size_prior=np.stack([np.log(data.household_size), data.household_size_sd], axis=1),
            household_recall=data.household_recall,
            household_matrix=data.household_matrix,
        )
    if k and data.n_windows:
        values.update(coarse_cells=data.coarse_cells, coarse_first=data.coarse_first.astype("int64"),
                      coarse_last=data.coarse_last.astype("int64"))
    return values


PACKED = "packed_data"


@dataclass(frozen=True)
class DataLayout:
    """Where each data value sits in the one float vector that carries all of them into the compiled model.

    nutpie's compiled log density takes every data array of the model as a separate argument, and the Numba
    function that unpacks them costs compilation time per array (seconds per array, in every process); one
    packed vector costs it once. Integer arrays (day and period indices) are stored as floats, which is exact
    below 2**53, and cast back in the graph.
    """

    entries: tuple  # (name, offset, shape, is_integer)

    @classmethod
    def of(cls, values: dict) -> "DataLayout":
        entries, offset = [], 0
        for name, value in values.items():
            value = np.asarray(value)
            entries.append((name, offset, value.shape, value.dtype.kind in "iub"))
            offset += value.size
        return cls(tuple(entries))

    @property
    def size(self) -> int:
        return sum(int(np.prod(shape)) for _, _, shape, _ in self.entries)

    def pack(self, values: dict) -> np.ndarray:
        """The values as one float vector; the names and shapes must be those of this layout."""
        got = {name: np.shape(value) for name, value in values.items()}
        want = {name: shape for name, _, shape, _ in self.entries}
        if got != want:
            raise DataError(f"These data do not fit the compiled model: expected arrays {want}, got {got}. "
                            "Build a new DailyRatesModel for data of this shape.")
        if not self.entries:
            return np.zeros(0)
        return np.concatenate([np.asarray(values[name], dtype=float).ravel() for name, *_ in self.entries])

    def unpack(self, packed) -> dict:
        """Graph views of each value in the packed vector (a PyTensor variable)."""
        views = {}
        for name, offset, shape, is_integer in self.entries:
            view = packed[offset: offset + int(np.prod(shape))].reshape(shape)
            views[name] = view.astype("int64") if is_integer else view
        return views


def presence_maps(presence: np.ndarray) -> np.ndarray:
    """(groups, 2**k, 2**k) 0/1: pattern h maps to pattern h restricted to the lists present in each group.

    ``p_full @ maps[g]`` marginalises the full pattern probabilities over the lists absent in group ``g``: the
    probability of an observed pattern over the lists present, the unlisted cell included.
    """
    presence = np.asarray(presence, bool)
    k = presence.shape[1]
    patterns = np.arange(2**k)
    maps = np.zeros((len(presence), 2**k, 2**k))
    for g, row in enumerate(presence):
        mask = int(pattern_index(row[None, :])[0])  # the lists present, as a pattern
        maps[g, patterns, patterns & mask] = 1.0
    return maps


def build_model(data: DailyData, priors: Priors, *, rate_model: str = "random_walk",
                time_varying_capture: bool = False, capture_classes: int | str = 1):
    """The PyMC model for data of this shape; every value and prior setting is a ``pm.Data`` to swap later.

    With ``capture_classes`` C > 1 the pattern probabilities are a finite mixture of C latent capture classes
    marginalised in the likelihood (Manrique-Vallier 2016, truncated to C classes): a death is in class c with
    probability ``w_c`` (Dirichlet prior), and within class c its capture log-odds on list j in bin t are
    ``alpha[t, j] + beta[c]``, with the same two-way interactions in every class, so
    ``p[t, h] = sum_c w_c exp(eta[t, h] + beta[c] |h|) / sum_h' exp(eta[t, h'] + beta[c] |h'|)``
    (without interactions, ``sum_c w_c prod_j p_tjc^h_j (1 - p_tjc)^(1 - h_j)``). The class effects are ordered,
    ``beta[0] = 0 < beta[1] < ...`` (half-normal steps), so class 0 is the least visible and the labels cannot
    switch; ``alpha`` is then the least visible class's log-odds.

    With ``capture_classes="normal"`` each death carries a normal capture effect ``sd * z`` shared by every list
    (a Rasch-type model, Fienberg, Johnson & Junker 1999): within-death log-odds ``alpha[t, j] + sd * z``, z
    standard normal, integrated by Gauss-Hermite quadrature over :data:`NORMAL_NODES` nodes (the same mixture with
    the nodes' weights as shares and ``sd * node`` as effects); ``sd`` is half-normal with scale ``class_scale``,
    and ``alpha`` is the log-odds of a death of median visibility.
    """
    import pymc as pm
    import pytensor.tensor as pt

    values = _data_values(data, priors)
    layout = DataLayout.of(values)
    D, k = data.days, data.k
    coords = {"day": np.arange(D)}
    with pm.Model(coords=coords) as model:
        d = layout.unpack(pm.Data(PACKED, layout.pack(values)))
        level_prior = d["level_prior"]
        level = level_prior[0] + level_prior[1] * pm.Normal("level_z", 0.0, 1.0)
        population = pm.Deterministic(
            "population", pt.exp(d["pop_prior"][0] + d["pop_prior"][1] * pm.Normal("population_z", 0.0, 1.0))
        )

        log_p = None
        if k:
            model.add_coords({"list": list(data.list_names), "capture_bin": np.arange(data.n_capture_bins),
                              "cell": [format(i, f"0{k}b") for i in range(1, 2**k)]})
            X = pattern_matrix(k).astype(float)
            pairs = _pairs(k)
            alpha0 = pm.Normal("capture_logit", 0.0, 1.5, dims="list")
            varying = time_varying_capture and data.n_capture_bins > 1
            if varying:
                tau = pm.HalfNormal("capture_rw_sigma_z", 1.0, dims="list") * d["capture_rw_scale"]
                eps = pm.Normal("capture_rw_z", 0.0, 1.0, shape=(data.n_capture_bins - 1, k))
                drift = pt.concatenate([pt.zeros((1, k)), pt.cumsum(eps, axis=0)], axis=0)
                alpha = pm.Deterministic("capture_logit_bin", alpha0[None, :] + tau[None, :] * (drift - drift.mean(axis=0)),
                                         dims=("capture_bin", "list"))
            else:
                alpha = alpha0[None, :]
            eta = pt.dot(alpha, X.T)
            if pairs:
                X2 = np.stack([X[:, i] * X[:, j] for i, j in pairs], axis=1)
                gamma = pm.Deterministic(
                    "interaction", pm.Normal("interaction_z", 0.0, 1.0, shape=len(pairs)) * d["dependence_scale"]
                )
                eta = eta + pt.dot(X2, gamma)[None, :]
            if heterogeneous(capture_classes):
                C = class_count(capture_classes)
                model.add_coords({"capture_class": np.arange(C)})
                if capture_classes == "normal":
                    nodes, log_weights = normal_nodes(C)
                    share = pm.Deterministic("capture_class_share", pt.exp(pt.as_tensor(log_weights)),
                                             dims="capture_class")
                    sd = pm.Deterministic("capture_effect_sd",
                                          pm.HalfNormal("capture_effect_sd_z", 1.0) * d["class_scale"])
                    effect = pm.Deterministic("capture_class_effect", sd * nodes, dims="capture_class")
                else:
                    share = pm.Dirichlet("capture_class_share", a=pt.ones(C) * d["class_share_prior"],
                                         dims="capture_class")
                    steps = pm.HalfNormal("capture_class_step_z", 1.0, shape=C - 1) * d["class_scale"]
                    effect = pm.Deterministic("capture_class_effect", pt.concatenate([pt.zeros(1), pt.cumsum(steps)]),
                                              dims="capture_class")
                # (bins, classes, 2**k): each class's log-linear pattern probabilities, then mixed over classes
                eta_c = eta[:, None, :] + effect[None, :, None] * X.sum(1)[None, None, :]
                log_pc = eta_c - pm.math.logsumexp(eta_c, axis=2, keepdims=True)
                log_p = pm.math.logsumexp(log_pc + pt.log(share)[None, :, None], axis=1)
            else:
                log_p = eta - pm.math.logsumexp(eta, axis=1, keepdims=True)
            # Each day's pattern probabilities over the lists present that day (list_windows): the full
            # probabilities of its bin summed over the absent lists' capture; (days, 2**k).
            by_group = pt.tensordot(pt.exp(log_p), d["presence_maps"], axes=[[1], [1]])  # (bins, groups, 2**k)
            p_day = by_group[np.arange(D) // data.capture_bin_days if varying else np.zeros(D, int), d["day_group"]]
            # The prior's level is that of *listed* deaths, which the lists pin down whatever the capture
            # probabilities: this removes the ridge between the total and the capture probabilities that
            # otherwise slows NUTS (the unlisted share then moves the total level on its own).
            level = level - pt.log1p(-p_day[:, 0].mean())
        if len(data.tally_counts):
            model.add_coords({"tally": list(data.tally_names)})
            prior = d["tally_prior"]
            coverage = pm.Beta("tally_coverage", alpha=prior[0], beta=prior[1], dims="tally")
            if data.anchor_tally >= 0:
                # As with lists: the prior's level is the tally's documented level, which its count pins down;
                # the total is documented / coverage (without this, rate x coverage = count is a curved ridge).
                level = level - pt.log(coverage[data.anchor_tally])
        if rate_model == "constant":
            log_rate = pt.ones(D) * level
        elif rate_model == "weekly_knots":
            # A random walk on weekly knots, interpolated linearly over the days between them: a smooth daily
            # rate with a seventh of the parameters of the daily walk (faster to sample).
            W = knot_matrix(D)
            sigma = pm.HalfNormal("rw_sigma_z", 1.0) * d["rw_scale"]
            z = pm.Normal("rw_z", 0.0, 1.0, shape=W.shape[1] - 1)
            walk = pt.dot(W, pt.concatenate([pt.zeros(1), pt.cumsum(z)]))
            log_rate = level + sigma * (walk - walk.mean())
        else:
            steps = D - 1 if rate_model == "random_walk" else int(np.ceil(D / 7)) - 1
            sigma = pm.HalfNormal("rw_sigma_z", 1.0) * d["rw_scale"]
            z = pm.Normal("rw_z", 0.0, 1.0, shape=max(steps, 1))
            walk = pt.concatenate([pt.zeros(1), pt.cumsum(z)])[: steps + 1]
            walk = walk - walk.mean()
            if rate_model == "weekly":
                walk = walk[np.arange(D) // 7]
            log_rate = level + sigma * walk
        rate = pm.Deterministic("rate", pt.exp(log_rate), dims="day")
        if k:
            # Expected records of each observed pattern on each day, summed over bins and over the windows of
            # coarsely dated records by differences of cumulative sums (no windows x days matrix).
            day_mean = rate[:, None] * p_day[:, 1:]
            cum = pt.concatenate([pt.zeros((1, 2**k - 1)), pt.cumsum(day_mean, axis=0)], axis=0)
            bin_first = np.arange(data.n_bins) * data.bin_days
            bin_last = np.minimum(bin_first + data.bin_days, D)
            loglik = _poisson_kernel(d["list_cells"], cum[bin_last] - cum[bin_first])
            if data.n_windows:
                loglik = loglik + _poisson_kernel(
                    d["coarse_cells"], cum[d["coarse_last"] + 1] - cum[d["coarse_first"]])
            # Every record, exactly or coarsely dated, is one of the listed deaths: the Poisson mean of the
            # records of all date precisions together (the precision shares sum to one; see daily_rates).
            pm.Potential("lists_loglik", loglik - pt.sum(rate * (1.0 - p_day[:, 0])))
        if len(data.tally_counts):
            mean = coverage[d["tally_index"]] * pt.dot(d["tally_matrix"], rate)
            pm.Poisson("tally_obs", mu=mean, observed=d["tally_counts"])

        n_s, n_h = len(data.survey_deaths), len(data.household_n)
        if n_s + n_h:
            model.add_coords({"survey": list(data.survey_names) + list(data.household_names)})
            bias = pm.Deterministic(
                "survey_bias", pt.exp(d["bias_log_median"] + pm.Normal("bias_z", 0.0, 1.0, dims="survey") * d["bias_scale"]),
                dims="survey",
            )
            per_person_day = None
            if n_s:
                per_person_day = pt.dot(d["survey_matrix"], rate) / population
                mu = bias[:n_s] * d["survey_person_days"] * per_person_day
                pm.Deterministic("survey_mean", mu)
                pm.NegativeBinomial("survey_obs", mu=mu, alpha=d["survey_alpha"], observed=d["survey_deaths"])
                # Dated deaths given the survey's total: multinomial over the recall window in proportion to
                # the daily rate (a cluster frailty or a bias constant in time cancels), a death dated to a
                # week or month taking the rate summed over its days. Undated surveys add zero.
                in_recall = d["survey_recall_days"] * pt.dot(d["survey_matrix"], rate)
                dates_loglik = (pt.sum(d["survey_day_counts"] * pt.log(rate)[None, :])
                                - pt.sum(d["survey_dated"] * pt.log(in_recall)))
                if len(data.survey_event_counts):
                    cum_rate = pt.concatenate([pt.zeros(1), pt.cumsum(rate)])
                    in_window = cum_rate[d["survey_event_last"] + 1] - cum_rate[d["survey_event_first"]]
                    dates_loglik = dates_loglik + pt.sum(d["survey_event_counts"] * pt.log(in_window))
                pm.Potential("survey_dates_loglik", dates_loglik)
            if n_h:
                size_prior = d["household_size_prior"]
                size = pm.Deterministic(
                    "household_size",
                    pt.exp(size_prior[:, 0] + size_prior[:, 1] * pm.Normal("household_size_z", 0.0, 1.0, shape=n_h)),
                )
                hazard = bias[n_s:] * size * d["household_recall"] * pt.dot(d["household_matrix"], rate) / population
                share = pm.Deterministic("affected_share", -pt.expm1(-hazard))
                # Binomial kernel with the design effect shrinking the number of households to an effective size.
                pm.Potential(
                    "households_loglik",
                    pt.sum(
                        d["household_affected"] * pt.log(share)
                        + (d["household_n"] - d["household_affected"]) * pt.log1p(-share)
                    ),
                )
    return model


def _poisson_kernel(counts, means):
    """sum n log mu over cells (the Poisson log-likelihood without its -mu and -log n! terms).

    Cells without records add nothing (their mean may be zero: a pattern on a list absent in that bin).
    """
    import pytensor.tensor as pt

    return pt.sum(counts * pt.log(means + pt.eq(counts, 0)))


class DailyRatesModel:
    """The joint model for one data shape and structure; :meth:`fit` samples new data of that shape.

    The log density and its gradient are hand-written Numba kernels (:mod:`._kernel`) that read the data, the
    prior settings and the shape from one packed array, so nothing is compiled per shape: the kernels are compiled
    once per installation and cached on disk. :func:`build_model` states the same model in PyMC (for extending it;
    the tests check the two against each other). New data of the same shape (days, lists, time bins, tallies and
    their periods, surveys) and other prior settings use the same model object; a different shape raises
    :class:`DataError`.

    Parameters
    ----------
    data : DailyData
        Data whose shape the model is for (:func:`prepare_data`).
    priors : Priors
    rate_model : {"random_walk", "constant", "weekly", "weekly_knots"}
    time_varying_capture : bool
        Let each list's log-odds of capture follow a random walk over the time bins.
    capture_classes : int or "normal"
        Latent capture classes marginalised in the likelihood (1: homogeneous capture), or "normal": a normal
        capture effect shared by the lists (see :func:`build_model`).
    progress : bool
        Say on stderr when the kernels are compiled (the installation's first use takes tens of seconds).

    Examples
    --------
    >>> model = DailyRatesModel(data, Priors())          # doctest: +SKIP
    >>> first = daily_rates(..., model=model)            # doctest: +SKIP
    >>> second = daily_rates(..., model=model)           # same shape, same model   # doctest: +SKIP
    """

    def __init__(self, data: DailyData, priors: Priors | None = None, *, rate_model: str = "random_walk",
                 time_varying_capture: bool = False, capture_classes: int | str = 1, progress: bool = False):
        check_choice("rate_model", rate_model, RATE_MODELS)
        self.priors = priors or Priors()
        capture_classes = (capture_classes if capture_classes == "normal" else int(capture_classes)) if data.k else 1
        varying = bool(time_varying_capture)
        self.structure = _Structure(data.shape_key, rate_model, varying, data.bin_days, capture_classes,
                                    data.capture_bin_days if varying else 0)
        self._template = data
        from .._jit import cached
        from ._kernel import _load_entry_points, _logp_entry, entry_points

        if not _load_entry_points.cache_info().currsize:
            _say(progress, "loading the model's kernels from Numba's cache..." if cached(_logp_entry) else
                 "compiling the model's kernels (an installation's first use: about 20 s on 2 cores, then cached)...")
        started = time.perf_counter()
        entry_points()
        self._header = self._pack(data, self.priors)
        self.compile_seconds = time.perf_counter() - started
        self.compilations = 1

    def _pack(self, data: DailyData, priors: Priors) -> np.ndarray:
        from . import _packing

        return _packing.pack(data, priors, rate_model=self.structure.rate_model,
                            time_varying_capture=self.structure.time_varying_capture,
                            capture_classes=self.structure.capture_classes)

    def pymc_model(self):
        """The same model in PyMC (:func:`build_model`), for the data this model was made with."""
        s = self.structure
        return build_model(self._template, self.priors, rate_model=s.rate_model,
                           time_varying_capture=s.time_varying_capture, capture_classes=s.capture_classes)

    @property
    def stored(self) -> list[str]:
        from . import _packing

        return list(_packing.stored_shapes(self._header))

    def accepts(self, data: DailyData, *, rate_model: str | None = None,
                time_varying_capture: bool | None = None, capture_classes: int | str | None = None) -> bool:
        """Whether ``data`` (and these structural settings) can be fitted by this model."""
        if capture_classes is not None and not data.k:
            capture_classes = 1
        return (
            data.shape_key == self.structure.shape_key
            and data.bin_days == self.structure.bin_days
            and data.capture_bin_days == (self.structure.capture_bin_days or data.capture_bin_days)
            and rate_model in (None, self.structure.rate_model)
            and time_varying_capture in (None, self.structure.time_varying_capture)
            and capture_classes in (None, self.structure.capture_classes)
        )

    def _check(self, data: DailyData):
        if not self.accepts(data):
            raise DataError(
                f"This model is for data of shape {self.structure.shape_key} (anchor tally, days, lists, "
                f"bins, tallies, tally periods, surveys, dated survey windows, household summaries, coarse-date "
                f"windows, list-presence groups) and bin_days={self.structure.bin_days}"
                + (f", capture_bin_days={self.structure.capture_bin_days}" if self.structure.capture_bin_days else "")
                + f"; got {data.shape_key} and bin_days={data.bin_days}"
                + (f", capture_bin_days={data.capture_bin_days}" if self.structure.capture_bin_days else "")
                + ". Build a new DailyRatesModel."
            )

    def nutpie_model(self, data: DailyData, priors: Priors | None = None):
        """nutpie's model of the kernels on ``data`` (and ``priors``)."""
        from .._nutpie import kernel_model

        from . import _kernel as kernel
        from . import _packing

        self._check(data)
        packed = self._pack(data, priors or self.priors)
        shapes = _packing.stored_shapes(packed)
        dims = {"rate": ("day",), "capture_logit": ("list",), "capture_logit_bin": ("capture_bin", "list"),
                "capture_class_share": ("capture_class",), "capture_class_effect": ("capture_class",),
                "tally_coverage": ("tally",), "survey_bias": ("survey",)}
        coords = {"day": np.arange(data.days), "list": list(data.list_names),
                  "capture_bin": np.arange(data.n_capture_bins),
                  "capture_class": np.arange(class_count(self.structure.capture_classes)), "tally": list(data.tally_names),
                  "survey": list(data.survey_names) + list(data.household_names)}
        logp_entry, expand_entry = kernel.entry_points()
        return kernel_model(logp_entry=logp_entry, expand_entry=expand_entry, user_data=packed,
                            n_dim=int(packed[kernel.N_DIM]), shapes=shapes,
                            dims={name: dim for name, dim in dims.items() if name in shapes},
                            coords={name: values for name, values in coords.items()
                                    if any(name in dims[q] for q in shapes if q in dims)},
                            initial_point=lambda seed=None: _packing.initial_point(packed, seed))

    def fit(self, data: DailyData, priors: Priors | None = None, *, draws: int = 1000, tune: int = 1000,
            chains: int = 4, cores: int = 2, random_seed: int | None = None, target_accept: float = 0.9,
            progress: bool = False):
        """Sample the posterior for ``data`` (and ``priors``): returns nutpie's DataTree and the seconds taken.

        NUTS with a low-rank-modified mass matrix (nutpie's ``adaptation="low_rank"``): the total, the capture
        probabilities and the survey bias are strongly correlated, which a diagonal mass matrix handles badly.
        The eigenvalue regularisation is ``estimators._nutpie.LOW_RANK``'s rather than nutpie's 1e-5.
        """
        import nutpie

        from .._nutpie import LOW_RANK

        compiled = self.nutpie_model(data, priors)
        _say(progress, f"sampling {chains} chains x ({tune} tuning + {draws} draws)")
        started = time.perf_counter()
        idata = nutpie.sample(compiled, draws=draws, tune=tune, chains=chains, cores=cores, seed=random_seed,
                              progress_bar=progress, target_accept=target_accept, save_warmup=False, **LOW_RANK)
        return idata, time.perf_counter() - started

    def sample_prior(self, data: DailyData, priors: Priors | None = None, *, draws: int = 500,
                     random_seed: int | None = None) -> dict:
        """Draws of the stored quantities from the prior, as numpy arrays by name (first axis: draws)."""
        from . import _packing

        self._check(data)
        packed = self._pack(data, priors or self.priors)
        x = _packing.prior_parameters(packed, draws, np.random.default_rng(random_seed))
        expanded = _packing.expand_draws(x, packed)
        out, at = {}, 0
        for name, shape in _packing.stored_shapes(packed).items():
            size = int(np.prod(shape))
            out[name] = expanded[:, at: at + size].reshape(draws, *shape)
            at += size
        return out
