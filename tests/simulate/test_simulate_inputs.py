"""simulate_conflict's arguments: each list's coverage change applies on its own day, and bad arguments are refused
by name."""

import pytest

from estimators.simulate import simulate_conflict


def test_each_list_changes_coverage_on_its_own_day():
    # the last list's day used to apply to every list: list 0's change on day 5 happened on day 15
    sim = simulate_conflict(20, coverage_change={0: (5, 2.0), 1: (15, 0.5)}, survey_clusters=None, random_seed=1)
    before = sim.coverage.iloc[0]
    assert sim.coverage.iloc[6, 0] == pytest.approx(2 * before.iloc[0], rel=1e-6)
    assert sim.coverage.iloc[6, 1] != pytest.approx(0.5 * before.iloc[1], rel=0.05)
    assert sim.coverage.iloc[16, 1] < before.iloc[1]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(survey_clusters=1), "survey_clusters"),
        (dict(households_per_cluster=0), "households_per_cluster"),
        (dict(household_size=0.5), "household_size"),
        (dict(mean_rate=-1.0), "mean_rate"),
        (dict(population=0), "population"),
        (dict(rw_sd=-0.1), "rw_sd"),
        (dict(tally_coverage=1.5), "tally_coverage"),
        (dict(capture_logits=()), "capture_logits"),
        (dict(interactions={(0, 5): 1.0}), "interactions"),
        (dict(coverage_change={7: (10, 2.0)}), "coverage_change"),
        (dict(coverage_change={0: (10, 10.0)}), "factor"),
    ],
)
def test_simulate_conflict_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate_conflict(20, random_seed=1, **kwargs)
