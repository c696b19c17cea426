"""The named scenarios of the benchmark study and its suites."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from ._closed import (
    Simulation,
    dependent_lists,
    independent_lists,
    latent_class_lists,
    referral_lists,
    sparse_lists,
    two_class_heterogeneity,
)
from ._resampled import resampled_table

_GENERATORS = {
    "independent_lists": independent_lists,
    "two_class_heterogeneity": two_class_heterogeneity,
    "latent_class_lists": latent_class_lists,
    "dependent_lists": dependent_lists,
    "referral_lists": referral_lists,
    "sparse_lists": sparse_lists,
    "resampled_table": resampled_table,
}


@dataclass(frozen=True)
class Scenario:
    """A named simulation design: a generator of this module and its parameters.

    Attributes
    ----------
    name : str
    generator : str
        Name of the generating function in :mod:`estimators.simulate`.
    parameters : tuple of (str, value)
        Keyword arguments of the generator (frozen as pairs).
    description : str
        What the scenario represents.
    holds : str
        The assumptions that hold in it ("independence", "heterogeneity", "two-way dependence", ...),
        so a report can judge each method where its assumptions hold.
    """

    name: str
    generator: str
    parameters: tuple
    description: str
    holds: str

    @property
    def kwargs(self) -> dict:
        """The generator's keyword arguments (pairs given as tuples become the mappings the generator takes)."""
        kwargs = dict(self.parameters)
        if "log_odds_ratios" in kwargs:
            kwargs["log_odds_ratios"] = dict(kwargs["log_odds_ratios"])
        return kwargs

    def simulate(self, random_seed=None) -> Simulation:
        """One replicate of the scenario."""
        sim = _GENERATORS[self.generator](**self.kwargs, random_seed=random_seed)
        return Simulation(sim.histories, sim.truth, self.name, sim.probabilities)

    def seed(self, replicate: int, base_seed: int = 20261125) -> int:
        """The seed of replicate ``replicate``: fixed by the scenario's name, the replicate and ``base_seed``."""
        sequence = np.random.SeedSequence([base_seed, zlib.crc32(self.name.encode()), int(replicate)])
        return int(sequence.generate_state(1, dtype=np.uint32)[0])


def _scenario(name, generator, description, holds, **parameters) -> Scenario:
    return Scenario(name, generator, tuple(parameters.items()), description, holds)


def _all_scenarios() -> dict[str, Scenario]:
    items = [
        _scenario("independent_k3", "independent_lists", "3 independent lists, N = 500, p = 0.3/0.4/0.35",
                  "independence", n=500, capture=(0.3, 0.4, 0.35)),
        _scenario("independent_k4", "independent_lists", "4 independent lists, N = 1,000, p = 0.2-0.35",
                  "independence", n=1000, capture=(0.2, 0.25, 0.3, 0.35)),
        _scenario("heterogeneity_mv2016", "two_class_heterogeneity",
                  "Manrique-Vallier (2016): 5 lists, N = 2,000, 90% hard / 10% easy to list", "heterogeneity",
                  n=2000),
        _scenario("heterogeneity_k4", "latent_class_lists",
                  "4 lists, N = 1,000, two classes 70% p = 0.1-0.2 / 30% p = 0.5-0.6", "heterogeneity",
                  n=1000, weights=(0.7, 0.3), capture=((0.1, 0.15, 0.2, 0.15), (0.5, 0.6, 0.55, 0.5))),
        _scenario("positive_dependence", "dependent_lists",
                  "4 lists p = 0.25, N = 2,000, log OR(A,B) = +1.5", "two-way dependence",
                  n=2000, capture=(0.25, 0.25, 0.25, 0.25), log_odds_ratios=(((0, 1), 1.5),)),
        _scenario("negative_dependence", "dependent_lists",
                  "4 lists p = 0.25, N = 2,000, log OR(A,B) = -1.5", "two-way dependence",
                  n=2000, capture=(0.25, 0.25, 0.25, 0.25), log_odds_ratios=(((0, 1), -1.5),)),
        _scenario("referral", "referral_lists",
                  "4 lists p = 0.2/0.2/0.3/0.3, N = 2,000; P(B | A) = 0.95", "two-way dependence",
                  n=2000, capture=(0.2, 0.2, 0.3, 0.3), source=0, target=1, referral=0.95),
        _scenario("sparse_no_overlap", "sparse_lists",
                  "4 lists p = 0.3/0.25/0.2/0.15, N = 1,500; A-D and B-D never overlap", "two-way dependence",
                  n=1500, capture=(0.3, 0.25, 0.2, 0.15), never_overlap=((0, 3), (1, 3))),
        _scenario("low_capture", "independent_lists", "4 independent lists, N = 3,000, p = 0.06-0.14",
                  "independence", n=3000, capture=(0.06, 0.09, 0.12, 0.14)),
    ]
    for dataset in ("LCMCR_kosovo", "Rcapture_HIV", "CARE1_HAV", "CARE1_Diabetes", "CARE1_Congenital",
                    "SparseMSE_UKdat_5", "SparseMSE_Western"):
        items.append(_scenario(f"resampled_{dataset}", "resampled_table",
                               f"resampled from a BIC-selected two-way log-linear fit to {dataset}",
                               "two-way dependence", dataset=dataset))
    return {s.name: s for s in items}


SUITES = {
    "quick": ("independent_k3", "heterogeneity_k4", "referral", "sparse_no_overlap"),
    "standard": (
        "independent_k4",
        "heterogeneity_mv2016",
        "positive_dependence",
        "negative_dependence",
        "referral",
        "sparse_no_overlap",
        "low_capture",
        "resampled_LCMCR_kosovo",
        "resampled_CARE1_HAV",
    ),
    "full": (
        "independent_k3",
        "independent_k4",
        "heterogeneity_mv2016",
        "heterogeneity_k4",
        "positive_dependence",
        "negative_dependence",
        "referral",
        "sparse_no_overlap",
        "low_capture",
        "resampled_LCMCR_kosovo",
        "resampled_Rcapture_HIV",
        "resampled_CARE1_HAV",
        "resampled_CARE1_Diabetes",
        "resampled_CARE1_Congenital",
        "resampled_SparseMSE_UKdat_5",
        "resampled_SparseMSE_Western",
    ),
}


def scenarios(suite: str = "standard") -> tuple[Scenario, ...]:
    """The scenarios of a benchmark suite (``"quick"``, ``"standard"``, ``"full"``) or ``"all"`` of them.

    Parameters
    ----------
    suite : str

    Returns
    -------
    tuple of Scenario
        Each with ``name``, ``generator``, ``parameters``, ``description``, ``holds`` and ``simulate(seed)``.

    Examples
    --------
    >>> [s.name for s in scenarios("quick")]
    ['independent_k3', 'heterogeneity_k4', 'referral', 'sparse_no_overlap']
    >>> scenarios("quick")[0].simulate(random_seed=1).truth
    500
    """
    table = _all_scenarios()
    if suite == "all":
        return tuple(table.values())
    if suite not in SUITES:
        raise ValueError(f"`suite` must be one of {[*SUITES, 'all']!r}; got {suite!r}.")
    return tuple(table[name] for name in SUITES[suite])
