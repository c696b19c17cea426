"""Where parallel work runs: joblib worker processes, or a Dask cluster from one option (``backend="dask"``).

The functions that fan work out (:func:`estimators.estimate_strata`, :func:`estimators.impute`) write it once as
``joblib.Parallel`` and take ``backend`` and ``scheduler``: with ``backend="dask"`` the same joblib code is routed to
a ``dask.distributed`` client (``joblib.parallel_config(backend="dask")``): the one given by ``scheduler``, else the
client already active in this process, else a local cluster started for the call and closed after it. So one
``with Client(...)`` block, or nothing at all, serves a whole pipeline.
"""

from __future__ import annotations

import contextlib

from ._validation import Constraint

BACKENDS = ("joblib", "dask")


class Scheduler(Constraint):
    """A Dask scheduler: its address (a string) or a ``dask.distributed.Client``; dask is not imported to check."""

    def is_satisfied_by(self, value) -> bool:
        if isinstance(value, str):
            return bool(value)
        kind = type(value)
        return kind.__name__ == "Client" and kind.__module__.split(".")[0] == "distributed"

    def __str__(self):
        return "a Dask scheduler's address (e.g. 'tcp://10.0.0.5:8786') or a dask.distributed.Client"

    def invalid_examples(self) -> list:
        return ["", 1.5, object()]


def check_backend(backend, scheduler) -> None:
    """Refuse a scheduler without the Dask backend (it would be ignored silently)."""
    if backend != "dask" and scheduler is not None:
        raise ValueError("`scheduler` is for the Dask backend; pass backend='dask' with it.")


class DaskClient:
    """Context: joblib routed to a distributed Client, returned by ``__enter__``.

    The client is ``scheduler`` (a Client, or a new one connected to an address), else the active client of this
    process (``Client.current()``), else a new local cluster of one single-threaded worker process per core (the
    work here is Python and numpy that holds the GIL). A client or cluster this context started is closed on exit;
    one it found is left running. While a started client is open it is the process's default, so nested calls
    (one per imputation) reuse it rather than start their own.
    """

    def __init__(self, scheduler=None):
        self.scheduler = scheduler
        self.client = None
        self.config = None

    def __enter__(self):
        try:
            from dask.distributed import Client
        except ImportError:
            raise ImportError(
                "backend='dask' needs dask.distributed: pip install 'undercount-estimators[dask]' "
                "(or pip install 'dask[distributed]')."
            ) from None
        import joblib

        if isinstance(self.scheduler, Client):
            client = self.scheduler
        elif self.scheduler is not None:
            client = self.client = Client(self.scheduler)
        else:
            try:
                client = Client.current(allow_global=True)
            except ValueError:
                client = self.client = Client(processes=True, threads_per_worker=1, dashboard_address=None)
        self.config = joblib.parallel_config(backend="dask", client=client, wait_for_workers_timeout=60)
        self.config.__enter__()
        return client

    def __exit__(self, *exc):
        self.config.__exit__(*exc)
        if self.client is not None:
            self.client.close()
        return False


def backend_context(backend, scheduler=None):
    """The context that routes joblib to ``backend``: a :class:`DaskClient`, or nothing for joblib's own."""
    return DaskClient(scheduler) if backend == "dask" else contextlib.nullcontext()
