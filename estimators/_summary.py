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
            lines += ["", _format_table(self.table).to_string()]
        if self.notes:
            lines += [""] + [f"[{i}] {note}" for i, note in enumerate(self.notes, 1)]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(str(k))}</th><td>{html.escape(_format_fact(k, v))}</td></tr>"
            for k, v in self.facts
        )
        table = "" if self.table is None else _format_table(self.table).to_html()
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return f"<h4>{html.escape(self.title)}</h4><table>{rows}</table>{table}" + (
            f"<ol>{notes}</ol>" if notes else ""
        )

    def to_frame(self) -> pd.DataFrame:
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
        values = table[grouped].iloc[i].to_numpy(dtype=float)
        magnitudes = np.abs(values[np.isfinite(values) & (values != 0)])
        smallest = magnitudes.min() if magnitudes.size else 1.0
        # one decimal for counts of 10 or more, else three significant digits of the smallest value
        decimals = 1 if smallest >= 10 else min(int(2 - np.floor(np.log10(smallest))), 8)
        finite = values[np.isfinite(values)]
        if finite.size and np.all(finite == np.round(finite)) and smallest >= 10:
            decimals = 0  # an exact pmf's median and bounds are whole numbers of people
        for j, column in enumerate(grouped):
            text.iloc[i, text.columns.get_loc(column)] = (
                f"{values[j]:,.{decimals}f}" if np.isfinite(values[j]) else str(values[j]))
    return text


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
