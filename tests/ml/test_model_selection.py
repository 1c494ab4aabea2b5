"""Splits and cross-validation: the same rows as scikit-learn, for every input kind."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import linear_model as sklm
from sklearn import model_selection as skms
from sklearn.pipeline import make_pipeline

import xpdb
from xpdb.ml import LogisticRegression, Ridge, StandardScaler
from xpdb.ml import model_selection as ms

from .conftest import dataset, on_device, to_host


@pytest.mark.parametrize("kw", [
    {"random_state": 0},
    {"test_size": 0.3, "random_state": 5},
    {"test_size": 17, "train_size": 50, "random_state": 1},
    {"train_size": 0.5, "shuffle": False},
])
def test_train_test_split_same_rows_as_sklearn(device, kw):
    X, y = dataset("binary")
    ours = ms.train_test_split(on_device(X, device), on_device(y, device), **kw)
    theirs = skms.train_test_split(X, y, **kw)
    assert len(ours) == 4
    for got, want in zip(ours, theirs, strict=True):
        assert type(got).__module__.split(".")[0] == ("cupy" if device == "gpu" else "numpy")
        np.testing.assert_array_equal(to_host(got), want)


def test_train_test_split_frames_and_stratify(device):
    X, y = dataset("multiclass")
    pdf = pd.DataFrame(X, columns=list("abcdef"))
    frame = xpdb.from_pandas(pdf, device=device)
    kw = {"test_size": 0.25, "random_state": 2, "stratify": y}
    f_train, f_test, _, y_test = ms.train_test_split(frame, pd.Series(y), **kw)
    p_train, p_test, _, sy_test = skms.train_test_split(pdf, pd.Series(y), **kw)
    assert isinstance(f_train, xpdb.DataFrame) and f_train.device == frame.device
    pd.testing.assert_frame_equal(f_train.to_pandas(), p_train.reset_index(drop=True))
    pd.testing.assert_frame_equal(f_test.to_pandas(), p_test.reset_index(drop=True))
    pd.testing.assert_series_equal(y_test, sy_test)
    assert np.bincount(y_test).tolist() == np.bincount(sy_test).tolist()


def test_train_test_split_errors():
    with pytest.raises(ValueError, match="different numbers of rows"):
        ms.train_test_split(np.arange(5), np.arange(4))
    with pytest.raises(ValueError, match="must be in"):
        ms.train_test_split(np.arange(5), test_size=1.5)
    with pytest.raises(ValueError, match="stratify needs shuffle"):
        ms.train_test_split(np.arange(6), shuffle=False, stratify=[0, 1] * 3)


def test_kfold_over_an_xpdb_frame(device):
    X, y = dataset("regression")
    frame = xpdb.from_pandas(pd.DataFrame(X), device=device)
    ours = list(ms.KFold(4, shuffle=True, random_state=0).split(frame))
    theirs = list(skms.KFold(4, shuffle=True, random_state=0).split(X))
    for (a, b), (c, d) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    parts = [ms.take_rows(frame, test).to_pandas() for _, test in ours]
    assert sum(len(p) for p in parts) == len(X)
    strat = list(ms.StratifiedKFold(3).split(X, on_device(y > 0, device)))
    want = list(skms.StratifiedKFold(3).split(X, y > 0))
    for (a, _), (c, _) in zip(strat, want, strict=True):
        np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize(("scoring", "est", "task"), [
    (None, "ridge", "regression"),
    ("neg_mean_squared_error", "ridge", "regression"),
    ("neg_mean_absolute_error", "ridge", "regression"),
    (None, "logreg", "binary"),
    ("roc_auc", "logreg", "binary"),
    ("neg_log_loss", "logreg", "multiclass"),
    ("f1_macro", "logreg", "multiclass"),
])
def test_cross_val_score_matches_sklearn(device, scoring, est, task):
    X, y = dataset(task)
    ours_est = Ridge(alpha=2.0) if est == "ridge" else LogisticRegression(C=0.5)
    sk_est = sklm.Ridge(alpha=2.0) if est == "ridge" else sklm.LogisticRegression(C=0.5)
    frame = xpdb.from_pandas(pd.DataFrame(X), device=device)
    ours = ms.cross_val_score(ours_est, frame, on_device(y, device), scoring=scoring, cv=4)
    theirs = skms.cross_val_score(sk_est, X, y, scoring=scoring, cv=4)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-8)


def test_sklearn_grid_search_and_pipeline_take_xpdb_estimators():
    X, y = dataset("binary")
    pipe = make_pipeline(StandardScaler(), LogisticRegression())
    grid = skms.GridSearchCV(pipe, {"logisticregression__C": [0.01, 1.0]}, cv=3).fit(X, y)
    ref = skms.GridSearchCV(make_pipeline(StandardScaler(), sklm.LogisticRegression()),
                            {"logisticregression__C": [0.01, 1.0]}, cv=3).fit(X, y)
    assert grid.best_params_ == ref.best_params_
    np.testing.assert_allclose(grid.cv_results_["mean_test_score"],
                               ref.cv_results_["mean_test_score"], atol=1e-6)


def test_cross_val_score_unknown_scoring():
    X, y = dataset("regression")
    with pytest.raises(ValueError, match="unknown scoring 'nope'"):
        ms.cross_val_score(Ridge(), X, y, scoring="nope")
