"""Multiple imputation of missing covariates and dates in one-row-per-person records, by chained equations.

The chained equations are statsmodels' :class:`statsmodels.imputation.mice.MICEData` (predictive mean matching on
an OLS fit with Gaussian-perturbed coefficients, van Buuren's "pmm"), extended here with a multinomial-logit step
for categorical columns of more than two categories (van Buuren's "polyreg"). Each of the ``m`` imputations is
an independent chain of ``max_iter`` cycles, as R's ``mice`` runs them, seeded from one
:class:`numpy.random.SeedSequence`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np
import pandas as pd

from .._validation import AnyOf, InstanceOf, Interval, Seed, resolve_seed, validate_params
from ..exceptions import DataError
from ..results import Summary

__all__ = ["Imputations", "impute"]

# donors for predictive mean matching: 5 as R's mice (Morris, White & Royston 2014 found 5-10 work well)
K_PMM = 5


# ------------------------------------------------------------------------------------------------ result
@dataclass(frozen=True, eq=False, repr=False)
class Imputations:
    """``m`` completed copies of a records table, from :func:`estimators.impute`.

    Attributes
    ----------
    datasets : tuple of pandas.DataFrame
        The completed tables, each with the input's index, columns and dtypes (categories stay categories,
        dates stay dates). Treat them as read-only: they are the imputations.
    lists : tuple of str
        The list-membership columns (predictors of every imputation model, never imputed).
    columns : tuple of str
        The covariates in the imputation models (imputed where missing, predictors everywhere).
    missing : pandas.Series
        Column -> number of missing values in the input (imputed columns only).
    methods : mapping
        Column -> how it was imputed ("pmm": predictive mean matching on an OLS fit; "logreg-pmm" for
        two categories; "polyreg": multinomial logit draws).
    diagnostics : pandas.DataFrame
        Per column (and per category for categorical columns): the observed statistic (mean, proportion, or
        mean date), the mean over imputations of the same statistic among imputed values, and the
        between-imputation standard deviation of the imputed and of the completed-data statistic.
    settings : mapping
        ``m``, ``max_iter``, ``random_seed`` (pass it back to repeat the imputations), ``k_pmm``.
    notes : tuple of str
        What the reader should know (columns left out, fallbacks used).
    """

    datasets: tuple
    lists: tuple
    columns: tuple
    missing: pd.Series
    methods: Mapping
    diagnostics: pd.DataFrame
    settings: Mapping = field(default_factory=dict)
    notes: tuple = ()

    @property
    def m(self) -> int:
        """Number of imputations."""
        return len(self.datasets)

    def __len__(self) -> int:
        return len(self.datasets)

    def __iter__(self):
        return iter(self.datasets)

    def __getitem__(self, i) -> pd.DataFrame:
        return self.datasets[i]

    def histories(self):
        """One :class:`~estimators.CaptureHistories` per imputation (covariates kept, for ``strata``)."""
        from ..histories import CaptureHistories

        return [CaptureHistories.from_records(frame, lists=list(self.lists)) for frame in self.datasets]

    def summary(self) -> Summary:
        facts = [
            ("imputations (m)", self.m),
            ("iterations per chain", self.settings.get("max_iter")),
            ("records", len(self.datasets[0]) if self.datasets else 0),
            ("lists (predictors)", ", ".join(self.lists)),
            ("random_seed", self.settings.get("random_seed")),
        ]
        for column, count in self.missing.items():
            facts.append((f"missing {column}", f"{int(count):,} ({self.methods.get(column, '-')})"))
        notes = list(self.notes) + [
            "Chained equations (MICE) assume the covariates are missing at random given the lists and the other "
            "covariates; rows are compared to the observed column in `diagnostics` (observed vs imputed).",
        ]
        return Summary(title="Multiple imputation by chained equations", facts=facts,
                       table=self.diagnostics.set_index(["column", "statistic"]), notes=tuple(notes))

    def __str__(self):
        return str(self.summary())

    def __repr__(self) -> str:
        missing = ", ".join(f"{c}: {int(n):,}" for c, n in self.missing.items() if n) or "none"
        rows = len(self.datasets[0]) if self.datasets else 0
        return f"<Imputations: m={self.m}, {rows:,} records, missing {missing}>"

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()


# ------------------------------------------------------------------------------------------------ pieces
def _mice_class():
    """MICEData with a multinomial-logit step for nominal columns (statsmodels imported on first use)."""
    from statsmodels.discrete.discrete_model import MNLogit
    from statsmodels.imputation.mice import MICEData

    class _MICE(MICEData):
        nominal: dict = {}
        fallbacks: set

        def perturb_params(self, vname):
            if vname not in self.nominal:
                return super().perturb_params(vname)
            endog, exog, _, _ = self.get_fitting_data(vname)
            try:
                model = MNLogit(endog, exog)
                fitted = model.fit(method="newton", maxiter=50, disp=0, warn_convergence=False)
                params = np.asarray(fitted.params)  # (predictors, categories - 1)
                cov = np.asarray(fitted.cov_params())
                if not (np.all(np.isfinite(params)) and np.all(np.isfinite(cov))):
                    raise np.linalg.LinAlgError("non-finite fit")
                # cov_params is ordered equation by equation: params flattened column-major
                draw = self.rng.multivariate_normal(params.ravel(order="F"), cov, method="eigh")
                self.models[vname] = model
                self.params[vname] = draw.reshape(params.shape, order="F")
            except (np.linalg.LinAlgError, ValueError, OverflowError):
                # separation or a sparse category: draw the category shares alone (a Dirichlet posterior)
                self.fallbacks.add(vname)
                counts = np.bincount(endog.astype(int), minlength=self.nominal[vname])
                self.models[vname] = None
                self.params[vname] = self.rng.dirichlet(counts + 1.0)

        def impute(self, vname):
            if vname not in self.nominal:
                return super().impute(vname)
            _, _, exog_miss, _, _ = self.get_split_data(vname)
            if not len(exog_miss):
                return
            model = self.models[vname]
            if model is None:
                probabilities = np.broadcast_to(self.params[vname], (len(exog_miss), self.nominal[vname]))
            else:
                probabilities = np.asarray(model.predict(self.params[vname], exog_miss))
            cumulative = np.cumsum(probabilities, axis=1)
            u = self.rng.random(len(exog_miss))[:, None] * cumulative[:, -1:]
            codes = (u > cumulative).sum(axis=1).astype(float)
            self._store_changes(vname, codes)

    return _MICE


def _kind(series: pd.Series) -> str:
    if isinstance(series.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(series.dtype) \
            or series.dtype == object or pd.api.types.is_bool_dtype(series.dtype):
        return "categorical"
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "date"
    if pd.api.types.is_numeric_dtype(series.dtype):
        return "numeric"
    return "other"


def _encode(series: pd.Series, kind: str):
    """Column -> (float array with nan for missing, levels or date origin)."""
    if kind == "categorical":
        observed = series.dropna()
        if isinstance(series.dtype, pd.CategoricalDtype):
            levels = [c for c in series.cat.categories if c in set(observed)]
        else:
            levels = sorted(observed.unique(), key=lambda v: (str(type(v)), v))
        lookup = {level: i for i, level in enumerate(levels)}
        codes = np.array([np.nan if pd.isna(v) else lookup[v] for v in series.tolist()], dtype=float)
        return codes, levels
    if kind == "date":
        values = pd.to_datetime(series)
        origin = values.min().normalize()
        days = ((values - origin) / pd.Timedelta(days=1)).to_numpy(dtype=float)
        return days, origin
    return pd.to_numeric(series).to_numpy(dtype=float, na_value=np.nan), None


def _decode(codes: np.ndarray, original: pd.Series, kind: str, info) -> pd.Series:
    mask = original.isna().to_numpy()
    out = original.copy()
    if not mask.any():
        return out
    if kind == "categorical":
        values = [info[int(c)] for c in np.rint(codes[mask])]
        if isinstance(original.dtype, pd.CategoricalDtype):
            out[mask] = pd.Categorical(values, categories=original.cat.categories, ordered=original.cat.ordered)
        else:
            out = out.astype(object)
            out[mask] = values
            out = out.astype(original.dtype)
    elif kind == "date":
        dates = info + pd.to_timedelta(np.rint(codes[mask]), unit="D")
        out[mask] = dates
    else:
        out[mask] = codes[mask]  # observed donors' values (predictive mean matching)
    return out


def _check_records(records, lists, columns):
    if not isinstance(records, pd.DataFrame):
        raise DataError(f"`records` must be a pandas DataFrame, one row per person; got {type(records).__name__}.")
    if isinstance(lists, str) or not isinstance(lists, Sequence) or len(lists) < 1:
        raise DataError(f"`lists` must be a list of the list-membership column names; got {lists!r}.")
    lists = tuple(lists)
    missing = [name for name in lists if name not in records.columns]
    if missing:
        raise DataError(f"List column(s) {missing!r} not in `records`; columns are {list(records.columns)!r}.")
    for name in lists:
        values = records[name]
        if values.isna().any():
            raise DataError(f"List column {name!r} has missing values; list membership is a predictor and is never "
                            "imputed: it must be 0/1 for every record.")
        if not values.isin([0, 1, True, False]).all():
            raise DataError(f"List column {name!r} must hold 0/1 (or True/False); got {sorted(set(values))[:5]!r}.")
    if columns is None:
        columns = tuple(c for c in records.columns if c not in lists)
        skipped = tuple(c for c in columns if _kind(records[c]) == "categorical"
                        and records[c].nunique() >= max(len(records) - records[c].isna().sum(), 2)
                        and not records[c].isna().any())
        columns = tuple(c for c in columns if c not in skipped)
    else:
        if isinstance(columns, str) or not isinstance(columns, Sequence):
            raise DataError(f"`columns` must be a list of column names; got {columns!r}.")
        columns, skipped = tuple(columns), ()
        unknown = [c for c in columns if c not in records.columns]
        if unknown:
            raise DataError(f"Column(s) {unknown!r} not in `records`; columns are {list(records.columns)!r}.")
        both = [c for c in columns if c in lists]
        if both:
            raise DataError(f"Column(s) {both!r} are lists: list membership is a predictor, never imputed.")
    for c in columns:
        kind = _kind(records[c])
        if kind == "other":
            raise DataError(f"Column {c!r} has dtype {records[c].dtype}, which cannot be imputed (numbers, dates, "
                            "strings, categories and booleans can).")
        if records[c].notna().sum() < 2:
            raise DataError(f"Column {c!r} has fewer than two observed values: nothing to impute it from.")
    return lists, columns, skipped


def _statistics(frame_values: dict, masks: dict, kinds: dict, infos: dict, observed: dict, imputed_runs: list):
    rows = []
    for column, kind in kinds.items():
        mask = masks[column]
        if not mask.any():
            continue
        obs = observed[column][~mask]
        runs = [run[column] for run in imputed_runs]
        if kind == "categorical":
            levels = infos[column]
            for code, level in enumerate(levels):
                imp = np.array([np.mean(np.rint(r[mask]) == code) for r in runs])
                comp = np.array([np.mean(np.rint(r) == code) for r in runs])
                rows.append(dict(column=column, statistic=f"share {level}", observed=np.mean(obs == code),
                                 imputed=imp.mean(), imputed_sd_between=_sd(imp), completed=comp.mean(),
                                 completed_sd_between=_sd(comp), n_missing=int(mask.sum())))
        else:
            label = "mean" if kind == "numeric" else f"mean days since {infos[column].date()}"
            imp = np.array([np.mean(r[mask]) for r in runs])
            comp = np.array([np.mean(r) for r in runs])
            rows.append(dict(column=column, statistic=label, observed=np.mean(obs), imputed=imp.mean(),
                             imputed_sd_between=_sd(imp), completed=comp.mean(), completed_sd_between=_sd(comp),
                             n_missing=int(mask.sum())))
            imp_sd = np.array([np.std(r[mask]) for r in runs])
            rows.append(dict(column=column, statistic="sd" if kind == "numeric" else "sd (days)",
                             observed=np.std(obs), imputed=imp_sd.mean(), imputed_sd_between=_sd(imp_sd),
                             completed=np.mean([np.std(r) for r in runs]),
                             completed_sd_between=_sd(np.array([np.std(r) for r in runs])),
                             n_missing=int(mask.sum())))
    columns = ["column", "statistic", "n_missing", "observed", "imputed", "imputed_sd_between", "completed",
               "completed_sd_between"]
    return pd.DataFrame(rows, columns=columns)


def _sd(values: np.ndarray) -> float:
    return float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")


# ------------------------------------------------------------------------------------------------ public
@validate_params(
    {
        "m": [Interval(Integral, 2, None)],
        "random_seed": [Seed()],
        "max_iter": [Interval(Integral, 1, None)],
        "columns": [None, AnyOf(InstanceOf((list, tuple), "a list of column names"),
                               description="None or a list of column names")],
    },
    # the records and which of their columns are lists are data, checked against the table's content
    exempt=("records", "lists"),
)
def impute(records, m=20, *, lists, columns=None, random_seed=None, max_iter=10) -> Imputations:
    """Impute missing covariates and dates in person records by chained equations (MICE), ``m`` times.

    Each column with missing values is imputed in turn from a regression on every other column, list
    membership always among the predictors, and the cycle is repeated ``max_iter`` times (one chain per
    imputation). Numbers and dates (as day numbers) are imputed by predictive mean matching (van Buuren's
    "pmm": an OLS fit with coefficients drawn from their approximate posterior, then one of the 5 observed
    values with the closest predictions), so imputed values are always values that occur in the data (whole
    days for dates). A categorical column with two categories is imputed the same way on its 0/1 codes; with
    more, each missing value is drawn from a multinomial logit fitted to the observed rows, its coefficients
    drawn from their approximate posterior (van Buuren's "polyreg"). Categorical predictors with more than
    two categories enter the other models as dummies.

    Parameters
    ----------
    records : pandas.DataFrame
        One row per person: the 0/1 list columns named by ``lists`` and covariates (numbers, strings,
        categories, booleans, dates) with missing values. Not modified.
    m : int
        Number of imputations (>= 2; 20 or more when a large share is missing, White, Royston & Wood 2011).
    lists : list of str
        The list-membership columns: 0/1, never missing; predictors of every imputation model.
    columns : list of str, optional
        The covariates to model: imputed where missing and predictors of each other. Default: every other
        column, except text columns whose values are all distinct and present (identifiers), which are
        copied through.
    random_seed : int, numpy.random.Generator or None
        Same seed, same imputations; ``settings["random_seed"]`` records the seed used.
    max_iter : int
        Cycles through the columns in each chain (R mice's ``maxit``).

    Returns
    -------
    Imputations
        The ``m`` completed tables, the missing counts, the method per column and diagnostics (observed vs
        imputed statistics, between-imputation variability); ``summary()``.

    Notes
    -----
    Assumes the covariates are missing at random (MAR) given the lists and the other modelled covariates, and
    that the conditional models (linear in the predictors, main effects only) are adequate. Analyse each
    completed table and combine the results with :func:`estimators.pool`; or pass the ``Imputations`` to
    :func:`estimators.estimate_strata`, which does both.

    References
    ----------
    .. [1] van Buuren, S. & Groothuis-Oudshoorn, K. (2011). mice: Multivariate imputation by chained equations
       in R. *Journal of Statistical Software* 45(3).
    .. [2] Rubin, D. B. (1987). *Multiple Imputation for Nonresponse in Surveys*. Wiley.
    .. [3] White, I. R., Royston, P. & Wood, A. M. (2011). Multiple imputation using chained equations: issues
       and guidance for practice. *Statistics in Medicine* 30, 377-399.

    Examples
    --------
    >>> import numpy as np, pandas as pd, estimators
    >>> rng = np.random.default_rng(0)
    >>> records = pd.DataFrame({"A": rng.integers(0, 2, 200), "region": rng.choice(["north", "south"], 200),
    ...                         "age": rng.normal(40, 10, 200).round()})
    >>> records["B"] = 1 - records["A"] * rng.integers(0, 2, 200)
    >>> records.loc[rng.random(200) < 0.2, "region"] = None
    >>> imputations = estimators.impute(records, m=5, lists=["A", "B"], random_seed=1, max_iter=5)
    >>> imputations.m, int(imputations.missing["region"]), imputations[0]["region"].isna().sum()
    (5, 41, np.int64(0))
    """
    lists, columns, skipped = _check_records(records, lists, columns)
    seed = resolve_seed(random_seed)
    kinds = {c: _kind(records[c]) for c in columns}
    masks = {c: records[c].isna().to_numpy() for c in columns}
    missing = pd.Series({c: int(masks[c].sum()) for c in columns}, dtype=int)
    encoded, infos = {}, {}
    for c in columns:
        encoded[c], infos[c] = _encode(records[c], kinds[c])
    nominal = {c: len(infos[c]) for c in columns if kinds[c] == "categorical" and len(infos[c]) > 2}
    methods = {c: ("polyreg" if c in nominal else "logreg-pmm" if kinds[c] == "categorical" else "pmm")
               for c in columns if masks[c].any()}
    notes = []
    if skipped:
        notes.append(f"Column(s) {list(skipped)!r} look like identifiers (all values distinct) and were copied "
                     "through, not modelled; pass `columns` to choose.")
    for c in columns:
        if kinds[c] == "categorical" and len(infos[c]) == 1 and masks[c].any():
            notes.append(f"Column {c!r} has one observed category; its missing values are imputed as it.")

    # formula-safe names: v0, v1, ... (list and column names may hold spaces or start with digits)
    names = {name: f"v{i}" for i, name in enumerate((*lists, *columns))}
    work = pd.DataFrame({names[name]: records[name].astype(float).to_numpy() for name in lists})
    for c in columns:
        work[names[c]] = encoded[c]

    def term(name):
        return f"C({names[name]})" if name in nominal else names[name]

    runs, datasets, fallbacks = [], [], set()
    todo = [c for c in columns if masks[c].any()]
    cls = _mice_class()
    for child in np.random.SeedSequence(seed).spawn(m):
        if not todo:
            runs.append({c: encoded[c] for c in columns})
            datasets.append(records.copy())
            continue
        mice = cls(work, k_pmm=K_PMM, rng=np.random.default_rng(child))
        mice.nominal = {names[c]: k for c, k in nominal.items()}
        mice.fallbacks = set()
        for c in todo:
            predictors = [term(other) for other in (*lists, *columns) if other != c]
            mice.set_imputer(names[c], formula=" + ".join(predictors), k_pmm=K_PMM)
        mice.update_all(max_iter)
        fallbacks |= {c for c in todo if names[c] in mice.fallbacks}
        run = {c: mice.data[names[c]].to_numpy(dtype=float) for c in columns}
        runs.append(run)
        frame = records.copy()
        for c in todo:
            frame[c] = _decode(run[c], records[c], kinds[c], infos[c])
        datasets.append(frame)
    if fallbacks:
        notes.append(f"The multinomial logit could not be fitted for {sorted(fallbacks)!r} in some iterations "
                     "(separation or a rare category); those values were drawn from the category shares alone.")
    diagnostics = _statistics(encoded, masks, {c: kinds[c] for c in todo}, infos, encoded, runs)
    return Imputations(
        datasets=tuple(datasets), lists=lists, columns=columns, missing=missing[missing > 0] if len(missing)
        else missing, methods=methods, diagnostics=diagnostics,
        settings={"m": m, "max_iter": max_iter, "random_seed": seed, "k_pmm": K_PMM}, notes=tuple(notes),
    )
