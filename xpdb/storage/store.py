"""A persistent database directory: a catalog plus one Delta Lake table per table.

Layout::

    mydb/
      catalog.json          tables, views, models, UDFs (see xpdb.storage.catalog)
      LOCK                  held (flock) by the one process that writes
      tables/<name>-<hex>/  one Delta table per table (see xpdb.storage.delta)
      models/, udfs/        files of later features, named by the catalog

Atomicity and crashes
    Every operation has exactly one commit point, after which it is visible and before
    which nothing of it is:

    - ``append`` / ``overwrite``: the Delta commit (an atomic rename of the next
      ``_delta_log`` entry). Data files are written and fsynced before it.
    - ``create_table`` (with or without first data): a new Delta table is built in a
      fresh directory ``tables/<name>-<random>``, data included, and then the catalog is
      replaced atomically to point at it: the catalog write is the commit point.
      ``create_table(..., replace=True)`` (CREATE OR REPLACE / CREATE TABLE AS over an
      existing name) swaps the directory the same way.
    - ``drop_table``: the catalog write; the directory is deleted afterwards.

    A crash before a commit point leaves unreferenced files: a table directory the
    catalog does not name (removed when the database is next opened for writing), or
    Parquet files no Delta log entry adds (never read). A crash after it leaves at most a
    dropped table's directory behind (removed on open). So a reopened store always
    shows the state after some prefix of the committed operations.

Concurrency
    One process writes (it holds an exclusive ``flock`` on ``LOCK``; a second writer gets
    a :class:`~xpdb.errors.StorageError`), any number of readers may open the directory
    with ``read_only=True``. Within a process, writes are serialized by a lock and
    reads run concurrently with them: a read resolves the catalog snapshot and the
    table's latest Delta version once, then reads only the files of that version.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa

from .. import types as xt
from ..errors import BindError, StorageError, XpdbError
from ..errors import IOError as XIOError
from ..errors import TypeError as XTypeError
from ..shards import map_shards
from ..table import missing_column_message
from . import delta, sharding
from .catalog import CATALOG_FILE, Catalog, TableInfo, read_catalog, write_catalog
from .schema import conform, from_storage, storage_schema, to_storage, type_to_json

TABLES_DIR = "tables"
LOCK_FILE = "LOCK"


def _as_schema(schema: Any) -> pa.Schema:
    if isinstance(schema, pa.Schema):
        return schema
    if isinstance(schema, Mapping):
        return pa.schema([(n, v if isinstance(v, pa.DataType) else xt.parse(v).to_arrow())
                          for n, v in schema.items()])
    msg = f"a table schema must be a pyarrow.Schema or a dict name -> type, got {schema!r}"
    raise XTypeError(msg)


def _as_table(data: Any, where: str) -> pa.Table:
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, pa.Table):
        return data
    msg = f"{where}: expected a pyarrow.Table, got {type(data).__name__}; convert it first"
    raise XTypeError(msg)


class Store:
    """An open database directory. Use :meth:`open`.

    Examples
    --------
    >>> import tempfile, pyarrow as pa
    >>> with Store.open(tempfile.mkdtemp()) as db:
    ...     _ = db.create_table("t", pa.schema([("x", pa.int64())]))
    ...     db.append("t", pa.table({"x": [1, 2]}))
    ...     db.read("t").column("x").to_pylist(), db.version("t")
    1
    ([1, 2], 1)
    """

    def __init__(self, root: str, catalog: Catalog, read_only: bool, lock_fd: int | None):
        self.root = root
        self.read_only = read_only
        self._catalog = catalog
        self._lock_fd = lock_fd
        self._write_lock = threading.RLock()

    # -- opening --------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike[str], read_only: bool = False,
             create: bool = True) -> Store:
        """Open the database in directory ``path``, creating it when ``create``.

        Parameters
        ----------
        path : str or path-like
            The database directory (created with its parents when missing).
        read_only : bool
            Open without taking the writer lock; writes raise.
        create : bool
            Create an empty database when ``path`` holds none.

        Raises
        ------
        StorageError
            ``path`` is not an xpdb database, its catalog is damaged, or another process
            has it open for writing.
        """
        root = os.path.abspath(os.fspath(path))
        if "%" in root:
            msg = (
                f"database path {root!r} contains '%', which the Delta Lake library "
                "(delta-rs) misreads as URL escapes; choose a path without '%'"
            )
            raise StorageError(msg)
        exists = os.path.exists(os.path.join(root, CATALOG_FILE))
        if not exists:
            if read_only or not create:
                msg = f"no xpdb database at {root!r}; open it with create=True to make one"
                raise StorageError(msg)
            if os.path.isdir(root) and set(os.listdir(root)) - {LOCK_FILE}:
                msg = (
                    f"{root!r} is a non-empty directory without {CATALOG_FILE}; it is not "
                    "an xpdb database. Use an empty or new directory"
                )
                raise StorageError(msg)
            try:
                os.makedirs(root, exist_ok=True)
            except OSError as e:
                msg = f"cannot create the database directory {root!r}: {e}"
                raise StorageError(msg) from e
        lock_fd = None if read_only else _lock(root)
        try:
            if not os.path.exists(os.path.join(root, CATALOG_FILE)):
                write_catalog(root, Catalog())
            catalog = read_catalog(root)
            store = cls(root, catalog, read_only, lock_fd)
            if not read_only:
                store._remove_orphans()
        except BaseException:
            if lock_fd is not None:
                os.close(lock_fd)
            raise
        return store

    def close(self) -> None:
        """Release the writer lock; the store cannot be used afterwards."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        self.read_only = True

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"Store({self.root!r}, {len(self._catalog.tables)} tables, {mode})"

    def _remove_orphans(self) -> None:
        """Delete table directories and temp files no committed catalog names."""
        keep = self._catalog.referenced_paths()
        tables = os.path.join(self.root, TABLES_DIR)
        if os.path.isdir(tables):
            for d in os.listdir(tables):
                if f"{TABLES_DIR}/{d}" not in keep:
                    shutil.rmtree(os.path.join(tables, d), ignore_errors=True)
        for f in os.listdir(self.root):
            if f.startswith(f".{CATALOG_FILE}.") and f.endswith(".tmp"):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(self.root, f))

    # -- catalog --------------------------------------------------------------------------
    @property
    def catalog(self) -> Catalog:
        """The current catalog snapshot (immutable)."""
        return self._catalog

    def tables(self) -> list[str]:
        """Names of the tables, sorted."""
        return sorted(self._catalog.tables)

    def table_info(self, name: str) -> TableInfo:
        """Schema, sharding and directory of table ``name``."""
        info = self._catalog.tables.get(name)
        if info is None:
            msg = missing_column_message(name, self.tables(), "table")
            raise BindError(f"{msg} in database {self.root!r}")
        return info

    def schema(self, name: str) -> pa.Schema:
        """The exact schema of table ``name``."""
        return self.table_info(name).schema

    def refresh(self) -> None:
        """Reload the catalog from disk (a read-only store sees other processes' changes)."""
        self._catalog = read_catalog(self.root)

    def _check_writable(self, what: str) -> None:
        if self.read_only:
            msg = f"cannot {what}: database {self.root!r} is open read-only (or closed)"
            raise StorageError(msg)

    def _commit_catalog(self, catalog: Catalog) -> None:
        write_catalog(self.root, catalog)
        self._catalog = catalog

    def _check_free(self, name: str, kind: str, replace: bool) -> None:
        holder = self._catalog.kind_of(name)
        if holder is not None and not (replace and holder == kind):
            what = holder[:-1]
            hint = f"drop the {what} first" + (" or pass replace=True" if holder == kind else "")
            msg = f"a {what} named {name!r} already exists in database {self.root!r}; {hint}"
            raise StorageError(msg)

    # -- tables: DDL ------------------------------------------------------------------------
    def create_table(self, name: str, schema: Any = None, shard_key: str | Sequence[str] | None = None,
                     shards: int = 1, data: pa.Table | None = None,
                     replace: bool = False) -> TableInfo:
        """Create table ``name``, optionally with its first rows, in one atomic step.

        Parameters
        ----------
        name : str
        schema : pyarrow.Schema or dict, optional
            Column names and types (arrow types, xpdb types or names like
            ``"decimal(10,2)"``); taken from ``data`` when omitted.
        shard_key : str or list of str, optional
            Hash-shard rows on these columns (with :mod:`xpdb.storage.sharding`).
        shards : int
            Number of shards.
        data : pyarrow.Table, optional
            First rows (CREATE TABLE AS); committed together with the table.
        replace : bool
            Replace an existing table of that name atomically.
        """
        self._check_writable(f"create table {name!r}")
        where = f"create table {name!r}"
        if not isinstance(name, str) or not name:
            raise BindError(f"{where}: a table name must be a non-empty string")
        if schema is None:
            if data is None:
                raise XTypeError(f"{where}: give a schema or data to take it from")
            schema = _as_table(data, where).schema
        schema = _as_schema(schema)
        keys = (shard_key,) if isinstance(shard_key, str) else tuple(shard_key or ())
        _check_schema(schema, keys, shards, where)
        if data is not None:
            data = conform(_as_table(data, where), schema, where)
        with self._write_lock:
            self._check_free(name, "tables", replace)
            old = self._catalog.tables.get(name)
            rel = f"{TABLES_DIR}/{_safe(name)}-{uuid.uuid4().hex[:16]}"
            path = os.path.join(self.root, rel)
            storage = storage_schema(schema)
            info = TableInfo(name, schema, rel, keys, shards)
            try:
                os.makedirs(os.path.join(self.root, TABLES_DIR), exist_ok=True)
                delta.create(path, storage, shards)
                if data is not None:
                    self._write(info, data, "overwrite", "create table as", [0] * shards)
                self._commit_catalog(self._catalog.evolve("tables", name, info))
            except BaseException as e:
                shutil.rmtree(path, ignore_errors=True)
                if isinstance(e, XpdbError) or not isinstance(e, Exception):
                    raise
                msg = f"{where} failed in {path!r}: {type(e).__name__}: {e}"
                raise StorageError(msg) from e
            if old is not None:
                shutil.rmtree(os.path.join(self.root, old.dir), ignore_errors=True)
        return info

    def drop_table(self, name: str, missing_ok: bool = False) -> None:
        """Remove table ``name`` and its files."""
        self._check_writable(f"drop table {name!r}")
        with self._write_lock:
            if name not in self._catalog.tables and missing_ok:
                return
            info = self.table_info(name)
            self._commit_catalog(self._catalog.evolve("tables", name, None))
            shutil.rmtree(os.path.join(self.root, info.dir), ignore_errors=True)

    def rename_table(self, name: str, new_name: str) -> None:
        """Rename table ``name`` to ``new_name`` (a catalog-only change)."""
        self._check_writable(f"rename table {name!r}")
        with self._write_lock:
            info = self.table_info(name)
            self._check_free(new_name, "tables", False)
            renamed = TableInfo(new_name, info.schema, info.dir, info.shard_key, info.shards)
            cat = self._catalog.evolve("tables", name, None).evolve("tables", new_name, renamed)
            self._commit_catalog(cat)

    # -- tables: data ----------------------------------------------------------------------
    def append(self, name: str, data: pa.Table) -> int:
        """Add the rows of ``data`` to table ``name`` in one commit; returns the new version.

        Columns are matched by name and cast exactly to the table's types.
        """
        return self._modify(name, data, "append")

    def overwrite(self, name: str, data: pa.Table) -> int:
        """Replace every row of table ``name`` by ``data`` in one commit (UPDATE, DELETE);
        returns the new version. Earlier versions stay readable with ``version=``."""
        return self._modify(name, data, "overwrite")

    def _modify(self, name: str, data: Any, mode: str) -> int:
        where = f"{mode} table {name!r}"
        self._check_writable(where)
        with self._write_lock:
            info = self.table_info(name)
            data = conform(_as_table(data, where), info.schema, where)
            path = os.path.join(self.root, info.dir)
            if mode == "append" and data.num_rows == 0:
                return delta.snapshot(path).version()
            existing = [0] * info.shards
            if mode == "append" and info.shards > 1 and not info.shard_key:
                files = delta.shard_files(delta.snapshot(path), path, info.shards)
                existing = [sum(r for _, r in f) for f in files]
            try:
                return self._write(info, data, mode, mode, existing)
            except XpdbError:
                raise
            except Exception as e:
                msg = f"{where} failed in {path!r}: {type(e).__name__}: {e}"
                raise StorageError(msg) from e

    def _write(self, info: TableInfo, data: pa.Table, mode: str, operation: str,
               existing: list[int]) -> int:
        path = os.path.join(self.root, info.dir)
        where = f"table {info.name!r}"
        seq = delta.snapshot(path).version() + 1
        pieces = sharding.split(data, info.shard_key, info.shards, existing)
        pieces = [to_storage(p, info.schema, where) for p in pieces]
        storage = storage_schema(info.schema)
        actions = delta.write_files(path, pieces, seq)
        delta.commit(path, actions, mode, storage, info.shards, operation)
        return seq

    # -- tables: reads -------------------------------------------------------------------------
    def _snapshot(self, name: str, version: int | None) -> tuple[TableInfo, Any]:
        info = self.table_info(name)
        path = os.path.join(self.root, info.dir)
        try:
            return info, delta.snapshot(path, version)
        except Exception as e:
            if version is not None:
                latest = delta.snapshot(path).version()
                msg = (
                    f"table {name!r} has no version {version!r}; versions run from 0 to "
                    f"{latest} (see history())"
                )
                raise StorageError(msg) from e
            msg = f"cannot read table {name!r} from {path!r}: {type(e).__name__}: {e}"
            raise XIOError(msg, path=path) from e

    def _check_columns(self, info: TableInfo, columns: Sequence[str] | None) -> None:
        for c in columns or ():
            if c not in info.schema.names:
                msg = missing_column_message(c, info.schema.names)
                raise BindError(f"{msg} in table {info.name!r}")

    def read_shards(self, name: str, columns: Sequence[str] | None = None,
                    version: int | None = None, only: Sequence[int] | None = None
                    ) -> list[pa.Table]:
        """Table ``name`` as one pyarrow table per shard (read in parallel).

        Parameters
        ----------
        columns : list of str, optional
            Read only these columns (in this order).
        version : int, optional
            Read this version (time travel); the latest when None.
        only : list of int, optional
            Read only these shards (in this order).
        """
        info, snap = self._snapshot(name, version)
        self._check_columns(info, columns)
        files = delta.shard_files(snap, os.path.join(self.root, info.dir), info.shards)
        if only is not None:
            files = [files[i] for i in only]
        storage = storage_schema(info.schema)
        where = f"table {name!r}"

        def read(fs: list[tuple[str, int]]) -> pa.Table:
            raw = delta.read_files([f for f, _ in fs], storage, columns)
            return from_storage(raw, info.schema, where)

        try:
            return map_shards(read, files)
        except XpdbError:
            raise
        except Exception as e:
            msg = (
                f"cannot read table {name!r} (version {snap.version()}) in "
                f"{self.root!r}: {type(e).__name__}: {e}; a file of the table is missing or "
                "damaged"
            )
            raise XIOError(msg, path=os.path.join(self.root, info.dir)) from e

    def read(self, name: str, columns: Sequence[str] | None = None,
             version: int | None = None) -> pa.Table:
        """Table ``name`` as one pyarrow table with its exact stored schema.

        Shards are concatenated in shard order; a one-shard table keeps insertion order.
        """
        parts = self.read_shards(name, columns, version)
        return pa.concat_tables(parts) if len(parts) > 1 else parts[0]

    def iter_batches(self, name: str, columns: Sequence[str] | None = None,
                     version: int | None = None, batch_rows: int = 1 << 20
                     ) -> Iterator[pa.Table]:
        """Table ``name`` in pieces of about ``batch_rows`` rows (shard by shard, file by
        file), for scans that do not fit in memory at once. The snapshot is taken when the
        iteration starts; a concurrent commit does not change what it yields. Row groups
        are decoded on pyarrow's threads."""
        import pyarrow.dataset as ds

        info, snap = self._snapshot(name, version)
        self._check_columns(info, columns)
        files = delta.shard_files(snap, os.path.join(self.root, info.dir), info.shards)
        paths = [f for fs in files for f, _ in fs]
        cols = list(columns) if columns is not None else list(info.schema.names)
        storage = storage_schema(info.schema)
        where = f"table {name!r}"
        if not paths:
            yield from_storage(storage.empty_table().select(cols), info.schema, where)
            return
        pending: list[pa.RecordBatch] = []
        rows = 0
        try:
            dataset = ds.dataset(paths, schema=storage, format="parquet")
            for b in dataset.to_batches(columns=cols, batch_size=max(1, batch_rows),
                                        use_threads=True):
                pending.append(b)
                rows += b.num_rows
                if rows >= batch_rows:
                    yield from_storage(pa.Table.from_batches(pending), info.schema, where)
                    pending, rows = [], 0
        except XpdbError:
            raise
        except Exception as e:
            msg = (f"cannot read table {name!r} (version {snap.version()}): "
                   f"{type(e).__name__}: {e}; a file of the table is missing or damaged")
            raise XIOError(msg, path=os.path.join(self.root, info.dir)) from e
        if pending or rows == 0:
            schema = pa.schema([storage.field(c) for c in cols])
            yield from_storage(pa.Table.from_batches(pending, schema), info.schema, where)

    def files_version(self, name: str) -> tuple[str, int]:
        """The table's directory (stable across renames, new on replace) and latest
        version: the identity of what a read now would see."""
        info, snap = self._snapshot(name, None)
        return info.dir, snap.version()

    def num_rows(self, name: str, version: int | None = None) -> int:
        """Row count of table ``name`` from the Delta log (no data is read)."""
        info, snap = self._snapshot(name, version)
        files = delta.shard_files(snap, os.path.join(self.root, info.dir), info.shards)
        return sum(r for fs in files for _, r in fs)

    def version(self, name: str) -> int:
        """The latest version of table ``name`` (0 when just created empty)."""
        return self._snapshot(name, None)[1].version()

    def history(self, name: str) -> list[dict[str, Any]]:
        """Commits of table ``name``, oldest first: ``version``, ``timestamp`` (ms since
        the epoch), ``operation`` ('create', 'append', 'overwrite', 'create table as')."""
        return delta.history(self._snapshot(name, None)[1])

    # -- views, models, UDFs -----------------------------------------------------------------
    def create_view(self, name: str, sql: str, replace: bool = False) -> None:
        """Record view ``name`` as its SQL text."""
        self.put_entry("views", name, {"sql": str(sql)}, replace)

    def view_sql(self, name: str) -> str:
        """The SQL text of view ``name``."""
        return self.entry("views", name)["sql"]

    def views(self) -> dict[str, str]:
        """Every view: name -> SQL text."""
        return {n: v["sql"] for n, v in self._catalog.views.items()}

    def drop_view(self, name: str, missing_ok: bool = False) -> None:
        self.drop_entry("views", name, missing_ok)

    def put_entry(self, kind: str, name: str, entry: Mapping[str, Any],
                  replace: bool = False) -> None:
        """Record a view, model or UDF (``kind`` 'views', 'models', 'udfs').

        ``entry`` is JSON-serializable metadata; a ``"file"`` key names a file relative to
        the database directory that the entry owns (write it before calling this).
        """
        if kind not in ("views", "models", "udfs"):
            raise StorageError(f"unknown catalog kind {kind!r}; use 'views', 'models' or 'udfs'")
        self._check_writable(f"create {kind[:-1]} {name!r}")
        with self._write_lock:
            self._check_free(name, kind, replace)
            self._commit_catalog(self._catalog.evolve(kind, name, dict(entry)))

    def entry(self, kind: str, name: str) -> Mapping[str, Any]:
        """The catalog entry of a view, model or UDF."""
        entries = getattr(self._catalog, kind)
        if name not in entries:
            msg = missing_column_message(name, sorted(entries), kind[:-1])
            raise BindError(f"{msg} in database {self.root!r}")
        return entries[name]

    def drop_entry(self, kind: str, name: str, missing_ok: bool = False) -> None:
        """Remove a view, model or UDF (and the file it owns)."""
        self._check_writable(f"drop {kind[:-1]} {name!r}")
        with self._write_lock:
            if name not in getattr(self._catalog, kind) and missing_ok:
                return
            old = self.entry(kind, name)
            self._commit_catalog(self._catalog.evolve(kind, name, None))
            if old.get("file"):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(self.root, old["file"]))


def _safe(name: str) -> str:
    """A file-system-safe stem for a table's directory (the catalog keeps the real name)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name)[:40] or "t"


def _check_schema(schema: pa.Schema, keys: tuple[str, ...], shards: int, where: str) -> None:
    names = schema.names
    lowered = [n.lower() for n in names]
    dup = sorted({n for n in names if lowered.count(n.lower()) > 1})
    if dup:
        msg = (
            f"{where}: column names {dup} repeat (ignoring case, as Delta Lake does); "
            "rename them to be unique"
        )
        raise BindError(msg)
    if delta.SHARD_COLUMN.lower() in lowered:
        msg = f"{where}: the column name {delta.SHARD_COLUMN!r} is reserved by xpdb; rename it"
        raise BindError(msg)
    for f in schema:
        try:
            type_to_json(f.type)
        except XTypeError as e:
            raise XTypeError(f"{where}, column {f.name!r}: {e}") from e
    if not isinstance(shards, int) or isinstance(shards, bool) or not 1 <= shards <= 4096:
        msg = f"{where}: shards must be an integer from 1 to 4096, got {shards!r}"
        raise StorageError(msg)
    for k in keys:
        if k not in names:
            msg = missing_column_message(k, names)
            raise BindError(f"{where}: shard key {msg}")


def _lock(root: str) -> int:
    import fcntl

    fd = os.open(os.path.join(root, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        os.close(fd)
        msg = (
            f"database {root!r} is open for writing by another process (or another Store "
            "in this one); close it, or open this one with read_only=True"
        )
        raise StorageError(msg) from e
    return fd
