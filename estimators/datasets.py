"""The public capture-recapture datasets shipped with the package (see ``estimators/data/INDEX.md``)."""

from __future__ import annotations

from importlib import resources

import pandas as pd

from . import _warn
from ._validation import BOOL, InstanceOf, validate_params
from .exceptions import DataError, IdentifiabilityWarning
from .histories import CaptureHistories

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
    registry = list_datasets().set_index("dataset")
    if name not in registry.index:
        raise DataError(f"Unknown dataset {name!r}; available: {', '.join(registry.index)}.")
    row = registry.loc[name]
    if row["kind"] in OPEN_KINDS:
        _warn.warn(
            f"{name!r} is an {row['kind'].replace('_', ' ')} dataset: births, deaths or migration between occasions "
            "break the closed-population assumption of every estimator in this package; use it for illustration only.",
            IdentifiabilityWarning,
        )
    if row["kind"] == "nbcap":
        raise DataError(f"{name!r} holds only capture-count frequencies, not one column per list.")
    with resources.as_file(_data_dir() / row["file"]) as path:
        frame = pd.read_csv(path)
    histories = CaptureHistories.from_counts(frame, lists=str(row["lists"]).split(";"))
    return histories.collapse() if collapse else histories
