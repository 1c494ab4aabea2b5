"""The scalar function registry of the SQL layer (declarative: name -> handler).

A handler takes the evaluated positional arguments (Columns or Python scalars) and the
:class:`~xpdb.sql.expressions.Context`. Later layers add functions with
:func:`register_function`. Aggregate names live in :data:`AGGREGATES`.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlglot import exp

from .. import types as t
from ..column import Column
from ..errors import BindError, ExecutionError, NotSupportedError
from ..kernels import cast as kcast
from ..kernels import datetime as kdt
from ..kernels import expr as kx
from ..kernels import groupby as kg
from ..kernels import strings as ks
from ..table import Table
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
    "count_distinct", "string_agg": "string_agg", "arg_max": "arg_max", "max_by": "arg_max",
    "arg_min": "arg_min", "min_by": "arg_min", "count_if": "count_if", "mode": "mode",
    "bit_and": "bit_and", "bit_or": "bit_or", "bit_xor": "bit_xor", "skewness": "skewness",
    "kurtosis": "kurtosis", "kurtosis_pop": "kurtosis_pop",
}
# sqlglot class names of aggregates whose SQL name differs
_AGG_CLASSES = {"avg": "avg", "stddev": "stddev", "stddevpop": "stddev_pop",
                "stddevsamp": "stddev_samp", "variance": "variance", "variancepop": "var_pop",
                "arbitrary": "any_value", "anyvalue": "any_value", "logicaland": "bool_and",
                "logicalor": "bool_or", "covarpop": "covar_pop", "covarsamp": "covar_samp",
                "percentilecont": "quantile_cont", "percentiledisc": "quantile_disc",
                "approxdistinct": "approx_count_distinct", "approxquantile": "quantile_cont",
                "groupconcat": "string_agg", "argmax": "arg_max", "argmin": "arg_min",
                "countif": "count_if", "bitwiseandagg": "bit_and", "bitwiseoragg": "bit_or",
                "bitwisexoragg": "bit_xor"}


def _sum_limit(dt: t.DataType) -> int | None:
    """The bound a SQL ``sum`` of ``dt`` must stay inside (None: floats and others)."""
    if dt.is_decimal:
        return 10**t.MAX_DECIMAL_PRECISION
    return 2**63 if dt.is_integer else None


def _with_halves(table: Table, checked: list[tuple[int, kg.Agg]]) -> Table:
    """``table`` plus the 32-bit halves of each checked sum's input, ``__sum{j}_hi/lo``."""
    from ..kernels.aggregate import split_halves

    cols = list(zip(table.names, table.columns, strict=True))
    for j, a in checked:
        col = table.column(a.column)
        halves = split_halves(table.device.xp, col.data)
        for half, values in zip(("hi", "lo"), halves, strict=True):
            cols.append((f"__sum{j}_{half}", Column(t.int64, values, col.validity, None,
                                                    col.device)))
    return Table(cols, table.num_rows, table.device)


def _halves_aggs(checked: list[tuple[int, kg.Agg]]) -> list[kg.Agg]:
    return [kg.Agg("sum", f"__sum{j}_{h}", f"__sum{j}_{h}_out")
            for j, _ in checked for h in ("hi", "lo")]


def _check_sums(out: Table, checked: list[tuple[int, kg.Agg]], types: list[t.DataType],
                keys: list[str], aggs: list[kg.Agg]) -> Table:
    """Raise where a checked sum left its range; else ``out`` without the halves."""
    from ..kernels.aggregate import halves_overflow

    dev = out.device
    for (j, _), dt in zip(checked, types, strict=True):
        limit = _sum_limit(dt)
        assert limit is not None
        high, low = out.column(f"__sum{j}_hi_out"), out.column(f"__sum{j}_lo_out")
        bad = halves_overflow(dev.xp, high.data, low.data, limit)
        if high.validity is not None:
            bad = bad & high.validity
        if bool(dev.scalar(bad.any())):
            g = int(dev.scalar(dev.xp.argmax(bad)))
            what = "int64" if limit == 2**63 else f"{t.MAX_DECIMAL_PRECISION} digits"
            msg = (f"Overflow in sum of {dt} values: the sum of group {g} does not fit in "
                   f"{what}; cast the values to DOUBLE before summing")
            raise ExecutionError(msg)
    names = [*keys, *(a.name for a in aggs)]
    return Table([(n, out.column(n)) for n in names], out.num_rows, dev)


def groupby_agg(table: Table, keys: list[str], aggs: list[kg.Agg]) -> Table:
    """:func:`xpdb.kernels.groupby.groupby_agg` (one row without keys) with SQL's rule for
    integer and decimal ``sum``: a sum past int64 (or past 18 digits for a decimal)
    raises ExecutionError instead of wrapping around.

    DuckDB sums into HUGEINT / DECIMAL(38); xpdb has no 128-bit integers, so it detects
    the overflow instead. One min/max pass bounds every sum by ``rows * max |value|``;
    only where that bound can be reached does each value also go in as its two 32-bit
    halves (:func:`xpdb.kernels.aggregate.split_halves`), whose sums cannot wrap and
    give the exact sum's range, through the same (sharded) aggregation.
    """
    xp = table.device.xp
    rows = table.num_rows
    checked: list[tuple[int, kg.Agg]] = []
    types: list[t.DataType] = []
    for j, a in enumerate(aggs):
        if a.func != "sum" or a.column is None or rows == 0:
            continue
        col = table.column(a.column)
        limit = _sum_limit(col.dtype)
        if limit is None:
            continue
        data = col.data if col.validity is None else xp.where(col.validity, col.data, 0)
        lo, hi = (int(table.device.scalar(f(data))) for f in (xp.min, xp.max))
        if rows * max(abs(lo), abs(hi)) >= limit:
            checked.append((j, a))
            types.append(col.dtype)
    if not checked:
        return kg.groupby_agg(table, keys, aggs) if keys else kg.aggregate(table, aggs)
    wide = _with_halves(table, checked)
    both = [*aggs, *_halves_aggs(checked)]
    out = kg.groupby_agg(wide, keys, both) if keys else kg.aggregate(wide, both)
    return _check_sums(out, checked, types, keys, aggs)


def groupby_agg_stream(pieces: Iterable[Table], keys: list[str], aggs: list[kg.Agg]) -> Table:
    """:func:`xpdb.kernels.groupby.groupby_agg_stream` with the overflow rule of
    :func:`groupby_agg`. The pieces' values are not known in advance, so every integer or
    decimal sum also sums its halves (two more int64 sums per piece)."""
    it = iter(pieces)
    first = next(it, None)
    if first is None:
        return kg.groupby_agg_stream(iter(()), keys, aggs)  # its own error
    checked = [(j, a) for j, a in enumerate(aggs) if a.func == "sum" and a.column is not None
               and _sum_limit(first.column(a.column).dtype) is not None]
    if not checked:
        return kg.groupby_agg_stream(itertools.chain([first], it), keys, aggs)
    types = [first.column(a.column).dtype for _, a in checked]
    wide = (_with_halves(piece, checked) for piece in itertools.chain([first], it))
    out = kg.groupby_agg_stream(wide, keys, [*aggs, *_halves_aggs(checked)])
    return _check_sums(out, checked, types, keys, aggs)


#: Aggregates whose result a repeated value cannot change: agg(DISTINCT x) is agg(x).
_IDEMPOTENT = frozenset({"min", "max", "first", "last", "any_value", "bool_and", "bool_or"})


def distinct_aggregate(name: str, distinct: exp.Distinct, j: int, ctx: Context,
                       pre: list[tuple[str, Column]], one_key_set: bool) -> kg.Agg:
    """The spec of ``name(DISTINCT x)`` (other than count): ``x`` kept only on the first
    row of each (group keys, value) pair, nulled elsewhere, then aggregated as usual.

    ``pre`` holds the group key columns (``__k0``...) and receives the argument column
    ``__a{j}``; the dedupe needs one set of keys, so with GROUPING SETS (``one_key_set``
    false) only aggregates that ignore repeats (min, max...) take DISTINCT.
    """
    from ..kernels import sort as ksort

    func = AGGREGATES.get(name)
    if func is None or len(distinct.expressions) != 1 or func in ("quantile",
                                                                  "quantile_disc"):
        raise NotSupportedError(f"{name}(DISTINCT ...) is not supported yet")
    value = as_column(evaluate(distinct.expressions[0], ctx), ctx)
    if func not in _IDEMPOTENT:
        if not one_key_set:
            msg = (f"{name}(DISTINCT ...) with GROUPING SETS, ROLLUP or CUBE is not supported "
                   "yet; compute it per grouping in a UNION ALL")
            raise NotSupportedError(msg)
        xp = ctx.device.xp
        keys = [(n, c) for n, c in pre if n.startswith("__k")]
        table = Table([*keys, ("__v", value)], ctx.n, ctx.device)
        keep = xp.zeros(ctx.n, dtype=bool)
        keep[ksort.distinct_indices(table)] = True
        valid = keep if value.validity is None else keep & value.validity
        data = xp.where(valid, value.data, xp.zeros(1, value.data.dtype))
        value = Column(value.dtype, data, valid, value.dictionary, value.device)
    pre.append((f"__a{j}", value))
    return kg.Agg(func, f"__a{j}", f"__r{j}")


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


class _Random:
    """The source of ``random()``: every call draws a fresh seed from one host generator,
    which ``setseed(x)`` resets, so a session's sequence of calls repeats after a setseed
    (on one device; CPU and GPU generators differ)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seeds = np.random.default_rng()

    def uniform(self, n: int, device: Any) -> Any:
        with self.lock:
            seed = int(self.seeds.integers(0, 2**32))
        # RandomState exists with this signature in NumPy and CuPy alike
        return device.xp.random.RandomState(seed).random_sample(n)

    def reset(self, seed: float) -> None:
        with self.lock:
            self.seeds = np.random.default_rng(int(np.float64(seed).view(np.uint64)))


_RANDOM = _Random()


def _random(*, ctx: Context) -> Value:
    return Column(t.float64, _RANDOM.uniform(ctx.n, ctx.device), None, None, ctx.device)


def _setseed(seed: Any, *, ctx: Context) -> Value:
    if isinstance(seed, Column) or not isinstance(seed, int | float) or not -1 <= seed <= 1:
        msg = f"setseed() takes a constant between -1 and 1, got {seed!r}"
        raise BindError(msg)
    _RANDOM.reset(float(seed))
    return Column.full(ctx.n, None, t.int32, ctx.device)  # DuckDB: NULL


def _atan2(y: Any, x: Any, *, ctx: Context) -> Value:
    if y is None or x is None:
        return None
    return kx.atan2(y, x, length=ctx.n, device=ctx.device)


def _trig(name: str) -> Callable[..., Value]:
    def run(col: Column, *, ctx: Context) -> Value:
        return kx.trig(name, col)

    return run


def _pi(*, ctx: Context) -> Value:
    return math.pi


_ENTRIES: dict[str, Function] = {
    "random": Function(_random, column_first=False, min_args=0, max_args=0),
    "rand": Function(_random, column_first=False, min_args=0, max_args=0),
    "setseed": Function(_setseed, column_first=False, min_args=1, max_args=1),
    "atan2": Function(_atan2, column_first=False, min_args=2, max_args=2),
    "pi": Function(_pi, column_first=False, min_args=0, max_args=0),
    **{name: Function(_trig(name), max_args=1) for name in kx.TRIG},
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
    "abs": Function(_k(functools.partial(kx.abs_, overflow="raise"))), "sign": Function(_k(kx.sign)),
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

__all__ = ["AGGREGATES", "FUNCTIONS", "Function", "call", "distinct_aggregate", "function_name",
           "groupby_agg", "groupby_agg_stream", "is_aggregate", "positional_args",
           "register_function"]
