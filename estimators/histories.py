"""Capture histories: who appears on which of several incomplete lists, as patterns and counts.

A *pattern* is a 0/1 vector over the k lists (1 = the record is on that list). Pattern index ``i`` in
``0 .. 2**k - 1`` reads the pattern as a binary number with the **first list as the most significant bit**,
the convention of the shipped CSV files and of Rcapture; index 0 (on no list) is never observed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from . import _warn
from .exceptions import DataError, SmallSampleWarning

MAX_DENSE_LISTS = 20


def pattern_matrix(k: int) -> np.ndarray:
    """All 2**k patterns as a (2**k, k) int8 matrix, row i = binary digits of i, first list most significant."""
    index = np.arange(2**k)[:, None]
    shifts = np.arange(k - 1, -1, -1)[None, :]
    return ((index >> shifts) & 1).astype(np.int8)


def pattern_index(patterns: np.ndarray) -> np.ndarray:
    """Inverse of :func:`pattern_matrix`: the index of each 0/1 row."""
    patterns = np.asarray(patterns, dtype=np.int64)
    k = patterns.shape[1]
    weights = 1 << np.arange(k - 1, -1, -1, dtype=np.int64)
    return patterns @ weights


def pattern_label(pattern) -> str:
    return "".join(str(int(v)) for v in pattern)


def _read_only(array: np.ndarray) -> np.ndarray:
    array = np.array(array, copy=True)
    array.flags.writeable = False
    return array


def _check_list_names(lists) -> tuple[str, ...]:
    if isinstance(lists, (np.ndarray, pd.Index, pd.Series)):
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


def _check_zero_one(frame: pd.DataFrame, lists: Sequence[str]) -> np.ndarray:
    columns = []
    for name in lists:
        column = frame[name]
        if column.dtype == bool:
            values = column.to_numpy(dtype=np.int8)
        else:
            numeric = pd.to_numeric(column, errors="coerce")
            bad = numeric.isna() | ~numeric.isin([0, 1])
            if bad.any():
                row = bad.to_numpy().nonzero()[0][0]
                raise DataError(
                    f"List column {name!r} must hold only 0/1 (or True/False); row {frame.index[row]!r} has "
                    f"{column.iloc[row]!r}."
                )
            values = numeric.to_numpy(dtype=np.int8)
        columns.append(values)
    return np.column_stack(columns).astype(np.int8)


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
    def from_records(cls, frame: pd.DataFrame, lists: Sequence[str]):
        """From individual records: one row per person, one 0/1 or bool column per list.

        Every other column is kept as a covariate (for strata, e.g. a date, region or sex).
        """
        if not isinstance(frame, pd.DataFrame):
            raise DataError(f"`frame` must be a pandas DataFrame; got {type(frame).__name__}.")
        frame = _text_columns(frame)
        lists = cls._resolve_lists(frame, lists, exclude=set())
        patterns = _check_zero_one(frame, lists)
        empty = patterns.sum(axis=1) == 0
        if empty.any():
            row = frame.index[np.flatnonzero(empty)[0]]
            raise DataError(
                f"Record {row!r} is on none of the lists {list(lists)!r}; every record must be on at least one."
            )
        others = [c for c in frame.columns if c not in lists]
        covariates = {str(c): frame[c].to_numpy() for c in others}
        return cls._aggregated(lists, patterns, np.ones(len(frame)), covariates)

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
            rows = ((unique[:, None] >> np.arange(k - 1, -1, -1)[None, :]) & 1).astype(np.int8)
            return cls(lists=tuple(lists), patterns=rows, counts=summed)
        frame = pd.DataFrame(patterns, columns=list(lists))
        keys = list(lists)
        for name, values in covariates.items():
            frame[name] = values
            keys.append(name)
        frame["__count__"] = counts
        grouped = frame.groupby(keys, dropna=False, sort=True, observed=True)["__count__"].sum().reset_index()
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
        weighted = self.patterns.astype(float) * self.counts[:, None]
        matrix = weighted.T @ self.patterns.astype(float)
        return pd.DataFrame(matrix.astype(int), index=list(self.lists), columns=list(self.lists))

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
        from that stratum's table, with a :class:`SmallSampleWarning` naming both.

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
        if freq is not None:
            if len(by) != 1:
                raise DataError("`freq` bins one date column; pass a single `by` column with it.")
            dates = pd.to_datetime(keys[by[0]], errors="coerce")
            if dates.isna().any():
                raise DataError(f"Column {by[0]!r} has values that are not dates; cannot bin by {freq!r}.")
            keys[by[0]] = dates.dt.to_period(freq).dt.start_time
        frame = pd.DataFrame(keys)
        rest = {name: values for name, values in self.covariates.items() if name not in by}
        result = {}
        # one column is grouped by its name, so a label is its value as given, a tuple included (grouping by a
        # one-name list and unwrapping the key took ("x", 1) and ("x", 2) both to "x": one stratum); several
        # columns give tuple labels, one per combination
        for label, rows in frame.groupby(by[0] if len(by) == 1 else by, sort=True, dropna=False).indices.items():
            # messages show the label as written (2, not np.int64(2)); the key stays as pandas gives it
            shown = repr(label.item() if isinstance(label, np.generic) else label)
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
        from .results import Summary

        table = self.overlaps.copy()
        table.insert(0, "share of observed", (self.list_totals / self.n_observed).round(3))
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
        overlap = self.overlaps.to_numpy()
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
