"""Small helpers over the array namespace ``xp`` (NumPy or CuPy).

Each fills a gap or a difference between the two libraries with a NumPy branch and a
portable branch, so algorithm code stays free of ``if gpu`` tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np


def is_numpy(xp: Any) -> bool:
    """True when ``xp`` is NumPy (the CPU namespace)."""
    return xp is np


def to_host(xp: Any, a: Any) -> np.ndarray:
    """Copy a device array to NumPy (for tiny arrays: dictionaries, group counts).

    Prefer ``Device.to_host`` where the device is known: it counts the bytes moved.
    """
    return a if is_numpy(xp) else a.get()


def scatter_add(xp: Any, out: Any, idx: Any, values: Any) -> Any:
    """``out[idx] += values`` with repeated indices accumulated (in place; returns out)."""
    xp.add.at(out, idx, values)
    return out


def scatter_min(xp: Any, out: Any, idx: Any, values: Any) -> Any:
    """``out[idx] = min(out[idx], values)`` with repeated indices (in place).

    A NaN in a group (in ``out`` or among its values) makes the result NaN, as NumPy's
    ``minimum.at``.
    """
    if out.dtype.kind == "f" and not is_numpy(xp):
        return _float_extreme_at(xp, "min", out, idx, values)
    xp.minimum.at(out, idx, values)
    return out


def scatter_max(xp: Any, out: Any, idx: Any, values: Any) -> Any:
    """``out[idx] = max(out[idx], values)`` with repeated indices (in place); NaN wins."""
    if out.dtype.kind == "f" and not is_numpy(xp):
        return _float_extreme_at(xp, "max", out, idx, values)
    xp.maximum.at(out, idx, values)
    return out


def _float_extreme_at(xp: Any, which: str, out: Any, idx: Any, values: Any) -> Any:
    # CuPy's minimum.at/maximum.at on float64 go through float32 atomics and lose precision
    # (measured on the H200: bounding boxes off by 4e-8 relative). The dense group kernels
    # (xpdb.kernels.dense_agg, exact: int64 images of the floats) do the scatter instead;
    # NaN is handled apart, as NumPy's ufunc.at (a NaN in the group wins).
    from . import dense_agg

    values = xp.asarray(values, dtype=np.float64)
    if values.ndim == 0:
        values = xp.full(idx.shape, values, dtype=np.float64)
    values = xp.ascontiguousarray(values)
    ids = xp.ascontiguousarray(idx).astype(np.int64, copy=False)
    n = int(out.shape[0])
    v_nan = xp.isnan(values)
    group = dense_agg.group_min if which == "min" else dense_agg.group_max
    ext, counts = group(xp, ids, n, values, ~v_nan)
    nan_rows = dense_agg.group_count(xp, ids, n, v_nan)
    pick = xp.minimum if which == "min" else xp.maximum
    res = xp.where(counts > 0, pick(out.astype(np.float64), ext), out)
    out[...] = xp.where(xp.isnan(out) | (nan_rows > 0), np.nan, res).astype(out.dtype)
    return out


def bincount(xp: Any, idx: Any, minlength: int, weights: Any = None) -> Any:
    """Counts (or float64 weighted sums) of non-negative int indices, length ``minlength``.

    Counts are int64 on both libraries.
    """
    if idx.shape[0] == 0:
        return xp.zeros(minlength, dtype=np.int64 if weights is None else np.float64)
    if weights is not None and not is_numpy(xp):
        return _fixed_point_bincount(xp, idx, minlength, weights)
    out = xp.bincount(idx, weights=weights, minlength=minlength)
    return out.astype(np.int64, copy=False) if weights is None else out


def _fixed_point_bincount(xp: Any, idx: Any, minlength: int, weights: Any) -> Any:
    """Weighted bincount that gives the same bits whatever the order of the additions.

    A GPU adds float weights with atomics in no fixed order, so sums differ in their last
    bits from run to run and a tree's near-tied splits can flip between two fits of the same
    data. Here the weights are scaled by a power of two so that every partial sum fits in
    63 bits, rounded to integers and summed exactly by the dense group kernels (integer
    addition is associative); the rounding error is at most ``sum(|w|) * 2**-62`` per value.
    Non-finite weights keep the float path.
    """
    import math

    from . import dense_agg

    w = xp.asarray(weights, dtype=np.float64)
    total = float(xp.abs(w).sum())
    if not math.isfinite(total) or total == 0.0 or total < 1e-280:
        return xp.bincount(idx, weights=w, minlength=minlength)
    shift = 62 - math.frexp(total)[1]  # total < 2**(62 - shift): no partial sum overflows
    q = xp.ascontiguousarray(xp.rint(w * math.ldexp(1.0, shift)).astype(np.int64))
    ids = xp.ascontiguousarray(idx).astype(np.int64, copy=False)
    acc = dense_agg.group_sum(xp, ids, minlength, q)
    return acc.astype(np.float64) * math.ldexp(1.0, -shift)


def stable_argsort(xp: Any, key: Any) -> Any:
    """Indices that sort ``key`` ascending, equal keys keeping their order."""
    if is_numpy(xp):
        return np.argsort(key, kind="stable")
    return xp.argsort(key)  # CuPy's argsort is a stable radix/merge sort


def run_starts(xp: Any, sorted_ids: Any) -> Any:
    """Bool mask, True at the first element of each run of equal values."""
    n = sorted_ids.shape[0]
    flags = xp.empty(n, dtype=bool)
    if n:
        flags[0] = True
        flags[1:] = sorted_ids[1:] != sorted_ids[:-1]
    return flags


_kernel_cache: dict[tuple[Any, ...], Any] = {}
_kernel_lock = threading.Lock()


def cached_kernel(key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    """Build a device kernel once per ``key`` (name, specialization, device index)."""
    k = _kernel_cache.get(key)
    if k is None:
        with _kernel_lock:
            k = _kernel_cache.get(key)
            if k is None:
                k = build()
                _kernel_cache[key] = k
    return k


def argsort_bounded(xp: Any, key: Any, span: int) -> Any:
    """Stable argsort of int64 ``key`` whose values lie in ``[0, span)``.

    When ``span`` times the row count fits in 63 bits, each key is packed with its row index
    into one int64 (``key << bits | row``) and the packed values alone are sorted: they are
    unique, so any sort is stable, and a keys-only sort runs 5-10x faster than a stable
    argsort (NumPy's SIMD sort; CUB radix sort on the GPU). Otherwise falls back to
    :func:`stable_argsort`.
    """
    n = int(key.shape[0])
    if n <= 1:
        return xp.arange(n, dtype=np.int64)
    bits = (n - 1).bit_length()
    if span > (1 << (63 - bits)):
        return stable_argsort(xp, key).astype(np.int64, copy=False)
    packed = key.astype(np.int64, copy=False) << bits
    packed |= xp.arange(n, dtype=np.int64)
    packed.sort()
    packed &= (1 << bits) - 1
    return packed
