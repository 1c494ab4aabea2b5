"""Group-by aggregation: ``groupby_agg(table, keys, aggs)`` and ``aggregate(table, aggs)``.

Output: the key columns (same names and types), then one column per :class:`Agg`, one row
per group, groups in ascending key order with nulls last per key. ``dropna=True`` drops the
groups where any key is null (pandas' default); ``dropna=False`` keeps them (SQL). NaN in a
float key is a value (one group), not a null.

Semantics (DuckDB's where pandas and DuckDB differ): null is missing, NaN is a value, the
greatest one. ``count`` counts non-null values, ``size``/``count_star`` rows,
``count_distinct``/``nunique`` distinct non-null values (NaN is one value). A group whose
inputs are all null gives null (counts give 0). ``sum`` of integers and bools is int64 and
wraps on overflow (DuckDB widens to HUGEINT; pandas wraps too); of decimal(p, s) it is
decimal(18, s), exact and wrapping likewise. ``mean``, ``var``, ``std``, ``median``,
``quantile`` and ``corr`` are float64, decimals computed in float64. ``var``/``std`` are null
where a group has no more than ``ddof`` values (pandas gives NaN); ``corr`` is NaN for a
single pair or a constant column, as in DuckDB. ``first``/``last`` skip nulls by default
(pandas); ``skipna=False`` takes the group's first/last row, null or not (DuckDB's
``first``). ``prod`` is float64 (DuckDB's ``product``). ``min``, ``max``, ``first``,
``last``, ``any_value`` and ``quantile_disc`` keep the input type.

Performance design
------------------
- Group ids are those of :func:`xpdb.kernels.keys.factorize` (its ``order_codes`` and
  ``combine``): dictionary codes of strings, bools and small integer ranges fold into one
  dense id without sorting; only wide keys (floats, sparse integers, several keys whose code
  product is large) pay a sort. :func:`xpdb.kernels.aggregate.group_ids` compacts the ids
  itself to keep by-products: the compacting bincount is the group sizes (and is skipped
  when every code occurs), the sort yields a row of each group for the key columns.
- Every aggregate is a scatter over the ids, one pass each (see
  :mod:`xpdb.kernels.aggregate`): ``bincount`` for counts, ``scatter_add`` for float and
  exact integer sums, ``scatter_min``/``scatter_max`` for min/max and for the first/last
  row of each group. The arrays derived from one column (count, sum, mean, M2) are computed
  once however many aggregates read them: ``mean`` and ``std`` of ``v3`` share the count
  and the sum. ``var``/``std`` use two passes (group mean, then squared deviations).
- Holistic aggregates sort: quantiles sort one int64 key per value, ``group id << b |
  order-preserving image of the value`` (no argsort, no gather; when the values' range does
  not fit in ``b`` bits the key holds a bucket and the few rows of the needed buckets are
  sorted exactly); ``count_distinct`` counts distinct ``(group, value code)`` pairs (a
  bincount when dense, a unique otherwise).
- On the GPU the scatters run as the fused kernels of :mod:`xpdb.kernels.dense_agg`
  (shared-memory partials for few groups); on NumPy as ``bincount`` and ``ufunc.at``.
- Shards: a :class:`~xpdb.shards.ShardedTable`, or a CPU table of more than
  ``config.get("shard_rows")`` rows (cut into views), runs a partial aggregation per shard
  through :func:`xpdb.shards.map_shards` (a thread pool on the CPU), then an explicit
  combine: the partial rows are concatenated, grouped again by the key columns, and their
  states merged (sums of sums and counts, min of mins, Chan's formula for (count, mean, M2),
  shard order for first/last, distinct (key, value) pairs for ``count_distinct``). Queries
  with quantiles run on the gathered table instead, since their state is the rows
  themselves. A plain table is sharded only while its groups are few next to its rows
  (:func:`estimate_groups` reads a sample of the keys): with about as many groups as rows
  the partials are as large as the input and the combine would repeat the work.
"""

from __future__ import annotations

import difflib
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import config
from .. import types as t
from ..column import Column
from ..errors import BindError, NotSupportedError, XpdbError
from ..errors import TypeError as XTypeError
from ..shards import ShardedTable, map_shards
from ..table import Table, concat_tables, missing_column_message
from .aggregate import Groups, merge_comoments, merge_moments, quiet

__all__ = ["Agg", "FUNCTIONS", "aggregate", "estimate_groups", "groupby_agg"]


@dataclass(frozen=True)
class Agg:
    """One aggregate: ``func(column)`` written to the output column ``name``.

    Parameters
    ----------
    func : str
        A name from :data:`FUNCTIONS` (``"sum"``, ``"mean"``, ``"quantile"``...).
    column : str or None
        The input column; None only for ``count_star``/``size`` (``count`` with None
        counts rows too).
    name : str
        The output column's name.
    options : mapping
        ``{"q": 0.9}`` for quantiles, ``{"ddof": 0}`` for var/std, ``{"skipna": False}`` for
        first/last, ``{"other": "v2"}`` for corr/covar and for ``arg_max``/``arg_min``
        (the column whose extreme row picks the value); for ``string_agg`` (values as text,
        joined) ``{"sep": ", "}`` (default ``","``; None gives null) and ``{"order":
        [("col", descending, nulls_last), ...]}`` (default: row order).
    """

    func: str
    column: str | None
    name: str
    options: Mapping[str, Any] = field(default_factory=dict, hash=False)


#: Aggregate function names and the canonical kind (plus fixed options) each maps to.
FUNCTIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "count": ("count", {}),
    "count_star": ("size", {}),
    "size": ("size", {}),
    "count_distinct": ("count_distinct", {}),
    "nunique": ("count_distinct", {}),
    "sum": ("sum", {}),
    "min": ("min", {}),
    "max": ("max", {}),
    "mean": ("mean", {}),
    "avg": ("mean", {}),
    "var": ("var", {}),
    "variance": ("var", {}),
    "var_samp": ("var", {"ddof": 1}),
    "var_pop": ("var", {"ddof": 0}),
    "std": ("std", {}),
    "stddev": ("std", {}),
    "stddev_samp": ("std", {"ddof": 1}),
    "stddev_pop": ("std", {"ddof": 0}),
    "median": ("quantile", {"q": 0.5}),
    "quantile": ("quantile", {}),
    "quantile_cont": ("quantile", {}),
    "quantile_disc": ("quantile_disc", {}),
    "first": ("first", {}),
    "last": ("last", {}),
    "any_value": ("any_value", {}),
    "arbitrary": ("first", {"skipna": False}),
    "prod": ("prod", {}),
    "product": ("prod", {}),
    "corr": ("corr", {}),
    "covar_samp": ("covar", {"ddof": 1}),
    "cov": ("covar", {"ddof": 1}),
    "covar_pop": ("covar", {"ddof": 0}),
    "bool_and": ("bool_and", {}),
    "bool_or": ("bool_or", {}),
    "string_agg": ("string_agg", {}),
    "group_concat": ("string_agg", {}),
    "arg_max": ("arg_max", {}),
    "max_by": ("arg_max", {}),
    "arg_min": ("arg_min", {}),
    "min_by": ("arg_min", {}),
    "mode": ("mode", {}),
    "bit_and": ("bit_and", {}),
    "bit_or": ("bit_or", {}),
    "bit_xor": ("bit_xor", {}),
    "skewness": ("skewness", {}),
    "skew": ("skewness", {}),
    "kurtosis": ("kurtosis", {}),
    "kurt": ("kurtosis", {}),
    "kurtosis_pop": ("kurtosis_pop", {}),
}

_SHAPE = frozenset({"skewness", "kurtosis", "kurtosis_pop"})
_HOLISTIC = frozenset({"quantile", "quantile_disc", "string_agg", "arg_max", "arg_min",
                       "mode", "bit_and", "bit_or", "bit_xor"}) | _SHAPE
_TWO_COLUMNS = frozenset({"corr", "covar", "arg_max", "arg_min"})
_PREFIX = "__xpdb_"
_SAMPLE = 1 << 14  # rows sampled to estimate the number of groups
_GOLDEN = 2654435761  # Knuth's multiplicative hash constant (a prime)


@dataclass(frozen=True)
class _Spec:
    """An Agg resolved: canonical kind, columns and parsed options."""

    kind: str
    column: str | None
    other: str | None
    name: str
    ddof: int = 1
    q: float = 0.5
    skipna: bool = True
    sep: str | None = ","
    order: tuple[tuple[str, bool, bool], ...] = ()

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(c for c in (self.column, self.other) if c is not None)


def groupby_agg(
    data: Table | ShardedTable,
    keys: Sequence[str],
    aggs: Sequence[Agg],
    *,
    dropna: bool = False,
) -> Table:
    """Aggregate the rows of ``data`` per distinct value of ``keys``.

    Parameters
    ----------
    data : Table or ShardedTable
    keys : sequence of str
        Key column names; no keys gives one row, as :func:`aggregate`.
    aggs : sequence of Agg
    dropna : bool, default False
        Drop the groups where any key is null (pandas' default) instead of keeping them
        (SQL).

    Returns
    -------
    Table
        The keys, then one column per aggregate; one row per group in ascending key order,
        nulls last.

    Examples
    --------
    >>> from xpdb.table import Table
    >>> tb = Table.from_pydict({"k": ["b", "a", "b", None], "v": [1, 2, 3, 4]})
    >>> out = groupby_agg(tb, ["k"], [Agg("sum", "v", "s"), Agg("count_star", None, "n")])
    >>> out.to_pydict()
    {'k': ['a', 'b', None], 's': [2, 4, 4], 'n': [1, 2, 1]}
    """
    keys = [keys] if isinstance(keys, str) else list(keys)
    return _run(data, keys, aggs, dropna)


def aggregate(data: Table | ShardedTable, aggs: Sequence[Agg]) -> Table:
    """Aggregate every row of ``data`` into one row (also on empty input, as SQL).

    Examples
    --------
    >>> from xpdb.table import Table
    >>> tb = Table.from_pydict({"v": [1.0, None, 4.0]})
    >>> aggregate(tb, [Agg("mean", "v", "m"), Agg("count", "v", "c")]).to_pydict()
    {'m': [2.5], 'c': [2]}
    """
    return _run(data, [], aggs, False)


# -- resolution --------------------------------------------------------------------------------
def _resolve(agg: Agg, names: Sequence[str]) -> _Spec:
    if not isinstance(agg, Agg):
        raise XTypeError(f"aggregates must be Agg objects, got {agg!r}")
    func = str(agg.func).lower()
    if func not in FUNCTIONS:
        close = difflib.get_close_matches(func, list(FUNCTIONS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; supported: {sorted(FUNCTIONS)}"
        raise NotSupportedError(f"unknown aggregate function {agg.func!r}{hint}")
    kind, fixed = FUNCTIONS[func]
    opts = {**dict(agg.options), **fixed}
    unknown = set(opts) - {"q", "ddof", "skipna", "other", "sep", "order"}
    if unknown:
        msg = (f"aggregate {agg.name!r}: unknown options {sorted(unknown)}; known: q, ddof, "
               "skipna, other, sep, order")
        raise XpdbError(msg)
    column = agg.column
    if column is None:
        if kind not in ("size", "count"):
            raise BindError(f"aggregate {agg.func!r} ({agg.name!r}) needs an input column")
        kind = "size"
    elif column not in names:
        raise BindError(missing_column_message(column, names))
    other = opts.get("other")
    if kind in _TWO_COLUMNS:
        if other is None:
            msg = (f"aggregate {agg.func!r} ({agg.name!r}) needs a second column: "
                   "options={'other': 'column name'}")
            raise BindError(msg)
        if other not in names:
            raise BindError(missing_column_message(other, names))
    else:
        other = None
    ddof = opts.get("ddof", 1)
    if isinstance(ddof, bool) or not isinstance(ddof, int | np.integer) or ddof < 0:
        raise XpdbError(f"aggregate {agg.name!r}: ddof must be an integer >= 0, got {ddof!r}")
    q = opts.get("q", 0.5)
    if isinstance(q, bool) or not isinstance(q, int | float) or not 0.0 <= float(q) <= 1.0:
        raise XpdbError(f"aggregate {agg.name!r}: quantile q must be in [0, 1], got {q!r}")
    sep = opts.get("sep", ",")
    if sep is not None and not isinstance(sep, str):
        raise XpdbError(f"aggregate {agg.name!r}: sep must be a string or None, got {sep!r}")
    order = tuple(tuple(o) for o in opts.get("order", ()))
    for o in order:
        if len(o) != 3 or o[0] not in names:
            msg = (f"aggregate {agg.name!r}: order takes (column, descending, nulls_last) "
                   f"items over {list(names)}, got {o!r}")
            raise XpdbError(msg)
    return _Spec(kind, column, other, agg.name, int(ddof), float(q),
                 bool(opts.get("skipna", True)), sep,
                 tuple((str(c), bool(d), bool(nl)) for c, d, nl in order))


def _check_types(spec: _Spec, schema: Mapping[str, t.DataType]) -> None:
    if spec.column is None:
        return
    dt = schema[spec.column]
    kind = spec.kind
    numeric = dt.is_numeric or dt.is_bool
    if kind in ("mean", "var", "std", "prod", "corr", "covar", "quantile", *_SHAPE) \
            and not numeric:
        msg = (f"{kind}({spec.column!r}) needs a numeric column, got type {dt}; cast it to a "
               "number first" + (" or use quantile_disc" if kind == "quantile" else ""))
        raise XTypeError(msg)
    if kind in ("corr", "covar") and not (schema[spec.other].is_numeric
                                          or schema[spec.other].is_bool):
        raise XTypeError(f"{kind}: column {spec.other!r} of type {schema[spec.other]} is not numeric")
    if kind == "sum" and not (numeric or dt.kind == "duration"):
        msg = (f"sum({spec.column!r}) is not defined for type {dt}; sum takes numbers, bools, "
               "decimals or durations")
        raise XTypeError(msg)
    if kind in ("bool_and", "bool_or") and not dt.is_bool:
        raise XTypeError(f"{kind}({spec.column!r}) needs a bool column, got type {dt}")


# -- states --------------------------------------------------------------------------------------
def _states(spec: _Spec) -> list[tuple[Any, ...]]:
    """The mergeable partial states an aggregate is finished from."""
    k, c = spec.kind, spec.column
    if k == "size":
        return [("size", None)]
    if k in ("count", "sum", "min", "max", "prod"):
        return [(k, c)]
    if k == "bool_and":
        return [("min", c)]
    if k == "bool_or":
        return [("max", c)]
    if k == "mean":
        return [("fsum", c), ("count", c)]
    if k in ("var", "std"):
        return [("moments", c)]
    if k in ("first", "last"):
        return [(k, c, spec.skipna)]
    if k == "any_value":
        return [("first", c, True)]
    if k in ("corr", "covar"):
        return [("comoments", c, spec.other)]
    return []  # holistic


def _compute_state(g: Groups, st: tuple[Any, ...]) -> list[Column]:
    kind, c = st[0], st[1]
    xp, dev = g.xp, g.device
    if kind == "size":
        return [Column(t.int64, g.sizes, None, None, dev)]
    if kind == "count":
        return [Column(t.int64, g.count(c), None, None, dev)]
    if kind == "sum":
        return [g.sum(c)]
    if kind == "fsum":
        return [Column(t.float64, g.fsum(c), None, None, dev)]
    if kind in ("min", "max"):
        return [g.extreme(c, kind)]
    if kind in ("first", "last"):
        return [g.pick(c, kind, st[2])]
    if kind == "prod":
        return [g.prod(c)]
    if kind == "moments":
        n = g.count(c)
        return _floats(dev, [n, xp.where(n > 0, g.mean(c), 0.0), g.m2(c)])
    if kind == "comoments":
        n, mx, my, cxy, m2x, m2y = g.comoments(c, st[2])
        has = n > 0
        return _floats(dev, [n, xp.where(has, mx, 0.0), xp.where(has, my, 0.0), cxy, m2x, m2y])
    raise AssertionError(kind)  # pragma: no cover


def _merge_state(g: Groups, st: tuple[Any, ...], names: list[str]) -> list[Column]:
    kind = st[0]
    xp, dev = g.xp, g.device
    p = names[0]
    if kind in ("size", "count"):
        return [Column(t.int64, g.isum(p), None, None, dev)]
    if kind == "sum":
        return [g.sum(p)]
    if kind == "fsum":
        return [Column(t.float64, g.fsum(p), None, None, dev)]
    if kind in ("min", "max"):
        return [g.extreme(p, kind)]
    if kind in ("first", "last"):
        return [g.pick(p, kind, st[2])]
    if kind == "prod":
        return [g.prod(p)]
    parts = [g.col(n).data for n in names]
    if kind == "moments":
        n, mu, m2 = merge_moments(g, *parts)
        return _floats(dev, [n, xp.where(n > 0, mu, 0.0), m2])
    n, ux, uy, c, sx, sy = merge_comoments(g, *parts)
    has = n > 0
    return _floats(dev, [n, xp.where(has, ux, 0.0), xp.where(has, uy, 0.0), c, sx, sy])


def _floats(dev: Any, arrays: list[Any]) -> list[Column]:
    out = [Column(t.int64, arrays[0], None, None, dev)]
    return out + [Column(t.float64, a, None, None, dev) for a in arrays[1:]]


def _finalize(spec: _Spec, cols: list[Column], nonull: bool) -> Column:
    """The aggregate from its merged states; ``nonull``: every group has a value."""
    k = spec.kind
    if len(cols) == 1:
        return cols[0]
    dev = cols[0].device
    xp = dev.xp
    with quiet():
        if k == "mean":
            s, n = cols[0].data, cols[1].data
            return _masked(dev, s / n, None if nonull else n > 0)
        if k in ("var", "std"):
            n, m2 = cols[0].data, cols[2].data
            v = m2 / (n - spec.ddof)
            if k == "std":
                v = xp.sqrt(v)
            return _masked(dev, v, n > spec.ddof)
        n, cxy, m2x, m2y = cols[0].data, cols[3].data, cols[4].data, cols[5].data
        if k == "corr":
            return _masked(dev, cxy / xp.sqrt(m2x * m2y), None if nonull else n > 0)
        return _masked(dev, cxy / (n - spec.ddof), n > spec.ddof)


def _masked(dev: Any, values: Any, valid: Any) -> Column:
    if valid is not None:
        values = dev.xp.where(valid, values, 0.0)
    return Column(t.float64, values, valid, None, dev)


def _holistic(g: Groups, spec: _Spec) -> Column:
    if spec.kind == "string_agg":
        return g.string_agg(spec.column, spec.sep, spec.order)
    if spec.kind == "mode":
        return g.mode(spec.column)
    if spec.kind in _SHAPE:
        return g.shape(spec.column, spec.kind)
    if spec.kind in ("bit_and", "bit_or", "bit_xor"):
        return g.bit_reduce(spec.column, spec.kind[4:])
    if spec.kind in ("arg_max", "arg_min"):
        return g.arg_extreme(spec.column, spec.other, spec.kind == "arg_max")
    if spec.kind == "count_distinct":
        return Column(t.int64, g.count_distinct(spec.column), None, None, g.device)
    return g.quantile(spec.column, spec.q, discrete=spec.kind == "quantile_disc")


# -- execution -----------------------------------------------------------------------------------
def _groups(table: Table, keys: Sequence[str]) -> tuple[Groups, list[tuple[str, Column]]]:
    """Group ids of ``table``'s rows by ``keys`` and the key columns of the groups."""
    g = Groups.by_keys(table, keys)
    return g, [(k, table.column(k).take(g.rep_rows)) for k in keys]


def _drop_null_keys(table: Table, keys: Sequence[str]) -> Table:
    mask = None
    for k in keys:
        v = table.column(k).validity
        if v is not None:
            mask = v if mask is None else mask & v
    return table if mask is None else table.filter(mask)


def _nonull(tables: Sequence[Table], spec: _Spec) -> bool:
    rows = sum(tb.num_rows for tb in tables)
    return rows > 0 and all(tb.column(c).validity is None for tb in tables for c in spec.inputs)


def _run(data: Table | ShardedTable, keys: list[str], aggs: Sequence[Agg], dropna: bool) -> Table:
    if not isinstance(data, Table | ShardedTable):
        raise XTypeError(f"group-by takes a Table or ShardedTable, got {type(data).__name__}")
    names = data.names
    for k in keys:
        if k not in names:
            raise BindError(missing_column_message(k, names))
    if len(set(keys)) != len(keys):
        raise BindError(f"key columns repeat: {keys}; name each key once")
    specs = [_resolve(a, names) for a in aggs]
    for s in specs:
        _check_types(s, data.schema)
    out_names = keys + [s.name for s in specs]
    if len(set(out_names)) != len(out_names):
        dup = sorted({n for n in out_names if out_names.count(n) > 1})
        msg = (f"output column names repeat: {dup}; give every aggregate a distinct name "
               "that is not a key column")
        raise BindError(msg)
    holistic = any(s.kind in _HOLISTIC for s in specs)
    shards = None if holistic else _plan_shards(data, keys)
    if shards is None:
        table = data.concat() if isinstance(data, ShardedTable) else data
        out = _single(table, keys, specs)
    else:
        out = _sharded(shards, keys, specs, dropna)
    return _drop_null_keys(out, keys) if dropna else out


def _plan_shards(data: Table | ShardedTable, keys: Sequence[str]) -> list[Table] | None:
    """The shards to aggregate separately, or None for one pass over one table.

    A plain CPU table is cut into ``shard_rows`` views when it is longer, unless a sample
    of its keys says that a shard would hold more than ``shard_rows / 2`` groups: partial
    results barely smaller than their shards would make the combine repeat the work.
    """
    if isinstance(data, ShardedTable):
        return data.shards if data.num_shards > 1 else None
    rows = config.get("shard_rows")
    if data.device.is_gpu or data.num_rows <= rows:
        return None
    if keys and estimate_groups(data, keys) > rows / 2:
        return None
    return ShardedTable.split(data, rows_per_shard=rows).shards


def estimate_groups(table: Table, keys: Sequence[str], sample: int = _SAMPLE) -> float:
    """Estimate the number of distinct ``keys`` in ``table`` from a sample of its rows.

    Solves ``d = G (1 - exp(-s / G))`` (the distinct values ``d`` expected among ``s``
    draws from ``G`` equally likely ones) for ``G``; inf when every sampled key differs.

    Examples
    --------
    >>> from xpdb.table import Table
    >>> tb = Table.from_pydict({"k": [i % 10 for i in range(1000)]})
    >>> round(estimate_groups(tb, ["k"], sample=100))
    10
    """
    rows = table.num_rows
    if rows <= sample:
        return float(Groups.by_keys(table.select(keys), keys).n)
    xp = table.device.xp
    # a multiplicative hash spreads the sample (an even stride could meet a key's period)
    idx = (xp.arange(sample, dtype=np.int64) * _GOLDEN) % rows
    d = Groups.by_keys(table.select(keys).take(idx), keys).n
    return _solve_distinct(d, sample)


def _solve_distinct(d: int, s: int) -> float:
    if d >= s:
        return math.inf
    if d <= 1:
        return float(d)
    lo, hi = float(d), float(d) * s
    for _ in range(100):
        mid = (lo + hi) / 2
        if mid * -math.expm1(-s / mid) < d:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _single(table: Table, keys: Sequence[str], specs: Sequence[_Spec]) -> Table:
    g, cols = _groups(table, keys)
    computed: dict[tuple[Any, ...], list[Column]] = {}
    for spec in specs:
        states = _states(spec)
        if not states:
            cols.append((spec.name, _holistic(g, spec)))
            continue
        parts: list[Column] = []
        for st in states:
            if st not in computed:
                computed[st] = _compute_state(g, st)
            parts += computed[st]
        cols.append((spec.name, _finalize(spec, parts, _nonull([table], spec))))
    return Table(cols, g.n, table.device)


def groupby_agg_stream(pieces: Iterable[Table], keys: Sequence[str], aggs: Sequence[Agg]) -> Table:
    """:func:`groupby_agg` over a table that arrives in pieces (SQL semantics: null keys
    form a group; no keys gives one row).

    Each piece is reduced to its partial aggregate before the next one is produced, so
    only one piece and the partials are in memory at a time: this is how a scan larger
    than the device's memory budget is aggregated. Holistic aggregates (quantiles) need
    every value at once and are refused.

    Examples
    --------
    >>> from xpdb.table import Table
    >>> pieces = (Table.from_pydict({"k": [i % 2], "v": [i]}) for i in range(5))
    >>> groupby_agg_stream(pieces, ["k"], [Agg("sum", "v", "s")]).to_pydict()
    {'k': [0, 1], 's': [6, 4]}
    """
    it = iter(pieces)
    first = next(it, None)
    if first is None:
        raise XpdbError("groupby_agg_stream needs at least one piece (an empty one will do)")
    keys = list(keys)
    specs = [_resolve(a, first.names) for a in aggs]
    for spec in specs:
        _check_types(spec, first.schema)
        if spec.kind in _HOLISTIC:
            raise NotSupportedError(f"{spec.kind} cannot be computed piece by piece; it "
                                    "needs the whole input in memory")
    return _sharded(itertools.chain([first], it), keys, specs, False)


def _sharded(
    shards: Iterable[Table], keys: list[str], specs: Sequence[_Spec], dropna: bool
) -> Table:
    states: list[tuple[Any, ...]] = []
    for spec in specs:
        states += [st for st in _states(spec) if st not in states]
    distinct = list(dict.fromkeys(s.column for s in specs if s.kind == "count_distinct"))
    widths = {st: (3 if st[0] == "moments" else 6 if st[0] == "comoments" else 1)
              for st in states}
    state_names = {st: [f"{_PREFIX}s{j}_{i}" for i in range(widths[st])]
                   for j, st in enumerate(states)}
    def partial(shard: Table) -> tuple[Table, list[Table], tuple[int, set[str]]]:
        # the last item keeps what _finalize needs to know of the piece (its rows and
        # which inputs hold nulls), not its data: a streamed piece is freed once reduced
        meta = (shard.num_rows, {c for spec in specs for c in spec.inputs
                                 if shard.column(c).validity is not None})
        g, cols = _groups(shard, keys)
        for st in states:
            cols += list(zip(state_names[st], _compute_state(g, st), strict=True))
        main = Table(cols, g.n, shard.device)
        pairs = [_distinct_pairs(shard, keys, c) for c in distinct]
        if dropna:
            main = _drop_null_keys(main, keys)
            pairs = [_drop_null_keys(p, keys) for p in pairs]
        return main, pairs, meta

    if isinstance(shards, list):
        parts = map_shards(partial, shards, shards[0].device)
    else:  # a stream: each piece is reduced before the next is made
        parts = [partial(shard) for shard in shards]
    dev = parts[0][0].device
    merged = concat_tables([p[0] for p in parts])
    g, cols = _groups(merged, keys)
    merged_states = {st: _merge_state(g, st, state_names[st]) for st in states}
    counted = {}
    for j, c in enumerate(distinct):
        pairs = concat_tables([p[1][j] for p in parts])
        res = _single(pairs, keys, [_Spec("count_distinct", f"{_PREFIX}v", None, "n")])
        if res.num_rows != g.n:  # pragma: no cover - the pair rows cover every group
            raise XpdbError("internal error: count_distinct partials lost a group")
        counted[c] = res.column("n")
    for spec in specs:
        if spec.kind == "count_distinct":
            cols.append((spec.name, counted[spec.column]))
            continue
        parts_cols = [c for st in _states(spec) for c in merged_states[st]]
        nonull = sum(p[2][0] for p in parts) > 0 and not any(
            c in p[2][1] for p in parts for c in spec.inputs)
        cols.append((spec.name, _finalize(spec, parts_cols, nonull)))
    return Table(cols, g.n, dev)


def _distinct_pairs(shard: Table, keys: Sequence[str], column: str) -> Table:
    """The distinct (keys..., value) rows of a shard, null values included."""
    sub = Table([*((k, shard.column(k)) for k in keys), (f"{_PREFIX}v", shard.column(column))],
                shard.num_rows, shard.device)
    return sub.take(Groups.by_keys(sub, sub.names).rep_rows)
