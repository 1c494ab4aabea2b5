"""Run logical plans (:mod:`xpdb.sql.plan`) on the kernels.

Every node produces a :class:`Relation`: a Table whose columns are named ``_c0, _c1...``
and a :class:`~xpdb.sql.expressions.Scope` saying which SQL (qualifier, name) each holds.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from sqlglot import exp

from .. import types as t
from ..column import Column
from ..errors import BindError, ExecutionError, NotSupportedError, XpdbError
from ..errors import TypeError as XTypeError
from ..kernels import cast as kcast
from ..kernels import expr as kx
from ..kernels import groupby as kg
from ..kernels import join as kj
from ..kernels import sort as ksort
from ..kernels import window as kw
from ..table import Table, concat_tables, missing_column_message
from . import plan as p
from .expressions import Context, Scope, as_column, canonical, evaluate, literal_value, to_mask
from .functions import AGGREGATES, function_name, positional_args
from .functions import groupby_agg as sql_groupby_agg
from .functions import groupby_agg_stream as sql_groupby_agg_stream
from .optimizer.estimate import TableStats


@dataclass
class Relation:
    """A table and the scope that names its columns (plus aggregate substitutions)."""

    table: Table
    scope: Scope
    subst: dict[str, int] = field(default_factory=dict)
    grouped: bool = False
    canon_scope: Scope | None = None

    @property
    def names(self) -> list[str]:
        return [n for _, n in self.scope.fields]


def make_relation(columns: list[Column], fields: list[tuple[str | None, str]], n: int,
                  device: Any, hidden: set[int] | None = None) -> Relation:
    """A Relation over ``columns`` (internal names ``_c0``...)."""
    table = Table([(f"_c{i}", c) for i, c in enumerate(columns)], None if columns else n, device)
    return Relation(table, Scope(list(fields), set(hidden or ())))


def _conjuncts(e: exp.Expression | None) -> list[exp.Expression]:
    if e is None:
        return []
    if isinstance(e, exp.And):
        return _conjuncts(e.this) + _conjuncts(e.expression)
    if isinstance(e, exp.Paren):
        return _conjuncts(e.this)
    return [e]


class Executor:
    """Runs plans against a catalog.

    Parameters
    ----------
    tables : mapping of str to Table
    views : mapping of str to a sqlglot query
    device : Device
    """

    def __init__(self, tables: Mapping[str, Table], views: Mapping[str, exp.Expression],
                 device: Any, *, stats: TableStats | None = None,
                 rules: tuple[str, ...] | None = None, profile: bool = False):
        self.tables, self.views, self.device = tables, views, device
        # intermediate relations of a decorrelation, scanned by name (see decorrelate.py)
        self.given: dict[str, Relation] = {}
        self.stats = stats if stats is not None else TableStats()
        self.rules = rules  # optimizer rules to run: None all, () none
        # nodes with several parents (a CTE read twice) run once; their results wait here
        self._shared: set[p.Node] = set()
        self._cache: dict[p.Node, Relation] = {}
        # results of joins and aggregations by the text of their whole subplan: a subquery
        # that repeats a join of the outer query (TPC-H Q11, Q15's view read twice) reuses it
        self._same: dict[str, Relation] = {}
        self._fingerprints: dict[p.Node, str | None] = {}
        # EXPLAIN ANALYZE: per node (seconds, rows, bytes to device, bytes to host, calls)
        self.profile: dict[p.Node, list[float]] | None = {} if profile else None
        # streaming (see streaming.py): the piece each streamed scan reads now
        self.batch: dict[p.Node, Table] = {}
        #: what EXPLAIN ANALYZE adds below the plan (streamed scans)
        self.notes: list[str] = []

    # -- entry points -------------------------------------------------------------------
    def plan(self, query: exp.Expression, ctes: Mapping[str, p.Node] | None = None) -> p.Node:
        """The optimized logical plan of a query."""
        from .optimizer import optimize
        from .planner import plan_query

        node = plan_query(query, dict(ctes) if ctes else None, catalog=self)
        return node if self.rules == () else optimize(node, self, self.rules)

    def execute(self, node: p.Node) -> Relation:
        """Execute a whole plan (its shared nodes once each)."""
        from .optimizer.tree import parent_counts

        self._shared |= {n for n, c in parent_counts(node).items() if c > 1}
        return self.run(node)

    def run(self, node: p.Node) -> Relation:
        """Execute ``node``."""
        if node in self._cache:
            return self._cache[node]
        key = self._fingerprint(node) if isinstance(node, p.Join | p.Aggregate) else None
        if key is not None and key in self._same:
            return self._same[key]
        method: Callable[[Any], Relation] = getattr(self, "_" + type(node).__name__.lower())
        if isinstance(node, p.Filter | p.Project | p.Scan | p.Alias) and self._stored:
            from .streaming import stream_source

            src = stream_source(self, node)
            if src is not None:
                method = functools.partial(self._stream_chain, src=src)
        if self.profile is None:
            rel = method(node)
        else:
            rel = self._profiled(method, node)
        if node in self._shared:
            self._cache[node] = rel
        if key is not None and rel.table.num_rows <= _REUSE_ROWS:
            self._same[key] = rel
        return rel

    def _fingerprint(self, node: p.Node) -> str | None:
        """Text identifying what ``node`` computes (None: not reusable: volatile calls, a
        decorrelation's intermediate inputs, table functions)."""
        if node in self._fingerprints:
            return self._fingerprints[node]
        from .optimizer.tree import children, is_volatile

        out: str | None
        if (isinstance(node, p.Scan) and node.name in self.given) \
                or type(node).__name__ == "TableFunction":
            out = None
        else:
            parts = [type(node).__name__]
            for f in dataclasses.fields(node):  # type: ignore[arg-type]
                v = getattr(node, f.name)
                if isinstance(v, p.Node):
                    continue
                parts.append(f"{f.name}={_text(v)}")
            kids = [self._fingerprint(c) for c in children(node)]
            volatile = any(is_volatile(e) for e in _exprs(node))
            out = None if volatile or any(k is None for k in kids) else \
                "(" + " ".join(parts + [k for k in kids if k is not None]) + ")"
        self._fingerprints[node] = out
        return out

    def _profiled(self, method: Callable[[Any], Relation], node: p.Node) -> Relation:
        import time

        assert self.profile is not None
        stats = self.device.stats
        self.device.synchronize()
        t0, d0, h0 = time.perf_counter(), stats.to_device, stats.to_host
        rel = method(node)
        self.device.synchronize()
        entry = self.profile.setdefault(node, [0.0, 0, 0, 0, 0])
        entry[0] += time.perf_counter() - t0
        entry[1] += rel.table.num_rows
        entry[2] += stats.to_device - d0
        entry[3] += stats.to_host - h0
        entry[4] += 1
        return rel

    def context(self, rel: Relation) -> Context:
        """The evaluation context of a relation (with subqueries wired to this executor)."""
        def subquery(query: exp.Expression) -> Table:
            try:
                return self.execute(self.plan(query, query.meta.get("xpdb_ctes"))).table
            except BindError as e:
                for col in query.find_all(exp.Column):
                    try:
                        rel.scope.resolve(col.name, col.table or None)
                    except BindError:
                        continue
                    msg = f"correlated subqueries are not supported yet ({col.sql()!r} refers to the outer query)"
                    raise NotSupportedError(msg) from e
                raise

        def correlated(node: exp.Expression, ctx: Context) -> Any:
            from .decorrelate import apply

            return apply(node, ctx, self)

        return Context(rel.table, rel.scope, rel.subst, rel.grouped, subquery, rel.canon_scope,
                       correlated)

    # -- leaves -------------------------------------------------------------------------
    def _scan(self, node: p.Scan) -> Relation:
        if node in self.batch:  # a piece of a streamed scan
            piece = self.batch[node]
            rel = make_relation(piece.columns, [(node.alias, n) for n in piece.names],
                                piece.num_rows, self.device)
            return self._scan_filters(node, rel)
        if node.name in self.given:
            return self.given[node.name]
        if node.name in self.views:
            rel = self.execute(self.plan(self.views[node.name]))
            return self._rename(rel, node.alias, [])
        table = self.tables.get(node.name)
        if table is None:
            lower = {k.lower(): k for k in self.tables}
            if node.name.lower() in lower:
                table = self.tables[lower[node.name.lower()]]
            else:
                names = list(self.tables) + list(self.views)
                raise BindError(missing_column_message(node.name, names, "table"))
        if node.version is not None:
            table = self._versioned(table, node)
        names = table.names if node.columns is None else node.columns
        if hasattr(table, "load"):  # a stored table: one read for the missing columns
            for n in names:
                if n not in table:
                    raise BindError(missing_column_message(n, table.names))
            columns = table.load(names)
        else:
            columns = [table.column(n) for n in names]
        rel = make_relation(columns, [(node.alias, n) for n in names], table.num_rows,
                            self.device)
        return self._scan_filters(node, rel)

    def _scan_filters(self, node: p.Scan, rel: Relation) -> Relation:
        if node.filters:
            ctx = self.context(rel)
            mask = None
            for pred in node.filters:
                m = to_mask(evaluate(pred, ctx), ctx)
                mask = m if mask is None else mask & m
            rel = Relation(rel.table.filter(mask), rel.scope)
        return rel

    def _versioned(self, table: Any, node: p.Scan) -> Any:
        """``table`` at ``node.version`` (time travel reads a stored table's old commit)."""
        from ..storage.stored_table import StoredTable

        if not isinstance(table, StoredTable):
            msg = (f"{node.name} VERSION AS OF {node.version}: only stored tables have "
                   "versions (open the database with xpdb.connect(path))")
            raise NotSupportedError(msg)
        return StoredTable(table.store, table.name, self.device, table.cache, node.version)

    @functools.cached_property
    def _stored(self) -> bool:
        """Whether any catalog table is stored (only those are ever streamed)."""
        return any(hasattr(tb, "batches") for tb in self.tables.values())

    def _stream_chain(self, node: p.Node, src: tuple[p.Scan, Any, list[str]]) -> Relation:
        """``node`` (filters and projections over a too-large stored scan) piece by piece,
        the pieces' results concatenated."""
        from .streaming import pieces

        scan, table, names = src
        parts = []
        for _ in pieces(self, scan, table, names):
            parts.append(self.run(node))
        rel = parts[0]
        if len(parts) == 1:
            return rel
        with self.device.guard():
            out = concat_tables([r.table for r in parts])
        return Relation(out, rel.scope, rel.subst, rel.grouped, rel.canon_scope)

    def _permute(self, node: p.Permute) -> Relation:
        rel = self.run(node.child)
        cols = [rel.table.columns[j] for j in node.order]
        fields = [rel.scope.fields[j] for j in node.order]
        hidden = {i for i, j in enumerate(node.order) if j in rel.scope.hidden}
        return make_relation(cols, fields, rel.table.num_rows, self.device, hidden)

    def _onerow(self, node: p.OneRow) -> Relation:
        return make_relation([], [], 1, self.device)

    def _tablefunction(self, node: p.TableFunction) -> Relation:
        from .table_functions import run_table_function

        table = run_table_function(node, self.device)
        return make_relation(table.columns, [(node.alias, n) for n in table.names],
                             table.num_rows, self.device)

    def _values(self, node: p.Values) -> Relation:
        one = self.context(self._onerow(p.OneRow()))
        columns = []
        for j in range(len(node.names)):
            vals = []
            for row in node.rows:
                v = evaluate(row[j], one)
                vals.append(v.to_pylist()[0] if isinstance(v, Column) else v)
            try:
                arr = pa.array(vals)
            except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
                msg = f"VALUES column {j + 1} mixes types that have no common type: {vals!r}"
                raise XTypeError(msg) from e
            if pa.types.is_null(arr.type):
                arr = arr.cast(pa.int32())
            columns.append(Column.from_arrow(arr, self.device))
        return make_relation(columns, [(None, n) for n in node.names], len(node.rows), self.device)

    def _alias(self, node: p.Alias) -> Relation:
        return self._rename(self.run(node.child), node.alias, node.columns)

    def _rename(self, rel: Relation, alias: str, columns: list[str]) -> Relation:
        names = rel.names
        if len(columns) > len(names):
            msg = f"{alias!r} has {len(names)} columns but {len(columns)} names were given"
            raise BindError(msg)
        names = list(columns) + names[len(columns):]
        visible = [i for i in range(len(names)) if i not in rel.scope.hidden]
        cols = [rel.table.columns[i] for i in visible]
        return make_relation(cols, [(alias, names[i]) for i in visible], rel.table.num_rows,
                             self.device)

    # -- filters and joins ----------------------------------------------------------------
    def _filter(self, node: p.Filter) -> Relation:
        preds = _conjuncts(node.predicate)
        if isinstance(node.child, p.Join) and (
                node.child.kind == "cross" or (self.rules == () and node.child.kind == "inner")):
            # an unoptimized plan (or a cross join the optimizer could not turn into a join):
            # the executor places WHERE terms as join conditions itself. Optimized inner joins
            # already hold theirs; what stays above them cannot be a join condition.
            rel, rest = self._join_with(node.child, preds)
        else:
            rel, rest = self.run(node.child), preds
        if not rest:
            return rel
        from .optimizer.tree import has_subquery

        # terms with a subquery last, one at a time, each on the rows the terms before keep:
        # a correlated subquery's domain (and join) then covers only those rows
        cheap = [e for e in rest if not has_subquery(e)]
        stages = [cheap] + [[e] for e in rest if has_subquery(e)]
        for stage in stages:
            if not stage:
                continue
            ctx = self.context(rel)
            mask = None
            for pred in stage:
                m = to_mask(evaluate(pred, ctx), ctx)
                mask = m if mask is None else mask & m
            rel = Relation(rel.table.filter(mask), rel.scope, rel.subst, rel.grouped,
                           rel.canon_scope)
        return rel

    def _join(self, node: p.Join) -> Relation:
        if self._stored:
            from .streaming import co_sharded, shard_pairs

            sides = co_sharded(self, node)
            if sides is not None:  # too large at once: shard pair by shard pair
                parts = [self._join_with(node, [])[0] for _ in shard_pairs(self, *sides)]
                with self.device.guard():
                    out = concat_tables([r.table for r in parts])
                return Relation(out, parts[0].scope, parts[0].subst, parts[0].grouped,
                                parts[0].canon_scope)
        return self._join_with(node, [])[0]

    def _join_with(self, node: p.Join, extra: list[exp.Expression]
                   ) -> tuple[Relation, list[exp.Expression]]:
        inner = node.kind in ("inner", "cross")
        if extra and inner and isinstance(node.left, p.Join) and node.left.kind in ("inner", "cross"):
            left, extra = self._join_with(node.left, extra)
        else:
            left = self.run(node.left)
        right = self.run(node.right)
        nl = len(left.scope.fields)
        both = Scope(left.scope.fields + right.scope.fields,
                     left.scope.hidden | {i + nl for i in right.scope.hidden})
        conds = _conjuncts(node.on)
        rest = []
        for e in extra if inner else []:
            (conds if _resolves(e, both) else rest).append(e)
        if not inner:
            rest = list(extra)
        lkeys, rkeys, residual = [], [], []
        for c in conds:
            pair = _equi_pair(c, left.scope, right.scope)
            if pair is None:
                residual.append(c)
            else:
                lkeys.append(pair[0])
                rkeys.append(pair[1])
        for name in node.using:
            lkeys.append(exp.column(name))
            rkeys.append(exp.column(name))
        spatial = None
        if not lkeys and residual:  # an indexed spatial join instead of a cross product?
            from .spatial import spatial_join

            spatial = spatial_join(self, left, right, residual, node.kind)
        if spatial is not None:
            li, ri, residual = spatial
        else:
            li, ri = self._match(left, right, lkeys, rkeys, node.kind)
        xp = self.device.xp
        cols = self._combine(left, right, li, ri, False)
        if residual:
            ctx = self.context(make_relation(cols, both.fields, int(li.shape[0]), self.device))
            mask = None
            for r in residual:
                m = to_mask(evaluate(r, ctx), ctx)
                mask = m if mask is None else mask & m
            li, ri = li[mask], ri[mask]
        outer = False
        if node.kind in ("left", "outer"):
            li, ri, outer = *_add_unmatched(xp, li, ri, left.table.num_rows), True
        if node.kind in ("right", "outer"):
            ri, li, outer = *_add_unmatched(xp, ri, li, right.table.num_rows), True
        if residual or outer:
            cols = self._combine(left, right, li, ri, outer)
        hidden = set(both.hidden)
        for name in node.using:
            lpos = left.scope.resolve(name)
            rpos = right.scope.resolve(name)
            lc, rc = cols[lpos], cols[nl + rpos]
            if node.kind == "right":
                cols[lpos] = rc
            elif node.kind == "outer":
                cols[lpos] = kx.coalesce(lc, rc)
            hidden.add(nl + rpos)
        return make_relation(cols, both.fields, int(li.shape[0]), self.device, hidden), rest

    def _match(self, left: Relation, right: Relation, lkeys: list[exp.Expression],
               rkeys: list[exp.Expression], kind: str) -> tuple[Any, Any]:
        if not lkeys:
            return kj.join_indices(left.table, right.table, [], [], "cross")
        lctx, rctx = self.context(left), self.context(right)
        lt = Table([(f"k{i}", as_column(evaluate(e, lctx), lctx)) for i, e in enumerate(lkeys)],
                   left.table.num_rows, self.device)
        rt = Table([(f"k{i}", as_column(evaluate(e, rctx), rctx)) for i, e in enumerate(rkeys)],
                   right.table.num_rows, self.device)
        names = lt.names
        if lt.num_rows < rt.num_rows:
            # build on the smaller input (row order is free in SQL): the kernel builds on
            # its right argument
            ri, li = kj.join_indices(rt, lt, names, names, "inner")
            return li, ri
        return kj.join_indices(lt, rt, names, names, "inner")

    def _combine(self, left: Relation, right: Relation, li: Any, ri: Any, outer: bool
                 ) -> list[Column]:
        return ([c.take(li, outer) for c in left.table.columns]
                + [c.take(ri, outer) for c in right.table.columns])

    # -- aggregation and windows --------------------------------------------------------
    def _aggregate(self, node: p.Aggregate) -> Relation:
        if node.sets is not None:
            from .grouping_sets import aggregate

            return aggregate(self, node)
        from .streaming import stream_source, streamable_aggregate

        src = stream_source(self, node.child) if self._stored else None
        if src is not None and streamable_aggregate(node):
            return self._aggregate_stream(node, src)
        child = self.run(node.child)
        table, keys, aggs, key_exprs = self._agg_input(node, child)
        # SQL's sum overflow rule (raise, not wrap) around kg.groupby_agg / kg.aggregate
        out = self._agg_kernel(node, lambda: sql_groupby_agg(table, keys, aggs))
        return self._agg_output(node, child, out, keys, aggs, key_exprs)

    def _aggregate_stream(self, node: p.Aggregate, src: tuple[p.Scan, Any, list[str]]
                          ) -> Relation:
        """An aggregation over a too-large stored scan: each piece's rows are reduced to
        partial aggregates before the next piece is read."""
        from .streaming import pieces

        scan, table, names = src
        first: list[Any] = []

        def inputs() -> Iterator[Table]:
            for _ in pieces(self, scan, table, names):
                child = self.run(node.child)
                got = self._agg_input(node, child)
                if not first:
                    first.extend([child, *got[1:]])
                yield got[0]

        it = inputs()
        head = next(it)
        child, keys, aggs, key_exprs = first
        with self.device.guard():
            out = self._agg_kernel(node, lambda: sql_groupby_agg_stream(
                itertools.chain([head], it), keys, aggs))
        return self._agg_output(node, child, out, keys, aggs, key_exprs)

    def _agg_kernel(self, node: p.Aggregate, run: Callable[[], Table]) -> Table:
        try:
            return run()
        except ExecutionError as e:  # the kernels know only hidden column names
            texts = ", ".join(a.sql(dialect="duckdb") for a in node.aggs)
            raise ExecutionError(f"{e} (computing {texts})") from e

    def _agg_input(self, node: p.Aggregate, child: Relation
                   ) -> tuple[Table, list[str], list[kg.Agg], list[exp.Expression]]:
        """The table an aggregation groups (key and argument columns) and its specs."""
        ctx = self.context(child)
        n = child.table.num_rows
        pre: list[tuple[str, Column]] = [("__one", kx.literal(1, n, self.device, "int8"))]
        keys = []
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
            keys.append(f"__k{i}")
        aggs = []
        for j, a in enumerate(node.aggs):
            aggs.append(self._agg_spec(a, j, ctx, pre, one_key_set=True))
        return Table(pre, n, self.device), keys, aggs, key_exprs

    def _agg_output(self, node: p.Aggregate, child: Relation, out: Table, keys: list[str],
                    aggs: list[kg.Agg], key_exprs: list[exp.Expression]) -> Relation:
        subst = {canonical(k, child.scope): i for i, k in enumerate(key_exprs)}
        for j, a in enumerate(node.aggs):
            subst[canonical(a, child.scope)] = len(keys) + j
        cols = [out.column(k) for k in keys] + [out.column(a.name) for a in aggs]
        rel = make_relation(cols, [(None, f"__g{i}") for i in range(len(cols))],
                            out.num_rows, self.device)
        return Relation(rel.table, rel.scope, subst, True, child.scope)

    def _agg_spec(self, a: exp.Expression, j: int, ctx: Context,
                  pre: list[tuple[str, Column]], one_key_set: bool = False) -> kg.Agg:
        if isinstance(a, exp.Filter):
            # agg(x) FILTER (WHERE c) is agg(CASE WHEN c THEN x END); count(*) counts rows
            cond = a.expression.this
            a = a.this.copy()
            if isinstance(a, exp.Count) and (a.this is None or isinstance(a.this, exp.Star)):
                a.set("this", exp.Literal.number(1))
            target = a.this.expressions[0] if isinstance(a.this, exp.Distinct) else a.this
            target.replace(exp.Case(ifs=[exp.If(this=cond.copy(), true=target.copy())]))
        name = function_name(a)
        arg = a.this if isinstance(a, exp.Count) else None
        if isinstance(a, exp.Count) and (arg is None or isinstance(arg, exp.Star)):
            return kg.Agg("count_star", None, f"__r{j}")
        if AGGREGATES.get(name) == "string_agg":  # before DISTINCT: it has options
            return self._string_agg_spec(a, j, ctx, pre, one_key_set)
        if isinstance(arg, exp.Distinct):
            if name != "count" or len(arg.expressions) != 1:
                raise NotSupportedError(f"{name}(DISTINCT ...) is not supported yet")
            pre.append((f"__a{j}", as_column(evaluate(arg.expressions[0], ctx), ctx)))
            return kg.Agg("count_distinct", f"__a{j}", f"__r{j}")
        distinct = next((x for x in a.iter_expressions() if isinstance(x, exp.Distinct)), None)
        if distinct is not None:
            from .functions import distinct_aggregate

            return distinct_aggregate(name, distinct, j, ctx, pre, one_key_set)
        func = AGGREGATES.get(name)
        args = positional_args(a)
        if func is None or not args:
            raise NotSupportedError(f"aggregate function {name}() is not supported yet")
        if func == "count_if":
            # DuckDB's count_if is the sum of its condition as an integer (null without one)
            cond = as_column(evaluate(args[0], ctx), ctx)
            if not cond.dtype.is_bool:
                raise XTypeError(f"count_if takes a condition, got {cond.dtype}; compare "
                                 "it with something first")
            pre.append((f"__a{j}", kcast.cast(cond, t.int64)))
            return kg.Agg("sum", f"__a{j}", f"__r{j}")
        pre.append((f"__a{j}", as_column(evaluate(args[0], ctx), ctx)))
        options: dict[str, Any] = {}
        if func in ("quantile", "quantile_disc") and len(args) > 1:
            q = literal_value(args[1])
            if not isinstance(q, int | float):
                raise NotSupportedError(f"{name}() takes one constant fraction for now")
            options["q"] = float(q)
        if func in ("arg_max", "arg_min") and len(args) != 2:
            raise BindError(f"{name}(arg, val) takes two arguments, got {len(args)}")
        if func in ("corr", "covar_pop", "covar_samp", "arg_max", "arg_min") and len(args) > 1:
            pre.append((f"__b{j}", as_column(evaluate(args[1], ctx), ctx)))
            options["other"] = f"__b{j}"
        return kg.Agg(func, f"__a{j}", f"__r{j}", options)

    def _string_agg_spec(self, a: exp.Expression, j: int, ctx: Context,
                         pre: list[tuple[str, Column]], one_key_set: bool) -> kg.Agg:
        """``string_agg([DISTINCT] x [, sep] [ORDER BY ...])`` (``group_concat``,
        ``listagg``): the separator must be a constant (DuckDB's rule); ORDER BY keys
        become input columns; DISTINCT keeps each value's first row."""
        this, sep_node = a.this, a.args.get("separator")
        order: list[tuple[str, bool, bool]] = []
        if isinstance(this, exp.Order):
            for i, o in enumerate(this.expressions):
                name = f"__o{j}_{i}"
                pre.append((name, as_column(evaluate(o.this, ctx), ctx)))
                desc = bool(o.args.get("desc"))
                # DuckDB's default: NULLS LAST for ASC and DESC alike
                nulls_first = o.args.get("nulls_first")
                order.append((name, desc, not nulls_first if nulls_first is not None else True))
            this = this.this
        sep: Any = ","
        if sep_node is not None:
            if not isinstance(sep_node, exp.Literal | exp.Null):
                raise BindError(f"the separator of {a.sql(dialect='duckdb')} must be a "
                                "constant string")
            sep = literal_value(sep_node)
            sep = None if sep is None else str(sep)
        if isinstance(this, exp.Distinct):
            from .functions import distinct_aggregate

            distinct_aggregate("string_agg", this, j, ctx, pre, one_key_set)  # adds __a{j}
        else:
            pre.append((f"__a{j}", as_column(evaluate(this, ctx), ctx)))
        return kg.Agg("string_agg", f"__a{j}", f"__r{j}", {"sep": sep, "order": order})

    def _window(self, node: p.Window) -> Relation:
        child = self.run(node.child)
        ctx = self.context(child)
        cols = list(child.table.columns)
        fields = list(child.scope.fields)
        subst = dict(child.subst)
        canon = child.canon_scope or child.scope
        for w in node.funcs:
            cols.append(self._window_column(w, ctx))
            fields.append((None, f"__w{len(cols)}"))
            subst[canonical(w, canon)] = len(cols) - 1
        rel = make_relation(cols, fields, child.table.num_rows, self.device, child.scope.hidden)
        return Relation(rel.table, rel.scope, subst, child.grouped, child.canon_scope)

    def _window_column(self, w: exp.Window, ctx: Context) -> Column:
        frame, frame_type = _frame(w.args.get("spec"))
        f = w.this
        name = function_name(f)
        name = {"rownumber": "row_number", "denserank": "dense_rank", "percentrank":
                "percent_rank", "cumedist": "cume_dist", "firstvalue": "first_value",
                "lastvalue": "last_value", "avg": "mean"}.get(name, name)
        if name not in kw.FUNCTIONS and not isinstance(f, exp.Count):
            raise NotSupportedError(f"window function {name}() is not supported yet")
        cols: list[tuple[str, Column]] = []
        part = []
        for i, e in enumerate(w.args.get("partition_by") or []):
            cols.append((f"__p{i}", as_column(evaluate(e, ctx), ctx)))
            part.append(f"__p{i}")
        order, desc, nlast = [], [], []
        order_node = w.args.get("order")
        for i, o in enumerate(order_node.expressions if order_node is not None else []):
            cols.append((f"__o{i}", as_column(evaluate(o.this, ctx), ctx)))
            order.append(f"__o{i}")
            desc.append(bool(o.args.get("desc")))
            nlast.append(not o.args.get("nulls_first"))
        args = positional_args(f)
        column = None
        offset, default = 1, None
        if isinstance(f, exp.Count) and (not args or isinstance(args[0], exp.Star)):
            name = "count_star"
        elif args:
            cols.append(("__x", as_column(evaluate(args[0], ctx), ctx)))
            column = "__x"
            if len(args) > 1:
                offset = int(literal_value(args[1]))
            if len(args) > 2:
                default = literal_value(args[2])
        if name not in kw.FUNCTIONS:
            raise NotSupportedError(f"window function {name}() is not supported yet")
        table = Table(cols, ctx.n, self.device) if cols else Table((), ctx.n, self.device)
        if not cols:
            table = Table([("__one", kx.literal(1, ctx.n, self.device, "int8"))], None, self.device)
        func = kw.WindowFunc(name, column, "__out", offset, default, frame, frame_type)
        out = kw.window(table, part, order, [func],
                        descending=desc or False, nulls_last=nlast or True)
        return out.column("__out")

    # -- projection and ordering ----------------------------------------------------------
    def _project(self, node: p.Project) -> Relation:
        child = self.run(node.child)
        ctx = self.context(child)
        cols, fields = [], []
        for name, e in node.items:
            if isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star)):
                if child.grouped and child.canon_scope is not None:
                    # * over a grouped input: every column must be a group key (DuckDB)
                    src = child.canon_scope
                    for i in _star(e, src):
                        q, n = src.fields[i]
                        cols.append(as_column(evaluate(exp.column(n, q), ctx), ctx))
                        fields.append((None, n))
                    continue
                for i in _star(e, child.scope):
                    if child.grouped:
                        raise BindError("SELECT * is not allowed with GROUP BY; list the columns")
                    cols.append(child.table.columns[i])
                    fields.append((None, child.scope.fields[i][1]))
                continue
            cols.append(as_column(evaluate(e, ctx), ctx))
            if isinstance(e, exp.Column) and name == e.name:
                # an unaliased column is named as stored (identifiers are case-insensitive)
                scope = child.canon_scope or child.scope
                name = scope.fields[scope.resolve(e.name, e.table or None)][1]  # noqa: PLW2901
            fields.append((None, name))
        return make_relation(cols, fields, child.table.num_rows, self.device)

    def _distinct(self, node: p.Distinct) -> Relation:
        rel = self.run(node.child)
        if not rel.table.names:
            return rel
        return Relation(ksort.distinct(rel.table), rel.scope)

    def _sort(self, node: p.Sort) -> Relation:
        rel = self.run(node.child)
        idx = []
        for key, _, _ in node.keys:
            idx.append(rel.scope.resolve(key) if isinstance(key, str) else key)
        names = [rel.table.names[i] for i in idx]
        order = ksort.sort_indices(rel.table, names, [d for _, d, _ in node.keys],
                                   [nl for _, _, nl in node.keys])
        return Relation(rel.table.take(order), rel.scope)

    def _limit(self, node: p.Limit) -> Relation:
        rel = self.run(node.child)
        stop = None if node.limit is None else node.offset + node.limit
        return Relation(rel.table.slice(node.offset, stop), rel.scope)

    def _head(self, node: p.Head) -> Relation:
        rel = self.run(node.child)
        w = len(rel.scope.fields) - node.hidden
        return make_relation(rel.table.columns[:w], rel.scope.fields[:w], rel.table.num_rows,
                             self.device)

    def _setop(self, node: p.SetOp) -> Relation:
        left, right = self.run(node.left), self.run(node.right)
        lt, rt = _visible(left), _visible(right)
        if len(lt.names) != len(rt.names):
            msg = (f"{node.kind.upper()} needs the same number of columns on both sides, got "
                   f"{len(lt.names)} and {len(rt.names)}")
            raise BindError(msg)
        lcols, rcols = [], []
        for pair in zip(lt.columns, rt.columns, strict=True):
            a, b = _unify_types(*pair)
            lcols.append(a)
            rcols.append(b)
        names = [f"_c{i}" for i in range(len(lcols))]
        lt = Table(list(zip(names, lcols, strict=True)), lt.num_rows, self.device)
        rt = Table(list(zip(names, rcols, strict=True)), rt.num_rows, self.device)
        if node.kind == "union":
            out = concat_tables([lt, rt])
            if node.distinct:
                out = ksort.distinct(out)
        else:
            if not node.distinct:
                raise NotSupportedError(f"{node.kind.upper()} ALL is not supported yet")
            how = "semi" if node.kind == "intersect" else "anti"
            base = ksort.distinct(lt)
            li, _ = kj.join_indices(base, rt, names, names, how, nulls_equal=True)
            out = base.take(li)
        vis = [f for i, f in enumerate(left.scope.fields) if i not in left.scope.hidden]
        fields = [(None, n) for _, n in vis]
        return make_relation(out.columns, fields, out.num_rows, self.device)


_REUSE_ROWS = 1 << 21  # larger intermediate results are not kept for reuse (memory)


def _text(v: Any) -> str:
    if isinstance(v, exp.Expression):
        return v.sql(dialect="duckdb")
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_text(x) for x in v) + "]"
    return repr(v)


def _exprs(node: p.Node) -> list[exp.Expression]:
    from .optimizer.tree import expressions

    return expressions(node)


def _frame(spec: exp.Expression | None) -> tuple[tuple[int | None, int | None] | None, str]:
    """A WindowSpec as the window kernel's (lo, hi) offsets and frame type."""
    if spec is None:
        return None, "rows"
    kind = str(spec.args.get("kind") or "rows").lower()
    if kind not in ("rows", "range") or spec.args.get("exclude"):
        raise NotSupportedError(f"window frame {spec.sql(dialect='duckdb')!r} is not supported yet")

    def bound(which: str) -> int | None:
        value = spec.args.get(which)
        side = str(spec.args.get(f"{which}_side") or "").lower()
        text = value.upper() if isinstance(value, str) else None
        if text == "UNBOUNDED":
            return None
        if text == "CURRENT ROW" or value is None:
            return 0
        n = int(literal_value(value))
        return -n if side == "preceding" else n

    lo, hi = bound("start"), bound("end")
    if kind == "range" and (lo not in (None, 0) or hi not in (None, 0)):
        raise NotSupportedError("RANGE frames with offsets are not supported yet; use ROWS")
    return (lo, hi), kind


def _visible(rel: Relation) -> Table:
    keep = [n for i, n in enumerate(rel.table.names) if i not in rel.scope.hidden]
    return rel.table.select(keep)


def _unify_types(a: Column, b: Column) -> tuple[Column, Column]:
    if a.dtype == b.dtype:
        return a, b
    if a.null_count == len(a) and len(a):
        return kcast.cast(a, b.dtype), b
    if b.null_count == len(b) and len(b):
        return a, kcast.cast(b, a.dtype)
    try:
        to = t.common_numeric(a.dtype, b.dtype)
    except XpdbError:
        if len(a) == 0:
            return kcast.cast(a, b.dtype), b
        if len(b) == 0:
            return a, kcast.cast(b, a.dtype)
        msg = f"set operation columns have types {a.dtype} and {b.dtype} with no common type; cast one"
        raise XTypeError(msg) from None
    return kcast.cast(a, to), kcast.cast(b, to)


def _star(e: exp.Expression, scope: Scope) -> list[int]:
    qualifier = e.table if isinstance(e, exp.Column) else None
    star = e.this if isinstance(e, exp.Column) else e
    excluded = {c.name for c in (star.args.get("except_") or star.args.get("except") or [])}
    for key in ("replace", "rename"):
        if star.args.get(key):
            raise NotSupportedError(f"SELECT * {key.upper()} is not supported yet")
    out = []
    for i, (q, n) in enumerate(scope.fields):
        if i in scope.hidden or n in excluded:
            continue
        if qualifier and q != qualifier:
            continue
        out.append(i)
    if qualifier and not any(q == qualifier for q, _ in scope.fields):
        quals = sorted({q for q, _ in scope.fields if q})
        raise BindError(missing_column_message(qualifier, quals, "table"))
    return out


def _add_unmatched(xp: Any, idx: Any, other: Any, n: int) -> tuple[Any, Any]:
    matched = xp.zeros(n, dtype=bool)
    matched[idx[idx >= 0]] = True  # every writer writes True, so duplicates are harmless
    missing = xp.flatnonzero(~matched).astype(idx.dtype if idx.size else "int64")
    pad = xp.full(missing.shape[0], -1, dtype=missing.dtype)
    return xp.concatenate([idx, missing]), xp.concatenate([other.astype(missing.dtype), pad])


def _side(e: exp.Expression, left: Scope, right: Scope) -> str | None:
    cols = list(e.find_all(exp.Column))
    if not cols or e.find(exp.Subquery, exp.Query) is not None:
        return None
    sides = set()
    for c in cols:
        in_l, in_r = _can(left, c), _can(right, c)
        if in_l == in_r:
            return None
        sides.add("l" if in_l else "r")
    return sides.pop() if len(sides) == 1 else None


def _can(scope: Scope, c: exp.Column) -> bool:
    try:
        scope.resolve(c.name, c.table or None)
    except BindError:
        return False
    return True


def _resolves(e: exp.Expression, scope: Scope) -> bool:
    if e.find(exp.Subquery, exp.Query) is not None:
        return False
    return all(_can(scope, c) for c in e.find_all(exp.Column))


def _equi_pair(c: exp.Expression, left: Scope, right: Scope
               ) -> tuple[exp.Expression, exp.Expression] | None:
    if not isinstance(c, exp.EQ):
        return None
    a, b = _side(c.this, left, right), _side(c.expression, left, right)
    if a == "l" and b == "r":
        return c.this, c.expression
    if a == "r" and b == "l":
        return c.expression, c.this
    return None


__all__ = ["Executor", "Relation", "make_relation"]
