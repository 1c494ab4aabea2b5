"""Streaming scans: queries over stored tables larger than the device's memory budget.

When the columns a scan needs would not fit in the database's ``memory_limit`` (and are not
already cached), the executor does not load them. It runs the pipeline above the scan (its
filters and projections) on one piece of the table at a time, read straight from the Parquet
files (:meth:`xpdb.storage.stored_table.StoredTable.batches`):

- under an aggregation, each piece is reduced to partial aggregates before the next piece
  is read (:func:`xpdb.kernels.groupby.groupby_agg_stream`), so the device holds one piece
  and the partials;
- elsewhere the pieces' (filtered, projected) results are concatenated, which fits when the
  filters are selective; a result that does not fit is a clear ``DeviceMemoryError``.

Pipelines with subqueries, window functions or holistic aggregates (median, quantiles,
grouping sets) are not streamed: they read the whole input (and may run out of memory).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from . import plan as p
from .functions import function_name
from .optimizer.tree import has_subquery

if TYPE_CHECKING:
    from .executor import Executor

# a piece takes at most this share of the budget: the pipeline's intermediates (masks,
# computed columns, partial aggregates) need room beside it
_PIECE_SHARE = 4
_MIN_PIECE_ROWS = 1024
_HOLISTIC = {"median", "quantile", "quantile_cont", "quantile_disc", "percentile_cont",
             "percentile_disc", "mode"}


def stream_source(ex: Executor, node: p.Node) -> tuple[p.Scan, Any, list[str]] | None:
    """The scan to stream under ``node`` (a chain of filters and projections over a
    stored table too large for the budget), or None to run ``node`` normally."""
    from ..storage.stored_table import StoredTable

    chain = node
    while isinstance(chain, p.Filter | p.Project | p.Alias):
        if isinstance(chain, p.Alias) and chain.columns:
            return None
        exprs = [chain.predicate] if isinstance(chain, p.Filter) else \
            [e for _, e in chain.items] if isinstance(chain, p.Project) else []
        if any(has_subquery(e) or e.find(_window_type()) is not None for e in exprs):
            return None
        chain = chain.child
    if not isinstance(chain, p.Scan) or chain in ex.batch or chain.name in ex.given \
            or chain.name in ex.views:
        return None
    if any(has_subquery(f) for f in chain.filters):
        return None
    table = ex.tables.get(chain.name)
    if not isinstance(table, StoredTable):
        return None
    if chain.version is not None:
        table = StoredTable(table.store, table.name, ex.device, table.cache, chain.version)
    names = table.names if chain.columns is None else list(chain.columns)
    if not names or table.cached(names) or table.estimated_bytes(names) <= table.cache.limit:
        return None
    return chain, table, names


def streamable_aggregate(node: p.Aggregate) -> bool:
    """Whether ``node``'s aggregates can be computed piece by piece."""
    if node.sets is not None:
        return False
    return not any(function_name(a.this if a.key == "filter" else a) in _HOLISTIC
                   for a in node.aggs)


def pieces(ex: Executor, scan: p.Scan, table: Any, names: list[str]) -> Iterator[None]:
    """Make each piece of ``table`` the input of ``scan`` in turn (the executor's ``batch``);
    yields once per piece, and notes the streaming for EXPLAIN ANALYZE."""
    budget = max(1, table.cache.limit)
    per_row = max(1, table.estimated_bytes(names) // max(1, table.num_rows))
    rows = max(_MIN_PIECE_ROWS, budget // (per_row * _PIECE_SHARE))
    count = 0
    try:
        for piece in table.batches(names, rows):
            ex.batch[scan] = piece
            count += 1
            yield
    finally:
        ex.batch.pop(scan, None)
        ex.notes.append(f"streamed {table.name} ({table.num_rows:,} rows, columns "
                        f"{', '.join(names)}) through the device in {count} pieces of up to "
                        f"{rows:,} rows: {table.estimated_bytes(names):,} bytes exceed the "
                        f"memory limit of {table.cache.limit:,}")


def _window_type() -> type:
    from sqlglot import exp

    return exp.Window


__all__ = ["pieces", "stream_source", "streamable_aggregate"]
