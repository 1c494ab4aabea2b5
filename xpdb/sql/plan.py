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


@dataclass
class Scan(Node):
    """A catalog table or view, visible under ``alias``."""

    name: str
    alias: str


@dataclass
class OneRow(Node):
    """The single empty row a SELECT without FROM reads."""


@dataclass
class Values(Node):
    """A VALUES list: rows of expressions."""

    rows: list[list[exp.Expression]]
    names: list[str]


@dataclass
class Alias(Node):
    """A derived table (subquery, CTE, VALUES) renamed to ``alias`` (and ``columns``)."""

    child: Node
    alias: str
    columns: list[str] = field(default_factory=list)


@dataclass
class Join(Node):
    """``left kind JOIN right ON on`` or ``USING (using)``; kind in inner, left, right,
    outer, cross."""

    left: Node
    right: Node
    kind: str
    on: exp.Expression | None = None
    using: list[str] = field(default_factory=list)


@dataclass
class Filter(Node):
    """Rows where ``predicate`` is true."""

    child: Node
    predicate: exp.Expression


@dataclass
class Aggregate(Node):
    """Group by ``keys`` and compute the aggregate calls ``aggs``."""

    child: Node
    keys: list[exp.Expression]
    aggs: list[exp.Expression]


@dataclass
class Window(Node):
    """Add one column per window function call (``OVER``) in ``funcs``."""

    child: Node
    funcs: list[exp.Window]


@dataclass
class Project(Node):
    """Output columns ``(name, expression)``; a Star expands to the input's columns."""

    child: Node
    items: list[tuple[str, exp.Expression]]


@dataclass
class Distinct(Node):
    """Rows without duplicates (nulls equal nulls)."""

    child: Node


@dataclass
class Sort(Node):
    """Sort by output columns: ``(index, descending, nulls_last)``."""

    child: Node
    keys: list[tuple[int, bool, bool]]


@dataclass
class Limit(Node):
    """Rows ``offset:offset+limit`` (``limit`` None: all)."""

    child: Node
    limit: int | None
    offset: int = 0


@dataclass
class Head(Node):
    """Drop the last ``hidden`` columns (the hidden ORDER BY keys)."""

    child: Node
    hidden: int


@dataclass
class SetOp(Node):
    """UNION / INTERSECT / EXCEPT, ``distinct`` or ALL."""

    kind: str
    left: Node
    right: Node
    distinct: bool


__all__ = ["Aggregate", "Alias", "Distinct", "Filter", "Head", "Join", "Limit", "Node",
           "OneRow", "Project", "Scan", "SetOp", "Sort", "Values", "Window"]
