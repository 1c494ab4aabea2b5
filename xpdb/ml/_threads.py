"""Threads for the NumPy paths of the estimators.

NumPy releases the GIL inside its loops (gathers, comparisons, reductions, matrix products),
so blocks of independent work run side by side on the CPU from a plain thread pool, as
scikit-learn's OpenMP loops do. Matrix products inside such blocks run with one BLAS thread
each: the pool already fills the cores, and BLAS's own threads on top of it would
oversubscribe them. On a GPU the blocks run one after another (the device is already
parallel, and one stream orders them).

``n_jobs`` is counted as joblib counts it: ``None`` is one thread unless the estimator's
default says otherwise, ``-1`` every core, ``-2`` all but one. "Every core" is the cores
this process may run on (its CPU affinity, which containers and ``taskset`` set). Where an
estimator's default is every core (as scikit-learn's OpenMP loops are), ``OMP_NUM_THREADS``
caps it too, as it caps scikit-learn's: Dask workers set it to 1, so that workers sharing
a machine do not each start a thread per core.
"""

from __future__ import annotations

import functools
import numbers
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ..kernels._xp import is_numpy
from ._data import DataError

__all__ = ["every_core", "map_blocks", "n_threads", "row_blocks", "subtract_rows"]

T = TypeVar("T")


def n_threads(owner: str, n_jobs: Any, default: int = 1) -> int:
    """Threads for ``n_jobs`` (joblib's counting); ``default`` for ``None`` (-1: every core).

    Raises
    ------
    DataError
        ``n_jobs`` is 0 or not an integer.
    """
    cores = _cores()
    if n_jobs is None:
        n_jobs = default
        omp = os.environ.get("OMP_NUM_THREADS", "")
        if omp.isdigit() and int(omp) > 0:
            cores = min(cores, int(omp))
    elif not isinstance(n_jobs, numbers.Integral) or isinstance(n_jobs, bool) or n_jobs == 0:
        raise DataError(f"{owner}: n_jobs={n_jobs!r} must be a nonzero integer or None "
                        "(-1: every core)")
    if n_jobs > 0:
        return int(n_jobs)
    return max(1, cores + 1 + int(n_jobs))


def every_core(owner: str) -> int:
    """Threads for work whose only setting is every core (``OMP_NUM_THREADS`` caps it)."""
    return n_threads(owner, None, default=-1)


def _cores() -> int:
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def map_blocks(xp: Any, fn: Callable[[Any], T], items: Iterable[Any], threads: int) -> list[T]:
    """``[fn(item) for item in items]``, on ``threads`` threads on the CPU (in order).

    ``fn`` must only write what its own item owns (disjoint slices of shared outputs).
    """
    items = list(items)
    if threads <= 1 or len(items) <= 1 or not is_numpy(xp):
        return [fn(item) for item in items]
    with _blas().limit(limits=1), ThreadPoolExecutor(min(threads, len(items))) as pool:
        return list(pool.map(fn, items))


#: Bytes of rows one thread of :func:`subtract_rows` writes at a time.
ROW_BLOCK_BYTES = 1 << 22


def subtract_rows(xp: Any, X: Any, v: Any, threads: int) -> Any:
    """``X - v`` (``v`` one row), by blocks of rows on ``threads`` threads on the CPU (a
    copy of X goes through memory once, on every core); one operation on a GPU."""
    if not is_numpy(xp) or threads <= 1:
        return X - v
    out = xp.empty(X.shape, dtype=xp.result_type(X.dtype, v.dtype))

    def block(b: slice) -> None:
        xp.subtract(X[b], v, out=out[b])

    map_blocks(xp, block, row_blocks(X.shape[0], X.shape[1] * out.dtype.itemsize,
                                     ROW_BLOCK_BYTES), threads)
    return out


def row_blocks(n_rows: int, row_bytes: int, budget: int) -> Iterator[slice]:
    """Slices of ``n_rows`` rows such that one block of rows x ``row_bytes`` fits the budget."""
    step = max(1, int(budget // max(row_bytes, 1)))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


@functools.cache
def _blas() -> Any:
    """The BLAS libraries loaded in this process (NumPy's, SciPy's), found once: a fresh
    scan of the loaded libraries takes ~2 ms, too much for each of an L-BFGS fit's hundred
    loss evaluations; setting their threads takes 15 us."""
    import scipy.linalg  # noqa: F401  (loads SciPy's BLAS before the scan, if not yet)
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api="blas")
