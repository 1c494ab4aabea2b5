"""Tables: named columns of equal length on one device.

A :class:`Table` converts zero-copy to and from pyarrow on the CPU (fixed-width columns
without nulls), and to and from pandas through pyarrow. Row order is kept by every
conversion.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa

from . import types as t
from .column import Column, concat_columns
from .device import Device, get_device
from .errors import BindError, XpdbError


class Table:
    """Named columns of equal length on one device.

    Parameters
    ----------
    columns : mapping of str to Column, or sequence of (name, Column)
    num_rows : int, optional
        Needed only for a table without columns.
    device : Device or str, optional
        Defaults to the device of the first column (the CPU for no columns).
    """

    __slots__ = ("_columns", "_num_rows", "device")

    def __init__(
        self,
        columns: Mapping[str, Column] | Iterable[tuple[str, Column]] = (),
        num_rows: int | None = None,
        device: Device | str | None = None,
    ):
        items = list(columns.items()) if isinstance(columns, Mapping) else list(columns)
        cols: dict[str, Column] = {}
        for name, col in items:
            if not isinstance(name, str):
                raise XpdbError(f"column names must be strings, got {name!r}")
            if name in cols:
                raise XpdbError(f"duplicate column name {name!r}; rename one of them")
            cols[name] = col
        if device is None:
            dev = next(iter(cols.values())).device if cols else get_device("cpu")
        else:
            dev = get_device(device)
        lengths = {len(c) for c in cols.values()}
        if len(lengths) > 1:
            sizes = {n: len(c) for n, c in cols.items()}
            raise XpdbError(f"columns of a table must have equal lengths, got {sizes}")
        for name, col in cols.items():
            if col.device is not dev:
                raise XpdbError(f"column {name!r} is on {col.device}, the table on {dev}")
        n = lengths.pop() if lengths else (num_rows or 0)
        if num_rows is not None and num_rows != n:
            raise XpdbError(f"num_rows={num_rows} but the columns have {n} rows")
        self._columns = cols
        self._num_rows = n
        self.device = dev

    # -- structure ------------------------------------------------------------------------
    @property
    def num_rows(self) -> int:
        """Number of rows."""
        return self._num_rows

    def __len__(self) -> int:
        return self._num_rows

    @property
    def names(self) -> list[str]:
        """Column names, in order."""
        return list(self._columns)

    @property
    def columns(self) -> list[Column]:
        """The columns, in order."""
        return list(self._columns.values())

    @property
    def schema(self) -> dict[str, t.DataType]:
        """Column names and their logical types, in order."""
        return {n: c.dtype for n, c in self._columns.items()}

    def items(self) -> Iterator[tuple[str, Column]]:
        """(name, column) pairs, in order."""
        return iter(self._columns.items())

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    def column(self, name: str) -> Column:
        """The column called ``name``; a BindError names the closest match otherwise."""
        try:
            return self._columns[name]
        except KeyError:
            raise BindError(missing_column_message(name, self.names)) from None

    __getitem__ = column

    @property
    def nbytes(self) -> int:
        """Bytes held on the device by every column."""
        return sum(c.nbytes for c in self._columns.values())

    def __repr__(self) -> str:
        cols = ", ".join(f"{n}: {c.dtype}" for n, c in self._columns.items())
        return f"Table({self._num_rows} rows on {self.device}; {cols})"

    def validate(self) -> None:
        """Check every column's invariants and the table's."""
        for c in self._columns.values():
            c.validate()
            assert len(c) == self._num_rows and c.device is self.device

    # -- derivation -----------------------------------------------------------------------
    def select(self, names: Sequence[str]) -> Table:
        """The named columns, in the given order (no copy)."""
        return Table([(n, self.column(n)) for n in names], self._num_rows, self.device)

    def with_column(self, name: str, column: Column) -> Table:
        """A table with ``name`` added (at the end) or replaced (in place)."""
        cols = dict(self._columns)
        cols[name] = column
        return Table(cols, None if cols else self._num_rows, self.device)

    def drop(self, names: Sequence[str]) -> Table:
        """The table without the named columns (each must exist)."""
        for n in names:
            self.column(n)
        return Table([(n, c) for n, c in self._columns.items() if n not in set(names)],
                     self._num_rows, self.device)

    def rename(self, mapping: Mapping[str, str]) -> Table:
        """The table with columns renamed by ``mapping`` (old name -> new name)."""
        return Table([(mapping.get(n, n), c) for n, c in self._columns.items()],
                     self._num_rows, self.device)

    def take(self, indices: Any, nullable: bool = False) -> Table:
        """Rows at ``indices``; see :meth:`Column.take`."""
        n = int(indices.shape[0])
        return Table([(name, c.take(indices, nullable)) for name, c in self._columns.items()],
                     n, self.device)

    def filter(self, mask: Any) -> Table:
        """Rows where the bool array ``mask`` is True."""
        if not self._columns:
            return Table((), int(self.device.scalar(mask.sum())), self.device)
        positions = self.device.xp.flatnonzero(mask)
        return Table([(n, c.filter_positions(positions)) for n, c in self._columns.items()],
                     int(positions.shape[0]), self.device)

    def slice(self, start: int, stop: int | None = None) -> Table:
        """Rows ``start:stop`` as views (Python slice semantics, clamped to the table)."""
        start, stop, _ = slice(start, stop).indices(self._num_rows)
        stop = max(stop, start)
        return Table([(n, c.slice(start, stop)) for n, c in self._columns.items()],
                     stop - start, self.device)

    def to(self, device: Any) -> Table:
        """This table on ``device``; host<->device bytes are counted by the device."""
        dev = get_device(device)
        if dev is self.device:
            return self
        return Table([(n, c.to(dev)) for n, c in self._columns.items()], self._num_rows, dev)

    # -- conversion -----------------------------------------------------------------------
    @classmethod
    def from_arrow(cls, table: pa.Table | pa.RecordBatch, device: Any = "cpu") -> Table:
        """Build a table from pyarrow (each column through :meth:`Column.from_arrow`)."""
        dev = get_device(device)
        if isinstance(table, pa.RecordBatch):
            table = pa.Table.from_batches([table])
        names = table.column_names
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise XpdbError(f"duplicate column names {dup}; rename them before loading")
        cols = [(n, Column.from_arrow(table.column(i), dev)) for i, n in enumerate(names)]
        return cls(cols, table.num_rows, dev)

    def to_arrow(self) -> pa.Table:
        """A pyarrow Table (device data is copied to the host)."""
        arrays = [c.to_arrow() for c in self._columns.values()]
        if not arrays:
            return pa.table({}).slice(0, 0) if self._num_rows == 0 else \
                pa.Table.from_batches([], pa.schema([]))
        return pa.Table.from_arrays(arrays, names=self.names)

    @classmethod
    def from_pandas(cls, df: Any, device: Any = "cpu") -> Table:
        """Build a table from a pandas DataFrame (the index is dropped unless named)."""
        try:
            table = pa.Table.from_pandas(df, preserve_index=None)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
            raise XpdbError(f"cannot convert the pandas DataFrame: {e}") from e
        meta_index = [c for c in (table.schema.pandas_metadata or {}).get("index_columns", [])
                      if isinstance(c, str)]
        if meta_index:
            # A RangeIndex is kept as metadata only. A named index becomes leading columns
            # (as reset_index() would place them); an unnamed one is dropped.
            named = [n for n in meta_index if not n.startswith("__index_level_")]
            rest = [n for n in table.column_names
                    if n not in meta_index and not n.startswith("__index_level_")]
            table = table.select(named + rest)
        return cls.from_arrow(table.replace_schema_metadata(None), device)

    def to_pandas(self, nullable: bool = False) -> Any:
        """A pandas DataFrame.

        Parameters
        ----------
        nullable : bool, default False
            False gives pyarrow's default conversion (integers with nulls become float64
            with NaN, as pandas' readers do). True gives pandas' nullable dtypes (Int64,
            boolean, Float64), which keep integers exact next to nulls.
        """
        import pandas as pd

        at = self.to_arrow()
        if nullable:
            return at.to_pandas(types_mapper=_nullable_mapper(pd))
        return at.to_pandas()

    @classmethod
    def from_pydict(cls, data: Mapping[str, Any], device: Any = "cpu") -> Table:
        """Build a table from a dict of lists or arrays."""
        return cls.from_arrow(pa.table(dict(data)), device)

    def to_pydict(self) -> dict[str, list[Any]]:
        """The columns as Python lists (None for nulls), copied to the host."""
        return {n: c.to_pylist() for n, c in self._columns.items()}


def concat_tables(tables: Sequence[Table]) -> Table:
    """Stack tables with the same column names and types, in order."""
    if not tables:
        raise XpdbError("concat_tables needs at least one table")
    names = tables[0].names
    for tb in tables[1:]:
        if tb.names != names:
            raise XpdbError(f"cannot concatenate tables with columns {names} and {tb.names}")
    if len(tables) == 1:
        return tables[0]
    if not names:
        return Table((), sum(tb.num_rows for tb in tables), tables[0].device)
    return Table([(n, concat_columns([tb.column(n) for tb in tables])) for n in names],
                 None, tables[0].device)


def missing_column_message(name: str, candidates: Sequence[str], what: str = "column") -> str:
    """'column 'amout' not found; did you mean 'amount'?' with the closest candidate."""
    import difflib

    close = difflib.get_close_matches(str(name), list(candidates), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else f"; available: {list(candidates)}"
    return f"{what} {name!r} not found{hint}"


def _nullable_mapper(pd: Any) -> Any:
    mapping = {
        pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(),
        pa.int64(): pd.Int64Dtype(), pa.uint8(): pd.UInt8Dtype(), pa.uint16(): pd.UInt16Dtype(),
        pa.uint32(): pd.UInt32Dtype(), pa.uint64(): pd.UInt64Dtype(),
        pa.bool_(): pd.BooleanDtype(), pa.float32(): pd.Float32Dtype(),
        pa.float64(): pd.Float64Dtype(), pa.string(): pd.StringDtype(),
    }
    return mapping.get
