import numpy as np
import pytest

import estimators
from estimators._linkage._clusters import constrained_components
from estimators.exceptions import DataError


def test_constrained_components_keeps_the_most_probable_link():
    # records 0 (list 0), 1 (list 1), 2 (list 1): 0-1 more probable than 0-2, so 2 stays alone
    labels = constrained_components(3, [0, 0], [1, 2], [0.9, 0.6], [0, 1, 1], max_size=6)
    assert labels[0] == labels[1] != labels[2]
    # a within-list link (1-2) joins the two records of list 1 first, then 0 joins both
    labels = constrained_components(3, [1, 0], [2, 1], [0.95, 0.9], [0, 1, 1], max_size=6)
    assert len(set(labels)) == 1
    # size cap
    labels = constrained_components(3, [0, 1], [1, 2], [0.9, 0.8], [0, 1, 2], max_size=2)
    assert len(set(labels)) == 2


def test_replicates_vary_and_are_reproducible(linked):
    reps = linked.replicates(6, random_seed=4, covariates=None)
    assert len(reps) == 6 and isinstance(reps[0], estimators.CaptureHistories)
    again = linked.replicates(6, random_seed=4, covariates=None)
    assert [h.n_observed for h in reps] == [h.n_observed for h in again]
    assert "LinkageReplicates" in repr(reps)


def test_pooled_estimate_reports_the_linkage_share(linked):
    reps = linked.replicates(8, random_seed=1, covariates=None)
    pooled = reps.estimate("loglinear")
    assert 0 <= pooled.details["linkage_share"] <= 1
    assert pooled.details["linkage_replicates"] == 8
    assert "linkage replicates" in pooled.method
    # the same as the documented loop + pool
    by_hand = estimators.pool([estimators.loglinear(h) for h in reps])
    assert pooled.estimate == pytest.approx(by_hand.estimate)
    certain = estimators.loglinear(linked.histories(covariates=None))
    assert np.isfinite(certain.estimate)


def test_estimate_rejects_a_non_estimator(linked):
    reps = linked.replicates(2, random_seed=1, covariates=None)
    with pytest.raises(DataError):
        reps.estimate("daily_rates")
