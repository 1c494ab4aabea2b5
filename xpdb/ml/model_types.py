"""SQL model TYPE names -> estimator classes (``CREATE MODEL m TYPE kmeans ...``).

The table is derived from :func:`xpdb.ml.all_estimators`, so a new estimator gets its SQL
name without editing a list: the class name in snake case, with a leading one-letter word
joined to the next (``LinearRegression`` -> ``linear_regression``, ``KMeans`` ->
``kmeans``, ``KNeighborsClassifier`` -> ``kneighbors_classifier``, ``GaussianNB`` ->
``gaussian_nb``). Lookups ignore case and underscores, so ``k_means`` and ``KMeans`` work
too.

Examples
--------
>>> model_type("kmeans").__name__, type_name(model_type("LinearRegression"))
('KMeans', 'linear_regression')
>>> task_of(model_type("logistic_regression")), task_of(model_type("pca"))
('classification', 'transform')
"""

from __future__ import annotations

import difflib
import inspect
import re
from typing import Any

from ..errors import BindError

__all__ = ["is_supervised", "model_type", "model_types", "task_of", "type_name"]

#: what an estimator does, as CREATE MODEL / PREDICT / EVALUATE see it
TASKS = ("regression", "classification", "clustering", "transform", "other")


def type_name(cls: type) -> str:
    """The SQL TYPE name of an estimator class.

    Examples
    --------
    >>> class SGDClassifier: pass
    >>> type_name(SGDClassifier)
    'sgd_classifier'
    """
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_",
                   cls.__name__).lower().split("_")
    if len(words) > 1 and len(words[0]) == 1:  # KMeans, KNeighbors...: one word in SQL
        words[:2] = [words[0] + words[1]]
    return "_".join(words)


def _key(name: str) -> str:
    return name.replace("_", "").lower()


def _fits_features(cls: type) -> bool:
    """False for estimators whose ``fit`` takes only a target (LabelEncoder)."""
    try:
        params = list(inspect.signature(cls.fit).parameters)
    except (TypeError, ValueError, AttributeError):
        return False
    return len(params) > 1 and params[1] == "X"


def model_types() -> dict[str, type]:
    """Every SQL model TYPE name -> its estimator class, sorted by name."""
    from . import all_estimators

    out = {type_name(cls): cls for _, cls in all_estimators() if _fits_features(cls)}
    return dict(sorted(out.items()))


def model_type(name: str) -> type:
    """The estimator class of SQL TYPE ``name`` (case and underscores ignored).

    Raises
    ------
    BindError
        Unknown name; the message lists the closest and all names.
    """
    types = model_types()
    by_key = {_key(n): cls for n, cls in types.items()}
    cls = by_key.get(_key(str(name)))
    if cls is None:
        close = difflib.get_close_matches(str(name).lower(), list(types), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        msg = (f"unknown model TYPE {name!r}; {hint}the types are: {', '.join(types)}")
        raise BindError(msg)
    return cls


def task_of(est: Any) -> str:
    """``'regression'``, ``'classification'``, ``'clustering'``, ``'transform'`` or
    ``'other'`` for an estimator class or instance (from scikit-learn's tags/mixins)."""
    from sklearn.base import ClusterMixin, TransformerMixin

    cls = est if isinstance(est, type) else type(est)
    kind = None
    try:
        kind = (est() if isinstance(est, type) else est).__sklearn_tags__().estimator_type
    except (AttributeError, TypeError, ValueError):  # no tags, or needs arguments to build
        kind = getattr(cls, "_estimator_type", None)
    if kind == "regressor":
        return "regression"
    if kind == "classifier":
        return "classification"
    if kind == "clusterer" or issubclass(cls, ClusterMixin):
        return "clustering"
    if issubclass(cls, TransformerMixin):
        return "transform"
    return "other"


def is_supervised(est: Any) -> bool:
    """True for regressors and classifiers (CREATE MODEL needs a TARGET)."""
    return task_of(est) in ("regression", "classification")
