"""Individual rosters: exact person-time from dates, deaths in the window, by age group, sex and cause."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._histories_dates import numeric_dates, text_period
from ..exceptions import DataError

ROSTER_COLUMNS = {"age": "age", "sex": "sex", "arrival": "arrival", "departure": "departure",
                  "birth": "birth_date", "death": "death_date"}
_DAYS_PER_YEAR = 365.25
# In a crossed ``by`` term of a roster with ``age_groups``, this name stands for the age groups.
AGE_GROUP = "age_group"


def by_terms(by) -> list[tuple[str, ...]]:
    """``by`` as a list of terms, each a tuple of columns whose categories are crossed.

    Examples
    --------
    >>> by_terms("sex"), by_terms(["sex", ("age_group", "sex")])
    ([('sex',)], [('sex',), ('age_group', 'sex')])
    """
    if by is None:
        return []
    items = [by] if isinstance(by, str) else list(by)
    terms = []
    for item in items:
        term = (item,) if isinstance(item, str) else tuple(item) if isinstance(item, (list, tuple)) else None
        if not term or not all(isinstance(column, str) for column in term) or len(set(term)) < len(term):
            raise ValueError("`by` must be a column name or a list whose items are column names or tuples of "
                             "distinct column names to cross (e.g. ['sex', ('region', 'sex')]); got "
                             f"{by!r}.")
        terms.append(term)
    return terms


def crossed_domains(df: pd.DataFrame, columns: tuple[str, ...]):
    """(label, mask) of every combination of the columns' categories present in ``df`` (rows with a missing
    value in any of them belong to none), in order of appearance."""
    values = df[list(columns)]
    complete = values.notna().all(axis=1).to_numpy()
    combos = values[complete].drop_duplicates()
    out = []
    for combo in combos.itertuples(index=False, name=None):
        inside = complete.copy()
        for column, value in zip(columns, combo):
            inside &= (values[column] == value).to_numpy()
        out.append((", ".join(f"{column}={value}" for column, value in zip(columns, combo)), inside))
    return out


def _dates(df: pd.DataFrame, column: str | None) -> pd.Series:
    if column is None or column not in df.columns:
        return pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    raw = df[column]
    texts = {v for v in raw.dropna().unique() if isinstance(v, str) and text_period(v) is not None}
    coarse = raw.map(lambda v: isinstance(v, pd.Period) or isinstance(v, str) and v in texts)
    if coarse.any():
        rows = list(df.index[coarse.to_numpy(dtype=bool)][:5])
        raise DataError(f"Column {column!r} has dates known only to a week, month or year in rows {rows} (e.g. "
                        f"{raw[coarse].iloc[0]!r}); person-time is counted in days, so each needs its day. Give "
                        "the day, or a day chosen in the period (its middle) if you accept that assumption.")
    values = pd.to_datetime(pd.Series(numeric_dates(raw, column), index=raw.index, dtype=object), errors="coerce",
                            format="mixed")
    bad = values.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
    if bad.any():
        rows = list(df.index[bad.to_numpy()][:5])
        raise DataError(f"Column {column!r} has values that are not dates in rows {rows}; write them as "
                        "'2024-01-31' (blank when the event did not happen).")
    return values.dt.normalize()


def _age_label(low: float, high: float) -> str:
    return f"age {low:g}-{high:g}"


def person_time(df: pd.DataFrame, columns: dict, start: pd.Timestamp, end: pd.Timestamp):
    """Per person: days at risk in the window, whether a death counts, and the birth date (known or from age).

    entry = max(recall start, arrival, birth), exit = min(recall end, departure, death), both days counted; a
    death counts when its date is in the window and the person was in the household then. A missing birth date
    is put at the interview (recall end) minus (age + 0.5) years.
    """
    arrival, departure = _dates(df, columns["arrival"]), _dates(df, columns["departure"])
    birth, death = _dates(df, columns["birth"]), _dates(df, columns["death"])
    if columns["age"] in df.columns:
        age = pd.to_numeric(df[columns["age"]], errors="coerce")
        from_age = end - pd.to_timedelta((age + 0.5) * _DAYS_PER_YEAR, unit="D")
        birth = birth.fillna(from_age.dt.normalize())
    entry = pd.concat([arrival, birth], axis=1).max(axis=1).fillna(start).clip(lower=start)
    exit_ = pd.concat([departure, death], axis=1).min(axis=1).fillna(end).clip(upper=end)
    days = ((exit_ - entry).dt.days + 1).clip(lower=0).astype(float)
    died = (death.notna() & (death >= start) & (death <= end) & (death >= entry) & (death <= exit_)).to_numpy()
    return entry, exit_, days.to_numpy(), died, birth


def age_group_days(entry, exit_, birth, low: float, high: float):
    """Days each person spends in ages [low, high) within [entry, exit] (NaN birth: 0)."""
    group_start = birth + pd.to_timedelta(low * _DAYS_PER_YEAR, unit="D")
    group_end = birth + pd.to_timedelta(high * _DAYS_PER_YEAR, unit="D") - pd.Timedelta(days=1)
    first = pd.concat([entry, group_start.dt.normalize()], axis=1).max(axis=1)
    last = pd.concat([exit_, group_end.dt.normalize()], axis=1).min(axis=1)
    days = ((last - first).dt.days + 1).clip(lower=0).fillna(0).to_numpy(dtype=float, copy=True)
    days[birth.isna().to_numpy()] = 0.0
    return days


def daily_person_days(entry, exit_, start, end) -> pd.Series:
    """People at risk on each day of the window (unweighted), from each person's entry and exit days.

    Examples
    --------
    >>> day = pd.Timestamp("2024-01-01")
    >>> entry = pd.Series([day, day + pd.Timedelta(days=1)])
    >>> daily_person_days(entry, entry + pd.Timedelta(days=1), day, day + pd.Timedelta(days=2)).tolist()
    [1.0, 2.0, 1.0]
    """
    days = (end - start).days + 1
    first = (entry - start).dt.days.to_numpy()
    last = (exit_ - start).dt.days.to_numpy()
    present = last >= first
    change = np.zeros(days + 1)
    np.add.at(change, first[present], 1.0)
    np.add.at(change, last[present] + 1, -1.0)
    return pd.Series(np.cumsum(change[:-1]), index=pd.date_range(start, end, name="date"), name="person_days")


def roster_rows(df, columns, start, end, *, by, age_groups, under5, cause):
    """Per-person numerators and denominators of every rate: (label, numerator, domain, y, x) with arrays per
    person, to be summed into households by the caller; with each person's death date and the people at risk
    on each day of the window (:func:`daily_person_days`)."""
    missing = [f"{column!r} ({role})" for role, column in columns.items()
               if role in ("arrival", "departure", "birth", "death") and column not in df.columns]
    if len(missing) == 4:
        raise DataError(f"A roster needs date columns; none of {', '.join(missing)} is in the data (columns "
                        f"{list(df.columns)!r}); name them with `roster_columns`.")
    entry, exit_, days, died, birth = person_time(df, columns, start, end)
    dead = died.astype(float)
    rows = [("deaths", "deaths", "all", dead, days)]
    death_dates = _dates(df, columns["death"])
    groups = list(age_groups) if age_groups is not None else []
    if under5:
        rows.append(("deaths_u5", "deaths", _age_label(0, 5), *_age_domain(entry, exit_, birth, death_dates, dead,
                                                                              0, 5)))
    for low, high in zip(groups[:-1], groups[1:]):
        label = _age_label(low, high)
        rows.append((f"deaths [{label}]", "deaths", label,
                     *_age_domain(entry, exit_, birth, death_dates, dead, low, high)))
    for term in by_terms(by):
        ages = AGE_GROUP in term and age_groups is not None
        others = tuple(column for column in term if not (ages and column == AGE_GROUP))
        absent = [column for column in others if column not in df.columns]
        if absent:
            raise DataError(f"`by` column(s) {absent!r} not in the roster; columns are {list(df.columns)!r}"
                            + ("" if age_groups is not None or AGE_GROUP not in absent else
                               f"; {AGE_GROUP!r} crosses the age groups of `age_groups`, which was not given")
                            + ".")
        if ages and not others:
            raise ValueError(f"`by` term {term!r}: the rates by age group come from `age_groups` alone; cross "
                             f"{AGE_GROUP!r} with another column, e.g. by=[('{AGE_GROUP}', 'sex')].")
        domains = crossed_domains(df, others)
        if not ages:
            rows += [(f"deaths [{label}]", "deaths", label, dead * inside, days * inside)
                     for label, inside in domains]
            continue
        for low, high in zip(groups[:-1], groups[1:]):
            y_age, x_age = _age_domain(entry, exit_, birth, death_dates, dead, low, high)
            for label, inside in domains:
                label = f"{_age_label(low, high)}, {label}"
                rows.append((f"deaths [{label}]", "deaths", label, y_age * inside, x_age * inside))
    if cause is not None:
        if cause not in df.columns:
            raise DataError(f"`cause` column {cause!r} is not in the roster; columns are {list(df.columns)!r}.")
        causes = df[cause]
        for value in pd.unique(causes[died].dropna()):
            rows.append((f"deaths [{cause}={value}]", f"{cause}={value}", "all",
                         dead * (causes == value).to_numpy(), days))
    return rows, death_dates, daily_person_days(entry, exit_, start, end)


def _age_domain(entry, exit_, birth, death_dates, dead, low, high):
    x = age_group_days(entry, exit_, birth, low, high)
    # the group's first day is birth + floor(low years in days), as in age_group_days: a death on a birthday
    # goes with that day's person-time
    days_at_death = (death_dates - birth).dt.days.to_numpy()
    with np.errstate(invalid="ignore"):
        inside = (days_at_death >= np.floor(low * _DAYS_PER_YEAR)) & (days_at_death < np.floor(high * _DAYS_PER_YEAR))
    return dead * inside, x
