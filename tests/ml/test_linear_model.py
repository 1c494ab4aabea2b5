"""Linear models against scikit-learn: coefficients for the deterministic solvers, scores
for SGD, budgets, logs and error messages."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn.linear_model as sk
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler as SkScaler

import xpdb
from xpdb.errors import XpdbError
from xpdb.ml import linear_model as lm

from .conftest import dataset, on_device, to_host


def _close(ours, theirs, tol):
    np.testing.assert_allclose(np.ravel(to_host(ours.coef_)), np.ravel(theirs.coef_),
                               atol=tol, rtol=0)
    np.testing.assert_allclose(np.ravel(to_host(ours.intercept_)),
                               np.ravel(theirs.intercept_), atol=tol, rtol=0)


@pytest.mark.parametrize(("name", "params", "tol"), [
    ("LinearRegression", {}, 1e-9),
    ("LinearRegression", {"fit_intercept": False}, 1e-9),
    ("Ridge", {"alpha": 0.1}, 1e-9),
    ("Ridge", {"alpha": 50.0, "fit_intercept": False}, 1e-9),
    ("Lasso", {"alpha": 0.05, "tol": 1e-10}, 1e-6),
    ("Lasso", {"alpha": 0.2, "tol": 1e-10, "positive": True}, 1e-6),
    ("ElasticNet", {"alpha": 0.1, "l1_ratio": 0.3, "tol": 1e-10}, 1e-6),
    ("ElasticNet", {"alpha": 0.1, "l1_ratio": 0.8, "tol": 1e-10, "fit_intercept": False},
     1e-6),
])
def test_least_squares_family_matches_sklearn(device, name, params, tol):
    X, y = dataset("regression")
    y = y * 3 + 1.5
    ours = getattr(lm, name)(**params).fit(on_device(X, device), on_device(y, device))
    theirs = getattr(sk, name)(**params).fit(X, y)
    _close(ours, theirs, tol)
    pred = ours.predict(on_device(X, device))
    np.testing.assert_allclose(to_host(pred), theirs.predict(X), atol=1e-5)
    assert ours.score(on_device(X, device), on_device(y, device)) == pytest.approx(
        theirs.score(X, y), abs=1e-6)


def test_lasso_zeroes_uninformative_features(device):
    X, y = dataset("regression")
    ours = lm.Lasso(alpha=0.3).fit(on_device(X, device), on_device(y, device))
    theirs = sk.Lasso(alpha=0.3).fit(X, y)
    np.testing.assert_array_equal(to_host(ours.coef_) == 0, theirs.coef_ == 0)
    assert (theirs.coef_ == 0).any()


def test_linear_regression_collinear_features_min_norm(device):
    rng = np.random.default_rng(3)
    a = rng.normal(size=(80, 3))
    X = np.column_stack([a, a[:, 0] + a[:, 1]])  # rank 3 of 4
    y = a @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=80)
    ours = lm.LinearRegression().fit(on_device(X, device), on_device(y, device))
    theirs = sk.LinearRegression().fit(X, y)
    np.testing.assert_allclose(to_host(ours.predict(on_device(X, device))), theirs.predict(X),
                               atol=1e-8)
    np.testing.assert_allclose(to_host(ours.coef_), theirs.coef_, atol=1e-6)


def test_float32_input_keeps_float32(device):
    X, y = dataset("regression")
    est = lm.Ridge().fit(on_device(X.astype(np.float32), device), on_device(y, device))
    assert est.coef_.dtype == np.float32
    assert est.predict(on_device(X.astype(np.float32), device)).dtype == np.float32


def _scaled(task):
    X, y = dataset(task)
    return SkScaler().fit_transform(X), y


@pytest.mark.parametrize("task", ["binary", "multiclass"])
@pytest.mark.parametrize(("params", "sk_params", "tol"), [
    ({"C": 1.0}, {"C": 1.0}, 1e-5),
    ({"C": 0.05, "fit_intercept": False}, {"C": 0.05, "fit_intercept": False}, 1e-5),
    ({"penalty": None}, {"C": np.inf}, 1e-3),
    ({"penalty": "l1", "C": 0.3}, {"l1_ratio": 1.0, "C": 0.3, "solver": "saga"}, 1e-4),
    ({"penalty": "elasticnet", "l1_ratio": 0.5, "C": 0.3},
     {"l1_ratio": 0.5, "C": 0.3, "solver": "saga"}, 1e-4),
])
def test_logistic_regression_matches_sklearn(device, task, params, sk_params, tol):
    X, y = _scaled(task)
    ours = lm.LogisticRegression(tol=1e-10, max_iter=2000, **params).fit(
        on_device(X, device), on_device(y, device))
    theirs = sk.LogisticRegression(tol=1e-10, max_iter=20000, **sk_params).fit(X, y)
    _close(ours, theirs, tol)
    np.testing.assert_allclose(to_host(ours.predict_proba(on_device(X, device))),
                               theirs.predict_proba(X), atol=tol)
    np.testing.assert_allclose(to_host(ours.predict_log_proba(on_device(X, device))),
                               theirs.predict_log_proba(X), atol=10 * tol)
    np.testing.assert_array_equal(to_host(ours.predict(on_device(X, device))),
                                  theirs.predict(X))
    if params.get("penalty") == "l1":
        np.testing.assert_array_equal(to_host(ours.coef_) == 0,
                                      np.abs(theirs.coef_) < 1e-8)


def test_logistic_regression_string_labels_from_frames(device):
    X, y = _scaled("multiclass")
    names = np.array(["ant", "bee", "cat"], dtype=object)[y]
    pdf = pd.DataFrame(X, columns=list("abcdef"))
    frame = xpdb.from_pandas(pdf, device=device)
    est = lm.LogisticRegression().fit(frame, pd.Series(names))
    assert est.classes_.tolist() == ["ant", "bee", "cat"]
    pred = est.predict(frame)
    ref = sk.LogisticRegression().fit(pdf, names).predict(pdf)
    np.testing.assert_array_equal(np.asarray(pred), ref)
    assert est.score(frame, names) == pytest.approx(np.mean(ref == names))


@pytest.mark.parametrize(("params", "tol"), [
    ({}, 0.05),
    ({"loss": "log_loss", "penalty": "l1", "alpha": 1e-3}, 0.05),
    ({"loss": "modified_huber", "learning_rate": "constant", "eta0": 0.05}, 0.06),
    ({"loss": "squared_hinge", "penalty": "elasticnet"}, 0.06),
])
def test_sgd_classifier_accuracy_close_to_sklearn(device, params, tol):
    X, y = _scaled("binary")
    ours = lm.SGDClassifier(random_state=0, **params).fit(on_device(X, device),
                                                          on_device(y, device))
    theirs = [sk.SGDClassifier(random_state=s, **params).fit(X, y).score(X, y)
              for s in range(3)]
    assert ours.score(on_device(X, device), on_device(y, device)) >= np.mean(theirs) - tol


def test_sgd_l1_zeroes_the_features_sklearn_zeroes(device):
    X, y = _scaled("binary")
    est = lm.SGDClassifier(penalty="l1", alpha=0.05, random_state=0).fit(
        on_device(X, device), on_device(y, device))
    ref = sk.SGDClassifier(penalty="l1", alpha=0.05, random_state=0).fit(X, y)
    assert (ref.coef_ == 0).any()
    np.testing.assert_array_equal(to_host(est.coef_) == 0, ref.coef_ == 0)


@pytest.mark.parametrize("params", [
    {}, {"loss": "huber", "epsilon": 1.0}, {"learning_rate": "adaptive", "eta0": 0.05},
    {"loss": "epsilon_insensitive", "epsilon": 0.05, "learning_rate": "constant"},
])
def test_sgd_regressor_r2_close_to_sklearn(device, params):
    X, y = dataset("regression")
    ours = lm.SGDRegressor(random_state=0, **params).fit(on_device(X, device),
                                                         on_device(y, device))
    theirs = sk.SGDRegressor(random_state=0, **params).fit(X, y)
    assert ours.score(on_device(X, device), on_device(y, device)) >= theirs.score(X, y) - 0.01


def test_sgd_predict_proba_only_for_log_loss():
    X, y = _scaled("multiclass")
    assert not hasattr(lm.SGDClassifier().fit(X, y), "predict_proba")
    proba = lm.SGDClassifier(loss="log_loss", random_state=0).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (proba.argmax(axis=1) == y).mean() > 0.7


# -- budgets and progress -------------------------------------------------------------------
def test_time_budget_stops_sgd_early(device):
    X, y = _scaled("binary")
    with pytest.warns(ConvergenceWarning, match="time_budget"):
        est = lm.SGDClassifier(tol=None, max_iter=10**6, time_budget=0.05).fit(
            on_device(X, device), on_device(y, device))
    assert 1 <= est.n_iter_ < 10**6


def test_time_budget_stops_logistic_regression(device):
    X, y = _scaled("multiclass")
    with pytest.warns(ConvergenceWarning, match="time_budget"):
        lm.LogisticRegression(tol=1e-30, max_iter=10**6, time_budget=1e-9).fit(
            on_device(X, device), on_device(y, device))


def test_max_iter_reached_warns(device):
    X, y = dataset("regression")
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        est = lm.ElasticNet(alpha=0.01, max_iter=1, tol=1e-12).fit(
            on_device(X, device), on_device(y, device))
    assert est.n_iter_ == 1


def test_verbose_logs_each_iteration(capsys):
    X, y = _scaled("binary")
    lm.SGDClassifier(verbose=1, random_state=0).fit(X, y)
    err = capsys.readouterr().err
    assert "[SGDClassifier] iter 1/1000 loss=" in err and "converged" in err
    lm.LogisticRegression(verbose=True).fit(X, y)
    assert "[LogisticRegression] iter 1/100 objective=" in capsys.readouterr().err
    lm.Lasso(alpha=0.1, verbose=True).fit(X, y.astype(float))
    assert "dual_gap=" in capsys.readouterr().err


def test_no_output_when_not_verbose(capsys):
    X, y = _scaled("binary")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lm.SGDClassifier(random_state=0).fit(X, y)
        lm.LogisticRegression().fit(X, y)
    assert capsys.readouterr().err == ""


# -- errors ---------------------------------------------------------------------------------
def test_bad_input_errors():
    X, y = dataset("regression")
    Xn = X.copy()
    Xn[3, 1] = np.nan
    with pytest.raises(XpdbError, match="NaN or infinity"):
        lm.Ridge().fit(Xn, y)
    with pytest.raises(ValueError, match="requires y"):
        lm.LinearRegression().fit(X, None)
    with pytest.raises(ValueError, match="200 rows but y has 199"):
        lm.LinearRegression().fit(X, y[:-1])
    with pytest.raises(ValueError, match="must be 2-d"):
        lm.LinearRegression().fit(X[:, 0], y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        lm.LogisticRegression().fit(X, np.zeros(len(X), dtype=int))
    with pytest.raises(ValueError, match="penalty='l3'"):
        lm.LogisticRegression(penalty="l3").fit(X, y > 0)
    with pytest.raises(ValueError, match="loss='nope'"):
        lm.SGDRegressor(loss="nope").fit(X, y)
    with pytest.raises(ValueError, match="l1_ratio=2"):
        lm.ElasticNet(l1_ratio=2).fit(X, y)
    with pytest.raises(ValueError, match="not numeric"):
        lm.Ridge().fit(pd.DataFrame({"a": ["x", "y"], "b": [1.0, 2.0]}), [1.0, 2.0])


def test_feature_names_checked_on_predict():
    X, y = dataset("regression")
    pdf = pd.DataFrame(X, columns=[f"c{i}" for i in range(X.shape[1])])
    est = lm.Ridge().fit(pdf, y)
    assert est.feature_names_in_.tolist() == list(pdf.columns)
    with pytest.raises(ValueError, match="feature names should match"):
        est.predict(pdf[pdf.columns[::-1]])


# -- sample weights -------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "params"), [
    ("LinearRegression", {}), ("Ridge", {"alpha": 2.0}),
    ("Ridge", {"alpha": 2.0, "fit_intercept": False}),
])
def test_sample_weight_least_squares(device, rng, name, params):
    X, y = dataset("regression")
    w = rng.uniform(0.0, 3.0, len(X))
    ours = getattr(lm, name)(**params).fit(on_device(X, device), on_device(y, device),
                                           sample_weight=on_device(w, device))
    theirs = getattr(sk, name)(**params).fit(X, y, sample_weight=w)
    _close(ours, theirs, 1e-9)


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_sample_weight_logistic_regression(device, rng, task):
    X, y = _scaled(task)
    w = rng.uniform(0.0, 3.0, len(X))
    ours = lm.LogisticRegression(C=0.7, tol=1e-10, max_iter=1000).fit(
        on_device(X, device), on_device(y, device), sample_weight=on_device(w, device))
    theirs = sk.LogisticRegression(C=0.7, tol=1e-10, max_iter=1000).fit(X, y, sample_weight=w)
    _close(ours, theirs, 1e-5)
    # integer weights equal repeated rows
    reps = rng.integers(0, 3, len(X))
    a = lm.LogisticRegression(tol=1e-10).fit(X, y, sample_weight=reps)
    b = lm.LogisticRegression(tol=1e-10).fit(np.repeat(X, reps, axis=0), np.repeat(y, reps))
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-5)


@pytest.mark.parametrize("task", ["binary", "multiclass"])
@pytest.mark.parametrize("weighted", [False, True])
def test_logistic_regression_loss_by_blocks_on_threads(device, rng, task, weighted,
                                                       monkeypatch):
    """The loss and gradient summed over blocks of rows: the same fit on 1 or 4 threads,
    and the one-block fit within the optimizer's tolerance; n_jobs is checked."""
    X, y = _scaled(task)
    w = rng.uniform(0.2, 3.0, len(X)) if weighted else None
    Xd, yd = on_device(X, device), on_device(y, device)
    wd = None if w is None else on_device(w, device)
    whole = lm.LogisticRegression(C=0.7, tol=1e-10, max_iter=1000).fit(Xd, yd, wd)
    row = X.shape[1] * X.dtype.itemsize
    for kind in ("cpu", "gpu"):
        monkeypatch.setitem(lm.LOSS_BLOCK_BYTES, kind, 37 * row)  # 37-row blocks
    fits = [lm.LogisticRegression(C=0.7, tol=1e-10, max_iter=1000, n_jobs=j).fit(Xd, yd, wd)
            for j in (1, 4)]
    for attr in ("coef_", "intercept_", "n_iter_"):
        np.testing.assert_array_equal(to_host(getattr(fits[0], attr)),
                                      to_host(getattr(fits[1], attr)))
    np.testing.assert_allclose(to_host(fits[0].coef_), to_host(whole.coef_), atol=1e-6)
    theirs = sk.LogisticRegression(C=0.7, tol=1e-10, max_iter=1000).fit(X, y, sample_weight=w)
    _close(fits[1], theirs, 1e-5)
    with pytest.raises(XpdbError, match="n_jobs=0 must be a nonzero integer"):
        lm.LogisticRegression(n_jobs=0).fit(Xd, yd)


def test_sample_weight_errors():
    X, y = dataset("regression")
    with pytest.raises(ValueError, match="sample_weight has 3 values for 200 samples"):
        lm.Ridge().fit(X, y, sample_weight=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="non-negative"):
        lm.LinearRegression().fit(X, y, sample_weight=-np.ones(len(X)))


@pytest.mark.parametrize("class_weight", ["balanced", {0: 3.0, 2: 0.5}])
def test_class_weight_logistic_regression(device, class_weight):
    X, y = _scaled("multiclass")
    keep = (y != 1) | (np.arange(len(y)) % 4 == 0)  # make class 1 rare
    X, y = X[keep], y[keep]
    ours = lm.LogisticRegression(class_weight=class_weight, tol=1e-10, max_iter=1000).fit(
        on_device(X, device), on_device(y, device))
    theirs = sk.LogisticRegression(class_weight=class_weight, tol=1e-10, max_iter=1000).fit(
        X, y)
    _close(ours, theirs, 1e-5)


def test_class_weight_sgd_shifts_predictions(device):
    X, y = _scaled("binary")
    args = (on_device(X, device), on_device(y, device))
    plain = lm.SGDClassifier(loss="log_loss", random_state=0).fit(*args)
    heavy = lm.SGDClassifier(loss="log_loss", random_state=0, class_weight={0: 8.0}).fit(*args)
    n0 = int((to_host(plain.predict(args[0])) == 0).sum())
    assert int((to_host(heavy.predict(args[0])) == 0).sum()) > n0
    with pytest.raises(ValueError, match=r"class_weight names classes \[7\]"):
        lm.SGDClassifier(class_weight={7: 1.0}).fit(X, y)
    with pytest.raises(ValueError, match="class_weight='some'"):
        lm.LogisticRegression(class_weight="some").fit(X, y)


def test_sgd_regressor_sample_weight_zero_ignores_rows(device, rng):
    X, y = dataset("regression")
    y_bad = y.copy()
    y_bad[:50] = 100.0  # corrupted rows, given no weight
    w = np.r_[np.zeros(50), np.ones(len(y) - 50)]
    est = lm.SGDRegressor(random_state=0).fit(on_device(X, device), on_device(y_bad, device),
                                              sample_weight=on_device(w, device))
    assert est.score(on_device(X[50:], device), on_device(y[50:], device)) > 0.95


@pytest.mark.parametrize(("name", "params"), [
    ("LinearRegression", {}), ("Ridge", {"alpha": 3.0}),
    ("Ridge", {"alpha": 3.0, "fit_intercept": False}),
])
def test_multi_output_least_squares(device, rng, name, params):
    X, y = dataset("regression")
    Y = np.column_stack([y, 2 * y + rng.normal(size=len(y)), -y])
    w = rng.uniform(0.5, 2.0, len(y))
    ours = getattr(lm, name)(**params).fit(on_device(X, device), on_device(Y, device),
                                           sample_weight=on_device(w, device))
    theirs = getattr(sk, name)(**params).fit(X, Y, sample_weight=w)
    assert ours.coef_.shape == theirs.coef_.shape == (3, X.shape[1])
    _close(ours, theirs, 1e-9)
    pred = ours.predict(on_device(X, device))
    assert pred.shape == (len(X), 3)
    np.testing.assert_allclose(to_host(pred), theirs.predict(X), atol=1e-8)
    assert ours.score(on_device(X, device), on_device(Y, device)) == pytest.approx(
        theirs.score(X, Y), abs=1e-10)


def test_ridge_alpha_zero_collinear_is_least_squares(device, rng):
    a = rng.normal(size=(60, 2))
    X = np.column_stack([a, a.sum(axis=1)])
    y = a @ [1.0, -1.0] + 0.05 * rng.normal(size=60)
    ours = lm.Ridge(alpha=0.0).fit(on_device(X, device), on_device(y, device))
    ref = lm.LinearRegression().fit(X, y)
    np.testing.assert_allclose(to_host(ours.coef_), ref.coef_, atol=1e-8)


def test_blocked_gram_equals_the_plain_product(device):
    """The GPU's batched Gram product (forced here with a small block) equals A.T @ B."""
    from xpdb.device import get_device
    from xpdb.ml.linear_model import _gram

    dev = get_device(device)
    rng = np.random.default_rng(2)
    A = rng.normal(size=(1000, 7))
    for B in (None, rng.normal(size=1000), rng.normal(size=(1000, 3))):
        want = A.T @ (A if B is None else B)
        for block in (64, 100, 333):  # with and without leftover rows
            got = _gram(dev.xp, dev.asarray(A), None if B is None else dev.asarray(B), block)
            np.testing.assert_allclose(dev.to_host(got), want, rtol=1e-12, atol=1e-10)
