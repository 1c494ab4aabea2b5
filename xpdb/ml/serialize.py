"""A portable, pickle-free file format for fitted estimators (``.xpm``).

A model file is a zip archive with two members:

``manifest.json``
    ``format`` (``"xpdb-model"``), ``format_version``, ``xpdb_version``, ``created``, the
    estimator's class path, ``get_params()``, every fitted attribute with its kind, dtype
    and shape, and free ``metadata`` (feature names, target, training statistics...).
``arrays.npz``
    The fitted arrays, moved to the host (NumPy ``.npy`` members, never pickled).

Loading imports only classes of ``xpdb`` and ``scikit-learn``, rebuilds the estimator
with its parameters (``__init__`` only stores them, by the scikit-learn contract), sets
the fitted attributes and moves the arrays to the requested device. Nothing in a file can
run code, so a model file from elsewhere is as safe to open as a Parquet file. A model
saved on a GPU loads on a CPU and the other way round.

Examples
--------
>>> import numpy as np, os, tempfile
>>> from xpdb.ml import LinearRegression
>>> X = np.arange(8.0).reshape(4, 2)
>>> est = LinearRegression().fit(X, X @ [1.0, 2.0] + 3)
>>> path = os.path.join(tempfile.mkdtemp(), "m.xpm")
>>> save_model(est, path, metadata={"features": ["a", "b"]})
>>> load_model(path).predict(X[:1]).round(6).tolist()
[5.0]
>>> read_manifest(path)["metadata"]["features"]
['a', 'b']
"""

from __future__ import annotations

import datetime
import importlib
import io
import json
import math
import os
import zipfile
from typing import Any

import numpy as np

from ..device import Device, get_device
from ..errors import NotSupportedError, StorageError

__all__ = ["FORMAT", "FORMAT_VERSION", "dumps", "load_model", "loads", "read_manifest",
           "save_model"]

FORMAT = "xpdb-model"
FORMAT_VERSION = 1
_MANIFEST = "manifest.json"
_ARRAYS = "arrays.npz"
# modules whose classes a model file may name (estimators, and xpdb's small helper objects)
_ESTIMATOR_ROOTS = ("xpdb.", "sklearn.")
_OBJECT_ROOTS = ("xpdb.",)
_BUILTIN_TYPES = {"float": float, "int": int, "bool": bool, "str": str, "object": object}


def _is_cupy(a: Any) -> bool:
    return type(a).__module__.startswith("cupy")


def _class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _import_class(path: str, roots: tuple[str, ...], what: str) -> type:
    module, _, name = path.rpartition(".")
    if not module.startswith(roots) or "<" in path:
        msg = (f"model file names {what} class {path!r}, outside {', '.join(roots)}; only "
               "xpdb and scikit-learn classes can be loaded")
        raise StorageError(msg)
    try:
        obj: Any = importlib.import_module(module)
        for part in name.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as e:
        msg = (f"model file names class {path!r}, which this installation does not have "
               f"({e}); install the xpdb / scikit-learn version that wrote it")
        raise StorageError(msg) from e
    if not isinstance(obj, type):
        raise StorageError(f"model file names {path!r}, which is not a class")
    return obj


# -- encoding -----------------------------------------------------------------------------
class _Encoder:
    """Python values -> JSON with arrays set aside (keys into ``arrays``)."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, a: Any, where: str) -> dict[str, Any]:
        on_device = _is_cupy(a)
        host = a.get() if on_device else np.asarray(a)
        out: dict[str, Any] = {"__array__": f"a{len(self.arrays)}", "dtype": str(host.dtype),
                               "shape": list(host.shape), "device": on_device}
        if host.dtype.kind == "O":
            flat = host.ravel().tolist()
            if all(isinstance(v, str) for v in flat):
                host = host.astype(str)
            elif all(isinstance(v, bool | int | float | np.generic) for v in flat):
                host = np.asarray(flat).reshape(host.shape)
            else:
                kinds = sorted({type(v).__name__ for v in flat})
                msg = (f"cannot store {where}: an object array of {kinds}; only arrays of "
                       "numbers or strings are portable")
                raise NotSupportedError(msg)
        self.arrays[out["__array__"]] = host
        return out

    def value(self, v: Any, where: str) -> Any:
        from sklearn.base import BaseEstimator

        if v is None or isinstance(v, bool | str):
            return v
        if isinstance(v, int) and not isinstance(v, np.generic):
            return v
        if isinstance(v, float) and not isinstance(v, np.generic):
            return v if math.isfinite(v) else {"__float__": repr(v)}
        if isinstance(v, np.generic):
            item = v.item()
            if isinstance(item, float) and not math.isfinite(item):
                item = {"__float__": repr(item)}
            return {"__scalar__": item, "dtype": str(v.dtype)}
        if isinstance(v, np.ndarray) or _is_cupy(v):
            return self.array(v, where)
        if isinstance(v, np.dtype):
            return {"__dtype__": str(v)}
        if isinstance(v, type):
            if issubclass(v, np.generic):
                return {"__dtype__": str(np.dtype(v))}
            if v in _BUILTIN_TYPES.values():
                return {"__type__": v.__name__}
        if isinstance(v, list):
            return [self.value(x, f"{where}[{i}]") for i, x in enumerate(v)]
        if isinstance(v, tuple):
            return {"__tuple__": [self.value(x, f"{where}[{i}]") for i, x in enumerate(v)]}
        if isinstance(v, dict) and all(isinstance(k, str) for k in v):
            return {"__dict__": {k: self.value(x, f"{where}[{k!r}]") for k, x in v.items()}}
        if isinstance(v, BaseEstimator):
            return self.estimator(v, where)
        if type(v).__module__.startswith(_OBJECT_ROOTS):
            state = _object_state(v)
            if state is not None:
                return {"__object__": _class_path(type(v)),
                        "state": {k: self.value(x, f"{where}.{k}") for k, x in state.items()}}
        msg = (f"cannot store {where} of type {type(v).__module__}.{type(v).__name__}: the "
               "portable model format holds numbers, strings, arrays, lists, dicts and "
               "estimators")
        raise NotSupportedError(msg)

    def estimator(self, est: Any, where: str = "estimator") -> dict[str, Any]:
        cls = type(est)
        if not cls.__module__.startswith(_ESTIMATOR_ROOTS):
            msg = (f"cannot store a {cls.__module__}.{cls.__name__}: the portable format "
                   "holds xpdb and scikit-learn estimators")
            raise NotSupportedError(msg)
        params = est.get_params(deep=False)
        fitted = {k: v for k, v in vars(est).items() if k not in params}
        return {
            "__estimator__": _class_path(cls),
            "params": {k: self.value(v, f"{where} parameter {k!r}") for k, v in params.items()},
            "fitted": {k: self.value(v, f"{where} attribute {k!r}") for k, v in fitted.items()},
        }


def _object_state(v: Any) -> dict[str, Any] | None:
    if hasattr(v, "__dict__"):
        return dict(vars(v))
    slots = getattr(type(v), "__slots__", None)
    if slots is not None:
        return {s: getattr(v, s) for s in slots if hasattr(v, s)}
    return None


# -- decoding -----------------------------------------------------------------------------
class _Decoder:
    """JSON -> Python values, arrays from ``arrays`` placed on ``device``."""

    def __init__(self, arrays: Any, device: Device, any_device: bool):
        self.arrays = arrays
        self.device = device
        # a model fitted on a GPU records which arrays lived there; one fitted on the CPU
        # cannot tell, and by the convention of xpdb.ml every numeric array moves
        self.any_device = any_device

    def array(self, d: dict[str, Any], xpdb_owner: bool) -> Any:
        try:
            host = self.arrays[d["__array__"]]
        except KeyError as e:
            raise StorageError(f"model file lacks array {d['__array__']!r}; it is damaged") from e
        if d["dtype"] == "object":
            host = host.astype(object)
            return host
        if host.dtype.str.lstrip("<>|=") != np.dtype(d["dtype"]).str.lstrip("<>|="):
            host = host.astype(d["dtype"])
        if not xpdb_owner or host.dtype.kind in "OUS":
            return host
        move = d.get("device", False) if self.any_device else host.dtype.kind in "biufc"
        return self.device.asarray(host) if move and self.device.is_gpu else host

    def value(self, v: Any, xpdb_owner: bool) -> Any:
        if isinstance(v, list):
            return [self.value(x, xpdb_owner) for x in v]
        if not isinstance(v, dict):
            return v
        if "__array__" in v:
            return self.array(v, xpdb_owner)
        if "__float__" in v:
            return float(v["__float__"])
        if "__scalar__" in v:
            item = self.value(v["__scalar__"], xpdb_owner)
            return np.dtype(v["dtype"]).type(item)
        if "__dtype__" in v:
            return np.dtype(v["__dtype__"]).type
        if "__type__" in v:
            return _BUILTIN_TYPES[v["__type__"]]
        if "__tuple__" in v:
            return tuple(self.value(x, xpdb_owner) for x in v["__tuple__"])
        if "__dict__" in v:
            return {k: self.value(x, xpdb_owner) for k, x in v["__dict__"].items()}
        if "__estimator__" in v:
            return self.estimator(v)
        if "__object__" in v:
            cls = _import_class(v["__object__"], _OBJECT_ROOTS, "a helper")
            obj = cls.__new__(cls)
            for k, x in v["state"].items():
                setattr(obj, k, self.value(x, xpdb_owner))
            return obj
        raise StorageError(f"model file holds an unknown entry {sorted(v)!r}; it is damaged")

    def estimator(self, d: dict[str, Any]) -> Any:
        from sklearn.base import BaseEstimator

        cls = _import_class(d["__estimator__"], _ESTIMATOR_ROOTS, "an estimator")
        if not issubclass(cls, BaseEstimator):
            raise StorageError(f"model file names {d['__estimator__']!r}, not an estimator")
        own = cls.__module__.startswith("xpdb.")
        params = {k: self.value(v, own) for k, v in d["params"].items()}
        est = cls(**params)
        for k, v in d["fitted"].items():
            setattr(est, k, self.value(v, own))
        return est


def _any_device(tree: Any) -> bool:
    if isinstance(tree, dict):
        if "__array__" in tree:
            return bool(tree.get("device"))
        return any(_any_device(v) for v in tree.values())
    if isinstance(tree, list):
        return any(_any_device(v) for v in tree)
    return False


# -- public API ---------------------------------------------------------------------------
def dumps(estimator: Any, metadata: dict[str, Any] | None = None) -> bytes:
    """The model file of a fitted ``estimator`` as bytes (see the module docs).

    Raises
    ------
    NotSupportedError
        An attribute or parameter the portable format cannot hold (the message names it).
    """
    import xpdb

    enc = _Encoder()
    tree = enc.estimator(estimator)
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "xpdb_version": getattr(xpdb, "__version__", "unknown"),
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "class": tree["__estimator__"],
        "estimator": tree,
        "metadata": enc.value(dict(metadata or {}), "metadata")["__dict__"],
    }
    arrays = io.BytesIO()
    np.savez(arrays, **enc.arrays)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(_MANIFEST, json.dumps(manifest, indent=1, allow_nan=False))
        z.writestr(_ARRAYS, arrays.getvalue())
    return out.getvalue()


def _members(source: Any, where: str) -> tuple[dict[str, Any], bytes]:
    try:
        if isinstance(source, bytes | bytearray):
            with zipfile.ZipFile(io.BytesIO(source)) as z:
                return json.loads(z.read(_MANIFEST)), z.read(_ARRAYS)
        if os.path.isdir(source):
            with open(os.path.join(source, _MANIFEST), "rb") as f:
                manifest = json.load(f)
            with open(os.path.join(source, _ARRAYS), "rb") as f:
                return manifest, f.read()
        with zipfile.ZipFile(source) as z:
            return json.loads(z.read(_MANIFEST)), z.read(_ARRAYS)
    except FileNotFoundError as e:
        raise StorageError(f"no model file at {where}: {e}") from e
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        msg = f"{where} is not an xpdb model file ({type(e).__name__}: {e})"
        raise StorageError(msg) from e


def _check(manifest: Any, where: str) -> dict[str, Any]:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise StorageError(f"{where} is not an xpdb model file (no 'format': {FORMAT!r})")
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        msg = (f"{where} has model format version {manifest['format_version']}, newer than "
               f"this xpdb reads ({FORMAT_VERSION}); upgrade xpdb")
        raise StorageError(msg)
    return manifest


def loads(data: Any, device: Any = "cpu", where: str = "model bytes") -> tuple[Any, dict]:
    """Rebuild ``(estimator, metadata)`` from model-file bytes (or a path) on ``device``."""
    manifest, raw = _members(data, where)
    manifest = _check(manifest, where)
    dev = get_device(device)
    with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    tree = manifest["estimator"]
    dec = _Decoder(arrays, dev, _any_device(tree))
    try:
        est = dec.estimator(tree)
        meta = dec.value({"__dict__": manifest.get("metadata", {})}, False)
    except (KeyError, TypeError) as e:
        raise StorageError(f"{where} is damaged ({type(e).__name__}: {e})") from e
    return est, meta


def save_model(estimator: Any, path: str | os.PathLike[str],
               metadata: dict[str, Any] | None = None) -> None:
    """Write a fitted ``estimator`` to ``path`` in the portable format (atomically).

    Parameters
    ----------
    estimator : xpdb or scikit-learn estimator
    path : str or path-like
        The file to write (``.xpm`` by convention); replaced if it exists.
    metadata : dict, optional
        JSON-like values kept beside the model (feature names, target...), returned by
        :func:`read_manifest`.
    """
    data = dumps(estimator, metadata)
    path = os.fspath(path)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_model(path: str | os.PathLike[str], device: Any = "cpu") -> Any:
    """The estimator saved at ``path`` (a model file or its unpacked directory), with its
    fitted arrays on ``device``."""
    return loads(os.fspath(path), device, where=repr(os.fspath(path)))[0]


def read_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of the model file at ``path`` (class, parameters, attributes with
    dtypes and shapes, ``metadata``), without loading any array."""
    where = repr(os.fspath(path))
    manifest, _ = _members(os.fspath(path), where)
    manifest = _check(manifest, where)
    dec = _Decoder({}, get_device("cpu"), False)
    manifest["metadata"] = dec.value({"__dict__": manifest.get("metadata", {})}, False)
    return manifest
