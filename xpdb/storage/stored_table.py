"""A stored table as the SQL executor sees it: columns read onto the device on demand.

:class:`StoredTable` stands where an in-memory :class:`~xpdb.table.Table` stands in a
database's catalog. It knows its schema and row count from the catalog and the Delta log
without reading data, and reads a column (Parquet projection: only that column's pages) the
first time a query needs it, through the database's :class:`~xpdb.storage.cache.ColumnCache`,
so the next query finds it on the device. Every read is pinned to the Delta version the
table had when the object was made: a statement sees one consistent snapshot even while
another connection commits.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from .. import types as xt
from ..column import Column
from ..device import Device
from ..errors import BindError
from ..table import Table, missing_column_message
from .cache import ColumnCache

if TYPE_CHECKING:
    from .store import Store

_DONE = object()  # end of a prefetched stream

# bytes per row a column needs on the device beyond its values: validity, and for strings
# the int32 codes (their dictionary is small or counted apart)
_STRING_BYTES = 4


class StoredTable:
    """Table ``name`` of ``store`` at one version, read column by column onto ``device``.

    Parameters
    ----------
    store : Store
    name : str
    device : Device
    cache : ColumnCache
    version : int, optional
        Pin this version (time travel); the latest when None.
    """

    def __init__(self, store: Store, name: str, device: Device, cache: ColumnCache,
                 version: int | None = None):
        self.store, self.name, self.device, self.cache = store, name, device, cache
        info = store.table_info(name)
        self.info = info
        self.dir = info.dir
        self.version = store.version(name) if version is None else int(version)
        self.pinned = version is not None
        self._schema = {f.name: xt.from_arrow(f.type) for f in info.schema}
        self._num_rows = store.num_rows(name, self.version)

    # -- what is known without reading data ------------------------------------------------
    @property
    def names(self) -> list[str]:
        return list(self._schema)

    @property
    def schema(self) -> dict[str, xt.DataType]:
        return dict(self._schema)

    @property
    def num_rows(self) -> int:
        return self._num_rows

    def __len__(self) -> int:
        return self._num_rows

    def __contains__(self, name: object) -> bool:
        return name in self._schema

    @property
    def shard_key(self) -> tuple[str, ...]:
        return tuple(self.info.shard_key)

    @property
    def shards(self) -> int:
        return int(self.info.shards)

    def estimated_bytes(self, names: Sequence[str] | None = None) -> int:
        """Device bytes the columns ``names`` (all when None) take once loaded."""
        total = 0
        for n in names if names is not None else self.names:
            dt = self._schema[n]
            width = _STRING_BYTES if dt.is_string else np.dtype(dt.physical).itemsize
            total += self._num_rows * (width + 1)  # + a validity byte (upper bound)
        return total

    def cached(self, names: Sequence[str]) -> bool:
        """True when every column of ``names`` is on the device now."""
        keys = set(self.cache.contents())
        return all((self.dir, self.version, n) in keys for n in names)

    # -- reading -------------------------------------------------------------------------------
    def _key(self, name: str) -> tuple[str, int, str]:
        return (self.dir, self.version, name)

    def column(self, name: str) -> Column:
        """Column ``name`` on the device (read and cached on first use)."""
        return self.load([name])[0]

    def load(self, names: Sequence[str]) -> list[Column]:
        """Columns ``names`` on the device: cached ones from the cache, the others read in
        one Parquet scan and cached (as far as the budget allows)."""
        for n in names:
            if n not in self._schema:
                raise BindError(missing_column_message(n, self.names))
        found: dict[str, Column] = {}
        missing = []
        for n in dict.fromkeys(names):
            col = self.cache.get(self._key(n))
            if col is None:
                missing.append(n)
            else:
                found[n] = col
        if missing:
            data = self.store.read(self.name, missing, self.version)
            for n in missing:
                col = Column.from_arrow(data.column(n), self.device)
                self.cache.put(self._key(n), col)
                found[n] = col
        return [found[n] for n in names]

    def select(self, names: Sequence[str]) -> Table:
        """A device Table of the columns ``names``."""
        return Table(list(zip(names, self.load(names), strict=True)), self._num_rows,
                     self.device)

    def materialize(self) -> Table:
        """Every column as one device Table."""
        return self.select(self.names)

    @property
    def columns(self) -> list[Column]:
        return self.load(self.names)

    def items(self) -> Iterator[tuple[str, Column]]:
        return iter(zip(self.names, self.columns, strict=True))

    def batches(self, names: Sequence[str], batch_rows: int) -> Iterator[Table]:
        """The columns ``names`` in device Tables of at most ``batch_rows`` rows, read
        one after another (for scans larger than the memory budget; nothing is cached)."""
        # the next piece is read and decoded on a thread while the device works on this one
        import queue
        import threading

        q: queue.Queue[Any] = queue.Queue(maxsize=1)
        stop = threading.Event()

        def put(item: Any) -> bool:  # False once the consumer has gone
            while not stop.is_set():
                try:
                    q.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        def produce() -> None:
            try:
                for piece in self.store.iter_batches(self.name, list(names), self.version,
                                                     batch_rows):
                    if not put(piece):
                        return
                put(_DONE)
            except Exception as e:  # noqa: BLE001 - handed to the consumer, raised there
                put(e)

        worker = threading.Thread(target=produce, name="xpdb-prefetch", daemon=True)
        worker.start()
        try:
            while True:
                item = q.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield Table.from_arrow(item, self.device)
        finally:
            stop.set()
            worker.join()

    def shard(self, index: int, names: Sequence[str]) -> Table:
        """Shard ``index`` (of :attr:`shards`) of the columns ``names``, read onto the
        device (not cached: shard-wise work reads each shard once)."""
        piece = self.store.read_shards(self.name, list(names), self.version, only=[index])[0]
        return Table.from_arrow(piece, self.device)

    def sample(self, name: str, rows: int = 1 << 17) -> Table:
        """Up to ``rows`` leading rows of column ``name`` (for statistics), from the cache
        when it holds the column."""
        col = self.cache.peek(self._key(name))
        if col is not None:
            return Table([(name, col)], self._num_rows, self.device)
        piece = next(self.store.iter_batches(self.name, [name], self.version, rows))
        return Table.from_arrow(piece, self.device)

    def slice(self, start: int, stop: int | None = None) -> Table:
        """Rows ``start:stop`` as a device Table (no data is read for an empty slice)."""
        stop = self._num_rows if stop is None else min(stop, self._num_rows)
        if stop <= start:
            return Table([(n, Column.full(0, None, d, self.device))
                          for n, d in self._schema.items()], 0, self.device)
        return self.materialize().slice(start, stop)

    def to_arrow(self) -> pa.Table:
        return self.store.read(self.name, None, self.version)

    def __getattr__(self, attr: str) -> Any:
        # everything else a Table offers (filter, slice, take, with_column...) works on
        # the materialized table: UPDATE and DELETE read every column anyway
        if attr.startswith("_"):
            raise AttributeError(attr)
        return getattr(self.materialize(), attr)

    def __repr__(self) -> str:
        return (f"StoredTable({self.name!r} version {self.version}, {self._num_rows} rows "
                f"on {self.device})")


__all__ = ["StoredTable"]
