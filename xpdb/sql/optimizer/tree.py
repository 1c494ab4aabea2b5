"""Walking and rebuilding logical plans (:mod:`xpdb.sql.plan`).

Plans are DAGs: a CTE referenced twice is one node with two parents. Every rewrite here
keeps that sharing (a memo maps each old node to its one new node) and never mutates a node
in place, so plan fragments held elsewhere (CTEs seen by subqueries) stay valid.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

from sqlglot import exp

from .. import plan as p


def children(node: p.Node) -> list[p.Node]:
    """The child plan nodes of ``node``, in field order."""
    return [v for v in _field_values(node) if isinstance(v, p.Node)]


def _field_values(node: p.Node) -> Iterator[object]:
    for f in dataclasses.fields(node):  # type: ignore[arg-type]
        yield getattr(node, f.name)


def with_children(node: p.Node, new: list[p.Node]) -> p.Node:
    """``node`` with its child nodes replaced by ``new`` (the same node if none changed)."""
    changes, it = {}, iter(new)
    for f in dataclasses.fields(node):  # type: ignore[arg-type]
        v = getattr(node, f.name)
        if isinstance(v, p.Node):
            c = next(it)
            if c is not v:
                changes[f.name] = c
    return dataclasses.replace(node, **changes) if changes else node  # type: ignore[type-var]


def transform_up(root: p.Node, fn: Callable[[p.Node], p.Node]) -> p.Node:
    """Rebuild ``root`` bottom-up: ``fn`` sees each node with its children already rebuilt.

    Each distinct node is visited once, so shared nodes stay shared.
    """
    memo: dict[p.Node, p.Node] = {}

    def go(node: p.Node) -> p.Node:
        if node not in memo:
            memo[node] = fn(with_children(node, [go(c) for c in children(node)]))
        return memo[node]

    return go(root)


def nodes(root: p.Node) -> list[p.Node]:
    """Every distinct node of the plan, parents before children."""
    seen: dict[p.Node, None] = {}
    stack = [root]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen[n] = None
        stack.extend(reversed(children(n)))
    return list(seen)


def parent_counts(root: p.Node) -> dict[p.Node, int]:
    """How many parent edges point at each node (the root has 0)."""
    counts: dict[p.Node, int] = {root: 0}
    for n in nodes(root):
        for c in children(n):
            counts[c] = counts.get(c, 0) + 1
    return counts


def expressions(node: p.Node) -> list[exp.Expression]:
    """The sqlglot expressions a node holds (predicates, items, keys, rows...)."""
    out: list[exp.Expression] = []

    def add(v: object) -> None:
        if isinstance(v, exp.Expression):
            out.append(v)
        elif isinstance(v, list | tuple):
            for x in v:
                add(x)

    for v in _field_values(node):
        if not isinstance(v, p.Node):
            add(v)
    return out


def conjuncts(e: exp.Expression | None) -> list[exp.Expression]:
    """The AND-ed terms of ``e`` (parentheses dropped)."""
    if e is None:
        return []
    if isinstance(e, exp.And):
        return conjuncts(e.this) + conjuncts(e.expression)
    if isinstance(e, exp.Paren) and not isinstance(e.this, exp.Query):
        return conjuncts(e.this)
    return [e]


def and_all(terms: list[exp.Expression]) -> exp.Expression | None:
    """``t1 AND t2 ...`` (None for no terms)."""
    if not terms:
        return None
    # sqlglot prints And(a, Or(b, c)) as "a AND b OR c" (no parentheses added): wrap the
    # ORs, so EXPLAIN and every comparison of expressions by their text stay exact
    if len(terms) > 1:
        terms = [exp.Paren(this=t) if isinstance(t, exp.Or) else t for t in terms]
    out = terms[0]
    for term in terms[1:]:
        out = exp.And(this=out, expression=term)
    return out


def has_subquery(e: exp.Expression) -> bool:
    """Whether ``e`` holds a subquery (its columns may refer to any scope)."""
    return e.find(exp.Subquery, exp.Query, exp.Exists) is not None


_VOLATILE = frozenset({"random", "rand", "uuid", "gen_random_uuid", "setseed", "nextval"})


def is_volatile(e: exp.Expression) -> bool:
    """Whether ``e`` calls a function whose value changes per call (never moved or folded)."""
    from ..functions import function_name

    for n in e.walk():
        if isinstance(n, exp.Rand | exp.Func) and (
                isinstance(n, exp.Rand) or function_name(n) in _VOLATILE):
            return True
    return False


__all__ = ["and_all", "children", "conjuncts", "expressions", "has_subquery", "is_volatile",
           "nodes", "parent_counts", "transform_up", "with_children"]
