"""xpdb: an accelerated analytics and machine-learning database for Python.

The same code runs on a CPU (NumPy) or a GPU (CuPy)::

    import xpdb
    df = xpdb.read_parquet("trips.parquet", device="gpu")
    df.groupby("vendor").agg({"fare": "mean"}).to_pandas()
"""

from __future__ import annotations

from . import config, errors, types
from .column import Column
from .device import Device, get_device, gpu_available
from .errors import XpdbError
from .shards import ShardedTable
from .table import Table

__version__ = "0.1.0.dev0"

_LAZY = {
    "DataFrame": ("xpdb.frame", "DataFrame"),
    "Series": ("xpdb.frame", "Series"),
    "from_pandas": ("xpdb.frame", "from_pandas"),
    "from_arrow": ("xpdb.frame", "from_arrow"),
    "read_csv": ("xpdb.io", "read_csv"),
    "read_parquet": ("xpdb.io", "read_parquet"),
    "read_json": ("xpdb.io", "read_json"),
    "read_ipc": ("xpdb.io", "read_ipc"),
    "write_csv": ("xpdb.io", "write_csv"),
    "write_parquet": ("xpdb.io", "write_parquet"),
    "write_ipc": ("xpdb.io", "write_ipc"),
    "write_json": ("xpdb.io", "write_json"),
    "read_parquet_shards": ("xpdb.io", "read_parquet_shards"),
    "concat": ("xpdb.frame", "concat"),
    "connect": ("xpdb.sql", "connect"),
}


def __getattr__(name: str):  # PEP 562: keep `import xpdb` light
    if name in _LAZY:
        import importlib

        mod, attr = _LAZY[name]
        value = getattr(importlib.import_module(mod), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'xpdb' has no attribute {name!r}")


__all__ = [
    "Column",
    "DataFrame",
    "Device",
    "Series",
    "ShardedTable",
    "Table",
    "XpdbError",
    "concat",
    "config",
    "connect",
    "errors",
    "from_arrow",
    "from_pandas",
    "get_device",
    "gpu_available",
    "read_csv",
    "read_ipc",
    "read_json",
    "read_parquet",
    "types",
    "write_csv",
    "write_ipc",
    "write_json",
    "write_parquet",
    "read_parquet_shards",
]
