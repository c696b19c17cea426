"""Decomposable graphs on k lists: enumeration, cliques and separators, and the graphs of one k as arrays."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .._validation import Integral, Interval, check_positive_int, validate_params
from ..histories import list_bit

# 18,154 decomposable graphs on 6 lists; on 7 the enumeration would filter 2**21 graphs.
MAX_LISTS = 6
# Beyond, MC3 samples the graphs. Its cost grows with 2**k (each subset's marginal table, bounds over all subsets):
# 12 lists took 5-13 s per fit (benchmarks/results/graphical_mc3.md).
MAX_SAMPLED_LISTS = 12


@dataclass(frozen=True)
class DecomposableGraph:
    """A decomposable (chordal) graph on k lists.

    ``edges`` are pairs of list positions; ``cliques`` and ``separators`` are bitmasks over lists with the
    first list as the most significant bit (the cell index convention of
    :meth:`CaptureHistories.dense_counts`); ``separators`` is the multiset of non-empty separators of a
    junction forest (an empty separator joins disconnected components and contributes nothing).
    """

    k: int
    edges: tuple[tuple[int, int], ...]
    cliques: tuple[int, ...]
    separators: tuple[int, ...]

    def label(self, names=None) -> str:
        """The cliques as ``[A,B][C]`` (list names, or 1-based positions)."""
        names = tuple(str(i + 1) for i in range(self.k)) if names is None else tuple(str(n) for n in names)
        return _label(self.cliques, self.k, names)


@lru_cache(maxsize=1 << 14)
def _label(cliques: tuple[int, ...], k: int, names: tuple[str, ...]) -> str:
    # Cached: every fit labels its ten best graphs (timing in benchmarks/NOTES.md).
    parts = []
    for mask in sorted(cliques, key=lambda m: _members(m, k)):
        parts.append("[" + ",".join(names[j] for j in _members(mask, k)) + "]")
    return "".join(parts)


def _members(mask: int, k: int) -> tuple[int, ...]:
    """List positions in a bitmask (bit order of histories.pattern_matrix)."""
    return tuple(j for j in range(k) if mask & list_bit(j, k))


def _chordal_decomposition(k: int, adjacency: list[int]):
    """Cliques and separators of a graph by maximum cardinality search, or None if it is not chordal.

    Vertex v is bit v of ``adjacency[u]``. Maximum cardinality search (Tarjan & Yannakakis 1984) numbers the
    vertices; the graph is chordal iff every vertex's earlier-numbered neighbours form a clique. A new maximal
    clique starts where the number of earlier neighbours fails to grow; its separator is that neighbour set
    (Blair & Peyton 1993). Plain loops over bit masks: this runs for each of the 2**(k choose 2) graphs.
    """
    numbered = 0
    order, prior = [], []
    for _ in range(k):
        best, most = -1, -1
        for v in range(k):  # the unnumbered vertex with the most numbered neighbours, the first of equals
            if not numbered >> v & 1:
                count = (adjacency[v] & numbered).bit_count()
                if count > most:
                    best, most = v, count
        earlier = adjacency[best] & numbered
        rest = earlier
        while rest:
            low = rest & -rest
            if earlier & ~low & ~adjacency[low.bit_length() - 1]:
                return None
            rest ^= low
        order.append(best)
        prior.append(earlier)
        numbered |= 1 << best
    sizes = [p.bit_count() for p in prior]
    cliques = [prior[i] | 1 << order[i] for i in range(k) if i + 1 == k or sizes[i + 1] <= sizes[i]]
    separators = [prior[i] for i in range(1, k) if sizes[i] <= sizes[i - 1] and prior[i]]
    return cliques, separators


@validate_params({"k": [Interval(Integral, 1, None)]})
@lru_cache(maxsize=None)
def decomposable_graphs(k: int) -> tuple[DecomposableGraph, ...]:
    """All decomposable (chordal) graphs on ``k`` labelled lists, with their cliques and separators.

    There are 2, 8, 61, 822 and 18,154 of them for k = 2..6 (OEIS A058862). The enumeration filters all
    2**(k choose 2) graphs and is cached per k. Their order is that of ``details["model_probabilities"]`` in the
    result of :func:`graphical_bma`.

    Examples
    --------
    >>> from estimators import decomposable_graphs
    >>> len(decomposable_graphs(4))
    61
    >>> decomposable_graphs(3)[-1].label(["A", "B", "C"])
    '[A,B,C]'
    """
    k = check_positive_int("k", k, minimum=1)
    if k > MAX_LISTS:
        raise ValueError(f"`k` must be at most {MAX_LISTS} (2**{k * (k - 1) // 2} graphs to filter); got {k}.")
    pairs = list(itertools.combinations(range(k), 2))
    graphs = []
    for code in range(1 << len(pairs)):
        graph = _graph_of_edges(k, tuple(p for e, p in enumerate(pairs) if code >> e & 1))
        if graph is not None:
            graphs.append(graph)
    return tuple(graphs)


def _graph_of_edges(k: int, edges: tuple[tuple[int, int], ...]) -> DecomposableGraph | None:
    """The graph on k lists with these edges (pairs of positions, a < b), or None if it is not decomposable."""
    adjacency = [0] * k
    for a, b in edges:
        adjacency[a] |= 1 << b
        adjacency[b] |= 1 << a
    found = _chordal_decomposition(k, adjacency)
    if found is None:
        return None
    mask = _list_masks(k)
    cliques, separators = found
    return DecomposableGraph(
        k=k, edges=edges, cliques=tuple(mask[c] for c in cliques), separators=tuple(mask[s] for s in separators)
    )


@lru_cache(maxsize=None)
def _list_masks(k: int) -> tuple[int, ...]:
    """The list bitmask (as in a cell index) of each set of vertices (vertex v is list v)."""
    return tuple(sum(list_bit(v, k) for v in range(k) if vertices >> v & 1) for vertices in range(1 << k))


@dataclass(frozen=True)
class _GraphArrays:
    """The graphs of one k as arrays: signed clique/separator counts per subset of lists, and padded lists."""

    coef: np.ndarray | None  # (G, 2**k) +1 per clique, -1 per non-empty separator
    n_denominators: np.ndarray  # (G,) cliques minus non-empty separators
    clique_masks: np.ndarray  # (G, k) padded with 0
    separator_masks: np.ndarray  # (G, k) padded with 0
    terms: np.ndarray  # (G, T) the subsets with a non-zero coefficient (padding: see _sparse_rows)
    weights: np.ndarray  # (G, T) their coefficients, padded with 0
    n_terms: np.ndarray  # (G,) number of non-zero coefficients
    # The same with one more term per graph, row 2**k + c - 1 for its c = n_denominators components (the
    # common terms plus c Dirichlet normalisers, see _Model.run_factors), padded to at least 8 terms.
    row_terms: np.ndarray
    row_weights: np.ndarray
    n_row_terms: np.ndarray
    # coef with two more columns, the Dirichlet normaliser's count and the common terms' (see _Model); the
    # subsets that some graph uses, and coefx on those columns (what an evaluation of every graph needs).
    # coef, coefx and used_coefx are None for the sparse arrays of many graphs on many lists (_sparse_arrays_of).
    coefx: np.ndarray | None
    used_masks: np.ndarray
    used_coefx: np.ndarray | None


@lru_cache(maxsize=None)
def _graph_arrays(k: int) -> _GraphArrays:
    graphs = decomposable_graphs(k)
    coef = np.zeros((len(graphs), 2**k), dtype=np.float64)
    cliques = np.zeros((len(graphs), k), dtype=np.int64)
    separators = np.zeros((len(graphs), k), dtype=np.int64)
    for g, graph in enumerate(graphs):
        for i, mask in enumerate(graph.cliques):
            coef[g, mask] += 1
            cliques[g, i] = mask
        for i, mask in enumerate(graph.separators):
            coef[g, mask] -= 1
            separators[g, i] = mask
    n_denominators = np.array([len(g.cliques) - len(g.separators) for g in graphs], dtype=np.int64)
    terms, weights, n_terms = _sparse_rows(coef)
    components = n_denominators[:, None] == np.arange(1, k + 1)[None, :]
    row_terms, row_weights, n_row_terms = _sparse_rows(np.hstack([coef, components]), minimum=8)
    coefx = np.hstack([coef, n_denominators[:, None].astype(float), np.ones((len(graphs), 1))])
    used_masks = np.flatnonzero(np.any(coef != 0, axis=0))
    used_coefx = coefx[:, np.append(used_masks, [2**k, 2**k + 1])]
    arrays = (
        coef, n_denominators, cliques, separators, terms, weights, n_terms, row_terms, row_weights, n_row_terms,
        coefx, used_masks, used_coefx,
    )
    for array in arrays:
        array.flags.writeable = False
    return _GraphArrays(*arrays)


def _sparse_arrays_of(graphs, k: int) -> _GraphArrays:
    """:func:`_graph_arrays` for any graphs, without the dense (G, 2**k) rows: the many graphs MC3 visits.

    The sparse rows are built directly, with :func:`_sparse_rows`' layout (columns ascending, padded with the
    first column at weight 0); the model evaluates them term by term (:meth:`_Model.graph_log_values`).
    """
    size, n = 2**k, len(graphs)
    cliques = np.zeros((n, k), dtype=np.int64)
    separators = np.zeros((n, k), dtype=np.int64)
    rows = []
    for g, graph in enumerate(graphs):
        cliques[g, : len(graph.cliques)] = graph.cliques
        separators[g, : len(graph.separators)] = graph.separators
        coefficient = dict.fromkeys(graph.cliques, 1.0)
        for mask in graph.separators:
            coefficient[mask] = coefficient.get(mask, 0.0) - 1.0
        rows.append(sorted((mask, c) for mask, c in coefficient.items() if c != 0))
    n_denominators = np.array([len(g.cliques) - len(g.separators) for g in graphs], dtype=np.int64)

    def padded(lists, minimum):
        counts = np.array([len(r) for r in lists], dtype=np.int64)
        width = max(int(counts.max(initial=0)), minimum)
        columns, values = np.zeros((n, width), dtype=np.int64), np.zeros((n, width))
        for g, r in enumerate(lists):
            columns[g] = r[0][0] if r else 0
            columns[g, : len(r)] = [mask for mask, _ in r]
            values[g, : len(r)] = [c for _, c in r]
        return columns, values, counts

    terms, weights, n_terms = padded(rows, 1)
    with_rows = [r + [(size + int(c) - 1, 1.0)] for r, c in zip(rows, n_denominators)]
    row_terms, row_weights, n_row_terms = padded(with_rows, 8)
    used_masks = np.unique(np.concatenate([[m for m, _ in r] for r in rows] + [np.zeros(0, dtype=np.int64)]))
    arrays = dict(
        coef=None, n_denominators=n_denominators, clique_masks=cliques, separator_masks=separators, terms=terms,
        weights=weights, n_terms=n_terms, row_terms=row_terms, row_weights=row_weights, n_row_terms=n_row_terms,
        coefx=None, used_masks=used_masks.astype(np.int64), used_coefx=None,
    )
    for array in arrays.values():
        if array is not None:
            array.flags.writeable = False
    return _GraphArrays(**arrays)


@lru_cache(maxsize=None)
def _graph_arrays_without_complete(k: int) -> tuple[tuple[DecomposableGraph, ...], _GraphArrays]:
    """The graphs of :func:`decomposable_graphs` less the complete (saturated) graph, and their arrays."""
    graphs = decomposable_graphs(k)
    keep = np.array([g.cliques != (2**k - 1,) for g in graphs])
    full = _graph_arrays(k)
    coef = full.coef[keep]
    used_masks = np.flatnonzero(np.any(coef != 0, axis=0))
    coefx = full.coefx[keep]
    arrays = {name: getattr(full, name)[keep] for name in full.__dataclass_fields__ if name != "used_masks"}
    arrays.update(used_masks=used_masks, used_coefx=coefx[:, np.append(used_masks, [2**k, 2**k + 1])])
    for array in arrays.values():
        array.flags.writeable = False
    return tuple(g for g, kept in zip(graphs, keep) if kept), _GraphArrays(**arrays)


def _sparse_rows(coef: np.ndarray, minimum: int = 1):
    """Row-wise non-zero columns of ``coef``, their values and counts.

    At least ``minimum`` columns are returned; a row's padding repeats its first column with weight 0.
    """
    nonzero = coef != 0
    n_terms = nonzero.sum(axis=1)
    columns = np.argsort(~nonzero, axis=1, kind="stable")[:, : max(int(n_terms.max(initial=0)), minimum)]
    if columns.shape[1] < minimum:
        columns = np.pad(columns, ((0, 0), (0, minimum - columns.shape[1])))
    padding = np.arange(columns.shape[1])[None, :] >= n_terms[:, None]
    columns = np.where(padding, columns[:, :1], columns)
    values = np.where(padding, 0.0, np.take_along_axis(coef, columns, axis=1))
    return columns, values, n_terms
