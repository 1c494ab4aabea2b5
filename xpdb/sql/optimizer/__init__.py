"""The rule-based optimizer: logical plan in, equivalent cheaper logical plan out.

Rules run in this order, each in its own module:

1. :mod:`.fold_constants`: constant sub-expressions to literals, TRUE/FALSE simplified;
2. :mod:`.factor_or`: terms shared by every branch of an OR pulled out (Q19's join key);
3. :mod:`.pushdown`: filter conjuncts moved through joins and derived tables into scans;
4. :mod:`.prune_columns`: scans read only the columns the query names;
5. :mod:`.join_order`: inner-join trees rebuilt by estimated size (:mod:`.estimate`).

Subquery decorrelation is a rule of the executor (:mod:`xpdb.sql.decorrelate`), since
it needs the outer rows; CTE reuse is the plan being a DAG (a CTE read twice is one node,
see :func:`.tree.parent_counts`), which the executor computes once.
"""

from __future__ import annotations

from typing import Any

from .. import plan as p
from .estimate import Estimator, TableStats
from .factor_or import factor_or
from .fold_constants import fold_constants
from .join_order import order_joins
from .prune_columns import prune_columns
from .pushdown import pushdown_predicates
from .schema import Schemas

RULES = ("fold_constants", "factor_or", "pushdown", "prune_columns", "join_order")


def optimize(plan: p.Node, catalog: Any, rules: tuple[str, ...] | None = None) -> p.Node:
    """The optimized plan of ``plan`` over ``catalog`` (an Executor: tables, views, device).

    Parameters
    ----------
    plan : Node
    catalog : Executor
    rules : tuple of str, optional
        A subset of :data:`RULES` to run (in the fixed order); all by default.
    """
    active = RULES if rules is None else rules
    unknown = set(active) - set(RULES)
    if unknown:
        msg = f"unknown optimizer rule(s) {sorted(unknown)}; the rules are {list(RULES)}"
        raise ValueError(msg)
    if "fold_constants" in active:
        plan = fold_constants(plan, catalog.device)
    if "factor_or" in active:
        plan = factor_or(plan)
    if "pushdown" in active:
        plan = pushdown_predicates(plan, catalog)
    if "prune_columns" in active:
        plan = prune_columns(plan, catalog)
    if "join_order" in active:
        plan = order_joins(plan, catalog)
    return plan


__all__ = ["RULES", "Estimator", "Schemas", "TableStats", "optimize"]
