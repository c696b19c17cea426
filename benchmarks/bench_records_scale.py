"""Records at scale (issue 15 item 7): impute -> strata tables -> averaged log-linear fits -> pool.

    python benchmarks/bench_records_scale.py [--records 100000] [--m 20] [--jobs 2] [--max-iter 10] [--label NAME]
                                             [--dask [--scheduler ADDRESS]] [--no-save]

Simulates person records: 4 lists (hospital, morgue, media, ngo) whose capture probabilities depend on the region,
4 regions x 15 months = 60 strata (region x month), sex, and the date the record was registered (the death plus a
delay); 5-10% of region, month, sex and registration date missing (missing at random given the
lists). The population N is set so that about
``--records`` people are on at least one list. Then, all in one run:

1. ``estimators.impute(records, m, lists=..., random_seed=1, n_jobs=jobs)`` (chained equations: polyreg for region
   and month, logreg-pmm for sex, pmm for the registration date), its chains on joblib processes, or with
   ``--dask`` on the Dask cluster (``backend="dask"``);
2. tables: ``Imputations.histories(covariates=["region", "month"])`` (one CaptureHistories per completed
   table, keeping the strata columns only);
3. fits: ``estimate_strata(h, by=["region", "month"], method="loglinear", select="average", n_jobs)`` per
   imputation (113 four-list models per stratum, AIC-averaged), on joblib processes, or with ``--dask`` on the
   Dask cluster (``backend="dask"``);
4. pool: ``estimators.pool`` (Rubin's rules per stratum and for the total).

``--dask`` is the one option for the whole pipeline: the benchmark starts a local
``dask.distributed.Client(processes=True, n_workers=jobs, threads_per_worker=1)`` (timed apart, as ``client s``)
and passes only ``backend="dask"`` to ``impute`` and ``estimate_strata``, which find the active client. Give
``--scheduler ADDRESS`` to run on an existing cluster instead.

Times each stage (wall clock), the peak resident memory of this process and of the worker processes
(``resource.getrusage`` RUSAGE_SELF; for workers the largest of RUSAGE_CHILDREN, the live joblib workers'
VmHWM and, with Dask, each worker's own ``getrusage``), and the machine load (``uptime``)
before and after; appends a row to ``benchmarks/results/records_scale.csv`` and rewrites
``benchmarks/results/records_scale.md`` from every row of it.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import estimators  # noqa: E402

LISTS = ["hospital", "morgue", "media", "ngo"]
REGIONS = ["north", "south", "east", "west"]
MONTHS = 15
RESULTS = Path(__file__).resolve().parent / "results"


def simulate(n_records: int, seed: int = 20260715) -> tuple[pd.DataFrame, int]:
    """Person records with ~n_records people observed; returns (records, true N)."""
    rng = np.random.default_rng(seed)
    # capture probabilities by region (rows) and list (columns)
    p = np.array([[0.30, 0.25, 0.15, 0.20],
                  [0.20, 0.30, 0.10, 0.25],
                  [0.35, 0.15, 0.20, 0.10],
                  [0.25, 0.20, 0.25, 0.15]])
    region_share = np.array([0.35, 0.25, 0.25, 0.15])
    seen = 1 - np.prod(1 - p, axis=1)
    N = int(round(n_records / float(region_share @ seen)))
    region = rng.choice(len(REGIONS), N, p=region_share)
    month = rng.integers(0, MONTHS, N)
    # a common frailty makes morgue and hospital positively dependent
    frailty = rng.random(N) < 0.3
    prob = p[region].copy()
    prob[:, 0] = np.where(frailty, np.minimum(prob[:, 0] * 1.6, 0.9), prob[:, 0] * 0.75)
    prob[:, 1] = np.where(frailty, np.minimum(prob[:, 1] * 1.6, 0.9), prob[:, 1] * 0.75)
    captured = rng.random((N, 4)) < prob
    keep = captured.any(axis=1)
    n = int(keep.sum())
    captured, region, month = captured[keep], region[keep], month[keep]
    sex = np.where(rng.random(n) < 0.55 + 0.1 * captured[:, 2], "male", "female")
    start = pd.Timestamp("2023-01-01")
    month_start = np.array([start + pd.DateOffset(months=int(i)) for i in range(MONTHS + 1)], dtype="datetime64[ns]")
    length = (month_start[1:] - month_start[:-1]) / np.timedelta64(1, "D")
    day = np.floor(rng.random(n) * length[month]).astype("int64")
    # the date a record was registered: the death (inside its month) plus a delay of about 45 days, so the month
    # of death is not a function of it (a date of death would separate the months: no multinomial-logit MLE)
    delay = np.floor(rng.exponential(45.0, n)).astype("int64")
    date = month_start[month] + (day + delay).astype("timedelta64[D]")
    labels = [f"{start.year + (start.month - 1 + i) // 12}-{(start.month - 1 + i) % 12 + 1:02d}" for i in range(MONTHS)]
    records = pd.DataFrame({name: captured[:, j].astype("int8") for j, name in enumerate(LISTS)})
    records["region"] = pd.Categorical.from_codes(region, REGIONS)
    records["month"] = pd.Categorical.from_codes(month, labels)
    records["sex"] = pd.Categorical(sex, categories=["female", "male"])
    records["registered"] = pd.to_datetime(date)
    # missing at random given the lists: more often missing when only on the media list
    media_only = captured[:, 2] & ~captured[:, [0, 1, 3]].any(axis=1)
    for column, base in (("region", 0.05), ("month", 0.07), ("sex", 0.08), ("registered", 0.06)):
        rate = np.where(media_only, base * 2.0, base * 0.8)
        missing = rng.random(n) < rate
        records.loc[missing, column] = None
    return records, N


def _peak_mb(who) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0  # kB on Linux


def _children_peak_mb() -> float:
    """Largest peak resident set (VmHWM) among this process's live descendants (joblib/loky workers, which
    outlive the call and so are not in RUSAGE_CHILDREN)."""
    try:
        import psutil
    except ImportError:
        return float("nan")
    peak = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            with open(f"/proc/{child.pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]) / 1024.0)
        except OSError:
            pass
    return peak


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def run(n_records: int, m: int, jobs: int, dask: bool, max_iter: int, label: str, scheduler: str | None = None) -> dict:
    load_before = _load()
    t0 = time.perf_counter()
    records, N = simulate(n_records)
    t_sim = time.perf_counter() - t0
    print(f"simulated {len(records):,} records (N = {N:,}) in {t_sim:.1f} s; load {load_before}", flush=True)

    client, t_client = None, 0.0
    backend = "dask" if dask else "joblib"
    if dask:
        from dask.distributed import Client

        t0 = time.perf_counter()
        client = (Client(scheduler) if scheduler else
                  Client(processes=True, n_workers=jobs, threads_per_worker=1, dashboard_address=None))
        t_client = time.perf_counter() - t0
        print(f"dask client: {t_client:.1f} s ({sum(client.ncores().values())} worker threads)", flush=True)

    t0 = time.perf_counter()
    imps = estimators.impute(records, m=m, lists=LISTS, random_seed=1, max_iter=max_iter, n_jobs=jobs,
                             backend=backend)
    t_impute = time.perf_counter() - t0
    print(f"impute: {t_impute:.1f} s", flush=True)

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tables = imps.histories(covariates=["region", "month"])
    t_tables = time.perf_counter() - t0
    print(f"tables: {t_tables:.1f} s", flush=True)

    options = dict(by=["region", "month"], method="loglinear", select="average", n_jobs=jobs, progress=False,
                   backend=backend)
    t0 = time.perf_counter()
    fits = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for table in tables:
            fits.append(estimators.estimate_strata(table, **options))
    t_fits = time.perf_counter() - t0
    print(f"fits: {t_fits:.1f} s ({len(fits)} x {len(fits[0].table)} strata)", flush=True)

    live_workers_mb = _children_peak_mb()
    t0 = time.perf_counter()
    pooled = estimators.pool(fits)
    t_pool = time.perf_counter() - t0
    total = pooled.total() if hasattr(pooled, "total") else None
    print(f"pool: {t_pool:.2f} s", flush=True)
    worker_mb = float("nan")
    if client is not None:
        try:
            worker_mb = max(client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0).values())
        except Exception:  # noqa: BLE001 - a measurement only
            pass
        client.close()

    row = dict(
        label=label, records=len(records), N_true=N, m=m, max_iter=max_iter, strata=len(fits[0].table),
        backend=backend, impute_backend=backend, jobs=jobs, client_s=round(t_client, 2) if dask else float("nan"),
        impute_s=round(t_impute, 2), tables_s=round(t_tables, 2), fits_s=round(t_fits, 2), pool_s=round(t_pool, 3),
        total_s=round(t_impute + t_tables + t_fits + t_pool, 2),
        peak_main_mb=round(_peak_mb(resource.RUSAGE_SELF)),
        peak_workers_mb=round(max(_peak_mb(resource.RUSAGE_CHILDREN), np.nan_to_num(worker_mb),
                                  np.nan_to_num(live_workers_mb))),
        estimate=round(float(total.estimate)) if total is not None else float("nan"),
        load_before=load_before, load_after=_load(), when=time.strftime("%Y-%m-%d %H:%M"),
    )
    print(row, flush=True)
    return row


def write_report(rows: pd.DataFrame) -> None:
    lines = [
        "# Records at scale: impute, strata tables, averaged log-linear fits, pool",
        "",
        "Generated by `python benchmarks/bench_records_scale.py` (one row per run, appended to `records_scale.csv`).",
        "4 lists, 60 strata (4 regions x 15 months), 5-10% of region/month/sex/registration date missing;",
        "`impute(m, max_iter, n_jobs=jobs, backend)`,",
        "`Imputations.histories(covariates=['region', 'month'])`, `estimate_strata(by=['region', 'month'],",
        "method='loglinear', select='average')` per imputation, `pool`. Wall-clock seconds on the machine shared with",
        "other work (load = `uptime` 1/5/15-min averages before and after the run; 2 cores). Peak memory: maximum",
        "resident set of this process and of any worker process. `backend` is `estimate_strata`'s, `impute backend`",
        "`impute`'s (`impute` had no Dask option before the 2026-12-06 06:58 row). `--dask` rows: the local",
        "cluster's start (`client s`) is not in `total s`.",
        "",
        "| label | records | m | backend | impute backend | jobs | client s | impute s | tables s | fits s | pool s "
        "| total s | peak main MB | peak worker MB | N true | pooled N | load before | load after | when |",
        "|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for r in rows.itertuples():
        client = "" if pd.isna(r.client_s) else r.client_s
        lines.append(f"| {r.label} | {r.records:,} | {r.m} | {r.backend} | {r.impute_backend} | {r.jobs} "
                     f"| {client} | {r.impute_s} | {r.tables_s} "
                     f"| {r.fits_s} | {r.pool_s} | {r.total_s} | {r.peak_main_mb:,} | {r.peak_workers_mb:,} "
                     f"| {r.N_true:,} | {r.estimate:,.0f} | {r.load_before} | {r.load_after} | {r.when} |")
    notes = RESULTS / "records_scale_notes.md"
    if notes.exists():
        lines += ["", notes.read_text().rstrip()]
    (RESULTS / "records_scale.md").write_text("\n".join(lines) + "\n")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--m", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--max-iter", type=int, default=10)
    parser.add_argument("--dask", action="store_true", help="the whole pipeline on Dask (backend='dask')")
    parser.add_argument("--scheduler", default=None, help="with --dask: an existing cluster's address")
    parser.add_argument("--label", default="")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    if args.scheduler and not args.dask:
        parser.error("--scheduler needs --dask")
    row = run(args.records, args.m, args.jobs, args.dask, args.max_iter, args.label, args.scheduler)
    if args.no_save:
        return
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "records_scale.csv"
    rows = pd.concat([pd.read_csv(path), pd.DataFrame([row])]) if path.exists() else pd.DataFrame([row])
    rows["impute_backend"] = rows["impute_backend"].fillna("joblib")  # earlier rows: impute had joblib only
    rows.to_csv(path, index=False)
    write_report(rows)


if __name__ == "__main__":
    main()
