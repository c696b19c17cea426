"""Warnings attributed to the caller's line, not to the line inside the package that raised them.

``warnings.warn(message, category, stacklevel=2)`` points at the package's own caller, which is another function
of the package whenever the warning is raised a few calls deep (``daily_rates`` -> ``_fit``; a function wrapped
by the argument checks of ``_validation``; ``estimate_strata`` -> the estimator). :func:`warn` skips every frame
inside the package instead, so the warning names the user's script or notebook cell, and ``filterwarnings`` by
module matches the user's module.
"""

from __future__ import annotations

import os
import warnings

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """Issue ``message`` as ``category``, attributed to the first line outside the ``estimators`` package.

    Parameters
    ----------
    message : str
    category : Warning subclass
    """
    # stacklevel=2 starts at the caller of warn(); skip_file_prefixes (Python 3.12) then passes over every frame
    # whose file is in the package, however deep the call.
    warnings.warn(message, category, stacklevel=2, skip_file_prefixes=(_PACKAGE_DIR,))
