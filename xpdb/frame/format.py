"""Text and HTML display of DataFrames and Series.

Only the displayed rows cross to the host: the first and last rows of a long frame are
sliced on the device and converted, so printing a frame of a billion rows on a GPU moves a
few kilobytes. ``xpdb.config.get("display_rows")`` rows are shown at most (half from the
top, half from the bottom, ``...`` between).

Missing values print as ``<null>``; a float NaN value (as arithmetic makes) prints as
``NaN``.
"""

from __future__ import annotations

import html
import math
import unicodedata
from typing import Any

import pyarrow as pa

from .. import config
from ..table import Table

NULL = "<null>"
_MAX_CELL = 40


def _visible_rows(table: Table) -> tuple[pa.Table, pa.Table | None]:
    """The rows to show: all of them, or (head, tail) of a long table."""
    n = table.num_rows
    k = max(int(config.get("display_rows")), 2)
    if n <= k:
        return table.to_arrow(), None
    top = (k + 1) // 2
    return table.slice(0, top).to_arrow(), table.slice(n - k // 2, n).to_arrow()


def format_value(value: Any) -> str:
    """One cell as text."""
    if value is None:
        return NULL
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if value.is_integer() and abs(value) < 1e16:
            return f"{value:.1f}"
        return f"{value:.6g}"
    if isinstance(value, str):
        text = value.replace("\n", "\\n").replace("\t", "\\t")
        return text if len(text) <= _MAX_CELL else text[: _MAX_CELL - 1] + "…"
    return str(value)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill


def _cells(part: pa.Table) -> list[list[str]]:
    return [[format_value(v) for v in col.to_pylist()] for col in part.columns]


def _layout(table: Table) -> tuple[list[str], list[str], list[list[str]], list[str], bool]:
    """Row labels, header parts and per-column cell texts (with a '...' row if cut)."""
    head, tail = _visible_rows(table)
    n = table.num_rows
    cols = _cells(head)
    labels = [str(i) for i in range(head.num_rows)]
    cut = tail is not None
    if tail is not None:
        tcols = _cells(tail)
        cols = [[*c, "...", *tc] for c, tc in zip(cols, tcols, strict=True)]
        labels += ["..."] + [str(i) for i in range(n - tail.num_rows, n)]
    names = table.names
    types = [str(c.dtype) for c in table.columns]
    return labels, names, cols, types, cut


def frame_repr(df: Any) -> str:
    """An aligned text table with a name line, a type line and a size footer."""
    table: Table = df._table
    labels, names, cols, types, _ = _layout(table)
    right = [c.dtype.is_numeric or c.dtype.is_bool for c in table.columns]
    lw = max([_width(x) for x in labels] + [0])
    widths = [max([_width(names[j]), _width(types[j])] + [_width(x) for x in cols[j]])
              for j in range(len(names))]
    lines = []
    lines.append("  ".join([" " * lw] + [_pad(nm, w, r)
                                         for nm, w, r in zip(names, widths, right, strict=True)]))
    lines.append("  ".join([" " * lw] + [_pad(ty, w, r)
                                         for ty, w, r in zip(types, widths, right, strict=True)]))
    for i, lab in enumerate(labels):
        cells = [_pad(cols[j][i], widths[j], right[j]) for j in range(len(names))]
        lines.append("  ".join([_pad(lab, lw, True), *cells]))
    lines.append(f"[{table.num_rows} rows x {len(names)} columns, {table.device}]")
    return "\n".join(line.rstrip() for line in lines)


def series_repr(s: Any) -> str:
    """Row numbers and values, then name, type, length and device."""
    table = Table([("v", s._col)], len(s._col), s._col.device)
    labels, _, cols, _, _ = _layout(table)
    right = s.dtype.is_numeric or s.dtype.is_bool
    lw = max([_width(x) for x in labels] + [0])
    vw = max([_width(x) for x in cols[0]] + [0])
    lines = [f"{_pad(lab, lw, True)}  {_pad(v, vw, right)}".rstrip()
             for lab, v in zip(labels, cols[0], strict=True)]
    lines.append(f"Name: {s.name}, dtype: {s.dtype}, length: {len(s)}, device: {s.device}")
    return "\n".join(lines)


def frame_html(df: Any) -> str:
    """A small HTML table (values escaped) for notebooks."""
    table: Table = df._table
    labels, names, cols, types, _ = _layout(table)
    esc = html.escape
    out = ['<div class="xpdb-frame"><table border="1" class="dataframe">', "<thead>"]
    out.append("<tr><th></th>" + "".join(f"<th>{esc(n)}</th>" for n in names) + "</tr>")
    out.append("<tr><th></th>" + "".join(f"<th><small>{esc(ty)}</small></th>" for ty in types)
               + "</tr>")
    out.append("</thead><tbody>")
    for i, lab in enumerate(labels):
        cells = "".join(f"<td>{esc(cols[j][i])}</td>" for j in range(len(names)))
        out.append(f"<tr><th>{esc(lab)}</th>{cells}</tr>")
    out.append("</tbody></table>")
    out.append(f"<p>{table.num_rows} rows x {len(names)} columns, {esc(str(table.device))}</p>")
    out.append("</div>")
    return "\n".join(out)
