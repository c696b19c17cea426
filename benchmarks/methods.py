"""The benchmark's method registry: a name for each way of estimating N, mapped to a call of the public API.

A method whose function is not importable (not yet written, or an optional dependency missing) is reported as
unavailable and skipped; nothing is ever substituted for it. Each method is run at level 0.95; the 80% interval
comes from the same result where it can be recomputed without refitting (posterior draws or pmf), from a refit of
the selected model alone for model-selection methods, otherwise from a second call at level 0.80 with the same seed
(only the first call is timed).
"""

from __future__ import annotations

import inspect
import time
import warnings
from dataclasses import dataclass, replace

import numpy as np


class NotRunError(Exception):
    """The benchmark does not run this method on this table (recorded as the row's failure, with the reason)."""


@dataclass(frozen=True)
class Method:
    """One entry of the registry.

    Attributes
    ----------
    name : str
        The benchmark's name for the method (a column of the results).
    function : str
        Public name in :mod:`estimators`.
    options : tuple of (str, value)
        Keyword arguments passed when the function accepts them.
    description : str
    bayesian : bool
        Sampled by MCMC: given small but adequate draws here, and skipped by the quick suite.
    first_two_lists : bool
        Run on the first two lists only (two-list estimators on k-list tables).
    max_lists : int or None
        Largest k the benchmark runs the method on: methods that build the dense 2**k table stop at 12, as
        Rcapture's closedp.t does (beyond that the table has millions of cells).
    other_level : bool
        Compute the 80% interval (False: left empty, when it would take a second run of the whole analysis).
    components : bool
        The result is a :class:`~estimators.Recommendation`: each method it ran is also written as a row
        ``<name>[<component>]`` (its estimate and interval as run inside the analysis, with the analysis's seeds).
    """

    name: str
    function: str
    options: tuple = ()
    description: str = ""
    bayesian: bool = False
    first_two_lists: bool = False
    max_lists: int | None = None
    other_level: bool = True
    components: bool = False

    def resolve(self):
        """The estimator function, or raise ImportError/AttributeError when it does not exist yet."""
        import estimators

        return getattr(estimators, self.function)


REGISTRY: dict[str, Method] = {
    m.name: m
    for m in (
        Method("chapman", "chapman", description="Chapman on the first two lists (what a two-list analysis sees)",
               first_two_lists=True),
        Method("loglinear_aic", "loglinear", (("select", "aic"),),
               "AIC-best hierarchical log-linear model, profile-likelihood interval"),
        Method("loglinear_bic", "loglinear", (("select", "bic"),),
               "BIC-best hierarchical log-linear model, profile-likelihood interval"),
        Method("loglinear_average", "loglinear", (("select", "average"),),
               "AIC-weighted average over all hierarchical log-linear models (Buckland, Burnham & Augustin 1997), "
               "log-normal interval with the unconditional variance", max_lists=5),
        Method("loglinear_stepwise", "loglinear", (("select", "stepwise"),),
               "stepwise log-linear selection (SparseMSE-style, p < 0.02)"),
        Method("bootstrap", "bootstrap_interval", (("select", "stepwise"), ("n_boot", 99)),
               "stepwise selection repeated in each of 99 multinomial bootstrap replicates, BCa "
               "(as SparseMSE and Chan, Silverman & Vincent 2021)"),
        Method("chao", "chao_lower_bound", description="Chao (1987) lower bound"),
        Method("zelterman", "zelterman", description="Zelterman (1988) truncated-Poisson estimator"),
        Method("mth_darroch", "heterogeneity", (("kind", "darroch"), ("time_effects", True)),
               "Mth Darroch (log-linear form, Rivest & Baillargeon 2007)"),
        Method("mth_poisson2", "heterogeneity", (("kind", "poisson2"), ("time_effects", True)),
               "Mth Poisson2 (log-linear form, Rivest & Baillargeon 2007)"),
        Method("sample_coverage", "sample_coverage", description="Chao-Tsay sample coverage (one-step N1)"),
        Method("graphical_bma", "graphical_bma",
               description="Bayesian model averaging over decomposable graphs (Madigan & York 1997)"),
        # a fixed short run (max_sweeps=None), as RESULTS.md measured it and within the suite's time; the extended
        # run users get is measured through estimate's rows estimate[latent_class]
        Method("latent_class", "latent_class",
               (("chains", 2), ("draws", 500), ("burn", 2000), ("thin", 5), ("n_jobs", 1), ("max_sweeps", None)),
               "DP latent-class model (Manrique-Vallier 2016), Gibbs with overrelaxed beta updates, 2 chains x "
               "(2,000 burn-in + 500 draws thinned by 5), not extended", bayesian=True),
        Method("estimate", "estimate", (),
               "the recommended analysis, estimators.estimate (AIC-averaged log-linear primary, alternatives "
               "compared, union of the credible intervals on disagreement); its components are kept as rows "
               "estimate[<method>]", other_level=False, components=True),
        Method("loglinear_bayes", "loglinear_bayes", (("chains", 2), ("draws", 500), ("tune", 500)),
               "log-linear model with horseshoe shrinkage (nutpie), 2 chains x (500 tune + 500 draws)",
               bayesian=True),
    )
}


DENSE_TABLE_LIMIT = 12
for _name in ("loglinear_aic", "loglinear_bic", "loglinear_stepwise", "bootstrap", "mth_darroch", "mth_poisson2",
              "loglinear_bayes"):
    REGISTRY[_name] = replace(REGISTRY[_name], max_lists=DENSE_TABLE_LIMIT)


def availability(names=None) -> dict[str, str | None]:
    """For each method: None if importable, else the reason it is unavailable."""
    status = {}
    for name in names or REGISTRY:
        if name not in REGISTRY:
            raise ValueError(f"Unknown method {name!r}; known methods: {', '.join(REGISTRY)}.")
        try:
            REGISTRY[name].resolve()
            status[name] = None
        except (ImportError, AttributeError) as error:
            status[name] = f"{type(error).__name__}: {error}"
    return status


def _call_options(function, method: Method, level: float, seed: int | None) -> dict:
    """The options this function accepts: the method's settings, the level and the seed."""
    accepted = inspect.signature(function).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values())
    wanted = dict(method.options)
    wanted["level"] = level
    if seed is not None:
        wanted["random_seed"] = seed
    return {key: value for key, value in wanted.items() if takes_any or key in accepted}


def _other_level(result, function, histories, options, level):
    """The interval at another level: from stored draws/pmf when the result has them, else by a refit."""
    if hasattr(result, "credible_interval"):
        return tuple(result.credible_interval(level))
    details = getattr(result, "details", {}) or {}
    if "replicates" in details and "acceleration" in details:
        # a BCa bootstrap: the other level's bounds from the same replicates (Efron 1987), no new resampling
        from estimators._loglinear._bootstrap import bca_interval

        lower, upper, _ = bca_interval(np.asarray(details["replicates"]), result.estimate, details["acceleration"],
                                       level)
        return lower, upper
    if "log_estimate" in details and "log_std_error" in details:
        # a model average: the same unconditional standard error on log N at the other level, no refit
        from estimators._loglinear._average import Averaged

        return Averaged(details["log_estimate"], details["log_std_error"]).interval(level, floor=result.n_observed)
    if options.get("select") and getattr(result, "model", None) and "model" in inspect.signature(function).parameters:
        # the selected model's interval at the other level: refitting that one model, not the whole search
        options = {key: value for key, value in options.items() if key != "select"}
        options["model"] = result.model
    again = function(histories, **{**options, "level": level})
    return tuple(again.interval)


def _bound(value) -> float:
    """A bound as a float; a bound that does not exist (None) is nan."""
    return np.nan if value is None else float(value)


def _unique(messages) -> list[str]:
    """Each message once (a warning raised and also stored in the result counts once), with its category."""
    seen = {}
    for category, text in messages:
        text = " ".join(text.split())
        if text not in seen or not seen[text]:
            seen[text] = category
    return [f"{category}: {text}" if category else text for text, category in seen.items()]


# One fitter per process for methods that can keep compiled models (``batch_fitter``, as loglinear_bayes): every
# replicate with the same lists then reuses one compiled PyMC model instead of compiling its own.
_FITTERS: dict = {}


def _fitter(method: Method, function):
    factory = getattr(function, "batch_fitter", None)
    if factory is None:
        return function
    if method.name not in _FITTERS:
        _FITTERS[method.name] = factory()
    return _FITTERS[method.name]


def run_method(method: Method, histories, seed: int | None) -> dict:
    """Run one method on one table; never raises: failures come back in the ``failure`` field.

    Returns a dict with estimate, lower_80, upper_80, lower_95, upper_95, seconds, warnings, failure.
    """
    row = dict(estimate=np.nan, lower_80=np.nan, upper_80=np.nan, lower_95=np.nan, upper_95=np.nan,
               seconds=np.nan, warnings="", failure="")
    messages: list[str] = []
    try:
        if method.max_lists is not None and histories.k > method.max_lists:
            raise NotRunError(
                f"not run: {histories.k} lists exceed this benchmark's limit of {method.max_lists} for {method.name} "
                f"(it builds the dense table of 2**k = {2 ** histories.k:,} cells)"
            )
        function = method.resolve()
        data = histories.select_lists(list(histories.lists[:2])) if method.first_two_lists else histories
        options = _call_options(function, method, 0.95, seed)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            start = time.perf_counter()
            result = _fitter(method, function)(data, **options)
            row["seconds"] = time.perf_counter() - start
            lower80, upper80 = (_other_level(result, function, data, options, 0.80) if method.other_level
                                else (None, None))
        messages += [(w.category.__name__, str(w.message)) for w in caught]
        messages += [("", str(m)) for m in getattr(result, "warnings", ())]
        row.update(
            estimate=float(result.estimate),
            lower_95=_bound(result.interval[0]),
            upper_95=_bound(result.interval[1]),
            lower_80=_bound(lower80),
            upper_80=_bound(upper80),
        )
        if method.components:
            row["components"] = _components(method.name, result)
    except Exception as error:  # the benchmark records every failure and carries on
        row["failure"] = f"{type(error).__name__}: {str(error)[:300]}"
    row["warnings"] = " | ".join(_unique(messages))[:500]
    return row


_COMPONENT_NAMES = {"loglinear(select='average')": "loglinear_average", "loglinear(select='bic')": "loglinear_bic",
                    "graphical_bma(exclude_saturated=True)": "graphical_bma_nosat",
                    "chao_lower_bound": "chao"}


def _components(name: str, result) -> list[dict]:
    """One row per method a Recommendation ran: its 95% interval as run, its 80% one where draws or a
    log-normal average give it without refitting; a refusal, error or skip is the row's failure."""
    rows = []
    for r in result.sensitivity.itertuples():
        label = f"{name}[{_COMPONENT_NAMES.get(r.method, r.method)}]"
        row = dict(method=label, estimate=np.nan, lower_80=np.nan, upper_80=np.nan, lower_95=np.nan,
                   upper_95=np.nan, seconds=np.nan, warnings="", failure="")
        if r.status in ("ok", "warning"):
            fit = result.fits.get(r.method)
            row.update(estimate=float(r.estimate), lower_95=_bound(r.lower), upper_95=_bound(r.upper))
            details = getattr(fit, "details", {}) or {}
            try:
                if hasattr(fit, "credible_interval"):
                    row["lower_80"], row["upper_80"] = map(_bound, fit.credible_interval(0.80))
                elif "log_estimate" in details and "log_std_error" in details:
                    from estimators._loglinear._average import Averaged

                    bounds = Averaged(details["log_estimate"], details["log_std_error"]).interval(
                        0.80, floor=fit.n_observed)
                    row["lower_80"], row["upper_80"] = map(_bound, bounds)
            except Exception:  # no 80% interval without a refit: left empty
                pass
            # role, status and how a sampled run ended first: the note after them may be cut at 500 characters
            run = getattr(r, "convergence", "")
            row["warnings"] = f"{r.role} ({r.status})" + (f" [run: {run}]" if run else "") + (f": {r.note}" if r.note
                                                                                            else "")
        else:
            row["failure"] = f"{r.status}: {r.note}"[:300]
        row["warnings"] = " ".join(row["warnings"].split())[:500]
        rows.append(row)
    return rows
