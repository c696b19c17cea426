"""Compiling PyMC models for nutpie: a seed gives the same draws in every process, and a process reuses the
compiled code that an earlier one left in PyTensor's on-disk cache."""

from __future__ import annotations

from hashlib import sha256

import numba
import numpy as np
from numba.extending import intrinsic

# NUTS with a low-rank-modified mass matrix, its eigenvalues regularised by 1e-3 instead of nutpie's 1e-5: with
# 1e-5 tuning the daily model took 6x longer for the same leapfrog steps and ESS; against the diagonal default it
# halved loglinear_bayes' leapfrog steps per draw and raised ESS per CPU second 1.1-4.7x (benchmarks/NOTES.md).
LOW_RANK = {"adaptation": "low_rank", "mass_matrix_gamma": 1e-3}

# Bump to invalidate the cached entry points when their generated source changes meaning without changing text.
_SOURCE_VERSION = 1

# nutpie's entry points (nutpie.compile_pymc._make_c_logp_func and _make_c_expand_func) with the same checks and
# return codes, the shared inputs unpacked from the user data in place of nutpie's per-model closures.
_LOGP_SOURCE = """
def logp_entry(dim, x_, out_, logp_, user_data_):
    if dim != {n_dim}:
        return -1
    try:
        user_data = numba.carray(user_data_, ({n_fields},), np.uint64)
{unpack}
        x = numba.carray(x_, ({n_dim},))
        out = numba.carray(out_, ({n_dim},))
        logp = numba.carray(logp_, ())
        logp_val, grad = inner(x{args})
        logp[()] = logp_val
        out[...] = grad
        if not np.all(np.isfinite(out)):
            return 3
        if not np.isfinite(logp_val):
            return 4
    except Exception:  # noqa: BLE001
        return 1
    return 0
"""

_EXPAND_SOURCE = """
def expand_entry(dim, expanded, x_, out_, user_data_):
    if dim != {n_dim}:
        return -1
    if expanded != {n_expanded}:
        return -1
    try:
        user_data = numba.carray(user_data_, ({n_fields},), np.uint64)
{unpack}
        x = numba.carray(x_, ({n_dim},))
        out = numba.carray(out_, ({n_expanded},))
        (values,) = inner(x{args})
        out[...] = values
    except Exception:  # noqa: BLE001
        return -2
    return 0
"""


def compile_pymc_model(model, **kwargs):
    """``nutpie.compile_pymc_model`` with Numba's fast-math off and entry points cached on disk.

    PyTensor compiles its Numba kernels with fast-math flags (``reassoc``, ``contract``, ...) by default, which let
    LLVM reorder and fuse floating-point operations. How it does so depends on the IR it is given, and that differs
    between a kernel generated fresh and one reloaded from PyTensor's on-disk compile cache. The log density then
    differs in its last bits between a process with a cold cache and one with a warm one, and NUTS, being chaotic,
    turns that into different draws from the same seed. With fast-math off, LLVM must keep IEEE semantics, so the
    compiled log density gives the same bits whatever the cache holds.

    nutpie wraps PyTensor's log density and trace functions in ``numba.cfunc`` entry points that Numba refuses to
    cache (they embed the shared data and random names), so every process spent most of a model's compile time
    (about 10 of 13 s for ``loglinear_bayes`` on four lists) rebuilding them. Here the entry points are generated
    from fixed source, read the shared data only through nutpie's user-data pointer, and are cached in PyTensor's
    Numba cache under a key made of that source and the keys of the PyTensor functions they call; a later process
    loads them instead of compiling.

    Parameters
    ----------
    model : pymc.Model
        The model to compile.
    **kwargs
        Passed to ``nutpie.compile_pymc_model``. ``var_names`` and ``backend="numba"`` keep the cached path; other
        options fall back to nutpie's own compilation (fast-math still off).

    Returns
    -------
    nutpie.compile_pymc.CompiledPyMCModel
        The compiled model.

    Notes
    -----
    PyTensor reads the fast-math setting when it generates each kernel, so it is changed only for the duration of
    this call (``pytensor.config.change_flags``); kernels compiled with and without fast-math are cached under
    different keys. The setting is process-wide for that time, so compiling other PyTensor functions in another
    thread of the same process meanwhile would see it too.

    The entry points call the same PyTensor kernels with the same arrays as nutpie's, so a seed gives the same draws
    as ``nutpie.compile_pymc_model`` would. They rely on nutpie's private helpers (``nutpie.compile_pymc``, checked
    with nutpie 0.16); if PyTensor gives a kernel no cache key, that model is compiled by nutpie as before.
    """
    import nutpie
    from pytensor import config

    options = dict(kwargs)
    var_names = options.pop("var_names", None)
    backend = options.pop("backend", "numba")
    with config.change_flags(numba__fastmath=False):
        if not options and backend == "numba":
            compiled = _compile_cached(model, var_names)
            if compiled is not None:
                return compiled
        return nutpie.compile_pymc_model(model, **kwargs)


def _compile_cached(model, var_names):
    """nutpie's numba compilation with cacheable entry points, or None when a PyTensor kernel has no cache key."""
    import numba
    from nutpie import compile_pymc as nc
    from pymc.initial_point import make_initial_point_fn

    # the defaults of nutpie.compile_pymc_model: support points jittered on every free variable
    point_fn = nc._wrap_with_lock(make_initial_point_fn(
        model=model, default_strategy="support_point", jitter_rvs=set(model.free_RVs), return_transformed=True,
    ))
    n_dim, n_expanded, logp_pt, expand_pt, initial_point_fn, shape_info, reparameterized = nc._make_functions(
        model, mode="NUMBA", compute_grad=True, join_expanded=True, pymc_initial_point_fn=point_fn,
        var_names=var_names,
    )
    # Names fixed by order rather than nutpie's random ones, so the generated source is the same in every process.
    shared_data, shared_var_keys = {}, {}
    for var in [*logp_pt.get_shared(), *expand_pt.get_shared()]:
        if var not in shared_var_keys:
            key = f"shared{len(shared_var_keys)}"
            shared_var_keys[var] = key
            shared_data[key] = np.array(var.get_value(), order="C", copy=True)
            shared_data[key].flags.writeable = False
    user_data = nc.make_user_data(shared_var_keys, shared_data)

    signature = numba.types.int64(
        numba.types.uint64, numba.types.CPointer(numba.types.double), numba.types.CPointer(numba.types.double),
        numba.types.CPointer(numba.types.double), numba.types.voidptr,
    )
    logp = _entry_point(_LOGP_SOURCE, "logp_entry", logp_pt, signature, user_data, shared_var_keys, shared_data,
                        n_dim=n_dim)
    expand_signature = numba.types.int64(
        numba.types.uint64, numba.types.uint64, numba.types.CPointer(numba.types.double),
        numba.types.CPointer(numba.types.double), numba.types.voidptr,
    )
    expand = _entry_point(_EXPAND_SOURCE, "expand_entry", expand_pt, expand_signature, user_data, shared_var_keys,
                          shared_data, n_dim=n_dim, n_expanded=n_expanded)
    if logp is None or expand is None:
        return None
    dims, coords = nc._prepare_dims_and_coords(model, shape_info, reparameterized)
    return nc.CompiledPyMCModel(
        _n_dim=n_dim,
        dims=dims,
        _coords=coords,
        _shapes={name: tuple(shape) for name, _, shape in zip(*shape_info)},
        compiled_logp_func=logp,
        compiled_expand_func=expand,
        initial_point_func=initial_point_fn,
        shared_data=shared_data,
        shared_var_keys=shared_var_keys,
        user_data=user_data,
        n_expanded=n_expanded,
        shape_info=shape_info,
        logp_func=logp_pt,
        expand_func=expand_pt,
        reparameterized_names=reparameterized,
    )


def _entry_point(template, name, function, signature, user_data, shared_var_keys, shared_data, **sizes):
    """A cached ``numba.cfunc`` calling PyTensor ``function``'s kernel, its shared inputs read from ``user_data``.

    Returns None when PyTensor did not register the kernel for caching (its compiled code then has no stable key).
    """
    import numba
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS, compile_numba_function_src

    inner = function.vm.jit_fn
    inner_key = CACHED_SRC_FUNCTIONS.get(inner.py_func)
    if inner_key is None:
        return None
    # nutpie's user data is one packed record of 8-byte fields: per shared variable its data address, size and shape
    record = user_data.dtype
    offset = record.fields["shared"][1]
    shared = record["shared"]
    lines, args = [], []
    for var in function.get_shared():
        key = shared_var_keys[var]
        data = (offset + shared.fields["data"][1] + shared["data"].fields[key][1]) // 8
        shape = (offset + shared.fields["shape"][1] + shared["shape"].fields[key][1]) // 8
        dims = "".join(f"int(user_data[{shape + i}]), " for i in range(shared_data[key].ndim))
        dtype = shared_data[key].dtype.name
        lines.append(f"        {key} = numba.carray(_address_as_pointer(user_data[{data}]), ({dims}), np.{dtype})")
        args.append(f", {key}")
    source = template.format(
        n_fields=record.itemsize // 8, unpack="\n".join(lines) or "        pass", args="".join(args), **sizes,
    )
    cache_key = sha256(f"{_SOURCE_VERSION}\n{inner_key}\n{signature}\n{source}".encode()).hexdigest()
    py_func = compile_numba_function_src(
        source, name,
        # __name__: a cached entry point names a module whose globals a loading process imports
        global_env={"__name__": __name__, "numba": numba, "np": np, "inner": inner,
                    "_address_as_pointer": _address_as_pointer},
        cache_key=cache_key,
    )
    return numba.cfunc(signature, cache=True)(py_func)


@intrinsic
def _address_as_pointer(typingctx, address):
    """The integer ``address`` as a ``void*`` (nutpie keeps the shared data's addresses as integers)."""
    from numba.core import cgutils, types

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return types.voidptr(address), codegen


def kernel_model(*, logp_entry, expand_entry, user_data, n_dim, shapes, dims, coords, initial_point):
    """A nutpie model running hand-written Numba entry points on ``user_data`` (a packed float64 array).

    Built on nutpie's class for compiled PyMC models (``nutpie.compile_pymc.CompiledPyMCModel``, nutpie 0.16),
    which needs only the entry points (``numba.cfunc`` with nutpie's signatures and return codes), the user data,
    the names and shapes of what :func:`expand_entry` records and a function of a seed giving a chain's start.

    Parameters
    ----------
    shapes : dict
        Name -> shape of each recorded quantity, in the order the expand entry point writes them.
    dims, coords : dict
        Dimension names by quantity and coordinate values by dimension name (for the trace's labels).
    """
    import pandas as pd
    from nutpie.compile_pymc import CompiledPyMCModel

    names = list(shapes)
    coords = {name: pd.Index(values) for name, values in coords.items()}
    coords["unconstrained_parameter"] = pd.Index([f"x_{i}" for i in range(n_dim)])
    return CompiledPyMCModel(
        dims=dims,
        _n_dim=n_dim,
        _shapes=dict(shapes),
        _coords=coords,
        compiled_logp_func=logp_entry,
        compiled_expand_func=expand_entry,
        initial_point_func=initial_point,
        shared_data={},
        shared_var_keys={},
        user_data=user_data,
        n_expanded=int(sum(int(np.prod(shape)) for shape in shapes.values())),
        shape_info=(names, None, [shapes[name] for name in names]),
        logp_func=None,
        expand_func=None,
    )


# Signatures of the entry points nutpie calls for hand-written kernels (:func:`kernel_model`): the log density
# (dimension, x, gradient out, log density out, user data) and the recorded quantities (dimension, their number,
# x, out, user data). Both return 0 on success and -1 for a wrong dimension; see :func:`logp_status`.
LOGP_SIGNATURE = numba.types.int64(
    numba.types.uint64, numba.types.CPointer(numba.types.double), numba.types.CPointer(numba.types.double),
    numba.types.CPointer(numba.types.double), numba.types.voidptr,
)
EXPAND_SIGNATURE = numba.types.int64(
    numba.types.uint64, numba.types.uint64, numba.types.CPointer(numba.types.double),
    numba.types.CPointer(numba.types.double), numba.types.voidptr,
)


@numba.njit(cache=True, error_model="numpy")
def logp_status(value, grad):
    """nutpie's return code for a log density and its gradient: 3 for a non-finite gradient, 4 for a non-finite
    density, else 0 (nutpie treats 3 and 4 as a rejected step)."""
    if not np.all(np.isfinite(grad)):
        return 3
    if not np.isfinite(value):
        return 4
    return 0


def _pointer(array):
    import ctypes

    if array.dtype != np.float64 or not array.flags.c_contiguous:
        raise ValueError("the kernels read and write contiguous float64 arrays")
    return array.ctypes.data_as(ctypes.POINTER(ctypes.c_double))


def call_logp(entry, x, data, grad) -> float:
    """The log density at ``x`` on the packed ``data`` through the entry point ``entry`` (a ``numba.cfunc`` of
    :data:`LOGP_SIGNATURE`), its gradient written into ``grad`` (a non-finite value or gradient is returned as
    computed; -1, a wrong dimension, is a ValueError)."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    if grad.size != x.size:  # the entry point writes x.size values
        raise ValueError(f"`grad` holds {grad.size} values for {x.size} parameters")
    value = np.zeros(1)
    if entry.ctypes(x.size, _pointer(x), _pointer(grad), _pointer(value), _pointer(data)) not in (0, 3, 4):
        raise ValueError("these parameters do not fit the packed data")
    return float(value[0])


def call_expand(entry, x, data, out) -> None:
    """The recorded quantities of ``x`` on the packed ``data`` through ``entry`` (a ``numba.cfunc`` of
    :data:`EXPAND_SIGNATURE`), written into ``out``."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    if entry.ctypes(x.size, out.size, _pointer(x), _pointer(out), _pointer(data)) != 0:
        raise ValueError("these parameters do not fit the packed data")
