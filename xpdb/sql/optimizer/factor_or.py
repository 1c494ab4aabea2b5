"""Rule: pull the terms every branch of an OR shares out of it.

``(a AND b AND x) OR (a AND b AND y)`` is ``a AND b AND (x OR y)``, exactly, in SQL's
three-valued logic (AND distributes over OR there too). TPC-H Q19 is the classic case:
the join condition ``p_partkey = l_partkey`` sits in every branch, and only once it is
factored out can the join be a hash join instead of a cross product. When a branch holds
nothing but shared terms the OR is just the shared terms (``a OR (a AND y)`` is ``a``).
"""

from __future__ import annotations

import dataclasses

from sqlglot import exp

from .. import plan as p
from .tree import and_all, conjuncts, is_volatile, transform_up


def factor_or(root: p.Node) -> p.Node:
    """Factor common terms out of the ORs in filter, join and scan predicates."""
    def rule(node: p.Node) -> p.Node:
        if isinstance(node, p.Filter):
            pred = factor(node.predicate)
            return node if pred is node.predicate else p.Filter(node.child, pred)
        if isinstance(node, p.Join) and node.on is not None:
            on = factor(node.on)
            return node if on is node.on else p.Join(node.left, node.right, node.kind, on, node.using)
        if isinstance(node, p.Scan) and node.filters:
            filters = [factor(f) for f in node.filters]
            if any(a is not b for a, b in zip(filters, node.filters, strict=True)):
                return dataclasses.replace(node, filters=filters)
        return node

    return transform_up(root, rule)


def _disjuncts(e: exp.Expression) -> list[exp.Expression]:
    if isinstance(e, exp.Or):
        return _disjuncts(e.this) + _disjuncts(e.expression)
    if isinstance(e, exp.Paren) and isinstance(e.this, exp.Or):
        return _disjuncts(e.this)
    return [e]


def factor(e: exp.Expression) -> exp.Expression:
    """``e`` with common terms factored out of every OR in its top-level AND.

    Examples
    --------
    >>> import sqlglot
    >>> e = sqlglot.parse_one("(a = 1 AND b > 2) OR (a = 1 AND c < 3)")
    >>> factor(e).sql()
    'a = 1 AND (b > 2 OR c < 3)'
    """
    terms = conjuncts(e)
    out: list[exp.Expression] = []
    changed = False
    for term in terms:
        branches = _disjuncts(term)
        if len(branches) < 2:
            out.append(term)
            continue
        parts = [conjuncts(b) for b in branches]
        keyed = [{x.sql(dialect="duckdb"): x for x in part} for part in parts]
        # a volatile term is one call per branch, not one shared value: never factored
        common = [k for k, x in keyed[0].items()
                  if not is_volatile(x) and all(k in other for other in keyed[1:])]
        if not common:
            out.append(term)
            continue
        changed = True
        out.extend(keyed[0][k] for k in common)
        rest = [[x for k, x in kd.items() if k not in common] for kd in keyed]
        if any(not r for r in rest):
            continue  # one branch is exactly the common terms: the OR adds nothing
        ors = [and_all(r) for r in rest]
        disj = ors[0]
        for o in ors[1:]:
            disj = exp.Or(this=_wrap(disj), expression=_wrap(o))
        out.append(exp.Paren(this=disj))
    if not changed:
        return e
    result = and_all([x.copy() for x in out])
    assert result is not None
    return result


def _wrap(e: exp.Expression | None) -> exp.Expression:
    assert e is not None
    return exp.Paren(this=e) if isinstance(e, exp.And) else e


__all__ = ["factor", "factor_or"]
