"""The checks of homogeneous capture in daily_rates: the few-lists assumption and the latent-class cross-check."""

import warnings

import numpy as np
import pandas as pd
import pytest

from estimators import HouseholdSummary, IdentifiabilityWarning, Tally, daily_rates
from estimators._daily import prepare_data
from estimators._daily._heterogeneity import (
    auto_classes,
    collapsed_cells,
    disjoint,
    few_lists_message,
    full_bins,
    mixed_choices_message,
    shared_dependence,
    shared_dependence_message,
    survey_conflicts,
    unlisted_ratio,
)
from estimators.simulate import simulate_conflict

POPULATION = (450_000, 550_000)


def _lists(days, k, seed=1, **options):
    return simulate_conflict(days, capture_logits=(-0.8, -1.2, -1.6, -1.0)[:k], interactions={}, random_seed=seed,
                             **options)


def test_full_bins_leave_out_bins_with_a_missing_list():
    sim = _lists(28, 4, list_start={3: 10})
    data = prepare_data(days=28, lists=sim.lists, population=POPULATION, bin_days=7, list_windows={"D": (10, None)})
    # days 0-9 lack D: bins 0 (days 0-6) and 1 (7-13) are not fully covered, 2 and 3 are
    assert full_bins(data).tolist() == [False, False, True, True]
    cells = collapsed_cells(data, full_bins(data))
    assert cells.shape == (15,)
    assert cells.sum() == data.list_cells[2:].sum()


def test_unlisted_ratio_by_hand():
    # two draws, two bins, k = 1 (patterns 0 and 1)
    cell_bin = np.array([[[2.0, 8.0], [1.0, 9.0]], [[4.0, 6.0], [0.0, 10.0]]])
    assert unlisted_ratio(cell_bin, np.array([True, False])).tolist() == [0.25, 4 / 6]
    assert unlisted_ratio(cell_bin, np.array([True, True])).tolist() == [3 / 17, 4 / 16]


def test_disjoint():
    assert disjoint((0, 1), (1.5, 2)) and disjoint((1.5, 2), (0, 1))
    assert not disjoint((0, 1), (1, 2)) and not disjoint((0, 3), (1, 2))


def test_auto_fits_two_classes_where_three_lists_leave_a_survey_to_decide():
    three = _lists(28, 3)
    classes, note = auto_classes(prepare_data(days=28, lists=three.lists, surveys=[three.survey],
                                              population=POPULATION))
    assert classes == 2 and "two capture classes" in note and "survey can decide" in note
    # an affected-households summary can carry the total too; a tally cannot (its coverage is a prior)
    households = HouseholdSummary(150, 40, 6.0, start_day=0, end_day=27)
    classes, note = auto_classes(prepare_data(days=28, lists=three.lists, households=[households],
                                              population=POPULATION))
    assert classes == 2 and "affected households can decide" in note
    tally = Tally("monitor", float(round(three.total * 0.4)), 0, 27)
    assert auto_classes(prepare_data(days=28, lists=three.lists, tallies=[tally], population=POPULATION)) == (
        None, None)
    # nothing but the lists: one class (with the few-lists warning), as with four lists every day, or two lists
    assert auto_classes(prepare_data(days=28, lists=three.lists, population=POPULATION)) == (None, None)
    four = _lists(28, 4)
    assert auto_classes(prepare_data(days=28, lists=four.lists, surveys=[four.survey],
                                     population=POPULATION)) == (None, None)
    two = three.lists[["A", "B", "day", "count"]].query("A + B > 0")
    assert auto_classes(prepare_data(days=28, lists=two, surveys=[three.survey], population=POPULATION)) == (None,
                                                                                                             None)
    # a fourth list that starts late leaves three lists on the first days
    late = _lists(28, 4, list_start={3: 10})
    classes, note = auto_classes(prepare_data(days=28, lists=late.lists, surveys=[late.survey], population=POPULATION,
                                              list_windows={"D": (10, None)}))
    assert classes == 2 and "with 3 matched lists on some days" in note


def test_few_lists_message_names_the_assumption():
    three = prepare_data(days=28, lists=_lists(28, 3).lists, population=POPULATION)
    assert "no three-way interaction" in few_lists_message(three, list_dependence=True)
    assert "independently" in few_lists_message(three, list_dependence=False)
    two = prepare_data(days=28, lists=_lists(28, 3).lists[["A", "B", "day", "count"]].query("A + B > 0"),
                       population=POPULATION)
    assert "independently" in few_lists_message(two, list_dependence=False)
    four = prepare_data(days=28, lists=_lists(28, 4).lists, population=POPULATION)
    assert few_lists_message(four, list_dependence=True) is None
    late = prepare_data(days=28, lists=_lists(28, 4, list_start={3: 10}).lists, population=POPULATION,
                        list_windows={"D": (10, None)})
    assert "three-way" in few_lists_message(late, list_dependence=True)


def test_shared_dependence_follows_the_common_part_of_the_pairs():
    rng = np.random.default_rng(0)
    every = 0.5 + 0.1 * rng.standard_normal((2000, 6))
    message = shared_dependence_message(every, 4, 0.95)
    assert "The pairs of the 4 lists are positively dependent in common" in message and "lower bound" in message
    shared = shared_dependence(every, 4, 0.95)
    assert shared.lower > 0.4 and abs(shared.median - 0.5) < 0.02 and shared.smallest < shared.largest
    # referral between two lists, the others independent: one pair apart is no common part
    referral = 0.1 * rng.standard_normal((2000, 6))
    referral[:, 1] += 0.8
    assert shared_dependence(referral, 4, 0.95) is None
    # a common part beside one pair that splits the ground (negative) and one referral (positive): still seen
    mixed = every.copy()
    mixed[:, 2] -= 0.9
    mixed[:, 4] += 0.6
    assert shared_dependence(mixed, 4, 0.95) is not None
    assert shared_dependence_message(every[:, :3], 3, 0.95) is None  # three lists: few_lists_message says it
    assert shared_dependence_message(every[:, :5], 4, 0.95) is None  # not a draw per pair: no statement
    # the interval follows the fit's level: a common part just above 0 at 95% is not at 99%
    edge = 0.1 + 0.1 * np.random.default_rng(0).standard_normal((2000, 6))
    assert shared_dependence(edge, 4, 0.95) is not None
    assert shared_dependence(edge, 4, 0.99) is None


def _rasch_records(days=60, rate=80.0, sd=1.2, seed=2):
    """Four lists whose capture log-odds vary between deaths (a normal effect shared by every list)."""
    rng = np.random.default_rng(seed)
    day = np.repeat(np.arange(days), rng.poisson(rate, days))
    effect = rng.normal(0.0, sd, day.size)[:, None]
    captured = rng.random((day.size, 4)) < 1 / (1 + np.exp(-(np.array([-1.0, -1.4, -1.8, -1.2]) + effect)))
    records = pd.DataFrame(captured.astype(int), columns=list("ABCD"))
    records["day"] = day
    return records[captured.any(axis=1)]


def test_a_one_class_fit_warns_when_every_pair_is_positively_dependent():
    with pytest.warns(IdentifiabilityWarning, match="The pairs of the 4 lists are positively dependent in common"):
        daily_rates(days=60, lists=_rasch_records(), day_column="day", population=POPULATION, capture_classes=1,
                    heterogeneity_check=False, draws=200, tune=200, chains=2, random_seed=3)


def test_survey_conflicts_only_where_the_interval_excludes_the_prior_median():
    rng = np.random.default_rng(1)
    draws = np.column_stack([rng.normal(1.0, 0.1, 4000), rng.normal(0.6, 0.05, 4000), rng.normal(1.5, 0.1, 4000)])
    messages = survey_conflicts(("ok", "low", "high"), draws, 1.0, 0.95)
    assert len(messages) == 2
    assert "'low'" in messages[0] and "under-reports" in messages[0] and "too high" in messages[0]
    assert "'high'" in messages[1] and "over-reports" in messages[1]
    # against another prior median the first one conflicts too
    assert len(survey_conflicts(("ok",), draws[:, :1], 0.7, 0.95)) == 1


@pytest.fixture(scope="module")
def hidden_class_fit():
    # a hidden visible quarter of the deaths (log-odds +2.5 on every list), four lists, two-way dependence fitted;
    # the default capture_classes="auto"
    sim = _lists(42, 4, seed=7, visibility=(0.25, 2.5), mean_rate=120.0, survey_clusters=None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = daily_rates(days=42, lists=sim.lists, population=POPULATION, bin_days=7, rate_model="weekly_knots",
                          draws=300, tune=300, chains=2, prior_draws=0, random_seed=2)
    return sim, fit, caught


def test_auto_refits_with_two_classes_when_the_latent_class_check_disagrees(hidden_class_fit):
    sim, fit, caught = hidden_class_fit
    messages = [str(w.message) for w in caught if issubclass(w.category, IdentifiabilityWarning)]
    note = [m for m in messages if "capture_classes='auto' fitted two capture classes" in m]
    assert len(note) == 1 and "latent-class model" in note[0]
    # it names the assumption the two-class total rests on, and that no source here can check it (no survey)
    assert "assumes that two classes describe how" in note[0]
    assert "Nothing here is independent of list capture" in note[0]
    # a visible quarter on every list also leaves the pairs dependent in common: the note names the other reading
    assert "were also positively dependent in common" in note[0] and "capture_classes='normal'" in note[0]
    one = fit.identifiability.loc["total deaths, one class"]
    assert f"{one['median']:,.0f} [{one['lower']:,.0f}, {one['upper']:,.0f}]" in note[0]
    # the one-class fit's own warnings are not repeated: it is not the fit returned
    assert not any("The intervals do not overlap" in m for m in messages)
    assert fit.model.structure.capture_classes == 2
    assert fit.settings["capture_classes"] == 2
    table = fit.identifiability
    model = table.loc["unlisted per listed death (this model), one class"]
    latent = table.loc["unlisted per listed death (latent classes), one class"]
    assert model["lower"] > latent["upper"] or latent["lower"] > model["upper"]
    listed = sim.lists["count"].sum()
    truth = (sim.total - listed) / listed
    assert latent["lower"] <= truth <= latent["upper"]
    assert not model["lower"] <= truth <= model["upper"]
    lower, upper = fit.total.interval
    assert lower <= sim.total <= upper


def test_auto_refits_with_three_classes_when_a_survey_can_weigh_a_third():
    # three hidden classes (a visible quarter, a rarely recorded quarter), four lists and a survey: the check fires,
    # and four lists cannot tell three classes apart, so "auto" adds the third class and lets the survey decide
    sim = _lists(42, 4, seed=7, visibility=((0.25, 2.5), (0.25, -1.5)), mean_rate=120.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = daily_rates(days=42, lists=sim.lists, surveys=[sim.survey], population=POPULATION, bin_days=7,
                          rate_model="weekly_knots", draws=300, tune=300, chains=2, prior_draws=0, random_seed=2)
    messages = [str(w.message) for w in caught if issubclass(w.category, IdentifiabilityWarning)]
    note = [m for m in messages if "capture_classes='auto' fitted three capture classes" in m]
    assert len(note) == 1 and "The 4 lists cannot tell three classes apart" in note[0]
    assert "a third class lets the survey, independent of list capture, decide" in note[0]
    assert "Pass capture_classes=2" in note[0]
    assert fit.model.structure.capture_classes == 3 and fit.settings["capture_classes"] == 3
    # the identifiability warning names what carries the total: the classes' and dependence priors, the survey
    carried = [m for m in messages if m.startswith("With 4 matched lists on some days")]
    assert len(carried) == 1 and "3 classes need 7 lists on every day" in carried[0]
    assert "The survey carries the total" in carried[0]
    summary = str(fit.summary())
    assert "matched lists (only given capture_classes=3), survey" in summary
    lower, upper = fit.total.interval
    assert lower <= sim.total <= upper


def test_five_lists_weigh_two_classes_against_the_normal_effect_by_the_patterns():
    # a discrete visible quarter (+2.5 on every list's log-odds) seen by five lists: both signals fire, and the 31
    # capture-pattern totals favour two classes (the normal effect's total is far higher)
    sim = simulate_conflict(42, capture_logits=(-0.8, -1.2, -1.6, -1.0, -1.3), interactions={}, random_seed=7,
                            visibility=(0.25, 2.5), mean_rate=120.0, survey_clusters=None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = daily_rates(days=42, lists=sim.lists, population=POPULATION, bin_days=7, rate_model="weekly_knots",
                          draws=300, tune=300, chains=2, prior_draws=0, random_seed=2)
    averaged = [str(w.message) for w in caught if "capture_classes='auto' averaged two readings" in str(w.message)]
    assert len(averaged) == 1 and "31 capture-pattern totals" in averaged[0] and averaged[0] in fit.warnings
    weights = fit.settings["model_weights"]
    assert set(weights) == {"two classes", "normal effect"} and np.isclose(sum(weights.values()), 1)
    assert weights["two classes"] > 0.9 and fit.model.structure.capture_classes == 2
    two, normal = (fit.identifiability.loc[f"total deaths, {label}"] for label in ("two classes", "normal effect"))
    assert normal["median"] > two["upper"]
    for row, label in ((two, "two classes"), (normal, "normal effect")):
        assert f"{label} {row['median']:,.0f} [{row['lower']:,.0f}, {row['upper']:,.0f}]" in averaged[0]
    # the returned total, rates and table are the mixture's, and agree with each other
    assert fit.identifiability.loc["total deaths", "median"] == fit.total.estimate
    assert np.isclose(fit.identifiability.loc["mean deaths per day", "median"], fit.mean_rate.estimate)
    assert len(fit.total.draws) == len(fit.rate_draws) and fit.total.details["model_weights"] == weights
    assert np.allclose(fit.daily["median"], np.median(fit.rate_draws, axis=0))
    lower, upper = fit.total.interval
    assert lower <= sim.total <= upper
    # the lighter fit's own warnings travel, named as its; the summary says the capture model was averaged
    lighter = [m for m in fit.warnings if m.startswith("In the normal effect fit (weight ")]
    assert not any(m.startswith("In the two classes fit") for m in fit.warnings)
    assert all(m in fit.warnings for m in lighter) and "averaged: two classes (" in str(fit.summary())


def test_one_class_on_request_warns_and_keeps_one_class(hidden_class_fit):
    sim, fit, _ = hidden_class_fit
    one_class = [m for m in fit.warnings if "one class" in m]
    assert one_class  # the note travels with the result
    with pytest.warns(IdentifiabilityWarning, match="The intervals do not overlap"):
        one = daily_rates(days=42, lists=sim.lists, population=POPULATION, bin_days=7, rate_model="weekly_knots",
                          capture_classes=1, draws=200, tune=200, chains=2, prior_draws=0, random_seed=2)
    assert one.model.structure.capture_classes == 1
    assert "unlisted per listed death (latent classes)" in one.identifiability.index


def test_a_late_list_given_as_day_numbers_is_named():
    sim = _lists(120, 4, list_start={3: 40})
    with pytest.warns(UserWarning, match=r"List 'D' has no records from 0 to 3\d.*list_windows"):
        prepare_data(days=120, lists=sim.lists, population=POPULATION)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prepare_data(days=120, lists=sim.lists, population=POPULATION, list_windows={"D": (40, None)})


def test_a_late_list_of_dated_records_is_named_unless_its_window_says_so():
    sim = _lists(120, 4, list_start={3: 40})
    records = sim.lists.loc[sim.lists.index.repeat(sim.lists["count"])].drop(columns="count")
    start = pd.Timestamp("2024-01-01")
    records = records.assign(date=start + pd.to_timedelta(records.pop("day"), unit="D"))
    kwargs = dict(start=start, days=120, lists=records, day_column="date", population=POPULATION)
    # one warning, in dates (not once from the records and again from the daily check)
    with pytest.warns(UserWarning, match=r"List 'D' has no records from 2024-01-01 to 2024-02-\d\d") as caught:
        prepare_data(**kwargs)
    assert sum("has no records from" in str(w.message) for w in caught) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prepare_data(**kwargs, list_windows={"D": ("2024-02-10", None)})
    # a window that leaves part of the stretch inside it does not explain the stretch
    with pytest.warns(UserWarning, match=r"List 'D' has no records from 2024-01-01"):
        prepare_data(**kwargs, list_windows={"D": ("2024-01-20", None)})


def test_a_chain_stuck_at_the_maximum_tree_depth_is_named():
    from estimators._daily._convergence import _chain_disagreement

    totals = np.array([[117_000.0] * 8, [116_900.0] * 8, [137_600.0] * 8, [117_000.0] * 8])
    message = _chain_disagreement(totals, np.array([0.0, 0.01, 1.0, 0.0]))
    assert "medians are 117,000, 116,900, 137,600, 117,000" in message
    assert "Chain 3 reached the sampler's maximum tree depth" in message and "another random_seed" in message
    # no stuck chain: the chains may sit in two modes
    assert "two modes" in _chain_disagreement(totals, np.zeros(4))


def test_mixed_choices_only_when_the_imputations_chose_differently():
    assert mixed_choices_message({"capture_classes": [1, 1, 1], "time_varying_capture": [False] * 3}) is None
    message = mixed_choices_message({"capture_classes": [1, "normal", 1], "time_varying_capture": [False] * 3})
    assert message.startswith("The 3 imputations did not all lead 'auto' to the same model")
    assert "capture_classes 1 in 2, 'normal' in 1" in message and "time_varying_capture" not in message
