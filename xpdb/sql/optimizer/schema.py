"""The columns each plan node outputs, known before anything runs.

:func:`scope_of` mirrors what :class:`xpdb.sql.executor.Executor` builds at run time (the
same ``(qualifier, name)`` fields and hidden set), so a rule can tell which input of a join
a column belongs to. It returns None where the answer needs data (a table function) or the
query has a binding error: rules leave such subtrees alone and the executor reports the error.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from ...errors import BindError
from .. import plan as p
from ..expressions import Scope


class Schemas:
    """Memoized :func:`scope_of` over one catalog (an Executor: ``tables``, ``views``,
    ``given``)."""

    def __init__(self, catalog: Any):
        self.catalog = catalog
        self._memo: dict[p.Node, Scope | None] = {}

    def __call__(self, node: p.Node) -> Scope | None:
        if node not in self._memo:
            try:
                self._memo[node] = self._scope(node)
            except BindError:
                self._memo[node] = None
        return self._memo[node]

    def table_columns(self, name: str) -> list[str] | None:
        """Column names of the catalog table ``name`` (None for views and unknown names)."""
        tables = self.catalog.tables
        if name in getattr(self.catalog, "given", {}) or name in self.catalog.views:
            return None
        table = tables.get(name)
        return None if table is None else list(table.names)

    def _scope(self, node: p.Node) -> Scope | None:
        method = getattr(self, "_" + type(node).__name__.lower(), None)
        return None if method is None else method(node)

    def _scan(self, node: p.Scan) -> Scope | None:
        given = getattr(self.catalog, "given", {})
        if node.name in given:
            # a decorrelation's intermediate input: the executor returns it as it is
            scope = given[node.name].scope
            return Scope(list(scope.fields), set(scope.hidden))
        if node.name in self.catalog.views:
            from ..planner import plan_query

            inner = self(plan_query(self.catalog.views[node.name]))
            if inner is None:
                return None
            visible = [n for i, (_, n) in enumerate(inner.fields) if i not in inner.hidden]
            return Scope([(node.alias, n) for n in visible])
        names = self.table_columns(node.name)
        if names is None:
            return None
        if node.columns is not None:
            names = list(node.columns)
        return Scope([(node.alias, n) for n in names])

    def _onerow(self, node: p.OneRow) -> Scope:
        return Scope([])

    def _values(self, node: p.Values) -> Scope:
        return Scope([(None, n) for n in node.names])

    def _alias(self, node: p.Alias) -> Scope | None:
        child = self(node.child)
        if child is None:
            return None
        names = [n for _, n in child.fields]
        if len(node.columns) > len(names):
            return None
        names = list(node.columns) + names[len(node.columns):]
        return Scope([(node.alias, names[i]) for i in range(len(names)) if i not in child.hidden])

    def _join(self, node: p.Join) -> Scope | None:
        left, right = self(node.left), self(node.right)
        if left is None or right is None:
            return None
        nl = len(left.fields)
        hidden = left.hidden | {i + nl for i in right.hidden}
        for name in node.using:
            hidden.add(nl + right.resolve(name))
        return Scope(left.fields + right.fields, hidden)

    def _passthrough(self, node: Any) -> Scope | None:
        return self(node.child)

    _filter = _sort = _limit = _distinct = _passthrough

    def _permute(self, node: p.Permute) -> Scope | None:
        child = self(node.child)
        if child is None:
            return None
        return Scope([child.fields[j] for j in node.order],
                     {i for i, j in enumerate(node.order) if j in child.hidden})

    def _aggregate(self, node: p.Aggregate) -> Scope | None:
        if getattr(node, "sets", None):
            return None
        return Scope([(None, f"__g{i}") for i in range(len(node.keys) + len(node.aggs))])

    def _window(self, node: p.Window) -> Scope | None:
        child = self(node.child)
        if child is None:
            return None
        fields = list(child.fields)
        for _ in node.funcs:
            fields.append((None, f"__w{len(fields) + 1}"))
        return Scope(fields, set(child.hidden))

    def _project(self, node: p.Project) -> Scope | None:
        from ..executor import _star

        child = self(node.child)
        if child is None:
            return None
        fields: list[tuple[str | None, str]] = []
        for name, e in node.items:
            if isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star)):
                fields.extend((None, child.fields[i][1]) for i in _star(e, child))
                continue
            if isinstance(e, exp.Column) and name == e.name and not grouped(node.child):
                name = child.fields[child.resolve(e.name, e.table or None)][1]  # noqa: PLW2901
            fields.append((None, name))
        return Scope(fields)

    def _head(self, node: p.Head) -> Scope | None:
        child = self(node.child)
        if child is None:
            return None
        return Scope(child.fields[:len(child.fields) - node.hidden])

    def _setop(self, node: p.SetOp) -> Scope | None:
        left = self(node.left)
        if left is None:
            return None
        return Scope([(None, n) for i, (_, n) in enumerate(left.fields) if i not in left.hidden])


def grouped(node: p.Node) -> bool:
    """Whether ``node``'s rows are groups (an Aggregate, or a Filter/Window over one)."""
    while isinstance(node, p.Filter | p.Window):
        node = node.child
    return isinstance(node, p.Aggregate)


def column_home(col: exp.Column, scopes: list[Scope]) -> int | None:
    """The index of the one scope that resolves ``col`` (None: none or several do)."""
    hits = []
    for i, s in enumerate(scopes):
        try:
            s.resolve(col.name, col.table or None)
        except BindError:
            continue
        hits.append(i)
    return hits[0] if len(hits) == 1 else None


def homes(e: exp.Expression, scopes: list[Scope]) -> set[int] | None:
    """The scopes the columns of ``e`` belong to; None when one cannot be placed exactly."""
    out: set[int] = set()
    for col in e.find_all(exp.Column):
        if isinstance(col.this, exp.Star):
            return None
        h = column_home(col, scopes)
        if h is None:
            return None
        out.add(h)
    return out


__all__ = ["Schemas", "column_home", "grouped", "homes"]
