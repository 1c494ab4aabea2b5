"""``concat``: stacking DataFrames by rows, with pandas' outer column matching."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import types as t
from ..column import Column
from ..errors import TypeError as XTypeError
from ..errors import XpdbError
from ..table import Table, concat_tables
from ._convert import kernel
from .dataframe import DataFrame


def concat(frames: Sequence[Any], ignore_index: bool = True) -> DataFrame:
    """Stack frames by rows.

    Columns are matched by name; a column missing from some frames is null there (pandas'
    ``join="outer"``). Numeric types are promoted to a common type.

    Examples
    --------
    >>> a = DataFrame({"x": [1, 2]}, device="cpu")
    >>> b = DataFrame({"x": [3.5], "y": ["s"]}, device="cpu")
    >>> concat([a, b]).to_dict()
    {'x': [1.0, 2.0, 3.5], 'y': [None, None, 's']}
    """
    frames = [f if isinstance(f, DataFrame) else DataFrame(f) for f in frames]
    if not frames:
        raise XpdbError("concat needs at least one DataFrame")
    dev = frames[0].device
    for f in frames[1:]:
        if f.device is not dev:
            raise XpdbError(f"cannot concatenate frames on {dev} and {f.device}; use .to()")
    names: list[str] = []
    for f in frames:
        names += [n for n in f.columns if n not in names]
    types: dict[str, t.DataType] = {}
    for n in names:
        present = [f._table.column(n).dtype for f in frames if n in f._table]
        types[n] = _common_type(n, present)
    tables = []
    for f in frames:
        cols = []
        for n in names:
            if n in f._table:
                c = f._table.column(n)
                if c.dtype != types[n]:
                    c = kernel("cast", "concat").cast(c, types[n])
            else:
                c = Column.full(len(f), None, types[n], dev)
            cols.append((n, c))
        tables.append(Table(cols, len(f), dev))
    return DataFrame._from_table(concat_tables(tables))


def _common_type(name: str, types: Sequence[t.DataType]) -> t.DataType:
    out = types[0]
    for dt in types[1:]:
        if dt == out:
            continue
        if (dt.is_numeric or dt.is_bool) and (out.is_numeric or out.is_bool):
            out = t.common_numeric(out, dt)
        elif dt.kind == out.kind == "timestamp":
            order = {"s": 0, "ms": 1, "us": 2, "ns": 3}
            out = dt if order[dt.unit] > order[out.unit] else out
        else:
            raise XTypeError(f"column {name!r} has types {out} and {dt}; cast one first")
    return out
