"""The result of :func:`estimators.link`: scored pairs, clusters, capture histories, and replicates of the matching."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np
import pandas as pd

from .._summary import Summary
from .._validation import Interval, Seed, check_random_seed, resolve_seed, validate_params
from ..exceptions import DataError
from ._clusters import constrained_components
from ._normalise import OPTIONAL

COVARIATES = ("sex", "age", "date_of_death", "place")
_SHOWN = ["list", "record_id", "first_name", "father_name", "family_name", "sex", "age", "date_of_death", "place"]


def _mode(work: pd.DataFrame, column: str) -> pd.Series:
    """The most frequent non-missing value of ``column`` in each cluster (ties: the first in sort order)."""
    counts = work.dropna(subset=[column]).groupby(["cluster", column]).size().rename("n").reset_index()
    counts = counts.sort_values(["cluster", "n", column], ascending=[True, False, True], kind="stable")
    return counts.drop_duplicates("cluster").set_index("cluster")[column].astype(object)


@dataclass(frozen=True, eq=False)
class Linkage:
    """Records of several lists linked by a Fellegi-Sunter model (:func:`estimators.link`).

    Attributes
    ----------
    lists : tuple of str
        The list names, in the order given.
    records : pandas.DataFrame
        One row per record of every list: ``unique_id`` (0..n-1), ``list``, ``record_id``, the fields as given
        and the comparison keys (``first_key``, ``sorted_key``, ``age_years``, ``dod``, ...).
    pairs : pandas.DataFrame
        Every candidate pair (blocked and scored, match probability at least 0.001): ``list_l``,
        ``record_id_l``, ``list_r``, ``record_id_r``, ``match_probability``, ``match_weight`` (log2 Bayes
        factor), ``unique_id_l``, ``unique_id_r``. Pairs within one list are candidate duplicates.
    threshold : float
        Match probability at or above which a pair is a link in :attr:`clusters` and :meth:`histories`.
    parameters : pandas.DataFrame
        The model: m- and u-probability of each comparison level; ``attrs["probability_two_random_records_match"]``.
    max_cluster_size : int
        No cluster holds more records than this.
    settings : dict
        The arguments of :func:`estimators.link` (``random_seed`` as the integer to pass back).
    notes : tuple of str
    """

    lists: tuple
    records: pd.DataFrame
    pairs: pd.DataFrame
    threshold: float
    parameters: pd.DataFrame
    max_cluster_size: int
    settings: dict = field(default_factory=dict)
    notes: tuple = ()

    # ---------------------------------------------------------------------------------------------- clusters
    def _list_codes(self) -> np.ndarray:
        return pd.Categorical(self.records["list"], categories=list(self.lists)).codes.astype(np.int64)

    def _labels(self, keep: np.ndarray) -> np.ndarray:
        pairs = self.pairs
        return constrained_components(
            len(self.records), pairs["unique_id_l"].to_numpy()[keep], pairs["unique_id_r"].to_numpy()[keep],
            pairs["match_probability"].to_numpy()[keep], self._list_codes(), self.max_cluster_size)

    def cluster_labels(self, threshold: float | None = None) -> np.ndarray:
        """Each record's cluster (a person) when pairs at or above ``threshold`` are links (default: the
        linkage's); see :meth:`replicates` for how conflicting links are resolved."""
        t = self.threshold if threshold is None else float(threshold)
        return self._labels(self.pairs["match_probability"].to_numpy() >= t)

    @property
    def clusters(self) -> pd.DataFrame:
        """``list``, ``record_id`` and ``cluster`` of every record, at the threshold."""
        out = self.records[["list", "record_id"]].copy()
        out["cluster"] = self.cluster_labels()
        return out

    def _frame(self, labels: np.ndarray) -> pd.DataFrame:
        """One row per cluster: 0/1 per list and the covariates (sex and place as most often recorded, the
        median age, the earliest date of death)."""
        r = self.records
        frame = pd.DataFrame({"cluster": labels, "list": r["list"].to_numpy()})
        member = pd.crosstab(frame["cluster"], frame["list"]).reindex(columns=list(self.lists), fill_value=0)
        out = (member > 0).astype(int)
        work = pd.DataFrame({"cluster": labels, "sex": r["sex_key"].to_numpy(), "place": r["place"].to_numpy(),
                             "age": r["age_years"].to_numpy(dtype=float),
                             "date_of_death": pd.to_datetime(r["dod"].to_numpy())})
        grouped = work.groupby("cluster")
        out["sex"] = _mode(work, "sex").reindex(out.index)
        out["place"] = _mode(work, "place").reindex(out.index)
        out["age"] = grouped["age"].median()
        out["date_of_death"] = grouped["date_of_death"].min()
        return out.reset_index(drop=True)

    def histories(self, threshold: float | None = None, covariates=COVARIATES):
        """Capture histories of the clusters at ``threshold`` (default: the linkage's).

        Each cluster is a person, on a list when any of its records is (a within-list duplicate counts once).
        ``covariates`` (default sex, age, date_of_death, place; None or () for none) are kept for strata.

        Returns
        -------
        estimators.CaptureHistories
        """
        from ..histories import CaptureHistories

        labels = self.cluster_labels(threshold)
        keep = [] if covariates is None else [covariates] if isinstance(covariates, str) else list(covariates)
        frame = self._frame(labels)
        return CaptureHistories.from_records(frame[list(self.lists) + keep], list(self.lists), covariates=keep,
                                             date="date_of_death" if "date_of_death" in keep else None)

    # ---------------------------------------------------------------------------------------------- replicates
    @validate_params({"m": [Interval(Integral, 1, None)], "random_seed": [Seed()]}, exempt=("covariates",))
    def replicates(self, m: int = 20, *, random_seed=None, covariates=COVARIATES) -> "LinkageReplicates":
        """``m`` plausible sets of matches drawn from the match probabilities, as capture histories.

        Construction of one replicate: each candidate pair is a link with its match probability, independently
        of the others (a Bernoulli draw per pair); the links are taken in decreasing order of match probability
        and joined into clusters by transitive closure (connected components, union-find), except that a link
        is dropped when it would put two records of one list in a cluster without a within-list link joining
        them (a within-list duplicate), or make a cluster larger than ``max_cluster_size``: conflicts are
        resolved by keeping the most probable links. Each cluster is a person; the capture histories follow as
        in :meth:`histories`.

        Independent draws ignore the dependence between pairs that a joint model of the matching would carry
        (Sadinle 2017; Marchant et al. 2021): the replicates are a plausible spread of the linkage error, not
        draws from its posterior. Pairs below 0.001 are never links.

        Returns
        -------
        LinkageReplicates
            A sequence of :class:`~estimators.CaptureHistories`; ``.estimate(method)`` fits each and pools them
            (:func:`estimators.pool`), reporting the share of variance due to linkage.
        """
        seed = resolve_seed(random_seed)
        rng = check_random_seed(seed)
        keep_cov = [] if covariates is None else [covariates] if isinstance(covariates, str) else list(covariates)
        from ..histories import CaptureHistories

        p = self.pairs["match_probability"].to_numpy(dtype=float)
        out, sizes = [], []
        for i in range(int(m)):
            labels = self._labels(rng.random(len(p)) < p)
            frame = self._frame(labels)
            with warnings.catch_warnings():
                if i:  # a coverage gap is reported once, for the first replicate
                    warnings.simplefilter("ignore", UserWarning)
                out.append(CaptureHistories.from_records(
                    frame[list(self.lists) + keep_cov], list(self.lists), covariates=keep_cov,
                    date="date_of_death" if "date_of_death" in keep_cov else None))
            sizes.append(len(frame))
        return LinkageReplicates(histories=tuple(out), random_seed=seed, n_people=tuple(sizes))

    # ---------------------------------------------------------------------------------------------- reports
    def expected_precision_recall(self, threshold: float | None = None) -> tuple[float, float]:
        """(precision, recall) of links at ``threshold`` expected from the match probabilities themselves:
        precision the mean probability of the pairs at or above it, recall their sum over the sum of all."""
        t = self.threshold if threshold is None else float(threshold)
        p = self.pairs["match_probability"].to_numpy(dtype=float)
        above = p >= t
        precision = float(p[above].mean()) if above.any() else float("nan")
        recall = float(p[above].sum() / p.sum()) if p.sum() > 0 else float("nan")
        return precision, recall

    def links_table(self, threshold: float | None = None) -> pd.DataFrame:
        """Links at ``threshold`` between each pair of lists (diagonal: within-list duplicates), and records per list."""
        t = self.threshold if threshold is None else float(threshold)
        above = self.pairs[self.pairs["match_probability"] >= t]
        table = pd.crosstab(above["list_l"], above["list_r"]).reindex(index=list(self.lists),
                                                                     columns=list(self.lists), fill_value=0)
        table = table + table.T - np.diag(np.diag(table))
        table.insert(0, "records", self.records["list"].value_counts().reindex(list(self.lists)).to_numpy())
        return table

    def summary(self) -> Summary:
        precision, recall = self.expected_precision_recall()
        labels = self.cluster_labels()
        table = self.links_table()
        facts = [("lists", ", ".join(self.lists)), ("records", f"{len(self.records):,}"),
                 ("candidate pairs scored (p >= 0.001)", f"{len(self.pairs):,}"),
                 ("threshold (match probability)", self.threshold),
                 ("people (clusters at the threshold)", f"{len(np.unique(labels)):,}"),
                 ("within-list duplicates linked", int(np.trace(table[list(self.lists)].to_numpy()))),
                 ("expected precision at the threshold", round(precision, 4)),
                 ("expected recall at the threshold", round(recall, 4)),
                 ("prior match probability (lambda)",
                  f"{self.parameters.attrs.get('probability_two_random_records_match', float('nan')):.3g}"),
                 ("random_seed", self.settings.get("random_seed"))]
        notes = list(self.notes) + [
            "Expected precision and recall come from the model's own match probabilities (mean probability of "
            "the links; their share of the total probability): they are as good as the model's calibration, "
            "which clerical review of the pairs nearest the threshold (clerical_review()) checks.",
        ]
        table.index.name = "links between lists"
        return Summary(title="Record linkage (Fellegi-Sunter, splink)", facts=facts, table=table,
                       notes=tuple(notes))

    def clerical_review(self, n: int = 50) -> pd.DataFrame:
        """The ``n`` pairs whose match probability is nearest the threshold, both records side by side (the
        grandfather's and mother's names, neighbourhood and national id too when the lists carry them)."""
        pairs = self.pairs.assign(distance=(self.pairs["match_probability"] - self.threshold).abs())
        pairs = pairs.nsmallest(int(n), "distance")
        shown = _SHOWN + [c for c in OPTIONAL if c in self.records and self.records[c].notna().any()]
        rec = self.records.set_index("unique_id")[shown[1:]]
        left = rec.loc[pairs["unique_id_l"].to_numpy()].add_suffix("_l").reset_index(drop=True)
        right = rec.loc[pairs["unique_id_r"].to_numpy()].add_suffix("_r").reset_index(drop=True)
        head = pairs[["match_probability", "list_l", "list_r"]].reset_index(drop=True)
        columns = ["match_probability"]
        for c in shown:
            columns += [f"{c}_l", f"{c}_r"]
        return pd.concat([head, left, right], axis=1)[columns]

    def __str__(self):
        return str(self.summary())

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}: {int(v):,}" for k, v in self.records["list"].value_counts()
                          .reindex(list(self.lists)).items())
        return f"<Linkage: {sizes} records; {len(self.pairs):,} scored pairs; threshold {self.threshold}>"

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()


@dataclass(frozen=True, eq=False)
class LinkageReplicates(Sequence):
    """Capture histories of ``m`` plausible sets of matches (:meth:`Linkage.replicates`).

    A sequence of :class:`~estimators.CaptureHistories`. Fit one estimator to each and pool the fits
    (:func:`estimators.pool`, Rubin's rules or mixed posterior draws): the pooled interval carries the linkage
    uncertainty, and ``details["between_share"]`` is the share of the variance due to linkage. ``estimate()``
    does both.
    """

    histories: tuple
    random_seed: int | None = None
    n_people: tuple = ()

    def __len__(self):
        return len(self.histories)

    def __getitem__(self, i):
        return self.histories[i]

    def estimate(self, method="loglinear", **options):
        """Fit ``method`` (an estimator's name or the function) to each replicate and pool the results.

        ``options`` go to the estimator. The result is :func:`estimators.pool`'s, with ``details["linkage_share"]``,
        the share of the variance due to linkage (the between-replicate share), and ``details["linkage_replicates"]``.
        """
        from .._records._pool import pool

        if isinstance(method, str):
            from .._registry import BY_NAME

            if method not in BY_NAME or not BY_NAME[method].per_stratum:
                raise DataError(f"`method` must name an estimator of N from capture histories; got {method!r}.")
            method = BY_NAME[method].load()
        if len(self.histories) < 2:
            raise DataError("Pooling needs at least two replicates; draw more (replicates(m=20)).")
        fits = [method(h, **options) for h in self.histories]
        pooled = pool(fits)
        details = dict(pooled.details)
        details["linkage_share"] = details.get("between_share")
        details["linkage_replicates"] = len(fits)
        kind = pooled.method.replace("imputations", "linkage replicates")
        from dataclasses import replace

        return replace(pooled, details=details, method=kind)

    def __repr__(self) -> str:
        people = f"{min(self.n_people):,}-{max(self.n_people):,}" if self.n_people else "?"
        return f"<LinkageReplicates: m={len(self)}, {people} people per replicate>"

