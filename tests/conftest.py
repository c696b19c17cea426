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
