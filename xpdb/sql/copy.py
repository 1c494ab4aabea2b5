"""``COPY``: load files into a table and write tables or queries to files (DuckDB's syntax).

``COPY t [(a, b)] FROM 'file' [(FORMAT csv, HEADER true, DELIMITER ',')]`` appends the
file's rows (every match of a glob, in sorted order) to the existing table ``t``: CSV
columns by position, Parquet and JSON columns by name; values are cast to the table's
types. Everything is read and cast before the catalog changes, so a bad value fails the
statement with the file, the line (or row), the column and the value, and ``t`` is left as
it was.

``COPY t TO 'file'`` and ``COPY (SELECT ...) TO 'file'`` write CSV (with a header unless
``HEADER false``), Parquet or JSON lines through :mod:`xpdb.io`'s atomic writers.

Both return the number of rows, as INSERT does.
"""

from __future__ import annotations

import io
import os
import re
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlglot import exp

from .. import io as xio
from .. import types as t
from ..column import Column
from ..errors import BindError, CastError, NotSupportedError
from ..errors import IOError as XIOError
from ..kernels import cast as kcast
from ..table import Table, concat_tables, missing_column_message
from . import table_functions as tf
from .result import Result

if TYPE_CHECKING:
    from .connection import Database

_FROM_OPTIONS = {
    "csv": ("format", "header", "delimiter", "delim", "sep", "quote", "nullstr", "null",
            "skip", "dateformat", "timestampformat", "auto_detect", "compression"),
    "parquet": ("format", "binary_as_string"),
    "json": ("format", "auto_detect", "compression"),
}
_TO_OPTIONS = {
    "csv": ("format", "header", "delimiter", "delim", "sep"),
    "parquet": ("format", "compression", "codec", "row_group_size"),
    "json": ("format",),
}
_BAD_VALUE = re.compile(r"value ('.*'|\".*\") is not a valid ")
# Types pyarrow's CSV parser converts to directly (others are read as inferred and cast).
_CSV_NATIVE = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
               "uint64", "float32", "float64", "string", "date", "decimal")


def run_copy(db: Database, tree: exp.Copy) -> tuple[dict[str, Any], int]:
    """The catalog changes of a COPY statement and its row count (nothing is changed
    here: the caller applies the changes)."""
    files = [tf.constant(f, "COPY") for f in tree.args.get("files") or []]
    if len(files) != 1 or not isinstance(files[0], str):
        raise BindError(f"COPY takes one file name (a string), got {files!r}")
    options = _options(tree)
    if tree.args.get("kind"):
        return copy_from(db, tree.this, files[0], options)
    return {}, copy_to(db, tree.this, files[0], options)


def _options(tree: exp.Copy) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for param in tree.args.get("params") or []:
        key = param.name.lower()
        value = param.args.get("expression")
        if value is None and param.expressions:
            value = exp.Array(expressions=list(param.expressions))
        out[key] = True if value is None else tf.constant(value, f"COPY option {key.upper()}")
    return out


# -- FROM -----------------------------------------------------------------------------------
def copy_from(db: Database, target: exp.Expression, pattern: str,
              options: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Read ``pattern`` (a file or a glob) into new rows of the target table."""
    from .connection import Append

    schema = target if isinstance(target, exp.Schema) else None
    name = (schema.this if schema is not None else target).name
    table = db._require(name)
    names = [c.name for c in schema.expressions] if schema is not None else table.names
    for n in names:
        if n not in table:
            raise BindError(missing_column_message(n, table.names, f"column of table {name!r}"))
    if len(set(names)) != len(names):
        raise BindError(f"COPY {name} lists a column twice: {names}")
    paths = tf.file_list(pattern, f"COPY {name} FROM")
    fmt = tf.format_of(paths[0], options.get("format"))
    tf.check_options(options, _FROM_OPTIONS[fmt], f"COPY ... FROM (FORMAT {fmt})")
    types = {n: table.column(n).dtype for n in names}
    pieces = []
    for path in paths:
        try:
            if fmt != "parquet" and os.path.getsize(path) == 0:  # what an empty table writes
                piece = Table([(c, Column.full(0, None, types[c], db.device)) for c in names],
                              0, db.device)
            elif fmt == "csv":
                piece = _csv_file(path, names, types, options, db.device)
            else:
                piece = _named_file(path, fmt, names, types, options, db.device)
        except XIOError as e:
            raise _load_error(e, name, path, types) from e
        except CastError as e:
            msg = f"COPY {name} FROM {path!r} failed, table {name!r} is unchanged: {e}"
            raise CastError(msg) from e
        pieces.append(piece)
    n = sum(pc.num_rows for pc in pieces)
    rows = concat_tables(pieces) if len(pieces) > 1 else pieces[0]
    cols = []
    for cname, col in table.items():
        src = rows.column(cname) if cname in types else Column.full(n, None, col.dtype, db.device)
        cols.append((cname, src))
    return {name: Append(Table(cols, n, db.device))}, n


def _load_error(e: XIOError, name: str, path: str, types: dict[str, t.DataType]) -> XIOError:
    """The reader's error restated for COPY (the reader's own advice is about dtype=)."""
    m = _BAD_VALUE.search(str(e))
    if m and e.column in types:
        where = f"{path}:{e.line}" if e.line else path
        msg = (f"COPY {name} FROM {path!r} failed, table {name!r} is unchanged: {where}: "
               f"column {e.column!r}: value {m.group(1)} cannot be cast to "
               f"{types[e.column]} (the table's column type); fix the value or load it into "
               "a column of a type that fits it")
    else:
        msg = f"COPY {name} FROM {path!r} failed, table {name!r} is unchanged: {e}"
    return XIOError(msg, path=e.path or path, line=e.line, column=e.column)


def _csv_file(path: str, names: list[str], types: dict[str, t.DataType],
              options: dict[str, Any], device: Any) -> Table:
    opts = dict(options)
    if "null" in opts:
        opts["nullstr"] = opts.pop("null")
    kw = tf.csv_settings(opts, path)
    whole, _ = tf.csv_sample(path, kw["sep"], kw["quotechar"], kw["skip_rows"])
    if whole is not None and whole.num_columns != len(names):
        msg = (f"{path!r} has {whole.num_columns} columns but COPY loads {len(names)} "
               f"({', '.join(names)}); CSV columns are matched by position: give the column "
               "list, e.g. COPY t (a, b) FROM ..., or fix the file or the DELIMITER")
        raise XIOError(msg, path=path)
    kw["names"] = names
    kw["dtype"] = {n: d for n, d in types.items() if d.kind in _CSV_NATIVE}
    # a timestamp column is typed by the cast below, so the reader must not guess a unit
    kw["parse_dates"] = False
    table = xio.read_csv_table(path, device=device, **kw)
    first = 2 + kw["skip_rows"] if kw["header"] else 1 + kw["skip_rows"]
    return _cast_to(table, names, types, path, "line", first)


def _named_file(path: str, fmt: str, names: list[str], types: dict[str, t.DataType],
                options: dict[str, Any], device: Any) -> Table:
    if fmt == "parquet":
        table = xio.read_parquet_table(path, device=device)
        unit = "row"
    else:
        lines = not tf.starts_with_array(path)
        table = xio.read_json_table(path, device=device, lines=lines)
        unit = "json" if lines else "row"
    extra = [c for c in table.names if c not in types]
    if extra:
        msg = (f"{path!r} has column {extra[0]!r}, which the COPY target columns "
               f"{names} lack; {fmt.title()} columns are matched by name: add it to the "
               "column list or to the table")
        raise XIOError(msg, path=path, column=extra[0])
    n = table.num_rows
    cols = [(c, table.column(c) if c in table else Column.full(n, None, types[c], device))
            for c in names]
    return _cast_to(Table(cols, n, device), names, types, path, unit, 0)


def _cast_to(table: Table, names: list[str], types: dict[str, t.DataType], path: str,
             unit: str, first: int) -> Table:
    """Cast every column to its target type; the first value that does not fit raises
    with the file, the line or row, the column and the value."""
    n = table.num_rows
    cols = []
    for cname in names:
        src, to = table.column(cname), types[cname]
        if src.dtype != to:
            if src.null_count == n:
                src = Column.full(n, None, to, src.device)
            else:
                out = kcast.cast(src, to, safe=False, float_to_int="sql")
                _check_cast(src, out, cname, to, path, unit, first)
                src = out
        cols.append((cname, src))
    return Table(cols, n, table.device)


def _check_cast(src: Column, out: Column, name: str, to: t.DataType, path: str, unit: str,
                first: int) -> None:
    if out.validity is None:
        return
    lost = ~out.validity if src.validity is None else src.validity & ~out.validity
    if not bool(src.device.scalar(lost.any())):
        return
    row = int(src.device.scalar(src.xp.argmax(lost)))
    value = src.slice(row, row + 1).to_pylist()[0]
    if unit == "line":
        where = f"{path}:{first + row}"
    elif unit == "json" and (line := _json_line(path, row)) is not None:
        where = f"{path}:{line}"
    else:
        where = f"{path} (row {row + 1})"
    msg = (f"{where}: column {name!r}: value {value!r} cannot be cast to {to} (the table's "
           "column type); fix the value or load it into a column of a type that fits it")
    raise CastError(msg)


def _json_line(path: str, row: int) -> int | None:
    """The 1-based line of the ``row``-th record of a JSON lines file (blank lines are
    skipped by the reader)."""
    seen = -1
    with pa.input_stream(path, compression="detect") as raw, \
            io.TextIOWrapper(raw, encoding="utf8", errors="replace") as text:
        for number, line in enumerate(text, 1):
            if line.strip():
                seen += 1
                if seen == row:
                    return number
    return None


# -- TO -------------------------------------------------------------------------------------
def copy_to(db: Database, source: exp.Expression, path: str, options: dict[str, Any]) -> int:
    """Write a table, a column list of one or a query to ``path``; the row count."""
    if isinstance(source, exp.Subquery):
        query: exp.Expression = source.this
    elif isinstance(source, exp.Schema):
        cols = [exp.column(c.name) for c in source.expressions]
        query = exp.select(*cols).from_(source.this.copy())
    elif isinstance(source, exp.Table):
        query = exp.select("*").from_(source.copy())
    else:
        raise NotSupportedError(f"COPY {source.sql(dialect='duckdb')!r} TO is not supported")
    fmt = tf.format_of(path, options.get("format"))
    tf.check_options(options, _TO_OPTIONS[fmt], f"COPY ... TO (FORMAT {fmt})")
    rel = db._query(query)
    data = Result(rel.table, rel.names).to_arrow()
    if fmt == "csv":
        sep = tf.option(options, "delimiter", "delim", "sep", default=",")
        xio.write_csv(data, path, header=bool(options.get("header", True)), sep=sep)
    elif fmt == "parquet":
        codec = tf.option(options, "compression", "codec", default="snappy")
        size = options.get("row_group_size")
        xio.write_parquet(data, path, compression=None if str(codec).lower() in
                          ("uncompressed", "none") else str(codec).lower(),
                          row_group_size=None if size is None else int(size))
    else:
        xio.write_json(data, path)
    return data.num_rows


__all__ = ["copy_from", "copy_to", "run_copy"]
