"""Correlated subqueries, decorrelated (unnesting after Neumann & Kemper, simplified).

A subquery that refers to columns of the query around it is never run once per outer row.
Instead:

1. the *domain* is the distinct values of the outer expressions it refers to (plus the
   left operand of ``x op ANY/ALL (...)`` and ``x IN (...)``);
2. the domain is joined with the subquery's FROM on its WHERE clause, the outer references
   rewritten to domain columns (equalities become hash-join keys, other predicates filter a
   cross product: fine for small inputs, quadratic for large ones);
3. the subquery's select list is evaluated grouped by the domain columns. For aggregates
   the join is a LEFT join with a marker column, and every aggregate argument is masked by
   the marker, so an empty correlated set still forms a group and ``count(*)`` of it is 0;
4. the per-domain result is joined back to the outer rows on the domain columns with null
   matching null, so an outer row with a null correlation value still finds its row.

EXISTS is ``count(*) > 0`` of the same machinery; ``x IN (...)`` is ``x = ANY (...)`` and
``x op ANY/ALL (...)`` is a CASE over ``max`` and ``count`` of the comparison, which gives
SQL's three-valued result (NULL when no comparison decides and one of them is NULL).
"""

from __future__ import annotations

import itertools
from typing import Any

from sqlglot import exp

from ..column import Column
from ..errors import BindError, NotSupportedError, XpdbError
from ..kernels import expr as kx
from ..kernels import join as kj
from ..kernels import sort as ksort
from ..table import Table
from . import plan as p
from .expressions import Context, Scope, as_column, evaluate
from .functions import is_aggregate

_ids = itertools.count()

_OPS = {exp.EQ: "=", exp.NEQ: "<>", exp.LT: "<", exp.LTE: "<=", exp.GT: ">", exp.GTE: ">="}


def apply(node: exp.Expression, ctx: Context, executor: Any) -> Any:
    """The value of a subquery expression ``node`` over ``ctx``'s rows, decorrelated.

    ``node`` is a scalar :class:`~sqlglot.exp.Subquery`, an ``EXISTS``, an ``IN (query)`` or
    a comparison with ``ANY``/``ALL``. Returns ``NotImplemented`` when the subquery is not
    correlated (the caller runs it once) and the value (a Column) otherwise.
    """
    kind, query, lhs, op = _classify(node)
    if kind is None:
        return NotImplemented
    while isinstance(query, exp.Subquery):
        query = query.this
    plain = (kind == "any" and op == "=") or (kind == "all" and op == "<>")
    if not isinstance(query, exp.Select):
        if kind in ("any", "all") and not plain:
            msg = f"{node.sql(dialect='duckdb')!r}: ANY/ALL over a set operation is not supported yet"
            raise NotSupportedError(msg)
        return NotImplemented
    sel = query.copy()
    try:
        inner = _inner_fields(sel, query.meta.get("xpdb_ctes") or {}, executor)
    except BindError:
        return NotImplemented
    outer_scope = ctx.canon_scope or ctx.scope
    refs = _outer_refs(sel, inner, outer_scope)
    if not refs and (kind in ("scalar", "exists") or plain):
        return NotImplemented
    if kind != "scalar" and _one_row(query):
        # an aggregate without GROUP BY returns exactly one row: EXISTS is true and
        # x op ANY/ALL (...) is x op (that row)
        if kind == "exists":
            return True
        cmp = exp.condition(f"a {op} b")
        cmp.set("this", lhs.copy())
        cmp.set("expression", exp.Subquery(this=query.copy()))
        return evaluate(cmp, ctx)
    return _Unnest(executor, ctx, sel, refs, node).run(kind, lhs, op)


def _one_row(sel: exp.Select) -> bool:
    if any(sel.args.get(k) for k in ("group", "having", "limit", "offset", "qualify")):
        return False
    return any(_has_agg(e) for e in sel.expressions)


def _inner_fields(sel: exp.Select, ctes: dict[str, Any], executor: Any
                  ) -> list[tuple[str | None, str]]:
    """The (qualifier, name) of every column the subquery's FROM items define: for a named
    table (catalog table, view, CTE) from the plan's schema when it can be inferred (a CTE
    is not computed just to learn its columns), else by running the item alone (a derived
    table may itself refer to the outer query: it then fails to bind), never their join."""
    from .optimizer.schema import Schemas
    from .planner import _from_item

    from_ = sel.args.get("from_")
    if from_ is None:
        return []
    schemas = Schemas(executor)
    fields = []
    for item in [from_.this] + [j.this for j in sel.args.get("joins") or []]:
        node = _from_item(item, ctes)
        scope = schemas(node) if isinstance(item, exp.Table) else None
        fields += scope.fields if scope is not None else executor.run(node).scope.fields
    return fields


def _classify(node: exp.Expression) -> tuple[str | None, Any, Any, str]:
    if isinstance(node, exp.Subquery):
        return "scalar", node, None, ""
    if isinstance(node, exp.Exists):
        return "exists", node.this, None, ""
    if isinstance(node, exp.In) and node.args.get("query") is not None:
        return "any", node.args["query"], node.this, "="
    for cls, op in _OPS.items():
        if isinstance(node, cls) and isinstance(node.expression, exp.Any | exp.All):
            quant = node.expression
            return ("any" if isinstance(quant, exp.Any) else "all"), quant.this, node.this, op
    return None, None, None, ""


def _can(scope: Scope, c: exp.Column) -> bool:
    try:
        scope.resolve(c.name, c.table or None)
    except BindError:
        return False
    return True


def _is_inner(fields: list[tuple[str | None, str]], c: exp.Column) -> bool:
    """Whether the subquery's FROM defines ``c`` (an ambiguous name counts: it is an error of
    the subquery, not an outer reference)."""
    name, table = c.name.lower(), (c.table or "").lower()
    return any(n.lower() == name and (not table or (q or "").lower() == table) for q, n in fields)


def _from_aliases(sel: exp.Select) -> set[str]:
    out = set()
    items = [sel.args["from_"].this] if sel.args.get("from_") is not None else []
    items += [j.this for j in sel.args.get("joins") or []]
    for it in items:
        out.add(it.alias_or_name)
    return out


def _outer_refs(sel: exp.Select, inner: list[tuple[str | None, str]], outer: Scope
                ) -> list[exp.Column]:
    """Column nodes of ``sel`` (a copy, edited in place later) that name the outer query."""
    refs = []
    for c in list(sel.find_all(exp.Column)):
        if isinstance(c.this, exp.Star) or _is_inner(inner, c) or not _can(outer, c):
            continue
        owner = c.find_ancestor(exp.Select)
        if owner is not sel:
            # inside a nested subquery: only a qualified name no nested FROM defines
            if not c.table:
                continue
            shadowed = False
            while owner is not None and owner is not sel:
                if c.table in _from_aliases(owner):
                    shadowed = True
                    break
                owner = owner.find_ancestor(exp.Select)
            if shadowed:
                continue
        refs.append(c)
    return refs


class _Unnest:
    """One decorrelation: domain, join, grouped evaluation, join back."""

    def __init__(self, executor: Any, ctx: Context, sel: exp.Select, refs: list[exp.Column],
                 node: exp.Expression):
        self.executor, self.ctx, self.sel, self.node = executor, ctx, sel, node
        self.exists = False
        k = next(_ids)
        self.dq, self.mq = f"__xpdb_dom{k}", f"__xpdb_mark{k}"
        self.names = {"dom": f"__xpdb_gd{k}", "src": f"__xpdb_gs{k}", "joined": f"__xpdb_gj{k}"}
        outer = ctx.canon_scope or ctx.scope
        self.exprs: list[exp.Expression] = []
        slots: dict[int, int] = {}
        for c in refs:
            key = outer.resolve(c.name, c.table or None)
            if key not in slots:
                slots[key] = len(self.exprs)
                self.exprs.append(c.copy())
            c.replace(self.dom(slots[key]))

    def dom(self, i: int) -> exp.Column:
        return exp.column(f"__xpdb_c{i}", table=self.dq)

    def marker(self) -> exp.Column:
        return exp.column("__xpdb_m", table=self.mq)

    # -- the rewritten subquery -------------------------------------------------------------
    def run(self, kind: str, lhs: Any, op: str) -> Any:
        sel = self.sel
        for key in ("limit", "offset", "qualify", "laterals", "pivots"):
            if sel.args.get(key):
                msg = f"correlated subqueries with {key.upper()} are not supported yet"
                raise NotSupportedError(msg)
        from .planner import walk

        if any(isinstance(n, exp.Window) for e in sel.expressions for n in walk(e, lambda _: False)):
            raise NotSupportedError("window functions in a correlated subquery are not supported yet")
        if sel.args.get("group") is not None:
            raise NotSupportedError("correlated subqueries with GROUP BY are not supported yet")
        distinct = sel.args.get("distinct")
        if distinct is not None and distinct.args.get("on"):
            raise NotSupportedError("correlated subqueries with DISTINCT ON are not supported yet")
        items = [e.this if isinstance(e, exp.Alias) else e for e in sel.expressions]
        having = sel.args.get("having")
        having = having.this if having is not None else None
        aggregated = any(_has_agg(e) for e in items) or having is not None
        if kind != "scalar" and aggregated:
            msg = f"{self.node.sql(dialect='duckdb')!r}: EXISTS/IN/ANY/ALL over a correlated aggregate subquery is not supported yet"
            raise NotSupportedError(msg)
        if kind != "exists" and len(items) != 1:
            raise XpdbError(f"a subquery used as a value must return one column, got {len(items)}")
        if any(isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
               for e in items) and kind != "exists":
            raise NotSupportedError("SELECT * in a correlated subquery is not supported yet")
        self.exists = kind == "exists"
        if kind == "exists":
            value: exp.Expression = exp.GT(this=exp.Count(this=exp.Star()),
                                           expression=exp.Literal.number(0))
            aggregated, having = True, None
        elif kind in ("any", "all"):
            self.exprs.append(lhs.copy())
            value = _quantified(kind, op, self.dom(len(self.exprs) - 1), items[0])
            aggregated, having = True, None
        else:
            value = items[0]
        if aggregated:
            value = self._mask_aggs(value)
            having = self._mask_aggs(having) if having is not None else None
        return self._execute(value, having, aggregated,
                             kind == "scalar" and not aggregated and distinct is not None)

    def _mask_aggs(self, e: exp.Expression) -> exp.Expression:
        """Aggregate arguments masked by the marker: the null-extended row of an empty
        correlated set counts for nothing."""
        e = e.copy()
        for a in [n for n in e.walk() if is_aggregate(n)]:
            if isinstance(a, exp.Count) and (a.this is None or isinstance(a.this, exp.Star)):
                a.set("this", self.marker())
                continue
            target = a.this
            if isinstance(target, exp.Distinct):
                target = target.expressions[0]
            if target is None:
                continue
            cond = exp.Not(this=exp.Is(this=self.marker(), expression=exp.Null()))
            target.replace(exp.Case(ifs=[exp.If(this=cond, true=target.copy())]))
        return e

    def _source(self) -> tuple[Any, exp.Expression | None]:
        """The subquery's FROM filtered by the WHERE conjuncts that name only its own
        columns, and the conjuncts left for the join with the domain."""
        from .executor import _conjuncts
        from .planner import _source

        where = self.sel.args.get("where")
        local, correlated = [], []
        for c in _conjuncts(where.this if where is not None else None):
            refs_domain = any(col.table == self.dq for col in c.find_all(exp.Column))
            (correlated if refs_domain else local).append(c)
        node = _source(self.sel, self.sel.meta.get("xpdb_ctes") or {})
        if local:
            node = p.Filter(node, exp.and_(*local) if len(local) > 1 else local[0])
        if self.executor.rules is None or "prune_columns" in self.executor.rules:
            from .optimizer.prune_columns import prune_columns

            # the subquery's FROM reads only what its clauses name (EXISTS: not its select
            # list), not every column of its tables into the join with the domain
            used = [self.sel.args.get(k) for k in ("where", "having")]
            if not self.exists:
                used += self.sel.expressions
            node = prune_columns(node, self.executor, [e for e in used if e is not None])
        on = None
        if correlated:
            on = exp.and_(*correlated) if len(correlated) > 1 else correlated[0]
        return self.executor.run(node), on

    def _execute(self, value: exp.Expression, having: exp.Expression | None, aggregated: bool,
                 distinct: bool) -> Any:
        from .executor import make_relation

        ex, ctx = self.executor, self.ctx
        dev = ctx.device
        keys = [as_column(evaluate(e, ctx), ctx) for e in self.exprs]
        knames = [f"_c{i}" for i in range(len(keys))]
        outer_keys = Table(list(zip(knames, keys, strict=True)), ctx.n, dev)
        domain = ksort.distinct(outer_keys)
        dom_rel = make_relation(domain.columns,
                                [(self.dq, f"__xpdb_c{i}") for i in range(len(keys))],
                                domain.num_rows, dev)
        src, on = self._source()
        n = src.table.num_rows
        cols = [*src.table.columns, kx.literal(1, n, dev, "int8")]
        src_rel = make_relation(cols, [*src.scope.fields, (self.mq, "__xpdb_m")], n, dev,
                                src.scope.hidden)
        given = ex.given
        given[self.names["dom"]], given[self.names["src"]] = dom_rel, src_rel
        try:
            join = p.Join(p.Scan(self.names["dom"], self.dq), p.Scan(self.names["src"], self.mq),
                          "left" if aggregated else "inner", on)
            given[self.names["joined"]] = ex.run(join)
            dom_refs = [self.dom(i) for i in range(len(keys))]
            tree = exp.select(*dom_refs, value).from_(exp.to_table(self.names["joined"]))
            if aggregated:
                tree = tree.group_by(*[d.copy() for d in dom_refs])
                if having is not None:
                    tree = tree.having(having)
            if distinct:
                tree.set("distinct", exp.Distinct())
            res = ex.execute(ex.plan(tree, self.sel.meta.get("xpdb_ctes"))).table
        finally:
            for name in self.names.values():
                given.pop(name, None)
        rkeys = Table(list(zip(knames, res.columns[:len(keys)], strict=True)), res.num_rows, dev)
        if not aggregated and ksort.distinct(rkeys).num_rows < res.num_rows:
            msg = ("a correlated scalar subquery returned more than one row for an outer row; "
                   "aggregate it (min/max) or add a condition")
            raise XpdbError(msg)
        return _join_back(outer_keys, rkeys, res.columns[len(keys)], knames)


def _has_agg(e: exp.Expression) -> bool:
    from .planner import walk

    return any(is_aggregate(n) for n in walk(e, lambda x: isinstance(x, exp.Window)))


def _quantified(kind: str, op: str, lhs: exp.Expression, item: exp.Expression) -> exp.Expression:
    """``lhs op ANY/ALL (item...)`` as aggregates over the subquery's rows."""
    cmp = exp.condition(f"a {op} b")
    cmp.set("this", lhs.copy())
    cmp.set("expression", exp.Paren(this=item.copy()))
    decisive = cmp if kind == "any" else exp.Not(this=exp.Paren(this=cmp.copy()))
    flag = exp.Max(this=exp.Case(ifs=[exp.If(this=decisive, true=exp.Literal.number(1))],
                                 default=exp.Literal.number(0)))
    some_null = exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Count(this=cmp.copy()))
    hit, miss = exp.Boolean(this=kind == "any"), exp.Boolean(this=kind != "any")
    return exp.Case(ifs=[exp.If(this=exp.EQ(this=flag, expression=exp.Literal.number(1)), true=hit),
                         exp.If(this=some_null, true=exp.Null())], default=miss)


def _join_back(outer: Table, rkeys: Table, value: Column, names: list[str]) -> Column:
    """``value`` (one row per distinct key of ``rkeys``) for every row of ``outer``."""
    xp = outer.device.xp
    li, ri = kj.join_indices(outer, rkeys, names, names, "left", nulls_equal=True)
    pos = xp.full(outer.num_rows, -1, dtype=xp.int64)
    pos[li] = ri  # each outer row appears once: the keys of rkeys are distinct
    return value.take(pos, True)


__all__ = ["apply"]
