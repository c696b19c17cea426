"""From three lists of names to an estimate of all deaths, with the linkage uncertainty in the interval
=====================================================================================================

Three organisations each kept a list of the dead: given name, father's name, family name, sex, age, date and place
of death. Nobody shares an id. The same man is "Mohammed Hussein al-Jubouri" on one list, "Muhammad Husain
Jabouri" on another and, with his names swapped and a typo, "Jubouri Mohamad" on a third; some records have no
age, a date known only to the month, an age rounded to 5; some deaths are entered twice on one list.

The lists here are simulated (:func:`estimators.simulate.simulate_named_lists`), so the truth is known. The steps:

1. :func:`estimators.link`: standardise the names, block, fit a Fellegi-Sunter model (splink 5, EM) and score
   every candidate pair with a match probability;
2. read the summary and the clerical-review table (the pairs nearest the threshold, for a person to check);
3. capture histories at the threshold, and an estimate that treats the linkage as certain;
4. ``replicates(m)``: m plausible matchings drawn from the match probabilities, each fitted, pooled by Rubin's
   rules: the interval now includes the linkage error, and the pooled result says what share of its variance
   is due to linkage;
5. a daily death rate over the year.

Needs the linkage extra: ``pip install 'undercount-estimators[linkage]'``.
Run: ``python examples/linkage_names.py [--deaths N] [--seed S] [--m M]``
"""

from __future__ import annotations

import argparse
import time
import warnings

import pandas as pd

import estimators
from estimators.simulate import simulate_named_lists


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deaths", type=int, default=600, help="deaths in the simulated population")
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--m", type=int, default=20, help="linkage replicates")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    # %%
    # Three raw lists
    # ---------------
    sim = simulate_named_lists(args.deaths, lists=3, random_seed=args.seed)
    for name, frame in sim.lists.items():
        print(f"List {name}: {len(frame):,} records")
    print(sim.lists["A"].head(8).to_string(index=False))

    # %%
    # Link them
    # ---------
    linked = estimators.link(sim.lists, threshold=0.9, random_seed=args.seed)
    print()
    print(linked.summary())

    # %%
    # Clerical review: the pairs the model is least sure about
    # ---------------------------------------------------------
    review = linked.clerical_review(n=10)
    shown = pd.DataFrame({
        "p": review["match_probability"].round(2),
        "left": review["first_name_l"].astype(str) + " " + review["father_name_l"].fillna("").astype(str) + " "
        + review["family_name_l"].astype(str) + ", " + review["age_l"].astype(str) + ", "
        + review["date_of_death_l"].astype(str),
        "right": review["first_name_r"].astype(str) + " " + review["father_name_r"].fillna("").astype(str) + " "
        + review["family_name_r"].astype(str) + ", " + review["age_r"].astype(str) + ", "
        + review["date_of_death_r"].astype(str),
    })
    print("\nPairs nearest the threshold (to check by hand):")
    print(shown.to_string(index=False))

    # %%
    # Linkage treated as certain
    # --------------------------
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # coverage-gap notes on a simulated year
        h = linked.histories(covariates=None)
    certain = estimators.loglinear(h, select="average")
    print(f"\n{h.n_observed:,} people at threshold 0.9 (truly {sim.true_histories().n_observed:,} listed).")
    print(f"Linkage taken as certain: N = {certain.estimate:,.0f} "
          f"(95% {certain.interval[0]:,.0f} - {certain.interval[1]:,.0f})")

    # %%
    # Linkage uncertainty carried into the interval
    # ---------------------------------------------
    # Each replicate: every candidate pair is a link with its match probability; links are joined in order of
    # probability (transitive closure), never putting two records of one list together unless linked as
    # duplicates. Each replicate is fitted; the fits are pooled (the documented loop is
    # ``estimators.pool([estimators.loglinear(h, select="average") for h in replicates])``).
    replicates = linked.replicates(args.m, random_seed=args.seed, covariates=None)
    pooled = replicates.estimate("loglinear", select="average")
    print(f"With linkage uncertainty ({args.m} replicates): N = {pooled.estimate:,.0f} "
          f"(95% {pooled.interval[0]:,.0f} - {pooled.interval[1]:,.0f}); people per replicate "
          f"{min(replicates.n_people):,} - {max(replicates.n_people):,}")
    print(f"Share of the variance due to linkage: {pooled.details['linkage_share']:.0%}")
    print(f"True number of deaths: {sim.n_deaths:,}")

    # %%
    # A daily rate
    # ------------
    rate = pooled.rate(365, population=(750_000, 800_000))
    print()
    print(rate.summary() if hasattr(rate, "summary") else rate)
    print(f"\nRan in {time.perf_counter() - started:.0f} s.")
    return pooled


if __name__ == "__main__":
    main()
