import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import estimators
from estimators._linkage._normalise import name_key, tokens
from estimators._validation import InvalidParameterError
from estimators.exceptions import DataError


def test_import_estimators_does_not_import_splink():
    code = "import sys, estimators; estimators.link; print('splink' in sys.modules or 'duckdb' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("variant", ["Mohammed", "Muhammad", "Mohamed", "Mohammad", "muhammed"])
def test_transliteration_variants_share_a_key(variant):
    assert name_key(variant) == "muhamad"


def test_article_hyphen_and_abd_forms():
    assert name_key("al-Jubouri") == name_key("Al Jabouri") == name_key("el-Juburi") == name_key("Jubouri")
    assert name_key("Abd al-Rahman") == name_key("Abdul Rahman") == name_key("Abdel-Rahman")
    assert tokens(None) == [] and name_key("") is None


def test_link_finds_the_true_matches(named_sim, linked):
    tid = np.concatenate([named_sim.true_ids[k].to_numpy() for k in named_sim.lists])
    true_pairs = named_sim.true_matches()
    assert len(linked.records) == len(tid)
    pairs = linked.pairs
    is_match = tid[pairs["unique_id_l"]] == tid[pairs["unique_id_r"]]
    p = pairs["match_probability"].to_numpy()
    # links at 0.5: precise, and most true pairs found
    assert is_match[p >= 0.5].mean() > 0.9
    assert is_match[p >= 0.5].sum() / len(true_pairs) > 0.8
    # the match probabilities are roughly calibrated: their sum is about the number of true pairs
    assert 0.75 < p.sum() / len(true_pairs) < 1.3
    labels = linked.cluster_labels(0.5)
    assert abs(len(np.unique(labels)) - len(np.unique(tid))) <= 0.1 * len(np.unique(tid))
    assert pd.Series(labels).value_counts().max() <= linked.max_cluster_size


def test_summary_and_clerical_review(linked):
    precision, recall = linked.expected_precision_recall()
    assert 0.5 < precision <= 1 and 0 < recall <= 1
    text = str(linked.summary())
    assert "expected precision" in text and "within-list duplicates" in text
    table = linked.links_table()
    assert list(table.columns) == ["records", *linked.lists]
    review = linked.clerical_review(10)
    assert len(review) == 10
    distance = (review["match_probability"] - linked.threshold).abs()
    assert distance.max() <= (linked.pairs["match_probability"] - linked.threshold).abs().nsmallest(10).max() + 1e-12
    assert {"first_name_l", "first_name_r", "list_l", "list_r"} <= set(review.columns)
    assert "Linkage" in repr(linked)


def test_histories_keep_covariates_and_threshold_moves_links(linked):
    h = linked.histories(covariates=["sex", "place"])
    assert h.covariates == ["sex", "place"] or list(h.covariates) == ["sex", "place"]
    loose, strict = linked.histories(threshold=0.2, covariates=None), linked.histories(threshold=0.999,
                                                                                       covariates=None)
    assert loose.n_observed <= strict.n_observed


def test_no_cluster_holds_two_records_of_one_list_without_a_duplicate_link(linked):
    labels = linked.cluster_labels(threshold=0.01)
    frame = linked.records[["unique_id", "list"]].assign(cluster=labels)
    pairs = linked.pairs[linked.pairs["match_probability"] >= 0.01]
    within = {(a, b) for a, b, la, lb in pairs[["unique_id_l", "unique_id_r", "list_l", "list_r"]]
              .itertuples(index=False) if la == lb}
    for _, group in frame.groupby(["cluster", "list"]):
        if len(group) > 1:  # a duplicate kept together: joined through a within-list link
            ids = sorted(group["unique_id"])
            assert any((a, b) in within for a in ids for b in ids)


def test_dedupe_false_scores_no_within_list_pairs(named_sim):
    small = {k: v.head(60) for k, v in named_sim.lists.items()}
    linked = estimators.link(small, dedupe=False, random_seed=1)
    assert (linked.pairs["list_l"] != linked.pairs["list_r"]).all()


def test_training_pairs_and_one_name_column(named_sim):
    lists = {}
    for k, v in named_sim.lists.items():
        frame = v.head(80).copy()
        frame["name"] = frame["first_name"] + " " + frame["father_name"].fillna("") + " " + frame["family_name"]
        lists[k] = frame.drop(columns=["first_name", "father_name", "family_name"]).rename(columns={"record_id": "case"})
    truth = named_sim.true_matches()
    keep = truth.apply(lambda r: r.record_id_l in set(lists[r.list_l]["case"])
                       and r.record_id_r in set(lists[r.list_r]["case"]), axis=1)
    linked = estimators.link(lists, columns={"id": "case"}, training=truth[keep], random_seed=1)
    assert linked.settings["training"] == int(keep.sum())
    assert linked.pairs["match_probability"].max() > 0.9


def test_invalid_inputs():
    with pytest.raises(InvalidParameterError, match="threshold"):
        estimators.link({"A": None, "B": None}, threshold=1.5)
    with pytest.raises(DataError, match="at least two"):
        estimators.link({"A": pd.DataFrame({"name": ["x"]})})
    with pytest.raises(DataError, match="columns"):
        estimators.link({"A": pd.DataFrame({"name": ["x"]}), "B": pd.DataFrame({"name": ["y"]})},
                        columns={"surname": "x"})
    with pytest.raises(DataError, match="no name columns"):
        estimators.link({"A": pd.DataFrame({"age": [1]}), "B": pd.DataFrame({"age": [2]})})
