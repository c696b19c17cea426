"""Invalid-input tests generated from the parameter declarations (``@validate_params`` in estimators._validation).

For every public function and every declared parameter, invalid values are derived from the constraints (a string
for a Boolean, nan/inf/out-of-range for an Interval, an inverted pair for a Range, ...) and the call must raise an
error naming the parameter before anything is fitted: the data arguments are a placeholder object that no
function could fit, so reaching the body would fail differently. A further test keeps every parameter declared
or explicitly exempt, so a new option cannot skip validation.
"""

import dataclasses
import inspect

import numpy as np
import pytest

import estimators
from estimators import _registry, survey
from estimators._validation import (
    Boolean,
    Date,
    Interval,
    InvalidParameterError,
    Options,
    Range,
    Real,
    check_param,
)


def _public_functions():
    out = {}
    for name in _registry.PUBLIC:
        try:
            value = getattr(estimators, name)
        except ImportError as error:  # a module mid-edit elsewhere must not hide the others
            out[name] = error
            continue
        if inspect.isclass(value) and issubclass(value, Warning | Exception):
            continue  # errors and warnings take a message, nothing to declare
        if dataclasses.is_dataclass(value):
            # input records and result types: no options of their own; their fields are checked by the
            # functions that read them (prepare_data: the regression tests)
            continue
        out[name] = value.__init__ if inspect.isclass(value) else value
    for name in ("mortality_rate", "affected_households", "person_days", "load_smart_example", "excess_mortality",
                 "plausibility"):
        out[f"survey.{name}"] = getattr(survey, name)
    return out


PUBLIC = _public_functions()
# valid values for required declared parameters, so a call reaches the one parameter under test
REQUIRED = {"population": 10_000, "recall_days": 90, "n_households": 100, "n_affected": 10, "household_size": 5,
            "name": "not-a-dataset"}
PLACEHOLDER = object()


def _function(name):
    function = PUBLIC[name]
    if isinstance(function, ImportError):
        pytest.skip(f"{name} does not import right now: {function}")
    return function


def _call(function, **given):
    kwargs = {}
    for pname, parameter in inspect.signature(function).parameters.items():
        if pname == "self" or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if pname in given:
            kwargs[pname] = given[pname]
        elif parameter.default is inspect.Parameter.empty:
            kwargs[pname] = REQUIRED.get(pname, PLACEHOLDER)
    if function.__name__ == "__init__":
        return function(object.__new__(object), **kwargs)
    return function(**kwargs)


def _invalid_values(constraints):
    candidates = [] if None in constraints else [None]
    for constraint in constraints:
        if constraint is not None:
            candidates += constraint.invalid_examples()
    out = []
    for value in candidates:
        allowed = any((value is None) if c is None else c.is_satisfied_by(value) for c in constraints)
        if not allowed and not any(value is v for v in out):
            out.append(value)
    return out


def _cases():
    cases = []
    for name, function in PUBLIC.items():
        if isinstance(function, ImportError):
            continue
        for pname, constraints in getattr(function, "__parameter_constraints__", {}).items():
            for i, value in enumerate(_invalid_values(constraints)):
                cases.append(pytest.param(name, pname, value, id=f"{name}-{pname}-{i}"))
    return cases


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_every_parameter_is_declared_or_exempt(name):
    function = _function(name)
    assert hasattr(function, "__parameter_constraints__"), f"{name} has no @validate_params declaration"
    declared, exempt = set(function.__parameter_constraints__), set(function.__exempt_parameters__)
    parameters = {p.name for p in inspect.signature(function).parameters.values()
                  if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    assert not declared & exempt, f"{name}: declared and exempt at once: {sorted(declared & exempt)}"
    assert parameters == declared | exempt, (
        f"{name}: undeclared parameter(s) {sorted(parameters - declared - exempt)}; declare a constraint in its "
        "@validate_params or list it as exempt"
    )


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_defaults_meet_their_declarations(name):
    function = _function(name)
    for pname, parameter in inspect.signature(function).parameters.items():
        if pname in function.__parameter_constraints__ and parameter.default is not inspect.Parameter.empty:
            check_param(pname, parameter.default, function.__parameter_constraints__[pname])


@pytest.mark.parametrize("name, pname, value", _cases())
def test_invalid_value_is_refused_naming_the_parameter(name, pname, value):
    function = _function(name)
    with pytest.raises((ValueError, TypeError)) as caught:
        _call(function, **{pname: value})
    assert f"`{pname}`" in str(caught.value), str(caught.value)
    assert repr(value)[:20] in str(caught.value)


def test_the_generated_cases_cover_daily_rates_and_the_surveys():
    names = {case.values[0] for case in _cases()}
    assert {"daily_rates", "survey.mortality_rate", "survey.affected_households"} <= names


# ------------------------------------------------------------------------------------------ the constraints
def test_constraint_messages_name_the_parameter_the_value_and_what_is_allowed():
    with pytest.raises(InvalidParameterError, match=r"`x` must be a finite number >= 0 and < 1; got nan\."):
        check_param("x", float("nan"), [Interval(Real, 0, 1, closed="left")])
    with pytest.raises(InvalidParameterError, match=r"`flag` must be True or False; got 'no'"):
        check_param("flag", "no", [Boolean()])
    with pytest.raises(InvalidParameterError, match=r"`r` must be None or a \(low, high\) range"):
        check_param("r", (8, 2), [None, Range(Real, 0, None)])
    with pytest.raises(estimators.DataError, match="`when` must be a date"):
        check_param("when", "not a date", [Date()])
    # InvalidParameterError is both, so `except ValueError` and `except TypeError` keep working
    assert issubclass(InvalidParameterError, ValueError) and issubclass(InvalidParameterError, TypeError)


def test_constraints_accept_what_they_describe():
    assert Interval(Real, 0, 1, closed="neither").is_satisfied_by(np.float64(0.5))
    assert not Interval(Real, 0, None).is_satisfied_by(True)
    assert Boolean().is_satisfied_by(np.bool_(True))
    assert Range(Real, 0, None).is_satisfied_by(np.array([2.0, 8.0]))
    assert not Range(Real, 0, None).is_satisfied_by((8.0, 2.0))
    assert Options({"a", "b"}).is_satisfied_by("a") and not Options({"a"}).is_satisfied_by(["a"])
    assert Date().is_satisfied_by("2024-01-31") and not Date().is_satisfied_by("2024-02-31")


def test_a_declaration_of_a_parameter_the_function_lacks_is_refused():
    from estimators._validation import validate_params

    with pytest.raises(TypeError, match="levle"):
        validate_params({"levle": [Interval(Real, 0, 1)]})(lambda level=0.95: level)
