"""Multiple imputation of person records by chained equations (estimators.impute)."""

import numpy as np
import pandas as pd
import pytest

import estimators
from estimators import DataError, Imputations
from estimators.simulate import simulate_records


def _records(n=800, seed=0):
    """People on two lists; region depends on list A, and is missing more often off list A (MAR given A)."""
    rng = np.random.default_rng(seed)
    region = rng.choice(["north", "south", "east"], n, p=[0.5, 0.3, 0.2])
    on_a = rng.random(n) < np.where(region == "north", 0.8, 0.3)
    on_b = rng.random(n) < 0.5
    on_b[~on_a & ~on_b] = True
    age = np.round(rng.normal(np.where(on_a, 35, 50), 8))
    frame = pd.DataFrame({
        "A": on_a.astype(int), "B": on_b.astype(int),
        "region": pd.Categorical(region, categories=["east", "north", "south", "west"]),
        "sex": rng.choice(["f", "m"], n),
        "age": age,
        "date": pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(0, 60, n), unit="D"),
        "id": [f"person-{i}" for i in range(n)],
    })
    full = frame.copy()
    frame.loc[rng.random(n) < np.where(on_a, 0.05, 0.5), "region"] = np.nan
    frame.loc[rng.random(n) < np.where(on_a, 0.05, 0.4), "age"] = np.nan
    frame.loc[rng.random(n) < 0.1, "date"] = pd.NaT
    frame.loc[rng.random(n) < 0.1, "sex"] = None
    return full, frame


@pytest.fixture(scope="module")
def data():
    full, frame = _records()
    before = frame.copy(deep=True)
    imputations = estimators.impute(frame, m=5, lists=["A", "B"], random_seed=3, max_iter=5)
    return full, frame, before, imputations


def test_completed_tables_keep_types_and_fill_every_gap(data):
    full, frame, _, imputations = data
    assert isinstance(imputations, Imputations) and imputations.m == len(imputations) == 5
    for completed in imputations:
        assert completed.index.equals(frame.index) and list(completed.columns) == list(frame.columns)
        assert (completed.dtypes == frame.dtypes).all()
        assert not completed[["region", "sex", "age", "date"]].isna().any().any()
        observed = frame["region"].notna()
        assert completed.loc[observed, "region"].equals(frame.loc[observed, "region"])
        assert set(completed["region"]) <= {"east", "north", "south"}  # never an unobserved category
        assert set(completed["sex"]) <= {"f", "m"}
        assert (completed["date"] == completed["date"].dt.normalize()).all()  # whole days
        assert completed["age"].isin(frame["age"].dropna()).all()  # PMM donors' values
    assert imputations.missing.to_dict() == {c: int(frame[c].isna().sum()) for c in ("region", "sex", "age", "date")}
    assert imputations.methods == {"region": "polyreg", "sex": "logreg-pmm", "age": "pmm", "date": "pmm"}
    assert "id" not in imputations.columns and any("identifiers" in note for note in imputations.notes)


def test_input_is_not_mutated(data):
    _, frame, before, imputations = data
    pd.testing.assert_frame_equal(frame, before)
    assert all(completed is not frame for completed in imputations)


def test_recovers_the_covariate_distribution_under_mar(data):
    full, frame, _, imputations = data
    truth = (full["region"] == "north").mean()
    complete_case = (frame["region"].dropna() == "north").mean()
    imputed = np.mean([(completed["region"] == "north").mean() for completed in imputations])
    assert complete_case - truth > 0.04  # missingness depends on list A, which north is more often on
    assert abs(imputed - truth) < 0.5 * abs(complete_case - truth)
    assert abs(imputed - truth) < 0.04
    truth_age, cc_age = full["age"].mean(), frame["age"].mean()
    imputed_age = np.mean([completed["age"].mean() for completed in imputations])
    assert truth_age - cc_age > 1.0
    assert abs(imputed_age - truth_age) < 0.5 * abs(cc_age - truth_age)


def test_diagnostics_and_summary(data):
    _, _, _, imputations = data
    table = imputations.diagnostics
    assert {"column", "statistic", "n_missing", "observed", "imputed", "imputed_sd_between", "completed",
            "completed_sd_between"} <= set(table.columns)
    north = table[(table["column"] == "region") & (table["statistic"] == "share north")].iloc[0]
    assert north["observed"] > north["imputed"]  # the imputed are mostly off list A, so less often north
    assert north["imputed_sd_between"] > 0
    text = str(imputations.summary())
    assert "polyreg" in text and "missing region" in text and "share north" in text
    assert repr(imputations).startswith("<Imputations: m=5, 800 records, missing region:")
    assert imputations.settings["random_seed"] == 3


def test_same_seed_same_imputations_other_seed_others():
    _, frame = _records(n=200, seed=1)
    first = estimators.impute(frame, m=2, lists=["A", "B"], random_seed=7, max_iter=2)
    again = estimators.impute(frame, m=2, lists=["A", "B"], random_seed=7, max_iter=2)
    other = estimators.impute(frame, m=2, lists=["A", "B"], random_seed=8, max_iter=2)
    for a, b in zip(first, again):
        pd.testing.assert_frame_equal(a, b)
    assert not first[0].equals(other[0])
    assert not first[0].equals(first[1])  # imputations differ from each other
    unseeded = estimators.impute(frame, m=2, lists=["A", "B"], max_iter=1)
    repeat = estimators.impute(frame, m=2, lists=["A", "B"], max_iter=1,
                               random_seed=unseeded.settings["random_seed"])
    pd.testing.assert_frame_equal(unseeded[1], repeat[1])


def test_columns_limit_the_models_and_others_pass_through():
    _, frame = _records(n=200, seed=2)
    imputations = estimators.impute(frame, m=2, lists=["A", "B"], columns=["region", "age"], random_seed=0,
                                    max_iter=2)
    assert imputations.columns == ("region", "age")
    completed = imputations[0]
    assert completed["sex"].isna().sum() == frame["sex"].isna().sum()  # not modelled: left as it was
    assert not completed["region"].isna().any()


def test_histories_per_imputation():
    _, frame = _records(n=200, seed=4)
    imputations = estimators.impute(frame, m=2, lists=["A", "B"], columns=["region"], random_seed=0, max_iter=2)
    tables = imputations.histories()
    assert len(tables) == 2 and all(h.n_observed == 200 for h in tables)


@pytest.mark.parametrize(
    "change, kwargs, message",
    [
        (lambda f: f, {"lists": ["A", "C"]}, "not in `records`"),
        (lambda f: f.assign(A=f["A"].astype(float).where(f.index != 0)), {"lists": ["A", "B"]}, "missing values"),
        (lambda f: f.assign(A=f["A"] * 2), {"lists": ["A", "B"]}, "0/1"),
        (lambda f: f, {"lists": ["A", "B"], "columns": ["A", "region"]}, "are lists"),
        (lambda f: f, {"lists": ["A", "B"], "columns": ["nope"]}, "not in `records`"),
        (lambda f: f.assign(age=np.nan), {"lists": ["A", "B"], "columns": ["age"]}, "fewer than two observed"),
        (lambda f: f, {"lists": "A"}, "list of the list-membership"),
    ],
)
def test_bad_records(change, kwargs, message):
    _, frame = _records(n=50, seed=5)
    with pytest.raises(DataError, match=message):
        estimators.impute(change(frame), m=2, max_iter=1, **kwargs)


def test_bad_options():
    _, frame = _records(n=50, seed=5)
    with pytest.raises(ValueError, match="`m`"):
        estimators.impute(frame, m=1, lists=["A", "B"])
    with pytest.raises(ValueError, match="`max_iter`"):
        estimators.impute(frame, lists=["A", "B"], max_iter=0)
    with pytest.raises(ValueError, match="`random_seed`"):
        estimators.impute(frame, lists=["A", "B"], random_seed=-1)
    with pytest.raises(DataError, match="DataFrame"):
        estimators.impute(frame.to_dict(), m=2, lists=["A", "B"])


def test_same_seed_same_imputations_serial_joblib_and_dask():
    distributed = pytest.importorskip("dask.distributed")
    _, frame = _records(n=300, seed=6)
    options = dict(m=3, lists=["A", "B"], random_seed=11, max_iter=2)
    serial = estimators.impute(frame, **options)
    processes = estimators.impute(frame, n_jobs=2, **options)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        given = estimators.impute(frame, backend="dask", scheduler=cluster.scheduler_address, **options)
        assert any("_chain" in name for name in cluster.scheduler.task_prefixes)  # the chains ran there
        with distributed.Client(cluster) as client:
            with distributed.get_task_stream(client) as stream:
                active = estimators.impute(frame, backend="dask", **options)  # the active client, found
            assert client.status == "running"  # and left running
    assert any("_chain" in task["key"] for task in stream.data)
    for other in (processes, given, active):
        assert other.m == serial.m
        for a, b in zip(serial, other):
            pd.testing.assert_frame_equal(a, b)
        pd.testing.assert_frame_equal(serial.diagnostics, other.diagnostics)


def test_backend_options_are_checked():
    _, frame = _records(n=50, seed=5)
    with pytest.raises(ValueError, match="`backend`"):
        estimators.impute(frame, m=2, lists=["A", "B"], backend="spark")
    with pytest.raises(ValueError, match="backend='dask'"):
        estimators.impute(frame, m=2, lists=["A", "B"], scheduler="tcp://127.0.0.1:1")
    with pytest.raises(ValueError, match="`scheduler`"):
        estimators.impute(frame, m=2, lists=["A", "B"], backend="dask", scheduler=3)


@pytest.mark.slow
def test_impute_strata_pool_on_a_local_dask_cluster_from_one_option():
    pytest.importorskip("dask.distributed")
    from dask.distributed import Client

    _, frame = _records(n=400, seed=7)
    frame = frame.drop(columns=["id", "date"])
    options = dict(m=3, lists=["A", "B"], random_seed=5, max_iter=2)
    fits = dict(by="region", method="chapman", progress=False)
    local = estimators.estimate_strata(estimators.impute(frame, **options), **fits)
    imputations = estimators.impute(frame, backend="dask", **options)  # starts and closes a local cluster
    on_dask = estimators.estimate_strata(imputations, backend="dask", **fits)
    with pytest.raises(ValueError):
        Client.current()  # the clusters the calls started are closed
    pd.testing.assert_frame_equal(on_dask.table, local.table.assign(seconds=on_dask.table["seconds"]))


def test_dates_as_text_are_imputed_as_dates_and_months_stay_categories():
    _, frame = _records(n=400, seed=5)
    as_text = frame.assign(date=frame["date"].dt.strftime("%Y-%m-%d").astype("str"))  # a CSV's text dates
    kept = as_text.copy()
    imputations = estimators.impute(as_text, m=2, lists=["A", "B"], columns=["date"], random_seed=1, max_iter=3)
    pd.testing.assert_frame_equal(as_text, kept)
    assert "missing date" in str(imputations.summary()) and "(pmm)" in str(imputations.summary())
    completed = imputations[0]["date"]
    assert completed.notna().all() and completed.dtype == as_text["date"].dtype
    # predictive mean matching: every imputed day is an observed one, written as the observed ones are
    assert set(completed[as_text["date"].isna()]) <= set(as_text["date"].dropna())
    # written day-first, the same days: the same imputed days (each a donor's, written as the donor's was)
    day_first = as_text.assign(date=frame["date"].dt.strftime("%d/%m/%Y").astype("str"))
    again = estimators.impute(day_first, m=2, lists=["A", "B"], columns=["date"], random_seed=1, max_iter=3)
    as_iso = pd.to_datetime(again[0]["date"], format="%d/%m/%Y").dt.strftime("%Y-%m-%d")
    assert as_iso.astype(str).tolist() == completed.astype(str).tolist()
    # a month is a period, not a day: such a column is not read as dates
    months = as_text.assign(date=as_text["date"].str.slice(0, 7))
    from estimators._records._impute import _kind
    assert _kind(months["date"]) == "categorical" and _kind(as_text["date"]) == "date"
    assert _kind(as_text["region"].astype(object)) == "categorical" and _kind(frame["id"]) == "categorical"


@pytest.mark.parametrize("months_as", ["period", "text"])
def test_days_mixed_with_months_are_imputed_as_dates(months_as):
    # simulate_records' own column: exact days (Timestamps) with month-only dates (Periods), some missing; a CSV
    # holds the months as text ('2024-03') beside the days ('2024-03-17')
    sim = simulate_records(1500, days=120, random_seed=3)
    records = sim.records
    if months_as == "text":
        records = records.assign(date=[v if v is None or pd.isna(v) else (str(v) if isinstance(v, pd.Period) else
                                                                             v.strftime("%Y-%m-%d"))
                                       for v in records["date"]])
    kept = records.copy()
    from estimators._records._impute import _encode, _kind

    assert _kind(records["date"]) == "date"
    days, origin = _encode(records["date"], "date")
    month = records["date"].map(lambda v: isinstance(v, (pd.Period, str)) and len(str(v)) == 7)
    # a month reads as its middle day for the imputation model: March 2024 (from 1 January) as day 75
    middle = (pd.Timestamp("2024-03-01") + (pd.Timestamp("2024-03-31 23:59:59.999999999") -
                                             pd.Timestamp("2024-03-01")) / 2 - origin) / pd.Timedelta(days=1)
    march = records["date"].map(lambda v: str(v) == "2024-03")
    assert np.allclose(days[march.to_numpy()], middle)
    imputations = estimators.impute(records, m=2, lists=["A", "B", "C", "D"], columns=["date"], random_seed=1,
                                    max_iter=3)
    pd.testing.assert_frame_equal(records, kept)
    assert "(pmm)" in str(imputations.summary())
    completed = imputations[0]["date"]
    missing = records["date"].isna()
    assert completed.notna().all() and completed[~missing].tolist() == records["date"][~missing].tolist()
    # predictive mean matching: each imputed date is an observed one, days and months both among the donors
    assert set(completed[missing]) <= set(records["date"].dropna())
    assert month[~missing].any()
