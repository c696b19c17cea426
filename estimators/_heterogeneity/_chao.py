"""Chao's lower bound and Zelterman's estimator: N from the numbers of people seen once (f1) and twice (f2)."""

from __future__ import annotations

import numpy as np

from .. import _warn
from .._validation import LEVEL, check_level, validate_params
from ..exceptions import NonexistentEstimateError, SmallSampleWarning
from ..histories import CaptureHistories, check_histories
from ..results import Estimate
from ..twolist import lognormal_interval

LOGNORMAL = "log-normal (Chao 1987)"

def _warn_all(notes, category=SmallSampleWarning, stacklevel=3) -> None:
    for note in notes:
        _warn.warn(note, category)


def _frequency_iv(h, level) -> tuple[int, float, float, float]:
    """Check the arguments of the estimators built on f1 and f2; return (n, f1, f2, level)."""
    check_histories(h)
    level = check_level(level)
    frequencies = h.capture_frequencies
    return h.n_observed, float(frequencies[0]), float(frequencies[1]), level


def chao_lower_bound_point(n: float, f1: float, f2: float, k: int) -> tuple[float, float, str]:
    """Chao's (1987) lower bound for k lists (occasions) and its variance; the bias-corrected form where f2 = 0.

    With A = (k - 1)/k, the finite-occasion factor of Chao (1987) for k binomial capture occasions (omitting it
    treats the number of lists as unbounded and overestimates by a factor up to k/(k-1) of the unseen):
    f2 > 0: N = n + A f1^2/(2 f2), var = f2 [A r^2/2 + A^2 r^3 + A^2 r^4/4], r = f1/f2 (Chao 1987);
    f2 = 0: N = n + A f1 (f1 - 1)/2, var = A f1(f1-1)/2 + A^2 f1(2 f1 - 1)^2/4 - A^2 f1^4/(4 N) (Chao 2005).
    Returns (N, variance, form).
    """
    factor = (k - 1) / k
    if f2 > 0:
        ratio = f1 / f2
        variance = f2 * (factor * ratio**2 / 2 + factor**2 * ratio**3 + factor**2 * ratio**4 / 4)
        return n + factor * f1**2 / (2 * f2), variance, "classic"
    estimate = n + factor * f1 * (f1 - 1) / 2
    variance = (
        factor * f1 * (f1 - 1) / 2 + factor**2 * f1 * (2 * f1 - 1) ** 2 / 4 - factor**2 * f1**4 / (4 * estimate)
    )
    return estimate, max(variance, 0.0), "bias-corrected"


@validate_params(
    {"level": LEVEL},
    exempt=("h",),
)
def chao_lower_bound(h: CaptureHistories, *, level: float = 0.95) -> Estimate:
    """Chao's (1987) moment lower bound for N under heterogeneous catchability (model Mh).

    N = n + ((k - 1)/k) f1^2 / (2 f2), with f_j the number of people on exactly j of the k lists. It is a lower
    bound for the expected N under any mixture of listing probabilities, and close to N when the people rarely listed
    dominate the unseen.
    Lists are treated as exchangeable occasions; dependence between specific lists is not modelled.

    Parameters
    ----------
    h : CaptureHistories
        Two or more lists.
    level : float
        Interval level in (0, 1).

    Returns
    -------
    Estimate
        ``estimate``, ``std_error`` (Chao 1987's variance), ``interval`` Chao's log-normal interval
        n + (N - n)/C, n + (N - n) C with C = exp(z sqrt(log(1 + var/(N - n)^2))); ``details``: f1, f2 and
        ``form`` ("classic" or, where f2 = 0, "bias-corrected": n + ((k-1)/k) f1(f1 - 1)/2, Chao 2005).

    Warns
    -----
    SmallSampleWarning
        Where f2 = 0 (bias-corrected form used) or f1 = 0 (nobody appears to be missed: N = n).

    References
    ----------
    .. [1] Chao A (1987) Estimating the population size for capture-recapture data with unequal catchability.
       Biometrics 43:783-791.
    .. [2] Chao A (2005) Species estimation and applications. In Encyclopedia of Statistical Sciences, 2nd ed.,
       vol. 12, 7907-7916. Wiley, New York.

    Examples
    --------
    >>> from estimators import CaptureHistories, chao_lower_bound
    >>> h = CaptureHistories.from_mapping({"100": 30, "010": 20, "001": 10, "110": 8, "101": 6, "011": 4,
    ...                                    "111": 2}, lists=["A", "B", "C"])
    >>> round(chao_lower_bound(h).estimate, 1)  # n = 80, f1 = 60, f2 = 18, k = 3: 80 + (2/3) 60**2 / 36
    146.7
    """
    n, f1, f2, level = _frequency_iv(h, level)
    estimate, variance, form = chao_lower_bound_point(n, f1, f2, h.k)
    notes = []
    if f1 == 0:
        notes.append("Nobody is on exactly one list (f1 = 0): the lower bound equals the number observed.")
    elif form == "bias-corrected":
        notes.append(
            "Nobody is on exactly two lists (f2 = 0): the bias-corrected form n + ((k-1)/k) f1(f1-1)/2 is used "
            "(Chao 2005); "
            "it is unstable."
        )
    _warn_all(notes)
    return Estimate(
        estimate=estimate,
        interval=lognormal_interval(estimate, variance, n, level),
        level=level,
        interval_kind=LOGNORMAL,
        method="Chao lower bound",
        n_observed=n,
        model="Mh",
        std_error=float(np.sqrt(variance)),
        warnings=tuple(notes),
        details={"f1": f1, "f2": f2, "form": form},
    )


def zelterman_point(n: float, f1: float, f2: float) -> tuple[float, float]:
    """Zelterman's (1988) estimate n / (1 - exp(-lambda)), lambda = 2 f2 / f1, and Böhning's (2008) variance.

    var = n e^-l / (1 - e^-l)^2 + n^2 e^-2l l^2 (1/f1 + 1/f2) / (1 - e^-l)^4: the binomial variance of n given N
    plus the delta-method variance through lambda (var(log lambda) = 1/f1 + 1/f2).
    """
    rate = 2 * f2 / f1
    seen = -np.expm1(-rate)
    estimate = n / seen
    variance = n * np.exp(-rate) / seen**2 + n**2 * np.exp(-2 * rate) * rate**2 * (1 / f1 + 1 / f2) / seen**4
    return float(estimate), float(variance)


@validate_params(
    {"level": LEVEL},
    exempt=("h",),
)
def zelterman(h: CaptureHistories, *, level: float = 0.95) -> Estimate:
    """Zelterman's (1988) robust estimator of N from those listed once and twice.

    Each person's count of lists is taken as locally Poisson with rate lambda, estimated from f1 and f2 only
    (lambda = 2 f2 / f1), which makes the estimate robust to how the rest of the count distribution looks;
    N = n / (1 - exp(-lambda)).
    It assumes a closed population and, like :func:`chao_lower_bound`, treats the lists as exchangeable
    occasions: dependence between specific lists is not modelled, and the Poisson form need only hold for
    the counts 0, 1 and 2.

    Parameters
    ----------
    h : CaptureHistories
        Two or more lists.
    level : float
        Interval level in (0, 1).

    Returns
    -------
    Estimate
        ``estimate``, ``std_error`` (Böhning 2008, conditioning on n), ``interval`` Chao's (1987) log-normal
        interval around n; ``details``: f1, f2, lambda.

    Raises
    ------
    NonexistentEstimateError
        When f1 = 0 or f2 = 0 (lambda is 0 or undefined).

    References
    ----------
    .. [1] Zelterman D (1988) Robust estimation in truncated discrete distributions with application to
       capture-recapture experiments. Journal of Statistical Planning and Inference 18:225-237.
    .. [2] Böhning D (2008) A simple variance formula for population size estimators by conditioning. Statistical
       Methodology 5:410-423.
    .. [3] Chao A (1987) Estimating the population size for capture-recapture data with unequal catchability.
       Biometrics 43:783-791.

    Examples
    --------
    >>> from estimators import CaptureHistories, zelterman
    >>> h = CaptureHistories.from_mapping({"100": 30, "010": 20, "001": 10, "110": 8, "101": 6, "011": 4,
    ...                                    "111": 2}, lists=["A", "B", "C"])
    >>> round(zelterman(h).estimate, 1)  # 80 / (1 - exp(-2 * 18 / 60))
    177.3
    """
    n, f1, f2, level = _frequency_iv(h, level)
    if f1 == 0 or f2 == 0:
        raise NonexistentEstimateError(
            f"Zelterman's estimator needs people on exactly one list and on exactly two (f1 = {f1:g}, f2 = {f2:g}); "
            "with either zero it does not exist. Try chao_lower_bound(h) or a log-linear model."
        )
    estimate, variance = zelterman_point(n, f1, f2)
    return Estimate(
        estimate=estimate,
        interval=lognormal_interval(estimate, variance, n, level),
        level=level,
        interval_kind=LOGNORMAL,
        method="Zelterman",
        n_observed=n,
        model="Mh (locally Poisson)",
        std_error=float(np.sqrt(variance)),
        details={"f1": f1, "f2": f2, "lambda": 2 * f2 / f1},
    )
