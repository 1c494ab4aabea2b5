"""Sharded tables and the in-process executor.

A :class:`ShardedTable` is a list of :class:`~xpdb.table.Table` shards (row ranges or
files) on one device. Operators run per-shard work through :func:`map_shards` and then an
explicit combine step (merge partial aggregates, probe a broadcast build side, merge sorted
runs). On the CPU shards run concurrently on a thread pool (NumPy releases the GIL in its
loops); on a GPU they run one after another on the device's stream. The distributed
executor runs the same per-shard functions as Dask tasks.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from . import config
from .device import Device, get_device
from .errors import XpdbError
from .table import Table, concat_tables

T = TypeVar("T")

_pool: ThreadPoolExecutor | None = None
_pool_size = 0


def _executor() -> ThreadPoolExecutor:
    global _pool, _pool_size
    size = config.get("num_threads") or os.cpu_count() or 1
    if _pool is None or size != _pool_size:
        _pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="xpdb-shard")
        _pool_size = size
    return _pool


def map_shards(fn: Callable[[Any], T], items: Sequence[Any], device: Device | None = None) -> list[T]:
    """Apply ``fn`` to every item (a shard, or per-shard arguments), keeping order.

    Items run concurrently on the CPU's thread pool and in order on a GPU. The first
    exception raised by any item propagates.
    """
    dev = device or get_device("cpu")
    if len(items) <= 1 or dev.is_gpu or (config.get("num_threads") or 2) == 1:
        return [fn(item) for item in items]
    return list(_executor().map(fn, items))


class ShardedTable:
    """A table stored as row-range shards on one device.

    Parameters
    ----------
    shards : sequence of Table
        Shards with the same column names and types, in row order.
    """

    __slots__ = ("device", "shards")

    def __init__(self, shards: Sequence[Table]):
        if not shards:
            raise XpdbError("a sharded table needs at least one shard")
        names = shards[0].schema
        for s in shards[1:]:
            if s.schema != names:
                raise XpdbError(f"shards disagree on their schema: {names} and {s.schema}")
            if s.device is not shards[0].device:
                raise XpdbError("all shards of a table must live on one device")
        self.shards = list(shards)
        self.device = shards[0].device

    @classmethod
    def split(cls, table: Table, num_shards: int | None = None,
              rows_per_shard: int | None = None) -> ShardedTable:
        """Cut ``table`` into row ranges (views; no copy)."""
        n = table.num_rows
        if rows_per_shard is None:
            if num_shards is None:
                rows_per_shard = config.get("shard_rows")
            else:
                rows_per_shard = max(1, -(-n // max(1, num_shards)))
        if n == 0:
            return cls([table])
        return cls([table.slice(i, i + rows_per_shard) for i in range(0, n, rows_per_shard)])

    @property
    def num_rows(self) -> int:
        return sum(s.num_rows for s in self.shards)

    @property
    def num_shards(self) -> int:
        return len(self.shards)

    @property
    def names(self) -> list[str]:
        return self.shards[0].names

    @property
    def schema(self) -> dict[str, Any]:
        return self.shards[0].schema

    def __iter__(self) -> Iterator[Table]:
        return iter(self.shards)

    def __repr__(self) -> str:
        return f"ShardedTable({self.num_shards} shards, {self.num_rows} rows on {self.device})"

    def map(self, fn: Callable[[Table], Table]) -> ShardedTable:
        """Apply a table-to-table function to every shard."""
        return ShardedTable(map_shards(fn, self.shards, self.device))

    def concat(self) -> Table:
        """Gather every shard into one table."""
        return concat_tables(self.shards)


def as_shards(data: Table | ShardedTable) -> ShardedTable:
    """View a table as a sharded table (one shard when it is a plain Table)."""
    return data if isinstance(data, ShardedTable) else ShardedTable([data])
