"""The benchmark runner and report: the quick suite end to end (smoke test), resume, metrics."""

import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import methods as registry  # noqa: E402
from benchmarks import report, runner  # noqa: E402

FAST = ("chapman", "chao", "mth_darroch", "loglinear_bic", "graphical_bma")


def _available(names):
    return [name for name, reason in registry.availability(names).items() if reason is None]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "quick.csv"
    methods = _available(FAST)
    summary = runner.run_suite("quick", methods, jobs=1, out=out, replicates=2, progress=False)
    return out, methods, summary


def test_quick_suite_writes_one_row_per_scenario_replicate_and_method(quick_run):
    out, methods, summary = quick_run
    frame = pd.read_csv(out)
    scenarios = [s.name for s in runner_scenarios("quick")]
    assert summary.rows_written == len(frame) == len(scenarios) * 2 * len(methods)
    assert set(frame["method"]) == set(methods)
    assert list(frame.columns) == list(runner.COLUMNS)
    fitted = frame[frame["failure"].isna()]
    assert len(fitted) > 0
    # Chapman sees only the first two lists, so only the k-list methods are bounded below by n_observed
    k_list = fitted[fitted["method"] != "chapman"]
    assert (k_list["estimate"] >= k_list["n_observed"] - 1e-6).all()
    assert (fitted["lower_95"].fillna(-np.inf) <= fitted["lower_80"].fillna(-np.inf) + 1e-6).all()


def runner_scenarios(suite):
    from estimators.simulate import scenarios

    return scenarios(suite)


def test_rerun_resumes_and_skips_done_rows(quick_run):
    out, methods, _ = quick_run
    before = pd.read_csv(out)
    again = runner.run_suite("quick", methods, jobs=1, out=out, replicates=2, progress=False)
    assert again.rows_written == 0 and again.rows_skipped == len(before)
    more = runner.run_suite("quick", methods, jobs=1, out=out, replicates=3, progress=False)
    after = pd.read_csv(out)
    assert more.rows_written == len(runner_scenarios("quick")) * len(methods)
    assert not after.duplicated(["scenario", "replicate", "method"]).any()
    # the same seed draws the same table, so a resumed row matches what a fresh run would give
    assert set(after["replicate"]) == {0, 1, 2}


def test_report_writes_markdown_metrics_and_plots(quick_run, tmp_path):
    out, methods, _ = quick_run
    path = report.write_report(out, out=tmp_path / "REPORT.md", default_method="mth_darroch")
    text = path.read_text()
    assert "Coverage of the 95% intervals" in text and "recommended default: `mth_darroch`" in text
    for suffix in ("_coverage.png", "_estimates.png", "_metrics.csv"):
        assert (tmp_path / f"REPORT{suffix}").stat().st_size > 0
    table = pd.read_csv(tmp_path / "REPORT_metrics.csv")
    assert set(table["method"]) == set(methods)


def test_unavailable_method_is_skipped_never_faked(tmp_path, monkeypatch):
    fake = registry.Method("not_written_yet", "no_such_estimator")
    monkeypatch.setitem(registry.REGISTRY, "not_written_yet", fake)
    summary = runner.run_suite("quick", ["not_written_yet", "chapman"], out=tmp_path / "r.csv", replicates=1,
                               progress=False)
    assert "not_written_yet" in summary.unavailable
    assert set(pd.read_csv(tmp_path / "r.csv")["method"]) == {"chapman"}


def test_failure_is_recorded_not_raised():
    def broken(histories, *, level=0.95):
        raise ValueError("no estimate here")

    import estimators

    method = registry.Method("broken", "broken_for_test")
    estimators.broken_for_test = broken
    try:
        h, _ = estimators.simulate.independent_lists(300, (0.3, 0.3), random_seed=1)
        row = registry.run_method(method, h, seed=1)
    finally:
        del estimators.broken_for_test
    assert row["failure"] == "ValueError: no estimate here" and np.isnan(row["estimate"])


def test_metrics_coverage_bias_and_mc_error():
    rows = pd.DataFrame(dict(
        method="m", scenario="s", truth=100.0,
        estimate=[90.0, 110.0, 100.0, np.nan],
        lower_80=[80, 101, 95, np.nan], upper_80=[95, 120, 105, np.nan],
        lower_95=[70, 90, 90, np.nan], upper_95=[np.nan, 130, 110, np.nan],
        seconds=0.1, failure=["", "", "", "ValueError: x"], warnings=["", "w", "", ""],
    ))
    row = report.metrics(rows).iloc[0]
    assert row["failure_rate"] == pytest.approx(0.25)
    assert row["coverage_80"] == pytest.approx(1 / 3)
    assert row["coverage_95"] == pytest.approx(1.0)  # a missing upper bound is unbounded
    assert row["mcse_80"] == pytest.approx(np.sqrt((1 / 3) * (2 / 3) / 3))
    assert row["relative_bias"] == pytest.approx(0.0)
    assert row["relative_rmse"] == pytest.approx(np.sqrt((0.01 + 0.01 + 0) / 3))
    assert row["median_width_95"] == pytest.approx(0.4)


def test_cli_entry_point_lists_methods(capsys):
    assert runner.main(["methods"]) == 0
    assert "chapman" in capsys.readouterr().out


def test_method_beyond_its_list_limit_is_not_run_and_says_why():
    import estimators

    h, _ = estimators.simulate.independent_lists(300, (0.3, 0.3, 0.3), random_seed=2)
    limited = registry.Method("chao_two_lists_max", "chao_lower_bound", max_lists=2)
    row = registry.run_method(limited, h, seed=1)
    assert row["failure"].startswith("NotRunError: not run: 3 lists exceed") and np.isnan(row["estimate"])
    assert registry.run_method(registry.REGISTRY["chao"], h, seed=1)["failure"] == ""


def test_eighty_percent_interval_nests_in_the_ninety_five():
    import estimators

    h, _ = estimators.simulate.independent_lists(1000, (0.3, 0.25, 0.35, 0.3), random_seed=3)
    for name in _available(("loglinear_bic", "mth_darroch", "graphical_bma")):
        row = registry.run_method(registry.REGISTRY[name], h, seed=1)
        assert row["failure"] == ""
        assert row["lower_95"] <= row["lower_80"] <= row["estimate"] <= row["upper_80"] <= row["upper_95"]


def _rows(path):
    import csv

    with open(path, newline="") as handle:
        return list(csv.reader(handle))


@pytest.mark.parametrize("tear", ["mid_row", "line_ending", "short_row", "header"])
def test_resume_cuts_a_torn_last_row_and_never_appends_onto_it(tmp_path, tear):
    out = tmp_path / "r.csv"
    runner.run_suite("quick", ["chapman"], out=out, replicates=1, progress=False)
    complete = out.read_bytes()
    header, *_, last = complete.splitlines(keepends=True)
    kept = complete[: len(complete) - len(last)]
    torn = {
        "mid_row": kept + last[: len(last) // 2],  # an interrupted write: no line ending
        "line_ending": complete[:-1],  # every field there but "\n" missing: the last field may be cut too
        "short_row": kept + b",".join(last.split(b",")[:5]) + b"\r\n",
        "header": header[:20],
    }[tear]
    out.write_bytes(torn)
    again = runner.run_suite("quick", ["chapman"], out=out, replicates=1, progress=False)
    rows = _rows(out)
    assert all(len(row) == len(runner.COLUMNS) for row in rows)
    expected, resumed = pd.read_csv(io.BytesIO(complete)), pd.read_csv(out)
    assert again.rows_written == (len(expected) if tear == "header" else 1)
    assert not resumed.duplicated(["scenario", "replicate", "method"]).any()
    pd.testing.assert_frame_equal(resumed.drop(columns="seconds"), expected.drop(columns="seconds"))


def test_an_interrupted_parallel_run_leaves_no_worker_alive(tmp_path, monkeypatch):
    from joblib.externals.loky import reusable_executor

    workers = []

    def interrupt(value):  # Ctrl-C while the first rows are written, the workers still busy
        workers.extend(process.pid for process in reusable_executor._executor._processes.values())
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "_format", interrupt)
    # the traceback is kept, as an interactive session keeps it (sys.last_traceback): the run's frames, and any
    # generator they hold, stay alive
    with pytest.raises(KeyboardInterrupt) as interrupted:
        runner.run_suite("quick", ["chapman"], jobs=2, out=tmp_path / "r.csv", replicates=4, progress=False)
    assert workers and interrupted.traceback

    def alive(pid):
        try:
            return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
        except FileNotFoundError:
            return False

    assert not [pid for pid in workers if alive(pid)]


def test_calibration_records_appends_rows_under_the_header(tmp_path):
    import pandas as pd

    from benchmarks.calibration_records import _append

    csv = tmp_path / "rows.csv"
    _append(csv, [{"scenario": "a", "estimate": 1.0, "n_records": 10}])
    _append(csv, [{"scenario": "b", "estimate": 2.0, "agree": True}])  # a new column widens the header
    _append(csv, [{"agree": False, "scenario": "c", "estimate": 3.0}])  # columns in another order
    frame = pd.read_csv(csv)
    assert frame["scenario"].tolist() == ["a", "b", "c"] and frame["estimate"].tolist() == [1.0, 2.0, 3.0]
    assert frame["n_records"].iloc[0] == 10 and frame["n_records"].iloc[1:].isna().all()
    assert frame["agree"].iloc[1:].tolist() == [True, False]


def test_rasch_simulator_draws_each_shape_for_four_and_five_lists():
    from benchmarks import calibration_rasch as cr

    rng = np.random.default_rng(0)
    two = cr.capture_effect(rng, 100_000, 1.0, "two_point", lists=5)
    assert two.shape == (100_000, 5) and set(np.unique(two)) == {0.0, 2.0}
    assert abs((two[:, 0] > 0).mean() - 0.3) < 0.01
    three = cr.capture_effect(rng, 100_000, 1.0, "three_point", lists=4)[:, 0]
    assert [round(float(np.mean(three == v)), 2) for v in (2.5, 1.0, 0.0)] == [0.2, 0.3, 0.5]
    loaded = cr.capture_effect(np.random.default_rng(1), 10, 1.0, "loadings", lists=5)
    assert np.allclose(loaded / loaded[:, [1]], cr.LOADINGS)
    deaths, records = cr.simulate(1, 1.0, lists=5)
    assert list(records.columns) == ["A", "B", "C", "D", "E", "day"] and records[list("ABCDE")].sum(1).min() == 1
    # four lists: the stored rows' conflicts, unchanged by the fifth list's option
    assert list(cr.simulate(1, 1.0)[1].columns) == ["A", "B", "C", "D", "day"]
