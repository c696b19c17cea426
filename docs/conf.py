"""Sphinx configuration of the undercount-estimators documentation.

Build (from the repository root; warnings are errors):

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Why Sphinx + numpydoc: the package's docstrings are written in the numpydoc convention (Parameters / Returns /
Raises / Warns / References sections), the convention of scipy, statsmodels and scikit-learn, whose reference
documentation is built the same way: autodoc + autosummary read the docstrings, numpydoc renders their sections,
sphinx-gallery runs the example scripts and pydata-sphinx-theme is the theme those projects share.

The API reference (``api.rst``) is generated below from ``estimators.__all__`` at every build, so a name exported
by the package appears in the reference without editing the docs, and every page refers to public names
(``estimators.NAME``), never to the private module that defines the object.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import estimators

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS))  # for gallery_helpers (sphinx-gallery takes its callables by dotted name)

os.environ.setdefault("MPLBACKEND", "Agg")

project = "undercount-estimators"
author = "undercount-estimators contributors"
copyright = "the undercount-estimators contributors"
version = release = estimators.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "README.md", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.json", "auto_examples/*.md5"]
root_doc = "index"
default_role = "code"  # `name` in a docstring renders as code rather than as an (unresolved) reference

# -- autodoc / autosummary / numpydoc ------------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autosummary_ignore_module_all = False  # a public submodule's members are its __all__
# a public submodule's members that the package also exports link to the one page of estimators.NAME
autosummary_context = {"toplevel": set(estimators.__all__)}
autodoc_default_options = {"members": False}
autodoc_typehints = "none"  # the numpydoc sections already give the types, in words
autodoc_member_order = "bysource"
numpydoc_show_class_members = False  # the class template lists members with autodoc instead
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()  # docstring style is checked by review, not by the build
nitpicky = False  # types written in words ("float or (float, float)") are not cross-reference targets

# -- sphinx-gallery ------------------------------------------------------------------------------------------------
# Every example runs at build time: survey_smart (~1 s), mosul_2017 (~45 s: fits the daily model, then refits it
# for the sensitivity table) and simulated_conflict (~60-90 s). Their figures are scraped from
# matplotlib; the --plot file each script also writes goes to a temporary directory (gallery_helpers.reset_argv).
sphinx_gallery_conf = {
    "examples_dirs": [str(ROOT / "examples")],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"\.py$",
    "ignore_pattern": r"__init__\.py",
    "reset_argv": "gallery_helpers.reset_argv",
    "within_subsection_order": "FileNameSortKey",
    "image_scrapers": ("matplotlib",),
    "abort_on_example_error": True,
    "download_all_examples": False,
    "show_memory": False,
    "show_signature": False,
    "min_reported_time": 0,
    "capture_repr": (),
}

# -- HTML ----------------------------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "undercount-estimators"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_show_sourcelink = False
html_static_path: list[str] = []

# -- the API reference, generated from estimators.__all__ ------------------------------------------------------------
# Sections for the names known today; a name exported later and not listed here goes to "Other public names", and a
# name listed here that the package no longer exports is left out, so the reference always equals __all__.
API_SECTIONS = {
    "Recommended analysis": ["estimate", "Recommendation"],
    "Capture histories and shipped data": [
        "CaptureHistories", "list_coverage_gaps", "load_dataset", "list_datasets", "datasets"],
    "Two lists": ["lincoln_petersen", "chapman", "pairwise"],
    "Log-linear models": ["loglinear", "loglinear_models", "mle_exists", "bootstrap_interval"],
    "Heterogeneity and sample coverage": [
        "chao_lower_bound", "zelterman", "heterogeneity", "sample_coverage", "sample_coverage_table"],
    "Individual covariates": ["huggins"],
    "Bayesian estimators": [
        "graphical_bma", "decomposable_graphs", "latent_class", "loglinear_bayes", "LoglinearBayesModel"],
    "Daily death rates": ["daily_rates", "sensitivity", "Tally", "SurveyObservation", "HouseholdSummary",
                          "DailyRatesResult"],
    "Household surveys": ["survey", "SurveyRate", "AffectedHouseholds"],
    "Many strata": ["estimate_strata", "StrataResult", "loglinear_pooled", "LoglinearPooledModel",
                    "PooledStrataResult"],
    "Missing values: multiple imputation": ["impute", "Imputations", "pool"],
    "Record linkage: from lists of names to capture histories": ["link", "Linkage", "LinkageReplicates"],
    "Results": ["Estimate", "PosteriorEstimate", "Rate", "Summary", "load_result"],
    "Errors and warnings": [
        "DataError", "NonexistentEstimateError", "ConvergenceWarning", "IdentifiabilityWarning",
        "SmallSampleWarning"],
    "Simulation": ["simulate"],
}

API_INTRO = """\
API reference
=============

.. automodule:: estimators
   :no-members:

Every name below is imported from the package itself, ``import estimators as est; est.NAME``; this page is
generated from ``estimators.__all__`` at each build. Estimators of N take a
:class:`~estimators.CaptureHistories` and keyword options and return a frozen :class:`~estimators.Estimate` (or
:class:`~estimators.PosteriorEstimate`).

.. currentmodule:: estimators
"""


def _api_rst() -> str:
    public = list(estimators.__all__)
    placed: set[str] = set()
    parts = [API_INTRO]
    sections = dict(API_SECTIONS)
    sections["Other public names"] = [name for name in public if not any(name in v for v in API_SECTIONS.values())]
    for title, names in sections.items():
        names = [name for name in names if name in public and name not in placed]
        if not names:
            continue
        placed.update(names)
        lines = [title, "-" * len(title), "", ".. autosummary::", "   :toctree: generated", "   :nosignatures:", ""]
        lines += [f"   {name}" for name in names]
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


_write_if_changed(DOCS / "api.rst", _api_rst())
