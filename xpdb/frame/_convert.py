"""Turning constructor inputs and scalars into Columns and Tables.

The DataFrame layer follows pandas (NumPy-backed) about missing values: a float NaN in the
input is missing, so host inputs (lists, NumPy, pandas) turn NaN into null here. Columns
that come from Arrow or an xpdb Table keep their NaN values; every pandas-style operation
(``isna``, ``dropna``, ``fillna``, reductions, group-by, sorting, ``unique``...) treats a
NaN as missing through :func:`nan_as_null`.
"""

from __future__ import annotations

import datetime as _dt
import decimal as _decimal
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from .. import types as t
from ..column import Column
from ..device import Device, device_of, get_device
from ..errors import TypeError as XTypeError
from ..errors import XpdbError
from ..table import Table

_SCALARS = (bool, int, float, str, bytes, _dt.date, _dt.datetime, _dt.timedelta, _dt.time,
            _decimal.Decimal, np.generic)


def is_scalar(value: Any) -> bool:
    """True for Python/NumPy scalars and None (values broadcast to every row)."""
    if value is None or isinstance(value, _SCALARS):
        return True
    try:
        import pandas as pd

        return value is pd.NaT or value is pd.NA or isinstance(value, pd.Timestamp)
    except ImportError:  # pragma: no cover - pandas is a dependency
        return False


def py_scalar(value: Any) -> Any:
    """A NumPy/pandas scalar as the matching Python scalar (NaN and NA become None)."""
    if isinstance(value, np.generic):
        if isinstance(value, np.datetime64 | np.timedelta64):
            if np.isnat(value):
                return None
            return pa.scalar(value).as_py()
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        import pandas as pd

        if value is pd.NaT or value is pd.NA:
            return None
        if isinstance(value, pd.Timestamp):
            return value.to_pydatetime()
    except ImportError:  # pragma: no cover
        pass
    return value


def is_array_like(value: Any) -> bool:
    """True for inputs that hold one value per row."""
    return not is_scalar(value) and (
        hasattr(value, "__len__") or hasattr(value, "__array__") or hasattr(value, "__dlpack__")
    )


def _is_device_array(value: Any) -> bool:
    return type(value).__module__.startswith("cupy")


def to_column(value: Any, device: Device, length: int | None = None, dtype: Any = None) -> Column:
    """Build a Column on ``device`` from array-like ``value`` or a scalar.

    Parameters
    ----------
    value
        A Column, an xpdb Series, a pandas Series/Index/array, a pyarrow array, a NumPy or
        CuPy array, a list/tuple/range, or a scalar (broadcast to ``length`` rows).
    device : Device
    length : int, optional
        Rows of the table the column joins; required for scalars, checked for arrays.
    dtype : type spec, optional
        Cast to this logical type.
    """
    col = _to_column(value, device, length, dtype)
    if length is not None and len(col) != length:
        msg = (
            f"a column of {len(col)} values does not fit a frame of {length} rows; "
            "pass one value per row or a scalar"
        )
        raise XpdbError(msg)
    if dtype is not None and col.dtype != t.parse(dtype):
        from ..kernels.cast import cast

        col = cast(col, t.parse(dtype))
    return col


def _to_column(value: Any, device: Device, length: int | None, dtype: Any) -> Column:
    from .series import Series

    if isinstance(value, Series):
        return value._col.to(device)
    if isinstance(value, Column):
        return value.to(device)
    if is_scalar(value):
        if length is None:
            msg = f"cannot build a column from the scalar {value!r} without a length"
            raise XpdbError(msg)
        return scalar_column(value, length, device, dtype)
    if isinstance(value, pa.ChunkedArray | pa.Array):
        return column_from_arrow(value, device)
    mod = type(value).__module__
    if mod.startswith("pandas"):
        try:
            arr = pa.Array.from_pandas(value)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
            raise XTypeError(f"cannot convert the pandas values to a column: {e}") from e
        return column_from_arrow(arr, device)
    if isinstance(value, np.ndarray) or _is_device_array(value):
        return column_from_array(value, device)
    if isinstance(value, Mapping):
        raise XTypeError(f"cannot build a column from a mapping: {value!r}")
    if isinstance(value, Sequence | range) or hasattr(value, "__iter__"):
        values = list(value)
        try:
            arr = pa.array([py_scalar(v) for v in values],
                           type=None if dtype is None else t.parse(dtype).to_arrow(),
                           from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
            msg = f"cannot build a column from the values {values[:5]!r}...: {e}"
            raise XTypeError(msg) from e
        return column_from_arrow(arr, device)
    raise XTypeError(f"cannot build a column from a {type(value).__name__}: {value!r}")


def column_from_arrow(arr: pa.Array | pa.ChunkedArray, device: Device) -> Column:
    """A Column from pyarrow; dictionaries of non-string values are decoded first."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if pa.types.is_dictionary(arr.type) and not (
        pa.types.is_string(arr.type.value_type) or pa.types.is_large_string(arr.type.value_type)
    ):
        arr = arr.dictionary_decode()
    return Column.from_arrow(arr, device)


def column_from_array(values: Any, device: Device) -> Column:
    """A Column from a NumPy or CuPy array; float NaN becomes null, as in pandas."""
    src = device_of(values)
    if values.ndim != 1:
        raise XTypeError(f"a column takes 1-d values, got shape {tuple(values.shape)}")
    kind = values.dtype.kind
    if kind in "OUSMm":
        host = src.to_host(values)
        return column_from_arrow(pa.array(host, from_pandas=True), device)
    if kind not in "biuf":
        raise XTypeError(f"arrays of dtype {values.dtype} are not supported")
    if src is device:
        data = values.copy()  # the frame must not see later writes to the caller's array
    else:
        data = device.asarray(src.to_host(values)) if device.is_gpu or src.is_gpu else values
        if data is values:
            data = values.copy()
    if data.dtype == np.float16:
        data = data.astype(np.float32)
    col = Column(t.from_numpy(data.dtype), data, None, None, device)
    return nan_as_null(col)


def scalar_column(value: Any, length: int, device: Device, dtype: Any = None) -> Column:
    """``length`` copies of a scalar (None gives an all-null column)."""
    value = py_scalar(value)
    if dtype is not None:
        return Column.full(length, value, t.parse(dtype), device)
    if value is None:
        return Column.full(length, None, t.float64, device)
    return Column.full(length, value, infer_type(value), device)


def infer_type(value: Any) -> t.DataType:
    """The logical type of a Python scalar."""
    try:
        return t.from_arrow(pa.scalar(value).type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, XTypeError) as e:
        raise XTypeError(f"cannot store the value {value!r} in a column: {e}") from e


def nan_as_null(col: Column) -> Column:
    """The column with float NaN values turned into nulls (other types unchanged)."""
    if not col.dtype.is_float or len(col) == 0:
        return col
    xp = col.xp
    nan = xp.isnan(col.data)
    if not bool(col.device.scalar(nan.any())):
        return col
    valid = ~nan if col.validity is None else col.validity & ~nan
    return Column(col.dtype, xp.where(nan, 0, col.data), valid, None, col.device)


def missing_mask(col: Column) -> Any:
    """Bool array, True where a row is missing in pandas' sense (null or float NaN)."""
    miss = col.is_null()
    if col.dtype.is_float:
        miss = miss | col.xp.isnan(col.data)
    return miss


def to_table(data: Any, device: Any = None, columns: Sequence[str] | None = None) -> Table:
    """Build a Table from a DataFrame constructor's input.

    ``device=None`` keeps data that already lives on a device (xpdb objects, CuPy arrays)
    where it is and puts host data on the ``device`` setting's device. ``columns`` names
    the columns of a 2-d array (default "0", "1"...).
    """
    from .dataframe import DataFrame
    from .series import Series

    if isinstance(data, DataFrame):
        return data._table if device is None else data._table.to(device)
    if isinstance(data, Table):
        return data if device is None else data.to(device)
    if isinstance(data, pa.Table | pa.RecordBatch):
        return Table.from_arrow(data, get_device(device))
    if isinstance(data, Series):
        name = data.name if data.name is not None else "0"
        return to_table({str(name): data}, device)
    if data is None:
        return Table((), 0, get_device(device))
    mod = type(data).__module__
    if mod.startswith("pandas") and hasattr(data, "columns"):
        return _table_from_pandas(data, get_device(device))
    if isinstance(data, Mapping):
        return _table_from_mapping(data, device)
    if (isinstance(data, np.ndarray) or _is_device_array(data)) and data.ndim == 2:
        names = [str(c) for c in columns] if columns is not None else \
            [str(j) for j in range(data.shape[1])]
        if len(names) != data.shape[1]:
            raise XpdbError(f"{len(names)} column names for an array of {data.shape[1]} columns")
        return _table_from_mapping({n: data[:, j] for j, n in enumerate(names)}, device)
    if isinstance(data, list | tuple) and all(isinstance(r, Mapping) for r in data):
        names = list(dict.fromkeys(k for r in data for k in r))
        if not data:
            return Table((), 0, get_device(device))
        return _table_from_mapping({k: [r.get(k) for r in data] for k in names}, device)
    msg = (
        f"cannot build a DataFrame from a {type(data).__name__}; pass a dict of columns, a "
        "list of row dicts, a 2-d array, a pandas DataFrame, a pyarrow Table or an xpdb "
        "Table/DataFrame"
    )
    raise XTypeError(msg)


def _table_from_pandas(df: Any, device: Device) -> Table:
    if not all(isinstance(c, str) for c in df.columns):
        df = df.rename(columns=str)
    return Table.from_pandas(df, device)


def _table_from_mapping(data: Mapping[str, Any], device: Any) -> Table:

    if device is None:
        dev = _device_of_inputs(data.values())
    else:
        dev = get_device(device)
    length = None
    for v in data.values():
        if not is_scalar(v):
            n = len(v)
            if length is None:
                length = n
            elif n != length:
                sizes = {str(k): len(x) for k, x in data.items() if not is_scalar(x)}
                raise XpdbError(f"all columns must have the same length, got {sizes}")
    if length is None and data:
        msg = (
            "every value of the dict is a scalar, so the number of rows is unknown; wrap "
            "them in lists (one value per row)"
        )
        raise XpdbError(msg)
    cols = [(str(k), to_column(v, dev, length)) for k, v in data.items()]
    return Table(cols, length or 0, dev)


def _device_of_inputs(values: Any) -> Device:
    from .series import Series

    for v in values:
        if isinstance(v, Series):
            return v._col.device
        if isinstance(v, Column):
            return v.device
        if _is_device_array(v):
            return device_of(v)
    return get_device(None)


def kernel(name: str, what: str) -> Any:
    """The kernel module ``xpdb.kernels.<name>``; NotSupportedError naming ``what`` if absent."""
    import importlib

    from ..errors import NotSupportedError

    try:
        return importlib.import_module(f"xpdb.kernels.{name}")
    except ModuleNotFoundError as e:
        if e.name != f"xpdb.kernels.{name}":
            raise
        msg = f"{what} needs the kernel module xpdb.kernels.{name}, which this build lacks"
        raise NotSupportedError(msg) from e


def column_to_numpy(col: Column, name: str) -> np.ndarray:
    """The values of ``col`` as a NumPy array on the host.

    Floats show nulls as NaN; integers and bools with nulls raise; strings and decimals
    give object arrays (None for null); dates and timestamps give datetime64 (NaT for null).
    """
    dt = col.dtype
    if (dt.is_numeric and not dt.is_decimal) or dt.is_bool:
        data = col.device.to_host(col.data)
        if col.validity is None:
            return data
        valid = col.device.to_host(col.validity)
        if valid.all():
            return data
        if dt.is_float:
            return np.where(valid, data, np.nan).astype(data.dtype, copy=False)
        msg = (
            f"column {name!r} of type {dt} holds nulls, which a NumPy {dt.physical} array "
            "cannot; fill them (fillna) or cast to float64 (astype) first"
        )
        raise XTypeError(msg)
    return col.to_arrow().to_numpy(zero_copy_only=False)


def bool_mask(key: Any, device: Device, length: int) -> Any:
    """A plain bool array from a boolean Series/array/list; null counts as False."""
    from .series import Series

    if isinstance(key, Series):
        col = key._col
        if len(col) != length:
            msg = f"a boolean mask of {len(col)} rows cannot select from {length} rows"
            raise XpdbError(msg)
        if col.device is not device:
            raise XpdbError(f"the mask lives on {col.device}, the data on {device}")
    else:
        col = to_column(key, device, length)
    if not col.dtype.is_bool:
        msg = f"a row mask must be boolean, got type {col.dtype}; compare the column first"
        raise XTypeError(msg)
    return col.data if col.validity is None else col.data & col.validity


def device_values(col: Column, name: str) -> Any:
    """The values array for DLPack/CuPy export; nulls become NaN or raise."""
    dt = col.dtype
    if not (dt.is_numeric or dt.is_bool) or dt.is_decimal:
        raise XTypeError(f"column {name!r} of type {dt} has no plain array form")
    if col.validity is None or col.null_count == 0:
        return col.data
    if dt.is_float:
        return col.xp.where(col.validity, col.data, np.nan)
    msg = (
        f"column {name!r} of type {dt} holds nulls, which integers cannot; fill them "
        "(fillna) or cast to float64 first"
    )
    raise XTypeError(msg)


def positions(indices: Any, device: Device, length: int) -> Any:
    """Row positions (a list or integer array, negative from the end) as a checked int64
    array on ``device``."""
    idx = device.asarray(np.asarray(indices, dtype=np.int64)) if not _is_device_array(indices) \
        else device.asarray(indices).astype(np.int64, copy=False)
    bad = (idx < -length) | (idx >= length)
    if int(device.scalar(bad.sum())):
        raise IndexError(f"positions out of bounds for {length} rows")
    return device.xp.where(idx < 0, idx + length, idx)


def is_position_list(key: Any) -> bool:
    """True for a non-empty list or integer array of row positions."""
    if isinstance(key, list | tuple):
        return bool(key) and all(isinstance(k, int | np.integer) and not isinstance(k, bool)
                                 for k in key)
    kind = getattr(getattr(key, "dtype", None), "kind", None)
    return kind in ("i", "u") and getattr(key, "ndim", 0) == 1
