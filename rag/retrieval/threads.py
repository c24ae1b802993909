"""One thread for a search's own work.

A query's search stages (a scan of quantised codes, arithmetic over postings, a few small
matrix products) are too small to split over cores, and on a busy machine the libraries'
thread pools (FAISS's OpenMP, OpenBLAS) cost more in waking and spinning than they save:
at a million chunks on 2 shared cores, fused retrieval took 25.8 ms p50 with the default
pools against 18.3 ms with one thread (docs/benchmarks.md, "Scale"). Concurrent requests
are what should use the cores. Query embedding is not limited: it runs outside.
"""

from __future__ import annotations

import contextlib
import threading

_lock = threading.Lock()
_controller = None


def one_thread():
    """A context in which the numeric libraries loaded so far use one thread (a no-op when
    threadpoolctl is not installed). The limit is process-wide while any search holds it."""
    global _controller
    if _controller is None:
        with _lock:
            if _controller is None:
                try:
                    from threadpoolctl import ThreadpoolController
                except ImportError:
                    _controller = False
                else:
                    with contextlib.suppress(ImportError):
                        import faiss  # noqa: F401  (its OpenMP runtime loaded, so found)
                    _controller = ThreadpoolController()  # found once: ~10 us a use afterwards
    return _controller.limit(limits=1) if _controller else contextlib.nullcontext()
