"""Brent's minimiser and root finder of one variable, step for step as scipy.optimize's, without importing it.

The profile-likelihood interval of every log-linear fit needs one minimisation and two roots. Importing
scipy.optimize for them took 0.35 s, more than the fit; these few dozen lines give the same iterates, so the same
numbers bit for bit (tests/loglinear/test_glm_solvers.py checks them against scipy):

* :func:`minimize_brent` is ``scipy.optimize.minimize_scalar(f, bracket=(a, b), method="brent",
  options={"xtol": xtol})``: scipy's ``bracket`` (golden-ratio expansion with parabolic steps) then its ``Brent``
  class (Brent 1973, ch. 5);
* :func:`brentq` is ``scipy.optimize.brentq(f, a, b, xtol=xtol)``: Charles Harris' C code in scipy (Brent 1973,
  ch. 4, with inverse quadratic extrapolation).

The arithmetic and the order of the function calls are scipy's: callers whose function keeps state between calls
(the profile likelihood warm-starts each fit from the previous one) see the same calls with the same arguments.
"""

from __future__ import annotations

import numpy as np

_GOLD = 1.618034  # scipy's rounding of the golden ratio, kept for the same iterates
_CGOLD = 0.3819660
_VERY_SMALL = 1e-21
_MINTOL = 1.0e-11
EPS = float(np.finfo(float).eps)


class BracketError(RuntimeError):
    """No valid bracket (scipy's ``BracketError``); ``data`` holds the last three points and values."""


def bracket(f, xa: float, xb: float, grow_limit: float = 110.0, maxiter: int = 1000):
    """Three points xa, xb, xc (in either order) with f(xb) below f at both ends, searched downhill from xa, xb.

    scipy's ``optimize.bracket``. Returns (xa, xb, xc, fa, fb, fc, function calls); raises :class:`BracketError`
    (the points in ``data``) when the search ends without a valid bracket.
    """
    xa, xb = np.asarray([xa, xb])  # numpy scalars from here on, as in scipy (division by 0 gives inf, not an error)
    fa, fb = f(xa), f(xb)
    if fa < fb:
        xa, xb, fa, fb = xb, xa, fb, fa
    xc = xb + _GOLD * (xb - xa)
    fc = f(xc)
    calls, iteration = 3, 0
    while fc < fb:
        tmp1 = (xb - xa) * (fb - fc)
        tmp2 = (xb - xc) * (fb - fa)
        val = tmp2 - tmp1
        denom = 2.0 * _VERY_SMALL if np.abs(val) < _VERY_SMALL else 2.0 * val
        w = xb - ((xb - xc) * tmp2 - (xb - xa) * tmp1) / denom
        wlim = xb + grow_limit * (xc - xb)
        if iteration > maxiter:
            raise RuntimeError("No valid bracket was found before the iteration limit was reached.")
        iteration += 1
        if (w - xc) * (xb - w) > 0.0:
            fw = f(w)
            calls += 1
            if fw < fc:
                xa, xb, fa, fb = xb, w, fb, fw
                break
            if fw > fb:
                xc, fc = w, fw
                break
            w = xc + _GOLD * (xc - xb)
            fw = f(w)
            calls += 1
        elif (w - wlim) * (wlim - xc) >= 0.0:
            w = wlim
            fw = f(w)
            calls += 1
        elif (w - wlim) * (xc - w) > 0.0:
            fw = f(w)
            calls += 1
            if fw < fc:
                xb, xc = xc, w
                w = xc + _GOLD * (xc - xb)
                fb, fc = fc, fw
                fw = f(w)
                calls += 1
        else:
            w = xc + _GOLD * (xc - xb)
            fw = f(w)
            calls += 1
        xa, xb, xc = xb, xc, w
        fa, fb, fc = fb, fc, fw
    valid_values = (fb < fc and fb <= fa) or (fb < fa and fb <= fc)
    ordered = xa < xb < xc or xc < xb < xa
    if not (valid_values and ordered and np.isfinite(xa) and np.isfinite(xb) and np.isfinite(xc)):
        error = BracketError("The algorithm terminated without finding a valid bracket.")
        error.data = (xa, xb, xc, fa, fb, fc, calls)
        raise error
    return xa, xb, xc, fa, fb, fc, calls


def minimize_brent(f, bracket_points: tuple[float, float], xtol: float = 1.48e-8, maxiter: int = 500) -> np.float64:
    """The minimiser of f found by Brent's method from ``bracket_points`` (scipy's ``minimize_scalar(...).x``).

    As scipy, if no valid bracket is found, the best of the last three points is returned.
    """
    try:
        xa, xb, xc, fa, fb, fc, _ = bracket(f, *bracket_points)
    except BracketError as error:
        xs, fs = error.data[:3], error.data[3:6]
        if np.any(np.isnan([xs, fs])):
            return np.float64(np.nan)
        return np.float64(xs[int(np.argmin(fs))])
    x = w = v = xb
    fw = fv = fx = fb
    a, b = (xa, xc) if xa < xc else (xc, xa)
    deltax = 0.0
    rat = 0.0  # bound before use: the first step is always a golden-section one (deltax = 0)
    for _ in range(maxiter):
        tol1 = xtol * np.abs(x) + _MINTOL
        tol2 = 2.0 * tol1
        xmid = 0.5 * (a + b)
        if np.abs(x - xmid) < (tol2 - 0.5 * (b - a)):
            break
        if np.abs(deltax) <= tol1:
            deltax = a - x if x >= xmid else b - x  # golden-section step
            rat = _CGOLD * deltax
        else:  # parabolic step
            tmp1 = (x - w) * (fx - fv)
            tmp2 = (x - v) * (fx - fw)
            p = (x - v) * tmp2 - (x - w) * tmp1
            tmp2 = 2.0 * (tmp2 - tmp1)
            if tmp2 > 0.0:
                p = -p
            tmp2 = np.abs(tmp2)
            dx_temp = deltax
            deltax = rat
            if (p > tmp2 * (a - x)) and (p < tmp2 * (b - x)) and (np.abs(p) < np.abs(0.5 * tmp2 * dx_temp)):
                rat = p * 1.0 / tmp2
                u = x + rat
                if (u - a) < tol2 or (b - u) < tol2:
                    rat = tol1 if xmid - x >= 0 else -tol1
            else:
                deltax = a - x if x >= xmid else b - x
                rat = _CGOLD * deltax
        if np.abs(rat) < tol1:
            u = x + tol1 if rat >= 0 else x - tol1
        else:
            u = x + rat
        fu = f(u)
        if fu > fx:
            if u < x:
                a = u
            else:
                b = u
            if (fu <= fw) or (w == x):
                v, w, fv, fw = w, u, fw, fu
            elif (fu <= fv) or (v == x) or (v == w):
                v, fv = u, fu
        else:
            if u >= x:
                a = x
            else:
                b = x
            v, w, x = w, x, u
            fv, fw, fx = fw, fx, fu
    return np.float64(x)


def brentq(f, a: float, b: float, xtol: float = 2e-12, rtol: float = 4 * EPS, maxiter: int = 100) -> float:
    """A root of f in [a, b], where f(a) and f(b) differ in sign (scipy's ``optimize.brentq``).

    Raises ValueError if they do not or f returns nan, RuntimeError if ``maxiter`` iterations do not converge.
    """

    def value(x: float) -> float:
        fx = float(f(x))
        if np.isnan(fx):
            raise ValueError(f"The function value at x={x} is NaN; solver cannot continue.")
        return fx

    # numpy scalars: a zero denominator in the extrapolation gives inf or nan, as in C, not an exception
    xpre, xcur = np.float64(a), np.float64(b)
    xblk = fblk = spre = scur = np.float64(0.0)
    fpre, fcur = np.float64(value(float(xpre))), np.float64(value(float(xcur)))
    if fpre * fcur > 0:
        raise ValueError("f(a) and f(b) must have different signs")
    if fpre == 0:
        return float(xpre)
    if fcur == 0:
        return float(xcur)
    with np.errstate(all="ignore"):
        for _ in range(maxiter):
            if fpre * fcur < 0:
                xblk, fblk = xpre, fpre
                spre = scur = xcur - xpre
            if np.abs(fblk) < np.abs(fcur):
                xpre, xcur, xblk = xcur, xblk, xcur
                fpre, fcur, fblk = fcur, fblk, fcur
            delta = (xtol + rtol * np.abs(xcur)) / 2
            sbis = (xblk - xcur) / 2
            if fcur == 0 or np.abs(sbis) < delta:
                return float(xcur)
            if np.abs(spre) > delta and np.abs(fcur) < np.abs(fpre):
                if xpre == xblk:  # interpolate
                    stry = -fcur * (xcur - xpre) / (fcur - fpre)
                else:  # extrapolate
                    dpre = (fpre - fcur) / (xpre - xcur)
                    dblk = (fblk - fcur) / (xblk - xcur)
                    stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
                if 2 * np.abs(stry) < min(np.abs(spre), 3 * np.abs(sbis) - delta):  # good short step
                    spre, scur = scur, stry
                else:  # bisect
                    spre = scur = sbis
            else:  # bisect
                spre = scur = sbis
            xpre, fpre = xcur, fcur
            if np.abs(scur) > delta:
                xcur = xcur + scur
            else:
                xcur = xcur + (delta if sbis > 0 else -delta)
            fcur = np.float64(value(float(xcur)))
    raise RuntimeError(f"Failed to converge after {maxiter} iterations, value is {float(xcur)}")
