"""MCMC diagnostics for Bayesian estimators: one set of thresholds and one wording for every method."""

from __future__ import annotations

import warnings

import numpy as np

from .exceptions import ConvergenceWarning

R_HAT_MAX = 1.01
ESS_MIN = 400


def chain_diagnostics(draws_by_chain, divergences: int | None = None) -> dict:
    """R-hat (rank-normalised), bulk and tail ESS of a (chains, draws) array, plus divergences if given.

    Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021) *Bayesian Analysis* 16:667.
    """
    import arviz as az

    values = np.asarray(draws_by_chain, dtype=float)
    if values.ndim == 1:
        values = values[None, :]
    result = {
        "chains": int(values.shape[0]),
        "draws per chain": int(values.shape[1]),
        "r_hat": float(az.rhat(values)) if values.shape[0] > 1 else float("nan"),
        "ess_bulk": float(az.ess(values, method="bulk")),
        "ess_tail": float(az.ess(values, method="tail", prob=(0.025, 0.975))),
    }
    if divergences is not None:
        result["divergences"] = int(divergences)
    return result


def diagnostic_messages(diagnostics: dict, quantity: str = "N", ess_min: float = ESS_MIN) -> list[str]:
    """Human-readable problems (empty when R-hat, ESS and divergences pass the agreed thresholds)."""
    messages = []
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
