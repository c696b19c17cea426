"""Survivor bias of a household mortality survey: the rate had some households died out entirely."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import InstanceOf, Interval, Real, validate_params
from ._rate import SurveyRate


def adjusted_rate(deaths: float, person_days: float, extinct_households: float, size: float,
                  recall_days: float) -> float:
    """Deaths per person-day with ``extinct_households`` of ``size`` members added, all dead in the recall period.

    Each member of an extinct household dies once; spread evenly over the recall period, each lived half of it
    (the SMART half-period convention for a death).

    Examples
    --------
    >>> adjusted_rate(10, 1000, 2, 5, 90)  # (10 + 10) / (1000 + 10 x 45)
    0.013793103448275862
    """
    added = extinct_households * size
    return (deaths + added) / (person_days + added * recall_days / 2)


@validate_params(
    {
        "result": [InstanceOf(SurveyRate, "an estimators.survey.mortality_rate result")],
        "extinct_share": [Interval(Real, 0, 1, closed="left", description="a share in [0, 1)"),
                          InstanceOf((tuple, list, np.ndarray), "shares in [0, 1)")],
        "household_size": [None, Interval(Real, 1, None, description="a mean household size >= 1")],
    },
)
def survivor_bias(result: SurveyRate, extinct_share=(0.001, 0.002, 0.005, 0.01), *,
                  household_size: float | None = None) -> pd.DataFrame:
    """The survey's death rate had a share of the population's households died out, as a sensitivity table.

    A retrospective survey interviews survivors: a household in which everyone died in the recall period has
    no one to report its deaths, so the rate is low wherever whole households were lost (survivor bias; Checchi
    & Roberts 2005). The survey cannot measure this. For each assumed share ``phi`` of the households at the
    start of the recall period that died out, the sample is completed with ``H phi / (1 - phi)`` extinct
    households (``H`` interviewed), each of ``household_size`` members who all died, each after half the recall
    period; the rate and its interval bounds are recomputed with those deaths and that person-time added (the
    bounds through the same map, as if the added deaths were known).

    Parameters
    ----------
    result : SurveyRate
        A :func:`mortality_rate` result (household or roster form).
    extinct_share : float or sequence of float
        Assumed shares of households wholly lost, each in [0, 1).
    household_size : float, optional
        Members of an extinct household; default the survey's mean household size (person-days per household
        over the recall period), an assumption in itself: large households may die out less often.

    Returns
    -------
    pandas.DataFrame
        One row per share: ``extinct_share``, ``added_deaths`` (in the sample's terms), ``rate`` with ``lower``
        and ``upper`` (per 10,000 per day) and ``change`` (relative to the survey's rate).

    References
    ----------
    Checchi F, Roberts L (2005). Interpreting and using mortality data in humanitarian emergencies: a primer for
    non-epidemiologists. Humanitarian Practice Network Paper 52, ODI, London (survivor bias, section 4).

    Examples
    --------
    >>> from estimators.survey import load_smart_example, mortality_rate, survivor_bias
    >>> fit = mortality_rate(load_smart_example(), recall_days=90)
    >>> table = survivor_bias(fit, [0.0, 0.02])
    >>> bool(table["rate"].iloc[1] > table["rate"].iloc[0])
    True
    """
    shares = np.atleast_1d(np.asarray(extinct_share, dtype=float))
    if shares.ndim != 1 or len(shares) == 0 or not np.all((shares >= 0) & (shares < 1)):
        raise ValueError(f"`extinct_share` must be shares in [0, 1); got {extinct_share!r}.")
    recall = float(result.recall_days)
    size = (result.person_days / recall / result.n_households) if household_size is None else float(household_size)
    rows = []
    for phi in shares:
        extinct = result.n_households * phi / (1 - phi)

        def per_10k(rate_10k: float) -> float:
            deaths = rate_10k / 1e4 * result.person_days
            return 1e4 * adjusted_rate(deaths, result.person_days, extinct, size, recall)

        rate = per_10k(result.rate)
        rows.append({"extinct_share": phi, "added_deaths": extinct * size, "rate": rate,
                     "lower": per_10k(result.interval[0]), "upper": per_10k(result.interval[1]),
                     "change": rate / result.rate - 1 if result.rate > 0 else np.nan})
    return pd.DataFrame(rows)
