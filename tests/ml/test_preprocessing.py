"""Scalers, encoders and the imputer against scikit-learn, on every device and input kind."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import impute as skimpute
from sklearn import preprocessing as skp

import xpdb
from xpdb.ml import preprocessing as pp

from .conftest import dataset, on_device, to_host


def _with_specials(rng):
    X = rng.normal(5.0, 3.0, (120, 4))
    X[:, 2] = 7.0  # constant column: scale 1
    X[rng.random(120) < 0.1, 1] = np.nan
    return X


@pytest.mark.parametrize("params", [{}, {"with_mean": False}, {"with_std": False}])
def test_standard_scaler(device, rng, params):
    X = _with_specials(rng)
    ours = pp.StandardScaler(**params).fit(on_device(X, device))
    theirs = skp.StandardScaler(**params).fit(X)
    out = ours.transform(on_device(X, device))
    np.testing.assert_allclose(to_host(out), theirs.transform(X), atol=1e-12)
    for attr in ("mean_", "var_", "scale_"):
        want = getattr(theirs, attr)
        got = getattr(ours, attr)
        if want is None:
            assert got is None
        else:
            np.testing.assert_allclose(to_host(got), want, rtol=1e-12)
    np.testing.assert_array_equal(to_host(ours.n_samples_seen_), theirs.n_samples_seen_)
    back = ours.inverse_transform(out)
    np.testing.assert_allclose(to_host(back), X, atol=1e-12)


@pytest.mark.parametrize("params", [{}, {"feature_range": (-2, 3), "clip": True}])
def test_min_max_scaler(device, rng, params):
    X = _with_specials(rng)
    new = X * 2.0
    ours = pp.MinMaxScaler(**params).fit(on_device(X, device))
    theirs = skp.MinMaxScaler(**params).fit(X)
    np.testing.assert_allclose(to_host(ours.transform(on_device(new, device))),
                               theirs.transform(new), atol=1e-12)
    for attr in ("data_min_", "data_max_", "data_range_", "scale_", "min_"):
        np.testing.assert_allclose(to_host(getattr(ours, attr)), getattr(theirs, attr))
    np.testing.assert_allclose(
        to_host(ours.inverse_transform(ours.transform(on_device(X, device)))), X, atol=1e-12)
    with pytest.raises(ValueError, match="feature_range"):
        pp.MinMaxScaler(feature_range=(1, 0)).fit(X)


@pytest.mark.parametrize("strategy", ["mean", "median", "most_frequent", "constant"])
def test_simple_imputer(device, strategy):
    X, _ = dataset("missing")
    X = X.copy()
    X[:, 3] = np.nan  # an empty feature: dropped unless constant / keep_empty_features
    params = {"strategy": strategy}
    if strategy == "constant":
        params["fill_value"] = -9.0
    ours = pp.SimpleImputer(**params).fit(on_device(X, device))
    theirs = skimpute.SimpleImputer(**params).fit(X)
    with pytest.warns(UserWarning, match="without any observed values"):
        want = theirs.transform(X)  # scikit-learn warns about the dropped feature
    np.testing.assert_allclose(to_host(ours.transform(on_device(X, device))), want)
    np.testing.assert_allclose(to_host(ours.statistics_), theirs.statistics_.astype(float),
                               equal_nan=True)
    np.testing.assert_array_equal(ours.get_feature_names_out(), theirs.get_feature_names_out())
    kept = pp.SimpleImputer(keep_empty_features=True, **params).fit(on_device(X, device))
    ref = skimpute.SimpleImputer(keep_empty_features=True, **params).fit(X)
    np.testing.assert_allclose(to_host(kept.transform(on_device(X, device))), ref.transform(X))


def test_simple_imputer_placeholder_and_keep_empty(device):
    X = np.array([[1.0, -1.0], [-1.0, -1.0], [3.0, -1.0], [3.0, -1.0]])
    ours = pp.SimpleImputer(missing_values=-1, strategy="most_frequent",
                            keep_empty_features=True).fit(on_device(X, device))
    theirs = skimpute.SimpleImputer(missing_values=-1, strategy="most_frequent",
                                    keep_empty_features=True).fit(X)
    np.testing.assert_allclose(to_host(ours.transform(on_device(X, device))),
                               theirs.transform(X))
    with pytest.raises(ValueError, match="strategy='mode'"):
        pp.SimpleImputer(strategy="mode").fit(X)


def test_scaler_rejects_infinity():
    with pytest.raises(ValueError, match="infinity"):
        pp.StandardScaler().fit(np.array([[1.0], [np.inf]]))


# -- OneHotEncoder --------------------------------------------------------------------------
def _categorical_frame(rng, n=150):
    return pd.DataFrame({
        "color": rng.choice(["red", "green", "blue"], n).astype(object),
        "size": rng.integers(0, 4, n),
        "kind": rng.choice(["a", "b"], n).astype(object),
    })


@pytest.mark.parametrize("drop", [None, "first", "if_binary"])
def test_one_hot_pandas_and_xpdb_frames(device, rng, drop):
    pdf = _categorical_frame(rng)
    theirs = skp.OneHotEncoder(sparse_output=False, drop=drop).fit(pdf)
    want = theirs.transform(pdf)
    ours = pp.OneHotEncoder(drop=drop).fit(pdf)
    np.testing.assert_array_equal(to_host(ours.transform(pdf)), want)
    np.testing.assert_array_equal(ours.get_feature_names_out(), theirs.get_feature_names_out())
    frame = xpdb.from_pandas(pdf, device=device)
    enc = pp.OneHotEncoder(drop=drop).fit(frame)
    out = enc.transform(frame)
    assert type(out).__module__.split(".")[0] == ("cupy" if device == "gpu" else "numpy")
    np.testing.assert_array_equal(to_host(out), want)
    for got, cats in zip(enc.categories_, theirs.categories_, strict=True):
        np.testing.assert_array_equal(to_host(got), cats)


def test_one_hot_string_codes_stay_on_device(device, rng):
    if device == "cpu":
        pytest.skip("host-device transfers exist (and are counted) on the GPU only")
    pdf = _categorical_frame(rng, 60)
    frame = xpdb.from_pandas(pdf, device=device)
    enc = pp.OneHotEncoder().fit(frame)
    dev = frame.device
    dev.reset_stats()
    enc.transform(frame)
    # only dictionaries and lookup tables cross, never a per-row array
    assert dev.stats.to_host < 8 * len(pdf)


def test_one_hot_numpy_and_unknown_categories(device):
    X = np.array([[1.0, 10.0], [2.0, 10.0], [1.0, 30.0]])
    Xn = np.array([[2.0, 20.0], [1.0, 30.0]])
    ours = pp.OneHotEncoder(handle_unknown="ignore").fit(on_device(X, device))
    theirs = skp.OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(X)
    np.testing.assert_array_equal(to_host(ours.transform(on_device(Xn, device))),
                                  theirs.transform(Xn))
    strict = pp.OneHotEncoder().fit(on_device(X, device))
    with pytest.raises(ValueError, match="unknown category 20.0 in feature 1"):
        strict.transform(on_device(Xn, device))
    S = np.array([["x", "p"], ["y", "q"]])
    np.testing.assert_array_equal(
        pp.OneHotEncoder().fit_transform(S),
        skp.OneHotEncoder(sparse_output=False).fit_transform(S))
    with pytest.raises(NotImplementedError, match="sparse_output"):
        pp.OneHotEncoder(sparse_output=True).fit(X)


# -- LabelEncoder ---------------------------------------------------------------------------
def test_label_encoder_numeric(device, rng):
    y = rng.choice([3.5, -1.0, 7.0], 50)
    ours = pp.LabelEncoder().fit(on_device(y, device))
    theirs = skp.LabelEncoder().fit(y)
    np.testing.assert_array_equal(to_host(ours.classes_), theirs.classes_)
    codes = ours.transform(on_device(y, device))
    np.testing.assert_array_equal(to_host(codes), theirs.transform(y))
    np.testing.assert_array_equal(to_host(ours.inverse_transform(codes)), y)
    np.testing.assert_array_equal(to_host(pp.LabelEncoder().fit_transform(on_device(y, device))),
                                  theirs.transform(y))
    with pytest.raises(ValueError, match="not seen in fit: 2.0"):
        ours.transform(on_device(np.array([2.0]), device))


def test_label_encoder_strings(device):
    y = ["paris", "tokyo", "paris", "amsterdam"]
    frame = xpdb.from_pandas(pd.DataFrame({"city": y}), device=device)
    ours = pp.LabelEncoder().fit(frame["city"])
    theirs = skp.LabelEncoder().fit(y)
    assert ours.classes_.tolist() == theirs.classes_.tolist()
    np.testing.assert_array_equal(to_host(ours.transform(y)), theirs.transform(y))
    assert ours.inverse_transform(np.array([2, 0])).tolist() == ["tokyo", "amsterdam"]
    with pytest.raises(ValueError, match="'rome'"):
        ours.transform(["rome"])
    with pytest.raises(ValueError, match=r"codes must be in \[0, 2\]"):
        ours.inverse_transform(np.array([3]))
