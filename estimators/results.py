"""Result objects shared by every estimator, and the one place deaths become rates.

Every estimator returns a frozen :class:`Estimate` (or :class:`PosteriorEstimate` for Bayesian methods):
point estimate, interval with its level and kind, method and model, ``n_observed``, warnings, a
``summary()``, ``to_frame()`` and ``rate(days, population)``.
"""

from __future__ import annotations

import pickle
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from ._lazy import normal_ppf, pd, stats
from ._summary import Summary, Table, _bracket, _number
from ._validation import check_level, check_positive, resolve_seed, validate_params

PER_PERSONS = 10_000
# The normal quantile of a two-sided 95% range: a (low, high) range is read as a 95% interval everywhere.
RANGE_Z = 1.959964


def lognormal_from_range(low: float, high: float, *, name: str = "population") -> tuple[float, float]:
    """(median, log-scale sd) of the log-normal whose 95% interval is ``(low, high)``.

    The one reading of a range in the package: the population at risk of :func:`estimators.daily_rates` and of
    every ``rate(days, population=(low, high))``, and a household size given as a range. The median is the
    geometric mean ``sqrt(low * high)``; the log-scale sd is ``log(high / low) / (2 * 1.96)`` (at least 1e-6, so
    that ``low == high`` is a number known exactly).

    Parameters
    ----------
    low, high : float
        The range, ``0 < low <= high``.
    name : str
        The argument's name, for the error message.

    Returns
    -------
    (float, float)

    Examples
    --------
    >>> median, sd = lognormal_from_range(450_000, 550_000)
    >>> round(median), round(sd, 4)
    (497494, 0.0512)
    """
    low, high = check_positive(name, low), check_positive(name, high)
    if low > high:
        raise ValueError(f"`{name}` range must be (low, high) with low <= high; got {(low, high)!r}.")
    return float(np.sqrt(low * high)), max(float(np.log(high / low) / (2 * RANGE_Z)), 1e-6)


def _population_spread(population, level: float, n_draws: int | None = None):
    """The population at risk as (median, log distance to the lower bound, log distance to the upper bound).

    A number is known exactly (distances 0); a (low, high) pair is the 95% range of a log-normal
    (:func:`lognormal_from_range`), whose bounds at ``level`` are ``median * exp(-/+ z sd)``; an array of more
    than two values is draws, whose median and equal-tailed bounds at ``level`` are taken. Also returns the
    draws (None unless given) and the log-normal's (median, sd) (None unless a range).
    """
    if isinstance(population, (bool, np.bool_)):
        raise ValueError(f"`population` must be a number, a (low, high) range or draws; got {population!r}.")
    if isinstance(population, np.ndarray) and population.ndim == 0:
        population = population.item()
    if isinstance(population, numbers.Real):
        return check_positive("population", population), 0.0, 0.0, None, None
    try:
        values = np.asarray(population, dtype=float).reshape(-1) if np.ndim(population) == 1 else None
    except (TypeError, ValueError):
        values = None
    if values is None or len(values) < 2:
        raise ValueError(f"`population` must be a number, a (low, high) range or an array of draws; got "
                         f"{population!r}.")
    if len(values) == 2:
        median, sd = lognormal_from_range(*values)
        z = normal_ppf(0.5 + level / 2)
        return median, z * sd, z * sd, None, (median, sd)
    bad = ~np.isfinite(values) | (values <= 0)
    if bad.any():
        raise ValueError(
            f"`population` draws must be finite and > 0; draw {int(np.flatnonzero(bad)[0])} is "
            f"{values[bad][0]:g} ({int(bad.sum())} such draws)."
        )
    tail = (1 - level) / 2
    lower, median, upper = np.quantile(values, [tail, 0.5, 1 - tail])
    return float(median), float(np.log(median / lower)), float(np.log(upper / median)), values, None


def seeded_generator(random_seed) -> tuple[np.random.Generator, object]:
    """A Generator for ``random_seed`` and the integer seed to record in the result, so the run can be repeated.

    The seed as given; where it is None, fresh entropy drawn here; where it is a Generator, an integer drawn from
    it. Either way ``random_seed=result.details["random_seed"]`` repeats the run.
    """
    seed = resolve_seed(random_seed)
    return np.random.default_rng(seed), seed


def per_day(total, days: float):
    """Deaths per day from a total (scalar, array or draws)."""
    return np.asarray(total, dtype=float) / days


def per_10000_per_day(total, days: float, population):
    """Deaths per 10,000 people per day (the humanitarian crude-death-rate unit)."""
    return np.asarray(total, dtype=float) / np.asarray(population, dtype=float) * PER_PERSONS / days


def thin_draws(draws: np.ndarray, length: int) -> np.ndarray:
    """``length`` draws spread evenly over ``draws`` (all of them when it has that many): a shorter sample of the
    same posterior, to combine runs of different lengths."""
    if len(draws) == length:
        return draws
    return draws[np.linspace(0, len(draws) - 1, length).round().astype(int)]


@dataclass(frozen=True, kw_only=True)
class Rate:
    """Deaths per day and, given a population at risk, deaths per 10,000 per day, with intervals.

    Made by :meth:`Estimate.rate`: N and its interval divided by the days (and by the population / 10,000),
    which assumes the deaths counted in N all fell within those days and the population at risk was the same
    throughout. The humanitarian unit deaths per 10,000 per day is that of Checchi & Roberts (2005) [1]_.

    Attributes
    ----------
    per_day, per_day_interval : float, (float, float)
    days : float
    level : float
    population : float or None
        The population at risk (its median when it was given as a range or draws).
    per_10000_per_day, per_10000_per_day_interval : float or None, (float, float) or None
    method : str
    population_interval : (float, float) or None
        The population's interval at ``level`` (both bounds equal for a number known exactly).

    References
    ----------
    .. [1] Checchi F., Roberts L. (2005). Interpreting and using mortality data in humanitarian emergencies: a
       primer for non-epidemiologists. *HPN Network Paper* 52. Overseas Development Institute, London.

    Examples
    --------
    >>> from estimators import Estimate
    >>> rate = Estimate(estimate=1200.0, interval=(1000.0, 1500.0), level=0.95, method="example",
    ...                 n_observed=800).rate(days=120, population=750_000)
    >>> rate.to_frame().round(3)["estimate"].tolist()
    [10.0, 0.133]
    """

    per_day: float
    per_day_interval: tuple[float, float]
    days: float
    level: float
    population: float | None = None
    per_10000_per_day: float | None = None
    per_10000_per_day_interval: tuple[float, float] | None = None
    method: str = ""
    population_interval: tuple[float, float] | None = None

    def to_frame(self) -> pd.DataFrame:
        rows = [("deaths per day", self.per_day, *self.per_day_interval)]
        if self.per_10000_per_day is not None:
            rows.append(("deaths per 10,000 per day", self.per_10000_per_day, *self.per_10000_per_day_interval))
        return pd.DataFrame(rows, columns=["quantity", "estimate", "lower", "upper"]).set_index("quantity")

    def summary(self) -> Summary:
        facts = [("method", self.method), ("days", f"{self.days:g}"), ("interval level", f"{self.level:.0%}")]
        if self.population is not None:
            low, high = self.population_interval or (self.population, self.population)
            facts.append(("population at risk", f"{self.population:,.0f}" if low == high
                          else f"{self.population:,.0f} ({self.level:.0%} {low:,.0f}-{high:,.0f})"))
        return Summary(title="Death rate", facts=facts, table=self.to_frame())

    def __str__(self):
        return str(self.summary())

    def __repr__(self) -> str:
        text = f"{_number(self.per_day)} deaths per day {_bracket(self.per_day_interval)}"
        if self.per_10000_per_day is not None:
            text += (f", {_number(self.per_10000_per_day)} per 10,000 per day "
                     f"{_bracket(self.per_10000_per_day_interval)}")
        return f"<Rate: {text}, {self.level:.0%}, {self.days:g} days>"

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()


def _check_days(days) -> float:
    return check_positive("days", days)


@dataclass(frozen=True, kw_only=True)
class Estimate:
    """A frequentist estimate of the population size N (deaths including those on no list).

    Attributes
    ----------
    estimate : float
        Point estimate of N.
    interval : (float, float)
        Interval for N at ``level``; ``nan`` where a bound does not exist (said in ``warnings``).
    level : float
        Coverage level of ``interval``.
    interval_kind : str
        How the interval was made ("profile likelihood", "Wald", "log-normal (Chao 1987)", "bootstrap BCa", ...).
    method : str
        The estimator's name.
    n_observed : int
        People on at least one list.
    model : str or None
        The model fitted (e.g. a hierarchical log-linear model ``"[12,3]"``).
    std_error : float or None
        Standard error of the point estimate where the method gives one.
    warnings : tuple of str
        What the reader must know (non-existence risks, boundary fits, small samples).
    details : mapping
        Method-specific facts (AIC, deviance, multinomial MLE, settings, seed). ``details["unit"]`` marks an
        estimate that is already a rate (e.g. ``"deaths per day"``) rather than a number of deaths.

    Examples
    --------
    >>> from estimators import Estimate
    >>> result = Estimate(estimate=1200.0, interval=(1000.0, 1500.0), level=0.95, method="example",
    ...                   n_observed=800)
    >>> result.unlisted
    400.0
    >>> rate = result.rate(days=120, population=750_000)  # the interval for N is scaled, not re-estimated
    >>> round(rate.per_day, 2), tuple(round(x, 2) for x in rate.per_day_interval)
    (10.0, (8.33, 12.5))
    >>> round(rate.per_10000_per_day, 4)
    0.1333
    >>> result.to_frame().columns.tolist()
    ['method', 'model', 'estimate', 'lower', 'upper', 'level', 'interval_kind', 'std_error', 'n_observed', 'unlisted']
    """

    estimate: float
    interval: tuple[float, float]
    level: float
    method: str
    n_observed: int
    interval_kind: str = ""
    model: str | None = None
    std_error: float | None = None
    warnings: tuple[str, ...] = ()
    details: Mapping = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "estimate", float(self.estimate))
        object.__setattr__(self, "interval", (float(self.interval[0]), float(self.interval[1])))
        object.__setattr__(self, "warnings", tuple(self.warnings))

    @property
    def unit(self) -> str | None:
        """The unit of an estimate that is a rate (``details["unit"]``); None for a number of deaths N."""
        return self.details.get("unit")

    @property
    def unlisted(self) -> float:
        """Estimated number on no list: N - n_observed (nan for a rate, which has none)."""
        return float("nan") if self.unit else self.estimate - self.n_observed

    @property
    def unlisted_interval(self) -> tuple[float, float]:
        if self.unit:
            return (float("nan"), float("nan"))
        return (self.interval[0] - self.n_observed, self.interval[1] - self.n_observed)

    def confidence_interval(self, level: float | None = None) -> tuple[float, float]:
        """The interval at ``level`` (default: the fit's own), called as scipy.stats' result objects are.

        A frequentist interval comes from its method at the level it was fitted with: another level needs a refit
        (``level=`` of the estimator). A posterior's interval at another level comes from its pmf or draws.
        """
        if level is None or check_level(level) == self.level:
            return self.interval
        raise ValueError(
            f"This {self.method} interval was computed at level {self.level:g}; for level {level:g} refit with "
            f"level={level:g}."
        )

    def rate(self, days: float, population=None) -> Rate:
        """Deaths per day over ``days`` and, with ``population``, deaths per 10,000 per day.

        Parameters
        ----------
        days : float
            Length of the period in which the deaths counted in N fell.
        population : float, (float, float) or array, optional
            The population at risk, read as :func:`estimators.daily_rates` reads it: a number known exactly; a
            ``(low, high)`` range, the 95% interval of a log-normal (:func:`lognormal_from_range`); or an array of
            draws. An uncertain population widens the per-10,000 interval: on the log scale each side of N's
            interval and the population's interval at the same level are added in quadrature (N and the population
            taken as independent).

        Returns
        -------
        Rate
            The interval for N scaled by the days (N is not re-estimated).
        """
        if self.unit:
            # dividing a rate by days again gives a number in no unit anyone reports
            raise ValueError(f"This estimate is already a rate ({self.unit}); rate() converts a number of deaths. "
                             "Use the total's rate(), e.g. fit.total.rate(days, population).")
        days = _check_days(days)
        lower, upper = self.interval
        result = dict(
            per_day=float(per_day(self.estimate, days)),
            per_day_interval=(float(per_day(lower, days)), float(per_day(upper, days))),
            days=days,
            level=self.level,
            method=self.method,
        )
        if population is not None:
            median, below, above, _, _ = _population_spread(population, self.level)
            point = float(per_10000_per_day(self.estimate, days, median))
            bounds = [float(per_10000_per_day(bound, days, median)) for bound in (lower, upper)]
            if below or above:
                # the rate's lower bound meets the population's upper one, and the other way round
                for i, (bound, spread) in enumerate(((lower, above), (upper, below))):
                    if np.isfinite(bound) and bound > 0 and self.estimate > 0:
                        distance = np.hypot(np.log(self.estimate / bound), spread)
                        bounds[i] = point * float(np.exp(-distance if i == 0 else distance))
            result.update(
                population=median,
                population_interval=(median * float(np.exp(-below)), median * float(np.exp(above))),
                per_10000_per_day=point,
                per_10000_per_day_interval=tuple(bounds),
            )
        return Rate(**result)

    def _facts(self) -> list[tuple[str, object]]:
        facts = [("method", self.method)]
        if self.model:
            facts.append(("model", self.model))
        facts += [("observed (n)", self.n_observed), ("interval", f"{self.level:.0%} {self.interval_kind}".strip())]
        seed = self.details.get("random_seed")
        for key, value in self.details.items():
            if key in ("seed", "entropy") and value == seed:
                continue  # older names of the seed, kept in details for callers; printed once as random_seed
            if isinstance(value, (bool, int, float, str, np.bool_, np.integer, np.floating)):
                facts.append((key, value))
        return facts

    def to_frame(self) -> pd.DataFrame:
        """One row: the estimate of N and of the unlisted count, with bounds, level and kind."""
        return pd.DataFrame(
            {
                "method": [self.method],
                "model": [self.model],
                "estimate": [self.estimate],
                "lower": [self.interval[0]],
                "upper": [self.interval[1]],
                "level": [self.level],
                "interval_kind": [self.interval_kind],
                "std_error": [self.std_error],
                "n_observed": [self.n_observed],
                "unlisted": [self.unlisted],
            }
        )

    def summary(self) -> Summary:
        if self.unit:
            table = Table({"estimate": [self.estimate], "lower": [self.interval[0]], "upper": [self.interval[1]]},
                          index=[self.unit])
            return Summary(title=self.method, facts=self._facts(), table=table, notes=self.warnings)
        columns = {
            "estimate": [self.estimate, self.unlisted],
            "lower": [self.interval[0], self.unlisted_interval[0]],
            "upper": [self.interval[1], self.unlisted_interval[1]],
        }
        if self.std_error is not None:
            columns["std. error"] = [self.std_error, self.std_error]
        table = Table(columns, index=["N (total)", "unlisted (N - n)"])
        return Summary(title=f"Population size: {self.method}", facts=self._facts(), table=table, notes=self.warnings)

    def __str__(self):
        return str(self.summary())

    def __repr__(self) -> str:
        # one line: the draws, pmf and posterior stay out of it (print() or summary() shows the full summary)
        quantity = f"{self.unit} =" if self.unit else "N ="
        extra = [f"n_observed={self.n_observed:,}"] if not self.unit else []
        if isinstance(self, PosteriorEstimate) and len(self.draws):
            extra.append(f"{len(self.draws):,} draws")
        if self.warnings:
            extra.append(f"{len(self.warnings)} warning{'s' if len(self.warnings) > 1 else ''}")
        model = f" {self.model}" if self.model else ""
        return (f"<{type(self).__name__} {self.method}{model}: {quantity} {_number(self.estimate)}, {self.level:.0%} "
                f"{_bracket(self.interval)}{', ' if extra else ''}{', '.join(extra)}>")

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()


@dataclass(frozen=True, kw_only=True, repr=False)  # Estimate's one-line repr, not a dump of the draws
class PosteriorEstimate(Estimate):
    """A Bayesian estimate of N: ``estimate`` is the posterior median, ``interval`` the equal-tailed interval.

    It has every attribute of :class:`Estimate`, and those below.

    Attributes
    ----------
    draws : ndarray
        Posterior draws of N (chains concatenated).
    diagnostics : mapping
        R-hat, bulk/tail ESS, divergences (where the sampler has them).
    idata : xarray.DataTree or None
        PyMC's posterior, where there is one.
    pmf : (support, probabilities) or None
        The exact posterior probability mass function of N, where the method has it.

    Examples
    --------
    >>> import numpy as np
    >>> from estimators import PosteriorEstimate
    >>> draws = np.random.default_rng(1).normal(1000, 50, 4000)
    >>> result = PosteriorEstimate.from_draws(draws, method="example", n_observed=500)
    >>> [round(x) for x in result.interval], [round(x) for x in result.hdi(0.95)]
    ([903, 1099], [901, 1096])
    """

    draws: np.ndarray = field(default_factory=lambda: np.empty(0))
    diagnostics: Mapping = field(default_factory=dict)
    idata: object = None
    pmf: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def from_draws(cls, draws, *, level: float = 0.95, **kwargs) -> "PosteriorEstimate":
        """Median and equal-tailed interval from draws of N.

        Examples
        --------
        >>> import numpy as np
        >>> from estimators import PosteriorEstimate
        >>> draws = np.random.default_rng(1).normal(1000, 50, 4000)
        >>> result = PosteriorEstimate.from_draws(draws, level=0.9, method="example", n_observed=500)
        >>> round(result.estimate), [round(x) for x in result.interval]
        (999, [918, 1083])
        """
        level = check_level(level)
        draws = np.asarray(draws, dtype=float).reshape(-1)
        if not len(draws):
            raise ValueError("`draws` is empty: a posterior summary needs at least one draw of N.")
        tail = (1 - level) / 2
        lower, median, upper = np.quantile(draws, [tail, 0.5, 1 - tail])
        return cls(
            estimate=median,
            interval=(lower, upper),
            level=level,
            interval_kind=kwargs.pop("interval_kind", "equal-tailed credible"),
            draws=draws,
            **kwargs,
        )

    @property
    def mean(self) -> float:
        """Posterior mean of N; ``inf`` where the method knows the posterior tail makes it infinite."""
        if self.details.get("posterior_mean_finite") is False:
            return float("inf")
        if self.pmf is not None:
            support, probability = self.pmf
            return float(np.sum(support * probability))
        return float(np.mean(self.draws))

    def confidence_interval(self, level: float | None = None) -> tuple[float, float]:
        """The equal-tailed interval at ``level`` (default: the fit's own), as :meth:`credible_interval`."""
        if level is None or check_level(level) == self.level:
            return self.interval
        return self.credible_interval(level)

    def credible_interval(self, level: float = 0.95) -> tuple[float, float]:
        """Equal-tailed interval at another level, from the stored pmf or draws (no refit)."""
        level = check_level(level)
        tail = (1 - level) / 2
        if self.pmf is not None:
            support, probability = self.pmf
            cdf = np.cumsum(probability)
            return (float(support[np.searchsorted(cdf, tail)]), float(support[np.searchsorted(cdf, 1 - tail)]))
        lower, upper = np.quantile(self.draws, [tail, 1 - tail])
        return float(lower), float(upper)

    def hdi(self, level: float = 0.95) -> tuple[float, float]:
        """Highest-density interval of N at ``level``: the shortest interval holding that share of draws."""
        level = check_level(level)
        ordered = np.sort(self.draws)
        n = len(ordered)
        width = max(int(np.ceil(level * n)), 1)
        if width >= n:
            return float(ordered[0]), float(ordered[-1])
        spans = ordered[width - 1 :] - ordered[: n - width + 1]
        start = int(np.argmin(spans))
        return float(ordered[start]), float(ordered[start + width - 1])

    def rate(self, days: float, population=None) -> Rate:
        """Rates from N's posterior; ``population`` is a number, a (low, high) range or draws.

        Parameters
        ----------
        days : float
        population : float, (float, float) or array, optional
            A number known exactly; a ``(low, high)`` range, the 95% interval of a log-normal as in
            :func:`estimators.daily_rates` (:func:`lognormal_from_range`); or one draw per draw of N. With a range
            or draws the population's uncertainty is carried draw by draw into deaths per 10,000 per day.

        Deaths per day (and per 10,000 per day with a fixed population) are ``estimate`` and ``interval`` scaled, so
        they agree with them exactly, also where those come from an exact pmf rather than from the Monte Carlo draws.
        """
        fixed = super().rate(days, population if population is None or np.ndim(population) == 0 else None)
        if population is None or np.ndim(population) == 0:
            return fixed
        median, below, above, values, lognormal = _population_spread(population, self.level)
        if lognormal is not None:
            # Stratified normal quantiles in a fixed shuffled order: the same rate on every call (no seed to pass)
            # and less Monte Carlo noise than random draws.
            n = len(self.draws)
            z = stats.norm.ppf((np.arange(n) + 0.5) / n)[np.random.default_rng(0).permutation(n)]
            values = lognormal[0] * np.exp(lognormal[1] * z)
        if values.shape != self.draws.shape:
            raise ValueError(
                f"`population` must be a positive number, a (low, high) range or {len(self.draws)} positive draws "
                f"(one per draw of N); got shape {values.shape}."
            )
        tail = (1 - self.level) / 2
        per_10k = per_10000_per_day(self.draws, fixed.days, values)
        lower, median_rate, upper = np.quantile(per_10k, [tail, 0.5, 1 - tail])
        return replace(
            fixed,
            population=median,
            population_interval=(median * float(np.exp(-below)), median * float(np.exp(above))),
            per_10000_per_day=float(median_rate),
            per_10000_per_day_interval=(float(lower), float(upper)),
        )

    def _facts(self):
        facts = super()._facts()
        shown = {key for key, _ in facts}
        # chains, draws and draws per chain are often in details too: each fact is printed once
        extra = [("posterior mean", self.mean), ("draws", len(self.draws)), *self.diagnostics.items()]
        for key, value in extra:
            if key not in shown and isinstance(value, (int, float, np.integer, np.floating)):
                facts.append((key, value))
                shown.add(key)
        return facts

    def save(self, path) -> None:
        """Write this result and its posterior to ``path`` (see :func:`save_result`); read it back with
        :func:`estimators.load_result`."""
        save_result(self, path)

    def plot(self, ax=None, **kwargs):
        """Posterior of N (histogram of draws or the exact pmf) with the median and interval marked."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        if self.pmf is not None:
            support, probability = self.pmf
            ax.plot(support, probability, **kwargs)
        else:
            ax.hist(self.draws, bins=kwargs.pop("bins", 60), density=True, alpha=0.6, **kwargs)
        ax.axvline(self.estimate, color="k", lw=1)
        for bound in self.interval:
            ax.axvline(bound, color="k", lw=1, ls="--")
        if self.unit:
            # a rate has no observed count to mark (it would stretch the axis far off), and needs decimals
            ax.set_xlabel(self.unit)
            number = "{:,.3g}".format
        else:
            ax.axvline(self.n_observed, color="tab:red", lw=1, ls=":", label=f"observed n = {self.n_observed:,}")
            ax.set_xlabel("N (total, listed and unlisted)")
            ax.legend(fontsize=8)
            number = "{:,.0f}".format
        ax.set_ylabel("posterior density")
        ax.set_title(f"{self.method}: median {number(self.estimate)}, {self.level:.0%} [{number(self.interval[0])}, "
                     f"{number(self.interval[1])}]", fontsize=9)
        return ax


# ------------------------------------------------------------------------------------------------ saving
_RESULT_GROUP = "undercount_result"


class _Pickler(pickle.Pickler):
    """Pickles a result with its posterior DataTree left out (a reference to it instead): the posterior is written
    as the DataTree's own groups, readable by xarray and ArviZ without this package."""

    def __init__(self, file, idata):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._idata = idata

    def persistent_id(self, obj):
        return "idata" if self._idata is not None and obj is self._idata else None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, idata):
        super().__init__(file)
        self._idata = idata

    def persistent_load(self, pid):
        if pid != "idata":
            raise pickle.UnpicklingError(f"Unknown reference {pid!r} in a saved result.")
        return self._idata


def _netcdf_engine() -> str | None:
    for module, engine in (("h5netcdf", "h5netcdf"), ("netCDF4", "netcdf4")):
        try:
            __import__(module)
        except ImportError:
            continue
        return engine
    return None


def save_result(result, path) -> None:
    """Write a result and its posterior to ``path``: a zarr store, or netCDF where ``path`` ends in ``.nc``.

    The file is the result's posterior DataTree (``result.idata``; for a result without one, its draws of N as
    ``posterior/N``), which any xarray or ArviZ reader opens, plus a group ``undercount_result`` holding the rest
    of the result (estimates, tables, settings) so that :func:`load_result` rebuilds the same object.

    Parameters
    ----------
    result : PosteriorEstimate, DailyRatesResult or any result object of this package
    path : str or path-like
        A directory for a zarr store (replaced if it exists), or a file name ending in ``.nc`` for netCDF (needs
        ``h5netcdf`` or ``netCDF4``).

    Notes
    -----
    The ``undercount_result`` group is a Python pickle: load only files you trust, with the same major version
    of this package.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from estimators import PosteriorEstimate, load_result
    >>> fit = PosteriorEstimate.from_draws(np.arange(1000.0), method="example", n_observed=10)
    >>> path = os.path.join(tempfile.mkdtemp(), "fit.zarr")
    >>> fit.save(path)
    >>> load_result(path).interval == fit.interval
    True
    """
    import io
    from pathlib import Path

    import xarray as xr

    from . import __version__

    path = Path(path)
    idata = getattr(result, "idata", None)
    if idata is not None and not isinstance(idata, xr.DataTree):
        raise TypeError(f"`result.idata` is a {type(idata).__name__}, not an xarray.DataTree; it cannot be saved.")
    buffer = io.BytesIO()
    _Pickler(buffer, idata).dump(result)
    if idata is not None:
        tree = idata.copy()
    else:
        tree = xr.DataTree()
        draws = np.asarray(getattr(result, "draws", np.empty(0)), dtype=float)
        if draws.size:
            tree["posterior"] = xr.DataTree(xr.Dataset({"N": (("chain", "draw"), draws.reshape(1, -1))}))
    summary = {"result_type": type(result).__name__, "package_version": __version__}
    for name in ("method", "estimate", "level"):
        value = getattr(result, name, None)
        if isinstance(value, (str, int, float)):
            summary[name] = value
    tree[_RESULT_GROUP] = xr.DataTree(
        xr.Dataset({"pickle": ("byte", np.frombuffer(buffer.getvalue(), dtype=np.uint8))}, attrs=summary))
    if path.suffix == ".nc":
        engine = _netcdf_engine()
        if engine is None:
            raise ImportError("Writing netCDF needs h5netcdf (pip install h5netcdf); or give a path not ending in "
                              "'.nc' to write a zarr store.")
        tree.to_netcdf(path, engine=engine)
    else:
        tree.to_zarr(path, mode="w", consolidated=False)  # zarr 3 warns that consolidated metadata is no standard


@validate_params({}, exempt=("path",))  # the file reader names a missing or foreign file
def load_result(path):
    """Read a result written by ``result.save(path)`` (:func:`save_result`), with its posterior DataTree.

    Parameters
    ----------
    path : str or path-like
        A zarr store or a ``.nc`` netCDF file.

    Returns
    -------
    The saved result object, equal to the one saved; its ``idata`` is the posterior read from the file.
    """
    import io
    from pathlib import Path

    import xarray as xr

    path = Path(path)
    if path.suffix == ".nc":
        tree = xr.open_datatree(path, engine=_netcdf_engine())
    else:
        tree = xr.open_datatree(path, engine="zarr", consolidated=False)
    tree = tree.load()
    if _RESULT_GROUP not in tree.children:
        raise ValueError(f"{str(path)!r} holds no saved result (no {_RESULT_GROUP!r} group); open it with "
                         "xarray.open_datatree to read the posterior alone.")
    payload = tree[_RESULT_GROUP]["pickle"].values.astype(np.uint8).tobytes()
    posterior = tree.copy()
    del posterior[_RESULT_GROUP]
    # draws stored for a result without a DataTree are not a DataTree of its own
    return _Unpickler(io.BytesIO(payload), posterior).load()
