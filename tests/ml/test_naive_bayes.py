"""Naive Bayes against scikit-learn: fitted parameters and probabilities."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn import naive_bayes as sknb

import xpdb
from xpdb.ml import naive_bayes as nb

from .conftest import dataset, on_device, to_host


@pytest.mark.parametrize("params", [{}, {"priors": [0.2, 0.3, 0.5]}, {"var_smoothing": 1e-3}])
def test_gaussian_nb_matches_sklearn(device, params):
    X, y = dataset("multiclass")
    X = X + 50.0  # large means: the variances must still be computed stably
    ours = nb.GaussianNB(**params).fit(on_device(X, device), on_device(y, device))
    theirs = sknb.GaussianNB(**params).fit(X, y)
    for attr in ("theta_", "var_", "class_count_", "class_prior_"):
        np.testing.assert_allclose(to_host(getattr(ours, attr)), getattr(theirs, attr),
                                   rtol=1e-9)
    assert ours.epsilon_ == pytest.approx(theirs.epsilon_)
    np.testing.assert_allclose(to_host(ours.predict_proba(on_device(X, device))),
                               theirs.predict_proba(X), atol=1e-9)
    np.testing.assert_allclose(to_host(ours.predict_log_proba(on_device(X, device))),
                               theirs.predict_log_proba(X), rtol=1e-7, atol=1e-7)
    np.testing.assert_array_equal(to_host(ours.predict(on_device(X, device))), theirs.predict(X))


@pytest.mark.parametrize("params", [
    {}, {"alpha": 0.01}, {"fit_prior": False}, {"class_prior": [0.5, 0.25, 0.25]},
    {"alpha": 0.0, "force_alpha": False},
])
def test_multinomial_nb_matches_sklearn(device, params):
    X, y = dataset("counts")
    ours = nb.MultinomialNB(**params).fit(on_device(X, device), on_device(y, device))
    with warnings.catch_warnings():  # scikit-learn warns when it raises a tiny alpha
        warnings.simplefilter("ignore", UserWarning)
        theirs = sknb.MultinomialNB(**params).fit(X, y)
    for attr in ("feature_count_", "class_count_", "feature_log_prob_", "class_log_prior_"):
        np.testing.assert_allclose(to_host(getattr(ours, attr)), getattr(theirs, attr),
                                   rtol=1e-10)
    np.testing.assert_allclose(to_host(ours.predict_proba(on_device(X, device))),
                               theirs.predict_proba(X), atol=1e-10)
    assert ours.score(on_device(X, device), on_device(y, device)) == theirs.score(X, y)


def test_naive_bayes_string_labels_and_frames(device):
    X, y = dataset("counts")
    names = np.array(["spam", "ham", "eggs"], dtype=object)[y]
    frame = xpdb.from_pandas(pd.DataFrame(X, columns=[f"w{i}" for i in range(X.shape[1])]),
                             device=device)
    ours = nb.MultinomialNB().fit(frame, names)
    theirs = sknb.MultinomialNB().fit(X, names)
    assert ours.classes_.tolist() == theirs.classes_.tolist()
    np.testing.assert_array_equal(np.asarray(ours.predict(frame)), theirs.predict(X))


def test_naive_bayes_errors():
    X, y = dataset("counts")
    with pytest.raises(ValueError, match="non-negative"):
        nb.MultinomialNB().fit(X - 5, y)
    with pytest.raises(ValueError, match="priors must be non-negative and sum to 1"):
        nb.GaussianNB(priors=[0.5, 0.5, 0.5]).fit(X, y)
    with pytest.raises(ValueError, match="3 classes but 2 priors"):
        nb.GaussianNB(priors=[0.5, 0.5]).fit(X, y)


@pytest.mark.parametrize("name", ["GaussianNB", "MultinomialNB"])
def test_naive_bayes_sample_weight(device, rng, name):
    X, y = dataset("counts")
    w = rng.uniform(0.1, 3.0, len(X))
    ours = getattr(nb, name)().fit(on_device(X, device), on_device(y, device),
                                   sample_weight=on_device(w, device))
    theirs = getattr(sknb, name)().fit(X, y, sample_weight=w)
    np.testing.assert_allclose(to_host(ours.class_count_), theirs.class_count_, rtol=1e-12)
    np.testing.assert_allclose(to_host(ours.predict_proba(on_device(X, device))),
                               theirs.predict_proba(X), atol=1e-9)
