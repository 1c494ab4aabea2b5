"""Scalar expressions with SQL null semantics: arithmetic, math, comparison, three-valued
logic, CASE, COALESCE, NULLIF, IN and BETWEEN.

Arguments named ``a``, ``b``... are :class:`~xpdb.column.Column`\\s or Python scalars (int,
float, bool, str, Decimal, date, datetime, timedelta, NumPy scalars, pandas Timestamps; None
is the null literal). Every function takes at least one Column, or the keywords ``length``
and ``device`` to build a result from scalars alone. Results are Columns on the inputs'
device; a null in any input gives null unless the function says otherwise.

Types
-----
- Integers and floats promote as in NumPy (:func:`xpdb.types.common_numeric`). A Python int
  or float is *weak* (NumPy 2, NEP 50): it takes the column's type when its value fits, so
  ``int32 + 1`` is int32 and ``int32 + 1.5`` is float64; an int that does not fit widens
  the integer type instead of failing.
- Integer arithmetic wraps on overflow, as in NumPy and cuDF (int64 max + 1 is int64 min),
  unless ``overflow="raise"`` (what SQL passes) asks for an ExecutionError. Decimal
  arithmetic checks its 18 digits and raises ExecutionError either way.
- Decimals: add/sub align scales; mul adds scales (more than 18 digits of scale is a
  TypeError: cast an operand to a smaller scale or to float64); truediv and anything with a
  float gives float64; a decimal with an integer stays decimal.
- Strings compare by their sorted dictionaries: a column against a Python str uses the
  dictionary's position of the str, two columns share a unified dictionary.
- Dates, timestamps and durations compare with each other and with date/datetime/NumPy/
  pandas scalars (a date meets a timestamp as midnight UTC; units align to the finest).
  Zoned and naive timestamps do not compare (as in pandas). Arithmetic on them belongs to
  :mod:`xpdb.kernels.datetime`, except ``date - date``, which gives int64 days.

NaN is a value, not a null: comparisons follow IEEE 754 by default (``nan="ieee"``: NaN
equals nothing, ``ne`` is true) or DuckDB's total order (``nan="total"``: NaN equals NaN and
sorts above every number).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import types as t
from ..column import Column, unify_dictionaries
from ..device import Device, get_device
from ..errors import ExecutionError, XpdbError
from ..errors import TypeError as XTypeError
from .cast import cast, div_round, quiet, round_half_away

ARITH_OPS = ("add", "sub", "mul", "truediv", "floordiv", "mod", "intdiv", "rem", "pow")
COMPARE_OPS = ("eq", "ne", "lt", "le", "gt", "ge")
_UNIT_ORDER = {"s": 0, "ms": 1, "us": 2, "ns": 3}
_INT64 = np.iinfo(np.int64)
_UINT64 = np.iinfo(np.uint64)
_SIGNED = ("int8", "int16", "int32", "int64")
_UNSIGNED = ("uint8", "uint16", "uint32", "uint64")


# -- operands ------------------------------------------------------------------------------------
@dataclass
class _Operand:
    """One argument: a Column, a scalar (kept as a 1-row host Column) or the null literal."""

    column: Column | None  # the argument when it is a Column
    host: Column | None  # a scalar as a one-row column on the CPU
    dtype: t.DataType | None  # None for the null literal
    weak: bool = False  # a Python int or float

    @property
    def null(self) -> bool:
        return self.dtype is None

    @property
    def valid(self) -> Any:
        """None/True (all valid), False (null literal) or a bool device array."""
        if self.column is not None:
            return self.column.validity
        return not self.null


def _scalar_arrow(value: Any) -> pa.Array:
    """A one-element pyarrow array of a Python/NumPy/pandas scalar, keeping its unit and zone."""
    if hasattr(value, "to_datetime64") and hasattr(value, "tz"):  # pandas Timestamp
        arr = pa.array(np.array([value.to_datetime64()]))
        return arr.view(pa.timestamp(arr.type.unit, str(value.tz))) if value.tz else arr
    if hasattr(value, "to_timedelta64"):  # pandas Timedelta
        return pa.array(np.array([value.to_timedelta64()]))
    if isinstance(value, np.datetime64 | np.timedelta64):
        return pa.array(np.array([value]))
    try:
        return pa.array([value])
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as e:
        msg = f"cannot use {value!r} (a {type(value).__name__}) as a scalar value: {e}"
        raise XTypeError(msg) from e


def _operand(value: Any) -> _Operand:
    if isinstance(value, Column):
        return _Operand(value, None, value.dtype)
    if value is None:
        return _Operand(None, None, None)
    if isinstance(value, bool | np.bool_):
        return _Operand(None, Column.from_arrow(pa.array([bool(value)]), "cpu"), t.bool_)
    if isinstance(value, int):
        if _INT64.min <= value <= _INT64.max:
            typ = pa.int64()
        elif 0 <= value <= _UINT64.max:
            typ = pa.uint64()
        else:
            msg = f"integer {value!r} does not fit in 64 bits; use a float or a Decimal"
            raise XTypeError(msg)
        return _Operand(None, Column.from_arrow(pa.array([value], typ), "cpu"),
                        t.from_arrow(typ), weak=True)
    if isinstance(value, float):
        return _Operand(None, Column.from_arrow(pa.array([value]), "cpu"), t.float64, weak=True)
    host = Column.from_arrow(_scalar_arrow(value), "cpu")
    return _Operand(None, host, host.dtype)


@dataclass
class _Prepared:
    """Operands of one call: their device, row count and parsed arguments."""

    device: Device
    n: int
    ops: list[_Operand]


def _prepare(args: Sequence[Any], length: int | None = None, device: Any = None) -> _Prepared:
    cols = [a for a in args if isinstance(a, Column)]
    if cols:
        dev, n = cols[0].device, len(cols[0])
        for c in cols[1:]:
            if c.device is not dev:
                raise XpdbError(f"operands live on {dev} and {c.device}; move them to one device")
            if len(c) != n:
                raise XpdbError(f"operands have {n} and {len(c)} rows; they must be equal")
    else:
        if length is None or device is None:
            msg = (f"all operands are scalars ({list(args)!r}); pass length= and device= to "
                   "build a column from them")
            raise XTypeError(msg)
        dev, n = get_device(device), int(length)
    ops = [_operand(a) for a in args]
    if not cols:
        # a scalar-only expression: broadcast its first scalar to a column to work against
        i = next((k for k, o in enumerate(ops) if not o.null), None)
        if i is not None:
            o = ops[i]
            col = literal(o.host.to_pylist()[0], n, dev, o.dtype)
            ops[i] = _Operand(col, o.host, o.dtype, o.weak)
    return _Prepared(dev, n, ops)


def _any(dev: Device, mask: Any) -> bool:
    """Whether a mask (a bool, or a bool device array) has a True."""
    if isinstance(mask, bool | np.bool_):
        return bool(mask)
    return bool(dev.scalar(mask.any()))


# -- types ---------------------------------------------------------------------------------------
def _int_fits(value: int, dtype: t.DataType) -> bool:
    info = np.iinfo(dtype.physical)
    return info.min <= value <= info.max


def _weak_join(current: t.DataType, op: _Operand) -> t.DataType:
    """The type of ``current`` combined with a weak Python int/float operand."""
    value = op.host.to_pylist()[0]
    if op.dtype.is_float:
        return current if current.is_float else t.float64
    if current.is_bool:
        return op.dtype
    if current.is_float:
        return current
    if current.is_decimal:
        digits = max(1, len(str(abs(value))))
        return t.common_numeric(current, t.decimal(min(digits, 18), 0))
    if _int_fits(value, current):
        return current
    # the narrowest integer type that holds both the column's values and the literal
    family = _UNSIGNED if current.is_unsigned_integer and value >= 0 else _SIGNED
    for name in family:
        cand = t.DataType(name)
        if np.can_cast(current.physical, cand.physical) and _int_fits(value, cand):
            return cand
    return t.float64


def common_type(ops: Sequence[_Operand], what: str = "values") -> t.DataType | None:
    """The type a set of operands meets in (None when every operand is the null literal)."""
    real = [o for o in ops if not o.null]
    if not real:
        return None
    strong = [o for o in real if not o.weak]
    weak = [o for o in real if o.weak]
    kinds = {("string" if o.dtype.is_string else "temporal" if o.dtype.is_temporal
              else "number") for o in real}
    if len(kinds) > 1:
        types = ", ".join(str(o.dtype) for o in real)
        msg = f"cannot combine {types} in {what}; cast them to one type first"
        raise XTypeError(msg)
    kind = kinds.pop()
    if kind == "string":
        return t.string
    if kind == "temporal":
        return _common_temporal([o.dtype for o in real], what)
    if strong:
        out = strong[0].dtype
        for o in strong[1:]:
            out = t.common_numeric(out, o.dtype)
    else:
        out = weak[0].dtype
        weak = weak[1:]
    for o in weak:
        out = _weak_join(out, o)
    return out


def _common_temporal(types: list[t.DataType], what: str) -> t.DataType:
    kinds = {d.kind for d in types}
    if kinds == {"date"}:
        return t.date
    if "duration" in kinds and len(kinds) > 1:
        msg = f"cannot combine {', '.join(map(str, types))} in {what}"
        raise XTypeError(msg)
    units = [d.unit for d in types if d.unit is not None]
    unit = max(units, key=_UNIT_ORDER.__getitem__)
    if kinds == {"duration"}:
        return t.duration(unit)
    zones = {d.tz for d in types if d.kind == "timestamp"}
    if None in zones and len(zones) > 1:
        msg = (f"cannot compare naive and zoned timestamps ({', '.join(map(str, types))}) in "
               f"{what}; localize the naive one or drop the zone of the other")
        raise XTypeError(msg)
    tz = next(d.tz for d in types if d.kind == "timestamp")
    return t.timestamp(unit, tz)


# -- alignment -----------------------------------------------------------------------------------
_ALL = object()  # "valid where every operand is"


@dataclass
class _Aligned:
    """Operands converted to one physical representation, ready for ``xp`` code."""

    device: Device
    n: int
    dtype: t.DataType  # the type the data arrays hold
    data: list[Any]  # device arrays of length n, or NumPy scalars for scalar operands
    valid: list[Any]  # per operand: None/True, False or a bool array
    dictionary: pa.Array | None = None

    @property
    def xp(self) -> Any:
        return self.device.xp

    def validity(self, *extra: Any) -> Any:
        """The rows where every operand (and every ``extra`` mask) is valid; None for all."""
        return and_masks(self.xp, self.n, [*self.valid, *extra])

    def column(self, data: Any, dtype: t.DataType | None = None, validity: Any = _ALL,
               dictionary: pa.Array | None = None) -> Column:
        """A result column; by default valid where every operand is."""
        xp = self.xp
        dtype = self.dtype if dtype is None else dtype
        if validity is _ALL:
            validity = self.validity()
        validity = and_masks(xp, self.n, [validity])
        data = _full(xp, self.n, data, dtype.physical)
        if validity is not None:
            data = xp.where(validity, data, xp.zeros(1, data.dtype))
        if dtype.is_string and dictionary is None:
            dictionary = self.dictionary
        return Column(dtype, data, validity, dictionary, self.device)


def and_masks(xp: Any, n: int, masks: Sequence[Any]) -> Any:
    """AND of validity masks (None/True: all valid, False: none, or bool arrays); None for all."""
    out = None
    for m in masks:
        if m is None or (isinstance(m, bool | np.bool_) and m):
            continue
        if isinstance(m, bool | np.bool_):
            return xp.zeros(n, bool)
        out = m if out is None else out & m
    return out


def _full(xp: Any, n: int, data: Any, dtype: np.dtype) -> Any:
    if getattr(data, "shape", ()) == (n,):
        return data if data.dtype == dtype else data.astype(dtype)
    return xp.full(n, data, dtype=dtype)


def _scalar_value(op: _Operand, dtype: t.DataType) -> Any:
    """A scalar operand as a NumPy scalar of ``dtype``'s physical type."""
    if op.null:
        return dtype.physical.type(0)
    host = cast(op.host, dtype)
    return host.data[0]


def _align_args(args: Sequence[Any], to: Any = None, *, length: int | None = None,
                device: Any = None, what: str = "values", compare: bool = False) -> _Aligned:
    """:func:`_align` of raw arguments."""
    return _align(_prepare(args, length, device), to, what=what, compare=compare)


def _align(prep: _Prepared, to: t.DataType | Sequence[t.DataType | None] | None = None, *,
           what: str = "values", compare: bool = False) -> _Aligned:
    """Turn Column/scalar operands into arrays of one type with their validities: the one
    front end of every function here.

    ``to`` fixes the type (or one type per operand); by default the operands' common type.
    With ``compare=True`` strings become order-preserving integer keys (codes; a string
    scalar becomes a key between codes) instead of codes into one unified dictionary.
    """
    dev, n, ops = prep.device, prep.n, prep.ops
    if to is None or isinstance(to, t.DataType):
        target = to if to is not None else common_type(ops, what)
        targets = [target] * len(ops)
    else:
        targets = list(to)
    base = targets[0] if targets[0] is not None else t.float64
    if base.is_string:
        return _align_strings(dev, n, ops, compare)
    data = []
    for op, want in zip(ops, targets, strict=True):
        tt = want if want is not None else t.float64
        if op.null:
            data.append(tt.physical.type(0))
        elif op.column is not None:
            data.append(cast(op.column, tt).data)
        else:
            data.append(_scalar_value(op, tt))
    return _Aligned(dev, n, base, data, [o.valid for o in ops])


def _align_strings(dev: Device, n: int, ops: list[_Operand], compare: bool) -> _Aligned:
    valid = [o.valid for o in ops]
    cols = [o.column for o in ops if o.column is not None and not o.null]
    if compare and len(cols) < len(ops):
        # a str scalar keys as 2*position (- 1 when absent) against 2*code: no recoding
        dictionary = cols[0].dictionary
        if len(cols) > 1:
            cols = unify_dictionaries(cols)
            dictionary = cols[0].dictionary
        it = iter(cols)
        data = []
        for o in ops:
            if o.null:
                data.append(np.int64(0))
            elif o.column is not None:
                data.append(next(it).data.astype(np.int64) * 2)
            else:
                s = o.host.to_pylist()[0]
                pos = int(pc.sum(pc.less(dictionary, s)).as_py() or 0)
                found = pos < len(dictionary) and dictionary[pos].as_py() == s
                data.append(np.int64(2 * pos - (0 if found else 1)))
        return _Aligned(dev, n, t.string, data, valid, dictionary)
    members = [o.column if o.column is not None else o.host for o in ops if not o.null]
    unified = iter(unify_dictionaries(members))
    data = []
    dictionary = None
    for o in ops:
        if o.null:
            data.append(np.int32(0))
            continue
        c = next(unified)
        dictionary = c.dictionary
        data.append(c.data if o.column is not None else c.data[0])
    if dictionary is None:
        dictionary = pa.array([], pa.string())
    return _Aligned(dev, n, t.string, data, valid, dictionary)


# -- literals ------------------------------------------------------------------------------------
def literal(value: Any, length: int, device: Any, dtype: Any = None) -> Column:
    """A column of ``length`` copies of ``value``.

    Parameters
    ----------
    value : scalar or None
        None gives an all-null column (float64 unless ``dtype`` says otherwise).
    length : int
    device : str or Device
    dtype : type spec, optional
        Inferred from ``value`` when omitted (int -> int64, float -> float64, str -> string,
        Decimal -> decimal(p, s), datetime -> timestamp[us] (zoned if aware)...).

    Examples
    --------
    >>> literal(1.5, 2, "cpu").to_pylist(), literal(None, 1, "cpu", "string").to_pylist()
    ([1.5, 1.5], [None])
    """
    dev = get_device(device)
    if value is None:
        return Column.full(length, None, t.float64 if dtype is None else t.parse(dtype), dev)
    op = _operand(value)
    target = op.dtype if dtype is None else t.parse(dtype)
    host = cast(op.host, target)
    xp = dev.xp
    if target.is_string:
        return Column(target, xp.zeros(length, np.int32), None, host.dictionary, dev)
    return Column(target, xp.full(length, host.data[0], dtype=target.physical), None, None, dev)


# -- arithmetic ----------------------------------------------------------------------------------
def arith(op: str, a: Any, b: Any, *, div_zero: str = "null", overflow: str = "wrap",
          expr: str | None = None, length: int | None = None, device: Any = None) -> Column:
    """``a <op> b`` for op in add, sub, mul, truediv, floordiv, mod, intdiv, rem, pow.

    Parameters
    ----------
    op : str
        ``truediv`` of integers gives float64. ``floordiv``/``mod`` follow Python (floor;
        the remainder has the divisor's sign); ``intdiv``/``rem`` follow SQL and C (truncate
        toward zero; the remainder has the dividend's sign). ``pow`` of integers stays
        integer (a negative integer exponent is an error: cast to float first).
    a, b : Column or scalar
    div_zero : {"null", "ieee"}
        Division or modulo by zero gives null ("null", SQL), or IEEE results as pandas does
        ("ieee"): inf/-inf/nan for floats; for integers floordiv gives float64 inf/-inf/nan
        and mod float64 nan, the result being float64 only when a divisor is zero (as in
        pandas). Decimal floordiv/mod/intdiv/rem by zero are null either way.
    overflow : {"wrap", "raise"}
        Integer add/sub/mul whose result does not fit the result type wraps around
        ("wrap", NumPy and pandas) or raises ExecutionError ("raise", SQL) naming the
        operands, the row and ``expr`` (the expression's text, for the message).
    expr : str, optional
        What the error message calls the operation (e.g. the SQL text ``a + 1``).
    length, device
        Needed only when both operands are scalars.

    Examples
    --------
    >>> from xpdb.column import Column
    >>> x = Column.from_pylist([7, -7, None, 5])
    >>> arith("floordiv", x, 2).to_pylist(), arith("intdiv", x, 2).to_pylist()
    ([3, -4, None, 2], [3, -3, None, 2])
    >>> arith("mod", x, Column.from_pylist([2, 2, 2, 0])).to_pylist()
    [1, 1, None, None]
    """
    if op not in ARITH_OPS:
        raise XTypeError(f"unknown arithmetic operator {op!r}; use one of {ARITH_OPS}")
    if div_zero not in ("null", "ieee"):
        raise XTypeError(f"div_zero={div_zero!r} is not 'null' or 'ieee'")
    if overflow not in ("wrap", "raise"):
        raise XTypeError(f"overflow={overflow!r} is not 'wrap' or 'raise'")
    prep = _prepare([a, b], length, device)
    dev, ops = prep.device, prep.ops
    kinds = [o.dtype for o in ops if not o.null]
    if any(d.is_string for d in kinds):
        msg = f"cannot apply {op!r} to strings ({', '.join(map(str, kinds))}); use concat"
        raise XTypeError(msg)
    if any(d.is_temporal for d in kinds):
        return _temporal_arith(op, prep)
    typ = common_type(ops, f"arithmetic {op!r}") or t.float64
    if typ.is_decimal:
        return _decimal_arith(op, prep, typ, div_zero)
    if typ.is_bool:
        typ = t.int64
    if op == "truediv" and not typ.is_float:
        typ = t.float64
    al = _align(prep, typ, what=f"arithmetic {op!r}")
    x, y = al.data
    xp = al.xp
    with quiet(xp):
        if op in _WRAPPING:
            out = x + y if op == "add" else x - y if op == "sub" else x * y
            if overflow == "raise" and typ.is_integer:
                _check_overflow(op, al, x, y, out, typ, expr)
            return al.column(out)
        if op == "pow":
            if typ.is_integer:
                neg = y < 0
                if al.validity() is not None:
                    neg = neg & al.validity()
                if _any(dev, neg):
                    msg = ("integers cannot be raised to negative integer powers; cast the "
                           "base to float64 first")
                    raise ExecutionError(msg)
                y = xp.where(y < 0, xp.zeros(1, y.dtype), y) if hasattr(y, "shape") else y
            return al.column(xp.power(x, y))
        zero = y == 0
        if typ.is_float:
            if op == "truediv":
                out = x / y
            elif op in ("floordiv", "mod"):
                out = float_divmod(xp, x, y)[0 if op == "floordiv" else 1]
            elif op == "rem":
                out = xp.fmod(x, y)
            else:
                out = xp.trunc((x - xp.fmod(x, y)) / y)
            return al.column(out, validity=al.validity(~zero if div_zero == "null" else None))
        safe_y = xp.where(zero, y.dtype.type(1), y) if hasattr(y, "shape") else (y or y.dtype.type(1))
        if op in ("floordiv", "mod"):
            out = x // safe_y if op == "floordiv" else x % safe_y
        else:
            r = int_rem(xp, x, safe_y)
            out = r if op == "rem" else (x - r) // safe_y
        if div_zero == "null":
            return al.column(out, validity=al.validity(~zero))
        hit = zero if al.validity() is None else zero & al.validity()
        if not _any(dev, hit):
            return al.column(out)
        xf = x.astype(np.float64) if hasattr(x, "astype") else np.float64(x)
        at_zero = xf / 0.0 if op in ("floordiv", "intdiv") else xp.full(1, np.nan)
        out = xp.where(zero, at_zero, out.astype(np.float64))
        return al.column(out, t.float64)


BITWISE_OPS = ("and", "or", "xor", "shl", "shr")


def bitwise(op: str, a: Any, b: Any, *, expr: str | None = None, length: int | None = None,
            device: Any = None) -> Column:
    """Bitwise ``and``/``or``/``xor`` and shifts ``shl`` (``<<``)/``shr`` (``>>``) of
    integers (DuckDB's semantics; null where an operand is null).

    The result has the operands' common integer type. A right shift is arithmetic (it keeps
    the sign) and gives 0 for a shift outside ``[0, bits)``. A left shift raises
    ExecutionError for a negative operand, a shift outside ``[0, bits)`` or a result that
    does not fit the type (``0 << n`` is 0).

    Examples
    --------
    >>> from xpdb.column import Column
    >>> x = Column.from_pylist([5, 12, None])
    >>> bitwise("and", x, 6).to_pylist(), bitwise("shr", x, 2).to_pylist()
    ([4, 4, None], [1, 3, None])
    """
    if op not in BITWISE_OPS:
        raise XTypeError(f"unknown bitwise operator {op!r}; use one of {BITWISE_OPS}")
    prep = _prepare([a, b], length, device)
    kinds = [o.dtype for o in prep.ops if not o.null]
    if any(not (d.is_integer or d.is_bool) for d in kinds):
        types = ", ".join(map(str, kinds))
        raise XTypeError(f"bitwise {op!r} takes integers, got {types}; cast to an integer "
                         "type first")
    typ = common_type(prep.ops, f"bitwise {op!r}") or t.int64
    typ = t.int64 if typ.is_bool else typ
    al = _align(prep, typ, what=f"bitwise {op!r}")
    x, y = al.data
    xp = al.xp
    if op in ("and", "or", "xor"):
        fn = {"and": xp.bitwise_and, "or": xp.bitwise_or, "xor": xp.bitwise_xor}[op]
        return al.column(fn(x, y))
    bits = np.dtype(typ.physical).itemsize * 8
    inside = (y >= 0) & (y < bits)
    s = xp.where(inside, y, 0)
    if op == "shr":
        return al.column(xp.where(inside, xp.right_shift(x, s), 0).astype(typ.physical))
    valid = al.validity()
    live = (x != 0) if valid is None else (x != 0) & valid
    info = np.iinfo(typ.physical)
    # no overflow while x <= max >> s (and x >= 0: DuckDB shifts no negative number left)
    limit = xp.right_shift(xp.asarray(info.max, dtype=typ.physical), s)
    for bad, why in ((live & (x < 0), "Cannot left-shift negative number {x}"),
                     (live & (y < 0), "Cannot left-shift by negative number {y}"),
                     (live & (y >= bits), "Left-shift value {y} is out of range"),
                     (live & inside & (x > limit), "Overflow in left shift ({x} << {y})")):
        if _any(al.device, bad):
            i = int(al.device.scalar(xp.argmax(bad)))
            xv, yv = (int(al.device.scalar(v[i] if getattr(v, "ndim", 0) else v))
                      for v in (x, y))
            where = f" in {expr}" if expr else ""
            raise ExecutionError(why.format(x=xv, y=yv) + f"{where} (row {i})")
    return al.column(xp.where(live, xp.left_shift(x, s), 0).astype(typ.physical))


def bit_not(a: Column) -> Column:
    """Bitwise complement of an integer column (``~a``; null stays null)."""
    if not (a.dtype.is_integer or a.dtype.is_bool):
        raise XTypeError(f"bitwise not takes integers, got {a.dtype}; cast to an integer "
                         "type first")
    data = a.data.astype(np.int64) if a.dtype.is_bool else a.data
    return Column(t.int64 if a.dtype.is_bool else a.dtype, a.device.xp.invert(data),
                  a.validity, None, a.device)


_WRAPPING = {"add": "addition", "sub": "subtraction", "mul": "multiplication"}
_SYMBOL = {"add": "+", "sub": "-", "mul": "*"}


def _check_overflow(op: str, al: _Aligned, x: Any, y: Any, out: Any, typ: t.DataType,
                    expr: str | None) -> None:
    """Raise ExecutionError where the wrapped integer result ``out = x <op> y`` overflowed.

    One vectorized pass with no wider type for add/sub (the sign rules of two's complement)
    and for narrow multiplications (exact in 64 bits); 64-bit products are checked by
    dividing back, the one case where the wrapped product can divide to the right answer
    (``-1 * int64 min``) tested on its own.
    """
    xp = al.xp
    x = _full(xp, al.n, x, typ.physical)
    y = _full(xp, al.n, y, typ.physical)
    signed = typ.is_signed_integer
    if op == "add":
        bad = ((x ^ out) & (y ^ out)) < 0 if signed else out < x
    elif op == "sub":
        bad = ((x ^ y) & (x ^ out)) < 0 if signed else x < y
    elif typ.physical.itemsize < 8:
        wide = x.astype(np.int64) * y.astype(np.int64)
        info = np.iinfo(typ.physical)
        bad = (wide < info.min) | (wide > info.max)
    else:
        nonzero = x != 0
        back = out // xp.where(nonzero, x, typ.physical.type(1))
        bad = nonzero & (back != y)
        if signed:
            bad = bad | ((x == -1) & (y == np.iinfo(np.int64).min))
    valid = al.validity()
    if valid is not None:
        bad = bad & valid
    if not _any(al.device, bad):
        return
    row = int(al.device.scalar(xp.argmax(bad)))
    left, right = (int(al.device.scalar(v[row])) for v in (x, y))
    where = f" in {expr!r}" if expr else ""
    wider = ("DOUBLE or DECIMAL" if typ.physical.itemsize == 8
             else "a wider integer type (BIGINT), DOUBLE or DECIMAL")
    msg = (f"Overflow in {_WRAPPING[op]} of {typ}{where} at row {row}: {left} {_SYMBOL[op]} "
           f"{right} does not fit in {typ}; cast an operand to {wider} first")
    raise ExecutionError(msg)


def int_rem(xp: Any, a: Any, b: Any) -> Any:
    """C/SQL integer remainder (sign of the dividend), exact for int64 (CuPy's ``fmod``
    goes through float64), from Python's modulo."""
    m = a % b
    return xp.where((m != 0) & ((a < 0) != (b < 0)), m - b, m)


def float_divmod(xp: Any, a: Any, b: Any) -> tuple[Any, Any]:
    """Python's float ``(a // b, a % b)``, as NumPy computes them (``npy_divmod``).

    CuPy's ``floor_divide``/``remainder`` differ from NumPy at infinities (5 % inf is nan
    there, 5 in Python and NumPy), so both devices run this one formulation.
    """
    mod0 = xp.fmod(a, b)
    div = (a - mod0) / b
    adjust = (mod0 != 0) & ((b < 0) != (mod0 < 0))
    mod = xp.where(adjust, mod0 + b, mod0)
    mod = xp.where(mod0 == 0, xp.copysign(xp.zeros_like(mod), b), mod)
    div = xp.where(adjust, div - 1.0, div)
    fl = xp.floor(div)
    fl = xp.where(div - fl > 0.5, fl + 1.0, fl)
    quotient = a / b
    fl = xp.where(div == 0, xp.copysign(xp.zeros_like(fl), quotient), fl)
    zero = b == 0
    return xp.where(zero, quotient, fl), xp.where(zero, mod0, mod)


def _temporal_arith(op: str, prep: _Prepared) -> Column:
    ops = prep.ops
    kinds = [o.dtype.kind for o in ops if not o.null]
    if op == "sub" and kinds == ["date", "date"]:
        al = _align(prep, t.date)
        x, y = al.data
        return al.column(x.astype(np.int64) - y, t.int64)
    types = ", ".join(str(o.dtype) for o in ops if not o.null)
    msg = (f"arithmetic {op!r} on {types} is not an arith() operation; use "
           "xpdb.kernels.datetime (add_interval, diff) for dates and timestamps")
    raise XTypeError(msg)


def _decimal_arith(op: str, prep: _Prepared, typ: t.DataType, div_zero: str) -> Column:
    ops = prep.ops
    if op in ("truediv", "pow"):
        al = _align(prep, t.float64)
        x, y = al.data
        with quiet(al.xp):
            if op == "pow":
                return al.column(al.xp.power(x, y))
            zero = y == 0
            return al.column(x / y, validity=al.validity(~zero if div_zero == "null" else None))
    dec = [_as_decimal(o, typ) for o in ops]
    int_digits = max(d.precision - d.scale for d in dec)
    if op == "mul":
        scale = dec[0].scale + dec[1].scale
        if scale > t.MAX_DECIMAL_PRECISION:
            msg = (f"multiplying {dec[0]} by {dec[1]} needs {scale} digits of scale, more "
                   "than 18; cast an operand to a smaller scale or to float64")
            raise XTypeError(msg)
        want = dec[0].precision + dec[1].precision
        al = _align(prep, [t.decimal(18, dec[0].scale), t.decimal(18, dec[1].scale)])
        x, y = al.data
        with quiet(al.xp):
            out = x * y
            # the float estimate guards int64 wrap-around; not needed when the largest
            # magnitudes cannot reach it (two reductions instead of two full conversions)
            fits = _product_fits(al, x, y)
            estimate = None if fits else x.astype(np.float64) * y.astype(np.float64)
        return _decimal_result(al, out, t.decimal(min(18, want), scale), want > 18 and not fits,
                               estimate, op)
    scale = typ.scale
    al = _align(prep, t.decimal(18, scale))
    x, y = al.data
    xp = al.xp
    if op in ("add", "sub"):
        want = int_digits + scale + 1
        out = x + y if op == "add" else x - y
        return _decimal_result(al, out, t.decimal(min(18, want), scale), want > 18, None, op)
    zero = y == 0
    safe_y = xp.where(zero, np.int64(1), y) if hasattr(y, "shape") else (y or np.int64(1))
    if op in ("floordiv", "mod"):
        out = x // safe_y if op == "floordiv" else x % safe_y
    else:
        r = int_rem(xp, x, safe_y)
        out = r if op == "rem" else (x - r) // safe_y
    res = t.decimal(18, 0) if op in ("floordiv", "intdiv") else t.decimal(min(18, typ.precision),
                                                                          scale)
    return al.column(out, res, validity=al.validity(~zero))


def _product_fits(al: _Aligned, x: Any, y: Any) -> bool:
    """Whether every ``x * y`` stays below 10**18 in magnitude (so int64 cannot wrap), from
    the operands' largest magnitudes (exact Python integers)."""
    def biggest(v: Any) -> int:
        if not hasattr(v, "shape") or v.ndim == 0:
            return abs(int(v))
        if v.shape[0] == 0:
            return 0
        xp = al.xp
        return max(abs(int(al.device.scalar(xp.max(v)))), abs(int(al.device.scalar(xp.min(v)))))

    return biggest(x) * biggest(y) < 10**18


def _as_decimal(op: _Operand, typ: t.DataType) -> t.DataType:
    if op.null:
        return typ
    if op.dtype.is_decimal:
        return op.dtype
    if op.weak:
        digits = max(1, len(str(abs(op.host.to_pylist()[0]))))
        return t.decimal(min(18, digits), 0)
    return t.common_numeric(op.dtype, t.decimal(1, 0))


def _decimal_result(al: _Aligned, out: Any, typ: t.DataType, capped: bool, estimate: Any,
                    op: str) -> Column:
    xp = al.xp
    if capped or estimate is not None:
        bound = np.int64(10**18)
        bad = (out >= bound) | (out <= -bound)
        if estimate is not None:
            bad = bad | ~(xp.abs(estimate) < 9.0e18)
        valid = al.validity()
        if valid is not None:
            bad = bad & valid
        if _any(al.device, bad):
            row = int(al.device.scalar(xp.argmax(bad)))
            msg = (f"decimal {op!r} overflows 18 digits at row {row}; cast the operands to "
                   "float64 (or to a smaller scale) first")
            raise ExecutionError(msg)
    return al.column(out, typ)


def power(a: Any, b: Any, **kwargs: Any) -> Column:
    """``a ** b``: :func:`arith` with op ``pow``."""
    return arith("pow", a, b, **kwargs)


# -- unary math ----------------------------------------------------------------------------------
def _unary(a: Any, kwargs: dict[str, Any], name: str) -> tuple[_Aligned, t.DataType]:
    al = _align_args([a], **kwargs, what=name)
    typ = al.dtype
    if typ.is_string or typ.is_temporal or (typ.is_bool and name != "not_"):
        raise XTypeError(f"{name} takes a number, got {typ}")
    return al, typ


def negate(a: Any, overflow: str = "wrap", **kwargs: Any) -> Column:
    """``-a`` (integers wrap: -int64 min is int64 min; unsigned integers wrap too; with
    ``overflow="raise"`` a signed minimum raises ExecutionError, as in SQL)."""
    al, typ = _unary(a, kwargs, "negate")
    if overflow == "raise":
        _check_minimum(al, typ, "negation")
    with quiet(al.xp):
        return al.column(-al.data[0])


def abs_(a: Any, overflow: str = "wrap", **kwargs: Any) -> Column:
    """``|a|`` (abs of int64 min is int64 min, as in NumPy; with ``overflow="raise"`` an
    ExecutionError, as in SQL)."""
    al, typ = _unary(a, kwargs, "abs_")
    if overflow == "raise":
        _check_minimum(al, typ, "abs")
    with quiet(al.xp):
        return al.column(al.xp.abs(al.data[0]))


def _check_minimum(al: _Aligned, typ: t.DataType, what: str) -> None:
    """Raise where a signed integer holds its type's minimum (whose negation overflows)."""
    if not typ.is_signed_integer:
        return
    x = _full(al.xp, al.n, al.data[0], typ.physical)
    bad = x == np.iinfo(typ.physical).min
    valid = al.validity()
    if valid is not None:
        bad = bad & valid
    if _any(al.device, bad):
        row = int(al.device.scalar(al.xp.argmax(bad)))
        msg = (f"Overflow in {what} of {typ} at row {row}: {int(al.device.scalar(x[row]))} "
               f"has no positive counterpart in {typ}; cast it to a wider type or DOUBLE first")
        raise ExecutionError(msg)


def sign(a: Any, **kwargs: Any) -> Column:
    """-1, 0 or 1 in ``a``'s type (NaN stays NaN); int8 for decimals, as DuckDB."""
    al, typ = _unary(a, kwargs, "sign")
    out = al.xp.sign(al.data[0])
    return al.column(out, t.int8 if typ.is_decimal else None)


def round_(a: Any, ndigits: int = 0, half: str = "even", **kwargs: Any) -> Column:
    """``a`` rounded to ``ndigits`` decimal digits (negative: tens, hundreds...).

    Parameters
    ----------
    half : {"even", "away"}
        Ties to even (pandas, NumPy) or away from zero (SQL, DuckDB). Floats round
        ``a * 10**ndigits`` as DuckDB does, so 2.675 is 2.68 with "away".
        Decimals keep their precision and take scale ``max(ndigits, 0)``, as DuckDB.

    Examples
    --------
    >>> from xpdb.column import Column
    >>> x = Column.from_pylist([2.5, -2.5, 1.25])
    >>> round_(x).to_pylist(), round_(x, 1, half="away").to_pylist()
    ([2.0, -2.0, 1.0], [2.5, -2.5, 1.3])
    """
    if half not in ("even", "away"):
        raise XTypeError(f"half={half!r} is not 'even' or 'away'")
    ndigits = int(ndigits)
    al, typ = _unary(a, kwargs, "round_")
    xp, v = al.xp, al.data[0]
    mode = "half_even" if half == "even" else "half_away"
    if typ.is_float:
        rnd = xp.rint if half == "even" else (lambda z: round_half_away(xp, z))
        with quiet(xp):
            if ndigits == 0:
                return al.column(rnd(v))
            if ndigits > 0:
                p = v.dtype.type(10.0**ndigits)
                y = v * p
                out = rnd(y) / p
            else:
                q = v.dtype.type(10.0**-ndigits)
                y = v / q
                out = rnd(y) * q
            return al.column(xp.where(xp.isfinite(y), out, v))
    if typ.is_integer:
        if ndigits >= 0:
            return al.column(v)
        d = 10**-ndigits
        if d > np.iinfo(v.dtype).max:
            return al.column(xp.zeros_like(v))
        with quiet(xp):
            return al.column(div_round(xp, v, d, mode) * v.dtype.type(d))
    s, p = typ.scale, typ.precision
    if ndigits >= s:
        return al.column(v)
    k = s - ndigits
    with quiet(xp):
        if k > 18:
            return al.column(xp.zeros_like(v), t.decimal(p, max(ndigits, 0)))
        q = div_round(xp, v, 10**k, mode)
        if ndigits < 0:
            q = q * np.int64(10**-ndigits)
    return al.column(q, t.decimal(min(18, p if ndigits >= 0 else p + 1), max(ndigits, 0)))


def _rounding(a: Any, kwargs: dict[str, Any], name: str, float_fn: str, int_mode: str
              ) -> Column:
    al, typ = _unary(a, kwargs, name)
    xp, v = al.xp, al.data[0]
    if typ.is_float:
        return al.column(getattr(xp, float_fn)(v))
    if typ.is_integer:
        return al.column(v)
    out = div_round(xp, v, 10**typ.scale, int_mode)
    return al.column(out, t.decimal(typ.precision, 0))


def floor(a: Any, **kwargs: Any) -> Column:
    """Largest integer <= ``a`` (integers unchanged; decimals get scale 0)."""
    return _rounding(a, kwargs, "floor", "floor", "floor")


def ceil(a: Any, **kwargs: Any) -> Column:
    """Smallest integer >= ``a`` (integers unchanged; decimals get scale 0)."""
    return _rounding(a, kwargs, "ceil", "ceil", "ceil")


def trunc(a: Any, **kwargs: Any) -> Column:
    """``a`` with its fraction dropped, toward zero (decimals get scale 0)."""
    return _rounding(a, kwargs, "trunc", "trunc", "trunc")


def _float_math(a: Any, kwargs: dict[str, Any], name: str, fn: Callable[[Any, Any], Any]
                ) -> Column:
    al, typ = _unary(a, kwargs, name)
    xp, v = al.xp, al.data[0]
    if typ.is_decimal:
        v = v.astype(np.float64) / 10.0**typ.scale
    out_type = typ if typ.is_float else t.float64
    v = v.astype(out_type.physical)
    with quiet(xp):
        return al.column(fn(xp, v), out_type)


def sqrt(a: Any, **kwargs: Any) -> Column:
    """Square root as float (NaN for negative numbers)."""
    return _float_math(a, kwargs, "sqrt", lambda xp, v: xp.sqrt(v))


def exp(a: Any, **kwargs: Any) -> Column:
    """``e ** a`` as float (inf on overflow)."""
    return _float_math(a, kwargs, "exp", lambda xp, v: xp.exp(v))


def log(a: Any, **kwargs: Any) -> Column:
    """Natural logarithm as float (-inf at 0, NaN below)."""
    return _float_math(a, kwargs, "log", lambda xp, v: xp.log(v))


def log10(a: Any, **kwargs: Any) -> Column:
    """Base-10 logarithm as float (-inf at 0, NaN below)."""
    return _float_math(a, kwargs, "log10", lambda xp, v: xp.log10(v))


def log2(a: Any, **kwargs: Any) -> Column:
    """Base-2 logarithm as float (-inf at 0, NaN below)."""
    return _float_math(a, kwargs, "log2", lambda xp, v: xp.log2(v))


#: Unary float functions by name (SQL names; radians in and out).
TRIG: dict[str, Callable[[Any, Any], Any]] = {
    "sin": lambda xp, v: xp.sin(v), "cos": lambda xp, v: xp.cos(v),
    "tan": lambda xp, v: xp.tan(v), "asin": lambda xp, v: xp.arcsin(v),
    "acos": lambda xp, v: xp.arccos(v), "atan": lambda xp, v: xp.arctan(v),
    "cot": lambda xp, v: 1.0 / xp.tan(v), "degrees": lambda xp, v: xp.degrees(v),
    "radians": lambda xp, v: xp.radians(v),
}


def trig(name: str, a: Any, **kwargs: Any) -> Column:
    """A function of :data:`TRIG` (``sin``, ``acos``, ``degrees``...) as float; NaN outside
    the domain (``asin(2)``), as NumPy and DuckDB's ``acos`` on doubles.

    >>> from xpdb.column import Column
    >>> trig("degrees", Column.from_pylist([0.0, None])).to_pylist()
    [0.0, None]
    """
    if name not in TRIG:
        raise XTypeError(f"unknown function {name!r}; use one of {sorted(TRIG)}")
    return _float_math(a, kwargs, name, TRIG[name])


def atan2(y: Any, x: Any, **kwargs: Any) -> Column:
    """The angle of the point ``(x, y)`` in radians, in ``[-pi, pi]`` (float64).

    >>> from xpdb.column import Column
    >>> atan2(Column.from_pylist([1.0, None, 0.0]), -1.0).to_pylist()[0] > 2.35
    True
    """
    prep = _prepare([y, x], kwargs.get("length"), kwargs.get("device"))
    for o in prep.ops:
        if not o.null and (o.dtype.is_string or o.dtype.is_temporal):
            raise XTypeError(f"atan2 takes numbers, got {o.dtype}; cast it to DOUBLE first")
    al = _align(prep, t.float64, what="atan2")
    with quiet(al.xp):
        return al.column(al.xp.arctan2(al.data[0], al.data[1]), t.float64)


# -- comparison ----------------------------------------------------------------------------------
def compare(op: str, a: Any, b: Any, *, nan: str = "ieee", length: int | None = None,
            device: Any = None) -> Column:
    """``a <op> b`` as a bool column, op in eq, ne, lt, le, gt, ge.

    Parameters
    ----------
    nan : {"ieee", "total"}
        IEEE 754 (NaN equals nothing, ``ne`` is true) or DuckDB's total order (NaN equals
        NaN and is greater than every number).

    Examples
    --------
    >>> from xpdb.column import Column
    >>> s = Column.from_pylist(["b", "a", None, "d"])
    >>> compare("lt", s, "c").to_pylist(), compare("eq", s, "a").to_pylist()
    ([True, True, None, False], [False, True, None, False])
    """
    if op not in COMPARE_OPS:
        raise XTypeError(f"unknown comparison {op!r}; use one of {COMPARE_OPS}")
    if nan not in ("ieee", "total"):
        raise XTypeError(f"nan={nan!r} is not 'ieee' or 'total'")
    al = _align_args([a, b], length=length, device=device, what=f"comparison {op!r}",
                     compare=True)
    x, y = al.data
    xp = al.xp
    with quiet(xp):
        out = _compare_arrays(xp, op, x, y)
        if nan == "total" and al.dtype.is_float:
            xn, yn = xp.isnan(x), xp.isnan(y)
            both, either = xn & yn, xn | yn
            if op in ("eq", "le", "ge"):
                out = out | both
            if op == "ne":
                out = out & ~both
            if op in ("lt", "le"):
                out = xp.where(either, ~xn & yn, out) | (both if op == "le" else False)
            if op in ("gt", "ge"):
                out = xp.where(either, xn & ~yn, out) | (both if op == "ge" else False)
    return al.column(out, t.bool_)


def _compare_arrays(xp: Any, op: str, x: Any, y: Any) -> Any:
    if op == "eq":
        return x == y
    if op == "ne":
        return x != y
    if op == "lt":
        return x < y
    if op == "le":
        return x <= y
    if op == "gt":
        return x > y
    return x >= y


# -- three-valued logic --------------------------------------------------------------------------
def _logic_operands(args: Sequence[Any], kwargs: dict[str, Any], name: str) -> _Aligned:
    prep = _prepare(args, kwargs.get("length"), kwargs.get("device"))
    for o in prep.ops:
        if not o.null and not o.dtype.is_bool:
            raise XTypeError(f"{name} takes bools, got {o.dtype}; compare the values first")
    return _align(prep, t.bool_)


def _known(al: _Aligned, i: int) -> tuple[Any, Any]:
    """(definitely true, definitely false) masks of operand ``i``."""
    xp, v, valid = al.xp, al.data[i], al.valid[i]
    valid = and_masks(xp, al.n, [valid])
    v = _full(xp, al.n, v, np.dtype(bool))
    if valid is None:
        return v, ~v
    return v & valid, ~v & valid


def and_(a: Any, b: Any, **kwargs: Any) -> Column:
    """Kleene AND: false if either is false, else null if either is null.

    Examples
    --------
    >>> from xpdb.column import Column
    >>> and_(Column.from_pylist([True, False, None, None]), None).to_pylist()
    [None, False, None, None]
    """
    al = _logic_operands([a, b], kwargs, "and_")
    at, af = _known(al, 0)
    bt, bf = _known(al, 1)
    false = af | bf
    return al.column(at & bt, t.bool_, validity=false | (at & bt))


def or_(a: Any, b: Any, **kwargs: Any) -> Column:
    """Kleene OR: true if either is true, else null if either is null."""
    al = _logic_operands([a, b], kwargs, "or_")
    at, af = _known(al, 0)
    bt, bf = _known(al, 1)
    true = at | bt
    return al.column(true, t.bool_, validity=true | (af & bf))


def not_(a: Any, **kwargs: Any) -> Column:
    """Kleene NOT (null stays null)."""
    al = _logic_operands([a], kwargs, "not_")
    return al.column(~_full(al.xp, al.n, al.data[0], np.dtype(bool)), t.bool_)


# -- nulls ---------------------------------------------------------------------------------------
def is_null(a: Any, **kwargs: Any) -> Column:
    """True where ``a`` is null (never null itself)."""
    prep = _prepare([a], kwargs.get("length"), kwargs.get("device"))
    dev, n = prep.device, prep.n
    valid = and_masks(dev.xp, n, [prep.ops[0].valid])
    out = dev.xp.zeros(n, bool) if valid is None else ~valid
    return Column(t.bool_, out, None, None, dev)


def is_not_null(a: Any, **kwargs: Any) -> Column:
    """True where ``a`` holds a value (never null itself)."""
    prep = _prepare([a], kwargs.get("length"), kwargs.get("device"))
    dev, n = prep.device, prep.n
    valid = and_masks(dev.xp, n, [prep.ops[0].valid])
    out = dev.xp.ones(n, bool) if valid is None else valid.copy()
    return Column(t.bool_, out, None, None, dev)


def is_nan(a: Any, **kwargs: Any) -> Column:
    """True where ``a`` is NaN (null where ``a`` is null; False for non-float types)."""
    al = _align_args([a], **kwargs, what="is_nan")
    xp, v = al.xp, al.data[0]
    if al.dtype.is_float:
        return al.column(xp.isnan(v), t.bool_)
    return al.column(xp.zeros(al.n, bool), t.bool_)


# -- conditionals --------------------------------------------------------------------------------
def _truth(xp: Any, n: int, cond: Any) -> Any:
    """Rows where a condition operand is true (null counts as not true)."""
    if cond is None:
        return xp.zeros(n, bool)
    if isinstance(cond, Column):
        if not cond.dtype.is_bool:
            raise XTypeError(f"a condition must be bool, got {cond.dtype}")
        return cond.data if cond.validity is None else cond.data & cond.validity
    if isinstance(cond, bool | np.bool_):
        return xp.full(n, bool(cond))
    raise XTypeError(f"a condition must be a bool column or a bool, got {cond!r}")


def case_when(conditions: Sequence[Any], values: Sequence[Any], default: Any = None, *,
              length: int | None = None, device: Any = None) -> Column:
    """SQL ``CASE WHEN c1 THEN v1 WHEN c2 THEN v2 ... ELSE default END``.

    The first true condition wins; a null condition counts as not true. The result type is
    the common type of the values and the default (strings share one dictionary).

    Examples
    --------
    >>> from xpdb.column import Column
    >>> x = Column.from_pylist([1, 5, None, 10])
    >>> big = compare("gt", x, 4)
    >>> case_when([big, compare("gt", x, 8)], ["big", "huge"], "small").to_pylist()
    ['small', 'big', 'small', 'big']
    """
    if len(conditions) != len(values):
        msg = f"case_when got {len(conditions)} conditions but {len(values)} values"
        raise XTypeError(msg)
    conds = [c for c in conditions if isinstance(c, Column)]
    if conds and length is None and device is None:
        length, device = len(conds[0]), conds[0].device
    al = _align_args([*values, default], length=length, device=device, what="case_when")
    for c in conds:
        if len(c) != al.n or c.device is not al.device:
            raise XpdbError("case_when conditions must match the values' length and device")
    xp, n = al.xp, al.n
    physical = (al.dtype or t.float64).physical
    data = _full(xp, n, al.data[-1], physical)
    valid = _full(xp, n, _as_mask(al.valid[-1]), np.dtype(bool))
    for cond, v, vv in zip(conditions[::-1], al.data[-2::-1], al.valid[-2::-1], strict=True):
        take = _truth(xp, n, cond)
        data = xp.where(take, v, data)
        valid = xp.where(take, _as_mask(vv), valid)
    return al.column(data, validity=valid)


def _as_mask(valid: Any) -> Any:
    return True if valid is None else valid


def where(cond: Any, a: Any, b: Any, **kwargs: Any) -> Column:
    """SQL ``IF(cond, a, b)``: ``a`` where ``cond`` is true, else ``b`` (a null condition
    takes ``b``)."""
    return case_when([cond], [a], b, **kwargs)


def coalesce(*args: Any, length: int | None = None, device: Any = None) -> Column:
    """The first non-null argument of each row (null when all are null).

    Examples
    --------
    >>> from xpdb.column import Column
    >>> coalesce(Column.from_pylist([None, 2, None]), Column.from_pylist([1, 9, None]), 0
    ...          ).to_pylist()
    [1, 2, 0]
    """
    if not args:
        raise XTypeError("coalesce needs at least one argument")
    al = _align_args(args, length=length, device=device, what="coalesce")
    xp, n = al.xp, al.n
    physical = al.dtype.physical
    data = _full(xp, n, al.data[-1], physical)
    valid = _full(xp, n, _as_mask(al.valid[-1]), np.dtype(bool))
    for v, vv in zip(al.data[-2::-1], al.valid[-2::-1], strict=True):
        m = _as_mask(vv)
        if m is True:
            data = _full(xp, n, v, physical)
            valid = xp.ones(n, bool)
            continue
        if m is False:
            continue
        data = xp.where(m, v, data)
        valid = m | valid
    return al.column(data, validity=valid)


def fill_null(a: Any, value: Any, **kwargs: Any) -> Column:
    """``a`` with nulls replaced by ``value`` (a scalar or a column): ``coalesce(a, value)``."""
    return coalesce(a, value, **kwargs)


def nullif(a: Any, b: Any, **kwargs: Any) -> Column:
    """SQL ``NULLIF(a, b)``: null where ``a = b`` is true, else ``a`` (in ``a``'s type)."""
    eq = compare("eq", a, b, **kwargs)
    hit = eq.data if eq.validity is None else eq.data & eq.validity
    al = _align_args([a], length=len(eq), device=eq.device, what="nullif")
    return al.column(al.data[0], validity=al.validity(~hit))


# -- IN and BETWEEN ------------------------------------------------------------------------------
def isin(a: Any, values: Any, negate: bool = False, **kwargs: Any) -> Column:
    """SQL ``a IN (values)`` (``NOT IN`` with ``negate=True``).

    A null ``a`` gives null; a value not found gives null when ``values`` holds a null
    (so ``x NOT IN (1, NULL)`` is never true). An empty ``values`` gives false for every row
    (true with ``negate``), as SQL does for an empty subquery. Equality is IEEE: NaN is in
    no list.

    Parameters
    ----------
    values : list of scalars or Column

    Examples
    --------
    >>> from xpdb.column import Column
    >>> x = Column.from_pylist([1, 2, None])
    >>> isin(x, [1, None]).to_pylist(), isin(x, [1, 3], negate=True).to_pylist()
    ([True, None, None], [False, True, None])
    """
    prep = _prepare([a], kwargs.get("length"), kwargs.get("device"))
    dev, n, op = prep.device, prep.n, prep.ops[0]
    xp = dev.xp
    if isinstance(values, Column):
        vcol = values.to(dev)
        has_null = vcol.null_count > 0
        if vcol.validity is not None:
            vcol = vcol.filter(vcol.validity)
    else:
        items = list(values)
        has_null = any(v is None for v in items)
        vcol = _values_column([v for v in items if v is not None], dev)
    if vcol is None or len(vcol) == 0:
        if has_null:  # x IN (NULL) is null
            return Column(t.bool_, xp.zeros(n, bool), xp.zeros(n, bool), None, dev)
        return Column(t.bool_, xp.full(n, bool(negate)), None, None, dev)
    if op.null:
        return Column(t.bool_, xp.zeros(n, bool), xp.zeros(n, bool), None, dev)
    col = op.column
    typ = common_type([op, _operand(vcol)], "isin")
    if typ.is_string:
        found = _string_isin(col, vcol)
    else:
        x = cast(col, typ).data
        found = xp.isin(x, cast(vcol, typ).data)
        if typ.is_float:
            found = found & ~xp.isnan(x)
    valid = col.validity
    if has_null:
        valid = found if valid is None else valid & found
    out = ~found if negate else found
    if valid is not None:
        out = out & valid
    return Column(t.bool_, out, valid, None, dev)


def _values_column(items: list[Any], dev: Device) -> Column | None:
    """The non-null members of an IN list as a column (one pyarrow conversion)."""
    if not items:
        return None
    try:
        return Column.from_arrow(pa.array(items), dev)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        pass
    # mixed Python types (1 and Decimal('1.5'), np.int8 and float...): join their types
    ops = [_operand(v) for v in items]
    typ = common_type(ops, "isin")
    if typ.is_string:
        return Column.from_arrow(pa.array([str(v) for v in items], pa.string()), dev)
    data = np.array([cast(o.host, typ).data[0] for o in ops], dtype=typ.physical)
    return Column(typ, dev.asarray(data), None, None, dev)


def _string_isin(col: Column, vcol: Column) -> Any:
    xp, dev = col.xp, col.device
    if len(vcol.dictionary) == 0 or len(col.dictionary) == 0:
        return xp.zeros(len(col), bool)
    used = dev.to_host(xp.unique(vcol.data))
    value_set = vcol.dictionary.take(pa.array(used))
    lut = pc.is_in(col.dictionary, value_set=value_set).to_numpy(zero_copy_only=False)
    codes = col.data if col.validity is None else xp.where(col.validity, col.data, 0)
    return dev.asarray(lut)[codes]


def between(a: Any, lo: Any, hi: Any, negate: bool = False, **kwargs: Any) -> Column:
    """SQL ``a BETWEEN lo AND hi`` (inclusive): ``lo <= a AND a <= hi`` with Kleene logic.

    Examples
    --------
    >>> from xpdb.column import Column
    >>> between(Column.from_pylist([1, 5, None]), 2, 5).to_pylist()
    [False, True, None]
    """
    out = and_(compare("ge", a, lo, **kwargs), compare("le", a, hi, **kwargs))
    return not_(out) if negate else out


__all__ = [
    "ARITH_OPS", "BITWISE_OPS", "COMPARE_OPS", "abs_", "and_", "arith", "between", "bit_not",
    "bitwise", "case_when", "ceil",
    "coalesce", "common_type", "compare", "exp", "fill_null", "floor", "is_nan",
    "is_not_null", "is_null", "isin", "literal", "log", "log10", "log2", "negate", "not_",
    "nullif", "or_", "power", "round_", "sign", "sqrt", "trunc", "where",
]
