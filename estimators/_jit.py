"""Numba options and compilation helpers shared by the package's compiled kernels."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

# Options of every kernel called only from compiled code. Without the wrappers that make a function callable from
# Python (boxing and unboxing its arguments) a cold compilation of the latent-class sampler took a fifth less CPU
# time (4.3 s against 5.4 s, medians of 3 processes at load 7), and the daily model's entry points 24.7 s against
# 27.6 s; call them from Python through an ``@njit`` function or an entry point, as the tests do.
HELPER = dict(cache=True, nogil=True, error_model="numpy", no_cpython_wrapper=True, no_cfunc_wrapper=True)


def cached(py_func) -> bool:
    """Whether Numba's on-disk cache holds a compilation of ``py_func`` for its current source (any signature).

    Reads the cache's index the way Numba does before compiling; if that cannot be read (a Numba whose cache
    layout differs), answers True, so that callers only skip work they would otherwise do.
    """
    try:
        from numba.core.caching import FunctionCache

        return bool(FunctionCache(py_func)._cache_file._load_index())
    except Exception:  # noqa: BLE001
        return True


def compile_elsewhere(module: str, function: str) -> subprocess.Popen | None:
    """Start ``module.function()`` in a second Python process, to fill Numba's on-disk cache while this process
    compiles something else; the function prints one line when the part this process waits for is cached.

    The second process sees this one's environment (``NUMBA_CACHE_DIR`` included) and package; None when it
    cannot be started, or when ``sys.executable`` is not a Python interpreter (the caller then compiles everything
    itself).
    """
    if not os.path.basename(sys.executable or "").lower().startswith(("python", "pypy")):
        return None  # an embedding program, not an interpreter that would run ``-c``
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
    try:
        return subprocess.Popen([sys.executable, "-c", f"import {module} as m; m.{function}()"], env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True)
    except OSError:
        return None


def wait_for_line(process: subprocess.Popen, timeout: float) -> bool:
    """Wait until ``process`` prints a line or exits (at most ``timeout`` seconds); whether it printed one."""
    line = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return bool(line and line[0].strip())
