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


def test_large_pools_and_full_fields():
    small = simulate_named_lists(3000, random_seed=3)
    large = simulate_named_lists(3000, name_pool="large", fields="full", id_share=0.4, random_seed=3)
    frame = pd.concat(large.lists.values())
    assert {"grandfather_name", "mother_name", "neighbourhood", "national_id"} <= set(frame.columns)
    assert {"grandfather_name", "mother_name", "neighbourhood", "national_id"} <= set(large.truth.columns)
    assert "grandfather_name" not in pd.concat(small.lists.values()).columns
    # more names, and as many distinct full names as people nearly
    assert large.truth["family_name"].nunique() > 2 * small.truth["family_name"].nunique()
    chain = large.truth[["first_name", "father_name", "grandfather_name", "family_name"]].agg(" ".join, axis=1)
    assert chain.nunique() > 0.95 * len(chain)
    assert large.truth["neighbourhood"].nunique() > 250
    # the id on about the share asked, and the same person's id where two records carry it
    assert frame["national_id"].notna().mean() == pytest.approx(0.4, abs=0.05)
    assert large.settings["name_pool"] == "large" and large.settings["id_share"] == 0.4
    with pytest.raises(InvalidParameterError, match="name_pool"):
        simulate_named_lists(10, name_pool="huge")
    with pytest.raises(InvalidParameterError, match="id_share"):
        simulate_named_lists(10, id_share=1.5)


def test_link_compares_the_extra_fields():
    pytest.importorskip("splink")
    import estimators

    sim = simulate_named_lists(500, name_pool="large", fields="full", id_share=0.3, random_seed=8)
    linked = estimators.link(sim.lists, random_seed=1)
    assert {"mother_key", "id_key"} <= set(linked.parameters["comparison"])
    # the neighbourhood is a level of the place comparison (it implies the place: not counted twice)
    assert "Exact match on quarter_key" in set(linked.parameters.loc[linked.parameters["comparison"] == "place_key",
                                                                     "level"])
    assert {"mother_name_l", "neighbourhood_r", "national_id_l"} <= set(linked.clerical_review(3).columns)
    tid = np.concatenate([sim.true_ids[k].to_numpy() for k in sim.lists])
    p = linked.pairs["match_probability"].to_numpy()
    is_match = tid[linked.pairs["unique_id_l"]] == tid[linked.pairs["unique_id_r"]]
    assert is_match[p >= 0.9].mean() > 0.98
    assert is_match[p >= 0.9].sum() / len(sim.true_matches()) > 0.95
