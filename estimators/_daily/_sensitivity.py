"""Refitting a daily-rates result under alternative assumptions: :func:`sensitivity`.

A function of a result, not a method of it: results never refit. Every alternative is checked against the
declarations of :func:`daily_rates` before the first refit compiles or samples.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import replace

import pandas as pd

from .._validation import SEED, Integral, Interval, check_params, resolve_seed, validate_params
from ._fit import _fit, daily_rates
from ._inputs import _capture_bin_days, _population_prior
from ._result import DailyRatesResult

# Settings of daily_rates an alternative may change; rate_model, time_varying_capture and capture_classes compile
# another model.
ALTERNATIVE_SETTINGS = frozenset({
    "list_dependence", "dependence_scale", "bias_scale", "bias_median", "population", "tally_coverage_prior", "rw_scale",
    "rate_level_prior", "rate_model", "time_varying_capture", "capture_classes", "capture_bin_days",
})


def default_alternatives(result: DailyRatesResult) -> dict[str, dict]:
    """Lists independent (with >= 3 lists), the survey bias scale doubled and survivor bias (survey deaths a tenth
    low; with a survey of deaths), the population range widened by a fifth either way."""
    settings, data = result.settings, result.data
    alternatives = {}
    if data.k >= 3:
        alternatives["independent lists"] = {"list_dependence": False}
    if len(data.survey_deaths) + len(data.household_n):
        alternatives["survey bias scale x2"] = {"bias_scale": 2 * settings["bias_scale"]}
    if len(data.survey_deaths):
        alternatives["survivor bias (survey deaths 10% low)"] = {"bias_median": 0.9 * settings.get("bias_median", 1.0)}
    low, high = settings["population_range"]
    alternatives["population range widened 20%"] = {"population": (low * 0.8, high * 1.2)}
    return alternatives


def _check_alternatives(alternatives, result: DailyRatesResult) -> None:
    """Each alternative's settings are known and valid as daily_rates would find them (raises before any refit)."""
    if not isinstance(alternatives, Mapping):
        raise ValueError("`alternatives` must map a name to a dict of settings, e.g. "
                         "{'no dependence': {'list_dependence': False}}.")
    for name, changes in alternatives.items():
        if not isinstance(changes, Mapping):
            raise ValueError(f"Alternative {name!r} must be a dict of settings of daily_rates; got {changes!r}.")
        unknown = set(changes) - ALTERNATIVE_SETTINGS
        if unknown:
            raise ValueError(f"Alternative {name!r}: unknown setting(s) {sorted(unknown)!r}; allowed are "
                             f"{sorted(ALTERNATIVE_SETTINGS)!r}.")
        check_params(f"sensitivity alternative {name!r}", daily_rates.__parameter_constraints__, changes)
        if changes.get("capture_bin_days") is not None:
            _capture_bin_days(changes["capture_bin_days"], result.data.bin_days)
        if changes.get("list_dependence") and result.data.k < 3:
            raise ValueError(f"Alternative {name!r}: `list_dependence=True` needs three or more matched lists (got "
                             f"{result.data.k}): with two lists their interaction is not identified.")


def _refit(result: DailyRatesResult, changes: Mapping, *, draws, random_seed) -> DailyRatesResult:
    settings = result.settings
    kwargs = {**settings["call"], **changes}
    population = kwargs.pop("population", None)
    step = kwargs.pop("capture_bin_days", None)
    if draws is not None:
        kwargs["draws"] = draws
    kwargs["random_seed"] = random_seed
    kwargs["prior_draws"] = 0
    # a result read back from a pickle or a file has no compiled model (DailyRatesResult.__getstate__)
    model = result.model
    kwargs.setdefault("capture_classes", 1)  # results saved before the option existed
    auto = "auto" in (kwargs["capture_classes"], kwargs["time_varying_capture"])
    data = result.data if population is None else replace(result.data, population=_population_prior(population))
    if step is not None:
        data = replace(data, capture_bin_days=_capture_bin_days(step, data.bin_days))
    reuse = model is not None and not auto and model.accepts(
        data, rate_model=kwargs["rate_model"], time_varying_capture=kwargs["time_varying_capture"],
        capture_classes=kwargs["capture_classes"])
    # The table reports each refit's divergences and R-hat; its warnings would repeat the baseline's.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if auto:
            from ._fit import _fit_auto

            return _fit_auto(data, models={} if model is None else {model.structure.capture_classes: model},
                             **kwargs)
        return _fit(data, model=model if reuse else None, **kwargs)


def _row(name: str, fit: DailyRatesResult, baseline: DailyRatesResult) -> dict:
    base_rate, base_total = baseline.mean_rate.estimate, baseline.total.estimate
    return {
        "alternative": name,
        "mean_rate": fit.mean_rate.estimate,
        "mean_rate_lower": fit.mean_rate.interval[0],
        "mean_rate_upper": fit.mean_rate.interval[1],
        "mean_rate_change_pct": 100 * (fit.mean_rate.estimate / base_rate - 1),
        "total": fit.total.estimate,
        "total_lower": fit.total.interval[0],
        "total_upper": fit.total.interval[1],
        "total_change_pct": 100 * (fit.total.estimate / base_total - 1),
        "divergences": fit.diagnostics["divergences"],
        "max_r_hat": fit.diagnostics["max r_hat (daily rates)"],
    }


@validate_params(
    {"draws": [None, Interval(Integral, 1, None)], "random_seed": SEED},
    # `result` is checked to be a DailyRatesResult; each alternative against daily_rates' own declarations
    exempt=("result", "alternatives"),
)
def sensitivity(result: DailyRatesResult, alternatives: Mapping[str, Mapping] | None = None, *,
                draws: int | None = None, random_seed=None) -> pd.DataFrame:
    """Refit a :func:`daily_rates` result under named alternative assumptions and tabulate how the answer moves.

    Each alternative changes some settings of the original call and refits the same data; the table compares the
    mean daily rate and the total with the baseline's. Alternatives that change only prior settings or the
    population reuse the result's compiled model; ``rate_model``, ``time_varying_capture`` and
    ``capture_bin_days`` (with the walk on) make another.
    Every alternative is checked (its settings known and valid for :func:`daily_rates`) before the first refit.

    Parameters
    ----------
    result : DailyRatesResult
        The baseline fit, from :func:`daily_rates` (or read back with :func:`estimators.load_result`).
    alternatives : {name: {setting: value}}, optional
        Settings of :func:`daily_rates` to change: ``list_dependence``, ``dependence_scale``, ``bias_scale``,
        ``bias_median``, ``population``, ``tally_coverage_prior``, ``rw_scale``, ``rate_level_prior``,
        ``rate_model``, ``time_varying_capture``, ``capture_bin_days`` and ``capture_classes``. Default: lists
        independent (with >= 3 lists), the survey bias scale doubled (with a survey), survivor bias (``bias_median`` 0.9; with a survey
        of deaths), the population range widened by a fifth either way.
    draws : int, optional
        Draws per chain of each refit (default: those of the baseline).
    random_seed : int, optional
        Seed of the refits (default: the baseline's seed, so the table repeats).

    Returns
    -------
    DataFrame
        One row per fit (``baseline`` first): mean rate and total with bounds, their change from the baseline's
        median in percent, divergences and the largest R-hat. The refits' own warnings are not repeated.

    Raises
    ------
    TypeError
        ``result`` is not a DailyRatesResult.
    ValueError
        An alternative names an unknown setting or a value :func:`daily_rates` refuses.

    See Also
    --------
    daily_rates : the fit whose result this refits.

    Examples
    --------
    >>> import estimators as est
    >>> from estimators.simulate import simulate_conflict
    >>> sim = simulate_conflict(60, random_seed=1)
    >>> fit = est.daily_rates(days=60, lists=sim.lists, surveys=[sim.survey], population=(450_000, 550_000),
    ...                       draws=300, tune=300, random_seed=1)                     # doctest: +SKIP
    >>> est.sensitivity(fit, {"independent lists": {"list_dependence": False},
    ...                       "weekly rate": {"rate_model": "weekly"}})                # doctest: +SKIP
    """
    if not isinstance(result, DailyRatesResult):
        raise TypeError(f"`result` must be a DailyRatesResult (from estimators.daily_rates); got "
                        f"{type(result).__name__}.")
    if alternatives is None:
        alternatives = default_alternatives(result)
    _check_alternatives(alternatives, result)
    rows = [_row("baseline", result, result)]
    for name, changes in alternatives.items():
        # a Generator gives each refit its own integer seed
        seed = result.settings["random_seed"] if random_seed is None else resolve_seed(random_seed, bound=2**31)
        rows.append(_row(name, _refit(result, changes, draws=draws, random_seed=seed), result))
    return pd.DataFrame(rows).set_index("alternative")
