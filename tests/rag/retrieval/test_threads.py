"""The search stages run with the numeric libraries on one thread, and restore them after."""

import numpy as np
import pytest

from rag.retrieval.threads import one_thread

threadpoolctl = pytest.importorskip("threadpoolctl")


def test_one_thread_limits_the_pools_and_restores_them():
    import faiss  # noqa: F401  (its OpenMP runtime is among the pools limited)

    np.ones((4, 4)) @ np.ones(4)  # BLAS loaded
    before = {p["filepath"]: p["num_threads"] for p in threadpoolctl.threadpool_info()}
    with one_thread():
        inside = {p["filepath"]: p["num_threads"] for p in threadpoolctl.threadpool_info()}
        assert all(n == 1 for path, n in inside.items() if path in before)
    assert {p["filepath"]: p["num_threads"] for p in threadpoolctl.threadpool_info()} == before
