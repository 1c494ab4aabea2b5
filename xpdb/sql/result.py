"""The result of a SQL statement."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from .. import types as t
from ..table import Table


class Result:
    """Rows (and column names) a statement returned, or the number of rows it changed.

    Parameters
    ----------
    table : Table
        The result columns (their names are internal).
    names : list of str
        The SQL column names (may repeat).
    rowcount : int, optional
        Rows changed by an INSERT/CREATE TABLE AS; -1 for queries.
    """

    def __init__(self, table: Table, names: list[str], rowcount: int = -1):
        self._table = table
        self.columns: list[str] = list(names)
        self.rowcount = rowcount
        #: a statement's report for people (COPY: rows, seconds, rows/s, rejects), or None
        self.message: str | None = None
        #: the same as numbers (COPY: rows, files, bytes, seconds, rows_per_second...)
        self.stats: dict[str, Any] | None = None

    @property
    def types(self) -> list[t.DataType]:
        """The xpdb type of each column."""
        return [c.dtype for c in self._table.columns]

    @property
    def table(self) -> Table:
        """The result as an xpdb Table (repeated names get a ``_1``, ``_2``... suffix)."""
        names, seen = [], {}
        for n in self.columns:
            k = seen.get(n, 0)
            seen[n] = k + 1
            names.append(n if k == 0 else f"{n}_{k}")
        return Table(list(zip(names, self._table.columns, strict=True)),
                     self._table.num_rows, self._table.device)

    def __len__(self) -> int:
        return self._table.num_rows

    def to_arrow(self) -> pa.Table:
        """The rows as a pyarrow Table (copied to the host)."""
        arrays = [c.to_arrow() for c in self._table.columns]
        if not arrays:
            return pa.table({})
        return pa.Table.from_arrays(arrays, names=self.columns)

    def to_pandas(self) -> Any:
        """The rows as a pandas DataFrame."""
        return self.to_arrow().to_pandas()

    def df(self) -> Any:
        """The rows as an :class:`xpdb.DataFrame` (on the database's device)."""
        from ..frame import DataFrame

        return DataFrame._from_table(self.table)

    def fetchall(self) -> list[tuple[Any, ...]]:
        """The rows as a list of tuples."""
        cols = [c.to_pylist() for c in self._table.columns]
        return list(zip(*cols, strict=True)) if cols else []

    def fetchone(self) -> tuple[Any, ...] | None:
        """The first row, or None when there is none."""
        rows = Result(self._table.slice(0, 1), self.columns).fetchall()
        return rows[0] if rows else None

    def __repr__(self) -> str:
        if not self.columns:
            return f"Result(rowcount={self.rowcount})"
        from ..frame.format import frame_repr

        return frame_repr(self.df())


__all__ = ["Result"]
