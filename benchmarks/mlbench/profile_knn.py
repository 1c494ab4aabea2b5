"""KNN predict on the GPU with and without the top-k kernels, and its phases.

    python benchmarks/mlbench/profile_knn.py --train 1e6 --queries 1e5 --features 100

Prints one JSON line per variant: the median seconds of ``kneighbors`` (3 runs after a
warm-up) with the kernels (``topk``) and with the portable selection (``portable``), the
bare matrix products of the same blocks (``gemm_only``), and whether both variants found
the same neighbours.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.timing import median_ms
from xpdb.ml import KNeighborsClassifier
from xpdb.ml import _topk_kernels as tk


def timed(fn, sync, repeats: int = 3) -> tuple[float, object]:
    """Median seconds and the last result."""
    ms, out = median_ms(fn, sync, repeats)
    return round(ms / 1e3, 4), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", type=float, default=1e6)
    ap.add_argument("--queries", type=float, default=1e5)
    ap.add_argument("--features", type=int, default=100)
    ap.add_argument("--k", type=int, default=10)
    a = ap.parse_args()
    import cupy as cp

    rng = cp.random.default_rng(0)
    n, m, d = int(a.train), int(a.queries), a.features
    X = rng.standard_normal((n, d), dtype=cp.float32)
    Q = rng.standard_normal((m, d), dtype=cp.float32)
    y = (X[:, 0] > 0).astype(cp.int64)
    sync = cp.cuda.Device().synchronize
    est = KNeighborsClassifier(n_neighbors=a.k).fit(X, y)
    rec = {"train": n, "queries": m, "features": d, "k": a.k}
    rec["topk_s"], (_, i1) = timed(lambda: est.kneighbors(Q), sync)
    usable = tk.usable
    tk.usable = lambda xp, X, k: False
    try:
        rec["portable_s"], (_, i0) = timed(lambda: est.kneighbors(Q), sync)
    finally:
        tk.usable = usable
    rec["same_neighbours"] = float((cp.sort(i0, axis=1) == cp.sort(i1, axis=1)).mean())
    def gemm_only() -> None:
        step = max(1, int(2e9 // (4 * n)))  # 2 GB products, dropped at once
        for s in range(0, m, step):
            Q[s:s + step] @ X.T

    rec["gemm_only_s"], _ = timed(gemm_only, sync)
    print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
