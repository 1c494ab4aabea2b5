"""Model metrics computed where the labels and predictions live (NumPy or CuPy).

Same names, arguments and values as ``sklearn.metrics``. Scores come back as Python floats
(one small transfer); matrices (``confusion_matrix``, per-class scores) as arrays on the
inputs' device. Inputs may be NumPy/CuPy arrays, lists, pandas or xpdb Series; when one
side is on a GPU the other is moved there. String labels are compared on the host.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..device import Device, get_device
from ..errors import NotSupportedError
from ._data import DataError, as_1d, as_2d, input_device, to_device

__all__ = [
    "accuracy_score",
    "confusion_matrix",
    "f1_score",
    "log_loss",
    "mean_absolute_error",
    "mean_squared_error",
    "precision_score",
    "r2_score",
    "recall_score",
    "roc_auc_score",
    "silhouette_samples",
    "silhouette_score",
]


def _device(*inputs: Any) -> Device:
    """The GPU of any input on one, else the CPU."""
    for a in inputs:
        if a is not None:
            dev = input_device(a)
            if dev.is_gpu:
                return dev
    return get_device("cpu")


def _vectors(y_true: Any, y_pred: Any, dtype: Any = None,
             sample_weight: Any = None) -> tuple[Any, Any, Any, Device]:
    dev = _device(y_true, y_pred)
    t = as_1d(y_true, dev, dtype=dtype, name="y_true")
    p = as_1d(y_pred, dev, dtype=dtype, name="y_pred") if dtype is not None or \
        getattr(y_pred, "ndim", 1) == 1 else y_pred
    if t.shape[0] != p.shape[0]:
        msg = (f"y_true has {t.shape[0]} samples but y_pred has {p.shape[0]}; pass one "
               "prediction per sample")
        raise DataError(msg)
    w = None
    if sample_weight is not None:
        w = as_1d(sample_weight, dev, name="sample_weight")
        if w.shape[0] != t.shape[0]:
            raise DataError(f"sample_weight has {w.shape[0]} values for {t.shape[0]} samples")
    return t, p, w, dev


def _is_host_labels(a: Any) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind in "OUS"


def _encode_pair(t: Any, p: Any, labels: Any, dev: Device) -> tuple[Any, Any, Any]:
    """Shared class codes of true and predicted labels: (classes, t_codes, p_codes)."""
    if _is_host_labels(t) or _is_host_labels(p):
        th = dev.to_host(t).astype(object)
        ph = dev.to_host(p).astype(object)
        classes = np.asarray(labels, dtype=object) if labels is not None \
            else np.unique(np.concatenate([th, ph]))
        order = np.argsort(classes)
        sc = classes[order]
        codes = []
        for v in (th, ph):
            pos = np.clip(np.searchsorted(sc, v), 0, len(sc) - 1)
            found = sc[pos] == v
            codes.append(to_device(np.where(found, order[pos], -1).astype(np.int64), dev))
        return classes, codes[0], codes[1]
    xp = dev.xp
    if labels is not None:
        classes = to_device(np.asarray(labels), dev)
    else:
        classes = xp.unique(xp.concatenate([t, p.astype(t.dtype, copy=False)]))
    order = xp.argsort(classes)
    sc = classes[order]
    out = []
    for v in (t, p):
        pos = xp.clip(xp.searchsorted(sc, v.astype(sc.dtype, copy=False)), 0, sc.shape[0] - 1)
        out.append(xp.where(sc[pos] == v, order[pos], -1).astype(np.int64))
    return classes, out[0], out[1]


def _scores(y: Any, dev: Device, name: str) -> Any:
    """Scores or probabilities, 1-d or 2-d, as float64 on ``dev``."""
    if getattr(y, "ndim", None) == 2 or (
            isinstance(y, list | tuple) and len(y) and np.ndim(y[0]) == 1):
        return to_device(as_2d(y, name=name)[0], dev)
    return as_1d(y, dev, name=name)


def _weighted_mean(xp: Any, values: Any, w: Any) -> float:
    if w is None:
        return float(values.mean())
    return float((values * w).sum() / w.sum())


# -- classification -------------------------------------------------------------------------
def accuracy_score(y_true: Any, y_pred: Any, *, normalize: bool = True,
                   sample_weight: Any = None) -> float:
    """Fraction (or with ``normalize=False`` the count) of correct predictions.

    Examples
    --------
    >>> accuracy_score([0, 1, 1, 0], [0, 1, 0, 0])
    0.75
    """
    t, p, w, dev = _vectors(y_true, y_pred, sample_weight=sample_weight)
    xp = dev.xp
    if _is_host_labels(t) or _is_host_labels(p):
        ok = to_device(dev.to_host(t).astype(object) == dev.to_host(p).astype(object), dev)
    else:
        ok = t == p
    ok = ok.astype(np.float64)
    if not normalize:
        return float(ok.sum() if w is None else (ok * w).sum())
    return _weighted_mean(xp, ok, w)


def confusion_matrix(y_true: Any, y_pred: Any, *, labels: Any = None, sample_weight: Any = None,
                     normalize: str | None = None) -> Any:
    """Counts ``C[i, j]`` of samples of class ``i`` predicted as ``j`` (classes sorted, or
    in the order of ``labels``), on the inputs' device.

    Examples
    --------
    >>> confusion_matrix([0, 1, 1], [0, 1, 0]).tolist()
    [[1, 0], [1, 1]]
    """
    t, p, w, dev = _vectors(y_true, y_pred, sample_weight=sample_weight)
    return _confusion(t, p, w, dev, labels, normalize)[0]


def _confusion(t: Any, p: Any, w: Any, dev: Device, labels: Any,
               normalize: str | None = None) -> tuple[Any, Any]:
    xp = dev.xp
    classes, tc, pc = _encode_pair(t, p, labels, dev)
    k = int(classes.shape[0])
    keep = (tc >= 0) & (pc >= 0)
    flat = xp.where(keep, tc * k + pc, 0)
    weights = keep.astype(np.float64) if w is None else keep * w
    cm = xp.bincount(flat, weights=weights, minlength=k * k).reshape(k, k)
    if w is None:
        cm = xp.rint(cm).astype(np.int64)
    if normalize is not None:
        cm = cm.astype(np.float64)
        with np.errstate(all="ignore"):
            if normalize == "true":
                cm = cm / cm.sum(axis=1, keepdims=True)
            elif normalize == "pred":
                cm = cm / cm.sum(axis=0, keepdims=True)
            elif normalize == "all":
                cm = cm / cm.sum()
            else:
                raise DataError(f"normalize={normalize!r}: use 'true', 'pred', 'all' or None")
        cm = xp.nan_to_num(cm)
    return cm, classes


def _prf(y_true: Any, y_pred: Any, labels: Any, pos_label: Any, average: str | None,
         sample_weight: Any, zero_division: float, what: str) -> Any:
    t, p, w, dev = _vectors(y_true, y_pred, sample_weight=sample_weight)
    xp = dev.xp
    cm, classes = _confusion(t, p, w, dev, labels)
    cm = cm.astype(np.float64)
    tp = xp.diag(cm)
    pred = cm.sum(axis=0)
    true = cm.sum(axis=1)
    if average == "binary":
        host_classes = dev.to_host(classes) if not isinstance(classes, np.ndarray) else classes
        if len(host_classes) > 2:
            msg = (f"{what}: average='binary' needs two classes but y holds "
                   f"{len(host_classes)}: {host_classes.tolist()!r}; choose average='macro', "
                   "'micro' or 'weighted'")
            raise DataError(msg)
        hits = np.flatnonzero(host_classes == pos_label)
        if len(hits) == 0:
            if len(host_classes) == 2:
                raise DataError(f"{what}: pos_label={pos_label!r} is not one of the labels "
                                f"{host_classes.tolist()!r}")
            return 0.0
        i = int(hits[0])
        tp, pred, true = tp[i:i + 1], pred[i:i + 1], true[i:i + 1]
    elif average == "micro":
        tp, pred, true = tp.sum(keepdims=True), pred.sum(keepdims=True), true.sum(keepdims=True)

    def ratio(a: Any, b: Any) -> Any:
        return xp.where(b > 0, a / xp.where(b > 0, b, 1.0), zero_division)

    precision = ratio(tp, pred)
    recall = ratio(tp, true)
    if what == "precision":
        score = precision
    elif what == "recall":
        score = recall
    else:
        score = ratio(2 * tp, pred + true)
    if average is None:
        return score
    if average in ("binary", "micro"):
        return float(score[0])
    if average == "macro":
        return float(score.mean())
    if average == "weighted":
        total = float(true.sum())
        return float((score * true).sum() / total) if total > 0 else float(zero_division)
    raise DataError(f"{what}: average={average!r}; use 'binary', 'micro', 'macro', "
                    "'weighted' or None")


_PRF_DOC = """

    Parameters
    ----------
    y_true, y_pred : array-like (n_samples,)
    labels : array-like, optional
        The classes to report, in this order (default: all, sorted).
    pos_label : label, default 1
        The positive class for ``average="binary"``.
    average : {"binary", "micro", "macro", "weighted", None}
        None returns the per-class scores as an array on the inputs' device.
    sample_weight : array-like, optional
    zero_division : float, default 0.0
        The value where the ratio is 0/0.
"""


def precision_score(y_true: Any, y_pred: Any, *, labels: Any = None, pos_label: Any = 1,
                    average: str | None = "binary", sample_weight: Any = None,
                    zero_division: float = 0.0) -> Any:
    return _prf(y_true, y_pred, labels, pos_label, average, sample_weight, zero_division,
                "precision")


def recall_score(y_true: Any, y_pred: Any, *, labels: Any = None, pos_label: Any = 1,
                 average: str | None = "binary", sample_weight: Any = None,
                 zero_division: float = 0.0) -> Any:
    return _prf(y_true, y_pred, labels, pos_label, average, sample_weight, zero_division,
                "recall")


def f1_score(y_true: Any, y_pred: Any, *, labels: Any = None, pos_label: Any = 1,
             average: str | None = "binary", sample_weight: Any = None,
             zero_division: float = 0.0) -> Any:
    return _prf(y_true, y_pred, labels, pos_label, average, sample_weight, zero_division, "f1")


precision_score.__doc__ = "Precision ``tp / (tp + fp)``." + _PRF_DOC
recall_score.__doc__ = "Recall ``tp / (tp + fn)``." + _PRF_DOC
f1_score.__doc__ = "F1 score, the harmonic mean of precision and recall." + _PRF_DOC


def _binary_auc(xp: Any, positive: Any, score: Any, w: Any) -> float:
    """Area under the ROC curve by the rank-sum statistic (ties get half credit)."""
    uniq, inv = xp.unique(score, return_inverse=True)
    inv = inv.reshape(-1)
    wt = xp.ones(score.shape[0], dtype=np.float64) if w is None else w.astype(np.float64)
    pos_w = wt * positive
    neg_w = wt * (1.0 - positive)
    m = uniq.shape[0]
    pos_per = xp.bincount(inv, weights=pos_w, minlength=m)
    neg_per = xp.bincount(inv, weights=neg_w, minlength=m)
    neg_below = xp.cumsum(neg_per) - neg_per
    n_pos = float(pos_per.sum())
    n_neg = float(neg_per.sum())
    if n_pos == 0 or n_neg == 0:
        raise DataError("roc_auc_score: only one class is present in y_true; ROC AUC is not "
                        "defined then")
    return float((pos_per * (neg_below + 0.5 * neg_per)).sum()) / (n_pos * n_neg)


def roc_auc_score(y_true: Any, y_score: Any, *, average: str | None = "macro",
                  multi_class: str = "raise", labels: Any = None,
                  sample_weight: Any = None) -> float:
    """Area under the ROC curve.

    Binary: ``y_score`` holds the score of the greater label (or is ``predict_proba``'s
    two columns). Multiclass: ``y_score`` is (n_samples, n_classes) and
    ``multi_class="ovr"`` averages one-vs-rest AUCs (``average`` "macro" or "weighted").

    Examples
    --------
    >>> roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    dev = _device(y_true, y_score)
    xp = dev.xp
    t = as_1d(y_true, dev, dtype=None, name="y_true")
    s = _scores(y_score, dev, 'y_score')
    w = None if sample_weight is None else as_1d(sample_weight, dev, name="sample_weight")
    if s.shape[0] != t.shape[0]:
        raise DataError(f"y_true has {t.shape[0]} samples but y_score has {s.shape[0]}")
    from ._data import encode_labels

    classes, codes = encode_labels(t, dev, name="y_true") if labels is None else \
        (np.asarray(labels), _encode_pair(t, t, labels, dev)[1])
    k = int(classes.shape[0])
    if s.ndim == 2 and s.shape[1] == 2 and k <= 2:
        s = s[:, 1]
    if s.ndim == 1:
        if k > 2:
            raise DataError(f"roc_auc_score: y_true has {k} classes but y_score is 1-d; pass "
                            "(n_samples, n_classes) scores with multi_class='ovr'")
        return _binary_auc(xp, (codes == k - 1).astype(np.float64), s, w)
    if multi_class != "ovr":
        if multi_class == "ovo":
            raise NotSupportedError("roc_auc_score: multi_class='ovo' is not supported; use "
                                    "'ovr'")
        raise DataError("roc_auc_score: multiclass y_true needs multi_class='ovr'")
    if s.shape[1] != k:
        raise DataError(f"roc_auc_score: y_score has {s.shape[1]} columns for {k} classes")
    aucs = []
    weights = []
    for j in range(k):  # a loop over classes, not rows
        pos = (codes == j).astype(np.float64)
        aucs.append(_binary_auc(xp, pos, s[:, j], w))
        weights.append(float(pos.sum() if w is None else (pos * w).sum()))
    if average == "weighted":
        return float(np.average(aucs, weights=weights))
    if average == "macro":
        return float(np.mean(aucs))
    raise DataError(f"roc_auc_score: average={average!r}; use 'macro' or 'weighted'")


def log_loss(y_true: Any, y_pred: Any, *, normalize: bool = True, sample_weight: Any = None,
             labels: Any = None) -> float:
    """Cross-entropy of predicted probabilities ``y_pred`` ((n, n_classes), or (n,) for the
    greater of two classes) against labels ``y_true``; clipped at the dtype's epsilon.

    Examples
    --------
    >>> round(log_loss([0, 1], [[0.9, 0.1], [0.2, 0.8]]), 6)
    0.164252
    """
    dev = _device(y_true, y_pred)
    xp = dev.xp
    t = as_1d(y_true, dev, dtype=None, name="y_true")
    prob = _scores(y_pred, dev, 'y_pred')
    from ._data import encode_labels

    if labels is None:
        classes, codes = encode_labels(t, dev, name="y_true")
    else:
        classes = np.asarray(labels)
        codes = _encode_pair(t, t, labels, dev)[1]
    if prob.ndim == 1:
        prob = xp.stack([1.0 - prob, prob], axis=1)
    k = prob.shape[1]
    if k < int(classes.shape[0]) or k < 2:
        raise DataError(f"log_loss: y_pred has {k} columns but y_true holds "
                        f"{int(classes.shape[0])} classes; pass labels= or all columns")
    eps = np.finfo(prob.dtype).eps
    prob = xp.clip(prob, eps, 1 - eps)
    prob = prob / prob.sum(axis=1, keepdims=True)
    picked = xp.take_along_axis(prob, codes[:, None], axis=1)[:, 0]
    losses = -xp.log(picked)
    w = None if sample_weight is None else as_1d(sample_weight, dev, name="sample_weight")
    if not normalize:
        return float(losses.sum() if w is None else (losses * w).sum())
    return _weighted_mean(xp, losses, w)


# -- regression -----------------------------------------------------------------------------
def _targets(y_true: Any, y_pred: Any, sample_weight: Any) -> tuple[Any, Any, Any, Device]:
    """Regression targets as (n, n_outputs) float64 arrays on one device, and the weights
    as (n, 1) or None."""
    dev = _device(y_true, y_pred)
    t, p = (_scores(a, dev, name) for a, name in ((y_true, "y_true"), (y_pred, "y_pred")))
    t = t.reshape(t.shape[0], -1).astype(np.float64, copy=False)
    p = p.reshape(p.shape[0], -1).astype(np.float64, copy=False)
    if t.shape != p.shape:
        msg = (f"y_true has shape {tuple(t.shape)} but y_pred has {tuple(p.shape)}; pass one "
               "prediction per sample and output")
        raise DataError(msg)
    w = None
    if sample_weight is not None:
        w = as_1d(sample_weight, dev, name="sample_weight")
        if w.shape[0] != t.shape[0]:
            raise DataError(f"sample_weight has {w.shape[0]} values for {t.shape[0]} samples")
        w = w[:, None]
    return t, p, w, dev


def _column_means(values: Any, w: Any) -> Any:
    return values.mean(axis=0) if w is None else (values * w).sum(axis=0) / w.sum()


_MULTI_DOC = """

    Several outputs (2-d ``y``) are scored one by one and averaged uniformly, as
    scikit-learn's default ``multioutput="uniform_average"``.
"""


def mean_squared_error(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    t, p, w, _ = _targets(y_true, y_pred, sample_weight)
    return float(_column_means((t - p) ** 2, w).mean())


def mean_absolute_error(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    t, p, w, dev = _targets(y_true, y_pred, sample_weight)
    return float(_column_means(dev.xp.abs(t - p), w).mean())


def r2_score(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    t, p, w, dev = _targets(y_true, y_pred, sample_weight)
    xp = dev.xp
    wt = xp.ones((t.shape[0], 1)) if w is None else w.astype(np.float64)
    mean = (t * wt).sum(axis=0) / wt.sum()
    ss_res = (wt * (t - p) ** 2).sum(axis=0)
    ss_tot = (wt * (t - mean) ** 2).sum(axis=0)
    # a constant output scores 1.0 when predicted exactly, else 0.0 (scikit-learn's rule)
    safe = xp.where(ss_tot == 0, 1.0, ss_tot)
    scores = xp.where(ss_tot == 0, xp.where(ss_res == 0, 1.0, 0.0), 1.0 - ss_res / safe)
    return float(scores.mean())


mean_squared_error.__doc__ = """Mean of ``(y_true - y_pred) ** 2``.""" + _MULTI_DOC + """
    Examples
    --------
    >>> mean_squared_error([1.0, 2.0], [1.0, 4.0])
    2.0
"""
mean_absolute_error.__doc__ = """Mean of ``|y_true - y_pred|``.""" + _MULTI_DOC + """
    Examples
    --------
    >>> mean_absolute_error([1.0, 2.0], [1.0, 4.0])
    1.0
"""
r2_score.__doc__ = """Coefficient of determination ``1 - SS_res / SS_tot`` (1.0 for a perfect
    fit of a constant target, 0.0 for an imperfect one, as scikit-learn).""" + _MULTI_DOC + """
    Examples
    --------
    >>> r2_score([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    0.5
"""


# -- clustering -----------------------------------------------------------------------------
def silhouette_samples(X: Any, labels: Any, *, metric: str = "euclidean",
                       chunk_rows: int | None = None) -> Any:
    """Silhouette coefficient of every sample, on X's device.

    Distances are computed a block of rows at a time (``||x||^2 + ||y||^2 - 2 x.y``), and
    per-cluster distance sums by one matrix product with the cluster indicator matrix, so
    memory stays at ``chunk_rows x n``.
    """
    if metric != "euclidean":
        raise NotSupportedError(f"silhouette: metric={metric!r} is not supported; only "
                                "'euclidean'")
    A, dev = as_2d(X, name="X")
    xp = dev.xp
    from ._data import encode_labels

    classes, codes = encode_labels(labels, dev, name="labels")
    n = A.shape[0]
    k = int(classes.shape[0])
    if codes.shape[0] != n:
        raise DataError(f"labels has {codes.shape[0]} values for {n} samples")
    if not 2 <= k <= n - 1:
        raise DataError(f"silhouette needs 2 <= n_labels <= n_samples - 1, got {k} labels for "
                        f"{n} samples")
    onehot = (codes[:, None] == xp.arange(k)[None, :]).astype(A.dtype)
    sizes = onehot.sum(axis=0)
    sq = (A * A).sum(axis=1)
    rows = chunk_rows or max(1, min(n, (1 << 25) // max(n, 1)))
    out = xp.empty(n, dtype=np.float64)
    for start in range(0, n, rows):  # blocks of rows keep the distance matrix bounded
        stop = min(start + rows, n)
        d2 = sq[start:stop, None] + sq[None, :] - 2.0 * (A[start:stop] @ A.T)
        d = xp.sqrt(xp.maximum(d2, 0.0))
        d[xp.arange(stop - start), xp.arange(start, stop)] = 0.0
        sums = d @ onehot  # (rows, k): total distance to each cluster
        own = codes[start:stop]
        own_size = sizes[own]
        a = xp.take_along_axis(sums, own[:, None], axis=1)[:, 0] / xp.maximum(own_size - 1, 1)
        mean_other = sums / sizes[None, :]
        mean_other[xp.arange(stop - start), own] = xp.inf
        b = mean_other.min(axis=1)
        s = (b - a) / xp.maximum(a, b)
        out[start:stop] = xp.where(own_size > 1, xp.nan_to_num(s), 0.0)
    return out


def silhouette_score(X: Any, labels: Any, *, metric: str = "euclidean",
                     sample_size: int | None = None, random_state: Any = None) -> float:
    """Mean silhouette coefficient over all samples (or a random ``sample_size`` of them).

    Examples
    --------
    >>> X = [[0.0], [0.1], [5.0], [5.1]]
    >>> round(silhouette_score(X, [0, 0, 1, 1]), 4)
    0.98
    """
    if sample_size is not None:
        A, dev = as_2d(X, name="X")
        lab = as_1d(labels, dev, dtype=None, name="labels")
        idx = np.random.RandomState(random_state).permutation(A.shape[0])[:sample_size]
        X = A[to_device(idx, dev)]
        labels = lab[idx] if isinstance(lab, np.ndarray) else lab[to_device(idx, dev)]
    return float(silhouette_samples(X, labels, metric=metric).mean())
