"""Helpers that sphinx-gallery imports by dotted name (``docs/conf.py`` puts ``docs/`` on ``sys.path``)."""

import tempfile
from pathlib import Path


def reset_argv(gallery_conf, script_vars):
    """Command-line arguments of each example run by the docs build.

    The scripts that save a figure with ``--plot`` write it to a temporary directory rather than into
    ``examples/``; sphinx-gallery shows the figure itself by scraping matplotlib. Everything else runs with the
    scripts' defaults, as ``python examples/NAME.py`` does.
    """
    name = Path(script_vars["src_file"]).stem
    if name in ("mosul_2017", "simulated_conflict"):
        out = Path(tempfile.gettempdir()) / "undercount-estimators-gallery"
        out.mkdir(exist_ok=True)
        return ["--plot", str(out / f"{name}.png")]
    return []
