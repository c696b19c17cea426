"""The convergence diagnostics of a :func:`daily_rates` fit and the ConvergenceWarning messages they call for."""

from __future__ import annotations

import numpy as np

from ..diagnostics import chain_diagnostics, diagnostic_messages, rank_normalized_r_hat
from ._inputs import heterogeneous


def convergence_messages(idata, total_draws: np.ndarray, *, capture_classes,
                         target_accept: float) -> tuple[dict, list[str]]:
    """(diagnostics, messages): R-hat, ESS and divergences of the mean daily rate (``chain_diagnostics``), R-hat and
    bulk ESS of the total, the largest R-hat of a daily rate; and what to tell the user about them.

    ``idata``: nutpie's posterior; ``total_draws``: (chains x draws,) draws of the total deaths, chain by chain.
    """
    chains = idata.posterior.sizes["chain"]
    rate_chains = idata.posterior["rate"].values
    mean_chains = rate_chains.mean(-1)
    divergences = int(idata.sample_stats["diverging"].values.sum())
    diag = chain_diagnostics(mean_chains, divergences)
    total_diag = chain_diagnostics(total_draws.reshape(chains, -1))
    daily_rhat = np.array([rank_normalized_r_hat(rate_chains[:, :, day]) for day in range(rate_chains.shape[-1])])
    diag.update({
        "total r_hat": total_diag["r_hat"], "total ess_bulk": total_diag["ess_bulk"],
        # all nan when R-hat is undefined (one chain or under 4 draws; diagnostic_messages says so), which
        # nanmax would announce with a RuntimeWarning of its own
        "max r_hat (daily rates)": float(np.nanmax(daily_rhat)) if np.isfinite(daily_rhat).any() else float("nan"),
    })
    convergence = diagnostic_messages(diag, "the mean daily rate")
    if np.isfinite(diag["max r_hat (daily rates)"]) and diag["max r_hat (daily rates)"] > 1.01:
        convergence.append(f"Largest R-hat of a daily rate is {diag['max r_hat (daily rates)']:.3f} (> 1.01).")
    if np.isfinite(total_diag["r_hat"]) and total_diag["r_hat"] > 1.01:
        stats = idata.sample_stats
        at_max = (stats["maxdepth_reached"].values.mean(axis=1) if "maxdepth_reached" in stats
                  else np.zeros(chains))
        # a mild excess is already said for the mean rate; chains' medians help when one sits apart or is stuck
        if total_diag["r_hat"] > 1.1 or (at_max > 0.5).any():
            convergence.append(_chain_disagreement(total_draws.reshape(chains, -1), at_max))
    if divergences and capture_classes == "normal":
        convergence.append(
            "With capture_classes='normal' divergent transitions come where the capture effect's sd is smallest "
            "(the neck where the model turns into one class): in benchmarks/results/calibration_rasch.md there "
            "were 1-7 per 4,000 draws, at sd 0.4 against a posterior median of 1.1, and the intervals still "
            "covered the truth. If they are many, raise target_accept (0.95-0.99)."
        )
    elif divergences and heterogeneous(capture_classes):
        convergence.append(
            f"With capture_classes={capture_classes!r} divergent transitions usually come at the largest difference "
            "between the classes that the records allow, the direction that few lists cannot bound (a less "
            "visible class whose size the overlaps barely constrain). In the calibration grid such fits still "
            "covered the truth. A chain can stick there and stretch the interval upward (an R-hat above 1.01): "
            f"target_accept was {target_accept:g}; with classes 0.99 (the default) kept every chain moving in 20 "
            "late-list conflicts where 0.9 let one stick in 4. Compare capture_classes=1 with "
            "estimators.sensitivity()."
        )
    return diag, convergence


def _chain_disagreement(total_by_chain: np.ndarray, at_max_depth: np.ndarray) -> str:
    """What to say when the chains disagree on the total: each chain's median and, for a chain that reached the
    sampler's maximum tree depth on most of its draws, that it is stuck (its draws are not of the posterior).

    ``total_by_chain``: (chains, draws) draws of the total; ``at_max_depth``: (chains,) share of each chain's draws
    that reached the maximum tree depth.
    """
    medians = ", ".join(f"{m:,.0f}" for m in np.median(total_by_chain, axis=1))
    stuck = [i + 1 for i, share in enumerate(at_max_depth) if share > 0.5]
    message = f"The chains disagree on the total: their medians are {medians}."
    if stuck:
        which = ", ".join(map(str, stuck))
        message += (
            f" Chain{'s' if len(stuck) > 1 else ''} {which} reached the sampler's maximum tree depth on most draws: "
            f"stuck where the sampler could not adapt, so {'their' if len(stuck) > 1 else 'its'} draws are not "
            "of the posterior and the interval is wrong. Refit with another random_seed."
        )
    else:
        message += (" Refit with another random_seed and more draws; if the chains still disagree the posterior "
                    "may have two modes: compare the alternatives with estimators.sensitivity().")
    return message
