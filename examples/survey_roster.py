"""A roster survey with dated deaths, two lists and a tally: daily death rates, excess mortality and the thresholds.
==================================================================================================================

A simulated 120-day conflict in a population of 300,000 (the truth is known). Violent deaths are recorded by two
matched lists of named victims (A and B, with the day of death) and counted by a tally that sees about 40% of
them. At the end, a two-stratum cluster survey interviews 800 households about the last 90 days in roster form:
one row per person ever in the household, with dates of arrival, departure, birth and death, and the cause.

1. The survey alone: plausibility checks, then person-time exactly from the dates, the crude, under-five,
   cause-specific and age-by-sex rates as domains of one design (strata, clusters, weights), post-stratified to
   known numbers of households per region.
2. Excess mortality over a pre-crisis baseline, beside the Sphere thresholds.
3. The survey's violent deaths, each with its date, enter the daily model through
   ``SurveyObservation.from_survey`` beside the two lists and the tally; the daily model's violent deaths plus
   the survey's non-violent excess give the excess deaths of the whole period.

    python examples/survey_roster.py [--draws N] [--plot PATH]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from estimators import SmallSampleWarning, SurveyObservation, daily_rates
from estimators.simulate import simulate_conflict
from estimators.survey import PlausibilityWarning, excess_mortality, mortality_rate, plausibility

STUDY_START = pd.Timestamp("2024-01-01")
DAYS = 120
RECALL_FIRST_DAY = 30  # the survey recalls study days 30..119, the last 90 days
RECALL_START = STUDY_START + pd.Timedelta(days=RECALL_FIRST_DAY)
RECALL_END = STUDY_START + pd.Timedelta(days=DAYS - 1)
POPULATION = 300_000
HOUSEHOLDS = {"north": 32_000, "south": 18_000}  # known from a census frame: the post-stratification totals
BASELINE = {"deaths": (0.40, (0.32, 0.48)), "deaths_u5": (0.90, (0.70, 1.10))}  # pre-crisis, per 10,000 a day
NON_VIOLENT = 0.40e-4  # per person per day (x3 under five): the baseline, unchanged by the conflict


def simulated_roster(violent_rate: np.ndarray, seed: int = 20) -> pd.DataFrame:
    """Households of two regions (25 and 15 clusters of 20); each person's violent hazard on each recall day is
    the conflict's daily rate per person, times a cluster frailty; the non-violent hazard is the baseline."""
    rng = np.random.default_rng(seed)
    recall = np.arange(RECALL_FIRST_DAY, DAYS)
    violent = violent_rate[recall] / POPULATION
    rows = []
    for region, n_clusters, weight in (("north", 25, HOUSEHOLDS["north"] / 500),
                                       ("south", 15, HOUSEHOLDS["south"] / 300)):
        for cluster in range(1, n_clusters + 1):
            frailty = rng.gamma(4.0, 0.25)
            for household in range(1, 21):
                for _ in range(rng.integers(2, 10)):
                    age = float(min(rng.exponential(22), 95))
                    hazard = frailty * violent + NON_VIOLENT * (3 if age < 5 else 1)
                    day = np.searchsorted(np.cumsum(hazard), rng.exponential())  # first day the hazard is spent
                    died = day < len(recall)
                    cause = (("violence" if rng.random() < frailty * violent[day] / hazard[day] else "illness")
                             if died else None)
                    left = rng.random() < 0.03
                    rows.append(dict(
                        region=region, cluster=cluster, household=household, weight=weight, age=int(age),
                        sex=rng.choice(["m", "f"]), birth_date=RECALL_END - pd.Timedelta(days=int(age * 365.25)),
                        arrival=pd.NaT, death_date=RECALL_START + pd.Timedelta(days=int(day)) if died else pd.NaT,
                        departure=RECALL_START + pd.Timedelta(days=int(rng.integers(0, 90))) if left else pd.NaT,
                        cause=cause,
                    ))
    return pd.DataFrame(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--draws", type=int, default=300, help="posterior draws per chain of the daily model")
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--plot", default=None, help="also save the daily-rate figure here")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    conflict = simulate_conflict(DAYS, mean_rate=30, capture_logits=(-0.8, -1.2), population=POPULATION,
                                 tally_coverage=0.4, survey_clusters=None, random_seed=args.seed)
    roster = simulated_roster(conflict.rate, seed=args.seed)
    print(f"Truth: {conflict.deaths.sum():,} violent deaths in {DAYS} days; lists A and B name "
          f"{int(conflict.lists['count'].sum()):,} of them; the tally counts {conflict.tallies[0].count:,.0f}.\n")

    # 1. The survey alone
    living = roster[roster.death_date.isna()]
    print(plausibility(living, household=["region", "cluster", "household"], dates=["birth_date"]).summary(),
          end="\n\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PlausibilityWarning)  # printed above
        warnings.simplefilter("ignore", SmallSampleWarning)  # in the summary's notes
        survey = mortality_rate(
            roster, roster=True, recall_start=RECALL_START, recall_end=RECALL_END, stratum="region",
            weight="weight", cause="cause", under5=True, age_groups=[0, 5, 15, 50, 120],
            by=[("age_group", "sex")], population_totals={"region": HOUSEHOLDS},
        )
    print(survey.summary(), end="\n\n")

    # 2. Excess over the pre-crisis baseline, beside the thresholds
    excess = excess_mortality(survey, BASELINE, population=(280_000, 320_000), random_seed=args.seed)
    print(excess.summary(), end="\n\n")

    # 3. The daily model: the survey's violent deaths with their dates, two lists, a tally
    observation = SurveyObservation.from_survey(survey, STUDY_START, row="deaths [cause=violence]",
                                                name="roster survey")
    print(f"Into the daily model: {observation.deaths} violent deaths over {observation.person_days:,.0f} "
          f"person-days, study days {observation.start_day}..{observation.end_day}, design effect "
          f"{observation.design_effect:.2f}, dated on days {observation.death_days[:5]} ...\n")
    with warnings.catch_warnings(record=True):  # kept in fit.warnings, printed below
        warnings.simplefilter("always")
        fit = daily_rates(start=STUDY_START, days=DAYS, lists=conflict.lists, tallies=conflict.tallies,
                          surveys=[observation], population=(280_000, 320_000), draws=args.draws,
                          tune=args.draws, chains=2, prior_draws=0, random_seed=args.seed)
    print(fit.summary())
    total = fit.total
    print(f"\nViolent deaths, {DAYS} days: {total.estimate:,.0f} (95% CrI {total.interval[0]:,.0f} - "
          f"{total.interval[1]:,.0f}); true {conflict.deaths.sum():,}.")

    # Excess deaths of the whole period: violent deaths (none at baseline) plus the survey's non-violent excess
    # (its non-violent rate less the baseline, over the same days); independent, so drawn independently.
    rng = np.random.default_rng(args.seed)
    violent_draws = fit.idata.posterior["rate"].sum("day").to_numpy().ravel()
    illness = survey.table.loc["deaths [cause=illness]"]
    non_violent = rng.normal(illness["rate"] - BASELINE["deaths"][0], illness["std_error"], violent_draws.size)
    period = violent_draws + non_violent / 1e4 * POPULATION * DAYS
    low, mid, high = np.quantile(period, [0.025, 0.5, 0.975])
    print(f"Excess deaths, {DAYS} days: {mid:,.0f} (95% interval {low:,.0f} - {high:,.0f}).")
    violent_rate = fit.rate_per_10000
    print(f"Violent deaths per 10,000 a day: {violent_rate.estimate:.2f} ({violent_rate.interval[0]:.2f} - "
          f"{violent_rate.interval[1]:.2f}); with the baseline {BASELINE['deaths'][0]} the crude death rate is "
          f"about {violent_rate.estimate + BASELINE['deaths'][0]:.2f}, against the Sphere alert level 1 and "
          "emergency level 2.")
    for message in fit.warnings:
        print(f"  note: {message}")

    import matplotlib

    matplotlib.use("Agg")
    ax = fit.plot()
    ax.plot(np.arange(DAYS), conflict.rate, color="tab:red", lw=1.2, ls="--", label="true violent deaths a day")
    ax.axvspan(RECALL_FIRST_DAY, DAYS - 1, color="tab:green", alpha=0.06, label="survey recall window")
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title("Two lists, a tally and a roster survey with dated deaths", fontsize=9)
    ax.figure.tight_layout()
    if args.plot:
        ax.figure.savefig(args.plot, dpi=120)
    print(f"\n{time.perf_counter() - started:.0f} s in all")
    return fit


if __name__ == "__main__":
    main()
