"""Crude death rate from a household mortality survey (:func:`mortality_rate`, :class:`SurveyRate`)."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import _warn
from .._validation import (
    BOOL,
    LEVEL,
    Date,
    InstanceOf,
    Integral,
    Interval,
    Options,
    check_level,
    validate_params,
)
from ..exceptions import DataError, SmallSampleWarning
from .._summary import Summary, format_label
from ..results import PER_PERSONS
from ._design import _MIN_PSU_DF, _WEIGHT_BOUNDS, _indicators, _poststratify, _rake, _ratio_linearised, _wald
from ._plausibility import PlausibilityReport, PlausibilityWarning, plausibility
from ._roster import ROSTER_COLUMNS, by_terms, crossed_domains, roster_rows
from ._smart import _RECALL_DAYS, _recall_window, _span, person_days


_COLUMN = [InstanceOf(str, "a column name (str)")]
_OPTIONAL_COLUMN = [None, *_COLUMN]
# household-level under-five columns (reference README: "Stratified, weighted survey with under-five columns");
# births enter the under-fives, so the births column is shared with the all-age person-days
_U5_COLUMNS = {"members_u5": "members_u5_now", "deaths_u5": "deaths_u5", "joined_u5": "joined_u5",
               "left_u5": "left_u5"}


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
    calibration : str or None
        ``"poststratify"`` or ``"rake"`` when calibrated to ``population_totals``.
    plausibility : PlausibilityReport
        The SMART plausibility checks of the data.
    death_dates : dict of str to pandas.DatetimeIndex, or None
        Roster only: for each row of ``table``, the dates of the deaths it counts (sorted). Read by
        :meth:`estimators.SurveyObservation.from_survey`.
    daily_person_days : pandas.Series or None
        Roster only: people at risk on each day of the recall window (unweighted), indexed by date.
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
    calibration: str | None = None
    plausibility: PlausibilityReport | None = None
    death_dates: dict | None = None
    daily_person_days: pd.Series | None = None

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
        person_time = ("Person-days from each person's dates: entry = max(recall start, arrival, birth), exit = "
                       "min(recall end, departure, death), both days counted." if "roster" in self.method else
                       "Person-days = (members now + (deaths + left)/2 - (joined + births)/2) x recall days "
                       "(SMART/ENA).")
        notes = (person_time, *self.warnings)
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
        "roster": BOOL,
        "roster_columns": [None, InstanceOf(dict, "a dict of role -> column name")],
        "by": [None, InstanceOf((str, list, tuple), "a column name or a list of column names (tuples are crossed)")],
        "age_groups": [None, InstanceOf((list, tuple, np.ndarray), "a list of age break points")],
        "under5": BOOL,
        "population_totals": [None, InstanceOf(dict, "a dict of column -> {category: known total}")],
        "calibration_method": [Options({"auto", "poststratify", "rake"})],
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
    roster: bool = False,
    roster_columns: dict | None = None,
    by=None,
    age_groups=None,
    under5: bool = False,
    population_totals: dict | None = None,
    calibration_method: str = "auto",
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
        A roster needs both, as dates.
    roster : bool
        ``df`` is an individual roster: one row per person ever in the household during the recall period, with
        ``cluster`` and ``household`` ids and the columns of ``roster_columns``. Person-time is computed exactly
        from the dates: entry = max(recall start, arrival, birth), exit = min(recall end, departure, death), both
        days counted; a death counts if its date is inside the window while the person was in the household. A
        missing birth date is placed at recall end minus (age + 0.5) years. Persons are then summed into
        households and the same design-based ratio estimator is used.
    roster_columns : dict, optional
        Column names of the roster, overriding ``{"age": "age", "sex": "sex", "arrival": "arrival",
        "departure": "departure", "birth": "birth_date", "death": "death_date"}``; blank dates mean the event did
        not happen (arrival/birth before the window, departure/death after it or never). With ``roster=True``,
        ``cause`` names the cause-of-death column (one rate per cause).
    by : str or list, optional
        Rates by group (domain estimation: ratio of the domain's totals, linearised over the whole design, so the
        random domain sample size is in the variance). Household-level data: household columns (e.g. region);
        roster: person columns (e.g. sex). An item that is a tuple of columns gives the rates of their crossed
        groups, e.g. ``by=["sex", ("region", "sex")]`` (rows ``"deaths [region=north, sex=f]"``). In a roster
        with ``age_groups``, the name ``"age_group"`` in a tuple stands for the age groups:
        ``by=[("age_group", "sex")]`` gives rows ``"deaths [age 0-5, sex=f]"``.
    age_groups : list of float, optional
        Roster only: age break points in years, e.g. ``[0, 5, 15, 50, 120]``; person-time is split exactly at
        birthdays, a death goes to the group of the age at death.
    under5 : bool
        Add the under-five death rate (row ``"deaths_u5"``). Household-level data: columns ``members_u5_now``,
        ``deaths_u5``, ``joined_u5``, ``left_u5`` and births (births enter the under-fives), person-days
        ``(members_u5_now + (deaths_u5 + left_u5)/2 - (joined_u5 + births)/2) * recall_days``; roster: ages 0-5.
    population_totals : dict, optional
        Known population totals (of households, or persons if the weights are per person) for calibration:
        ``{"region": {"north": 190000, "south": 55000}}``. One margin: post-stratification (R ``postStratify``:
        weights scaled within each post-stratum to its total; variance from the scores less their design-weighted
        post-stratum means). Several margins: raking (iterative proportional fitting, the weights of R ``rake``
        and of ``calibrate(..., calfun="raking")``; variance from the residuals of the design-weighted regression
        of the scores on the margin indicators, Deville & Särndal (1992), as R's ``calibrate``). Columns must be
        household-level.
    calibration_method : {"auto", "poststratify", "rake"}
        "auto": post-stratify with one margin, rake with several. "rake" with one margin gives the
        post-stratified weights and variance. (R's ``rake`` removes unweighted margin means in its variance; the
        two agree when the design weights are constant within the margins' categories, as in a self-weighting
        survey.)

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
    PlausibilityWarning
        SMART plausibility checks outside their usual range (:func:`plausibility`: age heaping, sex ratio,
        proportion of under-fives, missing ages); the rate is computed all the same.
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
    .. [6] Lumley T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley (domains, post-stratification,
       raking).
    .. [7] Deville J.-C., Särndal C.-E. (1992). Calibration estimators in survey sampling. *JASA* 87, 376-382.
    .. [8] SMART (2017). *SMART Methodology Manual* 2.0 (mortality: under-five death rate, plausibility checks).

    Examples
    --------
    >>> from estimators.survey import load_smart_example, mortality_rate
    >>> result = mortality_rate(load_smart_example(), recall_days=90, cause="violent_deaths")
    >>> round(result.rate, 3), result.deaths, result.n_clusters
    (1.291, 45, 30)
    >>> round(float(result.table.loc["violent_deaths", "rate"]), 3)
    0.66

    Post-stratified to known numbers of households per region, with the under-five death rate:

    >>> import pandas as pd
    >>> strata = pd.DataFrame({"region": ["north"] * 4 + ["south"] * 4, "cluster": [1, 1, 2, 2, 1, 1, 2, 2],
    ...                        "members_now": [6, 5, 7, 4, 5, 6, 3, 8], "deaths": [1, 0, 0, 1, 0, 2, 0, 0]})
    >>> result = mortality_rate(strata, recall_days=90, stratum="region", joined=None, left=None, births=None,
    ...                         population_totals={"region": {"north": 900, "south": 300}})
    >>> round(result.rate, 3), result.calibration
    (9.662, 'poststratify')
    """
    keep = _kept_columns(by, population_totals, roster)
    if roster:
        frame, columns, recall_days, level, start, end, rows, (death_dates, daily) = _roster_frame(
            df, cluster, stratum, weight, household, cause, level, recall_start, recall_end, recall_days,
            roster_columns, by, age_groups, under5, keep,
        )
        notes: list[str] = []
    else:
        if age_groups is not None:
            raise ValueError("`age_groups` needs ages: give an individual roster (`roster=True`); household-level "
                             "data have the under-five columns only (`under5=True`).")
        frame, columns, recall_days, level, start, end = _mortality_rate_iv(
            df, recall_days, cluster, stratum, weight, members, deaths, joined, left, births, cause, household,
            level, recall_start, recall_end, keep=keep, under5=under5,
        )
        notes = [f"No {role!r} column: taken as 0 in the person-days."
                 for role in ("joined", "left", "births") if columns[role] is None]
        rows = _household_rows(frame, columns, recall_days, by, under5)
        death_dates = daily = None
    # `notes` go into the result; `cautions` (a subset) are also raised as SmallSampleWarning.
    cautions: list[str] = []
    report = _plausibility_of(df, roster, roster_columns, household, members, ids=(stratum, cluster))
    for flag in report.flags:
        _warn.warn(flag, PlausibilityWarning)

    x = rows[0][4]
    if (x < 0).any():
        raise _frame_problem(
            "person-days", "negative values (more joiners and births than members now)", x < 0, frame.index
        )
    if x.sum() <= 0:
        raise DataError("The households have no person-time at risk (all person-days are 0); check `members`.")
    w = frame["weight"].to_numpy()
    psu = frame["cluster_key"].to_numpy()
    strata = frame["stratum"].to_numpy()
    calibration = None
    if population_totals is not None:
        w, calibration, calibration_note = _calibrate(frame, w, population_totals, calibration_method)
        notes.append(calibration_note)

    n_households = len(frame)
    per_cluster = frame.assign(person_days=x, deaths=rows[0][3]).groupby(["stratum", "cluster"], sort=False)
    cluster_table = pd.DataFrame({
        "households": per_cluster.size(),
        "deaths": per_cluster["deaths"].sum().astype(int),
        **({columns["cause"]: per_cluster["cause"].sum().astype(int)}
           if columns["cause"] and not roster else {}),
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

    table_rows = {}
    for label, numerator, domain, y, xd in rows:
        if xd.sum() <= 0:
            cautions.append(f"No person-time in {label!r}: its rate is not estimable and is left out.")
            continue
        ratio, variance, deff = _ratio_linearised(y, xd, w, psu, strata, calibration)
        rate, se = ratio * PER_PERSONS, np.sqrt(variance) * PER_PERSONS
        lower, upper = _wald(rate, se, level)
        if y.sum() == 0:
            cautions.append(f"No deaths in {label!r}: the linearised standard error is 0 and the interval degenerate;"
                            " report an upper bound (e.g. 3 / person-days x 10,000, the rule of three) instead.")
        elif lower < 0:
            cautions.append(f"The Wald lower bound for {label!r} ({lower:.3g}) is negative and is reported as 0.")
            lower = 0.0
        table_rows[label] = dict(numerator=numerator, domain=domain, rate=rate, std_error=se, lower=lower,
                                 upper=upper, design_effect=deff, deaths=int(round(y.sum())),
                                 person_days=float(xd.sum()))
    table = pd.DataFrame.from_dict(table_rows, orient="index")
    table.index.name = "rate"

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
        weighted=weight is not None or population_totals is not None,
        warnings=(*notes, *cautions, *report.flags),
        recall_start=start,
        recall_end=end,
        calibration=None if calibration is None else calibration[0],
        plausibility=report,
        death_dates=None if death_dates is None else {label: death_dates[label] for label in table.index},
        daily_person_days=daily,
        **({"method": "SMART death rate from an individual roster (ratio estimator, Taylor linearisation over "
                      "clusters)"} if roster else {}),
    )


def _kept_columns(by, population_totals, roster) -> list[str]:
    """Household-level label columns carried into the household frame: domains and calibration margins."""
    keep = list(population_totals or {})
    terms = by_terms(by)  # checked for both forms, before the data are read
    if not roster:
        keep += [column for term in terms for column in term if column not in keep]
    return keep


def _household_rows(frame, columns, recall_days, by, under5):
    """(label, numerator, domain, y, x) per household for every rate of household-level data."""
    x = person_days(frame["members"], frame["deaths"], frame["joined"], frame["left"], frame["births"],
                    recall_days)
    base = [(columns["deaths"], columns["deaths"], frame["deaths"].to_numpy(), x)]
    if columns["cause"]:
        base.append((columns["cause"], columns["cause"], frame["cause"].to_numpy(), x))
    if under5:
        x_u5 = person_days(frame["members_u5"], frame["deaths_u5"], frame["joined_u5"], frame["left_u5"],
                           frame["births"], recall_days)
        if (x_u5 < 0).any():
            raise _frame_problem("under-five person-days", "negative values (more under-five joiners and births "
                                 "than under-fives now)", x_u5 < 0, frame.index)
        base.append(("deaths_u5", "deaths_u5", frame["deaths_u5"].to_numpy(), x_u5))
    rows = [(label, numerator, "all", y, xx) for label, numerator, y, xx in base]
    for term in by_terms(by):
        labels = frame[[f"_keep_{column}" for column in term]].set_axis(list(term), axis=1)
        for domain, inside in crossed_domains(labels, term):
            rows += [(f"{label} [{domain}]", numerator, domain, y * inside, xx * inside)
                     for label, numerator, y, xx in base]
    return rows


def _calibrate(frame, w, population_totals, method):
    """Calibrated weights, the calibration for the variance, and a note saying what was done."""
    margins = {}
    for column, totals in population_totals.items():
        if not isinstance(totals, dict) or not totals:
            raise ValueError(f"`population_totals[{column!r}]` must be a dict of category -> known total; got "
                             f"{totals!r}.")
        bad = [key for key, value in totals.items()
               if not isinstance(value, numbers.Real) or isinstance(value, bool) or not np.isfinite(value)
               or value <= 0]
        if bad:
            raise ValueError(f"`population_totals[{column!r}]` totals must be finite numbers > 0; got "
                             f"{ {key: totals[key] for key in bad}!r}.")
        margins[column] = (frame[f"_keep_{column}"].to_numpy(), totals)
    if method == "auto":
        method = "poststratify" if len(margins) == 1 else "rake"
    if method == "poststratify":
        if len(margins) > 1:
            raise ValueError("`calibration='poststratify'` takes one margin in `population_totals`; with several, "
                             "rake (`calibration='rake'`) or give one cross-classified column.")
        (column, (groups, totals)), = margins.items()
        new = _poststratify(w, groups, totals, column)
        return new, ("poststratify", groups, w), (f"Post-stratified on {column!r} to known totals (R postStratify); "
                                               "variance from residuals within post-strata.")
    new = _rake(w, margins)
    return new, ("rake", _indicators(margins), w), (
        f"Raked on {', '.join(map(repr, margins))} to known margins (iterative proportional fitting, R rake); "
        "variance from calibration regression residuals (Deville & Sarndal 1992).")


def _plausibility_of(df, roster, roster_columns, household, members, ids=()):
    if not isinstance(df, pd.DataFrame):
        return plausibility(pd.DataFrame())
    if roster:
        names = {**ROSTER_COLUMNS, **(roster_columns or {})}
        dates = [names[role] for role in ("birth",) if names[role] in df.columns]
        frame = df
        if names["death"] in df.columns:
            frame = df[pd.to_datetime(df[names["death"]], errors="coerce").isna()]  # the living, for the profile
        # household numbers may restart in each cluster: a household is its (stratum, cluster, household)
        keys = [column for column in (*ids, household or "household") if column is not None]
        return plausibility(frame, age=names["age"], sex=names["sex"], household=keys, members=None,
                            members_u5=None, dates=dates)
    return plausibility(df, age=None, sex=None, household=None, members=members, members_u5="members_u5_now")


def _roster_frame(df, cluster, stratum, weight, household, cause, level, recall_start, recall_end, recall_days,
                  roster_columns, by, age_groups, under5, keep):
    """Households and per-household rates from an individual roster (one row per person ever present)."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"`df` must be a pandas DataFrame with one row per person; got {type(df).__name__}.")
    if len(df) == 0:
        raise DataError("The data frame has no rows.")
    if recall_start is None or recall_end is None or isinstance(recall_start, numbers.Integral) or isinstance(
            recall_end, numbers.Integral):
        raise ValueError("A roster needs the recall window as dates: give `recall_start` and `recall_end` (e.g. "
                         "'2024-01-01', both days counted), against which arrival, departure, birth and death "
                         "dates are read.")
    start, end = _recall_window(recall_days, recall_start, recall_end)
    recall_days = float(_span(start, end))
    level = check_level(level)
    household = household or "household"
    names = {**ROSTER_COLUMNS, **(roster_columns or {})}
    unknown = set(names) - set(ROSTER_COLUMNS)
    if unknown:
        raise ValueError(f"`roster_columns` keys must be among {sorted(ROSTER_COLUMNS)}; got {sorted(unknown)}.")
    ids = [column for column in (cluster, household, stratum, weight) if column is not None]
    missing = [column for column in ids + keep if column not in df.columns]
    if missing:
        raise DataError(f"Column(s) {missing!r} not in the roster, whose columns are {list(df.columns)!r}.")
    if age_groups is not None:
        groups = np.asarray(age_groups, dtype=float)
        if groups.ndim != 1 or len(groups) < 2 or not np.all(np.isfinite(groups)) or np.any(np.diff(groups) <= 0) \
                or groups[0] < 0:
            raise ValueError(f"`age_groups` must be increasing break points >= 0 (e.g. [0, 5, 15, 50, 120]); got "
                             f"{age_groups!r}.")
    rows, death_dates, daily = roster_rows(df, names, start, end, by=by, age_groups=age_groups, under5=under5,
                                           cause=cause)
    # the dates of the deaths each rate counts (y is 0 or 1 per person), for the joint daily model
    dates = {label: pd.DatetimeIndex(death_dates[y > 0]).sort_values() for label, _, _, y, _ in rows}
    keys = pd.DataFrame({
        "stratum": df[stratum].to_numpy() if stratum else 0,
        "cluster": df[cluster].to_numpy(),
        "household": df[household].to_numpy(),
    }, index=df.index)
    if keys.isna().any().any():
        raise DataError("Roster rows with missing cluster, household or stratum ids; every person needs them.")
    keys["weight"] = 1.0 if weight is None else pd.to_numeric(df[weight], errors="coerce").to_numpy(dtype=float)
    if weight is not None:
        bad = ~np.isfinite(keys["weight"].to_numpy()) | (keys["weight"].to_numpy() <= 0)
        if bad.any():
            raise _frame_problem(weight, "weights that are missing, not finite or not > 0", bad, df.index)
    for column in keep:
        keys[f"_keep_{column}"] = df[column].to_numpy()
    grouped = keys.groupby(["stratum", "cluster", "household"], sort=False)
    for column in ["weight", *[f"_keep_{c}" for c in keep]]:
        varying = grouped[column].nunique() > 1
        if varying.any():
            raise DataError(f"{column.removeprefix('_keep_')!r} varies within households "
                            f"{list(varying.index[varying][:5])}; a household-level column needs one value per "
                            "household.")
    frame = grouped.first().reset_index()
    codes = grouped.ngroup().to_numpy()
    n = len(frame)
    household_rows = [(label, numerator, domain, np.bincount(codes, weights=y, minlength=n),
                       np.bincount(codes, weights=xx, minlength=n)) for label, numerator, domain, y, xx in rows]
    frame["cluster_key"] = pd.MultiIndex.from_frame(frame[["stratum", "cluster"]]).factorize()[0]
    columns = {"cause": cause, "deaths": "deaths"}
    return frame, columns, recall_days, level, start, end, household_rows, (dates, daily)


def _mortality_rate_iv(df, recall_days, cluster, stratum, weight, members, deaths, joined, left, births, cause,
                       household, level, recall_start, recall_end, *, keep=(), under5=False):
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
    missing += [f"{column!r} (`by`/`population_totals`)" for column in keep if column not in df.columns]
    if under5:
        missing += [f"{column!r} (`under5`)" for column in _U5_COLUMNS.values() if column not in df.columns]
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
    count_roles = ["members", "deaths", "joined", "left", "births", "cause"]
    if under5:
        for role, column in _U5_COLUMNS.items():
            clean[role] = _count_column(df, column)
        count_roles += list(_U5_COLUMNS)
        above = clean["deaths_u5"].to_numpy() > clean["deaths"].to_numpy()
        if above.any():
            raise _frame_problem("deaths_u5", f"more deaths than the all-cause column {deaths!r}", above, df.index)
    for column in keep:
        labels = df[column]
        if labels.isna().any():
            raise _frame_problem(column, "missing values (NaN)", labels.isna().to_numpy(), df.index)
        clean[f"_keep_{column}"] = labels.to_numpy()
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
        counts = grouped[count_roles].sum()
        labels = [f"_keep_{column}" for column in keep]
        clean = counts.join(grouped[["weight", *labels]].first()).reset_index()
    clean["cluster_key"] = pd.MultiIndex.from_frame(clean[["stratum", "cluster"]]).factorize()[0]
    return clean, columns, recall_days, level, start, end
