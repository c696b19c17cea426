"""benchmarks/calibration_grid.py: every cell simulates and prepares without fitting, the late list's window is the
one the simulation used, and the cells the lists cannot identify are those with C hidden classes and < 2C lists."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import calibration_grid as grid  # noqa: E402
from estimators._daily import prepare_data  # noqa: E402
from estimators._daily._inputs import fewest_lists  # noqa: E402
from estimators.simulate import simulate_conflict  # noqa: E402


def test_every_cell_prepares_and_marks_identification():
    cells = grid.cells()
    assert len(cells) == 24 and {c["k"] for c in cells.values()} == {3, 4}
    for name, spec in cells.items():
        sim = simulate_conflict(grid.DAYS, random_seed=grid.SEED, **spec["simulate"])
        # a window that missed the late list's records before its start would raise DataError here
        data = prepare_data(days=grid.DAYS, lists=sim.lists, surveys=[sim.survey, *sim.more_surveys],
                            tallies=list(sim.tallies), population=grid.POPULATION,
                            list_windows=spec["list_windows"])
        assert data.k == spec["k"]
        if spec["factor"] == "surveys_dated":
            assert len(data.survey_deaths) == 2 and data.survey_day_counts.sum() > 0
        lists_per_day = data.list_present().sum(1)
        if spec["list_windows"]:
            assert (lists_per_day[: grid.LATE_DAY] == spec["k"] - 1).all()
            assert (lists_per_day[grid.LATE_DAY :] == spec["k"]).all()
        else:
            assert (lists_per_day == spec["k"]).all()
        # two hidden classes need four lists on every day, three need six
        classes = {"heterogeneous_2": 2, "heterogeneous_3": 3, "all": 2}.get(spec["factor"], 1)
        unidentified = fewest_lists(data) < 2 * classes
        assert unidentified == (name in {"heterogeneous_2_k3", "heterogeneous_3_k3", "heterogeneous_3_k4", "all_k3",
                                         "all_k4"})
        assert grid.identified(spec) == (not unidentified)


def test_defaults_follow_daily_rates_signature_with_the_grid_sampler():
    options = grid._defaults()
    assert options["capture_classes"] == "auto" and options["time_varying_capture"] == "auto"
    assert (options["draws"], options["tune"], options["chains"]) == (500, 500, 2)
    assert np.isclose(options["level"], 0.95)


def test_rows_whose_capture_walk_stepped_daily_are_labelled_so():
    import pandas as pd

    note = f"IdentifiabilityWarning: {grid.DRIFT_NOTE} change over the"
    frame = pd.DataFrame({
        "analysis": ["auto", "auto", "auto", "one_class"],
        "warnings": [note, "", note, note],
        # before the weekly capture walk (the kernels' first commit), before, and the commit itself
        "version": [f"{grid.KERNELS_SINCE}+0", f"{grid.KERNELS_SINCE}+0", f"{grid.WEEKLY_CAPTURE_SINCE}+0",
                    f"{grid.KERNELS_SINCE}+0"],
    })
    assert grid.labels(frame).tolist() == ["auto_daily_capture_walk", "auto", "auto", "one_class"]


def test_auto_rows_that_fitted_two_classes_where_a_survey_could_weigh_three_are_labelled_so():
    import pandas as pd

    two = f"IdentifiabilityWarning: {grid.FIRED_TWO_NOTE} (every death equally likely"
    three = "IdentifiabilityWarning: capture_classes='auto' fitted three capture classes: with one class (every"
    frame = pd.DataFrame({"analysis": ["auto", "auto", "capture_classes_2", "auto"],
                          "warnings": [two, three, two, ""], "version": [f"{grid.WEEKLY_CAPTURE_SINCE}+0"] * 4})
    assert grid.labels(frame).tolist() == ["auto_fired_two_classes", "auto", "capture_classes_2", "auto"]
