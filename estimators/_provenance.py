"""What every Bayesian result records about how it was made, under one set of keys.

``loglinear_bayes`` and ``daily_rates`` used to write this twice with different keys (``seed`` a string in one,
``random_seed`` an integer in the other; ``method`` against ``estimator``). Both now call :func:`attrs`.
No timestamp: the same call with the same seed must give the same saved result, byte for byte.
"""

from __future__ import annotations

import hashlib
import json


def settings_hash(settings: dict) -> str:
    """First 16 hex digits of the SHA-256 of ``settings`` as sorted JSON (values JSON cannot hold as ``str``)."""
    return hashlib.sha256(_json(settings).encode()).hexdigest()[:16]


def attrs(method: str, settings: dict, random_seed: int) -> dict:
    """The attributes of a fit's ``idata``: method, settings (JSON), settings_hash, random_seed (int), package_version.

    ``random_seed=random_seed`` with the same settings repeats the fit; ``settings_hash`` tells two fits' settings
    apart without comparing them.
    """
    from . import __version__

    return {
        "method": method,
        "settings": _json(settings),
        "settings_hash": settings_hash(settings),
        "random_seed": int(random_seed),
        "package_version": __version__,
    }


def details(provenance: dict) -> dict:
    """The provenance keys a result's ``details`` repeats from :func:`attrs`: random_seed and settings_hash."""
    return {"random_seed": provenance["random_seed"], "settings_hash": provenance["settings_hash"]}


def _json(settings: dict) -> str:
    return json.dumps(settings, sort_keys=True, default=str)
