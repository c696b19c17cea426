"""Death rates from an individual household roster: by age and sex, under-fives, causes, excess over a baseline.
==============================================================================================================

A simulated two-stratum cluster survey in roster form (one row per person ever in the household during a 90-day
recall period, with dates of arrival, departure, birth and death). Person-time comes exactly from the dates; the
rates by age group, sex and cause are domains of the same design (strata, clusters, weights), post-stratified to
known numbers of people per region; the plausibility checks run first; the excess over a pre-crisis baseline is
set beside the Sphere thresholds.

    python examples/survey_roster.py
"""

import warnings

import numpy as np
import pandas as pd

from estimators.survey import PlausibilityWarning, excess_mortality, mortality_rate, plausibility

START, END = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-03-30")


def simulated_roster(seed: int = 20) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for region, n_clusters, weight, daily_risk in (("north", 25, 60.0, 1.5e-4), ("south", 15, 40.0, 3e-4)):
        for cluster in range(1, n_clusters + 1):
            for household in range(1, 21):
                for _ in range(rng.integers(2, 10)):
                    age = float(min(rng.exponential(22), 95))
                    birth = END - pd.Timedelta(days=int(age * 365.25))
                    risk = daily_risk * (4 if age < 5 else 1)
                    day = rng.geometric(risk) - 1
                    death = START + pd.Timedelta(days=int(day)) if day < 90 and birth < START else pd.NaT
                    cause = (rng.choice(["violence", "illness"], p=[0.4, 0.6]) if death is not pd.NaT else None)
                    left = START + pd.Timedelta(days=int(rng.integers(0, 90))) if rng.random() < 0.03 else pd.NaT
                    rows.append(dict(region=region, cluster=cluster, household=household, weight=weight,
                                     age=int(age), sex=rng.choice(["m", "f"]), birth_date=birth, arrival=pd.NaT,
                                     departure=left, death_date=death, cause=cause))
    return pd.DataFrame(rows)


def main() -> None:
    roster = simulated_roster()
    living = roster[roster.death_date.isna()]
    print(plausibility(living, dates=["birth_date"]).summary(), end="\n\n")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PlausibilityWarning)  # already printed above
        result = mortality_rate(
            roster, roster=True, recall_start=START, recall_end=END, stratum="region", weight="weight",
            age_groups=[0, 5, 15, 50, 120], by="sex", cause="cause", under5=True,
            population_totals={"region": {"north": 250_000, "south": 90_000}},
        )
    print(result.summary(), end="\n\n")

    excess = excess_mortality(result, {"deaths": (0.5, (0.4, 0.6)), "deaths_u5": (1.0, (0.8, 1.2))},
                              population=(300_000, 380_000), random_seed=1)
    print(excess.summary())


if __name__ == "__main__":
    main()
