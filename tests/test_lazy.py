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
    ("loglinear", "loglinear(h)", set()),
])
def test_first_fit_imports_no_pandas_or_scipy(name, call, allowed):
    code = FIRST_FIT.format(name=name, call=call)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    imported = set(done.stdout.split())
    assert imported <= allowed, f"{name}: imported {sorted(imported - allowed)}"


def test_table_prints_as_its_dataframe_would():
    """Summary text of a Table (no pandas) equals that of the same table as a DataFrame, on varied numbers."""
    import dataclasses

    from estimators._summary import Summary, Table

    rng = np.random.default_rng(0)
    for _ in range(200):
        names = list(rng.choice(["estimate", "lower", "upper", "std. error", "n", "x y"], rng.integers(1, 5),
                                replace=False))
        n_rows = int(rng.integers(1, 4))
        columns = {}
        for name in names:
            kind = rng.integers(0, 4)
            if kind == 0:
                columns[name] = [int(v) for v in rng.integers(-10**7, 10**7, n_rows)]
            elif kind == 1:
                columns[name] = [float(v) for v in rng.normal(0, 10.0 ** rng.integers(-3, 8), n_rows)]
            elif kind == 2:
                columns[name] = [float(np.round(v)) for v in rng.uniform(0, 1e6, n_rows)]
            else:
                columns[name] = [np.nan if rng.random() < 0.3 else float(v) for v in rng.exponential(5, n_rows)]
        table = Table(columns, index=[f"row {'x' * int(rng.integers(0, 12))}{i}" for i in range(n_rows)])
        light = Summary(title="t", facts=[("a", 1)], table=table)
        framed = dataclasses.replace(light, table=table.to_frame())
        assert str(light) == str(framed)
        assert light._repr_html_() == framed._repr_html_()


def test_the_command_line_imports_no_pandas(tmp_path):
    table = tmp_path / "small.csv"
    table.write_text("A,B,C,count\n1,0,0,30\n0,1,0,25\n1,1,0,12\n0,0,1,20\n1,0,1,8\n0,1,1,7\n1,1,1,4\n")
    code = ("import sys; from estimators.cli import main; "
            f"sys.argv = ['undercount', 'estimate', {str(table)!r}, '--method', 'chapman', '--pair', 'A,B']; "
            "main(); print('pandas' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split()[-1] == "False"
    assert "N (total)" in done.stdout
