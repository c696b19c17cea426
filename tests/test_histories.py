import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from estimators import CaptureHistories, DataError, chapman, load_dataset, loglinear, mle_exists, pairwise
from estimators.histories import pattern_index, pattern_matrix


def test_pattern_order_first_list_most_significant():
    matrix = pattern_matrix(3)
    assert matrix[1].tolist() == [0, 0, 1]
    assert matrix[4].tolist() == [1, 0, 0]
    assert (pattern_index(matrix) == np.arange(8)).all()


def test_from_counts_matches_file():
    frame = pd.read_csv(Path_data("Rcapture_HIV.csv"))
    h = CaptureHistories.from_counts(frame)
    assert h.lists == ("c1", "c2", "c3", "c4")
    assert h.n_observed == frame["count"].sum() == 1896
    assert h.list_totals.tolist() == [466, 630, 693, 236]
    assert h.overlaps.loc["c1", "c2"] == 37
    assert h.dense_counts()[0] == 0


def Path_data(name):
    from pathlib import Path

    return Path(__file__).parents[1] / "estimators" / "data" / name


def test_constructors_agree():
    records = pd.DataFrame({"A": [1, 1, 0, 1], "B": [0, 1, 1, 1], "region": ["x", "y", "x", "x"]})
    from_records = CaptureHistories.from_records(records, lists=["A", "B"])
    assert from_records.covariates.keys() == {"region"}
    collapsed = from_records.collapse()
    from_mapping = CaptureHistories.from_mapping({"10": 1, "01": 1, "11": 2}, lists=["A", "B"])
    from_array = CaptureHistories.from_array(np.array([[0, 1], [1, 2]]), lists=["A", "B"])
    assert collapsed == from_mapping == from_array


def test_inputs_not_mutated():
    frame = pd.DataFrame({"A": [1, 0, 1], "B": [0, 1, 1], "count": [5, 4, 3]})
    before = frame.copy()
    array = np.array([np.nan, 4.0, 5.0, 3.0])
    CaptureHistories.from_counts(frame)
    CaptureHistories.from_array(array, lists=["A", "B"])
    pd.testing.assert_frame_equal(frame, before)
    assert np.isnan(array[0])


def test_tables_are_read_only():
    h = load_dataset("LCMCR_kosovo")
    with pytest.raises(ValueError):
        h.counts[0] = 1
    with pytest.raises(AttributeError):
        h.lists = ("x", "y")


@pytest.mark.parametrize(
    "frame, match",
    [
        (pd.DataFrame({"A": [1, 0], "B": [0, 1], "count": [-1, 3]}), "negative"),
        (pd.DataFrame({"A": [1, 0], "B": [0, 1], "count": [1.5, 3]}), "fractional"),
        (pd.DataFrame({"A": [1, 0], "B": [0, 1], "count": [np.nan, 3]}), "NaN"),
        (pd.DataFrame({"A": [1, 0, 0], "B": [0, 1, 0], "count": [1, 3, 2]}), "all-zero pattern 00"),
        (pd.DataFrame({"A": [1, 1], "B": [0, 0], "C": [1, 0], "count": [1, 3]}), "List 'B' has no records"),
        (pd.DataFrame({"A": [1, 2], "B": [0, 1], "count": [1, 3]}), "List column 'A'"),
    ],
)
def test_bad_counts_raise(frame, match):
    with pytest.raises(DataError, match=match):
        CaptureHistories.from_counts(frame, lists=[c for c in frame.columns if c != "count"])


def test_bad_structure_raises():
    frame = pd.DataFrame({"A": [1, 0], "count": [1, 3]})
    with pytest.raises(DataError, match="at least two lists"):
        CaptureHistories.from_counts(frame, lists=["A"])
    with pytest.raises(DataError, match="duplicated"):
        CaptureHistories.from_mapping({"11": 1}, lists=["A", "A"])
    with pytest.raises(DataError, match="Unknown list column"):
        CaptureHistories.from_counts(frame, lists=["A", "Z"])
    with pytest.raises(DataError, match="Count column 'n' not found"):
        CaptureHistories.from_counts(frame, count="n")
    with pytest.raises(DataError, match="none of the lists"):
        CaptureHistories.from_records(pd.DataFrame({"A": [0, 1], "B": [0, 1]}), lists=["A", "B"])


def test_merge_and_drop_lists():
    uk6 = load_dataset("SparseMSE_UKdat")
    uk5 = load_dataset("SparseMSE_UKdat_5")
    merged = uk6.merge_lists({"PFNCA": ["PF", "NCA"]})
    assert merged.lists == uk5.lists
    assert merged == uk5
    dropped = uk6.drop_lists(["NCA"])
    assert dropped.k == 5 and dropped.n_observed <= uk6.n_observed


def test_strata_and_time_bins():
    spina = load_dataset("conting_spina")
    with pytest.warns(UserWarning, match="'other'"):
        strata = spina.strata("eth")
    assert sum(s.n_observed for s in strata.values()) == spina.n_observed
    records = pd.DataFrame(
        {
            "A": [1, 0, 1, 1, 0, 1],
            "B": [0, 1, 1, 1, 1, 1],
            "date": pd.to_datetime(["2017-02-20", "2017-02-21", "2017-02-27", "2017-03-01", "2017-03-02", "2017-03-03"]),
        }
    )
    weekly = CaptureHistories.from_records(records, lists=["A", "B"]).strata("date", freq="W")
    assert [h.n_observed for h in weekly.values()] == [2, 4]


@st.composite
def tables(draw):
    k = draw(st.integers(2, 5))
    counts = draw(st.lists(st.integers(0, 50), min_size=2**k - 1, max_size=2**k - 1))
    singles = [2 ** (k - 1 - j) - 1 for j in range(k)]
    for index in singles:
        counts[index] = max(counts[index], 1)
    return k, counts


@settings(max_examples=50, deadline=None)
@given(tables())
def test_permuting_lists_keeps_totals(table):
    k, counts = table
    h = CaptureHistories.from_array(np.array([0, *counts]), lists=[f"L{j}" for j in range(k)])
    order = list(reversed(h.lists))
    permuted = h.select_lists(order)
    assert permuted.n_observed == h.n_observed
    assert permuted.list_totals[list(h.lists)].tolist() == h.list_totals.tolist()


def test_inferred_lists_name_the_columns_passed_over():
    # a list column with one stray value (2) is not 0/1, so it is not taken as a list: the error must say so
    frame = pd.DataFrame({"A": [2, 0, 1], "B": [0, 1, 1], "count": [1, 4, 2]})
    with pytest.raises(DataError, match=r"Columns \['A'\] hold other values"):
        CaptureHistories.from_counts(frame)


def test_bad_count_is_shown_as_a_plain_number():
    frame = pd.DataFrame({"A": [1, 0], "B": [0, 1], "count": [-3, 4]})
    with pytest.raises(DataError, match=r"negative count at row 0 = -3\.$"):
        CaptureHistories.from_counts(frame)


def test_open_population_tables_warn():
    with pytest.warns(UserWarning, match="closed-population assumption"):
        load_dataset("Rcapture_duck")


def test_split_strata_keeps_a_stratum_that_is_no_table_apart():
    from estimators.histories import FailedStratum

    frame = pd.DataFrame({"A": [1, 0, 1, 1], "B": [0, 1, 1, 0], "week": ["w1", "w1", "w1", "w2"],
                          "number": [1, 1, 1, 2], "count": [5, 4, 3, 2]})
    h = CaptureHistories.from_counts(frame, lists=["A", "B"])
    with pytest.warns(UserWarning, match="Stratum 'w2'"):
        split = h.split_strata("week")
    assert list(split) == ["w1", "w2"] and split["w1"].n_observed == 12
    assert isinstance(split["w2"], FailedStratum) and split["w2"].n_observed == 2
    with pytest.warns(UserWarning, match=r"^Stratum 2: list"):  # integer labels read as written, not np.int64(2)
        h.split_strata("number")
    assert "only list(s) ['A']" in str(split["w2"].error)
    with pytest.raises(DataError, match="Stratum 'w2': only list"), pytest.warns(UserWarning):
        h.strata("week")


LISTS = pd.DataFrame({"A": [1, 0, 1], "B": [0, 1, 1], "count": [30, 20, 10]})


def test_integer_column_names_are_read_as_list_names():
    # pd.DataFrame(array) names its columns 0, 1, ...; they used to be reported as unknown columns '0', '1'
    frame = pd.DataFrame(np.array([[1, 0, 30], [0, 1, 20], [1, 1, 10]]))
    h = CaptureHistories.from_counts(frame, count=2)
    assert h.lists == ("0", "1") and h.n_observed == 60
    records = pd.DataFrame({0: [1, 0, 1], 1: [0, 1, 1]})
    assert CaptureHistories.from_records(records, lists=[0, 1]).n_observed == 3
    assert list(frame.columns) == [0, 1, 2]


def test_repeated_column_names_are_refused_by_name():
    frame = pd.DataFrame([[1, 0, 5], [0, 1, 3], [1, 1, 2]], columns=["A", "A", "count"])
    with pytest.raises(DataError, match=r"\['A'\] occur more than once"):
        CaptureHistories.from_counts(frame)


def test_lists_given_as_index_or_array():
    expected = CaptureHistories.from_counts(LISTS)
    assert CaptureHistories.from_counts(LISTS, lists=LISTS.columns[:2]) == expected
    assert CaptureHistories.from_counts(LISTS, lists=np.array(["A", "B"])) == expected


def test_bad_count_names_the_row_not_a_pattern():
    frame = LISTS.set_axis([10, 20, 30]).assign(count=[30, np.nan, 10])
    with pytest.raises(DataError, match=r"missing \(NaN\) count at row 20 = nan"):
        CaptureHistories.from_counts(frame)
    with pytest.raises(DataError, match="negative count at pattern 01 = -2"):
        CaptureHistories.from_mapping({"10": 3, "01": -2})


def test_positive_all_zero_rows_are_named():
    frame = pd.concat([LISTS, pd.DataFrame({"A": [0], "B": [0], "count": [5]}, index=[7])])
    with pytest.raises(DataError, match=r"all-zero pattern 00 .* count 5 in row\(s\) \[7\]"):
        CaptureHistories.from_counts(frame)


def test_input_forms_give_the_same_results():
    # Whole-number floats, bool or '0'/'1' list columns, split duplicate rows and explicit zero rows all build
    # the same table, so every estimator must return the same numbers.
    h = load_dataset("Rcapture_HIV")
    frame = h.to_frame(dense=True)
    forms = {"floats": frame.assign(count=frame["count"].astype(float))}
    forms["bools"] = frame.astype({name: bool for name in h.lists})
    forms["strings"] = frame.astype({name: str for name in h.lists})
    half = frame["count"] // 2
    forms["duplicates"] = pd.concat([frame.assign(count=half), frame.assign(count=frame["count"] - half)])
    forms["zero row"] = pd.concat([frame, frame.head(1).assign(count=0)])

    def numbers(histories):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return (
                loglinear(histories).interval,
                chapman(histories, ("c1", "c2")).interval,
                tuple(pairwise(histories)["estimate"]),
                bool(mle_exists(histories, "[12,13,23,4]")),
            )

    expected = numbers(h)
    for name, form in forms.items():
        assert numbers(CaptureHistories.from_counts(form, lists=list(h.lists))) == expected, name
