"""Table functions in FROM: ``read_csv``, ``read_parquet``, ``read_json`` (DuckDB's names).

``read_csv('f.csv', header = true, delim = ',')``, ``read_parquet(['a.parquet',
'b.parquet'])``, ``read_json('logs/*.json')``... are planned as a
:class:`~xpdb.sql.plan.TableFunction` and run here through the readers of :mod:`xpdb.io`,
so their file, line and column error messages carry through. Arguments must be constants
(literals, lists ``[...]`` and structs ``{'a': 'INTEGER'}``).

CSV follows DuckDB where xpdb's reader is configurable: only an empty unquoted field is
null (``nullstr`` changes that), a file without a header names its columns ``column0``,
``column1``..., and when ``header`` is not given it is detected as DuckDB's sniffer does
in the common cases (a first row that does not fit the types of the rows below it is a
header; a file of text only is taken to have one).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from sqlglot import exp

from .. import io as xio
from .. import types as t
from ..errors import BindError, NotSupportedError, XpdbError
from ..errors import IOError as XIOError
from ..io import _common as iocommon
from ..kernels import cast as kcast
from ..table import Table
from . import plan as p
from .expressions import literal_value, sql_type

#: Table function name -> file format.
FUNCTIONS: dict[str, str] = {
    "read_csv": "csv", "read_csv_auto": "csv",
    "read_parquet": "parquet", "parquet_scan": "parquet",
    "read_json": "json", "read_json_auto": "json", "read_ndjson": "json",
    "read_ndjson_auto": "json",
}

_CSV_OPTIONS = ("header", "delim", "sep", "delimiter", "quote", "names", "column_names",
                "types", "dtypes", "column_types", "columns", "nullstr", "skip", "dateformat",
                "timestampformat", "auto_detect", "compression")
_PARQUET_OPTIONS = ("binary_as_string",)
_JSON_OPTIONS = ("columns", "format", "auto_detect", "compression")
_OPTIONS = {"csv": _CSV_OPTIONS, "parquet": _PARQUET_OPTIONS, "json": _JSON_OPTIONS}
_SAMPLE_BYTES = 1 << 18


def plan_table_function(item: exp.Table, columns: list[str]) -> p.TableFunction:
    """The plan node of a table function in FROM (``item.this`` is the call).

    Examples
    --------
    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT * FROM read_csv('f.csv', header = true) AS x(a)",
    ...                          dialect="duckdb")
    >>> node = plan_table_function(tree.args["from_"].this, ["a"])
    >>> node.name, node.alias, node.columns, sorted(node.options)
    ('read_csv', 'x', ['a'], ['header'])
    """
    call = item.this
    if isinstance(call, exp.Anonymous):
        name = str(call.this).lower()
        parts = list(call.expressions)
    elif isinstance(call, exp.Func):
        name = call.sql_name().lower()
        parts = [v for v in [call.this, *call.expressions] if v is not None] \
            if "this" in call.arg_types else list(call.expressions)
    else:
        msg = f"{item.sql(dialect='duckdb')!r} in FROM is not supported yet"
        raise NotSupportedError(msg)
    if name not in FUNCTIONS:
        msg = (f"table function {name}(...) is not supported; supported table functions: "
               f"{', '.join(sorted(FUNCTIONS))}")
        raise NotSupportedError(msg)
    args: list[exp.Expression] = []
    options: dict[str, exp.Expression] = {}
    for part in parts:
        if isinstance(part, exp.EQ | exp.PropertyEQ) and isinstance(part.this,
                                                                      exp.Column | exp.Identifier):
            options[part.this.name.lower()] = part.expression
        else:
            args.append(part)
    return p.TableFunction(name, args, options, item.alias or name, list(columns))


def run_table_function(node: p.TableFunction, device: Any) -> Table:
    """Read the files of a table function onto ``device``; column names as SQL sees them
    (the alias' column names replace the first ones)."""
    fmt = FUNCTIONS[node.name]
    if len(node.args) != 1:
        msg = (f"{node.name}() takes one positional argument (a path, a glob or a list of "
               f"paths), got {len(node.args)}")
        raise BindError(msg)
    paths = file_list(constant(node.args[0], node.name), node.name)
    options = {k: constant(v, f"{node.name}({k} = ...)") for k, v in node.options.items()}
    check_options(options, _OPTIONS[fmt], f"{node.name}()")
    reader: Callable[[list[str], dict[str, Any], Any], tuple[Table, list[str]]] = \
        {"csv": _read_csv, "parquet": _read_parquet, "json": _read_json}[fmt]
    table, names = reader(paths, options, device)
    if len(node.columns) > len(names):
        msg = (f"{node.alias!r} has {len(names)} columns but {len(node.columns)} names "
               f"were given: {node.columns}")
        raise BindError(msg)
    names = list(node.columns) + names[len(node.columns):]
    if len(set(names)) != len(names):
        raise BindError(f"{node.name}() gives duplicate column names {names}; rename them")
    return Table(list(zip(names, table.columns, strict=True)), table.num_rows, device)


# -- constants and options ----------------------------------------------------------------
def constant(node: exp.Expression, where: str) -> Any:
    """The Python value of a constant argument: a literal, a list or a struct.

    Examples
    --------
    >>> import sqlglot
    >>> constant(sqlglot.parse_one("{'a': 'INTEGER', 'b': [1, 2]}", dialect="duckdb"), "f")
    {'a': 'INTEGER', 'b': [1, 2]}
    """
    if isinstance(node, exp.Array):
        return [constant(e, where) for e in node.expressions]
    if isinstance(node, exp.Struct):
        out = {}
        for e in node.expressions:
            if not isinstance(e, exp.PropertyEQ | exp.Slice | exp.EQ):
                raise NotSupportedError(f"{where}: expected 'name': value in {node.sql()!r}")
            key = e.this.name if isinstance(e.this, exp.Identifier | exp.Column) \
                else constant(e.this, where)
            out[str(key)] = constant(e.expression, where)
        return out
    if isinstance(node, exp.Var | exp.Column | exp.Identifier):
        return node.name
    if isinstance(node, exp.Paren):
        return constant(node.this, where)
    try:
        return literal_value(node)
    except XpdbError as e:
        msg = f"{where}: arguments must be constants, got {node.sql(dialect='duckdb')!r}"
        raise NotSupportedError(msg) from e


def file_list(value: Any, where: str) -> list[str]:
    """Existing files of a path argument (a string or a list; globs sorted), or an
    IOError naming the missing path."""
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) for v in items):
        raise BindError(f"{where}: expected a file path or a list of paths, got {value!r}")
    return iocommon.expand_paths(items, "file")


def check_options(options: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    """Reject an option the reader or writer does not know, naming the known ones."""
    for key in options:
        if key not in allowed:
            msg = (f"{where}: option {key!r} is not supported; supported options: "
                   f"{', '.join(allowed)}")
            raise NotSupportedError(msg)


def parse_type(spec: Any, where: str) -> t.DataType:
    """An xpdb type from a DuckDB type name (``'INTEGER'``, ``'DECIMAL(10,2)'``)."""
    try:
        return sql_type(exp.DataType.build(str(spec), dialect="duckdb"))
    except Exception as e:
        raise BindError(f"{where}: unknown type {spec!r}") from e


def option(options: dict[str, Any], *keys: str, default: Any = None) -> Any:
    """The value of the first of ``keys`` that was given."""
    for key in keys:
        if key in options:
            return options[key]
    return default


# -- CSV ----------------------------------------------------------------------------------
def csv_sample(path: str, sep: str, quote: str | None,
               skip: int) -> tuple[pa.Table | None, pa.Table | None]:
    """The first rows of a CSV file parsed without a header, with and without its first
    row (for header detection and column counts); None where they do not parse (the
    reader then reports the problem)."""
    try:
        with pa.input_stream(path, compression="detect") as f:
            data = f.read(_SAMPLE_BYTES + 1)
    except (pa.ArrowException, OSError, ValueError):
        return None, None
    if len(data) > _SAMPLE_BYTES:
        data = data[: data.rfind(b"\n", 0, _SAMPLE_BYTES) + 1] or data
    parse = pacsv.ParseOptions(delimiter=sep, quote_char=quote or False,
                               newlines_in_values=True)
    conv = pacsv.ConvertOptions(null_values=[""], strings_can_be_null=True)

    def read(extra: int) -> pa.Table | None:
        ro = pacsv.ReadOptions(autogenerate_column_names=True, skip_rows=skip + extra)
        try:
            return pacsv.read_csv(io.BytesIO(data), read_options=ro, parse_options=parse,
                                  convert_options=conv)
        except (pa.ArrowException, ValueError):
            return None

    return read(0), read(1)


def detect_header(path: str, sep: str, quote: str | None, skip: int) -> bool:
    """Whether the first row of a CSV file is a header (DuckDB's rule in the common cases:
    it is when some column below it is not text but its first value does not fit)."""
    whole, rest = csv_sample(path, sep, quote, skip)
    if whole is None or rest is None or rest.num_rows == 0 or rest.num_columns != whole.num_columns:
        return True
    typed = [i for i, f in enumerate(rest.schema)
             if not (pa.types.is_string(f.type) or pa.types.is_null(f.type))]
    if not typed:
        return True
    return any(pa.types.is_string(whole.schema[i].type) for i in typed)


def csv_settings(options: dict[str, Any], path: str) -> dict[str, Any]:
    """Keyword arguments of :func:`xpdb.io.read_csv_table` for DuckDB's CSV options."""
    sep = option(options, "delim", "sep", "delimiter", default=",")
    quote = option(options, "quote", default='"') or None
    skip = int(option(options, "skip", default=0))
    header = option(options, "header")
    nulls = option(options, "nullstr", default="")
    kw: dict[str, Any] = {
        "sep": sep, "quotechar": quote, "skip_rows": skip,
        "header": detect_header(path, sep, quote, skip) if header is None else bool(header),
        "null_values": list(nulls) if isinstance(nulls, list) else [nulls],
    }
    fmt = option(options, "timestampformat", "dateformat")
    if fmt is not None:
        kw["date_format"] = fmt
    return kw


def _read_csv(paths: list[str], options: dict[str, Any], device: Any) -> tuple[Table, list[str]]:
    kw = csv_settings(options, paths[0])
    names = option(options, "names", "column_names")
    types = option(options, "types", "dtypes", "column_types")
    columns = options.get("columns")
    if isinstance(columns, dict):  # DuckDB: the names and types of every column
        names, types = list(columns), columns
        if "header" not in options:
            kw["header"] = False
    if names is not None:
        kw["names"] = [str(n) for n in names]
    elif not kw["header"]:
        whole = csv_sample(paths[0], kw["sep"], kw["quotechar"], kw["skip_rows"])[0]
        if whole is not None:  # else the reader reports what is wrong with the file
            kw["names"] = [f"column{i}" for i in range(whole.num_columns)]
    if isinstance(types, list):
        if "names" not in kw:
            kw["names"] = _csv_header(paths[0], kw)
        types = dict(zip(kw["names"], types, strict=False))
    if types:
        kw["dtype"] = {k: parse_type(v, "read_csv(types = ...)") for k, v in types.items()}
    table = xio.read_csv_table(paths, device=device, **kw)
    return duckdb_types(table, set(kw.get("dtype", {})), dates=False), table.names


def _csv_header(path: str, kw: dict[str, Any]) -> list[str]:
    whole, _ = csv_sample(path, kw["sep"], kw["quotechar"], kw["skip_rows"])
    if whole is None:
        return []
    if not kw["header"]:
        return [f"column{i}" for i in range(whole.num_columns)]
    return [str(whole.column(i)[0].as_py()) for i in range(whole.num_columns)]


# -- Parquet and JSON -----------------------------------------------------------------------
def _read_parquet(paths: list[str], options: dict[str, Any],
                  device: Any) -> tuple[Table, list[str]]:
    table = xio.read_parquet_table(paths, device=device)
    return table, table.names


def json_lines(options: dict[str, Any]) -> bool:
    """True for newline-delimited JSON (DuckDB's ``format`` option: ``'auto'``,
    ``'newline_delimited'`` or ``'array'``)."""
    fmt = str(option(options, "format", default="auto")).lower()
    if fmt not in ("auto", "newline_delimited", "nd", "array"):
        msg = f"read_json(format = {fmt!r}): use 'newline_delimited', 'array' or 'auto'"
        raise NotSupportedError(msg)
    return fmt != "array"


def _read_json(paths: list[str], options: dict[str, Any], device: Any) -> tuple[Table, list[str]]:
    lines = json_lines(options)
    if str(option(options, "format", default="auto")).lower() == "auto":
        lines = not starts_with_array(paths[0])
    columns = options.get("columns")
    kw: dict[str, Any] = {"lines": lines}
    if isinstance(columns, dict):
        kw["columns"] = list(columns)
        kw["dtype"] = {k: parse_type(v, "read_json(columns = ...)") for k, v in columns.items()}
    table = xio.read_json_table(paths, device=device, **kw)
    return duckdb_types(table, set(kw.get("dtype", {})), dates=True), table.names


_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}


def duckdb_types(table: Table, given: set[str], dates: bool) -> Table:
    """DuckDB's inferred types for text files: timestamps in microseconds (``TIMESTAMP``)
    and, with ``dates``, a JSON column of midnights as ``DATE`` (DuckDB infers DATE for
    date-only strings; pyarrow's JSON reader infers timestamps)."""
    out = table
    for name, col in table.items():
        d = col.dtype
        if name in given or d.kind != "timestamp" or d.tz:
            continue
        if dates and _all_midnight(col, _DAY[d.unit or "us"]):
            out = out.with_column(name, kcast.cast(col, t.date))
        elif d.unit != "us":
            out = out.with_column(name, kcast.cast(col, t.timestamp("us")))
    return out


def _all_midnight(col: Any, day: int) -> bool:
    off = (col.data % day) != 0
    if col.validity is not None:
        off = off & col.validity
    return len(col) > 0 and not bool(col.device.scalar(off.any()))


def starts_with_array(path: str) -> bool:
    """Whether a JSON file holds one array (its first non-blank byte is ``[``)."""
    try:
        with pa.input_stream(path, compression="detect") as f:
            head = f.read(4096)
    except (pa.ArrowException, OSError) as e:
        raise XIOError(f"cannot read JSON file {path!r}: {e}", path=path) from e
    return head.lstrip()[:1] == b"["


def format_of(path: str, given: Any = None) -> str:
    """'csv', 'parquet' or 'json': the ``FORMAT`` option, else the file's extension
    (compression suffixes aside), else CSV (DuckDB's default).

    Examples
    --------
    >>> format_of("x/data.parquet"), format_of("a.ndjson.gz"), format_of("b.txt", "JSON")
    ('parquet', 'json', 'json')
    """
    if given is not None:
        fmt = str(given).lower()
        fmt = {"ndjson": "json", "jsonl": "json", "newline_delimited": "json"}.get(fmt, fmt)
        if fmt not in ("csv", "parquet", "json"):
            raise NotSupportedError(f"FORMAT {given!r} is not supported; use csv, parquet or json")
        return fmt
    base = os.path.basename(path).lower()
    for suffix in (".gz", ".gzip", ".bz2", ".zst", ".zstd", ".lz4"):
        base = base.removesuffix(suffix)
    ext = os.path.splitext(base)[1]
    return {".parquet": "parquet", ".pq": "parquet", ".json": "json", ".jsonl": "json",
            ".ndjson": "json"}.get(ext, "csv")


__all__ = ["FUNCTIONS", "format_of", "plan_table_function", "run_table_function"]
