"""Does the maximum-likelihood estimate of N exist under a log-linear model? (Fienberg & Rinaldo 2012)

The Poisson log-linear model is fitted to the 2**k - 1 observable cells. With zero counts the likelihood may have
no maximiser: it keeps increasing as some parameters run to infinity, and N = n + exp(intercept) can run to
infinity with them (Rcapture then prints numbers such as 1.4e13). The check follows Chan, Silverman & Vincent
(2021) as implemented in SparseMSE's ``checkident``:

1. An interaction (or main effect) whose lists never occur together has an empty margin: its parameter is
   -infinity and every cell containing those lists has fitted value 0. Those cells and parameters are removed;
   this does not touch the unlisted cell, so N stays estimable ("extended" MLE).
2. On the remaining cells the MLE exists iff the observed sufficient statistics t = A y lie in the relative
   interior of the marginal cone, i.e. iff some strictly positive x satisfies A x = t (Haberman 1974;
   Fienberg & Rinaldo 2012). A linear program finds the largest s such that x >= s for such an x; s = 0 means
   no MLE.
3. The remaining design must have full column rank, otherwise the intercept (hence N) is not identifiable.

Step 2 needs no LP in the common cases (:class:`ExistenceOracle`, :func:`decide_by_null_space`): no zero cell, a
design of full column rank on the positive cells, or one whose null space on them is a single direction, whose
signs on the zero cells decide. The LP (scipy.optimize, 0.35 s to import) runs only where those cannot decide.

Terms, cells and models are the bit masks of :mod:`._model`: a cell's mask is its index in
:meth:`CaptureHistories.dense_counts` and cell c contains term t iff ``c & t == t``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from .._lazy import optimize
from .._validation import validate_params
from ..histories import check_histories
from ._model import HierarchicalModel, cell_label, term_columns

# Largest s in the LP below that still counts as zero: the LP's feasibility tolerance is about 1e-7, and when the
# MLE exists s is a ratio of small integers from the counts, far above it.
LP_ZERO = 1e-7


@dataclass(frozen=True)
class Existence:
    """Result of :func:`mle_exists`; true (``bool(result)``) when the MLE of N exists and is identifiable.

    Attributes
    ----------
    exists : bool
        The (extended) maximum-likelihood estimate exists: no parameter must run to infinity to reach the supremum
        of the likelihood once empty-margin terms are set to -infinity.
    identifiable : bool
        The remaining design has full column rank, so the intercept and N are determined.
    message : str
        What is wrong (the zero cells or terms responsible) and what to do, or "exists".
    model : str
        The model checked.
    empty_terms : tuple of str
        Terms whose lists never occur together in the data (handled by setting their parameter to -infinity).
    boundary_cells : tuple of str
        Zero cells whose fitted value must be 0 at the supremum of the likelihood (the cause of non-existence).
    """

    exists: bool
    identifiable: bool
    message: str
    model: str = ""
    empty_terms: tuple[str, ...] = ()
    boundary_cells: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.exists and self.identifiable)

    def __str__(self) -> str:
        return self.message


def superset_sums(dense: np.ndarray, k: int) -> np.ndarray:
    """margin[S] = sum of counts over cells containing every list of S, for every subset mask S (zeta transform)."""
    margin = np.asarray(dense, dtype=float).copy()
    for bit in range(k):
        step = 1 << bit
        view = margin.reshape(-1, 2, step)
        view[:, 0, :] += view[:, 1, :]
    return margin


def interior_exists(design: np.ndarray, y: np.ndarray) -> bool:
    """True iff some x > 0 has design.T @ x = design.T @ y (the MLE exists; Fienberg & Rinaldo 2012).

    LP of SparseMSE ``checkident``: maximise s subject to design.T x = t, x_i >= s, x >= 0.
    """
    n_cells = design.shape[0]
    objective = np.zeros(n_cells + 1)
    objective[-1] = -1.0
    a_eq = np.hstack([design.T, np.zeros((design.shape[1], 1))])
    a_ub = np.hstack([-np.eye(n_cells), np.ones((n_cells, 1))])
    result = optimize.linprog(
        objective,
        A_ub=a_ub,
        b_ub=np.zeros(n_cells),
        A_eq=a_eq,
        b_eq=design.T @ y,
        bounds=(0, None),
        method="highs",
    )
    return result.status == 0 and -result.fun > LP_ZERO


# Singular values of a 0/1 design (a few columns, at most 2**k - 1 rows) computed by LAPACK are within about
# 1e-14 * the largest of the exact ones; one above RANK_GAP * the largest is therefore certainly nonzero.
RANK_GAP = 1e-6
NULL_TOL = 1e-9  # below this * the largest, a singular value is taken as a candidate zero (then checked exactly)
MAX_DENOMINATOR = 1000  # null vectors of 0/1 designs are small rationals; larger ones are left to the LP
MAX_CANDIDATES = 200  # sets of zero cells tried for a certificate of non-existence before leaving it to the LP


def integer_null_vector(matrix: np.ndarray, direction: np.ndarray) -> np.ndarray | None:
    """An integer vector c along ``direction`` with matrix @ c == 0 exactly, or None if none is found.

    ``direction`` is a numerical null vector of the 0/1 (integer) ``matrix``: scaled so its largest entry is 1,
    its entries are rationals with a small common denominator L, found as the first L <= MAX_DENOMINATOR that
    makes them all integers to within 1e-6. The product is then checked in integer arithmetic, so a vector
    returned is an exact null vector whatever the rounding that produced ``direction``.
    """
    scaled = direction / direction[np.argmax(np.abs(direction))]
    multiples = np.arange(1, MAX_DENOMINATOR + 1)[:, None] * scaled[None, :]
    close = np.abs(multiples - np.round(multiples)).max(axis=1) < 1e-6
    if not close.any():
        return None
    vector = np.round(multiples[int(np.argmax(close))]).astype(np.int64)
    if (matrix.astype(np.int64) @ vector).any():
        return None
    return vector


def decide_by_null_space(positive: np.ndarray, zero: np.ndarray) -> bool | None:
    """Whether the MLE exists, decided exactly without an LP; None where this cannot decide.

    ``positive`` and ``zero`` are the design rows (0/1, intercept first) of the positive and the zero cells.
    The MLE fails to exist iff some parameter direction c leaves the positive cells' means unchanged
    (positive @ c = 0) and lowers or keeps every zero cell's, one strictly (zero @ c <= 0, not all 0):
    the likelihood then keeps increasing along c (Haberman 1974, th. 2.2; Fienberg & Rinaldo 2012). Hence:

    * ``positive`` of full column rank (certified by its smallest singular value, see RANK_GAP): no such c,
      the MLE exists;
    * a null space of dimension one, spanned by an exact integer vector c: the candidates are c and -c, so the
      MLE exists iff zero @ c has entries of both signs or none but zeros;
    * a larger null space: an integer c in it found with one-signed zero @ c proves that no MLE exists (each
      extreme ray of the cone of such directions is the null vector of ``positive`` with some zero cells' rows
      added, which is how candidates are sought); finding none decides nothing (None), nor does a singular
      value too close to zero to certify a rank.
    """
    width = positive.shape[1]
    singular, rows = _spectrum(positive)
    if singular is None:
        return None
    nullity = width - len(singular) + int((singular <= NULL_TOL * singular[0]).sum())
    if nullity == 0:
        return True
    if nullity == 1:
        c = integer_null_vector(positive, rows[-1])
        if c is None:
            return None
        signs = zero.astype(np.int64) @ c
        return bool((signs > 0).any() and (signs < 0).any()) or not signs.any()
    if math.comb(len(zero), nullity - 1) > MAX_CANDIDATES:
        return None
    for added in itertools.combinations(range(len(zero)), nullity - 1):
        stacked = np.vstack([positive, zero[list(added)]])
        singular, rows = _spectrum(stacked)
        if singular is None or width - len(singular) + int((singular <= NULL_TOL * singular[0]).sum()) != 1:
            continue
        c = integer_null_vector(stacked, rows[-1])
        if c is None:
            continue
        signs = zero.astype(np.int64) @ c
        if signs.any() and ((signs <= 0).all() or (signs >= 0).all()):
            return False
    return None


def _spectrum(matrix: np.ndarray):
    """Singular values (largest first) and right singular vectors of ``matrix``; (None, None) where some singular
    value lies between NULL_TOL and RANK_GAP times the largest, too close to zero to tell zero from nonzero."""
    if matrix.shape[0] == 0:
        return None, None
    _, singular, rows = np.linalg.svd(matrix)
    relative = singular / singular[0]
    if ((relative > NULL_TOL) & (relative <= RANK_GAP)).any():
        return None, None
    return singular, rows


def boundary_cells(design: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Zero cells outside the facial set: fitted value 0 at the supremum of the likelihood (Fienberg & Rinaldo 2012).

    Repeated LP: find a direction c with design @ c = 0 on positive cells, >= 0 on zero cells, maximising the
    (capped) sum on zero cells not yet found; its positive cells are outside the facial set. Returns a bool mask.
    """
    positive = y > 0
    zero_idx = np.flatnonzero(~positive)
    found = np.zeros(len(y), dtype=bool)
    width = design.shape[1]
    while True:
        open_idx = zero_idx[~found[zero_idx]]
        if open_idx.size == 0:
            break
        # Variables: c (free, width) and z (one per open zero cell, 0 <= z <= 1, z <= (design c)_i).
        n_open = open_idx.size
        objective = np.concatenate([np.zeros(width), -np.ones(n_open)])
        a_eq = np.hstack([design[positive], np.zeros((positive.sum(), n_open))])
        a_ub = np.vstack(
            [
                np.hstack([-design[zero_idx], np.zeros((zero_idx.size, n_open))]),  # design c >= 0 on zero cells
                np.hstack([-design[open_idx], np.eye(n_open)]),  # z <= design c
            ]
        )
        bounds = [(None, None)] * width + [(0, 1)] * n_open
        result = optimize.linprog(
            objective,
            A_ub=a_ub,
            b_ub=np.zeros(a_ub.shape[0]),
            A_eq=a_eq,
            b_eq=np.zeros(a_eq.shape[0]),
            bounds=bounds,
            method="highs",
        )
        if result.status != 0 or -result.fun <= LP_ZERO:
            break
        new = open_idx[result.x[width:] > LP_ZERO]
        if new.size == 0:
            break
        found[new] = True
    return found


def full_column_rank(stack: np.ndarray) -> np.ndarray:
    """Whether each matrix of a (B, rows, columns) stack, rows >= columns, has full column rank.

    A matrix has full column rank iff the diagonal of R in its QR decomposition has no zero, so the rank itself
    (an SVD, ``np.linalg.matrix_rank``) is not needed: QR is several times cheaper, and the rank checks were the
    largest part of a 5-list search. The threshold is matrix_rank's, with |R_jj| for the singular values; the
    0/1 designs here are far from it on both sides (benchmarks/NOTES.md, loglinear).
    """
    diagonal = np.abs(np.diagonal(np.linalg.qr(stack, mode="r"), axis1=-2, axis2=-1))
    tolerance = diagonal.max(axis=-1, keepdims=True) * max(stack.shape[-2:]) * np.finfo(float).eps
    return (diagonal > tolerance).all(axis=-1)


@dataclass(frozen=True)
class CheckResult:
    """Existence of one model on one table, with what the fit needs (cells kept, terms kept)."""

    exists: bool
    identifiable: bool
    kept_cells: np.ndarray  # bool over cells 1 .. 2**k - 1
    kept_terms: tuple[int, ...]
    empty_terms: tuple[int, ...]

    def __bool__(self) -> bool:
        return bool(self.exists and self.identifiable)


class ExistenceOracle:
    """Existence checks of many models on one table, with the LP run only where it can matter.

    * No zero cell among the cells a model keeps: y itself is a strictly positive solution, so the MLE exists
      without any LP; and the design of a hierarchical model without the k-way term has full column rank on all
      2**k - 1 observable cells (the k-way indicator is the only function vanishing on them all but the
      never-listed cell), so no rank check is needed unless cells were removed. Tables without zero cells
      therefore never reach the LP.
    * Zero cells, but the design restricted to the positive cells has full column rank: the only parameter
      direction leaving the positive cells' means unchanged is 0, so no parameter can run to infinity while the
      likelihood increases, and the MLE exists (Haberman 1974, ch. 2). No LP either.
    * Otherwise the LP decides. Existence is monotone among models that remove the same cells (a submodel's
      statistics are a projection of the larger model's), so a failure is remembered and every supermodel with the
      same removed cells fails without another LP.
    """

    def __init__(self, y: np.ndarray, k: int):
        self.k = k
        self.y = np.asarray(y, dtype=float)
        self.cells = np.arange(1, 2**k, dtype=np.int64)
        self.margin = superset_sums(np.concatenate([[0.0], self.y]), k)
        self.zero = self.y <= 0
        self._failed: dict[bytes, list[int]] = {}
        self.lp_calls = 0
        self.full_term = 2**k - 1
        # Every term's column over every cell (mask 0 is the intercept), while that table stays small.
        self._columns = term_columns(self.cells, range(1, 2**k)) if k <= 10 else None

    def design(self, kept_terms) -> np.ndarray:
        """Design over all cells, intercept first then ``kept_terms``."""
        if self._columns is None:
            return term_columns(self.cells, kept_terms)
        return self._columns[:, (0,) + tuple(kept_terms)]

    def check(self, terms) -> CheckResult:
        return self.check_many([terms])[0]

    def check_many(self, terms_list) -> list[CheckResult]:
        """Check many models; the rank computations of models of equal shape go to numpy in one stack."""
        prepared = []
        rank_jobs: dict[tuple, list] = {}
        # What the cells removed, kept and kept-but-zero are depends only on the empty terms, which most models of
        # a search share (usually none): computed once per distinct set, and shared read-only.
        by_empty: dict[tuple, tuple] = {}
        empty_margin = self.margin <= 0
        for position, terms in enumerate(terms_list):
            terms = tuple(terms)
            empty = tuple(t for t in terms if empty_margin[t])
            cells = by_empty.get(empty)
            if cells is None:
                if empty:
                    empty_arr = np.asarray(empty, dtype=np.int64)
                    removed = ((self.cells[:, None] & empty_arr[None, :]) == empty_arr[None, :]).any(axis=1)
                else:
                    removed = np.zeros(len(self.cells), dtype=bool)
                kept = ~removed
                zero_kept = self.zero & kept
                removed.flags.writeable = kept.flags.writeable = False
                cells = by_empty[empty] = (removed, kept, bool(zero_kept.any()), kept.tobytes(),
                                           (kept & ~self.zero).tobytes())
            removed, kept, has_zero, kept_key, positive_key = cells
            kept_terms = tuple(t for t in terms if not empty_margin[t]) if empty else terms
            prepared.append((terms, empty, removed, kept, kept_terms, has_zero))
            if not empty and not has_zero:
                continue
            width = len(kept_terms) + 1
            if empty:
                rank_jobs.setdefault(("kept", kept_key, width), []).append(position)
            if has_zero:
                rank_jobs.setdefault(("positive", positive_key, width), []).append(position)
        full_rank: dict[tuple[str, int], bool] = {}
        for (what, rows_key, width), positions in rank_jobs.items():
            rows = np.frombuffer(rows_key, dtype=bool)
            if rows.sum() < width:
                for position in positions:
                    full_rank[(what, position)] = False
                continue
            if self._columns is None:
                stack = np.stack([self.design(prepared[p][4])[rows] for p in positions])
            else:
                # the same matrices as design(terms)[rows], gathered in one indexing operation
                columns = np.array([(0, *prepared[p][4]) for p in positions], dtype=np.int64)
                stack = self._columns[rows][:, columns].transpose(1, 0, 2)
            for position, full in zip(positions, full_column_rank(stack)):
                full_rank[(what, position)] = bool(full)
        results = []
        for position, (terms, empty, removed, kept, kept_terms, has_zero) in enumerate(prepared):
            # The k-way term would make the never-listed cell a free parameter: N is then not identifiable (the
            # full-rank argument above assumes it absent; model parsing never produces it).
            identifiable = full_rank.get(("kept", position), True) and self.full_term not in kept_terms
            exists = True
            if has_zero and not full_rank[("positive", position)]:
                exists = self._lp(removed, kept, kept_terms, self.design(kept_terms))
            results.append(CheckResult(exists, identifiable, kept, kept_terms, empty))
        return results

    def _lp(self, removed, kept, kept_terms, design) -> bool:
        key = np.packbits(removed).tobytes()
        family = 0
        for t in kept_terms:
            family |= 1 << t
        failed = self._failed.setdefault(key, [])
        if any(other & ~family == 0 for other in failed):
            return False
        positive = kept & ~self.zero
        exists = decide_by_null_space(design[positive], design[kept & self.zero])
        if exists is None:
            self.lp_calls += 1
            exists = interior_exists(design[kept], self.y[kept])
        if not exists:
            failed.append(family)
        return exists


def describe(check: CheckResult, oracle: ExistenceOracle, lists, model_name: str, term_label) -> Existence:
    """Turn an oracle result into the public :class:`Existence` with a message naming cells and terms."""
    empty = tuple(term_label(t) for t in check.empty_terms)
    boundary: tuple[str, ...] = ()
    notes = []
    if empty:
        notes.append(
            f"lists never recorded together: {', '.join(empty)} (their interaction is -infinity and the cells "
            "containing them are fitted as 0; the unlisted count is unaffected)"
        )
    if check:
        message = f"The MLE of N exists and is identifiable under {model_name}" + (f"; {notes[0]}." if notes else ".")
        return Existence(True, True, message, model_name, empty, boundary)
    problems = []
    if not check.exists:
        design = term_columns(oracle.cells[check.kept_cells], check.kept_terms)
        found = boundary_cells(design, oracle.y[check.kept_cells])
        cells = oracle.cells[check.kept_cells][found]
        boundary = tuple(cell_label(int(c), lists) for c in cells)
        problems.append(
            "the maximum-likelihood estimate does not exist: with zero counts in the cells "
            f"{', '.join(boundary) if boundary else '(several)'} the likelihood keeps increasing while some "
            "parameters run to infinity, so there is no finite, unique estimate of N; an unchecked fit returns an "
            "arbitrary, often huge, number (Fienberg & Rinaldo 2012)"
        )
    if not check.identifiable:
        problems.append(
            "N is not identifiable: after removing the cells of never-overlapping lists, the remaining "
            f"{int(check.kept_cells.sum())} cells cannot determine the model's {len(check.kept_terms) + 1} parameters"
        )
    # the independence model has no interaction to drop: then only other data or another method can help
    interactions = any(bin(t).count("1") > 1 for t in check.kept_terms + check.empty_terms)
    message = (
        f"Under {model_name} " + "; and ".join(problems) + ". "
        + (notes[0][0].upper() + notes[0][1:] + ". " if notes else "")
        + (
            "Use a model with fewer interactions among these lists, merge sparse lists, or let the model search "
            "choose (loglinear(h) skips such models)."
            if interactions
            else "This is the model with no interactions, so no log-linear model helps: merge sparse lists, or "
            "use a method that does not rely on the MLE (e.g. a Bayesian model with a prior on N)."
        )
    )
    return Existence(check.exists, check.identifiable, message, model_name, empty, boundary)


@validate_params(
    {},
    exempt=("h", "model"),
)
def mle_exists(h, model) -> Existence:
    """Check whether the maximum-likelihood estimate of N exists and is identifiable under a log-linear model.

    The MLE of a Poisson log-linear model fitted to the 2**k - 1 observable cells exists iff the observed
    sufficient statistics lie in the relative interior of the marginal cone, which a linear program decides
    (Fienberg & Rinaldo 2012). As in SparseMSE (Chan, Silverman & Vincent 2021), interactions between lists that
    never overlap are first set to -infinity and their cells removed (this leaves N estimable), and N must then be
    identifiable (the remaining design of full column rank). A model failing either test gives no finite,
    unique N: R packages that do not check print arbitrary huge numbers instead.

    Parameters
    ----------
    h : CaptureHistories
        The observed lists.
    model : str or sequence of terms
        A hierarchical model in bracket notation, e.g. ``"[12,3]"`` (see :func:`estimators.loglinear`).

    Returns
    -------
    Existence
        ``exists``, ``identifiable``, ``message`` (naming the zero cells or terms responsible and what to do),
        ``empty_terms``, ``boundary_cells``; ``bool(result)`` is True when N exists and is identifiable.

    References
    ----------
    .. [1] Fienberg, S. E. and Rinaldo, A. (2012). Maximum likelihood estimation in log-linear models.
       *Annals of Statistics* 40(2), 996-1023.
    .. [2] Chan, L., Silverman, B. W. and Vincent, K. (2021). Multiple systems estimation for sparse capture data:
       inferential challenges when there are nonoverlapping lists. *Journal of the American Statistical
       Association* 116(535), 1297-1306.
    .. [3] Haberman, S. J. (1974). *The Analysis of Frequency Data*. University of Chicago Press.

    Examples
    --------
    >>> from estimators import load_dataset, mle_exists
    >>> h = load_dataset("SparseMSE_Artificial_3")
    >>> bool(mle_exists(h, "[12,3]")), bool(mle_exists(h, "[1,2,3]"))
    (False, True)
    """
    histories = check_histories(h, "h")
    hierarchical = HierarchicalModel.parse(model, histories.lists)
    y = np.asarray(histories.dense_counts(), dtype=float)[1:]
    oracle = ExistenceOracle(y, histories.k)
    check = oracle.check(hierarchical.terms)
    return describe(check, oracle, histories.lists, hierarchical.name(histories.lists), hierarchical.term_label_fn(
        histories.lists))
