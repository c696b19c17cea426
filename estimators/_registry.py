"""The one list of the package's estimators, and of the other public names that are imported on first use.

Everything that needs the list (``import estimators``, :func:`estimators.estimate_strata`, the ``undercount``
command) reads it from here, so a new estimator is declared in one place (see benchmarks/NOTES.md).

This module imports nothing heavy (dataclasses only): ``import estimators`` and the ``undercount`` command read
it at start-up.

Attributes
----------
ESTIMATORS : tuple of Estimator
    Every estimator, in the order the command line and the docs list them.
HELPERS : dict
    Public name -> submodule for the public functions and classes that are not estimators of N or of a rate
    (they are not offered as ``--method`` nor accepted by ``estimate_strata``).
TYPES : dict
    Public name -> submodule for the input, result, error and warning classes.
PUBLIC : dict
    Public name -> submodule for every name ``estimators`` exports other than a submodule: the top-level
    estimators, the helpers and the types. ``estimators.__all__`` is built from it and :data:`SUBMODULES`.
SUBMODULES : tuple of str
    The public submodules (``estimators.survey``, ...), whose own ``__all__`` is their API.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Estimator:
    """One estimator of the package.

    Attributes
    ----------
    name : str
        Its public name: ``estimators.<name>`` when ``top_level``, else ``estimators.<module>.<function>``.
    module : str
        Submodule of :mod:`estimators` that defines it.
    function : str
        The function's name in that submodule.
    result : str
        Name of the type it returns (``Estimate``, ``PosteriorEstimate``, ``SurveyRate``, ``DailyRatesResult``).
    per_stratum : bool
        Takes a :class:`~estimators.CaptureHistories` as first argument and returns an estimate of N, so
        :func:`~estimators.estimate_strata` can run it on each stratum (and ``undercount estimate --by`` offer it).
    cli : str
        How the command line names it: a ``undercount estimate --method`` value for per-stratum estimators, else
        the ``undercount`` subcommand that runs it.
    docs : str
        Section of the documentation that describes it.
    two_lists : bool
        Uses exactly two lists (``lists=(a, b)`` picks them from more; ``--pair`` on the command line).
    top_level : bool
        Exported as ``estimators.<name>`` (the survey estimators live in ``estimators.survey``).
    joint_strata : bool
        Fits every stratum at once in one model (``f(histories, by, *, freq, **options)`` returning a
        :class:`~estimators.StrataResult`): :func:`~estimators.estimate_strata` routes ``method=<cli>`` (or
        ``<name>``) to it, and ``undercount estimate --by`` offers it.
    """

    name: str
    module: str
    function: str
    result: str
    per_stratum: bool
    cli: str
    docs: str
    two_lists: bool = False
    top_level: bool = True
    joint_strata: bool = False

    @property
    def path(self) -> str:
        """Dotted import path of the function, e.g. ``estimators.twolist.chapman``."""
        return f"estimators.{self.module}.{self.function}"

    def load(self):
        """The function itself (imports its submodule, so PyMC only for the Bayesian ones)."""
        from importlib import import_module

        return getattr(import_module(f"estimators.{self.module}"), self.function)


def _n(name, module, result="Estimate", docs="", **flags) -> Estimator:
    """An estimator of N from capture histories: per stratum, named the same in Python and on the command line."""
    return Estimator(name=name, module=module, function=name, result=result, per_stratum=True, cli=name, docs=docs,
                     **flags)


ESTIMATORS: tuple[Estimator, ...] = (
    _n("loglinear", "_loglinear", docs="Log-linear models"),
    _n("bootstrap_interval", "_loglinear", docs="Log-linear models"),
    _n("chapman", "twolist", docs="Two lists", two_lists=True),
    _n("lincoln_petersen", "twolist", docs="Two lists", two_lists=True),
    _n("chao_lower_bound", "_heterogeneity", docs="Heterogeneity"),
    _n("zelterman", "_heterogeneity", docs="Heterogeneity"),
    _n("heterogeneity", "_heterogeneity", docs="Heterogeneity"),
    _n("sample_coverage", "_heterogeneity", docs="Heterogeneity"),
    Estimator(name="huggins", module="_huggins", function="huggins", result="Estimate", per_stratum=True,
              cli="huggins", docs="Individual covariates"),
    _n("graphical_bma", "_graphical", "PosteriorEstimate", docs="Bayesian model averaging"),
    _n("latent_class", "_latent_class", "PosteriorEstimate", docs="Latent classes"),
    _n("loglinear_bayes", "_loglinear", "PosteriorEstimate", docs="Bayesian log-linear models"),
    Estimator(name="loglinear_pooled", module="_loglinear", function="loglinear_pooled",
              result="PooledStrataResult", per_stratum=False, cli="pooled", docs="Strata", joint_strata=True),
    Estimator(name="daily_rates", module="_daily", function="daily_rates", result="DailyRatesResult",
              per_stratum=False, cli="daily", docs="Daily death rates"),
    Estimator(name="mortality_rate", module="survey", function="mortality_rate", result="SurveyRate",
              per_stratum=False, cli="survey", docs="Surveys", top_level=False),
)

HELPERS: dict[str, str] = {
    "estimate": "_recommend",
    "pairwise": "twolist",
    "loglinear_models": "_loglinear",
    "mle_exists": "_loglinear",
    "decomposable_graphs": "_graphical",
    "sample_coverage_table": "_heterogeneity",
    "LoglinearBayesModel": "_loglinear",
    "LoglinearPooledModel": "_loglinear",
    "estimate_strata": "strata",
    "sensitivity": "_daily",
    "load_dataset": "datasets",
    "list_datasets": "datasets",
    "impute": "_records",
    "pool": "_records",
    "load_result": "results",
    "list_coverage_gaps": "histories",
    "link": "_linkage",
}

# Inputs, result types, errors and warnings, importable by name for isinstance checks, type hints and unpickling.
TYPES: dict[str, str] = {
    "CaptureHistories": "histories",
    "Estimate": "results",
    "PosteriorEstimate": "results",
    "Rate": "results",
    "Summary": "results",
    "DataError": "exceptions",
    "NonexistentEstimateError": "exceptions",
    "ConvergenceWarning": "exceptions",
    "IdentifiabilityWarning": "exceptions",
    "SmallSampleWarning": "exceptions",
    "Tally": "_daily",
    "SurveyObservation": "_daily",
    "HouseholdSummary": "_daily",
    "DailyRatesResult": "_daily",
    "SurveyRate": "survey",
    "AffectedHouseholds": "survey",
    "StrataResult": "strata",
    "PooledStrataResult": "_loglinear",
    "Recommendation": "_recommend",
    "Imputations": "_records",
    "Linkage": "_linkage",
    "LinkageReplicates": "_linkage",
}

BY_NAME: dict[str, Estimator] = {entry.name: entry for entry in ESTIMATORS}

PUBLIC: dict[str, str] = {**{e.name: e.module for e in ESTIMATORS if e.top_level}, **HELPERS, **TYPES}

SUBMODULES: tuple[str, ...] = ("survey", "simulate", "datasets")


def per_stratum() -> tuple[Estimator, ...]:
    """The estimators of N that :func:`~estimators.estimate_strata` and ``undercount estimate`` can run."""
    return tuple(entry for entry in ESTIMATORS if entry.per_stratum)


def joint_strata() -> tuple[Estimator, ...]:
    """The estimators that fit all strata in one model, which :func:`~estimators.estimate_strata` routes to."""
    return tuple(entry for entry in ESTIMATORS if entry.joint_strata)


def cli_methods() -> dict[str, Estimator]:
    """``undercount estimate --method`` value -> estimator (the joint-strata ones need ``--by``)."""
    return {entry.cli: entry for entry in ESTIMATORS if entry.per_stratum or entry.joint_strata}
