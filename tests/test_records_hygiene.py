"""Record hygiene (issue 15): duplicates, identifiers kept as covariates, every bad row named, yes/no membership,
records with no date (or a coarse one) in strata, and lists that cover only part of the study."""

import inspect
import warnings

import numpy as np
import pandas as pd
import pytest

from estimators import CaptureHistories, DataError, Estimate
from estimators._validation import InvalidParameterError
from estimators.histories import list_coverage_gaps
from estimators.strata import estimate_strata


def people(n=60, seed=0):
    """Person records with a name: the other columns tell every record apart."""
    rng = np.random.default_rng(seed)
    on = rng.random((n, 3)) < [0.5, 0.5, 0.5]
    on[~on.any(axis=1), 0] = True
    frame = pd.DataFrame(on.astype(int), columns=["A", "B", "C"])
    frame["name"] = [f"person {i}" for i in range(n)]
    frame["region"] = rng.choice(["north", "south"], n)
    return frame


def no_warnings(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [str(w.message) for w in caught]


def count_method(h, level=0.95):
    """A cheap 'estimator': the observed count, so a strata fit takes no time."""
    return Estimate(estimate=float(h.n_observed), interval=(h.n_observed, h.n_observed * 1.5), level=level,
                    method="count", n_observed=h.n_observed)


# ------------------------------------------------------------------------------------------------ A1 duplicates
def test_exact_duplicate_rows_are_reported_with_their_count_and_rows_and_kept():
    frame = people()
    frame = pd.concat([frame, frame.iloc[[3, 7, 7]]], ignore_index=True)
    before = frame.copy()
    with pytest.warns(UserWarning, match=r"3 rows are exact duplicates of another row \(rows 60, 61, 62\).*"
                                         r"drop_duplicates\(\)") as record:
        h = CaptureHistories.from_records(frame, ["A", "B", "C"], covariates=["region"])
    assert h.n_observed == len(frame)  # never dropped silently: each row still counts
    pd.testing.assert_frame_equal(frame, before)
    assert len([w for w in record if "duplicate" in str(w.message)]) == 1


def test_repeated_rows_of_coarse_records_are_not_reported():
    # lists and a region only: two people share a row by chance, so a repeat is no evidence of double listing
    frame = people().drop(columns="name")
    _, messages = no_warnings(lambda: CaptureHistories.from_records(frame, ["A", "B", "C"]))
    assert not any("duplicate" in m for m in messages)


# ------------------------------------------------------------------------------------------------ A2 identifiers
def test_an_identifier_column_is_named_with_its_distinct_values_and_how_to_leave_it_out():
    frame = people(n=120)
    frame["record_id"] = np.arange(1000, 1000 + len(frame))
    with pytest.warns(UserWarning) as record:
        h = CaptureHistories.from_records(frame, ["A", "B", "C"])
    messages = [str(w.message) for w in record]
    assert any("'name' has 120 distinct values in 120 rows" in m and "covariates=" in m for m in messages)
    assert any("'record_id' has 120 distinct values" in m and "frame.drop(columns=['record_id'])" in m
               for m in messages)
    # a few dozen records on distinct days: day numbers, not identifiers
    days = people(n=40).drop(columns="name").assign(day=np.arange(40) * 3)
    _, messages = no_warnings(lambda: CaptureHistories.from_records(days, ["A", "B", "C"]))
    assert not any("identifier" in m for m in messages)
    assert "name" in h.covariates  # kept, as asked, but named
    h, messages = no_warnings(lambda: CaptureHistories.from_records(frame, ["A", "B", "C"], covariates=["region"]))
    assert list(h.covariates) == ["region"] and not any("identifier" in m for m in messages)


def test_covariates_must_name_columns_of_the_frame():
    with pytest.raises(DataError, match=r"Unknown covariate column\(s\) \['regoin'\]"):
        CaptureHistories.from_records(people(), ["A", "B", "C"], covariates=["regoin"])


# ------------------------------------------------------------------------------------------------ A3 bad rows
def test_every_bad_membership_row_is_named_up_to_twenty_with_the_count():
    frame = people(n=80).drop(columns="name")
    frame["B"] = frame["B"].astype(object)
    bad = list(range(5, 80, 3))  # 25 rows
    frame.loc[bad, "B"] = 2
    with pytest.raises(DataError) as error:
        CaptureHistories.from_records(frame, ["A", "B", "C"])
    message = str(error.value)
    assert "25 rows hold other values" in message
    assert "rows " + ", ".join(str(r) for r in bad[:20]) + ", ... (25 rows in all)" in message


def test_every_record_on_no_list_is_named():
    frame = pd.DataFrame({"A": [1, 0, 1, 0], "B": [0, 0, 1, 0]})
    with pytest.raises(DataError, match=r"2 record\(s\) are on none of the lists.*rows 1, 3"):
        CaptureHistories.from_records(frame, ["A", "B"])


# ------------------------------------------------------------------------------------------------ A4 yes/no
def test_text_membership_is_refused_naming_the_column_the_values_and_the_option():
    frame = pd.DataFrame({"A": ["yes", "no", "yes"], "B": [1, 1, 0]})
    with pytest.raises(DataError, match=r"'A'.*rows 0, 1, 2.*'yes', 'no'.*membership=\{'yes': 1, 'no': 0\}"):
        CaptureHistories.from_records(frame, ["A", "B"])


def test_membership_maps_text_to_zero_one_without_touching_the_frame():
    frame = pd.DataFrame({"A": ["yes", "no", "Y", "N"], "B": ["N", "Y", "Y", "yes"], "C": [1, 0, 1, 0]})
    before = frame.copy()
    h = CaptureHistories.from_records(frame, ["A", "B", "C"],
                                      membership={"yes": 1, "no": 0, "Y": 1, "N": 0})
    assert h.list_totals.tolist() == [2, 3, 2]
    pd.testing.assert_frame_equal(frame, before)
    with pytest.raises(DataError, match=r"'maybe'.*add the other values"):
        CaptureHistories.from_records(frame.assign(A=["yes", "maybe", "Y", "N"]), ["A", "B", "C"],
                                      membership={"yes": 1, "no": 0, "Y": 1, "N": 0})
    with pytest.raises(DataError, match="maps each value of a list column to 1"):
        CaptureHistories.from_records(frame, ["A", "B", "C"], membership={"yes": "1"})


def test_from_records_declares_its_options():
    with pytest.raises(InvalidParameterError, match="`membership` must be"):
        CaptureHistories.from_records(pd.DataFrame({"A": [1], "B": [1]}), ["A", "B"], membership="yes")
    with pytest.raises(InvalidParameterError, match="`date` must be"):
        CaptureHistories.from_records(pd.DataFrame({"A": [1], "B": [1]}), ["A", "B"], date=3)
    function = CaptureHistories.from_records
    parameters = {name for name in inspect.signature(function).parameters if name != "cls"}
    assert parameters == set(function.__parameter_constraints__) | set(function.__exempt_parameters__)


# ------------------------------------------------------------------------------------------------ B dates in strata
def dated_records(n=900, seed=2):
    rng = np.random.default_rng(seed)
    on = rng.random((n, 3)) < [0.5, 0.4, 0.45]
    on[~on.any(axis=1), 0] = True
    frame = pd.DataFrame(on.astype(int), columns=["A", "B", "C"])
    frame["date"] = pd.Timestamp("2017-01-01") + pd.to_timedelta(rng.integers(0, 90, n), unit="D")
    return frame


def test_missing_dates_are_missing_not_bad_dates_and_are_counted():
    frame = dated_records()
    frame["date"] = frame["date"].astype(object)
    frame.loc[[4, 10, 11, 500], "date"] = [None, np.nan, pd.NaT, ""]
    h = CaptureHistories.from_records(frame, ["A", "B", "C"], date="date")
    with pytest.warns(UserWarning, match=r"4 records have no date in 'date' and are in no stratum; their deaths "
                                         r"are not in any stratum's estimate: impute them \(estimators.impute\) "
                                         "or fit the pooled table"):
        fits = estimate_strata(h, by="date", freq="M", method=count_method, progress=False)
    assert fits.unplaced == {"no date": 4} and fits.n_unplaced == 4
    assert fits.table["n_observed"].sum() == len(frame) - 4
    assert "records in no stratum" in dict(fits.summary().facts)
    assert any("not in the total" in note for note in fits.total().warnings)


def test_a_month_written_as_text_is_a_month_not_its_first_day():
    frame = dated_records()
    frame["date"] = frame["date"].dt.strftime("%Y-%m-%d").astype(object)
    frame.loc[[1, 2, 3], "date"] = "2017-02"
    h = CaptureHistories.from_records(frame, ["A", "B", "C"], date="date")
    # by month the text month is placed; by week it spans several weeks and is coarse (not put in 30 January's)
    by_month = h.split_strata("date", freq="M")
    assert sum(table.n_observed for table in by_month.values()) == len(frame)
    with pytest.warns(UserWarning, match=r"3 records have a date in 'date' known only to a period longer than one "
                                         r"'W' bin \(e.g. '2017-02'\)"):
        by_week = h.split_strata("date", freq="W")
    assert by_week.unplaced == {"coarse date": 3}


def test_day_first_text_dates_are_binned_as_the_iso_ones():
    frame = dated_records()
    iso = CaptureHistories.from_records(frame.assign(date=frame["date"].dt.strftime("%Y-%m-%d")), ["A", "B", "C"],
                                        date="date").split_strata("date", freq="W")
    day_first = CaptureHistories.from_records(frame.assign(date=frame["date"].dt.strftime("%d/%m/%Y")),
                                              ["A", "B", "C"], date="date").split_strata("date", freq="W")
    assert {k: t.n_observed for k, t in iso.items()} == {k: t.n_observed for k, t in day_first.items()}


def test_a_period_that_fits_a_bin_is_placed_and_a_longer_one_is_coarse():
    frame = dated_records()
    frame["date"] = frame["date"].astype(object)
    frame.loc[[1, 2, 3], "date"] = pd.Period("2017-02", "M")
    frame.loc[[7, 8], "date"] = pd.Period("2017", "Y")
    h = CaptureHistories.from_records(frame, ["A", "B", "C"], date="date")
    with pytest.warns(UserWarning, match=r"2 records have a date in 'date' known only to a period longer than one "
                                         r"'M' bin \(e.g. Period\('2017', 'Y-DEC'\)\)"):
        split = h.split_strata("date", freq="M")
    assert split.unplaced == {"coarse date": 2}
    dates = frame["date"]
    in_february = sum(isinstance(d, pd.Timestamp) and d.month == 2 for d in dates) + 3
    assert split[pd.Timestamp("2017-02-01")].n_observed == in_february
    assert sum(table.n_observed for table in split.values()) == len(frame) - 2


def test_values_that_are_not_dates_are_named():
    frame = dated_records(n=60)
    frame["date"] = frame["date"].astype(object)
    frame.loc[3, "date"] = "last spring"
    h = CaptureHistories.from_records(frame, ["A", "B", "C"])
    with pytest.raises(DataError, match=r"'last spring'.*leave an unknown date empty"):
        h.split_strata("date", freq="M")


# ------------------------------------------------------------------------------------------------ C list coverage
def year_of_records(late_list=True, n=4000, seed=3):
    """Three steady lists over 2017 and a fourth that starts in April (late_list) or a low but steady one."""
    rng = np.random.default_rng(seed)
    dates = pd.Timestamp("2017-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    on = rng.random((n, 4)) < [0.5, 0.4, 0.3, 0.3 if late_list else 0.03]
    if late_list:
        on[dates < pd.Timestamp("2017-04-01"), 3] = False
    keep = on.any(axis=1)
    frame = pd.DataFrame(on[keep].astype(int), columns=["A", "B", "C", "D"])
    frame["date"] = dates[keep]
    return frame


def test_a_list_that_starts_late_is_found():
    frame = year_of_records()
    gaps = list_coverage_gaps(frame["date"], frame[["A", "B", "C", "D"]])
    assert gaps["list"].tolist() == ["D"]
    gap = gaps.iloc[0]
    assert gap["start"] == pd.Timestamp("2017-01-01")
    first_d = frame.loc[frame["D"] == 1, "date"].min()
    assert gap["end"] == first_d - pd.Timedelta(days=1) and first_d <= pd.Timestamp("2017-04-05")
    assert gap["others"] == ((frame["date"] < first_d)).sum() and gap["p_value"] < 1e-20


def test_a_list_with_low_but_steady_capture_is_not_reported():
    for seed in range(5):
        frame = year_of_records(late_list=False, seed=seed)
        assert list_coverage_gaps(frame["date"], frame[["A", "B", "C", "D"]]).empty


def test_from_records_and_strata_by_date_name_the_late_list():
    frame = year_of_records()
    with pytest.warns(UserWarning, match=r"List 'D' has no records from 2017-01-01 to 2017-0[34]-\d\d .* while the "
                                         r"other lists have [\d,]+ there.*absent, not a list that recorded nobody"):
        h = CaptureHistories.from_records(frame, ["A", "B", "C", "D"])
    with pytest.warns(UserWarning, match=r"List 'D' has no records from 2017-01-01"):
        estimate_strata(h, by="date", freq="M", method=count_method, progress=False)
    # the named date column is read as dates even when held as text
    with pytest.warns(UserWarning, match=r"List 'D' has no records"):
        CaptureHistories.from_records(frame.assign(date=frame["date"].dt.strftime("%Y-%m-%d")),
                                      ["A", "B", "C", "D"], date="date")
    steady = year_of_records(late_list=False)
    _, messages = no_warnings(lambda: CaptureHistories.from_records(steady, ["A", "B", "C", "D"]))
    assert not any("has no records from" in m for m in messages)


def test_a_date_column_of_timestamps_and_month_periods_is_found_without_naming_it():
    frame = year_of_records()
    mixed = frame["date"].astype(object)
    months = frame.index % 5 == 0
    mixed[months] = [pd.Period(d, "M") for d in frame.loc[months, "date"]]
    mixed[frame.index % 11 == 0] = None
    assert mixed.dtype == object
    with pytest.warns(UserWarning, match=r"List 'D' has no records from 2017-01-01"):
        CaptureHistories.from_records(frame.assign(date=mixed), ["A", "B", "C", "D"])
    # text is not guessed to be dates: only a named column is parsed
    _, messages = no_warnings(lambda: CaptureHistories.from_records(
        frame.assign(date=frame["date"].dt.strftime("%Y-%m-%d")), ["A", "B", "C", "D"], covariates=["date"]))
    assert not any("has no records from" in m for m in messages)
