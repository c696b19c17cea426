"""simulate_conflict's options for the calibration grid (issue 16): a list that starts late, a linear coverage
drift, several hidden visibility classes and a survey's recall window, each checked against a hand computation."""

import numpy as np
import pytest
from scipy.special import expit

from estimators.simulate import simulate_conflict

# independent lists (no interactions): a list's coverage is expit(its log-odds), by hand
INDEPENDENT = dict(interactions={}, survey_clusters=None)


def test_late_list_has_no_records_before_its_start_and_leaves_the_others_alone():
    base = simulate_conflict(60, random_seed=3, **INDEPENDENT)
    late = simulate_conflict(60, random_seed=3, list_start={2: 40}, **INDEPENDENT)
    lists = late.lists
    assert lists.loc[lists.day < 40, "C"].sum() == 0
    assert lists.loc[lists.day >= 40, "C"].sum() > 0
    assert (late.coverage.loc[:39, "C"] == 0).all()
    assert late.coverage.loc[40:, "C"].to_numpy() == pytest.approx(expit(-1.6))
    # same deaths, same captures: list A's and B's records per day are those of the simulation without the start
    for name in ("A", "B"):
        on = [frame[frame[name] == 1].groupby("day")["count"].sum() for frame in (base.lists, late.lists)]
        assert on[0].equals(on[1])
    # from the start day on nothing changes at all
    after = [frame[frame.day >= 40].reset_index(drop=True) for frame in (base.lists, late.lists)]
    assert after[0].equals(after[1])
    # before it, a death on C alone is unlisted: fewer listed deaths
    assert late.lists.loc[late.lists.day < 40, "count"].sum() < base.lists.loc[base.lists.day < 40, "count"].sum()


def test_linear_drift_multiplies_coverage_by_the_factor_over_the_study():
    days = 50
    sim = simulate_conflict(days, coverage_drift={0: 2.0}, mean_rate=4000.0, rw_sd=0.0, random_seed=5,
                            **INDEPENDENT)
    c0 = expit(-0.8)
    expected = c0 * (1 + np.arange(days) / (days - 1))  # x1 on day 0 rising linearly to x2 on the last day
    assert sim.coverage["A"].to_numpy() == pytest.approx(expected, rel=1e-9)
    assert sim.coverage["B"].to_numpy() == pytest.approx(expit(-1.2))  # other lists unchanged
    # in expectation: records on A / deaths, first and last 10 days (about 40,000 deaths each)
    on_a = sim.lists[sim.lists.A == 1].groupby("day")["count"].sum().reindex(range(days), fill_value=0).to_numpy()
    for part in (slice(0, 10), slice(days - 10, days)):
        observed = on_a[part].sum() / sim.deaths[part].sum()
        p = expected[part] @ sim.deaths[part] / sim.deaths[part].sum()
        assert abs(observed - p) < 4 * np.sqrt(p * (1 - p) / sim.deaths[part].sum())


def test_drift_with_interactions_still_reaches_the_factor():
    sim = simulate_conflict(30, coverage_drift={1: 2.0}, interactions={(0, 1): 0.8, (1, 2): -0.4},
                            survey_clusters=None, random_seed=1)
    assert sim.coverage["B"].iloc[-1] == pytest.approx(2 * sim.coverage["B"].iloc[0], rel=1e-6)
    assert sim.coverage["B"].iloc[15] == pytest.approx(sim.coverage["B"].iloc[0] * (1 + 15 / 29), rel=1e-6)


def test_three_visibility_classes_give_their_shares():
    shares, boosts = (0.2, 0.3), (2.0, -1.0)
    sim = simulate_conflict(40, visibility=tuple(zip(shares, boosts)), mean_rate=5000.0, random_seed=2,
                            **INDEPENDENT)
    logits = np.array([-0.8, -1.2, -1.6])
    weights = [1 - sum(shares), *shares]
    by_class = [expit(logits + b) for b in (0.0, *boosts)]  # (classes) x (lists) capture probabilities
    coverage = sum(w * p for w, p in zip(weights, by_class))
    assert sim.coverage.iloc[0].to_numpy() == pytest.approx(coverage, rel=1e-9)
    # the share of deaths on all three lists is the class mixture of products, not the product of the coverages
    all_three = sum(w * np.prod(p) for w, p in zip(weights, by_class))
    n = sim.deaths.sum()
    observed = sim.lists.loc[(sim.lists[["A", "B", "C"]] == 1).all(axis=1), "count"].sum() / n
    assert abs(observed - all_three) < 4 * np.sqrt(all_three * (1 - all_three) / n)
    assert abs(observed - np.prod(coverage)) > 10 * np.sqrt(all_three / n)  # a homogeneous model is far off
    # no list at all: the mixture of the classes' unlisted shares
    unlisted = sum(w * np.prod(1 - p) for w, p in zip(weights, by_class))
    observed = 1 - sim.lists["count"].sum() / n
    assert abs(observed - unlisted) < 4 * np.sqrt(unlisted * (1 - unlisted) / n)


def test_one_visibility_pair_and_a_one_element_sequence_agree_in_coverage():
    a = simulate_conflict(20, visibility=(0.25, 2.5), random_seed=4, **INDEPENDENT)
    b = simulate_conflict(20, visibility=[(0.25, 2.5)], random_seed=4, **INDEPENDENT)
    assert a.lists.equals(b.lists)


def test_survey_window_follows_households_over_its_days_only():
    sim = simulate_conflict(60, survey_window=(30, 59), cluster_sd=0.0, random_seed=6)
    assert (sim.survey.start_day, sim.survey.end_day) == (30, 59)
    households = sim.survey_households
    assert (households.person_days == households.members * 30).all()
    assert sim.survey.person_days == households.person_days.sum()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(list_start={3: 10}), "list_start"),
        (dict(list_start={0: 20}), "list_start"),
        (dict(list_start={0: 5, 1: 5, 2: 5}), "at least one list"),
        (dict(coverage_drift={0: 5.0}), "coverage_drift"),
        (dict(coverage_drift={0: -1.0}), "coverage_drift"),
        (dict(coverage_drift={5: 2.0}), "coverage_drift"),
        (dict(coverage_drift={0: 2.0}, coverage_change={0: (5, 2.0)}), "both name list 0"),
        (dict(visibility=((0.6, 1.0), (0.6, -1.0))), "visibility"),
        (dict(visibility=((0.2, 1.0), (0.2,))), "visibility"),
        (dict(visibility=(1.5, 1.0)), "visibility"),
        (dict(survey_window=(10, 25)), "survey_window"),
        (dict(survey_window=(12, 3)), "survey_window"),
    ],
)
def test_bad_options_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate_conflict(20, random_seed=1, **kwargs)
