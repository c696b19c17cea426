"""The public capture-recapture datasets shipped with the package (see ``estimators/data/INDEX.md``)."""

from __future__ import annotations

import csv
from importlib import resources

import numpy as np

from . import _warn
from ._lazy import pd
from ._validation import BOOL, InstanceOf, validate_params
from .exceptions import DataError, IdentifiabilityWarning
from .histories import MAX_TOTAL_COUNT, CaptureHistories

# Capture occasions of an open population (Jolly-Seber data) or a robust design: not closed-population tables.
OPEN_KINDS = ("open", "robust_design")


def _data_dir():
    return resources.files(__package__) / "data"


@validate_params(
    {},
    exempt=(),
)
def list_datasets() -> pd.DataFrame:
    """The registry of shipped datasets.

    Returns
    -------
    pandas.DataFrame
        One row per dataset: ``dataset`` (the name for :func:`load_dataset`), ``source_package``, ``kind``
        (``closed_mse``, ``closed_capture``, ``open``, ``robust_design``, ...), ``k`` lists, ``n`` observed,
        ``lists``, ``covariates`` and ``notes``.

    References
    ----------
    Each dataset's original publication is in ``estimators/data/INDEX.md``; the R packages they were exported
    from, by ``source_package``:

    .. [1] Baillargeon, S. and Rivest, L.-P. (2007). Rcapture: loglinear models for capture-recapture in R.
       *Journal of Statistical Software* 19(5), 1-31.
    .. [2] Chan, L., Silverman, B. W. and Vincent, K. (2021). Multiple systems estimation for sparse capture
       data: inferential challenges when there are nonoverlapping lists. *Journal of the American Statistical
       Association* 116(535), 1297-1306 (SparseMSE).
    .. [3] Manrique-Vallier, D. (2016). Bayesian population size estimation using Dirichlet process mixtures.
       *Biometrics* 72(4), 1246-1254 (LCMCR).
    .. [4] Chao, A., Tsay, P. K., Lin, S. H., Shau, W. Y. and Chao, D. Y. (2001). The applications of
       capture-recapture models to epidemiological data. *Statistics in Medicine* 20, 3123-3157 (CARE1).
    .. [5] Overstall, A. M. and King, R. (2014). conting: an R package for Bayesian analysis of complete and
       incomplete contingency tables. *Journal of Statistical Software* 58(7), 1-27.
    .. [6] Madigan, D. and York, J. C. (1997). Bayesian methods for estimation of the size of a closed
       population. *Biometrika* 84(1), 19-31 (dga).
    .. [7] Yee, T. W., Stoklosa, J. and Huggins, R. M. (2015). The VGAM package for capture-recapture data
       using the conditional likelihood. *Journal of Statistical Software* 65(5), 1-33.

    Examples
    --------
    >>> from estimators import list_datasets
    >>> registry = list_datasets().set_index("dataset")
    >>> row = registry.loc["LCMCR_kosovo"]
    >>> row["kind"], int(row["k"]), int(row["n"])
    ('closed_mse', 4, 4400)
    """
    with resources.as_file(_data_dir() / "datasets.csv") as path:
        return pd.read_csv(path)


@validate_params(
    {"name": [InstanceOf(str, "a dataset name (str; see list_datasets())")], "collapse": BOOL},
    exempt=(),
)
def load_dataset(name: str, *, collapse: bool = False) -> CaptureHistories:
    """Load a shipped closed-population dataset as :class:`CaptureHistories`.

    Parameters
    ----------
    name : str
        File stem, e.g. ``"LCMCR_kosovo"`` or ``"Rcapture_HIV"`` (see :func:`list_datasets`).
    collapse : bool
        Sum over strata/covariates.

    Returns
    -------
    CaptureHistories
        The table as shipped (covariate columns kept unless ``collapse``).

    Raises
    ------
    DataError
        An unknown name, or a dataset holding only capture-count frequencies (kind ``nbcap``).

    Warns
    -----
    IdentifiabilityWarning
        For an open-population or robust-design dataset: births, deaths or migration between occasions break
        the closed-population assumption of every estimator here.

    References
    ----------
    See :func:`list_datasets` (the source packages) and ``estimators/data/INDEX.md`` (each dataset's
    publication and published estimate).

    Examples
    --------
    >>> from estimators import load_dataset
    >>> load_dataset("LCMCR_kosovo").n_observed
    4400
    """
    registry = _registry()
    if name not in registry:
        raise DataError(f"Unknown dataset {name!r}; available: {', '.join(registry)}.")
    row = registry[name]
    if row["kind"] in OPEN_KINDS:
        _warn.warn(
            f"{name!r} is an {row['kind'].replace('_', ' ')} dataset: births, deaths or migration between occasions "
            "break the closed-population assumption of every estimator in this package; use it for illustration only.",
            IdentifiabilityWarning,
        )
    if row["kind"] == "nbcap":
        raise DataError(f"{name!r} holds only capture-count frequencies, not one column per list.")
    lists = row["lists"].split(";")
    histories = counts_table(_data_dir() / row["file"], lists)
    if histories is None:
        with resources.as_file(_data_dir() / row["file"]) as path:
            frame = pd.read_csv(path)
        histories = CaptureHistories.from_counts(frame, lists=lists)
    return histories.collapse() if collapse else histories


def _registry() -> dict[str, dict[str, str]]:
    """The rows of datasets.csv by dataset name, as text; read without pandas, which a fit may never need."""
    with (_data_dir() / "datasets.csv").open(newline="") as file:
        return {row["dataset"]: row for row in csv.DictReader(file)}


def counts_table(path, lists: list[str] | None = None, count: str = "count") -> CaptureHistories | None:
    """The CSV table at ``path`` when it is plain: 0/1 list columns and a count column, every cell a whole number
    (>= 0), no one counted on no list; else None, and the caller reads it with pandas.

    The same table as ``CaptureHistories.from_counts(pandas.read_csv(path), count, lists)``, without importing
    pandas (a quarter of a second), for the shipped datasets and the ``undercount`` command. ``lists=None``
    takes every column but the count as a list, as ``from_counts`` does when they all hold 0/1; a table with any
    other column (a covariate) is left to pandas.
    """
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows or count not in rows[0] or len(set(rows[0])) != len(rows[0]):
        return None
    header = rows[0]
    columns = [name for name in header if name != count]
    if lists is None:
        lists = columns
    if list(lists) != columns or len(lists) < 2:
        return None
    try:
        values = np.array([[int(cell) for cell in row] for row in rows[1:]], dtype=np.int64)
    except ValueError:
        return None
    if values.ndim != 2 or values.shape != (len(rows) - 1, len(header)) or len(values) == 0:
        return None
    at = header.index(count)
    counts, patterns = values[:, at], np.delete(values, at, axis=1)
    if not np.isin(patterns, (0, 1)).all() or (counts < 0).any() or (counts[patterns.sum(axis=1) == 0] > 0).any() \
            or counts.sum() > MAX_TOTAL_COUNT:
        return None  # from_counts words these problems with the rows that have them
    return CaptureHistories._aggregated(tuple(lists), patterns.astype(np.int8), counts.astype(float), {})
