"""Assertions for tests: compare xpdb results with pandas, pyarrow or DuckDB results.

Everything is converted to a pyarrow table on the host first, so the same assertion runs on
CPU and GPU results.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa


def to_arrow(obj: Any) -> pa.Table:
    """Convert an xpdb Table/ShardedTable/DataFrame/Series, a pandas object, a DuckDB
    relation, a dict or a pyarrow table to a pyarrow table."""
    from .shards import ShardedTable
    from .table import Table

    if isinstance(obj, pa.Table):
        return obj
    if isinstance(obj, pa.RecordBatch):
        return pa.Table.from_batches([obj])
    if isinstance(obj, ShardedTable):
        return obj.concat().to_arrow()
    if isinstance(obj, Table):
        return obj.to_arrow()
    if hasattr(obj, "to_arrow") and not hasattr(obj, "to_frame"):  # xpdb DataFrame
        return to_arrow(obj.to_arrow())
    if hasattr(obj, "to_frame") and hasattr(obj, "to_arrow"):  # xpdb Series
        return to_arrow(obj.to_frame())
    if hasattr(obj, "arrow") and callable(obj.arrow):  # DuckDB relation
        res = obj.arrow()
        return res.read_all() if hasattr(res, "read_all") else res
    if isinstance(obj, dict):
        return pa.table(obj)
    import pandas as pd

    if isinstance(obj, pd.Series):
        obj = obj.to_frame()
    if isinstance(obj, pd.DataFrame):
        return pa.Table.from_pandas(obj, preserve_index=False)
    raise TypeError(f"cannot compare objects of type {type(obj).__name__}")


def _sort_rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    def key(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple((v is None, _float_nan(v), str(type(v)), v if v is not None and not _float_nan(v) else 0) for v in row)

    return sorted(rows, key=key)


def _float_nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _close(a: Any, b: Any, rtol: float, atol: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float | int) and isinstance(b, float | int) and not (
        isinstance(a, bool) or isinstance(b, bool)
    ):
        if _float_nan(a) or _float_nan(b):
            return _float_nan(a) and _float_nan(b)
        if math.isinf(a) or math.isinf(b):
            return a == b
        return abs(a - b) <= atol + rtol * abs(b)
    if hasattr(a, "as_tuple") or hasattr(b, "as_tuple"):  # Decimal
        return float(a) == float(b) if rtol == 0 else abs(float(a) - float(b)) <= atol + rtol * abs(float(b))
    return a == b


def assert_tables_equal(
    actual: Any,
    expected: Any,
    *,
    check_row_order: bool = True,
    check_names: bool = True,
    check_types: bool = False,
    rtol: float = 1e-9,
    atol: float = 0.0,
) -> None:
    """Assert two tabular results hold the same values.

    Parameters
    ----------
    actual, expected
        Anything :func:`to_arrow` accepts.
    check_row_order : bool
        When False, rows are compared as sorted multisets.
    check_names : bool
        Compare column names.
    check_types : bool
        Compare arrow types exactly (otherwise values are compared as Python objects, so
        int 1 equals float 1.0).
    rtol, atol : float
        Tolerances for floats.
    """
    a, e = to_arrow(actual), to_arrow(expected)
    if check_names:
        assert a.column_names == e.column_names, f"columns {a.column_names} != {e.column_names}"
    else:
        assert a.num_columns == e.num_columns, f"{a.num_columns} columns != {e.num_columns}"
    assert a.num_rows == e.num_rows, f"{a.num_rows} rows != {e.num_rows} expected"
    if check_types:
        assert a.schema.types == e.schema.types, f"types {a.schema.types} != {e.schema.types}"
    arows = list(zip(*[c.to_pylist() for c in a.columns], strict=True)) if a.num_columns else []
    erows = list(zip(*[c.to_pylist() for c in e.columns], strict=True)) if e.num_columns else []
    if not check_row_order:
        arows, erows = _sort_rows(arows), _sort_rows(erows)
    for i, (ra, re_) in enumerate(zip(arows, erows, strict=True)):
        for j, (va, ve) in enumerate(zip(ra, re_, strict=True)):
            if not _close(va, ve, rtol, atol):
                col = a.column_names[j]
                raise AssertionError(
                    f"row {i}, column {col!r}: {va!r} != {ve!r} expected\n"
                    f"actual row:   {ra}\nexpected row: {re_}"
                )


def assert_arrays_equal(actual: Any, expected: Any, rtol: float = 1e-9) -> None:
    """Assert two 1-d arrays (NumPy or CuPy) are equal, NaN equal to NaN."""
    from .device import device_of

    a = device_of(actual).to_host(actual) if not isinstance(actual, np.ndarray) else actual
    e = device_of(expected).to_host(expected) if not isinstance(expected, np.ndarray) else expected
    if a.dtype.kind == "f" or e.dtype.kind == "f":
        np.testing.assert_allclose(a, e, rtol=rtol, equal_nan=True)
    else:
        np.testing.assert_array_equal(a, e)
