"""Evaluate sqlglot expressions over a Table with the kernels.

A value is a :class:`~xpdb.column.Column` or a Python scalar (a literal, kept weak so that
``int32_col + 1`` stays int32); :func:`as_column` broadcasts a scalar. Column references
resolve through a :class:`Scope`; functions go through the declarative registry in
:mod:`xpdb.sql.functions`.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from .. import types as t
from ..column import Column
from ..errors import BindError, ExecutionError, NotSupportedError, XpdbError
from ..errors import TypeError as XTypeError
from ..kernels import cast as kcast
from ..kernels import datetime as kdt
from ..kernels import expr as kx
from ..kernels import strings as ks
from ..table import Table, missing_column_message

Value = Any  # Column or Python scalar


@dataclass(frozen=True)
class Interval:
    """An INTERVAL literal: months, days and microseconds."""

    months: int = 0
    days: int = 0
    micros: int = 0


@dataclass
class Scope:
    """Which (qualifier, name) each column of a relation's table holds, in order."""

    fields: list[tuple[str | None, str]]
    hidden: set[int] = field(default_factory=set)

    def resolve(self, name: str, qualifier: str | None = None) -> int:
        """The index of the column ``qualifier.name``; BindError when missing or ambiguous."""
        hits = self._find(name, qualifier, exact=True) or self._find(name, qualifier, False)
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            quals = sorted({str(self.fields[i][0]) for i in hits})
            msg = f"column reference {name!r} is ambiguous (in {quals}); qualify it"
            raise BindError(msg)
        shown = f"{qualifier}.{name}" if qualifier else name
        if qualifier and not any(q == qualifier for q, _ in self.fields):
            quals = sorted({q for q, _ in self.fields if q})
            raise BindError(missing_column_message(qualifier, quals, "table"))
        candidates = [n for q, n in self.fields if qualifier is None or q == qualifier]
        raise BindError(missing_column_message(shown, candidates))

    def _find(self, name: str, qualifier: str | None, exact: bool) -> list[int]:
        def eq(a: str | None, b: str | None) -> bool:
            return a == b if exact or a is None or b is None else a.lower() == b.lower()

        return [i for i, (q, n) in enumerate(self.fields)
                if eq(n, name) and (eq(q, qualifier) if qualifier else i not in self.hidden)]


@dataclass
class Context:
    """What an expression is evaluated against.

    ``subst`` maps canonical SQL text of whole sub-expressions (group keys, aggregates) to
    column indexes of ``table``; with ``grouped`` set, other column references are errors.
    ``subquery`` runs an uncorrelated subquery and returns its table; ``correlated``
    evaluates a subquery expression that refers to this context's columns (decorrelated),
    or returns NotImplemented when it does not.
    """

    table: Table
    scope: Scope
    subst: dict[str, int] = field(default_factory=dict)
    grouped: bool = False
    subquery: Callable[[exp.Expression], Table] | None = None
    canon_scope: Scope | None = None
    correlated: Callable[[exp.Expression, Context], Any] | None = None

    @property
    def n(self) -> int:
        return self.table.num_rows

    @property
    def device(self) -> Any:
        return self.table.device


def canonical(node: exp.Expression, scope: Scope) -> str:
    """SQL text of ``node`` with column references replaced by resolved indexes."""
    def sub(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Column) and not isinstance(n.this, exp.Star):
            try:
                return exp.column(f"__c{scope.resolve(n.name, n.table or None)}")
            except BindError:
                return n
        return n

    return node.transform(sub, copy=True).sql(dialect="duckdb")


def as_column(v: Value, ctx: Context, dtype: Any = None) -> Column:
    """``v`` as a column of ``ctx``'s length (a scalar is broadcast)."""
    if isinstance(v, Column):
        return v
    if isinstance(v, Interval):
        raise NotSupportedError("an INTERVAL can only be added to or subtracted from a date")
    return kx.literal(v, ctx.n, ctx.device, dtype)


def literal_value(node: exp.Expression) -> Any:
    """The Python value of a literal node (numbers, strings, booleans, NULL)."""
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Literal):
        if node.is_string:
            return node.this
        text = node.this
        if any(ch in text for ch in ".eE"):
            return float(text)
        return int(text)
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return -literal_value(node.this)
    msg = f"expected a literal, got {node.sql(dialect='duckdb')!r}"
    raise NotSupportedError(msg)


def evaluate(node: exp.Expression, ctx: Context) -> Value:
    """Evaluate ``node`` over ``ctx.table``: a Column or a Python scalar."""
    if ctx.subst:
        key = canonical(node, ctx.canon_scope or ctx.scope)
        if key in ctx.subst:
            return ctx.table.columns[ctx.subst[key]]
    handler = _NODES.get(type(node))
    if handler is not None:
        return handler(node, ctx)
    if isinstance(node, exp.Func):
        from .functions import call

        return call(node, ctx)
    msg = f"SQL construct {type(node).__name__} ({node.sql(dialect='duckdb')!r}) is not supported yet"
    raise NotSupportedError(msg)


def _column(node: exp.Column, ctx: Context) -> Value:
    if isinstance(node.this, exp.Star):
        raise NotSupportedError("'*' is only supported in the select list and count(*)")
    try:
        if ctx.grouped:
            (ctx.canon_scope or ctx.scope).resolve(node.name, node.table or None)
            msg = (f"column {node.sql(dialect='duckdb')!r} must appear in the GROUP BY clause "
                   "or be used in an aggregate function")
            raise BindError(msg)
        return ctx.table.columns[ctx.scope.resolve(node.name, node.table or None)]
    except BindError:
        # a select-list alias named in ORDER BY / HAVING (the planner marks those): an input
        # column of that name wins, as in DuckDB; otherwise the aliased expression
        alias = node.meta.get("xpdb_select_alias")
        if alias is None:
            raise
        return evaluate(alias, ctx)


def _kw(ctx: Context) -> dict[str, Any]:
    return {"length": ctx.n, "device": ctx.device}


def _binary(op: str) -> Callable[[exp.Expression, Context], Value]:
    def run(node: exp.Expression, ctx: Context) -> Value:
        a, b = evaluate(node.this, ctx), evaluate(node.expression, ctx)
        return arith(op, a, b, ctx, node)

    return run


def arith(op: str, a: Value, b: Value, ctx: Context, node: exp.Expression | None = None) -> Value:
    """SQL arithmetic (intervals, date differences, DuckDB's float ``/``); integer overflow
    raises ExecutionError naming ``node``'s SQL text, as DuckDB's "Out of Range" error."""
    if isinstance(a, Interval) or isinstance(b, Interval):
        if op not in ("add", "sub") or (isinstance(a, Interval) and (op == "sub" or isinstance(b, Interval))):
            raise NotSupportedError("only date/timestamp +/- INTERVAL is supported")
        base, iv = (b, a) if isinstance(a, Interval) else (a, b)
        sign = -1 if op == "sub" else 1
        col = as_column(base, ctx)
        if col.dtype.kind == "date":
            col = kcast.cast(col, t.timestamp("us"))
        return kdt.add_interval(col, sign * iv.months, sign * iv.days, sign * iv.micros)
    if a is None or b is None:
        return None
    # DuckDB's date arithmetic: date +/- integer days is a date, date - date integer days
    if op == "sub" and _is_date(a) and _is_date(b):
        return kdt.date_diff("day", as_column(b, ctx), as_column(a, ctx))
    if op in ("add", "sub") and _is_date(a) and _is_int(b):
        days = b if op == "add" else (kx.negate(b, overflow="raise") if isinstance(b, Column)
                                      else -b)
        return kdt.add_interval(as_column(a, ctx), 0, days, 0)
    if op == "add" and _is_int(a) and _is_date(b):
        return kdt.add_interval(as_column(b, ctx), 0, a, 0)
    if op == "pow":
        a = kcast.cast(as_column(a, ctx), t.float64)
    # DuckDB: `/` and float `%` by zero are IEEE (inf/nan); integer `//` and `%` give NULL
    floats = any(isinstance(x, float) or (isinstance(x, Column) and x.dtype.is_float) for x in (a, b))
    ieee = op == "truediv" or (op == "rem" and floats)
    if op == "intdiv" and floats:
        return kx.arith("truediv", a, b, div_zero="null", **_kw(ctx))  # DuckDB: no flooring
    text = node.sql(dialect="duckdb") if node is not None else None
    return kx.arith(op, a, b, div_zero="ieee" if ieee else "null", overflow="raise", expr=text,
                    **_kw(ctx))


def _bitwise(op: str) -> Callable[[exp.Expression, Context], Value]:
    def run(node: exp.Expression, ctx: Context) -> Value:
        a, b = evaluate(node.this, ctx), evaluate(node.expression, ctx)
        if a is None or b is None:
            return None
        return kx.bitwise(op, a, b, expr=node.sql(dialect="duckdb"), **_kw(ctx))

    return run


def _bit_not(node: exp.BitwiseNot, ctx: Context) -> Value:
    v = evaluate(node.this, ctx)
    if isinstance(v, Column):
        return kx.bit_not(v)
    if v is None:
        return None
    if not isinstance(v, int):
        raise XTypeError(f"bitwise not takes integers, got {v!r}; cast to an integer type "
                         "first")
    return ~int(v)


def _is_date(v: Value) -> bool:
    if isinstance(v, Column):
        return v.dtype.kind == "date"
    return isinstance(v, datetime.date) and not isinstance(v, datetime.datetime)


def _is_int(v: Value) -> bool:
    if isinstance(v, Column):
        return v.dtype.is_integer
    return isinstance(v, int) and not isinstance(v, bool)


def _compare(op: str) -> Callable[[exp.Expression, Context], Value]:
    def run(node: exp.Expression, ctx: Context) -> Value:
        if isinstance(node.expression, exp.Any | exp.All):
            out = _correlated(node, ctx)
            if out is not NotImplemented:
                return out
            quant = node.expression
            if not ((op == "eq" and isinstance(quant, exp.Any))
                    or (op == "ne" and isinstance(quant, exp.All))):
                msg = f"{node.sql(dialect='duckdb')!r}: only = ANY and <> ALL are supported yet"
                raise NotSupportedError(msg)
            inner = exp.In(this=node.this.copy(), query=quant.this.copy())
            out = _in(inner, ctx)
            return kx.not_(out, **_kw(ctx)) if op == "ne" else out
        a, b = _coerce_pair(evaluate(node.this, ctx), evaluate(node.expression, ctx), ctx)
        return kx.compare(op, a, b, **_kw(ctx))

    return run


def _coerce_pair(a: Value, b: Value, ctx: Context) -> tuple[Value, Value]:
    """Compare a date/timestamp column with a string literal as DuckDB does (cast the text)."""
    for x, y, swap in ((a, b, False), (b, a, True)):
        if isinstance(x, Column) and x.dtype.is_temporal and isinstance(y, str):
            value = scalar_cast(y, x.dtype)
            return (value, x) if swap else (x, value)
    return a, b


def scalar_cast(value: Any, to: t.DataType, safe: bool = True) -> Any:
    """Cast one Python value through the cast kernel (on the CPU)."""
    host = kx.literal(value, 1, "cpu") if value is not None else Column.full(1, None, to, "cpu")
    return kcast.cast(host, to, safe=safe, float_to_int="sql").to_pylist()[0]


def _logic(fn: Callable[..., Column]) -> Callable[[exp.Expression, Context], Value]:
    def run(node: exp.Expression, ctx: Context) -> Value:
        return fn(evaluate(node.this, ctx), evaluate(node.expression, ctx), **_kw(ctx))

    return run


def _not(node: exp.Not, ctx: Context) -> Value:
    return kx.not_(evaluate(node.this, ctx), **_kw(ctx))


def _neg(node: exp.Neg, ctx: Context) -> Value:
    v = evaluate(node.this, ctx)
    if isinstance(v, Column):
        return kx.negate(v, overflow="raise")
    if isinstance(v, int) and v == -(2**63) and not isinstance(v, bool):
        msg = (f"Overflow in negation of {node.sql(dialect='duckdb')!r}: {-v} does not fit in "
               "int64; cast it to DOUBLE or DECIMAL first")
        raise ExecutionError(msg)
    return None if v is None else -v


def _is(node: exp.Is, ctx: Context) -> Value:
    if not isinstance(node.expression, exp.Null):
        raise NotSupportedError("only IS [NOT] NULL is supported")
    return kx.is_null(evaluate(node.this, ctx), **_kw(ctx))


def _in(node: exp.In, ctx: Context) -> Value:
    a = evaluate(node.this, ctx)
    query = node.args.get("query")
    if query is not None:
        out = _correlated(node, ctx)
        if out is not NotImplemented:
            return out
        sub = run_subquery(query, ctx)
        if sub.num_rows and len(sub.names) != 1:
            raise XpdbError(f"an IN subquery must return one column, got {sub.names}")
        return kx.isin(a, sub.columns[0].to(ctx.device), **_kw(ctx))
    vals = [evaluate(v, ctx) for v in node.expressions]
    if all(not isinstance(v, Column) for v in vals):
        if isinstance(a, Column) and a.dtype.is_temporal:
            vals = [scalar_cast(v, a.dtype) if isinstance(v, str) else v for v in vals]
        return kx.isin(a, vals, **_kw(ctx))
    out: Value = False
    for v in vals:  # a list holding columns: x = v1 OR x = v2 ...
        out = kx.or_(out, kx.compare("eq", a, v, **_kw(ctx)), **_kw(ctx))
    return out


def run_subquery(query: exp.Expression, ctx: Context) -> Table:
    """Run an uncorrelated subquery through the context's executor."""
    if ctx.subquery is None:
        raise NotSupportedError("subqueries are not supported here")
    if isinstance(query, exp.Subquery):
        query = query.this
    return ctx.subquery(query)


def _correlated(node: exp.Expression, ctx: Context) -> Value:
    if ctx.correlated is None:
        return NotImplemented
    return ctx.correlated(node, ctx)


def _subquery(node: exp.Subquery, ctx: Context) -> Value:
    out = _correlated(node, ctx)
    if out is not NotImplemented:
        return out
    sub = run_subquery(node, ctx)
    if len(sub.names) != 1:
        raise XpdbError(f"a scalar subquery must return one column, got {sub.names}")
    if sub.num_rows > 1:
        msg = f"a scalar subquery returned {sub.num_rows} rows; at most one is allowed"
        raise XpdbError(msg)
    if sub.num_rows == 0:
        return None
    return sub.columns[0].to(ctx.device).take(ctx.device.xp.zeros(ctx.n, "int64"))


def _exists(node: exp.Exists, ctx: Context) -> Value:
    out = _correlated(node, ctx)
    if out is not NotImplemented:
        return out
    sub = run_subquery(node.this, ctx)
    return sub.num_rows > 0


def _between(node: exp.Between, ctx: Context) -> Value:
    a = evaluate(node.this, ctx)
    lo, hi = evaluate(node.args["low"], ctx), evaluate(node.args["high"], ctx)
    a, lo = _coerce_pair(a, lo, ctx)
    a, hi = _coerce_pair(a, hi, ctx)
    return kx.between(a, lo, hi, **_kw(ctx))


def _like(case_insensitive: bool) -> Callable[[exp.Expression, Context], Value]:
    def run(node: exp.Expression, ctx: Context) -> Value:
        escape = None
        if isinstance(node, exp.Escape):
            node, escape = node.this, literal_value(node.expression)
        pattern = evaluate(node.expression, ctx)
        if isinstance(pattern, Column):
            raise NotSupportedError("LIKE with a non-constant pattern is not supported yet")
        a = evaluate(node.this, ctx)
        if a is None or pattern is None:
            return None
        out = ks.like(as_column(a, ctx), pattern, case_insensitive, escape)
        return kx.not_(out) if node.args.get("negate") else out

    return run


def _escape(node: exp.Escape, ctx: Context) -> Value:
    inner = node.this
    fn = _like(isinstance(inner, exp.ILike))
    return fn(node, ctx)


def _case(node: exp.Case, ctx: Context) -> Value:
    subject = node.this
    conds, vals = [], []
    for branch in node.args.get("ifs") or []:
        cond = branch.this
        if subject is not None:
            cond = exp.EQ(this=subject.copy(), expression=cond.copy())
        conds.append(evaluate(cond, ctx))
        vals.append(evaluate(branch.args["true"], ctx))
    default = node.args.get("default")
    dval = evaluate(default, ctx) if default is not None else None
    return kx.case_when(conds, vals, dval, **_kw(ctx))


def _if(node: exp.If, ctx: Context) -> Value:
    false = node.args.get("false")
    return kx.case_when([evaluate(node.this, ctx)], [evaluate(node.args["true"], ctx)],
                        evaluate(false, ctx) if false is not None else None, **_kw(ctx))


def sql_type(node: exp.DataType) -> t.DataType:
    """The xpdb type of a SQL type name (DuckDB's names)."""
    kind = node.this
    D = exp.DataType.Type
    table = {
        D.BOOLEAN: t.bool_, D.TINYINT: t.int8, D.SMALLINT: t.int16, D.INT: t.int32,
        D.BIGINT: t.int64, D.UTINYINT: t.uint8, D.USMALLINT: t.uint16, D.UINT: t.uint32,
        D.UBIGINT: t.uint64, D.FLOAT: t.float32, D.DOUBLE: t.float64, D.VARCHAR: t.string,
        D.TEXT: t.string, D.CHAR: t.string, D.NVARCHAR: t.string, D.DATE: t.date,
        D.TIMESTAMP: t.timestamp("us"), D.DATETIME: t.timestamp("us"),
        D.TIMESTAMPNTZ: t.timestamp("us"),
        D.TIMESTAMP_S: t.timestamp("s"), D.TIMESTAMP_MS: t.timestamp("ms"),
        D.TIMESTAMP_NS: t.timestamp("ns"), D.TIMESTAMPTZ: t.timestamp("us", "UTC"),
    }
    if kind in table:
        return table[kind]
    if kind == D.DECIMAL:
        params = [int(literal_value(p.this)) for p in node.expressions]
        return t.decimal(*(params or [18, 3]))
    msg = f"SQL type {node.sql(dialect='duckdb')} is not supported yet"
    raise NotSupportedError(msg)


def _cast(node: exp.Cast, ctx: Context) -> Value:
    to = sql_type(node.args["to"])
    safe = not isinstance(node, exp.TryCast) and not node.args.get("safe")
    v = evaluate(node.this, ctx)
    lit, sign = (node.this.this, -1) if isinstance(node.this, exp.Neg) else (node.this, 1)
    if isinstance(lit, exp.Literal) and not lit.is_string and "." in lit.this:
        from decimal import Decimal

        v = sign * Decimal(lit.this)  # DuckDB reads 2.5 as DECIMAL: CAST(2.5 AS INT) is 3
    if not isinstance(v, Column):
        return scalar_cast(v, to, safe=safe) if v is not None else _typed_null(to, ctx)
    return kcast.cast(v, to, safe=safe, float_to_int="sql")


def _typed_null(to: t.DataType, ctx: Context) -> Column:
    return Column.full(ctx.n, None, to, ctx.device)


_UNITS = {"year": (12, 0, 0), "month": (1, 0, 0), "quarter": (3, 0, 0), "week": (0, 7, 0),
          "day": (0, 1, 0), "hour": (0, 0, 3600 * 10**6), "minute": (0, 0, 60 * 10**6),
          "second": (0, 0, 10**6), "millisecond": (0, 0, 10**3), "microsecond": (0, 0, 1)}


def _interval(node: exp.Interval, ctx: Context) -> Value:
    text = str(literal_value(node.this)).strip()
    unit = node.args.get("unit")
    parts = text.split()
    if unit is None and len(parts) == 2:
        text, uname = parts
    else:
        uname = unit.name if unit is not None else "day"
    uname = uname.lower().rstrip("s") if uname.lower() != "us" else "microsecond"
    if uname not in _UNITS:
        raise NotSupportedError(f"INTERVAL unit {uname!r} is not supported; use one of {list(_UNITS)}")
    try:
        count = int(text)
    except ValueError:
        raise NotSupportedError(f"INTERVAL {text!r} is not supported; use a whole number") from None
    months, days, micros = _UNITS[uname]
    return Interval(months * count, days * count, micros * count)


def _literal(node: exp.Expression, ctx: Context) -> Value:
    return literal_value(node)


def _paren(node: exp.Paren, ctx: Context) -> Value:
    return evaluate(node.this, ctx)


def _alias(node: exp.Alias, ctx: Context) -> Value:
    return evaluate(node.this, ctx)


def _dpipe(node: exp.DPipe, ctx: Context) -> Value:
    a, b = evaluate(node.this, ctx), evaluate(node.expression, ctx)
    if a is None or b is None:
        return None
    if not isinstance(a, Column) and not isinstance(b, Column):
        return str(a) + str(b)
    return ks.concat(*[_text(x, ctx) for x in (a, b)])


def _text(v: Value, ctx: Context) -> Any:
    if isinstance(v, Column):
        return v if v.dtype.is_string else kcast.cast(v, t.string)
    return v if isinstance(v, str) or v is None else str(v)


def _distinct_from(negate: bool) -> Callable[[exp.Expression, Context], Value]:
    def run(node: exp.Expression, ctx: Context) -> Value:
        a, b = evaluate(node.this, ctx), evaluate(node.expression, ctx)
        eq = kx.compare("eq", a, b, **_kw(ctx))
        both_null = kx.and_(kx.is_null(a, **_kw(ctx)), kx.is_null(b, **_kw(ctx)), **_kw(ctx))
        same = kx.coalesce(kx.or_(eq, both_null, **_kw(ctx)), False, **_kw(ctx))
        return same if negate else kx.not_(same, **_kw(ctx))

    return run


_NODES: dict[type, Callable[[Any, Context], Value]] = {
    exp.Column: _column,
    exp.Literal: _literal, exp.Null: _literal, exp.Boolean: _literal,
    exp.Paren: _paren, exp.Alias: _alias,
    exp.Add: _binary("add"), exp.Sub: _binary("sub"), exp.Mul: _binary("mul"),
    exp.Div: _binary("truediv"), exp.IntDiv: _binary("intdiv"), exp.Mod: _binary("rem"),
    exp.Pow: _binary("pow"),
    exp.BitwiseAnd: _bitwise("and"), exp.BitwiseOr: _bitwise("or"),
    exp.BitwiseXor: _bitwise("xor"), exp.BitwiseLeftShift: _bitwise("shl"),
    exp.BitwiseRightShift: _bitwise("shr"), exp.BitwiseNot: _bit_not,
    exp.EQ: _compare("eq"), exp.NEQ: _compare("ne"), exp.LT: _compare("lt"),
    exp.LTE: _compare("le"), exp.GT: _compare("gt"), exp.GTE: _compare("ge"),
    exp.NullSafeEQ: _distinct_from(True), exp.NullSafeNEQ: _distinct_from(False),
    exp.And: _logic(kx.and_), exp.Or: _logic(kx.or_), exp.Not: _not, exp.Neg: _neg,
    exp.Is: _is, exp.In: _in, exp.Between: _between,
    exp.Like: _like(False), exp.ILike: _like(True), exp.Escape: _escape,
    exp.Case: _case, exp.If: _if,
    exp.Cast: _cast, exp.TryCast: _cast, exp.Interval: _interval, exp.DPipe: _dpipe,
    exp.Subquery: _subquery, exp.Exists: _exists,
}


def register_node(node_type: type, handler: Callable[[Any, Context], Value]) -> None:
    """Evaluate syntax nodes of ``node_type`` with ``handler(node, ctx)`` (for extensions)."""
    _NODES[node_type] = handler


def to_mask(v: Value, ctx: Context) -> Any:
    """A bool array: True where the predicate ``v`` is true (null counts as false)."""
    xp = ctx.device.xp
    if not isinstance(v, Column):
        return xp.full(ctx.n, bool(v) if v is not None else False)
    if not v.dtype.is_bool:
        msg = f"a predicate must be boolean, got {v.dtype}; compare it with a value"
        raise XTypeError(msg)
    return v.data if v.validity is None else v.data & v.validity


__all__ = ["Context", "Interval", "Scope", "as_column", "canonical", "evaluate",
           "literal_value", "register_node", "scalar_cast", "sql_type", "to_mask"]

