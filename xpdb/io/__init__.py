"""Readers and writers: CSV, Parquet, JSON (lines), Arrow IPC.

Two levels of readers:

- ``read_csv``, ``read_parquet``, ``read_json``, ``read_ipc`` return an
  :class:`xpdb.DataFrame` (the public API, also exported as ``xpdb.read_csv``...);
- ``read_csv_table``, ``read_parquet_table``, ``read_json_table``, ``read_ipc_table``
  return an :class:`xpdb.Table`, and ``read_parquet_shards`` an :class:`xpdb.ShardedTable`
  (one shard per file or row group), for the layers below the DataFrame.

Every reader takes ``device=`` (None: the configured default), ``columns=`` (a projection)
and a path that may be a file, a list, a glob (``data/*.csv``) or a directory; several files
are stacked in order. Files are parsed on the host by pyarrow (multithreaded) and the columns
are then moved to the device once.

Writers (``write_csv``, ``write_parquet``, ``write_json``, ``write_ipc``) take an xpdb
Table or DataFrame, a pandas DataFrame or a pyarrow Table, write a temporary file beside the
target and rename it into place, so a failed write leaves nothing behind.

Bad input raises :class:`xpdb.errors.IOError` with the file, and where it applies the line
and the column.
"""

from __future__ import annotations

from .csv import DEFAULT_NULL_VALUES, read_csv, read_csv_table, write_csv
from .ipc import read_ipc, read_ipc_table, write_ipc
from .json import read_json, read_json_table, write_json
from .parquet import read_parquet, read_parquet_shards, read_parquet_table, write_parquet

__all__ = [
    "DEFAULT_NULL_VALUES",
    "read_csv",
    "read_csv_table",
    "read_ipc",
    "read_ipc_table",
    "read_json",
    "read_json_table",
    "read_parquet",
    "read_parquet_shards",
    "read_parquet_table",
    "write_csv",
    "write_ipc",
    "write_json",
    "write_parquet",
]
