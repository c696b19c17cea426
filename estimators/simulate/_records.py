"""Record-level casualty data as they come: one row per person seen, missing and coarse fields, a late list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..exceptions import DataError

__all__ = ["SimulatedRecords", "simulate_records", "DEFAULT_CAPTURE"]

REGIONS = ("north", "centre", "south")
LISTS = ("A", "B", "C", "D")
# capture probability of each list (rows) in each region (columns): observable heterogeneity by region
DEFAULT_CAPTURE = np.array([
    [0.40, 0.25, 0.12],
    [0.30, 0.18, 0.10],
    [0.25, 0.15, 0.12],
    [0.35, 0.22, 0.15],
])


@dataclass(frozen=True)
class SimulatedRecords:
    """Simulated person records and the truth behind them (from :func:`simulate_records`).

    Attributes
    ----------
    records : pandas.DataFrame
        One row per person seen on at least one list: 0/1 columns per list, ``date`` (a ``pandas.Timestamp``, a
        monthly ``pandas.Period`` or missing), ``region`` and ``sex`` (strings or missing).
    deaths : pandas.DataFrame
        Every death (seen or not), complete: ``day`` (study day from 0), ``date``, ``region``, ``sex``,
        ``hidden`` (the hidden visibility class, 1 = low visibility), the list columns and ``seen``.
    daily : pandas.Series
        True deaths per calendar day (index: dates), every study day.
    settings : mapping
        The arguments used.
    """

    records: pd.DataFrame
    deaths: pd.DataFrame
    daily: pd.Series
    settings: Mapping = field(default_factory=dict)

    @property
    def total(self) -> int:
        """True number of deaths."""
        return int(len(self.deaths))

    @property
    def by_region(self) -> pd.Series:
        """True deaths per region."""
        return self.deaths["region"].value_counts().reindex(self.settings["regions"], fill_value=0)

    @property
    def by_month(self) -> pd.Series:
        """True deaths per calendar month (index: monthly periods)."""
        return self.daily.groupby(self.daily.index.to_period("M")).sum()

    @property
    def mean_rate(self) -> float:
        """True mean deaths per day over the study."""
        return float(self.daily.mean())


def simulate_records(
    n: int = 10_000,
    *,
    days: int = 180,
    start="2024-01-01",
    regions: Sequence[str] = REGIONS,
    region_shares: Sequence[float] = (0.3, 0.3, 0.4),
    capture=None,
    lists: Sequence[str] = LISTS,
    list_start: Mapping[str, int] | None = None,
    surge_day: float = 60.0,
    surge_width: float = 12.0,
    surge_height: float = 4.0,
    surge_region: str | None = "north",
    hidden_share: float = 0.0,
    hidden_factor: float = 0.25,
    p_missing_date: float = 0.10,
    p_month_only: float = 0.15,
    p_missing_region: float = 0.15,
    p_missing_sex: float = 0.10,
    p_male: float = 0.7,
    random_seed=None,
) -> SimulatedRecords:
    """Simulate person-level casualty records with known truth: a surge, regions, a late list, gaps in the fields.

    ``n`` deaths happen over ``days`` days: the day of each is drawn from a baseline rate plus a Gaussian surge
    (``surge_height`` times the baseline at its peak, ``surge_day``, ``surge_width``), the surge only in
    ``surge_region`` when given (so the regions' shares move over time); regions otherwise by ``region_shares``,
    sex independently (``p_male``). Each of the lists captures each death independently with the probability
    ``capture[list, region]`` (observable heterogeneity). With ``hidden_share > 0``, that share of the deaths
    belongs to a hidden low-visibility class whose capture probability on every list is multiplied by
    ``hidden_factor`` (unobserved heterogeneity, a positive dependence between lists that no covariate
    explains). A list in ``list_start`` captures no death before its start day (a list that starts late).

    Only the deaths on at least one list are records. Their fields are then degraded, each at random given the
    capture pattern (missing at random given the lists): the chance is ``p_*`` times 1.5 for a record on one list
    and times 0.5 for a record on two or more, so single-list records (those that matter most for the unlisted)
    are the most incomplete and dropping incomplete records distorts the capture table. A record's date is
    missing (``p_missing_date``) or known only to its month, a ``pandas.Period`` (``p_month_only``); its region
    (``p_missing_region``) and sex (``p_missing_sex``) may be missing.

    Parameters
    ----------
    n : int
        Number of deaths (the true total).
    days : int
        Study length in days.
    start : date-like
        First study day.
    regions : sequence of str
        Region names.
    region_shares : sequence of float
        Share of the baseline deaths in each region (normalised).
    capture : array-like, optional
        Capture probabilities, shape (lists, regions); default :data:`DEFAULT_CAPTURE` (4 lists x 3 regions).
    lists : sequence of str
        List names (as many as the rows of ``capture``).
    list_start : dict, optional
        ``{list: first study day (from 0)}``. Default ``{last list: days // 2}``; ``{}`` for none.
    surge_day, surge_width, surge_height : float
        Peak day, standard deviation in days and relative height of the surge.
    surge_region : str or None
        The region where the surge happens (None: every region).
    hidden_share : float
        Share of the deaths in the hidden low-visibility class (0: none).
    hidden_factor : float
        Multiplier of the hidden class's capture probabilities.
    p_missing_date, p_month_only, p_missing_region, p_missing_sex : float
        Average chances that a record's date is missing, its date is known only to the month, its region or its
        sex is missing (before the 1.5 / 0.5 factors by number of lists).
    p_male : float
        Share of men among the deaths.
    random_seed : int, numpy.random.Generator or None
        Same seed, same data.

    Returns
    -------
    SimulatedRecords
        ``records`` (what an analyst receives), ``deaths`` (every death, complete), ``daily`` (true deaths per
        day), with ``total``, ``by_region``, ``by_month`` and ``mean_rate``.

    Raises
    ------
    DataError
        Inconsistent shapes or probabilities outside [0, 1].

    Examples
    --------
    >>> from estimators.simulate import simulate_records
    >>> sim = simulate_records(2000, random_seed=1)
    >>> sim.total, list(sim.records.columns)
    (2000, ['A', 'B', 'C', 'D', 'date', 'region', 'sex'])
    >>> int(sim.by_region.sum()) == sim.total == int(sim.daily.sum())
    True
    """
    rng = np.random.default_rng(random_seed)
    regions, lists = tuple(str(r) for r in regions), tuple(str(x) for x in lists)
    capture = DEFAULT_CAPTURE if capture is None else np.asarray(capture, dtype=float)
    if capture.shape != (len(lists), len(regions)):
        raise DataError(f"`capture` must have shape (lists, regions) = {(len(lists), len(regions))}; got "
                        f"{capture.shape}.")
    shares = np.asarray(region_shares, dtype=float)
    if shares.shape != (len(regions),) or np.any(shares < 0) or shares.sum() <= 0:
        raise DataError(f"`region_shares` must be {len(regions)} non-negative numbers, not all zero.")
    for name, p in (("capture", capture), ("hidden_share", hidden_share), ("hidden_factor", hidden_factor),
                    ("p_missing_date", p_missing_date), ("p_month_only", p_month_only),
                    ("p_missing_region", p_missing_region), ("p_missing_sex", p_missing_sex), ("p_male", p_male)):
        if np.any(np.asarray(p) < 0) or np.any(np.asarray(p) > 1):
            raise DataError(f"`{name}` must be within [0, 1].")
    if 1.5 * (p_missing_date + p_month_only) > 1:
        raise DataError("1.5 * (p_missing_date + p_month_only) must be at most 1.")
    if list_start is None:
        list_start = {lists[-1]: days // 2}
    unknown = set(list_start) - set(lists)
    if unknown:
        raise DataError(f"`list_start` names unknown lists {sorted(unknown)!r}.")
    if surge_region is not None and surge_region not in regions:
        raise DataError(f"`surge_region` {surge_region!r} is not one of {regions!r}.")
    shares = shares / shares.sum()
    n = int(n)

    # when and where: intensity[day, region] = baseline share + surge (in one region or all)
    t = np.arange(days)
    bump = surge_height * np.exp(-0.5 * ((t - surge_day) / surge_width) ** 2)
    intensity = np.ones((days, 1)) * shares[None, :]
    if surge_region is None:
        intensity = intensity * (1 + bump)[:, None]
    else:
        intensity[:, regions.index(surge_region)] += bump * shares.max()
    cells = rng.multinomial(n, (intensity / intensity.sum()).ravel())
    cell = np.repeat(np.arange(cells.size), cells)
    rng.shuffle(cell)
    day, region = np.divmod(cell, len(regions))
    male = rng.random(n) < p_male
    hidden = rng.random(n) < hidden_share

    # capture: region-specific, hidden class scaled down, late lists closed before their start
    p = capture[:, region].T * np.where(hidden, hidden_factor, 1.0)[:, None]
    for j, name in enumerate(lists):
        if name in list_start:
            p[day < int(list_start[name]), j] = 0.0
    caught = (rng.random(p.shape) < p).astype(np.int8)
    seen = caught.sum(axis=1) > 0

    dates = pd.Timestamp(start) + pd.to_timedelta(day, unit="D")
    deaths = pd.DataFrame({"day": day, "date": dates, "region": np.asarray(regions, dtype=object)[region],
                           "sex": np.where(male, "male", "female").astype(object), "hidden": hidden.astype(np.int8)})
    for j, name in enumerate(lists):
        deaths[name] = caught[:, j]
    deaths["seen"] = seen.astype(np.int8)
    daily = pd.Series(np.bincount(day, minlength=days),
                      index=pd.date_range(pd.Timestamp(start), periods=days, freq="D"), name="deaths")

    # the records: degraded at random given the number of lists
    rec = deaths.loc[seen].reset_index(drop=True)
    factor = np.where(rec[list(lists)].sum(axis=1).to_numpy() == 1, 1.5, 0.5)
    u = rng.random(len(rec))
    date = pd.Series(list(rec["date"]), dtype=object)
    no_date = u < factor * p_missing_date
    month_only = ~no_date & (u < factor * (p_missing_date + p_month_only))
    date[no_date] = None
    date[month_only] = [d.to_period("M") for d in rec.loc[month_only, "date"]]
    region_col = rec["region"].astype(object).where(rng.random(len(rec)) >= factor * p_missing_region, None)
    sex_col = rec["sex"].astype(object).where(rng.random(len(rec)) >= factor * p_missing_sex, None)
    records = rec[list(lists)].copy()
    records["date"] = date.to_numpy()
    records["region"] = region_col.to_numpy()
    records["sex"] = sex_col.to_numpy()
    settings = dict(n=n, days=days, start=str(pd.Timestamp(start).date()), regions=regions, lists=lists,
                    region_shares=tuple(shares), capture=capture.tolist(), list_start=dict(list_start),
                    surge_day=surge_day, surge_width=surge_width, surge_height=surge_height,
                    surge_region=surge_region, hidden_share=hidden_share, hidden_factor=hidden_factor,
                    p_missing_date=p_missing_date, p_month_only=p_month_only, p_missing_region=p_missing_region,
                    p_missing_sex=p_missing_sex, p_male=p_male, random_seed=random_seed)
    return SimulatedRecords(records=records, deaths=deaths, daily=daily, settings=settings)
