"""Checks of the capture assumptions the lists cannot test on their own, and the choice they make for
``capture_classes="auto"`` (:func:`auto_classes`).

Two statements, both made only for ``capture_classes=1``:

* with two or three matched lists on some day, the number of deaths no list recorded rests on an assumption those
  lists cannot check (independence with two lists; no three-way interaction, i.e. no heterogeneity shared by all
  lists, with three): :func:`few_lists_message` names it;
* on the days every list covers, the daily model's share of unlisted deaths is compared with that of a
  latent-class model of the same records (Manrique-Vallier 2016), which allows capture to differ between deaths.
  When the two intervals do not overlap, the total depends on the homogeneity assumption and
  :func:`heterogeneity_check` says so, with both figures.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass

import numpy as np

from ._draws import _interval
from ._inputs import DailyData, bin_presence, fewest_lists, total_carriers

# fewer exactly dated records than this on the fully covered days: the latent-class fit says little, skip it
MIN_RECORDS = 100
# the two rows of ``identifiability`` the check writes: this model's ratio, the latent-class model's
CHECK_ROWS = ("unlisted per listed death (this model)", "unlisted per listed death (latent classes)")
# the row of ``identifiability`` that keeps the one-class total when "auto" fits something else
ONE_CLASS_TOTAL_ROW = "total deaths, one class"
# a latent-class fit whose chains disagree more than this is no yardstick
MAX_R_HAT = 1.1
# a yardstick, not the answer: a shorter budget than latent_class's own (Kosovo meets its targets at 320k sweeps)
CHECK_SWEEPS = 320_000


def full_bins(data: DailyData) -> np.ndarray:
    """(bins,) bool: bins all of whose days have every matched list present (``list_windows``)."""
    return bin_presence(data).all(axis=1)


def collapsed_cells(data: DailyData, bins: np.ndarray) -> np.ndarray:
    """(2**k - 1,) pattern counts of the exactly dated records in ``bins``, summed over those bins."""
    return data.list_cells[bins].sum(axis=0)


def unlisted_ratio(cell_bin: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """(S,) draws of expected unlisted deaths per listed death over ``bins`` (``cell_bin``: (S, bins, 2**k))."""
    # a weighted sum, not cell_bin[:, bins]: that copies every draw of every selected bin (0.27 s at 181 days)
    cells = np.einsum("sbh,b->sh", cell_bin, bins.astype(cell_bin.dtype))
    return cells[:, 0] / cells[:, 1:].sum(axis=1)


def disjoint(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether two closed intervals (low, high) share no point."""
    return a[1] < b[0] or b[1] < a[0]


@dataclass(frozen=True)
class HeterogeneityCheck:
    """The daily model's and a latent-class model's unlisted deaths per listed death on the fully covered days."""

    records: int
    model: tuple[float, float, float]  # lower, median, upper
    latent_class: tuple[float, float, float]

    @property
    def disagrees(self) -> bool:
        return disjoint((self.model[0], self.model[2]), (self.latent_class[0], self.latent_class[2]))

    def message(self, k: int) -> str:
        lo, med, hi = self.model
        lc_lo, lc_med, lc_hi = self.latent_class
        return (
            "The total rests on homogeneous capture (capture_classes=1: on a given day every death is equally "
            f"likely to be recorded by a list). On the {self.records:,} exactly dated records of the days all {k} "
            "lists cover, a latent-class model of the same lists (estimators.latent_class, Manrique-Vallier "
            f"2016), which lets capture differ between deaths, puts {lc_med:.2f} [{lc_lo:.2f}, {lc_hi:.2f}] "
            f"unlisted deaths per listed death against this model's {med:.2f} [{lo:.2f}, {hi:.2f}]. The intervals "
            "do not overlap, so the answer depends on that assumption: refit with capture_classes=2 and compare "
            "(estimators.sensitivity(result, {'two classes': {'capture_classes': 2}}))."
        )


def latent_class_reference(data: DailyData, *, level: float, random_seed: int) -> tuple[int, np.ndarray] | None:
    """(records, draws of unlisted deaths per listed death) from a latent-class fit on the fully covered days.

    None when it cannot be made: fewer than three lists, no fully covered bin, fewer than ``MIN_RECORDS``
    exactly dated records there, or a latent-class fit whose chains have not converged (R-hat > ``MAX_R_HAT``).
    """
    if data.k < 3:
        return None
    bins = full_bins(data)
    cells = collapsed_cells(data, bins)
    n = int(round(cells.sum()))
    if not bins.any() or n < MIN_RECORDS:
        return None
    from .._latent_class import latent_class
    from ..histories import CaptureHistories

    # list_cells and from_array share the bit order: pattern i, first list the most significant bit
    histories = CaptureHistories.from_array(np.rint(np.concatenate([[0.0], cells])), lists=list(data.list_names))
    with warnings.catch_warnings():
        # its convergence is judged here; its own warnings would read as the daily model's
        warnings.simplefilter("ignore")
        fit = latent_class(histories, level=level, random_seed=random_seed, max_sweeps=CHECK_SWEEPS)
    if not fit.diagnostics.get("r_hat", 1.0) <= MAX_R_HAT:
        return None
    return n, (np.asarray(fit.draws, float) - n) / n


def heterogeneity_check(data: DailyData, cell_bin: np.ndarray, *, level: float,
                        random_seed: int) -> HeterogeneityCheck | None:
    """Compare the model's unlisted share with a latent-class fit on the days every list covers
    (None when :func:`latent_class_reference` cannot be made)."""
    reference = latent_class_reference(data, level=level, random_seed=random_seed)
    if reference is None:
        return None
    n, ratio = reference
    lo, med, hi = _interval(unlisted_ratio(cell_bin, full_bins(data)), level)
    r_lo, r_med, r_hi = _interval(ratio, level)
    return HeterogeneityCheck(records=n, model=(float(lo), float(med), float(hi)),
                              latent_class=(float(r_lo), float(r_med), float(r_hi)))


def auto_classes(data: DailyData) -> tuple[int | None, str | None]:
    """The number of capture classes ``capture_classes="auto"`` fits before any check, and why.

    With three matched lists on some day (and at least three lists) the lists cannot show whether capture differs
    between deaths: a group of deaths more visible to every list looks like a smaller total. When a survey or an
    affected-households summary can carry the total, two classes let the interval allow for such a group and the
    survey decide: ``(2, note)``. Otherwise ``(None, None)``: one class, and the latent-class check where it can
    run (four or more lists).
    """
    carriers = total_carriers(data)
    if data.k < 3 or fewest_lists(data) >= 4 or not carriers:
        return None, None
    return 2, (
        f"capture_classes='auto' fitted two capture classes: with {fewest_lists(data)} matched lists on some days "
        "the lists cannot tell a group of deaths more (or less) visible to every list from a different total, "
        "and one class would assume there is none (in benchmarks/results/calibration_grid.md a hidden visible "
        f"quarter of the deaths left the one-class interval covering the truth in none of 20 conflicts); the "
        f"{' and the '.join(carriers)} can decide. Pass capture_classes=1 to assume every death equally likely "
        "to be recorded."
    )


def mixed_choices_message(choices: dict[str, list]) -> str | None:
    """The warning when the fits of a multiple imputation chose different models under "auto".

    ``choices``: setting name -> the value each imputation's fit used. None when every fit used the same.
    """
    counts = {name: Counter(map(repr, values)) for name, values in choices.items()}
    differing = {name: count for name, count in counts.items() if len(count) > 1}
    if not differing:
        return None
    parts = [f"{name} " + ", ".join(f"{value} in {n}" for value, n in count.items())
             for name, count in differing.items()]
    imputations = sum(next(iter(differing.values())).values())
    return (
        f"The {imputations} imputations did not all lead 'auto' to the same model (" + "; ".join(parts)
        + "): the pooled draws mix them, so the result averages over the imputations and the models they chose. "
        "Pass the setting explicitly to pool a single model."
    )


def few_lists_message(data: DailyData, list_dependence: bool) -> str | None:
    """The assumption that carries the unlisted deaths when some day has only two or three lists."""
    fewest = fewest_lists(data)
    if not 2 <= fewest <= 3:
        return None
    if not list_dependence:
        assumption = "the lists capture independently of each other"
    elif fewest == 2:
        assumption = "the two lists' dependence is the one estimated on the days with more lists"
    else:
        assumption = ("no three-way interaction, that is no heterogeneity in capture shared by all three lists "
                      "(a group of deaths more, or less, visible to every list than the rest)")
    if not list_dependence or fewest == 2:
        assumption += ", and every death is equally likely to be recorded by each list"
    return (
        f"With {fewest} matched lists on some days, the number of deaths no list recorded rests on an "
        f"assumption those lists cannot check: {assumption}. Where it fails the total is biased and its interval "
        "too narrow. Add a list, or see how far the answer moves with capture_classes=2 "
        "(estimators.sensitivity(result, {'two classes': {'capture_classes': 2}}))."
    )


@dataclass(frozen=True)
class SharedDependence:
    """The common part of the lists' pairwise dependence: per draw, the median over pairs of the two-way
    interactions (``lower``, ``median``, ``upper``), and the pairs' own medians' range (``smallest``, ``largest``)."""

    lower: float
    median: float
    upper: float
    smallest: float
    largest: float

    def describe(self, k: int) -> str:
        return (f"the median of the {k * (k - 1) // 2} pairs' two-way interactions is {self.median:.2f} "
                f"[{self.lower:.2f}, {self.upper:.2f}] (pairs {self.smallest:.2f} to {self.largest:.2f})")


def shared_dependence(interaction: np.ndarray, k: int, level: float) -> SharedDependence | None:
    """The lists' common positive dependence, or None when there is none to speak of.

    Heterogeneity shared by all lists (some deaths more visible to every list) raises every pair's interaction
    by a common amount; referral, a shared informant or lists that split the ground move single pairs either way.
    The median over pairs, per draw, follows the common part and not a few pairs apart. Returned when its
    interval at ``level`` is above 0, with ``k >= 4`` lists (with three the lists cannot show it).
    ``interaction``: (draws, pairs) two-way interaction draws.
    """
    if k < 4 or interaction.ndim != 2 or interaction.shape[1] != k * (k - 1) // 2:
        return None
    lower, median, upper = _interval(np.median(interaction, axis=1), level)
    if not lower > 0:
        return None
    pairs = np.median(interaction, axis=0)
    return SharedDependence(float(lower), float(median), float(upper), float(pairs.min()), float(pairs.max()))


def shared_dependence_message(interaction: np.ndarray, k: int, level: float) -> str | None:
    """The warning for a one-class fit of four or more lists whose pairs share a positive dependence
    (:func:`shared_dependence`): the interactions absorb only part of it, and the rest leaves the total low."""
    shared = shared_dependence(interaction, k, level)
    if shared is None:
        return None
    return (
        f"The pairs of the {k} lists are positively dependent in common: {shared.describe(k)}. That is the "
        "pattern of heterogeneity shared by all lists (some deaths more visible to every list than others), not "
        "of one list referring deaths to another. The interactions absorb part of it; the rest leaves the total "
        "low by an amount the lists cannot measure, and the latent-class check need not see it. On 20 simulated "
        "conflicts with 4 lists whose capture log-odds vary between deaths with sd 1 "
        "(benchmarks/results/calibration_rasch.md) one class left the total a median 6.7% low and its interval "
        "covered 10 (two classes: 9, 10.5% low); with sd 0.5, 19. Treat the total as a lower bound, or fit "
        "capture_classes='normal' (a capture effect shared by the lists, which capture_classes='auto' chooses "
        "here). A survey does not settle it under the default bias prior (bias_scale 0.3): one of 270-390 deaths "
        "added to 10 of those conflicts left the total as low (6 covered; two classes 5); only a survey whose bias "
        "is known closely (a smaller bias_scale) weighs against the lists."
    )


def normal_choice_note(k: int, shared: SharedDependence, estimate: float, interval: tuple[float, float]) -> str:
    """Why ``capture_classes="auto"`` fitted the normal capture effect, and the one-class total it set aside."""
    lower, upper = interval
    return (
        "capture_classes='auto' fitted a normal capture effect shared by the lists (capture_classes='normal', a "
        f"Rasch-type model, Fienberg, Johnson & Junker 1999): with one class the pairs of the {k} lists were "
        f"positively dependent in common ({shared.describe(k)}), the pattern of deaths more visible to every list "
        "than others, and the latent-class check found no separate classes. One class gave "
        f"{estimate:,.0f} [{lower:,.0f}, {upper:,.0f}] (identifiability row {ONE_CLASS_TOTAL_ROW!r}), low by what "
        "its interactions do not absorb. How visibility varies between deaths the lists cannot show (Link 2003), "
        "and the total follows the form assumed: in benchmarks/results/calibration_rasch.md 'auto' so covered the "
        "truth in 17 of 20 conflicts whose visibility varied normally (one class: 10) and in 18 of 20 whose lists "
        "saw it unequally (one class: 10), "
        "but a tail of deaths rarely recorded by any list left it, as one class, about 11% low, and hidden "
        "classes of more visible deaths push it high: where they escaped the latent-class check (3 of 200 "
        "replicates of the calibration grid's three-class cell) it ran 24-49% high (one class 10-25%). Pass "
        "capture_classes=1 for one class, or compare capture_classes=2 with estimators.sensitivity()."
    )


def two_classes_shared_note(k: int, shared: SharedDependence) -> str:
    """The sentence "auto"'s two-class note gains when the one-class pairs were also dependent in common."""
    return (
        f"The one-class pairs were also positively dependent in common ({shared.describe(k)}), as under hidden "
        "classes, but also under visibility that varies continuously between deaths, where two classes run low "
        "(five lists whose capture log-odds vary with sd 1: 7-11% low, benchmarks/NOTES.md) and "
        "capture_classes='normal' holds the total; which form holds, four lists cannot show (Link 2003; with five or "
        "more, 'auto' weighs the two by their fit to the capture patterns). "
    )


def averaged_note(k: int, shared: SharedDependence, one: tuple[float, float, float], fired: bool, totals: dict,
                  weights: dict, patterns: int) -> str:
    """Why ``capture_classes="auto"`` mixed the two-class and normal-effect fits, with each total and weight.

    ``one``: the one-class (estimate, lower, upper); ``fired``: whether the latent-class check disagreed with it;
    ``totals``: {label: (estimate, lower, upper)}; ``weights``: {label: weight}.
    """
    each = "; ".join(f"{label} {t[0]:,.0f} [{t[1]:,.0f}, {t[2]:,.0f}], weight {weights[label]:.2f}"
                     for label, t in totals.items())
    label = max(weights, key=weights.get)
    heavier = {"two classes": "two-class", "normal effect": "normal-effect"}.get(label, label)
    check = ("found capture differing between deaths" if fired else "found no separate classes")
    return (
        f"capture_classes='auto' averaged two readings of heterogeneous capture: with one class the pairs of the "
        f"{k} lists were positively dependent in common ({shared.describe(k)}), the trace of deaths more visible "
        f"to every list than others, and the latent-class check {check}. One class gave {one[0]:,.0f} "
        f"[{one[1]:,.0f}, {one[2]:,.0f}] (identifiability row {ONE_CLASS_TOTAL_ROW!r}). Hidden classes and "
        "visibility that varies continuously between deaths both leave that trace, and the lists cannot check the "
        f"totals they imply (Link 2003); their fits to the records' {patterns} capture-pattern totals weigh them "
        f"(WAIC, pseudo-BMA+ weights, Yao et al. 2018): {each}. The total, the mean rate and the daily table mix "
        "the two posteriors in those proportions (weights in `settings['model_weights']`); the other tables and "
        f"`idata` are the {heavier} fit's. On five-list conflicts (benchmarks/results/calibration_rasch.md) the "
        "patterns favoured the form that held, but a tail of very visible deaths left both low. Pass "
        "capture_classes=1, 2 or 'normal' to keep one reading."
    )


def survey_conflicts(names, bias_draws: np.ndarray, bias_median: float, level: float) -> list[str]:
    """Messages for the surveys whose bias factor's interval excludes its prior median, with matched lists present.

    A bias factor pulled away from its prior is the model reconciling two sources that disagree: the survey's
    deaths and the lists' total. Which one is wrong, the data cannot say.
    """
    out = []
    for i, name in enumerate(names):
        lo, med, hi = _interval(bias_draws[:, i], level)
        if lo <= bias_median <= hi:
            continue
        side = "under" if hi < bias_median else "over"
        other = "too high" if side == "under" else "too low"
        out.append(
            f"The matched lists and {name!r} disagree: reconciling them puts its bias factor at {med:.2f} "
            f"[{lo:.2f}, {hi:.2f}] (prior median {bias_median:g}). Either the survey {side}-reports deaths "
            f"(survivor bias, recall, sampling), or the lists' total is {other} (heterogeneous capture, list "
            "dependence the model does not have); the data cannot tell which. Compare the alternatives with "
            "estimators.sensitivity()."
        )
    return out
