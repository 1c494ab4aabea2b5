"""Rule: constant folding and boolean simplification.

A sub-expression that reads no column, no subquery, no aggregate or window and calls
nothing volatile is evaluated once, with the executor's own expression code on a one-row
input, and replaced by a literal of the same type (``CAST('1998-09-02 00:00:00' AS
TIMESTAMP)`` for ``DATE '1998-12-01' - INTERVAL '90' DAY``, a timestamp as in DuckDB).
Expressions over groups (select items and HAVING above a GROUP BY) are left as written:
they are matched to the GROUP BY keys by their text. Then ``TRUE AND x`` is ``x``,
``FALSE AND x`` is ``FALSE``, ``TRUE OR x`` is ``TRUE``, ``FALSE OR x`` is ``x`` (exact in
SQL's three-valued logic), and a filter on TRUE disappears. An expression whose evaluation fails (``1/0`` in a
CASE branch never taken) is left for run time, so folding never raises.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from sqlglot import exp

from ...errors import XpdbError
from .. import plan as p
from .schema import grouped
from .tree import has_subquery, is_volatile, transform_up


def fold_constants(root: p.Node, device: Any) -> p.Node:
    """Fold constant sub-expressions of the predicates and plain select items of a plan."""
    folder = _Folder(device)

    def rule(node: p.Node) -> p.Node:
        if isinstance(node, p.Filter | p.Project) and grouped(node.child):
            # over groups, expressions are matched to the GROUP BY keys by their text
            # (``SELECT a + (1 + 1) ... GROUP BY a + (1 + 1)``): folding one side only
            # would unmatch them
            return node
        if isinstance(node, p.Filter):
            pred = folder.predicate(node.predicate)
            if isinstance(pred, exp.Boolean) and pred.this:
                return node.child
            return p.Filter(node.child, pred) if pred is not node.predicate else node
        if isinstance(node, p.Join) and node.on is not None:
            on = folder.predicate(node.on)
            if on is node.on:
                return node
            if isinstance(on, exp.Boolean) and on.this and not node.using:
                return p.Join(node.left, node.right, "cross" if node.kind == "inner" else node.kind,
                              None if node.kind == "inner" else on, node.using)
            return p.Join(node.left, node.right, node.kind, on, node.using)
        if isinstance(node, p.Scan) and node.filters:
            filters = [folder.predicate(f) for f in node.filters]
            filters = [f for f in filters if not (isinstance(f, exp.Boolean) and f.this)]
            return dataclasses.replace(node, filters=filters)
        if isinstance(node, p.Project):
            items = [(n, e if _has_aggregate(e) else folder.fold(e)) for n, e in node.items]
            if any(a[1] is not b[1] for a, b in zip(items, node.items, strict=True)):
                return p.Project(node.child, items)
        return node

    return transform_up(root, rule)


def _has_aggregate(e: exp.Expression) -> bool:
    from ..functions import is_aggregate

    return any(is_aggregate(n) or isinstance(n, exp.Window) for n in e.walk())


class _Folder:
    def __init__(self, device: Any):
        self.device = device
        self._ctx: Any = None

    def predicate(self, e: exp.Expression) -> exp.Expression:
        return simplify_logic(self.fold(e))

    def fold(self, e: exp.Expression) -> exp.Expression:
        """``e`` with its maximal constant sub-expressions replaced by literals."""
        if _is_literal(e) or isinstance(e, exp.Star | exp.Column | exp.Interval):
            return e
        if isinstance(e, exp.Query | exp.Subquery):
            return e  # a subquery is folded when it is planned and optimized itself
        if self._foldable(e):
            lit = self._evaluate(e)
            if lit is not None:
                return lit
        changed = False
        new = e.copy()
        for child in list(new.iter_expressions()):
            folded = self.fold(child)
            if folded is not child:
                child.replace(folded)
                changed = True
        return new if changed else e

    def _foldable(self, e: exp.Expression) -> bool:
        from ..functions import is_aggregate

        for n in e.walk():
            if isinstance(n, exp.Column | exp.Star | exp.Placeholder | exp.Window) \
                    or is_aggregate(n):
                return False
        return not has_subquery(e) and not is_volatile(e)

    def _evaluate(self, e: exp.Expression) -> exp.Expression | None:
        from ...column import Column
        from ...table import Table
        from ..expressions import Context, Scope, evaluate

        if self._ctx is None:
            self._ctx = Context(Table((), 1, self.device), Scope([]))
        try:
            v = evaluate(e, self._ctx)
        except (XpdbError, ArithmeticError, ValueError, TypeError):
            return None
        if isinstance(v, Column):
            if len(v) != 1:
                return None
            try:
                return _column_literal(v)
            except (XpdbError, KeyError, ValueError, AttributeError):
                return None
        return _python_literal(v)


def _is_literal(e: exp.Expression) -> bool:
    if isinstance(e, exp.Literal | exp.Boolean | exp.Null):
        return True
    if isinstance(e, exp.Neg) and isinstance(e.this, exp.Literal):
        return True
    return isinstance(e, exp.Cast) and _is_literal(e.this)


def _python_literal(v: Any) -> exp.Expression | None:
    if v is None:
        return exp.Null()
    if isinstance(v, bool):
        return exp.Boolean(this=v)
    if isinstance(v, int):
        return exp.Literal.number(v) if v >= 0 else exp.Neg(this=exp.Literal.number(-v))
    if isinstance(v, float):
        if not math.isfinite(v):
            return None
        text = repr(abs(v))
        if "e" not in text and "." not in text:
            text += ".0"
        lit = exp.Literal.number(text)
        # copysign, not v >= 0: -0.0 keeps its sign (atan2(-0.0, -1) is -pi)
        return lit if math.copysign(1.0, v) > 0 else exp.Neg(this=lit)
    if isinstance(v, str):
        return exp.Literal.string(v)
    return None


def _column_literal(col: Any) -> exp.Expression | None:
    from ..connection import sql_type_name

    dtype = col.dtype
    value = col.to_pylist()[0]
    kind = dtype.kind if hasattr(dtype, "kind") else str(dtype)
    type_name = sql_type_name(dtype)
    if value is None:
        return exp.cast(exp.Null(), type_name)
    if kind in ("timestamp",) and getattr(dtype, "tz", None):
        return None
    if kind == "bool":
        return exp.Boolean(this=bool(value))
    if kind in ("date", "timestamp", "decimal"):
        text = value.isoformat(sep=" ") if kind == "timestamp" else str(value)
        if kind == "date":
            text = value.isoformat()
        return exp.cast(exp.Literal.string(text), type_name)
    if kind == "string":
        return exp.Literal.string(value)
    lit = _python_literal(value)
    if lit is None:
        return None
    return exp.cast(lit, type_name) if type_name not in ("INTEGER", "DOUBLE") else lit


def simplify_logic(e: exp.Expression) -> exp.Expression:
    """Drop TRUE/FALSE operands of AND/OR and double negation of constants."""
    if isinstance(e, exp.Paren) and not isinstance(e.this, exp.Query):
        inner = simplify_logic(e.this)
        if _is_literal(inner) or isinstance(inner, exp.Paren):
            return inner
        return e if inner is e.this else exp.Paren(this=inner)
    if isinstance(e, exp.And | exp.Or):
        a, b = simplify_logic(e.this), simplify_logic(e.expression)
        is_and = isinstance(e, exp.And)
        for x, y in ((a, b), (b, a)):
            if isinstance(x, exp.Boolean):
                if x.this == is_and:
                    return y  # TRUE AND y, FALSE OR y
                return x  # FALSE AND y, TRUE OR y
        if a is e.this and b is e.expression:
            return e
        return type(e)(this=a, expression=b)
    if isinstance(e, exp.Not):
        inner = simplify_logic(e.this)
        if isinstance(inner, exp.Boolean):
            return exp.Boolean(this=not inner.this)
        return e if inner is e.this else exp.Not(this=inner)
    return e


__all__ = ["fold_constants", "simplify_logic"]
