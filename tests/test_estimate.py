"""estimators.estimate: the recommended analysis, its sensitivity table, refusals, disagreement and bad input."""

import json
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

import estimators
from estimators import (
    CaptureHistories,
    DataError,
    IdentifiabilityWarning,
    NonexistentEstimateError,
    Recommendation,
    estimate,
    load_dataset,
)
from estimators.simulate import independent_lists, latent_class_lists, two_class_heterogeneity

FAST = ["loglinear", "graphical_bma", "sample_coverage", "chao_lower_bound"]
COLUMNS = ["method", "role", "status", "estimate", "lower", "upper", "ratio", "overlaps_primary", "assumption", "note",
           "convergence"]


def _quiet(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimate(*args, **kwargs)


@pytest.mark.parametrize("name", ["LCMCR_kosovo", "dga_MY1997_3list", "CARE1_HAV"])
def test_answers_with_a_sensitivity_table(name):
    h = load_dataset(name)
    result = _quiet(h, methods=FAST, random_seed=1)
    assert isinstance(result, Recommendation)
    assert result.method == "loglinear(select='average')"
    table = result.sensitivity
    assert table.columns.tolist() == COLUMNS
    assert table["role"].iloc[0] == "primary" and table["ratio"].iloc[0] == 1.0
    assert {"sample_coverage", "chao_lower_bound"} <= set(table["method"])
    assert h.n_observed <= result.interval[0] <= result.estimate <= result.interval[1]
    assert result.estimate == result.fits["loglinear(select='average')"].estimate
    assert "benchmarks/results/average.md" in result.reason
    assert result.spread >= 1


def test_agreeing_methods_keep_the_primary_interval():
    result = _quiet(load_dataset("LCMCR_kosovo"), methods=FAST, random_seed=1)
    assert result.agree and result.disagreement is None
    assert result.interval == result.details["primary_interval"]
    assert table_row(result, "graphical_bma")["overlaps_primary"]


def table_row(result, method):
    return result.sensitivity.set_index("method").loc[method]


def test_refusal_is_recorded_and_graphical_bma_runs_without_the_saturated_graph():
    # CARE1_HAV: graphical_bma's default refuses (the saturated graph's tail); the analysis goes on
    result = _quiet(load_dataset("CARE1_HAV"), methods=FAST, random_seed=1)
    refused = table_row(result, "graphical_bma")
    assert refused["status"] == "refused" and refused["role"] == "refused"
    assert "saturated graph" in refused["note"] and np.isnan(refused["estimate"])
    rerun = table_row(result, "graphical_bma(exclude_saturated=True)")
    assert rerun["status"] == "ok" and rerun["role"] == "alternative"
    assert result.fits["graphical_bma(exclude_saturated=True)"].details["exclude_saturated"] is True


def test_primary_refusal_falls_back_with_a_warning():
    # lists A and B never overlap and C meets each only once: no hierarchical model with the needed
    # interactions has an MLE, so loglinear may refuse; whatever refuses is recorded and an answer is returned
    h = CaptureHistories.from_mapping({"100": 40, "010": 35, "001": 30, "101": 6, "011": 5}, lists=["A", "B", "C"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = estimate(h, methods=["loglinear", "graphical_bma"], random_seed=1)
        except NonexistentEstimateError as error:  # a clear refusal naming every method
            assert "loglinear" in str(error) and "graphical_bma" in str(error)
            return
    statuses = dict(zip(result.sensitivity["method"], result.sensitivity["status"]))
    assert result.sensitivity["role"].tolist().count("primary") == 1
    assert statuses[result.method] in ("ok", "warning")


def test_disagreement_widens_to_the_union_and_warns():
    # two visibility classes (Manrique-Vallier 2016): the log-linear average is far too high, graphical_bma not
    h = two_class_heterogeneity(random_seed=2).histories
    with pytest.warns(IdentifiabilityWarning, match="disagree beyond their 95% intervals"):
        result = estimate(h, methods=["loglinear", "graphical_bma"], random_seed=1)
    assert not result.agree
    other = table_row(result, "graphical_bma")
    assert other["overlaps_primary"] is False or not other["overlaps_primary"]
    primary = result.details["primary_interval"]
    assert result.interval == (min(primary[0], other["lower"]), max(primary[1], other["upper"]))
    assert "list interactions" in result.disagreement and "decomposable" in result.disagreement
    assert "DISAGREE" in repr(result)
    assert result.disagreement in result.warnings


def test_chao_floor_above_the_primary_is_a_disagreement():
    # the floor check alone: a primary whose interval lies below Chao's lower bound's interval
    frame = load_dataset("LCMCR_kosovo").to_frame()
    h = CaptureHistories.from_counts(frame)
    result = _quiet(h, methods=["loglinear", "chao_lower_bound"], random_seed=1)
    floor = table_row(result, "chao_lower_bound")
    assert result.agree == (result.details["primary_interval"][1] >= floor["lower"])


def test_outputs_summary_frame_html_pickle():
    result = _quiet(load_dataset("dga_MY1997_3list"), methods=FAST, random_seed=1)
    text = str(result.summary())
    assert "Recommended estimate of N" in text and "chao_lower_bound" in text and "floor" in text
    assert repr(result).startswith("<Recommendation loglinear(select='average'): N = ")
    assert "\n" not in repr(result)
    assert "<table" in result._repr_html_()
    frame = result.to_frame()
    assert frame["method"].iloc[0] == "recommended" and len(frame) == len(result.sensitivity) + 1
    again = pickle.loads(pickle.dumps(result))
    assert again.estimate == result.estimate and again.sensitivity.equals(result.sensitivity)
    with pytest.raises(AttributeError):
        result.estimate = 1.0


def test_records_dataframe_and_lists():
    h = load_dataset("dga_MY1997_3list")
    dense = h.to_frame()
    records = dense.loc[dense.index.repeat(dense["count"])].drop(columns="count").reset_index(drop=True)
    from_records = _quiet(records, lists=list(h.lists), methods=["loglinear"], random_seed=1)
    from_histories = _quiet(h, methods=["loglinear"], random_seed=1)
    assert from_records.estimate == pytest.approx(from_histories.estimate)
    two = _quiet(load_dataset("LCMCR_kosovo"), lists=["EXH", "ABA", "OSCE"], methods=["loglinear"])
    assert two.n_observed < load_dataset("LCMCR_kosovo").n_observed


def test_bad_input():
    h = load_dataset("dga_MY1997_3list")
    with pytest.raises(DataError, match="lists"):
        estimate(h.to_frame())
    with pytest.raises(DataError, match="CaptureHistories"):
        estimate([1, 2, 3])
    with pytest.raises(ValueError, match="methods"):
        estimate(h, methods=["loglinear", "no_such_method"])
    with pytest.raises(ValueError, match="at least one of"):
        estimate(h, methods=["chao_lower_bound"])
    with pytest.raises(ValueError, match="level"):
        estimate(h, level=1.5)
    with pytest.raises(ValueError, match="methods"):
        estimate(h, methods="loglinear")


def test_registered_and_light():
    assert estimators.estimate is estimate and "estimate" in estimators.__all__
    code = ("import json, sys, warnings; warnings.simplefilter('ignore'); import estimators; "
            "estimators.estimate(estimators.load_dataset('CARE1_HAV'), random_seed=1, "
            "methods=['loglinear', 'graphical_bma', 'chao_lower_bound']); "
            "print(json.dumps([m for m in ('pymc', 'pytensor', 'nutpie') if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


@pytest.mark.slow
@pytest.mark.parametrize("name", ["LCMCR_kosovo", "dga_MY1997_3list", "CARE1_HAV"])
def test_default_run_includes_latent_class(name):
    result = _quiet(load_dataset(name), random_seed=1)
    row = table_row(result, "latent_class")
    assert row["status"] in ("ok", "warning") and row["role"] == "alternative"
    # latent_class's own defaults: its run is extended until R-hat and ESS of N pass, and the table says how it ended
    settings = result.details["latent_class_settings"]
    assert settings["chains"] == 4 and settings["max_sweeps"] == 320_000 and settings["stopped"] in row["convergence"]
    assert (row["status"] == "ok") == (settings["stopped"] == "targets met")


@pytest.mark.slow
def test_default_run_disagrees_under_heterogeneity():
    h = two_class_heterogeneity(random_seed=1).histories
    with pytest.warns(IdentifiabilityWarning, match="individual heterogeneity"):
        result = estimate(h, random_seed=1)
    assert not result.agree and result.interval[0] <= table_row(result, "latent_class")["lower"]


def test_latent_class_skipped_when_costly():
    frame = load_dataset("LCMCR_kosovo").to_frame()
    frame["count"] = frame["count"] * 30  # 132,000 records x 4 lists
    result = _quiet(CaptureHistories.from_counts(frame), methods=None, random_seed=1)
    row = table_row(result, "latent_class")
    assert row["status"] == "skipped" and "methods=" in row["note"]


class _Stub:
    """A registry entry whose load() gives a stand-in latent_class with a fixed answer (keeps the test fast)."""

    def __init__(self, value, interval):
        self.value, self.interval = value, interval

    def load(self):
        def latent_class(h, **kwargs):
            from types import SimpleNamespace

            return SimpleNamespace(estimate=self.value, interval=self.interval, n_observed=h.n_observed)

        return latent_class


@pytest.mark.parametrize("below", [True, False])
def test_heterogeneity_check_makes_latent_class_the_primary(monkeypatch, below):
    # two visibility classes (Manrique-Vallier 2016, N = 2,000): the log-linear average overestimates several-fold;
    # when latent_class's interval and graphical_bma's estimate lie below its interval, latent_class is the primary
    from estimators import _registry

    h = two_class_heterogeneity(random_seed=2).histories
    stub = _Stub(1900.0, (1550.0, 2450.0)) if below else _Stub(9000.0, (1550.0, 40000.0))
    monkeypatch.setitem(_registry.BY_NAME, "latent_class", stub)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = estimate(h, methods=["loglinear", "graphical_bma", "latent_class"], random_seed=1)
    texts = [str(w.message) for w in caught if issubclass(w.category, IdentifiabilityWarning)]
    loglinear = table_row(result, "loglinear(select='average')")
    other = table_row(result, "graphical_bma")
    assert result.details["heterogeneity_check"] is below
    if below:
        assert loglinear["lower"] > 2450 and other["estimate"] < loglinear["lower"]
        assert result.method == "latent_class" and result.estimate == 1900.0 and not result.agree
        assert loglinear["role"] == "alternative" and table_row(result, "latent_class")["role"] == "primary"
        # the union of graphical_bma's and latent_class's intervals, without the rejected log-linear one
        assert result.interval == (min(1550.0, other["lower"]), max(2450.0, other["upper"]))
        assert any(t.startswith("Heterogeneity check") for t in texts)
        assert "heterogeneity check" in result.reason
    else:
        assert result.method == "loglinear(select='average')"
        assert not any(t.startswith("Heterogeneity check") for t in texts)


def test_graphical_limit_is_graphical_bmas_own():
    from estimators._graphical._graphs import MAX_SAMPLED_LISTS
    from estimators._recommend import MAX_GRAPHICAL_LISTS

    assert MAX_GRAPHICAL_LISTS == MAX_SAMPLED_LISTS


def test_eight_lists_answer_with_graphical_bma_sampled_by_mc3():
    # beyond 6 lists graphical_bma samples the graphs (MC3) instead of being skipped; BIC stays the primary
    h = independent_lists(1000, [0.25] * 8, random_seed=2).histories
    result = _quiet(h, methods=FAST, random_seed=1)
    assert result.method == "loglinear(select='bic')"
    assert result.sensitivity["method"].tolist() == ["loglinear(select='bic')", "graphical_bma", "sample_coverage",
                                                     "chao_lower_bound"]
    row = table_row(result, "graphical_bma")
    assert row["role"] == "alternative" and row["status"] == "ok" and row["convergence"].startswith("MC3 R-hat")
    assert result.fits["graphical_bma"].details["method"] == "mc3"
    assert h.n_observed <= result.interval[0] <= result.estimate <= result.interval[1]
    assert result.interval[0] <= 1000 <= result.interval[1]
    assert table_row(result, "loglinear(select='bic')")["convergence"] == ""


@pytest.mark.slow
def test_eight_lists_default_run_reports_latent_class_run():
    # hidden heterogeneity on 8 lists (N = 2,000): every alternative runs and the table says how latent_class ended
    h = latent_class_lists(2000, [0.6, 0.4], [[0.15] * 8, [0.4] * 8], random_seed=3).histories
    result = _quiet(h, random_seed=1)
    assert result.sensitivity["method"].tolist() == ["loglinear(select='bic')", "graphical_bma", "latent_class",
                                                     "sample_coverage", "chao_lower_bound"]
    row = table_row(result, "latent_class")
    assert row["status"] in ("ok", "warning") and row["convergence"].startswith("R-hat")
    assert result.details["latent_class_settings"]["stopped"] in row["convergence"]
    assert result.interval[0] <= result.estimate <= result.interval[1]


def test_more_lists_than_graphical_bma_samples_are_skipped_with_the_reason(monkeypatch):
    from estimators import _recommend

    # the limit lowered, so that a small table shows the skip without fitting 13 lists
    monkeypatch.setattr(_recommend, "MAX_GRAPHICAL_LISTS", 3)
    result = _quiet(load_dataset("LCMCR_kosovo"), methods=["loglinear", "graphical_bma"], random_seed=1)
    row = table_row(result, "graphical_bma")
    assert row["status"] == "skipped" and "at most 3" in row["note"]
