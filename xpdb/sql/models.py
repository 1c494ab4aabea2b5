"""Models in SQL: CREATE MODEL, PREDICT, EVALUATE MODEL, SHOW MODELS, DESCRIBE/DROP MODEL.

::

    CREATE [OR REPLACE] MODEL [IF NOT EXISTS] fare_model TYPE linear_regression
        TARGET fare [WITH (alpha = 0.1, max_iter = 100, time_budget = 30, verbose = true)]
        AS SELECT distance, passengers, fare FROM trips;
    SELECT PREDICT(fare_model, distance, passengers) AS predicted FROM trips;
    EVALUATE MODEL fare_model [VERSION 2] ON (SELECT distance, passengers, fare FROM test);
    SHOW MODELS;  DESCRIBE MODEL fare_model [VERSION 1];  DROP MODEL [IF EXISTS] fare_model;

sqlglot parses none of the model statements: :mod:`xpdb.sql.model_statements` finds and
parses them (:func:`split_script`); this module runs them, binds PREDICT and keeps the
models (:class:`ModelRegistry`).

``PREDICT(model, features...)`` is an ordinary scalar function of the expression evaluator
(so it works in WHERE, GROUP BY, joins, views...). Before a statement runs,
:func:`bind_predict` resolves each model name to its current version and replaces it with
a token naming the loaded estimator (views that use PREDICT are inlined and bound the same
way), so the planner never mistakes the model for a column and a statement sees one
version throughout. Nulls in a feature give a NULL prediction.

Models are versioned: CREATE OR REPLACE adds version n+1, the catalog keeps every version
(``models/<name>/v<n>.xpm`` in a persistent database, in the portable format of
:mod:`xpdb.ml.serialize`), PREDICT and EVALUATE use the current one.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import hashlib
import math
import os
import re
import sys
import threading
import time
import uuid
import weakref
from typing import Any

import numpy as np
import pyarrow as pa
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from .. import types as t
from ..column import Column
from ..errors import (
    BindError,
    ExecutionError,
    NotSupportedError,
    StorageError,
    XpdbError,
)
from ..errors import TypeError as XTypeError
from ..kernels import cast as kcast
from ..table import Table, missing_column_message
from .expressions import Context, as_column, evaluate
from .functions import NODE_FUNCTIONS, positional_args
from .model_statements import ModelStatement, check_syntax, split_script
from .parser import DIALECT, bind_parameters, parse

# sqlglot reads PREDICT as BigQuery ML's three-argument form; in xpdb it is an ordinary
# function of any arity, so the DuckDB dialect xpdb parses with must leave it anonymous
Dialect.get_or_raise(DIALECT).parser_class.FUNCTIONS.pop("PREDICT", None)

__all__ = ["ModelStatement", "bind_predict", "check_syntax", "registry", "run_script",
           "split_script"]

#: most training rows CREATE MODEL scores for its "metrics at training" (evenly spaced)
METRIC_ROWS = 100_000
_MODELS_DIR = "models"


class ModelDataError(XpdbError, ValueError):
    """Training or scoring rows a model cannot take (non-numeric or NULL features...)."""




class ModelRegistry:
    """The models of one database: catalog entries and the loaded estimators.

    An entry is ``{"current": n, "file": <current file>, "versions": [meta, ...]}``; a
    version's ``meta`` holds its type, class, task, target, features with SQL types,
    params, training rows and seconds, metrics at training, creation time and (persistent
    databases) its file. In memory the entries live here; in a persistent database in the
    store's catalog (kind ``models``), so they survive restarts.
    """

    def __init__(self) -> None:
        self.id = uuid.uuid4().hex[:12]
        self._memory: dict[str, dict[str, Any]] = {}
        self._objects: dict[tuple[str, int, str], tuple[Any, dict[str, Any]]] = {}
        self._views_key: tuple[tuple[str, int], ...] | None = None
        self._views_refs: dict[str, exp.Expression] = {}
        self._views_using: dict[str, exp.Expression] = {}
        _LIVE[self.id] = self

    # -- entries ---------------------------------------------------------------------------
    def entries(self, db: Any) -> dict[str, dict[str, Any]]:
        if db._store is not None:
            return {n: dict(e) for n, e in db._store.catalog.models.items()}
        return self._memory

    def resolve(self, db: Any, name: str) -> tuple[str, dict[str, Any]]:
        """(stored name, entry) of model ``name`` (exact, else unique case-insensitive)."""
        entries = self.entries(db)
        if name in entries:
            return name, entries[name]
        folded = [n for n in entries if n.lower() == name.lower()]
        if len(folded) == 1:
            return folded[0], entries[folded[0]]
        raise BindError(missing_column_message(name, sorted(entries), "model")
                        .replace("available: []", "no models exist yet; CREATE MODEL first"))

    def meta(self, db: Any, name: str, version: int | None = None) -> dict[str, Any]:
        real, entry = self.resolve(db, name)
        version = entry["current"] if version is None else int(version)
        for m in entry["versions"]:
            if m["version"] == version:
                return m
        have = [m["version"] for m in entry["versions"]]
        raise BindError(f"model {real!r} has no version {version}; its versions are {have}")

    def estimator(self, db: Any, name: str, version: int | None = None) -> tuple[Any, dict]:
        """(estimator, meta) of a version (default: the current), loaded once."""
        meta = self.meta(db, name, version)
        key = (meta["name"], meta["version"], meta["id"])
        if key not in self._objects:
            if not meta.get("file") or db._store is None:
                raise StorageError(f"model {meta['name']!r} version {meta['version']} has "
                                   "no stored estimator")
            from ..ml.serialize import loads

            path = os.path.join(db._store.root, meta["file"])
            self._objects[key] = (loads(path, db.device, where=repr(path))[0], meta)
        return self._objects[key]

    def cached(self, name: str, version: int, id_: str) -> tuple[Any, dict[str, Any]]:
        """(estimator, meta) of a version :meth:`estimator` loaded."""
        return self._objects[(name, version, id_)]

    # -- changes ---------------------------------------------------------------------------
    def add(self, db: Any, name: str, est: Any, meta: dict[str, Any], replace: bool) -> int:
        """Store ``est`` as the next version of ``name`` (version 1 for a new model)."""
        _check_name_free(db, name)
        entries = self.entries(db)
        old = entries.get(name)
        if old is not None and not replace:
            msg = (f"model {name!r} already exists; use CREATE OR REPLACE MODEL (a new "
                   "version) or DROP MODEL it first")
            raise XpdbError(msg)
        versions = list(old["versions"]) if old is not None else []
        version = max((m["version"] for m in versions), default=0) + 1
        meta = {**meta, "name": name, "version": version, "id": uuid.uuid4().hex[:12],
                "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")}
        store = db._store
        if store is None:
            meta["file"] = None
            self._objects[(name, version, meta["id"])] = (est, meta)
            self._memory[name] = {"current": version, "versions": [*versions, meta]}
            return version
        from ..ml.serialize import dumps

        if store.read_only:
            raise StorageError(f"cannot create model {name!r}: database {store.root!r} is "
                               "open read-only")
        data = dumps(est, _manifest_meta(meta))  # fails before anything is written
        rel = f"{_MODELS_DIR}/{_stem(name)}/v{version}.xpm"
        meta["file"] = rel
        path = os.path.join(store.root, rel)
        _write_atomic(path, data)
        entry = {"current": version, "file": rel, "versions": [*versions, meta]}
        try:
            store.put_entry("models", name, entry, replace=old is not None)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(path)
            raise
        self._objects[(name, version, meta["id"])] = (est, meta)
        return version

    def drop(self, db: Any, name: str, if_exists: bool = False) -> bool:
        """Remove model ``name`` with every version; False when missing and ``if_exists``."""
        try:
            real, entry = self.resolve(db, name)
        except BindError:
            if if_exists:
                return False
            raise
        if db._store is None:
            del self._memory[real]
        else:
            db._store.drop_entry("models", real)  # the commit; then the older files
            for m in entry["versions"]:
                if m.get("file"):
                    with contextlib.suppress(OSError):
                        os.unlink(os.path.join(db._store.root, m["file"]))
            with contextlib.suppress(OSError):
                os.rmdir(os.path.join(db._store.root, _MODELS_DIR, _stem(real)))
        for key in [k for k in self._objects if k[0] == real]:
            del self._objects[key]
        return True


_REGISTRIES: weakref.WeakKeyDictionary[Any, ModelRegistry] = weakref.WeakKeyDictionary()
_LIVE: weakref.WeakValueDictionary[str, ModelRegistry] = weakref.WeakValueDictionary()


def registry(db: Any) -> ModelRegistry:
    """The :class:`ModelRegistry` of database ``db`` (made on first use)."""
    reg = _REGISTRIES.get(db)
    if reg is None:
        reg = _REGISTRIES[db] = ModelRegistry()
    return reg


def _check_name_free(db: Any, name: str) -> None:
    if name in db._tables or name in db._views:
        what = "table" if name in db._tables else "view"
        raise XpdbError(f"a {what} named {name!r} exists; give the model another name")


def _stem(name: str) -> str:
    """A file-system-safe directory name for a model (distinct names stay distinct)."""
    if re.fullmatch(r"[A-Za-z0-9_]{1,60}", name):
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{re.sub(r'[^A-Za-z0-9_]', '_', name)[:40]}-{digest}"


def _write_atomic(path: str, data: bytes) -> None:
    from ..storage.catalog import fsync_dir

    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(folder)


def _manifest_meta(meta: dict[str, Any]) -> dict[str, Any]:
    keep = ("name", "type", "task", "target", "target_type", "features", "params", "options",
            "training_rows", "train_seconds", "metrics", "metric_rows", "created", "version",
            "query")
    return {k: meta[k] for k in keep if k in meta}


# == features and targets ==================================================================
def _numeric(col: Column, name: str, where: str) -> Any:
    """The values of a feature column as float64 on its device (nulls arbitrary)."""
    dt = col.dtype
    if dt.is_decimal:
        col = kcast.cast(col, t.float64)
    elif not (dt.is_numeric or dt.is_bool):
        from .connection import sql_type_name

        kind = sql_type_name(dt)
        hint = (f"a number, e.g. date_diff('day', DATE '2000-01-01', {name})"
                if dt.is_temporal else
                f"a number, e.g. CASE WHEN {name} = '...' THEN 1 ELSE 0 END")
        msg = (f"{where}: feature column {name!r} has type {kind}, which is not numeric; "
               f"turn it into {hint}")
        raise XTypeError(msg)
    return col.data.astype(np.float64, copy=False)


def _features(cols: list[tuple[str, Column]], where: str, allow_null: bool,
              null_as_nan: bool = False) -> tuple[Any, Any]:
    """Feature columns -> (X float64 (n, p) on their device, row null mask or None).

    With ``allow_null`` nulls are zero-filled and flagged in the mask (PREDICT gives NULL
    there); otherwise a null is an error naming the column, unless ``null_as_nan``.
    """
    xp = cols[0][1].device.xp
    parts, nulls = [], None
    for name, col in cols:
        values = _numeric(col, name, where)
        if col.validity is not None and col.null_count:
            if not (allow_null or null_as_nan):
                msg = (f"{where}: feature column {name!r} has {col.null_count} NULL value(s); "
                       f"filter them out (WHERE {name} IS NOT NULL) or fill them "
                       f"(COALESCE({name}, 0))")
                raise ModelDataError(msg)
            fill = np.nan if null_as_nan else 0.0
            values = xp.where(col.validity, values, fill)
            if allow_null:
                nulls = ~col.validity if nulls is None else nulls | ~col.validity
        parts.append(values)
    return xp.ascontiguousarray(xp.stack(parts, axis=1)), nulls


def _target(col: Column, name: str, task: str, where: str) -> Any:
    if col.validity is not None and col.null_count:
        msg = (f"{where}: target column {name!r} has {col.null_count} NULL value(s); filter "
               f"them out (WHERE {name} IS NOT NULL)")
        raise ModelDataError(msg)
    dt = col.dtype
    if task == "regression":
        return _numeric(col, name, where)
    if dt.is_string:  # labels map through the host; the estimator keeps codes on the device
        return col.to_arrow().to_numpy(zero_copy_only=False).astype(object)
    if dt.is_decimal:
        return kcast.cast(col, t.float64).data
    if not (dt.is_numeric or dt.is_bool):
        from .connection import sql_type_name

        msg = (f"{where}: target column {name!r} has type {sql_type_name(dt)}; class labels "
               "must be numbers, booleans or strings (CAST it)")
        raise XTypeError(msg)
    return col.data


def _pick(names: list[str], want: str, where: str) -> int:
    if want in names:
        return names.index(want)
    folded = [i for i, n in enumerate(names) if n.lower() == want.lower()]
    if len(folded) == 1:
        return folded[0]
    raise BindError(f"{where}: " + missing_column_message(want, names))


def _sql_type(dtype: t.DataType) -> str:
    from .connection import sql_type_name

    return sql_type_name(dtype)


# == estimator calls =======================================================================
def _own(est: Any) -> bool:
    """True for xpdb estimators (they take device arrays); others get host arrays."""
    return type(est).__module__.startswith("xpdb.")


def _call(est: Any, method: str, X: Any, device: Any) -> Any:
    if _own(est):
        return getattr(est, method)(X)
    Xh: Any = device.to_host(X)
    names = getattr(est, "feature_names_in_", None)
    if names is not None:  # scikit-learn checks the names it was fitted with
        import pandas as pd

        Xh = pd.DataFrame(Xh, columns=list(names))
    out = np.asarray(getattr(est, method)(Xh))
    return out if out.dtype.kind in "OUS" or not device.is_gpu else device.asarray(out)


def _plain(v: Any) -> Any:
    """A JSON-safe rendering of a parameter value (for the catalog and DESCRIBE)."""
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else repr(v)
    if isinstance(v, np.generic):
        return _plain(v.item())
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, type):
        return v.__name__
    return repr(v)


def _float(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _metrics(est: Any, task: str, X: Any, y: Any, device: Any) -> dict[str, float | None]:
    """Quality metrics of ``est`` on rows ``X`` (and targets ``y``): regression r2, mse,
    mae, rmse; classification accuracy, macro precision/recall/f1, and log_loss/roc_auc
    where predict_proba exists; clustering inertia (where the model scores) and
    silhouette. A metric undefined on these rows (one class only...) is None."""
    from ..ml import metrics as M

    out: dict[str, float | None] = {}

    def put(name: str, fn: Any) -> None:
        try:
            out[name] = _float(fn())
        except (ValueError, XpdbError, ZeroDivisionError, IndexError):
            out[name] = None

    if task == "regression":
        pred = _call(est, "predict", X, device)
        put("r2", lambda: M.r2_score(y, pred))
        put("mse", lambda: M.mean_squared_error(y, pred))
        put("mae", lambda: M.mean_absolute_error(y, pred))
        out["rmse"] = None if out["mse"] is None else math.sqrt(out["mse"])
    elif task == "classification":
        pred = _call(est, "predict", X, device)
        put("accuracy", lambda: M.accuracy_score(y, pred))
        for m in ("precision", "recall", "f1"):
            fn = getattr(M, f"{m}_score")
            put(m, lambda fn=fn: fn(y, pred, average="macro", zero_division=0))
        if hasattr(est, "predict_proba"):
            proba = _call(est, "predict_proba", X, device)
            classes = est.classes_  # labels= is host data for the metrics
            classes = classes if isinstance(classes, np.ndarray) else device.to_host(classes)
            put("log_loss", lambda: M.log_loss(y, proba, labels=classes))
            if proba.shape[1] == 2:
                put("roc_auc", lambda: M.roc_auc_score(y, proba[:, 1]))
            else:
                put("roc_auc", lambda: M.roc_auc_score(y, proba, multi_class="ovr",
                                                        labels=classes))
    elif task == "clustering":
        labels = (_call(est, "predict", X, device) if hasattr(est, "predict")
                  else est.labels_)
        if hasattr(est, "score"):
            put("inertia", lambda: -est.score(X))
        n = X.shape[0]
        put("silhouette", lambda: M.silhouette_score(
            X, labels, sample_size=2000 if n > 2000 else None, random_state=0))
    return out


# == statements ============================================================================
def run_script(db: Any, script: list[str | ModelStatement], params: Any = None) -> Any:
    """Run the statements :func:`split_script` gave; the last one's Result.

    Every statement is parsed before any runs, as :meth:`Database.execute` does.
    """
    for st in script:
        if isinstance(st, str):
            parse(st)
    result = None
    for st in script:
        if not isinstance(st, str) and db._store is not None and db._store.read_only:
            db._load_catalog()  # a reader sees the models writers committed since
        if isinstance(st, str):
            result = db.execute(st, params)
            continue
        with db.device.guard():
            result = _RUNNERS[st.kind](db, st, params)
    return result


def _bound_query(db: Any, st: ModelStatement, params: Any) -> Any:
    tree = st.query
    if params is not None or tree.find(exp.Placeholder) is not None:
        tree = bind_parameters(tree, params)
    return db._query(bind_predict(db, tree))


def _one_row(db: Any, values: dict[str, Any], types: dict[str, pa.DataType]) -> Any:
    from .result import Result

    cols = [(k, Column.from_arrow(pa.array([v], types.get(k, pa.float64())), db.device))
            for k, v in values.items()]
    return Result(Table(cols, 1, db.device), list(values))


def _create(db: Any, st: ModelStatement, params: Any) -> Any:
    from ..ml.model_types import model_type, task_of, type_name

    reg = registry(db)
    where = f"CREATE MODEL {st.name}"
    cls = model_type(st.type_name)
    task = task_of(cls)
    exists = st.name in reg.entries(db)
    if exists and st.if_not_exists and not st.replace:
        meta = reg.meta(db, st.name)
        return _one_row(db, {"model": st.name, "version": meta["version"], "rows": 0,
                             "seconds": 0.0},
                        {"model": pa.string(), "version": pa.int64(), "rows": pa.int64()})
    if exists and not st.replace:
        msg = (f"model {st.name!r} already exists; use CREATE OR REPLACE MODEL (a new "
               "version) or DROP MODEL it first")
        raise XpdbError(msg)
    est = cls(**_options(cls, st.options, st.type_name))
    supervised = task in ("regression", "classification")
    if supervised and st.target is None:
        raise BindError(f"{where}: TYPE {type_name(cls)} is a {task} model and needs TARGET "
                        "<column> (the column to predict)")
    if not supervised and st.target is not None:
        raise BindError(f"{where}: TYPE {type_name(cls)} is unsupervised ({task}); remove "
                        f"TARGET {st.target}")
    rel = _bound_query(db, st, params)
    names, cols = list(rel.names), list(rel.table.columns)
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise BindError(f"{where}: the query gives the column names {dup} more than once; "
                        "alias them")
    ti = _pick(names, st.target, where) if st.target is not None else None
    feats = [(n, c) for i, (n, c) in enumerate(zip(names, cols, strict=True)) if i != ti]
    if not feats:
        raise BindError(f"{where}: the query has no feature columns besides the target")
    n = rel.table.num_rows
    if n == 0:
        raise ModelDataError(f"{where}: the training query returned no rows")
    allow_nan = _allows_nan(est)
    X, _ = _features(feats, where, allow_null=False, null_as_nan=allow_nan)
    y = _target(cols[ti], names[ti], task, where) if ti is not None else None
    verbose = bool(getattr(est, "verbose", False))
    if verbose:  # the estimator prints its iterations; these lines frame them
        print(f"[CREATE MODEL {st.name}] fitting {cls.__name__} on {n} rows x {X.shape[1]} "
              f"features ({db.device})", file=sys.stderr, flush=True)
    start = time.perf_counter()
    if y is None:
        est.fit(X)
    else:
        est.fit(X, y)
    seconds = time.perf_counter() - start
    if verbose:
        stop = getattr(est, "stopped_by_", None)
        why = f", stopped by {stop}" if stop else ""
        print(f"[CREATE MODEL {st.name}] fitted in {seconds:.3f}s{why}", file=sys.stderr,
              flush=True)
    est.feature_names_in_ = np.asarray([f for f, _ in feats], dtype=object)
    step = -(-n // METRIC_ROWS)  # training metrics on at most METRIC_ROWS evenly spaced rows
    if step > 1:
        X = X[::step]
        y = None if y is None else y[::step]
    metrics = _metrics(est, task, X, y, db.device)
    meta = {
        "type": type_name(cls), "class": f"{cls.__module__}.{cls.__name__}", "task": task,
        "target": names[ti] if ti is not None else None,
        "target_type": str(cols[ti].dtype) if ti is not None else None,
        "features": [[f, _sql_type(c.dtype)] for f, c in feats],
        "params": _plain(est.get_params()), "options": _plain(st.options),
        "training_rows": n, "train_seconds": round(seconds, 6), "metrics": metrics,
        "metric_rows": int(X.shape[0]),
        "source": "sql", "query": st.query.sql(dialect=DIALECT),
    }
    version = reg.add(db, st.name, est, meta, replace=st.replace)
    return _one_row(db, {"model": st.name, "version": version, "rows": n,
                         "seconds": round(seconds, 6)},
                    {"model": pa.string(), "version": pa.int64(), "rows": pa.int64()})


def _allows_nan(est: Any) -> bool:
    try:
        return bool(est.__sklearn_tags__().input_tags.allow_nan)
    except (AttributeError, TypeError):  # estimators without tags
        return False


def _options(cls: type, options: dict[str, Any], tname: str) -> dict[str, Any]:
    """WITH (...) options -> estimator parameters (names matched ignoring case)."""
    valid = cls().get_params()
    out = {}
    for key, value in options.items():
        name = key if key in valid else next(
            (v for v in valid if v.lower() == key.lower()), None)
        if name is None:
            import difflib

            close = difflib.get_close_matches(key, list(valid), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            msg = (f"unknown option {key!r} for TYPE {tname}; {hint}its options are: "
                   f"{', '.join(sorted(valid)) or '(none)'}")
            raise BindError(msg)
        out[name] = value
    return out


def _evaluate(db: Any, st: ModelStatement, params: Any) -> Any:
    reg = registry(db)
    est, meta = reg.estimator(db, st.name, st.version)
    where = f"EVALUATE MODEL {meta['name']}"
    task = meta["task"]
    if task not in ("regression", "classification", "clustering"):
        raise NotSupportedError(f"{where}: a {task} model ({meta['type']}) has no metrics; "
                                "EVALUATE takes regression, classification and clustering "
                                "models")
    if task == "clustering" and not hasattr(est, "predict"):
        raise NotSupportedError(f"{where}: TYPE {meta['type']} cannot label new rows, so it "
                                "cannot be evaluated on them; its training metrics are in "
                                f"DESCRIBE MODEL {meta['name']}")
    rel = _bound_query(db, st, params)
    names, cols = list(rel.names), list(rel.table.columns)
    feats = [(f, cols[_pick(names, f, where)]) for f, _ in meta["features"]]
    y = None
    if meta["target"] is not None:
        ti = _pick(names, meta["target"], where)
        y = _target(cols[ti], names[ti], task, where)
    n = rel.table.num_rows
    if n == 0:
        raise ModelDataError(f"{where}: the query returned no rows to evaluate on")
    X, _ = _features(feats, where, allow_null=False, null_as_nan=_allows_nan(est))
    metrics = _metrics(est, task, X, y, db.device)
    return _one_row(db, {"rows": n, **metrics}, {"rows": pa.int64()})


def _show(db: Any, st: ModelStatement, params: Any) -> Any:
    from .result import Result

    entries = registry(db).entries(db)
    rows: dict[str, list[Any]] = {k: [] for k in (
        "name", "type", "task", "target", "version", "versions", "features", "training_rows",
        "created")}
    for name in sorted(entries):
        entry = entries[name]
        m = next(v for v in entry["versions"] if v["version"] == entry["current"])
        rows["name"].append(name)
        rows["type"].append(m["type"])
        rows["task"].append(m["task"])
        rows["target"].append(m["target"])
        rows["version"].append(m["version"])
        rows["versions"].append(len(entry["versions"]))
        rows["features"].append(", ".join(f for f, _ in m["features"]))
        rows["training_rows"].append(m.get("training_rows"))
        rows["created"].append(m["created"])
    ints = ("version", "versions", "training_rows")
    cols = [(k, Column.from_arrow(pa.array(v, pa.int64() if k in ints else pa.string()),
                                  db.device)) for k, v in rows.items()]
    return Result(Table(cols, len(rows["name"]), db.device), list(rows))


def describe_rows(meta: dict[str, Any], versions: list[int]) -> list[tuple[str, str]]:
    """DESCRIBE MODEL's (property, value) rows for one version's ``meta``."""
    import json

    def text(v: Any) -> str:
        return "" if v is None else v if isinstance(v, str) else json.dumps(v)

    out = [("name", meta["name"]), ("type", meta["type"]), ("class", meta.get("class")),
           ("task", meta["task"]), ("target", meta["target"]),
           ("target_type", meta.get("target_type")),
           ("features", ", ".join(f"{f} {k}" for f, k in meta["features"])),
           ("version", meta["version"]), ("versions", versions),
           ("training_rows", meta.get("training_rows")),
           ("train_seconds", meta.get("train_seconds")), ("created", meta.get("created")),
           ("metric_rows", meta.get("metric_rows")),
           ("source", meta.get("source")), ("params", meta.get("params")),
           ("options", meta.get("options"))]
    out += [(f"metric.{k}", v) for k, v in (meta.get("metrics") or {}).items()]
    return [(k, text(v)) for k, v in out]


def _describe(db: Any, st: ModelStatement, params: Any) -> Any:
    from .result import Result

    reg = registry(db)
    real, entry = reg.resolve(db, st.name)
    meta = reg.meta(db, real, st.version)
    rows = describe_rows(meta, [m["version"] for m in entry["versions"]])
    cols = [(k, Column.from_arrow(pa.array(v, pa.string()), db.device))
            for k, v in (("property", [r[0] for r in rows]), ("value", [r[1] for r in rows]))]
    return Result(Table(cols, len(rows), db.device), ["property", "value"])


def _drop(db: Any, st: ModelStatement, params: Any) -> Any:
    from .connection import _status

    registry(db).drop(db, st.name, st.if_exists)
    return _status(0, db.device)


_RUNNERS = {"create": _create, "evaluate": _evaluate, "show": _show, "describe": _describe,
            "drop": _drop}


# == PREDICT ===============================================================================
def _is_predict(node: exp.Expression) -> bool:
    return isinstance(node, exp.Anonymous) and str(node.name).lower() == "predict"


def bind_predict(db: Any, tree: exp.Expression) -> exp.Expression:
    """``tree`` with each ``PREDICT(model, ...)`` bound to the model's current version.

    The model name becomes a string token naming the loaded estimator (unaliased select
    items keep the name they had, ``predict(m, x)``), and views whose queries use PREDICT
    are inlined as bound subqueries; unknown models, wrong feature counts and models
    without predictions are errors here, before anything runs. A CREATE VIEW keeps the
    model's name, so the view follows the model's current version.
    """
    _CURRENT.db = weakref.ref(db)  # for PREDICT evaluated outside a bound statement
    if isinstance(tree, exp.Create) and str(tree.args.get("kind") or "").upper() == "VIEW":
        for node in tree.walk():
            if _is_predict(node):
                _bind_model(db, node)  # checks only
        return tree
    views = _predict_views(db)
    if views and not any(isinstance(n, exp.Table) and n.name in views for n in tree.walk()):
        views = {}
    if not views and not any(_is_predict(n) for n in tree.walk()):
        return tree
    from .planner import output_name

    tree = tree.copy()
    if views:
        ctes = {c.alias for c in tree.find_all(exp.CTE)}

        def inline(node: exp.Expression) -> exp.Expression:
            if (isinstance(node, exp.Table) and isinstance(node.parent, exp.From | exp.Join)
                    and not node.args.get("db") and isinstance(node.this, exp.Identifier)
                    and node.name in views and node.name not in ctes):
                alias = node.args.get("alias") or exp.TableAlias(
                    this=exp.to_identifier(node.name))
                return exp.Subquery(this=bind_predict(db, views[node.name]), alias=alias)
            return node

        tree = tree.transform(inline, copy=False)
    for select in tree.find_all(exp.Select):
        for item in list(select.expressions):
            if not isinstance(item, exp.Alias) and any(_is_predict(n) for n in item.walk()):
                item.replace(exp.alias_(item.copy(), output_name(item), quoted=True))

    def bind(node: exp.Expression) -> exp.Expression:
        if not _is_predict(node) or _token(node) is not None:
            return node
        _, meta = _bind_model(db, node)
        token = f"{registry(db).id}:{meta['version']}:{meta['id']}:{meta['name']}"
        return exp.Anonymous(this=node.this,
                             expressions=[exp.Literal.string(token), *node.expressions[1:]])

    return tree.transform(bind, copy=False)


def _predict_views(db: Any) -> dict[str, exp.Expression]:
    """The views of ``db`` that use PREDICT (directly or through other views), cached until
    a view changes."""
    reg = registry(db)
    key = tuple((n, id(q)) for n, q in db._views.items())
    if reg._views_key != key:
        reg._views_key = key
        reg._views_refs = dict(db._views)  # keeps the ids in the key meaningful
        reg._views_using = {n: q for n, q in db._views.items()
                            if _uses_predict(q, db._views, set())}
    return reg._views_using


def _uses_predict(query: exp.Expression, views: dict[str, exp.Expression],
                  seen: set[str]) -> bool:
    """True when ``query`` calls PREDICT, itself or through the views it reads."""
    for node in query.walk():
        if _is_predict(node):
            return True
        if isinstance(node, exp.Table) and node.name in views and node.name not in seen:
            seen.add(node.name)
            if _uses_predict(views[node.name], views, seen):
                return True
    return False


def _token(node: exp.Expression) -> tuple[str, int, str, str] | None:
    """(registry id, version, meta id, name) of a bound PREDICT node, else None."""
    args = positional_args(node)
    first = args[0] if args else None
    if isinstance(first, exp.Literal) and first.is_string and first.this.count(":") >= 3:
        reg_id, version, id_, name = first.this.split(":", 3)
        if reg_id in _LIVE or re.fullmatch(r"[0-9a-f]{12}", reg_id):
            return reg_id, int(version), id_, name
    return None


def _bind_model(db: Any, node: exp.Expression) -> tuple[Any, dict[str, Any]]:
    """(estimator, meta) of the current version of the model a PREDICT node names, after
    checking that it predicts and takes as many features as the call gives."""
    args = positional_args(node)
    if not args:
        raise BindError("PREDICT needs a model name and its features: "
                        "PREDICT(model, feature, ...)")
    first = args[0]
    if isinstance(first, exp.Column) and not first.table:
        name = first.name
    elif isinstance(first, exp.Literal) and first.is_string:
        name = first.this
    else:
        raise BindError(f"PREDICT's first argument must be a model name, got "
                        f"{first.sql(dialect=DIALECT)!r}")
    est, meta = registry(db).estimator(db, name)
    shown = f"PREDICT({meta['name']}, ...)"
    if meta["task"] not in ("regression", "classification", "clustering"):
        raise NotSupportedError(f"{shown}: model {meta['name']!r} is a {meta['task']} "
                                f"model ({meta['type']}); PREDICT needs a regressor, "
                                "classifier or clusterer")
    if not hasattr(est, "predict"):
        raise NotSupportedError(f"{shown}: TYPE {meta['type']} cannot label new rows "
                                "(it has no predict); use kmeans for cluster ids of new rows")
    feats = meta["features"]
    if len(args) - 1 != len(feats):
        listed = ", ".join(f"{f} {k}" for f, k in feats)
        raise BindError(f"{shown} got {len(args) - 1} feature(s), but the model takes "
                        f"{len(feats)}, in this order: {listed}")
    return est, meta


_CURRENT = threading.local()


def _predict_node(node: exp.Expression, ctx: Context) -> Any:
    args = positional_args(node)
    token = _token(node)
    if token is not None:
        reg_id, version, id_, name = token
        reg = _LIVE.get(reg_id)
        if reg is None:
            raise ExecutionError(f"PREDICT({name}, ...): the model's database is closed")
        est, meta = reg.cached(name, version, id_)
    else:  # not bound before the statement ran (a view's check, DESCRIBE, EXPLAIN ANALYZE)
        ref = getattr(_CURRENT, "db", None)
        db = ref() if ref is not None else None
        if db is None:
            raise NotSupportedError("PREDICT(model, ...) cannot run here (no database is "
                                    "running a statement on this thread)")
        est, meta = _bind_model(db, node)
        name = meta["name"]
    cols = [(a.sql(dialect=DIALECT), as_column(evaluate(a, ctx), ctx)) for a in args[1:]]
    where = f"PREDICT({name}, ...)"
    out_type = _output_type(est, meta)
    n = ctx.n
    if n == 0:
        return Column.full(0, None, out_type, ctx.device)
    X, nulls = _features(cols, where, allow_null=True)
    from ..ml._data import DataError

    try:
        pred = _call(est, "predict", X, ctx.device)
    except DataError as e:  # NaN or infinity in a feature, most likely
        raise ModelDataError(f"{where}: {e}") from e
    if isinstance(pred, np.ndarray) and pred.dtype.kind in "OUS":
        mask = None if nulls is None else ctx.device.to_host(nulls)
        return Column.from_numpy(pred.astype(object), mask=mask, device=ctx.device,
                                 dtype=out_type)
    pred = ctx.device.asarray(pred)
    col = Column(t.from_numpy(pred.dtype), pred, None if nulls is None else ~nulls, None,
                 ctx.device)
    return col if col.dtype == out_type else kcast.cast(col, out_type)


def _output_type(est: Any, meta: dict[str, Any] | None) -> t.DataType:
    from ..ml.model_types import task_of

    task = meta["task"] if meta is not None else task_of(est)
    if task == "regression":
        return t.float64
    if task == "clustering":
        return t.int64
    if meta is not None and meta.get("target_type"):
        return t.parse(meta["target_type"])
    return _label_type(est)


def _label_type(est: Any) -> t.DataType:
    classes = getattr(est, "classes_", None)
    kind = getattr(getattr(classes, "dtype", None), "kind", "f")
    return {"O": t.string, "U": t.string, "S": t.string, "b": t.bool_}.get(
        kind, t.int64 if kind in "iu" else t.float64)


# setdefault: a second copy of this module (pytest's doctest import) must not take PREDICT
# over from the copy xpdb.sql.connection uses, whose registries the tokens name
NODE_FUNCTIONS.setdefault("predict", _predict_node)


# == the Python API (Database methods delegate here) =======================================
def register_model(db: Any, name: str, estimator: Any, *, features: list[str] | None = None,
                   target: str | None = None, replace: bool = False,
                   _source: str = "python", _extra: dict[str, Any] | None = None) -> int:
    """Store a fitted ``estimator`` as model ``name``; its new version number."""
    from ..ml._data import check_is_fitted
    from ..ml.model_types import model_types, task_of, type_name

    check_is_fitted(estimator)
    n_in = getattr(estimator, "n_features_in_", None)
    names = features
    if names is None and getattr(estimator, "feature_names_in_", None) is not None:
        names = [str(f) for f in estimator.feature_names_in_]
    if names is None:
        if n_in is None:
            raise BindError(f"register_model({name!r}): pass features=[...] (the feature "
                            "column names, in order); the estimator does not record them")
        names = [f"x{i}" for i in range(int(n_in))]
    names = [str(f) for f in names]
    if n_in is not None and len(names) != int(n_in):
        raise BindError(f"register_model({name!r}): features has {len(names)} names but the "
                        f"estimator was fitted on {int(n_in)} features")
    est = copy.deepcopy(estimator)
    if _own(est):  # scikit-learn's own estimators would warn on arrays without names
        est.feature_names_in_ = np.asarray(names, dtype=object)
    cls = type(est)
    task = task_of(est)
    known = {c: n for n, c in model_types().items()}
    extra = dict(_extra or {})
    kinds = extra.pop("feature_types", None) or ["DOUBLE"] * len(names)
    meta = {
        "type": known.get(cls, type_name(cls)), "class": f"{cls.__module__}.{cls.__name__}",
        "task": task, "target": target,
        "target_type": str(_label_type(est)) if task == "classification" else (
            "float64" if task == "regression" else None),
        "features": [[f, k] for f, k in zip(names, kinds, strict=True)],
        "params": _plain(est.get_params()), "options": {}, "training_rows": None,
        "train_seconds": None, "metrics": {}, "source": _source,
    }
    meta.update({k: v for k, v in extra.items() if k in (
        "target_type", "training_rows", "train_seconds", "metrics", "metric_rows", "options",
        "query")})
    return registry(db).add(db, name, est, meta, replace)


def get_model(db: Any, name: str, version: int | None = None) -> Any:
    """The estimator of model ``name`` (a version, default the current)."""
    return registry(db).estimator(db, name, version)[0]


def list_models(db: Any) -> list[str]:
    return sorted(registry(db).entries(db))


def export_model(db: Any, name: str, path: Any, version: int | None = None) -> None:
    from ..ml.serialize import save_model

    est, meta = registry(db).estimator(db, name, version)
    save_model(est, path, metadata=_manifest_meta(meta))


def import_model(db: Any, name: str, path: Any, replace: bool = False) -> int:
    from ..ml.serialize import loads

    est, meta = loads(os.fspath(path), db.device, where=repr(os.fspath(path)))
    feats = meta.get("features")
    names = [f for f, _ in feats] if feats else None
    extra = dict(meta)
    if feats:
        extra["feature_types"] = [k for _, k in feats]
    return register_model(db, name, est, features=names, target=meta.get("target"),
                          replace=replace, _source="import", _extra=extra)
