"""daily_rates' inputs as prepare_data reads them: day numbers and dates, list subsets, population, the survey,
household and tally sources, and settings refused before any compilation (no MCMC: fast)."""

import itertools

import numpy as np
import pandas as pd
import pytest

from estimators import DataError, HouseholdSummary, SurveyObservation, Tally, daily_rates
from estimators._daily import prepare_data
from estimators._daily._inputs import _population_prior, lists_to_identify
from estimators.survey import load_smart_example, mortality_rate


def _lists():
    return pd.DataFrame({"A": [1, 0, 1, 1, 0, 0], "B": [0, 1, 1, 0, 1, 0], "C": [0, 0, 0, 1, 1, 1],
                         "day": [0, 0, 1, 2, 3, 4], "count": [3, 2, 1, 4, 2, 5]})


def test_day_numbers_with_a_start_date_stay_day_numbers():
    # with `start`, integer days were read as nanoseconds since 1970 and reported outside the study
    data = prepare_data(days=5, start="2017-02-19", lists=_lists(), population=1000)
    assert data.n_listed == 17


def test_whole_number_float_days_are_accepted_and_missing_days_kept():
    lists = _lists().assign(day=lambda f: f.day.astype(float))
    assert prepare_data(days=5, lists=lists, population=1000).n_listed == 17
    with pytest.raises(DataError, match="whole study-day number"):
        prepare_data(days=5, lists=lists.assign(day=[0, 0.5, 1, 2, 3, 4]), population=1000)
    # a missing day is no longer refused: the record may fall on any day of the study (cf4a794)
    data = prepare_data(days=5, lists=lists.assign(day=[0, np.nan, 1, 2, 3, 4]), population=1000)
    assert data.n_listed == 17 and data.n_windows >= 1


def test_dates_with_a_time_of_day_or_time_zone():
    dates = pd.to_datetime(["2017-02-19 18:00"] * 2 + ["2017-02-20 06:00", "2017-02-21 00:00", "2017-02-22 00:00",
                            "2017-02-23 00:00"])
    data = prepare_data(days=5, start="2017-02-19 12:00", lists=_lists().assign(day=dates), population=1000,
                        bin_days=1)
    assert data.list_cells.sum(1).tolist() == [5, 1, 4, 2, 5]
    with pytest.raises(DataError, match="time zone"):
        prepare_data(days=5, start="2017-02-19", lists=_lists().assign(day=dates.tz_localize("UTC")),
                     population=1000)


def test_list_names_subset_drops_records_only_on_lists_left_out():
    data = prepare_data(days=5, lists=_lists(), list_names=["A", "B"], population=1000)
    assert data.k == 2 and data.n_listed == 12
    with pytest.raises(DataError, match="all-zero pattern"):
        prepare_data(days=5, lists=_lists().assign(C=0), list_names=["A", "B"], population=1000)


def test_population_as_numpy_values():
    assert _population_prior(np.array([7e4, 9e4])) == _population_prior((7e4, 9e4))
    assert _population_prior(np.array(8e4)) == _population_prior(8e4)


def test_zero_death_survey_result_is_accepted_as_poisson():
    # mortality_rate has no design effect without deaths (nan); daily_rates refused such a survey
    with pytest.warns(UserWarning, match="No deaths"):
        survey = mortality_rate(load_smart_example().assign(deaths=0, violent_deaths=0), recall_days=90)
    data = prepare_data(days=5, lists=_lists(), surveys=[survey], population=1000)
    assert data.survey_deaths.tolist() == [0.0] and data.survey_alpha[0] >= 1e8


@pytest.mark.parametrize(
    "sources, match",
    [
        (dict(surveys=[SurveyObservation(3, 100.0, design_effect=0)]), "design_effect"),
        (dict(surveys=[SurveyObservation(3, np.inf)]), "person_days"),
        (dict(households=[HouseholdSummary(10, 3, 6, design_effect=0)]), "design_effect"),
        (dict(households=[HouseholdSummary(10, 3, 6, design_effect=np.nan)]), "design_effect"),
        (dict(households=[HouseholdSummary(10, 3, 6, household_size_sd=-1)]), "household_size_sd"),
        (dict(households=[HouseholdSummary(10, 3, 6, recall_days=0)]), "recall_days"),
        (dict(tallies=[Tally("t", 5, 3, 1)]), "ends .* before it starts"),
        (dict(tallies=[Tally("t", 5, pd.NaT, 3)]), "start is missing"),
    ],
)
def test_bad_source_values_are_not_silently_replaced(sources, match):
    with pytest.raises(ValueError, match=match):
        prepare_data(days=5, lists=_lists(), population=1000, **sources)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(random_seed=-1), "random_seed"),
        (dict(random_seed="a"), "random_seed"),
        (dict(target_accept="high"), "target_accept"),
        (dict(tally_coverage_prior=(np.nan, 1.0)), "tally_coverage_prior"),
        (dict(rate_level_prior=(0.0, -1.0)), "rate_level_prior"),
        (dict(rate_level_prior=(0.0,)), "rate_level_prior"),
    ],
)
def test_bad_settings_raise_before_compiling(kwargs, match):
    with pytest.raises(ValueError, match=match):
        daily_rates(days=5, lists=_lists(), population=1000, **kwargs)


def test_more_than_six_lists_is_refused_with_what_to_do():
    records = pd.DataFrame(np.eye(7, dtype=int), columns=list("ABCDEFG")).assign(day=range(7))
    with pytest.raises(DataError, match="got 7: A, B, C, D, E, F, G. Merge lists") as caught:
        prepare_data(lists=records, days=7, population=1000)
    assert "Tally" in str(caught.value) and "latent_class" in str(caught.value)


def test_data_pickled_before_capture_bin_days_read_back_with_steps_of_one_bin():
    import pickle

    records = pd.DataFrame({"A": [1, 0, 1], "B": [0, 1, 1], "day": [0, 3, 9]})
    data = prepare_data(lists=records, days=14, population=1000, bin_days=2, capture_bin_days=6)
    assert pickle.loads(pickle.dumps(data)).capture_bin_days == 6
    old = pickle.loads(pickle.dumps(data))
    del old.__dict__["capture_bin_days"]  # as an older version wrote it
    assert pickle.loads(pickle.dumps(old)).capture_bin_days == 2


def test_single_dates_written_as_numbers_are_read_in_the_only_order_they_allow():
    from estimators._daily._days import _window, record_window
    from estimators._histories_dates import one_date

    assert one_date("13/03/2017", "start") == pd.Timestamp("2017-03-13")
    assert one_date("03/13/2017", "start") == pd.Timestamp("2017-03-13")
    assert one_date("03/03/2017", "start") == pd.Timestamp("2017-03-03")  # both orders give the same day
    assert one_date("2017-03-05", "start") == "2017-03-05" and one_date(5, "start") == 5
    with pytest.raises(DataError, match=r"`start` \('05/03/2017'\).*5 March or 3 May.*YYYY-MM-DD"):
        one_date("05/03/2017", "`start`")
    # a window or a record's day against a start written day-first
    assert _window("20/03/2017", None, "`list_windows['C']`", "13/03/2017", 30) == (7, 29)
    assert record_window("15/03/2017", "day", "13/03/2017", 30) == (2, 2)
    with pytest.raises(DataError, match=r"`list_windows\['C'\]` start \('05/04/2017'\) writes a date") as caught:
        _window("05/04/2017", None, "`list_windows['C']`", "2017-03-01", 60)
    assert "is not a date" not in str(caught.value)
    with pytest.raises(DataError, match="`start`"):
        record_window("2017-03-15", "day", "05/03/2017", 30)
    # before any fitting
    with pytest.raises(DataError, match=r"`start` \('05/03/2017'\)"):
        daily_rates(days=30, start="05/03/2017", lists=pd.DataFrame({"A": [1], "B": [1], "day": [3]}),
                    population=(450_000, 550_000))


def test_a_date_with_both_numbers_above_twelve_is_not_a_date():
    from estimators._histories_dates import numeric_dates, one_date

    with pytest.raises(DataError, match=r"'31/31/2017', which is not a date"):
        one_date("31/31/2017", "`start`")
    with pytest.raises(DataError, match=r"'31/13/2017', which is not a date"):
        numeric_dates(["13/03/2017", "31/13/2017"], "day")


def _unlisted_share_identified(k: int, classes: int, dependence: bool, rng) -> bool:
    """Whether the truncated capture-pattern probabilities of ``classes`` additive classes (log-odds alpha_j +
    beta_c, the same two-way interactions in every class) locally determine the unlisted share: no null direction
    of their Jacobian moves p(no list). Finite differences at a point with well separated classes."""
    pats = np.array(list(itertools.product([0, 1], repeat=k)))
    pairs = list(itertools.combinations(range(k), 2)) if dependence else []

    def cells(theta):
        w = np.exp(np.r_[0.0, theta[: classes - 1]])
        beta = np.r_[0.0, theta[classes - 1: 2 * classes - 2]]
        alpha, lam = theta[2 * classes - 2: 2 * classes - 2 + k], theta[2 * classes - 2 + k:]
        log_p = pats @ (alpha[None, :] + beta[:, None]).T
        for value, (a, b) in zip(lam, pairs):
            log_p += value * (pats[:, a] * pats[:, b])[:, None]
        log_p -= np.log(np.exp(log_p).sum(axis=0))
        return np.exp(log_p) @ (w / w.sum())

    theta = np.r_[rng.normal(0, 0.3, classes - 1), np.cumsum(rng.uniform(1.0, 2.0, classes - 1)),
                  rng.uniform(-2.0, -0.5, k), rng.normal(0, 0.3, len(pairs))]
    eps = 1e-6
    plus, minus = ([cells(theta + sign * eps * e) for e in np.eye(theta.size)] for sign in (1, -1))
    # observed: the pattern shares among listed deaths; the target: the unlisted share p(0...0)
    observed = np.array([(hi[1:] / hi[1:].sum() - lo[1:] / lo[1:].sum()) / (2 * eps) for hi, lo in zip(plus, minus)])
    target = np.array([(hi[0] - lo[0]) / (2 * eps) for hi, lo in zip(plus, minus)])
    _, s, vt = np.linalg.svd(observed.T)
    rows = vt[: int((s > 1e-6 * s[0]).sum())]
    residual = target - rows.T @ (rows @ target)
    return bool(np.linalg.norm(residual) < 1e-6 * np.linalg.norm(target))


@pytest.mark.parametrize("dependence", [False, True])
def test_lists_to_identify_matches_the_rank_of_the_pattern_probabilities(dependence):
    rng = np.random.default_rng(6)
    for classes in (1, 2, 3):
        for k in range(3, 7):
            expected = k >= lists_to_identify(classes, dependence)
            assert _unlisted_share_identified(k, classes, dependence, rng) == expected, (k, classes)
    assert lists_to_identify(2) == 4 and lists_to_identify(2, True) == 5 and lists_to_identify(3) == 6
    assert lists_to_identify("normal") == lists_to_identify("normal", True) == 4
