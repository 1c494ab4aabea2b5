"""sqlglot syntax trees to logical plans (:mod:`xpdb.sql.plan`).

Names are bound when the plan runs (the executor resolves columns against each node's
input); the planner resolves what is syntactic: CTEs, select-list aliases and ordinals in
GROUP BY and ORDER BY, aggregate and window calls, hidden ORDER BY keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from sqlglot import exp

from ..errors import BindError, NotSupportedError
from . import plan as p
from .expressions import literal_value
from .functions import is_aggregate

#: The catalog (an Executor: tables, views) of the query being planned, for what needs
#: column names before anything runs (NATURAL JOIN); unset when planning a view's schema.
_CATALOG: ContextVar[Any] = ContextVar("xpdb_planner_catalog", default=None)


def plan_query(tree: exp.Expression, ctes: dict[str, p.Node] | None = None,
               catalog: Any = None) -> p.Node:
    """The logical plan of a query (SELECT, set operation, VALUES, parenthesized query).

    ``catalog`` (an Executor) lets the planner read the columns of its inputs, which
    NATURAL JOIN needs; nested calls inherit it.
    """
    if catalog is not None:
        token = _CATALOG.set(catalog)
        try:
            return plan_query(tree, ctes)
        finally:
            _CATALOG.reset(token)
    ctes = dict(ctes or {})
    with_ = tree.args.get("with_")
    if with_ is not None:
        if with_.args.get("recursive"):
            raise NotSupportedError("WITH RECURSIVE is not supported yet")
        for cte in with_.expressions:
            cols = [c.name for c in cte.args["alias"].columns] if cte.args.get("alias") else []
            ctes[cte.alias] = p.Alias(plan_query(cte.this, ctes), cte.alias, cols)
    if ctes:
        # subqueries inside expressions are planned when they run: let them see the CTEs
        for sub in tree.find_all(exp.Query):
            if sub is not tree:
                sub.meta.setdefault("xpdb_ctes", ctes)
    if isinstance(tree, exp.Select):
        return _select(tree, ctes)
    if isinstance(tree, exp.Subquery):
        return _finish(plan_query(tree.this, ctes), tree, None)
    if isinstance(tree, exp.SetOperation):
        kind = {exp.Union: "union", exp.Intersect: "intersect", exp.Except: "except"}[type(tree)]
        node = p.SetOp(kind, plan_query(tree.this, ctes), plan_query(tree.expression, ctes),
                       bool(tree.args.get("distinct")))
        return _finish(node, tree, None)
    if isinstance(tree, exp.Values):
        return _values(tree)
    raise NotSupportedError(f"{type(tree).__name__} is not a query xpdb can run yet")


def _values(node: exp.Values) -> p.Values:
    rows = [list(r.expressions) if isinstance(r, exp.Tuple) else [r] for r in node.expressions]
    width = len(rows[0])
    if any(len(r) != width for r in rows):
        raise BindError("every row of a VALUES list must have the same number of values")
    return p.Values(rows, [f"col{i}" for i in range(width)])


def _finish(node: p.Node, tree: exp.Expression, names: list[str] | None) -> p.Node:
    """ORDER BY / LIMIT / OFFSET written on a set operation or a parenthesized query."""
    order = tree.args.get("order")
    if order is not None:
        keys = []
        for o in order.expressions:
            key = o.this
            if isinstance(key, exp.Literal) and not key.is_string:
                idx = int(key.this) - 1
            elif isinstance(key, exp.Column) and names is None:
                keys.append((key.name, bool(o.args.get("desc")), not o.args.get("nulls_first")))
                continue
            else:
                raise NotSupportedError("ORDER BY on a set operation takes column names or ordinals")
            keys.append((idx, bool(o.args.get("desc")), not o.args.get("nulls_first")))
        node = p.Sort(node, keys)  # names are resolved by the executor
    return _limit(node, tree)


def _limit(node: p.Node, tree: exp.Expression) -> p.Node:
    limit, offset = tree.args.get("limit"), tree.args.get("offset")
    if limit is None and offset is None:
        return node
    lim = int(literal_value(limit.expression)) if limit is not None else None
    off = int(literal_value(offset.expression)) if offset is not None else 0
    return p.Limit(node, lim, off)


def _version_of(item: exp.Table) -> int | None:
    """The n of ``FROM t VERSION AS OF n`` / ``FROM t AT (VERSION => n)`` (time travel)."""
    spec = item.args.get("version") or item.args.get("when")
    if spec is None:
        return None
    kind = str(spec.this if isinstance(spec, exp.Version) else spec.args.get("kind")).upper()
    value = spec.expression
    if kind != "VERSION" or not (isinstance(value, exp.Literal) and not value.is_string
                                  and value.this.isdigit()):
        msg = (f"time travel reads a version number: {item.sql()!r}; write "
               f"'FROM {item.name} VERSION AS OF <n>' (timestamps are not supported yet)")
        raise NotSupportedError(msg)
    return int(value.this)


def _from_item(item: exp.Expression, ctes: dict[str, p.Node]) -> p.Node:
    alias_node = item.args.get("alias")
    cols = [c.name for c in alias_node.columns] if isinstance(alias_node, exp.TableAlias) else []
    if isinstance(item, exp.Table):
        if not isinstance(item.this, exp.Identifier):
            from .table_functions import plan_table_function

            return plan_table_function(item, cols)
        name = item.name
        alias = item.alias or name
        reader = _file_reader(item)
        if reader is not None and name not in ctes:
            # FROM 'trips.parquet': DuckDB's replacement scan, the table named after the file
            stem = name.replace("\\", "/").rsplit("/", 1)[-1].split(".", 1)[0] or name
            return p.TableFunction(reader, [exp.Literal.string(name)], {}, item.alias or stem,
                                   cols)
        if name in ctes:
            cte = ctes[name]
            assert isinstance(cte, p.Alias)
            return p.Alias(cte.child, alias, cols or cte.columns)
        node: p.Node = p.Scan(name, alias, version=_version_of(item))
        return p.Alias(node, alias, cols) if cols else node
    if isinstance(item, exp.Subquery):
        if not item.alias:
            return p.Alias(plan_query(item.this, ctes), "unnamed_subquery", cols)
        return p.Alias(plan_query(item.this, ctes), item.alias, cols)
    if isinstance(item, exp.Values):
        return p.Alias(_values(item), item.alias or "valueslist", cols)
    raise NotSupportedError(f"{type(item).__name__} in FROM is not supported yet")


_FILE_READERS = {".csv": "read_csv", ".tsv": "read_csv",
                 ".parquet": "read_parquet", ".json": "read_json", ".jsonl": "read_json",
                 ".ndjson": "read_json"}


def _file_reader(item: exp.Table) -> str | None:
    """The table function that reads ``FROM 'path.ext'`` (a quoted name ending in a file
    extension xpdb reads, optionally compressed), or None for a table name."""
    ident = item.this
    if not ident.args.get("quoted") or item.args.get("db") or item.args.get("catalog"):
        return None
    name = ident.name.lower()
    for comp in (".gz", ".zst", ".bz2", ".lz4"):
        name = name.removesuffix(comp)
    return next((f for ext, f in _FILE_READERS.items() if name.endswith(ext)), None)


def _natural_using(left: p.Node, right: p.Node, text: str) -> list[str]:
    """The columns a NATURAL JOIN joins on: the names both inputs show (left's order)."""
    catalog = _CATALOG.get()
    if catalog is None:
        raise BindError(f"{text!r}: NATURAL JOIN needs the catalog to find its columns")
    from .optimizer.schema import Schemas

    schemas = Schemas(catalog)
    scopes = [schemas(left), schemas(right)]
    if scopes[0] is None or scopes[1] is None:
        msg = (f"{text!r}: NATURAL JOIN needs inputs whose columns are known before they are "
               "read (not a table function or a query with errors); write JOIN ... USING (...)")
        raise NotSupportedError(msg)
    lnames, rnames = ([n for i, (_, n) in enumerate(s.fields) if i not in s.hidden]
                      for s in scopes)
    rlower = {n.lower() for n in rnames}
    common: list[str] = []
    for n in lnames:
        if n.lower() in rlower and n.lower() not in {c.lower() for c in common}:
            common.append(n)
    if not common:
        msg = (f"{text!r}: no columns to join on in NATURAL JOIN (left: {lnames}, right: "
               f"{rnames}); use CROSS JOIN for a cross product")
        raise BindError(msg)
    return common


def _source(sel: exp.Select, ctes: dict[str, p.Node]) -> p.Node:
    from_ = sel.args.get("from_")
    if from_ is None:
        return p.OneRow()
    node = _from_item(from_.this, ctes)
    for j in sel.args.get("joins") or []:
        method = str(j.args.get("method") or "").upper()
        if (method and method != "NATURAL") or str(j.args.get("kind") or "").upper() in (
                "SEMI", "ANTI", "ASOF", "POSITIONAL"):
            raise NotSupportedError(f"{j.sql(dialect='duckdb')!r}: this join kind is not supported yet")
        right = _from_item(j.this, ctes)
        side = str(j.args.get("side") or "").lower()
        on, using = j.args.get("on"), [u.name for u in j.args.get("using") or []]
        if method == "NATURAL":
            if on is not None or using:
                raise BindError(f"{j.sql(dialect='duckdb')!r}: NATURAL JOIN takes no ON or USING")
            using = _natural_using(node, right, j.sql(dialect="duckdb"))
        kind = {"left": "left", "right": "right", "full": "outer"}.get(side, "inner")
        if on is None and not using:
            if kind != "inner":
                raise BindError(f"{side.upper()} JOIN needs an ON or USING clause")
            kind = "cross"
        node = p.Join(node, right, kind, on, using)
    return node


def walk(node: exp.Expression, stop: Callable[[exp.Expression], bool]) -> Iterator[exp.Expression]:
    """Nodes of ``node`` (pre-order) without descending into subqueries or ``stop`` nodes."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if n is not node and (stop(n) or isinstance(n, exp.Query | exp.Subquery)):
            continue
        if isinstance(n, exp.Subquery | exp.Query) and n is not node:
            continue
        stack.extend(reversed(list(n.iter_expressions())))


def _aggregates(exprs: list[exp.Expression]) -> list[exp.Expression]:
    out, seen = [], set()
    for e in exprs:
        for n in walk(e, lambda x: isinstance(x, exp.Window) or is_aggregate(x)):
            if is_aggregate(n) and not isinstance(n.parent, exp.Window):
                if isinstance(n.parent, exp.Filter):
                    n = n.parent  # noqa: PLW2901 - the FILTER clause belongs to the aggregate
                key = n.sql(dialect="duckdb")
                if key not in seen:
                    seen.add(key)
                    out.append(n)
    return out


def _windows(exprs: list[exp.Expression]) -> list[exp.Window]:
    out = []
    for e in exprs:
        out.extend(n for n in walk(e, lambda x: isinstance(x, exp.Window))
                   if isinstance(n, exp.Window))
    return out


def output_name(e: exp.Expression) -> str:
    """The column name of a select-list item (its alias, column name or SQL text)."""
    if isinstance(e, exp.Alias):
        return e.alias
    if isinstance(e, exp.Column) and not isinstance(e.this, exp.Star):
        return e.name
    return _duckdb_name(e)


def _duckdb_name(e: exp.Expression) -> str:
    """DuckDB's name for an unaliased expression, for the common cases (``(a + 1)``,
    ``count_star()``, ``sum(x)``)."""
    root = exp.Paren(this=e.copy())
    for n in reversed(list(root.this.walk())):
        if isinstance(n, exp.Count) and isinstance(n.this, exp.Star):
            n.replace(exp.Anonymous(this="count_star", expressions=[]))
        elif isinstance(n, exp.Binary) and not isinstance(n, exp.Dot) \
                and (n.parent is root or not isinstance(n.parent, exp.Paren)):
            paren = exp.Paren()
            n.replace(paren)
            paren.set("this", n)
    out = root.this
    return out.sql(dialect="duckdb", normalize_functions="lower")


def _select(sel: exp.Select, ctes: dict[str, p.Node]) -> p.Node:
    for key in ("qualify", "pivots", "laterals", "sample", "cluster", "distribute", "sort"):
        if sel.args.get(key):
            raise NotSupportedError(f"{key.upper()} is not supported yet")
    node = _source(sel, ctes)
    where = sel.args.get("where")
    if where is not None:
        if _aggregates([where.this]):
            raise BindError("aggregate functions are not allowed in WHERE; use HAVING")
        node = p.Filter(node, where.this)
    items = [(output_name(e), e.this if isinstance(e, exp.Alias) else e) for e in sel.expressions]
    having = sel.args.get("having")
    order = sel.args.get("order")
    order_exprs = [o.this for o in order.expressions] if order is not None else []
    group = sel.args.get("group")
    group_exprs = list(group.expressions) if group is not None else []
    if group is not None and (group.args.get("rollup") or group.args.get("cube")
                              or group.args.get("grouping_sets")):
        raise NotSupportedError("GROUP BY ... WITH ROLLUP/CUBE is not supported; write "
                                "GROUP BY ROLLUP(...), CUBE(...) or GROUPING SETS (...)")
    having_expr = _having_aliases(having.this, items) if having is not None else None
    aggs = _aggregates([e for _, e in items] + ([having_expr] if having else []) + order_exprs)
    if group is not None and group.args.get("all"):
        # GROUP BY ALL: every select item without an aggregate
        group_exprs = [e for _, e in items if not _aggregates([e]) and not _windows([e])
                       and not isinstance(e, exp.Star)]
    if group_exprs or aggs or having is not None or (group is not None and group.args.get("all")):
        from .grouping_sets import expand

        keys, sets = expand(group_exprs, lambda g: _group_key(g, items), aggs)
        node = p.Aggregate(node, keys, aggs, sets)
        if having_expr is not None:
            node = p.Filter(node, having_expr)
    windows = _windows([e for _, e in items] + order_exprs)
    if windows:
        node = p.Window(node, windows)
    width = len(items)
    distinct = sel.args.get("distinct")
    if distinct is not None and distinct.args.get("on"):
        raise NotSupportedError("DISTINCT ON is not supported yet")
    sort_keys = []
    starred = [isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
               for _, e in items]
    for o in order.expressions if order is not None else []:
        key = o.this
        if isinstance(key, exp.Literal) and not key.is_string:
            idx = int(key.this) - 1  # an output position (after * expansion)
            if idx < 0 or (not any(starred) and idx >= width):
                raise BindError(f"ORDER BY position {idx + 1} is not in the select list")
            sort_keys.append((("out", idx), bool(o.args.get("desc")), not o.args.get("nulls_first")))
            continue
        idx = _order_index(key, items, width)
        if idx is None:
            if distinct is not None and any(starred) and isinstance(key, exp.Column) \
                    and not key.table and not isinstance(key.this, exp.Star):
                # SELECT DISTINCT * ... ORDER BY col: a column * put in the output, by name
                sort_keys.append((("name", key.name), bool(o.args.get("desc")),
                                  not o.args.get("nulls_first")))
                continue
            if distinct is not None:
                raise BindError("with SELECT DISTINCT, ORDER BY expressions must appear in the select list")
            items.append((f"__xpdb_order{len(items)}", _mark_aliases(key, items[:width])))
            starred.append(False)
            idx = len(items) - 1
        sort_keys.append((("item", idx), bool(o.args.get("desc")), not o.args.get("nulls_first")))
    resolved = []
    for (kind, pos), desc, nulls_last in sort_keys:
        if kind == "name":
            resolved.append((pos, desc, nulls_last))
            continue
        if kind == "item" and any(starred[:pos]):
            if any(starred[pos:]):
                raise NotSupportedError("ORDER BY an item placed between two * is not supported yet")
            # counted from the end: * expands to an unknown width
            resolved.append((pos - len(items), desc, nulls_last))
            continue
        resolved.append((pos, desc, nulls_last))
    sort_keys = resolved
    node = p.Project(node, items)
    if distinct is not None:
        node = p.Distinct(node)
    if sort_keys:
        node = p.Sort(node, sort_keys)
    node = _limit(node, sel)
    if len(items) > width:
        node = p.Head(node, len(items) - width)
    return node


def _group_key(g: exp.Expression, items: list[tuple[str, exp.Expression]]) -> exp.Expression:
    if isinstance(g, exp.Literal) and not g.is_string:
        idx = int(g.this) - 1
        if not 0 <= idx < len(items):
            raise BindError(f"GROUP BY position {idx + 1} is not in the select list (1..{len(items)})")
        return items[idx][1]
    if isinstance(g, exp.Column) and not g.table:
        # an alias: the executor binds the source column first and falls back to this
        for name, e in items:
            if name == g.name and not (isinstance(e, exp.Column) and e.name == g.name):
                g = g.copy()
                g.meta["xpdb_alias"] = e
                break
    return g


def _having_aliases(e: exp.Expression, items: list[tuple[str, exp.Expression]]) -> exp.Expression:
    """HAVING may name select-list aliases: of aggregates (``HAVING n > 1``, replaced here)
    and of other expressions (``GROUP BY m HAVING m = 0``, bound when the name is no input
    column, see :func:`_mark_aliases`)."""
    aliases = {name: x for name, x in items if _aggregates([x])}

    def sub(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Column) and not n.table and n.name in aliases:
            return aliases[n.name].copy()
        return n

    return _mark_aliases(e.transform(sub, copy=True), items)


def _mark_aliases(e: exp.Expression, items: list[tuple[str, exp.Expression]]) -> exp.Expression:
    """A copy of ``e`` whose unqualified column references that name a select-list alias
    carry the aliased expression in ``meta["xpdb_select_alias"]``.

    The expression code binds such a reference to an input column first and falls back to
    the alias (DuckDB's order for an expression: ``SELECT a AS z ... ORDER BY -z`` sorts by
    ``-a``, while ``SELECT b AS a ... ORDER BY -a`` sorts by the input column ``a``).
    Subqueries are left alone: their names belong to their own FROM.
    """
    aliases = {}
    for name, x in items:
        if isinstance(x, exp.Star) or (isinstance(x, exp.Column) and x.name == name):
            continue
        aliases.setdefault(name, x)
    if not aliases:
        return e
    e = e.copy()
    for n in walk(e, lambda x: False):
        if isinstance(n, exp.Column) and not n.table and n.name in aliases:
            n.meta["xpdb_select_alias"] = aliases[n.name]
    return e


def _order_index(key: exp.Expression, items: list[tuple[str, exp.Expression]],
                 width: int) -> int | None:
    if isinstance(key, exp.Column) and not key.table:
        for i, (name, e) in enumerate(items[:width]):
            if name == key.name and not isinstance(e, exp.Star):
                return i
    text = key.sql(dialect="duckdb")
    for i, (_, e) in enumerate(items[:width]):
        if e.sql(dialect="duckdb") == text:
            return i
    return None


__all__ = ["output_name", "plan_query", "walk"]
