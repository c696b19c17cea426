"""Individual rosters (exact person-time from dates), rates by group, under-five and cause-specific rates,
post-stratification and raking."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from estimators import DataError
from estimators.survey import PlausibilityWarning, load_smart_example, mortality_rate
from estimators.survey._design import _indicators, _poststratify, _rake, _ratio_linearised
from estimators.survey._roster import ROSTER_COLUMNS, person_time

DATA = Path(__file__).parents[1] / "data"
START, END = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-03-30")  # 90 days, both counted
pytestmark = [pytest.mark.filterwarnings("ignore::estimators.exceptions.SmallSampleWarning"),
              pytest.mark.filterwarnings("ignore::estimators.survey.PlausibilityWarning")]


def person(cluster, household, age, sex="f", **dates):
    return {"cluster": cluster, "household": household, "age": age, "sex": sex, "arrival": None,
            "departure": None, "birth_date": None, "death_date": None, "cause": None, **dates}


def test_person_time_from_the_dates_by_hand():
    day = lambda k: START + pd.Timedelta(days=k)  # noqa: E731
    roster = pd.DataFrame([
        person(1, 1, 30),                                                # whole window: 90
        person(1, 1, 60, death_date=day(9), cause="violent"),            # died on day 10: 10 days, a death
        person(1, 1, 0, birth_date=day(80)),                             # born day 81: 10 days
        person(1, 1, 20, arrival=day(30), departure=day(39)),            # 10 days
        person(1, 1, 40, death_date=day(-5)),                            # died before the window: 0 days, no death
        person(1, 1, 50, departure=day(5), death_date=day(20)),          # left, died outside the household
    ])
    entry, exit_, days, died, _ = person_time(roster, ROSTER_COLUMNS, START, END)
    assert days.tolist() == [90, 10, 10, 10, 0, 6]
    assert died.tolist() == [False, True, False, False, False, False]


def test_a_death_date_known_only_to_its_month_is_an_error_not_the_first():
    roster = pd.DataFrame([person(1, 1, 30), person(1, 1, 60, death_date="2024-02"),
                           person(1, 1, 40, death_date="2024-02-10")])
    with pytest.raises(DataError, match=r"'death_date' has dates known only to a week, month or year in rows "
                                        r"\[1\] \(e.g. '2024-02'\).*needs its day"):
        person_time(roster, ROSTER_COLUMNS, START, END)
    exact = roster.assign(death_date=[None, "2024-02-15", "2024-02-10"])
    assert person_time(exact, ROSTER_COLUMNS, START, END)[3].tolist() == [False, True, True]


def _uniform_roster(frame: pd.DataFrame) -> pd.DataFrame:
    """A roster whose exact person-time equals the SMART half-period rule: every event on day 45 of 90."""
    day = lambda k: START + pd.Timedelta(days=k)  # noqa: E731
    people = []
    for _, hh in frame.iterrows():
        keys = dict(cluster=hh.cluster, household=hh.household)
        stay = hh.members_now - hh.joined - hh.births
        people += [person(**keys, age=30)] * int(stay)
        people += [person(**keys, age=30, arrival=day(45))] * int(hh.joined)
        people += [person(**keys, age=0, birth_date=day(45))] * int(hh.births)
        people += [person(**keys, age=30, departure=day(44))] * int(hh.left)
        people += [person(**keys, age=30, death_date=day(44))] * int(hh.deaths)
    return pd.DataFrame(people)


def test_roster_equals_the_household_form_when_events_are_at_mid_period():
    smart = load_smart_example()
    smart = smart[smart.members_now - smart.joined - smart.births >= 0]
    roster = _uniform_roster(smart)
    by_person = mortality_rate(roster, roster=True, recall_start=START, recall_end=END)
    by_household = mortality_rate(smart, recall_days=90)
    assert by_person.person_days == pytest.approx(by_household.person_days)
    assert by_person.rate == pytest.approx(by_household.rate, rel=1e-12)
    assert by_person.std_error == pytest.approx(by_household.std_error, rel=1e-12)
    assert by_person.design_effect == pytest.approx(by_household.design_effect, rel=1e-12)
    assert by_person.n_households == by_household.n_households


@pytest.fixture(scope="module")
def roster():
    rng = np.random.default_rng(3)
    rows = []
    for cluster in range(1, 13):
        for household in range(1, 9):
            for _ in range(rng.integers(2, 8)):
                age = int(rng.integers(0, 70))
                birth = END - pd.Timedelta(days=int(age * 365.25 + rng.integers(0, 365)))
                death = START + pd.Timedelta(days=int(rng.integers(0, 90))) if rng.random() < 0.03 else None
                cause = (rng.choice(["violent", "illness"]) if death is not None else None)
                rows.append(person(cluster, household, age, sex=rng.choice(["m", "f"]), birth_date=birth,
                                   death_date=death, cause=cause))
    frame = pd.DataFrame(rows)
    frame["region"] = np.where(frame.cluster <= 6, "north", "south")
    return frame


def test_age_groups_split_person_time_at_birthdays(roster):
    result = mortality_rate(roster, roster=True, recall_start=START, recall_end=END,
                            age_groups=[0, 5, 15, 50, 120], under5=True)
    table = result.table
    groups = table[table.index.str.startswith("deaths [age")]
    assert groups.person_days.sum() == pytest.approx(result.person_days)
    assert groups.deaths.sum() == result.deaths
    assert table.loc["deaths_u5", "person_days"] == pytest.approx(table.loc["deaths [age 0-5]", "person_days"])
    assert table.loc["deaths_u5", "rate"] == pytest.approx(table.loc["deaths [age 0-5]", "rate"])


def test_a_child_turning_five_is_split():
    birth = START + pd.Timedelta(days=30) - pd.Timedelta(days=round(5 * 365.25))
    frame = pd.DataFrame([person(c, 1, 5, birth_date=birth) for c in (1, 2)])
    result = mortality_rate(frame, roster=True, recall_start=START, recall_end=END, age_groups=[0, 5, 120])
    assert result.table.loc["deaths [age 0-5]", "person_days"] == 2 * 30
    assert result.table.loc["deaths [age 5-120]", "person_days"] == 2 * 60


def test_groups_and_causes_are_domains_of_the_same_design(roster):
    result = mortality_rate(roster, roster=True, recall_start=START, recall_end=END, by="sex", cause="cause",
                            stratum="region")
    table = result.table
    assert table.loc[["deaths [sex=m]", "deaths [sex=f]"], "deaths"].sum() == result.deaths
    causes = table[table.index.str.startswith("deaths [cause=")]
    assert causes.deaths.sum() == result.deaths
    assert (causes.person_days == result.person_days).all()
    # domain = ratio of domain totals, linearised over the whole design (y and x zero outside the domain)
    entry, exit_, days, died, _ = person_time(roster, ROSTER_COLUMNS, START, END)
    male = (roster.sex == "m").to_numpy()
    keys = roster.groupby(["region", "cluster", "household"], sort=False).ngroup().to_numpy()
    y = np.bincount(keys, died * male)
    x = np.bincount(keys, days * male)
    households = roster.groupby(["region", "cluster", "household"], sort=False).size().reset_index()
    psu = pd.factorize(households.region + households.cluster.astype(str))[0]
    ratio, variance, _ = _ratio_linearised(y, x, np.ones(len(y)), psu, households.region.to_numpy())
    assert table.loc["deaths [sex=m]", "rate"] == pytest.approx(ratio * 1e4, rel=1e-12)
    assert table.loc["deaths [sex=m]", "std_error"] == pytest.approx(np.sqrt(variance) * 1e4, rel=1e-12)


def test_household_level_groups_and_under_five():
    survey = pd.read_csv(DATA / "smart_survey_strata_example.csv")
    result = mortality_rate(survey, recall_days=90, stratum="region", weight="weight", by="region", under5=True)
    table = result.table
    north = survey[survey.region == "north"]
    alone = mortality_rate(north, recall_days=90, weight="weight", under5=True)
    # a stratum as the domain: the same rate and s.e. as analysing the stratum alone
    for label in ("deaths", "deaths_u5"):
        assert table.loc[f"{label} [region=north]", "rate"] == pytest.approx(alone.table.loc[label, "rate"])
        assert table.loc[f"{label} [region=north]", "std_error"] == pytest.approx(
            alone.table.loc[label, "std_error"], rel=1e-12)


def test_raking_weights_meet_every_margin_and_one_margin_is_post_stratification():
    survey = pd.read_csv(DATA / "smart_survey_strata_example.csv")
    survey["size"] = np.where(survey.members_now >= 7, "large", "small")
    margins = {"region": {"north": 190000, "south": 55000}, "size": {"large": 120000, "small": 125000}}
    w = _rake(survey.weight.to_numpy(), {k: (survey[k].to_numpy(), v) for k, v in margins.items()})
    for column, totals in margins.items():
        sums = pd.Series(w).groupby(survey[column].to_numpy()).sum().to_dict()
        assert sums == pytest.approx(totals, rel=1e-8)
    raked = mortality_rate(survey, recall_days=90, stratum="region", weight="weight", population_totals=margins)
    assert raked.calibration == "rake"
    one = {"region": margins["region"]}
    post = mortality_rate(survey, recall_days=90, stratum="region", weight="weight", population_totals=one)
    rake1 = mortality_rate(survey, recall_days=90, stratum="region", weight="weight", population_totals=one,
                           calibration_method="rake")
    assert rake1.rate == pytest.approx(post.rate, rel=1e-12)
    # weights constant within regions: weighted and unweighted residual means agree
    assert rake1.std_error == pytest.approx(post.std_error, rel=1e-10)
    ps_weights = _poststratify(survey.weight.to_numpy(), survey.region.to_numpy(), one["region"], "region")
    rk_weights = _rake(survey.weight.to_numpy(), {"region": (survey.region.to_numpy(), one["region"])})
    assert np.allclose(ps_weights, rk_weights, rtol=1e-12)
    assert _indicators({"region": (survey.region.to_numpy(), one["region"])}).sum() == len(survey)


def test_calibration_errors_are_clear():
    survey = pd.read_csv(DATA / "smart_survey_strata_example.csv")
    with pytest.raises(ValueError, match="no total for"):
        mortality_rate(survey, recall_days=90, population_totals={"region": {"north": 1000}})
    with pytest.raises(ValueError, match="absent from the sample"):
        mortality_rate(survey, recall_days=90, population_totals={"region": {"north": 1, "south": 1, "east": 1}})
    with pytest.raises(DataError, match="not in the data frame"):
        mortality_rate(survey, recall_days=90, population_totals={"zone": {"a": 1}})
    with pytest.raises(ValueError, match="needs ages"):
        mortality_rate(survey, recall_days=90, age_groups=[0, 5, 120])


def test_roster_needs_dates_and_ids(roster):
    with pytest.raises(ValueError, match="recall window as dates"):
        mortality_rate(roster, roster=True, recall_days=90)
    with pytest.raises(DataError, match="not dates"):
        mortality_rate(roster.assign(death_date="yesterday"), roster=True, recall_start=START, recall_end=END)
    with pytest.raises(ValueError, match="age_groups"):
        mortality_rate(roster, roster=True, recall_start=START, recall_end=END, age_groups=[5, 0])


def test_plausibility_flags_are_warnings_not_rejections(roster):
    heaped = roster.assign(age=np.where(roster.age >= 20, (roster.age // 10) * 10, roster.age), birth_date=None)
    with pytest.warns(PlausibilityWarning, match="Whipple"):
        result = mortality_rate(heaped, roster=True, recall_start=START, recall_end=END)
    assert np.isfinite(result.rate)
    assert not result.plausibility.ok
    assert any("Whipple" in w for w in result.warnings)


def _by_hand(y_person, x_person, frame, weights=None):
    """Domain ratio and s.e. by hand: person values summed into households, zero outside the domain, the score
    totalled per cluster, with-replacement variance between clusters within strata (the whole design kept)."""
    households = frame.assign(y=y_person, x=x_person).groupby(["region", "cluster", "household"])
    y, x = households.y.sum().to_numpy(), households.x.sum().to_numpy()
    w = np.ones(len(y)) if weights is None else weights
    ratio = (w @ y) / (w @ x)
    score = pd.Series(w * (y - ratio * x) / (w @ x), index=households.y.sum().index)
    variance = 0.0
    for _, region in score.groupby(level="region"):
        totals = region.groupby(level="cluster").sum().to_numpy()
        variance += len(totals) / (len(totals) - 1) * np.sum((totals - totals.mean()) ** 2)
    return ratio * 1e4, np.sqrt(variance) * 1e4


def test_crossed_groups_of_a_roster_are_domains_of_the_whole_design(roster):
    result = mortality_rate(roster, roster=True, recall_start=START, recall_end=END, stratum="region",
                            age_groups=[0, 15, 120], by=["sex", ("region", "sex"), ("age_group", "sex")])
    table = result.table
    entry, exit_, days, died, birth = person_time(roster, ROSTER_COLUMNS, START, END)
    south_male = ((roster.region == "south") & (roster.sex == "m")).to_numpy()
    rate, se = _by_hand(died * south_male, days * south_male, roster)
    assert table.loc["deaths [region=south, sex=m]", "rate"] == pytest.approx(rate, rel=1e-12)
    assert table.loc["deaths [region=south, sex=m]", "std_error"] == pytest.approx(se, rel=1e-12)
    # age crossed with sex: person-time under 15 from the birth dates, deaths by the age at death
    age_at_end = (END - birth).dt.days.to_numpy()
    days_under_15 = np.clip(np.minimum(exit_, birth + pd.to_timedelta(int(15 * 365.25) - 1, unit="D"))
                            .sub(entry).dt.days.to_numpy() + 1, 0, None)
    female = (roster.sex == "f").to_numpy()
    death_age = (pd.to_datetime(roster.death_date) - birth).dt.days.to_numpy()
    child_death = died & (death_age < int(15 * 365.25))  # the 15th birthday: day 5478 of life
    assert age_at_end.max() > 15 * 365.25  # the roster has adults and children
    rate, se = _by_hand(child_death * female, days_under_15 * female, roster)
    assert table.loc["deaths [age 0-15, sex=f]", "person_days"] == pytest.approx((days_under_15 * female).sum())
    assert table.loc["deaths [age 0-15, sex=f]", "rate"] == pytest.approx(rate, rel=1e-12)
    assert table.loc["deaths [age 0-15, sex=f]", "std_error"] == pytest.approx(se, rel=1e-12)
    # the crossed groups partition the sample
    crossed = table[table.index.str.startswith("deaths [region=")]
    assert len(crossed) == 4 and crossed.deaths.sum() == result.deaths
    assert crossed.person_days.sum() == pytest.approx(result.person_days)


def test_crossed_household_groups_with_weights():
    survey = pd.read_csv(DATA / "smart_survey_strata_example.csv")
    survey["size"] = np.where(survey.members_now >= 7, "large", "small")
    result = mortality_rate(survey, recall_days=90, stratum="region", weight="weight", joined=None, left=None,
                            births=None, by=[("region", "size")])
    inside = ((survey.region == "south") & (survey["size"] == "large")).to_numpy()
    frame = survey.assign(household=np.arange(len(survey)))
    x = (survey.members_now + survey.deaths / 2).to_numpy() * 90
    rate, se = _by_hand(survey.deaths.to_numpy() * inside, x * inside, frame, weights=survey.weight.to_numpy())
    assert result.table.loc["deaths [region=south, size=large]", "rate"] == pytest.approx(rate, rel=1e-12)
    assert result.table.loc["deaths [region=south, size=large]", "std_error"] == pytest.approx(se, rel=1e-12)


def test_bad_crossed_groups_are_refused(roster):
    with pytest.raises(ValueError, match="tuples of distinct column names"):
        mortality_rate(roster, roster=True, recall_start=START, recall_end=END, by=[("sex", "sex")])
    with pytest.raises(ValueError, match="tuples of distinct column names"):
        mortality_rate(roster, roster=True, recall_start=START, recall_end=END, by=[("sex", 3)])
    with pytest.raises(DataError, match="was not given"):
        mortality_rate(roster, roster=True, recall_start=START, recall_end=END, by=[("age_group", "sex")])
    with pytest.raises(ValueError, match="from `age_groups` alone"):
        mortality_rate(roster, roster=True, recall_start=START, recall_end=END, age_groups=[0, 5, 120],
                       by="age_group")


def test_a_domain_missing_from_a_cluster_keeps_that_cluster_in_the_variance(roster):
    # no men in cluster 1: the domain's total there is 0, one of the north's 6 cluster totals; analysing the
    # subset alone would see 5 clusters and another variance
    roster = roster.assign(sex=np.where(roster.cluster == 1, "f", roster.sex))
    result = mortality_rate(roster, roster=True, recall_start=START, recall_end=END, stratum="region",
                            by=[("region", "sex")])
    _, _, days, died, _ = person_time(roster, ROSTER_COLUMNS, START, END)
    north_male = ((roster.region == "north") & (roster.sex == "m")).to_numpy()
    rate, se = _by_hand(died * north_male, days * north_male, roster)
    row = result.table.loc["deaths [region=north, sex=m]"]
    assert row["rate"] == pytest.approx(rate, rel=1e-12) and row["std_error"] == pytest.approx(se, rel=1e-12)
    alone = mortality_rate(roster[north_male], roster=True, recall_start=START, recall_end=END)
    assert alone.n_clusters == 5 and alone.rate == pytest.approx(rate, rel=1e-12)
    assert abs(alone.std_error / se - 1) > 0.01


def test_plausibility_counts_the_households_of_the_design(roster):
    # household numbers restart in each cluster (1..8): the report counts the design's households (of the living)
    result = mortality_rate(roster, roster=True, recall_start=START, recall_end=END, stratum="region")
    row = result.plausibility.table.loc["mean household size"]
    living = roster[roster.death_date.isna()]
    assert row["n"] == result.n_households == 96 == len(living.groupby(["cluster", "household"]))
    assert row["value"] == pytest.approx(len(living) / 96)
