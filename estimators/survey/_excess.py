"""Excess mortality against a baseline, beside the humanitarian thresholds (:func:`excess_mortality`)."""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .._summary import Summary
from .._validation import LEVEL, SEED, InstanceOf, Interval, Options, Real, check_level, validate_params
from ..exceptions import DataError
from ..results import PER_PERSONS, _population_spread, seeded_generator
from ._rate import SurveyRate

# Sphere Handbook (2018), health standards: crude death rate 1/10,000/day (alert, about double a typical
# sub-Saharan baseline) and 2 (emergency out of control); under-five death rate 2 and 4.
THRESHOLDS = {"crude": (1.0, 2.0), "under-five": (2.0, 4.0)}
_N_DRAWS = 20_000


@dataclass(frozen=True, kw_only=True)
class ExcessMortality:
    """Excess death rate (and deaths) of a survey over a baseline, with the humanitarian thresholds.

    Attributes
    ----------
    estimate : float
        Excess deaths per 10,000 per day of the first row (all-cause): rate minus baseline.
    interval : (float, float)
        Wald interval of ``estimate`` (variances of the two independent estimates added).
    table : pandas.DataFrame
        One row per rate (group): ``rate``, ``rate_se``, ``baseline``, ``baseline_se``, ``excess_rate``,
        ``excess_se``, ``excess_lower``, ``excess_upper``, ``ratio`` with its log-normal interval
        (``ratio_lower``, ``ratio_upper``), ``excess_deaths`` with ``deaths_lower``/``deaths_upper`` (with a
        population and days), and the thresholds: ``alert``, ``emergency`` (Sphere), ``double_baseline``, and
        ``status`` in words.
    level : float
    population, days : object
        As given (days defaults to the survey's recall period).
    assumptions, warnings : tuple of str
    settings : mapping
        ``random_seed`` of the Monte Carlo for excess deaths under an uncertain population.
    """

    estimate: float
    interval: tuple[float, float]
    table: pd.DataFrame
    level: float
    population: object = None
    days: float | None = None
    excess_deaths: float | None = None
    excess_deaths_interval: tuple[float, float] | None = None
    assumptions: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    settings: Mapping = field(default_factory=dict)
    method: str = "excess mortality (difference of independent estimates)"
    interval_kind: str = "Wald"

    def to_frame(self) -> pd.DataFrame:
        frame = self.table.copy()
        frame["level"] = self.level
        return frame

    def summary(self) -> Summary:
        facts = [("method", self.method), ("interval", f"{self.level:.0%} {self.interval_kind}")]
        if self.days is not None and self.population is not None:
            facts += [("population", _describe_population(self.population)), ("days", f"{self.days:g}")]
        columns = ["rate", "baseline", "excess_rate", "excess_lower", "excess_upper", "ratio", "ratio_lower",
                   "ratio_upper"]
        if "excess_deaths" in self.table:
            columns += ["excess_deaths", "deaths_lower", "deaths_upper"]
        columns += ["alert", "emergency", "double_baseline", "status"]
        table = self.table[columns].rename(columns={"rate": "per 10,000/day", "excess_rate": "excess"})
        notes = (
            "Thresholds (Sphere 2018): crude death rate 1 (alert) and 2 (emergency) per 10,000 per day; under-five "
            "death rate 2 and 4; a doubling of the baseline marks an emergency where the baseline is known.",
            *self.assumptions, *self.warnings,
        )
        return Summary(title="Household survey: excess mortality", facts=facts, table=table, notes=notes)

    def __str__(self):
        return str(self.summary())

    def __repr__(self) -> str:
        return (f"<ExcessMortality: {self.estimate:.3g} excess deaths per 10,000 per day, {self.level:.0%} "
                f"[{self.interval[0]:.3g}, {self.interval[1]:.3g}]>")

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()


def _describe_population(population) -> str:
    if isinstance(population, numbers.Real):
        return f"{population:,.0f}"
    values = np.asarray(population, dtype=float)
    if len(values) == 2:
        return f"{values[0]:,.0f} to {values[1]:,.0f} (95% range, log-normal)"
    return f"{len(values):,} draws (median {np.median(values):,.0f})"


def _rate_spec(value, name: str) -> dict:
    """{label: (rate, se)} from a SurveyRate, a number, (rate, (low, high)), (rate, se) or a mapping of those."""
    z = stats.norm.ppf(0.975)
    if isinstance(value, SurveyRate):
        return {label: (float(row["rate"]), float(row["std_error"])) for label, row in value.table.iterrows()}
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if not np.isfinite(value) or value < 0:
            raise DataError(f"`{name}` must be a rate >= 0 per 10,000 per day; got {value!r}.")
        return {None: (float(value), 0.0)}
    if isinstance(value, Mapping):
        if {"rate"} <= set(value):
            rate = value["rate"]
            if "std_error" in value:
                return _rate_spec((rate, float(value["std_error"])), name)
            if "interval" in value:
                return _rate_spec((rate, tuple(value["interval"])), name)
            return _rate_spec(rate, name)
        out = {}
        for label, item in value.items():
            (spec,) = _rate_spec(item, f"{name}[{label!r}]").values()
            out[label] = spec
        return out
    if isinstance(value, (tuple, list)) and len(value) == 2:
        rate, spread = value
        (rate, _), = _rate_spec(rate, name).values()
        if isinstance(spread, (tuple, list)) and len(spread) == 2:
            low, high = map(float, spread)
            if not (np.isfinite(low) and np.isfinite(high) and low <= rate <= high):
                raise DataError(f"`{name}` interval must be finite and contain the rate; got {value!r}.")
            return {None: (rate, (high - low) / (2 * z))}
        if isinstance(spread, numbers.Real) and np.isfinite(spread) and spread >= 0:
            return {None: (rate, float(spread))}
    raise DataError(f"`{name}` must be a SurveyRate, a rate (number), (rate, (low, high)) with a 95% interval, "
                     f"(rate, std_error), {{'rate': ..., 'std_error': ...}} or a dict of those by group; got "
                     f"{value!r}.")


def _status(rate, lower, alert, emergency, double):
    parts = []
    if rate >= emergency:
        parts.append("emergency" + (" (lower bound too)" if lower >= emergency else ""))
    elif rate >= alert:
        parts.append("alert" + (" (lower bound too)" if lower >= alert else ""))
    else:
        parts.append("below alert")
    if double is not None and np.isfinite(double) and double > 0 and rate >= double:
        parts.append("at least double the baseline")
    return "; ".join(parts)


@validate_params(
    {
        "population": [None, Interval(Real, 0, None, closed="neither", description="a number > 0"),
                       InstanceOf((tuple, list, np.ndarray), "a (low, high) range or draws")],
        "days": [None, Interval(Real, 0, None, closed="neither", description="a number of days > 0")],
        "level": LEVEL,
        "ratio_interval": [Options({"log-normal", "wald"})],
        "random_seed": SEED,
    },
    exempt=("rate", "baseline"),
)
def excess_mortality(rate, baseline, *, population=None, days: float | None = None, level: float = 0.95,
                     ratio_interval: str = "log-normal", random_seed=None) -> ExcessMortality:
    """Excess death rate over a baseline, excess deaths, and the humanitarian thresholds beside the rate.

    ``excess = rate - baseline`` per 10,000 per day for every row of the survey's table (all-cause, under-five,
    causes, groups). The two are independent estimates, so their variances add:
    ``se = sqrt(se_rate^2 + se_baseline^2)``, Wald interval. The ratio ``rate / baseline`` has a log-normal
    interval (delta method on the log: ``sqrt((se_r/r)^2 + (se_b/b)^2)``). Excess deaths are
    ``excess / 10,000 * population * days``; an uncertain population (a (low, high) 95% range, read as a
    log-normal by :func:`estimators.results.lognormal_from_range`, or draws) is carried by Monte Carlo.

    Parameters
    ----------
    rate : SurveyRate or rate specification
        The crisis-period rate: a :func:`mortality_rate` result (every row of its table) or a rate as below.
    baseline : rate specification
        The pre-crisis or projected rate, per 10,000 per day: a number (known exactly), ``(rate, (low, high))``
        (a 95% interval), ``(rate, std_error)``, ``{"rate": r, "std_error": s}``, a pre-conflict
        :class:`SurveyRate` (rows matched by label), or a dict ``{row label: specification}`` (e.g.
        ``{"deaths": 0.5, "deaths_u5": (1.0, (0.8, 1.2))}``). A single specification applies to every row.
    population : float, (low, high) or array, optional
        People at risk, for excess deaths (all ages). A group's (e.g. the under-fives') is this times the
        group's share of the survey's person-time.
    days : float, optional
        Days over which to count excess deaths; default the survey's recall period.
    level : float
        Interval level.
    ratio_interval : {"log-normal", "wald"}
        Interval of the rate ratio: log-normal (default; positive) or Wald on the ratio.
    random_seed : int, Generator or None
        Seed of the Monte Carlo for excess deaths under an uncertain population (recorded in ``settings``).

    Returns
    -------
    ExcessMortality

    Notes
    -----
    Assumptions: the baseline and the survey are independent estimates of the same population's rate; the
    baseline applies over the recall period (a projection, not the pre-crisis rate, where trends matter); the
    survey's population is the population at risk. Thresholds (Sphere 2018): crude death rate 1 per 10,000 per
    day is the alert level and 2 an emergency; under-five death rate 2 and 4; where the baseline is known, a
    doubling of it marks an emergency (Checchi & Roberts 2005).

    References
    ----------
    .. [1] Sphere Association (2018). *The Sphere Handbook: Humanitarian Charter and Minimum Standards in
       Humanitarian Response*, 4th ed., Geneva (health standards: mortality thresholds).
    .. [2] Checchi F., Roberts L. (2005). Interpreting and using mortality data in humanitarian emergencies.
       *HPN Network Paper* 52, ODI, London (excess mortality, baselines).
    .. [3] SMART (2017). *SMART Methodology Manual* 2.0.

    Examples
    --------
    >>> from estimators.survey import excess_mortality, load_smart_example, mortality_rate
    >>> survey = mortality_rate(load_smart_example(), recall_days=90)
    >>> excess = excess_mortality(survey, (0.5, (0.4, 0.6)), population=200_000)
    >>> round(excess.estimate, 3), round(excess.excess_deaths)
    (0.791, 1423)
    >>> excess.table.loc["deaths", "status"]
    'alert; at least double the baseline'
    """
    level = check_level(level)
    rates = _rate_spec(rate, "rate")
    if None in rates:
        rates = {"deaths": rates[None]}
    base = _rate_spec(baseline, "baseline")
    if days is None and isinstance(rate, SurveyRate):
        days = rate.recall_days
    if population is not None and days is None:
        raise ValueError("Excess deaths need `days` (the rate is not a survey result with a recall period).")
    z = stats.norm.ppf(0.5 + level / 2)
    warnings: list[str] = []
    spread = None
    if population is not None:
        median, low_log, high_log, draws, lognormal = _population_spread(population, level)
        generator, seed = seeded_generator(random_seed)
        if draws is not None:
            population_draws = generator.choice(draws, _N_DRAWS)
        elif lognormal is not None:
            population_draws = generator.lognormal(np.log(lognormal[0]), lognormal[1], _N_DRAWS)
        else:
            population_draws = None
        spread = (median, population_draws, generator, seed)
    # a group's population: the population times the group's share of the sample's person-time
    shares = {}
    if isinstance(rate, SurveyRate):
        total = float(rate.table["person_days"].iloc[0])
        shares = {label: float(row["person_days"]) / total for label, row in rate.table.iterrows()}
    rows = {}
    unmatched: list = []
    for label, (value, se) in rates.items():
        if None in base:
            b, b_se = base[None]
        elif label in base:
            b, b_se = base[label]
        else:
            unmatched.append(label)
            continue
        excess = value - b
        excess_se = float(np.hypot(se, b_se))
        row = dict(rate=value, rate_se=se, baseline=b, baseline_se=b_se, excess_rate=excess, excess_se=excess_se,
                   excess_lower=excess - z * excess_se, excess_upper=excess + z * excess_se)
        if b > 0 and value > 0:
            ratio = value / b
            if ratio_interval == "log-normal":
                log_se = np.hypot(se / value, b_se / b)
                row.update(ratio=ratio, ratio_lower=ratio * np.exp(-z * log_se), ratio_upper=ratio * np.exp(z * log_se))
            else:
                ratio_se = ratio * np.hypot(se / value, b_se / b)
                row.update(ratio=ratio, ratio_lower=ratio - z * ratio_se, ratio_upper=ratio + z * ratio_se)
        else:
            row.update(ratio=np.nan, ratio_lower=np.nan, ratio_upper=np.nan)
        if spread is not None:
            median, population_draws, generator, _ = spread
            share = shares.get(label, 1.0)
            scale = median * share * days / PER_PERSONS
            row["excess_deaths"] = excess * scale
            if population_draws is None:
                row["deaths_lower"], row["deaths_upper"] = row["excess_lower"] * scale, row["excess_upper"] * scale
            else:
                draws = generator.normal(excess, excess_se, _N_DRAWS) * population_draws * share * days / PER_PERSONS
                tail = (1 - level) / 2
                row["deaths_lower"], row["deaths_upper"] = (float(q) for q in np.quantile(draws, [tail, 1 - tail]))
        kind = "under-five" if "u5" in str(label) or "age 0-5" in str(label) else "crude"
        alert, emergency = THRESHOLDS[kind]
        row.update(alert=alert, emergency=emergency, double_baseline=2 * b,
                   status=_status(value, value - z * se, alert, emergency, 2 * b if b > 0 else None))
        rows[label] = row
    if unmatched:
        warnings.append(f"No baseline for {', '.join(map(repr, unmatched))}: left out.")
    if not rows:
        raise DataError(f"No row of `rate` ({list(rates)!r}) has a baseline (given for {list(base)!r}).")
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "rate"
    head = table.iloc[0]
    assumptions = (
        "Survey and baseline are independent estimates: variances added.",
        "The baseline holds over the whole recall period.",
        *(["A group's population is the population times the group's share of the sample's person-time "
           "(unweighted)."] if spread is not None and len(rows) > 1 else []),
    )
    return ExcessMortality(
        estimate=float(head["excess_rate"]),
        interval=(float(head["excess_lower"]), float(head["excess_upper"])),
        table=table,
        level=level,
        population=population,
        days=None if days is None else float(days),
        excess_deaths=None if spread is None else float(head["excess_deaths"]),
        excess_deaths_interval=None if spread is None else (float(head["deaths_lower"]), float(head["deaths_upper"])),
        assumptions=assumptions,
        warnings=tuple(warnings),
        settings={"random_seed": None if spread is None else spread[3], "ratio_interval": ratio_interval},
    )
