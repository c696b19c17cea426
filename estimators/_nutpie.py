"""Compiling PyMC models for nutpie so that a seed gives the same draws in every process."""

from __future__ import annotations


def compile_pymc_model(model, **kwargs):
    """``nutpie.compile_pymc_model`` with Numba's fast-math off, so that a seed fixes the draws.

    PyTensor compiles its Numba kernels with fast-math flags (``reassoc``, ``contract``, ...) by default, which let
    LLVM reorder and fuse floating-point operations. How it does so depends on the IR it is given, and that differs
    between a kernel generated fresh and one reloaded from PyTensor's on-disk compile cache. The log density then
    differs in its last bits between a process with a cold cache and one with a warm one, and NUTS, being chaotic,
    turns that into different draws from the same seed. With fast-math off, LLVM must keep IEEE semantics, so the
    compiled log density gives the same bits whatever the cache holds.

    Parameters
    ----------
    model : pymc.Model
        The model to compile.
    **kwargs
        Passed to ``nutpie.compile_pymc_model``.

    Returns
    -------
    nutpie.compile_pymc.CompiledPyMCModel
        The compiled model.

    Notes
    -----
    PyTensor reads the setting when it generates each kernel, so it is changed only for the duration of this call
    (``pytensor.config.change_flags``); kernels compiled with and without fast-math are cached under different keys.
    The setting is process-wide for that time, so compiling other PyTensor functions in another thread of the same
    process meanwhile would see it too.
    """
    import nutpie
    from pytensor import config

    with config.change_flags(numba__fastmath=False):
        return nutpie.compile_pymc_model(model, **kwargs)
