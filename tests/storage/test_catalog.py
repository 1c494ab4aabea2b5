"""The catalog document: atomic replacement, validation, immutable snapshots."""

from __future__ import annotations

import json
import os

import pyarrow as pa
import pytest

from xpdb.errors import StorageError
from xpdb.storage import Store, delta
from xpdb.storage import store as store_mod
from xpdb.storage.catalog import (
    CATALOG_FILE,
    Catalog,
    TableInfo,
    read_catalog,
    write_catalog,
)


def test_round_trip_and_evolve(tmp_path) -> None:
    info = TableInfo("t", pa.schema([("x", pa.timestamp("ns", tz="UTC"))]), "tables/t-1",
                     ("x",), 4)
    cat = Catalog().evolve("tables", "t", info).evolve("views", "v", {"sql": "SELECT 1"})
    assert cat.generation == 2 and Catalog().tables == {}
    write_catalog(str(tmp_path), cat)
    back = read_catalog(str(tmp_path))
    assert back == cat
    assert back.kind_of("v") == "views" and back.kind_of("zz") is None
    assert back.evolve("tables", "t", None).tables == {}
    assert back.tables["t"] == info  # the earlier snapshot is untouched


def test_failed_write_keeps_the_old_catalog(tmp_path, monkeypatch) -> None:
    write_catalog(str(tmp_path), Catalog())

    def boom(*_a: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(StorageError, match="No space left"):
        write_catalog(str(tmp_path), Catalog().evolve("views", "v", {"sql": "x"}))
    assert os.listdir(tmp_path) == [CATALOG_FILE]
    assert read_catalog(str(tmp_path)) == Catalog()


@pytest.mark.parametrize(("doc", "match"), [
    ({"format": "xpdb-database", "format_version": 99}, "upgrade xpdb"),
    ({"format": "xpdb-database", "tables": {"t": {"schema": []}}}, "damaged"),
    ([1, 2], "not an xpdb catalog"),
])
def test_bad_documents(tmp_path, doc, match) -> None:
    (tmp_path / CATALOG_FILE).write_text(json.dumps(doc))
    with pytest.raises(StorageError, match=match):
        read_catalog(str(tmp_path))


def test_crash_before_catalog_commit_leaves_nothing(tmp_path, monkeypatch) -> None:
    db = Store.open(tmp_path / "db")
    db.create_table("t", data=pa.table({"x": [1]}))
    before = db.catalog

    def fail(*_a: object) -> None:
        raise StorageError("disk full")

    monkeypatch.setattr(store_mod, "write_catalog", fail)
    with pytest.raises(StorageError, match="disk full"):
        db.create_table("u", data=pa.table({"x": [1]}))
    with pytest.raises(StorageError, match="disk full"):
        db.create_table("t", data=pa.table({"y": [2]}), replace=True)
    with pytest.raises(StorageError, match="disk full"):
        db.drop_table("t")
    assert db.catalog == before
    assert os.listdir(tmp_path / "db" / "tables") == [before.tables["t"].dir.split("/")[1]]
    assert db.read("t").to_pylist() == [{"x": 1}]
    db.close()


def test_failed_delta_commit_changes_nothing(tmp_path, monkeypatch) -> None:
    db = Store.open(tmp_path / "db")
    db.create_table("t", data=pa.table({"x": [1]}), shards=2)

    def fail(*_a: object, **_k: object) -> None:
        raise RuntimeError("commit conflict")

    monkeypatch.setattr(delta, "commit", fail)
    with pytest.raises(StorageError, match="append table 't' failed.*commit conflict"):
        db.append("t", pa.table({"x": [2, 3]}))
    assert db.version("t") == 1 and db.read("t").to_pylist() == [{"x": 1}]
    db.close()
