"""Daily death rates from matched lists, unmatched tallies and household surveys, jointly.

One latent death process over the study days: the expected number of deaths on day ``d`` is ``rate[d]`` and the
log rate is a Gaussian random walk (or a constant, or a weekly random walk). Every source observes a thinning
of that one process:

* **matched lists** (capture histories with the day of death): the count of each observed capture pattern in a
  time bin is Poisson with mean (expected deaths in the bin) x (pattern probability); the pattern probabilities
  are a log-linear model with one main effect per list (optionally a random walk over bins) and two-way
  interactions with a normal shrinkage prior. The unlisted cell is never observed, so it is marginalised by
  leaving it out: Poisson thinning makes the observed cells independent Poisson.
* **unmatched tallies** (a source that gives only its own count per period): Poisson with mean
  coverage x expected deaths in the period, coverage ~ Beta.
* **surveys** (deaths and person-days in a sample over a recall window): negative binomial with mean
  bias x person-days x rate per person-day over the recall window, its dispersion set from the design effect;
  the **affected-households** summary ("one family in three lost a member"): a binomial on households with at
  least one death whose effective sample size is divided by the design effect.
* the **population at risk** (a log-normal prior from a range) turns deaths per day into deaths per 10,000 per
  day and links survey rates to deaths.

:class:`DailyRatesModel` is built once per data *shape* (days, lists, bins, number of tallies and surveys) with
every data value and prior setting in ``pm.Data``, so a compiled model refits new data of the same shape, and the
alternatives of :meth:`DailyRatesResult.sensitivity`, without recompiling.

References
----------
1. Bishop, Y. M. M., Fienberg, S. E. & Holland, P. W. (1975). *Discrete Multivariate Analysis*. MIT Press
   (log-linear models of capture patterns).
2. Fienberg, S. E. (1972). The multiple recapture census for closed populations and incomplete 2^k contingency
   tables. *Biometrika* 59(3):591-603.
3. Ball, P., Betts, W., Scheuren, F., Dudukovich, J. & Asher, J. (2002). *Killings and Refugee Flow in Kosovo,
   March-June 1999*. AAAS (lists, time bins and a household survey side by side).
4. Checchi, F. & Roberts, L. (2005). Interpreting and using mortality data in humanitarian emergencies.
   *HPN Network Paper* 52, ODI (crude death rate per 10,000 per day; design effects).
5. Talts, S., Betancourt, M., Simpson, D., Vehtari, A. & Gelman, A. (2018). Validating Bayesian inference
   algorithms with simulation-based calibration. arXiv:1804.06788.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import numbers
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from . import _warn
from ._validation import (
    BOOL,
    LEVEL,
    SEED,
    Boolean,
    Date,
    Integral,
    Interval,
    Options,
    Pair,
    Range,
    Real,
    check_choice,
    check_level,
    check_param,
    check_params,
    check_positive,
    check_positive_int,
    resolve_seed,
    validate_params,
)
from .diagnostics import chain_diagnostics, diagnostic_messages, rank_normalized_r_hat
from .exceptions import ConvergenceWarning, DataError, IdentifiabilityWarning, NonexistentEstimateError
from .histories import CaptureHistories, pattern_matrix
from .results import PER_PERSONS, RANGE_Z, PosteriorEstimate, Summary, lognormal_from_range, save_result

RATE_MODELS = ("random_walk", "constant", "weekly")
# A Poisson survey is a negative binomial with this dispersion (no clustering).
_POISSON_ALPHA = 1e8
# The most study days: the model holds dense (bins x days) matrices, days x days with daily bins (8 bytes a cell),
# so 20,000 days would allocate 3 GB before anything else; ten years of days is ~100 MB.
MAX_DAYS = 3660
# The largest count a source may report: beyond it float sums stop being exact and int64 totals overflow.
MAX_COUNT = 10**12
# Contraction (1 - posterior variance / prior variance, log scale) below which the data have not informed a quantity.
CONTRACTION_MIN = 0.1


# ---------------------------------------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class Tally:
    """An unmatched source's own count of deaths over study days ``start_day`` .. ``end_day`` (both included).

    Several ``Tally`` objects with the same ``name`` are periods of one source and share its coverage. Days are
    0-based study-day numbers, or dates when ``daily_rates`` is given ``start``.
    """

    name: str
    count: float
    start_day: object = None
    end_day: object = None


@dataclass(frozen=True)
class SurveyObservation:
    """A survey's deaths among ``person_days`` of follow-up over its recall window (days ``start_day``..``end_day``).

    ``design_effect`` (>= 1) sets the cluster overdispersion. Results of ``estimators.survey.mortality_rate``
    (with ``deaths``, ``person_days``, ``design_effect`` and ``recall_start``/``recall_end``) are accepted too.
    """

    deaths: float
    person_days: float
    design_effect: float = 1.0
    start_day: object = None
    end_day: object = None
    name: str = "survey"


@dataclass(frozen=True)
class HouseholdSummary:
    """The affected-households form: ``n_affected`` of ``n_households`` households lost at least one member.

    ``household_size`` is the mean size (a log-normal prior with log-scale sd ``household_size_sd``), or a
    (low, high) range read as its 95% interval; the recall window is study days ``start_day``..``end_day``
    (``recall_days`` long, by default the window's length; the rate outside the study is taken as inside). Results of ``estimators.survey.affected_households``
    with these attributes are accepted too.
    """

    n_households: float
    n_affected: float
    household_size: float
    household_size_sd: float = 0.15
    design_effect: float = 1.0
    start_day: object = None
    end_day: object = None
    recall_days: float | None = None
    name: str = "households"


@dataclass(frozen=True)
class DailyData:
    """Validated arrays for one fit (built by :func:`prepare_data`); its :attr:`shape_key` picks the compiled model."""

    days: int
    start: object
    list_names: tuple[str, ...]
    bin_days: int
    list_cells: np.ndarray  # (bins, 2**k - 1) observed pattern counts
    bin_matrix: np.ndarray  # (bins, days) 0/1
    tally_names: tuple[str, ...]
    tally_counts: np.ndarray  # (periods,)
    tally_matrix: np.ndarray  # (periods, days) 0/1
    tally_index: np.ndarray  # (periods,) index into tally_names
    survey_names: tuple[str, ...]
    survey_deaths: np.ndarray
    survey_person_days: np.ndarray
    survey_alpha: np.ndarray
    survey_matrix: np.ndarray  # (surveys, days) rows average over the recall window within the study
    household_names: tuple[str, ...]
    household_n: np.ndarray  # effective households (n / design effect)
    household_affected: np.ndarray  # effective affected households
    household_raw: np.ndarray  # (n_households, n_affected, design_effect) as given
    household_size: np.ndarray
    household_size_sd: np.ndarray
    household_recall: np.ndarray  # days in the recall window
    household_matrix: np.ndarray
    population: tuple[float, float]  # (median, log-scale sd)

    @property
    def k(self) -> int:
        return len(self.list_names)

    @property
    def n_bins(self) -> int:
        return self.list_cells.shape[0]

    @property
    def n_listed(self) -> int:
        return int(round(self.list_cells.sum()))

    @property
    def anchor_tally(self) -> int:
        """Without lists, the tally whose documented level the rate's prior is placed on (largest per day); -1."""
        if self.k or not len(self.tally_names):
            return -1
        per_day = [self.tally_counts[self.tally_index == j].sum() / self.tally_matrix[self.tally_index == j].sum()
                   for j in range(len(self.tally_names))]
        return int(np.argmax(per_day))

    @property
    def shape_key(self) -> tuple:
        return (
            self.anchor_tally,
            self.days,
            self.k,
            self.n_bins,
            len(self.tally_names),
            len(self.tally_counts),
            len(self.survey_deaths),
            len(self.household_n),
        )

    def day_labels(self):
        if self.start is None:
            return np.arange(self.days)
        return pd.date_range(self.start, periods=self.days, freq="D")


@dataclass(frozen=True)
class Priors:
    """Prior settings that enter the compiled model as data (changing them needs no recompilation).

    Attributes
    ----------
    rate_level : (float, float) or None
        Normal prior (mean, sd) of the mean log daily rate; None: centred on twice the highest documented daily
        count, sd 2.5 (weakly informative: a factor of 12 either way covers 95%).
    rw_scale : float
        Half-normal scale of the random walk's step sd (per day; per week for ``rate_model="weekly"``).
    dependence_scale : float
        Normal prior sd of the two-way list interactions (log odds ratios); 0 forces independent lists.
    capture_rw_scale : float
        Half-normal scale of the per-bin step of each list's log-odds (``time_varying_capture=True``).
    tally_coverage : (float, float)
        Beta(a, b) prior of each tally's coverage.
    bias_scale : float
        Log-scale sd of each survey's representativeness factor (log-normal, median 1).
    """

    rate_level: tuple[float, float] | None = None
    rw_scale: float = 0.1
    dependence_scale: float = 0.5
    capture_rw_scale: float = 0.1
    tally_coverage: tuple[float, float] = (1.0, 1.0)
    bias_scale: float = 0.3


def _population_prior(population) -> tuple[float, float]:
    """(median, log sd) of the log-normal population prior: a number is fixed, (low, high) is its 95% range."""
    if isinstance(population, np.ndarray):
        population = population.tolist()
    if isinstance(population, numbers.Real) and not isinstance(population, bool):
        return check_positive("population", population), 1e-6
    if (
        isinstance(population, Sequence)
        and len(population) == 2
        and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in population)
    ):
        return lognormal_from_range(float(population[0]), float(population[1]))
    raise ValueError(
        f"`population` must be a number or a (low, high) range of the population at risk; got {population!r}."
    )


def _day_number(value, name: str, start, days: int, bounds: tuple[int, int] | None = None) -> int:
    try:
        missing = bool(pd.isna(value))
    except (TypeError, ValueError):  # not a scalar: reported as not a day below
        missing = False
    if missing:
        raise DataError(f"{name} is missing ({value!r}); give every record its study day or date.")
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        # a day column read as floats (a CSV with a gap, arithmetic on days) holds whole numbers like 2.0;
        # an infinite day is no day (and round(inf) raises OverflowError)
        if not np.isfinite(value) or value != round(value):
            raise DataError(f"{name} must be a whole study-day number (0-based) or a date; got {value!r}.")
        day = int(value)
    elif isinstance(value, (_dt.date, pd.Timestamp, np.datetime64, str)):
        if start is None:
            raise DataError(f"{name} is a date ({value!r}) but no `start` date was given; pass start=... .")
        try:
            stamp, origin = pd.Timestamp(value), pd.Timestamp(start)
        except (TypeError, ValueError) as error:
            raise DataError(f"{name} ({value!r}) is not a date or a day number: {error}.") from None
        if (stamp.tz is None) != (origin.tz is None):
            raise DataError(f"{name} ({value!r}) and `start` ({start!r}) mix a time zone with none; give both as "
                            "plain dates (e.g. dates.dt.tz_localize(None)).")
        # calendar days: a time of day on either side must not shift a death to the day before
        day = int((stamp.normalize() - origin.normalize()).days)
    else:
        raise DataError(f"{name} must be a study-day number (0-based) or a date; got {value!r}.")
    low, high = bounds or (0, days - 1)
    if not low <= day <= high:
        raise DataError(f"{name} = {value!r} is outside the study days 0..{days - 1}; check the dates or `days`.")
    return day


def _window(start_day, end_day, name: str, start, days: int, clip: bool = False) -> tuple[int, int]:
    """Study days first..last of a window; ``clip``: a survey's recall window is cut to the study days."""
    bounds = (-(10**9), 10**9) if clip else (0, days - 1)
    first = 0 if start_day is None else _day_number(start_day, f"{name} start", start, days, bounds)
    last = days - 1 if end_day is None else _day_number(end_day, f"{name} end", start, days, bounds)
    if last < first:
        raise DataError(f"{name}: the window ends (day {last}) before it starts (day {first}).")
    if clip:
        if last < 0 or first > days - 1:
            raise DataError(f"{name}: the recall window (days {first}..{last}) does not overlap the study days "
                            f"0..{days - 1}.")
        first, last = max(first, 0), min(last, days - 1)
    return first, last


def _at_least(value, name: str, low: float = 0.0, *, strict: bool = False, error=DataError) -> float:
    """``value`` as a float if it is a finite real number >= ``low`` (> ``low`` when ``strict``), else ``error``."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value)
            or value < low or (strict and value == low)):
        raise error(f"{name} must be a finite number {'>' if strict else '>='} {low:g}; got {value!r}.")
    return float(value)


def _count(value, name: str, *, positive: bool = False) -> float:
    """``value`` as a float if it is a whole number >= 0 (>= 1 when ``positive``) and at most MAX_COUNT."""
    low = 1.0 if positive else 0.0
    value = _at_least(value, name, low)
    if value != round(value):
        raise DataError(f"{name} must be a whole number of deaths or households; got {value!r}.")
    if value > MAX_COUNT:
        raise DataError(f"{name} = {value!r} is beyond the largest supported count ({MAX_COUNT:.0e}); check the "
                        "units (deaths, not person-days).")
    return value


def _source(item, cls, what: str, i: int):
    """A source given as ``cls``, an object with its fields (e.g. a survey module result) or a dict of them."""
    if isinstance(item, Mapping):
        # a dict of the dataclass's fields is the natural plain-Python form of one source
        try:
            return cls(**item)
        except TypeError as error:
            raise DataError(f"{what} {i + 1} is a dict whose keys do not match {cls.__name__}'s fields "
                            f"({', '.join(cls.__dataclass_fields__)}): {error}.") from None
    return item


def _read_lists(lists, list_names, day_column, start, days, bin_days):
    if isinstance(lists, pd.DataFrame):
        if day_column not in lists.columns:
            raise DataError(
                f"The lists' DataFrame has no day column {day_column!r}; columns are {list(lists.columns)!r}. "
                "Pass day_column=... ."
            )
        if list_names is None:
            candidates = [c for c in lists.columns if c not in (day_column, "count")]
        else:
            candidates = list(list_names)
            unknown = [c for c in candidates if c not in lists.columns]
            if unknown:
                raise DataError(
                    f"Unknown list name(s) {unknown!r}: the lists' columns are {list(lists.columns)!r}."
                )
        frame = lists[[*candidates, day_column] + (["count"] if "count" in lists.columns else [])]
        if list_names is not None:
            # records found only on lists left out are on none of the chosen ones: drop them, as
            # CaptureHistories.select_lists does (a record on no list at all still raises below)
            others = [c for c in lists.columns if c not in (*candidates, day_column, "count")]
            on_none = lists[candidates].apply(pd.to_numeric, errors="coerce").eq(0).all(axis=1)
            on_other = lists[others].apply(pd.to_numeric, errors="coerce").eq(1).any(axis=1)
            frame = frame[~(on_none & on_other)]
        if "count" in frame.columns:
            histories = CaptureHistories.from_counts(frame, count="count", lists=candidates)
        else:
            histories = CaptureHistories.from_records(frame, lists=candidates)
    elif isinstance(lists, CaptureHistories):
        histories = lists
        if list_names is not None:
            unknown = [c for c in list_names if c not in histories.lists]
            if unknown:
                raise DataError(f"Unknown list name(s) {unknown!r}: the lists are {list(histories.lists)!r}.")
            histories = histories.select_lists(list(list_names))
        if day_column not in histories.covariates:
            raise DataError(
                f"The capture histories have no {day_column!r} covariate (the day of death); they have "
                f"{list(histories.covariates)!r}."
            )
    else:
        raise DataError(
            f"`lists` must be a DataFrame (0/1 list columns, a {day_column!r} column, optional 'count') or "
            f"CaptureHistories with a {day_column!r} covariate; got {type(lists).__name__}."
        )
    k = histories.k
    if k > 6:
        raise DataError(f"At most 6 matched lists are supported (2**k pattern cells per bin); got {k}.")
    raw_days = histories.covariates[day_column]
    if raw_days.dtype.kind == "M":
        # numpy datetimes: item() can give nanoseconds since 1970; Timestamps keep them dates. Day numbers are
        # left as numbers, even with `start` (to_datetime would read them as nanoseconds too).
        raw_days = pd.to_datetime(raw_days)
    day = np.array([_day_number(v.item() if hasattr(v, "item") else v, "list record day", start, days)
                    for v in raw_days], dtype=int) if len(raw_days) else np.zeros(0, int)
    n_bins = int(np.ceil(days / bin_days))
    index = histories.patterns.astype(np.int64) @ (1 << np.arange(k - 1, -1, -1))
    cells = np.zeros((n_bins, 2**k - 1))
    np.add.at(cells, (day // bin_days, index - 1), histories.counts)
    return histories.lists, cells


def _survey_fields(survey, start, days, i):
    survey = _source(survey, SurveyObservation, "survey", i)
    if not (hasattr(survey, "deaths") and hasattr(survey, "person_days")):
        raise DataError(f"Each survey must be a SurveyObservation, an estimators.survey.mortality_rate result or a "
                        f"dict of SurveyObservation's fields; survey {i + 1} is a {type(survey).__name__}.")
    name = getattr(survey, "name", None) or f"survey {i + 1}"
    deaths = _count(getattr(survey, "deaths"), f"survey {name!r} deaths")
    person_days = _at_least(getattr(survey, "person_days"), f"survey {name!r} person_days", strict=True)
    deff = getattr(survey, "design_effect", None)
    deff = 1.0 if deff is None else deff
    if isinstance(deff, numbers.Real) and not isinstance(deff, bool) and np.isnan(deff) and deaths == 0:
        # mortality_rate has no design effect without deaths (0 / 0); nothing then shows clustering: Poisson
        deff = 1.0
    if not (isinstance(deff, numbers.Real) and not isinstance(deff, bool) and np.isfinite(deff) and deff >= 1):
        # below 1 would be read as no clustering at all (Poisson), a model the user did not ask for
        raise DataError(f"survey {name!r} design_effect must be a finite number >= 1 (1: no clustering); got "
                        f"{deff!r}. An estimate below 1 is usually noise around 1: pass design_effect=1 to model "
                        "the survey as a simple random sample.")
    deff = float(deff)
    first = getattr(survey, "start_day", getattr(survey, "recall_start", None))
    last = getattr(survey, "end_day", getattr(survey, "recall_end", None))
    return name, deaths, float(person_days), deff, _window(first, last, f"survey {name!r}", start, days, clip=True)


def prepare_data(
    *,
    days: int,
    start=None,
    lists=None,
    list_names=None,
    day_column: str = "day",
    bin_days: int = 7,
    tallies: Sequence[Tally] = (),
    surveys: Sequence = (),
    households: Sequence = (),
    population=None,
) -> DailyData:
    """Validate the sources and turn them into the arrays the model reads (see :func:`daily_rates`)."""
    # before any (bins x days) matrix is allocated
    check_param("days", days, [Interval(Integral, 2, MAX_DAYS)])
    check_param("bin_days", bin_days, [Interval(Integral, 1, None)])
    days, bin_days = int(days), int(bin_days)
    if population is None:
        raise ValueError("`population` (the population at risk: a number or a (low, high) range) is required.")
    population = _population_prior(population)
    if lists is not None:
        names, cells = _read_lists(lists, list_names, day_column, start, days, bin_days)
    else:
        if list_names is not None:
            raise DataError("`list_names` given but no `lists`.")
        names, cells = (), np.zeros((int(np.ceil(days / bin_days)), 0))
    n_bins = cells.shape[0]
    bin_matrix = np.zeros((n_bins, days))
    bin_matrix[np.arange(days) // bin_days, np.arange(days)] = 1.0

    if isinstance(tallies, Tally):
        tallies = [tallies]
    tally_names: list[str] = []
    t_counts, t_rows, t_index = [], [], []
    for i, tally in enumerate(tallies):
        tally = _source(tally, Tally, "tally", i)
        if not isinstance(tally, Tally):
            raise DataError(f"Each tally must be a Tally(name, count, start_day, end_day); got {tally!r}.")
        count = _count(tally.count, f"tally {tally.name!r} count")
        first, last = _window(tally.start_day, tally.end_day, f"tally {tally.name!r}", start, days)
        if tally.name in names:
            raise DataError(f"Tally {tally.name!r} has the name of a matched list; give it another name.")
        if tally.name not in tally_names:
            tally_names.append(tally.name)
        row = np.zeros(days)
        row[first : last + 1] = 1.0
        if any((r * row).any() for r, j in zip(t_rows, t_index) if j == tally_names.index(tally.name)):
            raise DataError(f"Tally {tally.name!r} has overlapping periods; each day may be counted once.")
        t_counts.append(count)
        t_rows.append(row)
        t_index.append(tally_names.index(tally.name))

    s_fields = [_survey_fields(s, start, days, i) for i, s in enumerate(surveys)]
    s_matrix = np.zeros((len(s_fields), days))
    for i, (_, _, _, _, (first, last)) in enumerate(s_fields):
        s_matrix[i, first : last + 1] = 1.0 / (last - first + 1)
    s_deaths = np.array([f[1] for f in s_fields])
    s_deff = np.array([f[3] for f in s_fields])
    # NB2 with variance mu + mu^2/alpha has variance/mean = design effect at mu = observed deaths.
    s_alpha = np.where(s_deff > 1.0, np.maximum(s_deaths, 0.5) / np.maximum(s_deff - 1.0, 1e-9), _POISSON_ALPHA)

    h_rows = []
    for i, h in enumerate(households):
        h = _source(h, HouseholdSummary, "household summary", i)
        if not (hasattr(h, "n_households") and hasattr(h, "n_affected")):
            raise DataError(f"Each household summary must be a HouseholdSummary, an "
                            f"estimators.survey.affected_households result or a dict of HouseholdSummary's "
                            f"fields; summary {i + 1} is a {type(h).__name__}.")
        name = getattr(h, "name", None) or f"households {i + 1}"
        n = _count(getattr(h, "n_households"), f"{name!r} n_households")
        a = _count(getattr(h, "n_affected"), f"{name!r} n_affected")
        if n < 1 or a > n:
            raise DataError(f"{name!r}: need 1 <= n_households and n_affected <= n_households; got {a!r} of {n!r}.")
        size = getattr(h, "household_size", None)
        if size is None:  # estimators.survey.AffectedHouseholds keeps it in its settings
            size = getattr(h, "settings", {}).get("household_size")
        size_sd = _at_least(getattr(h, "household_size_sd", 0.15), f"{name!r} household_size_sd")
        if isinstance(size, Sequence) and len(size) == 2:
            # a (low, high) range: a log-normal with that 95% range; an inverted one would become a fixed size
            check_param("household_size", size, [Range(Real, 0, None, closed="neither")], func_name=repr(name),
                        error=DataError)
            low, high = (float(v) for v in size)
            size, size_sd = lognormal_from_range(low, high, name=f"{name!r} household_size")
        if isinstance(size, bool) or not isinstance(size, numbers.Real):
            raise DataError(f"{name!r}: household_size must be a number or a (low, high) range; got {size!r}.")
        size = check_positive(f"{name!r} household_size", float(size))
        deff = getattr(h, "design_effect", None)
        deff = _at_least(1.0 if deff is None else deff, f"{name!r} design_effect", 1.0)
        first = getattr(h, "start_day", getattr(h, "recall_start", None))
        last = getattr(h, "end_day", getattr(h, "recall_end", None))
        window = _window(first, last, repr(name), start, days, clip=True)
        recall = getattr(h, "recall_days", None)
        recall = window[1] - window[0] + 1 if recall is None else check_positive(f"{name!r} recall_days", recall)
        h_rows.append((name, n, a, size, max(size_sd, 1e-6), deff, window, float(recall)))
    h_matrix = np.zeros((len(h_rows), days))
    for i, row in enumerate(h_rows):
        first, last = row[6]
        h_matrix[i, first : last + 1] = 1.0 / (last - first + 1)

    if not len(names) and not t_counts and not s_fields and not h_rows:
        raise DataError("No data: give at least one of `lists`, `tallies`, `surveys` or `households`.")
    return DailyData(
        days=days,
        start=None if start is None else pd.Timestamp(start),
        list_names=tuple(names),
        bin_days=bin_days,
        list_cells=cells,
        bin_matrix=bin_matrix,
        tally_names=tuple(tally_names),
        tally_counts=np.array(t_counts, dtype=float),
        tally_matrix=np.array(t_rows, dtype=float).reshape(len(t_rows), days),
        tally_index=np.array(t_index, dtype=int),
        survey_names=tuple(f[0] for f in s_fields),
        survey_deaths=s_deaths,
        survey_person_days=np.array([f[2] for f in s_fields]),
        survey_alpha=s_alpha,
        survey_matrix=s_matrix,
        household_names=tuple(r[0] for r in h_rows),
        household_n=np.array([r[1] / r[5] for r in h_rows]),
        household_affected=np.array([r[2] / r[5] for r in h_rows]),
        household_raw=np.array([(r[1], r[2], r[5]) for r in h_rows]).reshape(len(h_rows), 3),
        household_size=np.array([r[3] for r in h_rows]),
        household_size_sd=np.array([r[4] for r in h_rows]),
        household_recall=np.array([r[7] for r in h_rows], dtype=float),
        household_matrix=h_matrix,
        population=population,
    )


def identified_by(data: DailyData) -> list[str]:
    """The sources that can determine the total without a prior on it: >= 2 matched lists, surveys."""
    sources = []
    if data.k >= 2:
        sources.append("matched lists")
    if len(data.survey_deaths):
        sources.append("survey")
    if len(data.household_n):
        sources.append("affected households")
    return sources


def _default_level(data: DailyData) -> tuple[float, float]:
    """Weakly informative prior for the mean log daily rate.

    With matched lists it is the level of *listed* deaths, centred on the listed count per day; without lists but
    with a tally, the level of the tally's documented deaths, centred on its count per day; with surveys alone, the
    level of all deaths, centred on one a day. The sd of 2.5 spans a factor of 130 either way at 95%: the prior
    sets the scale, not the answer.
    """
    if data.k:
        # With lists the level parameter is that of listed deaths (see build_model).
        return float(np.log(max(data.list_cells.sum() / data.days, 0.1))), 2.5
    j = data.anchor_tally
    if j >= 0:
        # Without lists the level parameter is that of the anchor tally's documented deaths (see build_model).
        rows = data.tally_index == j
        return float(np.log(max(data.tally_counts[rows].sum() / data.tally_matrix[rows].sum(), 0.1))), 2.5
    return 0.0, 2.5


# ---------------------------------------------------------------------------------------------------------- model
@dataclass(frozen=True)
class _Structure:
    """What changes the model graph (and so needs a new compilation)."""

    shape_key: tuple
    rate_model: str
    time_varying_capture: bool
    bin_days: int


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
            bin_matrix=data.bin_matrix,
            dependence_scale=np.array(priors.dependence_scale if k >= 3 else 0.0, dtype=float),
            capture_rw_scale=np.array(priors.capture_rw_scale, dtype=float),
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
    if len(data.survey_deaths):
        values.update(
            survey_deaths=data.survey_deaths,
            survey_person_days=data.survey_person_days,
            survey_alpha=data.survey_alpha,
            survey_matrix=data.survey_matrix,
        )
    if len(data.household_n):
        values.update(
            household_n=data.household_n,
            household_affected=data.household_affected,
            household_size_prior=np.stack([np.log(data.household_size), data.household_size_sd], axis=1),
            household_recall=data.household_recall,
            household_matrix=data.household_matrix,
        )
    return values


def build_model(data: DailyData, priors: Priors, *, rate_model: str = "random_walk",
                time_varying_capture: bool = False):
    """The PyMC model for data of this shape; every value and prior setting is a ``pm.Data`` to swap later."""
    import pymc as pm
    import pytensor.tensor as pt

    values = _data_values(data, priors)
    D, k = data.days, data.k
    coords = {"day": np.arange(D)}
    with pm.Model(coords=coords) as model:
        d = {name: pm.Data(name, value) for name, value in values.items()}
        level_prior = d["level_prior"]
        level = level_prior[0] + level_prior[1] * pm.Normal("level_z", 0.0, 1.0)
        population = pm.Deterministic(
            "population", pt.exp(d["pop_prior"][0] + d["pop_prior"][1] * pm.Normal("population_z", 0.0, 1.0))
        )

        log_p = None
        if k:
            model.add_coords({"list": list(data.list_names), "bin": np.arange(data.n_bins),
                              "cell": [format(i, f"0{k}b") for i in range(1, 2**k)]})
            X = pattern_matrix(k).astype(float)
            pairs = _pairs(k)
            alpha0 = pm.Normal("capture_logit", 0.0, 1.5, dims="list")
            if time_varying_capture and data.n_bins > 1:
                tau = pm.HalfNormal("capture_rw_sigma_z", 1.0, dims="list") * d["capture_rw_scale"]
                eps = pm.Normal("capture_rw_z", 0.0, 1.0, shape=(data.n_bins - 1, k))
                drift = pt.concatenate([pt.zeros((1, k)), pt.cumsum(eps, axis=0)], axis=0)
                alpha = pm.Deterministic("capture_logit_bin", alpha0[None, :] + tau[None, :] * (drift - drift.mean(axis=0)),
                                         dims=("bin", "list"))
            else:
                alpha = pt.ones((data.n_bins, 1)) * alpha0[None, :]
            eta = pt.dot(alpha, X.T)
            if pairs:
                X2 = np.stack([X[:, i] * X[:, j] for i, j in pairs], axis=1)
                gamma = pm.Deterministic(
                    "interaction", pm.Normal("interaction_z", 0.0, 1.0, shape=len(pairs)) * d["dependence_scale"]
                )
                eta = eta + pt.dot(X2, gamma)[None, :]
            log_p = eta - pm.math.logsumexp(eta, axis=1, keepdims=True)
            # The prior's level is that of *listed* deaths, which the lists pin down whatever the capture
            # probabilities: this removes the ridge between the total and the capture probabilities that
            # otherwise slows NUTS (the unlisted share then moves the total level on its own).
            level = level - pt.log1p(-pt.exp(log_p[:, 0]).mean())
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
            expected_bin = pt.dot(d["bin_matrix"], rate)
            cell_mean = expected_bin[:, None] * pt.exp(log_p[:, 1:])
            pm.Poisson("lists_obs", mu=cell_mean, observed=d["list_cells"], dims=("bin", "cell"))
        if len(data.tally_counts):
            mean = coverage[d["tally_index"]] * pt.dot(d["tally_matrix"], rate)
            pm.Poisson("tally_obs", mu=mean, observed=d["tally_counts"])

        n_s, n_h = len(data.survey_deaths), len(data.household_n)
        if n_s + n_h:
            model.add_coords({"survey": list(data.survey_names) + list(data.household_names)})
            bias = pm.Deterministic(
                "survey_bias", pt.exp(pm.Normal("bias_z", 0.0, 1.0, dims="survey") * d["bias_scale"]),
                dims="survey",
            )
            per_person_day = None
            if n_s:
                per_person_day = pt.dot(d["survey_matrix"], rate) / population
                mu = bias[:n_s] * d["survey_person_days"] * per_person_day
                pm.Deterministic("survey_mean", mu)
                pm.NegativeBinomial("survey_obs", mu=mu, alpha=d["survey_alpha"], observed=d["survey_deaths"])
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


# Posterior quantities kept in the trace (the standardised "_z" variables are not needed after sampling).
_STORED = ("rate", "population", "rw_sigma_z", "capture_logit", "capture_logit_bin", "interaction",
           "tally_coverage", "survey_bias", "survey_mean", "household_size", "affected_share")


class DailyRatesModel:
    """A compiled joint model for one data shape; :meth:`fit` samples new data of that shape without recompiling.

    Every data value and prior setting is a ``pm.Data`` in the graph, so new data of the same shape (days, lists,
    time bins, tallies and their periods, surveys) and other prior settings reuse the compiled model; a different
    shape raises :class:`DataError`.

    Parameters
    ----------
    data : DailyData
        Data whose shape the model is built for (:func:`prepare_data`).
    priors : Priors
    rate_model : {"random_walk", "constant", "weekly"}
    time_varying_capture : bool
        Let each list's log-odds of capture follow a random walk over the time bins.

    Examples
    --------
    >>> model = DailyRatesModel(data, Priors())          # doctest: +SKIP
    >>> first = daily_rates(..., model=model)            # compiles once   # doctest: +SKIP
    >>> second = daily_rates(..., model=model)           # same shape: no recompilation   # doctest: +SKIP
    """

    def __init__(self, data: DailyData, priors: Priors | None = None, *, rate_model: str = "random_walk",
                 time_varying_capture: bool = False):
        check_choice("rate_model", rate_model, RATE_MODELS)
        self.priors = priors or Priors()
        self.structure = _Structure(data.shape_key, rate_model, bool(time_varying_capture), data.bin_days)
        self.model = build_model(data, self.priors, rate_model=rate_model, time_varying_capture=time_varying_capture)
        self.compile_seconds = None
        self.compilations = 0
        self._compiled = None

    @property
    def stored(self) -> list[str]:
        return [name for name in _STORED if name in self.model.named_vars]

    def accepts(self, data: DailyData, *, rate_model: str | None = None,
                time_varying_capture: bool | None = None) -> bool:
        """Whether ``data`` (and these structural settings) can be fitted by this compiled model."""
        return (
            data.shape_key == self.structure.shape_key
            and data.bin_days == self.structure.bin_days
            and rate_model in (None, self.structure.rate_model)
            and time_varying_capture in (None, self.structure.time_varying_capture)
        )

    def _compiled_model(self):
        if self._compiled is None:
            from ._nutpie import compile_pymc_model

            started = time.perf_counter()
            # fast-math off: otherwise the draws from a seed depend on the state of PyTensor's compile cache
            self._compiled = compile_pymc_model(self.model, backend="numba", var_names=self.stored)
            self.compile_seconds = time.perf_counter() - started
            self.compilations += 1
        return self._compiled

    def _check(self, data: DailyData):
        if not self.accepts(data):
            raise DataError(
                f"This compiled model is for data of shape {self.structure.shape_key} (days, lists, bins, tallies, "
                f"tally periods, surveys, household summaries) and bin_days={self.structure.bin_days}; got "
                f"{data.shape_key} and bin_days={data.bin_days}. Build a new DailyRatesModel."
            )

    def fit(self, data: DailyData, priors: Priors | None = None, *, draws: int = 1000, tune: int = 1000,
            chains: int = 4, cores: int = 2, random_seed: int | None = None, target_accept: float = 0.9,
            progress: bool = False):
        """Sample the posterior for ``data`` (and ``priors``): returns nutpie's DataTree and the seconds taken.

        NUTS with a low-rank-modified mass matrix (nutpie's ``adaptation="low_rank"``): the total, the capture
        probabilities and the survey bias are strongly correlated, which a diagonal mass matrix handles badly.
        """
        import nutpie

        self._check(data)
        values = _data_values(data, priors or self.priors)
        compiled = self._compiled_model()
        # Data that the graph does not use (e.g. a random-walk scale of a constant rate) is not compiled in.
        known = {var.name for var in compiled.shared_var_keys}
        compiled = compiled.with_data(**{name: value for name, value in values.items() if name in known})
        started = time.perf_counter()
        idata = nutpie.sample(compiled, draws=draws, tune=tune, chains=chains, cores=cores, seed=random_seed,
                              progress_bar=progress, adaptation="low_rank", target_accept=target_accept)
        return idata, time.perf_counter() - started

    def sample_prior(self, data: DailyData, priors: Priors | None = None, *, draws: int = 500,
                     random_seed: int | None = None) -> dict:
        """Draws of the stored quantities from the prior, as numpy arrays by name (first axis: draws)."""
        import pymc as pm

        self._check(data)
        values = _data_values(data, priors or self.priors)
        names = self.stored
        with self.model:
            pm.set_data({name: value for name, value in values.items()})
            # Forward sampling runs once per fit: the fast-compiling backend beats Numba's compile time here.
            drawn = pm.draw([self.model[n] for n in names], draws=draws, random_seed=random_seed,
                            mode="FAST_COMPILE")
        return {name: np.asarray(x) for name, x in zip(names, drawn)}


# ---------------------------------------------------------------------------------------------------------- draws
def _flat(idata, name) -> np.ndarray:
    """(chains*draws, ...) numpy draws of a posterior variable."""
    values = idata.posterior[name].values
    return values.reshape(-1, *values.shape[2:])


def _log_pattern_probabilities(alpha: np.ndarray, gamma: np.ndarray | None, k: int) -> np.ndarray:
    """log P(pattern) for draws: ``alpha`` (S, bins, k), ``gamma`` (S, pairs) -> (S, bins, 2**k)."""
    X = pattern_matrix(k).astype(float)
    eta = alpha @ X.T
    if gamma is not None and gamma.shape[-1]:
        X2 = np.stack([X[:, i] * X[:, j] for i, j in _pairs(k)], axis=1)
        eta = eta + (gamma @ X2.T)[:, None, :]
    top = eta.max(axis=-1, keepdims=True)
    return eta - top - np.log(np.exp(eta - top).sum(axis=-1, keepdims=True))


def _quantities(draws: Mapping, data: DailyData) -> dict:
    """Derived draws: expected deaths per bin, pattern probabilities, list coverage over the study."""
    rate = draws["rate"]
    out = {"rate": rate, "population": draws["population"].reshape(-1)}
    if data.k:
        S = rate.shape[0]
        if "capture_logit_bin" in draws:
            alpha = draws["capture_logit_bin"]
        else:
            alpha = np.repeat(draws["capture_logit"][:, None, :], data.n_bins, axis=1)
        gamma = draws.get("interaction")
        log_p = _log_pattern_probabilities(alpha, None if gamma is None else gamma.reshape(S, -1), data.k)
        p = np.exp(log_p)
        expected_bin = rate @ data.bin_matrix.T
        out["pattern_p"] = p
        out["expected_bin"] = expected_bin
        X = pattern_matrix(data.k).astype(float)
        coverage_bin = p @ X
        out["list_coverage"] = (expected_bin[:, :, None] * coverage_bin).sum(1) / expected_bin.sum(1)[:, None]
        out["unlisted_expected"] = (expected_bin * p[:, :, 0]).sum(1)
    if "tally_coverage" in draws:
        out["tally_coverage"] = draws["tally_coverage"].reshape(rate.shape[0], -1)
    return out


def _total_draws(q: Mapping, data: DailyData, rng) -> tuple[np.ndarray, int, str]:
    """Draws of the deaths that happened in the study, and how many of them are documented.

    Poisson thinning: given the rates, the deaths no list recorded are Poisson with mean sum_b E_b p_0b,
    independent of the listed ones; likewise the deaths a whole-period tally missed.
    """
    rate = q["rate"]
    if data.k:
        return data.n_listed + rng.poisson(q["unlisted_expected"]), data.n_listed, "listed"
    full = [j for j in range(len(data.tally_names))
            if data.tally_matrix[data.tally_index == j].sum(0).min() >= 1]
    if full:
        j = max(full, key=lambda i: data.tally_counts[data.tally_index == i].sum())
        documented = int(round(data.tally_counts[data.tally_index == j].sum()))
        missed = (1 - q["tally_coverage"][:, j]) * rate.sum(1)
        return documented + rng.poisson(missed), documented, f"on tally {data.tally_names[j]!r}"
    return rng.poisson(rate.sum(1)).astype(float), 0, "documented"


def _interval(values, level):
    tail = (1 - level) / 2
    return np.quantile(values, [tail, 0.5, 1 - tail], axis=0)


def _contraction(prior, posterior) -> float:
    """1 - posterior variance / prior variance, on the log scale (1: the data decide; 0: the prior does)."""
    prior, posterior = np.log(np.asarray(prior, float)), np.log(np.asarray(posterior, float))
    prior, posterior = prior[np.isfinite(prior)], posterior[np.isfinite(posterior)]
    if len(prior) < 2 or np.var(prior) == 0:
        return float("nan")
    return float(1 - np.var(posterior) / np.var(prior))


def _predictive_table(q: Mapping, draws: Mapping, data: DailyData, rng, level: float) -> pd.DataFrame:
    """Replicated data summaries against the observed ones, with two-sided predictive p-values."""
    rows = []

    def add(check, observed, replicated):
        replicated = np.asarray(replicated, float)
        lower, median, upper = _interval(replicated, level)
        p = min(1.0, 2 * min(np.mean(replicated >= observed), np.mean(replicated <= observed)))
        rows.append((check, float(observed), float(median), float(lower), float(upper), p))

    if data.k:
        means = q["expected_bin"][:, :, None] * q["pattern_p"][:, :, 1:]
        replicated = rng.poisson(means)
        X = pattern_matrix(data.k)[1:].astype(float)
        observed = data.list_cells
        for j, name in enumerate(data.list_names):
            add(f"list {name}: records", observed.sum(0) @ X[:, j], replicated.sum(1) @ X[:, j])
        for i, j in _pairs(data.k):
            both = X[:, i] * X[:, j]
            add(f"lists {data.list_names[i]}&{data.list_names[j]}: overlap", observed.sum(0) @ both,
                replicated.sum(1) @ both)
        add("lists: records per bin, largest", observed.sum(1).max(), replicated.sum(2).max(1))
    for j, name in enumerate(data.tally_names):
        rows_j = data.tally_index == j
        mean = q["tally_coverage"][:, [j]] * (q["rate"] @ data.tally_matrix[rows_j].T)
        add(f"tally {name}: count", data.tally_counts[rows_j].sum(), rng.poisson(mean).sum(1))
    for i, name in enumerate(data.survey_names):
        mu = draws["survey_mean"].reshape(len(q["rate"]), -1)[:, i]
        alpha = data.survey_alpha[i]
        replicated = rng.poisson(rng.gamma(alpha, mu / alpha)) if alpha < _POISSON_ALPHA else rng.poisson(mu)
        add(f"survey {name}: deaths", data.survey_deaths[i], replicated)
    for i, name in enumerate(data.household_names):
        n, affected, deff = data.household_raw[i]
        share = draws["affected_share"].reshape(len(q["rate"]), -1)[:, i]
        n_eff = max(int(round(n / deff)), 1)
        add(f"{name}: affected households", affected, rng.binomial(n_eff, share) * n / n_eff)
    return pd.DataFrame(rows, columns=["check", "observed", "median", "lower", "upper", "p_value"]).set_index("check")


# ---------------------------------------------------------------------------------------------------------- result
@dataclass(frozen=True, kw_only=True)
class DailyRatesResult:
    """Posterior of the daily death rate and of everything the sources say about it.

    Attributes
    ----------
    daily : DataFrame
        One row per study day (``day``, ``date`` when a start date was given): ``median``, ``lower``, ``upper`` of
        the expected deaths per day and ``per10k_median``, ``per10k_lower``, ``per10k_upper`` per 10,000 per day.
    mean_rate : PosteriorEstimate
        Mean daily rate over the study (deaths per day); :meth:`mean_rate_over` for any window.
    rate_per_10000 : PosteriorEstimate
        Mean deaths per 10,000 people per day over the study (population prior carried).
    total : PosteriorEstimate
        Deaths that happened in the study (documented plus the Poisson number missed).
    coverage : DataFrame
        Each matched list's and tally's coverage (share of the study's deaths it recorded) with its prior
        interval, the prior-to-posterior contraction and the undercount factor 1 / coverage.
    identifiability : DataFrame
        For the total, the mean rate, each coverage and survey bias: prior and posterior intervals, contraction
        and the sources that inform it.
    prior_predictive, posterior_predictive : DataFrame
        Data summaries replicated from the prior / posterior against the observed ones, with p-values.
    diagnostics : mapping
        R-hat, bulk and tail ESS of the mean rate and total, largest daily R-hat, divergences, seconds.
    warnings : tuple of str
    idata : xarray.DataTree
        The posterior (nutpie), with settings, seed and a settings hash in ``attrs``.
    """

    daily: pd.DataFrame
    mean_rate: PosteriorEstimate
    rate_per_10000: PosteriorEstimate
    total: PosteriorEstimate
    coverage: pd.DataFrame
    identifiability: pd.DataFrame
    prior_predictive: pd.DataFrame
    posterior_predictive: pd.DataFrame
    diagnostics: Mapping
    warnings: tuple[str, ...]
    idata: object
    level: float
    settings: Mapping
    data: DailyData = field(repr=False)
    rate_draws: np.ndarray = field(repr=False)
    population_draws: np.ndarray = field(repr=False)
    model: DailyRatesModel = field(repr=False, compare=False)

    def __getstate__(self):
        # The compiled model (PyMC graph, nutpie's Numba functions) does not pickle and is only a cache for
        # refits: a result read back from a pickle or a file compiles a new one in sensitivity().
        state = dict(self.__dict__)
        state["model"] = None
        return state

    def __repr__(self) -> str:
        rate, total = self.mean_rate, self.total
        return (f"<DailyRatesResult: {self.data.days} days, mean {rate.estimate:,.4g} deaths per day "
                f"{self.level:.0%} [{rate.interval[0]:,.4g}, {rate.interval[1]:,.4g}], total {total.estimate:,.0f} "
                f"[{total.interval[0]:,.0f}, {total.interval[1]:,.0f}], {len(self.rate_draws):,} draws"
                + (f", {len(self.warnings)} warning{'s' if len(self.warnings) > 1 else ''}>" if self.warnings
                   else ">"))

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def save(self, path) -> None:
        """Write this result and its posterior DataTree to ``path`` (a zarr store, or netCDF for a ``.nc`` name).

        Read it back with :func:`estimators.load_result`; the posterior alone opens with ``xarray.open_datatree``.
        See :func:`estimators.results.save_result`.
        """
        save_result(self, path)

    @property
    def undercount(self) -> pd.DataFrame:
        """Undercount factor (deaths per documented death, 1 / coverage) of each list and tally."""
        return self.coverage[["kind", "undercount", "undercount_lower", "undercount_upper"]]

    def _day(self, value, name):
        return _day_number(value, name, self.data.start, self.data.days)

    def mean_rate_over(self, start=None, end=None, *, per_10000: bool = False) -> PosteriorEstimate:
        """Posterior of the mean daily rate over study days ``start``..``end`` (numbers or dates, both included).

        ``per_10000=True`` gives deaths per 10,000 people per day (with the population prior).
        """
        first = 0 if start is None else self._day(start, "`start`")
        last = self.data.days - 1 if end is None else self._day(end, "`end`")
        if last < first:
            raise ValueError(f"`end` ({end!r}) is before `start` ({start!r}).")
        draws = self.rate_draws[:, first : last + 1].mean(1)
        unit = "deaths per day"
        if per_10000:
            draws = draws / self.population_draws * PER_PERSONS
            unit = "deaths per 10,000 per day"
        return PosteriorEstimate.from_draws(
            draws, level=self.level, method=f"daily_rates: mean {unit}, days {first}-{last}",
            n_observed=0, details={"unit": unit, "first day": first, "last day": last},
        )

    def sensitivity(self, alternatives: Mapping[str, Mapping] | None = None, *, draws: int | None = None,
                    random_seed: int | None = None) -> pd.DataFrame:
        """Refit under named alternative assumptions and tabulate the change of the mean daily rate and total.

        Parameters
        ----------
        alternatives : {name: {setting: value}}, optional
            Settings of :func:`daily_rates` to change: ``list_dependence``, ``dependence_scale``, ``bias_scale``,
            ``population``, ``tally_coverage_prior``, ``rw_scale``, ``rate_level_prior`` (these reuse the compiled
            model), ``rate_model`` and ``time_varying_capture`` (these compile another model). Default: lists
            independent (with >= 3 lists), the survey bias scale doubled (with a survey), the population range
            widened by a fifth either way.
        draws : int, optional
            Draws per chain of each refit (default: those of this fit).

        Returns
        -------
        DataFrame
            One row per fit (``baseline`` first): mean rate and total with bounds, their change from the baseline's
            median in percent, divergences and the largest R-hat.
        """
        settings = dict(self.settings)
        if alternatives is None:
            alternatives = {}
            if self.data.k >= 3:
                alternatives["independent lists"] = {"list_dependence": False}
            if len(self.data.survey_deaths) + len(self.data.household_n):
                alternatives["survey bias scale x2"] = {"bias_scale": 2 * settings["bias_scale"]}
            low, high = settings["population_range"]
            alternatives["population range widened 20%"] = {"population": (low * 0.8, high * 1.2)}
        if not isinstance(alternatives, Mapping):
            raise ValueError("`alternatives` must map a name to a dict of settings, e.g. "
                             "{'no dependence': {'list_dependence': False}}.")
        allowed = {"list_dependence", "dependence_scale", "bias_scale", "population", "tally_coverage_prior",
                   "rw_scale", "rate_level_prior", "rate_model", "time_varying_capture"}
        rows = [("baseline", self)]
        for name, changes in alternatives.items():
            unknown = set(changes) - allowed
            if unknown:
                raise ValueError(f"Alternative {name!r}: unknown setting(s) {sorted(unknown)!r}; allowed are "
                                 f"{sorted(allowed)!r}.")
            # the same declarations as daily_rates, before any refit compiles or samples
            check_params(f"sensitivity alternative {name!r}", daily_rates.__parameter_constraints__, changes)
            kwargs = {**settings["call"], **changes}
            population = kwargs.pop("population", None)
            if draws is not None:
                kwargs["draws"] = draws
            kwargs["random_seed"] = settings["random_seed"] if random_seed is None else resolve_seed(random_seed,
                                                                                                      bound=2**31)
            kwargs["prior_draws"] = 0
            # a result read back from a pickle or a file has no compiled model (see __getstate__)
            reuse = self.model is not None and self.model.accepts(
                self.data, rate_model=kwargs["rate_model"], time_varying_capture=kwargs["time_varying_capture"])
            model = self.model if reuse else None
            # The table reports each refit's divergences and R-hat; its warnings would repeat the baseline's.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                refit = _fit(self.data if population is None else
                             replace(self.data, population=_population_prior(population)),
                             model=model, **kwargs)
            rows.append((name, refit))
        base_rate, base_total = self.mean_rate.estimate, self.total.estimate
        table = []
        for name, fit in rows:
            table.append({
                "alternative": name,
                "mean_rate": fit.mean_rate.estimate,
                "mean_rate_lower": fit.mean_rate.interval[0],
                "mean_rate_upper": fit.mean_rate.interval[1],
                "mean_rate_change_pct": 100 * (fit.mean_rate.estimate / base_rate - 1),
                "total": fit.total.estimate,
                "total_lower": fit.total.interval[0],
                "total_upper": fit.total.interval[1],
                "total_change_pct": 100 * (fit.total.estimate / base_total - 1),
                "divergences": fit.diagnostics["divergences"],
                "max_r_hat": fit.diagnostics["max r_hat (daily rates)"],
            })
        return pd.DataFrame(table).set_index("alternative")

    def summary(self) -> Summary:
        level = f"{self.level:.0%}"
        rate10k = self.rate_per_10000
        table = pd.DataFrame(
            [
                ("mean deaths per day", self.mean_rate.estimate, *self.mean_rate.interval),
                ("mean deaths per 10,000 per day", rate10k.estimate, *rate10k.interval),
                ("total deaths", self.total.estimate, *self.total.interval),
            ]
            + [(f"coverage of {row.Index} ({row.kind})", row.median, row.lower, row.upper)
               for row in self.coverage.itertuples()],
            columns=["quantity", "median", "lower", "upper"],
        ).set_index("quantity")
        d = self.data
        facts = [
            ("days", d.days),
            ("first day", "day 0" if d.start is None else d.start.date().isoformat()),
            ("matched lists", ", ".join(d.list_names) or "none"),
            ("records on lists", d.n_listed),
            ("tallies", ", ".join(d.tally_names) or "none"),
            ("surveys", ", ".join(d.survey_names + d.household_names) or "none"),
            ("total identified by", ", ".join(identified_by(d)) or "the prior alone"),
            ("rate model", self.settings["rate_model"]),
            ("interval", f"{level} equal-tailed credible"),
            ("draws", len(self.rate_draws)),
            ("random_seed", self.settings["random_seed"]),  # the name of the argument that repeats the fit
        ]
        for key in ("r_hat", "ess_bulk", "divergences", "seconds"):
            facts.append((f"{key} (mean rate)" if key in ("r_hat", "ess_bulk") else key, self.diagnostics[key]))
        return Summary(title="Daily death rates (joint model of lists, tallies and surveys)", facts=facts,
                       table=table, notes=self.warnings)

    def __str__(self):
        return str(self.summary())

    def plot(self, ax=None, *, per_10000: bool = False, documented: bool = True, **kwargs):
        """Daily rate: posterior median with 50% and 95% bands, against the documented counts per day."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(8, 4))
        x = self.data.day_labels()
        draws = self.rate_draws / self.population_draws[:, None] * PER_PERSONS if per_10000 else self.rate_draws
        q = np.quantile(draws, [0.025, 0.25, 0.5, 0.75, 0.975], axis=0)
        color = kwargs.pop("color", "tab:blue")
        ax.fill_between(x, q[0], q[4], color=color, alpha=0.2, lw=0, label="95% credible band")
        ax.fill_between(x, q[1], q[3], color=color, alpha=0.4, lw=0, label="50% credible band")
        ax.plot(x, q[2], color=color, lw=1.5, label="posterior median", **kwargs)
        if documented and not per_10000:
            d = self.data
            if d.k:
                listed = d.list_cells.sum(1) / d.bin_matrix.sum(1)
                ax.step(x, listed[np.arange(d.days) // d.bin_days], where="mid", color="k", lw=0.8,
                        label="on any list (per day)")
            for j, name in enumerate(d.tally_names):
                rows = d.tally_index == j
                per_day_counts = (d.tally_counts[rows, None] * d.tally_matrix[rows]
                                  / d.tally_matrix[rows].sum(1, keepdims=True)).sum(0)
                ax.step(x, np.where(d.tally_matrix[rows].sum(0) > 0, per_day_counts, np.nan), where="mid",
                        color="tab:red", lw=0.8, label=f"tally {name} (per day)")
        ax.set_ylabel("deaths per 10,000 per day" if per_10000 else "deaths per day")
        ax.set_xlabel("date" if self.data.start is not None else "study day")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8, loc="upper left")
        ax.set_title(f"Daily death rate: mean {self.mean_rate.estimate:,.1f} per day "
                     f"({self.level:.0%} CrI {self.mean_rate.interval[0]:,.1f}-{self.mean_rate.interval[1]:,.1f})",
                     fontsize=9)
        return ax


# ---------------------------------------------------------------------------------------------------------- fitting
def _fit(data: DailyData, *, model, rate_model, time_varying_capture, list_dependence, dependence_scale, rw_scale,
         capture_rw_scale, tally_coverage_prior, bias_scale, rate_level_prior, level, draws, tune, chains, cores,
         prior_draws, random_seed, target_accept, progress, allow_unidentified) -> DailyRatesResult:
    started = time.perf_counter()
    if list_dependence is None:
        list_dependence = data.k >= 3
    priors = Priors(
        rate_level=None if rate_level_prior is None else tuple(float(v) for v in rate_level_prior),
        rw_scale=rw_scale,
        dependence_scale=dependence_scale if list_dependence else 0.0,
        capture_rw_scale=capture_rw_scale,
        tally_coverage=tuple(float(v) for v in tally_coverage_prior),
        bias_scale=bias_scale,
    )
    messages = []  # identifiability
    sources = identified_by(data)
    if not sources:
        message = (
            "Nothing in these data determines the total: a tally's or a single list's count says how many were "
            "recorded, not how many were missed, so the total and every coverage would be set by their priors. "
            "Add matched lists (>= 2) or a survey"
        )
        if not allow_unidentified:
            raise NonexistentEstimateError(message + "; or pass allow_unidentified=True to see the prior's answer.")
        messages.append(message + " (allow_unidentified=True: the results below are the prior's).")
    elif data.k < 2:
        messages.append(
            "The total rests on the survey alone, so on its representativeness: the bias factor's prior "
            f"(log-normal, median 1, log-scale sd {bias_scale:g}) is an assumption the data cannot check. "
            "See sensitivity({'...': {'bias_scale': ...}})."
        )
    if model is None:
        model = DailyRatesModel(data, priors, rate_model=rate_model, time_varying_capture=time_varying_capture)
    elif not model.accepts(data, rate_model=rate_model, time_varying_capture=time_varying_capture):
        raise DataError(
            f"`model` was built for shape {model.structure.shape_key}, rate_model={model.structure.rate_model!r}, "
            f"time_varying_capture={model.structure.time_varying_capture}; these data/settings need another one."
        )
    idata, sampling_seconds = model.fit(data, priors, draws=draws, tune=tune, chains=chains, cores=cores,
                                        random_seed=random_seed, target_accept=target_accept, progress=progress)
    rng = np.random.default_rng(random_seed)
    posterior = {name: _flat(idata, name) for name in model.stored}
    q = _quantities(posterior, data)
    total_draws, documented, documented_kind = _total_draws(q, data, rng)

    prior_q = prior = None
    prior_seconds = 0.0
    if prior_draws:
        prior_started = time.perf_counter()
        prior = model.sample_prior(data, priors, draws=prior_draws, random_seed=random_seed)
        prior_q = _quantities(prior, data)
        prior_seconds = time.perf_counter() - prior_started

    # diagnostics
    chains_ = idata.posterior.sizes["chain"]
    rate_chains = idata.posterior["rate"].values
    mean_chains = rate_chains.mean(-1)
    divergences = int(idata.sample_stats["diverging"].values.sum())
    diag = chain_diagnostics(mean_chains, divergences)
    total_diag = chain_diagnostics(total_draws.reshape(chains_, -1))
    daily_rhat = np.array([rank_normalized_r_hat(rate_chains[:, :, day]) for day in range(rate_chains.shape[-1])])
    diag.update({
        "total r_hat": total_diag["r_hat"], "total ess_bulk": total_diag["ess_bulk"],
        # all nan when R-hat is undefined (one chain or under 4 draws; diagnostic_messages says so), which
        # nanmax would announce with a RuntimeWarning of its own
        "max r_hat (daily rates)": float(np.nanmax(daily_rhat)) if np.isfinite(daily_rhat).any() else float("nan"),
        "compile seconds": model.compile_seconds, "sampling seconds": sampling_seconds,
        "prior seconds": prior_seconds,
    })
    convergence = diagnostic_messages(diag, "the mean daily rate")
    if np.isfinite(diag["max r_hat (daily rates)"]) and diag["max r_hat (daily rates)"] > 1.01:
        convergence.append(f"Largest R-hat of a daily rate is {diag['max r_hat (daily rates)']:.3f} (> 1.01).")

    # per-day table
    per10k = q["rate"] / q["population"][:, None] * PER_PERSONS
    lo, med, hi = _interval(q["rate"], level)
    lo10, med10, hi10 = _interval(per10k, level)
    daily = pd.DataFrame({"day": np.arange(data.days)})
    if data.start is not None:
        daily["date"] = data.day_labels()
    daily = daily.assign(median=med, lower=lo, upper=hi, per10k_median=med10, per10k_lower=lo10,
                         per10k_upper=hi10)

    # coverage and identifiability
    coverage_rows, ident_rows = [], []

    def ident(name, prior_values, post_values, informed_by):
        lower, median, upper = _interval(post_values, level)
        row = {"quantity": name, "median": median, "lower": lower, "upper": upper,
               "prior_lower": np.nan, "prior_upper": np.nan, "contraction": np.nan, "informed_by": informed_by}
        if prior_values is not None:
            p_lower, _, p_upper = _interval(prior_values, level)
            row.update(prior_lower=p_lower, prior_upper=p_upper, contraction=_contraction(prior_values, post_values))
        ident_rows.append(row)
        return row

    prior_total = None
    if prior_q is not None:
        prior_total, _, _ = _total_draws(prior_q, data, np.random.default_rng(random_seed + 1))
    total_sources = ", ".join(sources) or "prior only"
    ident("total deaths", prior_total, total_draws, total_sources)
    ident("mean deaths per day", None if prior_q is None else prior_q["rate"].mean(1), q["rate"].mean(1),
          ", ".join(["every source"] if sources else ["prior only"]))
    for j, name in enumerate(data.list_names):
        row = ident(f"coverage of list {name}", None if prior_q is None else prior_q["list_coverage"][:, j],
                    q["list_coverage"][:, j], "overlaps with the other lists" + (", survey" if len(sources) > 1 else ""))
        coverage_rows.append((name, "matched list", row, q["list_coverage"][:, j]))
    for j, name in enumerate(data.tally_names):
        row = ident(f"coverage of tally {name}", None if prior_q is None else prior_q["tally_coverage"][:, j],
                    q["tally_coverage"][:, j], f"its count against the total ({total_sources})")
        coverage_rows.append((name, "tally", row, q["tally_coverage"][:, j]))
    for i, name in enumerate(data.survey_names + data.household_names):
        ident(f"bias factor of {name}", None if prior is None else prior["survey_bias"][:, i],
              posterior["survey_bias"][:, i], "matched lists" if data.k >= 2 else "prior only (not identified)")
    identifiability = pd.DataFrame(ident_rows).set_index("quantity")
    coverage = pd.DataFrame([
        {"source": name, "kind": kind, "median": row["median"], "lower": row["lower"], "upper": row["upper"],
         "prior_lower": row["prior_lower"], "prior_upper": row["prior_upper"], "contraction": row["contraction"],
         "undercount": float(np.median(1 / draws_)),
         "undercount_lower": float(np.quantile(1 / draws_, (1 - level) / 2)),
         "undercount_upper": float(np.quantile(1 / draws_, (1 + level) / 2))}
        for name, kind, row, draws_ in coverage_rows
    ], columns=["source", "kind", "median", "lower", "upper", "prior_lower", "prior_upper", "contraction",
                "undercount", "undercount_lower", "undercount_upper"]).set_index("source")
    total_contraction = identifiability.loc["total deaths", "contraction"]
    if sources and np.isfinite(total_contraction) and total_contraction < CONTRACTION_MIN:
        messages.append(
            f"The data barely narrowed the prior of the total (contraction {total_contraction:.2f} < "
            f"{CONTRACTION_MIN}): the total is mostly set by the prior."
        )

    posterior_predictive = _predictive_table(q, posterior, data, rng, level)
    prior_predictive = (_predictive_table(prior_q, prior, data, rng, level) if prior_q is not None
                        else pd.DataFrame(columns=posterior_predictive.columns))
    misfit = []
    for check, row in posterior_predictive.iterrows():
        if row.p_value < 0.01:
            misfit.append(f"Posterior predictive check fails for {check}: observed {row.observed:,.0f}, "
                            f"replicated {row.lower:,.0f}-{row.upper:,.0f} (p = {row.p_value:.3f}); the model "
                            "does not reproduce this source.")

    for message in messages:
        _warn.warn(message, IdentifiabilityWarning)
    for message in misfit:
        _warn.warn(message, UserWarning)
    for message in convergence:
        _warn.warn(message, ConvergenceWarning)
    diag["seconds"] = time.perf_counter() - started
    population_range = (
        float(np.exp(np.log(data.population[0]) - RANGE_Z * data.population[1])),
        float(np.exp(np.log(data.population[0]) + RANGE_Z * data.population[1])),
    )
    call = dict(rate_model=rate_model, time_varying_capture=time_varying_capture,
                list_dependence=list_dependence, dependence_scale=dependence_scale, rw_scale=rw_scale,
                capture_rw_scale=capture_rw_scale, tally_coverage_prior=tuple(tally_coverage_prior),
                bias_scale=bias_scale, rate_level_prior=rate_level_prior, level=level, draws=draws, tune=tune,
                chains=chains, cores=cores, prior_draws=prior_draws, target_accept=target_accept,
                progress=progress, allow_unidentified=allow_unidentified)
    settings = dict(call, random_seed=random_seed, population_range=population_range, call=call)
    from . import __version__

    settings_hash = hashlib.sha256(json.dumps({k: v for k, v in call.items()}, sort_keys=True,
                                              default=str).encode()).hexdigest()[:16]
    idata.attrs.update({"estimator": "daily_rates", "package_version": __version__, "random_seed": random_seed,
                        "settings": json.dumps(call, default=str), "settings_hash": settings_hash})
    all_warnings = tuple(messages + misfit + convergence)
    n_draws = len(total_draws)
    mean_rate = PosteriorEstimate.from_draws(
        q["rate"].mean(1), level=level, method="daily_rates: mean deaths per day", n_observed=documented,
        diagnostics=diag, warnings=all_warnings,
        details={"unit": "deaths per day", "days": data.days, "random_seed": random_seed}, idata=idata)
    rate_per_10000 = PosteriorEstimate.from_draws(
        (q["rate"] / q["population"][:, None]).mean(1) * PER_PERSONS, level=level,
        method="daily_rates: mean deaths per 10,000 per day", n_observed=documented, warnings=all_warnings,
        details={"unit": "deaths per 10,000 per day", "days": data.days, "random_seed": random_seed})
    total = PosteriorEstimate.from_draws(
        total_draws, level=level, method="daily_rates: total deaths", n_observed=documented,
        diagnostics={k: diag[k] for k in ("total r_hat", "total ess_bulk", "divergences")},
        warnings=all_warnings, details={"documented": documented_kind, "draws": n_draws, "random_seed": random_seed},
        idata=idata)
    return DailyRatesResult(
        daily=daily, mean_rate=mean_rate, rate_per_10000=rate_per_10000, total=total, coverage=coverage,
        identifiability=identifiability, prior_predictive=prior_predictive,
        posterior_predictive=posterior_predictive, diagnostics=diag, warnings=all_warnings, idata=idata,
        level=level, settings=settings, data=data, rate_draws=q["rate"], population_draws=q["population"],
        model=model,
    )


_POSITIVE = [Interval(Real, 0, None, closed="neither")]
_COUNT = [Interval(Integral, 1, None)]


@validate_params(
    {
        "population": [*_POSITIVE, Range(Real, 0, None, closed="neither")],
        "days": [None, Interval(Integral, 2, MAX_DAYS)],
        "start": [None, Date()],
        "end": [None, Date()],
        "rate_model": [Options(RATE_MODELS)],
        "bin_days": _COUNT,
        "time_varying_capture": BOOL,
        "list_dependence": [None, Boolean()],
        "dependence_scale": [Interval(Real, 0, None)],
        "rw_scale": _POSITIVE,
        "capture_rw_scale": _POSITIVE,
        "tally_coverage_prior": [Pair(*_POSITIVE * 2, description="Beta (a, b) with finite a, b > 0")],
        "bias_scale": _POSITIVE,
        "rate_level_prior": [None, Pair(Interval(Real), *_POSITIVE, description=(
            "(mean, sd) of the mean log daily rate, both finite and sd > 0"))],
        "level": LEVEL,
        "draws": _COUNT,
        "tune": _COUNT,
        "chains": _COUNT,
        "cores": _COUNT,
        "prior_draws": [Interval(Integral, 0, None)],
        "target_accept": [Interval(Real, 0.5, 1, closed="left")],
        "allow_unidentified": BOOL,
        "random_seed": SEED,
        "progress": BOOL,
    },
    # the sources are data, checked item by item by prepare_data with messages about their content; `model` is
    # checked against the data's shape
    exempt=("lists", "list_names", "day_column", "tallies", "surveys", "households", "model"),
)
def daily_rates(
    *,
    population,
    days: int | None = None,
    start=None,
    end=None,
    lists=None,
    list_names: Sequence[str] | None = None,
    day_column: str = "day",
    tallies: Sequence[Tally] = (),
    surveys: Sequence = (),
    households: Sequence = (),
    rate_model: str = "random_walk",
    bin_days: int = 1,
    time_varying_capture: bool = False,
    list_dependence: bool | None = None,
    dependence_scale: float = 0.5,
    rw_scale: float = 0.1,
    capture_rw_scale: float = 0.1,
    tally_coverage_prior: tuple[float, float] = (1.0, 1.0),
    bias_scale: float = 0.3,
    rate_level_prior: tuple[float, float] | None = None,
    level: float = 0.95,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    cores: int = 2,
    prior_draws: int = 500,
    target_accept: float = 0.9,
    allow_unidentified: bool = False,
    model: DailyRatesModel | None = None,
    random_seed: int | None = None,
    progress: bool = False,
) -> DailyRatesResult:
    """Daily death rates from matched lists, unmatched tallies and surveys, fitted jointly.

    The model (module docstring): expected deaths ``rate[d]`` on study day ``d``, ``log rate`` a Gaussian random
    walk (``rate_model="random_walk"``; ``"weekly"``: a random walk over weeks; ``"constant"``). Matched lists
    contribute the counts of their capture patterns per bin of ``bin_days`` days (Poisson, log-linear pattern
    probabilities, two-way list interactions with a normal(0, ``dependence_scale``) prior, the unlisted cell
    marginalised); a tally contributes Poisson(coverage x deaths in its period), coverage ~ Beta
    (``tally_coverage_prior``); a survey contributes NegBin(bias x person-days x rate / population) with the
    dispersion from its design effect; an affected-households summary contributes a binomial on households with
    a death, its sample size divided by the design effect. Every survey has a representativeness factor
    ``bias`` ~ LogNormal(0, ``bias_scale``).

    Assumptions: the lists' capture of a death does not depend on its day except through ``time_varying_capture``;
    no three-way list interaction (with three lists the total is identified only under this); a tally's coverage
    is constant over its periods; the tally and the lists are thinned independently from the same deaths; a
    survey's rate over its recall window holds for the part of the window inside the study; the population at
    risk is constant over the study (its uncertainty, not its change, is modelled).

    Parameters
    ----------
    population : float or (float, float)
        Population at risk, or a (low, high) range read as the 95% interval of a log-normal prior.
    days : int, optional
        Number of study days; or give ``start`` and ``end`` dates (both included).
    start, end : date-like, optional
        First and last study day; with ``start``, days in the data may be dates.
    lists : DataFrame or CaptureHistories, optional
        Matched lists: one 0/1 column per list, a ``day_column`` (study-day number or date) and an optional
        ``count`` column; or CaptureHistories with a ``day_column`` covariate.
    list_names : sequence of str, optional
        Which columns are lists (default: every column but the day and count).
    tallies : sequence of Tally
        Unmatched counts, each for a period of days.
    surveys : sequence of SurveyObservation (or survey.mortality_rate results)
    households : sequence of HouseholdSummary (or survey.affected_households results)
    rate_model : {"random_walk", "constant", "weekly"}
    bin_days : int
        Width of the lists' time bins in days (1: daily cells).
    time_varying_capture : bool
        Each list's log-odds of capture follows a random walk over bins (half-normal step scale
        ``capture_rw_scale``).
    list_dependence : bool, optional
        Allow two-way list interactions (default: with three or more lists).
    dependence_scale, rw_scale, tally_coverage_prior, bias_scale, rate_level_prior
        Prior settings (:class:`Priors`).
    level : float
        Credible level of the intervals.
    draws, tune, chains, cores, target_accept
        nutpie's NUTS settings.
    prior_draws : int
        Prior draws for the identifiability table and the prior predictive check (0: skip).
    allow_unidentified : bool
        Fit even when nothing but the prior determines the total (an IdentifiabilityWarning instead of an error).
    model : DailyRatesModel, optional
        A compiled model for data of this shape, reused without recompiling.
    random_seed : int, optional
        Seeds NUTS, the prior draws and the draws of the missed deaths (a Generator gives an integer drawn from
        it; None fresh entropy). The integer used is in ``settings["random_seed"]`` and in the ``details`` of
        ``mean_rate``, ``rate_per_10000`` and ``total``; passing it again repeats the fit.

    Returns
    -------
    DailyRatesResult
        ``daily``, ``mean_rate`` (and ``mean_rate_over``), ``rate_per_10000``, ``total``, ``coverage`` (with
        undercount factors), ``identifiability``, ``prior_predictive``, ``posterior_predictive``,
        ``diagnostics``, ``warnings``, ``idata``, ``plot()``, ``sensitivity()``, ``summary()``.

    Raises
    ------
    NonexistentEstimateError
        When no source can determine the total (only tallies or a single list) and ``allow_unidentified`` is
        False.
    DataError
        Malformed sources: days outside the study, negative counts, unknown list names, a model of another shape.

    Warns
    -----
    IdentifiabilityWarning
        The total rests on a prior (no lists nor survey) or on the survey's bias prior alone; or the data barely
        narrowed the prior of the total.
    ConvergenceWarning
        R-hat > 1.01, bulk or tail ESS < 400 for the mean rate, divergent transitions.

    References
    ----------
    1. Fienberg, S. E. (1972). The multiple recapture census for closed populations and incomplete 2^k
       contingency tables. *Biometrika* 59(3):591-603.
    2. Ball, P. et al. (2002). *Killings and Refugee Flow in Kosovo, March-June 1999*. AAAS.
    3. Checchi, F. & Roberts, L. (2005). Interpreting and using mortality data in humanitarian emergencies.
       *HPN Network Paper* 52, ODI.
    4. Talts, S. et al. (2018). Validating Bayesian inference algorithms with simulation-based calibration.
       arXiv:1804.06788.

    Examples
    --------
    >>> from estimators.daily import simulate_conflict
    >>> sim = simulate_conflict(60, random_seed=1)
    >>> fit = daily_rates(days=60, lists=sim.lists, surveys=[sim.survey],
    ...                   population=(450_000, 550_000), draws=300, tune=300, random_seed=1)  # doctest: +SKIP
    >>> fit.mean_rate.interval                                                                    # doctest: +SKIP
    """
    # the options were checked by @validate_params; what remains relates them to each other
    level = check_level(level)
    if days is None:
        if start is None or end is None:
            raise ValueError("Give `days` (the number of study days) or both `start` and `end` dates.")
        days = int((pd.Timestamp(end) - pd.Timestamp(start)).days) + 1
        if days < 2:
            raise ValueError(f"`end` ({end!r}) must be at least one day after `start` ({start!r}).")
    elif end is not None and start is not None and int((pd.Timestamp(end) - pd.Timestamp(start)).days) + 1 != days:
        raise ValueError(f"`days`={days} disagrees with `start`={start!r} and `end`={end!r}; give one or the other.")
    # nutpie and PyMC take an integer seed; the one used is recorded in the result
    random_seed = resolve_seed(random_seed, bound=2**31)
    if isinstance(surveys, SurveyObservation) or hasattr(surveys, "person_days"):
        surveys = [surveys]
    if isinstance(households, HouseholdSummary) or hasattr(households, "n_affected"):
        households = [households]
    data = prepare_data(days=days, start=start, lists=lists, list_names=list_names, day_column=day_column,
                        bin_days=bin_days, tallies=tallies, surveys=surveys, households=households,
                        population=population)
    if list_dependence and data.k < 3:
        raise ValueError(f"`list_dependence=True` needs three or more matched lists (got {data.k}): with two lists "
                         "their interaction is not identified.")
    return _fit(data, model=model, rate_model=rate_model, time_varying_capture=time_varying_capture,
                list_dependence=list_dependence, dependence_scale=dependence_scale, rw_scale=rw_scale,
                capture_rw_scale=capture_rw_scale, tally_coverage_prior=tally_coverage_prior,
                bias_scale=bias_scale, rate_level_prior=rate_level_prior, level=level, draws=draws, tune=tune,
                chains=chains, cores=cores, prior_draws=prior_draws, random_seed=random_seed,
                target_accept=target_accept, progress=progress, allow_unidentified=allow_unidentified)


# ---------------------------------------------------------------------------------------------------------- simulation
@dataclass(frozen=True)
class SimulatedConflict:
    """A simulated conflict: the sources an analyst would have, and the truth behind them.

    Attributes
    ----------
    lists : DataFrame
        Matched lists: one 0/1 column per list, ``day`` and ``count`` (one row per observed pattern and day).
    survey : SurveyObservation
        The clustered survey's deaths, person-days, estimated design effect and recall window.
    survey_households : DataFrame
        The survey's households: ``cluster``, ``members``, ``deaths``, ``person_days``.
    tallies : tuple of Tally
        Unmatched tallies (empty unless ``tally_coverage`` was given).
    rate : ndarray
        True expected deaths per day.
    deaths : ndarray
        Deaths that happened each day.
    population : float
    coverage : DataFrame
        Each list's true coverage per day.
    """

    lists: pd.DataFrame
    survey: SurveyObservation | None
    survey_households: pd.DataFrame | None
    tallies: tuple
    rate: np.ndarray
    deaths: np.ndarray
    population: float
    coverage: pd.DataFrame
    settings: Mapping = field(default_factory=dict)

    @property
    def days(self) -> int:
        return len(self.rate)

    @property
    def total(self) -> int:
        return int(self.deaths.sum())

    @property
    def mean_rate(self) -> float:
        return float(self.rate.mean())


def _logit_shift_for_coverage(alpha, gamma_matrix, j, target):
    """Shift of list j's main effect that makes its marginal coverage equal ``target`` (for drifting coverage)."""
    from scipy.optimize import brentq

    def coverage(shift):
        a = np.array(alpha, dtype=float)
        a[j] += shift
        return _pattern_probabilities(a, gamma_matrix)[1] - target

    return brentq(lambda s: coverage(s)[j], -20, 20)


def _pattern_probabilities(alpha, gamma_matrix):
    k = len(alpha)
    X = pattern_matrix(k).astype(float)
    eta = X @ np.asarray(alpha, float) + np.einsum("hi,ij,hj->h", X, np.triu(gamma_matrix, 1), X)
    p = np.exp(eta - eta.max())
    p /= p.sum()
    return p, p @ X


def simulate_conflict(
    days: int = 120,
    *,
    mean_rate: float = 50.0,
    rw_sd: float = 0.08,
    capture_logits: Sequence[float] = (-0.8, -1.2, -1.6),
    interactions: Mapping[tuple[int, int], float] | None = None,
    coverage_change: Mapping[int, tuple[int, float]] | None = None,
    population: float = 500_000.0,
    survey_clusters: int | None = 30,
    households_per_cluster: int = 20,
    household_size: float = 6.0,
    cluster_sd: float = 0.4,
    survey_bias: float = 1.0,
    tally_coverage: float | None = None,
    random_seed=None,
) -> SimulatedConflict:
    """Simulate a conflict's daily deaths and the sources that record them (the joint model's generative story).

    The log rate is a Gaussian random walk around ``log(mean_rate)``; each day's deaths are Poisson. Each death
    falls in capture pattern ``h`` with log-linear probability ``exp(h.alpha + sum h_i h_j gamma_ij) / Z``
    (heterogeneous lists through ``capture_logits``, dependent lists through ``interactions``). A survey of
    ``survey_clusters`` x ``households_per_cluster`` households over the whole study has cluster frailties
    (log-normal, sd ``cluster_sd``) and is biased by the factor ``survey_bias``.

    Parameters
    ----------
    coverage_change : {list index: (day, factor)}, optional
        From ``day`` on, the list's marginal coverage is ``factor`` times what it was (misspecification study).
    tally_coverage : float, optional
        Add an unmatched tally recording each death with this probability, independently of the lists.

    Examples
    --------
    >>> sim = simulate_conflict(120, random_seed=1)
    >>> sim.lists.columns.tolist()
    ['A', 'B', 'C', 'day', 'count']
    """
    from ._validation import check_random_seed

    days = check_positive_int("days", days, minimum=2)
    rng = check_random_seed(random_seed)
    for name, value in (("mean_rate", mean_rate), ("population", population), ("household_size", household_size)):
        check_positive(name, value)
    if household_size < 1:
        raise ValueError(f"`household_size` is the mean number of members (>= 1); got {household_size!r}.")
    for name, value in (("rw_sd", rw_sd), ("cluster_sd", cluster_sd), ("survey_bias", survey_bias)):
        _at_least(value, f"`{name}`", error=ValueError)
    if survey_clusters:
        # the survey's design effect compares clusters: one cluster has no between-cluster variance
        check_positive_int("survey_clusters", survey_clusters, minimum=2)
        check_positive_int("households_per_cluster", households_per_cluster)
    if tally_coverage is not None and not (isinstance(tally_coverage, numbers.Real) and 0 <= tally_coverage <= 1):
        raise ValueError(f"`tally_coverage` must be None or a probability in [0, 1]; got {tally_coverage!r}.")
    k = len(capture_logits)
    if k < 1 or not np.all(np.isfinite(np.asarray(capture_logits, dtype=float))):
        raise ValueError(f"`capture_logits` must be one finite log-odds per list (at least one); got {capture_logits!r}.")
    names = [chr(ord("A") + j) for j in range(k)]
    if interactions is None:
        interactions = {(0, 1): 0.6, (1, 2): -0.4} if k >= 3 else {}
    gamma = np.zeros((k, k))
    for pair, value in interactions.items():
        if not (isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(j, numbers.Integral) and 0 <= j < k
                                                                   for j in pair) and pair[0] != pair[1]):
            raise ValueError(f"`interactions` keys must be pairs of two different list indices in 0..{k - 1}; "
                             f"got {pair!r}.")
        i, j = pair
        gamma[min(i, j), max(i, j)] = value
    walk = np.concatenate([[0.0], np.cumsum(rng.normal(0, rw_sd, days - 1))])
    rate = mean_rate * np.exp(walk - walk.mean())
    deaths = rng.poisson(rate)

    alpha = np.array(capture_logits, dtype=float)
    _, coverage_before = _pattern_probabilities(alpha, gamma)
    shifts = {}  # list index -> (first day changed, shift of its log-odds)
    for j, change in (coverage_change or {}).items():
        if not (isinstance(j, numbers.Integral) and 0 <= j < k and isinstance(change, Sequence) and len(change) == 2):
            raise ValueError(f"`coverage_change` maps a list index in 0..{k - 1} to (day, factor); got {j!r}: "
                             f"{change!r}.")
        day, factor = change
        target = coverage_before[j] * factor
        if not (isinstance(day, numbers.Integral) and 0 <= day < days) or not 0 < target < 1:
            raise ValueError(f"`coverage_change` of list {j}: the day must be in 0..{days - 1} and factor x coverage "
                             f"({coverage_before[j]:.3f}) in (0, 1); got day {day!r}, factor {factor!r}.")
        shifts[j] = (int(day), _logit_shift_for_coverage(alpha, gamma, j, target))
    # each list changes on its own day: the pattern probabilities of a day depend on which lists have changed
    regimes = {}
    rows, coverage_rows = [], []
    for d in range(days):
        changed = tuple(j for j, (day, _) in sorted(shifts.items()) if d >= day)
        if changed not in regimes:
            shifted = alpha.copy()
            for j in changed:
                shifted[j] += shifts[j][1]
            regimes[changed] = _pattern_probabilities(shifted, gamma)
        p, list_coverage = regimes[changed]
        coverage_rows.append(list_coverage)
        cells = rng.multinomial(deaths[d], p)
        for index in np.flatnonzero(cells[1:]) + 1:
            rows.append((*((index >> np.arange(k - 1, -1, -1)) & 1), d, cells[index]))
    lists = pd.DataFrame(rows, columns=[*names, "day", "count"])
    coverage = pd.DataFrame(coverage_rows, columns=names)

    survey = households = None
    if survey_clusters:
        n = survey_clusters * households_per_cluster
        cluster = np.repeat(np.arange(survey_clusters), households_per_cluster)
        frailty = np.exp(rng.normal(-cluster_sd**2 / 2, cluster_sd, survey_clusters))[cluster]
        members = 1 + rng.poisson(household_size - 1, n)
        person_days = members * float(days)
        deaths_h = rng.poisson(survey_bias * frailty * person_days * rate.mean() / population)
        households = pd.DataFrame({"cluster": cluster, "members": members, "deaths": deaths_h,
                                   "person_days": person_days})
        by = households.groupby("cluster")[["deaths", "person_days"]].sum().to_numpy()
        y, e = by[:, 0], by[:, 1]
        r = y.sum() / e.sum()
        m = len(y)
        var_cluster = m / (m - 1) * np.sum((y - r * e) ** 2) / e.sum() ** 2
        var_srs = max(r, 0.5 / e.sum()) / e.sum()
        survey = SurveyObservation(deaths=float(y.sum()), person_days=float(e.sum()),
                                   design_effect=float(max(var_cluster / var_srs, 1.0)),
                                   start_day=0, end_day=days - 1, name="survey")
    tallies = ()
    if tally_coverage is not None:
        tallies = (Tally("tally", float(rng.binomial(deaths.sum(), tally_coverage)), 0, days - 1),)
    settings = dict(days=days, mean_rate=mean_rate, rw_sd=rw_sd, capture_logits=list(capture_logits),
                    interactions={f"{i}-{j}": v for (i, j), v in interactions.items()},
                    coverage_change=dict(coverage_change or {}), population=population,
                    survey_bias=survey_bias, tally_coverage=tally_coverage)
    return SimulatedConflict(lists=lists, survey=survey, survey_households=households, tallies=tallies,
                             rate=rate, deaths=deaths, population=float(population), coverage=coverage,
                             settings=settings)
