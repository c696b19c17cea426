"""Raking and post-stratification checked without R: against the R reference rows, a closed form, an independent
solution of the calibration equations, the GREG variance computed here from scratch, and post-stratification on a
cross-classified column."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from estimators.survey import mortality_rate
from estimators.survey._design import _rake

DATA = Path(__file__).parents[1] / "data"
REL = 1e-4  # 0.01%
pytestmark = pytest.mark.filterwarnings("ignore::estimators.exceptions.SmallSampleWarning")


def test_raking_on_one_margin_reproduces_the_post_stratified_reference_rows():
    survey = pd.read_csv(DATA / "smart_survey_strata_example.csv")
    reference = pd.read_csv(DATA / "survey_smart_strata.csv").query("design == 'post-stratified'")
    raked = mortality_rate(survey, recall_days=90, cluster="cluster", stratum="region", weight="weight", under5=True,
                           population_totals={"region": {"north": 190000, "south": 55000}},
                           calibration_method="rake")
    assert raked.calibration == "rake"
    label = {"crude death rate": "deaths", "under-five death rate": "deaths_u5"}
    for _, ref in reference.iterrows():
        row = raked.table.loc[label[ref["rate"]]]
        for ours, theirs in [("rate", "per_10000_per_day"), ("std_error", "se"), ("lower", "lower"),
                             ("upper", "upper")]:
            assert float(row[ours]) == pytest.approx(float(ref[theirs]), rel=REL), (ref["rate"], theirs)


# A small two-stratum cluster sample: 4 clusters of 4 households in each of two regions; every household has a
# zone (A: x/y) and a tenure (B: own/rent). Counts are hand-made, not drawn.
def _table(weights) -> pd.DataFrame:
    zone = list("xxyy" "xyxy" "xyyy" "xxxy") * 2
    tenure = ["own", "rent", "own", "rent", "rent", "own", "own", "rent", "own", "own", "rent", "rent",
              "rent", "own", "rent", "own"] * 2
    members = [5, 6, 4, 7, 3, 5, 8, 6, 4, 4, 6, 5, 7, 3, 5, 6, 6, 5, 7, 4, 5, 5, 3, 8, 6, 4, 5, 7, 3, 6, 4, 5]
    deaths = [0, 1, 0, 0, 1, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 2, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0]
    return pd.DataFrame({"region": ["north"] * 16 + ["south"] * 16, "cluster": np.repeat(np.arange(1, 9), 4),
                         "zone": zone, "tenure": tenure, "members_now": members, "deaths": deaths,
                         "weight": weights})


MARGINS = {"zone": {"x": 300.0, "y": 500.0}, "tenure": {"own": 350.0, "rent": 450.0}}


def test_ipf_weights_have_the_closed_form_when_the_sample_table_is_a_product():
    # cell counts n_ij = n_i. n_.j / n (zone x tenure 2:4 / 3:6): the raked cell totals are N_i M_j / N
    zone = ["x"] * 6 + ["y"] * 9
    tenure = ["own"] * 2 + ["rent"] * 4 + ["own"] * 3 + ["rent"] * 6
    margins = {"zone": (np.array(zone), {"x": 100.0, "y": 200.0}),
               "tenure": (np.array(tenure), {"own": 120.0, "rent": 180.0})}
    w = _rake(np.ones(15), margins)
    cells = {("x", "own"): 2, ("x", "rent"): 4, ("y", "own"): 3, ("y", "rent"): 6}
    zone_total, tenure_total = margins["zone"][1], margins["tenure"][1]
    expected = [zone_total[z] * tenure_total[t] / 300.0 / cells[(z, t)] for z, t in zip(zone, tenure)]
    assert w == pytest.approx(expected, rel=1e-10)  # e.g. cell (x, own): 100 * 120 / 300 / 2 = 20


def _indicator_matrix(frame) -> np.ndarray:
    # full-rank parametrisation, unlike the code's (every category of every margin): zone x, zone y, tenure own
    return np.column_stack([(frame.zone == "x"), (frame.zone == "y"), (frame.tenure == "own")]).astype(float)


def test_ipf_weights_solve_the_raking_calibration_equations():
    # raking = calibration with the exponential distance: w = d exp(X lambda) with X'w = totals (Deville &
    # Sarndal 1992, case 2); solved here by Newton's method (scipy's root), independently of IPF
    weights = np.repeat([40.0, 55.0, 30.0, 70.0, 25.0, 60.0, 45.0, 35.0], 4)
    frame = _table(weights)
    X = _indicator_matrix(frame)
    totals = np.array([MARGINS["zone"]["x"], MARGINS["zone"]["y"], MARGINS["tenure"]["own"]])
    solution = optimize.root(lambda lam: X.T @ (weights * np.exp(X @ lam)) - totals, np.zeros(3), tol=1e-14)
    assert solution.success
    w = _rake(weights, {name: (frame[name].to_numpy(), totals_) for name, totals_ in MARGINS.items()})
    assert w == pytest.approx(weights * np.exp(X @ solution.x), rel=1e-9)


def _greg_variance(frame, w_design, w_cal) -> tuple[float, float]:
    """Rate and variance of the raked ratio from scratch: score, design-weighted regression on the margins,
    residual totals per cluster, with-replacement variance between clusters within regions."""
    y = frame.deaths.to_numpy(float)
    x = (frame.members_now + frame.deaths / 2).to_numpy(float) * 90
    ratio = (w_cal @ y) / (w_cal @ x)
    score = (y - ratio * x) / (w_cal @ x)
    X = _indicator_matrix(frame)
    beta = np.linalg.solve(X.T @ (w_design[:, None] * X), X.T @ (w_design * score))
    residual_total = w_cal * (score - X @ beta)
    variance = 0.0
    for _, region in frame.assign(e=residual_total).groupby("region"):
        per_cluster = region.groupby("cluster")["e"].sum().to_numpy()
        n = len(per_cluster)
        variance += n / (n - 1) * np.sum((per_cluster - per_cluster.mean()) ** 2)
    return ratio, variance


@pytest.mark.parametrize("weights", [np.full(32, 25.0), np.repeat([40.0, 55.0, 30.0, 70.0, 25.0, 60.0, 45.0,
                                                                    35.0], 4)])
def test_raked_variance_is_the_greg_linearisation_variance(weights):
    frame = _table(weights)
    result = mortality_rate(frame, recall_days=90, stratum="region", weight="weight", joined=None, left=None,
                            births=None, population_totals=MARGINS)
    assert result.calibration == "rake"
    w_cal = _rake(weights, {name: (frame[name].to_numpy(), totals) for name, totals in MARGINS.items()})
    ratio, variance = _greg_variance(frame, weights, w_cal)
    assert result.rate == pytest.approx(ratio * 1e4, rel=1e-10)
    assert result.std_error == pytest.approx(np.sqrt(variance) * 1e4, rel=1e-8)
    # the calibration takes out what the margins explain: the raked s.e. is not the uncalibrated one
    plain = mortality_rate(frame, recall_days=90, stratum="region", weight="weight", joined=None, left=None,
                           births=None)
    assert abs(result.std_error / plain.std_error - 1) > 1e-3


def test_raking_on_margins_that_include_their_cross_classification_is_post_stratification():
    weights = np.repeat([40.0, 55.0, 30.0, 70.0, 25.0, 60.0, 45.0, 35.0], 4)
    frame = _table(weights)
    frame["cell"] = frame.zone + "/" + frame.tenure
    cells = {"x/own": 120.0, "x/rent": 180.0, "y/own": 230.0, "y/rent": 270.0}
    margins = {"zone": {"x": 300.0, "y": 500.0}, "tenure": {"own": 350.0, "rent": 450.0}, "cell": cells}
    common = dict(recall_days=90, stratum="region", weight="weight", joined=None, left=None, births=None)
    raked = mortality_rate(frame, population_totals=margins, **common)
    post = mortality_rate(frame, population_totals={"cell": cells}, **common)
    assert (raked.calibration, post.calibration) == ("rake", "poststratify")
    assert raked.rate == pytest.approx(post.rate, rel=1e-10)
    assert raked.std_error == pytest.approx(post.std_error, rel=1e-8)


def test_post_stratified_variance_takes_design_weighted_means_as_r_does():
    # design weights that vary within a post-stratum: R's svyrecvar removes the post-stratum means weighted by
    # the weights before post-stratification (rowsum(x * oldw / psw) / sum(oldw)); written out here
    weights = np.repeat([40.0, 55.0, 30.0, 70.0, 25.0, 60.0, 45.0, 35.0], 4)
    frame = _table(weights)
    totals = {"x": 300.0, "y": 500.0}
    result = mortality_rate(frame, recall_days=90, stratum="region", weight="weight", joined=None, left=None,
                            births=None, population_totals={"zone": totals})
    zone = frame.zone.to_numpy()
    w = weights * np.array([totals[z] / weights[zone == z].sum() for z in zone])
    y = frame.deaths.to_numpy(float)
    x = (frame.members_now + frame.deaths / 2).to_numpy(float) * 90
    lin = (y - (w @ y) / (w @ x) * x) / (w @ x)
    influence = w * lin  # R's x: the linearised score times the weights
    old, psw = weights, w
    means = {z: np.sum((influence * old / psw)[zone == z]) / old[zone == z].sum() for z in totals}
    residual = influence - np.array([means[z] for z in zone]) * psw
    variance = sum(
        n / (n - 1) * np.sum((t - t.mean()) ** 2)
        for t, n in ((g.groupby("cluster")["e"].sum().to_numpy(), g.cluster.nunique())
                     for _, g in frame.assign(e=residual).groupby("region"))
    )
    assert result.std_error == pytest.approx(np.sqrt(variance) * 1e4, rel=1e-10)
    # the unweighted means (what the code removed before) give another number on these weights
    unweighted = {z: lin[zone == z].mean() for z in totals}
    other = w * (lin - np.array([unweighted[z] for z in zone]))
    other_variance = sum(
        n / (n - 1) * np.sum((t - t.mean()) ** 2)
        for t, n in ((g.groupby("cluster")["e"].sum().to_numpy(), g.cluster.nunique())
                     for _, g in frame.assign(e=other).groupby("region"))
    )
    assert abs(np.sqrt(other_variance) / np.sqrt(variance) - 1) > 1e-4


def test_raked_linearisation_variance_agrees_with_a_jackknife_that_rakes_every_replicate():
    # the stratified delete-one-cluster jackknife (JKn) re-rakes the weights in each replicate: no linearisation
    # at all; on the 40 clusters of the R example the two standard errors are 0.14% apart
    survey = pd.read_csv(DATA / "smart_survey_strata_example.csv")
    survey["size"] = np.where(survey.members_now >= 7, "large", "small")
    margins = {"region": {"north": 190000, "south": 55000}, "size": {"large": 120000, "small": 125000}}
    common = dict(recall_days=90, stratum="region", weight="weight", population_totals=margins)
    full = mortality_rate(survey, **common)
    variance = 0.0
    for region, clusters in survey.groupby("region").cluster:
        n = clusters.nunique()
        replicates = []
        for cluster in clusters.unique():
            drop = (survey.region == region) & (survey.cluster == cluster)
            kept = survey[~drop].copy()
            kept.loc[kept.region == region, "weight"] *= n / (n - 1)
            replicates.append(mortality_rate(kept, **common).rate)
        variance += (n - 1) / n * np.sum((np.array(replicates) - full.rate) ** 2)
    assert np.sqrt(variance) == pytest.approx(full.std_error, rel=0.01)
