"""MCMC diagnostics for Bayesian estimators: one set of thresholds and one wording for every method."""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import ndtri

from .exceptions import ConvergenceWarning

R_HAT_MAX = 1.01
ESS_MIN = 400


def chain_diagnostics(draws_by_chain, divergences: int | None = None) -> dict:
    """R-hat (rank-normalised), bulk and tail ESS of a (chains, draws) array, plus divergences if given.

    The definitions of Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021) *Bayesian Analysis* 16:667, as in
    Stan and ArviZ (the tests check equality with ``arviz.rhat`` and ``arviz.ess``), computed here with numpy:
    importing ArviZ costs a fresh process more than a second, longer than many fits.
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
    return ndtri((ranks - 0.375) / (values.size + 0.25)).reshape(values.shape)


def _r_hat(values: np.ndarray) -> float:
    n_draws = values.shape[1]
    between = n_draws * np.var(values.mean(axis=1), ddof=1)
    within = np.mean(np.var(values, axis=1, ddof=1))
    with np.errstate(invalid="ignore", divide="ignore"):  # constant draws: no R-hat (nan)
        return float(np.sqrt((between / within + n_draws - 1) / n_draws))


def rank_normalized_r_hat(values: np.ndarray) -> float:
    """max of the split R-hat of the rank-normalised draws and of their folded (|x - median|) version."""
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
    """Bulk ESS: the ESS of the rank-normalised split chains."""
    values = _as_chains(values)
    if values.shape[1] < 4:
        return float("nan")
    return _ess(_z_scale(_split_chains(values)))


def ess_tail(values: np.ndarray, probabilities=(0.025, 0.975)) -> float:
    """Tail ESS: the smaller ESS of the indicators of being below the 2.5% and the 97.5% quantiles."""
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

    Reference: Plummer, Best, Cowles & Vines (2006) CODA: convergence diagnosis and output analysis for MCMC.
    *R News* 6:7-11.
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
    """Autocovariances at lags 0..max_lag with divisor n (as R's ``acf``), the chain's mean removed."""
    centred = chain - chain.mean()
    n = centred.size
    return np.array([centred[: n - lag] @ centred[lag:] / n for lag in range(max_lag + 1)])


def yule_walker_by_aic(autocovariance: np.ndarray, n: int) -> tuple[np.ndarray, float]:
    """The AIC-best autoregression (coefficients, innovation variance) by the Levinson-Durbin recursion.

    AIC of order p is n log(innovation variance) + 2p; ties go to the lowest order, as in R's ``ar.yw``.
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


def diagnostic_messages(diagnostics: dict, quantity: str = "N", ess_min: float = ESS_MIN) -> list[str]:
    """Human-readable problems (empty when R-hat, ESS and divergences pass the agreed thresholds)."""
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


def warn_if_poor(diagnostics: dict, quantity: str = "N", ess_min: float = ESS_MIN) -> list[str]:
    """Emit a :class:`ConvergenceWarning` per problem and return the messages (for the result's ``warnings``)."""
    messages = diagnostic_messages(diagnostics, quantity, ess_min)
    for message in messages:
        warnings.warn(message, ConvergenceWarning, stacklevel=3)
    return messages
