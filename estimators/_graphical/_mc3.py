"""MC3 over decomposable graphs (Madigan & York 1995, 1997): the graphs sampled instead of enumerated.

A Metropolis-Hastings chain on the decomposable graphs proposes to add or remove one edge, the pair chosen
uniformly among the k(k-1)/2; a proposal that is not decomposable (or is the excluded complete graph) is
rejected and the chain stays. The proposal is symmetric and the graphs have equal prior weight, so a decomposable
proposal G' is accepted with probability min(1, p(y | G') / p(y | G)), each graph's evidence
p(y | G) = sum_u p(y, u | G) p(n + u) being taken by quadrature over the unlisted count u (:class:`_Evidence`).
Decomposability is checked by maximum cardinality search on the proposed graph, which also gives its cliques and
separators. The posterior of N is then computed exactly, on the integers, for the visited graphs weighted by
their visit frequencies (:func:`graphical_bma`).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from ._graphs import DecomposableGraph, _graph_of_edges
from .._lazy import gammaln
from ._marginal import _Marginals, logsumexp
from ._model import _evaluate_log_prior

# The evidence sums u = 0 .. _DENSE - 1 term by term, then integrates on a geometric grid (ratio _RATIO, trapezoid
# weights and the Euler-Maclaurin half term) up to _GRID_END, beyond which the tail ~ C u**e is added in closed
# form. The step, 0.4% of u, is below the posterior's spread wherever its mass lies; the log evidence agrees with
# the exact sum over the integers within 1e-5 (tests/graphical/test_mc3.py), ample for acceptance ratios.
_DENSE = 2048
_RATIO = 1.004
_GRID_END = 1e8
# Equal-probability bins of N per visited graph, from which each iteration's draw of N (for R-hat and ESS) is taken.
_BINS = 1024
# The first _BURN_IN share of each chain is discarded.
_BURN_IN = 0.25
# Tempering: the r-th copy of a chain targets p(y | G)**(_HEAT**r).
_HEAT = 0.5


@dataclass(frozen=True)
class _Visit:
    """A decomposable graph met by the chains and its log evidence (up to a constant common to all graphs)."""

    graph: DecomposableGraph
    log_evidence: float


class _Evidence:
    """The log evidence of decomposable graphs on one table, by quadrature over u, with the graphs cached by code.

    With a given ``support`` of u (``unlisted_support``) the evidence is the exact sum over it instead.

    A graph's code has bit e set when edge e of ``itertools.combinations(range(k), 2)`` is present.
    """

    def __init__(self, marginals: _Marginals, k: int, log_prior, exclude_saturated: bool, support=None):
        m = marginals
        if support is None:
            count = math.ceil(math.log(_GRID_END / _DENSE) / math.log(_RATIO))
            sparse = _DENSE * _RATIO ** np.arange(count + 1)
            gaps = np.diff(sparse)
            weight = np.empty(len(sparse))
            weight[0] = gaps[0] / 2 + 0.5  # sum_{u>=D} f(u) = integral from D + f(D)/2 + O(f'(D))
            weight[1:-1] = (gaps[:-1] + gaps[1:]) / 2
            weight[-1] = gaps[-1] / 2
            self.u = np.concatenate([np.arange(_DENSE, dtype=float), sparse])
            self.log_weight = np.concatenate([np.zeros(_DENSE), np.log(weight)])
        else:  # a given support (dga's grid): the evidence is the exact sum over it, as the posterior is
            self.u = np.asarray(support, dtype=float)
            self.log_weight = np.zeros(len(self.u))
        self.given_support = support is not None
        prior = -np.log(self.u + m.n) if log_prior is None else _evaluate_log_prior(log_prior, self.u + m.n)
        with np.errstate(invalid="ignore"):
            self.common = gammaln(self.u + m.n + 1) - gammaln(self.u + 1) + prior + self.log_weight
        self.denominator = gammaln(m.total_prior) - gammaln(self.u + m.n + m.total_prior)
        self.marginals = m
        self.k = k
        self.pairs = tuple(itertools.combinations(range(k), 2))
        self.complete = (1 << len(self.pairs)) - 1
        self.exclude_saturated = exclude_saturated
        self._rows: dict[int, np.ndarray] = {}
        self._visits: dict[int, _Visit | None] = {}
        self._bins: dict[int, np.ndarray] = {}

    def improper(self) -> DecomposableGraph | None:
        """A graph met whose evidence diverged (its posterior of N is improper), if any."""
        return next((v.graph for v in self._visits.values() if v is not None and v.log_evidence == math.inf), None)

    @property
    def n_evaluated(self) -> int:
        """Distinct decomposable graphs whose evidence was computed."""
        return sum(visit is not None for visit in self._visits.values())

    def _row(self, mask: int) -> np.ndarray:
        row = self._rows.get(mask)
        if row is None:
            m = self.marginals
            row = gammaln(self.u + m.offset[mask]) + m.constant[mask]
            self._rows[mask] = row
        return row

    def log_terms(self, graph: DecomposableGraph) -> np.ndarray:
        """log t(u) + log quadrature weight on the grid."""
        values = self.common + (len(graph.cliques) - len(graph.separators)) * self.denominator
        for mask in graph.cliques:
            values = values + self._row(mask)
        for mask in graph.separators:
            values = values - self._row(mask)
        return values

    def visit(self, code: int) -> _Visit | None:
        """The graph of ``code`` with its evidence, or None if it is not decomposable or is excluded."""
        if code in self._visits:
            return self._visits[code]
        visit = None
        if not (self.exclude_saturated and code == self.complete):
            graph = _graph_of_edges(self.k, tuple(p for e, p in enumerate(self.pairs) if code >> e & 1))
            if graph is not None:
                visit = _Visit(graph=graph, log_evidence=self.log_evidence(graph))
        self._visits[code] = visit
        return visit

    def log_evidence(self, graph: DecomposableGraph) -> float:
        """log p(y | G) up to a constant common to all graphs (inf when the sum diverges)."""
        values = self.log_terms(graph)
        total = logsumexp(values)
        if self.given_support or len(values) < 2:
            return total
        # Beyond the grid t(u) ~ C u**e, e read from the last step: sum_{u>U} t(u) ~ t(U) U / (-e - 1). An
        # exponent not below -1 means the evidence diverges (an improper posterior, or a grid too short for it).
        end = values[-1] - self.log_weight[-1]
        slope = (end - (values[-2] - self.log_weight[-2])) / math.log(_RATIO)
        if not np.isfinite(end):
            return total
        if not slope < -1:
            return math.inf
        return float(np.logaddexp(total, end + math.log(self.u[-1]) - math.log(-slope - 1)))

    def bins(self, code: int) -> np.ndarray:
        """Unlisted counts at the midpoints of _BINS equal-probability bins of the graph's posterior of u."""
        table = self._bins.get(code)
        if table is None:
            values = self.log_terms(self._visits[code].graph)
            cdf = np.cumsum(np.exp(values - np.max(values)))
            cdf /= cdf[-1]
            levels = (np.arange(_BINS) + 0.5) / _BINS
            table = np.round(self.u[np.minimum(np.searchsorted(cdf, levels), len(cdf) - 1)])
            self._bins[code] = table
        return table


@dataclass(frozen=True)
class _MC3Run:
    """What the chains found: the visited graphs, their visit frequencies and evidence, the draws of N."""

    graphs: tuple[DecomposableGraph, ...]  # visited after burn-in, most visited first
    frequencies: np.ndarray  # share of the kept iterations, pooled over chains
    log_evidence: np.ndarray
    n_draws: np.ndarray  # (chains, kept iterations) draws of N, one per iteration given that iteration's graph
    graph_index: np.ndarray  # (chains, kept iterations) position in ``graphs`` of each iteration's graph
    acceptance: np.ndarray  # per chain, accepted moves / iterations
    decomposable: float  # share of the proposals that were decomposable (and allowed)
    n_evaluated: int  # distinct decomposable graphs whose evidence was computed
    burn_in: int


def _start(evidence: _Evidence, chain: int, rng: np.random.Generator) -> int:
    """Chains start apart: the empty graph, the complete graph (less an edge if excluded), then random ones.

    A random start is the chordal completion, by elimination in a random order, of a random graph whose edge
    probability is itself uniform.
    """
    k, pairs = evidence.k, evidence.pairs
    if chain == 0 or not pairs:
        return 0
    if chain == 1:
        code = evidence.complete
    else:
        density = rng.random()
        adjacency = [set() for _ in range(k)]
        for a, b in pairs:
            if rng.random() < density:
                adjacency[a].add(b)
                adjacency[b].add(a)
        eliminated = set()
        for v in rng.permutation(k):
            later = sorted(adjacency[v] - eliminated)
            for a, b in itertools.combinations(later, 2):
                adjacency[a].add(b)
                adjacency[b].add(a)
            eliminated.add(int(v))
        code = sum(1 << e for e, (a, b) in enumerate(pairs) if b in adjacency[a])
    if evidence.visit(code) is None:  # the complete graph, excluded: drop one edge (still decomposable)
        code ^= 1 << int(rng.integers(len(pairs)))
    return code


def _run_mc3(evidence: _Evidence, n_iter: int, n_chains: int, rng: np.random.Generator,
             temperatures: int = 1) -> _MC3Run:
    """``n_chains`` MC3 chains; with ``temperatures`` T > 1 each is coupled to T - 1 heated copies (below)."""
    n = evidence.marginals.n
    n_pairs = len(evidence.pairs)
    burn_in = int(_BURN_IN * n_iter)
    kept = n_iter - burn_in
    draws = np.empty((n_chains, kept))
    codes = np.empty((n_chains, kept), dtype=object)
    acceptance = np.zeros(n_chains)
    visits = Counter()
    proposals = allowed = 0
    beta = _HEAT ** np.arange(temperatures)
    for chain, generator in enumerate(rng.spawn(n_chains)):
        code = _start(evidence, chain, generator)
        current = evidence.visit(code)
        edge = generator.integers(n_pairs, size=n_iter) if n_pairs else np.zeros(n_iter, dtype=np.int64)
        log_uniform = np.log(generator.random(n_iter))
        position = (generator.random(n_iter) * _BINS).astype(np.int64)
        if temperatures > 1:
            heated_edge = generator.integers(max(n_pairs, 1), size=(n_iter, temperatures - 1))
            heated_uniform = np.log(generator.random((n_iter, temperatures - 1)))
            swap_pair = generator.integers(temperatures - 1, size=n_iter)
            swap_uniform = np.log(generator.random(n_iter))
            states = [(code, current)] * temperatures
        accepted = 0
        for t in range(n_iter):
            if n_pairs:
                proposal = code ^ (1 << int(edge[t]))
                candidate = evidence.visit(proposal)
                proposals += 1
                if candidate is not None:
                    allowed += 1
                    # -inf - -inf is nan, never accepted; a finite proposal from a -inf start always is
                    if log_uniform[t] < candidate.log_evidence - current.log_evidence:
                        code, current = proposal, candidate
                        accepted += 1
                if temperatures > 1:
                    states[0] = (code, current)
                    for r in range(1, temperatures):
                        heated_code, heated = states[r]
                        proposal = heated_code ^ (1 << int(heated_edge[t, r - 1]))
                        candidate = evidence.visit(proposal)
                        if candidate is not None and (
                                heated_uniform[t, r - 1] < beta[r] * (candidate.log_evidence - heated.log_evidence)):
                            states[r] = (proposal, candidate)
                    # swap two neighbouring temperatures' graphs (Geyer 1991)
                    r = int(swap_pair[t])
                    cold, hot = states[r][1].log_evidence, states[r + 1][1].log_evidence
                    if swap_uniform[t] < (beta[r] - beta[r + 1]) * (hot - cold):
                        states[r], states[r + 1] = states[r + 1], states[r]
                        code, current = states[0]
            if t >= burn_in:
                visits[code] += 1
                codes[chain, t - burn_in] = code
                draws[chain, t - burn_in] = n + evidence.bins(code)[position[t]]
        acceptance[chain] = accepted / n_iter
    order = sorted(visits, key=lambda c: (-visits[c], c))
    total = n_chains * kept
    position_of = {c: i for i, c in enumerate(order)}
    return _MC3Run(
        graphs=tuple(evidence.visit(c).graph for c in order),
        frequencies=np.array([visits[c] / total for c in order]),
        log_evidence=np.array([evidence.visit(c).log_evidence for c in order]),
        n_draws=draws,
        graph_index=np.vectorize(position_of.__getitem__, otypes=[np.int64])(codes),
        acceptance=acceptance,
        decomposable=allowed / proposals if proposals else 1.0,
        n_evaluated=evidence.n_evaluated,
        burn_in=burn_in,
    )
