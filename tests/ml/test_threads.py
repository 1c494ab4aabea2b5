"""xpdb.ml._threads: joblib's n_jobs counting and the ordered, BLAS-limited block map."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from xpdb.ml import DataError
from xpdb.ml._threads import every_core, map_blocks, n_threads


def test_n_threads_counts_as_joblib(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert n_threads("E", None) == 1
    assert n_threads("E", None, default=-1) == cores
    assert n_threads("E", 3) == 3
    assert n_threads("E", -1) == cores
    assert n_threads("E", -2) == max(1, cores - 1)
    assert n_threads("E", -10 * cores) == 1
    for bad in (0, 1.5, True, "2"):
        with pytest.raises(DataError, match=f"E: n_jobs={bad!r} must be a nonzero integer"):
            n_threads("E", bad)


def test_defaults_of_every_core_follow_omp_num_threads(monkeypatch):
    """As scikit-learn's OpenMP loops: OMP_NUM_THREADS (Dask workers set 1) caps a default
    of every core, not an n_jobs the caller gives."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert n_threads("E", None, default=-1) == every_core("E") == 1
    assert n_threads("E", 3) == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "not a number")
    assert n_threads("E", None, default=-1) == n_threads("E", -1)


def test_map_blocks_keeps_order_and_uses_threads():
    seen: set[int] = set()
    barrier = threading.Barrier(3, timeout=10)

    def fn(i: int) -> int:
        seen.add(threading.get_ident())
        if i < 3:
            barrier.wait()  # the first three items can only pass side by side
        return i * i

    assert map_blocks(np, fn, range(12), 3) == [i * i for i in range(12)]
    assert len(seen) == 3
    main = threading.get_ident()
    seen.clear()
    assert map_blocks(np, lambda i: (seen.add(threading.get_ident()), i)[1], [5, 6], 1) == [5, 6]
    assert seen == {main}  # one thread: the caller's, in order


def test_map_blocks_runs_blas_single_threaded_inside():
    from threadpoolctl import threadpool_info

    def blas_threads(_: int) -> list[int]:
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    inside = map_blocks(np, blas_threads, range(4), 2)
    assert all(t == [1] * len(t) for t in inside)


def test_subtract_rows_in_blocks(monkeypatch):
    import xpdb.ml._threads as th

    rng = np.random.default_rng(0)
    X = rng.normal(size=(1003, 7)).astype(np.float32)
    v = rng.normal(size=7)
    monkeypatch.setattr(th, "ROW_BLOCK_BYTES", 7 * 8 * 50)  # 50-row blocks
    got = th.subtract_rows(np, X, v, 3)
    np.testing.assert_array_equal(got, X - v)
    assert got.dtype == (X - v).dtype
    np.testing.assert_array_equal(th.subtract_rows(np, X, v, 1), X - v)
