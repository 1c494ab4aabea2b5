"""xpdb.ml: scikit-learn-compatible estimators that compute where the data lives.

Every estimator is built on scikit-learn's ``BaseEstimator`` and mixins, so ``clone``,
``Pipeline``, ``GridSearchCV`` and ``cross_val_score`` work. It accepts xpdb DataFrames,
NumPy, CuPy and pandas inputs; fitted attributes live on the device of the training data
and outputs on the device of the input (see :mod:`xpdb.ml._data`).

Submodules: ``linear_model``, ``naive_bayes``, ``preprocessing``, ``metrics``,
``model_selection``, ``cluster``, ``decomposition``, ``neighbors``, ``ensemble``. Their
public names are
also reachable here (``from xpdb.ml import LogisticRegression, KMeans``), imported on first
use so ``import xpdb.ml`` stays light.

Examples
--------
>>> import numpy as np
>>> from xpdb.ml import LinearRegression
>>> X = np.arange(8.0).reshape(4, 2)
>>> LinearRegression().fit(X, X @ [1.0, 2.0] + 3).predict(X[:1]).round(6).tolist()
[5.0]
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

from ._data import DataError, NotFittedError

__all__ = ["DataError", "NotFittedError", "all_estimators", "submodules"]


def submodules() -> list[str]:
    """Names of the public submodules of ``xpdb.ml`` (those not starting with ``_``)."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def all_estimators() -> list[tuple[str, type]]:
    """Every estimator class of ``xpdb.ml`` as ``(name, class)``, sorted by name.

    Found by walking the public submodules, so a new module's estimators join without
    editing a list. An estimator is a public class derived from scikit-learn's
    ``BaseEstimator`` and defined in an ``xpdb.ml`` module; shared base classes must
    start with ``_`` to stay out.
    """
    from sklearn.base import BaseEstimator

    found: dict[str, type] = {}
    for mod_name in submodules():
        mod = importlib.import_module(f"{__name__}.{mod_name}")
        for name, obj in inspect.getmembers(mod, inspect.isclass):
            if (not name.startswith("_") and issubclass(obj, BaseEstimator)
                    and obj.__module__.startswith(__name__)
                    and not inspect.isabstract(obj)):
                found[name] = obj
    return sorted(found.items())


def __getattr__(name: str) -> Any:  # PEP 562: public names of the submodules, on first use
    if not name.startswith("_"):
        if name in submodules():
            return importlib.import_module(f"{__name__}.{name}")
        for mod_name in submodules():
            mod = importlib.import_module(f"{__name__}.{mod_name}")
            public = getattr(mod, "__all__", None)
            if (public is None or name in public) and hasattr(mod, name):
                value = getattr(mod, name)
                globals()[name] = value
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
