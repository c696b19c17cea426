import numpy as np
import pandas as pd
import pytest

from estimators._validation import InvalidParameterError
from estimators.simulate import simulate_named_lists


def test_shape_and_hidden_truth():
    sim = simulate_named_lists(250, lists=4, random_seed=1)
    assert sorted(sim.lists) == ["A", "B", "C", "D"]
    for name, frame in sim.lists.items():
        assert "true_id" not in frame.columns
        assert frame["record_id"].is_unique
        assert list(sim.true_ids[name].index) == list(frame["record_id"])
        # every record belongs to a captured person
        assert sim.truth.set_index("true_id").loc[sim.true_ids[name].to_numpy(), name].eq(1).all()
    assert len(sim.truth) == 250
    assert sim.true_histories().n_observed == int((sim.truth[list(sim.lists)].sum(axis=1) > 0).sum())


def test_reproducible_and_seed_recorded():
    a = simulate_named_lists(120, random_seed=5)
    b = simulate_named_lists(120, random_seed=a.settings["random_seed"])
    for name in a.lists:
        pd.testing.assert_frame_equal(a.lists[name], b.lists[name])


def test_noise_zero_gives_clean_fields_and_noise_adds_variants():
    clean = simulate_named_lists(300, noise=0.0, duplicates=0.0, random_seed=2)
    frame = pd.concat(clean.lists.values())
    assert frame["age"].notna().all() and frame["father_name"].notna().all()
    assert frame["date_of_death"].str.len().eq(10).all()
    noisy = simulate_named_lists(300, noise=1.0, duplicates=0.2, random_seed=2)
    frame = pd.concat(noisy.lists.values())
    assert frame["age"].isna().any() and frame["date_of_death"].str.len().eq(7).any()
    # within-list duplicates: some person twice on one list
    assert any(ids.duplicated().any() for ids in noisy.true_ids.values())
    # transliteration variants of one name
    assert {"Mohammed", "Muhammad"} <= set(frame["first_name"]) | set(frame["father_name"])


def test_true_matches_pairs_records_of_one_person():
    sim = simulate_named_lists(150, random_seed=4)
    pairs = sim.true_matches()
    ids = {(k, r): t for k, s in sim.true_ids.items() for r, t in s.items()}
    assert all(ids[(a, b)] == ids[(c, d)] for a, b, c, d in pairs.itertuples(index=False))


def test_heterogeneity_and_capture_argument():
    sim = simulate_named_lists(2000, capture=[0.5, 0.3], lists=2, heterogeneity=1.5, random_seed=1)
    rates = sim.truth[["A", "B"]].mean().to_numpy()
    assert rates[0] > rates[1]
    with pytest.raises(ValueError):
        simulate_named_lists(100, capture=[0.5, 0.3], lists=3)
    with pytest.raises(InvalidParameterError, match="n_deaths"):
        simulate_named_lists(0)
