"""Which shard a stored row belongs to.

Hash sharding uses :func:`xpdb.kernels.exchange.hash_keys` modulo the shard count, the
bucket :func:`~xpdb.kernels.exchange.hash_partition` gives a row, so two tables sharded
alike on their join key hold matching keys in matching shards. One difference: the
exchange hashes string *codes*, which depend on each table's dictionary, while a stored
row's shard must not depend on the batch it arrived in. So string key columns are first
replaced by a 64-bit hash of their *contents* (SipHash through
:func:`pandas.util.hash_array`, stable across processes); an exchange that should line up
with stored shards must do the same (see :func:`key_table`).

Row-range shards (no key) take each appended batch in contiguous pieces that even out the
shards' row counts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from .. import types as t
from ..column import Column
from ..kernels.exchange import hash_keys
from ..table import Table


def key_table(data: pa.Table, keys: Sequence[str]) -> Table:
    """The key columns of ``data`` as a host :class:`~xpdb.table.Table` to hash, with
    string columns replaced by uint64 hashes of their values."""
    import pandas as pd

    table = Table.from_arrow(data.select(list(keys)), "cpu")
    for name in keys:
        col = table.column(name)
        if col.dtype.is_string:
            values = np.asarray(col.dictionary.to_pylist(), dtype=object)
            word = pd.util.hash_array(values, categorize=False) if len(values) else \
                np.zeros(0, np.uint64)
            data_ = word[col.data] if len(word) else np.zeros(len(col), np.uint64)
            table = table.with_column(name, Column(t.uint64, data_, col.validity))
    return table


def hash_shard_ids(data: pa.Table, keys: Sequence[str], shards: int) -> np.ndarray:
    """The shard (``0..shards-1``) of every row of ``data``, hashed on ``keys``.

    Examples
    --------
    >>> ids = hash_shard_ids(pa.table({"k": [1, 2, 1, None]}), ["k"], 4)
    >>> bool(ids[0] == ids[2]), bool(((ids >= 0) & (ids < 4)).all())
    (True, True)
    """
    if data.num_rows == 0:
        return np.zeros(0, np.int64)
    h = hash_keys(key_table(data, keys), list(keys))
    return (h % np.uint64(shards)).astype(np.int64)


def range_shard_counts(existing: Sequence[int], n_new: int) -> list[int]:
    """How many of ``n_new`` appended rows each shard takes so that shards even out.

    Examples
    --------
    >>> range_shard_counts([5, 0, 2], 6)
    [0, 5, 1]
    """
    n = len(existing)
    target = -(-(sum(existing) + n_new) // n)
    take = []
    left = n_new
    for have in existing:
        k = min(left, max(0, target - have))
        take.append(k)
        left -= k
    return take


def split(data: pa.Table, keys: Sequence[str], shards: int,
          existing: Sequence[int]) -> list[pa.Table]:
    """Cut ``data`` into one table per shard (rows keep their order within a shard)."""
    if shards == 1:
        return [data]
    if keys:
        ids = hash_shard_ids(data, keys, shards)
        order = np.argsort(ids, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(ids, minlength=shards))])
        return [data.take(order[bounds[s]:bounds[s + 1]]) for s in range(shards)]
    counts = range_shard_counts(existing, data.num_rows)
    starts = np.concatenate([[0], np.cumsum(counts)])
    return [data.slice(int(starts[s]), counts[s]) for s in range(shards)]
