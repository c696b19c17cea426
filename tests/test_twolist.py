"""Two-list estimators: hand-computed cases, CARE1's estN.pair on every shipped dataset, the profile interval
against a direct grid evaluation of the two-list likelihood, bad inputs, and properties."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from conftest import bad_choices, bad_levels, closed_peer_rows, raises_naming
from estimators import (
    CaptureHistories,
    DataError,
    NonexistentEstimateError,
    SmallSampleWarning,
    chapman,
    lincoln_petersen,
    load_dataset,
    pairwise,
)

TOLERANCE = 0.005


def _two(a_only, b_only, both):
    return CaptureHistories.from_mapping({"10": a_only, "01": b_only, "11": both}, lists=["A", "B"])


# ------------------------------------------------------------------------------------------ hand-computed
def test_petersen_and_chapman_by_hand():
    h = _two(60, 40, 20)  # n_A = 80, n_B = 60, m = 20
    petersen = lincoln_petersen(h, interval="wald")
    assert petersen.estimate == pytest.approx(240.0)
    # Seber (1982): 80 * 60 * 60 * 40 / 20**3 = 1440
    assert petersen.std_error == pytest.approx(np.sqrt(1440.0))
    z = stats.norm.ppf(0.975)
    assert petersen.interval == pytest.approx((240 - z * np.sqrt(1440), 240 + z * np.sqrt(1440)))
    result = chapman(h, interval="wald")
    assert result.estimate == pytest.approx(81 * 61 / 21 - 1)
    # Wittes (1972): 81 * 61 * 60 * 40 / (21**2 * 22)
    assert result.std_error**2 == pytest.approx(81 * 61 * 60 * 40 / (441 * 22))
    assert result.n_observed == 120
    assert result.method == "Chapman" and result.model == "A & B"


def test_lognormal_interval_by_hand():
    h = _two(60, 40, 20)
    result = chapman(h, interval="lognormal", level=0.9)
    unseen = result.estimate - 120
    factor = np.exp(stats.norm.ppf(0.95) * np.sqrt(np.log(1 + result.std_error**2 / unseen**2)))
    assert result.interval == pytest.approx((120 + unseen / factor, 120 + unseen * factor))
    assert result.interval[0] > 120


def _profile_by_grid(n_a, n_b, m, level=0.95):
    """Two-list multinomial (independence) profile log-likelihood on a fine grid of N, written out directly."""
    seen = n_a + n_b - m
    grid = seen + np.exp(np.linspace(np.log(1e-3), np.log(50 * seen), 400_001))

    def loglik(total):
        value = special.gammaln(total + 1) - special.gammaln(total - seen + 1)
        for size in (n_a, n_b):
            p = size / total
            value = value + size * np.log(p) + special.xlogy(total - size, 1 - p)
        return value

    values = loglik(grid)
    inside = grid[2 * (values.max() - values) <= stats.chi2.ppf(level, 1)]
    return grid[np.argmax(values)], inside.min(), inside.max()


@pytest.mark.parametrize("cells", [(60, 40, 20), (400, 250, 37), (12, 30, 9)])
def test_profile_interval_matches_direct_likelihood(cells):
    a_only, b_only, both = cells
    result = chapman(_two(*cells), interval="profile")
    mle, lower, upper = _profile_by_grid(a_only + both, b_only + both, both)
    assert result.details["multinomial_mle"] == pytest.approx(mle, rel=1e-3)
    assert result.interval == pytest.approx((lower, upper), rel=1e-3)
    assert result.interval_kind.startswith("profile likelihood")


# ------------------------------------------------------------------------------------------ CARE1 estN.pair
def _pair_rows():
    rows = closed_peer_rows("estN.pair Chapman lists")
    return [pytest.param(row, id=f"{row.dataset}-{row.method.split()[-1]}") for row in rows.itertuples()]


@pytest.mark.parametrize("row", _pair_rows())
def test_chapman_and_petersen_agree_with_care1(row):
    pair = tuple(row.method.split()[-1].split("&"))
    h = load_dataset(row.dataset, collapse=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        result = chapman(h, pair)
    assert result.estimate == pytest.approx(row.estimate, rel=TOLERANCE)
    assert result.interval == pytest.approx((row.lower, row.upper), rel=TOLERANCE)
    care1_se = float(re.search(r"se=([\d.]+)", row.notes).group(1))
    assert result.std_error == pytest.approx(care1_se, rel=TOLERANCE, abs=0.01)
    care1_petersen = re.search(r"Petersen=(\S+)", row.notes).group(1)
    if care1_petersen == "Inf":
        with pytest.raises(NonexistentEstimateError, match=f"{pair[0]}.*{pair[1]}"):
            lincoln_petersen(h, pair)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallSampleWarning)
            assert lincoln_petersen(h, pair).estimate == pytest.approx(float(care1_petersen), rel=TOLERANCE, abs=0.06)


def test_pairwise_table_matches_single_calls():
    h = load_dataset("Rcapture_HIV")
    table = pairwise(h)
    assert list(table.index) == ["c1 & c2", "c1 & c3", "c1 & c4", "c2 & c3", "c2 & c4", "c3 & c4"]
    single = chapman(h, ("c1", "c3"))
    row = table.loc["c1 & c3"]
    assert row["estimate"] == pytest.approx(single.estimate)
    assert (row["lower"], row["upper"]) == pytest.approx(single.interval)
    assert row["petersen"] == pytest.approx(lincoln_petersen(h, ("c1", "c3")).estimate)


def test_pairwise_petersen_without_overlap_is_nan_and_warns():
    h = CaptureHistories.from_mapping({"100": 5, "010": 7, "001": 9, "110": 3, "011": 2}, lists=["A", "B", "C"])
    with pytest.warns(SmallSampleWarning, match="'A' and 'C'"):
        table = pairwise(h, method="petersen")
    assert np.isnan(table.loc["A & C", "estimate"]) and np.isnan(table.loc["A & C", "petersen"])
    assert np.isfinite(table.loc["A & B", "estimate"])


# ------------------------------------------------------------------------------------------ zero overlap, errors
def test_zero_overlap():
    h = _two(30, 20, 0)
    with pytest.raises(NonexistentEstimateError, match="'A' and 'B' have no one in common"):
        lincoln_petersen(h)
    with pytest.warns(SmallSampleWarning, match="no one in common"):
        result = chapman(h)
    assert result.estimate == pytest.approx(31 * 21 - 1)
    assert any("no one in common" in w for w in result.warnings)


def test_zero_overlap_profile_reports_no_multinomial_mle():
    # the profile search stops at n * 1e6; that limit (8,000,008 here) must not be shown as an estimate
    with pytest.warns(SmallSampleWarning):
        result = chapman(_two(5, 3, 0), interval="profile")
    assert result.details["multinomial_mle"] == np.inf
    assert np.isnan(result.interval[1]) and result.interval[0] >= 8


def test_few_overlaps_warn():
    with pytest.warns(SmallSampleWarning, match="Only 3 record"):
        result = chapman(_two(30, 20, 3))
    assert result.warnings


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(lists=None), ValueError, "say which two"),
        (dict(lists=("A", "Z")), DataError, "unknown list"),
        (dict(lists=("A", "A")), ValueError, "two different lists"),
        (dict(lists="AB"), ValueError, "exactly two lists"),
        (dict(lists=5), ValueError, "exactly two lists"),
        (dict(lists={"A", "B"}), ValueError, "exactly two lists"),
        (dict(lists=("A", "B"), level=1.5), ValueError, "level"),
        (dict(lists=("A", "B"), level=0), ValueError, "level"),
        (dict(lists=("A", "B"), interval="exact"), ValueError, "interval"),
    ],
)
def test_bad_inputs(kwargs, error, message):
    h = CaptureHistories.from_mapping({"100": 5, "010": 7, "001": 9, "110": 3, "011": 2}, lists=["A", "B", "C"])
    lists = kwargs.pop("lists")
    with pytest.raises(error, match=message):
        chapman(h, lists, **kwargs)


def test_not_histories():
    with pytest.raises(TypeError, match="CaptureHistories"):
        chapman(pd.DataFrame({"A": [1], "B": [0]}))
    with pytest.raises(ValueError, match="method"):
        pairwise(_two(1, 2, 3), method="lp")


# ------------------------------------------------------------------------------------------ properties
cell = st.integers(min_value=0, max_value=500)


@settings(max_examples=60, deadline=None)
@given(a_only=cell, b_only=cell, both=st.integers(min_value=1, max_value=300))
def test_never_below_observed_and_symmetric(a_only, b_only, both):
    h, swapped = _two(a_only, b_only, both), _two(b_only, a_only, both)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        for method in (chapman, lincoln_petersen):
            result, other = method(h), method(swapped)
            assert result.estimate >= h.n_observed - 1e-9
            assert result.interval[0] >= h.n_observed - 1e-9
            assert other.estimate == pytest.approx(result.estimate)
            assert other.interval == pytest.approx(result.interval)


@settings(max_examples=30, deadline=None)
@given(level=bad_levels(), interval=bad_choices(("wald", "lognormal", "profile")))
def test_bad_options_name_the_argument_and_value(level, interval):
    h = _two(30, 20, 10)
    for method in (chapman, lincoln_petersen):
        raises_naming(lambda: method(h, level=level), ValueError, "level", level)
        raises_naming(lambda: method(h, interval=interval), ValueError, "interval", interval)


def test_profile_lower_bound_not_reached_is_n_and_reported_not_found():
    from estimators import _glm
    from estimators.twolist import two_list_design

    # 1000 on both lists, 10 on each alone: the likelihood barely drops between N-hat and N = n
    profile = _glm.profile_interval(two_list_design(), np.array([10.0, 10.0, 1000.0]), 0.95)
    assert profile.lower == 1020.0 and not profile.lower_found
    assert profile.upper_found and profile.upper > 1020.0
    reached = _glm.profile_interval(two_list_design(), np.array([100.0, 80.0, 40.0]), 0.95)
    assert reached.lower_found and 220.0 < reached.lower < reached.mle


def test_wald_lower_bound_below_observed_is_flagged():
    h = _two(30, 25, 3)  # few shared: a wide Wald interval reaching below the 58 seen
    with pytest.warns(SmallSampleWarning) as caught:
        result = chapman(h, interval="wald")
    assert any(re.search(r"Wald lower bound .* is below the 58 people seen", str(w.message)) for w in caught)
    assert result.interval[0] < h.n_observed
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chapman(_two(300, 250, 200), interval="wald")  # nowhere near n: no warning
