"""GROUP BY ROLLUP, CUBE and GROUPING SETS, and the GROUPING(...) function.

The planner calls :func:`expand` to turn a GROUP BY clause into distinct key expressions and
a list of grouping sets (each a list of key indexes). The executor calls :func:`aggregate`,
which runs the ordinary group-by once per set, fills the keys missing from a set with NULL,
adds the ``GROUPING(...)`` bitmasks and stacks the blocks, as DuckDB does: duplicate sets give
duplicate blocks and an empty set gives one row even over empty input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlglot import exp

from ..column import Column
from ..errors import BindError, NotSupportedError
from ..kernels import expr as kx
from ..kernels import groupby as kg
from ..table import Table, concat_tables
from . import plan as p
from .expressions import Scope, as_column, canonical, evaluate
from .functions import groupby_agg as sql_groupby_agg

if TYPE_CHECKING:
    from .executor import Executor, Relation

MAX_SETS = 4096
"""The most grouping sets one GROUP BY may expand to (CUBE of 12 keys)."""

_GROUPING = (exp.Grouping, exp.GroupingId)
_SETS = (exp.Rollup, exp.Cube, exp.GroupingSets)


def is_grouping(node: exp.Expression) -> bool:
    """True for a ``GROUPING(...)`` / ``GROUPING_ID(...)`` call."""
    return isinstance(node, _GROUPING)


def expand(group: list[exp.Expression], key: Callable[[exp.Expression], exp.Expression],
           aggs: list[exp.Expression]) -> tuple[list[exp.Expression], list[list[int]] | None]:
    """The key expressions and grouping sets of a GROUP BY clause.

    Parameters
    ----------
    group : list of sqlglot expressions
        The GROUP BY items (plain expressions, ``Rollup``, ``Cube``, ``GroupingSets``).
    key : callable
        Resolves one plain item to its key expression (positions, select aliases).
    aggs : list of sqlglot expressions
        The query's aggregate calls; a ``GROUPING(...)`` among them needs grouping sets.

    Returns
    -------
    keys : list of sqlglot expressions
    sets : list of lists of int, or None
        Indexes into ``keys``, one list per grouping set; None for a plain GROUP BY.

    Examples
    --------
    >>> import sqlglot
    >>> g = sqlglot.parse_one("SELECT 1 FROM t GROUP BY a, ROLLUP(b, c)").args["group"]
    >>> keys, sets = expand(list(g.expressions), lambda e: e, [])
    >>> [k.sql() for k in keys], sets
    (['a', 'b', 'c'], [[0, 1, 2], [0, 1], [0]])
    """
    groupings = [a for a in aggs if is_grouping(a)]
    if groupings and not group:
        msg = (f"{groupings[0].sql(dialect='duckdb')!r}: GROUPING cannot be used without "
               "GROUP BY; add a GROUP BY clause")
        raise BindError(msg)
    if not any(isinstance(g, _SETS) for g in group):
        keys = [key(g) for g in group]
        return keys, ([list(range(len(keys)))] if groupings else None)
    keys: list[exp.Expression] = []
    index: dict[str, int] = {}

    def ref(e: exp.Expression) -> int:
        k = key(e)
        text = k.sql(dialect="duckdb")
        if text not in index:
            index[text] = len(keys)
            keys.append(k)
        return index[text]

    sets: list[list[int]] = [[]]
    for item in group:
        sets = [_union(a, b) for a in sets for b in _item_sets(item, ref)]
        if len(sets) > MAX_SETS:
            msg = (f"GROUP BY expands to more than {MAX_SETS} grouping sets; list the sets "
                   "you need with GROUPING SETS")
            raise NotSupportedError(msg)
    return keys, sets


def _union(a: list[int], b: list[int]) -> list[int]:
    return a + [i for i in b if i not in a]


def _members(e: exp.Expression, ref: Callable[[exp.Expression], int]) -> list[int]:
    """The keys of one element of ROLLUP/CUBE/GROUPING SETS: ``(a, b)``, ``(a)``, ``a``."""
    if isinstance(e, exp.Tuple):
        return _union([], [ref(x) for x in e.expressions])
    if isinstance(e, exp.Paren):
        return _members(e.this, ref)
    if isinstance(e, _SETS):
        msg = f"{e.sql(dialect='duckdb')!r} cannot be nested here; nest it in GROUPING SETS"
        raise NotSupportedError(msg)
    return [ref(e)]


def _item_sets(item: exp.Expression, ref: Callable[[exp.Expression], int]) -> list[list[int]]:
    """The grouping sets of one GROUP BY item."""
    if isinstance(item, exp.Rollup):
        parts = [_members(e, ref) for e in item.expressions]
        out = []
        for n in range(len(parts), -1, -1):
            s: list[int] = []
            for part in parts[:n]:
                s = _union(s, part)
            out.append(s)
        return out
    if isinstance(item, exp.Cube):
        parts = [_members(e, ref) for e in item.expressions]
        if len(parts) > 12:
            msg = f"CUBE of {len(parts)} elements is too large (at most 12); use GROUPING SETS"
            raise NotSupportedError(msg)
        out = []
        full = (1 << len(parts)) - 1
        for mask in range(full, -1, -1):
            s = []
            for i, part in enumerate(parts):
                if mask >> (len(parts) - 1 - i) & 1:
                    s = _union(s, part)
            out.append(s)
        return out
    if isinstance(item, exp.GroupingSets):
        out = []
        for e in item.expressions:
            if isinstance(e, _SETS):
                out.extend(_item_sets(e, ref))
            else:
                out.append(_members(e, ref))
        return out
    return [[ref(item)]]


def aggregate(executor: Executor, node: p.Aggregate) -> Relation:
    """Run an Aggregate node that has grouping sets (``node.sets`` is not None).

    The result holds the keys, then one column per entry of ``node.aggs`` (aggregates and
    ``GROUPING(...)`` values, int64), reachable through the relation's substitution map.
    """
    from .executor import Relation, make_relation

    assert node.sets is not None
    device = executor.device
    child = executor.run(node.child)
    ctx = executor.context(child)
    n = child.table.num_rows
    pre: list[tuple[str, Column]] = [("__one", kx.literal(1, n, device, "int8"))]
    key_exprs = []
    for i, k in enumerate(node.keys):
        try:
            v = evaluate(k, ctx)
        except BindError:
            if "xpdb_alias" not in k.meta:
                raise
            k = k.meta["xpdb_alias"]  # noqa: PLW2901 - GROUP BY names a select alias
            v = evaluate(k, ctx)
        key_exprs.append(k)
        pre.append((f"__k{i}", as_column(v, ctx)))
    names = [f"__k{i}" for i in range(len(node.keys))]
    key_types = [c.dtype for _, c in pre[1:]]
    canon: dict[str, int] = {}
    for i, (k, orig) in enumerate(zip(key_exprs, node.keys, strict=True)):
        canon.setdefault(canonical(k, child.scope), i)
        canon.setdefault(canonical(orig, child.scope), i)
    specs: list[kg.Agg] = []
    bits: list[list[int] | None] = []
    for j, a in enumerate(node.aggs):
        if is_grouping(a):
            bits.append(_grouping_keys(a, canon, child.scope))
        else:
            specs.append(executor._agg_spec(a, j, ctx, pre))
            bits.append(None)
    table = Table(pre, n, device)
    blocks = []
    for s in node.sets:
        out = sql_groupby_agg(table, [names[i] for i in s], specs)  # sums raise on overflow
        m = out.num_rows
        cols = [out.column(names[i]) if i in s else Column.full(m, None, key_types[i], device)
                for i in range(len(names))]
        it = iter(specs)
        for b in bits:
            if b is None:
                cols.append(out.column(next(it).name))
                continue
            mask = sum(1 << (len(b) - 1 - pos) for pos, i in enumerate(b) if i not in s)
            cols.append(kx.literal(mask, m, device, "int64"))
        blocks.append(Table([(f"_c{i}", c) for i, c in enumerate(cols)], m, device))
    result = concat_tables(blocks)
    subst = {canonical(k, child.scope): i for i, k in enumerate(key_exprs)}
    for j, a in enumerate(node.aggs):
        subst[canonical(a, child.scope)] = len(names) + j
    rel = make_relation(result.columns, [(None, f"__g{i}") for i in range(len(result.columns))],
                        result.num_rows, device)
    return Relation(rel.table, rel.scope, subst, True, child.scope)


def _grouping_keys(call: exp.Expression, canon: dict[str, int], scope: Scope) -> list[int]:
    """The key index of each argument of ``GROUPING(...)``."""
    out = []
    for arg in call.expressions:
        text = canonical(arg, scope)
        if text not in canon:
            msg = (f"GROUPING argument {arg.sql(dialect='duckdb')!r} is not a GROUP BY key; "
                   "pass only grouping columns to GROUPING()")
            raise BindError(msg)
        out.append(canon[text])
    if not out:
        raise BindError("GROUPING() needs at least one grouping column")
    return out


__all__ = ["MAX_SETS", "aggregate", "expand", "is_grouping"]
