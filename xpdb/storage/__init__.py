"""Persistent storage: a database directory holding a catalog and Delta Lake tables.

:class:`Store` is the entry point (``Store.open(path)``); it moves pyarrow tables in and
out and knows nothing of devices. Modules: :mod:`~xpdb.storage.store` (operations and
their atomicity), :mod:`~xpdb.storage.catalog` (the JSON catalog),
:mod:`~xpdb.storage.delta` (one table as one Delta table, shards as partitions),
:mod:`~xpdb.storage.schema` (exact types and what Delta stores them as),
:mod:`~xpdb.storage.sharding` (which shard a row goes to).
"""

from .catalog import Catalog, TableInfo
from .sharding import hash_shard_ids
from .store import Store

__all__ = ["Catalog", "Store", "TableInfo", "hash_shard_ids"]
