"""Parquet reading with column projection and row-group pruning, and writing.

Filters use pyarrow's DNF form: a list of ``(column, op, value)`` tuples is their AND; a list
of such lists is the OR of those ANDs. ``op`` is one of ``==`` (or ``=``), ``!=``, ``<``,
``<=``, ``>``, ``>=``, ``in``, ``not in``. A null never satisfies a predicate (SQL logic;
so ``("x", "!=", 1)`` and ``("x", "not in", [1])`` drop null rows too).

Reading a filtered file happens in two steps:

1. **Row-group pruning** (here, from the footer): a row group is skipped when its
   statistics (min, max, null count) prove no row can match, e.g. ``x > 5`` with
   ``max(x) <= 5``, or every value null. Only the surviving row groups' pages are read.
2. **Row filtering**: the rows of the surviving groups are filtered exactly with
   pyarrow.compute.

Pass a dict as ``stats=`` to learn what a read did: ``files``, ``row_groups`` (in all
files), ``row_groups_read``, ``rows_read`` (rows in the row groups read) and ``rows`` (rows
returned).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import IOError as XIOError
from ..errors import XpdbError
from ..shards import ShardedTable
from ..table import Table
from . import _common as c

_PANDAS_INDEX = re.compile(r"__index_level_\d+__")
_OPS = ("==", "=", "!=", "<", "<=", ">", ">=", "in", "not in")
Predicate = tuple[str, str, Any]


def read_parquet_table(
    path: c.PathArg,
    *,
    columns: Sequence[str] | None = None,
    filters: Sequence[Any] | None = None,
    device: Any = None,
    stats: dict[str, int] | None = None,
) -> Table:
    """Read Parquet files into a :class:`~xpdb.Table` on ``device``.

    Parameters
    ----------
    path : str, Path, glob, directory or list of them
        Files are read in the given order (a glob's or directory's sorted by path) and
        stacked; column types that differ between files are promoted (int32 with int64
        gives int64).
    columns : list of str, optional
        Read only these columns (only their pages are read), in this order.
    filters : list of tuples, or list of lists of tuples, optional
        Keep the rows that match (see the module docstring); row groups that cannot match
        are never read.
    device : str or Device, optional
        Where the table goes; None means the configured default device.
    stats : dict, optional
        Filled with ``files``, ``row_groups``, ``row_groups_read``, ``rows_read``, ``rows``.

    Returns
    -------
    Table

    Raises
    ------
    xpdb.errors.IOError
        A missing, empty or corrupt file (named), an unknown column, a malformed filter.

    Examples
    --------
    >>> import os, tempfile, pyarrow as pa
    >>> p = os.path.join(tempfile.mkdtemp(), "x.parquet")
    >>> write_parquet(pa.table({"x": list(range(10))}), p, row_group_size=5)
    >>> st = {}
    >>> read_parquet_table(p, filters=[("x", ">=", 8)], device="cpu", stats=st).to_pydict()
    {'x': [8, 9]}
    >>> st["row_groups_read"], st["row_groups"]
    (1, 2)
    """
    pieces, paths = _read(path, columns, filters, stats, per_row_group=False)
    table = c.concat_arrow(pieces, paths)
    if stats is not None:
        stats["rows"] = table.num_rows
    return c.to_device(table, device, paths[0] if len(paths) == 1 else None)


def read_parquet_shards(
    path: c.PathArg,
    *,
    columns: Sequence[str] | None = None,
    filters: Sequence[Any] | None = None,
    device: Any = None,
    stats: dict[str, int] | None = None,
    per: str = "file",
) -> ShardedTable:
    """Read Parquet files into a :class:`~xpdb.ShardedTable`: one shard per file
    (``per="file"``) or per row group (``per="row_group"``).

    Takes the arguments of :func:`read_parquet_table`. Files or row groups with no
    matching row give no shard; when nothing matches, the result is one empty shard.
    Every shard has the same (promoted) schema.
    """
    if per not in ("file", "row_group"):
        raise XIOError(f"per must be 'file' or 'row_group', got {per!r}")
    pieces, paths = _read(path, columns, filters, stats, per_row_group=per == "row_group")
    pieces = c.unify_arrow(pieces, paths)
    if stats is not None:
        stats["rows"] = sum(p.num_rows for p in pieces)
    keep = [p for p in pieces if p.num_rows] or pieces[:1]
    return ShardedTable([c.to_device(p, device) for p in keep])


def read_parquet(path: c.PathArg, **kwargs: Any) -> Any:
    """Read Parquet files into an xpdb DataFrame; takes the arguments of
    :func:`read_parquet_table`.

    Returns
    -------
    xpdb.DataFrame
    """
    return c.to_frame(read_parquet_table(path, **kwargs))


def _read(path: c.PathArg, columns: Sequence[str] | None, filters: Any,
          stats: dict[str, int] | None, per_row_group: bool) -> tuple[list[pa.Table], list[str]]:
    """Read every file's surviving row groups; one piece per file or per row group."""
    cols = c.resolve_columns(columns)
    dnf = normalize_filters(filters)
    paths = c.expand_paths(path, "Parquet file")
    counts = {"files": len(paths), "row_groups": 0, "row_groups_read": 0, "rows_read": 0}
    pieces: list[pa.Table] = []
    piece_paths: list[str] = []
    for p in paths:
        for piece in _read_file(p, cols, dnf, counts, per_row_group):
            pieces.append(piece)
            piece_paths.append(p)
    if stats is not None:
        stats.update(counts)
    return pieces, piece_paths


def _read_file(path: str, columns: list[str] | None, dnf: list[list[Predicate]],
               counts: dict[str, int], per_row_group: bool) -> list[pa.Table]:
    c.check_not_empty(path, "Parquet file")
    try:
        with pq.ParquetFile(path) as pf:
            schema = pf.schema_arrow
            names = schema.names
            if columns is not None:
                c.check_columns(columns, names, path)
            for conj in dnf:
                c.check_columns([col for col, _, _ in conj], names, path)
            # pandas stores a non-default index as __index_level_N__ columns: not data
            wanted = list(columns) if columns is not None else \
                [n for n in names if not _PANDAS_INDEX.fullmatch(n)]
            needed = wanted + sorted({col for conj in dnf for col, _, _ in conj} - set(wanted))
            meta = pf.metadata
            groups = [i for i in range(meta.num_row_groups)
                      if _row_group_may_match(meta.row_group(i), dnf, schema)]
            counts["row_groups"] += meta.num_row_groups
            counts["row_groups_read"] += len(groups)
            counts["rows_read"] += sum(meta.row_group(i).num_rows for i in groups)
            batches = [[i] for i in groups] if per_row_group else [groups]
            if not groups:
                batches = [[]]
            out = []
            for batch in batches:
                if batch:
                    piece = pf.read_row_groups(batch, columns=needed, use_threads=True)
                else:
                    piece = schema.empty_table().select(needed)
                out.append(_filter_rows(piece, dnf, path).select(wanted))
            return out
    except XpdbError:
        raise
    except (pa.ArrowException, OSError) as e:
        msg = f"cannot read Parquet file {path!r}: it is corrupt or not a Parquet file ({e})"
        raise XIOError(msg, path=path) from e


# -- filters ---------------------------------------------------------------------------------
def normalize_filters(filters: Any) -> list[list[Predicate]]:
    """Validate a DNF filter and return it as a list of AND-lists (empty: no filter).

    Examples
    --------
    >>> normalize_filters([("x", ">", 5)])
    [[('x', '>', 5)]]
    >>> normalize_filters([[("x", "=", 1)], [("y", "in", {2})]])
    [[('x', '==', 1)], [('y', 'in', [2])]]
    """
    if filters is None:
        return []
    if isinstance(filters, tuple) or not isinstance(filters, Sequence) or not filters:
        msg = (
            f"filters must be a non-empty list of (column, op, value) tuples or a list of "
            f"such lists, got {filters!r}"
        )
        raise XIOError(msg)
    groups = filters if all(isinstance(f, list) for f in filters) else [filters]
    return [[_predicate(p) for p in group] for group in groups]


def _predicate(p: Any) -> Predicate:
    if not isinstance(p, tuple | list) or len(p) != 3:
        raise XIOError(f"a filter must be a (column, op, value) tuple, got {p!r}")
    col, op, value = p
    if not isinstance(col, str):
        raise XIOError(f"a filter's column must be a name (str), got {col!r} in {p!r}")
    op = "==" if op == "=" else op
    if op not in _OPS:
        raise XIOError(f"unknown filter operator {op!r} in {tuple(p)!r}; use one of {_OPS}")
    if op in ("in", "not in"):
        if isinstance(value, str) or not hasattr(value, "__iter__"):
            raise XIOError(f"the value of an {op!r} filter must be a list, got {value!r}")
        value = list(value)
    elif value is None:
        raise XIOError(f"filter {tuple(p)!r} compares with None, which matches no row")
    return (col, op, value)


def _row_group_may_match(rg: Any, dnf: list[list[Predicate]], schema: pa.Schema) -> bool:
    if not dnf:
        return True
    index = {rg.column(j).path_in_schema: j for j in range(rg.num_columns)}
    for conj in dnf:
        if all(_may_match(rg, index, schema, col, op, v) for col, op, v in conj):
            return True
    return False


def _may_match(rg: Any, index: dict[str, int], schema: pa.Schema, col: str, op: str,
               value: Any) -> bool:
    """False only when the row group's statistics prove no row satisfies the predicate."""
    j = index.get(col)
    if j is None:
        return True
    st = rg.column(j).statistics
    if st is None:
        return True
    if st.has_null_count and rg.num_rows and st.null_count == rg.num_rows:
        return False  # all null: no predicate matches a null
    if not st.has_min_max:
        return True
    is_float = pa.types.is_floating(schema.field(col).type)
    lo, hi = st.min, st.max
    try:
        if op == "==":
            return bool(lo <= value <= hi)
        if op == "<":
            return bool(lo < value)
        if op == "<=":
            return bool(lo <= value)
        if op == ">":
            return bool(hi > value)
        if op == ">=":
            return bool(hi >= value)
        if is_float:  # NaN is left out of min/max, and NaN != v is true
            return True
        if op == "!=":
            return not bool(lo == hi == value)
        if op == "in":
            return any(bool(lo <= v <= hi) for v in value if v is not None)
        return not bool(lo == hi and lo in value)  # "not in"
    except (TypeError, ValueError, ArithmeticError):
        return True  # values the statistics cannot be compared with: read the group


def _filter_rows(table: pa.Table, dnf: list[list[Predicate]], path: str) -> pa.Table:
    if not dnf or table.num_rows == 0:
        return table
    expr = None
    for conj in dnf:
        term = None
        for col, op, value in conj:
            e = _expression(col, op, value, table.schema.field(col).type, path)
            term = e if term is None else term & e
        expr = term if expr is None else expr | term
    try:
        return table.filter(expr)
    except pa.ArrowException as e:
        raise XIOError(f"filters {dnf!r} cannot be applied to {path!r}: {e}", path=path) from e


def _expression(col: str, op: str, value: Any, typ: pa.DataType, path: str) -> pc.Expression:
    field = pc.field(col)
    try:
        if op in ("in", "not in"):
            e = field.isin(pa.array([v for v in value if v is not None]))
            e = (field.is_valid() & ~e) if op == "not in" else e
        else:
            ops = {"==": field.__eq__, "!=": field.__ne__, "<": field.__lt__,
                   "<=": field.__le__, ">": field.__gt__, ">=": field.__ge__}
            e = ops[op](_scalar(value, typ))
        pa.table({col: pa.array([], typ)}).filter(e)  # a type mismatch fails here, early
    except (pa.ArrowException, TypeError, ValueError, OverflowError) as err:
        msg = (
            f"filter ({col!r}, {op!r}, {value!r}) cannot be applied to column {col!r} of type "
            f"{typ} in {path!r}: {err}; use a value of the column's type"
        )
        raise XIOError(msg, path=path, column=col) from err
    return e


def _scalar(value: Any, typ: pa.DataType) -> pa.Scalar:
    # The value keeps its own inferred type where it has one: pa.scalar(2.5, type=pa.int64())
    # would truncate to 2, while compute compares int32 with double (or timestamp[s] with
    # timestamp[us]) exactly. Only values with no inferable type (2**63) take the column's.
    try:
        return pa.scalar(value)
    except (pa.ArrowException, OverflowError, TypeError, ValueError):
        return pa.scalar(value, type=typ)


# -- writing ---------------------------------------------------------------------------------
def write_parquet(data: Any, path: str | os.PathLike, *, compression: str | None = "zstd",
                  row_group_size: int | None = None) -> None:
    """Write a table as one Parquet file.

    Every xpdb type round-trips, except that ``timestamp[s]`` comes back as
    ``timestamp[ms]`` (Parquet has no seconds unit). The file appears only once fully
    written: a failed write leaves ``path`` as it was.

    Parameters
    ----------
    data : xpdb Table or DataFrame, pandas DataFrame or pyarrow Table
    path : str or Path
    compression : str or None, default "zstd"
        ``"zstd"``, ``"snappy"``, ``"gzip"``, ``"lz4"``, ``"brotli"`` or None.
    row_group_size : int, optional
        Rows per row group (pyarrow's default: 1Mi). Smaller groups prune more finely.
    """
    table = c.to_arrow_data(data)
    try:
        with c.atomic_write(path) as tmp:
            pq.write_table(table, tmp, compression=compression or "none",
                           row_group_size=row_group_size)
    except XpdbError:
        raise
    except (pa.ArrowException, OSError, ValueError) as e:
        raise c.write_error(path, e, "Parquet") from e
