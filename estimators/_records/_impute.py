"""Multiple imputation of missing covariates and dates in one-row-per-person records, by chained equations.

The chained equations follow statsmodels' :class:`statsmodels.imputation.mice.MICEData` (predictive mean matching
on an OLS fit with Gaussian-perturbed coefficients, van Buuren's "pmm"; the same initial fill and column order),
extended with a multinomial-logit step for categorical columns of more than two categories (van Buuren's
"polyreg"). They are written here on numpy arrays: the design matrices are kept as column blocks and updated
where a column changes, rather than re-parsed from a formula at every step, and the multinomial logit is fitted
on the distinct predictor rows with their category counts (the same likelihood), by Newton's method started from
the chain's previous fit. Each of the ``m`` imputations is an independent chain of ``max_iter`` cycles, as R's
``mice`` runs them, seeded from one :class:`numpy.random.SeedSequence`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np
import pandas as pd

from .._parallel import BACKENDS, Scheduler, backend_context, check_backend
from .._validation import AnyOf, InstanceOf, Interval, Options, Seed, resolve_seed, validate_params
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

    def histories(self, covariates=None):
        """One :class:`~estimators.CaptureHistories` per imputation (covariates kept, for ``strata``).

        ``covariates``: the columns to keep (default: every column that is not a list). Keep only the strata
        columns when the tables are for :func:`~estimators.estimate_strata`: a table then has one row per
        (pattern, stratum) rather than one per distinct record, and is built and split many times faster.
        """
        from ..histories import CaptureHistories

        keep = None if covariates is None else [covariates] if isinstance(covariates, str) else list(covariates)
        return [CaptureHistories.from_records(frame, lists=list(self.lists), covariates=keep)
                for frame in self.datasets]

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
def _ols_draw_grouped(exog, group, endog, rng):
    """OLS fit and one draw of its coefficients from N(beta_hat, s^2 (X'X)^-1) (statsmodels MICEData's "gaussian"
    perturbation: ``OLS(endog, exog).fit()``, then ``rng.multivariate_normal(params, cov_params())``), on rows
    grouped by their predictors: ``exog`` one row per group, ``group`` the group of each observation of ``endog``.
    X'X, X'y and the residual sum of squares are sums over the groups (exact)."""
    weight = np.bincount(group, minlength=len(exog)).astype(float)
    centre = float(endog.mean())
    y = endog - centre  # centred: the residual sum of squares below is a difference of sums
    total = np.bincount(group, weights=y, minlength=len(exog))
    squares = np.bincount(group, weights=y * y, minlength=len(exog))
    xtx = (exog * weight[:, None]).T @ exog
    xty = exog.T @ total
    try:
        inverse = np.linalg.inv(xtx)
    except np.linalg.LinAlgError:
        inverse = np.linalg.pinv(xtx)
    beta = inverse @ xty
    fitted = exog @ beta
    rss = float(np.sum(squares - 2 * fitted * total + weight * fitted ** 2))
    rank = np.linalg.matrix_rank(xtx)
    scale = max(rss, 0.0) / max(len(endog) - rank, 1)
    draw = rng.multivariate_normal(beta, scale * inverse)
    draw[0] += centre  # the intercept column is first: back to the uncentred scale
    return draw


def _pmm(endog_obs, predicted_obs, predicted_miss, k_pmm, rng):
    """Predictive mean matching as statsmodels' ``MICEData.impute_pmm``: for each missing row, one of the k_pmm
    observed rows with the closest predictions, drawn at random; returns their observed values."""
    order = np.argsort(predicted_obs)
    endog_obs, predicted_obs = endog_obs[order], predicted_obs[order]
    ix = np.searchsorted(predicted_obs, predicted_miss)
    ixm = ix[:, None] + np.arange(-k_pmm, k_pmm)[None, :]
    outside = (ixm < 0) | (ixm > len(endog_obs) - 1)
    ixm = np.clip(ixm, 0, len(endog_obs) - 1)
    dx = np.abs(predicted_miss[:, None] - predicted_obs[ixm])
    dx[outside] = np.inf
    closest = np.argsort(dx, 1)[:, :k_pmm]
    pick = rng.integers(0, k_pmm, len(predicted_miss))
    rows = np.arange(closest.shape[0])
    return endog_obs[ixm[rows, closest[rows, pick]]]


def _softmax(exog, coef):
    """Category probabilities, category 0 the reference: coef is (categories - 1, predictors)."""
    eta = exog @ coef.T
    top = np.maximum(eta.max(axis=1, keepdims=True), 0.0)
    expo = np.exp(eta - top)
    base = np.exp(-top)
    total = base + expo.sum(axis=1, keepdims=True)
    return np.hstack([base, expo]) / total


def _mnlogit(exog, counts, start=None, maxiter=50, tol=1e-8):
    """Maximum likelihood of the multinomial logit on collapsed rows; returns (coef (categories - 1, predictors),
    covariance of coef.ravel(): the inverse observed information at the maximum).

    ``start``: (coef, information) of the chain's previous fit of the same column. Its coefficients start the
    search and its information matrix takes the Newton steps (a chord method: the data changed only where values
    were re-imputed, so it is within a few per cent of the current one and each step costs one gradient, not
    one information matrix); without it, or if those steps stall, full Newton steps with step halving when the
    log-likelihood would fall. Converged when the Newton decrement (how far the log-likelihood is below its
    maximum) or the largest step is below ``tol``.
    """
    n_rows, p = exog.shape
    J = counts.shape[1] - 1
    totals = counts.sum(axis=1)
    rest = counts[:, 1:]
    coef, fixed = np.zeros((J, p)), None
    if start is not None and start[0].shape == (J, p):
        coef, fixed = start[0].copy(), start[1]

    def evaluate(c):
        """(log-likelihood, probabilities of categories 1..J): sum Y_k eta_k - n log(1 + sum exp eta_k)."""
        eta = exog @ c.T
        top = np.maximum(eta.max(axis=1), 0.0)
        expo = np.exp(eta - top[:, None])
        log_total = top + np.log(np.exp(-top) + expo.sum(axis=1))
        value = float(np.sum(rest * eta) - totals @ log_total)
        return value, expo * np.exp(top - log_total)[:, None]

    def gradient(probs):
        return ((rest - totals[:, None] * probs).T @ exog).ravel()

    value, probs = evaluate(coef)
    if not np.isfinite(value):
        coef, fixed = np.zeros((J, p)), None
        value, probs = evaluate(coef)
    if fixed is not None:
        for _ in range(20):
            g = gradient(probs)
            step = np.linalg.solve(fixed, g)
            if np.max(np.abs(step)) < tol or float(g @ step) / 2 < tol:
                return coef, np.linalg.inv(_mnlogit_information(exog, totals, probs))
            trial = coef + step.reshape(J, p)
            new_value, new_probs = evaluate(trial)
            if not (np.isfinite(new_value) and new_value >= value - 1e-12 * abs(value)):
                break  # stalled: full Newton from here
            coef, probs, value = trial, new_probs, new_value
    for _ in range(maxiter):
        info = _mnlogit_information(exog, totals, probs)
        g = gradient(probs)
        step = np.linalg.solve(info, g)
        if not np.all(np.isfinite(step)):
            raise np.linalg.LinAlgError("non-finite Newton step")
        decrement = float(g @ step) / 2
        if decrement < tol or np.max(np.abs(step)) < tol:
            return coef, np.linalg.inv(info)
        step = step.reshape(J, p)
        scale = 1.0
        while True:
            trial = coef + scale * step
            new_value, new_probs = evaluate(trial)
            if np.isfinite(new_value) and new_value >= value - 1e-12 * abs(value):
                break
            scale /= 2
            if scale < 1e-6:
                break
        coef, probs, value = trial, new_probs, new_value
    return coef, np.linalg.inv(_mnlogit_information(exog, totals, probs))


def _mnlogit_information(exog, totals, probs):
    """Observed information of the multinomial logit, blocks (j, l) = sum_i n_i (d_jl p_ij - p_ij p_il) x_i x_i'."""
    n_rows, p = exog.shape
    J = probs.shape[1]
    weighted = probs * totals[:, None]
    z = (np.sqrt(totals)[:, None, None] * probs[:, :, None] * exog[:, None, :]).reshape(n_rows, J * p)
    info = -(z.T @ z)
    for j in range(J):
        info[j * p:(j + 1) * p, j * p:(j + 1) * p] += (exog * weighted[:, j:j + 1]).T @ exog
    return info


def _chain(child, lists_matrix, values, masks, nominal, todo, max_iter, k_pmm, starts=None, pilot=False):
    """One chain of chained equations: ``max_iter`` cycles over the columns with missing values (fewest missing
    first), each column's model on the intercept, the lists and every other column (nominal ones as treatment
    dummies), its parameters drawn from their approximate posterior, then its missing values imputed (predictive
    mean matching, or multinomial draws for nominal columns). Returns (column -> completed codes, fallbacks)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - joblib's dependency
        return _chain_steps(child, lists_matrix, values, masks, nominal, todo, max_iter, k_pmm, starts, pilot)
    # chains are the unit of parallel work: one BLAS thread each (threads fighting over the cores, or with
    # other chains, made the small matrix products of one step up to 10 times slower)
    with threadpool_limits(limits=1, user_api="blas"):
        return _chain_steps(child, lists_matrix, values, masks, nominal, todo, max_iter, k_pmm, starts, pilot)


def _chain_steps(child, lists_matrix, values, masks, nominal, todo, max_iter, k_pmm, starts=None, pilot=False):
    """The chain's steps; ``starts``: column -> (coef, information) to start the multinomial-logit searches from
    (starting values only: each fit still goes to the maximum). ``pilot``: return, instead, those starting values,
    fitted once to the initial fill (the same for every chain, as the fill draws nothing at random)."""
    rng = np.random.default_rng(child)
    values = {c: v.copy() for c, v in values.items()}
    columns = list(values)
    # statsmodels' initial fill: the observed value closest to the column mean
    for c in columns:
        if masks[c].any():
            observed = np.where(masks[c], np.nan, values[c])
            values[c][masks[c]] = observed[np.nanargmin(np.abs(observed - np.nanmean(observed)))]

    n = len(lists_matrix)
    # Every model's predictors take few distinct values (lists, categories, whole days), so each step groups the
    # rows by their predictor values and fits on the groups with their counts and sums: the same likelihood and
    # least squares, the same predictions per row, without an n x p design matrix.
    pattern = (lists_matrix.astype(np.int64) @ (1 << np.arange(lists_matrix.shape[1], dtype=np.int64)))
    coding = {}
    for c in columns:
        observed = values[c][~masks[c]]
        if np.array_equal(observed, np.rint(observed)) and observed.max() - observed.min() < 2 ** 20:
            coding[c] = (float(observed.min()), int(observed.max() - observed.min()) + 1, None)
        else:  # values are always observed ones (donors, the initial fill): codes by position among them
            uniques = np.unique(observed)
            coding[c] = (None, len(uniques), uniques)

    def codes_of(c):
        low, _, uniques = coding[c]
        if uniques is None:
            return (values[c] - low).astype(np.int64)
        return np.searchsorted(uniques, values[c])

    def groups(c):
        """Rows grouped by the predictors of c's model: (group of each row, one row of each group)."""
        key, size = pattern.copy(), 1 << lists_matrix.shape[1]
        for o in columns:
            if o == c:
                continue
            levels = coding[o][1]
            if size * levels >= 2 ** 62:
                _, key = np.unique(key, return_inverse=True)
                size = int(key.max()) + 1
            key = key * levels + codes_of(o)
            size *= levels
        if size <= 8 * n:
            present = np.bincount(key, minlength=size) > 0
            relabel = np.cumsum(present) - 1
            group = relabel[key]
            first = np.empty(int(present.sum()), dtype=np.int64)
            first[group[::-1]] = np.arange(n - 1, -1, -1)
        else:
            _, first, group = np.unique(key, return_index=True, return_inverse=True)
        return group, first

    def design(c, rows):
        parts = [np.ones((len(rows), 1)), lists_matrix[rows]]
        for o in columns:
            if o == c:
                continue
            if o in nominal:
                parts.append((values[o][rows][:, None] == np.arange(1, nominal[o])[None, :]).astype(float))
            else:
                parts.append(values[o][rows][:, None])
        return np.hstack(parts)

    observed_rows = {c: np.flatnonzero(~masks[c]) for c in todo}
    missing_rows = {c: np.flatnonzero(masks[c]) for c in todo}
    order = sorted(todo, key=lambda c: int(masks[c].sum()))
    starts, fallbacks = dict(starts or {}), set()

    def nominal_fit(c, group, first):
        K, obs = nominal[c], observed_rows[c]
        counts = np.bincount(group[obs] * K + values[c][obs].astype(np.int64),
                             minlength=len(first) * K).reshape(len(first), K).astype(float)
        fitted = counts.sum(axis=1) > 0
        exog = design(c, first)
        return exog, _mnlogit(exog[fitted], counts[fitted], starts.get(c))

    if pilot:
        for c in order:
            if c in nominal:
                try:
                    _, (coef, cov) = nominal_fit(c, *groups(c))
                    if np.all(np.isfinite(coef)) and np.all(np.isfinite(cov)):
                        starts[c] = (coef, np.linalg.inv(cov))
                except (np.linalg.LinAlgError, ValueError, OverflowError):
                    pass
        return starts
    for _ in range(max_iter):
        for c in order:
            obs, miss = observed_rows[c], missing_rows[c]
            group, first = groups(c)
            if c not in nominal:
                endog = values[c][obs]
                exog = design(c, first)
                params = _ols_draw_grouped(exog, group[obs], endog, rng)
                predicted = exog @ params
                values[c][miss] = _pmm(endog, predicted[group[obs]], predicted[group[miss]], k_pmm, rng)
            else:
                K = nominal[c]
                try:
                    exog, (coef, cov) = nominal_fit(c, group, first)
                    if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(cov))):
                        raise np.linalg.LinAlgError("non-finite fit")
                    starts[c] = (coef, np.linalg.inv(cov))
                    # coefficients equation by equation, as statsmodels' MNLogit cov_params
                    draw = rng.multivariate_normal(coef.ravel(), cov, method="eigh").reshape(coef.shape)
                    probabilities = _softmax(exog, draw)[group[miss]]
                except (np.linalg.LinAlgError, ValueError, OverflowError):
                    # separation or a sparse category: draw the category shares alone (a Dirichlet posterior)
                    fallbacks.add(c)
                    shares = rng.dirichlet(np.bincount(values[c][obs].astype(np.int64), minlength=K) + 1.0)
                    probabilities = np.broadcast_to(shares, (len(miss), K))
                cumulative = np.cumsum(probabilities, axis=1)
                u = rng.random(len(miss))[:, None] * cumulative[:, -1:]
                values[c][miss] = (u > cumulative).sum(axis=1).astype(float)
    return {c: values[c] for c in columns}, fallbacks


def _date_values(series: pd.Series) -> list | None:
    """Each observed value of a text/object column as a day (Timestamp) or a period (pandas Period: a month-only
    date, as a Period or as text such as '2024-03'), when every one is one of them and at least one is a day; else
    None. Such a column is imputed as dates (its periods are observed values, not missing ones), not as
    categories; a column of months alone stays categorical."""
    from .._histories_dates import _read_dates, numeric_dates

    values = series.dropna().unique()
    if not len(values) or any(isinstance(v, str) and not v.strip() for v in values):
        return None  # empty text is an observed value here, not a date
    # numbers like 05/03/2017: day or month first as the whole column shows (a DataError if it cannot tell)
    values = numeric_dates(values, str(series.name))
    try:
        stamps, _, periods = _read_dates(values, str(series.name))
    except DataError:  # some value is not a date: a column of categories
        return None
    if stamps.isna().all():
        return None
    return [stamp if period is None else period for stamp, period in zip(stamps, periods)]


def _as_days(series: pd.Series) -> pd.Series:
    """A column of days and periods (see :func:`_date_values`) as Timestamps: a period reads as its middle."""
    read = dict(zip(series.dropna().unique(), _date_values(series)))
    middle = {key: value.start_time + (value.end_time - value.start_time) / 2 if isinstance(value, pd.Period)
              else value for key, value in read.items()}
    return pd.to_datetime(series.map(middle))


def _kind(series: pd.Series) -> str:
    if (pd.api.types.is_string_dtype(series.dtype) or series.dtype == object) \
            and not isinstance(series.dtype, pd.CategoricalDtype) and _date_values(series) is not None:
        return "date"
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
            present = set(observed.unique())
            levels = [c for c in series.cat.categories if c in present]
        else:
            levels = sorted(observed.unique(), key=lambda v: (str(type(v)), v))
        lookup = {level: i for i, level in enumerate(levels)}
        if isinstance(series.dtype, pd.CategoricalDtype):
            remap = np.array([lookup.get(c, -1) for c in series.cat.categories] + [-1], dtype=float)
            codes = remap[series.cat.codes.to_numpy()]  # code -1 (missing) reads the last entry
            codes[codes < 0] = np.nan
        else:
            codes = np.asarray(series.map(lookup), dtype=float)
        return codes, levels
    if kind == "date":
        values = series if series.dtype.kind == "M" else _as_days(series)
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
        if original.dtype.kind == "M":
            out[mask] = info + pd.to_timedelta(np.rint(codes[mask]), unit="D")
        else:
            # dates given as text, date objects or periods: each imputed date is a donor's observed one (predictive
            # mean matching), written as that donor's value was (a month-only donor gives a month)
            donors = dict(zip(codes[~mask], original[~mask]))
            out = out.astype(object)
            out[mask] = [donors[day] for day in codes[mask]]
            out = out.astype(original.dtype)
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
        "n_jobs": [Interval(Integral, 1, None), Options({-1})],
        "backend": [Options(BACKENDS)],
        "scheduler": [None, Scheduler()],
        "columns": [None, AnyOf(InstanceOf((list, tuple), "a list of column names"),
                               description="None or a list of column names")],
    },
    # the records and which of their columns are lists are data, checked against the table's content
    exempt=("records", "lists"),
)
def impute(records, m=20, *, lists, columns=None, random_seed=None, max_iter=10, n_jobs=1, backend="joblib",
           scheduler=None) -> Imputations:
    """Impute missing covariates and dates in person records by chained equations (MICE), ``m`` times.

    Each column with missing values is imputed in turn from a regression on every other column, list
    membership always among the predictors, and the cycle is repeated ``max_iter`` times (one chain per
    imputation). Numbers and dates (as day numbers) are imputed by predictive mean matching (van Buuren's
    "pmm": an OLS fit with coefficients drawn from their approximate posterior, then one of the 5 observed
    values with the closest predictions), so imputed values are always values that occur in the data. A date
    column may mix exact days with coarser dates (month-only ones as ``pandas.Period`` or as text such as
    '2024-03'): a coarse date is observed, not missing, and enters the model at the middle of its period; a
    missing date takes a donor's value, a day or a month as the donor's was. A categorical column with two categories is imputed the same way on its 0/1 codes; with
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
    n_jobs : int
        Chains run at once in worker processes (-1: all cores). On Dask the cluster's workers set the
        parallelism instead.
    backend : {"joblib", "dask"}
        Where the chains run, as in :func:`~estimators.estimate_strata`: joblib processes, or (``"dask"``, needs
        ``dask[distributed]``) the Dask cluster of ``scheduler``, else the ``dask.distributed.Client`` active in
        this process, else a local cluster started for the call and closed after it. Each chain has its own seed,
        so the imputations are the same on any backend and for any ``n_jobs``.
    scheduler : str or dask.distributed.Client, optional
        The Dask scheduler's address or a connected Client; only with ``backend="dask"``.

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
    check_backend(backend, scheduler)
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

    runs, datasets, fallbacks = [], [], set()
    todo = [c for c in columns if masks[c].any()]
    children = np.random.SeedSequence(seed).spawn(m)
    if todo:
        lists_matrix = np.column_stack([records[name].astype(float).to_numpy() for name in lists])
        args = (lists_matrix, encoded, masks, nominal, todo, max_iter, K_PMM)
        # the multinomial-logit fits' starting values, fitted once on the initial fill, for every chain
        starts = _chain(None, *args, pilot=True) if nominal else None
        args = (*args, starts)
        if backend == "joblib" and n_jobs == 1:
            chains = [_chain(child, *args) for child in children]
        else:
            # each chain has its own child seed, so the imputations do not depend on where or in which order
            # the chains run
            import joblib

            with backend_context(backend, scheduler):
                chains = joblib.Parallel(n_jobs=n_jobs)(joblib.delayed(_chain)(child, *args) for child in children)
    else:
        chains = [({c: encoded[c] for c in columns}, set()) for _ in children]
    for run, failed in chains:
        fallbacks |= failed
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
