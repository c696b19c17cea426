"""Clusters from links: connected components, with one record per list unless the duplicates were linked.

Links are taken in decreasing order of match probability and joined by union-find (Kruskal's order). A link joins
two clusters unless the result would hold two records of one list that no within-list link joined, or more than
``max_size`` records: then it is dropped, so a conflict is resolved in favour of the more probable links. A link
between two records of the same list (a within-list duplicate, when the lists were deduplicated) joins clusters
that share no list other than that one.
"""

from __future__ import annotations

import numpy as np


def constrained_components(n: int, left, right, weight, record_list, max_size: int):
    """Cluster labels (0..n_clusters-1, by first record) for ``n`` records given the links ``left``-``right``.

    ``weight`` orders the links (most probable first); ``record_list`` is each record's list as an integer.
    """
    order = np.argsort(-np.asarray(weight, dtype=float), kind="stable")
    left = np.asarray(left)[order].tolist()
    right = np.asarray(right)[order].tolist()
    lists_of = np.asarray(record_list).tolist()
    parent = list(range(n))
    size = [1] * n
    members = {}  # root -> set of lists present (only for clusters of more than one record)

    def find(x):
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for a, b in zip(left, right):
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        if size[ra] + size[rb] > max_size:
            continue
        la = members.get(ra) or {lists_of[a]}
        lb = members.get(rb) or {lists_of[b]}
        shared = la & lb
        if shared and not (lists_of[a] == lists_of[b] and shared == {lists_of[a]}):
            continue
        if size[ra] < size[rb]:
            ra, rb = rb, ra
        parent[rb] = ra
        size[ra] += size[rb]
        members[ra] = la | lb
        members.pop(rb, None)
    roots = np.fromiter((find(i) for i in range(n)), dtype=np.int64, count=n)
    _, labels = np.unique(roots, return_inverse=True)
    return labels.astype(np.int64)
