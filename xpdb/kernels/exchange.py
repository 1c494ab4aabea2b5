"""Exchanges between shards: hash partitioning, so rows with equal keys meet in one place.

Operators whose per-shard work needs every row of a key together (window functions over
partitions; later distributed joins and group-bys) cut each shard into ``n_parts`` pieces
by a hash of the key values, then gather piece ``b`` of every shard into part ``b``. The
hash must not depend on how a shard happens to encode its strings, so string keys are
first recoded onto one dictionary shared by all shards (:func:`unify_shard_dictionaries`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..column import Column, unify_dictionaries
from ..shards import map_shards
from ..table import Table, concat_tables
from . import _xp

_U64 = np.uint64
_GOLDEN = _U64(0x9E3779B97F4A7C15)
_NULL_WORD = _U64(0x6A09E667F3BCC909)  # what a null contributes to the hash


def unify_shard_dictionaries(shards: Sequence[Table], names: Sequence[str]) -> list[Table]:
    """Recode the string columns ``names`` of every shard onto one shared dictionary."""
    out = list(shards)
    for name in names:
        cols = [s.column(name) for s in out]
        if not cols[0].dtype.is_string:
            continue
        first = cols[0].dictionary
        if all(c.dictionary is first for c in cols[1:]):
            continue
        unified = unify_dictionaries(cols)
        out = [s.with_column(name, c) for s, c in zip(out, unified, strict=True)]
    return out


def _mix(xp: Any, z: Any) -> Any:
    """splitmix64's finalizer: a bijection of uint64 that spreads every input bit."""
    z = z + _GOLDEN
    z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
    return z ^ (z >> _U64(31))


def _words(col: Column) -> Any:
    """One uint64 per row that is equal exactly when the values are (null aside)."""
    xp = col.xp
    data = col.data
    if col.dtype.is_float:
        data = data.astype(np.float64) + 0.0  # -0.0 and 0.0 hash alike
        data = xp.where(xp.isnan(data), np.float64("nan"), data)  # one NaN payload
        return data.view(_U64)
    if data.dtype.kind == "b":
        return data.astype(_U64)
    return data.astype(np.int64, copy=False).view(_U64) if data.dtype.kind == "i" \
        else data.astype(_U64)


def hash_keys(table: Table, keys: Sequence[str]) -> Any:
    """A uint64 hash per row of the key columns (nulls hash alike; NaN is one value).

    String keys hash their codes, so tables hashed together must share dictionaries.
    """
    xp = table.device.xp
    h = xp.zeros(table.num_rows, dtype=_U64)
    for name in keys:
        col = table.column(name)
        w = _words(col)
        if col.validity is not None:
            w = xp.where(col.validity, w, _NULL_WORD)
        h = _mix(xp, h ^ w)
    return h


def hash_partition(table: Table, keys: Sequence[str], n_parts: int) -> list[Table]:
    """Cut ``table`` into ``n_parts`` tables by a hash of ``keys``; rows keep their order."""
    if n_parts == 1:
        return [table]
    xp = table.device.xp
    bucket = (hash_keys(table, keys) % _U64(n_parts)).astype(np.int64)
    order = _xp.argsort_bounded(xp, bucket, n_parts)
    counts = table.device.to_host(_xp.bincount(xp, bucket, n_parts))
    bounds = np.concatenate([[0], np.cumsum(counts)])
    return [table.take(order[int(bounds[b]):int(bounds[b + 1])]) for b in range(n_parts)]


def exchange(shards: Sequence[Table], keys: Sequence[str], n_parts: int) -> list[Table]:
    """Repartition ``shards`` by ``keys`` into ``n_parts`` tables.

    Every row with a given key lands in the same part; within a part, rows keep the order
    they had across the shards (shard by shard, row by row).
    """
    shards = unify_shard_dictionaries(shards, keys)
    device = shards[0].device
    pieces = map_shards(lambda s: hash_partition(s, keys, n_parts), shards, device)
    return [concat_tables([p[b] for p in pieces]) for b in range(n_parts)]
