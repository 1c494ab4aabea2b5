"""The portable model format (xpdb/ml/serialize.py): every estimator round-trips with
equal outputs, across devices, without pickle; damaged or foreign files are refused."""

from __future__ import annotations

import inspect
import json
import os
import zipfile
from typing import Any

import numpy as np
import pytest
from sklearn.base import ClassifierMixin, ClusterMixin, RegressorMixin

from xpdb.errors import NotSupportedError, StorageError
from xpdb.ml import all_estimators
from xpdb.ml.serialize import dumps, load_model, loads, read_manifest, save_model

from .conftest import dataset, on_device, to_host

ESTIMATORS = [cls for _, cls in all_estimators()]
APPLY = ("predict", "predict_proba", "transform", "kneighbors")


def _task(cls: type) -> tuple[str, dict[str, Any]]:
    twins = getattr(cls, "_twins", ())
    if twins:
        return twins[0].task, dict(twins[0].params)
    if issubclass(cls, ClassifierMixin):
        return "multiclass", {}
    if issubclass(cls, RegressorMixin):
        return "regression", {}
    if issubclass(cls, ClusterMixin):
        return "cluster", {}
    return "transform", {}


def _fitted(cls: type, device: str) -> tuple[Any, Any]:
    task, params = _task(cls)
    X, y = dataset(task)
    X, y = on_device(X, device), on_device(y, device)
    est = cls(**params)
    if "X" not in inspect.signature(cls.fit).parameters:  # LabelEncoder
        yy = y if y is not None else on_device(dataset("binary")[1], device)
        return est.fit(yy), yy
    est.fit(X, y) if y is not None else est.fit(X)
    return est, X


def _outputs(est: Any, X: Any) -> dict[str, Any]:
    out = {}
    for name in APPLY:
        if hasattr(est, name):
            res = getattr(est, name)(X)
            res = res if isinstance(res, tuple) else (res,)
            out[name] = [np.asarray(to_host(r.toarray() if hasattr(r, "toarray") else r))
                         for r in res]
    if not out:  # DBSCAN: the fitted labels
        out["labels_"] = [np.asarray(to_host(est.labels_))]
    return out


@pytest.mark.parametrize("cls", ESTIMATORS, ids=[c.__name__ for c in ESTIMATORS])
def test_round_trip_equal_outputs(cls: type, device: str, tmp_path) -> None:
    est, X = _fitted(cls, device)
    path = tmp_path / "m.xpm"
    save_model(est, path, metadata={"features": ["a", "b"], "rows": 3})
    back = load_model(path, device=device)
    assert type(back) is cls
    assert back.get_params() == est.get_params() or repr(back.get_params()) == repr(
        est.get_params())
    if hasattr(est, "transform") and "X" not in inspect.signature(cls.fit).parameters:
        np.testing.assert_array_equal(to_host(back.transform(X)), to_host(est.transform(X)))
        return
    want, got = _outputs(est, X), _outputs(back, X)
    assert want.keys() == got.keys()
    for name in want:
        for a, b in zip(want[name], got[name], strict=True):
            np.testing.assert_array_equal(a, b, err_msg=f"{cls.__name__}.{name}")
    # a file written on one device loads on the CPU (the CI's cross-device case)
    cpu = load_model(path, device="cpu")
    Xh = to_host(X)
    for name, arrays in _outputs(cpu, Xh).items():
        for a, b in zip(arrays, want[name], strict=True):
            np.testing.assert_allclose(a.astype(float) if a.dtype.kind in "biuf" else a,
                                       b.astype(float) if b.dtype.kind in "biuf" else b,
                                       rtol=1e-9, atol=1e-9)


def test_manifest_is_json_without_pickle(tmp_path) -> None:
    from xpdb.ml import LogisticRegression

    X, y = dataset("binary")
    labels = np.where(y == 1, "yes", "no").astype(object)
    est = LogisticRegression(C=0.5).fit(X, labels)
    path = tmp_path / "m.xpm"
    save_model(est, path, metadata={"target": "label"})
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == ["arrays.npz", "manifest.json"]
        manifest = json.loads(z.read("manifest.json"))
    assert manifest["format"] == "xpdb-model"
    assert manifest["class"] == "xpdb.ml.linear_model.LogisticRegression"
    assert manifest["estimator"]["params"]["C"] == 0.5
    fitted = manifest["estimator"]["fitted"]
    assert fitted["coef_"]["dtype"] == "float64"
    assert fitted["coef_"]["shape"] == list(est.coef_.shape)
    assert fitted["classes_"]["dtype"] == "object"
    info = read_manifest(path)
    assert info["metadata"] == {"target": "label"}
    back = load_model(path)
    assert back.classes_.tolist() == ["no", "yes"]
    assert back.predict(X).tolist() == est.predict(X).tolist()


def test_unpacked_directory_loads(tmp_path) -> None:
    from xpdb.ml import Ridge

    X, y = dataset("regression")
    est = Ridge(alpha=2.0).fit(X, y)
    with zipfile.ZipFile(__import__("io").BytesIO(dumps(est))) as z:
        z.extractall(tmp_path / "unpacked")
    back = load_model(tmp_path / "unpacked")
    np.testing.assert_array_equal(back.predict(X), est.predict(X))


def test_scikit_learn_estimator_round_trips() -> None:
    from sklearn.linear_model import LogisticRegression

    X, y = dataset("multiclass")
    est = LogisticRegression(max_iter=500).fit(X, y)
    back, meta = loads(dumps(est, {"k": [1, 2]}))
    assert meta == {"k": [1, 2]}
    np.testing.assert_array_equal(back.predict_proba(X), est.predict_proba(X))


def _rewrite(data: bytes, change: Any) -> bytes:
    import io

    src = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(src.read("manifest.json"))
    change(manifest)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("manifest.json", json.dumps(manifest))
        z.writestr("arrays.npz", src.read("arrays.npz"))
    return out.getvalue()


def test_foreign_classes_and_newer_formats_are_refused() -> None:
    from xpdb.ml import LinearRegression

    X, y = dataset("regression")
    data = dumps(LinearRegression().fit(X, y))

    def foreign(m: dict) -> None:
        m["estimator"]["__estimator__"] = "os.system"

    with pytest.raises(StorageError, match="outside xpdb"):
        loads(_rewrite(data, foreign))

    def newer(m: dict) -> None:
        m["format_version"] = 99

    with pytest.raises(StorageError, match="upgrade xpdb"):
        loads(_rewrite(data, newer))
    with pytest.raises(StorageError, match="not an xpdb model file"):
        loads(b"not a zip file")


def test_missing_file_and_unstorable_attribute(tmp_path) -> None:
    from xpdb.ml import LinearRegression

    with pytest.raises(StorageError, match="no model file"):
        load_model(tmp_path / "absent.xpm")
    X, y = dataset("regression")
    est = LinearRegression().fit(X, y)
    est.extra_ = open  # a builtin function: not portable
    with pytest.raises(NotSupportedError, match="extra_"):
        dumps(est)
    assert not os.listdir(tmp_path)
