"""SMART-style plausibility checks of household and roster data (:func:`plausibility`, :class:`PlausibilityReport`).

Reports, never rejections: each check gives a number, what is expected, and a flag when it is outside the usual
range; :func:`mortality_rate` raises the flags as :class:`PlausibilityWarning` and computes the rate anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .._summary import Summary
from .._validation import InstanceOf, validate_params


class PlausibilityWarning(UserWarning):
    """A data-quality check of a survey is outside its usual range (age heaping, sex ratio, missing data...)."""


_COLUMN = [None, InstanceOf(str, "a column name (str)")]

# Whipple's index (UN 1955 / SMART 2017 plausibility check): < 105 highly accurate, 105-110 fairly accurate,
# 110-125 approximate, 125-175 rough, >= 175 very rough. Flagged from "rough".
_WHIPPLE_FLAG = 125.0
# Myers' blended index ranges 0 (no preference) to 90 (all ages on one digit); > 20 is marked heaping.
_MYERS_FLAG = 20.0
_SEX_RATIO_P = 0.001  # SMART flags the sex ratio at p < 0.001 (binomial test against 1:1)
_U5_RANGE = (0.10, 0.25)  # share of under-fives in crisis-affected populations (typical 15-20%)
_MISSING_FLAG = 0.05


@dataclass(frozen=True, kw_only=True)
class PlausibilityReport:
    """Plausibility checks of survey data: one row per check.

    Attributes
    ----------
    table : pandas.DataFrame
        Index ``check``; columns ``value``, ``expected`` (in words), ``p_value`` (NaN where no test), ``flag``
        (bool), ``n`` (observations used).
    flags : tuple of str
        One sentence per flagged check (what :func:`mortality_rate` raises as warnings).
    """

    table: pd.DataFrame
    flags: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Whether no check is flagged."""
        return not self.flags

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> Summary:
        return Summary(title="Survey data: plausibility checks (SMART 2017)",
                       facts=[("checks", len(self.table)), ("flagged", len(self.flags))],
                       table=self.table, notes=(*self.flags, *self.notes))

    def __str__(self):
        return str(self.summary())

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()


def whipple_index(ages) -> float:
    """Whipple's index on ages 23-62: 5 x share of ages ending in 0 or 5, x 100 (100 = no heaping, 500 = all)."""
    ages = np.floor(np.asarray(ages, dtype=float))
    ages = ages[(ages >= 23) & (ages <= 62)]
    if len(ages) == 0:
        return float("nan")
    return float(500 * np.mean(ages % 5 == 0))


def myers_index(ages) -> float:
    """Myers' blended index on ages 10-89 (0 = no digit preference, 90 = every age on one digit)."""
    ages = np.floor(np.asarray(ages, dtype=float))
    ages = ages[np.isfinite(ages)].astype(int)
    blended = np.empty(10)
    for d in range(10):
        first = np.sum(np.isin(ages, np.arange(10 + d, 80, 10)))   # 10+d, ..., 70+d
        second = np.sum(np.isin(ages, np.arange(20 + d, 90, 10)))  # 20+d, ..., 80+d
        blended[d] = (d + 1) * first + (9 - d) * second
    if blended.sum() == 0:
        return float("nan")
    share = 100 * blended / blended.sum()
    return float(0.5 * np.sum(np.abs(share - 10)))


@validate_params(
    {"age": _COLUMN, "sex": _COLUMN, "members": _COLUMN, "members_u5": _COLUMN,
     "household": [*_COLUMN, InstanceOf((list, tuple), "a list of the columns that identify a household")],
     "dates": [None, InstanceOf((list, tuple), "a list of column names")]},
    exempt=("data",),
)
def plausibility(data: pd.DataFrame, *, age: str | None = "age", sex: str | None = "sex",
                 household: str | None = "household", members: str | None = "members_now",
                 members_u5: str | None = "members_u5_now", dates=None) -> PlausibilityReport:
    """SMART-style plausibility report of household or roster data: age heaping, sex ratio, household size...

    Every check whose columns are in ``data`` is run (a missing column skips its check):

    * **age heaping**: Whipple's index (ages 23-62 ending in 0 or 5; flagged from 125, "rough") and Myers'
      blended index (ages 10-89; flagged above 20);
    * **sex ratio** (males per female) with an exact binomial test against 1:1 (flagged at p < 0.001, as the
      SMART plausibility check); sex is read as m/male/1 and f/female/2 (case-insensitive);
    * **mean household size**: persons per household in a roster (``household`` column), else the mean of
      ``members``;
    * **proportion of under-fives**: ``age < 5`` in a roster, else ``members_u5 / members``; flagged outside
      10-25%;
    * **missing** ages, sexes and ``dates`` columns (flagged above 5%).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per person (roster) or per household.
    age, sex, household, members, members_u5 : str or None
        Column names; None or absent skips the check. ``household`` may be a list of columns that together
        identify a household, e.g. ``["cluster", "household"]`` when household numbers restart in each cluster.
    dates : list of str, optional
        Date columns whose missing share is reported (e.g. ``["birth_date"]``).

    Returns
    -------
    PlausibilityReport
        ``table`` (one row per check) and ``flags``; ``summary()``.

    Notes
    -----
    Flags are prompts to look at the data (interviewer training, recall, a sampling problem), never grounds to
    drop a survey: :func:`mortality_rate` warns and still estimates.

    References
    ----------
    .. [1] SMART (2017). *Standardized Monitoring and Assessment of Relief and Transitions (SMART) Methodology*,
       Manual 2.0, Action Against Hunger Canada (plausibility check: age heaping, sex ratio, household size).
    .. [2] Checchi F., Roberts L. (2005). Interpreting and using mortality data in humanitarian emergencies.
       *HPN Network Paper* 52, ODI, London.
    .. [3] Myers R. J. (1940). Errors and bias in the reporting of ages in census data. *Transactions of the
       Actuarial Society of America* 41, 395-415.

    Examples
    --------
    >>> import pandas as pd
    >>> from estimators.survey import plausibility
    >>> roster = pd.DataFrame({"household": [1, 1, 1, 2, 2], "age": [30, 35, 2, 40, 41],
    ...                        "sex": ["m", "f", "f", "m", "f"]})
    >>> report = plausibility(roster)
    >>> float(report.table.loc["mean household size", "value"])
    2.5
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"`data` must be a pandas DataFrame; got {type(data).__name__}.")
    rows = {}
    flags = []

    def has(column):
        return column is not None and column in data.columns

    roster = has(age) or has(sex)
    if has(age):
        ages = pd.to_numeric(data[age], errors="coerce")
        known = ages.dropna().to_numpy()
        whipple = whipple_index(known)
        n_whipple = int(np.sum((np.floor(known) >= 23) & (np.floor(known) <= 62)))
        rows["Whipple's index"] = dict(value=whipple, expected="< 125 (100 = no heaping)", p_value=np.nan,
                                       flag=bool(whipple >= _WHIPPLE_FLAG), n=n_whipple)
        if whipple >= _WHIPPLE_FLAG:
            flags.append(f"Age heaping: Whipple's index {whipple:.0f} (>= 125, 'rough'): ages ending in 0 or 5 are "
                         "over-reported; age-group rates are unreliable near 5-year boundaries.")
        myers = myers_index(known)
        rows["Myers' blended index"] = dict(value=myers, expected="< 20 (0 = no digit preference)",
                                            p_value=np.nan, flag=bool(myers > _MYERS_FLAG),
                                            n=int(np.sum((known >= 10) & (known < 90))))
        if myers > _MYERS_FLAG:
            flags.append(f"Age heaping: Myers' blended index {myers:.1f} (> 20).")
        missing = float(ages.isna().mean())
        rows["missing ages"] = dict(value=missing, expected="< 5%", p_value=np.nan,
                                    flag=bool(missing > _MISSING_FLAG), n=len(ages))
        if missing > _MISSING_FLAG:
            flags.append(f"{missing:.0%} of ages are missing (> 5%): age-group rates exclude those persons.")
    if has(sex):
        text = data[sex].astype(str).str.strip().str.lower()
        male = text.isin(["m", "male", "1", "man", "boy"])
        female = text.isin(["f", "female", "2", "woman", "girl"])
        n_m, n_f = int(male.sum()), int(female.sum())
        if n_m + n_f:
            ratio = n_m / n_f if n_f else float("inf")
            p = float(stats.binomtest(n_m, n_m + n_f, 0.5).pvalue)
            rows["sex ratio (males per female)"] = dict(value=ratio, expected="about 1 (binomial test)",
                                                        p_value=p, flag=bool(p < _SEX_RATIO_P), n=n_m + n_f)
            if p < _SEX_RATIO_P:
                flags.append(f"Sex ratio {ratio:.2f} males per female differs from 1:1 (binomial p = {p:.2g}): "
                             "selective absence, migration or mortality, or a sampling problem.")
        missing = float((~(male | female)).mean())
        rows["missing sex"] = dict(value=missing, expected="< 5%", p_value=np.nan, flag=bool(missing > _MISSING_FLAG),
                                   n=len(text))
        if missing > _MISSING_FLAG:
            flags.append(f"{missing:.0%} of sexes are missing or unreadable (> 5%).")
    keys = [household] if household is None or isinstance(household, str) else list(household)
    if roster and all(has(key) for key in keys):
        sizes = data.groupby(keys).size()
        rows["mean household size"] = dict(value=float(sizes.mean()), expected="reported, no threshold",
                                           p_value=np.nan, flag=False, n=len(sizes))
    elif has(members):
        members_values = pd.to_numeric(data[members], errors="coerce")
        rows["mean household size"] = dict(value=float(members_values.mean()), expected="reported, no threshold",
                                           p_value=np.nan, flag=False, n=int(members_values.notna().sum()))
    under5 = None
    if has(age):
        known_ages = pd.to_numeric(data[age], errors="coerce").dropna()
        if len(known_ages):
            under5 = (float((known_ages < 5).mean()), len(known_ages))
    elif has(members) and has(members_u5):
        total = pd.to_numeric(data[members], errors="coerce").sum()
        if total > 0:
            under5 = (float(pd.to_numeric(data[members_u5], errors="coerce").sum() / total), int(total))
    if under5 is not None:
        share, n = under5
        low, high = _U5_RANGE
        flagged = not (low <= share <= high)
        rows["proportion under five"] = dict(value=share, expected="10-25% (typically 15-20%)", p_value=np.nan,
                                             flag=bool(flagged), n=n)
        if flagged:
            flags.append(f"Under-fives are {share:.1%} of the people (expected 10-25%): check the age recording "
                         "and whether young children were left out.")
    for column in dates or ():
        if column not in data.columns:
            raise ValueError(f"`dates` names column {column!r}, not in the data; columns are {list(data.columns)!r}.")
        missing = float(pd.to_datetime(data[column], errors="coerce").isna().mean())
        rows[f"missing {column}"] = dict(value=missing, expected="reported (blank = event did not happen)",
                                         p_value=np.nan, flag=False, n=len(data))
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["value", "expected", "p_value", "flag", "n"])
    table.index.name = "check"
    return PlausibilityReport(table=table, flags=tuple(flags))
