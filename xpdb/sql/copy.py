"""``COPY``: load files into a table and write tables or queries to files (DuckDB's syntax).

``COPY t [(a, b)] FROM 'file' [(FORMAT csv, HEADER true, DELIMITER ',')]`` appends the
file's rows (every match of a glob, in sorted order; several files as ``FROM 'a.csv',
'b.csv'``) to the existing table ``t``: CSV columns by position, Parquet and JSON columns
by name; values are cast to the table's types with SQL's cast (``'1.5'`` loads into an
INTEGER column as 2, as in DuckDB). Everything is read and cast before the catalog
changes, so a bad row fails the statement with the file, the line (or row), the column and
the value, and ``t`` is left as it was.

``(ON_ERROR 'skip')`` (or DuckDB's ``IGNORE_ERRORS true`` / ``STORE_REJECTS true``) loads
the good rows instead and writes each rejected one (a malformed CSV row, a value that does
not cast, a bad JSON line) to the table ``<t>_rejects`` (``REJECTS_TABLE 'name'`` names
another; ``STORE_REJECTS false`` keeps none) with columns ``file, line, column, value,
reason``: see :mod:`xpdb.sql.rejects`. The rejects table is created or appended to by the
same statement, so a COPY that fails changes neither table. Files are parsed by pyarrow's
multithreaded readers; only a file that fails is read again to find its bad rows.

``COPY t TO 'file'`` and ``COPY (SELECT ...) TO 'file'`` write CSV (with a header unless
``HEADER false``), Parquet or JSON lines through :mod:`xpdb.io`'s atomic writers.

Both return the number of rows, as INSERT does; :func:`run_copy_stats` also gives a
:class:`CopyStats` (rows, files, bytes, seconds, rows per second, rejected rows). A long
load draws a progress bar on a terminal (:mod:`xpdb.progress`).
"""

from __future__ import annotations

import io
import os
import re
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlglot import exp

from .. import io as xio
from .. import types as t
from ..column import Column
from ..errors import BindError, CastError, NotSupportedError
from ..errors import IOError as XIOError
from ..kernels import cast as kcast
from ..progress import Progress
from ..table import Table, concat_tables, missing_column_message
from . import rejects as rj
from . import table_functions as tf
from .result import Result

if TYPE_CHECKING:
    from .connection import Database

_ERROR_OPTIONS = ("on_error", "ignore_errors", "store_rejects", "rejects_table")
_FROM_OPTIONS = {
    "csv": ("format", "header", "delimiter", "delim", "sep", "quote", "nullstr", "null",
            "skip", "dateformat", "timestampformat", "auto_detect", "compression",
            *_ERROR_OPTIONS),
    "parquet": ("format", "binary_as_string", *_ERROR_OPTIONS),
    "json": ("format", "auto_detect", "compression", *_ERROR_OPTIONS),
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


@dataclass
class CopyStats:
    """What a COPY statement did: rows, files, bytes, time and rejected rows.

    :meth:`message` is the line a CLI prints; :meth:`as_dict` the values a Result carries.

    Examples
    --------
    >>> s = CopyStats(rows=1000, files=2, bytes=4096, seconds=0.5, rejected=3,
    ...               rejects_table="t_rejects")
    >>> s.rows_per_second
    2000.0
    >>> s.message()
    '1,000 rows from 2 files (4,096 bytes) in 0.5 s (2,000 rows/s); 3 rejected rows in t_rejects'
    """

    rows: int
    files: int
    bytes: int
    seconds: float
    rejected: int = 0
    rejects_table: str | None = None
    direction: str = "from"

    @property
    def rows_per_second(self) -> float:
        """Rows loaded (or written) per second of the statement."""
        return self.rows / self.seconds if self.seconds > 0 else float("inf")

    def as_dict(self) -> dict[str, Any]:
        """The statistics as a plain dict (``rows_per_second`` included)."""
        out = asdict(self)
        out["rows_per_second"] = self.rows_per_second
        return out

    def message(self) -> str:
        """One line for people (see the class' example)."""
        files = f"{self.files} file{'s' if self.files != 1 else ''}"
        rate = self.rows_per_second
        shown = f"{rate:,.0f} rows/s" if rate != float("inf") else "instant"
        text = (f"{self.rows:,} rows {self.direction} {files} ({_size(self.bytes)}) in "
                f"{self.seconds:.3g} s ({shown})")
        if self.rejects_table is not None or self.rejected:
            text += f"; {self.rejected:,} rejected rows"
            if self.rejects_table is not None:
                text += f" in {self.rejects_table}"
        return text


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n:,} bytes"


def run_copy_stats(db: Database, tree: exp.Copy) -> tuple[dict[str, Any], int, CopyStats]:
    """The catalog changes of a COPY statement, its row count and its statistics (nothing
    is changed here: the caller applies the changes)."""
    start = time.perf_counter()
    files: list[Any] = []
    for node in tree.args.get("files") or []:
        # sqlglot parses FROM 'a', 'b' and FROM ('a', 'b'); DuckDB's [...] it does not
        for item in (node.expressions if isinstance(node, exp.Tuple) else [node]):
            value = tf.constant(item, "COPY")
            files.extend(value if isinstance(value, list) else [value])
    if not files or not all(isinstance(f, str) for f in files):
        raise BindError(f"COPY takes a file name, a glob or a list of them (strings), "
                        f"got {files!r}")
    options = _options(tree)
    if tree.args.get("kind"):
        changes, count, stats = copy_from(db, tree.this, files, options)
    else:
        if len(files) != 1:
            raise BindError(f"COPY ... TO takes one file name, got {files!r}")
        count = copy_to(db, tree.this, files[0], options)
        size = os.path.getsize(files[0]) if os.path.isfile(files[0]) else 0
        changes, stats = {}, CopyStats(count, 1, size, 0.0, direction="to")
    stats.seconds = time.perf_counter() - start
    return changes, count, stats


def run_copy(db: Database, tree: exp.Copy) -> tuple[dict[str, Any], int]:
    """The catalog changes of a COPY statement and its row count (see
    :func:`run_copy_stats`, which also gives the statistics)."""
    changes, count, _ = run_copy_stats(db, tree)
    return changes, count


def _options(tree: exp.Copy) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for param in tree.args.get("params") or []:
        key = param.name.lower()
        value = param.args.get("expression")
        if value is None and param.expressions:
            value = exp.Array(expressions=list(param.expressions))
        out[key] = True if value is None else tf.constant(value, f"COPY option {key.upper()}")
    return out


def _flag(options: dict[str, Any], key: str) -> bool | None:
    if key not in options:
        return None
    value = options[key]
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "on", "yes"):
        return True
    if text in ("false", "0", "off", "no"):
        return False
    raise BindError(f"COPY option {key.upper()} takes true or false, got {value!r}")


def _error_mode(options: dict[str, Any], name: str) -> tuple[bool, str | None]:
    """(skip bad rows, the rejects table or None) from ON_ERROR and DuckDB's options."""
    on_error = str(options.get("on_error", "")).strip().lower()
    if on_error not in ("", "abort", "skip"):
        msg = (f"COPY option ON_ERROR {options['on_error']!r} is not supported; use 'abort' "
               "(the default: a bad row fails the statement) or 'skip' (bad rows go to a "
               "rejects table)")
        raise NotSupportedError(msg)
    ignore, store = _flag(options, "ignore_errors"), _flag(options, "store_rejects")
    skip = on_error == "skip" or bool(ignore) or bool(store) or "rejects_table" in options
    if on_error == "abort" and skip:
        msg = ("COPY options disagree: ON_ERROR 'abort' with IGNORE_ERRORS, STORE_REJECTS or "
               "REJECTS_TABLE; drop one of them")
        raise BindError(msg)
    if not skip or store is False:
        return skip, None
    table = options.get("rejects_table", f"{name}_rejects")
    if not isinstance(table, str) or not table:
        raise BindError(f"COPY option REJECTS_TABLE takes a table name, got {table!r}")
    return skip, table


# -- FROM -----------------------------------------------------------------------------------
def copy_from(db: Database, target: exp.Expression, patterns: list[str],
              options: dict[str, Any]) -> tuple[dict[str, Any], int, CopyStats]:
    """Read ``patterns`` (files or globs) into new rows of the target table; the changes
    (the rows appended, and the rejects table with ON_ERROR 'skip'), the row count and the
    load's statistics."""
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
    paths = tf.file_list(patterns if len(patterns) > 1 else patterns[0], f"COPY {name} FROM")
    fmt = tf.format_of(paths[0], options.get("format"))
    tf.check_options(options, _FROM_OPTIONS[fmt], f"COPY ... FROM (FORMAT {fmt})")
    skip, rejects_name = _error_mode(options, name)
    types = {n: table.column(n).dtype for n in names}
    sizes = [os.path.getsize(p) for p in paths]
    pieces, rejected = [], []
    with Progress(sum(sizes), len(paths), f"COPY {name}") as bar:
        for path, size in zip(paths, sizes, strict=True):
            with bar.file(size):
                piece, bad = _load_file(path, fmt, names, types, options, db.device, skip,
                                        name, size)
            pieces.append(piece)
            if bad.num_rows:
                rejected.append(bad.sort_by("line"))
    n = sum(pc.num_rows for pc in pieces)
    rows = concat_tables(pieces) if len(pieces) > 1 else pieces[0]
    cols = []
    for cname, col in table.items():
        src = rows.column(cname) if cname in types else Column.full(n, None, col.dtype, db.device)
        cols.append((cname, src))
    changes: dict[str, Any] = {name: Append(Table(cols, n, db.device))}
    bad_rows = pa.concat_tables(rejected) if rejected else rj.empty_rejects()
    if rejects_name is not None:
        changes[rejects_name] = rj.rejects_change(db, rejects_name, bad_rows, name)
    # a row failing in two columns has two rejects but counts once
    n_bad = bad_rows.group_by(["file", "line"]).aggregate([]).num_rows
    stats = CopyStats(n, len(paths), sum(sizes), 0.0, n_bad, rejects_name)
    return changes, n, stats


def _load_file(path: str, fmt: str, names: list[str], types: dict[str, t.DataType],
               options: dict[str, Any], device: Any, skip: bool, name: str,
               size: int) -> tuple[Table, pa.Table]:
    """One file's rows cast to the table's types, and its rejected rows (with ``skip``;
    without, a bad row raises)."""
    none = rj.empty_rejects()
    try:
        if fmt != "parquet" and size == 0:  # what an empty table writes
            return Table([(c, Column.full(0, None, types[c], device)) for c in names], 0,
                         device), none
        if fmt == "csv":
            return _csv_file(path, names, types, options, device, skip)
        return _named_file(path, fmt, names, types, options, device, skip)
    except XIOError as e:
        raise _load_error(e, name, path, types) from e
    except CastError as e:
        msg = (f"COPY {name} FROM {path!r} failed, table {name!r} is unchanged: {e}; to load "
               "the other rows and keep this one aside, add (ON_ERROR 'skip')")
        raise CastError(msg) from e


def _load_error(e: XIOError, name: str, path: str, types: dict[str, t.DataType]) -> XIOError:
    """The reader's error restated for COPY (the reader's own advice is about dtype=)."""
    m = _BAD_VALUE.search(str(e))
    if m and e.column in types:
        where = f"{path}:{e.line}" if e.line else path
        msg = (f"COPY {name} FROM {path!r} failed, table {name!r} is unchanged: {where}: "
               f"column {e.column!r}: value {m.group(1)} cannot be cast to "
               f"{types[e.column]} (the table's column type); fix the value or load it into "
               "a column of a type that fits it, or skip bad rows with (ON_ERROR 'skip')")
    else:
        msg = f"COPY {name} FROM {path!r} failed, table {name!r} is unchanged: {e}"
        if e.line is not None:
            msg += "; to load the other rows and keep this one aside, add (ON_ERROR 'skip')"
    return XIOError(msg, path=e.path or path, line=e.line, column=e.column)


def _csv_file(path: str, names: list[str], types: dict[str, t.DataType],
              options: dict[str, Any], device: Any, skip: bool) -> tuple[Table, pa.Table]:
    opts = dict(options)
    if "null" in opts:
        opts["nullstr"] = opts.pop("null")
    kw = tf.csv_settings({k: v for k, v in opts.items() if k not in _ERROR_OPTIONS}, path)
    whole, _ = tf.csv_sample(path, kw["sep"], kw["quotechar"], kw["skip_rows"])
    if whole is not None and whole.num_columns != len(names):
        msg = (f"{path!r} has {whole.num_columns} columns but COPY loads {len(names)} "
               f"({', '.join(names)}); CSV columns are matched by position: give the column "
               "list, e.g. COPY t (a, b) FROM ..., or fix the file or the DELIMITER")
        raise XIOError(msg, path=path)
    base = {k: kw[k] for k in ("sep", "quotechar", "skip_rows", "header", "null_values")}
    try:
        data = _csv_typed(path, names, types, base)
    except pa.ArrowInvalid:
        # a malformed row, or a value pyarrow's typed parse refuses (it is stricter than
        # SQL's cast: '1.5' into an integer): read the file again as text, then cast
        table, bad = rj.read_csv_rejecting(path, names, types, base, device)
        if not skip and bad.num_rows:
            _raise_first(bad, types, XIOError)
        return table, bad
    except (pa.ArrowException, OSError, ValueError) as e:
        raise XIOError(f"cannot read CSV file {path!r}: {e}", path=path) from e
    table = Table.from_arrow(data, device)
    table, bad = rj.cast_rejecting(table, names, types, path,
                                   lambda: rj.csv_records(path, base, len(names),
                                                          table.num_rows, 0)[0])
    if not skip and bad.num_rows:
        _raise_first(bad, types, CastError)
    return table, bad


def _csv_typed(path: str, names: list[str], types: dict[str, t.DataType],
               kw: dict[str, Any]) -> pa.Table:
    """The fast path: pyarrow's multithreaded parse straight into the table's types where
    pyarrow has them (others as text, cast afterwards); raises ArrowInvalid on a bad row."""
    skip = kw["skip_rows"] + (1 if kw["header"] else 0)
    ro = pacsv.ReadOptions(use_threads=True, column_names=list(names), skip_rows=skip)
    po = pacsv.ParseOptions(delimiter=kw["sep"], quote_char=kw["quotechar"] or False,
                            double_quote=True, newlines_in_values=True)
    arrow = {n: d.to_arrow() if d.kind in _CSV_NATIVE else pa.string() for n, d in types.items()}
    co = pacsv.ConvertOptions(column_types=arrow, null_values=kw["null_values"],
                              strings_can_be_null=True, quoted_strings_can_be_null=False)
    return pacsv.read_csv(path, read_options=ro, parse_options=po, convert_options=co)


def _raise_first(bad: pa.Table, types: dict[str, t.DataType], kind: type[Exception]) -> None:
    """Raise the error of the first rejected row (in file order)."""
    row = bad.sort_by("line").slice(0, 1).to_pylist()[0]
    where = f"{row['file']}:{row['line']}"
    if row["column"] is None:
        msg = (f"{where}: malformed row: {row['reason']}: {row['value']!r}; check the "
               "DELIMITER and QUOTE options or fix the row")
    else:
        msg = (f"{where}: column {row['column']!r}: value {row['value']!r} cannot be cast to "
               f"{types[row['column']]} (the table's column type); fix the value or load it "
               "into a column of a type that fits it")
    if kind is XIOError:
        raise XIOError(msg, path=row["file"], line=row["line"], column=row["column"])
    raise kind(msg)


def _named_file(path: str, fmt: str, names: list[str], types: dict[str, t.DataType],
                options: dict[str, Any], device: Any, skip: bool) -> tuple[Table, pa.Table]:
    lines = True
    try:
        if fmt == "parquet":
            table = xio.read_parquet_table(path, device=device)
            unit = "row"
        else:
            lines = not tf.starts_with_array(path)
            table = xio.read_json_table(path, device=device, lines=lines)
            unit = "json" if lines else "row"
    except XIOError:
        if not (skip and fmt == "json" and lines):
            raise
        return rj.read_json_lines_rejecting(path, names, types, device)
    extra = [c for c in table.names if c not in types]
    if extra:
        msg = (f"{path!r} has column {extra[0]!r}, which the COPY target columns "
               f"{names} lack; {fmt.title()} columns are matched by name: add it to the "
               "column list or to the table")
        raise XIOError(msg, path=path, column=extra[0])
    n = table.num_rows
    cols = [(c, table.column(c) if c in table else Column.full(n, None, types[c], device))
            for c in names]
    table = Table(cols, n, device)
    if skip:
        locate = (lambda: rj.json_record_lines(path)) if unit == "json" \
            else (lambda: np.arange(1, n + 1, dtype=np.int64))
        return rj.cast_rejecting(table, names, types, path, locate)
    return _cast_to(table, names, types, path, unit), rj.empty_rejects()


def _cast_to(table: Table, names: list[str], types: dict[str, t.DataType], path: str,
             unit: str) -> Table:
    """Cast every column to its target type; the first value that does not fit raises
    with the file, the line (``unit`` 'json') or row, the column and the value."""
    n = table.num_rows
    cols = []
    for cname in names:
        src, to = table.column(cname), types[cname]
        if src.dtype != to:
            if src.null_count == n:
                src = Column.full(n, None, to, src.device)
            else:
                out = kcast.cast(src, to, safe=False, float_to_int="sql")
                _check_cast(src, out, cname, to, path, unit)
                src = out
        cols.append((cname, src))
    return Table(cols, n, table.device)


def _check_cast(src: Column, out: Column, name: str, to: t.DataType, path: str,
                unit: str) -> None:
    if out.validity is None:
        return
    lost = ~out.validity if src.validity is None else src.validity & ~out.validity
    if not bool(src.device.scalar(lost.any())):
        return
    row = int(src.device.scalar(src.xp.argmax(lost)))
    value = src.slice(row, row + 1).to_pylist()[0]
    if unit == "json" and (line := _json_line(path, row)) is not None:
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


__all__ = ["CopyStats", "copy_from", "copy_to", "run_copy", "run_copy_stats"]
