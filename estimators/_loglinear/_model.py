"""Hierarchical log-linear models over k lists: terms as bit masks, reading a model, its design matrix.

A term (a set of lists) and a capture pattern (a cell) are both integer masks: the mask of a set of lists is the
index, in :func:`estimators.histories.pattern_matrix` order (first list most significant), of the pattern on
exactly those lists. So a cell's mask is its index in :meth:`CaptureHistories.dense_counts`, and cell c contains
term t iff ``c & t == t``. The bit order itself is only read from :mod:`estimators.histories`.

A model is written by its generating class in the bracket notation of Rcapture, e.g. ``"[12,13,4]"`` for the
interactions of list 1 with lists 2 and 3 and the main effects of all four lists.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..histories import pattern_index, pattern_matrix

DIGIT_NOTATION_MAX_LISTS = 9


@lru_cache(maxsize=None)
def _positions_table(k: int) -> tuple[tuple[int, ...], ...]:
    """The lists of every mask, read from :func:`pattern_matrix` once per k (searches convert thousands of masks)."""
    return tuple(tuple(int(j) for j in np.flatnonzero(row)) for row in pattern_matrix(k))


@lru_cache(maxsize=None)
def _list_bits(k: int) -> tuple[int, ...]:
    """The mask of each single list (:func:`pattern_index` of the pattern on that list alone)."""
    return tuple(int(mask) for mask in pattern_index(np.eye(k, dtype=np.int64)))


def positions(mask: int, k: int) -> tuple[int, ...]:
    """0-based list positions in a term mask, ascending."""
    return _positions_table(k)[mask]


def term_mask(list_positions, k: int) -> int:
    """The mask of the term on ``list_positions`` (the index of the pattern on exactly those lists)."""
    bits = _list_bits(k)
    return sum(bits[j] for j in list_positions)


def cell_label(cell: int, lists) -> str:
    """``"{A,C}"``: the lists of a cell (or term) mask."""
    return "{" + ",".join(lists[j] for j in positions(cell, len(lists))) + "}"


@lru_cache(maxsize=None)
def order_keys(k: int) -> tuple:
    """Sort key of every mask (order, then positions): computed once per k because searches sort thousands."""
    return tuple((bin(mask).count("1"), positions(mask, k)) for mask in range(2**k))


def _term_order(mask: int, k: int):
    return order_keys(k)[mask]


def closure(generators, k: int) -> tuple[int, ...]:
    """Every non-empty subset of every generator, sorted by order then lexicographically (the design's columns)."""
    terms = set()
    for generator in generators:
        members = positions(generator, k)
        for size in range(1, len(members) + 1):
            for subset in itertools.combinations(members, size):
                terms.add(term_mask(subset, k))
    return tuple(sorted(terms, key=lambda t: _term_order(t, k)))


def generating_class(terms, k: int) -> tuple[int, ...]:
    """Maximal terms, ordered as Rcapture names models: highest order first, then lexicographically."""
    terms = set(terms)
    # In a hierarchical family a term has a superset iff it has one exactly one list larger.
    maximal = [t for t in terms if not any((t | 1 << bit) in terms for bit in range(k) if not t >> bit & 1)]
    keys = order_keys(k)
    return tuple(sorted(maximal, key=lambda t: (-keys[t][0], keys[t][1])))


@dataclass(frozen=True)
class HierarchicalModel:
    """A hierarchical log-linear model over k lists: its generating class and all its terms (bit masks)."""

    k: int
    generators: tuple[int, ...]
    terms: tuple[int, ...]

    @property
    def n_parameters(self) -> int:
        return 1 + len(self.terms)

    @classmethod
    def from_terms(cls, terms, k: int) -> "HierarchicalModel":
        """From a hierarchically closed set of terms (every subset of a term is a term)."""
        keys = order_keys(k)
        terms = tuple(sorted(set(terms), key=keys.__getitem__))
        return cls(k, generating_class(terms, k), terms)

    def name(self, lists=None) -> str:
        """Bracket notation: ``"[12,3]"`` (1-based positions) for k <= 9, list names joined by ':' beyond."""
        if self.k <= DIGIT_NOTATION_MAX_LISTS:
            body = ",".join("".join(str(j + 1) for j in positions(g, self.k)) for g in self.generators)
        else:
            body = ",".join(":".join(str(lists[j]) for j in positions(g, self.k)) for g in self.generators)
        return f"[{body}]"

    def term_label_fn(self, lists):
        return lambda mask: ":".join(str(lists[j]) for j in positions(mask, self.k))

    @classmethod
    def parse(cls, model, lists) -> "HierarchicalModel":
        """Read a model given in bracket notation or as a list of terms; raise ValueError naming the problem."""
        lists = tuple(lists)
        k = len(lists)
        if isinstance(model, HierarchicalModel):
            if model.k != k:
                raise ValueError(f"`model` is for {model.k} lists but the data have {k}.")
            return model
        if isinstance(model, str):
            raw_terms = _split_bracket(model, lists)
        elif isinstance(model, (list, tuple)):
            raw_terms = [_read_term(term, lists, model) for term in model]
        else:
            raise ValueError(
                f"`model` must be a bracket string such as '[12,3]' or a list of terms such as [['A', 'B'], ['C']]; "
                f"got {model!r}."
            )
        if not raw_terms:
            raise ValueError(
                f"`model` {model!r} has no terms; every list needs at least its main effect, e.g. "
                f"'[{','.join(str(j + 1) for j in range(min(k, 9)))}]' for independence."
            )
        masks = []
        for members in raw_terms:
            if len(set(members)) != len(members):
                raise ValueError(f"Term {_show(members, lists)} in `model` {model!r} repeats a list.")
            if len(members) == k:
                raise ValueError(
                    f"Term {_show(members, lists)} in `model` {model!r} is the {k}-way interaction: with it the "
                    "model is saturated including the never-listed cell and N is not identifiable. Drop it."
                )
            masks.append(term_mask(members, k))
        for i, mask in enumerate(masks):
            for j, other in enumerate(masks):
                if i != j and other & mask == mask and (mask != other or j < i):
                    raise ValueError(
                        f"`model` {model!r} is not a hierarchical generating class: term "
                        f"{_show(positions(mask, k), lists)} is already implied by "
                        f"{_show(positions(other, k), lists)}. List only the highest-order terms, e.g. '[12,3]'."
                    )
        covered = 0
        for mask in masks:
            covered |= mask
        missing = [lists[j] for j in range(k) if j not in positions(covered, k)]
        if missing:
            raise ValueError(
                f"`model` {model!r} leaves out list(s) {missing}: every list needs at least its main effect "
                "(Rcapture and SparseMSE models always include them). Add them as single terms."
            )
        return cls.from_terms(closure(masks, k), k)


def _show(members, lists) -> str:
    return "[" + ":".join(str(lists[j]) for j in members) + "]"


def _split_bracket(text: str, lists) -> list[tuple[int, ...]]:
    k = len(lists)
    body = text.strip()
    if body.startswith("[") and body.endswith("]"):
        body = body[1:-1]
    tokens = [token.strip() for token in body.split(",")] if body.strip() else []
    if any(token == "" for token in tokens):
        raise ValueError(f"`model` {text!r} has an empty term; write terms separated by commas, e.g. '[12,3]'.")
    terms = []
    for token in tokens:
        if k <= DIGIT_NOTATION_MAX_LISTS and re.fullmatch(r"\d+", token):
            _check_digit_reading(token, lists, text)
        if re.fullmatch(r"\d+", token) and token not in lists:
            if k > DIGIT_NOTATION_MAX_LISTS:
                raise ValueError(
                    f"Term {token!r} in `model` {text!r}: with {k} lists digit notation is ambiguous; write each term "
                    f"as list names joined by ':' (e.g. '[{lists[0]}:{lists[1]},{lists[2]}]') or pass a list of "
                    f"terms such as [[{lists[0]!r}, {lists[1]!r}], [{lists[2]!r}]]."
                )
            members = []
            for digit in token:
                position = int(digit)
                if not 1 <= position <= k:
                    raise ValueError(
                        f"List position {position} in term {token!r} of `model` {text!r} is out of range: the data "
                        f"have {k} lists, numbered 1..{k} ({', '.join(lists)})."
                    )
                members.append(position - 1)
            terms.append(tuple(members))
        else:
            terms.append(tuple(_list_position(name.strip(), lists, text) for name in token.split(":")))
    return terms


def _check_digit_reading(token: str, lists, text: str) -> None:
    """Refuse a digit term that lists named by digits let be read two ways (names, or 1-based positions)."""
    k = len(lists)
    if token in lists:
        by_name = (lists.index(token),)
    elif all(digit in lists for digit in token):
        by_name = tuple(lists.index(digit) for digit in token)
    else:
        return
    if all(1 <= int(digit) <= k for digit in token):
        by_position = tuple(int(digit) - 1 for digit in token)
        if by_position != by_name:
            raise ValueError(
                f"Term {token!r} in `model` {text!r} is ambiguous: the lists are named by digits "
                f"({', '.join(map(str, lists))}), so it could mean lists {_show(by_name, lists)} by name or "
                f"{_show(by_position, lists)} by position. Pass a list of terms by name instead, e.g. "
                f"[{[lists[j] for j in by_name]!r}, ...]."
            )


def _list_position(item, lists, model) -> int:
    if isinstance(item, str):
        if item in lists:
            return lists.index(item)
        raise ValueError(f"Unknown list {item!r} in `model` {model!r}; the lists are {list(lists)}.")
    if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
        if 1 <= int(item) <= len(lists):
            return int(item) - 1
        raise ValueError(
            f"List position {item} in `model` {model!r} is out of range: positions are 1..{len(lists)}."
        )
    raise ValueError(f"Cannot read {item!r} in `model` {model!r} as a list name or 1-based position.")


def _read_term(term, lists, model) -> tuple[int, ...]:
    if isinstance(term, str):
        if term in lists:
            return (lists.index(term),)
        return _split_bracket("[" + term + "]", lists)[0] if "," not in term else _bad_term(term, model)
    if isinstance(term, (int, np.integer)) and not isinstance(term, bool):
        return (_list_position(term, lists, model),)
    if isinstance(term, (list, tuple)) and term:
        return tuple(_list_position(item, lists, model) for item in term)
    return _bad_term(term, model)


def _bad_term(term, model):
    raise ValueError(
        f"Cannot read term {term!r} of `model` {model!r}: give a term as a list of list names or 1-based positions."
    )


def design_matrix(model, lists) -> np.ndarray:
    """Poisson design of ``model`` over the 2**k - 1 observable cells (rows in dense order, first list most
    significant; columns: intercept, then the model's terms by order and position, each a 0/1 indicator)."""
    hierarchical = HierarchicalModel.parse(model, lists)
    return term_columns(np.arange(1, 2 ** len(lists), dtype=np.int64), hierarchical.terms)



def term_columns(cells: np.ndarray, terms) -> np.ndarray:
    """0/1 design columns (intercept first) of ``terms`` over ``cells`` (integer masks)."""
    cells = np.asarray(cells, dtype=np.int64)
    terms = np.asarray(list(terms), dtype=np.int64)
    columns = ((cells[:, None] & terms[None, :]) == terms[None, :]).astype(float)
    return np.hstack([np.ones((len(cells), 1)), columns])
