"""Exchanges and the sharded operators built on them, against their single-table twins."""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pytest

from xpdb.kernels.exchange import exchange, hash_keys, hash_partition
from xpdb.kernels.sort import distinct, distinct_sharded
from xpdb.kernels.window import WindowFunc, window, window_sharded
from xpdb.shards import ShardedTable
from xpdb.table import Table, concat_tables
from xpdb.testing import assert_tables_equal


def random_arrow(rng: np.random.Generator, n: int) -> pa.Table:
    g = rng.choice(np.array(["a", "b", "ç", "d", "🦆"]), n)
    return pa.table({
        "g": pa.array(g, mask=rng.random(n) < 0.1),
        "h": pa.array(rng.integers(-3, 3, n), pa.int32()),
        "f": pa.array(rng.choice(np.array([0.0, -0.0, np.nan, 1.5]), n)),
        "o": pa.array(rng.permutation(n)),
        "v": pa.array(rng.normal(size=n), mask=rng.random(n) < 0.2),
    })


def shards_of(at: pa.Table, device: str, cuts: list[int]) -> ShardedTable:
    # each shard built from its own slice: string dictionaries differ between shards
    bounds = [0, *cuts, at.num_rows]
    return ShardedTable([Table.from_arrow(at.slice(a, b - a), device)
                         for a, b in itertools.pairwise(bounds)])


def test_equal_keys_hash_alike_across_shards(device, rng):
    sh = shards_of(random_arrow(rng, 300), device, [100, 180])
    parts = exchange(sh.shards, ["g", "h", "f"], 4)
    assert sum(p.num_rows for p in parts) == 300
    seen: dict[tuple, int] = {}
    for i, p in enumerate(parts):
        for row in zip(*(p.column(c).to_pylist() for c in ("g", "h", "f")), strict=True):
            key = tuple("nan" if isinstance(x, float) and x != x else (0.0 if x == 0 else x)
                        for x in row)
            assert seen.setdefault(key, i) == i, f"key {key} in parts {seen[key]} and {i}"


def test_hash_partition_keeps_row_order(device, rng):
    tb = Table.from_arrow(random_arrow(rng, 200), device)
    parts = hash_partition(tb, ["g"], 3)
    for p in parts:
        o = p.column("o").to_pylist()
        pos = {v: i for i, v in enumerate(tb.column("o").to_pylist())}
        assert [pos[v] for v in o] == sorted(pos[v] for v in o)
    h = tb.device.to_host(hash_keys(tb, ["g", "h"]))
    assert h.dtype == np.uint64 and len(np.unique(h)) > 5


@pytest.mark.parametrize("num_parts", [None, 1, 5])
def test_window_sharded_equals_window(device, rng, num_parts):
    at = random_arrow(rng, 400)
    sh = shards_of(at, device, [50, 51, 300])
    funcs = [WindowFunc("row_number", None, "rn"), WindowFunc("rank", None, "rk"),
             WindowFunc("lag", "v", "lag", offset=2), WindowFunc("sum", "v", "cs"),
             WindowFunc("max", "v", "mx", frame=(-2, 1)), WindowFunc("count_star", None, "n",
                                                                     frame=(None, None))]
    got = window_sharded(sh, ["g", "h"], ["o"], funcs, descending=True, num_parts=num_parts)
    assert [s.num_rows for s in got] == [s.num_rows for s in sh]
    expected = window(sh.concat(), ["g", "h"], ["o"], funcs, descending=True)
    assert_tables_equal(got.concat(), expected, rtol=1e-12)


def test_window_sharded_without_partitions_gathers(device, rng):
    sh = shards_of(random_arrow(rng, 60), device, [20])
    funcs = [WindowFunc("row_number", None, "rn")]
    got = window_sharded(sh, [], ["o"], funcs)
    assert_tables_equal(got.concat(), window(sh.concat(), [], ["o"], funcs))


@pytest.mark.parametrize("keep", ["first", "last", False])
@pytest.mark.parametrize("subset", [None, ["g"], ["g", "f"]])
def test_distinct_sharded_equals_distinct(device, rng, keep, subset):
    at = random_arrow(rng, 300).select(["g", "h", "f"])
    sh = shards_of(at, device, [10, 150])
    assert_tables_equal(distinct_sharded(sh, subset, keep), distinct(sh.concat(), subset, keep))


def test_exchange_of_empty_shards(device):
    empty = Table.from_arrow(pa.table({"g": pa.array([], pa.string())}), device)
    parts = exchange([empty, empty], ["g"], 3)
    assert [p.num_rows for p in parts] == [0, 0, 0]
    assert concat_tables(parts).num_rows == 0
