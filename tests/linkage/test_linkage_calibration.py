"""The linkage's blocking recall, prior and match probabilities checked against a simulated truth (issue 18)."""

import numpy as np
import pytest

import estimators
from estimators._linkage._normalise import prepare
from estimators._linkage._splink import DEFAULT_BLOCKING, estimate_prior, possible_pairs
from estimators.simulate import simulate_named_lists


def _true_ids(sim):
    return np.concatenate([sim.true_ids[k].to_numpy() for k in sim.lists])


@pytest.fixture(scope="module")
def sim400():
    pytest.importorskip("splink")
    return simulate_named_lists(400, random_seed=10000)


@pytest.fixture(scope="module")
def linked400(sim400):
    return estimators.link(sim400.lists, random_seed=3)


@pytest.mark.parametrize("seed", [10001, 10002])
def test_default_blocking_proposes_nearly_every_true_pair(seed):
    duckdb = pytest.importorskip("duckdb")
    sim = simulate_named_lists(400, random_seed=seed)
    records = prepare(sim.lists, None).assign(tid=_true_ids(sim))
    con = duckdb.connect()
    con.register("rec", records.drop(columns=["date_of_death"]))
    condition = " or ".join(f"({rule})" for rule in DEFAULT_BLOCKING)
    total, proposed = con.execute(
        "select count(*), count(*) filter (where " + condition + ") from rec l join rec r "
        "on l.tid = r.tid and l.unique_id < r.unique_id").fetchone()
    assert total == len(sim.true_matches())
    # the first four rules alone proposed 0.978 and 0.966 of the true pairs on these two seeds
    assert proposed / total >= 0.985


def test_prior_is_the_share_of_matching_pairs(sim400, linked400):
    # the EM sessions ran through (one failed on this seed before m-probabilities were floored, and left a
    # prior of 0.16 in the model)
    assert linked400.notes == ()
    share = len(sim400.true_matches()) / possible_pairs(linked400.records["list"], True)
    assert linked400.parameters.attrs["probability_two_random_records_match"] == pytest.approx(share, rel=0.2)


def test_match_probabilities_are_calibrated(sim400, linked400):
    tid = _true_ids(sim400)
    pairs = linked400.pairs
    p = pairs["match_probability"].to_numpy()
    is_match = tid[pairs["unique_id_l"]] == tid[pairs["unique_id_r"]]
    n_true = len(sim400.true_matches())
    assert p.sum() / n_true == pytest.approx(1, abs=0.04)
    # within bands of probability, the number of true matches is what the probabilities expect, to within
    # 3 binomial standard deviations
    for lo, hi in ((0.001, 0.5), (0.5, 0.99), (0.99, 1.01)):
        band = (p >= lo) & (p < hi)
        expected, sd = p[band].sum(), np.sqrt((p[band] * (1 - p[band])).sum())
        assert abs(is_match[band].sum() - expected) <= 3 * sd + 1, (lo, hi)


def test_estimate_prior_recovers_the_mixing_share():
    rng = np.random.default_rng(5)
    n_pairs, lam = 200_000, 0.003
    match = rng.random(n_pairs) < lam
    # a score distributed N(4, 2) among matches and N(-4, 2) among non-matches (overlapping): its log2 Bayes
    # factor is the log2 ratio of the two densities, 2 x / ln 2
    score = np.where(match, rng.normal(4, 2, n_pairs), rng.normal(-4, 2, n_pairs))
    bayes = 2 * score / np.log(2)
    start = 1e-4  # a poor first guess, as from an exact rule of low recall
    weights = bayes + np.log2(start / (1 - start))
    assert estimate_prior(weights, start, n_pairs) == pytest.approx(lam, rel=0.1)


def test_a_failed_em_session_leaves_the_model_whole(named_sim):
    # no dates: the session blocked on date of death has no pairs and fails; the model keeps every comparison
    # and the prior of all pairs (a failed session used to leave its own comparisons and prior behind)
    lists = {k: v.head(120).drop(columns=["date_of_death"]) for k, v in named_sim.lists.items()}
    linked = estimators.link(lists, random_seed=1)
    assert any("failed" in note for note in linked.notes)
    assert set(linked.parameters["comparison"]) == {"sorted_key", "sex_key", "age_years", "dod", "place_key"}
    assert linked.parameters.attrs["probability_two_random_records_match"] < 0.05
    assert linked.pairs["match_probability"].max() > 0.9
