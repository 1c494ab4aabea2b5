"""JSON reading (newline-delimited through pyarrow.json; JSON arrays through Python's json)
and newline-delimited JSON writing.

Reading infers one type per key over the whole file: int64, float64 (ints mixed with
floats), bool, timestamp (ISO-8601 strings such as ``"2020-01-31"`` or ``"2020-01-31
12:00:00"``), string; a key missing from a line is null there. JSON has no date, decimal or
duration type: pass ``dtype={"d": "date", "p": "decimal(10,2)"}`` to get them (dates and
decimals may be given as strings or numbers, dates also as days since 1970-01-01,
durations as integers). ``dtype={"c": "string"}`` also reads a key holding numbers and
strings mixed (numbers become their JSON text; this takes a slower Python path). Nested
objects and arrays are not supported (the error names the column). Columns come in the
order of the first record's keys, then keys that first appear later.

``lines=False`` reads a file holding one JSON array of objects. The whole file is parsed by
Python's :mod:`json` first and then typed exactly like JSON lines, so it suits files of
modest size; errors name the record (1-based) rather than the line.
"""

from __future__ import annotations

import io
import json as _pyjson
import mmap
import os
import re
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from .. import types as t
from ..errors import IOError as XIOError
from ..errors import XpdbError
from ..table import Table
from . import _common as c

_WRITE_BATCH = 1 << 16


def read_json_table(
    path: c.PathArg,
    *,
    lines: bool = True,
    columns: Sequence[str] | None = None,
    dtype: dict[str, Any] | None = None,
    block_size: int | None = None,
    device: Any = None,
) -> Table:
    """Read JSON files into a :class:`~xpdb.Table` on ``device``.

    Parameters
    ----------
    path : str, Path, glob or list of them
        Files are read in the given order (a glob's sorted by name) and stacked.
    lines : bool, default True
        True: one JSON object per line (JSON lines / NDJSON; blank lines are skipped).
        False: the file holds one JSON array of objects.
    columns : list of str, optional
        Keep only these columns, in this order.
    dtype : dict, optional
        Column name -> type (anything :func:`xpdb.types.parse` takes).
    block_size : int, optional
        Bytes per parsing block (blocks are parsed in parallel).
    device : str or Device, optional
        Where the table goes; None means the configured default device.

    Returns
    -------
    Table

    Raises
    ------
    xpdb.errors.IOError
        A missing or empty file, invalid JSON (with the line), or a value that does not fit
        its column's type (with the line, the column and the value).

    Examples
    --------
    >>> import os, pathlib, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "x.jsonl")
    >>> _ = pathlib.Path(p).write_text('{"a": 1, "b": "x"}\\n{"a": 2}\\n')
    >>> read_json_table(p, device="cpu").to_pydict()
    {'a': [1, 2], 'b': ['x', None]}
    """
    cols = c.resolve_columns(columns)
    dtypes = c.parse_dtypes(dtype)
    paths = c.expand_paths(path, "JSON file")
    tables = [_read_one(p, lines, dtypes, block_size) for p in paths]
    table = c.concat_arrow(tables, paths)
    where = paths[0] if len(paths) == 1 else f"the {len(paths)} files"
    for name in dtypes:
        if name not in table.column_names and (cols is None or name in cols):
            msg = f"dtype names column {name!r}, which no record of {where!r} holds{c.closest(name, table.column_names)}"
            raise XIOError(msg, path=paths[0], column=name)
    if cols is not None:
        c.check_columns(cols, table.column_names, where)
        table = table.select(cols)
    return c.to_device(table, device, paths[0] if len(paths) == 1 else None)


def read_json(path: c.PathArg, **kwargs: Any) -> Any:
    """Read JSON files into an xpdb DataFrame; takes the arguments of
    :func:`read_json_table`.

    Returns
    -------
    xpdb.DataFrame
    """
    return c.to_frame(read_json_table(path, **kwargs))


def _native(d: t.DataType) -> bool:
    """Types pyarrow's JSON reader converts to while parsing."""
    return d.kind not in ("date", "duration")


Rows = list[tuple[int | None, Any]]  # (1-based line or None, parsed record)


def _read_one(path: str, lines: bool, dtypes: dict[str, t.DataType],
              block_size: int | None) -> pa.Table:
    c.check_not_empty(path, "JSON file")
    rows = None if lines else _load_array(path)
    try:
        table = _parse(path, rows, dtypes, block_size)
    except XpdbError:
        raise
    except pa.ArrowException as e:
        if rows is not None or not _string_conflict(e, dtypes):
            raise _explain(path, rows, dtypes, e) from e
        # pyarrow cannot read numbers into a string column: parse in Python and turn
        # them into JSON text (a slow path taken only when dtype asks for it)
        rows = _load_lines(path)
        try:
            table = _parse(path, rows, dtypes, block_size)
        except pa.ArrowException as e2:
            raise _explain(path, rows, dtypes, e2) from e2
    except (OSError, UnicodeError, ValueError) as e:
        raise XIOError(f"cannot read JSON file {path!r}: {e}", path=path) from e
    if table.num_columns == 0:
        raise XIOError(f"JSON file {path!r} holds no JSON objects", path=path)
    table = _file_order(table, path, rows)
    for name, d in dtypes.items():
        if name not in table.column_names:
            continue
        col = table.column(name)
        if col.null_count == len(col) and not _mentions(path, rows, name):
            # the explicit schema made up a column for a key no record holds
            table = table.drop_columns([name])
        elif not _native(d) or col.type != d.to_arrow():
            table = _cast_column(table, name, d, path, rows)
    return table


def _mentions(path: str, rows: Rows | None, key: str) -> bool:
    """Whether any record may hold ``key`` (a byte search; true on doubt)."""
    if rows is not None:
        return any(key in r for _, r in rows)
    needles = {_pyjson.dumps(key, ensure_ascii=a).encode("utf8") for a in (False, True)}
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        return any(m.find(n) >= 0 for n in needles)


def _file_order(table: pa.Table, path: str, rows: Rows | None) -> pa.Table:
    """Columns in the order of the first record's keys (an explicit schema puts its own
    columns first), then the keys that first appear later."""
    first = rows[0][1] if rows else next((obj for _, obj in _lines(path)), None)
    if not isinstance(first, dict):
        return table
    names = table.column_names
    order = [k for k in first if k in names]
    order += [n for n in names if n not in set(order)]
    return table if order == names else table.select(order)


def _parse(path: str, rows: Rows | None, dtypes: dict[str, t.DataType],
           block_size: int | None) -> pa.Table:
    source: Any = path
    if rows is not None:
        strings = [n for n, d in dtypes.items() if d.is_string]
        text = "\n".join(_pyjson.dumps(_stringify(r, strings), ensure_ascii=False)
                         for _, r in rows)
        source = io.BytesIO(text.encode("utf8"))
    schema = pa.schema([(n, d.to_arrow()) for n, d in dtypes.items() if _native(d)])
    parse = pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer",
                                newlines_in_values=False)
    read = pajson.ReadOptions(use_threads=True, **({"block_size": int(block_size)}
                                                  if block_size else {}))
    return pajson.read_json(source, read_options=read, parse_options=parse)


def _stringify(record: dict[str, Any], strings: list[str]) -> dict[str, Any]:
    bad = [n for n in strings if record.get(n) is not None and not isinstance(record[n], str)]
    if not bad:
        return record
    out = dict(record)
    for n in bad:
        out[n] = _pyjson.dumps(record[n], ensure_ascii=False)
    return out


def _string_conflict(e: Exception, dtypes: dict[str, t.DataType]) -> bool:
    m = _TYPE_RE.search(str(e))
    if not m or not m.group(1).startswith("/"):
        return False
    d = dtypes.get(m.group(1)[1:])
    return d is not None and d.is_string


def _load_lines(path: str) -> Rows:
    rows: Rows = []
    for line, obj in _lines(path):
        if not isinstance(obj, dict):
            what = f"invalid JSON ({obj})" if isinstance(obj, Exception) else \
                f"expected a JSON object, found {_kind(obj)} {obj!r}"
            raise XIOError(f"{path}:{line}: {what}; each line must hold one JSON object",
                           path=path, line=line)
        rows.append((line, obj))
    return rows


def _load_array(path: str) -> Rows:
    try:
        with open(path, encoding="utf8") as f:
            data = _pyjson.load(f)
    except _pyjson.JSONDecodeError as e:
        msg = f"{path}:{e.lineno}: invalid JSON: {e.msg} (column {e.colno})"
        raise XIOError(msg, path=path, line=e.lineno) from e
    except (OSError, UnicodeError) as e:
        raise XIOError(f"cannot read JSON file {path!r}: {e}", path=path) from e
    if not isinstance(data, list):
        msg = (
            f"JSON file {path!r} holds a {type(data).__name__}, not an array of objects; "
            "for one object per line pass lines=True"
        )
        raise XIOError(msg, path=path)
    for i, rec in enumerate(data):
        if not isinstance(rec, dict):
            msg = f"{path}: record #{i + 1} of the array is {rec!r}, not a JSON object"
            raise XIOError(msg, path=path)
    if not data:
        raise XIOError(f"JSON file {path!r} holds an empty array; there is nothing to read",
                       path=path)
    return [(None, rec) for rec in data]


def _cast_column(table: pa.Table, name: str, d: t.DataType, path: str,
                 rows: Rows | None) -> pa.Table:
    arr = table.column(name).combine_chunks()
    target = d.to_arrow()
    if pa.types.is_integer(arr.type) and d.kind == "date":
        arr = arr.cast(pa.int32())  # days since 1970-01-01; int64 -> date32 has no kernel
    try:
        arr.slice(0, 0).cast(target)
    except pa.ArrowException as e:
        msg = (f"column {name!r} of {path!r} holds JSON values read as {arr.type}, which "
               f"cannot be converted to {d} (the dtype you passed); pass another dtype")
        raise XIOError(msg, path=path, column=name) from e
    try:
        cast = arr.cast(target)
    except pa.ArrowException as e:
        row = _first_failing_row(arr, target)
        line, value = _row_position(path, rows, row, name)
        where = f"{path}:{line}" if line else (f"{path}: record #{row + 1}" if row is not None
                                               else path)
        msg = (
            f"{where}: column {name!r}: value {value!r} is not a valid {d} (the dtype you "
            f"passed); pass another dtype for {name!r} or fix the value"
        )
        raise XIOError(msg, path=path, line=line, column=name) from e
    return table.set_column(table.column_names.index(name), name, cast)


def _first_failing_row(arr: pa.Array, target: pa.DataType) -> int | None:
    """The first row whose cast fails, by bisection (log n casts)."""
    lo, hi = 0, len(arr)
    try:
        arr.cast(target)
        return None
    except pa.ArrowException:
        pass
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            arr.slice(lo, mid - lo).cast(target)
            lo = mid
        except pa.ArrowException:
            hi = mid
    return lo


def _row_position(path: str, rows: Rows | None, row: int | None,
                  name: str) -> tuple[int | None, Any]:
    """(line or None, value) of data row ``row``."""
    if row is None:
        return None, None
    items = iter(rows) if rows is not None else _lines(path)
    for k, (line, obj) in enumerate(items):
        if k == row:
            return line, obj.get(name) if isinstance(obj, dict) else obj
    return None, None


# -- explaining pyarrow's errors: only on failure, so a sequential scan is fine --------------
_TYPE_RE = re.compile(r"Column\((.*?)\) changed from (\w+) to (\w+)")
_SYNTAX_RE = re.compile(r"JSON parse error: (.*?)(?: in row \d+)?$", re.S)


def _lines(path: str) -> Iterator[tuple[int, Any]]:
    """(1-based line, parsed object or the exception) of every non-blank line."""
    with open(path, encoding="utf8", errors="replace") as f:
        for i, text in enumerate(f, 1):
            if text.strip():
                try:
                    yield i, _pyjson.loads(text)
                except ValueError as e:
                    yield i, e


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, str):
        return "string"
    return "array" if isinstance(v, list) else "object"


def _explain(path: str, rows: Rows | None, dtypes: dict[str, t.DataType],
             e: Exception) -> XIOError:
    text = str(e)
    if "Empty JSON file" in text:
        return XIOError(f"JSON file {path!r} holds no JSON objects", path=path)
    items: Iterator[tuple[int | None, Any]] = iter(rows) if rows is not None else _lines(path)
    m = _TYPE_RE.search(text)
    if m and m.group(1).startswith("/"):
        name = m.group(1)[1:]
        to_kind = m.group(3)
        line, value, index = None, None, None
        for k, (ln, obj) in enumerate(items):
            if isinstance(obj, dict) and name in obj and _kind(obj[name]) == to_kind:
                line, value, index = ln, obj[name], k
                break
        where = f"{path}:{line}" if line else (f"{path}: record #{index + 1}"
                                               if index is not None else path)
        if name in dtypes:
            msg = (f"{where}: column {name!r}: value {value!r} is not a valid {dtypes[name]} "
                   f"(the dtype you passed); pass another dtype for {name!r} or fix the value")
        else:
            msg = (
                f"{where}: column {name!r} holds {m.group(2)} values elsewhere but a "
                f"{to_kind} here ({value!r}); pass dtype={{{name!r}: 'string'}} (or the type "
                "that fits every value) or fix the value"
            )
        return XIOError(msg, path=path, line=line, column=name)
    for k, (ln, obj) in enumerate(items):
        if isinstance(obj, Exception) or not isinstance(obj, dict):
            what = f"invalid JSON ({obj})" if isinstance(obj, Exception) else \
                f"expected a JSON object, found {_kind(obj)} {obj!r}"
            where = f"{path}:{ln}" if ln else f"{path}: record #{k + 1}"
            return XIOError(f"{where}: {what}; each line must hold one JSON object",
                            path=path, line=ln)
    m = _SYNTAX_RE.search(text)
    detail = m.group(1) if m else text
    return XIOError(f"cannot read JSON file {path!r}: {detail}", path=path)


# -- writing ---------------------------------------------------------------------------------
def write_json(data: Any, path: str | os.PathLike) -> None:
    """Write a table as JSON lines: one object per row, keys in column order.

    Nulls are ``null``; dates, timestamps (ISO-8601, with the UTC offset for
    time-zone-aware ones) and strings are JSON strings; decimals are exact numbers;
    durations are integers in their unit; NaN and +-inf are written ``NaN``,
    ``Infinity`` and ``-Infinity`` (as Python's json does; :func:`read_json` reads them
    back, strict JSON parsers do not). An empty table gives an empty file. The file
    appears only once fully written.

    Parameters
    ----------
    data : xpdb Table or DataFrame, pandas DataFrame or pyarrow Table
    path : str or Path

    Examples
    --------
    >>> import os, pathlib, tempfile, pyarrow as pa
    >>> p = os.path.join(tempfile.mkdtemp(), "out.jsonl")
    >>> write_json(pa.table({"a": [1, None], "s": ["x", 'q"']}), p)
    >>> print(pathlib.Path(p).read_text(), end="")
    {"a":1,"s":"x"}
    {"a":null,"s":"q\\""}
    """
    table = c.to_arrow_data(data)
    keys = [_pyjson.dumps(n, ensure_ascii=False) + ":" for n in table.column_names]
    try:
        with c.atomic_write(path) as tmp, open(tmp, "wb") as f:
            n = table.num_rows
            for start in range(0, n, _WRITE_BATCH):
                # explicit length: slicing a table without columns does not clamp
                length = min(_WRITE_BATCH, n - start)
                f.write(_json_lines(table.slice(start, length), keys, length))
    except XpdbError:
        raise
    except (pa.ArrowException, OSError) as e:
        raise c.write_error(path, e, "JSON") from e


def _json_lines(table: pa.Table, keys: list[str], n: int) -> bytes:
    if not keys:
        return b"{}\n" * n
    parts = [pc.binary_join_element_wise(k, _fragment(table.column(i).combine_chunks(),
                                                      table.column_names[i]), "")
             for i, k in enumerate(keys)]
    body = pc.binary_join_element_wise(*parts, ",") if len(parts) > 1 else parts[0]
    rows = pc.binary_join_element_wise("{", body, "}\n", "")
    if isinstance(rows, pa.ChunkedArray):
        rows = rows.combine_chunks()
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)[rows.offset:rows.offset + n + 1]
    return rows.buffers()[2].to_pybytes()[int(offsets[0]):int(offsets[-1])]


def _fragment(arr: pa.Array, name: str) -> pa.Array:
    """Each value of ``arr`` as JSON text (a string array without nulls)."""
    typ = arr.type
    if pa.types.is_dictionary(typ):
        arr, typ = arr.dictionary_decode(), typ.value_type
    if pa.types.is_null(typ):
        return pa.array(["null"] * len(arr), pa.string())
    if pa.types.is_boolean(typ) or pa.types.is_integer(typ) or pa.types.is_decimal(typ):
        text = arr.cast(pa.string())
    elif pa.types.is_floating(typ):
        text = _float_text(arr)
    elif pa.types.is_duration(typ):
        text = arr.cast(pa.int64()).cast(pa.string())
    elif pa.types.is_date(typ) or pa.types.is_timestamp(typ):
        text = pc.binary_join_element_wise('"', arr.cast(pa.string()), '"', "")
    elif pa.types.is_string(typ) or pa.types.is_large_string(typ) or \
            pa.types.is_string_view(typ):
        text = _quote(arr.cast(pa.string()))
    else:
        msg = (f"cannot write column {name!r} of type {typ} as JSON; supported: bool, "
               "numbers, strings, date, timestamp, duration, decimal")
        raise XIOError(msg, column=name)
    return pc.fill_null(text, "null")


def _float_text(arr: pa.Array) -> pa.Array:
    text = arr.cast(pa.string())
    integral = pc.match_substring_regex(text, r"^-?[0-9]+$")
    text = pc.if_else(integral, pc.binary_join_element_wise(text, ".0", ""), text)
    for raw, out in (("nan", "NaN"), ("-inf", "-Infinity"), ("inf", "Infinity")):
        text = pc.if_else(pc.equal(text, raw), out, text)
    return text


_ESCAPES = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _quote(arr: pa.Array) -> pa.Array:
    text = pc.replace_substring(arr, "\\", "\\\\")
    text = pc.replace_substring(text, '"', '\\"')
    if pc.any(pc.match_substring_regex(text, "[\\x00-\\x1f]")).as_py():
        for code in range(32):
            ch = chr(code)
            text = pc.replace_substring(text, ch, _ESCAPES.get(ch, f"\\u{code:04x}"))
    return pc.binary_join_element_wise('"', text, '"', "")
