"""Shard assignment: row-range balance and hash placement."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from xpdb.storage.sharding import hash_shard_ids, range_shard_counts, split


@given(st.lists(st.integers(0, 50), min_size=1, max_size=8), st.integers(0, 200))
def test_range_counts_even_out(existing: list[int], n_new: int) -> None:
    take = range_shard_counts(existing, n_new)
    assert sum(take) == n_new and min(take) >= 0
    after = [a + b for a, b in zip(existing, take, strict=True)]
    target = -(-(sum(existing) + n_new) // len(existing))
    assert max(after) <= max(target, *existing)


@given(st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), max_size=50),
       st.integers(1, 7))
def test_hash_split_keeps_rows_and_keys_together(values: list, shards: int) -> None:
    data = pa.table({"k": pa.array(values, pa.int64()), "i": range(len(values))})
    parts = split(data, ["k"], shards, [0] * shards)
    assert len(parts) == shards
    assert sorted(i for p in parts for i in p.column("i").to_pylist()) == list(range(len(values)))
    home: dict = {}
    for s, p in enumerate(parts):
        for v in p.column("k").to_pylist():
            assert home.setdefault(v, s) == s
        assert p.column("i").to_pylist() == sorted(p.column("i").to_pylist())


@given(st.lists(st.one_of(st.none(), st.text(max_size=5)), max_size=30))
def test_string_hash_is_content_based(values: list) -> None:
    a = hash_shard_ids(pa.table({"s": values}), ["s"], 5)
    b = hash_shard_ids(pa.table({"s": [*values[::-1], "extra"]}), ["s"], 5)
    assert np.array_equal(a, b[: len(values)][::-1])


def test_float_keys_normalize_zero_and_nan() -> None:
    ids = hash_shard_ids(pa.table({"f": [0.0, -0.0, float("nan"), -float("nan")]}), ["f"], 16)
    assert ids[0] == ids[1] and ids[2] == ids[3]
