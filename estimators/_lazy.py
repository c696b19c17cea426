"""Heavy dependencies imported on first use, and the quantiles the estimators need without importing scipy.stats.

Most users run one fit per process (a script, the ``undercount`` command, a notebook cell): importing pandas and
scipy.stats costs more than most fits, and the numbers of most fits need neither. A module writes
``from ._lazy import pd, stats`` and uses ``pd.DataFrame`` as before; the import happens at the first attribute
read. ``is_pandas`` asks whether a value is a pandas object without importing pandas (if pandas was never
imported, it cannot be).
"""

from __future__ import annotations

import sys
from importlib import import_module

import numpy as np


class LazyModule:
    """Stands for the module ``name`` and imports it at the first attribute read."""

    __slots__ = ("_name", "_module")

    def __init__(self, name: str):
        self._name = name
        self._module = None

    def __getattr__(self, attribute: str):
        # called for every attribute (the proxy has none of its own), so the module is kept once imported
        module = self._module
        if module is None:
            module = self._module = import_module(self._name)
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


pd = LazyModule("pandas")
stats = LazyModule("scipy.stats")
special = LazyModule("scipy.special")
optimize = LazyModule("scipy.optimize")


def is_pandas(value, *kinds: str) -> bool:
    """Whether ``value`` is an instance of one of the pandas classes named in ``kinds`` (e.g. "Series")."""
    module = sys.modules.get("pandas")
    return module is not None and isinstance(value, tuple(getattr(module, kind) for kind in kinds))


# scipy.stats.norm.ppf(p) and scipy.stats.chi2.ppf(level, 1) at the levels people use, bit for bit as scipy gives
# them (statistics.NormalDist differs in the last bit, which moves profile bounds and could move a reported digit);
# tests/test_lazy.py checks every entry against scipy. Other values import scipy.stats.
_NORMAL_PPF = {
    0.75: 0.6744897501960817,
    0.9: 1.2815515655446004,
    0.95: 1.6448536269514722,
    0.975: 1.959963984540054,
    0.995: 2.5758293035489004,
    0.9995: 3.2905267314919255,
}
_CHI2_1_PPF = {
    0.5: 0.454936423119572,
    0.8: 1.642374415149818,
    0.9: 2.705543454095404,
    0.95: 3.841458820694124,
    0.99: 6.6348966010212145,
    0.999: 10.827566170662733,
}


def normal_ppf(p: float) -> np.float64:
    """``scipy.stats.norm.ppf(p)`` for a scalar ``p``."""
    value = _NORMAL_PPF.get(float(p))
    return np.float64(value) if value is not None else np.float64(stats.norm.ppf(p))


def chi2_1_ppf(level: float) -> np.float64:
    """``scipy.stats.chi2.ppf(level, 1)`` for a scalar ``level``."""
    value = _CHI2_1_PPF.get(float(level))
    return np.float64(value) if value is not None else np.float64(stats.chi2.ppf(level, 1))
