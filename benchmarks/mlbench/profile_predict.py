"""Where KMeans' and RandomForest's GPU predictions spend their time (the two ML
predictions under 20x scikit-learn in the 2026-12-07 run).

    python benchmarks/mlbench/profile_predict.py

Prints one JSON line per estimator: the median milliseconds (after a warm-up) of the whole
``predict`` and of its phases, and of the alternatives a change would pick between:

- KMeans, 2M x 100 training rows (k=10), predict on 200k x 100: input validation, the
  squared row norms by ``einsum`` and by ``(X * X).sum(axis=1)``, the nearest-centre pass;
- RandomForestClassifier, 1M x 50, 100 trees of depth 12, predict on 100k: the fused
  forest kernel against the portable descent (``_forest_kernels.usable`` off), and whether
  both give the same probabilities.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.timing import median_ms


def timed(fn, sync, repeats: int = 7) -> tuple[float, object]:
    return median_ms(fn, sync, repeats)


def main() -> None:
    import cupy as cp

    from xpdb.ml import KMeans, RandomForestClassifier
    from xpdb.ml import _forest_kernels as fk
    from xpdb.ml._data import validate_data
    from xpdb.ml.cluster import _min_sq_dist, _sq_norms

    sync = cp.cuda.Device().synchronize
    rng = cp.random.default_rng(0)
    X = rng.standard_normal((2_000_000, 100), dtype=cp.float32)
    Q = rng.standard_normal((200_000, 100), dtype=cp.float32)
    km = KMeans(n_clusters=10, n_init=1, max_iter=20, random_state=0).fit(X)
    C = km.cluster_centers_
    rec = {"estimator": "KMeans", "queries": 200_000}
    rec["predict_ms"], _ = timed(lambda: km.predict(Q), sync)
    rec["validate_ms"], _ = timed(lambda: validate_data(km, Q, reset=False,
                                                        dtype=C.dtype), sync)
    rec["sq_norms_einsum_ms"], a = timed(lambda: _sq_norms(cp, Q), sync)
    rec["sq_norms_sum_ms"], b = timed(lambda: (Q * Q).sum(axis=1), sync)
    rec["sq_norms_max_rel_diff"] = float(cp.abs(a - b).max() / cp.abs(a).max())
    xsq = _sq_norms(cp, Q)
    rec["min_sq_dist_ms"], _ = timed(lambda: _min_sq_dist(cp, Q, xsq, C), sync)
    print(json.dumps(rec), flush=True)
    X = Q = km = None  # free the device memory before the forest

    from sklearn.datasets import make_classification

    Xh, yh = make_classification(1_000_000, 50, n_informative=20, random_state=0)
    Xr, yr = cp.asarray(Xh, dtype=cp.float32), cp.asarray(yh)
    rf = RandomForestClassifier(n_estimators=100, max_depth=12, max_features="sqrt",
                                min_samples_split=5, min_samples_leaf=2,
                                random_state=42).fit(Xr, yr)
    Qr = Xr[:100_000]
    rec = {"estimator": "RandomForestClassifier", "queries": 100_000,
           "nodes": rf.forest_.n_nodes, "depth": rf.forest_.depth}
    rec["kernel_ms"], p1 = timed(lambda: rf.predict_proba(Qr), sync)
    usable = fk.usable
    fk.usable = lambda xp, forest, n_groups: False
    try:
        rec["portable_ms"], p0 = timed(lambda: rf.predict_proba(Qr), sync)
    finally:
        fk.usable = usable
    rec["max_abs_diff"] = float(cp.abs(p1 - p0).max())
    print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
