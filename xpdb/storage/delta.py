"""One xpdb table as one Delta Lake table (the ``deltalake`` package, delta-rs).

Shards
    A table of N > 1 shards is *one* Delta table partitioned by an int32 column
    ``_xpdb_shard`` (Hive-style directories ``_xpdb_shard=3/``). One Delta table rather
    than one per shard because a Delta commit is atomic only within one table: an append
    that touches every shard is then a single commit (one ``_delta_log/N.json`` file,
    made visible by an atomic rename), so a reader or a crash never sees some shards
    updated and others not, and every shard shares one version number for time travel.
    A one-shard table has no partition column, so other engines see exactly its columns.

Files
    xpdb writes the Parquet files itself (pyarrow, fsynced) and commits them with
    ``create_write_transaction``. File names start with the commit sequence number
    (``v000000000007-0000-<uuid>.parquet``), so sorting a shard's files by name restores
    the order rows were appended in: a one-shard table reads back in insertion order.
    Files of a commit that never happened (a crash between writing and committing) are
    never referenced by the log and are invisible; ``vacuum`` would remove them.

Every add action carries ``numRecords`` so row counts come from the log without reading data.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable
from deltalake.transaction import AddAction

from ..shards import map_shards

SHARD_COLUMN = "_xpdb_shard"
CHECKPOINT_INTERVAL = 100  # Delta's default; tests lower it to exercise checkpoints


def _uri(path: str) -> str:
    # delta-rs percent-decodes plain paths ('%20' would become ' '): hand it an encoded URI
    return Path(os.path.abspath(path)).as_uri()


def delta_schema(storage: pa.Schema, shards: int) -> pa.Schema:
    """The Delta table's schema: the storage columns, plus the shard column when sharded."""
    return storage.append(pa.field(SHARD_COLUMN, pa.int32())) if shards > 1 else storage


def create(path: str, storage: pa.Schema, shards: int) -> None:
    """Create an empty Delta table (version 0) at ``path``."""
    DeltaTable.create(
        _uri(path), delta_schema(storage, shards), mode="error",
        partition_by=[SHARD_COLUMN] if shards > 1 else None,
        configuration={"delta.checkpointInterval": str(CHECKPOINT_INTERVAL)},
    )


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_files(path: str, pieces: Sequence[pa.Table], seq: int) -> list[AddAction]:
    """Write one Parquet file per non-empty piece (piece ``s`` is shard ``s``)."""
    sharded = len(pieces) > 1

    def write(item: tuple[int, pa.Table]) -> AddAction:
        s, piece = item
        rel = f"v{seq:012d}-0000-{uuid.uuid4().hex}.parquet"
        if sharded:
            rel = f"{SHARD_COLUMN}={s}/{rel}"
            os.makedirs(os.path.join(path, f"{SHARD_COLUMN}={s}"), exist_ok=True)
        full = os.path.join(path, rel)
        # dictionary pages pay off for strings and integers (codes, keys, small ranges),
        # rarely for floats, whose attempt costs a third of the write time
        dict_cols = [f.name for f in piece.schema if not pa.types.is_floating(f.type)]
        pq.write_table(piece, full, use_dictionary=dict_cols)
        _fsync(full)
        st = os.stat(full)
        stats = json.dumps({"numRecords": piece.num_rows,
                            "nullCount": {n: piece.column(n).null_count
                                          for n in piece.column_names}})
        return AddAction(rel, st.st_size, {SHARD_COLUMN: str(s)} if sharded else {},
                         int(st.st_mtime * 1000), True, stats)

    # shards are written concurrently (pyarrow's writer releases the GIL)
    return map_shards(write, [(s, p) for s, p in enumerate(pieces) if p.num_rows])


def commit(path: str, actions: list[AddAction], mode: str, storage: pa.Schema, shards: int,
           operation: str) -> None:
    """Commit ``actions`` as one Delta transaction (``mode`` 'append' or 'overwrite')."""
    dt = DeltaTable(_uri(path))
    dt.create_write_transaction(
        actions, mode, delta_schema(storage, shards),
        partition_by=[SHARD_COLUMN] if shards > 1 else None,
        commit_properties=CommitProperties(custom_metadata={"xpdb.operation": operation}),
    )


def snapshot(path: str, version: int | None = None) -> DeltaTable:
    """The Delta table at ``version`` (the latest when None)."""
    return DeltaTable(_uri(path), version=version)


def shard_files(dt: DeltaTable, path: str, shards: int) -> list[list[tuple[str, int]]]:
    """Per shard, its ``(path, rows)`` files in append order (``path`` is the table's)."""
    acts = pa.table(dt.get_add_actions(flatten=True))
    paths = acts.column("path").to_pylist()
    rows = acts.column("num_records").to_pylist()
    if shards > 1:
        ids = [int(v) for v in acts.column(f"partition.{SHARD_COLUMN}").to_pylist()]
    else:
        ids = [0] * len(paths)
    out: list[list[tuple[str, int]]] = [[] for _ in range(shards)]
    for p, r, s in sorted(zip(paths, rows, ids, strict=True)):
        out[s].append((os.path.join(path, p), int(r or 0)))
    return out


def read_files(files: Sequence[str], storage: pa.Schema, columns: Sequence[str] | None) -> pa.Table:
    """Read and concatenate Parquet files written by :func:`write_files`."""
    schema = storage if columns is None else pa.schema([storage.field(c) for c in columns])
    if not files:
        return schema.empty_table()
    # a dataset reads the files on pyarrow's threads and keeps their order
    return ds.dataset(list(files), schema=storage, format="parquet").to_table(
        columns=list(schema.names))


def history(dt: DeltaTable) -> list[dict[str, Any]]:
    """Commits, oldest first: ``version``, ``timestamp`` (ms), ``operation``."""
    out = []
    for h in reversed(dt.history()):
        op = h.get("xpdb.operation") or h.get("operation", "")
        out.append({"version": int(h["version"]), "timestamp": int(h.get("timestamp", 0)),
                    "operation": "create" if op == "CREATE TABLE" else op})
    return out
