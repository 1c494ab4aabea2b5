"""Rule: predicate pushdown, through joins and derived tables into the scans.

Each conjunct of a filter moves as far down as it stays exact:

- through an inner or cross join to the one side whose columns it reads; a conjunct over
  both sides becomes a join condition (a cross join with one becomes an inner join);
- through a LEFT join to the left side only (a right-side test above the join also removes
  the null-extended rows, so it stays); a LEFT join's ON terms over the right side alone
  filter the right input (RIGHT joins mirrored); FULL joins keep everything;
- through a derived table (``FROM (SELECT ...) AS d``, a view, a CTE used once) by
  substituting the select items for the column names, when those items are plain
  expressions; a test on group keys only moves below the GROUP BY, one on aggregates lands
  just above it (a HAVING);
- through ORDER BY and DISTINCT; a HAVING conjunct on group keys only (``HAVING a > 1``)
  below its GROUP BY (not under grouping sets, whose rows with null keys it would change);
- into the scan of a table (:attr:`xpdb.sql.plan.Scan.filters`).

Conjuncts with subqueries, volatile calls or columns that cannot be placed exactly stay
where they are; so does everything above a node that has several parents (a CTE read
twice), which is computed once for all of them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlglot import exp

from .. import plan as p
from ..functions import is_aggregate
from .schema import Schemas, grouped, homes
from .tree import and_all, conjuncts, has_subquery, is_volatile, parent_counts


def pushdown_predicates(root: p.Node, catalog: Any) -> p.Node:
    """Move filter conjuncts toward the scans (see the module docstring)."""
    return _Pushdown(root, Schemas(catalog)).visit(root, [])


def _movable(e: exp.Expression) -> bool:
    return not has_subquery(e) and not is_volatile(e)


def semi_probe(e: exp.Expression, schemas: Schemas) -> exp.Expression | None:
    """For ``x IN (uncorrelated subquery)``, the probe ``x``: the term then filters the rows
    that define ``x`` and may move down a join to them (as a semi-join's probe side) even
    though it holds a subquery. None for anything else.

    Uncorrelated is proved conservatively: the subquery reads catalog tables only (no
    CTE, view, derived table or nested subquery), and each of its columns is qualified by
    one of its own aliases or, unqualified, named by one of its tables.
    """
    if not isinstance(e, exp.In) or e.args.get("query") is None or is_volatile(e):
        return None
    probe = e.this
    if probe is None or has_subquery(probe) or is_volatile(probe):
        return None
    q = e.args["query"]
    sel = q.this if isinstance(q, exp.Subquery) else q
    if not isinstance(sel, exp.Select) or sel.args.get("with_") is not None:
        return None
    if any(n is not sel for n in sel.find_all(exp.Query, exp.Subquery, exp.Exists)):
        return None
    from_ = sel.args.get("from_")
    if from_ is None:
        return None
    ctes = {**(q.meta.get("xpdb_ctes") or {}), **(sel.meta.get("xpdb_ctes") or {})}
    aliases: set[str] = set()
    names: set[str] = set()
    for item in [from_.this] + [j.this for j in sel.args.get("joins") or []]:
        if not isinstance(item, exp.Table) or item.args.get("db") or item.name in ctes:
            return None
        cols = schemas.table_columns(item.name)
        if cols is None:
            return None
        aliases.add(item.alias_or_name.lower())
        names.update(c.lower() for c in cols)
    for c in sel.find_all(exp.Column):
        if isinstance(c.this, exp.Star):
            continue
        if c.table:
            if c.table.lower() not in aliases:
                return None
        elif c.name.lower() not in names:
            return None
    return probe


class _Pushdown:
    def __init__(self, root: p.Node, schemas: Schemas):
        self.schemas = schemas
        self.parents = parent_counts(root)
        self.memo: dict[p.Node, p.Node] = {}

    def visit(self, node: p.Node, preds: list[exp.Expression]) -> p.Node:
        if self.parents.get(node, 0) > 1:
            if node not in self.memo:
                self.memo[node] = self._dispatch(node, [])
            return _filter(self.memo[node], preds)
        return self._dispatch(node, preds)

    def _dispatch(self, node: p.Node, preds: list[exp.Expression]) -> p.Node:
        method = getattr(self, "_" + type(node).__name__.lower(), None)
        if method is None:
            return _filter(self._children(node), preds)
        return method(node, preds)

    def _children(self, node: p.Node) -> p.Node:
        from .tree import children, with_children

        return with_children(node, [self.visit(c, []) for c in children(node)])

    # -- nodes ----------------------------------------------------------------------------
    def _filter(self, node: p.Filter, preds: list[exp.Expression]) -> p.Node:
        return self.visit(node.child, conjuncts(node.predicate) + preds)

    def _scan(self, node: p.Scan, preds: list[exp.Expression]) -> p.Node:
        movable = [e for e in preds if _movable(e)]
        rest = [e for e in preds if not _movable(e)]
        if movable and self.schemas.table_columns(node.name) is not None:
            node = dataclasses.replace(node, filters=node.filters + movable)
        else:
            rest = preds
        return _filter(node, rest)

    def _sort(self, node: p.Sort, preds: list[exp.Expression]) -> p.Node:
        return p.Sort(self.visit(node.child, preds), node.keys)

    def _distinct(self, node: p.Distinct, preds: list[exp.Expression]) -> p.Node:
        return p.Distinct(self.visit(node.child, preds))

    def _aggregate(self, node: p.Aggregate, preds: list[exp.Expression]) -> p.Node:
        # HAVING conjuncts: those on group keys only filter the rows below the GROUP BY
        if not preds or getattr(node, "sets", None):
            return _filter(self._children(node), preds)
        return self._aggregate_with(node, preds)

    def _join(self, node: p.Join, preds: list[exp.Expression]) -> p.Node:
        ls, rs = self.schemas(node.left), self.schemas(node.right)
        if ls is None or rs is None:
            return _filter(self._children(node), preds)
        scopes = [ls, rs]

        def side(e: exp.Expression) -> set[int] | None:
            if _movable(e):
                return homes(e, scopes)
            probe = semi_probe(e, self.schemas)
            return homes(probe, scopes) if probe is not None else None

        to_left: list[exp.Expression] = []
        to_right: list[exp.Expression] = []
        above: list[exp.Expression] = []
        on = conjuncts(node.on)
        keep_on: list[exp.Expression] = []
        kind = node.kind
        if kind in ("inner", "cross"):
            for e in preds:
                h = side(e)
                if h is None or not h:
                    above.append(e)
                elif h == {0}:
                    to_left.append(e)
                elif h == {1}:
                    to_right.append(e)
                else:
                    keep_on.append(e)
            for e in on:
                h = side(e)
                (to_left if h == {0} else to_right if h == {1} else keep_on).append(e)
        else:
            outer_side = {"left": 0, "right": 1}.get(kind)
            for e in preds:
                h = side(e)
                if outer_side is not None and h == {outer_side}:
                    (to_left if outer_side == 0 else to_right).append(e)
                else:
                    above.append(e)
            for e in on:
                h = side(e)
                inner_side = {0: 1, 1: 0}.get(outer_side) if outer_side is not None else None
                if inner_side is not None and h == {inner_side}:
                    (to_left if inner_side == 0 else to_right).append(e)
                else:
                    keep_on.append(e)
        left = self.visit(node.left, to_left)
        right = self.visit(node.right, to_right)
        new_on = and_all(keep_on)
        if kind in ("inner", "cross"):
            kind = "inner" if new_on is not None or node.using else "cross"
        out = p.Join(left, right, kind, new_on, node.using)
        return _filter(out, above)

    def _alias(self, node: p.Alias, preds: list[exp.Expression]) -> p.Node:
        if not preds or self.parents.get(node.child, 0) > 1:
            return _filter(p.Alias(self.visit(node.child, []), node.alias, node.columns), preds)
        outer, inner = self.schemas(node), self.schemas(node.child)
        if outer is None or inner is None:
            return _filter(self._children(node), preds)
        visible = [i for i in range(len(inner.fields)) if i not in inner.hidden]
        child = node.child
        items = child.items if isinstance(child, p.Project) else None
        if items is not None and any(
                isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
                for _, e in items):
            items = None
            if isinstance(child, p.Project):
                return _filter(self._children(node), preds)
        moved, stay = [], []
        for e in preds:
            new = _rewrite(e, outer, inner, visible, items) if _movable(e) else None
            (stay.append(e) if new is None else moved.append(new))
        if isinstance(child, p.Project):
            new_child = self._project_below(child, moved)
        else:
            new_child = self.visit(child, moved)
        return _filter(p.Alias(new_child, node.alias, node.columns), stay)

    def _project_below(self, node: p.Project, preds: list[exp.Expression]) -> p.Node:
        """``node`` with ``preds`` (over its input's names) applied below it."""
        child = node.child
        if isinstance(child, p.Aggregate) and not getattr(child, "sets", None):
            agg = self._aggregate_with(child, preds)
            return p.Project(agg, node.items)
        if grouped(child) or isinstance(child, p.Window):
            return p.Project(_filter(self.visit(child, []), preds), node.items)
        return p.Project(self.visit(child, preds), node.items)

    def _aggregate_with(self, node: p.Aggregate, preds: list[exp.Expression]) -> p.Node:
        """An Aggregate with ``preds`` (HAVING level) pushed below it where they only test
        group keys."""
        # a key naming a select alias (GROUP BY m, m = a % 2) is no column of the input
        key_texts = {k.sql(dialect="duckdb") for k in node.keys
                     if isinstance(k, exp.Column) and "xpdb_alias" not in k.meta}
        below, having = [], []
        for e in preds:
            cols = list(e.find_all(exp.Column))
            on_keys = cols and all(c.sql(dialect="duckdb") in key_texts for c in cols) \
                and not any(is_aggregate(n) for n in e.walk())
            (below if on_keys else having).append(e)
        agg = p.Aggregate(self.visit(node.child, below), node.keys, node.aggs)
        return _filter(agg, having)


def _rewrite(e: exp.Expression, outer: Any, inner: Any, visible: list[int],
             items: list[tuple[str, exp.Expression]] | None) -> exp.Expression | None:
    """``e`` over an Alias's columns, rewritten over its child's (None: not possible)."""
    from ...errors import BindError

    cols = list(e.find_all(exp.Column))
    if not cols:
        return None
    out = e.copy()
    for col in list(out.find_all(exp.Column)):
        try:
            idx = visible[outer.resolve(col.name, col.table or None)]
        except BindError:
            return None
        if items is not None:
            repl = items[idx][1]
            if any(isinstance(n, exp.Window) for n in repl.walk()) or not _movable(repl):
                return None
            new: exp.Expression = repl.copy()
            if not isinstance(new, exp.Column | exp.Literal):
                new = exp.Paren(this=new)
        else:
            q, n = inner.fields[idx]
            new = exp.column(n, q) if q else exp.column(n)
            try:
                if inner.resolve(n, q) != idx:
                    return None
            except BindError:
                return None
        if col is out:
            return new
        col.replace(new)
    return out


def _filter(node: p.Node, preds: list[exp.Expression]) -> p.Node:
    pred = and_all(preds)
    return node if pred is None else p.Filter(node, pred)


__all__ = ["pushdown_predicates"]
