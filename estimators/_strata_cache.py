"""The content-addressed cache behind :func:`estimators.estimate_strata`.

A stratum's result is stored under its table's fingerprint and a key made of everything else that determines it:
the method (its code, bound arguments, closure values, instance state and defaults, described by ``_Describer``),
the options, the stratum's seed, and a digest of this package's source and its dependencies' versions. A method
whose content cannot be described is fitted without the cache (``_Unkeyable``), never looked up under a partial key.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import warnings
from collections.abc import Mapping
from pathlib import Path

from .results import Estimate

class _Unkeyable(Exception):
    """A method or option whose content cannot be hashed, so its results cannot be looked up in a cache."""


# the libraries every fit runs on: a new version may change results
_DEPENDENCIES = ("numpy", "scipy", "pandas", "pymc", "pytensor", "numba")


def _package_digest(root=None) -> str:
    """Digest of this package's version, the source of all its modules and its dependencies' versions.

    Any method can reach any module of the package (the table's own methods, helpers of other estimators), so
    editing any of them invalidates every cached result.
    """
    import sys
    from importlib import metadata

    from . import __version__

    digest = hashlib.sha256(f"{__version__}\n{sys.version}\n".encode())
    for dependency in _DEPENDENCIES:
        try:
            version = metadata.version(dependency)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{dependency} {version}\n".encode())
    root = Path(__file__).resolve().parent if root is None else Path(root)
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _in_package(module_name) -> bool:
    return isinstance(module_name, str) and (module_name == "estimators" or module_name.startswith("estimators."))


def _is_library(module_name) -> bool:
    """Whether a module is installed code (standard library or site-packages), identified by name and version."""
    import sys
    import sysconfig

    if not isinstance(module_name, str):
        return False
    top = module_name.split(".")[0]
    if top in sys.builtin_module_names or top in sys.stdlib_module_names:
        return True
    module = sys.modules.get(module_name) or sys.modules.get(top)
    where = getattr(module, "__file__", None)
    if where is None:
        return False
    where = str(Path(where).resolve())
    roots = {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    return any(where.startswith(str(Path(root).resolve())) for root in roots)


def _library_version(module_name: str) -> str:
    import sys

    top = sys.modules.get(module_name.split(".")[0])
    return str(getattr(top, "__version__", ""))


class _Describer:
    """Digests of everything a method's result can depend on, recursing through callables and containers.

    Functions of this package are named (the package digest covers their code); functions and classes of installed
    libraries are named with the library's version; user code is described by its compiled code, defaults, closure
    cells, attributes and the module-level values it refers to; callable objects by their class and state; other
    values by :func:`joblib.hash`.
    """

    def __init__(self):
        self.seen = {}

    def __call__(self, value, where: str) -> str:
        key = id(value)
        if key in self.seen:  # recursion (a function referring to itself) or a value met before
            return self.seen[key][1]
        self.seen[key] = (value, f"<ref {len(self.seen)}>")  # keep value alive so its id is not reused
        digest = hashlib.sha256(repr(self._parts(value, where)).encode()).hexdigest()
        self.seen[key] = (value, digest)
        return digest

    def _parts(self, value, where):
        import functools
        import types

        if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
            return ("value", type(value).__name__, repr(value))
        if isinstance(value, (list, tuple)):
            return (type(value).__name__, [self(item, f"{where}[{i}]") for i, item in enumerate(value)])
        if isinstance(value, dict):
            return ("dict", [(self(k, f"{where} key"), self(v, f"{where}[{k!r}]")) for k, v in value.items()])
        if isinstance(value, (set, frozenset)):
            return (type(value).__name__, sorted(self(item, f"{where} item") for item in value))
        if isinstance(value, functools.partial):
            return ("partial", self(value.func, f"{where}.func"), self(value.args, f"{where} arguments"),
                    self(value.keywords, f"{where} keywords"), self(vars(value), f"{where} attributes"))
        if isinstance(value, types.MethodType):
            return ("method", self(value.__func__, where), self(value.__self__, f"{where}.__self__"))
        if isinstance(value, types.FunctionType):
            return self._function(value, where)
        if isinstance(value, types.ModuleType):
            name = value.__name__
            return ("module", name, _library_version(name) if _is_library(name) else "")
        if isinstance(value, (types.BuiltinFunctionType, types.BuiltinMethodType)):
            owner = getattr(value, "__self__", None)
            bound = None if owner is None or isinstance(owner, types.ModuleType) else self(owner, f"{where}.__self__")
            name = getattr(value, "__module__", None) or type(owner).__module__
            return ("builtin", name, value.__qualname__, _library_version(str(name)), bound)
        if isinstance(value, type):
            return self._class(value, where)
        module = type(value).__module__
        if callable(value) or not (_is_library(module) or _in_package(module)):
            # a callable object or an object of user code: its class's code and its state
            try:
                state = value.__getstate__()
            except Exception as error:
                raise _Unkeyable(f"{where} (a {type(value).__name__}) has no readable state: {error}") from None
            return ("object", self(type(value), f"{where}'s class"), self(state, f"{where}'s state"))
        return ("hashed", self._hash(value, where))

    def _hash(self, value, where):
        import joblib

        try:
            return joblib.hash(value)
        except Exception as error:
            raise _Unkeyable(f"{where} (a {type(value).__name__}) cannot be hashed: {error}") from None

    def _function(self, function, where):
        module, name = function.__module__, function.__qualname__
        parts = ["function", module, name, self(function.__defaults__, f"default values of {name}"),
                 self(function.__kwdefaults__, f"default values of {name}"),
                 self(vars(function), f"attributes of {name}")]
        cells = function.__closure__ or ()
        for variable, cell in zip(function.__code__.co_freevars, cells):
            try:
                contents = cell.cell_contents
            except ValueError:  # not assigned yet
                parts.append((variable, "<empty>"))
                continue
            parts.append((variable, self(contents, f"closure variable {variable!r} of {name}")))
        if _in_package(module):
            return tuple(parts)  # its code is in the package digest
        if _is_library(module):
            return (*parts, _library_version(module))
        parts.append(self._code(function.__code__))
        # module-level names the code refers to (functions it calls, constants), their current values
        namespace = function.__globals__
        for global_name in sorted(self._names(function.__code__)):
            if global_name in namespace:
                parts.append((global_name, self(namespace[global_name], f"global {global_name!r} of {name}")))
        return tuple(parts)

    def _code(self, code):
        import types

        constants = [self._code(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts]
        return ("code", code.co_code.hex(), code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars,
                constants)

    def _names(self, code):
        import types

        names = set(code.co_names)
        for constant in code.co_consts:
            if isinstance(constant, types.CodeType):
                names |= self._names(constant)
        return names

    def _class(self, cls, where):
        module, name = cls.__module__, cls.__qualname__
        if _in_package(module):
            return ("class", module, name)
        if _is_library(module):
            return ("class", module, name, _library_version(module))
        members = []
        for base in cls.__mro__:
            if base is object:
                continue
            if _in_package(base.__module__) or _is_library(base.__module__):
                members.append(self(base, f"base class of {name}"))
                continue
            for attribute, member in vars(base).items():
                if attribute in ("__dict__", "__weakref__", "__doc__", "__module__", "__qualname__"):
                    continue
                members.append((attribute, self(member, f"{base.__qualname__}.{attribute}")))
        return ("class", module, name, members)


def _method_identity(name: str, function, options: Mapping, package: str) -> str:
    """Digest of everything that determines a method's results besides the table and the per-stratum seed.

    Raises
    ------
    _Unkeyable
        When some part (a closure variable, an option, an object's state) cannot be hashed.
    """
    describe = _Describer()
    parts = (name, package, describe(function, f"method {name!r}"), describe(dict(options), "the options"))
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _stratum_key(identity: str, options: Mapping) -> str:
    """Cache key of one stratum's settings: the call's identity and the stratum's own seed."""
    return hashlib.sha256(f"{identity}\0{options.get('random_seed')!r}".encode()).hexdigest()


# fits run by _fit_and_record in this thread: a cached call that ran the fit had no readable entry
_FITS = threading.local()


def _fit_and_record(fingerprint, key, options, h, fit):
    """Run one fit, keeping the warnings it raised with the result (the unit that is cached, under the table's
    fingerprint and the settings' key; ``options``, ``h`` and ``fit`` are not part of the key)."""
    _FITS.count = getattr(_FITS, "count", 0) + 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fit(h, **options)
    messages = []
    for item in caught:
        message = str(item.message)
        if message not in messages:
            messages.append(message)
    return result, tuple(messages)


def _cached(memory):
    return memory.cache(_fit_and_record, ignore=["options", "h", "fit"])


def _fitter(function):
    """The callable that fits strata: a method's ``batch_fitter()`` (which may keep compiled models) or itself."""
    factory = getattr(function, "batch_fitter", None)
    return factory() if factory is not None else function


class _LoadFailures(logging.Filter):
    """Collects (and keeps out of the log) joblib's reports of cache entries it could not read and so refits."""

    def __init__(self):
        super().__init__()
        self.reasons = []

    def filter(self, record):
        text = record.getMessage()
        if "Exception while loading results" not in text:
            return True
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        self.reasons.append(lines[-1] if lines else "unreadable")
        return False


def _fit_batch(items, fit, memory):
    """Fit a batch of strata in one worker (``fit`` arrives pickled, so each batch has its own compiled models).

    Records are (label, result, warnings, error, seconds, cached, unreadable): ``cached`` when the result was read
    from the cache without fitting, ``unreadable`` why a cache entry that was there could not be read.
    """
    call = _cached(memory) if memory is not None else _fit_and_record
    joblib_log = logging.getLogger("joblib")
    records = []
    for label, h, options, key in items:
        start = time.perf_counter()
        fits = getattr(_FITS, "count", 0)
        stored = memory is not None and call.check_call_in_cache(h.fingerprint(), key, options, h, fit)
        failures = _LoadFailures()
        joblib_log.addFilter(failures)
        try:
            result, messages = call(h.fingerprint(), key, options, h, fit)
            if not isinstance(result, Estimate):
                raise TypeError(f"the method returned a {type(result).__name__}, not an Estimate")
            record = (result, messages, "")
        except Exception as error:  # one failing stratum must not lose the others
            record = (None, (), f"{type(error).__name__}: {error}")
        finally:
            joblib_log.removeFilter(failures)
        # counted, not inferred from the cache's contents: joblib refits an entry it cannot read
        cached = memory is not None and getattr(_FITS, "count", 0) == fits
        unreadable = "; ".join(failures.reasons) or ("unreadable" if stored and not cached else "")
        records.append((label, *record, time.perf_counter() - start, cached, unreadable))
    return records
