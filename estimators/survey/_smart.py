"""SMART/ENA conventions of household mortality surveys: person-time, recall windows, the shipped example."""

from __future__ import annotations

import numbers
from importlib import resources

import numpy as np
import pandas as pd

from .._validation import Interval, Real, validate_params


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


# A recall period shorter than a day is no survey recall (1e-300 days gave rates of 1e302 per 10,000 per day).
_RECALL_DAYS = [Interval(Real, 1, None, description="a finite number of days >= 1")]


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
