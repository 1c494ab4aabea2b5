"""Rows that COPY ... FROM cannot load: finding them, and the rejects table they go to.

The fast path of a load never comes here: files are parsed by pyarrow's multithreaded
readers into typed columns. Only when a file fails (a malformed CSV row, a value that does
not fit its column, a bad JSON line) is it read again in a tolerant way:

- CSV: every column as text (pyarrow, multithreaded), with ``invalid_row_handler``
  skipping rows with the wrong number of fields. Each column then takes pyarrow's strict
  cast; where that refuses a few values they are found by bisection and given to SQL's
  cast (which takes '1.5' into an integer as DuckDB does); where it refuses many, the whole
  column goes through SQL's cast (TRY_CAST on the dictionary of distinct values). A value
  that was not null but became null marks a failed row: vectorized comparisons of validity
  masks, never a Python loop over the rows.
- JSON lines: line by line with Python's :mod:`json` (bad lines are rejected), columns
  typed as pyarrow would type them where the values agree, as text where they do not.
- Parquet: never malformed; its casts are checked as above.

Line numbers are 1-based as the error messages count them (a CSV header is line 1); they
come from a vectorized scan of the file's newlines and quotes (a Python scan with the
:mod:`csv` module only where the quick scan disagrees with pyarrow's parse).
"""

from __future__ import annotations

import csv as _pycsv
import io
import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .. import types as t
from ..column import Column
from ..errors import BindError
from ..errors import IOError as XIOError
from ..kernels import cast as kcast
from ..table import Table

#: The columns of a rejects table.
REJECTS_SCHEMA = pa.schema([("file", pa.string()), ("line", pa.int64()),
                            ("column", pa.string()), ("value", pa.string()),
                            ("reason", pa.string())])


def empty_rejects() -> pa.Table:
    """A rejects table with no rows."""
    return REJECTS_SCHEMA.empty_table()


def _rejects(path: str, lines: Any, column: str | None, values: Any,
             reason: str | list[str]) -> pa.Table:
    n = len(lines)
    vals = values if isinstance(values, pa.Array) else pa.array(values, pa.string())
    why = pa.array(reason if isinstance(reason, list) else [reason] * n, pa.string())
    return pa.table([pa.array([path] * n, pa.string()), pa.array(np.asarray(lines, np.int64)),
                     pa.array([column] * n, pa.string()), vals.cast(pa.string()), why],
                    schema=REJECTS_SCHEMA)


# -- casts ----------------------------------------------------------------------------------
def cast_rejecting(table: Table, names: Sequence[str], types: dict[str, t.DataType], path: str,
                   locate: Callable[[], np.ndarray]) -> tuple[Table, pa.Table]:
    """Cast every column to its target type; rows with a value that does not fit are left
    out and described in the returned rejects (``locate()`` gives each row's line, and is
    called only when some row fails)."""
    n = table.num_rows
    xp = table.device.xp
    cols: list[tuple[str, Column]] = []
    lost_by: list[tuple[str, Column, Any]] = []
    for cname in names:
        src, to = table.column(cname), types[cname]
        if src.dtype != to:
            if src.null_count == n:
                out = Column.full(n, None, to, src.device)
            else:
                out = kcast.cast(src, to, safe=False, float_to_int="sql")
                if out.validity is not None:
                    lost = ~out.validity if src.validity is None else src.validity & ~out.validity
                    lost_by.append((cname, src, lost))
            src = out
        cols.append((cname, src))
    cast = Table(cols, n, table.device)
    if not lost_by:
        return cast, empty_rejects()
    bad = xp.zeros(n, dtype=bool)
    for _, _, lost in lost_by:
        bad = bad | lost
    if not bool(table.device.scalar(bad.any())):
        return cast, empty_rejects()
    lines = locate()
    parts = []
    for cname, src, lost in lost_by:
        rows = xp.flatnonzero(lost)
        if int(rows.shape[0]) == 0:
            continue
        host_rows = table.device.to_host(rows)
        values = src.take(rows).to_arrow()
        reason = f"value cannot be cast to {types[cname]} (the table's column type)"
        parts.append(_rejects(path, lines[host_rows], cname, values, reason))
    return cast.filter(~bad), pa.concat_tables(parts)


# -- CSV ------------------------------------------------------------------------------------
def read_csv_rejecting(path: str, names: Sequence[str], types: dict[str, t.DataType],
                       kw: dict[str, Any], device: Any) -> tuple[Table, pa.Table]:
    """Read a CSV file with every column as text, leaving out malformed rows; then cast.

    ``kw`` holds the keyword arguments :func:`xpdb.io.read_csv_table` got (``sep``,
    ``quotechar``, ``skip_rows``, ``header``, ``null_values``).
    """
    malformed: list[tuple[int, str]] = []

    def handler(row: Any) -> str:
        malformed.append((row.actual_columns, row.text))
        return "skip"

    skip = kw["skip_rows"] + (1 if kw["header"] else 0)
    ro = pacsv.ReadOptions(use_threads=True, column_names=list(names), skip_rows=skip)
    po = pacsv.ParseOptions(delimiter=kw["sep"], quote_char=kw["quotechar"] or False,
                            double_quote=True, newlines_in_values=True,
                            invalid_row_handler=handler)
    co = pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                              null_values=kw["null_values"], strings_can_be_null=True,
                              quoted_strings_can_be_null=False)
    try:
        data = pacsv.read_csv(path, read_options=ro, parse_options=po, convert_options=co)
    except (pa.ArrowException, OSError, ValueError) as e:
        raise XIOError(f"cannot read CSV file {path!r}: {e}", path=path) from e
    found: list[tuple[np.ndarray, list[tuple[int, str, int]]]] = []

    def records() -> tuple[np.ndarray, list[tuple[int, str, int]]]:
        if not found:  # scanned once, and only when some row is rejected
            found.append(csv_records(path, kw, len(names), data.num_rows, len(malformed)))
        return found[0]

    parts = []
    if malformed:
        bad = records()[1]
        parts.append(_rejects(path, [b[0] for b in bad], None, [b[1] for b in bad],
                              [f"expected {len(names)} fields but found {b[2]}" for b in bad]))
    n = data.num_rows
    lost = np.zeros(n, dtype=bool)
    cols = []
    for name in names:
        arr, to = data.column(name).combine_chunks(), types[name]
        typed, refused = _strict_cast(arr, to)
        if refused is not None and refused.size:
            lines = records()[0][refused]
            reason = f"value cannot be cast to {to} (the table's column type)"
            parts.append(_rejects(path, lines, name, arr.take(pa.array(refused)), reason))
            lost[refused] = True
        cols.append(typed)
    typed_table = pa.table(cols, names=list(names))
    if lost.any():
        typed_table = typed_table.filter(pa.array(~lost))
    table, cast_rejects = cast_rejecting(Table.from_arrow(typed_table, device), names, types,
                                         path, lambda: records()[0][~lost])
    parts.append(cast_rejects)
    out = pa.concat_tables(parts)
    return table, out.sort_by("line")


# At most this many values a column's strict cast refuses are looked for one by one;
# beyond, the whole column goes through SQL's cast on its dictionary.
_BISECT_LIMIT = 512


def _strict_cast(arr: pa.Array, to: t.DataType) -> tuple[pa.Array, np.ndarray | None]:
    """``arr`` (text) cast to ``to`` by pyarrow's strict C++ cast, and the positions whose
    values not even SQL's cast takes (null in the result). Values pyarrow refuses are
    found by bisection and given to SQL's cast one small array at a time ('1.5' into an
    integer is 2, as in DuckDB). Too many refused values: ``arr`` unchanged and None, for
    :func:`cast_rejecting`."""
    target = to.to_arrow()
    try:
        return arr.cast(target), np.zeros(0, np.int64)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        pass
    refused: list[int] = []
    stack = [(0, len(arr))]
    while stack and len(refused) <= _BISECT_LIMIT:
        lo, hi = stack.pop()
        try:
            arr.slice(lo, hi - lo).cast(target)
            continue
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            pass
        if hi - lo == 1:
            refused.append(lo)
        else:
            mid = (lo + hi) // 2
            stack.extend([(mid, hi), (lo, mid)])
    if len(refused) > _BISECT_LIMIT:
        return arr, None
    pos = np.asarray(sorted(refused), np.int64)
    mask = np.zeros(len(arr), dtype=bool)
    mask[pos] = True
    try:
        typed = pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), arr).cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return arr, None
    sql = kcast.cast(Column.from_arrow(arr.take(pa.array(pos)), "cpu"), to, safe=False,
                     float_to_int="sql")
    ok = np.ones(len(pos), dtype=bool) if sql.validity is None else np.asarray(sql.validity)
    if ok.any():
        fill = np.zeros(len(arr), dtype=bool)
        fill[pos[ok]] = True
        typed = pc.replace_with_mask(typed, pa.array(fill),
                                             sql.to_arrow().filter(pa.array(ok)).cast(target))
    return typed, pos[~ok]


def csv_records(path: str, kw: dict[str, Any], expected: int, rows: int,
                n_malformed: int) -> tuple[np.ndarray, list[tuple[int, str, int]]]:
    """The first line of every well-formed data record (one per row pyarrow read) and
    (line, text, fields) of every malformed one (``n_malformed`` of them)."""
    with pa.input_stream(path, compression="detect") as f:
        data = f.read()
    found = _scan_records(data, kw, expected, count_fields=n_malformed > 0)
    if found is None or len(found[0]) != rows or len(found[1]) != n_malformed:
        found = _python_records(data, kw, expected)
    return found


def _scan_records(data: bytes, kw: dict[str, Any], expected: int, count_fields: bool = True
                  ) -> tuple[np.ndarray, list[tuple[int, str, int]]] | None:
    """Records from the newlines outside quotes (vectorized); None when the separator or
    the quote is not one byte. Without ``count_fields`` every record is taken as
    well-formed (the caller knows none is malformed)."""
    sep, quote = kw["sep"], kw["quotechar"]
    if len(sep.encode()) != 1 or (quote and len(quote.encode()) != 1):
        return None
    buf = np.frombuffer(data, np.uint8)
    nl = np.flatnonzero(buf == 10)
    quotes = np.flatnonzero(buf == ord(quote)) if quote else np.zeros(0, np.int64)
    if quotes.size:
        at = np.flatnonzero(np.searchsorted(quotes, nl) % 2 == 0)  # even count: outside
    else:
        at = np.arange(len(nl))
    ends = nl[at]
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [len(buf)]))
    lines = np.concatenate(([1], at + 2))  # a record starts on the line after its newline
    length = stops - starts
    if len(buf):  # pyarrow skips empty lines ("\r" alone included)
        last = np.clip(stops - 1, 0, len(buf) - 1)
        empty = (length == 0) | ((length == 1) & (buf[last] == 13))
    else:
        empty = np.ones(len(starts), dtype=bool)
    keep = np.flatnonzero(~empty)[kw["skip_rows"] + (1 if kw["header"] else 0):]
    if not count_fields:
        return lines[keep].astype(np.int64), []
    delims = np.flatnonzero(buf == ord(sep))
    if quotes.size:
        delims = delims[np.searchsorted(quotes, delims) % 2 == 0]
    fields = np.bincount(np.searchsorted(starts, delims, side="right") - 1,
                         minlength=len(starts)) + 1
    ok = fields[keep] == expected
    bad = [(int(lines[i]), _text(data, int(starts[i]), int(stops[i])), int(fields[i]))
           for i in keep[~ok]]
    return lines[keep[ok]].astype(np.int64), bad


def _text(data: bytes, start: int, stop: int) -> str:
    return data[start:stop].decode("utf8", errors="replace").rstrip("\r")


def _python_records(data: bytes, kw: dict[str, Any],
                    expected: int) -> tuple[np.ndarray, list[tuple[int, str, int]]]:
    """Records through Python's csv module (only where the quick scan disagrees)."""
    _pycsv.field_size_limit(2**31 - 1)
    text = io.StringIO(data.decode("utf8", errors="replace"), newline="")
    quote = kw["quotechar"]
    reader = _pycsv.reader(text, delimiter=kw["sep"], quotechar=quote or '"',
                           quoting=_pycsv.QUOTE_MINIMAL if quote else _pycsv.QUOTE_NONE,
                           doublequote=True, strict=False)
    skip = kw["skip_rows"] + (1 if kw["header"] else 0)
    good: list[int] = []
    bad: list[tuple[int, str, int]] = []
    last = 0
    for fields in reader:
        start, last = last + 1, reader.line_num
        if not fields:
            continue
        if skip:
            skip -= 1
            continue
        if len(fields) == expected:
            good.append(start)
        else:
            bad.append((start, kw["sep"].join(fields), len(fields)))
    return np.asarray(good, np.int64), bad


# -- JSON -----------------------------------------------------------------------------------
def read_json_lines_rejecting(path: str, names: Sequence[str], types: dict[str, t.DataType],
                              device: Any) -> tuple[Table, pa.Table]:
    """Read a JSON lines file record by record (the slow path, taken only after the fast
    reader failed): lines that are not a JSON object of scalars are rejected."""
    with pa.input_stream(path, compression="detect") as f:
        data = f.read()
    known = set(names)
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    bad: list[tuple[int, str | None, str, str]] = []
    for number, raw in enumerate(data.split(b"\n"), 1):
        text = raw.decode("utf8", errors="replace").strip()
        if not text:
            continue
        try:
            record = json.loads(text)
        except ValueError as e:
            bad.append((number, None, text, f"invalid JSON: {e}"))
            continue
        if not isinstance(record, dict):
            bad.append((number, None, text, "a JSON line must hold one object"))
            continue
        extra = [k for k in record if k not in known]
        nested = [k for k, v in record.items() if isinstance(v, dict | list)]
        if extra:
            bad.append((number, extra[0], text, f"key {extra[0]!r} is not a column of the "
                        "COPY target"))
        elif nested:
            bad.append((number, nested[0], json.dumps(record[nested[0]]),
                        "nested objects and arrays are not supported"))
        else:
            records.append(record)
            lines.append(number)
    n = len(records)
    cols = []
    for name in names:
        values = [r.get(name) for r in records]
        try:
            arr = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            arr = pa.array([v if v is None or isinstance(v, str) else json.dumps(v)
                            for v in values], pa.string())
        if pa.types.is_null(arr.type):
            cols.append((name, Column.full(n, None, types[name], device)))
        else:
            cols.append((name, Column.from_arrow(arr, device)))
    found = np.asarray(lines, np.int64)
    table, cast_rejects = cast_rejecting(Table(cols, n, device), names, types, path,
                                         lambda: found)
    first = pa.table([pa.array([path] * len(bad), pa.string()),
                      pa.array([b[0] for b in bad], pa.int64()),
                      pa.array([b[1] for b in bad], pa.string()),
                      pa.array([b[2] for b in bad], pa.string()),
                      pa.array([b[3] for b in bad], pa.string())], schema=REJECTS_SCHEMA)
    return table, pa.concat_tables([first, cast_rejects])


def json_record_lines(path: str) -> np.ndarray:
    """The 1-based line of every record of a JSON lines file (blank lines hold none)."""
    with pa.input_stream(path, compression="detect") as f:
        buf = np.frombuffer(f.read(), np.uint8)
    nl = np.flatnonzero(buf == 10)
    solid = np.flatnonzero(~np.isin(buf, np.array([9, 10, 13, 32], np.uint8)))
    return np.unique(np.searchsorted(nl, solid)).astype(np.int64) + 1


# -- the table ------------------------------------------------------------------------------
def rejects_change(db: Any, name: str, rejects: pa.Table, target: str) -> Any:
    """The catalog change that stores ``rejects`` in table ``name``: a new table, or rows
    appended to an existing rejects table."""
    from .connection import Append

    if name == target:
        raise BindError(f"REJECTS_TABLE {name!r} is the COPY target; name another table")
    if name in getattr(db, "_views", {}):
        raise BindError(f"REJECTS_TABLE {name!r} is a view; name a table")
    rows = Table.from_arrow(rejects, db.device)
    if name not in db.tables():
        return rows
    existing = db._require(name)
    if existing.names != REJECTS_SCHEMA.names:
        msg = (f"table {name!r} exists with columns {existing.names}, not those of a rejects "
               f"table {REJECTS_SCHEMA.names}; drop it or give REJECTS_TABLE another name")
        raise BindError(msg)
    cols = []
    for cname, col in rows.items():
        to = existing.column(cname).dtype
        cols.append((cname, col if col.dtype == to else kcast.cast(col, to)))
    return Append(Table(cols, rows.num_rows, db.device))


__all__ = ["REJECTS_SCHEMA", "cast_rejecting", "read_csv_rejecting",
           "read_json_lines_rejecting", "rejects_change"]
