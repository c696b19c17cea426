"""The "one family in three" summary form: :func:`affected_households`, :class:`AffectedHouseholds`."""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import _warn
from .._validation import (
    BOOL,
    LEVEL,
    SEED,
    Date,
    Integral,
    Interval,
    Options,
    Range,
    Real,
    check_choice,
    check_level,
    check_positive,
    check_positive_int,
    validate_params,
)
from ..exceptions import IdentifiabilityWarning, SmallSampleWarning
from ..results import PER_PERSONS, Summary, seeded_generator
from ._smart import _RECALL_DAYS, _recall_window


_DEFAULT_EXTRA_DEATHS = (2.0, 0.1)  # Gamma(shape, scale) of deaths beyond the first in an affected household


@dataclass(frozen=True, kw_only=True)
class AffectedHouseholds:
    """Posterior for what a summary of interviews implies: share of households affected and deaths it implies.

    Attributes
    ----------
    estimate : float
        Posterior median of the headline quantity: implied deaths when a population was given, else the
        proportion of households that lost at least one member.
    interval : (float, float)
        Equal-tailed credible interval of the headline at ``level``.
    quantity : str
        Name of the headline quantity (a key of ``draws``).
    proportion, proportion_interval : float, (float, float)
        Proportion of the surveyed (surviving) households that lost at least one member.
    deaths, deaths_interval : float or None
        Implied deaths in the population (None without ``population``).
    rate, rate_interval : float or None
        Implied deaths per 10,000 per day (None without ``recall_days``).
    draws : mapping of str to ndarray
        Monte Carlo draws of every quantity (read-only), in the same order, so functions of them carry the joint
        uncertainty: ``proportion_affected``, ``deaths_per_affected``, ``household_size``, and as available
        ``population``, ``missing_fraction``, ``missing_affected``, ``affected_share_all``, ``deaths``, ``rate``.
    table : pandas.DataFrame
        Median, mean and interval of every quantity.
    n_households, n_affected : int
        The interview figures.
    design_effect, effective_n : float
        Design effect applied and the effective number of households ``n_households / design_effect``.
    prior : str
        The prior on the proportion.
    assumptions : tuple of str
        Every assumption the numbers rest on, in words.
    warnings : tuple of str
        What the reader must know (non-probability sample, design effect below 1).
    recall_days : float or None
    recall_start, recall_end : pandas.Timestamp or None
        Recall window when given (both days counted), for the joint daily-rate model.
    settings : mapping
        Every argument needed to reproduce the draws (including ``random_seed``).
    """

    estimate: float
    interval: tuple[float, float]
    level: float
    quantity: str
    proportion: float
    proportion_interval: tuple[float, float]
    deaths: float | None
    deaths_interval: tuple[float, float] | None
    rate: float | None
    rate_interval: tuple[float, float] | None
    draws: Mapping[str, np.ndarray]
    table: pd.DataFrame
    n_households: int
    n_affected: int
    design_effect: float
    effective_n: float
    prior: str
    assumptions: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    recall_days: float | None = None
    recall_start: pd.Timestamp | None = None
    recall_end: pd.Timestamp | None = None
    method: str = "affected households (beta-binomial with design effect, Monte Carlo)"
    interval_kind: str = "equal-tailed credible"
    settings: Mapping = field(default_factory=dict)

    def credible_interval(self, level: float = 0.95, quantity: str | None = None) -> tuple[float, float]:
        """Equal-tailed interval of ``quantity`` (default the headline) at another level, from the draws."""
        level = check_level(level)
        quantity = self.quantity if quantity is None else check_choice("quantity", quantity, set(self.draws))
        tail = (1 - level) / 2
        lower, upper = np.quantile(self.draws[quantity], [tail, 1 - tail])
        return float(lower), float(upper)

    def to_frame(self) -> pd.DataFrame:
        frame = self.table.copy()
        frame["level"] = self.level
        return frame

    def summary(self) -> Summary:
        facts = [
            ("method", self.method),
            ("households interviewed", self.n_households),
            ("households that lost a member", self.n_affected),
            ("observed proportion", self.n_affected / self.n_households),
            ("design effect", self.design_effect),
            ("effective households", self.effective_n),
            ("prior on the proportion", self.prior),
            ("interval", f"{self.level:.0%} {self.interval_kind}"),
            ("draws", len(self.draws[self.quantity])),
        ]
        if self.recall_days is not None:
            facts.append(("recall period (days)", f"{self.recall_days:g}"))
        return Summary(title="Affected households: what the interviews imply", facts=facts, table=self.table,
                       notes=(*self.assumptions, *self.warnings))

    def __str__(self):
        return str(self.summary())

    def __repr__(self) -> str:
        # one line: the draws stay out of it (print() or summary() shows the full summary)
        unit = "deaths" if self.deaths is not None else "share of households affected"
        return (f"<AffectedHouseholds: {unit} {self.estimate:,.4g}, {self.level:.0%} "
                f"[{self.interval[0]:,.4g}, {self.interval[1]:,.4g}]>")

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()


def _is_range(value) -> bool:
    return isinstance(value, (tuple, list)) and len(value) == 2


def _check_range_or_number(name: str, value, *, minimum: float, strict: bool, maximum: float = np.inf,
                           upper_strict: bool = False):
    """A number or a (low, high) range within [minimum, maximum]; returns (low, high) with low == high for a number."""
    def ok(v):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(v):
            return False
        above = v > minimum if strict else v >= minimum
        below = v < maximum if upper_strict else v <= maximum
        return above and below

    bounds = f"{'>' if strict else '>='} {minimum:g}" + (
        f" and {'<' if upper_strict else '<='} {maximum:g}" if np.isfinite(maximum) else "")
    if _is_range(value):
        low, high = value
        if not (ok(low) and ok(high) and low < high):
            raise ValueError(f"`{name}` as a range must be (low, high) with low < high, both {bounds}; got {value!r}.")
        return float(low), float(high)
    if not ok(value):
        raise ValueError(f"`{name}` must be a number {bounds} or a (low, high) range; got {value!r}.")
    return float(value), float(value)


def _draw_uniform(rng: np.random.Generator, bounds: tuple[float, float], size: int) -> np.ndarray:
    low, high = bounds
    return np.full(size, low) if low == high else rng.uniform(low, high, size)


def _describe(bounds: tuple[float, float], unit: str = "") -> str:
    low, high = bounds
    # ',.10g': 750,000 and 7,500,000 as written, where ':g' printed 750000 and 7.5e+06; 0.05 stays 0.05
    return f"{low:,.10g}{unit}" if low == high else f"uniform between {low:,.10g}{unit} and {high:,.10g}{unit}"


_NUMBER_OR_RANGE = {
    "positive": [Interval(Real, 0, None, closed="neither"), Range(Real, 0, None, closed="neither", strict=True)],
    "fraction": [Interval(Real, 0, 1, closed="left"), Range(Real, 0, 1, closed="left", strict=True)],
}


@validate_params(
    {
        "n_households": [Interval(Integral, 1, None)],
        "n_affected": [Interval(Integral, 0, None)],
        "household_size": _NUMBER_OR_RANGE["positive"],
        "deaths_per_affected": [None, Interval(Real, 1, None), Range(Real, 1, None, strict=True)],
        "design_effect": [Interval(Real, 0, None, closed="neither")],
        "population": [None, *_NUMBER_OR_RANGE["positive"]],
        "recall_days": [None, *_RECALL_DAYS],
        "survivor_bias": [None, *_NUMBER_OR_RANGE["fraction"]],
        "missing_affected": [None, Interval(Real, 0, 1), Range(Real, 0, 1, strict=True)],
        "probability_sample": BOOL,
        "prior": [Options({"jeffreys", "uniform"})],
        "level": LEVEL,
        "n_draws": [Interval(Integral, 100, None)],
        "random_seed": SEED,
        "recall_start": [None, Date()],
        "recall_end": [None, Date()],
    },
)
def affected_households(
    *,
    n_households: int,
    n_affected: int,
    household_size,
    deaths_per_affected=None,
    design_effect: float = 1.0,
    population=None,
    recall_days: float | None = None,
    survivor_bias=None,
    missing_affected=None,
    probability_sample: bool = True,
    prior: str = "jeffreys",
    level: float = 0.95,
    n_draws: int = 4000,
    random_seed=None,
    recall_start=None,
    recall_end=None,
) -> AffectedHouseholds:
    """Posterior for deaths implied by "k of n households lost at least one member" (the report summary form).

    Model, drawn by exact Monte Carlo (no MCMC):

    * proportion of households affected ``p ~ Beta(a + y / deff, a + (n - y) / deff)``: a binomial likelihood
      with the effective sample size ``n / deff`` (Kish), ``a = 1/2`` (Jeffreys prior, default) or ``a = 1``
      (uniform);
    * deaths per affected household ``d >= 1``: the given number, a uniform range, or by default
      ``1 + Gamma(shape 2, scale 0.1)`` (mean 1.2, 95% between about 1.02 and 1.56): most affected households lost
      one member, some several;
    * mean household size ``s``: the given number or a uniform range;
    * with ``survivor_bias = m`` (a fraction, or a uniform range), a share ``m`` of the households that existed at
      the start are missing from the sample because everyone died or fled; a share ``q`` of them lost members,
      ``q ~ Uniform(p, 1)`` by default (at least as often as surviving households) or ``missing_affected``;
    * with ``population`` P (people at the start; a number or a uniform range), the implied deaths
      ``P / s * ((1 - m) p + m q) * d``; with ``recall_days`` T the rate per 10,000 per day
      ``((1 - m) p + m q) * d / s / T * 10,000`` (P cancels, so no population is needed for it).

    Parameters
    ----------
    n_households : int
        Households interviewed.
    n_affected : int
        Of them, households that lost at least one member in the recall period.
    household_size : float or (float, float)
        Mean household size at the start of the period (people), or a (low, high) range.
    deaths_per_affected : float or (float, float), optional
        Mean deaths per affected household (>= 1), or a range; None for the default prior above.
    design_effect : float
        Design effect of the proportion (cluster sampling; 1 for simple random sampling). Widens the posterior.
    population : float or (float, float), optional
        People at risk at the start of the recall period, or a (low, high) range.
    recall_days : float, optional
        Recall period in days, for a rate per 10,000 per day.
    survivor_bias : float or (float, float), optional
        Fraction (in [0, 1)) of households that no longer exist (everyone died or fled) and so could not be
        interviewed. Off (None) by default.
    missing_affected : float or (float, float), optional
        Share of the missing households that lost a member; default ``Uniform(p, 1)`` draw by draw.
    probability_sample : bool
        Whether the households were a probability sample of the population. If not, the interval describes the
        interviewed households only and a warning says so.
    prior : {"jeffreys", "uniform"}
        Beta(1/2, 1/2) or Beta(1, 1) prior on the proportion.
    level : float
        Credible-interval level.
    n_draws : int
        Monte Carlo draws (>= 100).
    random_seed : int, numpy Generator or None
        Same seed, same draws. Without one, a fresh seed is drawn and recorded in ``settings`` so the draws can be
        repeated.
    recall_start, recall_end : date-like, optional
        First and last day of the recall period (both counted), stored for the joint model; need ``recall_days``.

    Returns
    -------
    AffectedHouseholds
        ``estimate``/``interval`` (deaths if ``population`` was given, else the proportion), ``proportion``,
        ``deaths``, ``rate`` with intervals, ``draws``, ``table``, ``assumptions``, ``warnings``, ``summary()``.

    Warns
    -----
    IdentifiabilityWarning
        When ``probability_sample=False``: nothing in the data links the interviewed households to the population.

    References
    ----------
    .. [1] Kish L. (1965). *Survey Sampling*. Wiley, New York (effective sample size n / deff).
    .. [2] Brown L. D., Cai T. T., DasGupta A. (2001). Interval estimation for a binomial proportion. *Statistical
       Science* 16(2), 101-133 (the Jeffreys interval).
    .. [3] Checchi F., Roberts L. (2005). Interpreting and using mortality data in humanitarian emergencies: a
       primer for non-epidemiologists. *HPN Network Paper* 52. ODI, London (survivor bias: households that no
       longer exist are not surveyed).
    .. [4] Amnesty International (2017). *At Any Cost: The Civilian Catastrophe in West Mosul, Iraq*.
       MDE 14/6610/2017 (the "one family in three" summary form).

    Examples
    --------
    >>> from estimators.survey import affected_households
    >>> result = affected_households(n_households=151, n_affected=50, household_size=6, random_seed=1)
    >>> [round(100 * bound) for bound in result.proportion_interval]
    [26, 41]
    """
    iv = _affected_iv(n_households, n_affected, household_size, deaths_per_affected, design_effect, population,
                      recall_days, survivor_bias, missing_affected, probability_sample, prior, level, n_draws,
                      random_seed, recall_start, recall_end)
    rng, seed = iv["rng"]
    a = 0.5 if prior == "jeffreys" else 1.0
    effective_n = n_households / iv["design_effect"]
    effective_y = n_affected / iv["design_effect"]
    size = iv["n_draws"]

    draws = {"proportion_affected": rng.beta(a + effective_y, a + effective_n - effective_y, size)}
    if iv["deaths_per_affected"] is None:
        shape, scale = _DEFAULT_EXTRA_DEATHS
        draws["deaths_per_affected"] = 1.0 + rng.gamma(shape, scale, size)
        deaths_text = (f"Deaths per affected household: default prior 1 + Gamma(shape {shape:g}, scale {scale:g}) "
                       f"(mean {1 + shape * scale:g}); most affected households lost one member, some several. "
                       "Pass `deaths_per_affected` if the report gives it.")
    else:
        draws["deaths_per_affected"] = _draw_uniform(rng, iv["deaths_per_affected"], size)
        deaths_text = f"Deaths per affected household: {_describe(iv['deaths_per_affected'])} (given)."
    draws["household_size"] = _draw_uniform(rng, iv["household_size"], size)

    prior_text = "Jeffreys Beta(1/2, 1/2)" if a == 0.5 else "uniform Beta(1, 1)"
    assumptions = [
        f"Proportion affected: binomial likelihood with effective sample size n / deff = {n_households} / "
        f"{iv['design_effect']:g} = {effective_n:.1f}, {prior_text} prior.",
        deaths_text,
        f"Mean household size at the start of the period: {_describe(iv['household_size'])} people.",
    ]
    affected_share = draws["proportion_affected"]
    if iv["survivor_bias"] is None:
        assumptions.append(
            "No survivor bias: households that no longer exist (everyone died or fled) are assumed absent from the "
            "population too. Deaths are underestimated if such households had more deaths; pass `survivor_bias` "
            "(a fraction of households missing, or a range) to allow for them.")
    else:
        draws["missing_fraction"] = _draw_uniform(rng, iv["survivor_bias"], size)
        if iv["missing_affected"] is None:
            draws["missing_affected"] = rng.uniform(affected_share, 1.0)
            missing_text = "uniform between the surveyed households' proportion and 1, draw by draw"
        else:
            draws["missing_affected"] = _draw_uniform(rng, iv["missing_affected"], size)
            missing_text = _describe(iv["missing_affected"]) + " (given)"
        m = draws["missing_fraction"]
        affected_share = (1 - m) * affected_share + m * draws["missing_affected"]
        draws["affected_share_all"] = affected_share
        assumptions.append(
            f"Survivor bias: a share {_describe(iv['survivor_bias'])} of the households that existed at the start "
            f"could not be interviewed (everyone died or fled); the share of them that lost a member is "
            f"{missing_text}, with the same deaths per affected household (an underestimate for households "
            "that died entirely).")
    if iv["population"] is not None:
        draws["population"] = _draw_uniform(rng, iv["population"], size)
        draws["deaths"] = draws["population"] / draws["household_size"] * affected_share * draws["deaths_per_affected"]
        assumptions.append(f"Population at risk at the start: {_describe(iv['population'])} people; households = "
                           "population / mean household size.")
    if iv["recall_days"] is not None:
        draws["rate"] = (affected_share * draws["deaths_per_affected"] / draws["household_size"]
                         / iv["recall_days"] * PER_PERSONS)
        assumptions.append(f"Rate per 10,000 per day over the {iv['recall_days']:g}-day recall period, with the "
                           "population at the start as denominator (no correction for people leaving or arriving).")
    assumptions.append(
        "The households are treated as a probability sample of the population's households"
        if iv["probability_sample"] else
        "The households are NOT a probability sample: the interval reflects binomial sampling error only")
    assumptions[-1] += "; recall of deaths is complete and each death is reported by one household only."

    notes = []
    if not iv["probability_sample"]:
        notes.append("Not a probability sample: nothing in the data links the interviewed households to the "
                     "population, so the proportion (and the deaths) may be biased in either direction by an unknown "
                     "amount; treat the interval as a statement about the interviewed households, or enter the "
                     "figure in a joint model with an explicit bias factor.")
        _warn.warn(notes[-1], IdentifiabilityWarning)
    if iv["design_effect"] < 1:
        notes.append(f"Design effect {iv['design_effect']:g} is below 1: the interval is narrower than for a simple "
                     "random sample, rare for cluster surveys.")
        _warn.warn(notes[-1], SmallSampleWarning)

    for name in draws:
        draws[name] = np.asarray(draws[name], dtype=float)
        draws[name].flags.writeable = False
    tail = (1 - level) / 2
    table = pd.DataFrame(
        {name: {"median": float(np.median(v)), "mean": float(np.mean(v)),
                "lower": float(np.quantile(v, tail)), "upper": float(np.quantile(v, 1 - tail))}
         for name, v in draws.items()}
    ).T
    table.index.name = "quantity"

    def point(name):
        if name not in draws:
            return None, None
        row = table.loc[name]
        return float(row["median"]), (float(row["lower"]), float(row["upper"]))

    headline = "deaths" if "deaths" in draws else "proportion_affected"
    proportion, proportion_interval = point("proportion_affected")
    deaths, deaths_interval = point("deaths")
    rate, rate_interval = point("rate")
    estimate, interval = point(headline)
    return AffectedHouseholds(
        estimate=estimate,
        interval=interval,
        level=level,
        quantity=headline,
        proportion=proportion,
        proportion_interval=proportion_interval,
        deaths=deaths,
        deaths_interval=deaths_interval,
        rate=rate,
        rate_interval=rate_interval,
        draws=draws,
        table=table,
        n_households=n_households,
        n_affected=n_affected,
        design_effect=iv["design_effect"],
        effective_n=effective_n,
        prior=prior,
        assumptions=tuple(assumptions),
        warnings=tuple(notes),
        recall_days=iv["recall_days"],
        recall_start=iv["recall_start"],
        recall_end=iv["recall_end"],
        settings=dict(n_households=n_households, n_affected=n_affected, household_size=household_size,
                      deaths_per_affected=deaths_per_affected, design_effect=design_effect, population=population,
                      recall_days=recall_days, survivor_bias=survivor_bias, missing_affected=missing_affected,
                      probability_sample=probability_sample, prior=prior, level=level, n_draws=n_draws,
                      random_seed=seed),
    )


def _affected_iv(n_households, n_affected, household_size, deaths_per_affected, design_effect, population,
                 recall_days, survivor_bias, missing_affected, probability_sample, prior, level, n_draws,
                 random_seed, recall_start, recall_end) -> dict:
    n_households = check_positive_int("n_households", n_households)
    integral = isinstance(n_affected, numbers.Integral) and not isinstance(n_affected, bool)
    if not integral or not 0 <= n_affected <= n_households:
        raise ValueError(f"`n_affected` must be an integer between 0 and n_households ({n_households}); "
                         f"got {n_affected!r}.")
    check_level(level)
    check_choice("prior", prior, {"jeffreys", "uniform"})
    if not isinstance(probability_sample, bool):
        raise ValueError(f"`probability_sample` must be True or False; got {probability_sample!r}.")
    out = dict(
        rng=seeded_generator(random_seed),
        n_draws=check_positive_int("n_draws", n_draws, minimum=100),
        design_effect=check_positive("design_effect", design_effect),
        household_size=_check_range_or_number("household_size", household_size, minimum=0, strict=True),
        deaths_per_affected=None if deaths_per_affected is None else _check_range_or_number(
            "deaths_per_affected", deaths_per_affected, minimum=1, strict=False),
        population=None if population is None else _check_range_or_number(
            "population", population, minimum=0, strict=True),
        recall_days=None if recall_days is None else check_positive("recall_days", recall_days),
        survivor_bias=None if survivor_bias is None else _check_range_or_number(
            "survivor_bias", survivor_bias, minimum=0, strict=False, maximum=1, upper_strict=True),
        missing_affected=None if missing_affected is None else _check_range_or_number(
            "missing_affected", missing_affected, minimum=0, strict=False, maximum=1),
        probability_sample=probability_sample,
    )
    if missing_affected is not None and survivor_bias is None:
        raise ValueError("`missing_affected` describes the households missing through survivor bias; give "
                         "`survivor_bias` too (e.g. survivor_bias=(0.02, 0.10)).")
    if (recall_start is not None or recall_end is not None) and recall_days is None:
        raise ValueError("`recall_start`/`recall_end` need `recall_days`.")
    out["recall_start"], out["recall_end"] = (
        _recall_window(out["recall_days"], recall_start, recall_end) if recall_days is not None else (None, None))
    return out
