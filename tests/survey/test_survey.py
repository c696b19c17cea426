"""Household survey estimators: R's survey package on the shipped SMART example, hand-computed cases, and the
affected-households summary form."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from estimators import DataError, IdentifiabilityWarning, SmallSampleWarning
from estimators.survey import affected_households, load_smart_example, mortality_rate, person_days

DATA = Path(__file__).parents[1] / "data"

# The tiny hand-made frames have few clusters on purpose; tests that check the warnings use pytest.warns.
pytestmark = pytest.mark.filterwarnings("ignore::estimators.exceptions.SmallSampleWarning")


@pytest.fixture(scope="module")
def smart():
    return load_smart_example()


@pytest.fixture(scope="module")
def reference():
    return pd.read_csv(DATA / "survey_smart.csv").set_index("rate")


def three_households(**extra):
    frame = pd.DataFrame({
        "cluster": [1, 1, 2],
        "members_now": [5, 4, 3],
        "deaths": [1, 0, 2],
        "joined": [0, 2, 0],
        "left": [1, 0, 0],
        "births": [0, 1, 0],
    })
    for name, values in extra.items():
        frame[name] = values
    return frame


# ---------------------------------------------------------------- R's survey package on the shipped example


@pytest.mark.parametrize("numerator", ["deaths", "violent_deaths"])
def test_reproduces_r_survey_svyratio(smart, reference, numerator):
    result = mortality_rate(smart, recall_days=90, cause="violent_deaths")
    row = result.table.loc[numerator]
    ref = reference.loc[numerator]
    assert row["rate"] == pytest.approx(ref["per_10000_per_day"], rel=1e-3)
    assert row["std_error"] == pytest.approx(ref["se"], rel=1e-3)
    assert row["lower"] == pytest.approx(ref["lower"], rel=1e-3)
    assert row["upper"] == pytest.approx(ref["upper"], rel=1e-3)
    assert row["design_effect"] == pytest.approx(ref["deff"], rel=1e-3)
    assert row["deaths"] == ref["total_deaths"]
    assert row["person_days"] == pytest.approx(ref["person_days"])
    assert result.n_households == ref["n_households"]
    assert result.n_clusters == ref["clusters"]


def test_headline_fields_are_the_all_cause_row(smart, reference):
    result = mortality_rate(smart, recall_days=90, cause="violent_deaths")
    ref = reference.loc["deaths"]
    assert result.rate == pytest.approx(ref["per_10000_per_day"], rel=1e-3)
    assert result.interval == pytest.approx((ref["lower"], ref["upper"]), rel=1e-3)
    assert result.design_effect == pytest.approx(ref["deff"], rel=1e-3)
    assert result.deaths == 45 and result.recall_days == 90 and result.n_strata == 1
    assert list(result.to_frame().index) == ["deaths", "violent_deaths"]
    assert result.recall_start is None and result.recall_end is None
    text = str(result.summary())
    assert "violent_deaths" in text and "Person-days" in text
    assert "<table" in result.summary()._repr_html_()


def test_wald_interval_at_other_level_from_stored_error(smart):
    result = mortality_rate(smart, recall_days=90)
    lower, upper = result.confidence_interval(0.90)
    z = stats.norm.ppf(0.95)
    assert (lower, upper) == pytest.approx((result.rate - z * result.std_error, result.rate + z * result.std_error))
    assert upper < result.interval[1]
    assert mortality_rate(smart, recall_days=90, level=0.90).interval == pytest.approx((lower, upper))


def test_input_not_mutated(smart):
    before = smart.copy()
    mortality_rate(smart, recall_days=90, cause="violent_deaths")
    pd.testing.assert_frame_equal(smart, before)


# ---------------------------------------------------------------- hand-computed cases


def test_person_days_three_households_by_hand():
    frame = three_households()
    # (5 + (1+1)/2 - 0) * 30 = 180; (4 + 0 - (2+1)/2) * 30 = 75; (3 + 2/2) * 30 = 120
    expected = np.array([180.0, 75.0, 120.0])
    got = person_days(frame.members_now, frame.deaths, frame.joined, frame.left, frame.births, 30)
    np.testing.assert_allclose(got, expected)
    result = mortality_rate(frame, recall_days=30)
    assert result.person_days == pytest.approx(375.0)
    assert result.deaths == 3
    assert result.rate == pytest.approx(3 / 375 * 10_000)


def test_two_single_household_clusters_by_hand():
    # person-days (9 + (1 + 1)/2) * 10 = 100 and 10 * 10 = 100; R = 1/200 per person-day = 50 per 10,000 per day;
    # scores y - R x = +0.5, -0.5; var(total) = 2/1 * (0.25 + 0.25) = 1; var(R) = 1 / 200^2, s.e. 50 per 10,000;
    # one household per cluster is simple random sampling, so the design effect is exactly 1.
    frame = pd.DataFrame({"cluster": [1, 2], "members_now": [9, 10], "deaths": [1, 0], "left": [1, 0]})
    with pytest.warns(SmallSampleWarning, match="single household"):
        result = mortality_rate(frame, recall_days=10, joined=None, births=None)
    assert result.person_days == pytest.approx(200.0)
    assert result.rate == pytest.approx(50.0)
    assert result.std_error == pytest.approx(50.0)
    assert result.design_effect == pytest.approx(1.0)
    assert result.interval == (0.0, pytest.approx(50 + stats.norm.ppf(0.975) * 50))
    assert any("'joined'" in w for w in result.warnings)


def _direct_ratio(y, x, w, stratum, cluster):
    """Textbook linearised ratio (Wolter 2007, ch. 6): loops over strata and clusters, no shared code."""
    ratio = sum(wi * yi for wi, yi in zip(w, y)) / sum(wi * xi for wi, xi in zip(w, x))
    total_x = sum(wi * xi for wi, xi in zip(w, x))
    variance = 0.0
    for h in sorted(set(stratum)):
        psu_totals = {}
        for yi, xi, wi, hi, ci in zip(y, x, w, stratum, cluster):
            if hi == h:
                psu_totals[ci] = psu_totals.get(ci, 0.0) + wi * (yi - ratio * xi) / total_x
        values = list(psu_totals.values())
        n_h = len(values)
        mean = sum(values) / n_h
        variance += n_h / (n_h - 1) * sum((v - mean) ** 2 for v in values)
    n = len(y)
    # deff against households drawn independently with replacement (R svydesign(ids=~1, weights=~w)): the
    # definition that reproduces survey_smart_strata.csv
    weighted = [wi * (yi - ratio * xi) / total_x for wi, yi, xi in zip(w, y, x)]
    mean_weighted = sum(weighted) / n
    srs = n / (n - 1) * sum((z - mean_weighted) ** 2 for z in weighted)
    return ratio * 10_000, variance**0.5 * 10_000, variance / srs


@pytest.fixture(scope="module")
def designed(smart):
    rng = np.random.default_rng(7)
    frame = smart.copy()
    frame["region"] = np.where(frame.cluster <= 12, "north", "south")
    frame["cluster_in_region"] = frame.groupby("region").cluster.rank(method="dense").astype(int)
    cluster_weight = dict(zip(range(1, 31), rng.uniform(0.5, 3.0, 30)))
    frame["w"] = frame.cluster.map(cluster_weight) * rng.choice([1.0, 1.5], len(frame))
    return frame


def _design_x(frame):
    return ((frame.members_now + (frame.deaths + frame.left) / 2 - (frame.joined + frame.births) / 2) * 90).tolist()


@pytest.mark.parametrize("use_strata, use_weights", [(True, False), (False, True), (True, True)])
def test_stratified_and_weighted_against_direct_formulas(designed, use_strata, use_weights):
    frame = designed
    stratum = frame.region.tolist() if use_strata else [0] * len(frame)
    w = frame.w.tolist() if use_weights else [1.0] * len(frame)
    result = mortality_rate(frame, recall_days=90, cause="violent_deaths", stratum="region" if use_strata else None,
                            weight="w" if use_weights else None)
    for numerator in ("deaths", "violent_deaths"):
        rate, se, deff = _direct_ratio(frame[numerator].tolist(), _design_x(frame), w, stratum, frame.cluster.tolist())
        row = result.table.loc[numerator]
        assert row["rate"] == pytest.approx(rate, rel=1e-10)
        assert row["std_error"] == pytest.approx(se, rel=1e-10)
        assert row["design_effect"] == pytest.approx(deff, rel=1e-10)
    assert result.n_strata == (2 if use_strata else 1)
    assert result.weighted is use_weights


def test_strata_change_the_variance_not_the_rate(designed):
    plain = mortality_rate(designed, recall_days=90)
    stratified = mortality_rate(designed, recall_days=90, stratum="region")
    assert stratified.rate == pytest.approx(plain.rate)
    assert stratified.std_error != pytest.approx(plain.std_error, rel=1e-4)


def test_clusters_are_nested_in_strata(designed):
    unique_ids = mortality_rate(designed, recall_days=90, stratum="region")
    restarting = mortality_rate(designed, recall_days=90, stratum="region", cluster="cluster_in_region")
    assert restarting.std_error == pytest.approx(unique_ids.std_error, rel=1e-12)
    assert restarting.n_clusters == 30


def test_integer_weight_equals_duplicated_household(smart):
    weights = np.ones(len(smart))
    weights[[3, 40, 41]] = 2.0
    weighted = mortality_rate(smart.assign(w=weights), recall_days=90, weight="w")
    duplicated = mortality_rate(pd.concat([smart, smart.iloc[[3, 40, 41]]]), recall_days=90)
    assert weighted.rate == pytest.approx(duplicated.rate, rel=1e-12)
    assert weighted.std_error == pytest.approx(duplicated.std_error, rel=1e-12)
    rescaled = mortality_rate(smart.assign(w=weights * 37.5), recall_days=90, weight="w")
    assert rescaled.std_error == pytest.approx(weighted.std_error, rel=1e-12)
    assert rescaled.design_effect == pytest.approx(weighted.design_effect, rel=1e-12)


def test_households_as_clusters_give_design_effect_one(smart):
    frame = smart.assign(hh=smart.cluster * 100 + smart.household)
    with pytest.warns(SmallSampleWarning, match="single household"):
        result = mortality_rate(frame, recall_days=90, cluster="hh")
    assert result.design_effect == pytest.approx(1.0, rel=1e-12)


def test_person_rows_summed_into_households():
    frame = three_households()
    people = []
    for hh, row in frame.iterrows():
        for role in ("members_now", "deaths", "joined", "left", "births"):
            people += [{"cluster": row.cluster, "hh": hh, role: 1}] * int(row[role])
    people = pd.DataFrame(people).fillna(0)
    by_person = mortality_rate(people, recall_days=30, household="hh")
    by_household = mortality_rate(frame, recall_days=30)
    assert by_person.n_households == 3
    assert by_person.rate == pytest.approx(by_household.rate)
    assert by_person.std_error == pytest.approx(by_household.std_error)


def test_recall_window():
    result = mortality_rate(three_households(), recall_days=30, recall_start="2017-02-19")
    assert result.recall_end == pd.Timestamp("2017-03-20")
    result = mortality_rate(three_households(), recall_days=30, recall_end="2017-03-20")
    assert result.recall_start == pd.Timestamp("2017-02-19")
    with pytest.raises(ValueError, match="recall_days"):
        mortality_rate(three_households(), recall_days=30, recall_start="2017-02-19", recall_end="2017-03-31")


def test_effective_counts_carry_rate_and_precision(smart):
    result = mortality_rate(smart, recall_days=90)
    d, pd_ = result.effective_deaths, result.effective_person_days
    assert d / pd_ * 10_000 == pytest.approx(result.rate)
    assert np.sqrt(d) / pd_ * 10_000 == pytest.approx(result.std_error)
    assert d < result.deaths  # clustering costs information


def test_no_deaths_warns_and_keeps_counts():
    frame = three_households(deaths=[0, 0, 0])
    with pytest.warns(SmallSampleWarning, match="No deaths"):
        result = mortality_rate(frame, recall_days=30)
    assert result.rate == 0 and result.deaths == 0
    assert any("rule of three" in w for w in result.warnings)


def test_negative_wald_bound_is_truncated_and_said():
    frame = pd.DataFrame({"cluster": [1, 1, 2, 2, 3, 3], "members_now": [5] * 6, "deaths": [3, 0, 0, 0, 0, 0]})
    with pytest.warns(SmallSampleWarning):
        result = mortality_rate(frame, recall_days=30, joined=None, left=None, births=None)
    assert result.interval[0] == 0.0
    assert result.confidence_interval(result.level)[0] < 0
    assert any("negative" in w for w in result.warnings)


# ---------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    "change, kwargs, error, match",
    [
        (lambda f: f.drop(columns=["left", "births"]), {}, DataError, "'left'.*'births'"),
        (lambda f: f.assign(deaths=[1, -1, 2]), {}, DataError, "'deaths'.*negative"),
        (lambda f: f.assign(deaths=[1, 0.5, 2]), {}, DataError, "'deaths'.*non-integer"),
        (lambda f: f.assign(members_now=[5, np.nan, 3]), {}, DataError, "'members_now'.*missing"),
        (lambda f: f.assign(members_now=[5, "four", 3]), {}, DataError, "not numbers"),
        (lambda f: f.assign(cluster=[1, 1, None]), {}, DataError, "'cluster'.*missing"),
        (lambda f: f.assign(cluster=[1, 1, 1]), {}, DataError, "two clusters"),
        (lambda f: f.assign(members_now=[5, 0, 3]), {}, DataError, "person-days"),
        (lambda f: f.assign(v=[2, 0, 0]), {"cause": "v"}, DataError, "'v'.*more deaths"),
        (lambda f: f.assign(w=[1, 0, 1]), {"weight": "w"}, DataError, "'w'"),
        (lambda f: f.assign(s=["a", "a", "b"]), {"stratum": "s"}, DataError, "single cluster"),
        (lambda f: f, {"recall_days": 0}, ValueError, "recall_days"),
        (lambda f: f, {"level": 95}, ValueError, "level"),
        (lambda f: f, {"cause": "deaths"}, ValueError, "cause"),
        (lambda f: f, {"members": 3}, ValueError, "members"),
    ],
)
def test_bad_inputs_raise_clear_errors(change, kwargs, error, match):
    kwargs = {"recall_days": 30, **kwargs}
    with pytest.raises(error, match=match):
        mortality_rate(change(three_households()), **kwargs)


def test_not_a_frame():
    with pytest.raises(TypeError, match="DataFrame"):
        mortality_rate({"cluster": [1, 2]}, recall_days=30)


def test_few_clusters_warn(smart):
    with pytest.warns(SmallSampleWarning, match="degrees of freedom"):
        mortality_rate(smart[smart.cluster <= 5], recall_days=90)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mortality_rate(smart, recall_days=90)


# ---------------------------------------------------------------- affected households


def test_one_in_three_of_151_households():
    result = affected_households(n_households=151, n_affected=50, household_size=6, random_seed=3)
    lower, upper = result.proportion_interval
    # MOSUL_2017.md: "a 95% interval of about 26-41% of families"; the exact Jeffreys bounds are 0.2598, 0.4088.
    assert round(lower, 2) == 0.26 and round(upper, 2) == 0.41
    exact = stats.beta.ppf([0.025, 0.975], 50.5, 101.5)
    assert (lower, upper) == pytest.approx(exact, abs=0.006)
    assert result.quantity == "proportion_affected" and result.deaths is None and result.rate is None
    assert "Jeffreys" in str(result.summary())


def test_uniform_prior_is_the_beta_1_1_posterior():
    result = affected_households(n_households=20, n_affected=2, household_size=5, prior="uniform", n_draws=20_000,
                                 random_seed=1)
    assert result.proportion_interval == pytest.approx(stats.beta.ppf([0.025, 0.975], 3, 19), abs=0.01)


def test_design_effect_widens_the_interval():
    width = lambda r: r.proportion_interval[1] - r.proportion_interval[0]
    srs = affected_households(n_households=151, n_affected=50, household_size=6, random_seed=3)
    clustered = affected_households(n_households=151, n_affected=50, household_size=6, design_effect=2.0,
                                    random_seed=3)
    assert clustered.effective_n == pytest.approx(75.5)
    assert width(clustered) / width(srs) == pytest.approx(np.sqrt(2), rel=0.1)
    assert clustered.proportion == pytest.approx(srs.proportion, abs=0.01)


def test_implied_deaths_and_rate_follow_the_formula():
    result = affected_households(n_households=100, n_affected=25, household_size=5, deaths_per_affected=1.0,
                                 population=10_000, recall_days=100, random_seed=5)
    p = result.draws["proportion_affected"]
    np.testing.assert_allclose(result.draws["deaths"], 10_000 / 5 * p)
    np.testing.assert_allclose(result.draws["rate"], p / 5 / 100 * 10_000)
    assert result.quantity == "deaths"
    assert result.estimate == pytest.approx(np.median(2000 * p))
    assert result.deaths_interval == pytest.approx(np.quantile(2000 * p, [0.025, 0.975]))
    assert set(result.to_frame().index) >= {"proportion_affected", "deaths", "rate", "population"}


def test_default_deaths_per_affected_is_at_least_one_with_mean_slightly_above():
    result = affected_households(n_households=100, n_affected=25, household_size=5, random_seed=5)
    draws = result.draws["deaths_per_affected"]
    assert draws.min() >= 1 and 1.05 < draws.mean() < 1.5
    assert any("Deaths per affected household: default prior" in a for a in result.assumptions)


def test_population_range_widens_deaths():
    fixed = affected_households(n_households=151, n_affected=50, household_size=6, population=775_000,
                                random_seed=2)
    ranged = affected_households(n_households=151, n_affected=50, household_size=6, population=(500_000, 1_000_000),
                                 random_seed=2)
    assert np.ptp(ranged.deaths_interval) > np.ptp(fixed.deaths_interval)


def test_survivor_bias_raises_the_deaths():
    common = dict(n_households=151, n_affected=50, household_size=6, population=775_000, recall_days=120,
                  random_seed=11)
    plain = affected_households(**common)
    biased = affected_households(**common, survivor_bias=(0.05, 0.15))
    assert biased.deaths > plain.deaths and biased.rate > plain.rate
    assert np.all(biased.draws["affected_share_all"] >= biased.draws["proportion_affected"])
    assert any("Survivor bias" in a for a in biased.assumptions)
    assert any("No survivor bias" in a for a in plain.assumptions)
    none_affected = affected_households(**common, survivor_bias=0.1, missing_affected=0.0)
    assert none_affected.deaths < plain.deaths


def test_same_seed_same_draws_and_inputs_untouched():
    population = (700_000, 800_000)
    first = affected_households(n_households=151, n_affected=50, household_size=(5, 7), population=population,
                                random_seed=9)
    second = affected_households(n_households=151, n_affected=50, household_size=(5, 7), population=population,
                                 random_seed=9)
    assert population == (700_000, 800_000)
    np.testing.assert_array_equal(first.draws["deaths"], second.draws["deaths"])
    with pytest.raises(ValueError):
        first.draws["deaths"][0] = 0.0
    assert first.credible_interval(0.5, "deaths")[1] < first.deaths_interval[1]


def test_non_probability_sample_warns():
    with pytest.warns(IdentifiabilityWarning, match="probability sample"):
        result = affected_households(n_households=151, n_affected=50, household_size=6, probability_sample=False,
                                     random_seed=1)
    assert result.warnings and "NOT a probability sample" in str(result.summary())


def test_recall_dates_for_the_joint_model():
    result = affected_households(n_households=151, n_affected=50, household_size=6, recall_days=121,
                                 recall_start="2017-02-19", random_seed=1)
    assert result.recall_end == pd.Timestamp("2017-06-19")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_affected": 152}, "n_affected"),
        ({"n_affected": -1}, "n_affected"),
        ({"n_households": 0}, "n_households"),
        ({"household_size": 0}, "household_size"),
        ({"household_size": (7, 5)}, "household_size"),
        ({"deaths_per_affected": 0.5}, "deaths_per_affected"),
        ({"design_effect": 0}, "design_effect"),
        ({"population": -5}, "population"),
        ({"survivor_bias": 1.0}, "survivor_bias"),
        ({"missing_affected": 0.5}, "survivor_bias"),
        ({"prior": "haldane"}, "prior"),
        ({"probability_sample": "no"}, "probability_sample"),
        ({"n_draws": 10}, "n_draws"),
        ({"level": 1.5}, "level"),
        ({"recall_start": "2017-02-19"}, "recall_days"),
    ],
)
def test_affected_bad_inputs(kwargs, match):
    arguments = {"n_households": 151, "n_affected": 50, "household_size": 6, **kwargs}
    with pytest.raises(ValueError, match=match):
        affected_households(**arguments)


def test_affected_households_notes_write_large_numbers_as_read():
    # ':g' printed the population range as 750000 and 7.5e+06
    result = affected_households(n_households=151, n_affected=50, household_size=6, population=(750_000, 7_500_000),
                                 recall_days=120, n_draws=500, random_seed=1)
    text = str(result.summary())
    assert "uniform between 750,000 and 7,500,000 people" in text and "e+06" not in text
