"""Readers see whole commits while a writer commits."""

from __future__ import annotations

import threading

import numpy as np
import pyarrow as pa
import pytest

from xpdb.storage import Store

BATCH = 7
COMMITS = 40


@pytest.mark.parametrize(("shards", "key"), [(1, None), (3, "id"), (2, None)])
def test_reader_sees_snapshots_while_writer_appends(tmp_path, shards, key) -> None:
    db = Store.open(tmp_path / "db")
    db.create_table("t", pa.schema([("id", pa.int64()), ("s", pa.string())]),
                    shard_key=key, shards=shards)
    other = Store.open(tmp_path / "db", read_only=True)  # a second handle, as another reader
    done = threading.Event()
    seen: list[int] = []
    errors: list[Exception] = []

    def write() -> None:
        try:
            for c in range(COMMITS):
                ids = np.arange(c * BATCH, (c + 1) * BATCH)
                db.append("t", pa.table({"id": ids, "s": [str(i) for i in ids]}))
                if c % 10 == 9:  # overwrite with the same rows: a new version, same content
                    db.overwrite("t", db.read("t"))
        except Exception as e:  # noqa: BLE001 - handed to the main thread
            errors.append(e)
        finally:
            done.set()

    def check(store: Store) -> None:
        version = store.version("t")
        got = store.read("t")
        n = got.num_rows
        assert n % BATCH == 0, n  # never part of a commit
        assert sorted(got.column("id").to_pylist()) == list(range(n))
        assert got.column("s").to_pylist() == [str(i) for i in got.column("id").to_pylist()]
        pinned = store.read("t", version=version)  # time travel is stable
        assert pinned.num_rows <= n
        assert store.read("t", version=version).equals(pinned)
        seen.append(n)

    writer = threading.Thread(target=write)
    writer.start()
    while not done.is_set():
        check(db)
        check(other)
    writer.join()
    assert not errors, errors
    check(db)
    assert seen[-1] == BATCH * COMMITS
    assert db.version("t") == COMMITS + COMMITS // 10
    db.close()
    other.close()
