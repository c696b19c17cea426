"""estimators._lazy: the quantile tables equal scipy's values bit for bit, and fits stay free of heavy imports."""

import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from estimators import _lazy


@pytest.mark.parametrize("p", sorted(_lazy._NORMAL_PPF))
def test_normal_table_is_scipy_bit_for_bit(p):
    assert _lazy.normal_ppf(p) == stats.norm.ppf(p)
    assert isinstance(_lazy.normal_ppf(p), np.float64)


@pytest.mark.parametrize("level", sorted(_lazy._CHI2_1_PPF))
def test_chi2_table_is_scipy_bit_for_bit(level):
    assert _lazy.chi2_1_ppf(level) == stats.chi2.ppf(level, 1)


def test_other_levels_fall_back_to_scipy():
    assert _lazy.normal_ppf(0.97) == stats.norm.ppf(0.97)
    assert _lazy.chi2_1_ppf(0.93) == stats.chi2.ppf(0.93, 1)


def test_is_pandas_without_and_with_pandas():
    import pandas as pd

    assert _lazy.is_pandas(pd.Series([1]), "Series")
    assert not _lazy.is_pandas([1], "Series", "Index")


# What each first fit may import. A fresh interpreter, because this test process has imported everything already.
FIRST_FIT = """
import sys, warnings
warnings.simplefilter("ignore")
from estimators import {name}, load_dataset
h = load_dataset("Rcapture_HIV")
{call}
print(" ".join(m for m in ("pandas", "scipy.stats", "scipy.optimize", "scipy.special", "matplotlib", "pymc")
               if m in sys.modules))
"""


@pytest.mark.parametrize("name, call, allowed", [
    ("chapman", "chapman(h, lists=h.lists[:2])", set()),
    ("sample_coverage", "sample_coverage(h, random_seed=1)", set()),
    ("loglinear", "loglinear(h)", {"scipy.optimize", "scipy.special"}),
])
def test_first_fit_imports_no_pandas_or_scipy_stats(name, call, allowed):
    code = FIRST_FIT.format(name=name, call=call)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    imported = set(done.stdout.split())
    assert imported <= allowed, f"{name}: imported {sorted(imported - allowed)}"
