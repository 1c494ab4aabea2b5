"""Logical plan nodes: small dataclasses holding sqlglot expressions.

The planner (:mod:`xpdb.sql.planner`) builds them from a syntax tree; the executor
(:mod:`xpdb.sql.executor`) runs them on the kernels. Expressions stay sqlglot nodes and are
bound against the input's scope when they run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp


class Node:
    """Base class of plan nodes."""


@dataclass(eq=False)
class Scan(Node):
    """A catalog table or view, visible under ``alias``.

    The optimizer fills ``columns`` (read only these, in table order; None: all) and
    ``filters`` (predicates applied while scanning, over the scan's own columns).
    ``version``: the stored version to read (``FROM t VERSION AS OF n``; None: latest).
    """

    name: str
    alias: str
    columns: list[str] | None = None
    filters: list[exp.Expression] = field(default_factory=list)
    version: int | None = None


@dataclass(eq=False)
class OneRow(Node):
    """The single empty row a SELECT without FROM reads."""


@dataclass(eq=False)
class Values(Node):
    """A VALUES list: rows of expressions."""

    rows: list[list[exp.Expression]]
    names: list[str]


@dataclass(eq=False)
class Alias(Node):
    """A derived table (subquery, CTE, VALUES) renamed to ``alias`` (and ``columns``)."""

    child: Node
    alias: str
    columns: list[str] = field(default_factory=list)


@dataclass(eq=False)
class Join(Node):
    """``left kind JOIN right ON on`` or ``USING (using)``; kind in inner, left, right,
    outer, cross."""

    left: Node
    right: Node
    kind: str
    on: exp.Expression | None = None
    using: list[str] = field(default_factory=list)


@dataclass(eq=False)
class Filter(Node):
    """Rows where ``predicate`` is true."""

    child: Node
    predicate: exp.Expression


@dataclass(eq=False)
class Aggregate(Node):
    """Group by ``keys`` and compute the aggregate calls ``aggs``.

    ``sets``: grouping sets as lists of key indexes (ROLLUP, CUBE, GROUPING SETS, or any
    GROUPING(...) call); None for a plain GROUP BY.
    """

    child: Node
    keys: list[exp.Expression]
    aggs: list[exp.Expression]
    sets: list[list[int]] | None = None


@dataclass(eq=False)
class Window(Node):
    """Add one column per window function call (``OVER``) in ``funcs``."""

    child: Node
    funcs: list[exp.Window]


@dataclass(eq=False)
class Project(Node):
    """Output columns ``(name, expression)``; a Star expands to the input's columns."""

    child: Node
    items: list[tuple[str, exp.Expression]]


@dataclass(eq=False)
class Distinct(Node):
    """Rows without duplicates (nulls equal nulls)."""

    child: Node


@dataclass(eq=False)
class Sort(Node):
    """Sort by output columns: ``(index, descending, nulls_last)``."""

    child: Node
    keys: list[tuple[int, bool, bool]]


@dataclass(eq=False)
class Limit(Node):
    """Rows ``offset:offset+limit`` (``limit`` None: all)."""

    child: Node
    limit: int | None
    offset: int = 0


@dataclass(eq=False)
class Head(Node):
    """Drop the last ``hidden`` columns (the hidden ORDER BY keys)."""

    child: Node
    hidden: int


@dataclass(eq=False)
class SetOp(Node):
    """UNION / INTERSECT / EXCEPT, ``distinct`` or ALL."""

    kind: str
    left: Node
    right: Node
    distinct: bool


@dataclass(eq=False)
class Permute(Node):
    """The child's columns in another order: output column ``i`` is child column
    ``order[i]`` (join reordering restores the written column order with it)."""

    child: Node
    order: list[int]


@dataclass(eq=False)
class TableFunction(Node):
    """A table function in FROM (``read_csv('f.csv', header = true) AS x(a, b)``):
    positional ``args`` and named ``options`` (constant expressions), visible under
    ``alias`` with ``columns`` replacing the first column names."""

    name: str
    args: list[exp.Expression]
    options: dict[str, exp.Expression]
    alias: str
    columns: list[str] = field(default_factory=list)


__all__ = ["Aggregate", "Alias", "Distinct", "Filter", "Head", "Join", "Limit", "Node",
           "OneRow", "Permute", "Project", "Scan", "SetOp", "Sort", "TableFunction", "Values",
           "Window"]
