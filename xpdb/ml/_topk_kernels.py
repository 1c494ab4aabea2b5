"""Row-wise k-smallest selection on the GPU, for the k-nearest-neighbour search.

The brute-force search (:func:`xpdb.ml.neighbors._kneighbors`) writes a block of ranking
keys ``D = -2 Q X^T`` with one matrix product, then needs, per query row, the ``k``
smallest ``D[r, j] + aux[j]`` (``aux``: the training rows' squared norms) merged with the
best of the earlier training chunks. CuPy's ``argpartition`` is a full sort, and adding
``aux`` is a pass of its own, so on the GPU two kernels replace them:

- ``xpdb_topk_lanes``: one warp per row; lane ``l`` streams columns ``l, l + 32, ...``
  (coalesced reads), adds ``aux``, and keeps its own ``k`` smallest in registers (an
  unrolled insertion that most values leave after one compare). It writes ``32 k``
  candidates per row.
- ``xpdb_topk_merge``: one thread per row merges the running best with the row's
  candidates the same way.

Order is by ``(value, column)``: of equal values the lower column wins, so the result is
exactly the first ``k`` entries of a stable sort of ``[best, D + aux]`` by value
(:func:`topk_merge_reference`, the NumPy twin the tests compare with). NaN counts as
``+inf``. ``k`` is a compile-time constant (one build per ``k`` and dtype) up to
:data:`MAX_K`; larger ``k`` takes the portable selection.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..kernels._xp import cached_kernel

#: largest k the kernels keep in registers
MAX_K = 32
#: lanes (threads) per row in the first pass: one warp
LANES = 32

_SOURCE = r"""
#define XPDB_NO_COL 9223372036854775807LL

// is (v, i) before (w, j): smaller value, then smaller column
__device__ __forceinline__ bool xpdb_before(const T v, const long long i, const T w,
                                            const long long j)
{
    return v < w || (v == w && i < j);
}

// insert (v, i) into the ascending list (bv, bi) of K entries, dropping the last
__device__ __forceinline__ void xpdb_insert(T* bv, long long* bi, T v, long long i)
{
    if (!xpdb_before(v, i, bv[K - 1], bi[K - 1])) return;
    bv[K - 1] = v;
    bi[K - 1] = i;
    #pragma unroll
    for (int s = K - 1; s > 0; --s) {
        if (xpdb_before(bv[s], bi[s], bv[s - 1], bi[s - 1])) {
            const T tv = bv[s]; bv[s] = bv[s - 1]; bv[s - 1] = tv;
            const long long ti = bi[s]; bi[s] = bi[s - 1]; bi[s - 1] = ti;
        }
    }
}

// pass 1: lane l of row r keeps the K smallest D[r, j] + aux[j] over j = l, l + L, ...
// (columns offset by col0) and writes them to cv/ci[(r * L + l) * K + s]
extern "C" __global__ void xpdb_topk_lanes(
    const T* D, const long long ld, const T* aux, const int has_aux,
    const long long rows, const long long cols, const long long col0, const T inf, T* cv,
    long long* ci)
{
    const long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    const long long r = t / L;
    const long long lane = t % L;
    if (r >= rows) return;
    T bv[K];
    long long bi[K];
    #pragma unroll
    for (int s = 0; s < K; ++s) { bv[s] = inf; bi[s] = XPDB_NO_COL; }
    const T* row = D + r * ld;
    for (long long j = lane; j < cols; j += L) {
        T v = row[j];
        if (has_aux) v += aux[j];
        if (v != v) v = inf;
        xpdb_insert(bv, bi, v, col0 + j);
    }
    T* ov = cv + t * K;
    long long* oi = ci + t * K;
    #pragma unroll
    for (int s = 0; s < K; ++s) { ov[s] = bv[s]; oi[s] = bi[s]; }
}

// pass 2: per row, the K smallest of the running best (bestv/besti, has_best) and the
// row's L * K candidates, written over the running best
extern "C" __global__ void xpdb_topk_merge(
    T* bestv, long long* besti, const int has_best, const T* cv, const long long* ci,
    const long long rows, const T inf)
{
    const long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= rows) return;
    T bv[K];
    long long bi[K];
    #pragma unroll
    for (int s = 0; s < K; ++s) {
        bv[s] = has_best ? bestv[r * K + s] : inf;
        bi[s] = has_best ? besti[r * K + s] : XPDB_NO_COL;
    }
    const long long base = r * L * K;
    for (long long q = 0; q < L * K; ++q) xpdb_insert(bv, bi, cv[base + q], ci[base + q]);
    #pragma unroll
    for (int s = 0; s < K; ++s) { bestv[r * K + s] = bv[s]; besti[r * K + s] = bi[s]; }
}
"""


def usable(xp: Any, D: Any, k: int) -> bool:
    """Whether the kernels serve blocks ``D`` (CuPy, float32/64, ``k <= MAX_K``)."""
    return (getattr(xp, "__name__", "") == "cupy" and D.dtype in (np.float32, np.float64)
            and 1 <= k <= MAX_K)


class TopK:
    """Running ``k`` smallest per row over column blocks (the kernels' driver).

    Parameters
    ----------
    xp : module
        CuPy (or the emulator in tests).
    rows, k : int
        Query rows and neighbours kept.
    dtype : numpy dtype
        float32 or float64, the blocks' dtype.
    """

    def __init__(self, xp: Any, rows: int, k: int, dtype: Any) -> None:
        self.xp, self.rows, self.k = xp, int(rows), int(k)
        self.dtype = np.dtype(dtype)
        self.best_v = xp.empty((self.rows, self.k), dtype=self.dtype)
        self.best_i = xp.empty((self.rows, self.k), dtype=np.int64)
        self.has_best = False
        self._inf = self.dtype.type(np.inf)
        ctype = "float" if self.dtype == np.float32 else "double"
        dev = int(xp.cuda.Device().id) if hasattr(xp, "cuda") else 0
        src = f"#define T {ctype}\n#define K {self.k}\n#define L {LANES}\n" + _SOURCE
        self._lanes = cached_kernel(("xpdb_topk_lanes", ctype, self.k, dev, id(xp)),
                                    lambda: xp.RawKernel(src, "xpdb_topk_lanes"))
        self._merge = cached_kernel(("xpdb_topk_merge", ctype, self.k, dev, id(xp)),
                                    lambda: xp.RawKernel(src, "xpdb_topk_merge"))

    def add(self, D: Any, aux: Any, col0: int) -> None:
        """Merge block ``D`` (rows x cols, C-contiguous rows; ``aux``: per-column addend or
        None) whose first column is training row ``col0``."""
        xp = self.xp
        rows, cols = (int(s) for s in D.shape)
        if rows != self.rows:
            raise ValueError(f"block has {rows} rows, expected {self.rows}")
        if cols == 0 or rows == 0:
            return
        D = xp.ascontiguousarray(D, dtype=self.dtype)
        has_aux = aux is not None
        aux = (xp.ascontiguousarray(aux, dtype=self.dtype) if has_aux
               else xp.zeros(1, dtype=self.dtype))
        cv = xp.empty(rows * LANES * self.k, dtype=self.dtype)
        ci = xp.empty(rows * LANES * self.k, dtype=np.int64)
        threads = 256
        n = rows * LANES
        self._lanes(((n + threads - 1) // threads,), (threads,),
                    (D, np.int64(cols), aux, np.int32(has_aux), np.int64(rows),
                     np.int64(cols), np.int64(col0), self._inf, cv, ci))
        self._merge(((rows + threads - 1) // threads,), (threads,),
                    (self.best_v, self.best_i, np.int32(self.has_best), cv, ci,
                     np.int64(rows), self._inf))
        self.has_best = True

    def result(self) -> tuple[Any, Any]:
        """``(values, columns)`` of the ``k`` smallest, ascending by (value, column)."""
        return self.best_v, self.best_i


def topk_merge_reference(xp: Any, best_v: Any, best_i: Any, D: Any, aux: Any, col0: int,
                         k: int) -> tuple[Any, Any]:
    """The NumPy twin of one :meth:`TopK.add`: the first ``k`` of a stable sort by value of
    the running best (None: none yet) followed by ``D + aux`` (NaN as +inf), columns
    offset by ``col0``; ties go to the lower column. Missing entries (fewer than ``k``
    candidates) are ``(+inf, int64 max)``."""
    rows, cols = D.shape
    v = D + aux[None, :] if aux is not None else D
    v = xp.where(xp.isnan(v), xp.inf, v).astype(D.dtype)
    c = xp.broadcast_to(xp.arange(cols, dtype=np.int64) + col0, (rows, cols))
    if best_v is not None:
        v = xp.concatenate([best_v, v], axis=1)
        c = xp.concatenate([best_i, c], axis=1)
    pad = max(0, k - v.shape[1])
    if pad:
        v = xp.concatenate([v, xp.full((rows, pad), xp.inf, dtype=v.dtype)], axis=1)
        c = xp.concatenate([c, xp.full((rows, pad), np.iinfo(np.int64).max,
                                       dtype=np.int64)], axis=1)
    # ties by column: sort by column first, then stably by value
    o1 = xp.argsort(c, axis=1, kind="stable")
    v, c = xp.take_along_axis(v, o1, axis=1), xp.take_along_axis(c, o1, axis=1)
    o2 = xp.argsort(v, axis=1, kind="stable")[:, :k]
    return xp.take_along_axis(v, o2, axis=1), xp.take_along_axis(c, o2, axis=1)
