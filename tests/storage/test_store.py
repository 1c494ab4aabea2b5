"""Store: tables in Delta Lake, the catalog, sharding, time travel, errors."""

from __future__ import annotations

import json
import os
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from xpdb.errors import BindError, CastError, StorageError
from xpdb.errors import TypeError as XTypeError
from xpdb.kernels.exchange import hash_partition
from xpdb.storage import Store
from xpdb.storage.delta import SHARD_COLUMN
from xpdb.storage.sharding import hash_shard_ids, key_table
from xpdb.table import Table
from xpdb.testing import assert_tables_equal

ALL = pa.schema([
    ("b", pa.bool_()), ("i8", pa.int8()), ("i16", pa.int16()), ("i32", pa.int32()),
    ("i64", pa.int64()), ("u8", pa.uint8()), ("u16", pa.uint16()), ("u32", pa.uint32()),
    ("u64", pa.uint64()), ("f32", pa.float32()), ("f64", pa.float64()),
    ("s", pa.string()), ("d", pa.dictionary(pa.int32(), pa.string())), ("day", pa.date32()),
    ("ts_s", pa.timestamp("s")), ("ts_ms", pa.timestamp("ms", tz="Asia/Tokyo")),
    ("ts_us", pa.timestamp("us", tz="UTC")), ("ts_ns", pa.timestamp("ns")),
    ("ts_ns_tz", pa.timestamp("ns", tz="America/New_York")), ("dur", pa.duration("us")),
    ("dec", pa.decimal128(18, 3)), ("dec0", pa.decimal128(5, 0)),
])


def all_types_table() -> pa.Table:
    n = 4
    cols = []
    for f in ALL:
        t = f.type
        if pa.types.is_boolean(t):
            v = [True, None, False, True]
        elif pa.types.is_integer(t):
            info = np.iinfo(t.to_pandas_dtype())
            v = [int(info.min), None, int(info.max), 0]
        elif pa.types.is_floating(t):
            v = [float("-inf"), None, float("inf"), -0.0]
        elif pa.types.is_dictionary(t) or pa.types.is_string(t):
            v = ["", None, "日本 é", "zz"]
        elif pa.types.is_date(t):
            v = [-719162, None, 2932896, 0]
        elif pa.types.is_timestamp(t) or pa.types.is_duration(t):
            big = {"s": 10**11, "ms": 10**14, "us": 2**62, "ns": 2**63 - 1}[t.unit]
            v = [-big, None, big, 1]
        else:
            digits = "9" * t.precision
            v = [Decimal(f"-{digits}E-{t.scale}"), None, Decimal(f"{digits}E-{t.scale}"),
                 Decimal(0)]
        arr = pa.array(v, t.value_type if pa.types.is_dictionary(t) else
                       (pa.int64() if pa.types.is_temporal(t) and not pa.types.is_date(t)
                        else t))
        cols.append(arr.cast(t) if arr.type != t else arr)
    assert len(cols[0]) == n
    return pa.Table.from_arrays(cols, schema=ALL)


@pytest.fixture
def db(tmp_path):
    with Store.open(tmp_path / "db") as s:
        yield s


def test_every_type_round_trips_exactly(tmp_path) -> None:
    data = all_types_table()
    with Store.open(tmp_path / "db") as db:
        db.create_table("t", ALL)
        db.append("t", data)
        db.append("t", data.slice(0, 0))
    with Store.open(tmp_path / "db", read_only=True) as db:
        got = db.read("t")
        assert got.schema == ALL
        assert got.equals(data)
        assert db.schema("t") == ALL


def test_nan_and_empty_tables(db) -> None:
    db.create_table("e", pa.schema([("x", pa.float64()), ("s", pa.string())]))
    empty = db.read("e")
    assert empty.num_rows == 0 and empty.schema == db.schema("e")
    assert [t.num_rows for t in db.read_shards("e")] == [0]
    db.append("e", pa.table({"x": [float("nan"), 1.0], "s": ["a", None]}))
    got = db.read("e").column("x").to_numpy()
    assert np.isnan(got[0]) and got[1] == 1.0
    db.overwrite("e", pa.table({"x": pa.array([], pa.float64()), "s": pa.array([], pa.string())}))
    assert db.read("e").num_rows == 0 and db.num_rows("e") == 0


def test_device_tables_round_trip(db, device: str) -> None:
    t = Table.from_pydict({"k": [3, 1, None], "s": ["b", None, "a"]}, device)
    db.create_table("t", data=t.to_arrow())
    back = Table.from_arrow(db.read("t"), device)
    assert_tables_equal(back, t)


def test_insertion_order_and_versions(db) -> None:
    db.create_table("t", {"x": "int64", "d": "decimal(10,2)"})
    assert db.schema("t").field("d").type == pa.decimal128(10, 2)
    assert db.version("t") == 0
    for i in range(5):
        assert db.append("t", pa.table({"x": [2 * i, 2 * i + 1],
                                        "d": pa.array([Decimal(i), None],
                                                      pa.decimal128(10, 2))})) == i + 1
    assert db.read("t", ["x"]).column("x").to_pylist() == list(range(10))
    assert db.read("t", version=2).column("x").to_pylist() == [0, 1, 2, 3]
    assert db.overwrite("t", db.read("t").filter(pc.field("x") > 6)) == 6
    assert db.read("t", ["x"]).column("x").to_pylist() == [7, 8, 9]
    assert db.read("t", version=5).num_rows == 10
    assert db.num_rows("t") == 3 and db.num_rows("t", version=1) == 2
    ops = [h["operation"] for h in db.history("t")]
    assert ops == ["create"] + ["append"] * 5 + ["overwrite"]
    assert [h["version"] for h in db.history("t")] == list(range(7))
    with pytest.raises(StorageError, match="no version 99"):
        db.read("t", version=99)


def test_many_appends_read_back_in_order(db) -> None:
    db.create_table("t", {"x": "int64"})
    for i in range(30):
        db.append("t", pa.table({"x": [3 * i, 3 * i + 1, 3 * i + 2]}))
    assert db.read("t").column("x").to_pylist() == list(range(90))


def test_null_typed_column(db) -> None:
    data = pa.table({"a": pa.nulls(3), "b": [1, 2, 3]})
    db.create_table("n", data=data)
    assert db.read("n").equals(data)


def test_columns_selection(db) -> None:
    db.create_table("t", data=all_types_table())
    got = db.read("t", columns=["u64", "ts_ns", "d"])
    assert got.schema == pa.schema([ALL.field("u64"), ALL.field("ts_ns"), ALL.field("d")])
    with pytest.raises(BindError, match="did you mean 'u64'"):
        db.read("t", columns=["u46"])


@pytest.mark.parametrize("key", ["k", "s", None])
def test_sharded_tables(db, key) -> None:
    rng = np.random.default_rng(0)
    data = pa.table({"k": pa.array(rng.integers(-5, 50, 300)), "s": pa.array(
        [f"v{x}" if x % 7 else None for x in rng.integers(0, 40, 300)])})
    db.create_table("t", data.schema, shard_key=key, shards=4)
    db.append("t", data.slice(0, 100))
    db.append("t", data.slice(100))
    assert db.version("t") == 2
    parts = db.read_shards("t")
    assert len(parts) == 4
    assert sum(p.num_rows for p in parts) == 300
    assert all(p.schema == data.schema for p in parts)
    whole = db.read("t")
    assert sorted(whole.column("k").to_pylist()) == sorted(data.column("k").to_pylist())
    if key is None:  # row-range shards even out
        assert max(p.num_rows for p in parts) - min(p.num_rows for p in parts) <= 1
    else:  # every row sits in the shard its key hashes to
        for s, p in enumerate(parts):
            assert (hash_shard_ids(p, [key], 4) == s).all()
    assert [p.num_rows for p in db.read_shards("t", version=1)] != [0, 0, 0, 0]
    assert sum(p.num_rows for p in db.read_shards("t", version=1)) == 100


def test_hash_sharding_matches_the_exchange(db) -> None:
    """An integer key lands where hash_partition sends it, so co-sharded joins line up."""
    data = pa.table({"k": pa.array(range(-50, 50), pa.int64()), "v": range(100)})
    db.create_table("a", data.schema, shard_key="k", shards=3)
    db.append("a", data)
    parts = hash_partition(Table.from_arrow(data), ["k"], 3)
    for stored, expected in zip(db.read_shards("a"), parts, strict=True):
        assert sorted(stored.column("k").to_pylist()) == \
            sorted(expected.to_arrow().column("k").to_pylist())


def test_string_shards_do_not_depend_on_the_batch() -> None:
    one = pa.table({"s": ["x", "y", None]})
    other = pa.table({"s": ["a", "b", "c", "y", "x", None]})
    a, b = hash_shard_ids(one, ["s"], 8), hash_shard_ids(other, ["s"], 8)
    assert a[0] == b[4] and a[1] == b[3] and a[2] == b[5]
    assert key_table(one, ["s"]).column("s").dtype.kind == "uint64"


def test_delta_files_are_readable_by_other_engines(db) -> None:
    pl = pytest.importorskip("polars")  # the offline GPU machine has no polars
    from deltalake import DeltaTable

    db.create_table("t", pa.schema([("k", pa.int32()), ("u", pa.uint64())]), shard_key="k",
                    shards=2)
    db.append("t", pa.table({"k": pa.array([1, 2, 3], pa.int32()),
                             "u": pa.array([0, 2**64 - 1, 5], pa.uint64())}))
    path = os.path.join(db.root, db.table_info("t").dir)
    df = pl.read_delta(path).sort("k")
    assert df["k"].to_list() == [1, 2, 3]
    assert [int(x) for x in df["u"].to_list()] == [0, 2**64 - 1, 5]
    assert SHARD_COLUMN in df.columns
    assert DeltaTable(path).to_pyarrow_table().num_rows == 3
    db.create_table("plain", data=pa.table({"x": [1]}))
    assert pl.read_delta(os.path.join(db.root, db.table_info("plain").dir)).columns == ["x"]


def test_reopen_keeps_everything(tmp_path) -> None:
    with Store.open(tmp_path / "db") as db:
        db.create_table("t", data=pa.table({"x": [1, 2]}), shard_key="x", shards=2)
        db.create_view("v", "SELECT x FROM t WHERE x > 1")
        db.put_entry("models", "m", {"file": "models/m.bin", "kind": "linear"})
        gen = db.catalog.generation
    with Store.open(tmp_path / "db") as db:
        info = db.table_info("t")
        assert (info.shard_key, info.shards) == (("x",), 2)
        assert db.views() == {"v": "SELECT x FROM t WHERE x > 1"}
        assert db.entry("models", "m")["kind"] == "linear"
        assert db.catalog.generation == gen
        assert sorted(db.read("t").column("x").to_pylist()) == [1, 2]


def test_create_table_as_replace_and_drop(db) -> None:
    db.create_table("t", data=pa.table({"x": [1]}))
    old_dir = db.table_info("t").dir
    with pytest.raises(StorageError, match="already exists.*replace=True"):
        db.create_table("t", data=pa.table({"x": [2]}))
    db.create_table("t", data=pa.table({"y": ["a"]}), replace=True)
    assert db.read("t").to_pylist() == [{"y": "a"}]
    assert not os.path.exists(os.path.join(db.root, old_dir))
    assert db.version("t") == 1
    db.drop_table("t")
    assert db.tables() == []
    assert os.listdir(os.path.join(db.root, "tables")) == []
    db.drop_table("t", missing_ok=True)
    with pytest.raises(BindError, match="table 't' not found"):
        db.drop_table("t")


def test_rename_and_names_clash(db) -> None:
    db.create_table("t", data=pa.table({"x": [1]}))
    db.create_view("v", "SELECT 1")
    with pytest.raises(StorageError, match="a view named 'v' already exists"):
        db.create_table("v", data=pa.table({"x": [1]}))
    db.rename_table("t", "u")
    assert db.tables() == ["u"] and db.read("u").num_rows == 1
    db.drop_view("v")
    assert db.views() == {}


def test_failed_operations_change_nothing(db) -> None:
    db.create_table("t", pa.schema([("x", pa.int8()), ("s", pa.string())]))
    db.append("t", pa.table({"x": pa.array([1], pa.int8()), "s": ["a"]}))
    before = (db.catalog, db.version("t"), sorted(os.listdir(db.root)))
    with pytest.raises(CastError, match="append table 't', column 'x'"):
        db.append("t", pa.table({"x": [1000], "s": ["b"]}))
    with pytest.raises(CastError, match="missing \\['s'\\]"):
        db.overwrite("t", pa.table({"x": [1]}))
    with pytest.raises(BindError, match="did you mean 't'"):
        db.append("tt", pa.table({"x": [1], "s": ["b"]}))
    with pytest.raises(XTypeError, match="expected a pyarrow.Table"):
        db.append("t", {"x": [1]})
    with pytest.raises(CastError):
        db.create_table("u", pa.schema([("x", pa.int8())]), data=pa.table({"x": [300]}))
    assert (db.catalog, db.version("t"), sorted(os.listdir(db.root))) == before
    assert os.listdir(os.path.join(db.root, "tables")) == [db.table_info("t").dir.split("/")[1]]
    assert db.read("t").to_pylist() == [{"x": 1, "s": "a"}]


@pytest.mark.parametrize(("schema", "kwargs", "err", "match"), [
    (pa.schema([("a", pa.int8()), ("A", pa.int8())]), {}, BindError, "repeat"),
    (pa.schema([(SHARD_COLUMN, pa.int8())]), {}, BindError, "reserved"),
    (pa.schema([("a", pa.list_(pa.int8()))]), {}, XTypeError, "column 'a'"),
    (pa.schema([("a", pa.int8())]), {"shard_key": "b", "shards": 2}, BindError, "shard key"),
    (pa.schema([("a", pa.int8())]), {"shards": 0}, StorageError, "shards must be"),
])
def test_bad_definitions(db, schema, kwargs, err, match) -> None:
    with pytest.raises(err, match=match):
        db.create_table("t", schema, **kwargs)
    assert db.tables() == []


def test_odd_table_column_and_directory_names(tmp_path) -> None:
    data = pa.table({"my col": [1], "é,x": ["a"]})
    with pytest.raises(StorageError, match="contains '%'"):
        Store.open(tmp_path / "100%")
    with Store.open(tmp_path / "my db ü") as db:
        db.create_table("Trips / 2024 ü", data=data, shards=2)
        db.append("Trips / 2024 ü", data)
        assert db.read("Trips / 2024 ü").num_rows == 2
        assert db.read("Trips / 2024 ü", version=1).equals(data)


def test_open_errors(tmp_path) -> None:
    with pytest.raises(StorageError, match="no xpdb database"):
        Store.open(tmp_path / "nothing", read_only=True)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "file.txt").write_text("x")
    with pytest.raises(StorageError, match="not an xpdb database"):
        Store.open(tmp_path / "junk")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "catalog.json").write_text("{not json")
    with pytest.raises(StorageError, match="not valid JSON"):
        Store.open(tmp_path / "bad")
    (tmp_path / "bad" / "catalog.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(StorageError, match="not an xpdb catalog"):
        Store.open(tmp_path / "bad")


def test_one_writer_many_readers(tmp_path) -> None:
    with Store.open(tmp_path / "db") as db:
        with pytest.raises(StorageError, match="open for writing by another"):
            Store.open(tmp_path / "db")
        db.create_table("t", data=pa.table({"x": [1]}))
        reader = Store.open(tmp_path / "db", read_only=True)
        db.create_table("u", data=pa.table({"x": [1]}))
        assert reader.tables() == ["t"]
        reader.refresh()
        assert reader.tables() == ["t", "u"]
        with pytest.raises(StorageError, match="read-only"):
            reader.append("t", pa.table({"x": [2]}))
    Store.open(tmp_path / "db").close()  # the lock is free again


def test_orphans_are_removed_on_open(tmp_path) -> None:
    with Store.open(tmp_path / "db") as db:
        db.create_table("t", data=pa.table({"x": [1]}))
    orphan = tmp_path / "db" / "tables" / "ghost-0123"
    orphan.mkdir()
    (tmp_path / "db" / ".catalog.json.99.tmp").write_text("partial")
    with Store.open(tmp_path / "db") as db:
        assert not orphan.exists()
        assert not (tmp_path / "db" / ".catalog.json.99.tmp").exists()
        assert db.read("t").num_rows == 1
