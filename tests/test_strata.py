"""estimate_strata: parallel fits, cache, failures and totals, with cheap estimators defined here."""

import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

matplotlib.use("Agg")

from estimators import CaptureHistories, DataError, Estimate, PosteriorEstimate, SmallSampleWarning
from estimators.strata import StrataResult, _stratum_seed, estimate_strata

WEEKS = pd.date_range("2024-01-01", periods=6, freq="W-MON")


def weekly_table(seed=0, weeks=WEEKS, size=400):
    """Three lists over several weeks, each week's N drawn around ``size``."""
    rng = np.random.default_rng(seed)
    frames = []
    for week in weeks:
        n = rng.poisson(size)
        on = rng.random((n, 3)) < [0.4, 0.3, 0.35]
        on = on[on.any(axis=1)]
        frame = pd.DataFrame(on.astype(int), columns=["A", "B", "C"])
        frame["date"] = week + pd.Timedelta(days=2)
        frames.append(frame)
    return CaptureHistories.from_records(pd.concat(frames, ignore_index=True), lists=["A", "B", "C"])


def petersen(h, *, level=0.95, log=None, fail_below=None, warn=False):
    """Lincoln-Petersen on the first two lists, Wald interval; optionally logs calls to a file, fails or warns."""
    if log is not None:
        with open(log, "a") as handle:
            handle.write("call\n")
    if fail_below is not None and h.n_observed < fail_below:
        raise ValueError(f"too few records ({h.n_observed})")
    if warn:
        warnings.warn("a warning from the method", SmallSampleWarning)
    overlaps = h.overlaps.to_numpy()
    n1, n2, m = overlaps[0, 0], overlaps[1, 1], overlaps[0, 1]
    estimate = n1 * n2 / m
    se = np.sqrt(n1 * n2 * (n1 - m) * (n2 - m) / m**3)
    z = stats.norm.ppf(0.5 + level / 2)
    return Estimate(estimate=estimate, interval=(estimate - z * se, estimate + z * se), level=level,
                    method="petersen", n_observed=h.n_observed, std_error=se)


def noisy_posterior(h, *, random_seed=None, draws=500, level=0.95):
    """A Bayesian-looking result: draws around the observed count, seeded."""
    rng = np.random.default_rng(random_seed)
    return PosteriorEstimate.from_draws(h.n_observed * 2 + rng.normal(0, 10, draws), level=level, method="noisy",
                                        n_observed=h.n_observed)


def calls(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


@pytest.fixture(scope="module")
def table():
    return weekly_table()


def test_strata_by_week_fit_every_stratum(table):
    result = estimate_strata(table, "date", freq="W", method=petersen, progress=False)
    assert isinstance(result, StrataResult)
    assert list(result.table.columns[:8]) == ["stratum", "n_observed", "estimate", "lower", "upper", "method",
                                              "warnings", "cached"]
    assert result.table["stratum"].tolist() == list(WEEKS)
    strata = table.strata("date", "W")
    for label, row in result.table.set_index("stratum").iterrows():
        expected = petersen(strata[label])
        assert row["estimate"] == pytest.approx(expected.estimate)
        assert row["n_observed"] == strata[label].n_observed
    assert not result.table["cached"].any() and (result.table["error"] == "").all()


def test_parallel_gives_the_same_results_as_serial(table):
    serial = estimate_strata(table, "date", freq="W", method=noisy_posterior, random_seed=7, progress=False)
    parallel = estimate_strata(table, "date", freq="W", method=noisy_posterior, random_seed=7, n_jobs=2,
                               progress=False)
    columns = ["stratum", "n_observed", "estimate", "lower", "upper"]
    pd.testing.assert_frame_equal(serial.table[columns], parallel.table[columns])
    for label in serial.results:
        np.testing.assert_array_equal(serial.results[label].draws, parallel.results[label].draws)


def test_seeds_differ_between_strata_and_do_not_depend_on_order(table):
    strata = table.strata("date", "W")
    forward = estimate_strata(strata, method=noisy_posterior, random_seed=3, progress=False)
    backward = estimate_strata(dict(reversed(list(strata.items()))), method=noisy_posterior, random_seed=3,
                               progress=False)
    for label in strata:
        np.testing.assert_array_equal(forward.results[label].draws, backward.results[label].draws)
    first, second = list(strata)[:2]
    noise = [forward.results[label].draws - 2 * strata[label].n_observed for label in (first, second)]
    assert not np.allclose(noise[0], noise[1])
    assert _stratum_seed(3, first) != _stratum_seed(3, second)


def test_cache_rerun_fits_nothing_and_a_change_refits_only_that_stratum(table, tmp_path):
    log = tmp_path / "calls.txt"
    cache = tmp_path / "cache"
    first = estimate_strata(table, "date", freq="W", method=petersen, cache=cache, log=str(log), progress=False)
    assert calls(log) == len(WEEKS) and not first.table["cached"].any()

    again = estimate_strata(table, "date", freq="W", method=petersen, cache=cache, log=str(log), progress=False)
    assert calls(log) == len(WEEKS)
    assert again.table["cached"].all() and again.n_cached == len(WEEKS)
    pd.testing.assert_series_equal(first.table["estimate"], again.table["estimate"])

    strata = table.strata("date", "W")
    changed = dict(strata)
    week = list(strata)[2]
    records = strata[week].to_frame()
    records.loc[0, "count"] += 5
    changed[week] = CaptureHistories.from_counts(records, lists=["A", "B", "C"])
    third = estimate_strata(changed, method=petersen, cache=cache, log=str(log), progress=False)
    assert calls(log) == len(WEEKS) + 1
    assert third.table["cached"].tolist() == [label != week for label in strata]

    other_level = estimate_strata(changed, method=petersen, cache=cache, log=str(log), level=0.9, progress=False)
    assert calls(log) == 2 * len(WEEKS) + 1 and not other_level.table["cached"].any()


def test_cache_with_parallel_workers(table, tmp_path):
    log = tmp_path / "calls.txt"
    first = estimate_strata(table, "date", freq="W", method=petersen, cache=tmp_path / "c", n_jobs=2,
                            log=str(log), progress=False)
    second = estimate_strata(table, "date", freq="W", method=petersen, cache=tmp_path / "c", n_jobs=2,
                             log=str(log), progress=False)
    assert calls(log) == len(WEEKS)
    assert second.table["cached"].all()
    pd.testing.assert_series_equal(first.table["upper"], second.table["upper"])


def test_failing_stratum_is_recorded_not_fatal(table, tmp_path):
    strata = table.strata("date", "W")
    smallest = min(strata, key=lambda label: strata[label].n_observed)
    threshold = strata[smallest].n_observed + 1
    result = estimate_strata(strata, method=petersen, fail_below=threshold, cache=tmp_path, progress=False)
    assert set(result.errors) == {smallest}
    row = result.table.set_index("stratum").loc[smallest]
    assert "too few records" in row["error"] and np.isnan(row["estimate"])
    assert len(result.results) == len(strata) - 1
    total = result.total()
    assert any("failed" in note for note in total.warnings)
    # failures are not cached: a rerun tries again
    rerun = estimate_strata(strata, method=petersen, fail_below=threshold, cache=tmp_path, progress=False)
    assert not rerun.table.set_index("stratum").loc[smallest, "cached"]
    assert rerun.table.set_index("stratum").drop(smallest)["cached"].all()


def test_warnings_are_captured_per_stratum(table):
    result = estimate_strata(table, "date", freq="W", method=petersen, warn=True, progress=False)
    assert result.table["warnings"].str.contains("a warning from the method").all()


def test_progress_off_prints_nothing(table, capsys):
    estimate_strata(table, "date", freq="W", method=petersen, progress=False)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_frequentist_total_sums_estimates_and_variances(table):
    result = estimate_strata(table, "date", freq="W", method=petersen, progress=False)
    total = result.total()
    fits = list(result.results.values())
    assert total.estimate == pytest.approx(sum(f.estimate for f in fits))
    se = np.sqrt(sum(f.std_error**2 for f in fits))
    assert total.interval[1] - total.estimate == pytest.approx(stats.norm.ppf(0.975) * se)
    assert total.n_observed == table.n_observed
    assert "variances" in total.interval_kind


def test_bayesian_total_sums_draws(table):
    result = estimate_strata(table, "date", freq="W", method=noisy_posterior, random_seed=1, progress=False)
    total = result.total(level=0.9)
    assert isinstance(total, PosteriorEstimate)
    np.testing.assert_allclose(total.draws, np.sum([r.draws for r in result.results.values()], axis=0))
    assert total.level == 0.9 and total.interval[0] < total.estimate < total.interval[1]


def test_summary_states_the_level_as_a_percentage_and_the_kind_of_interval():
    strata = {label: CaptureHistories.from_mapping({"10": 40, "01": 30, "11": 20 + i}, lists=["A", "B"])
              for i, label in enumerate(["w1", "w2"])}
    facts = dict(estimate_strata(strata, method="chapman", progress=False).summary().facts)
    assert facts["interval"] == "95% log-normal (Chao 1987)" and "interval level" not in facts


def test_summary_and_plot(table):
    result = estimate_strata(table, "date", freq="W", method=petersen, progress=False)
    text = str(result.summary())
    assert "petersen" in text and "from cache" in text
    ax = result.plot()
    assert len(ax.get_lines()) >= 1
    assert ax.get_ylabel() == "N (total)"


class CountingFitter:
    def __init__(self):
        self.calls = 0

    def __call__(self, h, *, level=0.95):
        self.calls += 1
        return petersen(h, level=level)


def test_batch_fitter_in_process_is_shared_by_every_stratum(table):
    made = []

    def method(h, *, level=0.95):
        return petersen(h, level=level)

    def factory():
        made.append(CountingFitter())
        return made[-1]

    method.batch_fitter = factory
    result = estimate_strata(table, "date", freq="W", method=method, batch_size=2, progress=False)
    assert len(made) == 1 and made[0].calls == len(WEEKS)
    assert result.table["method"].eq("petersen").all()


@pytest.mark.parametrize(
    "options, error, message",
    [
        (dict(method="no_such_method"), ValueError, "must be a callable or one of"),
        (dict(method="estimate_strata"), ValueError, "must be a callable or one of"),
        (dict(method=42), ValueError, "callable"),
        (dict(method=petersen, bogus=1), ValueError, "does not accept"),
        (dict(method=petersen, n_jobs=0), ValueError, "n_jobs"),
        (dict(method=petersen, backend="spark"), ValueError, "backend"),
        (dict(method=petersen, scheduler="tcp://127.0.0.1:1"), ValueError, "backend='dask'"),
        (dict(method=petersen, batch_size=0), ValueError, "batch_size"),
        (dict(method=noisy_posterior, random_seed=np.random.default_rng(1)), ValueError, "random_seed"),
        (dict(method=petersen, level=1.5), ValueError, "level"),
    ],
)
def test_bad_arguments_are_named(table, options, error, message):
    with pytest.raises(error, match=message):
        estimate_strata(table, "date", freq="W", progress=False, **options)


def test_bad_histories_are_refused(table):
    with pytest.raises(ValueError, match="`by` is required"):
        estimate_strata(table, method=petersen, progress=False)
    with pytest.raises(DataError, match="not a CaptureHistories"):
        estimate_strata({"w1": "table"}, method=petersen, progress=False)
    with pytest.raises(ValueError, match="already stratified"):
        estimate_strata(table.strata("date", "W"), by="date", method=petersen, progress=False)
    with pytest.raises(DataError, match="no strata"):
        estimate_strata({}, method=petersen, progress=False)


def test_dask_backend_needs_dask_or_runs_on_a_local_cluster(table):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        with pytest.raises(ImportError, match="dask"):
            estimate_strata(table, "date", freq="W", method=petersen, backend="dask",
                            scheduler="tcp://127.0.0.1:1", progress=False)
        return
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        by_address = estimate_strata(table, "date", freq="W", method=petersen, backend="dask",
                                     scheduler=cluster.scheduler_address, progress=False)
        with Client(cluster) as client:
            by_client = estimate_strata(table, "date", freq="W", method=petersen, backend="dask",
                                        scheduler=client, progress=False)
            assert client.status == "running"
    local = estimate_strata(table, "date", freq="W", method=petersen, progress=False)
    pd.testing.assert_series_equal(by_address.table["estimate"], local.table["estimate"])
    pd.testing.assert_series_equal(by_client.table["estimate"], local.table["estimate"])


@pytest.mark.slow
def test_loglinear_bayes_by_name_reuses_one_compiled_model(tmp_path):
    small = weekly_table(seed=4, weeks=WEEKS[:3], size=600)
    options = dict(chains=2, draws=300, tune=300, random_seed=5)
    result = estimate_strata(small, "date", freq="W", method="loglinear_bayes", cache=tmp_path, progress=False,
                             **options)
    assert not result.errors
    compiles = [fit.details["compile seconds"] > 0 for fit in result.results.values()]
    assert sum(compiles) == 1
    assert isinstance(result.total(), PosteriorEstimate)
    rerun = estimate_strata(small, "date", freq="W", method="loglinear_bayes", cache=tmp_path, progress=False,
                            **options)
    assert rerun.table["cached"].all()
    pd.testing.assert_series_equal(result.table["estimate"], rerun.table["estimate"])


def test_a_stratum_with_one_list_fails_alone(table):
    # one person in a stratum (one list with records) made CaptureHistories.strata raise, so no stratum was fitted
    frame = table.to_frame()
    frame["date"] = frame["date"].astype(str)
    extra = pd.DataFrame({"A": [1], "B": [0], "C": [0], "date": ["2030-01-01"], "count": [1]})
    h = CaptureHistories.from_counts(pd.concat([frame, extra], ignore_index=True), lists=["A", "B", "C"])
    with pytest.warns(SmallSampleWarning, match="2030-01-01"):
        result = estimate_strata(h, "date", method=petersen, progress=False)
    assert list(result.errors) == ["2030-01-01"] and "only list(s) ['A']" in result.errors["2030-01-01"]
    assert len(result.results) == frame["date"].nunique()
    row = result.table.set_index("stratum").loc["2030-01-01"]
    assert row["n_observed"] == 1 and np.isnan(row["estimate"]) and not row["cached"]
    assert result.table["stratum"].tolist() == sorted(result.table["stratum"])


@pytest.mark.parametrize("method", ["pairwise", "sample_coverage_table", "LoglinearBayesModel"])
def test_names_that_are_not_estimators_are_refused_before_fitting(table, method):
    # these return a table of estimates (or are a class): every stratum was fitted, then the call crashed
    with pytest.raises(ValueError, match="must be a callable or one of"):
        estimate_strata(table, "date", freq="W", method=method, progress=False)


def test_a_callable_returning_something_else_fails_per_stratum(table):
    result = estimate_strata(table, "date", freq="W", method=lambda h: h.list_totals, progress=False)
    assert not result.results and len(result.errors) == len(WEEKS)
    assert all("returned a Series, not an Estimate" in message for message in result.errors.values())
