"""simulate_records: record-level casualty data with known truth."""

import numpy as np
import pandas as pd
import pytest

from estimators.exceptions import DataError
from estimators.simulate import SimulatedRecords, simulate_records


@pytest.fixture(scope="module")
def sim():
    return simulate_records(5000, random_seed=3)


def test_shapes_and_columns(sim):
    assert isinstance(sim, SimulatedRecords)
    records = sim.records
    assert list(records.columns) == ["A", "B", "C", "D", "date", "region", "sex"]
    assert records[["A", "B", "C", "D"]].isin([0, 1]).all().all()
    assert (records[["A", "B", "C", "D"]].sum(axis=1) >= 1).all()
    assert len(records) == int(sim.deaths["seen"].sum())
    assert 0 < len(records) < sim.total
    assert len(sim.daily) == 180


def test_truth_is_consistent(sim):
    assert sim.total == 5000 == int(sim.daily.sum()) == int(sim.by_region.sum()) == int(sim.by_month.sum())
    assert list(sim.by_region.index) == ["north", "centre", "south"]
    assert sim.mean_rate == pytest.approx(5000 / 180)
    # the records' list columns are those of the deaths seen
    seen = sim.deaths[sim.deaths["seen"] == 1]
    assert (seen[["A", "B", "C", "D"]].sum().to_numpy() == sim.records[["A", "B", "C", "D"]].sum().to_numpy()).all()
    # the surge: the busiest week is well above the average week
    weekly = sim.daily.groupby(np.arange(180) // 7).sum()
    assert weekly.max() > 2 * weekly.mean()


def test_late_list_and_degraded_fields(sim):
    deaths = sim.deaths
    assert deaths.loc[deaths["day"] < 90, "D"].sum() == 0
    assert deaths.loc[deaths["day"] >= 90, "D"].sum() > 0
    dates = sim.records["date"]
    periods = dates.map(lambda d: isinstance(d, pd.Period))
    stamps = dates.map(lambda d: isinstance(d, pd.Timestamp))
    missing = dates.isna()
    assert (periods | stamps | missing).all()
    assert 0.05 < missing.mean() < 0.25 and 0.05 < periods.mean() < 0.3
    assert all(p.freqstr.startswith("M") for p in dates[periods])
    assert 0.05 < sim.records["region"].isna().mean() < 0.35
    assert 0.03 < sim.records["sex"].isna().mean() < 0.25
    # missing at random given the lists: single-list records lose their region more often
    single = sim.records[["A", "B", "C", "D"]].sum(axis=1) == 1
    assert sim.records.loc[single, "region"].isna().mean() > sim.records.loc[~single, "region"].isna().mean()
    # the observed fields agree with the truth
    seen = sim.deaths[sim.deaths["seen"] == 1].reset_index(drop=True)
    known = sim.records["region"].notna()
    assert (sim.records.loc[known, "region"] == seen.loc[known, "region"]).all()
    assert (dates[stamps] == seen.loc[stamps, "date"]).all()


def test_capture_depends_on_region(sim):
    rates = sim.deaths.groupby("region")["seen"].mean()
    assert rates["north"] > rates["centre"] > rates["south"]


def test_hidden_class_lowers_capture():
    plain = simulate_records(4000, random_seed=1)
    hidden = simulate_records(4000, hidden_share=0.4, hidden_factor=0.2, random_seed=1)
    assert hidden.deaths["hidden"].mean() == pytest.approx(0.4, abs=0.03)
    assert plain.deaths["hidden"].sum() == 0
    assert len(hidden.records) < len(plain.records)
    by_class = hidden.deaths.groupby("hidden")["seen"].mean()
    assert by_class[1] < 0.5 * by_class[0]


def test_seeds():
    a, b = simulate_records(2000, random_seed=7), simulate_records(2000, random_seed=7)
    pd.testing.assert_frame_equal(a.records, b.records)
    pd.testing.assert_series_equal(a.daily, b.daily)
    c = simulate_records(2000, random_seed=8)
    assert not a.records.equals(c.records)


def test_options_and_errors():
    sim = simulate_records(1000, list_start={}, p_missing_date=0, p_month_only=0, p_missing_region=0,
                           p_missing_sex=0, random_seed=2)
    assert sim.records.notna().all().all()
    assert sim.deaths.loc[sim.deaths["day"] < 90, "D"].sum() > 0
    with pytest.raises(DataError, match="capture"):
        simulate_records(100, capture=np.full((3, 3), 0.2))
    with pytest.raises(DataError, match="list_start"):
        simulate_records(100, list_start={"Z": 3})
    with pytest.raises(DataError, match="hidden_share"):
        simulate_records(100, hidden_share=1.5)
