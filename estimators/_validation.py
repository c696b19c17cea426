"""Argument checks shared by every estimator: one message style, naming the argument, the allowed values and the value."""

from __future__ import annotations

import numbers

import numpy as np


def check_level(level: float) -> float:
    """Return ``level`` as a float in (0, 1) or raise naming it."""
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0.0 < float(level) < 1.0:
        raise ValueError(f"`level` must be a probability strictly between 0 and 1 (e.g. 0.95); got {level!r}.")
    return float(level)


def check_choice(name: str, value, allowed) -> str:
    if value not in allowed:
        raise ValueError(f"`{name}` must be one of {sorted(allowed)!r}; got {value!r}.")
    return value


def check_positive_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def check_positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"`{name}` must be a finite number > 0; got {value!r}.")
    return float(value)


def resolve_seed(random_seed, *, bound: int = 2**63) -> int:
    """The integer seed a fit records so that ``random_seed=<it>`` repeats it: the one given, one drawn below
    ``bound`` from a Generator, or fresh entropy below ``bound`` for None."""
    if random_seed is None:
        return int(np.random.SeedSequence().entropy % bound)
    if isinstance(random_seed, np.random.Generator):
        return int(random_seed.integers(0, bound))
    check_random_seed(random_seed)  # the shared message for anything else
    return int(random_seed)


def check_random_seed(random_seed):
    """Accept None, an int >= 0 or a numpy Generator; return a Generator (seeded reproducibly)."""
    if random_seed is None or isinstance(random_seed, np.random.Generator):
        return np.random.default_rng(random_seed)
    if isinstance(random_seed, numbers.Integral) and not isinstance(random_seed, bool) and random_seed >= 0:
        return np.random.default_rng(int(random_seed))
    raise ValueError(f"`random_seed` must be None, a non-negative integer or a numpy Generator; got {random_seed!r}.")
