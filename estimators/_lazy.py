"""Heavy dependencies imported on first use, and the scipy functions the estimators need without importing scipy.

Most users run one fit per process (a script, the ``undercount`` command, a notebook cell): importing pandas,
scipy.stats or even scipy.special (0.25 s, with scipy.linalg) costs more than most fits, and the numbers of most
fits need none of them. A module writes
``from ._lazy import pd, stats`` and uses ``pd.DataFrame`` as before; the import happens at the first attribute
read. ``is_pandas`` asks whether a value is a pandas object without importing pandas (if pandas was never
imported, it cannot be).
"""

from __future__ import annotations

import sys
import math
from importlib import import_module

import numpy as np


class LazyModule:
    """Stands for the module ``name`` and imports it at the first attribute read."""

    __slots__ = ("_name", "_module")

    def __init__(self, name: str):
        self._name = name
        self._module = None

    def __getattr__(self, attribute: str):
        # called for every attribute (the proxy has none of its own), so the module is kept once imported
        module = self._module
        if module is None:
            module = self._module = import_module(self._name)
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


pd = LazyModule("pandas")
stats = LazyModule("scipy.stats")
special = LazyModule("scipy.special")
optimize = LazyModule("scipy.optimize")


def is_pandas(value, *kinds: str) -> bool:
    """Whether ``value`` is an instance of one of the pandas classes named in ``kinds`` (e.g. "Series")."""
    module = sys.modules.get("pandas")
    return module is not None and isinstance(value, tuple(getattr(module, kind) for kind in kinds))


# scipy.stats.norm.ppf(p) and scipy.stats.chi2.ppf(level, 1) at the levels people use, bit for bit as scipy gives
# them (statistics.NormalDist differs in the last bit, which moves profile bounds and could move a reported digit);
# tests/test_lazy.py checks every entry against scipy. Other values import scipy.stats.
_NORMAL_PPF = {
    0.75: 0.6744897501960817,
    0.9: 1.2815515655446004,
    0.95: 1.6448536269514722,
    0.975: 1.959963984540054,
    0.995: 2.5758293035489004,
    0.9995: 3.2905267314919255,
}
_CHI2_1_PPF = {
    0.5: 0.454936423119572,
    0.8: 1.642374415149818,
    0.9: 2.705543454095404,
    0.95: 3.841458820694124,
    0.99: 6.6348966010212145,
    0.999: 10.827566170662733,
}


def normal_ppf(p: float) -> np.float64:
    """``scipy.stats.norm.ppf(p)`` for a scalar ``p``."""
    value = _NORMAL_PPF.get(float(p))
    return np.float64(value) if value is not None else np.float64(stats.norm.ppf(p))


def chi2_1_ppf(level: float) -> np.float64:
    """``scipy.stats.chi2.ppf(level, 1)`` for a scalar ``level``."""
    value = _CHI2_1_PPF.get(float(level))
    return np.float64(value) if value is not None else np.float64(stats.chi2.ppf(level, 1))


# scipy.special.gammaln and xlogy as the Poisson log-linear fits use them, computed as scipy's C code computes them
# (cephes' lgam; x * log(y) with the C library's log, which math.log calls too; numpy's own SIMD log differs from
# it in the last bit for about 1 value in 2,000), so that every reported number stays the same bit for bit
# (tests/loglinear/test_glm_solvers.py compares them with scipy).
_LGAM_A = (8.11614167470508450300e-4, -5.95061904284301438324e-4, 7.93650340457716943945e-4,
           -2.77777777730099687205e-3, 8.33333333333331927722e-2)
_LGAM_B = (-1.37825152569120859100e3, -3.88016315134637840924e4, -3.31612992738871184744e5,
           -1.16237097492762307383e6, -1.72173700820839662146e6, -8.53555664245765465627e5)
_LGAM_C = (-3.51815701436523470549e2, -1.70642106651881159223e4, -2.20528590553854454839e5,
           -1.13933444367982507207e6, -2.53252307177582951285e6, -2.01889141433532773231e6)
_LS2PI = 0.91893853320467274178  # log(sqrt(2 pi))
_MAXLGM = 2.556348e305


def _polevl(x: float, coefficients) -> float:
    """Horner's rule from the leading coefficient (cephes ``polevl``)."""
    value = coefficients[0]
    for c in coefficients[1:]:
        value = value * x + c
    return value


def _p1evl(x: float, coefficients) -> float:
    """Horner's rule with an implicit leading coefficient 1 (cephes ``p1evl``)."""
    value = x + coefficients[0]
    for c in coefficients[1:]:
        value = value * x + c
    return value


def lgamma(x: float) -> float:
    """``scipy.special.gammaln(x)`` for a scalar: cephes' ``lgam``, step for step, for finite x > 0.

    Other arguments (never met by the fits: they take log(y!) of counts and of N) are passed to scipy.
    """
    if not 0.0 < x <= _MAXLGM:
        return float(special.gammaln(x))
    log = math.log
    if x < 13.0:
        # recurrence to u in [2, 3), then a rational approximation there
        z, p, u = 1.0, 0.0, x
        while u >= 3.0:
            p -= 1.0
            u = x + p
            z *= u
        while u < 2.0:
            z /= u
            p += 1.0
            u = x + p
        if u == 2.0:
            return log(z)
        p -= 2.0
        x = x + p
        return log(z) + x * _polevl(x, _LGAM_B) / _p1evl(x, _LGAM_C)
    q = (x - 0.5) * log(x) - x + _LS2PI
    if x >= 1000.0:
        if x > 1.0e8:
            return q
        p = 1.0 / (x * x)
        return q + ((7.9365079365079365079365e-4 * p - 2.7777777777777777777778e-3) * p + 0.0833333333333333333333) / x
    return q + _polevl(1.0 / (x * x), _LGAM_A) / x


def _libm_log(x: np.ndarray) -> np.ndarray:
    # The C library's log, as scipy's cephes calls it: numpy's SIMD log differs in the last bit for about 1
    # value in 2,000 (see :func:`xlogy`).
    return np.fromiter(map(math.log, x.tolist()), dtype=float, count=x.size)


def _horner(x: np.ndarray, coefficients, leading_one: bool = False) -> np.ndarray:
    """cephes' ``polevl`` (``p1evl`` with ``leading_one``), elementwise."""
    value = x + coefficients[0] if leading_one else np.full(x.shape, coefficients[0])
    for c in coefficients[1:]:
        value = value * x + c
    return value


def gammaln(x) -> np.ndarray:
    """``scipy.special.gammaln`` bit for bit, without importing scipy (0.25 s, most of a small fit's process).

    cephes' ``lgam`` step for step as :func:`lgamma`, vectorised: the loops of its recurrence run on every
    element still in them. Arguments outside [0, 2.5e305] (never met here) go to scipy.
    """
    x = np.asarray(x, dtype=float)
    flat = x.ravel()
    if not np.all((flat >= 0.0) & (flat <= _MAXLGM)):
        return special.gammaln(x)
    out = np.full(flat.shape, np.inf)  # lgamma(0)
    large = flat >= 13.0
    v = flat[large]
    q = (v - 0.5) * _libm_log(v) - v + _LS2PI
    middle = v < 1000.0
    vm = v[middle]
    q[middle] += _horner(1.0 / (vm * vm), _LGAM_A) / vm
    high = ~middle & (v <= 1.0e8)
    vh = v[high]
    ph = 1.0 / (vh * vh)
    q[high] += ((7.9365079365079365079365e-4 * ph - 2.7777777777777777777778e-3) * ph + 0.0833333333333333333333) / vh
    out[large] = q
    small = ~large & (flat > 0.0)
    v = flat[small]
    # recurrence to u in [2, 3), then a rational approximation there
    z, p, u = np.ones(v.shape), np.zeros(v.shape), v.copy()
    while (step := u >= 3.0).any():
        p[step] -= 1.0
        u[step] = v[step] + p[step]
        z[step] *= u[step]
    while (step := u < 2.0).any():
        with np.errstate(over="ignore"):  # below 1e-308, as cephes (whose lgamma is then inf)
            z[step] /= u[step]
        p[step] += 1.0
        u[step] = v[step] + p[step]
    y = v + (p - 2.0)
    rational = y * _horner(y, _LGAM_B) / _horner(y, _LGAM_C, leading_one=True)
    log_z = _libm_log(z)
    out[small] = np.where(u == 2.0, log_z, log_z + rational)
    return out.reshape(x.shape)


def xlogy(x, y) -> np.ndarray:
    """``scipy.special.xlogy``: x * log(y), and 0 where x == 0 unless y is nan; the C library's log, bit for bit."""
    x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    out = np.zeros(x.shape)
    needed = (x != 0) | np.isnan(y)
    arguments = y[needed]
    logs = np.full(arguments.shape, np.nan)  # log of a negative number or of nan
    positive = arguments > 0
    logs[positive] = list(map(math.log, arguments[positive].tolist()))
    logs[arguments == 0] = -np.inf
    out[needed] = x[needed] * logs
    return out
