"""Argument checks shared by every estimator: one message style, naming the argument, the allowed values and the value.

Options are declared once, next to the function, in the manner of scikit-learn's ``_parameter_constraints``::

    @validate_params(
        {"level": [Interval(Real, 0, 1, closed="neither")], "progress": [Boolean()], "random_seed": [Seed()]},
        exempt=("h",),  # the data: checked by the function itself, with messages about its content
    )
    def estimator(h, *, level=0.95, progress=False, random_seed=None): ...

Each parameter maps to a list of constraints and is valid when it meets any of them (``None`` in the list allows
None). Validation runs on the arguments given, before the function body, so a bad option fails before any data are
read, any model is compiled or any sampler runs. The declarations are kept on the function
(``__parameter_constraints__`` and ``__exempt_parameters__``) so tests can derive invalid values from every
declared constraint and check that no parameter escapes (tests/test_validation.py).
"""

from __future__ import annotations

import datetime as _dt
import functools
import inspect
import math
import numbers
import sys
from numbers import Integral, Real

import numpy as np

from .exceptions import DataError

__all__ = [
    "AnyOf",
    "Boolean",
    "Callable",
    "Constraint",
    "Date",
    "InstanceOf",
    "Integral",
    "Interval",
    "InvalidParameterError",
    "Options",
    "Pair",
    "Range",
    "Real",
    "Seed",
    "check_param",
    "check_params",
    "validate_params",
]


class InvalidParameterError(ValueError, TypeError):
    """An option has a value it does not allow. A ValueError (as every argument error here always was) and a
    TypeError (a string where a bool belongs is a type error) so either ``except`` catches it."""


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


class Constraint:
    """One allowed form of a parameter. Subclasses give ``is_satisfied_by``, a description for messages
    (``str()``) and ``invalid_examples``: values that break it, from which the tests are generated."""

    error: type[ValueError] = InvalidParameterError

    def is_satisfied_by(self, value) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def invalid_examples(self) -> list:
        return []


class Interval(Constraint):
    """A finite real (``Real``) or integer (``Integral``) between ``low`` and ``high`` (None: unbounded).

    ``closed`` is "both", "left", "right" or "neither". Booleans, nan and infinities are never numbers here: a
    ``True`` that reads as 1, or an ``inf`` that passes ``>= 0``, would silently change a model.
    """

    def __init__(self, kind, low=None, high=None, *, closed: str = "both", description: str | None = None):
        if kind not in (Real, Integral):
            raise TypeError("Interval kind must be numbers.Real or numbers.Integral.")
        if closed not in ("both", "left", "right", "neither"):
            raise ValueError(f"closed must be 'both', 'left', 'right' or 'neither'; got {closed!r}.")
        self.kind, self.low, self.high, self.closed, self.description = kind, low, high, closed, description

    def _in_bounds(self, value) -> bool:
        if self.low is not None:
            if value < self.low or (value == self.low and self.closed in ("right", "neither")):
                return False
        if self.high is not None:
            if value > self.high or (value == self.high and self.closed in ("left", "neither")):
                return False
        return True

    def is_satisfied_by(self, value) -> bool:
        if not _is_number(value) or not isinstance(value, self.kind) or not math.isfinite(value):
            return False
        return self._in_bounds(value)

    def __str__(self):
        if self.description:
            return self.description
        noun = "an integer" if self.kind is Integral else "a finite number"
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.closed in ('right', 'neither') else '>='} {self.low:g}")
        if self.high is not None:
            parts.append(f"{'<' if self.closed in ('left', 'neither') else '<='} {self.high:g}")
        return noun + (" " + " and ".join(parts) if parts else "")

    def invalid_examples(self) -> list:
        out = ["1", True, float("nan"), float("inf"), -float("inf")]
        if self.low is not None:
            out += [self.low - 1] + ([self.low] if self.closed in ("right", "neither") else [])
        if self.high is not None:
            out += [self.high + 1] + ([self.high] if self.closed in ("left", "neither") else [])
        if self.kind is Integral:
            out.append((self.low if self.low is not None else 0) + 1.5)
        return out


class Range(Constraint):
    """A (low, high) pair of numbers, each meeting ``Interval(kind, low, high, closed)``, with low <= high
    (low < high when ``strict``): an inverted range is refused rather than read as something else."""

    def __init__(self, kind=Real, low=None, high=None, *, closed: str = "both", strict: bool = False):
        self.item = Interval(kind, low, high, closed=closed)
        self.strict = strict

    def is_satisfied_by(self, value) -> bool:
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            return False
        first, second = value
        if not (self.item.is_satisfied_by(first) and self.item.is_satisfied_by(second)):
            return False
        return first < second if self.strict else first <= second

    def __str__(self):
        order = "low < high" if self.strict else "low <= high"
        return f"a (low, high) range with {order}, each {self.item}"

    def invalid_examples(self) -> list:
        good = [v for v in (self.item.low, self.item.high) if v is not None]
        a = self.item.low + 1 if self.item.low is not None else 1.0
        b = a + 1 if self.item.high is None else (a + self.item.high) / 2
        if good and not self.item.is_satisfied_by(a):
            a, b = good[0], good[0]
        out = [(b, a), (a, float("nan")), (a,), "ab", (a, float("inf"))]
        if self.strict:
            out.append((a, a))
        return [v for v in out if not self.is_satisfied_by(v)]


class Pair(Constraint):
    """Two numbers, the first meeting ``first`` and the second ``second`` (Intervals), in no required order:
    e.g. Beta (a, b) or a normal prior's (mean, sd)."""

    def __init__(self, first: Interval, second: Interval, description: str | None = None):
        self.first, self.second, self.description = first, second, description

    def is_satisfied_by(self, value) -> bool:
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            return False
        return self.first.is_satisfied_by(value[0]) and self.second.is_satisfied_by(value[1])

    def __str__(self):
        return self.description or f"a pair ({self.first}, {self.second})"

    def invalid_examples(self) -> list:
        return [(1.0,), "ab", (float("nan"), 1.0), (1.0, float("inf")), (1.0, 1.0, 1.0)]


class Boolean(Constraint):
    """True or False (numpy's too). A string such as "no" is truthy in Python, so strings are refused."""

    def is_satisfied_by(self, value) -> bool:
        return isinstance(value, (bool, np.bool_))

    def __str__(self):
        return "True or False"

    def invalid_examples(self) -> list:
        return ["no", "yes", "False", 1, 0]


class Options(Constraint):
    """One of a fixed set of values (compared by equality; numbers and bools are not strings)."""

    def __init__(self, options):
        self.options = frozenset(options)

    def is_satisfied_by(self, value) -> bool:
        try:
            return value in self.options and isinstance(value, str) == all(isinstance(o, str) for o in self.options)
        except TypeError:  # unhashable
            return False

    def __str__(self):
        return f"one of {sorted(self.options, key=repr)!r}"

    def invalid_examples(self) -> list:
        return ["not-an-option", 1.5, ["list"]]


class Seed(Constraint):
    """A random seed: None, an integer >= 0 or a numpy Generator."""

    def is_satisfied_by(self, value) -> bool:
        if value is None or isinstance(value, np.random.Generator):
            return True
        return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)) and value >= 0

    def __str__(self):
        return "None, a non-negative integer or a numpy Generator"

    def invalid_examples(self) -> list:
        return [-1, 1.5, "1", True, np.random.RandomState(0)]


class InstanceOf(Constraint):
    """An instance of ``types`` (described by ``description``); bools are not numbers.

    A pandas class may be named as text, ``"pandas.Index"``: naming it then does not import pandas (a value can
    be a pandas object only once pandas is imported).
    """

    def __init__(self, types, description: str):
        self.types, self.description = types, description

    def _classes(self) -> tuple:
        types = self.types if isinstance(self.types, tuple) else (self.types,)
        if not any(isinstance(t, str) for t in types):
            return types
        pandas = sys.modules.get("pandas")
        return tuple(t for t in types if not isinstance(t, str)) + tuple(
            getattr(pandas, t.split(".", 1)[1]) for t in types if isinstance(t, str) and pandas is not None)

    def is_satisfied_by(self, value) -> bool:
        classes = self._classes()
        if isinstance(value, (bool, np.bool_)) and bool not in classes:
            return False
        return isinstance(value, classes)

    def __str__(self):
        return self.description

    def invalid_examples(self) -> list:
        return [object(), 1.5, True]


class Callable(Constraint):
    def is_satisfied_by(self, value) -> bool:
        return callable(value)

    def __str__(self):
        return "a callable"

    def invalid_examples(self) -> list:
        return ["not callable", 1]


class Date(Constraint):
    """A date: a string pandas reads as one ('2024-01-31'), a datetime.date, Timestamp or numpy datetime64.

    A bad date raises :class:`DataError` (the study calendar is data), naming the argument.
    """

    error = DataError

    def is_satisfied_by(self, value) -> bool:
        import pandas as pd

        if not isinstance(value, (str, _dt.date, pd.Timestamp, np.datetime64)):
            return False
        try:
            return not pd.isna(pd.Timestamp(value))
        except (TypeError, ValueError, OverflowError):
            return False

    def __str__(self):
        return "a date (e.g. '2024-01-31', a datetime.date or a pandas Timestamp)"

    def invalid_examples(self) -> list:
        return ["not a date", "2024-13-45", 1.5]


class AnyOf(Constraint):
    """Any of ``constraints`` (None allows None), described as one: for a message that reads better whole."""

    def __init__(self, *constraints, description: str):
        self.constraints, self.description = constraints, description

    def is_satisfied_by(self, value) -> bool:
        return any((value is None) if c is None else c.is_satisfied_by(value) for c in self.constraints)

    def __str__(self):
        return self.description

    def invalid_examples(self) -> list:
        out = [] if None in self.constraints else [None]
        for c in self.constraints:
            if c is not None:
                out += c.invalid_examples()
        return [v for v in out if not self.is_satisfied_by(v)]


def _describe(constraints) -> str:
    parts = ["None" if c is None else str(c) for c in constraints]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def check_param(name: str, value, constraints, *, func_name: str | None = None, error=None):
    """Raise naming ``name``, the allowed forms and ``value`` unless ``value`` meets one of ``constraints``
    (``error``: the exception class, e.g. DataError for a field of a data source)."""
    for constraint in constraints:
        if (value is None) if constraint is None else constraint.is_satisfied_by(value):
            return value
    # the study calendar is data: a constraint that says so raises DataError, any other InvalidParameterError
    error = error or next((c.error for c in constraints if c is not None and c.error is not InvalidParameterError),
                          InvalidParameterError)
    where = f" (in {func_name})" if func_name else ""
    raise error(f"`{name}` must be {_describe(constraints)}; got {value!r}{where}.")


def check_params(func_name: str, constraints: dict, values: dict) -> None:
    """Check each of ``values`` that has a declaration in ``constraints`` (see :func:`check_param`)."""
    for name, value in values.items():
        if name in constraints:
            check_param(name, value, constraints[name], func_name=func_name)


def validate_params(constraints: dict, *, exempt=()):
    """Decorator: check the arguments given to the function against ``constraints`` before it runs.

    ``exempt`` names the parameters deliberately left to the function (data whose checks need its content,
    objects such as a compiled model); every other parameter must be declared, which
    ``tests/test_validation.py`` enforces so that a new option cannot skip validation.
    """

    def decorate(func):
        signature = inspect.signature(func)
        named = {n for n, p in signature.parameters.items()
                 if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and n != "self"}
        stray = (set(constraints) | set(exempt)) - named
        if stray:  # a typo in a declaration would otherwise check nothing
            raise TypeError(f"{func.__qualname__}: declared parameter(s) {sorted(stray)} not in its signature.")

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError:
                return func(*args, **kwargs)  # Python's own message for a wrong call
            # only the arguments given: the defaults are checked once, by the tests
            check_params(func.__name__, constraints, bound.arguments)
            return func(*args, **kwargs)

        wrapper.__parameter_constraints__ = dict(constraints)
        wrapper.__exempt_parameters__ = tuple(exempt)
        return wrapper

    return decorate


# ---------------------------------------------------------------------------------------- single-argument checks
_LEVEL = Interval(Real, 0, 1, closed="neither", description="a probability strictly between 0 and 1 (e.g. 0.95)")
LEVEL = [_LEVEL]
SEED = [Seed()]
BOOL = [Boolean()]


def check_level(level: float) -> float:
    """Return ``level`` as a float in (0, 1) or raise naming it."""
    check_param("level", level, LEVEL)
    return float(level)


def check_choice(name: str, value, allowed) -> str:
    check_param(name, value, [Options(allowed)])
    return value


def check_positive_int(name: str, value, minimum: int = 1) -> int:
    check_param(name, value, [Interval(Integral, minimum, None)])
    return int(value)


def check_positive(name: str, value) -> float:
    check_param(name, value, [Interval(Real, 0, None, closed="neither")])
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
    check_param("random_seed", random_seed, SEED)
    if random_seed is None or isinstance(random_seed, np.random.Generator):
        return np.random.default_rng(random_seed)
    return np.random.default_rng(int(random_seed))
