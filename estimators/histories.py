"""Capture histories: who appears on which of several incomplete lists, as patterns and counts.

A *pattern* is a 0/1 vector over the k lists (1 = the record is on that list). Pattern index ``i`` in
``0 .. 2**k - 1`` reads the pattern as a binary number with the **first list as the most significant bit**,
the convention of the shipped CSV files and of Rcapture; index 0 (on no list) is never observed.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from . import _warn
from ._histories_checks import (
    _check_membership,
    _check_zero_one,
    _duplicate_rows,
    _identifier_columns,
    _rows_text,
    _text_columns,
)
from ._lazy import is_pandas, pd
from ._histories_dates import _date_bins, _read_dates, list_coverage_gaps
from ._summary import format_label
from ._validation import InstanceOf, validate_params
from .exceptions import DataError, SmallSampleWarning

MAX_DENSE_LISTS = 20


def pattern_matrix(k: int) -> np.ndarray:
    """All 2**k patterns as a (2**k, k) int8 matrix, row i = binary digits of i, first list most significant.

    This is the package's one pattern convention: :func:`pattern_index`, :func:`pattern_rows` and
    :func:`list_bit` follow it, and every module reads it from them.
    """
    return pattern_rows(np.arange(2**k), k)


def pattern_rows(index, k: int) -> np.ndarray:
    """The rows ``index`` of :func:`pattern_matrix` (int8, shape ``index.shape + (k,)``), without all 2**k rows."""
    index = np.asarray(index, dtype=np.int64)
    return ((index[..., None] >> np.arange(k - 1, -1, -1)) & 1).astype(np.int8)


def list_bit(j: int, k: int) -> int:
    """The bit of list ``j`` (0-based) in a pattern index of ``k`` lists: the first list is the most significant."""
    return 1 << (k - 1 - j)


def pattern_index(patterns: np.ndarray) -> np.ndarray:
    """Inverse of :func:`pattern_matrix`: the index of each 0/1 row."""
    patterns = np.asarray(patterns, dtype=np.int64)
    k = patterns.shape[1]
    weights = 1 << np.arange(k - 1, -1, -1, dtype=np.int64)
    return patterns @ weights


def pattern_label(pattern) -> str:
    return "".join(str(int(v)) for v in pattern)


def _holds_dates(column: pd.Series) -> bool:
    """Whether a column holds dates: a datetime or period dtype, or objects that are all dates, timestamps or
    Periods (records dated to the day and to the month side by side)."""
    if pd.api.types.is_datetime64_any_dtype(column.dtype) or isinstance(column.dtype, pd.PeriodDtype):
        return True
    if column.dtype != object:
        return False
    values = column.dropna()
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in ("datetime", "datetime64", "date", "period"):
        return len(values) > 0
    return kind == "mixed" and all(isinstance(v, (datetime.date, np.datetime64, pd.Period)) for v in values)


def _read_only(array: np.ndarray) -> np.ndarray:
    array = np.array(array, copy=True)
    array.flags.writeable = False
    return array


def _check_list_names(lists) -> tuple[str, ...]:
    if isinstance(lists, np.ndarray) or is_pandas(lists, "Index", "Series"):
        # e.g. lists=frame.columns[:3]: an Index or array of names is as good as a list of them
        lists = lists.tolist()
    if isinstance(lists, str) or not isinstance(lists, Sequence):
        raise DataError(f"`lists` must be a sequence of column names, e.g. ['A', 'B', 'C']; got {lists!r}.")
    names = tuple(str(name) for name in lists)
    if len(names) < 2:
        raise DataError(
            f"Capture-recapture needs at least two lists; got {len(names)} ({list(names)!r}). "
            "With a single list the number never listed cannot be estimated."
        )
    seen = set()
    for name in names:
        if name in seen:
            raise DataError(f"List name {name!r} is duplicated in `lists`; give each list a distinct name.")
        seen.add(name)
    return names


# The most people a table may hold. Beyond it float64 sums of counts stop being exact, int64 list totals overflow
# (1e20 gave negative totals) and the log-linear profile interval at 1e15 a cell excluded its own estimate.
MAX_TOTAL_COUNT = 10**12


def _check_counts(counts: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    counts = np.asarray(counts)
    if counts.dtype == object or not np.issubdtype(counts.dtype, np.number) and counts.dtype != bool:
        try:
            counts = counts.astype(float)
        except (TypeError, ValueError) as error:
            raise DataError(f"Counts must be numbers; could not read them ({error}).") from None
    counts = counts.astype(float)
    for problem, bad in (
        ("missing (NaN)", np.isnan(counts)),
        ("infinite", np.isinf(counts)),
        ("negative", counts < 0),
    ):
        if bad.any():
            where = np.flatnonzero(bad)[:5]
            shown = ", ".join(f"{labels[i]} = {counts[i]:g}" for i in where)
            raise DataError(f"Counts must be non-negative whole numbers; {problem} count at {shown}.")
    fractional = counts != np.round(counts)
    if fractional.any():
        where = np.flatnonzero(fractional)[:5]
        shown = ", ".join(f"{labels[i]} = {counts[i]:g}" for i in where)
        raise DataError(f"Counts must be whole numbers; fractional count at {shown}.")
    total = float(counts.sum())
    if total > MAX_TOTAL_COUNT:
        where = int(np.argmax(counts))
        raise DataError(f"Counts total {total:g} (largest: {labels[where]} = {counts[where]:g}), beyond the "
                        f"{MAX_TOTAL_COUNT:.0e} people these estimators support; check that the column holds "
                        "counts of people, not identifiers or sums.")
    return counts


def _coverage_warnings(dates, patterns, lists, counts=None, *, column: str, declared=None) -> None:
    """Warn once per stretch found by :func:`list_coverage_gaps`, naming the list, the dates and what to do.

    ``declared(gap)``: whether the caller already knows the list was absent over the whole stretch (no warning).
    """
    try:
        gaps = list_coverage_gaps(dates, patterns, lists, counts=counts)
    except DataError:
        return  # not dates after all: the callers' own checks say so where it matters
    for gap in gaps.itertuples(index=False):
        if declared is not None and declared(gap):
            continue
        show = (lambda d: d.strftime("%Y-%m-%d")) if isinstance(gap.start, pd.Timestamp) else (lambda d: f"{d:g}")
        _warn.warn(
            f"List {gap.list!r} has no records from {show(gap.start)} to {show(gap.end)} ({gap.days:,} days of "
            f"{column!r}) while the other lists have {gap.others:,} there; at its share of their records elsewhere "
            f"it would have about {gap.expected:,.0f} (chance of none if its coverage were steady: "
            f"{gap.p_value:.1g}). If {gap.list!r} did not exist or did not collect then, it is absent, not a list "
            "that recorded nobody, and a pooled table reads its absence as people it missed: fit "
            f"{show(gap.start)} to {show(gap.end)} apart from the rest (strata of {column!r} split there: a "
            f"stratum where {gap.list!r} has no records leaves it out), or leave {gap.list!r} out "
            f"(h.drop_lists([{gap.list!r}])); in daily_rates, list_windows={{{gap.list!r}: (start, end)}} "
            "(either end None: the study's) marks it absent outside the days it existed.",
            UserWarning,
        )


class _Strata(dict):
    """Stratum label -> table, with ``unplaced``: records in no stratum by reason ("no date", "coarse date")."""

    unplaced: dict


@dataclass(frozen=True)
class FailedStratum:
    """A stratum that cannot be a capture-recapture table (see :meth:`CaptureHistories.split_strata`)."""

    n_observed: int
    error: DataError


@dataclass(frozen=True, eq=False)
class CaptureHistories:
    """An immutable table of capture patterns and counts over named lists, with optional per-row covariates.

    Build it with :meth:`from_counts`, :meth:`from_records`, :meth:`from_array` or :meth:`from_mapping`;
    the data are checked once, here, and the caller's objects are never modified.

    Attributes
    ----------
    lists : tuple of str
        The list names, in column order.
    patterns : ndarray of int8, shape (m, k)
        One row per observed (pattern, covariates) combination; never the all-zero pattern.
    counts : ndarray of float, shape (m,)
        Number of records with that pattern (whole numbers, > 0).
    covariates : mapping of str to ndarray
        Per-row values of the stratum / covariate columns (empty for an aggregated table).

    Examples
    --------
    >>> h = CaptureHistories.from_mapping({"10": 30, "01": 20, "11": 10}, lists=["A", "B"])
    >>> h.n_observed
    60
    >>> h.list_totals.tolist()
    [40, 30]
    """

    lists: tuple[str, ...]
    patterns: np.ndarray
    counts: np.ndarray
    covariates: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self):
        lists = _check_list_names(self.lists)
        patterns = np.asarray(self.patterns, dtype=np.int8)
        if patterns.ndim != 2 or patterns.shape[1] != len(lists):
            raise DataError(f"`patterns` must have one column per list ({len(lists)}); got shape {patterns.shape}.")
        if not np.isin(patterns, (0, 1)).all():
            raise DataError("`patterns` must hold only 0 and 1.")
        labels = [f"pattern {pattern_label(p)}" for p in patterns]
        counts = _check_counts(self.counts, labels)
        if counts.shape != (patterns.shape[0],):
            raise DataError(f"`counts` must have one entry per pattern ({patterns.shape[0]}); got {counts.shape}.")
        unobservable = (patterns.sum(axis=1) == 0) & (counts > 0)
        if unobservable.any():
            raise DataError(
                f"The all-zero pattern {'0' * len(lists)} (on no list) has count {counts[unobservable][0]:g}; "
                "nobody on no list can have been observed. Drop that row, or set its count to 0 if it is a "
                "placeholder (as dga's Y[1])."
            )
        keep = (counts > 0) & (patterns.sum(axis=1) > 0)
        covariates = {str(name): _read_only(np.asarray(values)[keep]) for name, values in self.covariates.items()}
        for name in covariates:
            if name in lists:
                raise DataError(f"Column {name!r} is both a list and a covariate.")
        patterns, counts = patterns[keep], counts[keep]
        if counts.sum() == 0:
            raise DataError("The table has no records: every count is zero.")
        totals = (patterns * counts[:, None]).sum(axis=0)
        for name, total in zip(lists, totals):
            if total == 0:
                raise DataError(
                    f"List {name!r} has no records. Leave it out before estimating (drop its column, or name only "
                    "the other lists in `lists=`): an empty list carries no information about overlap."
                )
        object.__setattr__(self, "lists", lists)
        object.__setattr__(self, "patterns", _read_only(patterns))
        object.__setattr__(self, "counts", _read_only(counts))
        object.__setattr__(self, "covariates", covariates)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_counts(cls, frame: pd.DataFrame, count: str = "count", lists: Sequence[str] | None = None):
        """From aggregated pattern counts: one 0/1 column per list plus a count column.

        Columns that are neither lists nor the count column are kept as covariates (strata). When ``lists``
        is omitted, every column other than ``count`` whose values are all 0/1 is taken as a list.
        """
        if not isinstance(frame, pd.DataFrame):
            raise DataError(f"`frame` must be a pandas DataFrame; got {type(frame).__name__}.")
        frame, count = _text_columns(frame), str(count)
        if count not in frame.columns:
            raise DataError(
                f"Count column {count!r} not found; columns are {list(frame.columns)!r}. Pass count='...'."
            )
        lists = cls._resolve_lists(frame, lists, exclude={count})
        labels = [f"row {i!r}" for i in frame.index]
        counts = _check_counts(frame[count].to_numpy(), labels)
        patterns = _check_zero_one(frame, lists)
        unobservable = (patterns.sum(axis=1) == 0) & (counts > 0)
        if unobservable.any():
            # checked here, before rows are summed, so that the message can name them
            rows = list(frame.index[unobservable][:5])
            raise DataError(
                f"The all-zero pattern {'0' * len(lists)} (on no list) has count {counts[unobservable].sum():g} in "
                f"row(s) {rows!r}; nobody on no list can have been observed. Drop those rows, or set their count to "
                "0 if they are a placeholder (as dga's Y[1])."
            )
        others = [c for c in frame.columns if c not in lists and c != count]
        covariates = {str(c): frame[c].to_numpy() for c in others}
        return cls._aggregated(lists, patterns, counts, covariates)

    @classmethod
    @validate_params(
        {
            "membership": [None, InstanceOf(Mapping, "a dict of value -> 1 or 0, e.g. {'yes': 1, 'no': 0}")],
            "covariates": [None, InstanceOf((list, tuple, "pandas.Index"), "a list of column names (e.g. ['date'])")],
            "date": [None, InstanceOf(str, "the name of the date column")],
        },
        # the data and the list names: checked below against the frame, with messages about its content
        exempt=("frame", "lists"),
    )
    def from_records(cls, frame: pd.DataFrame, lists: Sequence[str], *, membership: Mapping | None = None,
                     covariates: Sequence[str] | None = None, date: str | None = None):
        """From individual records: one row per person, one 0/1 or bool column per list.

        Parameters
        ----------
        frame : pandas.DataFrame
            One row per person. Not modified.
        lists : list of str
            The list-membership columns: 0/1 or True/False (text such as "yes"/"no" with ``membership``).
        membership : dict, optional
            What each value of a list column means, e.g. ``{"yes": 1, "no": 0, "Y": 1, "N": 0}`` (1: on the
            list, 0: not on it). Values are matched exactly (``"Yes"`` is not ``"yes"``); 0/1 and True/False
            need no entry. Without it a list column with text is refused, naming the column and the values.
        covariates : list of str, optional
            The columns kept as covariates (strata, e.g. a date, region or sex). Default: every column that is
            not a list. Name them to leave out identifiers (a record id, a name), which would make one
            stratum per person.
        date : str, optional
            The column holding each record's date (dates, date text, ``pandas.Period``, missing allowed). Its
            lists' coverage over time is checked (see below). Default: every column with a datetime or period
            dtype, or whose values are all dates, timestamps or ``pandas.Period`` (missing allowed).

        Returns
        -------
        CaptureHistories

        Raises
        ------
        DataError
            A list column with values other than 0/1 (every offending row named, the first 20 shown), a record on
            none of the lists, an unknown column.

        Warns
        -----
        UserWarning
            * Rows that are exact copies of an earlier row, when the other columns tell nearly every record apart
              (at least 90% of distinct rows differ in them), so that a copy is unlikely by chance: perhaps the same
              person listed twice. They are kept (each counts as a person); ``frame.drop_duplicates()`` drops them.
              Records of list columns alone, or with a few coarse covariates, repeat by chance and are not reported.
            * A covariate that looks like an identifier (text distinct on at least 90% of at least 20 rows, or
              whole numbers distinct on every one of at least 100 rows), when ``covariates`` is not given.
            * A list with no records over a stretch of the date column where the others have many (a late
              start, a gap, an early end): see :func:`list_coverage_gaps` for the rule.

        Examples
        --------
        >>> import pandas as pd
        >>> people = pd.DataFrame({"A": ["yes", "no", "yes"], "B": ["no", "yes", "yes"], "region": ["n", "s", "n"]})
        >>> h = CaptureHistories.from_records(people, ["A", "B"], membership={"yes": 1, "no": 0})
        >>> h.list_totals.tolist()
        [2, 2]
        """
        if not isinstance(frame, pd.DataFrame):
            raise DataError(f"`frame` must be a pandas DataFrame; got {type(frame).__name__}.")
        frame = _text_columns(frame)
        lists = cls._resolve_lists(frame, lists, exclude=set())
        membership = _check_membership(membership)
        patterns = _check_zero_one(frame, lists, membership)
        empty = patterns.sum(axis=1) == 0
        if empty.any():
            raise DataError(
                f"{int(empty.sum()):,} record(s) are on none of the lists {list(lists)!r}: "
                f"{_rows_text(frame.index[empty])}; every record must be on at least one. Drop them, or add the "
                "list they came from."
            )
        others = [c for c in frame.columns if c not in lists]
        if covariates is None:
            kept = others
            for name, distinct in _identifier_columns(frame, others):
                rest = [c for c in others if c != name]
                _warn.warn(
                    f"Column {name!r} has {distinct:,} distinct values in {len(frame):,} rows: it looks like an "
                    "identifier (a record id, a name), not a covariate. Kept as one it makes one stratum per person "
                    "and one table row per person. Leave it out: name the covariates to keep, "
                    f"covariates={rest!r}, or drop it first (frame.drop(columns=[{name!r}])).",
                    UserWarning,
                )
        else:
            kept = [str(c) for c in covariates]
            unknown = [c for c in kept if c not in frame.columns]
            if unknown:
                raise DataError(f"Unknown covariate column(s) {unknown!r}; the frame has columns "
                                f"{list(frame.columns)!r}.")
            both = [c for c in kept if c in lists]
            if both:
                raise DataError(f"Column(s) {both!r} are lists; leave them out of `covariates`.")
        repeats = _duplicate_rows(frame, lists)
        if repeats is not None:
            _warn.warn(
                f"{len(repeats):,} {'row is an exact duplicate' if len(repeats) == 1 else 'rows are exact duplicates'}"
                f" of another row ({_rows_text(frame.index[repeats], 10)}), though the other columns tell nearly "
                "every record apart. If they are the same person listed twice, drop them with "
                "frame.drop_duplicates(); they are kept, each counted as a person.",
                UserWarning,
            )
        if date is not None:
            if date not in frame.columns:
                raise DataError(f"Date column {date!r} not found; columns are {list(frame.columns)!r}. "
                                "Pass date='...' naming it.")
            if date in lists:
                raise DataError(f"Column {date!r} is a list, not a date column.")
            _read_dates(frame[date], date)  # dates or missing, else a DataError naming the values
            dated = [date]
        else:
            dated = [c for c in others if _holds_dates(frame[c])]
        for name in dated:
            _coverage_warnings(frame[name], patterns, lists, column=name)
        covariate_values = {str(c): frame[c].to_numpy() for c in kept}
        return cls._aggregated(lists, patterns, np.ones(len(frame)), covariate_values)

    @classmethod
    def from_array(cls, array, lists: Sequence[str]):
        """From a 2**k array as dga uses: shape (2,)*k with axis j for list j, or flat of length 2**k.

        A flat array is indexed with the first list as the most significant bit. The all-zero cell must be 0
        or NaN (it is the unknown we estimate).
        """
        lists = _check_list_names(lists)
        k = len(lists)
        values = np.asarray(array, dtype=float)
        if values.shape not in ((2,) * k, (2**k,)):
            raise DataError(
                f"`array` for {k} lists must have shape {(2,) * k} or ({2**k},); got {values.shape}."
            )
        flat = values.reshape(-1).copy()
        if np.isnan(flat[0]):
            flat[0] = 0.0
        return cls(lists=lists, patterns=pattern_matrix(k), counts=flat)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, float], lists: Sequence[str] | None = None):
        """From ``{"101": 17, ...}``: each key a pattern string, first character for the first list."""
        if not isinstance(mapping, Mapping) or not mapping:
            raise DataError("`mapping` must be a non-empty dict like {'10': 30, '01': 20, '11': 10}.")
        keys = [str(key) for key in mapping]
        widths = {len(key) for key in keys}
        if len(widths) != 1:
            raise DataError(f"Pattern keys must all have the same length; got lengths {sorted(widths)}.")
        k = widths.pop()
        for key in keys:
            if set(key) - {"0", "1"}:
                raise DataError(f"Pattern key {key!r} must contain only '0' and '1'.")
        if lists is None:
            lists = [chr(ord("A") + j) if k <= 26 else f"L{j + 1}" for j in range(k)]
        if len(lists) != k:
            raise DataError(f"Pattern keys have {k} characters but {len(lists)} list names were given.")
        patterns = np.array([[int(c) for c in key] for key in keys], dtype=np.int8)
        counts = _check_counts(np.array(list(mapping.values()), dtype=object), [f"pattern {key}" for key in keys])
        return cls._aggregated(tuple(lists), patterns, counts, {})

    @staticmethod
    def _resolve_lists(frame: pd.DataFrame, lists, exclude) -> tuple[str, ...]:
        if lists is None:
            candidates = [c for c in frame.columns if c not in exclude]
            lists = [
                c
                for c in candidates
                if frame[c].dtype == bool or pd.to_numeric(frame[c], errors="coerce").isin([0, 1]).all()
            ]
            if len(lists) < 2:
                # say which columns were passed over, or a list column with one stray value vanishes unexplained
                others = [c for c in candidates if c not in lists]
                raise DataError(
                    f"Found {len(lists)} list column(s) holding only 0/1 ({list(lists)!r}); capture-recapture needs "
                    f"at least two. Columns {others!r} hold other values: fix them, or name the lists with "
                    "`lists=[...]` to see which row is wrong."
                )
        lists = _check_list_names(lists)
        missing = [name for name in lists if name not in frame.columns]
        if missing:
            raise DataError(f"Unknown list column(s) {missing!r}; the frame has columns {list(frame.columns)!r}.")
        return lists

    @classmethod
    def _aggregated(cls, lists, patterns, counts, covariates):
        """Sum counts over identical (pattern, covariates) rows so equal tables compare equal."""
        if not covariates:
            index = pattern_index(patterns)
            unique, inverse = np.unique(index, return_inverse=True)
            summed = np.bincount(inverse, weights=counts)
            k = patterns.shape[1]
            rows = pattern_rows(unique, k)
            return cls(lists=tuple(lists), patterns=rows, counts=summed)
        frame = pd.DataFrame(patterns, columns=list(lists))
        keys = list(lists)
        for name, values in covariates.items():
            frame[name] = values
            keys.append(name)
        frame["__count__"] = counts
        try:
            grouped = frame.groupby(keys, dropna=False, sort=True, observed=True)["__count__"].sum().reset_index()
        except TypeError:
            # values that cannot be ordered together (dates mixed with Periods, text with numbers): group on codes
            # of the values ordered by (type, text), so equal records still give equal tables
            levels = {}
            for name in covariates:
                try:
                    codes, uniques = pd.factorize(frame[name], use_na_sentinel=False)
                except TypeError:
                    example = next(v for v in frame[name] if not isinstance(v, (str, int, float, bool)))
                    raise DataError(
                        f"Column {name!r} holds values that cannot be categories (e.g. {example!r}, a "
                        f"{type(example).__name__}); a covariate holds categories, numbers or dates. Drop it, or "
                        "name the covariates to keep (covariates=[...]).") from None
                order = sorted(range(len(uniques)), key=lambda i: (type(uniques[i]).__name__, str(uniques[i])))
                rank = np.empty(len(order), dtype=np.int64)
                rank[order] = np.arange(len(order))
                frame[name] = rank[codes]
                levels[name] = np.asarray(uniques, dtype=object)[order]
            grouped = frame.groupby(keys, sort=True)["__count__"].sum().reset_index()
            for name, values in levels.items():
                grouped[name] = pd.Series(values[grouped[name].to_numpy()], dtype=object)
        return cls(
            lists=tuple(lists),
            patterns=grouped[list(lists)].to_numpy(dtype=np.int8),
            counts=grouped["__count__"].to_numpy(dtype=float),
            covariates={name: grouped[name].to_numpy() for name in covariates},
        )

    # ------------------------------------------------------------------ basic facts
    @property
    def k(self) -> int:
        """Number of lists."""
        return len(self.lists)

    @cached_property
    def n_observed(self) -> int:
        """Number of distinct people on at least one list."""
        return int(self.counts.sum())

    @cached_property
    def list_totals(self) -> pd.Series:
        """Records on each list."""
        totals = (self.patterns * self.counts[:, None]).sum(axis=0)
        return pd.Series(totals.astype(int), index=list(self.lists), name="records")

    @cached_property
    def overlaps(self) -> pd.DataFrame:
        """k x k matrix: records on both list i and list j (the diagonal is each list's total)."""
        return pd.DataFrame(self._overlap_matrix, index=list(self.lists), columns=list(self.lists))

    @cached_property
    def _overlap_matrix(self) -> np.ndarray:
        weighted = self.patterns.astype(float) * self.counts[:, None]
        return (weighted.T @ self.patterns.astype(float)).astype(int)

    @property
    def capture_frequencies(self) -> np.ndarray:
        """f_1..f_k: number of people on exactly j lists (index j-1)."""
        on = self.patterns.sum(axis=1)
        return np.bincount(on, weights=self.counts, minlength=self.k + 1)[1:]

    def dense_counts(self) -> np.ndarray:
        """Counts for all 2**k patterns (covariates summed over), index as :func:`pattern_index`; cell 0 is 0."""
        if self.k > MAX_DENSE_LISTS:
            raise DataError(
                f"{self.k} lists make 2**{self.k} cells, too many for a dense table; merge or drop lists first."
            )
        return np.bincount(pattern_index(self.patterns), weights=self.counts, minlength=2**self.k).astype(float)

    def fingerprint(self) -> str:
        """A content hash of lists, patterns, counts and covariates: equal tables give equal fingerprints."""
        digest = hashlib.sha256()
        digest.update("\x1f".join(self.lists).encode())
        digest.update(np.ascontiguousarray(self.patterns).tobytes())
        digest.update(np.ascontiguousarray(self.counts).tobytes())
        for name in sorted(self.covariates):
            digest.update(name.encode())
            digest.update(pd.util.hash_array(np.asarray(self.covariates[name], dtype=object)).tobytes())
        return digest.hexdigest()

    def __eq__(self, other):
        if not isinstance(other, CaptureHistories):
            return NotImplemented
        return self.fingerprint() == other.fingerprint()

    def __hash__(self):
        return hash(self.fingerprint())

    # ------------------------------------------------------------------ reshaping
    def to_frame(self, dense: bool = False) -> pd.DataFrame:
        """The table as a DataFrame (list columns, covariates, ``count``); ``dense`` lists every pattern."""
        if dense:
            counts = self.dense_counts()
            frame = pd.DataFrame(pattern_matrix(self.k)[1:], columns=list(self.lists))
            frame["count"] = counts[1:].astype(int)
            return frame
        frame = pd.DataFrame(self.patterns, columns=list(self.lists))
        for name, values in self.covariates.items():
            frame[name] = values
        frame["count"] = self.counts.astype(int)
        return frame

    def collapse(self) -> "CaptureHistories":
        """Sum over covariates/strata, leaving one count per pattern."""
        return CaptureHistories._aggregated(self.lists, self.patterns, self.counts, {})

    def merge_lists(self, merges: Mapping[str, Sequence[str]]) -> "CaptureHistories":
        """Replace groups of lists by their union, e.g. ``{"PF+NCA": ["PF", "NCA"]}``.

        The merged list takes the position of its first member.
        """
        groups = {str(new): [str(old) for old in olds] for new, olds in merges.items()}
        used = [old for olds in groups.values() for old in olds]
        unknown = [name for name in used if name not in self.lists]
        if unknown:
            raise DataError(f"Cannot merge unknown list(s) {unknown!r}; lists are {list(self.lists)!r}.")
        if len(set(used)) != len(used):
            raise DataError("A list appears in more than one merge group.")
        position = {name: j for j, name in enumerate(self.lists)}
        new_lists, columns = [], []
        for name in self.lists:
            group = next((new for new, olds in groups.items() if name in olds), None)
            if group is None:
                new_lists.append(name)
                columns.append(self.patterns[:, position[name]])
            elif groups[group][0] == name or name == min(groups[group], key=position.get):
                members = [position[m] for m in groups[group]]
                new_lists.append(group)
                columns.append(self.patterns[:, members].max(axis=1))
        return CaptureHistories._aggregated(
            tuple(new_lists), np.column_stack(columns), self.counts, dict(self.covariates)
        )

    def drop_lists(self, names: Sequence[str]) -> "CaptureHistories":
        """Remove lists; records found only on removed lists disappear."""
        names = [names] if isinstance(names, str) else list(names)
        unknown = [name for name in names if name not in self.lists]
        if unknown:
            raise DataError(f"Cannot drop unknown list(s) {unknown!r}; lists are {list(self.lists)!r}.")
        keep = [j for j, name in enumerate(self.lists) if name not in names]
        patterns = self.patterns[:, keep]
        on_some = patterns.sum(axis=1) > 0
        covariates = {name: values[on_some] for name, values in self.covariates.items()}
        return CaptureHistories._aggregated(
            tuple(self.lists[j] for j in keep), patterns[on_some], self.counts[on_some], covariates
        )

    def select_lists(self, names: Sequence[str]) -> "CaptureHistories":
        """Keep only the named lists (in the order given)."""
        unknown = [name for name in names if name not in self.lists]
        if unknown:
            raise DataError(f"Unknown list(s) {unknown!r}; lists are {list(self.lists)!r}.")
        dropped = [name for name in self.lists if name not in names]
        reduced = self.drop_lists(dropped) if dropped else self
        order = [reduced.lists.index(name) for name in names]
        return CaptureHistories._aggregated(
            tuple(names), reduced.patterns[:, order], reduced.counts, dict(reduced.covariates)
        )

    def strata(self, by: str | Sequence[str], freq: str | None = None) -> dict:
        """Split into one table per stratum.

        Parameters
        ----------
        by : str or list of str
            Covariate column(s) defining the strata.
        freq : {"D", "W", "M"} or any pandas offset alias, optional
            Bin a date column into days, weeks or months first (only with a single ``by`` column).

        Returns
        -------
        dict mapping stratum label (a value, tuple of values, or ``pandas.Timestamp`` bin start) to
        :class:`CaptureHistories` without the stratum columns. A list with no records in a stratum is dropped
        from that stratum's table, with a :class:`SmallSampleWarning` naming both. With ``freq``, records with
        no date (None, NaN, NaT, empty text) are in no stratum, and so are those whose date is a
        ``pandas.Period`` longer than one bin (a month Period fits a month bin, not a week); a warning says how
        many, and the dict's ``unplaced`` attribute counts them by reason ({"no date": n, "coarse date": n}).

        Raises
        ------
        DataError
            For the first stratum (in label order) that cannot be a table, e.g. one where fewer than two lists
            have records.
        """
        split = self.split_strata(by, freq)
        for stratum in split.values():
            if isinstance(stratum, FailedStratum):
                raise stratum.error
        return split

    def split_strata(self, by: str | Sequence[str], freq: str | None = None) -> dict:
        """As :meth:`strata`, but a stratum that cannot be a table maps to a :class:`FailedStratum` instead of
        stopping the split (what fitting many strata needs: one stratum with a single person must not stop the
        others). Labels are in sorted order; errors about ``by`` or ``freq`` themselves are still raised."""
        by = [by] if isinstance(by, str) else list(by)
        unknown = [name for name in by if name not in self.covariates]
        if unknown:
            raise DataError(
                f"Unknown stratum column(s) {unknown!r}; covariates are {list(self.covariates)!r}."
            )
        keys = {name: pd.Series(self.covariates[name]) for name in by}
        placed = np.ones(len(self.counts), dtype=bool)
        unplaced = {}
        if freq is not None:
            if len(by) != 1:
                raise DataError("`freq` bins one date column; pass a single `by` column with it.")
            keys[by[0]], missing, coarse = _date_bins(self.covariates[by[0]], freq, by[0])
            placed = ~(missing | coarse)

            def advice(n):
                return (f"{'its death is' if n == 1 else 'their deaths are'} not in any stratum's estimate: impute "
                        f"{'it' if n == 1 else 'them'} (estimators.impute) or fit the pooled table")

            if missing.any():
                unplaced["no date"] = n = int(self.counts[missing].sum())
                _warn.warn(f"{n:,} {'record has' if n == 1 else 'records have'} no date in {by[0]!r} and "
                           f"{'is' if n == 1 else 'are'} in no stratum; {advice(n)}.", UserWarning)
            if coarse.any():
                unplaced["coarse date"] = n = int(self.counts[coarse].sum())
                example = next(v for v, c in zip(self.covariates[by[0]], coarse) if c)
                _warn.warn(f"{n:,} {'record has' if n == 1 else 'records have'} a date in {by[0]!r} known only to "
                           f"a period longer than one {freq!r} bin (e.g. {example!r}) and "
                           f"{'is' if n == 1 else 'are'} in no stratum (a date too coarse to place); {advice(n)}, "
                           "or bin by a longer `freq`.", UserWarning)
        frame = pd.DataFrame(keys)
        rest = {name: values for name, values in self.covariates.items() if name not in by}
        result = _Strata()
        result.unplaced = unplaced
        positions = np.flatnonzero(placed)
        frame = frame.iloc[positions].reset_index(drop=True)
        # one column is grouped by its name, so a label is its value as given, a tuple included (grouping by a
        # one-name list and unwrapping the key took ("x", 1) and ("x", 2) both to "x": one stratum); several
        # columns give tuple labels, one per combination
        for label, rows in frame.groupby(by[0] if len(by) == 1 else by, sort=True, dropna=False).indices.items():
            rows = positions[rows]
            # messages show the label as written (2, not np.int64(2)); the key stays as pandas gives it
            shown = (format_label(label) if isinstance(label, (pd.Timestamp, np.datetime64, pd.Period, tuple))
                     else repr(label.item() if isinstance(label, np.generic) else label))
            patterns, counts = self.patterns[rows], self.counts[rows]
            covariates = {name: values[rows] for name, values in rest.items()}
            totals = (patterns * counts[:, None]).sum(axis=0)
            empty = [name for name, total in zip(self.lists, totals) if total == 0]
            keep = [j for j, total in enumerate(totals) if total > 0]
            if empty:
                _warn.warn(
                    f"Stratum {shown}: list(s) {empty!r} have no records there and are dropped from that stratum.",
                    SmallSampleWarning,
                )
            if len(keep) < 2:
                result[label] = FailedStratum(int(counts.sum()), DataError(
                    f"Stratum {shown}: only list(s) {[self.lists[j] for j in keep]!r} have records there; "
                    "capture-recapture needs at least two lists with records. Merge it with a neighbouring stratum."
                ))
                continue
            try:
                result[label] = CaptureHistories._aggregated(
                    tuple(self.lists[j] for j in keep), patterns[:, keep], counts, covariates
                )
            except DataError as error:
                result[label] = FailedStratum(int(counts.sum()), DataError(f"Stratum {shown}: {error}"))
        return result

    # ------------------------------------------------------------------ display
    def summary(self):
        """Lists, totals, pairwise overlaps and capture frequencies as a :class:`~estimators.results.Summary`."""
        from ._summary import Summary, Table

        overlap = self._overlap_matrix
        totals = (self.patterns * self.counts[:, None]).sum(axis=0).astype(int)
        columns = {"share of observed": np.round(totals / self.n_observed, 3).tolist()}
        columns.update({name: overlap[:, j].tolist() for j, name in enumerate(self.lists)})
        table = Table(columns, index=self.lists)
        frequencies = self.capture_frequencies
        facts = [
            ("lists", self.k),
            ("observed (on at least one list)", self.n_observed),
            ("distinct patterns observed", int(len(np.unique(pattern_index(self.patterns))))),
            ("on exactly 1, 2, ... lists", ", ".join(str(int(f)) for f in frequencies)),
        ]
        if self.covariates:
            facts.append(("covariates", ", ".join(self.covariates)))
        notes = []
        never = [
            f"{self.lists[i]}-{self.lists[j]}"
            for i in range(self.k)
            for j in range(i + 1, self.k)
            if overlap[i, j] == 0
        ]
        if never:
            notes.append("Pairs of lists that never overlap: " + ", ".join(never) + ".")
        return Summary(title="Capture histories", facts=facts, table=table, notes=notes)

    def __repr__(self):
        return (
            f"CaptureHistories(lists={list(self.lists)!r}, n_observed={self.n_observed}, "
            f"patterns={len(self.counts)}" + (f", covariates={list(self.covariates)!r})" if self.covariates else ")")
        )


def check_histories(value, name: str = "h") -> CaptureHistories:
    """Return ``value`` if it is a CaptureHistories, else raise a TypeError naming the argument ``name``, the
    type received and how to build one: the first check of every estimator."""
    if not isinstance(value, CaptureHistories):
        raise TypeError(
            f"`{name}` must be a CaptureHistories; got {type(value).__name__}. Build one with "
            "CaptureHistories.from_counts(frame), from_records(frame, lists) or from_mapping({...}), "
            "or load a shipped table with load_dataset(name)."
        )
    return value
