"""Checks that :meth:`CaptureHistories.from_records` runs on a frame of records: 0/1 membership, identifiers, duplicates."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._lazy import pd
from .exceptions import DataError


def _text_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its column names as text, the form list names take (``pd.DataFrame(array)`` has 0, 1, ...).

    A new frame when a name changes, so the caller's is untouched; names that coincide as text are refused.
    """
    names = [str(column) for column in frame.columns]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise DataError(
            f"Column name(s) {repeated!r} occur more than once in the frame; give each column a distinct name."
        )
    if all(isinstance(column, str) for column in frame.columns):
        return frame
    return frame.set_axis(names, axis=1)


# the most offending rows a message names (with how many there are in all)
ROWS_SHOWN = 20


def _shown(value):
    return value.item() if isinstance(value, np.generic) else value


def _rows_text(rows, limit: int = ROWS_SHOWN) -> str:
    """``rows 3, 7, 12`` for a few row labels; the first ``limit`` and how many in all for more."""
    rows = [_shown(row) for row in rows]
    shown = ", ".join(repr(row) for row in rows[:limit])
    word = "row" if len(rows) == 1 else "rows"
    return f"{word} {shown}" + (f", ... ({len(rows):,} rows in all)" if len(rows) > limit else "")


def _check_membership(membership) -> dict | None:
    """``membership`` as a dict of value -> 0/1, or None; a value other than 0/1 is refused naming it."""
    if membership is None:
        return None
    mapping = dict(membership)
    bad = {key: value for key, value in mapping.items()
           if isinstance(value, str) or not (isinstance(value, (bool, np.bool_, int, np.integer, float))
                                               and value in (0, 1))}
    if bad:
        raise DataError(
            f"`membership` maps each value of a list column to 1 (on the list) or 0 (not on it); got {bad!r}. "
            "Write it as e.g. membership={'yes': 1, 'no': 0, 'Y': 1, 'N': 0}."
        )
    return {key: int(value) for key, value in mapping.items()}


def _mapped(column: pd.Series, membership: dict) -> pd.Series:
    def read(value):
        try:
            return membership.get(value, value)
        except TypeError:  # unhashable: left as it is, and refused below
            return value

    return column.map(read).astype(object)


def _check_zero_one(frame: pd.DataFrame, lists: Sequence[str], membership: dict | None = None) -> np.ndarray:
    columns = []
    for name in lists:
        column = frame[name]
        if column.dtype == bool and membership is None:
            values = column.to_numpy(dtype=np.int8)
        else:
            read = _mapped(column, membership) if membership else column
            if read.dtype == object:
                # True/False in an object column are 1/0, as in a bool column
                read = read.map(lambda v: int(v) if isinstance(v, (bool, np.bool_)) else v)
            numeric = pd.to_numeric(read, errors="coerce")
            bad = (numeric.isna() | ~numeric.isin([0, 1])).to_numpy()
            if bad.any():
                raise DataError(_membership_message(name, column, bad, frame.index, membership))
            values = numeric.to_numpy(dtype=np.int8)
        columns.append(values)
    return np.column_stack(columns).astype(np.int8)


def _membership_message(name, column: pd.Series, bad: np.ndarray, index, membership) -> str:
    """Name every row of ``column`` that is not 0/1 (the first ROWS_SHOWN), the values seen and how to fix them."""
    values = column[bad]
    seen = []
    for value in values.tolist():
        value = _shown(value)
        if not any(value is other or (type(value) is type(other) and value == other) for other in seen):
            seen.append(value)
    missing = values.isna().to_numpy()
    message = (
        f"List column {name!r} must hold only 0/1 (or True/False); {int(bad.sum()):,} "
        f"{'row holds' if bad.sum() == 1 else 'rows hold'} other values: {_rows_text(index[bad])} "
        f"(values seen: {', '.join(repr(v) for v in seen[:10])}{', ...' if len(seen) > 10 else ''})."
    )
    text = [v for v in seen if isinstance(v, str)]
    if text:
        if membership:
            message += (f" `membership` maps {sorted(membership, key=repr)!r}; add the other values, e.g. "
                        f"membership={{**membership, {text[0]!r}: 1}}.")
        else:
            example = ", ".join(f"{v!r}: {'0' if str(v).strip().lower() in ('no', 'n', 'false', 'f', '0') else '1'}"
                                for v in text[:4])
            message += (f" To read text values, say what each means with membership={{{example}}} "
                        "(1: on the list, 0: not on it).")
    if missing.any():
        message += " A missing value is not a 0: a record not on the list is 0; fill them in before building."
    return message


def _is_text_dates(values: pd.Series) -> bool:
    """Whether most non-missing text values read as dates (a date column kept as text is no identifier)."""
    import warnings

    sample = values.dropna().astype(str).head(200)
    if sample.empty:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.9)


# a text column distinct on at least this share of rows, in a frame of at least IDENTIFIER_MIN_ROWS rows, or a
# whole-number column distinct on every one of at least IDENTIFIER_MIN_INTEGER_ROWS rows, is taken for an identifier
# (whole numbers need more rows: day numbers of a sparse study are distinct on a few dozen records by chance)
IDENTIFIER_SHARE = 0.9
IDENTIFIER_MIN_ROWS = 20
IDENTIFIER_MIN_INTEGER_ROWS = 100


def _identifier_columns(frame: pd.DataFrame, columns) -> list[tuple[str, int]]:
    """(name, distinct values) of the ``columns`` that look like record identifiers or names (see from_records)."""
    out = []
    n = len(frame)
    if n < IDENTIFIER_MIN_ROWS:
        return out
    for name in columns:
        values = frame[name]
        try:
            distinct = int(values.nunique(dropna=True))
        except TypeError:  # unhashable cells
            continue
        kind = pd.api.types.infer_dtype(values, skipna=True)
        if kind in ("string", "bytes", "mixed", "categorical") or isinstance(values.dtype, pd.CategoricalDtype):
            if distinct >= IDENTIFIER_SHARE * n and not _is_text_dates(values):
                out.append((name, distinct))
        elif kind in ("integer", "mixed-integer") and distinct == n >= IDENTIFIER_MIN_INTEGER_ROWS:
            out.append((name, distinct))
    return out


def _duplicate_rows(frame: pd.DataFrame, lists) -> np.ndarray | None:
    """Positions of rows that repeat an earlier row exactly, when the columns other than the lists identify the
    records (so that a repeat is unlikely by chance); None otherwise."""
    others = [c for c in frame.columns if c not in lists]
    if not others:
        return None  # rows of list columns alone repeat whenever two people share a pattern
    try:
        repeat = frame.duplicated(keep="first").to_numpy()
        if not repeat.any():
            return None
        distinct = frame.loc[~repeat, others]
        combinations = len(distinct.drop_duplicates())
    except TypeError:  # unhashable cells
        return None
    # with few distinct combinations (a date and a region, say) many people share a row by chance; a repeat is
    # suspect when the other columns tell nearly every record apart
    if combinations < IDENTIFIER_SHARE * len(distinct):
        return None
    return np.flatnonzero(repeat)
