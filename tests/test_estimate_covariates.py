"""estimate(covariates=...): the test of capture differing by a covariate, and the methods run within its levels."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import chdtrc
from scipy.stats import chi2_contingency

from estimators import CaptureHistories, DataError, IdentifiabilityWarning, PosteriorEstimate, estimate
from estimators._contingency import homogeneity_test
from estimators._recommend_covariates import (
    candidate_columns,
    capture_differs,
    pattern_table,
)
from estimators.strata import estimate_strata

LISTS = ["A", "B", "C"]
FAST = ["loglinear", "graphical_bma", "sample_coverage", "chao_lower_bound"]


def _records(seed, capture=None, n=6000, ids=False):
    """People in three regions whose capture on every list depends on the region (or not), an unrelated
    covariate ``shift``; the records are those on some list."""
    rng = np.random.default_rng(seed)
    capture = capture or {"north": 0.45, "centre": 0.3, "south": 0.12}
    region = rng.choice(list(capture), size=n)
    p = np.array([capture[r] for r in region])
    lists = rng.random((n, len(LISTS))) < p[:, None]
    frame = pd.DataFrame(lists.astype(int), columns=LISTS)
    frame["region"] = region
    frame["shift"] = rng.choice(["day", "night"], size=n)
    if ids:
        frame["id"] = np.arange(n)
    return frame[frame[LISTS].sum(axis=1) > 0].reset_index(drop=True), n


def _late_list_by_month(n, months):
    """Capture constant in time on lists A-C; list D collects from month 3 only. Records on some list."""
    rng = np.random.default_rng(9)
    month = rng.integers(1, months + 1, n)
    captured = rng.random((n, 4)) < [0.3, 0.25, 0.35, 0.3]
    captured[:, 3] &= month >= 3
    frame = pd.DataFrame(captured.astype(int), columns=["A", "B", "C", "D"]).assign(month=month.astype(str))
    return frame[frame[["A", "B", "C", "D"]].sum(axis=1) > 0]


def test_homogeneity_test_by_hand():
    table = np.array([[10.0, 20.0], [20.0, 10.0]])
    statistic, df, p = homogeneity_test(table)
    # expected 15 in every cell: 4 x 5**2 / 15
    assert statistic == pytest.approx(4 * 25 / 15) and df == 1
    assert p == pytest.approx(chdtrc(1, 20 / 3))
    reference = chi2_contingency(table, correction=False)
    assert statistic == pytest.approx(reference.statistic) and p == pytest.approx(reference.pvalue)


def test_homogeneity_test_pools_rare_patterns_and_drops_empty_ones():
    table = np.array([[50.0, 40.0, 1.0, 2.0, 0.0], [45.0, 55.0, 2.0, 0.0, 0.0]])
    statistic, df, p = homogeneity_test(table)
    pooled = np.array([[50.0, 40.0, 3.0], [45.0, 55.0, 2.0]])
    reference = chi2_contingency(pooled, correction=False)
    assert df == 2 and statistic == pytest.approx(reference.statistic) and p == pytest.approx(reference.pvalue)
    assert homogeneity_test(np.array([[5.0, 3.0]])) == (0.0, 0, 1.0)


def test_pattern_table_counts_each_level_and_leaves_out_missing():
    h = CaptureHistories(lists=("A", "B"), patterns=np.array([[1, 0], [0, 1], [1, 1], [1, 0]]),
                         counts=np.array([3, 4, 5, 6]),
                         covariates={"region": np.array(["n", "s", "n", None], dtype=object)})
    levels, table = pattern_table(h, "region")
    assert levels == ["n", "s"]
    # columns: patterns 00, 01, 10, 11
    np.testing.assert_array_equal(table, [[0, 0, 3, 5], [0, 4, 0, 0]])


def test_capture_differs_names_the_region_only():
    records, _ = _records(1)
    h = CaptureHistories.from_records(records, LISTS)
    assert candidate_columns(h) == ["region", "shift"]
    found = capture_differs(h)
    assert [c for c, _, _ in found] == ["region"] and found[0][1] < 1e-6 and found[0][2] == 3
    same, _ = _records(2, capture={"north": 0.3, "centre": 0.3, "south": 0.3})
    assert capture_differs(CaptureHistories.from_records(same, LISTS)) == []


def test_estimate_warns_and_covariates_remove_the_pooling_bias():
    records, n = _records(3)
    with pytest.warns(IdentifiabilityWarning, match=r"covariates=\['region'\]"):
        pooled = estimate(records, lists=LISTS, methods=FAST, random_seed=1)
    assert pooled.details["capture_differs_by"][0][0] == "region"
    with warnings.catch_warnings():
        warnings.simplefilter("error", IdentifiabilityWarning)
        by_region = estimate(records, lists=LISTS, methods=FAST, random_seed=1, covariates=["region"])
    assert by_region.method == "loglinear(select='average', covariates=['region'])"
    assert by_region.details["covariates"] == ("region",)
    table = by_region.sensitivity.set_index("method")
    assert table.loc["loglinear(select='average') without region", "role"] == "reported"
    assert table.loc["loglinear(select='average') without region", "estimate"] == pytest.approx(pooled.estimate)
    assert "within each level" in table.loc["graphical_bma", "note"]
    # the pooled table underestimates (capture 0.12-0.45 by region); within regions the truth is covered
    assert pooled.estimate < 0.93 * n
    assert by_region.interval[0] <= n <= by_region.interval[1]
    assert pooled.estimate < by_region.estimate and abs(by_region.estimate / n - 1) < 0.08


def test_alternatives_within_strata_are_estimate_strata_totals():
    records, _ = _records(4)
    h = CaptureHistories.from_records(records, LISTS, covariates=["region"])
    rec = estimate(h, methods=["loglinear", "graphical_bma"], random_seed=7, covariates="region")
    # estimate's per-method seeds: one SeedSequence child per method, graphical_bma the second
    seed = int(np.random.SeedSequence(7).spawn(5)[1].generate_state(1)[0])
    direct = estimate_strata(h, by=["region"], method="graphical_bma", progress=False, random_seed=seed).total()
    fit = rec.fits["graphical_bma"]
    assert fit.estimate == direct.estimate and fit.interval == direct.interval
    assert fit.n_observed == h.n_observed


def test_bad_covariates_are_refused_before_fitting():
    records, _ = _records(5, ids=True)
    records = records.drop(columns="id")
    with pytest.raises(DataError, match="Unknown covariate"):
        estimate(records, lists=LISTS, covariates=["province"])
    gaps = records.copy()
    gaps.loc[:9, "region"] = None
    with pytest.raises(DataError, match="missing for 10 of"):
        estimate(gaps, lists=LISTS, covariates=["region"])
    with pytest.raises(DataError, match="empty"):
        estimate(records, lists=LISTS, covariates=[])
    with pytest.raises((TypeError, ValueError), match="covariates"):
        estimate(records, lists=LISTS, covariates=3)
    with_ids, _ = _records(5, ids=True)
    with pytest.warns(UserWarning, match="identifier"), pytest.raises(DataError, match="distinct values"):
        estimate(with_ids, lists=LISTS, covariates=["id"])


def test_strata_total_thins_runs_of_different_lengths():
    h = CaptureHistories.from_records(_records(6)[0], LISTS, covariates=["region"])

    def fake(table, **_):
        draws = np.full(100 if table.n_observed % 2 else 150, float(table.n_observed) * 2)
        draws[::2] += 1.0
        return PosteriorEstimate.from_draws(draws, method="fake", n_observed=table.n_observed)

    result = estimate_strata(h, by="region", method=fake, progress=False)
    lengths = {len(r.draws) for r in result.results.values()}
    total = result.total()
    assert len(total.draws) == min(lengths)
    assert total.estimate == pytest.approx(2 * h.n_observed, abs=3)
    if len(lengths) > 1:
        assert any("thinned evenly" in w for w in total.warnings)


def test_imputations_pool_each_method_then_compare():
    from estimators import impute, loglinear, pool
    from estimators.simulate import simulate_records

    records = simulate_records(3000, days=60, random_seed=2).records
    assert records["region"].isna().any()
    with pytest.raises(DataError, match="missing for"):
        estimate(records, lists=["A", "B", "C", "D"], covariates=["region"])
    completed = impute(records, m=3, lists=["A", "B", "C", "D"], columns=["region"], random_seed=2)
    rec = estimate(completed, covariates=["region"], methods=["loglinear", "graphical_bma"], random_seed=1)
    assert rec.details["imputations"] == 3 and rec.n_observed == len(records)
    direct = pool([loglinear(CaptureHistories.from_records(d, ["A", "B", "C", "D"], covariates=["region"]),
                             covariates=["region"], select="average") for d in completed.datasets])
    assert rec.estimate == pytest.approx(direct.estimate) and rec.interval == pytest.approx(direct.interval)
    table = rec.sensitivity.set_index("method")
    assert table["note"].str.contains("pooled over 3 imputations").all()
    again = estimate(completed, covariates=["region"], methods=["loglinear", "graphical_bma"], random_seed=1)
    assert again.fits["graphical_bma"].estimate == rec.fits["graphical_bma"].estimate


def test_more_than_five_lists_fit_the_log_linear_model_within_each_level():
    rng = np.random.default_rng(1)
    lists = [f"L{i}" for i in range(7)]
    region = rng.choice(["north", "south"], 3000)
    captured = rng.random((3000, 7)) < np.where(region == "north", 0.3, 0.12)[:, None]
    frame = pd.DataFrame(captured.astype(int), columns=lists).assign(region=region)
    frame = frame[frame[lists].sum(axis=1) > 0]
    rec = estimate(frame, lists=lists, covariates=["region"], methods=["loglinear", "graphical_bma"], random_seed=1)
    table = rec.sensitivity.set_index("method")
    assert rec.method == "loglinear(select='bic')" and table.loc[rec.method, "status"] in ("ok", "warning")
    assert "within each level" in table.loc[rec.method, "note"]
    assert table.loc["loglinear(select='bic') without region", "estimate"] < rec.estimate
    assert rec.interval[0] <= 3000 <= rec.interval[1]


def test_dates_are_not_candidates_and_unhashable_columns_are_refused():
    records, _ = _records(7)
    records["day"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(records.index % 3, unit="D")
    h = CaptureHistories.from_records(records, LISTS)
    assert candidate_columns(h) == ["region", "shift"]
    tagged = records.assign(tags=[["a"] if i % 2 else ["b"] for i in range(len(records))])
    with pytest.raises(DataError, match=r"Column 'tags' holds values that cannot be categories \(e.g. \['"):
        CaptureHistories.from_records(tagged, LISTS)


def test_a_column_read_from_the_patterns_is_not_a_covariate():
    records, _ = _records(8)
    records["only_c"] = (records[LISTS].to_numpy() == [0, 0, 1]).all(axis=1).astype(int)
    h = CaptureHistories.from_records(records, LISTS)
    assert "only_c" in candidate_columns(h)
    assert [c for c, _, _ in capture_differs(h)] == ["region"]


def test_levels_of_mixed_types_are_counted():
    h = CaptureHistories(lists=("A", "B"), patterns=np.array([[1, 0], [0, 1], [1, 1]]), counts=np.array([3, 4, 5]),
                         covariates={"zone": np.array([1, "s", 1], dtype=object)})
    levels, table = pattern_table(h, "zone")
    assert sorted(map(str, levels)) == ["1", "s"] and table.sum() == 12


def test_a_list_absent_from_some_levels_is_summed_out_of_the_test():
    from estimators._recommend_covariates import lists_in_every_level

    # two lists A, B; level 0 has only A (B absent), level 1 both. Columns: patterns 00, 01, 10, 11
    table = np.array([[0.0, 0.0, 30.0, 0.0], [0.0, 10.0, 20.0, 5.0]])
    assert lists_in_every_level(table, 2) is None
    # three lists: C absent from level 0; over A and B (patterns 00, 01, 10, 11 of A, B), C summed out
    three = np.zeros((2, 8))
    three[0, [0b010, 0b100, 0b110]] = [5, 7, 2]
    three[1, [0b001, 0b010, 0b011, 0b100, 0b111]] = [9, 4, 1, 6, 3]
    np.testing.assert_array_equal(lists_in_every_level(three, 3), [[5, 7, 2], [5, 6, 3]])
    # records with capture constant in time and list D from month 3: the months are not named
    frame = _late_list_by_month(6000, months=6)
    assert capture_differs(CaptureHistories.from_records(frame, ["A", "B", "C", "D"])) == []


def test_pool_runs_reports_a_method_that_answered_on_some_imputations_only():
    from estimators._recommend import _pool_runs

    def row(method, role, status, estimate=np.nan):
        return {"method": method, "name": "graphical_bma", "role": role, "status": status, "estimate": estimate,
                "lower": np.nan, "upper": np.nan, "assumption": "", "note": "", "convergence": ""}

    fit = PosteriorEstimate.from_draws(np.arange(900.0, 1100.0), method="graphical_bma", n_observed=500)
    refused = ([row("graphical_bma", "model-refused", "refused"),
                row("graphical_bma(exclude_saturated=True)", "model", "ok", 1000.0)],
               {"graphical_bma(exclude_saturated=True)": fit})
    answered = ([row("graphical_bma", "model", "ok", 1000.0)], {"graphical_bma": fit})
    rows, fits = _pool_runs([refused, answered])
    by = {r["method"]: r for r in rows}
    assert by["graphical_bma"]["status"] == "refused" and by["graphical_bma"]["role"] == "model-refused"
    assert by["graphical_bma(exclude_saturated=True)"]["status"] == "skipped"
    assert "1 of 2 imputations only" in by["graphical_bma(exclude_saturated=True)"]["note"]
    assert fits == {}
    rows, fits = _pool_runs([answered, answered])
    assert rows[0]["status"] == "ok" and "pooled over 2 imputations" in rows[0]["note"]
    assert fits["graphical_bma"].estimate == pytest.approx(fit.estimate)


def test_the_named_covariates_are_a_reported_row_of_the_pooled_analysis():
    records, _ = _records(3)
    with pytest.warns(IdentifiabilityWarning, match="region"):
        pooled = estimate(records, lists=LISTS, methods=FAST, random_seed=1)
    by_region = estimate(records, lists=LISTS, methods=FAST, random_seed=1, covariates=["region"])
    row = pooled.sensitivity.set_index("method").loc["loglinear(select='average', covariates=['region'])"]
    assert row["role"] == "reported" and row["estimate"] == pytest.approx(by_region.estimate)
    assert pooled.interval == pooled.details["primary_interval"]  # read, not joined
    gaps = records.copy()
    gaps.loc[:9, "region"] = None
    with pytest.warns(IdentifiabilityWarning, match="region"):
        partial = estimate(gaps, lists=LISTS, methods=FAST, random_seed=1)
    assert not partial.sensitivity["method"].str.contains("covariates").any()


def test_a_list_absent_from_a_level_is_named_when_fitting_within_levels():
    from estimators._recommend_covariates import absent_lists

    h = CaptureHistories.from_records(_late_list_by_month(4000, months=4), ["A", "B", "C", "D"])
    assert absent_lists(h, ["month"]) == {"D": ["1", "2"]}
    with pytest.warns(IdentifiabilityWarning, match=r"List 'D' has no records where month is 1, 2"):
        estimate(h, covariates=["month"], methods=["loglinear", "graphical_bma"], random_seed=1)
