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

from sqlglot import exp

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
    # agg(DISTINCT x) other than count dedupes over all rows at once (functions.py)
    if any(a.find(exp.Distinct) is not None
           and not isinstance(a.this if a.key == "filter" else a, exp.Count) for a in node.aggs):
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


def co_sharded(ex: Executor, node: p.Join) -> tuple[tuple[p.Scan, Any, list[str]],
                                                   tuple[p.Scan, Any, list[str]]] | None:
    """The two stored scans of a join on their shard keys between tables sharded alike
    (same key types, same shard count), when they do not fit the budget together; None
    otherwise. Equal keys live in equal shards, so the join runs shard pair by shard pair
    with no exchange of rows between shards."""
    from sqlglot import exp

    from .optimizer.tree import conjuncts

    if node.kind not in ("inner", "left", "right", "outer"):
        return None
    sides = [_stored_scan(ex, node.left), _stored_scan(ex, node.right)]
    if sides[0] is None or sides[1] is None:
        return None
    (ls, lt, ln), (rs, rt, rn) = sides
    if not lt.shard_key or lt.shards < 2 or lt.shards != rt.shards \
            or len(lt.shard_key) != len(rt.shard_key):
        return None
    if [lt.schema[k] for k in lt.shard_key] != [rt.schema[k] for k in rt.shard_key]:
        return None
    pairs = set()
    for c in conjuncts(node.on) if node.on is not None else []:
        if isinstance(c, exp.EQ) and isinstance(c.this, exp.Column) \
                and isinstance(c.expression, exp.Column):
            a, b = c.this, c.expression
            for x, y in ((a, b), (b, a)):
                if x.table in ("", ls.alias) and y.table in ("", rs.alias):
                    pairs.add((x.name, y.name))
    pairs |= {(u, u) for u in node.using}
    if any((k, m) not in pairs for k, m in zip(lt.shard_key, rt.shard_key, strict=True)):
        return None
    total = lt.estimated_bytes(ln) + rt.estimated_bytes(rn)
    if total <= lt.cache.limit or (lt.cached(ln) and rt.cached(rn)):
        return None
    return (ls, lt, ln), (rs, rt, rn)


def _stored_scan(ex: Executor, node: p.Node) -> tuple[p.Scan, Any, list[str]] | None:
    from ..storage.stored_table import StoredTable

    while isinstance(node, p.Filter):  # filters keep the rows' shards
        if has_subquery(node.predicate):
            return None
        node = node.child
    if not isinstance(node, p.Scan) or node in ex.batch or node.name in ex.given \
            or node.name in ex.views or node.version is not None:
        return None
    table = ex.tables.get(node.name)
    if not isinstance(table, StoredTable):
        return None
    names = table.names if node.columns is None else list(node.columns)
    return node, table, names


def shard_pairs(ex: Executor, left: tuple[p.Scan, Any, list[str]],
                right: tuple[p.Scan, Any, list[str]]) -> Iterator[None]:
    """Make shard ``i`` of both tables the inputs of their scans, for each ``i``."""
    (ls, lt, ln), (rs, rt, rn) = left, right
    try:
        for i in range(lt.shards):
            ex.batch[ls] = lt.shard(i, ln)
            ex.batch[rs] = rt.shard(i, rn)
            yield
    finally:
        ex.batch.pop(ls, None)
        ex.batch.pop(rs, None)
        ex.notes.append(f"co-sharded join of {lt.name} and {rt.name} on "
                        f"({', '.join(lt.shard_key)}) = ({', '.join(rt.shard_key)}): "
                        f"{lt.shards} shard pairs joined one after another, no exchange")


def _window_type() -> type:
    from sqlglot import exp

    return exp.Window


__all__ = ["co_sharded", "pieces", "shard_pairs", "stream_source", "streamable_aggregate"]
