"""Summary: the printable form of every result (text, HTML, DataFrame) and its number formatting."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._lazy import is_pandas, pd


def format_label(label) -> str:
    """A stratum or day label as its user wrote it: a date as 2017-02-19, not Timestamp('2017-02-19 00:00:00')."""
    if (isinstance(label, np.datetime64) or is_pandas(label, "Timestamp")) and not pd.isna(label):
        stamp = pd.Timestamp(label)
        return stamp.date().isoformat() if stamp == stamp.normalize() and stamp.tz is None else stamp.isoformat()
    if is_pandas(label, "Period"):
        return str(label)
    if isinstance(label, tuple):
        return "(" + ", ".join(format_label(part) for part in label) + ")"
    return str(label)


class Table:
    """A small table of numbers, columns by name and rows by label, that prints as its DataFrame would.

    What ``Estimate.summary()`` and ``CaptureHistories.summary()`` hold: printing a result (the ``undercount``
    command, ``print(fit)`` in a script) then needs no pandas, whose import costs more than most fits. Used as a
    DataFrame (``summary.table.loc[...]``, ``to_frame()``) it becomes one.
    """

    def __init__(self, columns: dict, index: Sequence[str]):
        self.columns_ = {str(name): list(values) for name, values in columns.items()}
        self.index_ = [str(label) for label in index]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.columns_, index=self.index_)

    def __len__(self) -> int:
        return len(self.index_)

    def __getattr__(self, name):
        if name.endswith("_"):
            raise AttributeError(name)
        return getattr(self.to_frame(), name)

    def text(self) -> str:
        """``_format_table(self.to_frame()).to_string()``, computed without pandas (tests/test_lazy.py compares)."""
        kinds = {name: _kind(values) for name, values in self.columns_.items()}
        if None in kinds.values():
            return _format_table(self.to_frame()).to_string()
        text = {name: [None] * len(self) for name in self.columns_}
        grouped = [name for name in self.columns_ if name in _INTERVAL_COLUMNS and kinds[name] is float]
        for name, values in self.columns_.items():
            if name not in grouped:
                text[name] = [_format_value(kinds[name](value)) for value in values]
        for i in range(len(self)):
            values = np.array([self.columns_[name][i] for name in grouped], dtype=float)
            for name, cell in zip(grouped, _interval_row(values)):
                text[name][i] = cell
        index_width = max(len(label) for label in self.index_)
        widths = {name: max([len(name)] + [len(cell) + 1 for cell in cells]) for name, cells in text.items()}
        lines = [" " * index_width + "".join(" " + name.rjust(widths[name]) for name in text)]
        for i, label in enumerate(self.index_):
            lines.append(label.ljust(index_width) + "".join(" " + text[name][i].rjust(widths[name]) for name in text))
        return "\n".join(lines)


def _kind(values):
    """The Python type pandas' dtype of ``values`` would give its cells (int or float), or None for other data."""
    if not values or any(isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating))
                         for v in values):
        return None
    return int if all(isinstance(v, (int, np.integer)) for v in values) else float


@dataclass(frozen=True)
class Summary:
    """A printable summary: facts about the fit, an estimates table and footnotes (text, HTML, DataFrame).

    Attributes
    ----------
    title : str
    facts : sequence of (str, object)
        Model facts, printed one a line (a seed as the integer to pass back, an ESS in whole draws).
    table : pandas.DataFrame or None
        The estimates; each row's estimate, bounds and standard error share one number of decimals.
    notes : sequence of str
        Footnotes: warnings, assumptions.

    Examples
    --------
    >>> from estimators import Estimate
    >>> summary = Estimate(estimate=336.1, interval=(289.9, 408.5), level=0.95, method="Chapman",
    ...                    n_observed=208, interval_kind="log-normal (Chao 1987)", std_error=29.6).summary()
    >>> print(summary)  # doctest: +NORMALIZE_WHITESPACE
    Population size: Chapman
    ========================================
    method        Chapman
    observed (n)  208
    interval      95% log-normal (Chao 1987)
    <BLANKLINE>
                     estimate  lower  upper std. error
    N (total)           336.1  289.9  408.5       29.6
    unlisted (N - n)    128.1   81.9  200.5       29.6
    >>> summary.to_frame().columns.tolist()
    ['estimate', 'lower', 'upper', 'std. error']
    """

    title: str
    facts: Sequence[tuple[str, object]] = ()
    table: pd.DataFrame | None = None
    notes: Sequence[str] = ()

    def __str__(self) -> str:
        width = max([len(str(k)) for k, _ in self.facts] + [10])
        lines = [self.title, "=" * max(len(self.title), 40)]
        lines += [f"{str(k):<{width}}  {_format_fact(k, v)}" for k, v in self.facts]
        if self.table is not None and len(self.table):
            lines += ["", self.table.text() if isinstance(self.table, Table) else _format_table(self.table).to_string()]
        if self.notes:
            lines += [""] + [f"[{i}] {note}" for i, note in enumerate(self.notes, 1)]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(str(k))}</th><td>{html.escape(_format_fact(k, v))}</td></tr>"
            for k, v in self.facts
        )
        frame = self.table.to_frame() if isinstance(self.table, Table) else self.table
        table = "" if frame is None else _format_table(frame).to_html()
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return f"<h4>{html.escape(self.title)}</h4><table>{rows}</table>{table}" + (
            f"<ol>{notes}</ol>" if notes else ""
        )

    def to_frame(self) -> pd.DataFrame:
        if isinstance(self.table, Table):
            return self.table.to_frame()
        return self.table.copy() if self.table is not None else pd.DataFrame()


# A quantity's estimate and its interval: printed with one number of decimals per row.
_INTERVAL_COLUMNS = ("estimate", "median", "mean", "lower", "upper", "std. error", "std_error")


def _format_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table as text. In each row the estimate, its bounds and standard error share one number of decimals:
    a row is one quantity (N, the unlisted count, a rate), and 128.1 printed beside a bound of 81.890 reads as
    two different precisions. Other columns (deaths, person-days, a design effect) are formatted one by one."""
    text = table.astype(object).copy()
    grouped = [c for c in table.columns if c in _INTERVAL_COLUMNS and pd.api.types.is_float_dtype(table[c])]
    for column in table.columns:
        if column not in grouped and pd.api.types.is_numeric_dtype(table[column]) \
                and not pd.api.types.is_bool_dtype(table[column]):
            text[column] = [_format_value(value) for value in table[column].tolist()]
    for i in range(len(table)):
        cells = _interval_row(table[grouped].iloc[i].to_numpy(dtype=float))
        for column, cell in zip(grouped, cells):
            text.iloc[i, text.columns.get_loc(column)] = cell
    return text


def _interval_row(values: np.ndarray) -> list[str]:
    """One row's estimate, bounds and standard error as text, with one number of decimals."""
    magnitudes = np.abs(values[np.isfinite(values) & (values != 0)])
    smallest = magnitudes.min() if magnitudes.size else 1.0
    # one decimal for counts of 10 or more, else three significant digits of the smallest value
    decimals = 1 if smallest >= 10 else min(int(2 - np.floor(np.log10(smallest))), 8)
    finite = values[np.isfinite(values)]
    if finite.size and np.all(finite == np.round(finite)) and smallest >= 10:
        decimals = 0  # an exact pmf's median and bounds are whole numbers of people
    return [f"{value:,.{decimals}f}" if np.isfinite(value) else str(value) for value in values]


def _format_float(value: float) -> str:
    if not np.isfinite(value):
        return str(value)
    if value == round(value) and abs(value) < 1e15:
        return f"{value:,.0f}"  # a count stored as a float (f1 = 187) is not shown as 187.0
    if abs(value) >= 100:
        return f"{value:,.1f}"
    return f"{value:.4g}"


def _format_fact(key, value) -> str:
    """A fact as a reader copies it: a seed as the integer to pass back (716852975, not 716,852,975), an
    effective sample size in whole draws."""
    name = str(key)
    if "seed" in name and isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if "ess" in name.replace("_", " ").split() and isinstance(value, (float, np.floating)) and np.isfinite(value):
        return f"{round(value):,}"
    return _format_value(value)


def _format_value(value) -> str:
    if isinstance(value, (np.datetime64, tuple)) or is_pandas(value, "Timestamp"):
        return format_label(value)  # a date as 2017-02-19, not 2017-02-19 00:00:00
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, float):
        return _format_float(value)
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    return str(value)


def _number(value) -> str:
    """A number for a one-line repr: thousands separated, four significant digits below 1,000."""
    if value is None or not np.isfinite(value):
        return str(value)
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _bracket(interval) -> str:
    return "[" + ", ".join(_number(bound) for bound in interval) + "]" if interval is not None else "[]"


def warning_codes(notes, width: int = 48) -> str:
    """Warnings shortened for a table cell: each note's first clause, cut at ``width`` characters, joined by "; ".

    The full text belongs in another column (``warning_details`` of :func:`estimators.estimate_strata`'s table): a
    cell of several 300-character sentences makes a table unreadable.

    Examples
    --------
    >>> warning_codes(["Few clusters (12): the design-based interval may be too narrow.", "No deaths."])
    'Few clusters (12); No deaths'
    """
    short = []
    for note in notes:
        text = str(note).strip()
        for stop in (": ", ". ", "; ", " (p = "):
            text = text.split(stop)[0]
        text = text.rstrip(".")
        short.append(text if len(text) <= width else text[: width - 1].rstrip() + "…")
    return "; ".join(short)
