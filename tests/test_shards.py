from __future__ import annotations

import threading

import pytest

from xpdb import config
from xpdb.errors import XpdbError
from xpdb.shards import ShardedTable, as_shards, map_shards
from xpdb.table import Table
from xpdb.testing import assert_tables_equal


def test_split_and_concat(device):
    tb = Table.from_pydict({"a": list(range(10)), "s": [str(i % 3) for i in range(10)]}, device)
    sh = ShardedTable.split(tb, num_shards=3)
    assert sh.num_shards == 3 and sh.num_rows == 10
    assert [s.num_rows for s in sh] == [4, 4, 2]
    assert_tables_equal(sh.concat(), tb)
    assert ShardedTable.split(tb, rows_per_shard=100).num_shards == 1
    assert as_shards(tb).num_shards == 1


def test_map_keeps_order_and_runs_concurrently_on_cpu():
    seen = set()

    def work(i: int) -> int:
        seen.add(threading.get_ident())
        return i * i

    with config.set(num_threads=2):
        assert map_shards(work, list(range(20))) == [i * i for i in range(20)]


def test_errors_propagate():
    def boom(i: int) -> int:
        raise ValueError(f"shard {i}")

    with pytest.raises(ValueError, match="shard"):
        map_shards(boom, [1, 2, 3])


def test_shards_must_agree():
    a = Table.from_pydict({"a": [1]})
    b = Table.from_pydict({"b": [1]})
    with pytest.raises(XpdbError, match="disagree"):
        ShardedTable([a, b])
    with pytest.raises(XpdbError):
        ShardedTable([])
