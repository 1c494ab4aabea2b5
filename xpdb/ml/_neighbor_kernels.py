"""Fused radius-neighbour kernels for DBSCAN on the GPU.

DBSCAN's portable path (:class:`xpdb.ml.cluster.DBSCAN`) compares blocks of sweep-sorted rows
with the window of columns each block can reach, as dense GEMM blocks: every pass writes
and reads a rows x window distance matrix and its mask. On the GPU these kernels fuse the
distance, the threshold and the reduction into one pass that keeps each row in registers
and streams the columns of its own window (``lo[r]:hi[r]`` of ``cols``), so nothing of size
rows x window is ever stored:

- ``count``: neighbour count and weighted count of each row (core points);
- ``edges``: the neighbour pairs ``(r, t)`` with ``t > r`` written at a given offset per row
  (the prefix sum of a counting pass), for the components of the core graph;
- ``min``: the smallest ``labels[t]`` over the neighbours of each row (border points, and
  label propagation when the edges would not fit).

Distances are the portable path's reduced distances, ``|a|^2 + |b|^2 - 2 a.b`` clamped at 0
(euclidean) or ``1 - a.b`` clamped at 0 (cosine, rows normalized), in the data's precision;
the dot products accumulate in a different order than cuBLAS's, so a pair within rounding
of ``eps`` may fall on the other side, as between any two BLAS libraries.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..kernels._xp import cached_kernel

#: widest rows the kernels hold in registers; wider data takes the portable path
MAX_FEATURES = 64

_SOURCE = r"""
#define NO_LABEL 9223372036854775807LL
extern "C" __global__ void xpdb_radius_nbrs(
    const T* P, const T* sq, const long long* rows, const long long nrows,
    const long long* cols, const long long* lo, const long long* hi, const T thr,
    const int mode, const int cosine, const int has_w, const T* w, double* wsum, long long* cnt,
    const long long* off, long long* eu, long long* ev, const int only_after,
    const long long* labels, long long* minlab)
{
    const long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= nrows) return;
    const long long i = rows[r];
    T pi[D];
    #pragma unroll
    for (int k = 0; k < D; ++k) pi[k] = P[i * D + k];
    const T sqi = cosine ? (T)0 : sq[i];
    long long c = 0;
    double ws = 0.0;
    long long ml = NO_LABEL;
    const long long o = mode == 1 ? off[r] : 0;
    long long t0 = lo[r];
    if (only_after && t0 <= r) t0 = r + 1;
    const long long t1 = hi[r];
    for (long long t = t0; t < t1; ++t) {
        const long long j = cols[t];
        T dot = 0;
        #pragma unroll
        for (int k = 0; k < D; ++k) dot += pi[k] * P[j * D + k];
        T dd = cosine ? (T)1 - dot : sqi + sq[j] - (T)2 * dot;
        if (dd < (T)0) dd = (T)0;
        if (dd <= thr) {
            if (mode == 0) { ws += has_w ? (double)w[j] : 1.0; }
            else if (mode == 1) { eu[o + c] = r; ev[o + c] = t; }
            else { const long long l = labels[t]; if (l < ml) ml = l; }
            ++c;
        }
    }
    if (mode == 0) { cnt[r] = c; wsum[r] = ws; }
    else if (mode == 2) { minlab[r] = ml; }
}
"""


def usable(xp: Any, X: Any, metric: str) -> bool:
    """Whether the fused kernels serve ``X`` (CuPy, float32/64, few features, euclidean or
    cosine)."""
    return (getattr(xp, "__name__", "") == "cupy" and metric in ("euclidean", "cosine")
            and X.dtype in (np.float32, np.float64) and 0 < X.shape[1] <= MAX_FEATURES)


class RadiusNeighbors:
    """The three kernel modes over rows ``P`` (C-contiguous, sweep-sorted on the device).

    Parameters
    ----------
    xp : module
        CuPy.
    P : array (n, d)
        The prepared rows (centered for euclidean, normalized for cosine).
    sq : array (n,) or None
        Squared norms (euclidean).
    thr : float
        The reduced-distance threshold (``eps**2`` or the cosine distance).
    cosine : bool
    """

    def __init__(self, xp: Any, P: Any, sq: Any, thr: float, cosine: bool):
        self.xp = xp
        self.P = xp.ascontiguousarray(P)
        self.dtype = self.P.dtype
        self.sq = (xp.zeros(1, dtype=self.dtype) if sq is None
                   else xp.ascontiguousarray(sq, dtype=self.dtype))
        self.thr = self.dtype.type(thr)
        self.cosine = np.int32(bool(cosine))
        d = int(self.P.shape[1])
        ctype = "float" if self.dtype == np.float32 else "double"
        dev = int(xp.cuda.Device().id)
        self._kernel = cached_kernel(
            ("xpdb_radius_nbrs", ctype, d, dev),
            lambda: xp.RawKernel(f"#define T {ctype}\n#define D {d}\n" + _SOURCE,
                                 "xpdb_radius_nbrs"),
        )

    def _run(self, rows: Any, cols: Any, lo: Any, hi: Any, mode: int, *, w: Any = None,
             wsum: Any = None, cnt: Any = None, off: Any = None, eu: Any = None,
             ev: Any = None, only_after: bool = False, labels: Any = None,
             minlab: Any = None) -> None:
        xp = self.xp
        n = int(rows.shape[0])
        if n == 0:
            return
        i64 = xp.zeros(1, dtype=np.int64)
        f64 = xp.zeros(1, dtype=np.float64)
        threads = 128
        self._kernel(
            ((n + threads - 1) // threads,), (threads,),
            (self.P, self.sq, rows, np.int64(n), cols, lo, hi, self.thr, np.int32(mode),
             self.cosine, np.int32(w is not None), w if w is not None else self.sq,
             wsum if wsum is not None else f64, cnt if cnt is not None else i64,
             off if off is not None else i64, eu if eu is not None else i64,
             ev if ev is not None else i64, np.int32(only_after),
             labels if labels is not None else i64, minlab if minlab is not None else i64),
        )

    def counts(self, rows: Any, cols: Any, lo: Any, hi: Any, w: Any = None,
               only_after: bool = False) -> tuple[Any, Any]:
        """Per row: the number of neighbours (int64) and their total weight (float64)."""
        xp = self.xp
        n = int(rows.shape[0])
        cnt = xp.zeros(n, dtype=np.int64)
        wsum = xp.zeros(n, dtype=np.float64)
        w = None if w is None else xp.ascontiguousarray(w, dtype=self.dtype)
        self._run(rows, cols, lo, hi, 0, w=w, wsum=wsum, cnt=cnt, only_after=only_after)
        return cnt, wsum

    def edges(self, rows: Any, cols: Any, lo: Any, hi: Any, max_edges: int
              ) -> tuple[Any, Any] | None:
        """Every neighbour pair ``(r, t)``, ``t > r``, as positions in ``rows`` / ``cols``
        (the same array: the core points); None when there are more than ``max_edges``."""
        xp = self.xp
        cnt, _ = self.counts(rows, cols, lo, hi, only_after=True)
        off = xp.zeros(cnt.shape[0], dtype=np.int64)
        if cnt.shape[0] > 1:
            off[1:] = xp.cumsum(cnt[:-1])
        total = int(off[-1] + cnt[-1]) if cnt.shape[0] else 0
        if total > max_edges:
            return None
        eu = xp.empty(total, dtype=np.int64)
        ev = xp.empty(total, dtype=np.int64)
        if total:
            self._run(rows, cols, lo, hi, 1, off=off, eu=eu, ev=ev, only_after=True)
        return eu, ev

    def min_label(self, rows: Any, cols: Any, lo: Any, hi: Any, labels: Any) -> Any:
        """Per row, the smallest ``labels[t]`` over its neighbours ``t`` (int64 max: none)."""
        xp = self.xp
        out = xp.empty(int(rows.shape[0]), dtype=np.int64)
        self._run(rows, cols, lo, hi, 2, labels=xp.ascontiguousarray(labels, dtype=np.int64),
                  minlab=out)
        return out
