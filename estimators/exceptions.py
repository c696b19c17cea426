"""Errors and warnings with names a statistician can act on.

Errors subclass :class:`ValueError` so ``except ValueError`` keeps working; warnings subclass
:class:`UserWarning` so they show once per call site by default.
"""


class DataError(ValueError):
    """The capture histories (or survey rows) are malformed: the message names the column, pattern or value."""


class NonexistentEstimateError(ValueError):
    """The estimate does not exist for these data under this model (e.g. lists that never overlap).

    Returned numbers would be arbitrary (often huge), so we refuse instead; the message says what to try.
    """


class ConvergenceWarning(UserWarning):
    """A fit or sampler did not converge (R-hat, ESS, divergences, iteration limit)."""


class IdentifiabilityWarning(UserWarning):
    """A quantity is determined by the prior or by an untestable assumption rather than by the data."""


class SmallSampleWarning(UserWarning):
    """Too few records or overlaps for the interval's asymptotics to be trusted."""
