"""West Mosul, 19 February - 19 June 2017: what the public figures say about the daily death rate, jointly.
========================================================================================================

Public record (see shared/data/MOSUL_2017.md for sources and scope):

  * at least 5,805 civilians killed in west Mosul, 19 Feb - 19 Jun 2017, by coalition and Iraqi forces
    (Airwars, cited by Amnesty International, "At Any Cost", MDE 14/6610/2017): an incident-based tally;
  * "one in three families" that Amnesty's researcher spoke to had lost a member; Amnesty interviewed 151 west
    Mosul residents in March and May 2017 (not a random sample);
  * 750,000 - 800,000 civilians in west Mosul at the start of the offensive (UN OCHA, Feb 2017);
  * "12 civilians a day": coalition strikes in Iraq AND Syria, 20 Jan - 13 Jul 2017 (Airwars for The Daily
    Beast): another place, period and perpetrator, shown for comparison only, never fitted.

Every other number below is an ASSUMPTION, named as such here and in the printed output. Change them with the
arguments of this script and see how the answer moves (the sensitivity table does some of that for you).

Run: ``python examples/mosul_2017.py [--plot PATH] [--draws N] [--seed S]``
"""

from __future__ import annotations

import argparse
import time
import warnings


from estimators import HouseholdSummary, Tally, daily_rates, sensitivity

START, END = "2017-02-19", "2017-06-19"

PUBLIC = {
    "documented deaths (Airwars tally, west Mosul, 19 Feb - 19 Jun 2017)": 5805,
    "of which in coalition strikes": 3706,
    "population of west Mosul at the start (OCHA)": "750,000 - 800,000",
    "share of interviewed families that lost a member": "one in three",
    "residents interviewed by Amnesty (March and May 2017)": 151,
}

ASSUMPTIONS = {
    "families interviewed": "151: each interviewee taken as one family (Amnesty does not publish the families)",
    "families that lost a member": "50 of 151 (one in three)",
    "household size": "mean 6 people, 95% range 5 - 7.5 (not published; typical of Iraqi households)",
    "survey recall window": "19 Feb - 15 May 2017 (interviews in March and May; deaths since the offensive)",
    "survey design effect": "2 (interviews clustered by neighbourhood and referral, not a random sample)",
    "survey bias factor": "log-normal, median 1, log-sd 1.0: the interviewees may over- or under-represent "
                          "bereaved families by a factor of up to ~7 (95%); the data cannot tell which",
    "tally coverage prior": "Beta(1, 1): any share of deaths recorded by the tally is equally plausible a priori",
    "population at risk": "log-normal with 95% range 750,000 - 800,000 (the OCHA figure) held constant, although "
                          "many fled during the offensive (see the sensitivity table)",
    "a second matched list": "none: no second list of named victims is public, and inventing one would invent "
                             "the answer",
    "rate over time": "constant: every public figure is a period total, so nothing informs day-to-day changes",
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plot", default="mosul_2017_daily_rate.png", help="where to save the figure")
    parser.add_argument("--draws", type=int, default=1000, help="posterior draws per chain")
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--bias-scale", type=float, default=1.0, help="log-sd of the survey bias factor")
    parser.add_argument("--no-sensitivity", action="store_true")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    print("West Mosul, 19 Feb - 19 Jun 2017 (121 days counting both ends)\n")
    print("From the public record:")
    for key, value in PUBLIC.items():
        print(f"  {key}: {value:,}" if isinstance(value, int) else f"  {key}: {value}")
    print("\nASSUMPTIONS (not from the public record):")
    for key, value in ASSUMPTIONS.items():
        print(f"  [assumption] {key}: {value}")

    tally = Tally("Airwars", 5805, START, END)
    interviews = HouseholdSummary(
        n_households=151, n_affected=50, household_size=(5.0, 7.5), design_effect=2.0,
        start_day=START, end_day="2017-05-15", name="Amnesty interviews",
    )
    with warnings.catch_warnings(record=True):  # the result carries its warnings; printed below
        warnings.simplefilter("always")
        fit = daily_rates(
            start=START, end=END, tallies=[tally], households=[interviews], population=(750_000, 800_000),
            rate_model="constant", bias_scale=args.bias_scale, draws=args.draws, tune=1000, chains=4,
            prior_draws=500, random_seed=args.seed,
        )

    rate, per10k = fit.mean_rate, fit.rate_per_10000
    cov = fit.coverage.loc["Airwars"]
    print("\nJoint posterior (tally + interviews + population prior):")
    print(f"  deaths per day:              {rate.estimate:7.1f}  (95% CrI {rate.interval[0]:.1f} - "
          f"{rate.interval[1]:.1f})")
    print(f"  deaths per 10,000 per day:   {per10k.estimate:7.2f}  (95% CrI {per10k.interval[0]:.2f} - "
          f"{per10k.interval[1]:.2f})")
    print(f"  total deaths, 121 days:      {fit.total.estimate:7,.0f}  (95% CrI {fit.total.interval[0]:,.0f} - "
          f"{fit.total.interval[1]:,.0f})")
    print(f"  Airwars tally's coverage:    {cov['median']:7.2f}  (95% CrI {cov['lower']:.2f} - {cov['upper']:.2f});"
          f" undercount factor {cov['undercount']:.1f} ({cov['undercount_lower']:.1f} - "
          f"{cov['undercount_upper']:.1f})")

    print("\nArithmetic on the public figures alone, for comparison:")
    print(f"  5,805 documented deaths / 120 days = {5805 / 120:.1f} a day (a lower bound for west Mosul alone);"
          f" / 121 days = {5805 / 121:.1f}")
    print(f"  per 10,000 a day with 775,000 at risk: {5805 / 775_000 / 120 * 1e4:.2f} "
          "(emergency threshold: 1 per 10,000 per day; Iraq's pre-war crude death rate ~0.13)")
    print("  '12 civilians a day' (Airwars): coalition strikes only, Iraq and Syria together, 20 Jan - 13 Jul 2017:"
          " a different scope, NOT comparable and NOT used in the fit")

    print("\nWhat informs what (prior -> posterior, contraction on the log scale):")
    table = fit.identifiability[["prior_lower", "prior_upper", "lower", "upper", "contraction", "informed_by"]]
    print(table.to_string(float_format=lambda v: f"{v:,.3g}"))
    print("\nPosterior predictive checks:")
    print(fit.posterior_predictive.to_string(float_format=lambda v: f"{v:,.3g}"))
    print("\nDiagnostics: R-hat {r_hat:.3f}, bulk ESS {ess_bulk:.0f}, divergences {divergences}".format(
        **fit.diagnostics))
    for message in fit.warnings:
        print(f"  note: {message}")

    if not args.no_sensitivity:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = sensitivity(fit, {
                "bias factor log-sd 0.5": {"bias_scale": 0.5},
                "bias factor log-sd 1.5": {"bias_scale": 1.5},
                "population 400,000 - 800,000 (flight)": {"population": (400_000, 800_000)},
                "tally coverage prior Beta(2, 2)": {"tally_coverage_prior": (2.0, 2.0)},
            }, draws=min(args.draws, 500))
        print("\nSensitivity to the assumptions (refits of the compiled model):")
        print(table[["mean_rate", "mean_rate_lower", "mean_rate_upper", "mean_rate_change_pct", "total",
                     "total_lower", "total_upper"]].to_string(float_format=lambda v: f"{v:,.1f}"))

    import matplotlib

    matplotlib.use("Agg")
    ax = fit.plot()
    # The interval spans two orders of magnitude: a log scale keeps the documented level visible.
    ax.set_yscale("log")
    ax.set_ylim(5, None)
    ax.axhline(12, color="tab:gray", ls=":", lw=1)
    ax.text(fit.daily.date.iloc[2], 12, " '12 a day': coalition only, Iraq + Syria, other period (not comparable)",
            fontsize=7, va="bottom", color="tab:gray")
    ax.set_title("West Mosul 2017: daily deaths, tally + interviews (assumptions stated in the script)\n"
                 f"{rate.estimate:.0f} a day (95% CrI {rate.interval[0]:.0f}-{rate.interval[1]:.0f}); "
                 f"documented 5,805 = {5805 / 121:.0f} a day", fontsize=9)
    ax.figure.autofmt_xdate()
    ax.figure.tight_layout()
    ax.figure.savefig(args.plot, dpi=120)
    print(f"\nPlot saved to {args.plot}  ({time.perf_counter() - started:.0f} s in all)")
    return fit


if __name__ == "__main__":
    main()
