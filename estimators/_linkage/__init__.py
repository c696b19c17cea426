"""Record linkage: separate lists of named deaths linked into people, with the linkage uncertainty carried on.

:func:`link` standardises the names (transliterations of Arabic names), blocks, and fits a Fellegi-Sunter
model with splink 5 on DuckDB; :class:`Linkage` holds the scored pairs, gives capture histories at a threshold,
and draws replicate matchings (:meth:`Linkage.replicates`) whose fits :func:`estimators.pool` combines.
splink and duckdb are imported only when :func:`link` runs.
"""

from ._link import link
from ._result import Linkage, LinkageReplicates

__all__ = ["Linkage", "LinkageReplicates", "link"]
