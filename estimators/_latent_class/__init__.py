"""The Dirichlet-process latent-class model of Manrique-Vallier (2016), the model of R's LCMCR.

- ``_estimator``: :func:`latent_class` (inputs, chains in threads, the run extended until N's diagnostics pass,
  warnings on N);
- ``_gibbs``: the data-augmentation Gibbs sampler, compiled with numba;
- ``_random``: the scalar random draws the sampler uses (xoshiro256** streams seeded from a SeedSequence).
"""

from ._estimator import chains_apart, default_classes, latent_class  # noqa: F401  (the first two for tests)

__all__ = ["latent_class"]
