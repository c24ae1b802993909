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
        # FAISS's OpenMP and numpy's BLAS: loaded before any search (the controller finds the
        # libraries loaded when first used; others, such as a model's, are not a search's)
        searched = [path for path in inside if "faiss" in path or "numpy" in path]
        assert searched and all(inside[path] == 1 for path in searched)
    assert {p["filepath"]: p["num_threads"] for p in threadpoolctl.threadpool_info()} == before
