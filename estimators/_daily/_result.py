"""The result of :func:`estimators.daily_rates`: posterior summaries, tables, a plot, saving and pickling."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..results import PER_PERSONS, PosteriorEstimate, Summary, save_result
from ._days import _day_number
from ._inputs import DailyData, identified_by
from ._model import DailyRatesModel


@dataclass(frozen=True, kw_only=True)
class DailyRatesResult:
    """Posterior of the daily death rate and of everything the sources say about it.

    Attributes
    ----------
    daily : DataFrame
        One row per study day (``day``, ``date`` when a start date was given): ``median``, ``lower``, ``upper`` of
        the expected deaths per day and ``per10k_median``, ``per10k_lower``, ``per10k_upper`` per 10,000 per day.
    mean_rate : PosteriorEstimate
        Mean daily rate over the study (deaths per day); :meth:`mean_rate_over` for any window.
    rate_per_10000 : PosteriorEstimate
        Mean deaths per 10,000 people per day over the study (population prior carried).
    total : PosteriorEstimate
        Deaths that happened in the study (documented plus the Poisson number missed).
    coverage : DataFrame
        Each matched list's and tally's coverage (share of the study's deaths it recorded) with its prior
        interval, the prior-to-posterior contraction and the undercount factor 1 / coverage.
    identifiability : DataFrame
        For the total, the mean rate, each coverage and survey bias: prior and posterior intervals, contraction
        and the sources that inform it.
    prior_predictive, posterior_predictive : DataFrame
        Data summaries replicated from the prior / posterior against the observed ones, with p-values.
    diagnostics : mapping
        R-hat, bulk and tail ESS of the mean rate and total, largest daily R-hat, divergences, seconds.
    warnings : tuple of str
    idata : xarray.DataTree
        The posterior (nutpie), with settings, seed and a settings hash in ``attrs``.
    """

    daily: pd.DataFrame
    mean_rate: PosteriorEstimate
    rate_per_10000: PosteriorEstimate
    total: PosteriorEstimate
    coverage: pd.DataFrame
    identifiability: pd.DataFrame
    prior_predictive: pd.DataFrame
    posterior_predictive: pd.DataFrame
    diagnostics: Mapping
    warnings: tuple[str, ...]
    idata: object
    level: float
    settings: Mapping
    data: DailyData = field(repr=False)
    rate_draws: np.ndarray = field(repr=False)
    population_draws: np.ndarray = field(repr=False)
    model: DailyRatesModel = field(repr=False, compare=False)

    def __getstate__(self):
        # The compiled model (PyMC graph, nutpie's Numba functions) does not pickle and is only a cache for
        # refits: sensitivity() compiles a new one for a result read back from a pickle or a file.
        state = dict(self.__dict__)
        state["model"] = None
        return state

    def __repr__(self) -> str:
        rate, total = self.mean_rate, self.total
        return (f"<DailyRatesResult: {self.data.days} days, mean {rate.estimate:,.4g} deaths per day "
                f"{self.level:.0%} [{rate.interval[0]:,.4g}, {rate.interval[1]:,.4g}], total {total.estimate:,.0f} "
                f"[{total.interval[0]:,.0f}, {total.interval[1]:,.0f}], {len(self.rate_draws):,} draws"
                + (f", {len(self.warnings)} warning{'s' if len(self.warnings) > 1 else ''}>" if self.warnings
                   else ">"))

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def save(self, path) -> None:
        """Write this result and its posterior DataTree to ``path`` (a zarr store, or netCDF for a ``.nc`` name).

        Read it back with :func:`estimators.load_result`; the posterior alone opens with ``xarray.open_datatree``.
        See :func:`estimators.results.save_result`.
        """
        save_result(self, path)

    @property
    def undercount(self) -> pd.DataFrame:
        """Undercount factor (deaths per documented death, 1 / coverage) of each list and tally."""
        return self.coverage[["kind", "undercount", "undercount_lower", "undercount_upper"]]

    def _day(self, value, name):
        return _day_number(value, name, self.data.start, self.data.days)

    def mean_rate_over(self, start=None, end=None, *, per_10000: bool = False) -> PosteriorEstimate:
        """Posterior of the mean daily rate over study days ``start``..``end`` (numbers or dates, both included).

        ``per_10000=True`` gives deaths per 10,000 people per day (with the population prior).
        """
        first = 0 if start is None else self._day(start, "`start`")
        last = self.data.days - 1 if end is None else self._day(end, "`end`")
        if last < first:
            raise ValueError(f"`end` ({end!r}) is before `start` ({start!r}).")
        draws = self.rate_draws[:, first : last + 1].mean(1)
        unit = "deaths per day"
        if per_10000:
            draws = draws / self.population_draws * PER_PERSONS
            unit = "deaths per 10,000 per day"
        return PosteriorEstimate.from_draws(
            draws, level=self.level, method=f"daily_rates: mean {unit}, days {first}-{last}",
            n_observed=0, details={"unit": unit, "first day": first, "last day": last},
        )

    def summary(self) -> Summary:
        level = f"{self.level:.0%}"
        rate10k = self.rate_per_10000
        table = pd.DataFrame(
            [
                ("mean deaths per day", self.mean_rate.estimate, *self.mean_rate.interval),
                ("mean deaths per 10,000 per day", rate10k.estimate, *rate10k.interval),
                ("total deaths", self.total.estimate, *self.total.interval),
            ]
            + [(f"coverage of {row.Index} ({row.kind})", row.median, row.lower, row.upper)
               for row in self.coverage.itertuples()],
            columns=["quantity", "median", "lower", "upper"],
        ).set_index("quantity")
        d = self.data
        facts = [
            ("days", d.days),
            ("first day", "day 0" if d.start is None else d.start.date().isoformat()),
            ("matched lists", ", ".join(d.list_names) or "none"),
            ("records on lists", d.n_listed),
            ("tallies", ", ".join(d.tally_names) or "none"),
            ("surveys", ", ".join(d.survey_names + d.household_names) or "none"),
            ("total identified by", ", ".join(identified_by(d, self.settings.get("capture_classes", 1),
                                                            bool(self.settings.get("list_dependence"))))
             or "the prior alone"),
            ("rate model", self.settings["rate_model"]),
            ("capture", self._capture_fact()),
            ("interval", f"{level} equal-tailed credible"),
            ("draws", len(self.rate_draws)),
            ("random_seed", self.settings["random_seed"]),  # the name of the argument that repeats the fit
        ]
        for key in ("r_hat", "ess_bulk", "divergences", "seconds"):
            facts.append((f"{key} (mean rate)" if key in ("r_hat", "ess_bulk") else key, self.diagnostics[key]))
        return Summary(title="Daily death rates (joint model of lists, tallies and surveys)", facts=facts,
                       table=table, notes=self.warnings)

    def _capture_fact(self) -> str:
        if not self.data.k:
            return "no matched lists"
        classes = self.settings.get("capture_classes", 1)
        walk = (f"a random walk stepping every {self.data.capture_bin_days} days"
                if self.settings.get("time_varying_capture") is True else "constant over the study")
        weights = self.settings.get("model_weights")
        if weights:
            mixed = " and ".join(f"{label} ({weight:.2f})" for label, weight in weights.items())
            return f"averaged: {mixed}, {walk}"
        if classes == "normal":
            return f"a normal effect shared by the lists (Rasch-type), {walk}"
        return f"{int(classes)} class{'es' if int(classes) > 1 else ''}, {walk}"

    def __str__(self):
        return str(self.summary())

    def plot(self, ax=None, *, per_10000: bool = False, documented: bool = True, **kwargs):
        """Daily rate: posterior median with 50% and 95% bands, against the documented counts per day."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(8, 4))
        x = self.data.day_labels()
        draws = self.rate_draws / self.population_draws[:, None] * PER_PERSONS if per_10000 else self.rate_draws
        q = np.quantile(draws, [0.025, 0.25, 0.5, 0.75, 0.975], axis=0)
        color = kwargs.pop("color", "tab:blue")
        ax.fill_between(x, q[0], q[4], color=color, alpha=0.2, lw=0, label="95% credible band")
        ax.fill_between(x, q[1], q[3], color=color, alpha=0.4, lw=0, label="50% credible band")
        ax.plot(x, q[2], color=color, lw=1.5, label="posterior median", **kwargs)
        if documented and not per_10000:
            d = self.data
            if d.k:
                listed = d.list_cells.sum(1) / d.bin_matrix.sum(1)
                ax.step(x, listed[np.arange(d.days) // d.bin_days], where="mid", color="k", lw=0.8,
                        label="on any list (per day)")
            for j, name in enumerate(d.tally_names):
                rows = d.tally_index == j
                per_day_counts = (d.tally_counts[rows, None] * d.tally_matrix[rows]
                                  / d.tally_matrix[rows].sum(1, keepdims=True)).sum(0)
                ax.step(x, np.where(d.tally_matrix[rows].sum(0) > 0, per_day_counts, np.nan), where="mid",
                        color="tab:red", lw=0.8, label=f"tally {name} (per day)")
        ax.set_ylabel("deaths per 10,000 per day" if per_10000 else "deaths per day")
        ax.set_xlabel("date" if self.data.start is not None else "study day")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8, loc="upper left")
        ax.set_title(f"Daily death rate: mean {self.mean_rate.estimate:,.1f} per day "
                     f"({self.level:.0%} CrI {self.mean_rate.interval[0]:,.1f}-{self.mean_rate.interval[1]:,.1f})",
                     fontsize=9)
        return ax

