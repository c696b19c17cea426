"""The sources of the joint daily-rates model and their validation: tallies, surveys, affected households and
matched lists with the day of death, read into the arrays the model reads (:func:`prepare_data`).

Days are 0-based study-day numbers, or dates when a ``start`` date is given (``_days``).
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import _warn
from .._validation import (
    Date,
    InstanceOf,
    Integral,
    Interval,
    Range,
    Real,
    check_param,
    check_positive,
    validate_params,
)
from ..exceptions import DataError
from ..histories import CaptureHistories, _coverage_warnings, pattern_index, pattern_rows
from ..results import lognormal_from_range
from ._days import _window, list_presence, record_windows

# A Poisson survey is a negative binomial with this dispersion (no clustering).
_POISSON_ALPHA = 1e8
# The most study days: the model holds dense (bins x days) matrices, days x days with daily bins (8 bytes a cell),
# so 20,000 days would allocate 3 GB before anything else; ten years of days is ~100 MB.
MAX_DAYS = 3660
# SurveyObservation.from_survey warns when a roster's people at risk per day vary more than this (max - min over
# the mean) over the recall window: the daily model takes them as constant.
_PERSON_TIME_SPREAD = 0.2
# The largest count a source may report: beyond it float sums stop being exact and int64 totals overflow.
MAX_COUNT = 10**12


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
    (with ``deaths``, ``person_days``, ``design_effect`` and ``recall_start``/``recall_end``) are accepted too;
    :meth:`from_survey` builds the observation from such a result in study days, with a roster's death dates.

    ``death_days`` (optional) gives each of the ``deaths`` its day of death as reported: a date, a study-day
    number, a :class:`pandas.Period` (known to its week or month) or missing. The dates then enter the daily
    model as events in time: given the survey's total, the deaths fall on the days of the recall window in
    proportion to the daily rate (person-time taken as constant over the window), so they inform the shape of
    the death curve as well as its level. A missing date adds nothing beyond the count; a coarse date adds the
    rate summed over its days.
    """

    deaths: float
    person_days: float
    design_effect: float = 1.0
    start_day: object = None
    end_day: object = None
    name: str = "survey"
    death_days: object = None

    @classmethod
    @validate_params(
        {
            "start": [Date()],
            "end": [None, Date()],
            "row": [None, InstanceOf(str, "a row label of the result's table (e.g. 'deaths [cause=violence]')")],
            "name": [InstanceOf(str, "a name (str)")],
        },
        exempt=("result",),  # a mortality_rate result: its fields are checked below with messages about them
    )
    def from_survey(cls, result, start, *, end=None, row: str | None = None,
                    name: str = "survey") -> SurveyObservation:
        """The survey observation of a :func:`estimators.survey.mortality_rate` result, in study days.

        Deaths, person-days and the design effect come from the result (unweighted counts, as
        :func:`estimators.daily_rates` reads them); the recall window becomes study days counted from ``start``;
        a roster's death dates become ``death_days``, so its deaths enter the daily model as events in time.
        A household-level result has no dates: its deaths enter as one count over the recall window.

        Parameters
        ----------
        result : SurveyRate
            From :func:`estimators.survey.mortality_rate`, with ``recall_start`` and ``recall_end`` as dates
            (a roster always has them).
        start : date-like
            The study's first day, as given to :func:`estimators.daily_rates` (study day 0).
        end : date-like, optional
            The study's last day; if given, the recall window must end by then.
        row : str, optional
            A row of ``result.table`` whose person-time is the whole sample's: the all-cause deaths (default) or
            a cause (``"deaths [cause=violence]"``). A group's row (age, sex, region) is refused: the daily model
            describes the whole population.
        name : str
            The survey's name in the daily model's tables.

        Returns
        -------
        SurveyObservation

        Raises
        ------
        DataError
            The recall window has no dates, or starts before ``start`` or ends after ``end``: the survey's deaths
            and person-time would be read as if they all fell inside the study.

        Warns
        -----
        UserWarning
            The roster's people at risk per day vary by more than 20% (of their mean) over the recall window.

        Notes
        -----
        Assumption: the daily model takes the survey's person-time as constant over the recall window; the dated
        deaths fall on the window's days in proportion to the daily death rate alone. Where the population
        sampled grew or shrank much during the window (arrivals, departures, births, deaths), the early or late
        days carry more or less person-time than the model gives them; the roster's person-time per day is in
        ``result.daily_person_days``, and a variation above 20% is warned about.
        A design effect below 1 (noise around 1) is taken as 1, with a warning.

        Examples
        --------
        >>> import pandas as pd
        >>> from estimators import SurveyObservation
        >>> from estimators.survey import mortality_rate
        >>> roster = pd.DataFrame({"cluster": [1, 1, 2, 2], "household": [1, 1, 1, 1], "age": [30, 40, 25, 60],
        ...                        "death_date": [None, "2024-02-10", None, "2024-03-01"]})
        >>> survey = mortality_rate(roster, roster=True, recall_start="2024-01-01", recall_end="2024-03-30")
        >>> obs = SurveyObservation.from_survey(survey, start="2023-12-01", name="roster survey")
        >>> obs.deaths, obs.start_day, obs.end_day, obs.death_days
        (2, 31, 120, [71, 91])
        """
        if not (hasattr(result, "table") and hasattr(result, "recall_start") and hasattr(result, "person_days")):
            raise DataError(f"`result` must be an estimators.survey.mortality_rate result; got "
                            f"{type(result).__name__}.")
        if result.recall_start is None or result.recall_end is None:
            raise DataError("The survey's recall window has no dates: run mortality_rate with `recall_start` and "
                            "`recall_end` (dates) so that it can be placed on the study days.")
        origin = pd.Timestamp(start).normalize()
        first, last = (pd.Timestamp(result.recall_start) - origin).days, (pd.Timestamp(result.recall_end) - origin).days
        window = f"{result.recall_start:%Y-%m-%d} to {result.recall_end:%Y-%m-%d}"
        if first < 0:
            raise DataError(f"The survey's recall window ({window}) starts before the study start ({start}): its "
                            "deaths and person-time would be placed inside the study. Start the study (`start`) "
                            "at or before the recall start.")
        if end is not None and pd.Timestamp(result.recall_end) > pd.Timestamp(end).normalize():
            raise DataError(f"The survey's recall window ({window}) ends after the study end ({end}); end the "
                            "study (`end`) at or after the recall end.")
        table = result.table
        label = table.index[0] if row is None else row
        if label not in table.index:
            raise ValueError(f"`row` must be one of {list(table.index)!r}; got {row!r}.")
        line = table.loc[label]
        if not np.isclose(float(line["person_days"]), float(result.person_days)):
            raise ValueError(f"`row` {label!r} is a group's rate (its person-time is part of the sample's); the "
                             "daily model describes the whole population: give the all-cause row or a cause row.")
        deff = float(line["design_effect"])
        if np.isfinite(deff) and deff < 1:
            _warn.warn(f"The survey's design effect {deff:.3g} is below 1 (noise around 1): taken as 1, no "
                       "clustering.")
            deff = 1.0
        dates = None if result.death_dates is None else result.death_dates[label]
        daily = result.daily_person_days
        if daily is not None and len(daily) > 1 and daily.mean() > 0:
            spread = float((daily.max() - daily.min()) / daily.mean())
            if spread > _PERSON_TIME_SPREAD:
                _warn.warn(f"The roster's people at risk per day range from {daily.min():,.0f} to "
                           f"{daily.max():,.0f} over the recall window ({spread:.0%} of their mean); the daily "
                           "model takes the survey's person-time as constant over the window, so the dated deaths "
                           "of the fuller days weigh as much as those of the emptier ones.")
        return cls(
            deaths=int(line["deaths"]),
            person_days=float(line["person_days"]),
            design_effect=deff,
            start_day=first,
            end_day=last,
            name=name,
            death_days=None if dates is None else [int((date - origin).days) for date in dates],
        )


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
    list_cells: np.ndarray  # (bins, 2**k - 1) pattern counts of the records with an exact day
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
    # dated survey deaths: those dated to the day as (surveys, days) counts (a shape that does not depend on the
    # dates, so new data refit the compiled model); those dated to a week or month as windows of days with
    # their counts and the survey of each
    survey_day_counts: np.ndarray
    survey_event_first: np.ndarray
    survey_event_last: np.ndarray
    survey_event_counts: np.ndarray
    survey_event_survey: np.ndarray
    household_names: tuple[str, ...]
    household_n: np.ndarray  # effective households (n / design effect)
    household_affected: np.ndarray  # effective affected households
    household_raw: np.ndarray  # (n_households, n_affected, design_effect) as given
    household_size: np.ndarray
    household_size_sd: np.ndarray
    household_recall: np.ndarray  # days in the recall window
    household_matrix: np.ndarray
    population: tuple[float, float]  # (median, log-scale sd)
    # records whose day is known only to a window of days (a week, a month; the whole study when missing)
    coarse_cells: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (windows, 2**k - 1) counts
    coarse_first: np.ndarray = field(default_factory=lambda: np.zeros(0, int))  # (windows,) first study day
    coarse_last: np.ndarray = field(default_factory=lambda: np.zeros(0, int))  # (windows,) last day (included)
    # which lists exist on each day (list_windows): day_group (days,) indexes presence (groups, k) 0/1
    presence: np.ndarray = field(default_factory=lambda: np.ones((1, 0), bool))
    day_group: np.ndarray | None = None
    # width of the steps of the lists' capture random walk (time_varying_capture), a multiple of bin_days
    capture_bin_days: int = 7

    def __setstate__(self, state):
        # data pickled before capture_bin_days existed (a result saved by an older version) had the capture walk
        # step with every bin of counts; the class default (7) would misstate those fits and their refits
        state = dict(state)
        state.setdefault("capture_bin_days", state["bin_days"])
        self.__dict__.update(state)

    @property
    def k(self) -> int:
        return len(self.list_names)

    @property
    def n_bins(self) -> int:
        return self.list_cells.shape[0]

    @property
    def n_listed(self) -> int:
        return int(round(self.list_cells.sum() + self.coarse_cells.sum()))

    @property
    def n_windows(self) -> int:
        return len(self.coarse_first)

    @property
    def n_capture_bins(self) -> int:
        """Steps of the capture random walk over the study (``capture_bin_days`` days each)."""
        return int(np.ceil(self.days / self.capture_bin_days))

    @property
    def capture_bin_of_bin(self) -> np.ndarray:
        """(bins,) the capture step each bin of counts falls in."""
        return np.arange(self.n_bins) * self.bin_days // self.capture_bin_days

    @property
    def groups(self) -> np.ndarray:
        """(days,) index of each day's set of lists present (all zeros without ``list_windows``)."""
        return np.zeros(self.days, int) if self.day_group is None else self.day_group

    def list_present(self) -> np.ndarray:
        """(days, k) bool: whether each list exists on each day."""
        return self.presence[self.groups]

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
            len(self.survey_event_counts),
            len(self.household_n),
            self.n_windows,
            len(self.presence),
        )

    def day_labels(self):
        if self.start is None:
            return np.arange(self.days)
        return pd.date_range(self.start, periods=self.days, freq="D")


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
            with warnings.catch_warnings():
                # its check of lists without records for a stretch knows nothing of list_windows;
                # prepare_data makes it with them
                warnings.filterwarnings("ignore", message="List .* has no records from", category=UserWarning)
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
        raise DataError(
            f"At most 6 matched lists are supported (2**k pattern cells per bin); got {k}: "
            f"{', '.join(map(str, histories.lists))}. Merge lists of the same kind (a death on either is on the "
            "merged list), or keep six here and pass the others as tallies (Tally: their counts per period); "
            "estimators.latent_class estimates the total from all of them."
        )
    raw_days = histories.covariates[day_column]
    if raw_days.dtype.kind == "M":
        # numpy datetimes: item() can give nanoseconds since 1970; Timestamps keep them dates. Day numbers are
        # left as numbers, even with `start` (to_datetime would read them as nanoseconds too).
        raw_days = pd.to_datetime(raw_days)
    first, last = record_windows(list(raw_days), start, days)
    index = pattern_index(histories.patterns)
    return histories.lists, first, last, index, np.asarray(histories.counts, dtype=float)


def _list_arrays(names, first, last, index, counts, present, start, days, bin_days):
    """Exact-day pattern counts per bin, coarse-window pattern counts, and the lists' presence groups.

    A record on a list dated (or coarsely dated) wholly outside that list's window is a :class:`DataError`.
    """
    k = len(names)
    on = pattern_rows(index, k)  # (records, k)
    cum = np.vstack([np.zeros((1, k), int), np.cumsum(present, axis=0)])
    inside = (cum[last + 1] - cum[first]) > 0  # the record's window meets each list's window
    for j, name in enumerate(names):
        bad = (on[:, j] == 1) & ~inside[:, j]
        if bad.any():
            days_in = np.flatnonzero(present[:, j])
            show = ((lambda d: (pd.Timestamp(start) + pd.Timedelta(days=int(d))).strftime("%Y-%m-%d"))
                    if start is not None else (lambda d: f"day {int(d)}"))
            window = (f"{show(days_in[0])} to {show(days_in[-1])}" if len(days_in) else "no study day")
            raise DataError(
                f"{int(round(counts[bad].sum())):,} record(s) on list {name!r} are dated outside its window in "
                f"`list_windows` ({window}): a list cannot record a death on a day it did not exist. Correct "
                f"those dates, or widen list_windows[{name!r}] to cover them."
            )
    n_bins = int(np.ceil(days / bin_days))
    exact = first == last
    cells = np.zeros((n_bins, 2**k - 1))
    np.add.at(cells, (first[exact] // bin_days, index[exact] - 1), counts[exact])
    windows, where = np.unique(np.stack([first[~exact], last[~exact]], axis=1).reshape(-1, 2), axis=0,
                               return_inverse=True)
    coarse = np.zeros((len(windows), 2**k - 1))
    np.add.at(coarse, (where.reshape(-1), index[~exact] - 1), counts[~exact])
    presence, day_group = np.unique(present, axis=0, return_inverse=True)
    return cells, coarse, windows[:, 0].astype(int), windows[:, 1].astype(int), presence, day_group.reshape(-1)


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
    window = _window(first, last, f"survey {name!r}", start, days, clip=True)
    events = survey_events(getattr(survey, "death_days", None), deaths, window, name, start, days)
    return name, deaths, float(person_days), deff, window, events


def _distinct(names) -> tuple[str, ...]:
    """Source names made distinct for the model's labels: a repeated name gets its position, e.g. 'survey (2)'.

    Examples
    --------
    >>> _distinct(["survey", "survey", "Amnesty"])
    ('survey', 'survey (2)', 'Amnesty')
    """
    out = []
    for i, name in enumerate(names):
        out.append(f"{name} ({i + 1})" if name in names[:i] else name)
    return tuple(out)


def survey_events(death_days, deaths: float, window: tuple[int, int], name: str, start, days: int):
    """A survey's dated deaths as ``(first, last, count)`` windows of study days inside its recall window.

    Deaths without a date, and dates whose days cover the whole recall window, say nothing about when deaths
    happened and are left out (they count in the survey's total). A date outside the recall window is an error.

    Examples
    --------
    >>> survey_events([3, 3, None, pd.Period("2017-02", "M")], 4, (0, 20), "s", "2017-01-31", 30)
    (array([1, 3]), array([20,  3]), array([1., 2.]))
    """
    empty = np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    if death_days is None:
        return empty
    if isinstance(death_days, (str, bytes)) or not hasattr(death_days, "__len__"):
        raise DataError(f"survey {name!r} death_days must be a sequence with one day (or a missing value) per "
                        f"death; got {type(death_days).__name__}.")
    values = list(death_days.to_numpy() if hasattr(death_days, "to_numpy") else death_days)
    if len(values) != round(deaths):
        raise DataError(f"survey {name!r} has {deaths:g} deaths but {len(values)} death_days; give one day (or a "
                        "missing value) per death.")
    if hasattr(death_days, "dtype") and np.dtype(getattr(death_days, "dtype", object)).kind == "M":
        values = list(pd.to_datetime(pd.Series(values)))
    first, last = record_windows(values, start, days, name=f"survey {name!r} death day")
    low, high = window
    outside = (last < low) | (first > high)
    if outside.any():
        raise DataError(f"{int(outside.sum())} death(s) of survey {name!r} are dated outside its recall window "
                        f"(study days {low}..{high}); correct the dates or the survey's start_day/end_day.")
    first, last = np.maximum(first, low), np.minimum(last, high)
    informative = ~((first == low) & (last == high))
    if not informative.any():
        return empty
    pairs, counts = np.unique(np.stack([first[informative], last[informative]], axis=1), axis=0,
                              return_counts=True)
    return pairs[:, 0], pairs[:, 1], counts.astype(float)


def _capture_bin_days(capture_bin_days, bin_days: int) -> int:
    """The capture walk's step in days: as given (a multiple of ``bin_days``), else the week rounded up to bins."""
    if capture_bin_days is None:
        return bin_days * int(np.ceil(7 / bin_days))
    check_param("capture_bin_days", capture_bin_days, [Interval(Integral, 1, None)])
    if capture_bin_days % bin_days:
        raise ValueError(
            f"`capture_bin_days` ({capture_bin_days}) must be a multiple of `bin_days` ({bin_days}): a list's "
            f"capture is constant within a bin of counts. Try {bin_days * max(1, round(capture_bin_days / bin_days))}.")
    return int(capture_bin_days)


def _study_dates(day_numbers: np.ndarray, start):
    """Study-day numbers as dates when the study has a ``start``, else as they are."""
    if start is None:
        return day_numbers
    return pd.Timestamp(start).normalize() + pd.to_timedelta(day_numbers, unit="D")


def _declared_absent(gap, names, present: np.ndarray, start) -> bool:
    """Whether ``list_windows`` (``present``, (days, k)) marks the gap's list absent on every day of the gap."""
    first, last = _window(gap.start, gap.end, f"the stretch without {gap.list!r}", start, len(present))
    return not present[first: last + 1, list(names).index(gap.list)].any()


def prepare_data(
    *,
    days: int,
    start=None,
    lists=None,
    list_names=None,
    day_column: str = "day",
    bin_days: int = 7,
    capture_bin_days: int | None = None,
    tallies: Sequence[Tally] = (),
    surveys: Sequence = (),
    households: Sequence = (),
    population=None,
    list_windows=None,
) -> DailyData:
    """Validate the sources and turn them into the arrays the model reads (see :func:`daily_rates`)."""
    # before any (bins x days) matrix is allocated
    check_param("days", days, [Interval(Integral, 2, MAX_DAYS)])
    check_param("bin_days", bin_days, [Interval(Integral, 1, None)])
    days, bin_days = int(days), int(bin_days)
    capture_bin_days = _capture_bin_days(capture_bin_days, bin_days)
    if population is None:
        raise ValueError("`population` (the population at risk: a number or a (low, high) range) is required.")
    population = _population_prior(population)
    if lists is not None:
        names, first, last, index, counts = _read_lists(lists, list_names, day_column, start, days, bin_days)
        present = list_presence(list_windows, names, start, days)
        exact = first == last
        _coverage_warnings(_study_dates(first[exact], start), pattern_rows(index[exact], len(names)),
                           list(names), counts[exact], column=day_column,
                           declared=lambda gap: _declared_absent(gap, names, present, start))
        cells, coarse, coarse_first, coarse_last, presence, day_group = _list_arrays(
            names, first, last, index, counts, present, start, days, bin_days)
    else:
        if list_names is not None:
            raise DataError("`list_names` given but no `lists`.")
        if list_windows:
            raise DataError("`list_windows` given but no `lists`.")
        names, cells = (), np.zeros((int(np.ceil(days / bin_days)), 0))
        coarse, coarse_first, coarse_last = np.zeros((0, 0)), np.zeros(0, int), np.zeros(0, int)
        presence, day_group = np.ones((1, 0), bool), np.zeros(days, int)
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
    for i, (_, _, _, _, (first, last), _) in enumerate(s_fields):
        s_matrix[i, first : last + 1] = 1.0 / (last - first + 1)
    e_first, e_last, e_counts, e_survey = (
        np.concatenate([f[5][0] for f in s_fields] or [np.zeros(0, int)]).astype(int),
        np.concatenate([f[5][1] for f in s_fields] or [np.zeros(0, int)]).astype(int),
        np.concatenate([f[5][2] for f in s_fields] or [np.zeros(0)]).astype(float),
        np.concatenate([np.full(len(f[5][2]), i) for i, f in enumerate(s_fields)] or [np.zeros(0, int)]).astype(int),
    )
    exact = e_first == e_last
    s_day_counts = np.zeros((len(s_fields), days))
    np.add.at(s_day_counts, (e_survey[exact], e_first[exact]), e_counts[exact])
    e_first, e_last, e_counts, e_survey = e_first[~exact], e_last[~exact], e_counts[~exact], e_survey[~exact]
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
        capture_bin_days=capture_bin_days,
        list_cells=cells,
        bin_matrix=bin_matrix,
        tally_names=tuple(tally_names),
        tally_counts=np.array(t_counts, dtype=float),
        tally_matrix=np.array(t_rows, dtype=float).reshape(len(t_rows), days),
        tally_index=np.array(t_index, dtype=int),
        survey_names=_distinct([f[0] for f in s_fields] + [r[0] for r in h_rows])[: len(s_fields)],
        survey_deaths=s_deaths,
        survey_person_days=np.array([f[2] for f in s_fields]),
        survey_alpha=s_alpha,
        survey_matrix=s_matrix,
        survey_day_counts=s_day_counts,
        survey_event_first=e_first,
        survey_event_last=e_last,
        survey_event_counts=e_counts,
        survey_event_survey=e_survey,
        household_names=_distinct([f[0] for f in s_fields] + [r[0] for r in h_rows])[len(s_fields):],
        household_n=np.array([r[1] / r[5] for r in h_rows]),
        household_affected=np.array([r[2] / r[5] for r in h_rows]),
        household_raw=np.array([(r[1], r[2], r[5]) for r in h_rows]).reshape(len(h_rows), 3),
        household_size=np.array([r[3] for r in h_rows]),
        household_size_sd=np.array([r[4] for r in h_rows]),
        household_recall=np.array([r[7] for r in h_rows], dtype=float),
        household_matrix=h_matrix,
        population=population,
        coarse_cells=coarse,
        coarse_first=coarse_first,
        coarse_last=coarse_last,
        presence=presence,
        day_group=day_group,
    )


def fewest_lists(data: DailyData) -> int:
    """The fewest matched lists present on any study day (``list_windows``); 0 without lists."""
    if not data.k:
        return 0
    return int(data.presence[np.unique(data.groups)].sum(1).min())


def bin_presence(data: DailyData) -> np.ndarray:
    """(bins, k) bool: list j is present on every day of bin b (``list_windows``)."""
    day_absent = ~data.presence[data.groups].astype(bool)  # (days, k)
    return (data.bin_matrix.astype(bool).astype(int) @ day_absent.astype(int)) == 0


def total_carriers(data: DailyData) -> list[str]:
    """The sources besides matched lists that can determine the total: surveys, affected-households summaries."""
    return [name for name, present in (("survey", len(data.survey_deaths)),
                                       ("affected households", len(data.household_n))) if present]


def heterogeneous(capture_classes: int | str) -> bool:
    """Whether ``capture_classes`` lets capture differ between deaths (classes > 1 or a normal effect)."""
    return capture_classes == "normal" or int(capture_classes) > 1


def lists_to_identify(capture_classes: int | str, list_dependence: bool = False) -> int:
    """How many matched lists must cover a day for the lists alone to identify the total under ``capture_classes``.

    C classes whose effect on the log-odds is the same on every list (this model's) identify the total from k
    lists only when k >= 2C, or k >= 2C + 1 with two-way dependence between the lists: the capture patterns depend
    on the classes only through k - 2 moments of their distribution beyond the k list effects (Lindsay, Clogg &
    Grego 1991, for the Rasch model; one moment fewer here, the unlisted deaths being unobserved), and the two-way
    interactions can absorb one more. Below that the Jacobian of the observed pattern probabilities has a null
    direction along which the unlisted share changes. So two classes need four lists (five with dependence),
    three need six (seven). The normal effect has one parameter (its sd) but a shape the lists cannot check: four
    lists, as for two classes without dependence.
    """
    if capture_classes == "normal":
        return 4
    return 2 * int(capture_classes) + bool(list_dependence)


def resolve_dependence(list_dependence: bool | None, k: int) -> bool:
    """``list_dependence`` as fitted: None (the default) means two-way dependence with three or more lists."""
    return k >= 3 if list_dependence is None else bool(list_dependence)


def beyond_lists(data: DailyData, capture_classes: int | str, list_dependence: bool) -> bool:
    """Whether some day has fewer lists than :func:`lists_to_identify` asks for ``capture_classes``' heterogeneity."""
    return heterogeneous(capture_classes) and fewest_lists(data) < lists_to_identify(capture_classes, list_dependence)


def identified_by(data: DailyData, capture_classes: int | str = 1, list_dependence: bool = False) -> list[str]:
    """The sources that can determine the total without a prior on it: >= 2 matched lists, surveys.

    With heterogeneous capture (``capture_classes > 1`` or "normal") and fewer lists on some day than
    :func:`lists_to_identify` asks, the lists determine the total only given the assumed form of heterogeneity
    (and the dependence prior): they are listed with that qualification.
    """
    sources = []
    if data.k >= 2:
        if beyond_lists(data, capture_classes, list_dependence):
            sources.append(f"matched lists (only given capture_classes={capture_classes!r})")
        else:
            sources.append("matched lists")
    return sources + total_carriers(data)
