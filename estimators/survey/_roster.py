"""Individual rosters: exact person-time from dates, deaths in the window, by age group, sex and cause."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import DataError

ROSTER_COLUMNS = {"age": "age", "sex": "sex", "arrival": "arrival", "departure": "departure",
                  "birth": "birth_date", "death": "death_date"}
_DAYS_PER_YEAR = 365.25


def _dates(df: pd.DataFrame, column: str | None) -> pd.Series:
    if column is None or column not in df.columns:
        return pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    raw = df[column]
    values = pd.to_datetime(raw, errors="coerce")
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


def roster_rows(df, columns, start, end, *, by, age_groups, under5, cause):
    """Per-person numerators and denominators of every rate: (label, numerator, domain, y, x) with arrays per
    person, to be summed into households by the caller."""
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
    for column in by or ():
        if column not in df.columns:
            raise DataError(f"`by` column {column!r} is not in the roster; columns are {list(df.columns)!r}.")
        values = df[column]
        for value in pd.unique(values.dropna()):
            inside = (values == value).to_numpy()
            rows.append((f"deaths [{column}={value}]", "deaths", f"{column}={value}", dead * inside,
                         days * inside))
    if cause is not None:
        if cause not in df.columns:
            raise DataError(f"`cause` column {cause!r} is not in the roster; columns are {list(df.columns)!r}.")
        causes = df[cause]
        for value in pd.unique(causes[died].dropna()):
            rows.append((f"deaths [{cause}={value}]", f"{cause}={value}", "all",
                         dead * (causes == value).to_numpy(), days))
    return rows


def _age_domain(entry, exit_, birth, death_dates, dead, low, high):
    x = age_group_days(entry, exit_, birth, low, high)
    age_at_death = (death_dates - birth).dt.days.to_numpy() / _DAYS_PER_YEAR
    with np.errstate(invalid="ignore"):
        inside = (age_at_death >= low) & (age_at_death < high)
    return dead * inside, x
