"""Crude death rate from a SMART household survey, with its design-based interval and design effect.
=================================================================================================

Runs on the simulated two-stage cluster survey shipped with the package (30 clusters x 20 households, 90-day
recall) and prints all-cause and violent death rates per 10,000 people per day. The same numbers come from R's
survey package: svyratio(~deaths, ~person_days, svydesign(ids=~cluster)) x 10,000.

    python examples/survey_smart.py
"""

from estimators.survey import load_smart_example, mortality_rate


def main() -> None:
    households = load_smart_example()
    result = mortality_rate(households, recall_days=90, cluster="cluster", cause="violent_deaths")
    print(result.summary())
    lower, upper = result.interval
    print(
        f"\nCrude death rate {result.rate:.2f} per 10,000 per day ({result.level:.0%} interval {lower:.2f} to "
        f"{upper:.2f}); clustering inflates the variance {result.design_effect:.2f}-fold over a simple random "
        f"sample of {result.n_households} households, so the survey carries the information of about "
        f"{result.effective_deaths:.0f} independent deaths rather than {result.deaths}."
    )
    print("Emergency threshold: 1 death per 10,000 per day (all causes).")


if __name__ == "__main__":
    main()
