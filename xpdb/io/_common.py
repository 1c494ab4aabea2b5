"""Shared plumbing of the readers and writers: paths, globs, errors, atomic writes.

Every reader resolves its ``path`` argument with :func:`expand_paths` (one file, a list, a
glob or a directory, in a stable order), reads each file into pyarrow, stacks the pieces
with :func:`concat_arrow` and moves the result onto a device with :func:`to_device`. Every
writer converts its input with :func:`to_arrow_data` and writes through :func:`atomic_write`,
so a failed write leaves the target directory as it was.
"""

from __future__ import annotations

import contextlib
import difflib
import glob
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa

from .. import types as t
from ..device import get_device
from ..errors import IOError as XIOError
from ..errors import XpdbError
from ..table import Table

PathArg = str | os.PathLike | Sequence[str | os.PathLike]

_GLOB_CHARS = frozenset("*?[")
# Files a directory read skips: hidden files and markers such as _SUCCESS or _metadata
# (the prefixes pyarrow's datasets ignore).
_IGNORED_PREFIXES = (".", "_")


def expand_paths(path: PathArg, what: str = "file") -> list[str]:
    """Resolve a path argument into an ordered list of existing files.

    Parameters
    ----------
    path : str, os.PathLike or a sequence of them
        A file, a glob pattern (``data/*.csv``, ``**`` recurses), a directory (every file
        below it whose name starts with neither ``.`` nor ``_``), or a list of any of these.
    what : str
        What the files are, for messages (``"CSV file"``).

    Returns
    -------
    list of str
        Lists keep their order; a glob's or a directory's files come sorted by path.

    Raises
    ------
    xpdb.errors.IOError
        When a file is missing (the message suggests close names in its directory), a glob
        matches nothing, or a directory holds no files.
    """
    if isinstance(path, str | os.PathLike):
        items = [path]
    elif isinstance(path, Sequence) and not isinstance(path, bytes):
        items = list(path)
        if not items:
            raise XIOError(f"no {what} to read: the list of paths is empty")
    else:
        msg = f"a path must be a str, a pathlib.Path or a list of them, got {path!r}"
        raise XIOError(msg)
    out: list[str] = []
    for item in items:
        if not isinstance(item, str | os.PathLike):
            raise XIOError(f"a path must be a str or a pathlib.Path, got {item!r}")
        p = os.path.expanduser(os.fspath(item))
        if os.path.isdir(p):
            out.extend(_directory_files(p, what))
        elif os.path.exists(p):
            out.append(p)
        elif _GLOB_CHARS & set(p):
            matches = sorted(m for m in glob.glob(p, recursive=True) if os.path.isfile(m))
            if not matches:
                raise XIOError(f"no {what} matches the pattern {p!r}", path=p)
            out.extend(matches)
        else:
            raise missing_file_error(p, what)
    return out


def _directory_files(directory: str, what: str) -> list[str]:
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith(_IGNORED_PREFIXES))
        found.extend(os.path.join(root, f) for f in files if not f.startswith(_IGNORED_PREFIXES))
    if not found:
        raise XIOError(f"directory {directory!r} holds no {what}", path=directory)
    return sorted(found)


def missing_file_error(path: str, what: str = "file") -> XIOError:
    """An IOError for a missing file that names close matches in its directory."""
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        msg = f"{what} {path!r} not found: directory {directory!r} does not exist"
        return XIOError(msg, path=path)
    names = sorted(os.listdir(directory))
    close = difflib.get_close_matches(os.path.basename(path), names, n=3, cutoff=0.6)
    if close:
        shown = [os.path.join(os.path.dirname(path), name) for name in close]
        hint = "; did you mean " + " or ".join(repr(p) for p in shown)
        hint += "?"
    else:
        hint = f" (directory {directory!r} holds {len(names)} entries, none with a close name)"
    return XIOError(f"{what} {path!r} not found{hint}", path=path)


def check_not_empty(path: str, what: str = "file") -> None:
    """Raise an IOError naming ``path`` when the file holds no bytes."""
    if os.path.getsize(path) == 0:
        raise XIOError(f"{what} {path!r} is empty (0 bytes); there is nothing to read", path=path)


def closest(name: str, candidates: Sequence[str]) -> str:
    """'; did you mean 'x'?' or '; available: [...]' for an unknown column name."""
    close = difflib.get_close_matches(str(name), list(candidates), n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else f"; available: {list(candidates)}"


def check_columns(requested: Sequence[str], available: Sequence[str], path: str) -> None:
    """Raise an IOError for the first requested column the file does not hold."""
    have = set(available)
    for name in requested:
        if name not in have:
            msg = f"column {name!r} not found in {path!r}{closest(name, available)}"
            raise XIOError(msg, path=path, column=name)


def resolve_columns(columns: Any) -> list[str] | None:
    """Validate a ``columns=`` projection argument (None or a list of names)."""
    if columns is None:
        return None
    if isinstance(columns, str):
        return [columns]
    cols = list(columns)
    bad = [c for c in cols if not isinstance(c, str)]
    if bad:
        raise XIOError(f"columns= takes column names (strings), got {bad[0]!r}")
    return cols


def parse_dtypes(dtype: Any) -> dict[str, t.DataType]:
    """Turn a ``dtype=`` argument (a dict of column -> type spec) into DataTypes."""
    if dtype is None:
        return {}
    if not isinstance(dtype, Mapping):
        msg = f"dtype= takes a dict of column name -> type, e.g. {{'x': 'int64'}}; got {dtype!r}"
        raise XIOError(msg)
    return {str(k): t.parse(v) for k, v in dtype.items()}


def resolve_device(device: Any) -> Any:
    """The Device for a ``device=`` argument (None: the configured default)."""
    return get_device(device)


def concat_arrow(tables: Sequence[pa.Table], paths: Sequence[str]) -> pa.Table:
    """Stack per-file arrow tables in order, promoting types that differ between files
    (int64 with double gives double; a column missing from a file is null there)."""
    if len(tables) == 1:
        return tables[0]
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as e:
        raise _schema_conflict(tables, paths, e) from e


def unify_arrow(tables: Sequence[pa.Table], paths: Sequence[str]) -> list[pa.Table]:
    """Cast per-file tables onto one schema (as :func:`concat_arrow` would) but keep them
    apart, for one shard per file."""
    if len(tables) <= 1:
        return list(tables)
    schema = concat_arrow([tb.slice(0, 0) for tb in tables], paths).schema
    out = []
    for tb, path in zip(tables, paths, strict=True):
        if tb.schema.equals(schema):
            out.append(tb)
            continue
        cols = []
        for field in schema:
            if field.name in tb.column_names:
                try:
                    cols.append(tb.column(field.name).cast(field.type))
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                    msg = f"column {field.name!r} of {path!r} cannot be cast to {field.type}: {e}"
                    raise XIOError(msg, path=path, column=field.name) from e
            else:
                cols.append(pa.nulls(tb.num_rows, field.type))
        out.append(pa.Table.from_arrays(cols, schema=schema))
    return out


def _schema_conflict(tables: Sequence[pa.Table], paths: Sequence[str], e: Exception) -> XIOError:
    first: dict[str, tuple[pa.DataType, str]] = {}
    for tb, path in zip(tables, paths, strict=True):
        for field in tb.schema:
            seen = first.setdefault(field.name, (field.type, path))
            if seen[0] != field.type and not _promotable(seen[0], field.type):
                msg = (
                    f"files disagree on the type of column {field.name!r}: {seen[0]} in "
                    f"{seen[1]!r} but {field.type} in {path!r}; pass dtype={{{field.name!r}: "
                    "'string'}} (or another common type) to read them together"
                )
                return XIOError(msg, path=path, column=field.name)
    return XIOError(f"cannot combine the files {list(paths)}: {e}", path=paths[0])


def _promotable(a: pa.DataType, b: pa.DataType) -> bool:
    try:
        pa.unify_schemas([pa.schema([("x", a)]), pa.schema([("x", b)])],
                         promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return False
    return True


def to_device(table: pa.Table, device: Any, path: str | None = None) -> Table:
    """Move an arrow table onto ``device`` as an xpdb Table; an unsupported column type
    raises an IOError naming the file and the column."""
    dev = resolve_device(device)
    for field in table.schema:
        try:
            t.from_arrow(field.type)
        except XpdbError as e:
            msg = (
                f"column {field.name!r}{f' of {path!r}' if path else ''} has type {field.type}, "
                "which xpdb does not support (supported: bool, integers, floats, strings, "
                "date, timestamp, duration, decimal); drop it with columns=[...]"
            )
            raise XIOError(msg, path=path, column=field.name) from e
    try:
        return Table.from_arrow(table, dev)
    except XIOError:
        raise
    except XpdbError as e:
        raise XIOError(f"cannot load {path!r}: {e}", path=path) from e


def to_arrow_data(data: Any) -> pa.Table:
    """The pyarrow table for a writer's input: an xpdb Table, ShardedTable or DataFrame
    (anything with ``._table``), a pandas DataFrame, or a pyarrow Table/RecordBatch."""
    from ..shards import ShardedTable

    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, Table):
        return data.to_arrow()
    if isinstance(data, ShardedTable):
        return data.concat().to_arrow()
    inner = getattr(data, "_table", None)
    if isinstance(inner, Table):
        return inner.to_arrow()
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pd = None
    if pd is not None and isinstance(data, pd.DataFrame):
        try:
            table = pa.Table.from_pandas(data, preserve_index=None)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
            raise XIOError(f"cannot convert the pandas DataFrame for writing: {e}") from e
        index = [c for c in (table.schema.pandas_metadata or {}).get("index_columns", [])
                 if isinstance(c, str)]
        if index:  # an unnamed index is positional only; a named one stays a column
            table = table.select([n for n in table.column_names
                                  if not n.startswith("__index_level_")])
        return table.replace_schema_metadata(None)
    msg = (
        f"cannot write an object of type {type(data).__name__}; pass an xpdb Table or "
        "DataFrame, a pandas DataFrame or a pyarrow Table"
    )
    raise XIOError(msg)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary file name beside ``path``; on success move it into place.

    The temporary file lives in the target directory so :func:`os.replace` is atomic. If
    the body raises, the temporary file is removed and ``path`` is left untouched.
    """
    target = os.path.expanduser(os.fspath(path))
    directory = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(directory):
        msg = f"cannot write {target!r}: directory {directory!r} does not exist; create it first"
        raise XIOError(msg, path=target)
    if os.path.isdir(target):
        raise XIOError(f"cannot write {target!r}: it is a directory", path=target)
    tmp = os.path.join(directory, f".{os.path.basename(target)}.{uuid.uuid4().hex[:12]}.tmp")
    # os.open applies the umask, so the file gets the mode a plain open() would give it
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def write_error(path: str | os.PathLike, e: Exception, fmt: str) -> XIOError:
    """An IOError for a failed write of ``fmt`` to ``path``."""
    target = os.fspath(path)
    return XIOError(f"cannot write {fmt} file {target!r}: {e}", path=target)


def to_frame(table: Table) -> Any:
    """Wrap a Table in an xpdb DataFrame (imported lazily: io sits below frame)."""
    from ..frame import DataFrame

    return DataFrame._from_table(table)
