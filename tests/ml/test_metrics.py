"""xpdb.ml.metrics against sklearn.metrics on the same inputs, on every device."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

import xpdb
from xpdb.ml import metrics as m

from .conftest import dataset, on_device, to_host


@pytest.fixture
def labels3(rng):
    t = rng.integers(0, 3, 300)
    p = np.where(rng.random(300) < 0.7, t, rng.integers(0, 3, 300))
    return t, p


@pytest.fixture
def weights(rng):
    return rng.uniform(0.1, 2.0, 300)


def test_accuracy(device, labels3, weights):
    t, p = labels3
    T, P, W = (on_device(a, device) for a in (t, p, weights))
    assert m.accuracy_score(T, P) == pytest.approx(skm.accuracy_score(t, p))
    assert m.accuracy_score(T, P, normalize=False) == skm.accuracy_score(t, p, normalize=False)
    assert m.accuracy_score(T, P, sample_weight=W) == pytest.approx(
        skm.accuracy_score(t, p, sample_weight=weights))


@pytest.mark.parametrize("normalize", [None, "true", "pred", "all"])
def test_confusion_matrix(device, labels3, weights, normalize):
    t, p = labels3
    T, P = on_device(t, device), on_device(p, device)
    got = m.confusion_matrix(T, P, normalize=normalize)
    assert type(got).__module__.split(".")[0] == ("cupy" if device == "gpu" else "numpy")
    np.testing.assert_allclose(to_host(got), skm.confusion_matrix(t, p, normalize=normalize))
    got_w = m.confusion_matrix(T, P, sample_weight=on_device(weights, device))
    np.testing.assert_allclose(to_host(got_w), skm.confusion_matrix(t, p, sample_weight=weights))


def test_confusion_matrix_labels_and_strings(device, labels3):
    t, p = labels3
    got = m.confusion_matrix(on_device(t, device), on_device(p, device), labels=[2, 0])
    np.testing.assert_array_equal(to_host(got), skm.confusion_matrix(t, p, labels=[2, 0]))
    names = np.array(["x", "y", "z"], dtype=object)
    np.testing.assert_array_equal(to_host(m.confusion_matrix(names[t], names[p])),
                                  skm.confusion_matrix(names[t], names[p]))


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
@pytest.mark.parametrize("name", ["precision_score", "recall_score", "f1_score"])
def test_prf_multiclass(device, labels3, weights, name, average):
    t, p = labels3
    ours = getattr(m, name)(on_device(t, device), on_device(p, device), average=average,
                            sample_weight=on_device(weights, device))
    theirs = getattr(skm, name)(t, p, average=average, sample_weight=weights)
    np.testing.assert_allclose(to_host(ours), theirs, rtol=1e-12)


@pytest.mark.parametrize("name", ["precision_score", "recall_score", "f1_score"])
def test_prf_binary_and_pos_label(device, rng, name):
    t = rng.integers(0, 2, 200)
    p = np.where(rng.random(200) < 0.75, t, 1 - t)
    ours = getattr(m, name)(on_device(t, device), on_device(p, device))
    assert ours == pytest.approx(getattr(skm, name)(t, p))
    ours0 = getattr(m, name)(on_device(t, device), on_device(p, device), pos_label=0)
    assert ours0 == pytest.approx(getattr(skm, name)(t, p, pos_label=0))
    s = np.array(["neg", "pos"], dtype=object)
    assert getattr(m, name)(s[t], s[p], pos_label="pos") == pytest.approx(
        getattr(skm, name)(s[t], s[p], pos_label="pos"))


def test_prf_zero_division_and_errors(labels3):
    t, p = labels3
    assert m.precision_score([0, 0, 1], [0, 0, 0]) == skm.precision_score(
        [0, 0, 1], [0, 0, 0], zero_division=0.0)
    with pytest.raises(ValueError, match="average='binary' needs two classes"):
        m.f1_score(t, p)
    with pytest.raises(ValueError, match="pos_label=5"):
        m.recall_score([0, 1], [1, 1], pos_label=5)
    with pytest.raises(ValueError, match="y_true has 300 samples but y_pred has 299"):
        m.accuracy_score(t, p[:-1])


def test_roc_auc_binary_with_ties(device, rng, weights):
    t = rng.integers(0, 2, 300)
    s = np.round(t * 0.3 + rng.random(300), 1)  # rounding makes many ties
    ours = m.roc_auc_score(on_device(t, device), on_device(s, device))
    assert ours == pytest.approx(skm.roc_auc_score(t, s), rel=1e-12)
    ours_w = m.roc_auc_score(on_device(t, device), on_device(s, device),
                             sample_weight=on_device(weights, device))
    assert ours_w == pytest.approx(skm.roc_auc_score(t, s, sample_weight=weights), rel=1e-12)
    proba = np.column_stack([1 - s, s])
    assert m.roc_auc_score(t, proba) == pytest.approx(skm.roc_auc_score(t, s))


@pytest.mark.parametrize("average", ["macro", "weighted"])
def test_roc_auc_multiclass_ovr(device, rng, average):
    t = rng.integers(0, 3, 300)
    scores = rng.random((300, 3)) + np.eye(3)[t] * 0.4
    proba = scores / scores.sum(axis=1, keepdims=True)
    ours = m.roc_auc_score(on_device(t, device), on_device(proba, device), multi_class="ovr",
                           average=average)
    assert ours == pytest.approx(
        skm.roc_auc_score(t, proba, multi_class="ovr", average=average), rel=1e-12)
    with pytest.raises(ValueError, match="multi_class='ovr'"):
        m.roc_auc_score(t, proba)
    with pytest.raises(ValueError, match="only one class"):
        m.roc_auc_score(np.zeros(5), np.arange(5.0))


def test_log_loss(device, rng, weights):
    t = rng.integers(0, 3, 300)
    raw = rng.random((300, 3)) + np.eye(3)[t]
    proba = raw / raw.sum(axis=1, keepdims=True)
    T, P = on_device(t, device), on_device(proba, device)
    assert m.log_loss(T, P) == pytest.approx(skm.log_loss(t, proba), rel=1e-12)
    assert m.log_loss(T, P, sample_weight=on_device(weights, device)) == pytest.approx(
        skm.log_loss(t, proba, sample_weight=weights), rel=1e-12)
    assert m.log_loss(T, P, normalize=False) == pytest.approx(
        skm.log_loss(t, proba, normalize=False), rel=1e-12)
    tb = t % 2
    p1 = proba[:, 1]
    assert m.log_loss(on_device(tb, device), on_device(p1, device)) == pytest.approx(
        skm.log_loss(tb, p1), rel=1e-12)
    extreme = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert m.log_loss([1, 0], extreme) == pytest.approx(skm.log_loss([1, 0], extreme))


def test_regression_metrics(device, rng, weights):
    t = rng.normal(size=300)
    p = t + rng.normal(scale=0.5, size=300)
    T, P, W = (on_device(a, device) for a in (t, p, weights))
    for name in ("mean_squared_error", "mean_absolute_error", "r2_score"):
        assert getattr(m, name)(T, P) == pytest.approx(getattr(skm, name)(t, p), rel=1e-12)
        assert getattr(m, name)(T, P, sample_weight=W) == pytest.approx(
            getattr(skm, name)(t, p, sample_weight=weights), rel=1e-12)
    const = np.ones(5)
    assert m.r2_score(const, const) == skm.r2_score(const, const)
    assert m.r2_score(const, const + 1) == skm.r2_score(const, const + 1)


def test_metrics_accept_series_and_frames(device, labels3):
    t, p = labels3
    pdt, pdp = pd.Series(t), pd.Series(p)
    xt = xpdb.from_pandas(pd.DataFrame({"t": t}), device=device)["t"]
    assert m.accuracy_score(pdt, pdp) == m.accuracy_score(xt, p) == skm.accuracy_score(t, p)


@pytest.mark.parametrize("chunk_rows", [None, 7])
def test_silhouette(device, chunk_rows):
    X, _ = dataset("cluster")
    labels = np.arange(len(X)) % 3
    labels[: len(X) // 2] = (X[: len(X) // 2, 0] > X[:, 0].mean()).astype(int)
    ours = m.silhouette_samples(on_device(X, device), on_device(labels, device),
                                chunk_rows=chunk_rows)
    np.testing.assert_allclose(to_host(ours), skm.silhouette_samples(X, labels), atol=1e-10)
    assert m.silhouette_score(on_device(X, device), on_device(labels, device)) == \
        pytest.approx(skm.silhouette_score(X, labels), abs=1e-12)
    assert m.silhouette_score(X, labels, sample_size=100, random_state=3) == pytest.approx(
        skm.silhouette_score(X, labels, sample_size=100, random_state=3), abs=1e-12)


def test_silhouette_singleton_cluster_and_errors():
    X = np.array([[0.0], [0.1], [0.2], [5.0]])
    lab = np.array([0, 0, 0, 1])
    np.testing.assert_allclose(m.silhouette_samples(X, lab), skm.silhouette_samples(X, lab))
    with pytest.raises(ValueError, match="2 <= n_labels"):
        m.silhouette_score(X, np.zeros(4))


def test_regression_metrics_multi_output(device, rng, weights):
    t = rng.normal(size=(300, 3))
    t[:, 2] = 1.0  # a constant output
    p = t + rng.normal(scale=0.3, size=(300, 3))
    p[:, 2] = 1.0
    T, P, W = (on_device(a, device) for a in (t, p, weights))
    for name in ("mean_squared_error", "mean_absolute_error", "r2_score"):
        assert getattr(m, name)(T, P, sample_weight=W) == pytest.approx(
            getattr(skm, name)(t, p, sample_weight=weights), rel=1e-12)
    with pytest.raises(ValueError, match="shape"):
        m.r2_score(t, p[:, :2])
