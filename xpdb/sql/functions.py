"""The scalar function registry of the SQL layer (declarative: name -> handler).

A handler takes the evaluated positional arguments (Columns or Python scalars) and the
:class:`~xpdb.sql.expressions.Context`. Later layers add functions with
:func:`register_function`. Aggregate names live in :data:`AGGREGATES`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from .. import types as t
from ..column import Column
from ..errors import BindError, NotSupportedError
from ..kernels import cast as kcast
from ..kernels import datetime as kdt
from ..kernels import expr as kx
from ..kernels import strings as ks
from .expressions import Context, Value, as_column, evaluate

#: SQL aggregate name -> xpdb.kernels.groupby function name.
AGGREGATES: dict[str, str] = {
    "count": "count", "sum": "sum", "avg": "mean", "mean": "mean", "min": "min",
    "max": "max", "stddev": "std", "stddev_samp": "std", "stddev_pop": "stddev_pop",
    "variance": "var", "var_samp": "var", "var_pop": "var_pop", "median": "median",
    "first": "first", "last": "last", "any_value": "any_value", "product": "prod",
    "bool_and": "bool_and", "bool_or": "bool_or", "corr": "corr", "covar_pop": "covar_pop",
    "covar_samp": "covar_samp", "std": "std", "quantile_cont": "quantile",
    "quantile": "quantile", "quantile_disc": "quantile_disc", "approx_count_distinct":
    "count_distinct",
}
# sqlglot class names of aggregates whose SQL name differs
_AGG_CLASSES = {"avg": "avg", "stddev": "stddev", "stddevpop": "stddev_pop",
                "stddevsamp": "stddev_samp", "variance": "variance", "variancepop": "var_pop",
                "arbitrary": "any_value", "anyvalue": "any_value", "logicaland": "bool_and",
                "logicalor": "bool_or", "covarpop": "covar_pop", "covarsamp": "covar_samp",
                "percentilecont": "quantile_cont", "percentiledisc": "quantile_disc",
                "approxdistinct": "approx_count_distinct", "approxquantile": "quantile_cont",
                "groupconcat": "string_agg"}


def function_name(node: exp.Expression) -> str:
    """The lower-case SQL name of a function node."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    cls = type(node).__name__.lower()
    return _AGG_CLASSES.get(cls, cls)


def is_aggregate(node: exp.Expression) -> bool:
    """True for an aggregate function call (not inside OVER)."""
    return isinstance(node, exp.AggFunc) or (
        isinstance(node, exp.Anonymous) and function_name(node) in AGGREGATES)


def positional_args(node: exp.Expression) -> list[exp.Expression]:
    """A function node's arguments in declaration order."""
    if isinstance(node, exp.Anonymous):
        return list(node.expressions)
    out: list[exp.Expression] = []
    for key in node.arg_types:
        v = node.args.get(key)
        if isinstance(v, list):
            out.extend(x for x in v if isinstance(x, exp.Expression))
        elif isinstance(v, exp.Expression):
            out.append(v)
    return out


@dataclass(frozen=True)
class Function:
    """A registry entry: ``fn(*args, ctx)``; ``consts`` lists argument positions that must
    be constants; ``column_first`` broadcasts a scalar first argument; ``nulls`` returns
    NULL when a constant argument is NULL."""

    fn: Callable[..., Value]
    consts: tuple[int, ...] = ()
    column_first: bool = True
    min_args: int = 1
    max_args: int | None = None


FUNCTIONS: dict[str, Function] = {}
# Node classes whose arguments are not plain expressions get a node handler instead.
NODE_FUNCTIONS: dict[str, Callable[[exp.Expression, Context], Value]] = {}


def register_function(name: str, fn: Callable[..., Value], *, consts: tuple[int, ...] = (),
                      column_first: bool = True, min_args: int = 1,
                      max_args: int | None = None) -> None:
    """Register the SQL function ``name`` (lower case); see :class:`Function`."""
    FUNCTIONS[name.lower()] = Function(fn, consts, column_first, min_args, max_args)


def call(node: exp.Expression, ctx: Context) -> Value:
    """Evaluate a function call node."""
    name = function_name(node)
    if name in NODE_FUNCTIONS:
        return NODE_FUNCTIONS[name](node, ctx)
    if is_aggregate(node):
        msg = f"aggregate function {name}() is not allowed here (WHERE, GROUP BY or ON)"
        raise BindError(msg)
    entry = FUNCTIONS.get(name)
    if entry is None:
        if isinstance(node, exp.Window):
            raise NotSupportedError("window functions are not supported in this position")
        import difflib

        close = difflib.get_close_matches(name, list(FUNCTIONS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise BindError(f"function {name}() not found{hint}")
    nodes = positional_args(node)
    if len(nodes) < entry.min_args or (entry.max_args is not None and len(nodes) > entry.max_args):
        msg = f"function {name}() got {len(nodes)} argument(s)"
        raise BindError(msg)
    args = [evaluate(a, ctx) for a in nodes]
    for i in entry.consts:
        if i < len(args) and isinstance(args[i], Column):
            msg = f"argument {i + 1} of {name}() must be a constant for now"
            raise NotSupportedError(msg)
    if any(args[i] is None for i in entry.consts if i < len(args)):
        return None
    if entry.column_first and args:
        if args[0] is None:
            return None
        args[0] = as_column(args[0], ctx)
    return entry.fn(*args, ctx=ctx)


def _k(fn: Callable[..., Value]) -> Callable[..., Value]:
    """Adapt a kernel ``fn(col, *consts)`` to the handler signature."""
    def run(*args: Any, ctx: Context) -> Value:
        return fn(*args)

    return run


def _kw(fn: Callable[..., Value]) -> Callable[..., Value]:
    """Adapt an expr kernel taking ``length``/``device`` keywords."""
    def run(*args: Any, ctx: Context) -> Value:
        return fn(*args, length=ctx.n, device=ctx.device)

    return run


def _round(col: Column, ndigits: int = 0, *, ctx: Context) -> Value:
    return kx.round_(col, int(ndigits), half="away")


def _float_fn(fn: Callable[..., Column]) -> Callable[..., Value]:
    def run(col: Column, *, ctx: Context) -> Value:
        if not col.dtype.is_float:
            col = kcast.cast(col, t.float64)
        return fn(col)

    return run


def _log(*args: Any, ctx: Context) -> Value:
    if len(args) == 1:
        return _float_fn(kx.log10)(args[0], ctx=ctx)
    base, x = args
    return kx.arith("truediv", _float_fn(kx.log)(as_column(x, ctx), ctx=ctx),
                    _float_fn(kx.log)(as_column(base, ctx), ctx=ctx), div_zero="null")


def _trim(side: str) -> Callable[..., Value]:
    fn = {"both": ks.trim, "left": ks.ltrim, "right": ks.rtrim}[side]

    def run(col: Column, chars: str = " ", *, ctx: Context) -> Value:
        return fn(col, chars)

    return run


def _trim_node(node: exp.Expression, ctx: Context) -> Value:
    chars = node.args.get("expression")
    pos = str(node.args.get("position") or "BOTH").lower()
    col = evaluate(node.this, ctx)
    if col is None:
        return None
    ch = evaluate(chars, ctx) if chars is not None else " "
    side = {"leading": "left", "trailing": "right"}.get(pos, "both")
    return _trim(side)(as_column(col, ctx), ch, ctx=ctx)


def _concat(*args: Any, ctx: Context) -> Value:
    # DuckDB's concat() skips NULLs
    parts = [a if isinstance(a, Column) and a.dtype.is_string else
             kcast.cast(a, t.string) if isinstance(a, Column) else (None if a is None else str(a))
             for a in args]
    parts = [p for p in parts if p is not None]
    if not parts:
        return ""
    if not any(isinstance(p, Column) for p in parts):
        return "".join(parts)
    return ks.concat(*parts, null_mode="skip")


def _extract_node(node: exp.Expression, ctx: Context) -> Value:
    field = str(node.this.name if isinstance(node.this, exp.Var | exp.Column) else
                evaluate(node.this, ctx)).lower()
    col = evaluate(node.expression, ctx)
    return None if col is None else _extract(field)(as_column(col, ctx), ctx=ctx)


def _extract(field: str) -> Callable[..., Value]:
    def run(col: Column, *, ctx: Context) -> Value:
        return kdt.extract(col, field)

    return run


def _date_part(part: str, col: Column, *, ctx: Context) -> Value:
    return kdt.extract(col, part.lower())


def _trunc_node(node: exp.Expression, ctx: Context) -> Value:
    unit = node.args.get("unit")
    uname = unit.name if isinstance(unit, exp.Var | exp.Column) else evaluate(unit, ctx)
    col = evaluate(node.this, ctx)
    return None if col is None else _date_trunc(str(uname), as_column(col, ctx), ctx=ctx)


def _date_trunc(unit: str, col: Column, *, ctx: Context) -> Value:
    if col.dtype.kind == "date":  # DuckDB returns a timestamp for a date
        col = kcast.cast(col, t.timestamp("us"))
    return kdt.date_trunc(col, unit.lower())


def _substring(col: Column, start: int, length: int | None = None, *, ctx: Context) -> Value:
    return ks.substring(col, int(start), None if length is None else int(length))


def _greatest(pick: str) -> Callable[..., Value]:
    def run(*args: Any, ctx: Context) -> Value:
        # NULLs are skipped, as DuckDB
        out = args[0]
        for b in args[1:]:
            better = kx.compare(pick, b, out, length=ctx.n, device=ctx.device)
            better = kx.or_(better, kx.is_null(out, length=ctx.n, device=ctx.device),
                            length=ctx.n, device=ctx.device)
            out = kx.case_when([better], [b], out, length=ctx.n, device=ctx.device)
        return out

    return run


def _pad_node(node: exp.Expression, ctx: Context) -> Value:
    col = evaluate(node.this, ctx)
    width = evaluate(node.expression, ctx)
    fill_node = node.args.get("fill_pattern")
    fill = evaluate(fill_node, ctx) if fill_node is not None else " "
    if isinstance(width, Column) or isinstance(fill, Column):
        raise NotSupportedError("lpad/rpad take a constant width and fill for now")
    if col is None or width is None or fill is None:
        return None
    fn = ks.lpad if node.args.get("is_left") else ks.rpad
    return fn(as_column(col, ctx), int(width), fill)


def _regexp_replace_node(node: exp.Expression, ctx: Context) -> Value:
    col = evaluate(node.this, ctx)
    consts = [evaluate(node.args[k], ctx) if node.args.get(k) is not None else None
              for k in ("expression", "replacement", "modifiers")]
    if any(isinstance(c, Column) for c in consts):
        raise NotSupportedError("regexp_replace takes a constant pattern and replacement for now")
    pattern, repl, mods = consts
    if col is None or pattern is None or repl is None:
        return None
    mods = mods or ""
    flags = re.IGNORECASE if "i" in mods else 0
    return ks.regex_replace(as_column(col, ctx), pattern, repl, all="g" in mods, flags=flags)


def _regexp_extract_node(node: exp.Expression, ctx: Context) -> Value:
    col = evaluate(node.this, ctx)
    pattern = evaluate(node.expression, ctx)
    group_node = node.args.get("group")
    group = evaluate(group_node, ctx) if group_node is not None else 0
    if isinstance(pattern, Column) or isinstance(group, Column):
        raise NotSupportedError("regexp_extract takes a constant pattern and group for now")
    if col is None or pattern is None:
        return None
    return ks.regex_extract(as_column(col, ctx), pattern, int(group))


def _date_diff_node(node: exp.Expression, ctx: Context) -> Value:
    unit = node.args.get("unit")
    uname = unit.name if isinstance(unit, exp.Var | exp.Column) else evaluate(unit, ctx)
    end, start = evaluate(node.this, ctx), evaluate(node.expression, ctx)
    if end is None or start is None:
        return None
    return kdt.date_diff(str(uname).lower(), as_column(start, ctx), end)


def _make_date_node(node: exp.Expression, ctx: Context) -> Value:
    parts = [evaluate(node.args[k], ctx) for k in ("year", "month", "day")]
    if any(p is None for p in parts):
        return None
    if not any(isinstance(p, Column) for p in parts):
        parts[0] = as_column(parts[0], ctx)
    return kdt.make_date(*parts)


def _strftime(col: Column, fmt: str, *, ctx: Context) -> Value:
    return kdt.strftime(col, fmt)


def _strptime(col: Column, fmt: str, *, ctx: Context) -> Value:
    return kdt.strptime(col, fmt)


def _strpos(col: Column, sub: str, *, ctx: Context) -> Value:
    return ks.strpos(col, sub)


def _regexp(col: Column, pattern: str, *, ctx: Context) -> Value:
    return ks.regex_match(col, pattern)


def _ifnull(a: Any, b: Any, *, ctx: Context) -> Value:
    return kx.coalesce(a, b, length=ctx.n, device=ctx.device)


_ENTRIES: dict[str, Function] = {
    "upper": Function(_k(ks.upper)), "lower": Function(_k(ks.lower)),
    "length": Function(_k(ks.length)), "char_length": Function(_k(ks.length)),
    "substring": Function(_substring, consts=(1, 2)), "substr": Function(_substring, consts=(1, 2)),
    "ltrim": Function(_trim("left"), consts=(1,)), "rtrim": Function(_trim("right"), consts=(1,)),
    "replace": Function(_k(ks.replace), consts=(1, 2)),
    "startswith": Function(_k(ks.starts_with), consts=(1,)),
    "starts_with": Function(_k(ks.starts_with), consts=(1,)),
    "endswith": Function(_k(ks.ends_with), consts=(1,)),
    "ends_with": Function(_k(ks.ends_with), consts=(1,)),
    "contains": Function(_k(ks.contains), consts=(1,)),
    "regexplike": Function(_regexp, consts=(1,)), "regexp_matches": Function(_regexp, consts=(1,)),
    "strposition": Function(_strpos, consts=(1,)), "strpos": Function(_strpos, consts=(1,)),
    "left": Function(_k(ks.left), consts=(1,)), "right": Function(_k(ks.right), consts=(1,)),
    "reverse": Function(_k(ks.reverse)), "repeat": Function(_k(ks.repeat), consts=(1,)),
    "lpad": Function(_k(ks.lpad), consts=(1, 2)), "rpad": Function(_k(ks.rpad), consts=(1, 2)),
    "split_part": Function(_k(ks.split_part), consts=(1, 2)),
    "concat": Function(_concat, column_first=False),
    "abs": Function(_k(kx.abs_)), "sign": Function(_k(kx.sign)),
    "round": Function(_round, consts=(1,)), "floor": Function(_k(kx.floor)),
    "ceil": Function(_k(kx.ceil)), "ceiling": Function(_k(kx.ceil)),
    "trunc": Function(_k(kx.trunc)),
    "sqrt": Function(_float_fn(kx.sqrt)), "exp": Function(_float_fn(kx.exp)),
    "ln": Function(_float_fn(kx.log)), "log": Function(_log, column_first=False),
    "log10": Function(_float_fn(kx.log10)), "log2": Function(_float_fn(kx.log2)),
    "coalesce": Function(_kw(kx.coalesce), column_first=False),
    "ifnull": Function(_ifnull, column_first=False),
    "nullif": Function(_kw(kx.nullif), column_first=False),
    "greatest": Function(_greatest("gt")), "least": Function(_greatest("lt")),
    "year": Function(_extract("year")), "month": Function(_extract("month")),
    "day": Function(_extract("day")), "quarter": Function(_extract("quarter")),
    "hour": Function(_extract("hour")), "minute": Function(_extract("minute")),
    "second": Function(_extract("second")), "dayofweek": Function(_extract("dow")),
    "dayofyear": Function(_extract("dayofyear")), "week": Function(_extract("week")),
    "date_part": Function(_date_part, consts=(0,), column_first=False),
    "datepart": Function(_date_part, consts=(0,), column_first=False),
    "date_trunc": Function(_date_trunc, consts=(0,), column_first=False),
    "datetrunc": Function(_date_trunc, consts=(0,), column_first=False),
    "timetostr": Function(_strftime, consts=(1,)), "strftime": Function(_strftime, consts=(1,)),
    "strtotime": Function(_strptime, consts=(1,)), "strptime": Function(_strptime, consts=(1,)),
}
FUNCTIONS.update(_ENTRIES)
NODE_FUNCTIONS.update({"regexpreplace": _regexp_replace_node,
                       "regexpextract": _regexp_extract_node, "datediff": _date_diff_node,
                       "datefromparts": _make_date_node, "pad": _pad_node, "trim": _trim_node, "extract": _extract_node,
                       "timestamptrunc": _trunc_node, "datetrunc": _trunc_node})

__all__ = ["AGGREGATES", "FUNCTIONS", "Function", "call", "function_name", "is_aggregate",
           "positional_args", "register_function"]
