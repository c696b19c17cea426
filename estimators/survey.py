"""Household mortality surveys: the SMART/ENA crude death rate and the "one family in three" summary form.

Two estimators, usable alone and as inputs to the joint daily-rate model (:func:`estimators.daily_rates`):

* :func:`mortality_rate`: rows per household (or per person) of a cluster survey with a recall period; person-time
  with the SMART half-period corrections and the crude death rate per 10,000 per day as a design-based ratio
  estimator (Taylor linearisation over clusters, optional strata and weights), with the design effect.
* :func:`affected_households`: what reports often give instead of a data set (households interviewed, households
  that lost at least one member, mean household size) turned into a posterior for deaths in a population, every
  assumption stated in the result.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import pandas as pd
from scipy import stats

from . import _warn
from ._validation import (
    BOOL,
    LEVEL,
    SEED,
    Date,
    InstanceOf,
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
from .exceptions import DataError, IdentifiabilityWarning, SmallSampleWarning
from .results import PER_PERSONS, Summary, format_label, seeded_generator

__all__ = ["SurveyRate", "AffectedHouseholds", "mortality_rate", "affected_households", "person_days",
           "load_smart_example"]

# Fewer PSU degrees of freedom than this and the normal quantile of the Wald interval is visibly too small.
_MIN_PSU_DF = 10


@validate_params({})
def load_smart_example() -> pd.DataFrame:
    """The shipped simulated SMART survey: 30 clusters x 20 households, 90-day recall.

    Simulated, not collected: an example in the layout of the SMART household mortality questionnaire [1]_, for
    :func:`mortality_rate`.

    Returns
    -------
    pandas.DataFrame
        One row per household; columns cluster, household, members_now, deaths, violent_deaths, joined, left,
        births.

    References
    ----------
    .. [1] SMART (Standardized Monitoring and Assessment of Relief and Transitions), *Measuring Mortality,
       Nutritional Status, and Food Security in Crisis Situations: SMART Methodology*, version 1, April 2006.

    Examples
    --------
    >>> from estimators.survey import load_smart_example
    >>> load_smart_example().shape
    (600, 8)
    """
    with resources.as_file(resources.files("estimators") / "data" / "smart_survey_example.csv") as path:
        return pd.read_csv(path)


# --------------------------------------------------------------------------------------------------------------
# the math, on arrays


# A recall period shorter than a day is no survey recall (1e-300 days gave rates of 1e302 per 10,000 per day).
_RECALL_DAYS = [Interval(Real, 1, None, description="a finite number of days >= 1")]
# Sampling weights are inverse inclusion probabilities; beyond these bounds the weighted sums (and the square of
# their total in the design effect) lose all precision or overflow, giving nan or 0 without a warning.
_WEIGHT_BOUNDS = (1e-9, 1e12)
_COLUMN = [InstanceOf(str, "a column name (str)")]
_OPTIONAL_COLUMN = [None, *_COLUMN]


@validate_params({"recall_days": _RECALL_DAYS}, exempt=("members", "deaths", "joined", "left", "births"))
def person_days(members, deaths, joined, left, births, recall_days: float) -> np.ndarray:
    """Person-days at risk per household in the SMART/ENA convention.

    ``(members + (deaths + left) / 2 - (joined + births) / 2) * recall_days``: people present at the interview
    count for the whole recall period; those who died or left, and those who joined or were born, are assumed to
    have done so at its midpoint on average [1]_.

    Parameters
    ----------
    members, deaths, joined, left, births : array_like
        Per household: members at the interview, deaths, people who joined, left and were born in the recall
        period.
    recall_days : float
        Length of the recall period in days.

    Returns
    -------
    ndarray
        Person-days at risk of each household.

    References
    ----------
    .. [1] SMART (Standardized Monitoring and Assessment of Relief and Transitions), *Measuring Mortality,
       Nutritional Status, and Food Security in Crisis Situations: SMART Methodology*, version 1, April 2006,
       chapter on mortality (person-time with half-period corrections).

    Examples
    --------
    A household of 5 at the interview that lost one member and had a birth, over 90 days:

    >>> from estimators.survey import person_days
    >>> person_days([5], [1], [0], [0], [1], recall_days=90).tolist()
    [450.0]
    """
    members, deaths, joined, left, births = (np.asarray(v, dtype=float) for v in (members, deaths, joined, left,
                                                                                    births))
    return (members + (deaths + left) / 2 - (joined + births) / 2) * float(recall_days)


def _psu_variance(scores: np.ndarray, psu: np.ndarray, stratum: np.ndarray) -> float:
    """With-replacement variance of a total from PSU totals of ``scores``, strata independent.

    ``sum_h n_h / (n_h - 1) * sum_c (z_hc - mean_h z)^2``: the first-stage "ultimate cluster" estimator
    (Wolter 2007, ch. 6), what R's ``svyrecvar`` gives for a design without finite population correction.
    """
    frame = pd.DataFrame({"z": scores, "psu": psu, "stratum": stratum})
    totals = frame.groupby(["stratum", "psu"], sort=False)["z"].sum()
    by_stratum = totals.groupby(level="stratum", sort=False)
    n_h = by_stratum.transform("size").to_numpy(dtype=float)
    centred = totals.to_numpy() - by_stratum.transform("mean").to_numpy()
    return float(np.sum(n_h / (n_h - 1) * centred**2))


def _ratio_linearised(y: np.ndarray, x: np.ndarray, w: np.ndarray, psu: np.ndarray, stratum: np.ndarray):
    """Ratio sum(w y) / sum(w x), its linearised variance and its design effect.

    The influence score of unit i is ``(y_i - R x_i) / sum(w x)``; the variance is that of the weighted total
    of the scores over PSUs. The design effect divides it by the variance the same total would have under
    simple random sampling of the same number of units with replacement: the Kish definition used by R's
    ``svyratio(..., deff="replace")``, ``svyvar(score) * sum(w)^2 / n`` with the n - 1 divisor in ``svyvar``.
    """
    ratio = np.sum(w * y) / np.sum(w * x)
    score = (y - ratio * x) / np.sum(w * x)
    variance = _psu_variance(w * score, psu, stratum)
    n = len(y)
    total_weight = np.sum(w)
    mean_score = np.sum(w * score) / total_weight
    srs_unit_variance = np.sum(w * (score - mean_score) ** 2) / total_weight * n / (n - 1)
    srs_variance = srs_unit_variance * total_weight**2 / n
    design_effect = variance / srs_variance if srs_variance > 0 else float("nan")
    return float(ratio), float(variance), float(design_effect)


def _wald(estimate: float, std_error: float, level: float) -> tuple[float, float]:
    z = stats.norm.ppf(0.5 + level / 2)
    return estimate - z * std_error, estimate + z * std_error


# --------------------------------------------------------------------------------------------------------------
# mortality_rate


@dataclass(frozen=True, kw_only=True)
class SurveyRate:
    """Crude death rate from a household mortality survey (deaths per 10,000 people per day).

    Attributes
    ----------
    rate : float
        Deaths per 10,000 per day (all the deaths in the ``deaths`` column); weighted if the survey has weights.
    interval : (float, float)
        Wald interval at ``level`` (normal quantile, as R's ``confint(svyratio(...))``); a negative lower bound is
        set to 0 and said in ``warnings``.
    std_error : float
        Linearised standard error of ``rate``, per 10,000 per day.
    design_effect : float
        Variance of ``rate`` over the variance under simple random sampling of the same number of households
        with replacement (Kish's deff; R ``svyratio(..., deff="replace")``).
    deaths : int
        Deaths reported in the sample (unweighted count). Stable attribute: read by :func:`estimators.daily_rates`.
    person_days : float
        Person-days at risk in the sample (unweighted, SMART half-period corrections). Stable attribute.
    n_households, n_clusters, n_strata : int
        Households (rows after summing persons into households), clusters (PSUs) and strata (1 if none).
    recall_days : float
        Length of the recall period in days. Stable attribute.
    recall_start, recall_end : pandas.Timestamp or None
        First and last day of the recall period (both counted), when given, so that a joint model can intersect
        the recall window with its study days. ``recall_days == (recall_end - recall_start).days + 1``.
    level : float
        Level of every interval in the result.
    method, interval_kind : str
        What was computed.
    cause : str or None
        The cause-specific death column (e.g. ``"violent_deaths"``), whose rate is the second row of ``table``.
    table : pandas.DataFrame
        One row per numerator (the deaths column, then the cause column): ``rate`` (per 10,000 per day),
        ``std_error``, ``lower``, ``upper``, ``design_effect``, ``deaths``, ``person_days``.
    clusters : pandas.DataFrame
        Per cluster: stratum, households, deaths (and cause deaths), person-days, sum of weights. The joint model
        uses it for cluster overdispersion.
    weighted : bool
        Whether sampling weights were used.
    warnings : tuple of str
        What the reader must know (few clusters, no deaths, truncated bounds, single-household clusters).
    """

    rate: float
    interval: tuple[float, float]
    std_error: float
    design_effect: float
    deaths: int
    person_days: float
    n_households: int
    n_clusters: int
    n_strata: int
    recall_days: float
    level: float
    method: str = "SMART crude death rate (ratio estimator, Taylor linearisation over clusters)"
    interval_kind: str = "Wald"
    cause: str | None = None
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    clusters: pd.DataFrame = field(default_factory=pd.DataFrame)
    weighted: bool = False
    warnings: tuple[str, ...] = ()
    recall_start: pd.Timestamp | None = None
    recall_end: pd.Timestamp | None = None

    @property
    def estimate(self) -> float:
        """Alias of ``rate`` so the result reads like every other estimate."""
        return self.rate

    def confidence_interval(self, level: float = 0.95, numerator: str | None = None) -> tuple[float, float]:
        """Wald interval at another level, from the stored standard error (no refit).

        ``numerator`` selects a row of ``table`` (default: the all-cause deaths row). Unlike ``interval``, the
        bounds are not truncated at 0.
        """
        level = check_level(level)
        row = self.table.iloc[0] if numerator is None else self._row(numerator)
        return _wald(float(row["rate"]), float(row["std_error"]), level)

    def _row(self, numerator: str) -> pd.Series:
        if numerator not in self.table.index:
            raise ValueError(f"`numerator` must be one of {list(self.table.index)!r}; got {numerator!r}.")
        return self.table.loc[numerator]

    @property
    def effective_deaths(self) -> float:
        """Deaths a Poisson count would need to carry this rate's relative precision: ``(rate / std_error)^2``.

        With ``effective_person_days`` it gives a joint model a Poisson likelihood with the survey's rate and its
        design-based variance. Without deaths (standard error 0) it is 0.
        """
        return float((self.rate / self.std_error) ** 2) if self.std_error > 0 else 0.0

    @property
    def effective_person_days(self) -> float:
        """``effective_deaths / rate`` in person-days (``person_days / design_effect`` when there are no deaths)."""
        if self.std_error > 0 and self.rate > 0:
            return self.effective_deaths / self.rate * PER_PERSONS
        deff = self.design_effect if np.isfinite(self.design_effect) and self.design_effect > 0 else 1.0
        return self.person_days / deff

    def to_frame(self) -> pd.DataFrame:
        """The rates table (one row per numerator) with ``level``."""
        frame = self.table.copy()
        frame["level"] = self.level
        return frame

    def summary(self) -> Summary:
        facts = [
            ("method", self.method),
            ("households", self.n_households),
            ("clusters", self.n_clusters),
        ]
        if self.n_strata > 1:
            facts.append(("strata", self.n_strata))
        facts += [
            ("weighted", "yes" if self.weighted else "no"),
            ("recall period (days)", f"{self.recall_days:g}"),
        ]
        if self.recall_start is not None:
            facts.append(("recall window", f"{format_label(self.recall_start)} to {format_label(self.recall_end)}"))
        facts += [
            ("deaths in sample", self.deaths),
            ("person-days", self.person_days),
            ("interval", f"{self.level:.0%} {self.interval_kind}"),
        ]
        table = self.table.rename(columns={"rate": "per 10,000/day", "std_error": "std. error",
                                           "design_effect": "deff"})
        notes = (
            "Person-days = (members now + (deaths + left)/2 - (joined + births)/2) x recall days (SMART/ENA).",
            *self.warnings,
        )
        return Summary(title="Household survey: crude death rate", facts=facts, table=table, notes=notes)

    def __str__(self):
        return str(self.summary())

    def __repr__(self) -> str:
        # one line: the cluster table stays out of it (print() or summary() shows the full summary)
        return (f"<SurveyRate: {self.rate:.4g} deaths per 10,000 per day, {self.level:.0%} "
                f"[{self.interval[0]:.4g}, {self.interval[1]:.4g}], {self.deaths:,} deaths, {self.n_households:,} "
                f"households in {self.n_clusters:,} clusters, {self.recall_days:g}-day recall>")

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()


def _frame_problem(column: str, what: str, mask: np.ndarray, index: pd.Index) -> DataError:
    rows = list(index[mask][:5])
    more = "" if mask.sum() <= 5 else f" and {int(mask.sum()) - 5} more"
    return DataError(f"Column {column!r} has {what} in rows {rows}{more}; {_FIXES.get(what, 'correct these rows')}.")


_FIXES = {
    "missing values (NaN)": "drop or impute these households before estimating",
    "negative values": "counts of people cannot be negative",
    "non-integer values": "counts of people must be whole numbers (aggregate persons to households first)",
    "values that are not numbers": "convert the column to numbers",
}


def _count_column(df: pd.DataFrame, column: str) -> np.ndarray:
    raw = df[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    not_number = np.isnan(values) & raw.notna().to_numpy()
    if not_number.any():
        raise _frame_problem(column, "values that are not numbers", not_number, df.index)
    if np.isnan(values).any():
        raise _frame_problem(column, "missing values (NaN)", np.isnan(values), df.index)
    if np.isinf(values).any():
        raise _frame_problem(column, "infinite values", np.isinf(values), df.index)
    if (values < 0).any():
        raise _frame_problem(column, "negative values", values < 0, df.index)
    if (values != np.round(values)).any():
        raise _frame_problem(column, "non-integer values", values != np.round(values), df.index)
    return values


def _check_column_name(name: str, value, optional: bool) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        allowed = "a column name (str)" + (" or None" if optional else "")
        raise ValueError(f"`{name}` must be {allowed}; got {value!r}.")
    return value


def _span(start, end) -> int:
    """Days from ``start`` to ``end``, both counted (dates or study-day numbers)."""
    return int(end - start) + 1 if isinstance(start, numbers.Integral) else (end - start).days + 1


def _recall_window(recall_days: float | None, recall_start, recall_end):
    """First and last day of the recall period: dates (Timestamps at midnight), or study-day numbers (ints).

    Integers are study-day numbers (as in :class:`estimators.SurveyObservation`): pandas would read them as
    nanoseconds since 1970. With ``recall_days`` None, both ends must be given and set it.
    """
    if recall_start is None and recall_end is None:
        return None, None
    given = [value for value in (recall_start, recall_end) if value is not None]
    numbers_given = [isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) for v in given]
    if any(numbers_given):
        if not all(numbers_given):
            raise ValueError(f"`recall_start` ({recall_start!r}) and `recall_end` ({recall_end!r}) mix a study-day "
                             "number with a date; give both as dates or both as study-day numbers.")
        start = None if recall_start is None else int(recall_start)
        end = None if recall_end is None else int(recall_end)
        if recall_days is None:
            recall_days = end - start + 1
        if recall_days != round(recall_days):
            raise ValueError(f"With recall days, `recall_days` must be a whole number of days; got {recall_days!r}.")
        start = end - int(recall_days) + 1 if start is None else start
        end = start + int(recall_days) - 1 if end is None else end
        if end < start or end - start + 1 != int(recall_days):
            raise ValueError(f"`recall_start` day {start} to `recall_end` day {end} is {end - start + 1} days (both "
                             f"counted), but `recall_days` is {recall_days:g}; make them agree.")
        return start, end
    try:
        start = None if recall_start is None else pd.Timestamp(recall_start).normalize()
        end = None if recall_end is None else pd.Timestamp(recall_end).normalize()
    except (TypeError, ValueError) as error:
        raise ValueError(f"`recall_start`/`recall_end` must be dates (e.g. '2017-02-19'); {error}.") from None
    if recall_days is None:
        if end < start:
            raise ValueError(f"`recall_end` {end.date()} is before `recall_start` {start.date()}.")
        return start, end
    if recall_days != round(recall_days):
        raise ValueError(f"With recall dates, `recall_days` must be a whole number of days; got {recall_days!r}.")
    span = pd.Timedelta(days=int(recall_days) - 1)
    start = end - span if start is None else start
    end = start + span if end is None else end
    if (end - start).days + 1 != int(recall_days):
        raise ValueError(
            f"`recall_start` {start.date()} to `recall_end` {end.date()} is {(end - start).days + 1} days (both "
            f"counted), but `recall_days` is {recall_days:g}; make them agree or give only one of the dates."
        )
    return start, end


@validate_params(
    {
        "recall_days": [None, *_RECALL_DAYS],  # None: from recall_start and recall_end
        "cluster": _COLUMN,
        "stratum": _OPTIONAL_COLUMN,
        "weight": _OPTIONAL_COLUMN,
        "members": _COLUMN,
        "deaths": _COLUMN,
        "joined": _OPTIONAL_COLUMN,
        "left": _OPTIONAL_COLUMN,
        "births": _OPTIONAL_COLUMN,
        "cause": _OPTIONAL_COLUMN,
        "household": _OPTIONAL_COLUMN,
        "level": LEVEL,
        # an integer is a study-day number (as in daily_rates' Tally and SurveyObservation), never a date
        "recall_start": [None, Date(), Interval(Integral, description="a study-day number")],
        "recall_end": [None, Date(), Interval(Integral, description="a study-day number")],
    },
    exempt=("df",),  # the data: its type and columns are checked with messages about them
)
def mortality_rate(
    df: pd.DataFrame,
    *,
    recall_days: float | None = None,
    cluster: str = "cluster",
    stratum: str | None = None,
    weight: str | None = None,
    members: str = "members_now",
    deaths: str = "deaths",
    joined: str | None = "joined",
    left: str | None = "left",
    births: str | None = "births",
    cause: str | None = None,
    household: str | None = None,
    level: float = 0.95,
    recall_start=None,
    recall_end=None,
) -> SurveyRate:
    """Crude death rate per 10,000 per day from a cluster household survey (SMART/ENA convention).

    Each household contributes person-days
    ``(members + (deaths + left)/2 - (joined + births)/2) * recall_days``: people who joined, were born, left or
    died during the recall period are counted for half of it. The crude death rate is the ratio estimator
    ``R = sum(w * deaths) / sum(w * person_days) * 10,000``. Its variance is the Taylor linearisation of the
    ratio over primary sampling units (clusters), with-replacement within each stratum and no finite
    population correction: the estimator of R's survey package,
    ``svyratio(~deaths, ~person_days, svydesign(ids=~cluster, strata=~stratum, weights=~weight))``. The
    interval is Wald (normal quantile). The design effect compares that variance with simple random sampling
    of the same number of households with replacement.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per household (or per person with ``household`` given). Not modified.
    recall_days : float, optional
        Length of the recall period in days; by default from ``recall_start`` and ``recall_end`` (both counted).
    cluster : str
        Column with the cluster (primary sampling unit) id. Clusters are identified within strata (as R's
        ``svydesign(..., nest=TRUE)``), so cluster numbers may restart in each stratum.
    stratum : str, optional
        Column with the stratum id; strata are sampled independently.
    weight : str, optional
        Column with sampling weights (inverse inclusion probabilities, > 0). Without it every household weighs
        the same (a self-weighting design, as SMART's PPS cluster selection intends).
    members, deaths, joined, left, births : str
        Columns with household members present at the interview and, during the recall period, deaths, people
        who joined, who left and births. ``joined``, ``left`` or ``births`` may be None when the survey did not
        record them (taken as 0, said in the warnings).
    cause : str, optional
        Column with cause-specific deaths (e.g. ``"violent_deaths"``), a subset of ``deaths``; its rate, over
        the same person-days, is the second row of ``table``.
    household : str, optional
        Column with a household id, for data with one row per person: rows are summed within (stratum,
        cluster, household) first. Weights must then be constant within a household.
    level : float
        Interval level.
    recall_start, recall_end : date-like or int, optional
        First and last day of the recall period (both counted); give one or both. Integers are study-day numbers
        (as in the joint daily-rate model), never dates. Stored on the result for the joint daily-rate model.

    Returns
    -------
    SurveyRate
        ``rate``, ``interval``, ``std_error``, ``design_effect``, ``deaths``, ``person_days``, ``n_households``,
        ``n_clusters``, ``n_strata``, ``recall_days``, ``recall_start``, ``recall_end``, ``level``, ``table``
        (one row per numerator), ``clusters`` (per-cluster totals), ``warnings``; ``summary()``, ``to_frame()``,
        ``confidence_interval(level)``, ``effective_deaths``, ``effective_person_days``.

    Raises
    ------
    DataError
        Missing columns (all named), missing, negative, non-integer or non-numeric counts, negative person-days,
        cause-specific deaths above all deaths, fewer than two clusters, a stratum with a single cluster (its
        variance cannot be estimated: merge it with a similar stratum), no person-time.

    Warns
    -----
    SmallSampleWarning
        Fewer than 10 degrees of freedom (clusters minus strata): the Wald interval is too narrow; no deaths
        (the interval is degenerate); clusters with a single household.

    Notes
    -----
    Assumptions: the households are a probability sample of the population at risk (households that no longer
    exist are not represented: survivor bias, see :func:`affected_households`); recall is accurate over the
    period; movements and deaths happen on average at its midpoint.

    References
    ----------
    .. [1] SMART (Standardized Monitoring and Assessment of Relief and Transitions), *Measuring Mortality,
       Nutritional Status, and Food Security in Crisis Situations: SMART Methodology*, version 1, April 2006,
       chapter on mortality (person-time with half-period corrections).
    .. [2] Checchi F., Roberts L. (2005). Interpreting and using mortality data in humanitarian emergencies: a
       primer for non-epidemiologists. *HPN Network Paper* 52. Overseas Development Institute, London.
    .. [3] Wolter K. M. (2007). *Introduction to Variance Estimation*, 2nd ed. Springer, New York (Taylor series
       linearisation of a ratio; ultimate-cluster variance).
    .. [4] Kish L. (1965). *Survey Sampling*. Wiley, New York (the design effect).
    .. [5] Lumley T. (2004). Analysis of complex survey samples. *Journal of Statistical Software* 9(8), 1-19
       (R package survey: ``svyratio``).

    Examples
    --------
    >>> from estimators.survey import load_smart_example, mortality_rate
    >>> result = mortality_rate(load_smart_example(), recall_days=90, cause="violent_deaths")
    >>> round(result.rate, 3), result.deaths, result.n_clusters
    (1.291, 45, 30)
    >>> round(float(result.table.loc["violent_deaths", "rate"]), 3)
    0.66
    """
    frame, columns, recall_days, level, start, end = _mortality_rate_iv(
        df, recall_days, cluster, stratum, weight, members, deaths, joined, left, births, cause, household, level,
        recall_start, recall_end,
    )
    # `notes` go into the result; `cautions` (a subset) are also raised as SmallSampleWarning.
    notes: list[str] = [f"No {role!r} column: taken as 0 in the person-days."
                        for role in ("joined", "left", "births") if columns[role] is None]
    cautions: list[str] = []

    x = person_days(frame["members"], frame["deaths"], frame["joined"], frame["left"], frame["births"],
                    recall_days)
    if (x < 0).any():
        raise _frame_problem(
            "person-days", "negative values (more joiners and births than members now)", x < 0, frame.index
        )
    if x.sum() <= 0:
        raise DataError("The households have no person-time at risk (all person-days are 0); check `members`.")
    w = frame["weight"].to_numpy()
    psu = frame["cluster_key"].to_numpy()
    strata = frame["stratum"].to_numpy()

    n_households = len(frame)
    per_cluster = frame.assign(person_days=x).groupby(["stratum", "cluster"], sort=False)
    cluster_table = pd.DataFrame({
        "households": per_cluster.size(),
        "deaths": per_cluster["deaths"].sum().astype(int),
        **({columns["cause"]: per_cluster["cause"].sum().astype(int)} if columns["cause"] else {}),
        "person_days": per_cluster["person_days"].sum(),
        "weight": per_cluster["weight"].sum(),
    })
    cluster_table.index.names = [stratum or "stratum", cluster]
    if stratum is None:
        cluster_table = cluster_table.droplevel(0)
    n_clusters = len(cluster_table)
    clusters_per_stratum = per_cluster.size().groupby(level="stratum").size()
    n_strata = len(clusters_per_stratum)
    if n_clusters < 2:
        raise DataError(f"Only {n_clusters} cluster in column {cluster!r}: the between-cluster variance needs at "
                        "least two clusters.")
    lonely = list(clusters_per_stratum.index[clusters_per_stratum.to_numpy() < 2])
    if lonely:
        raise DataError(f"Strata {lonely[:5]!r} in column {stratum!r} have a single cluster, whose variance cannot "
                        "be estimated; merge each with a similar stratum (R's survey fails here too by default).")
    single = int((cluster_table["households"] == 1).sum())
    if single:
        cautions.append(f"{single} of {n_clusters} clusters have a single household; if `{cluster}` holds household "
                        "ids, the design is being treated as a simple random sample of households.")
    if n_clusters - n_strata < _MIN_PSU_DF:
        cautions.append(f"Only {n_clusters - n_strata} degrees of freedom (clusters minus strata): the normal-quantile "
                        "Wald interval is too narrow; SMART recommends at least 25-30 clusters.")

    numerators = [("deaths", columns["deaths"])] + ([("cause", columns["cause"])] if columns["cause"] else [])
    rows = {}
    for role, name in numerators:
        y = frame[role].to_numpy()
        ratio, variance, deff = _ratio_linearised(y, x, w, psu, strata)
        rate, se = ratio * PER_PERSONS, np.sqrt(variance) * PER_PERSONS
        lower, upper = _wald(rate, se, level)
        if y.sum() == 0:
            cautions.append(f"No deaths in {name!r}: the linearised standard error is 0 and the interval degenerate; "
                            "report an upper bound (e.g. 3 / person-days x 10,000, the rule of three) instead.")
        elif lower < 0:
            cautions.append(f"The Wald lower bound for {name!r} ({lower:.3g}) is negative and is reported as 0.")
            lower = 0.0
        rows[name] = dict(rate=rate, std_error=se, lower=lower, upper=upper, design_effect=deff,
                          deaths=int(y.sum()), person_days=float(x.sum()))
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "numerator"

    for caution in cautions:
        _warn.warn(caution, SmallSampleWarning)
    head = table.iloc[0]
    return SurveyRate(
        rate=float(head["rate"]),
        interval=(float(head["lower"]), float(head["upper"])),
        std_error=float(head["std_error"]),
        design_effect=float(head["design_effect"]),
        deaths=int(head["deaths"]),
        person_days=float(x.sum()),
        n_households=n_households,
        n_clusters=n_clusters,
        n_strata=n_strata,
        recall_days=recall_days,
        level=level,
        cause=columns["cause"],
        table=table,
        clusters=cluster_table,
        weighted=weight is not None,
        warnings=(*notes, *cautions),
        recall_start=start,
        recall_end=end,
    )


def _mortality_rate_iv(df, recall_days, cluster, stratum, weight, members, deaths, joined, left, births, cause,
                       household, level, recall_start, recall_end):
    """Validate every argument and return a clean frame with one row per household and fixed column names."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"`df` must be a pandas DataFrame with one row per household; got {type(df).__name__}.")
    if recall_days is None:
        if recall_start is None or recall_end is None:
            raise ValueError("Give `recall_days` (the recall period's length in days) or both `recall_start` and "
                             "`recall_end` (its first and last day, both counted).")
        start, end = _recall_window(None, recall_start, recall_end)
        recall_days = float(_span(start, end))
    recall_days = float(recall_days)
    level = check_level(level)
    columns = {
        "cluster": _check_column_name("cluster", cluster, optional=False),
        "members": _check_column_name("members", members, optional=False),
        "deaths": _check_column_name("deaths", deaths, optional=False),
        "joined": _check_column_name("joined", joined, optional=True),
        "left": _check_column_name("left", left, optional=True),
        "births": _check_column_name("births", births, optional=True),
        "stratum": _check_column_name("stratum", stratum, optional=True),
        "weight": _check_column_name("weight", weight, optional=True),
        "cause": _check_column_name("cause", cause, optional=True),
        "household": _check_column_name("household", household, optional=True),
    }
    missing = [f"{column!r} (`{role}`)" for role, column in columns.items()
               if column is not None and column not in df.columns]
    if missing:
        raise DataError(f"Column(s) {', '.join(missing)} not in the data frame, whose columns are "
                        f"{list(df.columns)!r}; pass the right names (e.g. `members='hh_size'`), or None for "
                        "joined/left/births if not recorded.")
    if columns["cause"] is not None and columns["cause"] == columns["deaths"]:
        raise ValueError(f"`cause` must be a cause-specific column other than `deaths` ({deaths!r}).")
    if len(df) == 0:
        raise DataError("The data frame has no rows.")
    start, end = _recall_window(recall_days, recall_start, recall_end)

    clean = pd.DataFrame(index=df.index)
    for role in ("members", "deaths", "joined", "left", "births", "cause"):
        clean[role] = 0.0 if columns[role] is None else _count_column(df, columns[role])
    for role in ("cluster", "stratum", "household"):
        if columns[role] is None:
            clean[role] = 0
            continue
        ids = df[columns[role]]
        if ids.isna().any():
            raise _frame_problem(columns[role], "missing values (NaN)", ids.isna().to_numpy(), df.index)
        clean[role] = ids.to_numpy()
    if columns["weight"] is None:
        clean["weight"] = 1.0
    else:
        w = pd.to_numeric(df[columns["weight"]], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(w) | (w <= 0)
        if bad.any():
            raise _frame_problem(columns["weight"], "weights that are missing, not finite or not > 0", bad, df.index)
        low, high = _WEIGHT_BOUNDS
        extreme = (w < low) | (w > high)
        if extreme.any():
            raise _frame_problem(columns["weight"], f"weights outside {low:g}..{high:g} (the weighted sums would "
                                 "overflow or lose precision; rescale the weights, e.g. divide by their mean)",
                                 extreme, df.index)
        clean["weight"] = w
    if columns["cause"] is not None:
        above = clean["cause"].to_numpy() > clean["deaths"].to_numpy()
        if above.any():
            raise _frame_problem(columns["cause"], f"more deaths than the all-cause column {deaths!r}", above,
                                 df.index)

    if columns["household"] is not None:
        keys = ["stratum", "cluster", "household"]
        grouped = clean.groupby(keys, sort=False)
        varying = grouped["weight"].nunique() > 1
        if varying.any():
            raise DataError(f"Weights in column {weight!r} vary within households {list(varying.index[varying][:5])}"
                            "; give each household one weight.")
        counts = grouped[["members", "deaths", "joined", "left", "births", "cause"]].sum()
        clean = counts.join(grouped["weight"].first()).reset_index()
    clean["cluster_key"] = pd.MultiIndex.from_frame(clean[["stratum", "cluster"]]).factorize()[0]
    return clean, columns, recall_days, level, start, end


# --------------------------------------------------------------------------------------------------------------
# affected_households


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
