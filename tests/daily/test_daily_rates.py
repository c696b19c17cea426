"""Tests of the joint daily-rate model: pure helpers by hand, one compiled model shared by the fit tests."""

import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

import estimators
from estimators import (
    DataError,
    HouseholdSummary,
    IdentifiabilityWarning,
    NonexistentEstimateError,
    SurveyObservation,
    Tally,
    daily_rates,
    sensitivity,
)
from estimators._daily import _sensitivity, prepare_data
from estimators._daily._draws import _contraction, _log_pattern_probabilities, _quantities
from estimators._daily._inputs import _population_prior
from estimators.simulate import simulate_conflict
from estimators.simulate._conflict import _pattern_probabilities

matplotlib.use("Agg")

DAYS = 60
POPULATION = (450_000, 550_000)
FAST = dict(draws=300, tune=300, chains=2, cores=2)


# ------------------------------------------------------------------------------------------------ pure helpers
def test_population_prior_range_is_95_percent_interval():
    median, sd = _population_prior((750_000, 800_000))
    assert median == pytest.approx(np.sqrt(750_000 * 800_000))
    assert np.exp(np.log(median) + 1.959964 * sd) == pytest.approx(800_000)
    assert _population_prior(1000)[0] == 1000
    with pytest.raises(ValueError, match="population"):
        _population_prior((800, 700))
    with pytest.raises(ValueError, match="population"):
        _population_prior("many")


def test_pattern_probabilities_match_direct_loglinear_sum():
    alpha = np.array([-0.5, 0.2, -1.0])
    gamma = np.array([0.3, 0.0, -0.4])  # pairs (A,B), (A,C), (B,C)
    log_p = _log_pattern_probabilities(alpha[None, None, :], gamma[None, :], 3)[0, 0]
    # hand: pattern 110 (index 6) has eta = a_A + a_B + g_AB
    eta = {0: 0.0, 6: -0.5 + 0.2 + 0.3, 1: -1.0, 7: -0.5 + 0.2 - 1.0 + 0.3 + 0.0 - 0.4}
    z = np.exp(np.log(np.exp(log_p).sum()))
    assert z == pytest.approx(1.0)
    assert log_p[6] - log_p[0] == pytest.approx(eta[6])
    assert log_p[7] - log_p[0] == pytest.approx(eta[7])
    gm = np.zeros((3, 3))
    gm[0, 1], gm[1, 2] = 0.3, -0.4
    p, coverage = _pattern_probabilities(alpha, gm)
    assert np.allclose(p, np.exp(log_p))
    assert coverage[0] == pytest.approx(p[4:].sum())


def test_contraction_hand_cases():
    rng = np.random.default_rng(0)
    prior = np.exp(rng.normal(0, 2, 20_000))
    assert _contraction(prior, np.exp(rng.normal(0, 1, 20_000))) == pytest.approx(0.75, abs=0.03)
    assert _contraction(prior, prior) == pytest.approx(0.0)


@pytest.mark.parametrize("windows", [None, {"C": (10, None)}])
def test_constant_capture_quantities_equal_the_per_bin_computation(windows):
    # constant capture is computed once per draw and viewed in every bin; the same draws given per bin agree
    start = {} if windows is None else {"list_start": {2: 10}}
    sim = simulate_conflict(30, random_seed=3, **start)
    data = prepare_data(days=30, lists=sim.lists, bin_days=7, population=1000, list_windows=windows)
    rng = np.random.default_rng(0)
    S, k = 5, data.k
    draws = {"rate": rng.gamma(50.0, 1.0, (S, 30)), "population": np.full(S, 1000.0),
             "capture_logit": rng.normal(-1, 0.5, (S, k)), "interaction": rng.normal(0, 0.3, (S, 3)),
             "capture_class_effect": np.column_stack([np.zeros(S), rng.gamma(2.0, 0.5, S)]),
             "capture_class_share": rng.dirichlet([1.0, 1.0], S)}
    per_bin = {**draws, "capture_logit_bin": np.repeat(draws["capture_logit"][:, None, :], data.n_capture_bins, axis=1)}
    once, repeated = _quantities(draws, data), _quantities(per_bin, data)
    for name in ("cell_bin", "expected_bin", "list_coverage", "unlisted_expected"):
        np.testing.assert_allclose(once[name], repeated[name], rtol=1e-12, err_msg=name)


def test_prepare_data_counts_cells_by_bin():
    lists = pd.DataFrame({"A": [1, 0, 1, 1], "B": [0, 1, 1, 1], "day": [0, 0, 8, 13], "count": [2, 3, 1, 4]})
    data = prepare_data(days=14, lists=lists, bin_days=7, population=1000)
    assert data.list_cells.shape == (2, 3)
    # cells are patterns 01, 10, 11
    assert data.list_cells.tolist() == [[3, 2, 0], [0, 0, 5]]
    assert data.bin_matrix.sum(1).tolist() == [7, 7]
    dated = lists.assign(day=pd.Timestamp("2017-02-19") + pd.to_timedelta(lists.day, unit="D"))
    data2 = prepare_data(days=14, start="2017-02-19", lists=dated, bin_days=7, population=1000)
    assert np.array_equal(data2.list_cells, data.list_cells)


def test_survey_and_household_inputs():
    survey = SurveyObservation(deaths=10, person_days=50_000, design_effect=2.0, start_day=-30, end_day=9)
    households = HouseholdSummary(n_households=151, n_affected=50, household_size=(5, 7), design_effect=1.5)
    data = prepare_data(days=20, surveys=[survey], households=[households], population=1000)
    # the recall window is cut to the study days (0..9 of days -30..9)
    assert data.survey_matrix[0].sum() == pytest.approx(1.0)
    assert np.count_nonzero(data.survey_matrix[0]) == 10
    # negative binomial dispersion: variance/mean = design effect at the observed deaths
    alpha = data.survey_alpha[0]
    assert 1 + 10 / alpha == pytest.approx(2.0)
    assert data.household_n[0] == pytest.approx(151 / 1.5)
    assert data.household_size[0] == pytest.approx(np.sqrt(35))


@pytest.mark.parametrize("bin_days, given, step, of_bin", [
    (1, None, 7, [0] * 7 + [1] * 7 + [2]),  # daily counts: weekly steps
    (5, None, 10, [0, 0, 1]),  # the week rounded up to whole bins
    (7, 14, 14, [0, 0, 1]),
])
def test_capture_steps_of_the_capture_walk(bin_days, given, step, of_bin):
    data = prepare_data(days=15, tallies=[Tally("t", 5)], population=1000, bin_days=bin_days,
                        capture_bin_days=given)
    assert data.capture_bin_days == step
    assert data.n_capture_bins == -(-15 // step)
    assert data.capture_bin_of_bin.tolist() == of_bin


@pytest.mark.parametrize("given, match", [(10, "multiple of `bin_days`"), (0, "capture_bin_days"),
                                          (True, "capture_bin_days"), (7.0, "capture_bin_days")])
def test_capture_bin_days_refused(given, match):
    with pytest.raises(ValueError, match=match):
        prepare_data(days=15, tallies=[Tally("t", 5)], population=1000, bin_days=7, capture_bin_days=given)


def test_capture_walk_steps_and_their_scale_in_the_packed_model():
    from estimators._daily import _kernel, _packing
    from estimators._daily._model import DailyRatesModel, Priors

    sim = simulate_conflict(DAYS, random_seed=1)
    weekly = prepare_data(days=DAYS, lists=sim.lists, population=POPULATION, bin_days=1)
    daily = prepare_data(days=DAYS, lists=sim.lists, population=POPULATION, bin_days=1, capture_bin_days=1)
    sizes = {}
    for name, data in (("weekly", weekly), ("daily", daily)):
        packed = _packing.pack(data, Priors(capture_rw_scale=0.2), rate_model="constant", time_varying_capture=True,
                               capture_classes=1)
        sizes[name] = int(packed[_kernel.N_DIM])
        assert packed[_kernel.CAPTURE_RW] == pytest.approx(0.2 * np.sqrt(data.capture_bin_days))
        assert _packing.stored_shapes(packed)["capture_logit_bin"] == (data.n_capture_bins, 3)
    # level, population, 3 logits, 3 walk scales, 3 interactions, then (steps - 1) x 3 walk steps
    assert sizes == {"weekly": 2 + 3 + 3 + 3 + (9 - 1) * 3, "daily": 2 + 3 + 3 + 3 + (60 - 1) * 3}
    varying = DailyRatesModel(weekly, time_varying_capture=True)
    assert varying.accepts(weekly) and not varying.accepts(daily)
    with pytest.raises(DataError, match="capture_bin_days=7"):
        varying.sample_prior(daily, draws=2)
    constant = DailyRatesModel(weekly)
    assert constant.accepts(daily)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(lists=pd.DataFrame({"A": [1], "B": [1], "day": [70]})), DataError, "outside the study days"),
        (dict(lists=pd.DataFrame({"A": [1], "B": [1], "day": [3], "count": [-2]})), DataError, "negative"),
        (dict(lists=pd.DataFrame({"A": [1], "B": [1], "day": [3]}), list_names=["A", "Z"]), DataError, "Z"),
        (dict(lists=pd.DataFrame({"A": [1], "B": [1], "date": [3]})), DataError, "day column"),
        (dict(tallies=[Tally("t", -5)]), DataError, "count"),
        (dict(tallies=[Tally("t", 5, 0, 10), Tally("t", 5, 5, 20)]), DataError, "overlapping"),
        (dict(surveys=[SurveyObservation(3, 0)]), DataError, "person_days"),
        (dict(households=[HouseholdSummary(10, 12, 5)]), DataError, "n_affected"),
        (dict(tallies=[Tally("t", 5, "2017-03-01")]), DataError, "start"),
        (dict(), DataError, "No data"),
    ],
)
def test_bad_inputs_raise_clear_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        prepare_data(days=DAYS, population=POPULATION, **kwargs)


def test_bad_arguments_raise_before_fitting():
    sim = simulate_conflict(DAYS, random_seed=1)
    with pytest.raises(ValueError, match="rate_model"):
        daily_rates(days=DAYS, lists=sim.lists, population=POPULATION, rate_model="spline")
    with pytest.raises(ValueError, match="days"):
        daily_rates(lists=sim.lists, population=POPULATION)
    with pytest.raises(ValueError, match="level"):
        daily_rates(days=DAYS, lists=sim.lists, population=POPULATION, level=95)
    with pytest.raises(ValueError, match="population"):
        daily_rates(days=DAYS, lists=sim.lists, population=None)
    with pytest.raises(ValueError, match="multiple of `bin_days`"):
        daily_rates(days=DAYS, lists=sim.lists, population=POPULATION, bin_days=7, capture_bin_days=10)
    with pytest.raises(ValueError, match="capture_bin_days"):
        daily_rates(days=DAYS, lists=sim.lists, population=POPULATION, capture_bin_days="7")
    with pytest.raises(ValueError, match="three or more"):
        two = sim.lists[(sim.lists.A + sim.lists.B) > 0][["A", "B", "day", "count"]]
        daily_rates(days=DAYS, lists=two, population=POPULATION, list_dependence=True)


def test_tally_only_is_refused():
    with pytest.raises(NonexistentEstimateError, match="allow_unidentified"):
        daily_rates(days=DAYS, tallies=[Tally("monitor", 2900)], population=POPULATION)
    single_list = simulate_conflict(DAYS, random_seed=1).lists
    single_list = single_list[single_list.A == 1][["A", "day", "count"]]
    with pytest.raises(DataError, match="single list"):
        daily_rates(days=DAYS, lists=single_list, population=POPULATION)


def test_simulate_conflict_coverage_change_doubles_coverage():
    sim = simulate_conflict(DAYS, coverage_change={0: (30, 2.0)}, survey_clusters=None, random_seed=2)
    assert sim.coverage.A.iloc[40] == pytest.approx(2 * sim.coverage.A.iloc[10])
    assert sim.survey is None
    assert sim.lists["count"].sum() <= sim.total
    biased = simulate_conflict(DAYS, survey_bias=1.2, random_seed=2)
    assert biased.survey.design_effect >= 1


# ------------------------------------------------------------------------------------------------ fitted model
@pytest.fixture(scope="module")
def sim():
    return simulate_conflict(DAYS, tally_coverage=0.4, random_seed=11)


@pytest.fixture(scope="module")
def fit(sim):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return daily_rates(days=DAYS, start="2017-02-19", lists=sim.lists.assign(
            day=pd.Timestamp("2017-02-19") + pd.to_timedelta(sim.lists.day, unit="D")),
            tallies=list(sim.tallies), surveys=[sim.survey], population=POPULATION, prior_draws=100,
            random_seed=5, **FAST)


def test_outputs_have_their_shapes(fit):
    assert len(fit.daily) == DAYS
    assert {"day", "date", "median", "lower", "upper", "per10k_median", "per10k_lower",
            "per10k_upper"} <= set(fit.daily.columns)
    assert (fit.daily.lower <= fit.daily["median"]).all() and (fit.daily["median"] <= fit.daily.upper).all()
    assert fit.coverage.index.tolist() == ["A", "B", "C", "tally"]
    assert fit.coverage.kind.tolist() == ["matched list"] * 3 + ["tally"]
    assert (fit.undercount.undercount > 1).all()
    assert {"total deaths", "mean deaths per day", "coverage of tally tally"} <= set(fit.identifiability.index)
    assert fit.identifiability.loc["total deaths", "contraction"] > 0.5
    assert "survey survey: deaths" in fit.posterior_predictive.index
    assert "list A: records" in fit.prior_predictive.index
    assert len(fit.total.draws) == 600
    assert fit.idata.attrs["random_seed"] == 5
    assert fit.diagnostics["divergences"] >= 0 and "r_hat" in fit.diagnostics


def test_total_and_mean_rate_cover_the_truth(fit, sim):
    # 99% intervals: one replicate of a 95% interval misses 5% of the time (the calibration study measures that)
    lower, upper = fit.total.credible_interval(0.99)
    assert lower <= sim.total <= upper
    assert fit.total.n_observed == sim.lists["count"].sum()
    lower, upper = fit.mean_rate.credible_interval(0.99)
    assert lower <= sim.mean_rate <= upper
    # the tally's coverage (truth 0.4 of all deaths) is learned from the lists
    coverage = fit.idata.posterior["tally_coverage"].values.reshape(-1)
    assert np.quantile(coverage, 0.005) <= 0.4 <= np.quantile(coverage, 0.995)
    assert fit.coverage.loc["tally", "upper"] - fit.coverage.loc["tally", "lower"] < 0.25


def test_mean_rate_over_windows(fit):
    whole = fit.mean_rate_over()
    assert whole.estimate == pytest.approx(fit.mean_rate.estimate)
    week = fit.mean_rate_over("2017-02-19", "2017-02-25")
    assert week.details["last day"] == 6
    per10k = fit.mean_rate_over(0, DAYS - 1, per_10000=True)
    assert per10k.estimate == pytest.approx(fit.rate_per_10000.estimate, rel=1e-6)
    with pytest.raises(DataError, match="outside"):
        fit.mean_rate_over(0, DAYS + 5)
    with pytest.raises(ValueError, match="before"):
        fit.mean_rate_over(10, 3)


def test_refit_same_shape_does_not_recompile(fit):
    other = simulate_conflict(DAYS, tally_coverage=0.4, random_seed=12)
    assert fit.model.compilations == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        refit = daily_rates(days=DAYS, lists=other.lists, tallies=list(other.tallies), surveys=[other.survey],
                            population=POPULATION, model=fit.model, prior_draws=0, random_seed=6, **FAST)
    assert fit.model.compilations == 1
    assert refit.model is fit.model
    assert refit.total.estimate != fit.total.estimate
    shorter = simulate_conflict(DAYS - 1, random_seed=3)
    with pytest.raises(DataError, match="shape"):
        daily_rates(days=DAYS - 1, lists=shorter.lists, surveys=[shorter.survey], population=POPULATION,
                    model=fit.model)


def test_same_seed_same_result(fit, sim):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = daily_rates(days=DAYS, start="2017-02-19", lists=sim.lists.assign(
            day=pd.Timestamp("2017-02-19") + pd.to_timedelta(sim.lists.day, unit="D")),
            tallies=list(sim.tallies), surveys=[sim.survey], population=POPULATION, prior_draws=0,
            model=fit.model, random_seed=5, **FAST)
    assert np.array_equal(again.total.draws, fit.total.draws)


def test_sensitivity_tabulates_alternatives_without_recompiling(fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = sensitivity(fit, {"independent lists": {"list_dependence": False},
                                  "wide population": {"population": (300_000, 700_000)}})
    assert table.index.tolist() == ["baseline", "independent lists", "wide population"]
    assert table.loc["baseline", "mean_rate_change_pct"] == pytest.approx(0.0)
    assert {"mean_rate", "total", "total_change_pct", "divergences"} <= set(table.columns)
    assert fit.model.compilations == 1
    assert not hasattr(fit, "sensitivity")  # results never refit: sensitivity is a function of a result
    with pytest.raises(ValueError, match="unknown setting"):
        sensitivity(fit, {"x": {"bogus": 1}})


def test_sensitivity_compares_capture_walks_of_other_steps(fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = sensitivity(fit, {"weekly walk": {"time_varying_capture": True},
                                  "fortnightly walk": {"time_varying_capture": True, "capture_bin_days": 14}})
    assert table.index.tolist() == ["baseline", "weekly walk", "fortnightly walk"]
    assert table["total"].notna().all()
    assert fit.data.capture_bin_days == 7  # the result's data are not changed


def test_sensitivity_checks_every_alternative_before_any_refit(fit, monkeypatch):
    def no_refit(*args, **kwargs):
        raise AssertionError("refitted before checking every alternative")

    monkeypatch.setattr(_sensitivity, "_fit", no_refit)
    # the first alternative is valid: the second, refused by daily_rates' declarations, must stop both
    with pytest.raises(ValueError, match="`bias_scale`"):
        sensitivity(fit, {"wider bias": {"bias_scale": 0.6}, "negative bias": {"bias_scale": -1.0}})
    with pytest.raises(ValueError, match="`rate_model`"):
        sensitivity(fit, {"other": {"rate_model": "quadratic"}})
    with pytest.raises(ValueError, match="`capture_bin_days`"):
        sensitivity(fit, {"wider bias": {"bias_scale": 0.6}, "steps": {"capture_bin_days": 0}})
    with pytest.raises(ValueError, match="`draws`"):
        sensitivity(fit, {"wider bias": {"bias_scale": 0.6}}, draws=0)
    with pytest.raises(TypeError, match="`result`"):
        sensitivity(fit.summary(), {})
    assert estimators.sensitivity is sensitivity


def test_summary_and_plot(fit):
    text = str(fit.summary())
    assert "mean deaths per 10,000 per day" in text and "coverage of tally" in text
    assert "constant over the study" in text  # the capture model fitted
    ax = fit.plot()
    assert ax.get_ylabel() == "deaths per day"
    assert len(ax.collections) >= 2


# ------------------------------------------------------------------------------------------------ slow
@pytest.mark.slow
def test_prior_only_total_warns_when_allowed():
    with pytest.warns(IdentifiabilityWarning):
        result = daily_rates(days=DAYS, tallies=[Tally("monitor", 2900)], population=POPULATION,
                             allow_unidentified=True, prior_draws=200, random_seed=1, **FAST)
    assert result.identifiability.loc["total deaths", "informed_by"] == "prior only"


@pytest.mark.slow
def test_calibration_short(tmp_path):
    """A short version of benchmarks/calibration_daily.py: 20 replicates of the model scenario."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
    import calibration_daily

    out = tmp_path / "calibration_daily_model.csv"
    calibration_daily.run_scenario("model", 20, draws=400, tune=400, chains=2, seed=100, out=out)
    frame = pd.read_csv(out)
    # P(<= 15 of 20 | 95% coverage) = 0.016
    assert frame.mean_rate_covered.sum() >= 16
    assert frame.total_covered.sum() >= 16


def test_survey_module_results_are_accepted():
    from estimators import survey

    rate = survey.mortality_rate(survey.load_smart_example(), recall_days=90, recall_start="2017-03-01",
                                 recall_end="2017-05-29")
    affected = survey.affected_households(n_households=151, n_affected=50, household_size=(5, 7),
                                          design_effect=2.0, recall_days=90, random_seed=1)
    data = prepare_data(days=120, start="2017-02-19", surveys=[rate], households=[affected], population=1e5)
    assert data.survey_deaths[0] == rate.deaths
    assert data.survey_person_days[0] == pytest.approx(rate.person_days)
    # the recall window 1 Mar - 29 May is study days 10..99
    assert np.flatnonzero(data.survey_matrix[0])[[0, -1]].tolist() == [10, 99]
    assert data.household_n[0] == pytest.approx(151 / 2.0)
    assert data.household_recall[0] == 90
    assert data.household_size[0] == pytest.approx(np.sqrt(35))
