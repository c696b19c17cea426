"""estimate_strata(method="pooled"): the route to loglinear_pooled, and the per-stratum options it refuses.

One small model (3 lists, 3 weekly strata, no interactions) is compiled once per module and shared by the direct
call and the routed call, with few draws: the point is that the route passes the data, the split and the options
through unchanged, not the quality of the fit (tests/loglinear/test_loglinear_pooled.py checks that). Compiling it
takes 15-20 CPU seconds (40 s of wall time at load 10), so the two tests that fit are slow; the refusals, checked
before anything is compiled, run by default.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import estimators
from estimators import CaptureHistories
from estimators._loglinear._pooled import LoglinearPooledModel, PooledStrataResult
from estimators.strata import estimate_strata

WEEKS = pd.date_range("2024-01-01", periods=3, freq="W-MON")
OPTIONS = dict(interactions="none", chains=2, draws=150, tune=150, random_seed=11)


@pytest.fixture(scope="module")
def weekly():
    """Three weeks of about 150 deaths, three independent lists, dated records."""
    rng = np.random.default_rng(4)
    frames = []
    for week in WEEKS:
        on = rng.random((rng.poisson(150), 3)) < [0.4, 0.3, 0.35]
        frame = pd.DataFrame(on[on.any(axis=1)].astype(int), columns=["A", "B", "C"])
        frame["date"] = week + pd.Timedelta(days=2)
        frames.append(frame)
    return CaptureHistories.from_records(pd.concat(frames, ignore_index=True), lists=["A", "B", "C"])


@pytest.fixture(scope="module")
def model():
    return LoglinearPooledModel(["A", "B", "C"], len(WEEKS), interactions="none")


@pytest.fixture(scope="module")
def fits(weekly, model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence of so short a run is not what is tested here
        direct = estimators.loglinear_pooled(weekly, by="date", freq="W", model=model, **OPTIONS)
        routed = estimate_strata(weekly, by="date", freq="W", method="pooled", model=model, progress=False,
                                 **OPTIONS)
    return direct, routed


@pytest.mark.slow
def test_pooled_route_is_loglinear_pooled_with_the_same_seed(fits):
    direct, routed = fits
    assert isinstance(routed, PooledStrataResult) and routed.method == "loglinear_pooled"
    assert len(routed.table) == len(WEEKS)
    pd.testing.assert_frame_equal(routed.table.drop(columns="seconds"), direct.table.drop(columns="seconds"))
    np.testing.assert_array_equal(routed.total_draws, direct.total_draws)
    assert routed.total().interval == direct.total().interval
    assert routed.settings["random_seed"] == direct.settings["random_seed"] == OPTIONS["random_seed"]


@pytest.mark.slow
def test_pooled_route_by_public_name_and_by_function(weekly, model, fits):
    # the registry's two names of the estimator, and the function itself, all take the same route
    direct, _ = fits
    for method in ("loglinear_pooled", estimators.loglinear_pooled):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            again = estimate_strata(weekly, by="date", freq="W", method=method, model=model, progress=False,
                                    **OPTIONS)
        np.testing.assert_array_equal(again.total_draws, direct.total_draws)


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [("n_jobs", 2, "`n_jobs`"), ("backend", "dask", "`backend`"), ("cache", "somewhere", "`cache`"),
     ("batch_size", 2, "`batch_size`")],
)
def test_per_stratum_options_are_refused_with_the_fix(weekly, option, value, named):
    with pytest.raises(ValueError, match=named) as error:
        estimate_strata(weekly, by="date", freq="W", method="pooled", progress=False, **{option: value})
    assert "joint model" in str(error.value)


def test_an_option_the_pooled_model_does_not_take_is_refused(weekly):
    with pytest.raises(ValueError, match="does not accept these options"):
        estimate_strata(weekly, by="date", freq="W", method="pooled", progress=False, n_boot=10)


def test_imputations_are_refused_with_method_pooled():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"A": [1, 0, 1] * 20, "B": [0, 1, 1] * 20,
                          "region": rng.choice(["n", "s", None], size=60)})
    imputations = estimators.impute(frame, m=2, lists=["A", "B"], random_seed=1)
    with pytest.raises(ValueError, match="does not take Imputations"):
        estimate_strata(imputations, by="region", method="pooled", progress=False)


def test_pooled_route_needs_strata(weekly):
    with pytest.raises(ValueError, match="`by` is required"):
        estimate_strata(weekly.collapse(), method="pooled", progress=False)


def test_unknown_method_names_the_pooled_route(weekly):
    with pytest.raises(ValueError, match="'pooled'"):
        estimate_strata(weekly, by="date", freq="W", method="no_such_method", progress=False)


def test_the_command_line_offers_pooled_with_by_only(capsys):
    from estimators.cli import main

    assert main(["estimate", "LCMCR_kosovo", "--method", "pooled"]) == 2
    assert "--method pooled fits every stratum in one model: give --by COLUMN" in capsys.readouterr().err
