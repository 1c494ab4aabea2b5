"""Output of the ``xpdb`` command line: results as an aligned box, CSV, JSON lines or Parquet.

Only the rows a box shows leave the device; CSV, JSON and Parquet write every row.

>>> import xpdb
>>> res = xpdb.connect(device="cpu").sql("SELECT 1 AS n, 'a' AS s UNION ALL SELECT 22, NULL")
>>> print(render_box(res, unicode=False))
+--------+---------+
|   n    |    s    |
| bigint | varchar |
+--------+---------+
|      1 | a       |
|     22 | NULL    |
+--------+---------+
2 rows
"""

from __future__ import annotations

import datetime
import decimal
import io
import json
import math
import os
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

import pyarrow as pa

from .errors import XpdbError

if TYPE_CHECKING:  # importing the SQL layer would slow `xpdb --help` and `xpdb demo`
    from .sql.result import Result

#: Output formats of ``xpdb sql --format`` (the shell's ``.mode`` takes the text ones).
FORMATS = ("table", "csv", "json", "parquet")
TEXT_FORMATS = ("table", "csv", "json")

#: A box shows at most this many rows; longer results show the first and last half.
MAX_ROWS = 40
#: Cells wider than this are cut with an ellipsis in a box.
MAX_CELL = 48

# corners and joints of a box: top, middle (under the header), bottom; vertical; horizontal
_UNICODE = {"top": "┌┬┐", "mid": "├┼┤", "bot": "└┴┘", "v": "│", "h": "─", "more": "…"}
_ASCII = {"top": "+++", "mid": "+++", "bot": "+++", "v": "|", "h": "-", "more": "..."}
_ESCAPES = str.maketrans({"\n": "\\n", "\r": "\\r", "\t": "\\t"})


def is_statement(result: Result) -> bool:
    """Whether ``result`` reports a statement (rows changed) rather than query rows."""
    return result.rowcount >= 0


def status_line(result: Result, verb: str = "") -> str:
    """``OK, 3 rows affected`` for a statement (just ``OK`` for DDL that changed no rows).

    ``verb`` is the statement's first keyword (``CREATE``, ``DROP``...), if known.
    """
    n = result.rowcount
    if getattr(result, "message", None):  # COPY: rows, time, rows/s, rejects
        return f"OK, {result.message}"
    if n == 0 and verb.upper() in {"CREATE", "DROP", "ALTER"}:
        return "OK"
    return f"OK, {n} row{'' if n == 1 else 's'} affected"


def supports_unicode(stream: Any) -> bool:
    """Whether ``stream`` can encode box-drawing characters."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        "┌─┐…".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _type_name(dtype: Any) -> str:
    from .sql.connection import sql_type_name

    return sql_type_name(dtype).lower()


def _cell(value: Any) -> str:
    """One value as box text: NULL, true/false, ISO dates, escaped control characters."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return str(value)
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    return str(value).translate(_ESCAPES)


def _cut(text: str, width: int, more: str) -> str:
    return text if len(text) <= width else text[: width - len(more)] + more


def _host_rows(result: Result, start: int, stop: int) -> list[tuple[Any, ...]]:
    """Rows ``start:stop`` moved to the host (only those rows cross)."""
    cols = [c.to_arrow().to_pylist() for c in result.table.slice(start, stop).columns]
    return list(zip(*cols, strict=True)) if cols else []


def _is_numeric(arrow_type: pa.DataType) -> bool:
    return (pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type)
            or pa.types.is_decimal(arrow_type))


def render_box(result: Result, max_rows: int = MAX_ROWS, unicode: bool = True,
               max_cell: int = MAX_CELL) -> str:
    """``result`` as an aligned box: names and types on top, numbers right-aligned.

    Parameters
    ----------
    result : Result
        Query rows.
    max_rows : int
        Results longer than this show their first and last ``max_rows // 2`` rows and say so
        in the footer.
    unicode : bool
        Box-drawing characters (else ``+-|``).
    max_cell : int
        Longer cells are cut with an ellipsis.
    """
    g = _UNICODE if unicode else _ASCII
    n = len(result)
    if not result.columns:
        return f"{n} row{'' if n == 1 else 's'} (no columns)"
    cut = n > max_rows
    half = max(max_rows // 2, 1)
    head = _host_rows(result, 0, half if cut else n)
    tail = _host_rows(result, n - half, n) if cut else []
    names = [_cut(c.translate(_ESCAPES), max_cell, g["more"]) for c in result.columns]
    types = [_type_name(d) for d in result.types]
    right = [_is_numeric(c.dtype.to_arrow()) for c in result.table.columns]

    def texts(rows: list[tuple[Any, ...]]) -> list[list[str]]:
        return [[_cut(_cell(v), max_cell, g["more"]) for v in row] for row in rows]

    body_head, body_tail = texts(head), texts(tail)
    widths = [max(len(names[i]), len(types[i]),
                  *(len(r[i]) for r in body_head), *(len(r[i]) for r in body_tail))
              for i in range(len(names))]

    def rule(kind: str) -> str:
        left, mid, end = g[kind]
        return left + mid.join(g["h"] * (w + 2) for w in widths) + end

    def line(cells: Sequence[str], align: Sequence[str]) -> str:
        parts = [f" {c:{a}{w}} " for c, a, w in zip(cells, align, widths, strict=True)]
        return g["v"] + g["v"].join(parts) + g["v"]

    center = ["^"] * len(widths)
    aligns = [">" if r else "<" for r in right]
    out = [rule("top"), line(names, center), line(types, center), rule("mid")]
    out += [line(r, aligns) for r in body_head]
    if cut:
        out.append(line([g["more"]] * len(widths), center))
        out += [line(r, aligns) for r in body_tail]
    out.append(rule("bot"))
    footer = f"{n} row{'' if n == 1 else 's'}"
    if cut:
        footer += f" (showing first {half} and last {half})"
    out.append(footer)
    return "\n".join(out)


def _plain_arrow(result: Result) -> pa.Table:
    """The result on the host with unique column names (``a``, ``a_1``...) and plain strings."""
    arrays = []
    for col in result.table.columns:
        arr = col.to_arrow()
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        if pa.types.is_dictionary(arr.type):
            arr = arr.dictionary_decode()
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, names=result.table.names)


def render_csv(result: Result, header: bool = True) -> str:
    """``result`` as CSV (RFC 4180 quoting where needed; NULL is an empty unquoted field)."""
    import pyarrow.csv as pcsv

    table = _plain_arrow(result)
    table = table.rename_columns(result.columns)  # CSV keeps the SQL names, repeats and all
    buf = io.BytesIO()
    try:
        pcsv.write_csv(table, buf, pcsv.WriteOptions(include_header=header,
                                                     quoting_style="needed"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
        msg = f"cannot write this result as CSV ({e}); use --format json or parquet"
        raise XpdbError(msg) from e
    return buf.getvalue().decode("utf-8")


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN/Infinity; JSON.stringify writes null too
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    return value


def render_json(result: Result) -> str:
    """``result`` as newline-delimited JSON: one object per row (repeated names get ``_1``)."""
    names = result.table.names
    lines = []
    for row in _host_rows(result, 0, len(result)):
        record = {k: _json_value(v) for k, v in zip(names, row, strict=True)}
        lines.append(json.dumps(record, ensure_ascii=False))
    return "".join(line + "\n" for line in lines)


def render(result: Result, fmt: str, unicode: bool = True, header: bool = True) -> str:
    """``result`` as text in ``fmt`` (``table``, ``csv`` or ``json``)."""
    if fmt == "table":
        return render_box(result, unicode=unicode) + "\n"
    if fmt == "csv":
        return render_csv(result, header=header)
    if fmt == "json":
        return render_json(result)
    msg = f"unknown text format {fmt!r}; use one of {', '.join(TEXT_FORMATS)}"
    raise XpdbError(msg)


def write_parquet(result: Result, path: str | os.PathLike) -> None:
    """Write ``result`` to a Parquet file at ``path`` (atomically: all or nothing)."""
    import pyarrow.parquet as pq

    from .io._common import atomic_write, write_error

    table = _plain_arrow(result)
    with atomic_write(path) as tmp:
        try:
            pq.write_table(table, tmp)
        except (pa.ArrowException, OSError) as e:
            raise write_error(path, e, "Parquet") from e


def write_text(text: str, stream: IO[str]) -> None:
    """Write ``text`` to ``stream`` and flush (so that output interleaves with stderr)."""
    stream.write(text)
    stream.flush()


__all__ = ["FORMATS", "TEXT_FORMATS", "is_statement", "render", "render_box", "render_csv",
           "render_json", "status_line", "write_parquet"]
