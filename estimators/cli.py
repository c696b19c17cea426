"""The ``undercount`` command: estimate N from lists, by stratum, a survey's death rate, and daily death rates.

Built on :mod:`argparse` (the standard library): no dependency to install, and no start-up cost beyond
``import estimators`` itself. Start-up matters for a command that is also used for ``undercount datasets | head``,
so every heavy import (PyMC, matplotlib, the estimators' submodules) happens inside the subcommand that needs it.
The estimators offered are read from :mod:`estimators._registry`, the package's one list of them.

Errors from the library name Python keywords (`recall_days` must be ...); the command line rewrites them to
name its flags (--recall-days must be ...), prints ``undercount: error: ...`` on stderr and exits 2, as
argparse does for its own errors.

Examples
--------
    undercount datasets
    undercount estimate LCMCR_kosovo --method graphical_bma
    undercount estimate my_lists.csv --method loglinear --days 120 --population 775000
    undercount estimate people.csv --records --lists A,B,C --method chapman --pair A,B
    undercount estimate people.csv --records --lists A,B,C --by date --freq M --method loglinear
    undercount survey households.csv --recall-days 90 --cluster cluster --out-csv survey_summary.csv
    undercount daily --lists people.csv --tally tally.csv --survey survey_summary.csv --start 2024-01-01
        --days 90 --population 450000,550000 --out-csv daily.csv --plot daily.png
    undercount benchmark run --suite quick      (from a source checkout)
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import warnings
from pathlib import Path

# One example per subcommand, shown by `undercount --help` and by each subcommand's own --help.
EXAMPLES = {
    "estimate": "undercount estimate people.csv --records --lists A,B,C --method loglinear --days 120",
    "recommend": "undercount recommend people.csv --records --lists A,B,C --covariates region --random-seed 1",
    "survey": "undercount survey households.csv --recall-days 90 --cluster cluster",
    "daily": "undercount daily --lists people.csv --tally tally.csv --survey survey.csv --start 2024-01-01 "
             "--days 90 --population 500000 --out-csv daily.csv --plot daily.png",
    "datasets": "undercount datasets | head",
    "benchmark": "undercount benchmark run --suite quick --jobs 2      (from a source checkout)",
}


class CommandError(ValueError):
    """A mistake in the command line that the library cannot see (already worded with the flags)."""


def _methods() -> dict:
    from . import _registry

    return _registry.cli_methods()


def _names(value: str | None) -> list[str] | None:
    """``"A,B,C"`` -> ``["A", "B", "C"]`` (None stays None)."""
    if value is None:
        return None
    return [name.strip() for name in value.split(",") if name.strip()]


def _read_csv(path: str, flag: str):
    import pandas as pd

    if not Path(path).is_file():
        raise CommandError(f"{flag}: no such file {path!r}.")
    return pd.read_csv(path)


# ------------------------------------------------------------------------------------------------------ estimate
def _load(args, lists):
    """The capture histories the `estimate` subcommand works on: from a CSV (counts or records) or a dataset."""
    import estimators

    path = Path(args.data)
    if not path.exists():
        if args.records or args.by:
            raise CommandError(f"no such file {args.data!r} (--records and --by need a CSV file).")
        return estimators.load_dataset(args.data, collapse=True)
    if not (args.records or args.by) and path.is_file():
        # a plain table of counts is read without pandas (a quarter of a second of the command's start-up)
        from .datasets import counts_table

        histories = counts_table(path, lists, args.count)
        if histories is not None:
            return histories.collapse()
    frame = _read_csv(args.data, "DATA")
    if args.by and args.freq and args.by not in frame.columns:
        raise CommandError(f"--by {args.by!r} is not a column of {args.data}; columns are {list(frame.columns)!r}.")
    if args.records:
        if lists is None:
            raise CommandError("--records needs --lists naming the 0/1 list columns, e.g. --lists A,B,C.")
        missing = [name for name in lists if name not in frame.columns]
        if not missing:
            on_none = frame[lists].apply(_numeric).eq(0).all(axis=1)
            if on_none.any():
                # typically two of k lists named in --lists: the other lists' records are then on none of them
                raise CommandError(
                    f"{int(on_none.sum())} record(s) are on none of --lists {','.join(lists)} (first: row "
                    f"{frame.index[on_none.to_numpy()][0]!r}). Name every list column with --lists; to use two of "
                    f"them, add --pair A,B."
                )
        histories = estimators.CaptureHistories.from_records(frame, lists=lists)
    else:
        histories = estimators.CaptureHistories.from_counts(frame, count=args.count, lists=lists)
    # estimate_strata splits by the covariates; a single estimate needs one count per pattern
    return histories if args.by or getattr(args, "covariates", None) else histories.collapse()


def _numeric(column):
    import pandas as pd

    return pd.to_numeric(column, errors="coerce")


def _estimate(args) -> int:
    import inspect

    import estimators

    entry = _methods()[args.method]
    pair = _names(args.pair)
    if pair is not None:
        if len(pair) != 2:
            raise CommandError(f"--pair must name exactly two lists, e.g. --pair A,B; got {args.pair!r}.")
        if not entry.two_lists:
            two = ", ".join(name for name, e in _methods().items() if e.two_lists)
            raise CommandError(f"--pair is for the two-list methods ({two}); --method {args.method} uses every list.")
    if args.freq and not args.by:
        raise CommandError("--freq bins the dates of the --by column: give --by COLUMN too.")
    if entry.joint_strata and not args.by:
        raise CommandError(f"--method {args.method} fits every stratum in one model: give --by COLUMN.")
    histories = _load(args, _names(args.lists))
    if entry.two_lists and pair is None and histories.k != 2:
        first, second = histories.lists[:2]
        raise CommandError(
            f"--method {args.method} uses two lists; these data have {histories.k} lists {list(histories.lists)!r}. "
            f"Name the two with --pair, e.g. --pair {first},{second}."
        )
    method = entry.load()
    accepted = inspect.signature(method).parameters
    options = {"level": args.level}
    # every estimator that draws random numbers takes `random_seed`: asking the signature keeps a seeded run
    # reproducible for methods added later
    if args.random_seed is not None and "random_seed" in accepted:
        options["random_seed"] = args.random_seed
    if args.kind is not None:
        if "kind" not in accepted:
            raise CommandError(f"--kind is an option of --method heterogeneity, not of --method {args.method}.")
        options["kind"] = args.kind
    if pair is not None:
        options["lists"] = tuple(pair)
    if args.by:
        strata = estimators.estimate_strata(histories, by=args.by, freq=args.freq, method=entry.name,
                                            n_jobs=args.n_jobs, progress=False, **options)
        print(strata.summary())
        if args.out_csv:
            strata.table.to_csv(args.out_csv, index=False)
        if len(strata.results):
            print()
            print(strata.total().summary())
        return 0
    print(histories.summary())
    print()
    result = method(histories, **options)
    print(result.summary())
    if args.days:
        print()
        print(result.rate(days=args.days, population=args.population))
    return 0


def _recommend(args) -> int:
    import estimators

    covariates = _names(args.covariates)
    methods = _names(args.methods)
    histories = _load(args, _names(args.lists))
    result = estimators.estimate(histories, level=args.level, random_seed=args.random_seed, methods=methods,
                                 covariates=covariates)
    print(result.summary())
    if args.out_csv:
        result.to_frame().to_csv(args.out_csv, index=False)
    return 0


# ------------------------------------------------------------------------------------------------------- survey
def _optional_column(value: str | None) -> str | None:
    """``--joined none`` says the survey did not record that column (the library's None)."""
    return None if value is None or value.lower() == "none" else value


def _survey(args) -> int:
    from estimators.survey import mortality_rate

    frame = _read_csv(args.data, "FILE")
    result = mortality_rate(
        frame, recall_days=args.recall_days, cluster=args.cluster, stratum=args.stratum, weight=args.weight,
        members=args.members, deaths=args.deaths, joined=_optional_column(args.joined),
        left=_optional_column(args.left), births=_optional_column(args.births), cause=args.cause,
        household=args.household, level=args.level, recall_start=args.recall_start, recall_end=args.recall_end,
    )
    print(result.summary())
    if args.out_csv:
        _survey_row(result, args.name).to_csv(args.out_csv, index=False)
    return 0


def _survey_row(result, name: str):
    """One row in the form `undercount daily --survey` reads, so a survey's rate feeds the daily model."""
    import pandas as pd

    def day(value):
        return None if value is None else pd.Timestamp(value).date().isoformat()

    return pd.DataFrame([{
        "name": name, "deaths": result.deaths, "person_days": result.person_days,
        "design_effect": result.design_effect, "start_day": day(result.recall_start),
        "end_day": day(result.recall_end), "rate_per_10000": result.rate, "lower": result.interval[0],
        "upper": result.interval[1], "level": result.level,
    }])


# -------------------------------------------------------------------------------------------------------- daily
def _population(value: str):
    """``500000`` or a range ``450000,550000`` (the 95% interval of a log-normal prior)."""
    parts = _names(value) or []
    try:
        numbers = [float(part.replace("_", "")) for part in parts]
    except ValueError:
        numbers = []
    if len(numbers) == 1:
        return numbers[0]
    if len(numbers) == 2:
        return tuple(numbers)
    raise argparse.ArgumentTypeError(f"give a number or a range LOW,HIGH; got {value!r}")


def _day(value):
    """A day from a CSV cell: a study-day number stays a number, anything else is a date (text)."""
    import pandas as pd

    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    if isinstance(value, str):
        text = value.strip()
        return int(text) if text.lstrip("-").isdigit() else text
    number = float(value)
    return int(number) if number.is_integer() else number


def _column(frame, *names):
    return next((name for name in names if name in frame.columns), None)


def _tallies(paths):
    """Tally objects from CSVs with columns name, count, start_day, end_day (one row per source and period)."""
    from estimators import Tally

    tallies = []
    for path in paths:
        frame = _read_csv(path, "--tally")
        missing = [c for c in ("name", "count") if c not in frame.columns]
        if missing:
            raise CommandError(f"--tally {path}: missing column(s) {missing!r}; the columns must be name, count, "
                               f"start_day, end_day (one row per source and period); got {list(frame.columns)!r}.")
        first, last = _column(frame, "start_day", "start"), _column(frame, "end_day", "end")
        for _, row in frame.iterrows():
            tallies.append(Tally(name=str(row["name"]), count=row["count"],
                                 start_day=_day(row[first]) if first else None,
                                 end_day=_day(row[last]) if last else None))
    return tallies


def _surveys(paths):
    """SurveyObservation objects from CSVs with columns deaths, person_days and optionally design_effect,
    start_day, end_day, name: what `undercount survey --out-csv` writes."""
    from estimators import SurveyObservation

    surveys = []
    for path in paths:
        frame = _read_csv(path, "--survey")
        missing = [c for c in ("deaths", "person_days") if c not in frame.columns]
        if missing:
            raise CommandError(
                f"--survey {path}: missing column(s) {missing!r}; it needs one row per survey with deaths, "
                "person_days and optionally design_effect, start_day, end_day, name. From household rows, write "
                "it with `undercount survey FILE --recall-days N --recall-start DATE --out-csv survey.csv`."
            )
        first, last = _column(frame, "start_day", "recall_start"), _column(frame, "end_day", "recall_end")
        for i, row in frame.iterrows():
            deff = row["design_effect"] if "design_effect" in frame.columns else 1.0
            surveys.append(SurveyObservation(
                deaths=row["deaths"], person_days=row["person_days"],
                design_effect=1.0 if deff != deff else deff,  # nan: mortality_rate's deff with no deaths
                start_day=_day(row[first]) if first else None, end_day=_day(row[last]) if last else None,
                name=str(row["name"]) if "name" in frame.columns else f"survey {len(surveys) + 1}",
            ))
    return surveys


def _daily(args) -> int:
    from estimators import daily_rates

    if not (args.lists or args.tallies or args.surveys):
        raise CommandError("give at least one source: --lists FILE, --tally FILE or --survey FILE.")
    lists = _read_csv(args.lists, "--lists") if args.lists else None
    result = daily_rates(
        population=args.population, days=args.days, start=args.start, end=args.end, lists=lists,
        list_names=_names(args.list_names), day_column=args.day_column, tallies=_tallies(args.tallies or ()),
        surveys=_surveys(args.surveys or ()), rate_model=args.rate_model, bin_days=args.bin_days,
        level=args.level, draws=args.draws, tune=args.tune, chains=args.chains, cores=args.cores,
        prior_draws=args.prior_draws, allow_unidentified=args.allow_unidentified, random_seed=args.random_seed,
    )
    print(result.summary())
    if args.out_csv:
        result.daily.to_csv(args.out_csv, index=False)
        print(f"\ndaily table written to {args.out_csv}")
    if args.plot:
        # a Figure without pyplot: no GUI backend is chosen, so this works on a server without a display
        from matplotlib.figure import Figure

        figure = Figure(figsize=(9, 4), layout="constrained")
        result.plot(ax=figure.subplots())
        figure.savefig(args.plot)
        print(f"plot written to {args.plot}")
    return 0


# ------------------------------------------------------------------------------------------- datasets, benchmark
def _datasets(_args) -> int:
    import estimators

    registry = estimators.list_datasets()
    print(registry[["dataset", "source_package", "kind", "k", "n", "lists"]].to_string(index=False))
    return 0


def _benchmark(args) -> int:
    """Run ``python -m benchmarks`` in the source checkout, in its own process.

    The benchmarks are not part of the installed package. Running them as a child process with the checkout as
    its working directory finds them without putting the checkout on this process's ``sys.path`` (which would
    let a checkout's files shadow the installed package for the rest of the run).
    """
    import subprocess

    checkout = Path(__file__).resolve().parents[1]
    if not (checkout / "benchmarks" / "runner.py").exists():
        raise CommandError("the benchmarks live in the source checkout (benchmarks/); install the package from a "
                           "clone of the repository (pip install -e .) to run them.")
    return subprocess.call([sys.executable, "-m", "benchmarks", *args.rest], cwd=checkout)


# ------------------------------------------------------------------------------------------------------ parser
def _subcommand(commands, name: str, help: str, handler):
    parser = commands.add_parser(name, help=help, description=f"{help[0].upper()}{help[1:]}.",
                                 epilog=f"Example:\n  {EXAMPLES[name]}",
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(handler=handler, parser=parser)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The ``undercount`` argument parser (one subparser per subcommand)."""
    from . import _registry

    width = max(map(len, EXAMPLES))
    parser = argparse.ArgumentParser(
        prog="undercount",
        description="Estimate how many deaths went unrecorded from overlapping lists, and daily death rates.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples, one per subcommand:\n" + "\n".join(
            f"  {name:<{width}}  {example}" for name, example in EXAMPLES.items()),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    methods = list(_registry.cli_methods())

    estimate = _subcommand(commands, "estimate", "estimate N from a CSV of lists (pattern counts or one row per "
                           "person) or a shipped dataset, overall or by stratum", _estimate)
    estimate.add_argument("data", help="CSV path, or a shipped dataset name (see `undercount datasets`)")
    estimate.add_argument("--records", action="store_true",
                          help="the CSV has one row per person (0/1 column per list, other columns covariates) "
                               "instead of one row per capture pattern with a count")
    estimate.add_argument("--lists", default=None,
                          help="comma-separated list columns (default for pattern counts: all 0/1 columns; "
                               "required with --records)")
    estimate.add_argument("--count", default="count", help="name of the count column (pattern counts)")
    estimate.add_argument("--method", choices=methods, default="loglinear")
    estimate.add_argument("--pair", default=None,
                          help="the two lists a two-list method (chapman, lincoln_petersen) uses, e.g. A,B")
    estimate.add_argument("--kind", default=None, help="heterogeneity kind (darroch, poisson2, gamma, chao)")
    estimate.add_argument("--by", default=None, help="estimate per stratum of this covariate column")
    estimate.add_argument("--freq", default=None, help="bin the --by date column: D, W, M, ... (pandas alias)")
    estimate.add_argument("--jobs", type=int, default=1, dest="n_jobs", help="parallel workers for --by")
    estimate.add_argument("--out-csv", default=None, help="with --by: write the per-stratum table here")
    estimate.add_argument("--level", type=float, default=0.95)
    estimate.add_argument("--days", type=float, default=None, help="period length, to print deaths per day")
    estimate.add_argument("--population", type=float, default=None, help="population at risk, for per 10,000/day")
    estimate.add_argument("--random-seed", type=int, default=None)

    recommend = _subcommand(commands, "recommend", "the recommended estimate of N (estimators.estimate): the "
                            "method with the best measured coverage beside alternatives resting on other "
                            "assumptions, and how far they agree", _recommend)
    recommend.add_argument("data", help="CSV path, or a shipped dataset name (see `undercount datasets`)")
    recommend.add_argument("--records", action="store_true",
                           help="the CSV has one row per person (0/1 column per list, other columns covariates)")
    recommend.add_argument("--lists", default=None,
                           help="comma-separated list columns (required with --records)")
    recommend.add_argument("--count", default="count", help="name of the count column (pattern counts)")
    recommend.add_argument("--covariates", default=None,
                           help="comma-separated columns by which capture may differ, e.g. region (no missing values)")
    recommend.add_argument("--methods", default=None,
                           help="comma-separated methods to run (default: all that are affordable)")
    recommend.add_argument("--out-csv", default=None, help="write the sensitivity table here")
    recommend.add_argument("--level", type=float, default=0.95)
    recommend.add_argument("--random-seed", type=int, default=None)
    recommend.set_defaults(by=None, freq=None)  # what _load reads: no strata here

    survey = _subcommand(commands, "survey", "crude death rate per 10,000 per day from a cluster household "
                         "survey CSV (SMART method)", _survey)
    survey.add_argument("data", help="CSV, one row per household (or per person with --household)")
    survey.add_argument("--recall-days", type=float, required=True, help="length of the recall period in days")
    survey.add_argument("--recall-start", default=None, help="first day of the recall period (date)")
    survey.add_argument("--recall-end", default=None, help="last day of the recall period (date)")
    survey.add_argument("--cluster", default="cluster", help="cluster (PSU) column")
    survey.add_argument("--stratum", default=None, help="stratum column")
    survey.add_argument("--weight", default=None, help="sampling-weight column")
    survey.add_argument("--members", default="members_now", help="members-at-interview column")
    survey.add_argument("--deaths", default="deaths", help="deaths column")
    for column in ("joined", "left", "births"):
        survey.add_argument(f"--{column}", default=column, help=f"{column} column ('none' if not recorded)")
    survey.add_argument("--cause", default=None, help="cause-specific deaths column, e.g. violent_deaths")
    survey.add_argument("--household", default=None, help="household id column (rows are persons)")
    survey.add_argument("--level", type=float, default=0.95)
    survey.add_argument("--name", default="survey", help="the survey's name in the --out-csv row")
    survey.add_argument("--out-csv", default=None,
                        help="write the survey's deaths, person-days and design effect: the row `undercount daily "
                             "--survey` reads")

    daily = _subcommand(commands, "daily", "daily death rates from matched lists, tallies and surveys (Bayesian "
                        "model, PyMC)", _daily)
    daily.add_argument("--lists", default=None,
                       help="CSV of matched lists: 0/1 column per list, a day column (study day or date), "
                            "optional count")
    daily.add_argument("--list-names", default=None, help="comma-separated list columns (default: all but the day "
                                                          "and count)")
    daily.add_argument("--day-column", default="day", help="the day column of --lists")
    daily.add_argument("--tally", action="append", dest="tallies", metavar="FILE",
                       help="CSV of unmatched counts: name, count, start_day, end_day (repeatable)")
    daily.add_argument("--survey", action="append", dest="surveys", metavar="FILE",
                       help="CSV of survey results: deaths, person_days, design_effect, start_day, end_day, name "
                            "(as `undercount survey --out-csv` writes; repeatable)")
    daily.add_argument("--population", type=_population, required=True,
                       help="population at risk, or a range LOW,HIGH (95%% prior interval)")
    daily.add_argument("--start", default=None, help="first study day (date); days in the files may then be dates")
    daily.add_argument("--end", default=None, help="last study day (date), instead of --days")
    daily.add_argument("--days", type=int, default=None, help="number of study days")
    daily.add_argument("--rate-model", default="random_walk", help="random_walk, weekly or constant")
    daily.add_argument("--bin-days", type=int, default=1, help="width of the lists' time bins in days")
    daily.add_argument("--level", type=float, default=0.95)
    daily.add_argument("--draws", type=int, default=1000)
    daily.add_argument("--tune", type=int, default=1000)
    daily.add_argument("--chains", type=int, default=4)
    daily.add_argument("--cores", type=int, default=2)
    daily.add_argument("--prior-draws", type=int, default=500)
    daily.add_argument("--allow-unidentified", action="store_true")
    daily.add_argument("--random-seed", type=int, default=None)
    daily.add_argument("--out-csv", default=None, help="write the daily table (one row per day) here")
    daily.add_argument("--plot", default=None, help="write a plot of the daily rate here (.png, .pdf, .svg)")

    _subcommand(commands, "datasets", "list the shipped capture-recapture datasets", _datasets)

    benchmark = _subcommand(commands, "benchmark", "run the method-comparison benchmarks (source checkout only)",
                            _benchmark)
    benchmark.add_argument("rest", nargs=argparse.REMAINDER, help="arguments for `python -m benchmarks`")
    return parser


# ------------------------------------------------------------------------------------------------------- errors
# Library keywords whose flag is not simply --keyword-with-dashes (the rest are found from the parser).
_KEYWORD_FLAGS = {
    "estimate": {"frame": "DATA", "h": "DATA", "histories": "DATA", "lists": "--pair", "by": "--by"},
    "survey": {"df": "FILE"},
    "daily": {"tallies": "--tally", "surveys": "--survey", "list_names": "--list-names", "lists": "--lists"},
}


def _flags(args) -> dict[str, str]:
    """Python keyword -> the flag that sets it, for the subcommand that ran."""
    flags = {}
    for action in args.parser._actions:
        if action.option_strings:
            flags[action.dest] = max(action.option_strings, key=len)
    flags.update(_KEYWORD_FLAGS.get(args.command, {}))
    if args.command == "estimate" and args.pair is None:
        # `lists` is the pair of a two-list method only when --pair set it; else it is the list columns
        flags["lists"] = "--lists"
    return flags


def _translate(message: str, flags: dict[str, str]) -> str:
    """Name the command line's flags where the library names its keywords: ```level``` -> ``--level``."""
    message = re.sub(r"`(\w+)`", lambda m: flags.get(m.group(1), m.group(0)), message)
    # "Pass day_column=... ." and "lists=('A', 'B')": a keyword followed by = outside backticks
    return re.sub(r"(?<![\w`-])([a-z_]\w*)=(?!=)",
                  lambda m: f"{flags[m.group(1)]} " if m.group(1) in flags else m.group(0), message)


def _warning_printer(flags: dict[str, str]):
    """Shows a warning as one line for the user (not the library's file and line), naming flags, not keywords."""

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"undercount: warning: {category.__name__}: {_translate(str(message), flags)}",
              file=sys.stderr if file is None else file)

    return show


def _run(argv) -> int:
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _warning_printer(_flags(args))
        try:
            return args.handler(args)
        except BrokenPipeError:
            raise  # an OSError, but not an error of the user's: main() ends quietly
        except CommandError as error:
            print(f"undercount: error: {error}", file=sys.stderr)
        except (ValueError, TypeError, KeyError, OSError) as error:
            # DataError and NonexistentEstimateError are ValueErrors; pandas' parse errors too
            text = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
            print(f"undercount: error: {_translate(str(text), _flags(args))}", file=sys.stderr)
        return 2


def main(argv=None) -> int:
    """Run the ``undercount`` command with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    try:
        status = _run(argv)
        # flush here, inside the try: a reader that has gone (`| head`) raises now, not at interpreter exit
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        # the reader stopped reading, as `head` does: stop quietly like any Unix filter. Point stdout at
        # /dev/null so that Python's own flush at exit does not raise (and print) the same error again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a filter ended by a closed pipe


if __name__ == "__main__":
    raise SystemExit(main())
