"""Cardinality estimates: how many rows each plan node yields, before it runs.

System R style: a base table's row count times the selectivity of its filters; an
equi-join ``|L| |R| / max(ndv(l), ndv(r))`` with the number of distinct values (ndv) of a
base column estimated from a sample (:func:`xpdb.kernels.groupby.estimate_groups`, cached
per table in :class:`TableStats`); fixed selectivities where nothing better is known
(equality with a constant 1/ndv or 0.1, a range 0.3, LIKE 0.1...). The estimates choose the
join order and are shown by EXPLAIN; they never change a result.
"""

from __future__ import annotations

import math
from typing import Any

from sqlglot import exp

from .. import plan as p
from .schema import Schemas
from .tree import conjuncts

_DEFAULT_ROWS = 1000.0
_EQ_SEL = 0.1
_RANGE_SEL = 0.3
_LIKE_SEL = 0.1
_NULL_SEL = 0.05
_OTHER_SEL = 0.5


class TableStats:
    """Per-table column statistics (distinct counts), computed on first use and cached.

    Entries are keyed by table name and remember the Table object they describe, so a
    replaced table is measured again; :meth:`forget` drops a name (the catalog calls it when a
    table changes).
    """

    def __init__(self) -> None:
        self._ndv: dict[str, tuple[Any, dict[str, float]]] = {}

    def ndv(self, name: str, table: Any, column: str) -> float:
        """Estimated distinct non-null values of ``table.column`` (at least 1)."""
        from ...kernels.groupby import estimate_groups

        entry = self._ndv.get(name)
        if entry is None or entry[0] is not table:
            entry = (table, {})
            self._ndv[name] = entry
        cache = entry[1]
        if column not in cache:
            rows = table.num_rows
            if hasattr(table, "sample"):
                # a stored table: estimate from its leading rows (or its cached column)
                # instead of reading the whole column before the query needs it
                table = table.sample(column)
            col = table.column(column)
            if col.dictionary is not None:
                est = float(len(col.dictionary))
            else:
                est = estimate_groups(table, [column]) if table.num_rows else 1.0
                if col.validity is not None and col.null_count:
                    est -= 1.0  # the groups counted include the null one
            cache[column] = max(1.0, min(float(rows), est))
        return cache[column]

    def forget(self, name: str) -> None:
        """Drop what is known about ``name``."""
        self._ndv.pop(name, None)


class Estimator:
    """Row estimates of plan nodes over a catalog (memoized per node)."""

    def __init__(self, catalog: Any, schemas: Schemas | None = None,
                 stats: TableStats | None = None):
        self.catalog = catalog
        self.schemas = schemas or Schemas(catalog)
        self.stats = stats if stats is not None else getattr(catalog, "stats", None) or TableStats()
        self._rows: dict[p.Node, float] = {}

    # -- rows ---------------------------------------------------------------------------
    def rows(self, node: p.Node) -> float:
        """Estimated output rows of ``node`` (at least 1)."""
        if node not in self._rows:
            method = getattr(self, "_" + type(node).__name__.lower(), None)
            est = _DEFAULT_ROWS if method is None else method(node)
            self._rows[node] = max(1.0, float(est))
        return self._rows[node]

    def _scan(self, node: p.Scan) -> float:
        table = self._table(node.name)
        if table is None:
            given = getattr(self.catalog, "given", {})
            if node.name in given:
                return given[node.name].table.num_rows
            return _DEFAULT_ROWS
        return table.num_rows * self.selectivity(node.filters, node)

    def _onerow(self, node: p.OneRow) -> float:
        return 1.0

    def _values(self, node: p.Values) -> float:
        return len(node.rows)

    def _alias(self, node: p.Alias) -> float:
        return self.rows(node.child)

    _sort = _head = _permute = _window = _project = _alias

    def _distinct(self, node: p.Distinct) -> float:
        return self.rows(node.child)

    def _filter(self, node: p.Filter) -> float:
        return self.rows(node.child) * self.selectivity(conjuncts(node.predicate), node.child)

    def _limit(self, node: p.Limit) -> float:
        n = self.rows(node.child) - node.offset
        return n if node.limit is None else min(n, node.limit)

    def _aggregate(self, node: p.Aggregate) -> float:
        child = self.rows(node.child)
        if not node.keys:
            return 1.0
        groups = 1.0
        for k in node.keys:
            d = self.ndv(node.child, k)
            groups *= d if d is not None else math.sqrt(child)
        return min(child, groups)

    def _setop(self, node: p.SetOp) -> float:
        left, right = self.rows(node.left), self.rows(node.right)
        if node.kind == "union":
            return left + right
        return min(left, right) if node.kind == "intersect" else left

    def _join(self, node: p.Join) -> float:
        return self.join_rows(node.left, node.right, conjuncts(node.on), node.using, node.kind)

    def join_rows(self, left: p.Node, right: p.Node, conds: list[exp.Expression],
                  using: list[str] | None = None, kind: str = "inner") -> float:
        """Estimated rows of ``left JOIN right ON conds``."""
        nl, nr = self.rows(left), self.rows(right)
        denominator, other = 1.0, 1.0
        pairs = [(exp.column(u), exp.column(u)) for u in using or []]
        ls, rs = self.schemas(left), self.schemas(right)
        for c in conds:
            pair = _equi(c, ls, rs) if ls is not None and rs is not None else None
            if pair is None:
                other *= _RANGE_SEL
            else:
                pairs.append(pair)
        for a, b in pairs:
            da, db = self.ndv(left, a), self.ndv(right, b)
            known = [d for d in (da, db) if d is not None]
            # several keys are usually correlated (a composite key): the most selective wins
            d = max(known) if known else min(nl, nr)
            denominator = max(denominator, d)
        out = nl * nr / denominator * other
        if kind in ("left", "outer"):
            out = max(out, nl)
        if kind in ("right", "outer"):
            out = max(out, nr)
        return out

    # -- selectivity --------------------------------------------------------------------
    def selectivity(self, preds: list[exp.Expression], node: p.Node) -> float:
        """The fraction of ``node``'s rows that pass every predicate (independence assumed)."""
        sel = 1.0
        for e in preds:
            sel *= self._sel(e, node)
        return sel

    def _sel(self, e: exp.Expression, node: p.Node) -> float:
        if isinstance(e, exp.Paren):
            return self._sel(e.this, node)
        if isinstance(e, exp.And):
            return self._sel(e.this, node) * self._sel(e.expression, node)
        if isinstance(e, exp.Or):
            a, b = self._sel(e.this, node), self._sel(e.expression, node)
            return a + b - a * b
        if isinstance(e, exp.Not):
            return 1.0 - self._sel(e.this, node)
        if isinstance(e, exp.Boolean):
            return 1.0 if e.this else 0.0
        if isinstance(e, exp.EQ):
            col, const = _column_and_constant(e)
            if col is not None and const:
                d = self.ndv(node, col, cap=False)
                return 1.0 / d if d else _EQ_SEL
            return _EQ_SEL
        if isinstance(e, exp.In) and e.args.get("expressions"):
            d = self.ndv(node, e.this, cap=False)
            k = len(e.expressions)
            return min(1.0, k / d) if d else min(1.0, k * _EQ_SEL)
        if isinstance(e, exp.NEQ):
            return 1.0 - _EQ_SEL
        if isinstance(e, exp.Between):
            return _RANGE_SEL * _RANGE_SEL * 2
        if isinstance(e, exp.LT | exp.LTE | exp.GT | exp.GTE):
            return _RANGE_SEL
        if isinstance(e, exp.Like | exp.ILike):
            return _LIKE_SEL
        if isinstance(e, exp.Is):
            return _NULL_SEL
        return _OTHER_SEL

    # -- distinct values ------------------------------------------------------------------
    def ndv(self, node: p.Node, e: exp.Expression, cap: bool = True) -> float | None:
        """Estimated distinct values of expression ``e`` over ``node``'s rows (None: unknown).

        With ``cap`` the estimate is at most ``node``'s estimated rows (off while
        estimating those rows themselves)."""
        if not isinstance(e, exp.Column):
            return None
        scope = self.schemas(node)
        if scope is None:
            return None
        try:
            idx = scope.resolve(e.name, e.table or None)
        except Exception:  # noqa: BLE001 - an unresolvable name just has no estimate
            return None
        origin = self._origin(node, idx)
        if origin is None:
            return None
        name, table, column = origin
        d = self.stats.ndv(name, table, column)
        return min(d, self.rows(node)) if cap else d

    def _origin(self, node: p.Node, idx: int) -> tuple[str, Any, str] | None:
        """The base table column (name, table, column) behind output ``idx`` of ``node``."""
        while True:
            if isinstance(node, p.Scan):
                table = self._table(node.name)
                if table is None:
                    return None
                names = node.columns if node.columns is not None else table.names
                return node.name, table, names[idx]
            if isinstance(node, p.Filter | p.Sort | p.Limit | p.Distinct):
                node = node.child
            elif isinstance(node, p.Permute):
                node, idx = node.child, node.order[idx]
            elif isinstance(node, p.Alias):
                child = self.schemas(node.child)
                if child is None:
                    return None
                visible = [i for i in range(len(child.fields)) if i not in child.hidden]
                node, idx = node.child, visible[idx]
            elif isinstance(node, p.Join):
                left = self.schemas(node.left)
                if left is None:
                    return None
                nl = len(left.fields)
                node, idx = (node.left, idx) if idx < nl else (node.right, idx - nl)
            elif isinstance(node, p.Project):
                if any(isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
                       for _, e in node.items):
                    return None
                e = node.items[idx][1]
                child = self.schemas(node.child)
                if not isinstance(e, exp.Column) or child is None:
                    return None
                try:
                    idx = child.resolve(e.name, e.table or None)
                except Exception:  # noqa: BLE001
                    return None
                node = node.child
            else:
                return None

    def _table(self, name: str) -> Any:
        if name in getattr(self.catalog, "given", {}) or name in self.catalog.views:
            return None
        return self.catalog.tables.get(name)


def _column_and_constant(e: exp.Binary) -> tuple[exp.Expression | None, bool]:
    for a, b in ((e.this, e.expression), (e.expression, e.this)):
        if isinstance(a, exp.Column) and not any(True for _ in b.find_all(exp.Column)) \
                and not b.find(exp.Query, exp.Subquery):
            return a, True
    return None, False


def _equi(c: exp.Expression, left: Any, right: Any) -> tuple[exp.Expression, exp.Expression] | None:
    from .schema import homes

    if not isinstance(c, exp.EQ):
        return None
    a, b = homes(c.this, [left, right]), homes(c.expression, [left, right])
    if a == {0} and b == {1}:
        return c.this, c.expression
    if a == {1} and b == {0}:
        return c.expression, c.this
    return None


__all__ = ["Estimator", "TableStats"]
