"""The catalog: one JSON document naming every table, view, model and UDF of a database.

The document is small and replaced as a whole on every change: written to a temporary
file, fsynced, renamed over ``catalog.json`` with :func:`os.replace` (atomic on POSIX), and
the directory fsynced so the rename itself survives a power cut. A reader therefore sees
the old or the new catalog, never a mix. :class:`Catalog` objects are immutable; a change
builds a new one (:meth:`Catalog.evolve`) that the store commits.

Layout of the document::

    {"format": "xpdb-database", "format_version": 1, "generation": 7,
     "tables": {"trips": {"dir": "tables/trips-3f2a...", "schema": [...],
                          "shard_key": ["vendor"], "shards": 4}},
     "views":  {"big_trips": {"sql": "SELECT ..."}},
     "models": {"m": {"file": "models/m-1a2b.bin", ...}},
     "udfs":   {"f": {"file": "udfs/f-9c8d.py", ...}}}

Paths inside the document are relative to the database directory, so a database can be
moved or copied as a directory.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ..errors import StorageError
from .schema import schema_from_json, schema_to_json

FORMAT = "xpdb-database"
FORMAT_VERSION = 1
CATALOG_FILE = "catalog.json"
KINDS = ("tables", "views", "models", "udfs")


@dataclass(frozen=True)
class TableInfo:
    """What the catalog knows about one table.

    Attributes
    ----------
    name : str
    schema : pyarrow.Schema
        The exact schema reads return.
    dir : str
        The Delta table's directory, relative to the database directory.
    shard_key : tuple of str
        Columns rows are hash-sharded on; empty for row-range shards.
    shards : int
        Number of shards.
    """

    name: str
    schema: pa.Schema
    dir: str
    shard_key: tuple[str, ...] = ()
    shards: int = 1

    def to_json(self) -> dict[str, Any]:
        return {"dir": self.dir, "schema": schema_to_json(self.schema),
                "shard_key": list(self.shard_key), "shards": self.shards}

    @classmethod
    def from_json(cls, name: str, d: Mapping[str, Any]) -> TableInfo:
        return cls(name, schema_from_json(d["schema"]), d["dir"],
                   tuple(d.get("shard_key") or ()), int(d.get("shards", 1)))


@dataclass(frozen=True)
class Catalog:
    """An immutable snapshot of the catalog document."""

    generation: int = 0
    tables: Mapping[str, TableInfo] = field(default_factory=dict)
    views: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    models: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    udfs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "format_version": FORMAT_VERSION,
            "generation": self.generation,
            "tables": {n: t.to_json() for n, t in self.tables.items()},
            "views": copy.deepcopy(dict(self.views)),
            "models": copy.deepcopy(dict(self.models)),
            "udfs": copy.deepcopy(dict(self.udfs)),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any], where: str = CATALOG_FILE) -> Catalog:
        if not isinstance(d, Mapping) or d.get("format") != FORMAT:
            msg = f"{where} is not an xpdb catalog (no 'format': {FORMAT!r} entry)"
            raise StorageError(msg)
        if d.get("format_version", 0) > FORMAT_VERSION:
            msg = (
                f"{where} has format version {d['format_version']!r}, newer than this xpdb "
                f"reads ({FORMAT_VERSION}); upgrade xpdb"
            )
            raise StorageError(msg)
        try:
            tables = {n: TableInfo.from_json(n, t) for n, t in d.get("tables", {}).items()}
            return cls(int(d.get("generation", 0)), tables, dict(d.get("views", {})),
                       dict(d.get("models", {})), dict(d.get("udfs", {})))
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            msg = f"{where} is damaged ({type(e).__name__}: {e}); restore it from a backup"
            raise StorageError(msg) from e

    def evolve(self, kind: str, name: str, entry: Any | None) -> Catalog:
        """A new catalog with ``kind[name]`` set to ``entry`` (removed when None)."""
        parts = {k: dict(getattr(self, k)) for k in KINDS}
        if entry is None:
            parts[kind].pop(name, None)
        else:
            parts[kind][name] = entry
        return Catalog(self.generation + 1, **parts)

    def kind_of(self, name: str) -> str | None:
        """'tables', 'views', ... : which kind holds ``name``, or None."""
        for k in KINDS:
            if name in getattr(self, k):
                return k
        return None

    def referenced_paths(self) -> set[str]:
        """Every relative path the catalog points at (table dirs, model and UDF files)."""
        paths = {t.dir for t in self.tables.values()}
        for k in ("models", "udfs"):
            paths |= {e["file"] for e in getattr(self, k).values() if e.get("file")}
        return paths


def fsync_dir(path: str) -> None:
    """Make a rename or a new file in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_catalog(root: str, catalog: Catalog) -> None:
    """Replace ``root/catalog.json`` atomically (temp file, fsync, rename, fsync dir)."""
    target = os.path.join(root, CATALOG_FILE)
    tmp = os.path.join(root, f".{CATALOG_FILE}.{os.getpid()}.tmp")
    data = json.dumps(catalog.to_json(), indent=1, sort_keys=True).encode()
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
        fsync_dir(root)
    except OSError as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        msg = f"could not write the catalog {target!r}: {e}; check free space and permissions"
        raise StorageError(msg) from e


def read_catalog(root: str) -> Catalog:
    """Load ``root/catalog.json``."""
    path = os.path.join(root, CATALOG_FILE)
    try:
        with open(path, "rb") as f:
            doc = json.loads(f.read())
    except OSError as e:
        msg = f"could not read the catalog {path!r}: {e}"
        raise StorageError(msg) from e
    except ValueError as e:
        msg = f"the catalog {path!r} is not valid JSON ({e}); restore it from a backup"
        raise StorageError(msg) from e
    return Catalog.from_json(doc, path)
