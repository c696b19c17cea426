"""daily_rates with dates as they are (missing, known to the week or month), lists that cover part of the study,
and multiply imputed records (issue 15). Pure constructions by hand; one fit per feature, few draws."""

import warnings

import numpy as np
import pandas as pd
import pytest

import estimators
from estimators import DataError, daily_rates
from estimators._daily import prepare_data
from estimators._daily._days import list_presence, record_window
from estimators._daily._model import presence_maps
from estimators._records import PooledDailyRates
from estimators._validation import InvalidParameterError
from estimators.simulate import simulate_conflict

START = "2017-02-19"
POPULATION = (450_000, 550_000)
FAST = dict(draws=300, tune=300, chains=2, cores=2, prior_draws=0)


def _records(lists: pd.DataFrame) -> pd.DataFrame:
    """One row per record from a simulated (pattern, day, count) table."""
    return lists.loc[lists.index.repeat(lists["count"])].drop(columns="count").reset_index(drop=True)


# ------------------------------------------------------------------------------------------------ pure helpers
def test_record_window_of_dates_periods_and_missing():
    assert record_window(pd.Timestamp("2017-02-21"), "day", START, 60) == (2, 2)
    assert record_window(7, "day", None, 60) == (7, 7)
    # March 2017 is study days 10..40; the week from Monday 2017-02-13 is cut to the study's start
    assert record_window(pd.Period("2017-03", "M"), "day", START, 60) == (10, 40)
    assert record_window(pd.Period("2017-02-19", "W"), "day", START, 60) == (0, 0)
    assert record_window(pd.Period("2017-02-20", "W"), "day", START, 60) == (1, 7)
    assert record_window(pd.Period("2017-04", "M"), "day", START, 60) == (41, 59)
    assert record_window(pd.Period("2017-02-25", "D"), "day", START, 60) == (6, 6)
    for missing in (None, np.nan, pd.NaT):
        assert record_window(missing, "day", START, 60) == (0, 59)
    with pytest.raises(DataError, match="outside the study"):
        record_window(pd.Period("2016-12", "M"), "day", START, 60)
    with pytest.raises(DataError, match="start"):
        record_window(pd.Period("2017-03", "M"), "day", None, 60)


def test_prepare_data_keeps_coarse_and_missing_records_in_windows():
    lists = pd.DataFrame({
        "A": [1, 0, 1, 1, 1], "B": [0, 1, 1, 1, 0],
        "day": pd.Series([pd.Timestamp("2017-02-20"), pd.Period("2017-03", "M"), pd.NaT, None,
                          pd.Period("2017-03", "M")], dtype=object),
        "count": [2, 3, 1, 4, 5]})
    data = prepare_data(days=60, start=START, lists=lists, bin_days=1, population=1000)
    assert data.n_listed == 15  # nothing dropped
    assert data.list_cells.sum() == 2 and data.list_cells[1].tolist() == [0, 2, 0]
    # windows: the whole study (missing days) and March; cells are patterns 01, 10, 11
    assert data.coarse_first.tolist() == [0, 10] and data.coarse_last.tolist() == [59, 40]
    assert data.coarse_cells.tolist() == [[0, 0, 5], [3, 5, 0]]
    assert data.shape_key[-2:] == (2, 1)


def test_text_dates_coarser_than_a_day_are_windows():
    # "2017-03" is March (days 10..40), not its first day; a practitioner's month-only records are text like this
    assert record_window("2017-03", "day", START, 60) == (10, 40)
    assert record_window("March 2017", "day", START, 60) == (10, 40)
    assert record_window("03/2017", "day", START, 60) == (10, 40)
    # ISO week 9 of 2017: Monday 27 February to Sunday 5 March, days 8..14
    assert record_window("2017-W09", "day", START, 60) == (8, 14)
    assert record_window("2017w9", "day", START, 60) == (8, 14)
    assert record_window("2017", "day", START, 60) == (0, 59)
    assert record_window("2017Q1", "day", START, 60) == (0, 40)
    # one day, with or without a time of day, stays that day
    assert record_window("2017-03-05", "day", START, 60) == (14, 14)
    assert record_window("2017-03-05 23:10", "day", START, 60) == (14, 14)
    with pytest.raises(DataError, match="outside the study"):
        record_window("2016-12", "day", START, 60)
    with pytest.raises(DataError, match="not a date"):
        record_window("2017-W60", "day", START, 60)
    # empty text is a missing day; the text of a missing value is not a day, and is not read as missing silently
    assert record_window("", "day", START, 60) == record_window("  ", "day", START, 60) == (0, 59)
    for text in ("NaT", "nan"):
        with pytest.raises(DataError, match="leave an unknown day empty"):
            record_window(text, "day", START, 60)


def test_numeric_dates_take_their_order_from_the_column():
    from estimators._daily._days import record_windows
    from estimators._histories_dates import numeric_dates

    # day-first: 13/03 says so, and 05/03 is then 5 March (pandas alone reads it as 3 May)
    first, last = record_windows(["13/03/2017", "05/03/2017", "05.03.2017", None], START, 60)
    assert first.tolist() == [22, 14, 14, 0] and last.tolist() == [22, 14, 14, 59]
    # month-first: 03/13 says so
    assert record_windows(["03/13/2017", "03/05/2017"], START, 60)[0].tolist() == [22, 14]
    # the same number twice is one day either way; other text passes through
    assert [str(v)[:10] for v in numeric_dates(["05/05/2017", "2017-03-05", 4], "d")] == ["2017-05-05",
                                                                                       "2017-03-05", "4"]
    with pytest.raises(DataError, match="both day-first .* and month-first"):
        record_windows(["13/03/2017", "03/13/2017"], START, 60)
    with pytest.raises(DataError, match=r"order cannot be told.*'06/03/2017' is 6 March or 3 June.*YYYY-MM-DD"):
        record_windows(["06/03/2017", "06/03/2017"], START, 60)
    with pytest.raises(DataError, match="order cannot be told.*YYYY-MM-DD"):
        record_windows(["05/03/2017", "06/03/2017"], START, 60)


def test_month_text_gives_the_same_data_as_month_periods():
    as_period = pd.DataFrame({
        "A": [1, 0, 1, 1], "B": [0, 1, 1, 1],
        "day": pd.Series([pd.Timestamp("2017-02-20"), pd.Period("2017-03", "M"), pd.NaT,
                          pd.Period("2017-02-27", "W")], dtype=object),
        "count": [2, 3, 1, 5]})
    as_text = as_period.assign(day=["2017-02-20", "2017-03", None, "2017-W09"])
    kept = as_text.copy()
    a = prepare_data(days=60, start=START, lists=as_period, bin_days=1, population=1000)
    b = prepare_data(days=60, start=START, lists=as_text, bin_days=1, population=1000)
    pd.testing.assert_frame_equal(as_text, kept)  # the input is not changed
    assert b.list_cells.sum() == 2 and b.coarse_first.tolist() == a.coarse_first.tolist() == [0, 8, 10]
    assert np.array_equal(a.list_cells, b.list_cells) and np.array_equal(a.coarse_cells, b.coarse_cells)


def test_list_presence_mask_and_marginal_pattern_map():
    present = list_presence({"B": (2, None), "C": (None, "2017-02-21")}, ("A", "B", "C"), START, 5)
    assert present.astype(int).tolist() == [[1, 0, 1], [1, 0, 1], [1, 1, 1], [1, 1, 0], [1, 1, 0]]
    # a window beyond the study is cut to it
    assert list_presence({"A": (-5, 99)}, ("A",), None, 4).all()
    assert list_presence(None, ("A", "B"), None, 3).all()
    with pytest.raises(DataError, match="not matched lists"):
        list_presence({"Z": (0, None)}, ("A", "B"), None, 3)
    with pytest.raises(DataError, match=r"list_windows\['A'\].*pair"):
        list_presence({"A": 5}, ("A", "B"), None, 3)
    # B absent: pattern probabilities over A alone, B's capture summed out (unlisted = 00 + 01)
    p = np.array([0.4, 0.1, 0.3, 0.2])  # patterns 00, 01, 10, 11 (A is the high bit)
    maps = presence_maps(np.array([[True, False], [True, True]]))
    assert np.allclose(p @ maps[0], [0.5, 0.0, 0.5, 0.0])
    assert np.allclose(p @ maps[1], p)


def test_records_on_a_list_outside_its_window_raise():
    lists = pd.DataFrame({"A": [1, 1, 0, 1], "B": [1, 0, 1, 1], "day": [1, 2, 3, 8], "count": [2, 1, 4, 3]})
    with pytest.raises(DataError, match=r"6 record\(s\) on list 'B'.*day 5 to day 9.*list_windows\['B'\]"):
        prepare_data(days=10, lists=lists, population=1000, list_windows={"B": (5, None)})
    # on a coarse window that meets the list's window: allowed (the record can only be on those days)
    lists = pd.DataFrame({"A": [1, 0], "B": [1, 1], "day": [np.nan, 8.0], "count": [2, 1]})
    data = prepare_data(days=10, lists=lists, population=1000, list_windows={"B": (5, None)})
    assert data.presence.astype(int).tolist() == [[1, 0], [1, 1]] and data.day_group.tolist() == [0] * 5 + [1] * 5
    with pytest.raises(InvalidParameterError, match="list_windows"):
        daily_rates(days=10, lists=lists, population=1000, list_windows=[("B", 5, None)])


# ------------------------------------------------------------------------------------------------ fits
@pytest.fixture(scope="module")
def coarse():
    """60 days, three lists; of the records 10% have no date and 10% are known only to their month."""
    sim = simulate_conflict(60, random_seed=21)
    records = _records(sim.lists)
    rng = np.random.default_rng(3)
    u = rng.random(len(records))
    dates = pd.Timestamp(START) + pd.to_timedelta(records["day"], unit="D")
    records["day"] = pd.Series([
        pd.NaT if x < 0.1 else (d.to_period("M") if x < 0.2 else d) for x, d in zip(u, dates)], dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = daily_rates(days=60, start=START, lists=records, list_names=["A", "B", "C"], population=POPULATION,
                          random_seed=7, **FAST)
    return sim, records, u, fit


def test_missing_and_month_dates_enter_the_likelihood(coarse):
    sim, records, u, fit = coarse
    assert fit.data.n_listed == len(records)  # no record dropped
    assert fit.data.n_windows == 4  # the whole study and the three months
    lower, upper = fit.total.credible_interval(0.99)
    assert lower <= sim.total <= upper
    # dropping the 20% of records without an exact day would put the total near 0.8 x truth
    assert fit.total.estimate > 0.9 * sim.total
    # the daily rates of the records' months are not pushed down by the records left without a day
    assert fit.daily["median"].sum() == pytest.approx(sim.total, rel=0.15)


@pytest.fixture(scope="module")
def windowed():
    """100 days, four lists; list D exists from day 60 on (records on it before then do not exist)."""
    sim = simulate_conflict(100, capture_logits=(-0.8, -1.2, -1.6, -0.6), random_seed=31)
    lists = sim.lists.copy()
    before = lists["day"] < 60
    lists.loc[before, "D"] = 0
    lists = lists[lists[["A", "B", "C", "D"]].sum(axis=1) > 0]
    lists = lists.groupby(["A", "B", "C", "D", "day"], as_index=False)["count"].sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = daily_rates(days=100, lists=lists, list_windows={"D": (60, None)}, population=POPULATION,
                          random_seed=8, **FAST)
    return sim, lists, fit


def test_list_window_marks_the_list_absent_before_it_starts(windowed):
    sim, lists, fit = windowed
    lower, upper = fit.total.credible_interval(0.99)
    assert lower <= sim.total <= upper
    assert fit.data.presence.astype(int).tolist() == [[1, 1, 1, 0], [1, 1, 1, 1]]
    # D's coverage is over its own days (truth: its marginal capture probability, about 0.35)
    assert 0.2 < fit.coverage.loc["D", "median"] < 0.55


def test_same_seed_same_result(windowed):
    sim, lists, fit = windowed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = daily_rates(days=100, lists=lists, list_windows={"D": (60, None)}, population=POPULATION,
                            random_seed=8, model=fit.model, **FAST)
    assert np.array_equal(again.total.draws, fit.total.draws)


def test_imputations_are_fitted_and_pooled():
    sim = simulate_conflict(60, random_seed=41)
    records = _records(sim.lists).astype({"day": float})
    rng = np.random.default_rng(5)
    records.loc[rng.random(len(records)) < 0.1, "day"] = np.nan
    imputations = estimators.impute(records, m=2, lists=["A", "B", "C"], columns=["day"], random_seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pooled = daily_rates(days=60, lists=imputations, population=POPULATION, random_seed=9,
                             **dict(FAST, draws=150, tune=200))
    assert isinstance(pooled, PooledDailyRates)
    assert pooled.imputations == 2 and pooled.rate_draws.shape[1] == 60
    lower, upper = pooled.total.credible_interval(0.99)
    assert lower <= sim.total <= upper


def test_a_list_window_starting_after_the_study_is_named_as_such():
    records = pd.DataFrame({"A": [1, 0, 1], "B": [0, 1, 1], "day": [0, 3, 9]})
    with pytest.raises(DataError, match=r"starts on day 366, after the study's last day \(13\)"):
        prepare_data(start="2024-01-01", days=14, lists=records, population=1000,
                     list_windows={"B": ("2025-01-01", None)})
