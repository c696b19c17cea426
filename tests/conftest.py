"""Shared test helpers: the shipped datasets and the R packages' reference numbers (tests/data/)."""

from pathlib import Path

import pandas as pd
import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def peers() -> pd.DataFrame:
    """What the R packages gave on the shipped datasets (copied from shared/reference/peers.csv)."""
    return pd.read_csv(DATA / "peers.csv")


def peer_row(peers: pd.DataFrame, dataset: str, method: str, package: str | None = None) -> pd.Series:
    """The one reference row whose method equals ``method`` exactly, for ``dataset`` (and ``package``)."""
    rows = peers[(peers.dataset == dataset) & (peers.method == method)]
    if package is not None:
        rows = rows[rows.package.str.startswith(package)]
    assert len(rows) == 1, f"expected one reference row for {dataset} / {method}, found {len(rows)}"
    return rows.iloc[0]


PACKAGE_DATA = Path(__file__).parent.parent / "estimators" / "data"
# datasets whose reference rows come from open-population, frequency-only or robust-design analyses
NOT_CLOSED_MSE = {"open", "nbcap", "robust_design"}


def closed_peer_rows(method_prefix: str) -> pd.DataFrame:
    """Reference rows whose method starts with ``method_prefix``, on the shipped closed-population tables only.

    A plain function (not a fixture) because parametrisation needs the rows at collection time."""
    peers = pd.read_csv(DATA / "peers.csv")
    kinds = pd.read_csv(PACKAGE_DATA / "datasets.csv").set_index("dataset")["kind"]
    rows = peers[peers.method.str.startswith(method_prefix)]
    return rows[~rows.dataset.map(kinds).isin(NOT_CLOSED_MSE)]


def bad_levels():
    """Hypothesis strategy of values that are not an interval level: outside (0, 1), nan, bools, text, None."""
    from hypothesis import strategies as st

    return st.one_of(
        st.floats(allow_nan=True).filter(lambda x: not 0.0 < x < 1.0),
        st.integers(),
        st.booleans(),
        st.text(max_size=4),
        st.none(),
    )


def bad_choices(allowed):
    """Hypothesis strategy of strings (and a few non-strings) that are not among ``allowed``."""
    from hypothesis import strategies as st

    return st.one_of(st.text(max_size=12), st.integers(), st.none()).filter(lambda x: x not in allowed)


def raises_naming(call, error, argument: str, value) -> None:
    """``call()`` raises ``error`` whose message names ``argument`` (in backticks) and shows ``value`` as given."""
    import pytest

    with pytest.raises(error) as caught:
        call()
    message = str(caught.value)
    assert f"`{argument}`" in message, message
    assert repr(value) in message, f"{message!r} does not show the value received {value!r}"


# A small linked example shared by the linkage tests: one splink fit per session (a few seconds). The fixtures live
# here, not in tests/linkage/conftest.py, because a second conftest module would shadow `from conftest import ...`.
@pytest.fixture(scope="session")
def named_sim():
    pytest.importorskip("splink")
    from estimators.simulate import simulate_named_lists

    return simulate_named_lists(300, random_seed=11)


@pytest.fixture(scope="session")
def linked(named_sim):
    import estimators

    return estimators.link(named_sim.lists, random_seed=3)
