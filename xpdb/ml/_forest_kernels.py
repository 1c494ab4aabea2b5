"""Tree-ensemble prediction on the GPU: one fused kernel for :func:`xpdb.ml._tree.forest_sum`.

The portable descent (``_tree._descend``) moves every (tree, sample) pair one level per
step with three gathers over an (n_trees, n_samples) array, then gathers the leaf values
and sums them: about six passes over that array per level. On the GPU
``xpdb_forest_sum`` runs one thread per sample instead: it walks each tree from its root
down ``depth`` levels (leaves point to themselves, so the walk needs no leaf test) and adds
the leaf's values to float64 accumulators in registers, trees in order. Nothing of size
samples x trees is stored.

The sum runs over the trees in order, one float64 addition each: exactly
:func:`forest_sum_reference`, the NumPy twin the tests compare with bit for bit. (The
portable ``forest_sum`` sums over the tree axis with NumPy's or CuPy's reduction, which
may order the additions otherwise: equal within rounding.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..kernels._xp import cached_kernel

#: most outputs (classes, or boosting groups) a sample's accumulators hold in registers
MAX_WIDTH = 16

_SOURCE = r"""
extern "C" __global__ void xpdb_forest_sum(
    const TX* X, const long long n, const long long ld,
    const int* feature, const double* thr, const int* left, const int* right,
    const double* value, const int n_out, const int* roots, const long long n_trees,
    const int depth, const int n_groups, double* out)
{
    const long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= n) return;
    const TX* x = X + r * ld;
    const int width = n_groups == 1 ? n_out : n_groups;
    double acc[W];
    #pragma unroll
    for (int c = 0; c < W; ++c) acc[c] = 0.0;
    for (long long t = 0; t < n_trees; ++t) {
        int idx = roots[t];
        for (int d = 0; d < depth; ++d) {
            // as NumPy compares x <= threshold: the value promoted to float64
            const double v = (double)x[feature[idx]];
            idx = v <= thr[idx] ? left[idx] : right[idx];
        }
        const double* val = value + (long long)idx * n_out;
        if (n_groups == 1) {
            #pragma unroll
            for (int c = 0; c < W; ++c) if (c < n_out) acc[c] += val[c];
        } else {
            const int g = (int)(t % n_groups);
            #pragma unroll
            for (int c = 0; c < W; ++c) if (c == g) acc[c] += val[0];
        }
    }
    #pragma unroll
    for (int c = 0; c < W; ++c) if (c < width) out[r * width + c] = acc[c];
}
"""


def width_of(forest: Any, n_groups: int) -> int:
    """Outputs per sample of :func:`forest_sum`."""
    return int(forest.value.shape[1]) if n_groups == 1 else int(n_groups)


def usable(xp: Any, forest: Any, n_groups: int) -> bool:
    """Whether the kernel serves this forest (CuPy, at most ``MAX_WIDTH`` outputs)."""
    return getattr(xp, "__name__", "") == "cupy" and 1 <= width_of(forest, n_groups) <= MAX_WIDTH


def forest_sum(xp: Any, forest: Any, X: Any, n_groups: int = 1) -> Any:
    """Sum over trees of the leaf values of every sample, (n_samples, width) float64, by
    the fused kernel (``xp``: CuPy, or the emulator in tests)."""
    n = int(X.shape[0])
    width = width_of(forest, n_groups)
    out = xp.zeros((n, width), dtype=np.float64)
    if n == 0 or forest.n_trees == 0:
        return out
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    Xc = xp.ascontiguousarray(X, dtype=dtype)
    tx = "float" if dtype == np.float32 else "double"
    dev = int(xp.cuda.Device().id) if hasattr(xp, "cuda") else 0
    w = 1 << max(0, (width - 1).bit_length())  # register slots: a power of two >= width
    src = f"#define TX {tx}\n#define W {w}\n" + _SOURCE
    kern = cached_kernel(("xpdb_forest_sum", tx, w, dev, id(xp)),
                         lambda: xp.RawKernel(src, "xpdb_forest_sum"))
    threads = 128
    kern(((n + threads - 1) // threads,), (threads,),
         (Xc, np.int64(n), np.int64(Xc.shape[1]),
          xp.ascontiguousarray(forest.feature, dtype=np.int32),
          xp.ascontiguousarray(forest.threshold, dtype=np.float64),
          xp.ascontiguousarray(forest.left, dtype=np.int32),
          xp.ascontiguousarray(forest.right, dtype=np.int32),
          xp.ascontiguousarray(forest.value, dtype=np.float64),
          np.int32(forest.value.shape[1]), xp.ascontiguousarray(forest.roots, dtype=np.int32),
          np.int64(forest.n_trees), np.int32(forest.depth), np.int32(n_groups), out))
    return out


def forest_sum_reference(xp: Any, forest: Any, X: Any, n_groups: int = 1) -> Any:
    """The NumPy twin of :func:`forest_sum`: leaves by the portable descent, values added
    tree by tree in float64 (the kernel's order)."""
    from ._tree import _descend

    n = int(X.shape[0])
    out = xp.zeros((n, width_of(forest, n_groups)), dtype=np.float64)
    if n == 0:
        return out
    leaves = _descend(xp, forest, X)  # (n_trees, n)
    for t in range(forest.n_trees):
        if n_groups == 1:
            out += forest.value[leaves[t]]
        else:
            out[:, t % n_groups] += forest.value[leaves[t], 0]
    return out
