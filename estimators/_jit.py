"""Numba options shared by the package's compiled kernels."""

# Options of every kernel called only from compiled code. Without the wrappers that make a function callable from
# Python (boxing and unboxing its arguments) a cold compilation of the latent-class sampler took a fifth less CPU
# time (4.3 s against 5.4 s, medians of 3 processes at load 7), and the daily model's entry points 24.7 s against
# 27.6 s; call them from Python through an ``@njit`` function or an entry point, as the tests do.
HELPER = dict(cache=True, nogil=True, error_model="numpy", no_cpython_wrapper=True, no_cfunc_wrapper=True)
