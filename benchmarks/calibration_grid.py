"""Calibration grid of daily_rates (issue 16 item 2): coverage, bias and width over simulated 120-day conflicts,
one departure from the model at a time and all of them together, with 3 and with 4 matched lists.

Every cell starts from the same base: 120 days, a random-walk log rate around 50 deaths a day, independent lists
(log-odds of capture -0.8, -1.2, -1.6 and, for a fourth list, -1.0) and a survey of 30 clusters x 20 households
over the whole study (cluster sd 0.4, unbiased). A cell changes one thing (``FACTORS``):

* ``independent``: nothing (the model's own story, without list dependence).
* ``heterogeneous_2``: a hidden visible class (a quarter of the deaths, log-odds +2.5 on every list).
* ``heterogeneous_3``: three classes: visible (25%, +2.5), ordinary (50%) and rarely recorded (25%, -1.5).
* ``referral``: list A refers to list C (log odds ratio 0.8).
* ``drift``: list A's coverage rises linearly to twice its first day's by the last day.
* ``jump``: list B's coverage doubles from day 60.
* ``late_list``: the last list starts on day 40 (no records before); the fit is told with ``list_windows``, as
  a user would after the late-list warning.
* ``biased_survey``: the survey over-reports deaths by 20%.
* ``clustered_survey``: cluster sd 1.0 instead of 0.4.
* ``tally``: an unmatched tally recording 40% of the deaths.
* ``all``: all of these together (two-class heterogeneity; the survey over the last 90 days).

Analyses: ``defaults`` (daily_rates' own defaults, read from its signature, except 2 chains x 500 draws after 500
tuning steps) and, in the heterogeneity cells and ``all``, ``capture_classes_2``. Cells where the lists cannot
identify the total (C hidden capture classes with fewer than 2C lists on some day: the model's
IdentifiabilityWarning; :func:`identified`) are marked; the 90% coverage target applies to the others. ``auto``:
the defaults as they are now, run where ``time_varying_capture="auto"`` turns the random walk of capture on
(``--only-drift``, or the drift, jump and ``all`` cells); ``--drift N`` runs that test alone on N replicates of
every cell, and the composed table of the defaults uses the ``auto`` fit wherever it fires.

One compiled ``DailyRatesModel`` serves every replicate, and every cell, of one data shape and structure. Replicate
rows are appended to ``benchmarks/results/calibration_grid.csv``; a rerun skips the (cell, analysis, replicate)
rows already there and runs replicate by replicate over all cells, so an interrupted run leaves every cell with
about the same number of replicates. ``--summary`` writes ``benchmarks/results/calibration_grid.md``.

Usage::

    python benchmarks/calibration_grid.py --replicates 30 [--cells referral_k3,all_k4]
    python benchmarks/calibration_grid.py --drift 200
    python benchmarks/calibration_grid.py --power 100
    python benchmarks/calibration_grid.py --replicates 20 --analyses auto --cells drift_k3,jump_k3,all_k3
    python benchmarks/calibration_grid.py --summary
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import os
import re
import subprocess
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from estimators._daily import prepare_data
from estimators._daily._fit import _fit, _fit_auto, daily_rates
from estimators._daily._drift import auto_time_varying, capture_drift
from estimators._daily._inputs import lists_to_identify
from estimators.simulate import simulate_conflict

RESULTS = Path(__file__).parent / "results"
OUT = RESULTS / "calibration_grid.csv"
REPORT = RESULTS / "calibration_grid.md"
DAYS = 120
POPULATION = (450_000, 550_000)
SEED = 20_161_120
LOGITS = {3: (-0.8, -1.2, -1.6), 4: (-0.8, -1.2, -1.6, -1.0)}
LATE_DAY = 40
SAMPLER = dict(draws=500, tune=500, chains=2, cores=2)


def _factors(k: int) -> dict[str, dict]:
    last = k - 1
    factors = {
        "independent": {},
        "heterogeneous_2": {"visibility": (0.25, 2.5)},
        "heterogeneous_3": {"visibility": ((0.25, 2.5), (0.25, -1.5))},
        "referral": {"interactions": {(0, 2): 0.8}},
        "drift": {"coverage_drift": {0: 2.0}},
        "jump": {"coverage_change": {1: (60, 2.0)}},
        "late_list": {"list_start": {last: LATE_DAY}},
        "biased_survey": {"survey_bias": 1.2},
        "clustered_survey": {"cluster_sd": 1.0},
        "tally": {"tally_coverage": 0.4},
        # two cluster surveys with dated deaths (issue 20 item 4): recall windows 30..119 and 0..59
        "surveys_dated": {"survey_dates": True, "survey_window": (30, DAYS - 1), "more_surveys": [(0, 59, 20)]},
    }
    together = {}
    for name, options in factors.items():
        if name not in ("heterogeneous_3", "surveys_dated"):
            together.update(options)
    together["survey_window"] = (DAYS - 90, DAYS - 1)
    factors["all"] = together
    return factors


HETEROGENEOUS = ("heterogeneous_2", "heterogeneous_3", "all")
# hidden capture classes the simulation draws, by factor (one elsewhere)
HIDDEN_CLASSES = {"heterogeneous_2": 2, "heterogeneous_3": 3, "all": 2}


def identified(spec: dict) -> bool:
    """Whether the lists of a cell identify its total: every day covered by enough lists to tell its hidden
    classes apart (:func:`estimators._daily._inputs.lists_to_identify`: 2C lists for C classes)."""
    fewest = spec["k"] - (1 if spec["list_windows"] else 0)
    return fewest >= lists_to_identify(HIDDEN_CLASSES.get(spec["factor"], 1))


def cells() -> dict[str, dict]:
    """Cell name -> {factor, k, simulate options, list_windows, analyses}."""
    out = {}
    for k in (3, 4):
        for factor, options in _factors(k).items():
            windows = None
            if "list_start" in options:
                (j, day), = options["list_start"].items()
                windows = {chr(ord("A") + j): (day, None)}
            out[f"{factor}_k{k}"] = {
                "factor": factor, "k": k, "heterogeneous": factor in HETEROGENEOUS,
                "simulate": {"interactions": {}, "capture_logits": LOGITS[k], **options},
                "list_windows": windows,
                # capture_classes=2 on the heterogeneous cells and, to see what it costs where capture is
                # homogeneous, on the independent ones (the evidence for the default)
                "analyses": ["defaults"] + (["capture_classes_2"] if factor in (*HETEROGENEOUS, "independent")
                                            else []),
            }
    return out


def _defaults() -> dict:
    """daily_rates' default options (those _fit takes), so the grid follows the defaults when they change."""
    keep = set(inspect.signature(_fit).parameters) - {"data", "model", "random_seed"}
    options = {name: p.default for name, p in inspect.signature(daily_rates).parameters.items()
               if name in keep and p.default is not inspect.Parameter.empty}
    for name in ("bin_days", "capture_bin_days"):  # prepare_data's
        options[name] = inspect.signature(daily_rates).parameters[name].default
    options.update(SAMPLER)
    return options


# "one_class" was the default until capture_classes="auto"; the rows run before then are labelled so
ANALYSES = {"defaults": {}, "one_class": {"capture_classes": 1}, "capture_classes_2": {"capture_classes": 2},
            # whether a third class holds the hidden rarely-recorded class of heterogeneous_3
            "capture_classes_3": {"capture_classes": 3},
            # whether a higher acceptance target removes the two-class sampler's divergences
            "capture_classes_2_accept_0.97": {"capture_classes": 2, "target_accept": 0.97},
            # the drift and the jump of the "all" cells, modelled
            "capture_classes_2_time_varying": {"capture_classes": 2, "time_varying_capture": True},
            # what time-varying capture costs where coverage does not change (evidence for a default)
            "defaults_time_varying": {"time_varying_capture": True},
            # a normal capture effect shared by the lists (Rasch-type) in place of classes
            "normal_effect": {"capture_classes": "normal"},
            # the defaults since time_varying_capture="auto" (the "defaults" rows were run with earlier defaults)
            "auto": {},
            # the defaults before capture_bin_days: the capture walk stepped every day (with bin_days=1)
            "auto_daily_capture_walk": {"capture_bin_days": 1}}


def _version() -> str:
    """HEAD and a hash of the model's files as run (another engineer may have changed them in the work tree)."""
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        head = "unknown"
    digest = hashlib.md5()
    for path in sorted((root / "estimators" / "_daily").glob("*.py")):
        digest.update(path.read_bytes())
    return f"{head}+{digest.hexdigest()[:8]}"


def _short(message: Warning) -> str:
    """Warning class and first words, numbers masked, so the same warning counts as one."""
    words = re.sub(r"[-+]?\d[\d,.]*", "#", str(message.message)).split()
    return f"{message.category.__name__}: {' '.join(words[:8])}"


def run_one(name, spec, analysis, replicate, models, version) -> dict:
    seed = SEED + replicate
    sim = simulate_conflict(DAYS, random_seed=seed, **spec["simulate"])
    options = {**_defaults(), **ANALYSES[analysis]}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = prepare_data(days=DAYS, lists=sim.lists, surveys=[sim.survey, *sim.more_surveys],
                            tallies=list(sim.tallies),
                            population=POPULATION, bin_days=options.pop("bin_days"),
                            capture_bin_days=options.pop("capture_bin_days"), list_windows=spec["list_windows"])
        varying = options["time_varying_capture"]
        if varying == "auto":
            varying = auto_time_varying(data)[0]
        key = (data.shape_key, data.bin_days, data.capture_bin_days, options["rate_model"], varying)
        compiled = models.setdefault(key, {})  # number of capture classes -> compiled model
        before = {classes: id(model) for classes, model in compiled.items()}
        fit = _fit_auto(data, models=compiled, random_seed=seed, **options)
    model = fit.model
    new_model = before.get(model.structure.capture_classes) != id(model)
    row = {"cell": name, "factor": spec["factor"], "k": spec["k"], "analysis": analysis, "replicate": replicate,
           "seed": seed,
           "identified": identified(spec),
           "total_truth": sim.total, "mean_rate_truth": sim.mean_rate}
    for quantity, est, truth in (("total", fit.total, sim.total), ("mean_rate", fit.mean_rate, sim.mean_rate)):
        lower, upper = est.interval
        row.update({f"{quantity}_median": est.estimate, f"{quantity}_lower": lower, f"{quantity}_upper": upper,
                    f"{quantity}_covered": bool(lower <= truth <= upper)})
    daily = fit.daily
    row["daily_band"] = float(np.mean((daily["lower"].to_numpy() <= sim.rate) & (sim.rate <= daily["upper"].to_numpy())))
    diag = fit.diagnostics
    row.update({"divergences": diag["divergences"], "r_hat": diag["r_hat"], "ess_bulk": diag["ess_bulk"],
                "seconds": diag["seconds"], "sampling_seconds": diag["sampling seconds"],
                "compiled": new_model,
                "compile_seconds": diag["compile seconds"] if new_model else 0.0,
                "load": os.getloadavg()[0],
                "warnings": " | ".join(sorted({_short(w) for w in caught})), "version": version})
    return row


def _simulated_data(spec, replicate):
    """The simulated conflict and its data as the fits prepare them (daily_rates' bins)."""
    sim = simulate_conflict(DAYS, random_seed=SEED + int(replicate), **spec["simulate"])
    options = _defaults()
    return sim, prepare_data(days=DAYS, lists=sim.lists, surveys=[sim.survey, *sim.more_surveys],
                             tallies=list(sim.tallies), population=POPULATION, list_windows=spec["list_windows"],
                             bin_days=options["bin_days"], capture_bin_days=options["capture_bin_days"])


def run(replicates: int, chosen: list[str], out: Path = OUT, analyses: list[str] | None = None,
        only_drift: bool = False) -> None:
    grid = cells()
    done = set()
    if out.exists():
        frame = pd.read_csv(out)
        done = set(zip(frame.cell, labels(frame), frame.replicate))
    models: dict = {}
    version = _version()
    started = time.perf_counter()
    for replicate in range(replicates):
        for name in chosen:
            for analysis in analyses or grid[name]["analyses"]:
                if (name, analysis, replicate) in done:
                    continue
                if only_drift and capture_drift(_simulated_data(grid[name], replicate)[1]) is None:
                    continue
                row = run_one(name, grid[name], analysis, replicate, models, version)
                pd.DataFrame([row]).to_csv(out, mode="a", header=not out.exists(), index=False)
                print(f"{name} {analysis} r{replicate}: total {row['total_covered']} mean {row['mean_rate_covered']} "
                      f"band {row['daily_band']:.2f} {row['seconds']:.1f} s (compile {row['compile_seconds']:.0f} s, "
                      f"load {row['load']:.1f}; {time.perf_counter() - started:.0f} s)", flush=True)


def _rate(series) -> str:
    p, n = series.mean(), len(series)
    return f"{p:.0%} ± {np.sqrt(p * (1 - p) / n):.0%}"


def _late_list_found(spec, replicates) -> str:
    """In how many replicates ``list_coverage_gaps`` (the check behind the late-list warning) finds the late list's
    missing days: the cue on which a user passes ``list_windows``, as the grid does."""
    from estimators import list_coverage_gaps

    (j, day), = spec["simulate"]["list_start"].items()
    name, found = chr(ord("A") + j), 0
    for replicate in replicates:
        lists = simulate_conflict(DAYS, random_seed=SEED + int(replicate), **spec["simulate"]).lists
        names = [c for c in lists.columns if c not in ("day", "count")]
        gaps = list_coverage_gaps(lists["day"], lists[names], counts=lists["count"])
        found += bool(((gaps["list"] == name) & (gaps["start"] == 0) & (gaps["end"] >= day - 7)).any())
    return f"{name}: {found} of {len(replicates)}"


def summarise(out: Path = OUT, report: Path = REPORT) -> str:
    frame = pd.read_csv(out)
    frame["warnings"] = frame["warnings"].fillna("")
    frame["analysis"] = labels(frame)
    specs = cells()
    order = {name: i for i, name in enumerate(specs)}
    lines = [
        "# daily_rates calibration grid", "",
        "Generated by `python benchmarks/calibration_grid.py --summary` from `calibration_grid.csv`; the cells and "
        "analyses are described in the module docstring. 120 days, 2 chains x 500 draws after 500 tuning steps, "
        "daily_rates' defaults otherwise.", "",
        "Columns: R replicates; coverage of the 95% interval of the true total deaths and of the true mean daily "
        "rate (± Monte Carlo SE sqrt(p(1-p)/R)); daily band: share of days whose 95% interval covers that day's "
        "true expected deaths, averaged over replicates; bias: median relative error of the posterior median of "
        "the total; width: median (upper - lower) / true total; seconds: mean per fit, compilation excluded; "
        "divergent: fits with any divergent transition (total divergences). **identified**: no means the lists "
        "cannot identify the total (hidden capture classes C with fewer than 2C lists on some day, "
        "Lindsay, Clogg & Grego 1991; the model's IdentifiabilityWarning with capture_classes > 1): the 90% "
        "target applies only to identified cells. "
        "Cells below 90% coverage of the total or the mean rate are marked **low**.", "",
        "| cell | lists | analysis | identified | R | covers total | covers mean rate | daily band | bias (total) | "
        "width (total) | bias (mean rate) | seconds | divergent | mean load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    warning_lines = []
    groups = sorted(frame.groupby(["cell", "analysis"]), key=lambda g: (order.get(g[0][0], 99), g[0][1]))
    for (cell, analysis), g in groups:
        low = (g.total_covered.mean() < 0.9 or g.mean_rate_covered.mean() < 0.9)
        # a property of the cell, recomputed: rows written under an earlier rule keep their old label
        known = bool(g.identified.iloc[0]) if cell not in specs else identified(specs[cell])
        flag = " **low**" if low and known else (" (low)" if low else "")
        seconds = (g.seconds - g.compile_seconds).mean()
        lines.append(
            f"| {g.factor.iloc[0]}{flag} | {g.k.iloc[0]} | {analysis} | {'yes' if known else 'no'} | {len(g)} | "
            f"{_rate(g.total_covered)} | {_rate(g.mean_rate_covered)} | {g.daily_band.mean():.0%} | "
            f"{np.median(g.total_median / g.total_truth - 1):+.1%} | "
            f"{np.median((g.total_upper - g.total_lower) / g.total_truth):.2f} | "
            f"{np.median(g.mean_rate_median / g.mean_rate_truth - 1):+.1%} | {seconds:.1f} | "
            f"{(g.divergences > 0).sum()} ({int(g.divergences.sum())}) | {g.load.mean():.1f} |")
        counted = pd.Series([w for text in g.warnings for w in text.split(" | ") if w]).value_counts()
        for text, count in counted.items():
            warning_lines.append(f"| {cell} | {analysis} | {count} of {len(g)} | {text} |")
    text = "\n".join(lines)
    grid = cells()
    late = [f"| {cell} | {_late_list_found(grid[cell], sorted(frame.loc[frame.cell == cell, 'replicate'].unique()))} |"
            for cell in sorted(frame.cell.unique(), key=order.get) if "list_start" in grid[cell]["simulate"]]
    if late:
        text += ("\n\n## Late lists: found by the late-list check\n\n"
                 "The fits are told the late list's window (`list_windows`). A user learns it from the late-list "
                 "warning of `CaptureHistories.from_records`, whose check is `estimators.list_coverage_gaps`; in "
                 "how many replicates it finds the late list missing from day 0 to about its start day:\n\n"
                 "| cell | late list: found |\n|---|---|\n" + "\n".join(late))
    text += ("\n\n## Warnings raised (class and first words, numbers masked as #; counted over replicates)\n\n"
             "| cell | analysis | fits | warning |\n|---|---|---|---|\n" + "\n".join(warning_lines))
    versions = ", ".join(sorted(frame.version.unique()))
    text += (f"\n\nCode versions (HEAD + hash of estimators/_daily as run): {versions}. Seconds are on a shared "
             "2-core machine (the load average is in the table).\n")
    text += _engine_section(frame[frame.analysis == "auto"], order)
    text += _drift_section()
    text += _power_section()
    text += _check_section()
    report.write_text(text)
    return text


# The first commit whose daily_rates samples the hand-written kernels instead of the PyMC-compiled model.
KERNELS_SINCE = "751b205"
# The first commit whose capture walk (time_varying_capture) steps weekly by default (capture_bin_days).
WEEKLY_CAPTURE_SINCE = "607cd4e"
DRIFT_NOTE = "time_varying_capture='auto' lets each list's coverage"
FIRED_TWO_NOTE = "capture_classes='auto' fitted two capture classes: with one class"


def _since(commit: str, version: str) -> bool | None:
    """Whether a row's code version (``HEAD+hash``) includes ``commit``; None when git cannot tell."""
    root = Path(__file__).resolve().parents[1]
    head = version.split("+")[0]
    try:
        done = subprocess.run(["git", "merge-base", "--is-ancestor", commit, head], cwd=root, capture_output=True)
    except OSError:
        return None
    return {0: True, 1: False}.get(done.returncode)


def _on_kernels(version: str) -> bool | None:
    """Whether a row's code version ran on the kernels; None when git cannot tell."""
    return _since(KERNELS_SINCE, version)


def labels(frame: pd.DataFrame) -> pd.Series:
    """Each row's analysis as run: an ``auto`` row whose drift test turned the capture walk on before
    ``WEEKLY_CAPTURE_SINCE`` stepped daily, so it is ``auto_daily_capture_walk``; an ``auto`` row whose latent-class
    check fired and which then fitted two classes although a survey was there (every cell has one) ran the rule
    before "auto" fitted three there, so it is ``auto_fired_two_classes``. Either ``auto`` replicate is rerun."""
    weekly = frame.version.map({v: _since(WEEKLY_CAPTURE_SINCE, v) for v in frame.version.unique()})
    warned = frame.warnings.fillna("")
    daily = (frame.analysis == "auto") & warned.str.contains(DRIFT_NOTE, regex=False) & weekly.eq(False)
    two = (frame.analysis == "auto") & warned.str.contains(FIRED_TWO_NOTE, regex=False)
    return frame.analysis.where(~daily, "auto_daily_capture_walk").where(~two, "auto_fired_two_classes")


def _engine_section(auto: pd.DataFrame, order: dict) -> str:
    """Coverage of the defaults' rows by engine: the same model on the PyMC-compiled graph and on the kernels."""
    engine = auto.version.map({v: _on_kernels(v) for v in auto.version.unique()})
    if not engine.eq(True).any():
        return ""
    lines = ["", "## The same model on two engines (analysis auto)", "",
             f"Rows run before {KERNELS_SINCE} sampled the model compiled from PyMC by PyTensor; later rows sample "
             "the hand-written kernels (`estimators/_daily/_kernel.py`), whose log density and gradient equal the "
             "PyMC model's to 1e-9 in the tests. Coverage of the total by engine:", "",
             "| cell | PyMC graph: R | covers total | kernels: R | covers total | seconds per fit (graph, kernels) |",
             "|---|---|---|---|---|---|"]
    for cell in sorted(auto.cell.unique(), key=order.get):
        rows = auto.cell == cell
        old, new = auto[rows & engine.eq(False)], auto[rows & engine.eq(True)]
        if not len(new):
            continue
        seconds = [f"{(g.seconds - g.compile_seconds).mean():.1f}" if len(g) else "-" for g in (old, new)]
        lines.append(f"| {cell} | {len(old)} | {_rate(old.total_covered) if len(old) else '-'} | {len(new)} | "
                     f"{_rate(new.total_covered)} | {', '.join(seconds)} |")
    return "\n".join(lines) + "\n"


CHECK = RESULTS / "calibration_grid_check.csv"


def check_rows(chosen: list[str], out: Path = CHECK) -> None:
    """The latent-class check of homogeneous capture (``heterogeneity_check``), redone on each replicate's data
    after the fact, against the stored interval of the one-class fit's total.

    Only cells without ``list_windows`` (every day fully covered, every record dated), where the model's unlisted
    deaths per listed death is (total - listed) / listed; the check inside ``daily_rates`` uses the model's
    expected unlisted share, which this reproduces up to the Poisson noise of the unlisted count.
    """
    from estimators._daily._heterogeneity import disjoint, latent_class_reference

    frame = pd.read_csv(OUT)
    done = set()
    if out.exists():
        done = set(zip(*pd.read_csv(out)[["cell", "replicate"]].to_numpy().T))
    grid = cells()
    level = _defaults()["level"]
    for name in chosen:
        spec = grid[name]
        if spec["list_windows"] is not None:
            continue
        rows = frame[(frame.cell == name) & (frame.analysis == "one_class")]
        for replicate in sorted(rows.replicate.unique()):
            if (name, replicate) in done:
                continue
            fit = rows[rows.replicate == replicate].iloc[0]
            seed = SEED + int(replicate)
            sim = simulate_conflict(DAYS, random_seed=seed, **spec["simulate"])
            data = prepare_data(days=DAYS, lists=sim.lists, surveys=[sim.survey, *sim.more_surveys],
                                tallies=list(sim.tallies), population=POPULATION)
            started = time.process_time()
            reference = latent_class_reference(data, level=level, random_seed=seed)
            n = data.n_listed
            model = ((fit.total_lower - n) / n, (fit.total_upper - n) / n)
            row = {"cell": name, "factor": spec["factor"], "k": spec["k"], "replicate": replicate,
                   "truth": (sim.total - n) / n, "model_lower": model[0], "model_upper": model[1],
                   "cpu_seconds": 0.0, "lc_lower": np.nan, "lc_median": np.nan, "lc_upper": np.nan,
                   "fired": False, "one_class_covered": bool(fit.total_covered), "version": _version()}
            if reference is not None:
                tail = (1 - level) / 2
                lo, med, hi = np.quantile(reference[1], [tail, 0.5, 1 - tail])
                row.update(lc_lower=lo, lc_median=med, lc_upper=hi, fired=disjoint(model, (lo, hi)))
            row["cpu_seconds"] = time.process_time() - started
            pd.DataFrame([row]).to_csv(out, mode="a", header=not out.exists(), index=False)
            print(f"check {name} r{replicate}: fired {row['fired']} ({row['cpu_seconds']:.1f} s)", flush=True)


DRIFT = RESULTS / "calibration_grid_drift.csv"


def drift_rows(replicates: int, out: Path = DRIFT) -> None:
    """The test behind ``time_varying_capture="auto"`` alone (no fit) on ``replicates`` replicates of every cell."""
    rows = []
    for name, spec in cells().items():
        for replicate in range(replicates):
            drift = capture_drift(_simulated_data(spec, replicate)[1])
            rows.append({"cell": name, "factor": spec["factor"], "k": spec["k"], "replicate": replicate,
                         "fired": drift is not None, "list": drift.list_name if drift else "",
                         "p_value": drift.p_value if drift else np.nan, "version": _version()})
        print(f"drift {name}: fired {np.mean([r['fired'] for r in rows if r['cell'] == name]):.0%}", flush=True)
    pd.DataFrame(rows).to_csv(out, index=False)


POWER = RESULTS / "calibration_grid_power.csv"
# weaker changes than the grid's drift and jump cells (which double a list's coverage)
WEAKER = {"drift to 1.5x": {"coverage_drift": {0: 1.5}}, "drift to 1.25x": {"coverage_drift": {0: 1.25}},
          "jump to 1.5x": {"coverage_change": {1: (60, 1.5)}}, "jump to 1.25x": {"coverage_change": {1: (60, 1.25)}}}


def power_rows(replicates: int, out: Path = POWER) -> None:
    """How often the drift test finds changes weaker than the grid's, on ``replicates`` replicates each."""
    rows = []
    for k in (3, 4):
        base = cells()[f"independent_k{k}"]
        for change, options in WEAKER.items():
            spec = {**base, "simulate": {**base["simulate"], **options}}
            for replicate in range(replicates):
                drift = capture_drift(_simulated_data(spec, replicate)[1])
                rows.append({"change": change, "k": k, "replicate": replicate, "fired": drift is not None,
                             "list": drift.list_name if drift else "", "version": _version()})
            print(f"power {change} k{k}: {np.mean([r['fired'] for r in rows[-replicates:]]):.0%}", flush=True)
    pd.DataFrame(rows).to_csv(out, index=False)


def _power_section(out: Path = POWER) -> str:
    if not out.exists():
        return ""
    frame = pd.read_csv(out)
    lines = ["\nWeaker changes (`--power N`; the list changed is A for a drift, B for a jump):\n",
             "| change | lists | R | fired | named the changed list |", "|---|---|---|---|---|"]
    for (change, k), g in frame.groupby(["change", "k"], sort=False):
        changed = "A" if change.startswith("drift") else "B"
        lines.append(f"| {change} | {k} | {len(g)} | {g.fired.mean():.0%} | {(g.list == changed).mean():.0%} |")
    return "\n".join(lines) + "\n"


def _drift_section(out: Path = DRIFT) -> str:
    if not out.exists():
        return ""
    frame = pd.read_csv(out)
    lines = ["\n\n## The drift test of `time_varying_capture=\"auto\"`\n",
             "Before fitting, `daily_rates` tests whether, among the exactly dated deaths the other lists recorded, "
             "the share each list also recorded changes over the study (chi-square over up to 8 periods, divided "
             "by the dispersion of the daily shares when it exceeds one, Bonferroni p < 0.01 over the lists); "
             "when it does, each list's capture follows a random walk. Run "
             "alone on the simulated data of every cell (`--drift N`); fired: share of replicates.\n",
             "| cell | lists | R | fired | list named (most often) |", "|---|---|---|---|---|"]
    for (cell, k), g in frame.groupby(["cell", "k"], sort=False):
        named = g.loc[g.fired, "list"].mode()
        lines.append(f"| {g.factor.iloc[0]} | {k} | {len(g)} | {g.fired.mean():.1%} | "
                     f"{named.iloc[0] if len(named) else '-'} |")
    return "\n".join(lines) + "\n"


def _share(covered: pd.Series) -> str:
    return f"{covered.mean():.0%} of {len(covered)}" if len(covered) else "none"


def _check_section(out: Path = CHECK) -> str:
    if not out.exists():
        return ""
    frame = pd.read_csv(out)
    specs = cells()
    order = {name: i for i, name in enumerate(specs)}
    lines = [
        "\n\n## The latent-class check of homogeneous capture\n",
        "`daily_rates(heterogeneity_check=True)` (the default) fits `latent_class` to the records of the days every "
        "list covers and warns when its interval of unlisted deaths per listed death and the daily model's do not "
        "overlap. Redone here on each replicate's data (`--check`), against the stored one-class fit; cells with "
        "`list_windows` are left out. Columns: fired: share of replicates where the warning is raised; "
        "covered when silent: coverage of the true total by the one-class fit in the replicates where it is not; "
        "latent classes cover: share whose latent-class interval holds the true ratio.\n",
        "| cell | lists | R | fired | covered when silent | covered when fired | latent classes cover | cpu s |",
        "|---|---|---|---|---|---|---|---|"]
    for (cell, k), g in sorted(frame.groupby(["cell", "k"]), key=lambda x: order.get(x[0][0], 99)):
        silent, fired = g[~g.fired], g[g.fired]
        cover = ((g.lc_lower <= g.truth) & (g.truth <= g.lc_upper)).mean()
        lines.append(
            f"| {g.factor.iloc[0]} | {k} | {len(g)} | {g.fired.mean():.0%} | "
            f"{_share(silent.one_class_covered)} | {_share(fired.one_class_covered)} | "
            f"{cover:.0%} | {g.cpu_seconds.mean():.1f} |")
    return "\n".join(lines) + "\n" + _auto_section(frame)


def _auto_section(check: pd.DataFrame) -> str:
    """Coverage of the defaults composed from stored fits of the same seeds, as "auto" decides. Where the drift
    test fires, the replicate's ``auto`` fit (the defaults as they are now). Elsewhere constant capture, and the
    number of classes as ``capture_classes="auto"`` decides: two classes where some day has only three lists
    (every cell has a survey to carry the total), else the three-class fit where the latent-class check fires
    (with a survey there) and the one-class fit where it does not."""
    frame = pd.read_csv(OUT)
    frame["analysis"] = labels(frame)
    frame = frame.set_index(["cell", "analysis", "replicate"]).sort_index()
    drift = (pd.read_csv(DRIFT).set_index(["cell", "replicate"]).fired if DRIFT.exists()
             else pd.Series(dtype=bool))
    lines = ["\n### The defaults (`capture_classes=\"auto\"`, `time_varying_capture=\"auto\"`), composed from "
             "the stored fits\n",
             "A replicate's `auto` fit (the defaults run as they are) wherever it is stored (direct), and always "
             "where the drift test fires. Others, with constant capture: "
             "in cells with three lists on some day (3 lists, or a late fourth list) the `capture_classes_2` fit, "
             "as \"auto\" fits two classes there without a check; in the other cells the `capture_classes_3` fit "
             "where the latent-class check fires (a survey being there), else the `one_class` fit. missing: "
             "replicates whose fit as \"auto\" decides is not stored (left out).\n",
             "| cell | lists | R | classes chosen | time-varying chosen | covers total | covers mean rate | "
             "daily band | bias (total) | width | direct | missing |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    fired_check = check.set_index(["cell", "replicate"]).fired
    for cell, spec in cells().items():
        three = spec["k"] < 4 or spec["list_windows"] is not None
        picked, classes, varying, missing, direct = [], 0, 0, 0, 0
        for replicate in sorted(frame.xs(cell, level="cell").index.get_level_values("replicate").unique()
                                if cell in frame.index.get_level_values("cell") else []):
            if (cell, "auto", replicate) in frame.index or drift.get((cell, replicate), False):
                analysis = "auto"
            elif three:
                analysis = "capture_classes_2"
            elif (cell, replicate) in fired_check.index:
                analysis = "capture_classes_3" if fired_check[(cell, replicate)] else "one_class"
            else:
                missing += 1
                continue
            if (cell, analysis, replicate) not in frame.index:
                missing += 1
                continue
            row = frame.loc[(cell, analysis, replicate)]
            picked.append(row)
            direct += analysis == "auto"
            varying += analysis == "auto" and "time_varying_capture='auto' lets" in str(row.warnings)
            classes += analysis in ("capture_classes_2", "capture_classes_3") or (
                analysis == "auto" and any(f"fitted {n} capture classes" in str(row.warnings)
                                           for n in ("two", "three")))
        if not picked:
            continue
        p = pd.DataFrame(picked)
        lines.append(f"| {spec['factor']} | {spec['k']} | {len(p)} | {classes} | {varying} | "
                     f"{_rate(p.total_covered)} | {_rate(p.mean_rate_covered)} | {p.daily_band.mean():.0%} | "
                     f"{np.median(p.total_median / p.total_truth - 1):+.1%} | "
                     f"{np.median((p.total_upper - p.total_lower) / p.total_truth):.2f} | {direct} | {missing} |")
    return "\n".join(lines) + "\n"


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive number of replicates; got {text}")
    return value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replicates", type=_positive, default=30)
    parser.add_argument("--cells", default="", help="comma-separated cell names (default: all)")
    parser.add_argument("--analyses", default="",
                        help=f"comma-separated analyses to run instead of each cell's own ({', '.join(ANALYSES)})")
    parser.add_argument("--summary", action="store_true", help="only write calibration_grid.md")
    parser.add_argument("--only-drift", action="store_true",
                        help="run only the replicates where the drift test of time_varying_capture='auto' fires")
    parser.add_argument("--drift", type=_positive, default=None, metavar="N",
                        help="run the drift test alone on N replicates of every cell (calibration_grid_drift.csv)")
    parser.add_argument("--power", type=_positive, default=None, metavar="N",
                        help="run the drift test alone on N replicates of weaker drifts and jumps "
                             "(calibration_grid_power.csv)")
    parser.add_argument("--check", action="store_true",
                        help="redo the latent-class check of homogeneous capture on the stored replicates")
    args = parser.parse_args(argv)
    if args.drift:
        drift_rows(args.drift)
    elif args.power:
        power_rows(args.power)
    elif args.check:
        check_rows([c for c in args.cells.split(",") if c] or list(cells()))
    elif not args.summary:
        names = list(cells())
        chosen = [c for c in args.cells.split(",") if c] or names
        unknown = sorted(set(chosen) - set(names))
        if unknown:
            parser.error(f"unknown cells {unknown}; the cells are {names}")
        analyses = [a for a in args.analyses.split(",") if a]
        if set(analyses) - set(ANALYSES):
            parser.error(f"unknown analyses {sorted(set(analyses) - set(ANALYSES))}; they are {list(ANALYSES)}")
        RESULTS.mkdir(exist_ok=True)
        run(args.replicates, chosen, analyses=analyses or None, only_drift=args.only_drift)
    if OUT.exists():
        print(summarise())


if __name__ == "__main__":
    main()
