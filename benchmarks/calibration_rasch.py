"""daily_rates on heterogeneity the calibration grid does not draw: capture log-odds that vary continuously between
deaths (a Rasch-type normal effect shared by every list; Fienberg, Johnson & Junker 1999), not finite classes.

Each conflict: 150 days, a random-walk log rate around 60 deaths a day (step sd 0.07), four lists with capture
log-odds -1.0, -1.4, -1.8, -1.2 (``--lists 5``: a fifth at -1.5) plus each death's own effect u ~ N(0, sd), 10% of
the listed records undated;
no survey and no tally, so only the lists speak. The simulator is written here, independently of
``estimators.simulate``. ``--shape`` draws the effect otherwise (skewed either way, or seen unequally by the
lists: :data:`SHAPES`), so the normal-effect model is also tried on heterogeneity it does not assume.
``daily_rates`` runs with its defaults (``capture_classes="auto"``); ``--classes 2`` forces two classes,
``--classes normal`` the normal capture effect. Rows are appended to ``results/calibration_rasch.csv`` (a rerun skips rows already there);
``results/calibration_rasch.md`` summarises them: coverage of the total, median error and width, how often "auto"
fitted two classes (the latent-class check fired) or the normal effect (the pairs of lists positively dependent in
common, the check agreeing), how often the one-class warning of that common dependence was raised, and how often the
one-class interval "auto" set aside would have covered.

Usage::

    python benchmarks/calibration_rasch.py --replicates 20 --sd 0.5,1.0 [--classes 2] [--shape skewed] [--lists 5]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).parent / "results"
OUT, REPORT = RESULTS / "calibration_rasch.csv", RESULTS / "calibration_rasch.md"
DAYS, MEAN_RATE, POPULATION = 150, 60.0, (900_000, 1_100_000)
# capture log-odds of the lists (``--lists``): four, or five with a fifth at -1.5
LOGITS = {4: (-1.0, -1.4, -1.8, -1.2), 5: (-1.0, -1.4, -1.8, -1.2, -1.5)}
SHARED = "are positively dependent in common"


# how each death's capture effect is drawn (mean 0, sd ``sd``) and how much of it each list sees
SHAPES = {
    "normal": "normal, shared equally by every list (the Rasch model's own assumption)",
    "skewed": "sd x (Exp(1) - 1): a long tail of very visible deaths",
    "left_skewed": "-sd x (Exp(1) - 1): a long tail of deaths every list rarely records",
    "loadings": "normal, seen by the lists with loadings 0.5, 1.0, 1.5, 1.0 (1.0 for a fifth; not equally shared)",
    "two_point": "not continuous: 2 sd for 30% of deaths, 0 for the rest (two hidden classes)",
    "three_point": "not continuous: 2.5 sd for 20%, 1 sd for 30%, 0 for the rest (three hidden classes)",
}
LOADINGS = (0.5, 1.0, 1.5, 1.0, 1.0)


def capture_effect(rng: np.random.Generator, n: int, sd: float, shape: str, lists: int = 4) -> np.ndarray:
    """(n, lists) each death's effect on each list's capture log-odds (:data:`SHAPES`)."""
    if shape in ("normal", "loadings"):
        u = rng.normal(0.0, sd, n)
    elif shape == "skewed":
        u = sd * (rng.exponential(1.0, n) - 1.0)
    elif shape == "left_skewed":
        u = -sd * (rng.exponential(1.0, n) - 1.0)
    elif shape == "two_point":
        u = sd * np.where(rng.random(n) < 0.3, 2.0, 0.0)
    elif shape == "three_point":
        v = rng.random(n)
        u = sd * np.where(v < 0.2, 2.5, np.where(v < 0.5, 1.0, 0.0))
    else:
        raise ValueError(f"unknown shape {shape!r}; the shapes are {list(SHAPES)}")
    loadings = np.asarray(LOADINGS[:lists]) if shape == "loadings" else np.ones(lists)
    return u[:, None] * loadings[None, :]


def simulate(seed: int, sd: float, undated: float = 0.1, shape: str = "normal",
             lists: int = 4) -> tuple[np.ndarray, pd.DataFrame]:
    """(deaths per day, listed records with one column per list and ``day``, None where undated)."""
    rng = np.random.default_rng(seed)
    log_rate = np.cumsum(rng.normal(0.0, 0.07, DAYS))
    deaths = rng.poisson(MEAN_RATE * np.exp(log_rate - log_rate.mean()))
    day = np.repeat(np.arange(DAYS), deaths)
    effect = capture_effect(rng, day.size, sd, shape, lists)
    captured = rng.random((day.size, lists)) < 1 / (1 + np.exp(-(np.asarray(LOGITS[lists]) + effect)))
    listed = captured.any(axis=1)
    records = pd.DataFrame(captured[listed].astype(int), columns=[chr(65 + j) for j in range(lists)])
    days = pd.Series(day[listed], dtype=object)
    days[rng.random(listed.sum()) < undated] = None
    records["day"] = days.to_numpy()
    return deaths, records


def run_one(seed: int, sd: float, classes, shape: str = "normal", lists: int = 4) -> dict:
    from estimators import daily_rates
    from estimators._daily._heterogeneity import ONE_CLASS_TOTAL_ROW

    deaths, records = simulate(seed, sd, shape=shape, lists=lists)
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = daily_rates(days=DAYS, lists=records, day_column="day", population=POPULATION, random_seed=seed,
                          capture_classes=classes)
    lower, upper = fit.total.interval
    truth = int(deaths.sum())
    # when "auto" fitted something else, the one-class total it set aside
    one = fit.identifiability.loc[ONE_CLASS_TOTAL_ROW] if ONE_CLASS_TOTAL_ROW in fit.identifiability.index else None
    return {"shape": shape, "lists": lists, "sd": sd, "classes_option": str(classes), "seed": seed, "records": len(records), "truth": truth,
            "median": fit.total.estimate, "lower": lower, "upper": upper, "covered": bool(lower <= truth <= upper),
            "classes": fit.settings["call"]["capture_classes"],
            # when "auto" mixed two classes and the normal effect, the normal effect's weight
            "normal_weight": fit.settings.get("model_weights", {}).get("normal effect", np.nan),
            "shared_warning": any(SHARED in str(w.message) for w in caught),
            "one_class_median": np.nan if one is None else one["median"],
            "one_class_lower": np.nan if one is None else one["lower"],
            "one_class_upper": np.nan if one is None else one["upper"],
            "r_hat": fit.diagnostics["r_hat"], "seconds": time.perf_counter() - started}


def _read(out: Path) -> pd.DataFrame:
    """The stored rows (rows from before ``shape`` existed drew the normal effect)."""
    frame = pd.read_csv(out)
    if "shape" not in frame:
        frame.insert(0, "shape", "normal")
    if "lists" not in frame:  # rows from before ``--lists`` had four
        frame.insert(1, "lists", 4)
    frame["lists"] = frame["lists"].fillna(4).astype(int)
    return frame


def _set_aside(group: pd.DataFrame) -> str:
    """Of the fits where "auto" chose another model, how often the one-class interval it set aside covered."""
    if "one_class_median" not in group or group.one_class_median.isna().all():
        return "-"
    other = group[group.one_class_median.notna()]
    covered = (other.one_class_lower <= other.truth) & (other.truth <= other.one_class_upper)
    return f"{covered.sum()} of {len(other)}"


def summarise(out: Path = OUT, report: Path = REPORT) -> str:
    frame = _read(out).drop_duplicates(["shape", "lists", "sd", "classes_option", "seed"], keep="last")
    rows = []
    order = {shape: i for i, shape in enumerate(SHAPES)}
    for (_, shape, lists, sd, option), group in frame.groupby(
            [frame["shape"].map(order), "shape", "lists", "sd", "classes_option"]):
        error = group["median"] / group["truth"] - 1
        averaged = group["normal_weight"].notna() if "normal_weight" in group else pd.Series(False, group.index)
        weights = (f"{averaged.sum()} ({group.normal_weight[averaged].min():.2f}-"
                   f"{group.normal_weight[averaged].max():.2f})" if averaged.any() else "0")
        rows.append(f"| {shape} | {lists} | {sd:g} | {option} | {len(group)} | {group.covered.mean():.0%} | "
                    f"{error.median():+.1%} ({error.min():+.1%} to {error.max():+.1%}) | "
                    f"{((group.upper - group.lower) / group.truth).median():.1%} "
                    f"| {(group.classes.astype(str) == '2').sum()} | {(group.classes.astype(str) == 'normal').sum()} "
                    f"| {weights} | {group.shared_warning.sum()} | {_set_aside(group)} |")
    text = "\n".join([
        "# daily_rates under continuous (Rasch-type) heterogeneity",
        "",
        f"Generated by `python benchmarks/calibration_rasch.py` ({__doc__.splitlines()[0][:60]}...). 150 days, "
        "4 or 5 lists, each death's capture effect of sd `sd`, 10% undated, no survey. Shapes of the effect:",
        "",
        *(f"- `{shape}`: {text}" for shape, text in SHAPES.items()),
        "",
        "| shape | lists | sd | capture_classes | conflicts | total covered (95%) | median error (range) "
        "| median width / truth | two classes fitted (heavier) | normal effect fitted (heavier) "
        "| averaged (normal weight) | 'positively dependent in common' warned "
        "| one-class interval set aside by auto: covered |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
    ])
    report.write_text(text)
    return text


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive number of replicates; got {text!r}")
    return int(text)


def _sds(text: str) -> list[float]:
    try:
        values = [float(value) for value in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be comma-separated numbers, such as 0.5,1.0; got {text!r}") from None
    if not all(np.isfinite(value) and value >= 0 for value in values):
        raise argparse.ArgumentTypeError(f"sds must be finite and >= 0; got {text!r}")
    return values


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replicates", type=_positive, default=20)
    parser.add_argument("--sd", type=_sds, default=[0.5, 1.0], help="comma-separated sds of the capture effect")
    parser.add_argument("--classes", default="auto", choices=["auto", "normal", "1", "2", "3"], help="capture_classes")
    parser.add_argument("--shape", default="normal", choices=list(SHAPES), help="how the capture effect is drawn")
    parser.add_argument("--lists", type=int, default=4, choices=sorted(LOGITS), help="matched lists")
    parser.add_argument("--summary", action="store_true", help="only write calibration_rasch.md")
    args = parser.parse_args(argv)
    if not args.summary:
        classes = args.classes if args.classes in ("auto", "normal") else int(args.classes)
        done, columns = set(), None
        if OUT.exists():
            old = _read(OUT)
            old.to_csv(OUT, index=False)
            done = set(zip(old["shape"], old["lists"], old.sd, old.classes_option.astype(str), old.seed))
            columns = list(old)
        for sd in args.sd:
            for seed in range(1, args.replicates + 1):
                if (args.shape, args.lists, sd, str(classes), seed) in done:
                    continue
                row = pd.DataFrame([run_one(seed, sd, classes, args.shape, args.lists)])
                if columns is None or set(row) - set(columns):  # a new column: rewrite the file with it
                    merged = pd.concat([_read(OUT), row]) if OUT.exists() else row
                    merged.to_csv(OUT, index=False)
                    columns = list(merged)
                else:
                    row.reindex(columns=columns).to_csv(OUT, mode="a", header=False, index=False)
                row = row.iloc[0]
                print(f"{args.shape} {args.lists} lists sd {sd} classes {classes} seed {seed}: covered {row['covered']} "
                      f"error {row['median'] / row['truth'] - 1:+.3f} {row['seconds']:.0f} s", flush=True)
    print(summarise())


if __name__ == "__main__":
    main()
