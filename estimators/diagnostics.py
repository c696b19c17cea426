"""MCMC diagnostics for Bayesian estimators: one set of thresholds and one wording for every method."""

from __future__ import annotations

import numpy as np

from . import _warn
from ._lazy import special
from .exceptions import ConvergenceWarning

R_HAT_MAX = 1.01
ESS_MIN = 400


def chain_diagnostics(draws_by_chain, divergences: int | None = None) -> dict:
    """R-hat (rank-normalised), bulk and tail ESS of a (chains, draws) array, plus divergences if given.

    The definitions of Vehtari et al. (2021) [1]_, as in Stan and ArviZ (the tests check equality with
    ``arviz.rhat`` and ``arviz.ess``), computed here with numpy: importing ArviZ costs a fresh process more than a
    second, longer than many fits. They assume the chains were started apart and run independently; they can
    show that chains disagree, never prove that they have converged.

    Parameters
    ----------
    draws_by_chain : array_like, shape (chains, draws) or (draws,)
        Draws of one scalar quantity; a 1-d array is one chain.
    divergences : int, optional
        Divergent transitions of a Hamiltonian sampler, recorded as given.

    Returns
    -------
    dict
        ``chains``, ``draws per chain``, ``r_hat`` (:func:`rank_normalized_r_hat`), ``ess_bulk``
        (:func:`ess_bulk`), ``ess_tail`` (:func:`ess_tail`) and, when given, ``divergences``. R-hat is nan for
        fewer than 2 chains or 4 draws, the ESS for fewer than 4 draws.

    References
    ----------
    .. [1] Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. and Bürkner, P.-C. (2021). Rank-normalization,
       folding, and localization: an improved R-hat for assessing convergence of MCMC. *Bayesian Analysis* 16(2),
       667-718.

    Examples
    --------
    >>> import numpy as np
    >>> from estimators.diagnostics import chain_diagnostics
    >>> result = chain_diagnostics(np.random.default_rng(0).normal(size=(4, 500)))
    >>> result["chains"], result["draws per chain"], round(result["r_hat"], 3), round(result["ess_bulk"])
    (4, 500, 1.001, 2003)
    """
    values = _as_chains(draws_by_chain)
    result = {
        "chains": int(values.shape[0]),
        "draws per chain": int(values.shape[1]),
        "r_hat": rank_normalized_r_hat(values),
        "ess_bulk": ess_bulk(values),
        "ess_tail": ess_tail(values),
    }
    if divergences is not None:
        result["divergences"] = int(divergences)
    return result


def _as_chains(draws_by_chain) -> np.ndarray:
    """A (chains, draws) float array; one chain may be given as a 1-d array."""
    values = np.asarray(draws_by_chain, dtype=float)
    if values.ndim == 1:
        values = values[None, :]
    if values.ndim != 2:
        raise ValueError(f"Draws must be a (chains, draws) array or one chain's 1-d array; got shape {values.shape}.")
    bad = np.argwhere(~np.isfinite(values))
    if bad.size:
        chain, draw = bad[0]
        raise ValueError(
            f"Draws must be finite: {bad.shape[0]} are not, the first {values[chain, draw]} at chain {chain}, draw "
            f"{draw}. Rank-based diagnostics would silently treat it as an extreme draw; drop or fix it first."
        )
    return values


def _split_chains(values: np.ndarray) -> np.ndarray:
    """Each chain's first and last halves as separate chains (the middle draw of an odd length is dropped)."""
    half = values.shape[1] // 2
    return np.vstack((values[:, :half], values[:, values.shape[1] - half :]))


def _average_ranks(flat: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties sharing the mean of their ranks (as ``scipy.stats.rankdata(method="average")``)."""
    order = np.argsort(flat, kind="mergesort")
    sorted_values = flat[order]
    new_value = np.concatenate(([True], sorted_values[1:] != sorted_values[:-1], [True]))
    edges = np.flatnonzero(new_value)  # starts of runs of ties, then n
    mean_rank = (edges[:-1] + edges[1:] + 1) / 2.0  # mean of ranks edges[i] + 1 .. edges[i + 1]
    ranks = np.empty(flat.size)
    ranks[order] = np.repeat(mean_rank, np.diff(edges))
    return ranks


def _z_scale(values: np.ndarray) -> np.ndarray:
    """Rank-normalise: normal quantiles of the pooled fractional ranks (Blom's offset 3/8)."""
    ranks = _average_ranks(values.reshape(-1))
    return special.ndtri((ranks - 0.375) / (values.size + 0.25)).reshape(values.shape)


def _r_hat(values: np.ndarray) -> float:
    n_draws = values.shape[1]
    between = n_draws * np.var(values.mean(axis=1), ddof=1)
    within = np.mean(np.var(values, axis=1, ddof=1))
    with np.errstate(invalid="ignore", divide="ignore"):  # constant draws: no R-hat (nan)
        return float(np.sqrt((between / within + n_draws - 1) / n_draws))


def rank_normalized_r_hat(values: np.ndarray) -> float:
    """Rank-normalised split R-hat: the larger of the split R-hat of the rank-normalised draws and of their
    folded (|x - median|) version [1]_.

    Each chain is split in halves (so a trend within a chain shows as disagreement); the pooled draws are replaced
    by the normal quantiles of their ranks, so heavy tails and infinite variances do not hide disagreement; the
    folded version detects chains that differ in scale rather than location.

    Parameters
    ----------
    values : array_like, shape (chains, draws) or (draws,)

    Returns
    -------
    float
        R-hat; 1 when the chains agree, above 1.01 is taken as disagreement. nan with fewer than 2 chains or
        4 draws, or constant draws.

    References
    ----------
    .. [1] Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. and Bürkner, P.-C. (2021). Rank-normalization,
       folding, and localization: an improved R-hat for assessing convergence of MCMC. *Bayesian Analysis* 16(2),
       667-718.

    Examples
    --------
    >>> import numpy as np
    >>> from estimators.diagnostics import rank_normalized_r_hat
    >>> draws = np.random.default_rng(0).normal(size=(4, 500))
    >>> round(rank_normalized_r_hat(draws), 3), round(rank_normalized_r_hat(draws + [[0], [0], [0], [3]]), 2)
    (1.001, 1.47)
    """
    values = _as_chains(values)
    if values.shape[0] < 2 or values.shape[1] < 4:
        return float("nan")
    split = _split_chains(values)
    folded = np.abs(split - np.median(split))
    return max(_r_hat(_z_scale(split)), _r_hat(_z_scale(folded)))


def _ess(values: np.ndarray) -> float:
    """Effective sample size of (chains, draws): multi-chain autocorrelations, Geyer's initial monotone sequence."""
    n_chains, n_draws = values.shape
    if np.ptp(values) < np.finfo(float).resolution:
        return float(values.size)
    centred = values - values.mean(axis=1, keepdims=True)
    size = 1 << (2 * n_draws - 1).bit_length()  # zero padding to >= 2n: no wrap-around
    spectrum = np.fft.rfft(centred, n=size, axis=1)
    autocovariance = np.fft.irfft(spectrum * np.conjugate(spectrum), n=size, axis=1)[:, :n_draws] / n_draws
    mean_autocovariance = autocovariance.mean(axis=0)
    within = mean_autocovariance[0] * n_draws / (n_draws - 1.0)
    variance = within * (n_draws - 1.0) / n_draws
    if n_chains > 1:
        variance += np.var(values.mean(axis=1), ddof=1)
    rho = 1.0 - (within - mean_autocovariance) / variance
    rho[0] = 1.0

    # Geyer's initial positive sequence: sums of pairs (rho[2m], rho[2m + 1]) while they stay positive.
    kept = np.zeros(n_draws)
    kept[:2] = rho[:2]
    even, odd = 1.0, rho[1]
    t = 1
    while t < n_draws - 3 and even + odd > 0.0:
        even, odd = rho[t + 1], rho[t + 2]
        if even + odd >= 0:
            kept[t + 1], kept[t + 2] = even, odd
        t += 2
    last = t - 2
    if even > 0:
        kept[last + 1] = even
    # ... made monotone: no pair sum may exceed the one before it.
    t = 1
    while t <= last - 2:
        if kept[t + 1] + kept[t + 2] > kept[t - 1] + kept[t]:
            kept[t + 1] = kept[t + 2] = (kept[t - 1] + kept[t]) / 2.0
        t += 2
    total = n_chains * n_draws
    tau = -1.0 + 2.0 * np.sum(kept[: last + 1]) + np.sum(kept[last + 1 : last + 2])
    tau = max(tau, 1.0 / np.log10(total))
    return float("nan") if np.isnan(kept).any() else float(total / tau)


def ess_bulk(values: np.ndarray) -> float:
    """Bulk ESS: the effective sample size of the rank-normalised split chains [1]_.

    Autocorrelations are combined over chains (so disagreeing chains lower it) and truncated by Geyer's initial
    monotone sequence [2]_. It measures how well the centre of the posterior (median, mean) is estimated.

    Parameters
    ----------
    values : array_like, shape (chains, draws) or (draws,)

    Returns
    -------
    float
        Effective number of independent draws; nan with fewer than 4 draws per chain.

    References
    ----------
    .. [1] Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. and Bürkner, P.-C. (2021). Rank-normalization,
       folding, and localization: an improved R-hat for assessing convergence of MCMC. *Bayesian Analysis* 16(2),
       667-718.
    .. [2] Geyer, C. J. (1992). Practical Markov chain Monte Carlo. *Statistical Science* 7(4), 473-483.

    Examples
    --------
    >>> import numpy as np
    >>> from estimators.diagnostics import ess_bulk
    >>> round(ess_bulk(np.random.default_rng(0).normal(size=(4, 500))))  # independent draws: about 4 x 500
    2003
    """
    values = _as_chains(values)
    if values.shape[1] < 4:
        return float("nan")
    return _ess(_z_scale(_split_chains(values)))


def ess_tail(values: np.ndarray, *, probabilities=(0.025, 0.975)) -> float:
    """Tail ESS: the smaller ESS of the indicators of being below each quantile in ``probabilities`` [1]_.

    It measures how well the interval bounds are estimated (the 2.5% and 97.5% quantiles by default).

    Parameters
    ----------
    values : array_like, shape (chains, draws) or (draws,)
    probabilities : sequence of float
        Quantiles whose indicators are assessed.

    Returns
    -------
    float
        nan with fewer than 4 draws per chain.

    References
    ----------
    .. [1] Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. and Bürkner, P.-C. (2021). Rank-normalization,
       folding, and localization: an improved R-hat for assessing convergence of MCMC. *Bayesian Analysis* 16(2),
       667-718.

    Examples
    --------
    >>> import numpy as np
    >>> from estimators.diagnostics import ess_tail
    >>> round(ess_tail(np.random.default_rng(0).normal(size=(4, 500))))
    2035
    """
    values = _as_chains(values)
    if values.shape[1] < 4:
        return float("nan")
    return min(
        _ess(_split_chains((values <= np.quantile(values, p)).astype(float))) for p in probabilities
    )


def ess_ar_spectrum(values) -> float:
    """Effective sample size as R's ``coda::effectiveSize`` computes it, summed over chains.

    Each chain's variance over its spectral density at frequency zero, the density taken from an autoregressive
    model fitted by Yule-Walker with the order chosen by AIC (up to 10 log10(n), as R's ``ar``); chains whose
    draws lie on a straight line get 0, as in coda. R packages (LCMCR, dga's users, JAGS and NIMBLE workflows)
    report this ESS. It looks at each chain alone, so it does not see chains that disagree (the rank-normalised
    :func:`ess_bulk` does): on LCMCR's Kosovo protocol (4 chains x 60,000 sweeps, R-hat about 1.02) it is 2-5x
    the bulk ESS of the same draws. Use it to put our samplers and R's on the same scale, not to judge
    convergence.

    Parameters
    ----------
    values : array_like, shape (chains, draws) or (draws,)

    Returns
    -------
    float
        Sum over chains of each chain's effective sample size.

    References
    ----------
    .. [1] Plummer, M., Best, N., Cowles, K. and Vines, K. (2006). CODA: convergence diagnosis and output
       analysis for MCMC. *R News* 6(1), 7-11.

    Examples
    --------
    >>> import numpy as np
    >>> from estimators.diagnostics import ess_ar_spectrum
    >>> round(ess_ar_spectrum(np.random.default_rng(0).normal(size=(4, 500))))  # independent draws
    2000
    """
    return float(sum(_ess_ar_spectrum_chain(chain) for chain in _as_chains(values)))


def _ess_ar_spectrum_chain(chain: np.ndarray) -> float:
    n = chain.size
    steps = np.arange(n, dtype=float)
    trend = np.polyfit(steps, chain, 1)
    residual_sd = np.std(chain - np.polyval(trend, steps), ddof=1) if n > 1 else 0.0
    if n < 3 or residual_sd <= 1.5e-8 * max(np.abs(chain).max(), 1.0):
        return 0.0
    order_max = min(n - 1, int(np.floor(10 * np.log10(n))))
    autocovariance = yule_walker_autocovariance(chain, order_max)
    coefficients, innovation_variance = yule_walker_by_aic(autocovariance, n)
    order = coefficients.size
    innovation_variance *= n / (n - (order + 1.0))  # R's "Splus compatibility" factor
    spectrum_at_zero = innovation_variance / (1.0 - coefficients.sum()) ** 2
    return float(n * np.var(chain, ddof=1) / spectrum_at_zero)


def yule_walker_autocovariance(chain: np.ndarray, max_lag: int) -> np.ndarray:
    """Autocovariances at lags 0..max_lag with divisor n (as R's ``acf``), the chain's mean removed.

    The divisor n (not n - lag) keeps the autocovariance sequence positive definite, which the Yule-Walker
    equations need [1]_.

    Parameters
    ----------
    chain : ndarray, shape (n,)
    max_lag : int

    Returns
    -------
    ndarray, shape (max_lag + 1,)

    References
    ----------
    .. [1] Brockwell, P. J. and Davis, R. A. (1991). *Time Series: Theory and Methods*, 2nd ed. Springer,
       sections 7.2 and 8.1.

    Examples
    --------
    >>> import numpy as np
    >>> from estimators.diagnostics import yule_walker_autocovariance
    >>> yule_walker_autocovariance(np.array([1.0, 2.0, 3.0, 4.0]), 2).tolist()
    [1.25, 0.3125, -0.375]
    """
    centred = chain - chain.mean()
    n = centred.size
    return np.array([centred[: n - lag] @ centred[lag:] / n for lag in range(max_lag + 1)])


def yule_walker_by_aic(autocovariance: np.ndarray, n: int) -> tuple[np.ndarray, float]:
    """The AIC-best autoregression (coefficients, innovation variance) by the Levinson-Durbin recursion.

    AIC of order p is n log(innovation variance) + 2p; ties go to the lowest order, as in R's ``ar.yw``. The
    model is a stationary autoregression of order up to ``autocovariance.size - 1`` [1]_.

    Parameters
    ----------
    autocovariance : ndarray, shape (max_order + 1,)
        Autocovariances at lags 0..max_order (:func:`yule_walker_autocovariance`).
    n : int
        Length of the chain, for the AIC.

    Returns
    -------
    coefficients : ndarray, shape (order,)
        The chosen model's autoregressive coefficients (empty for order 0).
    innovation_variance : float

    References
    ----------
    .. [1] Brockwell, P. J. and Davis, R. A. (1991). *Time Series: Theory and Methods*, 2nd ed. Springer,
       sections 8.1-8.2 (Yule-Walker and the Durbin-Levinson algorithm).

    Examples
    --------
    An autoregression of order one with coefficient 0.5 is recovered from its autocovariances:

    >>> import numpy as np
    >>> from estimators.diagnostics import yule_walker_by_aic
    >>> coefficients, variance = yule_walker_by_aic(np.array([4 / 3, 2 / 3, 1 / 3, 1 / 6]), 2000)
    >>> np.round(coefficients, 3).tolist(), round(variance, 3)
    ([0.5], 1.0)
    """
    coefficients = np.zeros(0)
    variance = autocovariance[0]
    best = (n * np.log(variance), coefficients, variance)
    for order in range(1, autocovariance.size):
        reflection = (autocovariance[order] - coefficients @ autocovariance[order - 1 : 0 : -1]) / variance
        coefficients = np.append(coefficients - reflection * coefficients[::-1], reflection)
        variance *= 1.0 - reflection * reflection
        aic = n * np.log(variance) + 2 * order
        if aic < best[0]:
            best = (aic, coefficients, variance)
    return best[1], float(best[2])


def diagnostic_messages(diagnostics: dict, quantity: str = "N", *, ess_min: float = ESS_MIN) -> list[str]:
    """Human-readable problems (empty when R-hat, ESS and divergences pass the agreed thresholds).

    The thresholds are those of Vehtari et al. (2021) [1]_: R-hat above 1.01, bulk or tail ESS below
    ``ess_min`` (400), any divergent transition. A run of fewer than 2 chains or 4 draws is reported as
    unchecked, since R-hat is undefined there.

    Parameters
    ----------
    diagnostics : dict
        As returned by :func:`chain_diagnostics`.
    quantity : str
        Name of the quantity in the messages (``"N"``, ``"the mean daily rate"``).
    ess_min : float
        Smallest acceptable bulk and tail ESS.

    Returns
    -------
    list of str
        One message per problem, each with its remedy.

    References
    ----------
    .. [1] Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. and Bürkner, P.-C. (2021). Rank-normalization,
       folding, and localization: an improved R-hat for assessing convergence of MCMC. *Bayesian Analysis* 16(2),
       667-718.

    Examples
    --------
    >>> from estimators.diagnostics import diagnostic_messages
    >>> diagnostic_messages({"chains": 4, "draws per chain": 500, "r_hat": 1.2, "ess_bulk": 900.0,
    ...                      "ess_tail": 800.0})
    ['R-hat of N is 1.200 (> 1.01): chains disagree; run more draws or more chains.']
    """
    messages = []
    chains, draws = diagnostics.get("chains"), diagnostics.get("draws per chain")
    if chains is not None and (chains < 2 or draws < 4):
        # R-hat (and, under 4 draws, ESS) is nan here, which every threshold below would let pass in silence
        messages.append(
            f"Convergence is unchecked: R-hat of {quantity} needs 2 or more chains of 4 or more draws, and this run "
            f"has {chains} chain(s) of {draws} draw(s). Run more chains and draws before trusting the interval."
        )
    r_hat = diagnostics.get("r_hat", float("nan"))
    if np.isfinite(r_hat) and r_hat > R_HAT_MAX:
        messages.append(
            f"R-hat of {quantity} is {r_hat:.3f} (> {R_HAT_MAX}): chains disagree; run more draws or more chains."
        )
    for key in ("ess_bulk", "ess_tail"):
        ess = diagnostics.get(key)
        if ess is not None and ess < ess_min:
            messages.append(
                f"{key.replace('_', ' ')} of {quantity} is {ess:.0f} (< {ess_min}): interval bounds are noisy; "
                "increase `draws`."
            )
    if diagnostics.get("divergences", 0):
        messages.append(
            f"{diagnostics['divergences']} divergent transitions: the posterior may be biased; "
            "raise target_accept or reparameterise."
        )
    return messages


def warn_if_poor(diagnostics: dict, quantity: str = "N", *, ess_min: float = ESS_MIN) -> list[str]:
    """Emit a :class:`ConvergenceWarning` per problem and return the messages (for the result's ``warnings``).

    The problems and thresholds are those of :func:`diagnostic_messages` (Vehtari et al. 2021 [1]_).

    Parameters
    ----------
    diagnostics, quantity, ess_min
        As for :func:`diagnostic_messages`.

    Returns
    -------
    list of str

    Warns
    -----
    ConvergenceWarning
        One per message.

    References
    ----------
    .. [1] Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. and Bürkner, P.-C. (2021). Rank-normalization,
       folding, and localization: an improved R-hat for assessing convergence of MCMC. *Bayesian Analysis* 16(2),
       667-718.

    Examples
    --------
    >>> import warnings
    >>> from estimators.diagnostics import warn_if_poor
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     messages = warn_if_poor({"chains": 1, "draws per chain": 100, "r_hat": float("nan")}, "N")
    >>> len(messages), caught[0].category.__name__
    (1, 'ConvergenceWarning')
    """
    messages = diagnostic_messages(diagnostics, quantity, ess_min=ess_min)
    for message in messages:
        _warn.warn(message, ConvergenceWarning)
    return messages
