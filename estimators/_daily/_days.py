"""Study days: a day given as a number, a date or a period read as a study-day window, and which matched lists
exist on each day (``list_windows``).

Days are 0-based study-day numbers, or dates when a ``start`` date is given (:func:`_day_number`).
"""

from __future__ import annotations

import datetime as _dt
import numbers
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .._histories_dates import numeric_dates, one_date, text_period
from ..exceptions import DataError


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
        value, start = one_date(value, name), one_date(start, "`start`")  # a DataError of its own if ambiguous
        try:
            stamp, origin = pd.Timestamp(value), pd.Timestamp(start)
        except (TypeError, ValueError) as error:
            raise DataError(f"{name} ({value!r}) is not a date or a day number: {error}.") from None
        if pd.isna(stamp):  # text such as 'NaT' or 'nan': leave the day empty (None) if it is unknown
            raise DataError(f"{name} ({value!r}) is not a date or a day number; leave an unknown day empty (None, "
                            "NaN or empty text).")
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
    # an open end is the study's, so a window given only beyond the study would read as inverted
    if first > days - 1 and end_day is None:
        raise DataError(f"{name}: the window starts on day {first}, after the study's last day ({days - 1}).")
    if last < 0 and start_day is None:
        raise DataError(f"{name}: the window ends on day {last}, before the study's first day (0).")
    if last < first:
        raise DataError(f"{name}: the window ends (day {last}) before it starts (day {first}).")
    if clip:
        if last < 0 or first > days - 1:
            raise DataError(f"{name}: the window (days {first}..{last}) does not overlap the study days "
                            f"0..{days - 1}.")
        first, last = max(first, 0), min(last, days - 1)
    return first, last


def record_window(value, name: str, start, days: int) -> tuple[int, int]:
    """The study days ``(first, last)`` (both included) that a record dated ``value`` can have died on.

    A date or a study-day number is one day; a :class:`pandas.Period` coarser than a day (a week ``'W'``, a month
    ``'M'``), or text naming one (``"2017-03"``, ``"2017-W09"``, ``"2017"``: :func:`text_period`), is the days of
    the period inside the study; a missing day (None, NaN, NaT, empty text) is the whole study.

    Examples
    --------
    >>> record_window(pd.Period("2017-03", "M"), "day", "2017-02-19", 60)
    (10, 40)
    >>> record_window("2017-03", "day", "2017-02-19", 60), record_window("2017-03-05", "day", "2017-02-19", 60)
    ((10, 40), (14, 14))
    >>> record_window(None, "day", None, 60), record_window(4, "day", None, 60)
    ((0, 59), (4, 4))
    """
    try:
        missing = bool(pd.isna(value))
    except (TypeError, ValueError):
        missing = False
    if missing or isinstance(value, str) and not value.strip():
        return 0, days - 1
    if isinstance(value, str):
        value = text_period(value) or value
    if isinstance(value, pd.Period):
        if start is None:
            raise DataError(f"{name} is a period ({value}) but no `start` date was given; pass start=... .")
        origin = pd.Timestamp(one_date(start, "`start`")).normalize()
        first = int((value.start_time.normalize() - origin).days)
        last = int((value.end_time.normalize() - origin).days)
        if last < 0 or first > days - 1:
            raise DataError(f"{name} = {value} (days {first}..{last}) lies outside the study days 0..{days - 1}; "
                            "check the dates or `start`.")
        return max(first, 0), min(last, days - 1)
    day = _day_number(value, name, start, days)
    return day, day


def record_windows(values, start, days: int, name: str = "list record day") -> tuple[np.ndarray, np.ndarray]:
    """:func:`record_window` of every value: (first, last) int arrays."""
    if len(values) == 0:
        return np.zeros(0, int), np.zeros(0, int)
    values = numeric_dates(values, name)
    seen = {}  # a column of dates repeats few distinct values; reading text as a period is the slow part

    def window(v):
        v = v.item() if hasattr(v, "item") and not isinstance(v, pd.Period) else v
        try:
            key = (type(v), v)
            hash(key)
        except TypeError:
            return record_window(v, name, start, days)
        if key not in seen:
            seen[key] = record_window(v, name, start, days)
        return seen[key]

    pairs = np.array([window(v) for v in values], dtype=int)
    return pairs[:, 0], pairs[:, 1]


def list_presence(list_windows, names, start, days: int) -> np.ndarray:
    """(days, k) bool: whether each list exists on each study day, from ``list_windows`` {name: (start, end)}.

    Either end may be None (the study's first or last day), a study-day number or a date; a window reaching
    beyond the study is cut to it.

    Examples
    --------
    >>> list_presence({"B": (2, None)}, ("A", "B"), None, 4).astype(int).tolist()
    [[1, 0], [1, 0], [1, 1], [1, 1]]
    """
    names = tuple(names)
    present = np.ones((days, len(names)), bool)
    if not list_windows:
        return present
    if not isinstance(list_windows, Mapping):
        raise DataError(f"`list_windows` must be a dict {{list name: (start, end)}}; got "
                        f"{type(list_windows).__name__}.")
    unknown = [name for name in list_windows if name not in names]
    if unknown:
        raise DataError(f"`list_windows` names {unknown!r}, which are not matched lists; the lists are "
                        f"{list(names)!r}.")
    for name, window in list_windows.items():
        if isinstance(window, (str, bytes)) or not isinstance(window, Sequence) or len(window) != 2:
            raise DataError(f"`list_windows[{name!r}]` must be a (start, end) pair of days or dates (None: the "
                            f"study's start or end); got {window!r}.")
        first, last = _window(window[0], window[1], f"`list_windows[{name!r}]`", start, days, clip=True)
        j = names.index(name)
        present[:first, j] = False
        present[last + 1:, j] = False
    return present
