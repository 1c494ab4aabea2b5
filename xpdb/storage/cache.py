"""The device-resident column cache of a persistent database.

Columns a query read stay on the device for the next query. Entries are keyed by
``(table directory, Delta version, column)``, so a committed change never serves stale data:
a new version is a new key, and the old version's entries age out (or are dropped at once
by :meth:`ColumnCache.drop_table`). The cache holds at most ``limit`` bytes and evicts the
least recently used columns first; a column larger than the whole budget is never cached
(the executor streams such scans instead, see :mod:`xpdb.sql.streaming`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from ..column import Column

Key = tuple[str, int, str]


@dataclass
class CacheStats:
    """Counters since the cache was made (or since :meth:`ColumnCache.reset_stats`)."""

    hits: int = 0
    misses: int = 0
    evictions: int = 0
    bytes_loaded: int = 0
    bytes_evicted: int = 0

    def copy(self) -> CacheStats:
        return CacheStats(self.hits, self.misses, self.evictions, self.bytes_loaded,
                          self.bytes_evicted)


class ColumnCache:
    """An LRU cache of device columns within a byte budget.

    Parameters
    ----------
    limit : int
        The budget in bytes (0 disables caching).

    Examples
    --------
    >>> import numpy as np
    >>> from xpdb.column import Column
    >>> cache = ColumnCache(limit=1000)
    >>> cache.put(("t", 1, "x"), Column.from_numpy(np.arange(100)))  # 800 bytes
    True
    >>> cache.get(("t", 1, "x")) is not None, cache.get(("t", 1, "y"))
    (True, None)
    >>> cache.put(("t", 1, "y"), Column.from_numpy(np.arange(100)))  # evicts x
    True
    >>> cache.contents(), cache.nbytes
    ([('t', 1, 'y')], 800)
    """

    def __init__(self, limit: int):
        self.limit = max(0, int(limit))
        self._entries: OrderedDict[Key, tuple[Column, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.stats = CacheStats()

    @property
    def nbytes(self) -> int:
        """Bytes held now."""
        return self._bytes

    def contents(self) -> list[Key]:
        """Cached keys, least recently used first."""
        with self._lock:
            return list(self._entries)

    def get(self, key: Key) -> Column | None:
        """The cached column (marked most recently used), or None (a miss)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.stats.misses += 1
                return None
            self._entries.move_to_end(key)
            self.stats.hits += 1
            return entry[0]

    def peek(self, key: Key) -> Column | None:
        """The cached column or None, without counting a hit or miss or touching the LRU
        order (for statistics, which should not change what the cache keeps)."""
        with self._lock:
            entry = self._entries.get(key)
            return None if entry is None else entry[0]

    def put(self, key: Key, column: Column) -> bool:
        """Cache ``column``, evicting least recently used columns to make room; False
        (nothing cached) when it alone exceeds the budget."""
        size = column.nbytes
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            if size > self.limit:
                return False
            self._evict_until(self.limit - size)
            self._entries[key] = (column, size)
            self._bytes += size
            self.stats.bytes_loaded += size
            return True

    def _evict_until(self, room: int) -> None:
        while self._entries and self._bytes > room:
            _, (_, size) = self._entries.popitem(last=False)
            self._bytes -= size
            self.stats.evictions += 1
            self.stats.bytes_evicted += size

    def set_limit(self, limit: int) -> None:
        """Change the budget, evicting what no longer fits."""
        with self._lock:
            self.limit = max(0, int(limit))
            self._evict_until(self.limit)

    def drop_table(self, table_dir: str, keep_version: int | None = None) -> None:
        """Forget every column of a table (but those of ``keep_version``)."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == table_dir and k[1] != keep_version]:
                self._bytes -= self._entries.pop(key)[1]

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def reset_stats(self) -> CacheStats:
        """Return the counters and start new ones."""
        with self._lock:
            old, self.stats = self.stats, CacheStats()
            return old

    def __repr__(self) -> str:
        return (f"ColumnCache({len(self._entries)} columns, {self._bytes:,} of "
                f"{self.limit:,} bytes)")


__all__ = ["CacheStats", "ColumnCache"]
