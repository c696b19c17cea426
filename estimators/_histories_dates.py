"""Dates of records: reading them, binning them for strata, and finding stretches a list did not cover."""

from __future__ import annotations

import datetime as _dt
import numbers
import re

import numpy as np

from ._lazy import pd
from ._validation import Interval, Real, validate_params
from .exceptions import DataError
from ._histories_checks import _shown


def _is_missing(value) -> bool:
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


_ISO_WEEK = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)


def text_period(value: str):
    """The :class:`pandas.Period` a date written as text spans when it is coarser than a day, else None.

    A record known only to its year (``"2017"``), quarter (``"2017Q1"``), month (``"2017-03"``, ``"March 2017"``,
    ``"03/2017"``) or ISO week (``"2017-W09"``, Monday to Sunday) is a window of days, not the window's first day
    (which is what ``pandas.Timestamp`` reads it as). Text naming one day, or a time of day, and text that is not
    a date give None: the caller reads those as it reads any date.

    Examples
    --------
    >>> text_period("2017-03")
    Period('2017-03', 'M')
    >>> text_period("2017-W09").start_time.date(), text_period("2017-03-05") is None
    (datetime.date(2017, 2, 27), True)
    """
    week = _ISO_WEEK.match(value)
    if week:
        try:
            monday = _dt.date.fromisocalendar(int(week[1]), int(week[2]), 1)
        except ValueError:
            return None
        return pd.Period(monday, freq="W-SUN")
    try:
        period = pd.Period(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if pd.isna(period):  # 'NaT', 'nan': not a period
        return None
    return period if period.end_time.normalize() > period.start_time.normalize() else None


_NUMERIC_DAY = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})\s*$")


def numeric_dates(values, column: str) -> list:
    """``values`` with each date written as numbers ``a/b/year`` (or ``a.b.year``, ``a-b-year``) read as a
    Timestamp, day or month first as the column shows; every other value as it was.

    pandas reads each such text on its own: '13/03/2017' day-first (no month 13) but '05/03/2017' month-first,
    so a column written day-first would get its early days of each month wrong. The order is read from the
    column instead: a first number above 12 means day-first, a second above 12 month-first; both is a
    :class:`DataError`, and so is neither when some value could be read both ways.

    Examples
    --------
    >>> [d.date().isoformat() for d in numeric_dates(["13/03/2017", "05/03/2017"], "date")]
    ['2017-03-13', '2017-03-05']
    """
    values = list(values)
    found = {v: _NUMERIC_DAY.match(v) for v in set(v for v in values if isinstance(v, str))}
    found = {v: (int(m[1]), int(m[2])) for v, m in found.items() if m}
    if not found:
        return values
    impossible = [v for v, (a, b) in found.items() if a > 12 and b > 12]
    if impossible:
        raise DataError(f"Column {column!r} has {impossible[0]!r}, which is not a date (no month above 12); correct "
                        "it, or leave an unknown date empty.")
    day_first = [v for v, (a, _) in found.items() if a > 12]
    month_first = [v for v, (_, b) in found.items() if b > 12]
    if day_first and month_first:
        raise DataError(f"Column {column!r} writes dates as numbers both day-first (e.g. {day_first[0]!r}) and "
                        f"month-first (e.g. {month_first[0]!r}); write them one way, best as YYYY-MM-DD.")
    ambiguous = [v for v, (a, b) in found.items() if a != b]
    if not day_first and not month_first and ambiguous:
        raise DataError(f"Column {column!r} writes dates as numbers whose order cannot be told: no first or second "
                        f"number is above 12 (e.g. {ambiguous[0]!r} is {_two_readings(*found[ambiguous[0]])}). "
                        "Write them as YYYY-MM-DD.")
    parsed = {}
    for v in found:
        try:
            parsed[v] = pd.Timestamp(pd.to_datetime(v, dayfirst=bool(day_first)))
        except (TypeError, ValueError) as error:
            raise DataError(f"Column {column!r} has {v!r}, which is not a date: {error}.") from None
    return [parsed.get(v, v) if isinstance(v, str) else v for v in values]


def _two_readings(a: int, b: int) -> str:
    """'5 March or 3 May' for the numbers 5 and 3 of a date written a/b/year."""
    month = "January February March April May June July August September October November December".split()
    return f"{a} {month[b - 1]} or {b} {month[a - 1]}"


def one_date(value, name: str):
    """A single date as given, with text written as numbers ``a/b/year`` read as the only order its numbers allow
    (a first number above 12 is a day); a DataError when both orders give a date. Other values are returned as
    they are, for ``pandas.Timestamp`` to read.

    Examples
    --------
    >>> one_date("13/03/2017", "start").date().isoformat(), one_date("2017-03-05", "start")
    ('2017-03-13', '2017-03-05')
    """
    if not isinstance(value, str):
        return value
    match = _NUMERIC_DAY.match(value)
    if match and int(match[1]) <= 12 and int(match[2]) <= 12 and int(match[1]) != int(match[2]):
        raise DataError(f"{name} ({value!r}) writes a date as numbers whose order cannot be told: it is "
                        f"{_two_readings(int(match[1]), int(match[2]))}. Write it as YYYY-MM-DD.")
    return numeric_dates([value], name)[0]


def _read_dates(values, column: str):
    """(timestamps with NaT where not a single point, missing mask, periods) for a column of dates.

    Missing values (None, NaN, NaT, empty text) are missing; ``pandas.Period`` values, and text naming a period
    longer than a day (:func:`text_period`), are kept in ``periods`` (object array, None elsewhere) for the caller
    to place; anything else must read as a date, or a DataError names the values that do not.
    """
    import warnings

    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind == "M":
        # numpy datetimes (a datetime64 column): no Periods, no text; NaT is missing
        stamps = pd.Series(np.asarray(values).astype("datetime64[ns]"))
        return stamps, stamps.isna().to_numpy(), np.full(len(stamps), None, dtype=object)
    series = pd.Series(numeric_dates(np.asarray(values, dtype=object) if not isinstance(values, pd.Series)
                                     else values.to_numpy(dtype=object), column), dtype=object)
    missing = series.map(_is_missing).to_numpy(dtype=bool)
    texts = {v: period for v in series[~missing].unique()
             if isinstance(v, str) and (period := text_period(v)) is not None}
    if texts:
        series = series.map(lambda v: texts.get(v, v) if isinstance(v, str) else v)
    is_period = series.map(lambda v: isinstance(v, pd.Period)).to_numpy(dtype=bool)
    periods = np.where(is_period, series.to_numpy(), None)
    rest = ~missing & ~is_period
    stamps = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    if rest.any():
        given = series[rest]
        numeric = given.map(lambda v: isinstance(v, (numbers.Number, np.number)) and not isinstance(v, bool))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(given.where(~numeric), errors="coerce", format="mixed")
        bad = parsed.isna() | numeric
        if bad.any():
            seen = list(dict.fromkeys(repr(_shown(v)) for v in given[bad].tolist()))
            raise DataError(
                f"Column {column!r} has {int(bad.sum()):,} value(s) that are neither dates nor missing: "
                f"{', '.join(seen[:10])}{', ...' if len(seen) > 10 else ''}. Correct them, or leave an unknown date "
                "empty (None, NaN or NaT): a missing date is counted as missing."
            )
        stamps[rest] = parsed.to_numpy(dtype="datetime64[ns]")
    return stamps, missing, periods


def _as_days(values) -> tuple[np.ndarray, bool]:
    """(day numbers as floats, whether they are dates): whole days since 1970 for dates, the numbers themselves for
    day numbers; NaN for missing values and for periods longer than a day."""
    array = values.to_numpy() if isinstance(values, (pd.Series, pd.Index)) else np.asarray(values)
    if array.dtype.kind in "iuf":
        return array.astype(float), False
    if array.dtype.kind == "b":
        raise DataError("A date column holds True/False, not dates or day numbers.")
    stamps, _, periods = _read_dates(array, "date")
    days = stamps.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype("int64").astype(float)
    days[stamps.isna().to_numpy()] = np.nan
    for i, period in enumerate(periods):
        if period is not None and period.start_time.normalize() == period.end_time.normalize():
            days[i] = float(period.start_time.normalize().value // 86_400_000_000_000)
    return days, True


def _date_bins(values, freq: str, column: str):
    """(bin start of each row, NaT where unplaced; rows with no date; rows with a date coarser than one bin)."""
    stamps, missing, periods = _read_dates(values, column)
    try:
        bins = stamps.dt.to_period(freq).dt.start_time
    except (TypeError, ValueError) as error:
        raise DataError(f"Cannot bin column {column!r} by {freq!r}: {error}. Pass a pandas frequency such as "
                        "'D', 'W' or 'M'.") from None
    coarse = np.zeros(len(bins), dtype=bool)
    for i, period in enumerate(periods):
        if period is None:
            continue
        first, last = pd.Series([period.start_time, period.end_time]).dt.to_period(freq).dt.start_time
        if first == last:
            bins.iloc[i] = first
        else:
            coarse[i] = True
    return bins, missing, coarse


@validate_params(
    {
        "min_days": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, 1, closed="neither", description="a probability strictly between 0 and 1")],
    },
    # the records: checked below, with messages about their content
    exempt=("dates", "membership", "lists", "counts"),
)
def list_coverage_gaps(dates, membership, lists=None, *, counts=None, min_days: float = 14,
                       alpha: float = 0.001) -> pd.DataFrame:
    """Stretches of the study in which one list has no records while the others have many: a late start, a gap or
    an early end of that list.

    A list that did not exist, or did not collect, for part of the study is *absent* there, not a list that
    recorded nobody: pooled over the study, the table then reads its absence as people it missed, and the
    estimators (which assume each list covers the whole period) are biased.

    Parameters
    ----------
    dates : array-like
        One date per record (dates, date strings, ``pandas.Period`` values of a day or less, or numeric day
        numbers). Missing dates and periods longer than a day are left out.
    membership : array-like or pandas.DataFrame, shape (n, k)
        0/1 list membership, one column per list.
    lists : list of str, optional
        The list names (default: the DataFrame's columns, else ``L1 .. Lk``).
    counts : array-like, optional
        Records each row stands for (an aggregated table); default one each.
    min_days : float
        The shortest stretch reported, in days (or day numbers).
    alpha : float
        Reported stretches are those whose chance under steady coverage is below ``alpha``.

    Returns
    -------
    pandas.DataFrame
        One row per stretch, by list then start: ``list, start, end, days, others`` (records on the other lists
        in the stretch), ``expected`` (records the list would have there at its share elsewhere) and ``p_value``.

    Notes
    -----
    For list j, let q be the share of the other lists' records that are also on j, counted outside the stretch
    (j's capture rate where it operates). Each stretch between consecutive days on which j has records (and the
    stretches before its first and after its last) that lasts at least ``min_days`` is tested: if j covered it
    as it covers the rest, each of the m records of the other lists there would be on j with chance q, so
    finding none has chance (1 - q)**m. That is multiplied by the number of stretches tested for j and by the
    number of lists (Bonferroni: the stretch is the longest found, not one fixed in advance) and the stretch is
    reported when the product is below ``alpha``. A list with low but steady coverage has many short stretches
    without records, none improbably long, and is not reported; a list that starts months late is.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> dates = pd.Timestamp("2017-01-01") + pd.to_timedelta(rng.integers(0, 365, 3000), unit="D")
    >>> on = (rng.random((3000, 3)) < [0.5, 0.4, 0.3]).astype(int)
    >>> on[dates < pd.Timestamp("2017-04-01"), 2] = 0  # list C starts in April
    >>> keep = on.any(axis=1)
    >>> gaps = list_coverage_gaps(dates[keep], on[keep], ["A", "B", "C"])
    >>> gaps[["list", "start", "end"]].to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'list': 'C', 'start': Timestamp('2017-01-01 00:00:00'), 'end': Timestamp('2017-03-31 00:00:00')}]
    """
    if isinstance(membership, pd.DataFrame):
        lists = list(membership.columns) if lists is None else lists
        membership = membership.to_numpy()
    matrix = np.asarray(membership)
    if matrix.ndim != 2:
        raise DataError(f"`membership` must be a (records, lists) 0/1 array; got shape {matrix.shape}.")
    n, k = matrix.shape
    lists = [f"L{j + 1}" for j in range(k)] if lists is None else [str(name) for name in lists]
    if len(lists) != k:
        raise DataError(f"`lists` names {len(lists)} lists but `membership` has {k} columns.")
    weights = np.ones(n) if counts is None else np.asarray(counts, dtype=float)
    days, are_dates = _as_days(dates)
    if len(days) != n or len(weights) != n:
        raise DataError(f"`dates` ({len(days)}), `membership` ({n}) and `counts` ({len(weights)}) must have one "
                        "entry per record.")
    columns = ["list", "start", "end", "days", "others", "expected", "p_value"]
    keep = np.isfinite(days) & (weights > 0)
    days, on, weights = days[keep], matrix[keep].astype(bool), weights[keep]
    if not len(days):
        return pd.DataFrame(columns=columns)
    unique, inverse = np.unique(days, return_inverse=True)
    first, last = unique[0], unique[-1]
    rows = []
    for j in range(k):
        others = np.delete(on, j, axis=1).any(axis=1)
        on_j = np.bincount(inverse, weights=weights * on[:, j], minlength=len(unique))
        by_others = np.bincount(inverse, weights=weights * others, minlength=len(unique))
        both = float((weights * (on[:, j] & others)).sum())
        total_others = float(by_others.sum())
        j_days = unique[on_j > 0]
        if not len(j_days) or both == 0:
            continue  # a list with no records, or none shared with the others: nothing to compare with
        cumulative = np.concatenate([[0.0], np.cumsum(by_others)])
        bounds = [None, *j_days.tolist(), None]
        tests = len(bounds) - 1
        for before, after in zip(bounds[:-1], bounds[1:]):
            start = first if before is None else before + 1
            end = last if after is None else after - 1
            if end - start + 1 < min_days:
                continue
            low = 0 if before is None else np.searchsorted(unique, before, side="right")
            high = len(unique) if after is None else np.searchsorted(unique, after, side="left")
            m = float(cumulative[high] - cumulative[low])
            outside = total_others - m
            if m == 0 or outside <= 0:
                continue
            q = min(both / outside, 1.0)
            p_value = min(1.0, k * tests * float(np.exp(m * np.log1p(-q))) if q < 1 else 0.0)
            if p_value < alpha:
                rows.append([lists[j], start, end, end - start + 1, m, q * m, p_value])
    gaps = pd.DataFrame(rows, columns=columns)
    if are_dates and len(gaps):
        for name in ("start", "end"):
            gaps[name] = pd.to_datetime(gaps[name].astype("int64"), unit="D")
    for name in ("others", "days"):
        gaps[name] = gaps[name].astype(int) if len(gaps) else gaps[name]
    return gaps
