"""Pooling results over imputations (estimators.pool): Rubin's rules, mixed posterior draws, strata, daily rates."""

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import estimators
from estimators import DataError, Estimate, PosteriorEstimate


def _estimate(n, se=None, interval=None, **kwargs):
    interval = interval or (0.8 * n, 1.25 * n)
    options = dict(level=0.95, method="chapman", n_observed=500) | kwargs
    return Estimate(estimate=n, interval=interval, std_error=se, **options)


def test_rubins_rules_by_hand():
    fits = [_estimate(900.0, 90.0), _estimate(1000.0, 120.0), _estimate(1100.0, 99.0)]
    pooled = estimators.pool(fits)
    q = np.log([900.0, 1000.0, 1100.0])
    u = np.array([0.1**2, 0.12**2, 0.09**2])  # (SE / N)^2
    m = 3
    qbar, w = q.mean(), u.mean()
    b = ((q - qbar) ** 2).sum() / (m - 1)
    t_var = w + (1 + 1 / m) * b
    share = (1 + 1 / m) * b / t_var
    df = (m - 1) / share**2
    half = stats.t.ppf(0.975, df) * math.sqrt(t_var)
    assert pooled.estimate == pytest.approx(math.exp(qbar))
    assert pooled.interval == pytest.approx((math.exp(qbar - half), math.exp(qbar + half)))
    assert pooled.std_error == pytest.approx(math.exp(qbar) * math.sqrt(t_var))
    d = pooled.details
    assert d["imputations"] == 3 and d["pooled_scale"] == "log N"
    assert d["within_variance"] == pytest.approx(w) and d["between_variance"] == pytest.approx(b)
    assert d["total_variance"] == pytest.approx(t_var) and d["between_share"] == pytest.approx(share)
    assert d["df"] == pytest.approx(df)
    riv = (1 + 1 / m) * b / w
    assert d["riv"] == pytest.approx(riv) and d["fmi"] == pytest.approx((riv + 2 / (df + 3)) / (riv + 1))
    assert pooled.level == 0.95 and pooled.n_observed == 500
    assert "pooled over 3 imputations" in pooled.method
    assert "between_share" in str(pooled.summary())


def test_barnard_rubin_degrees_of_freedom():
    fits = [_estimate(900.0, 90.0), _estimate(1000.0, 120.0), _estimate(1100.0, 99.0)]
    pooled = estimators.pool(fits, complete_df=20)
    share = pooled.details["between_share"]
    df_old = 2 / share**2
    df_obs = 21 / 23 * 20 * (1 - share)
    assert pooled.details["df"] == pytest.approx(1 / (1 / df_old + 1 / df_obs))
    assert pooled.details["df"] < estimators.pool(fits).details["df"]


def test_variance_from_interval_width_when_no_standard_error():
    fits = [_estimate(1000.0, interval=(800.0, 1250.0)), _estimate(1000.0, interval=(800.0, 1250.0))]
    pooled = estimators.pool(fits)
    u = ((math.log(1250) - math.log(800)) / (2 * stats.norm.ppf(0.975))) ** 2
    assert pooled.details["within_variance"] == pytest.approx(u)
    assert pooled.details["between_variance"] == 0 and pooled.details["between_share"] == 0
    assert pooled.interval == pytest.approx((800.0, 1250.0))  # B = 0: the normal interval comes back
    assert any("no standard error" in w for w in pooled.warnings)


def test_identical_estimates_give_no_between_variance():
    pooled = estimators.pool([_estimate(1000.0, 50.0)] * 4)
    assert pooled.details["between_variance"] == 0 and math.isinf(pooled.details["df"])
    assert pooled.estimate == pytest.approx(1000.0)


def test_warnings_are_merged_with_counts():
    fits = [_estimate(900.0, 90.0, warnings=("small sample",)), _estimate(1000.0, 100.0)]
    assert "(in 1 of 2 imputations) small sample" in estimators.pool(fits).warnings


def test_pooled_posterior_draws():
    rng = np.random.default_rng(0)
    posts = [PosteriorEstimate.from_draws(rng.normal(1000 + 50 * i, 30, 2000 + 500 * i), method="latent_class",
                                          n_observed=600) for i in range(3)]
    pooled = estimators.pool(posts)
    assert isinstance(pooled, PosteriorEstimate)
    assert len(pooled.draws) == 3 * 2000 and pooled.details["draws_per_imputation"] == 2000
    np.testing.assert_array_equal(pooled.draws[:2000], posts[0].draws)  # equal numbers from each, in order
    assert pooled.estimate == pytest.approx(np.median(pooled.draws))
    assert pooled.interval[0] < 1000 < 1100 < pooled.interval[1]
    logs = [np.log(p.draws[np.linspace(0, len(p.draws) - 1, 2000).round().astype(int)]) for p in posts]
    w = np.mean([v.var(ddof=1) for v in logs])
    b = np.var([v.mean() for v in logs], ddof=1)
    assert pooled.details["between_share"] == pytest.approx(4 / 3 * b / (w + 4 / 3 * b))
    assert pooled.details["between_share"] > 0.5
    assert any("Zhou & Reiter" in w for w in pooled.warnings)
    assert "between_share" in str(pooled.summary())


def test_refuses_bad_input():
    fit = _estimate(1000.0, 50.0)
    post = PosteriorEstimate.from_draws(np.full(10, 1000.0), method="chapman", n_observed=500)
    with pytest.raises(DataError, match="empty"):
        estimators.pool([])
    with pytest.raises(DataError, match="at least two"):
        estimators.pool([fit])
    with pytest.raises(DataError, match="sequence"):
        estimators.pool(fit)
    with pytest.raises(DataError, match="mix of kinds"):
        estimators.pool([fit, post])
    with pytest.raises(DataError, match="level"):
        estimators.pool([fit, _estimate(1000.0, 50.0, level=0.9)])
    with pytest.raises(DataError, match="method"):
        estimators.pool([fit, _estimate(1000.0, 50.0, method="zelterman")])
    with pytest.raises(DataError, match="lists"):
        estimators.pool([_estimate(1000.0, 50.0, details={"lists": ("A", "B")}),
                         _estimate(1000.0, 50.0, details={"lists": ("A", "C")})])
    with pytest.raises(DataError, match="no draws"):
        estimators.pool([PosteriorEstimate(estimate=1.0, interval=(0.5, 2.0), level=0.95, method="x",
                                           n_observed=1)] * 2)
    with pytest.raises(DataError, match="combines"):
        estimators.pool([1.0, 2.0])
    with pytest.raises(ValueError, match="`complete_df`"):
        estimators.pool([fit, fit], complete_df=0)


# ------------------------------------------------------------------------------------------------ strata
@pytest.fixture(scope="module")
def imputations():
    rng = np.random.default_rng(11)
    n = 400
    region = rng.choice(["north", "south"], n, p=[0.6, 0.4])
    on_a = rng.random(n) < np.where(region == "north", 0.7, 0.4)
    on_b = rng.random(n) < 0.5
    on_b[~on_a & ~on_b] = True
    frame = pd.DataFrame({"A": on_a.astype(int), "B": on_b.astype(int), "region": region,
                          "age": rng.normal(40, 10, n).round()})
    frame.loc[rng.random(n) < np.where(on_a, 0.05, 0.3), "region"] = None
    return estimators.impute(frame, m=4, lists=["A", "B"], random_seed=2, max_iter=3)


def test_estimate_strata_on_each_imputation_then_pool(imputations):
    fits = [estimators.estimate_strata(h, by="region", method="chapman", progress=False)
            for h in imputations.histories()]
    pooled = estimators.pool(fits)
    assert isinstance(pooled, estimators.StrataResult)
    assert sorted(pooled.results) == ["north", "south"] and not pooled.errors
    for label, result in pooled.results.items():
        expected = estimators.pool([fit.results[label] for fit in fits])
        assert result.estimate == pytest.approx(expected.estimate)
        assert result.interval == pytest.approx(expected.interval)
        row = pooled.table.set_index("stratum").loc[label]
        assert row["between_share"] == pytest.approx(expected.details["between_share"])
        assert 0 < row["between_share"] < 1  # people move between regions across imputations
    assert "between share" in str(pooled.summary())
    total = pooled.total()
    assert total.n_observed == 400
    # the overall total does not depend on the imputed region: no between-imputation variance
    overall = estimators.pool([estimators.chapman(h) for h in imputations.histories()])
    assert overall.details["between_share"] == 0


def test_estimate_strata_accepts_imputations(imputations):
    pooled = estimators.estimate_strata(imputations, by="region", method="chao_lower_bound", progress=False)
    fits = [estimators.estimate_strata(h, by="region", method="chao_lower_bound", progress=False)
            for h in imputations.histories()]
    expected = estimators.pool(fits)
    pd.testing.assert_series_equal(pooled.table["estimate"], expected.table["estimate"])
    assert pooled.imputations == 4


def test_strata_fitted_in_some_imputations_only_are_not_pooled():
    def fit(labels):
        results = {label: _estimate(1000.0 + 10 * i, 50.0) for i, label in enumerate(labels)}
        table = pd.DataFrame({"stratum": list(labels), "n_observed": 500, "seconds": 0.0})
        return estimators.StrataResult(table=table, results=results, errors={}, method="chapman")

    pooled = estimators.pool([fit(["a", "b"]), fit(["a"])])
    assert list(pooled.results) == ["a"] and "fitted in 1 of 2 imputations" in pooled.errors["b"]


def test_strata_results_must_match():
    table = pd.DataFrame({"stratum": ["a"], "n_observed": [500], "seconds": [0.0]})
    one = estimators.StrataResult(table=table, results={"a": _estimate(1000.0, 50.0)}, errors={}, method="chapman")
    other = estimators.StrataResult(table=table, results={"a": _estimate(1000.0, 50.0)}, errors={},
                                    method="zelterman")
    with pytest.raises(DataError, match="method"):
        estimators.pool([one, other])


# ------------------------------------------------------------------------------------------------ daily rates
@dataclass(frozen=True)
class _Data:
    list_names: tuple = ("A", "B")
    start: object = pd.Timestamp("2024-01-01")


@dataclass(frozen=True)
class _FakeDaily:
    """What pool() reads of a DailyRatesResult: draws of the daily rate and population, and summaries."""

    rate_draws: np.ndarray
    population_draws: np.ndarray
    level: float = 0.95
    warnings: tuple = ()
    data: _Data = field(default_factory=_Data)

    @property
    def daily(self):
        days = self.rate_draws.shape[1]
        return pd.DataFrame({"day": np.arange(days), "date": pd.date_range("2024-01-01", periods=days)})

    def _post(self, draws, name):
        return PosteriorEstimate.from_draws(draws, level=self.level, method=name, n_observed=100)

    @property
    def mean_rate(self):
        return self._post(self.rate_draws.mean(1), "mean rate")

    @property
    def rate_per_10000(self):
        return self._post(self.rate_draws.mean(1) / self.population_draws * 10_000, "per 10,000")

    @property
    def total(self):
        return self._post(self.rate_draws.sum(1), "total")


def _fake(seed, level_shift, draws=400, days=10, **kwargs):
    rng = np.random.default_rng(seed)
    return _FakeDaily(rate_draws=rng.gamma(50, (5 + level_shift) / 50, (draws, days)),
                      population_draws=rng.normal(100_000, 5_000, draws), **kwargs)


def test_daily_rates_pool_their_draws():
    fits = [_fake(0, 0.0), _fake(1, 1.0, draws=500), _fake(2, 2.0)]
    pooled = estimators.pool(fits)
    assert pooled.rate_draws.shape == (1200, 10) and pooled.population_draws.shape == (1200,)
    assert list(pooled.daily.columns[:2]) == ["day", "date"]
    assert pooled.daily["median"].to_numpy() == pytest.approx(np.median(pooled.rate_draws, axis=0))
    per10k = pooled.rate_draws / pooled.population_draws[:, None] * 10_000
    assert pooled.daily["per10k_upper"].to_numpy() == pytest.approx(np.quantile(per10k, 0.975, axis=0))
    assert pooled.mean_rate.details["imputations"] == 3 and len(pooled.total.draws) == 1200
    assert 0 < pooled.details["between_share"] < 1
    assert "between share" in str(pooled.summary()) and repr(pooled).startswith("<PooledDailyRates: 3 imputations")


def test_daily_rates_must_match():
    with pytest.raises(DataError, match="number of days"):
        estimators.pool([_fake(0, 0.0), _fake(1, 0.0, days=11)])
    with pytest.raises(DataError, match="lists"):
        estimators.pool([_fake(0, 0.0), _fake(1, 0.0, data=_Data(list_names=("A", "C")))])
    with pytest.raises(DataError, match="mix of kinds"):
        estimators.pool([_fake(0, 0.0), _estimate(1000.0, 50.0)])


def test_per_level_tables_are_pooled_level_by_level():
    def fit(n_north, n_south, se_north, se_south):
        table = pd.DataFrame({"region": ["north", "south"], "n_observed": [50, 30],
                              "estimate": [n_north, n_south], "lower": [0.0, 0.0], "upper": [1e9, 1e9],
                              "std_error": [se_north, se_south]})
        total = n_north + n_south
        return Estimate(estimate=total, interval=(0.8 * total, 1.25 * total), level=0.95, method="loglinear",
                        n_observed=80, std_error=0.1 * total, details={"by_level": table})

    fits = [fit(100.0, 60.0, 10.0, 6.0), fit(120.0, 66.0, 12.0, 6.6), fit(110.0, 63.0, 11.0, 6.3)]
    pooled = estimators.pool(fits).details["by_level"].set_index("region")
    for region, estimates in (("north", [100.0, 120.0, 110.0]), ("south", [60.0, 66.0, 63.0])):
        q = np.log(estimates)
        within, between = 0.01, q.var(ddof=1)  # SE / N is 0.1 in every fit
        total = within + (1 + 1 / 3) * between
        assert pooled.loc[region, "estimate"] == pytest.approx(math.exp(q.mean()))
        assert pooled.loc[region, "std_error"] == pytest.approx(math.exp(q.mean()) * math.sqrt(total))
        assert pooled.loc[region, "between_share"] == pytest.approx((1 + 1 / 3) * between / total)
        assert pooled.loc[region, "lower"] < pooled.loc[region, "estimate"] < pooled.loc[region, "upper"]
