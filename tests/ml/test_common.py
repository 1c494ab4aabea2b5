"""The generic estimator check suite (in the spirit of scikit-learn's ``check_estimator``).

Every estimator ``xpdb.ml.all_estimators()`` finds runs through the same checks on every
device: the parameter contract (clone, get/set_params), fit returns self, fitted attributes
end in ``_`` and live on the data's device, NotFittedError before fit, the feature count
check, output shapes, dtypes and devices, pickling, Pipeline and cross-validation, equal
results for NumPy/CuPy, pandas and xpdb DataFrame inputs, and the quality of the scikit-learn
twin each class declares in ``_twins`` (see ``xpdb.ml._data.Twin``) on fixed datasets.
"""

from __future__ import annotations

import importlib
import inspect
import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.base import ClassifierMixin, ClusterMixin, RegressorMixin, clone, is_classifier
from sklearn.exceptions import NotFittedError as SkNotFittedError
from sklearn.model_selection import cross_val_score as sk_cross_val_score
from sklearn.pipeline import Pipeline

import xpdb
from xpdb.ml import all_estimators
from xpdb.ml._data import Twin
from xpdb.ml.model_selection import cross_val_score
from xpdb.ml.preprocessing import MinMaxScaler, StandardScaler

from .conftest import dataset, on_device, to_host

SUPERVISED_TASKS = ("regression", "binary", "multiclass", "counts")
APPLY_METHODS = ("predict", "transform", "kneighbors")


def _takes_X(cls: type) -> bool:
    return "X" in inspect.signature(cls.fit).parameters


ESTIMATORS = [cls for _, cls in all_estimators() if _takes_X(cls)]
IDS = [cls.__name__ for cls in ESTIMATORS]


def _spec(cls: type) -> Twin:
    """The estimator's first twin, or a default setting by its kind."""
    twins = getattr(cls, "_twins", ())
    if twins:
        return twins[0]
    if issubclass(cls, ClassifierMixin):
        task = "multiclass"
    elif issubclass(cls, RegressorMixin):
        task = "regression"
    elif issubclass(cls, ClusterMixin):
        task = "cluster"
    else:
        task = "transform"
    return Twin("", task, "", 0.0)


def _xy(cls: type, device: str) -> tuple[Any, Any, Twin]:
    spec = _spec(cls)
    X, y = dataset(spec.task)
    return on_device(X, device), on_device(y, device), spec


def _fit(est: Any, X: Any, y: Any) -> Any:
    return est.fit(X, y) if y is not None else est.fit(X)


def _apply(est: Any, X: Any) -> Any:
    """The estimator's main output for X, or None when it only has fit (DBSCAN)."""
    for name in APPLY_METHODS:
        if hasattr(est, name):
            out = getattr(est, name)(X)
            return out[0] if isinstance(out, tuple) else out
    return None


def _is_on(device: str, a: Any) -> bool:
    mod = type(a).__module__
    return mod.startswith("cupy") if device == "gpu" else isinstance(a, np.ndarray)


def _frame(X: np.ndarray, kind: str, device: str) -> Any:
    pdf = pd.DataFrame(to_host(X), columns=[f"f{i}" for i in range(X.shape[1])])
    return pdf if kind == "pandas" else xpdb.from_pandas(pdf, device=device)


def _same_params(a: dict, b: dict) -> bool:
    return {k: repr(v) for k, v in a.items()} == {k: repr(v) for k, v in b.items()}


# -- the contract ---------------------------------------------------------------------------
def test_registry_lists_the_required_estimators():
    names = {name for name, _ in all_estimators()}
    required = {"LinearRegression", "Ridge", "Lasso", "ElasticNet", "LogisticRegression",
                "SGDClassifier", "SGDRegressor", "GaussianNB", "MultinomialNB",
                "StandardScaler", "MinMaxScaler", "OneHotEncoder", "LabelEncoder",
                "SimpleImputer"}
    assert required <= names
    for name, cls in all_estimators():
        assert getattr(xpdb.ml, name) is cls


@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_params_clone_round_trip(cls):
    est = cls(**_spec(cls).params)
    params = est.get_params()
    assert _same_params(clone(est).get_params(), params)
    again = cls().set_params(**params)
    assert _same_params(again.get_params(), params)
    # __init__ stores parameters only: nothing fitted, nothing extra
    assert not [k for k in vars(est) if k.endswith("_") and not k.startswith("_")]


@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_fit_returns_self_and_fitted_attributes(cls, device):
    X, y, spec = _xy(cls, device)
    est = cls(**spec.params)
    params = est.get_params()
    assert _fit(est, X, y) is est
    assert _same_params(est.get_params(), params), "fit changed a parameter"
    learned = [k for k in vars(est) if k not in params and not k.startswith("_")]
    assert learned
    for k in learned:
        assert k.endswith("_"), f"fitted attribute {k!r} does not end in '_'"
        v = getattr(est, k)
        if hasattr(v, "dtype") and getattr(v, "ndim", 0) >= 1 and v.dtype.kind == "f":
            assert _is_on(device, v), f"{k} is a {type(v).__module__} array, not on {device}"
    assert est.n_features_in_ == X.shape[1]


@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_not_fitted_error(cls):
    X, _, spec = _xy(cls, "cpu")
    est = cls(**spec.params)
    methods = [m for m in (*APPLY_METHODS, "predict_proba", "decision_function",
                           "inverse_transform") if hasattr(est, m)]
    for m in methods:
        with pytest.raises(SkNotFittedError, match="not fitted"):
            getattr(est, m)(X)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_feature_count_mismatch(cls, device):
    X, y, spec = _xy(cls, device)
    est = _fit(cls(**spec.params), X, y)
    if _apply(est, X) is None:
        pytest.skip(f"{cls.__name__} has no predict/transform")
    with pytest.raises(ValueError, match="features"):
        _apply(est, X[:, :-1])


@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_output_shape_dtype_device(cls, device):
    X, y, spec = _xy(cls, device)
    est = _fit(cls(**spec.params), X, y)
    out = _apply(est, X)
    if out is None:
        assert _is_on(device, est.labels_) and est.labels_.shape == (X.shape[0],)
        return
    assert _is_on(device, out)
    assert out.shape[0] == X.shape[0]
    method = next(m for m in APPLY_METHODS if hasattr(est, m))
    if method == "predict" and is_classifier(est):
        assert out.ndim == 1
        assert set(to_host(out).tolist()) <= set(to_host(est.classes_).tolist())
        if hasattr(est, "predict_proba"):
            proba = est.predict_proba(X)
            assert _is_on(device, proba)
            assert proba.shape == (X.shape[0], len(est.classes_))
            np.testing.assert_allclose(to_host(proba).sum(axis=1), 1.0, rtol=1e-10)
    elif method == "predict" and isinstance(est, RegressorMixin):
        assert out.ndim == 1 and out.dtype.kind == "f"
    elif method == "predict":  # clusterers
        assert out.ndim == 1 and out.dtype.kind in "iu"
    elif method == "transform":
        assert out.ndim == 2 and out.dtype.kind == "f"
    # float32 input is accepted and gives a result
    est32 = _fit(cls(**spec.params), X.astype(np.float32), y)
    out32 = _apply(est32, X.astype(np.float32))
    assert out32.shape == out.shape


@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_pickle_round_trip(cls, device):
    X, y, spec = _xy(cls, device)
    est = _fit(cls(**spec.params), X, y)
    back = pickle.loads(pickle.dumps(est))
    out = _apply(est, X)
    if out is None:
        np.testing.assert_array_equal(to_host(back.labels_), to_host(est.labels_))
    else:
        np.testing.assert_array_equal(to_host(_apply(back, X)), to_host(out))


@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_pipeline_and_cross_validation(cls, device):
    X, y, spec = _xy(cls, device)
    scaler = MinMaxScaler() if spec.task == "counts" else StandardScaler()
    pipe = Pipeline([("scale", scaler), ("est", cls(**spec.params))])
    _fit(pipe, X, y)
    out = _apply(pipe, X) if hasattr(pipe, "predict") or hasattr(pipe, "transform") else None
    if out is not None:
        assert out.shape[0] == X.shape[0]
    if not hasattr(cls, "score"):
        return
    if device == "cpu":
        scores = sk_cross_val_score(pipe, X, y, cv=3)
        assert scores.shape == (3,) and np.isfinite(scores).all()
    frame = _frame(X, "xpdb", device)
    ours = cross_val_score(cls(**spec.params), frame, y, cv=3)
    ref = cross_val_score(cls(**spec.params), X, y, cv=3)
    assert ours.shape == (3,) and np.isfinite(ours).all()
    np.testing.assert_allclose(ours, ref, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_input_kinds_agree(cls, device):
    X, y, spec = _xy(cls, device)
    base = _fit(cls(**spec.params), X, y)
    ref = _apply(base, X)
    kinds = ["xpdb"] + (["pandas"] if device == "cpu" else [])
    for kind in kinds:
        frame = _frame(X, kind, device)
        est = _fit(cls(**spec.params), frame, y)
        assert list(est.feature_names_in_) == list(frame.columns)
        out = _apply(est, frame)
        if out is None:
            np.testing.assert_allclose(to_host(est.labels_), to_host(base.labels_))
            continue
        assert _is_on(device, out), f"{kind} input gave a {type(out).__module__} output"
        got, want = to_host(out), to_host(ref)
        if got.dtype.kind in "fc":
            np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)
        else:
            np.testing.assert_array_equal(got, want)


WEIGHTED = [cls for cls in ESTIMATORS if "sample_weight" in inspect.signature(cls.fit).parameters]


@pytest.mark.parametrize("cls", WEIGHTED, ids=[c.__name__ for c in WEIGHTED])
def test_unit_sample_weights_change_nothing(cls, device):
    X, y, spec = _xy(cls, device)
    plain = _fit(cls(**spec.params), X, y)
    n = X.shape[0]
    # only unit weights: scaling all weights is not neutral everywhere (DBSCAN counts them
    # against min_samples; LogisticRegression weighs them against the penalty, as sklearn)
    for w in (np.ones(n), [1.0] * n):
        est = cls(**spec.params)
        est.fit(X, y, sample_weight=on_device(w, device)) if y is not None \
            else est.fit(X, sample_weight=on_device(w, device))
        got, want = _apply(est, X), _apply(plain, X)
        if want is None:
            got, want = est.labels_, plain.labels_
        np.testing.assert_allclose(to_host(got), to_host(want), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_fitted_on_host_applied_on_device(cls, device):
    """Attributes move to the data: an estimator fitted on NumPy data answers for data on
    the GPU with GPU arrays (and the same values)."""
    if device == "cpu":
        pytest.skip("needs a second device")
    X_host, y_host, spec = _xy(cls, "cpu")
    est = _fit(cls(**spec.params), X_host, y_host)
    want = _apply(est, X_host)
    if want is None:
        pytest.skip(f"{cls.__name__} has no predict/transform")
    got = _apply(est, on_device(X_host, device))
    assert _is_on(device, got)
    if want.dtype.kind in "fc":
        np.testing.assert_allclose(to_host(got), want, rtol=1e-7, atol=1e-9)
    else:
        np.testing.assert_array_equal(to_host(got), want)


# -- quality against the scikit-learn twin --------------------------------------------------
TWIN_CASES = [(cls, i) for cls in ESTIMATORS for i in range(len(getattr(cls, "_twins", ())))]


def _twin_id(case: tuple[type, int]) -> str:
    cls, i = case
    t = cls._twins[i]
    return f"{cls.__name__}-{i}-{t.task}-{t.score}"


def _sk_class(path: str) -> type:
    mod, _, name = path.rpartition(".")
    return getattr(importlib.import_module(mod), name)


def _align_signs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``b`` with each column's sign flipped to agree with ``a`` (components are unique up to
    sign)."""
    signs = np.sign((a * b).sum(axis=0))
    signs[signs == 0] = 1
    return b * signs


@pytest.mark.parametrize("case", TWIN_CASES, ids=[_twin_id(c) for c in TWIN_CASES])
def test_quality_matches_sklearn_twin(case, device):
    cls, i = case
    twin: Twin = cls._twins[i]
    X_host, y_host = dataset(twin.task)
    X, y = on_device(X_host, device), on_device(y_host, device)
    ours = _fit(cls(**twin.params), X, y)
    sk_params = twin.params if twin.twin_params is None else twin.twin_params
    theirs = _fit(_sk_class(twin.sklearn)(**sk_params), X_host, y_host)
    kind = twin.score
    if kind == "coef":
        for attr in ("coef_", "intercept_"):
            diff = np.abs(np.ravel(to_host(getattr(ours, attr)))
                          - np.ravel(getattr(theirs, attr))).max()
            assert diff <= twin.tol, f"{attr} differs by {diff:.3g} > {twin.tol}"
    elif kind in ("r2", "accuracy"):
        metric = skm.r2_score if kind == "r2" else skm.accuracy_score
        got = metric(y_host, to_host(ours.predict(X)))
        want = metric(y_host, theirs.predict(X_host))
        assert got >= want - twin.tol, f"{kind} {got:.4f} vs scikit-learn {want:.4f}"
    elif kind == "log_loss":
        got = skm.log_loss(y_host, to_host(ours.predict_proba(X)))
        want = skm.log_loss(y_host, theirs.predict_proba(X_host))
        assert got <= want + twin.tol, f"log loss {got:.6f} vs scikit-learn {want:.6f}"
    elif kind == "transform":
        got = to_host(ours.transform(X))
        want = theirs.transform(X_host)
        assert got.shape == want.shape
        diff = np.abs(got - _align_signs(got, want)).max()
        assert diff <= twin.tol, f"transform differs by {diff:.3g} > {twin.tol}"
    elif kind == "ari":
        ari = skm.adjusted_rand_score(theirs.labels_, to_host(ours.labels_))
        assert ari >= 1 - twin.tol, f"adjusted Rand index {ari:.4f}"
    elif kind == "recon":
        def err(est: Any, A: Any) -> float:
            back = to_host(est.inverse_transform(est.transform(A)))
            return float(np.linalg.norm(X_host - back))
        assert err(ours, X) <= err(theirs, X_host) * (1 + twin.tol)
    else:
        raise AssertionError(f"unknown twin score {kind!r}")
