"""The k-nearest search's top-k CUDA kernels, run on the CPU through
:mod:`xpdb.kernels.emulate` (and on CuPy where a GPU is), against their NumPy twin."""

from __future__ import annotations

import numpy as np
import pytest

from xpdb.kernels import emulate
from xpdb.ml import _topk_kernels as tk


def _run(xp, blocks, aux, k, dtype):
    top = tk.TopK(xp, blocks[0].shape[0], k, dtype)
    ref_v = ref_i = None
    col0 = 0
    for D in blocks:
        a = None if aux is None else aux[col0:col0 + D.shape[1]]
        top.add(xp.asarray(D) if hasattr(xp, "asnumpy") else D,
                None if a is None else (xp.asarray(a) if hasattr(xp, "asnumpy") else a),
                col0)
        ref_v, ref_i = tk.topk_merge_reference(np, ref_v, ref_i, D, a, col0, k)
        col0 += D.shape[1]
    got_v, got_i = top.result()
    if hasattr(xp, "asnumpy"):
        got_v, got_i = xp.asnumpy(got_v), xp.asnumpy(got_i)
    np.testing.assert_array_equal(got_i, ref_i)
    np.testing.assert_array_equal(got_v, ref_v)
    return ref_v, ref_i


def _namespaces():
    out = []
    if emulate.available():
        out.append(pytest.param("emulated", id="emulated"))
    out.append(pytest.param("cupy", id="cupy"))
    return out


@pytest.fixture(params=_namespaces())
def kxp(request):
    if request.param == "emulated":
        return emulate.emulated_cupy()
    cp = pytest.importorskip("cupy")
    try:
        cp.cuda.runtime.getDeviceCount()
    except Exception:  # noqa: BLE001
        pytest.skip("no GPU")
    return cp


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 3, 10])
def test_blocks_match_the_stable_sort(kxp, dtype, k):
    rng = np.random.default_rng(k)
    rows = 5
    blocks = [rng.normal(size=(rows, c)).astype(dtype) for c in (70, 33, 5)]
    aux = rng.uniform(0, 1, 108).astype(dtype)
    v, _ = _run(kxp, blocks, aux, k, dtype)
    assert (np.diff(v, axis=1) >= 0).all()
    # the reference itself: the k smallest of the whole row
    full = np.concatenate(blocks, axis=1) + aux
    np.testing.assert_array_equal(v, np.sort(full, axis=1)[:, :k])


def test_ties_nan_inf_and_short_rows(kxp):
    """Equal values go to the lower column; NaN counts as +inf; with fewer columns than k
    the rest is (+inf, int64 max)."""
    D = np.array([[1.0, 0.0, 1.0, 0.0, np.nan, np.inf],
                  [2.0, 2.0, 2.0, 2.0, 2.0, 2.0]])
    v, i = _run(kxp, [D[:, :3], D[:, 3:]], None, 4, np.float64)
    assert i[0].tolist() == [1, 3, 0, 2]
    assert i[1].tolist() == [0, 1, 2, 3]
    v, i = _run(kxp, [D[:, :2]], None, 4, np.float64)
    assert np.isinf(v[:, 2:]).all() and (i[:, 2:] == np.iinfo(np.int64).max).all()
    v, i = _run(kxp, [D[:, 4:]], None, 2, np.float64)
    assert i[0].tolist() == [0, 1] and np.isinf(v[0]).all()  # NaN ranks as +inf, then column


@pytest.mark.skipif(not emulate.available(), reason="needs g++ to emulate kernels")
@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "cosine"])
def test_kneighbors_through_the_kernels(monkeypatch, metric):
    """KNN on NumPy through the emulated kernels (small chunks: several merges) gives
    scikit-learn's neighbours."""
    from sklearn.neighbors import NearestNeighbors as SkNN

    from xpdb.ml import NearestNeighbors, neighbors

    emu = emulate.emulated_cupy()
    built = []

    def emulated(xp, rows, k, dtype, _T=tk.TopK):
        built.append(rows)
        return _T(emu, rows, k, dtype)

    monkeypatch.setattr(tk, "usable", lambda xp, X, k: 1 <= k <= tk.MAX_K)
    monkeypatch.setattr(tk, "TopK", emulated)
    monkeypatch.setattr(neighbors, "_budget", lambda xp: 40 * 1024)
    monkeypatch.setattr(neighbors, "TOPK_KERNEL_CHUNK", 64)  # several merges
    rng = np.random.default_rng(3)
    X, Q = rng.normal(size=(300, 6)), rng.normal(size=(17, 6))
    # one thread: the emulator (a test device) runs one launch at a time, like a stream
    got_d, got_i = NearestNeighbors(n_neighbors=4, metric=metric, n_jobs=1).fit(X).kneighbors(Q)
    ref_d, ref_i = SkNN(n_neighbors=4, metric=metric).fit(X).kneighbors(Q)
    np.testing.assert_array_equal(got_i, ref_i)
    np.testing.assert_allclose(got_d, ref_d, rtol=1e-9, atol=1e-12)
    assert built  # the kernels ran
