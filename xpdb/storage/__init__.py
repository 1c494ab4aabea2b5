"""Persistent storage: a database directory holding a catalog and Delta Lake tables.

:class:`Store` is the entry point (``Store.open(path)``); it moves pyarrow tables in and
out and knows nothing of devices. Modules: :mod:`~xpdb.storage.store` (operations and
their atomicity), :mod:`~xpdb.storage.catalog` (the JSON catalog),
:mod:`~xpdb.storage.delta` (one table as one Delta table, shards as partitions),
:mod:`~xpdb.storage.schema` (exact types and what Delta stores them as),
:mod:`~xpdb.storage.sharding` (which shard a row goes to).
"""

from __future__ import annotations

from typing import Any

# Imported on first use (PEP 562): an in-memory database uses the column cache of this
# package but never the Delta Lake library behind Store.
_LAZY = {"Catalog": "catalog", "TableInfo": "catalog", "hash_shard_ids": "sharding",
         "Store": "store"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Catalog", "Store", "TableInfo", "hash_shard_ids"]
