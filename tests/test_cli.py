from estimators.cli import main


def test_datasets_lists_shipped_tables(capsys):
    assert main(["datasets"]) == 0
    assert "LCMCR_kosovo" in capsys.readouterr().out


def test_unknown_dataset_is_a_clear_error(capsys):
    assert main(["estimate", "no_such_table"]) == 2
    assert "Unknown dataset 'no_such_table'" in capsys.readouterr().err


def test_estimate_prints_summary_and_rate(capsys):
    assert main(["estimate", "CARE1_HAV", "--method", "loglinear", "--days", "120", "--population", "3000"]) == 0
    out = capsys.readouterr().out
    assert "Population size" in out and "deaths per 10,000 per day" in out


def test_random_seed_reaches_every_seeded_method(capsys):
    # sample_coverage bootstraps its standard error: the same --random-seed must print the same interval
    arguments = ["estimate", "CARE1_HAV", "--method", "sample_coverage", "--random-seed", "7"]
    assert main(arguments) == 0
    first = capsys.readouterr().out
    assert main(arguments) == 0
    assert capsys.readouterr().out == first
    assert main(["estimate", "CARE1_HAV", "--method", "sample_coverage", "--random-seed", "8"]) == 0
    assert capsys.readouterr().out != first


# ---------------------------------------------------------------------------------------------------------------
# The command line does the job a user has (issue 13, item 5): records, two of k lists, strata, surveys, daily
# rates, errors that name flags, a quiet broken pipe, and help that shows every subcommand.
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from estimators import _registry


@pytest.fixture
def people(tmp_path):
    """One row per person: three 0/1 list columns, a date of death and a region (covariates)."""
    rng = np.random.default_rng(3)
    capture = rng.random((500, 3)) < [0.4, 0.45, 0.35]
    frame = pd.DataFrame(capture.astype(int), columns=["A", "B", "C"])
    frame["date"] = pd.date_range("2024-01-01", periods=90)[rng.integers(0, 90, 500)].strftime("%Y-%m-%d")
    frame["region"] = rng.choice(["north", "south"], 500)
    path = tmp_path / "people.csv"
    frame[capture.any(axis=1)].to_csv(path, index=False)
    return path


def test_estimate_from_records(people, capsys):
    assert main(["estimate", str(people), "--records", "--lists", "A,B,C", "--method", "loglinear"]) == 0
    out = capsys.readouterr().out
    assert "Population size" in out and "lists                            3" in out


def test_records_need_lists(people, capsys):
    assert main(["estimate", str(people), "--records"]) == 2
    assert "--records needs --lists" in capsys.readouterr().err


def test_chapman_on_two_of_k_lists(people, capsys):
    assert main(["estimate", str(people), "--records", "--lists", "A,B,C", "--method", "chapman",
                 "--pair", "A,C"]) == 0
    out = capsys.readouterr().out
    assert "Chapman" in out and "A & C" in out
    # without --pair the command says which flag picks the two lists
    assert main(["estimate", str(people), "--records", "--lists", "A,B,C", "--method", "chapman"]) == 2
    assert "--pair" in capsys.readouterr().err
    # --lists naming two of three: records on the third only are on none of them; the message points to --pair
    assert main(["estimate", str(people), "--records", "--lists", "A,B", "--method", "chapman"]) == 2
    assert "add --pair A,B" in capsys.readouterr().err


def test_estimate_by_stratum_prints_table_and_writes_csv(people, tmp_path, capsys):
    table = tmp_path / "strata.csv"
    assert main(["estimate", str(people), "--records", "--lists", "A,B,C", "--method", "chapman", "--pair", "A,B",
                 "--by", "date", "--freq", "M", "--out-csv", str(table)]) == 0
    out = capsys.readouterr().out
    assert "Estimates by stratum: chapman" in out
    assert "2024-01-01" in out and "2024-03-01" in out and "total over 3 strata" in out
    assert len(pd.read_csv(table)) == 3
    assert main(["estimate", str(people), "--records", "--lists", "A,B,C", "--by", "region"]) == 0
    out = capsys.readouterr().out
    assert "north" in out and "south" in out


@pytest.fixture
def households(tmp_path):
    from estimators.survey import load_smart_example

    path = tmp_path / "households.csv"
    load_smart_example().to_csv(path, index=False)
    return path


def test_survey_rate(households, tmp_path, capsys):
    row = tmp_path / "survey.csv"
    assert main(["survey", str(households), "--recall-days", "90", "--recall-start", "2024-01-01",
                 "--cause", "violent_deaths", "--out-csv", str(row)]) == 0
    out = capsys.readouterr().out
    assert "crude death rate" in out and "violent_deaths" in out
    written = pd.read_csv(row)
    assert list(written[["start_day", "end_day"]].iloc[0]) == ["2024-01-01", "2024-03-30"]
    assert written["deaths"].iloc[0] > 0 and written["person_days"].iloc[0] > 0


def test_errors_name_the_flag_not_the_keyword(households, capsys):
    assert main(["estimate", "CARE1_HAV", "--level", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("undercount: error: --level") and "`level`" not in err
    assert main(["survey", str(households), "--recall-days", "-3"]) == 2
    err = capsys.readouterr().err
    assert "--recall-days" in err and "recall_days" not in err
    assert main(["survey", str(households), "--recall-days", "90", "--cluster", "psu"]) == 2
    assert capsys.readouterr().err.startswith("undercount: error: ")
    assert main(["estimate", "missing.csv", "--records", "--lists", "A,B"]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.fixture
def daily_files(tmp_path):
    """The three sources of `undercount daily`: matched lists with a day column, a tally, a survey row."""
    rng = np.random.default_rng(5)
    capture = rng.random((400, 3)) < [0.4, 0.45, 0.35]
    lists = pd.DataFrame(capture.astype(int), columns=["A", "B", "C"])
    lists["day"] = pd.date_range("2024-01-01", periods=60)[rng.integers(0, 60, 400)].strftime("%Y-%m-%d")
    lists[capture.any(axis=1)].to_csv(tmp_path / "lists.csv", index=False)
    pd.DataFrame({"name": ["morgue", "morgue"], "count": [50, 40], "start_day": ["2024-01-01", "2024-01-31"],
                  "end_day": ["2024-01-30", "2024-02-29"]}).to_csv(tmp_path / "tally.csv", index=False)
    pd.DataFrame({"name": ["smart"], "deaths": [30], "person_days": [5e5], "design_effect": [1.5],
                  "start_day": ["2024-01-01"], "end_day": ["2024-02-29"]}).to_csv(tmp_path / "survey.csv",
                                                                                  index=False)
    return tmp_path


def _daily_arguments(folder, *extra):
    return ["daily", "--lists", str(folder / "lists.csv"), "--tally", str(folder / "tally.csv"),
            "--survey", str(folder / "survey.csv"), "--start", "2024-01-01", "--days", "60",
            "--population", "450000,550000", "--out-csv", str(folder / "daily.csv"),
            "--plot", str(folder / "daily.png"), *extra]


def test_daily_reads_files_into_the_model_inputs(daily_files, monkeypatch, capsys):
    # fast: daily_rates is replaced by a stand-in that records what the command passed (the real fit is the slow
    # test below)
    import estimators

    seen = {}

    def fake_daily_rates(**options):
        seen.update(options)
        table = pd.DataFrame({"day": [0, 1], "median": [7.0, 8.0], "lower": [6.0, 7.0], "upper": [8.0, 9.0]})
        return SimpleNamespace(summary=lambda: "Daily death rates (stand-in)", daily=table,
                               plot=lambda ax: ax.plot(table["day"], table["median"]))

    monkeypatch.setattr(estimators, "daily_rates", fake_daily_rates)
    assert main(_daily_arguments(daily_files, "--draws", "50")) == 0
    assert "Daily death rates (stand-in)" in capsys.readouterr().out
    assert seen["population"] == (450000.0, 550000.0) and seen["days"] == 60 and seen["draws"] == 50
    assert list(seen["lists"].columns) == ["A", "B", "C", "day"]
    assert seen["tallies"] == [estimators.Tally("morgue", 50, "2024-01-01", "2024-01-30"),
                               estimators.Tally("morgue", 40, "2024-01-31", "2024-02-29")]
    assert seen["surveys"] == [estimators.SurveyObservation(30, 5e5, 1.5, "2024-01-01", "2024-02-29", "smart")]
    assert len(pd.read_csv(daily_files / "daily.csv")) == 2
    assert (daily_files / "daily.png").stat().st_size > 0


def test_daily_survey_file_needs_person_days(daily_files, capsys):
    pd.DataFrame({"rate": [1.2]}).to_csv(daily_files / "survey.csv", index=False)
    assert main(_daily_arguments(daily_files)) == 2
    assert "--survey" in capsys.readouterr().err


@pytest.mark.slow
def test_daily_fits_and_writes_table_and_plot(daily_files, capsys):
    # the real model, compiled once, with tiny draws: the summary, the daily CSV and the plot come out
    assert main(_daily_arguments(daily_files, "--draws", "50", "--tune", "50", "--chains", "1", "--cores", "1",
                                 "--prior-draws", "20", "--random-seed", "1")) == 0
    out = capsys.readouterr().out
    assert "Daily death rates" in out and "total deaths" in out
    daily = pd.read_csv(daily_files / "daily.csv")
    assert len(daily) == 60 and {"median", "lower", "upper"} <= set(daily.columns)
    assert (daily_files / "daily.png").stat().st_size > 0


def test_broken_pipe_exits_quietly():
    # `undercount datasets | head`: the reader closes the pipe before the listing is written
    process = subprocess.Popen([sys.executable, "-m", "estimators.cli", "datasets"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    process.stdout.close()
    _, err = process.communicate(timeout=120)
    assert b"Traceback" not in err and b"BrokenPipeError" not in err, err.decode()


def test_help_lists_every_subcommand_with_an_example(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("estimate", "recommend", "survey", "daily", "datasets", "benchmark"):
        assert f"undercount {command}" in out, command


def test_cli_methods_come_from_the_registry():
    import estimators
    from estimators.cli import build_parser

    estimate = build_parser()._subparsers._group_actions[0].choices["estimate"]
    method = next(action for action in estimate._actions if action.dest == "method")
    assert list(method.choices) == [entry.cli for entry in _registry.ESTIMATORS
                                    if entry.per_stratum or entry.joint_strata]
    # the registry is the list estimators exports (tests/test_public_api.py checks the rest)
    assert set(_registry.PUBLIC) <= set(estimators.__all__)
    for entry in _registry.ESTIMATORS:
        assert callable(entry.load()), entry.name


def test_registry_covers_the_benchmarks_methods():
    # benchmarks/methods.py calls estimators by public name: each must be a registered per-stratum estimator, or
    # the recommended analysis (which runs several of them)
    pytest.importorskip("benchmarks.methods")
    from benchmarks.methods import REGISTRY

    for method in REGISTRY.values():
        if method.function == "estimate":
            assert "estimate" in _registry.PUBLIC
            continue
        assert _registry.BY_NAME[method.function].per_stratum, method.name


def test_benchmark_does_not_touch_sys_path(monkeypatch):
    import estimators.cli as cli

    calls = []
    monkeypatch.setattr(subprocess, "call", lambda command, cwd: calls.append((command, cwd)) or 0)
    before = list(sys.path)
    assert cli.main(["benchmark", "list"]) == 0
    assert sys.path == before
    assert calls[0][0][1:3] == ["-m", "benchmarks"] and (calls[0][1] / "benchmarks").is_dir()


def test_recommend_with_covariates_writes_the_sensitivity_table(people, tmp_path, capsys):
    import estimators

    out_csv = tmp_path / "sensitivity.csv"
    argv = ["recommend", str(people), "--records", "--lists", "A,B,C", "--covariates", "region", "--methods",
            "loglinear,graphical_bma", "--random-seed", "1", "--out-csv", str(out_csv)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Recommended estimate of N" in out and "covariates=['region']" in out
    table = pd.read_csv(out_csv)
    assert table["method"].iloc[0] == "recommended" and "graphical_bma" in set(table["method"])
    frame = pd.read_csv(people)
    h = estimators.CaptureHistories.from_records(frame, ["A", "B", "C"])
    direct = estimators.estimate(h, covariates=["region"], methods=["loglinear", "graphical_bma"], random_seed=1)
    assert table["estimate"].iloc[0] == pytest.approx(direct.estimate)
    assert main(["recommend", str(people), "--records", "--lists", "A,B,C", "--covariates", "province"]) == 2
    assert "Unknown covariate" in capsys.readouterr().err
