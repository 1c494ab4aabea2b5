"""Rule: projection pruning: each scan reads only the columns the query names.

Names are collected from every expression of the plan (and of its subqueries, whose
correlated references may name an outer table's columns), USING lists and the GROUP BY
aliases; a scan keeps the columns of its table that one of them names, matched like the
binder does (case-insensitively, with the scan's alias or no qualifier). A ``*`` that can
expand a scan keeps all of its columns; ``count(*)`` needs none. Joins then gather only
those columns, and a scan of a stored table reads only them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlglot import exp

from .. import plan as p
from .schema import Schemas
from .tree import expressions, nodes, transform_up


def prune_columns(root: p.Node, catalog: Any,
                  extra: list[exp.Expression] | tuple[()] = ()) -> p.Node:
    """Set :attr:`~xpdb.sql.plan.Scan.columns` to the columns the plan can read.

    ``extra``: expressions outside the plan that read its columns too (a decorrelated
    subquery's clauses, evaluated over the plan's output).
    """
    schemas = Schemas(catalog)
    names: set[tuple[str | None, str]] = set()
    star_all = False
    star_aliases: set[str] = set()
    renamed: set[p.Node] = set()
    for node in nodes(root):
        if isinstance(node, p.Alias) and node.columns:
            renamed.add(node.child)  # positional renames need every column in place
        if isinstance(node, p.Join):
            names.update((None, u.lower()) for u in node.using)
        if isinstance(node, p.Sort):
            names.update((None, k.lower()) for k, _, _ in node.keys if isinstance(k, str))
    for e in [*extra, *(e for node in nodes(root) for e in expressions(node))]:
        for n in e.walk():
            if isinstance(n, exp.Expression) and "xpdb_alias" in n.meta:
                for c in n.meta["xpdb_alias"].find_all(exp.Column):
                    names.add((None, c.name.lower()))
            if isinstance(n, exp.Star):
                parent = n.parent
                if isinstance(parent, exp.Count) or _exists_select_list(n):
                    continue
                if isinstance(parent, exp.Column) and parent.table:
                    star_aliases.add(parent.table.lower())
                else:
                    star_all = True
            elif isinstance(n, exp.Column) and not isinstance(n.this, exp.Star):
                names.add((n.table.lower() or None, n.name.lower()))
    if star_all:
        return root

    def rule(node: p.Node) -> p.Node:
        if not isinstance(node, p.Scan) or node in renamed or node.columns is not None:
            return node
        if node.alias.lower() in star_aliases:
            return node
        table_cols = schemas.table_columns(node.name)
        if table_cols is None:
            return node
        alias = node.alias.lower()
        keep = [c for c in table_cols
                if (None, c.lower()) in names or (alias, c.lower()) in names]
        if len(keep) == len(table_cols):
            return node
        return dataclasses.replace(node, columns=keep)

    return transform_up(root, rule)


def _exists_select_list(star: exp.Star) -> bool:
    """``*`` in the select list of an EXISTS subquery: only its rows count, no column."""
    item: exp.Expression = star
    if isinstance(item.parent, exp.Column):  # t.*
        item = item.parent
    sel = item.parent
    if not isinstance(sel, exp.Select) or item.arg_key != "expressions":
        return False
    up = sel.parent
    while isinstance(up, exp.Subquery | exp.Paren):
        up = up.parent
    return isinstance(up, exp.Exists)


__all__ = ["prune_columns"]
