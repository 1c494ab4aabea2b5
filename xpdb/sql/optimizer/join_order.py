"""Rule: join ordering by estimated size.

A tree of inner and cross joins (after pushdown, every single-table test already sits on
its input) is flattened into its inputs and its join conditions, then rebuilt greedily
(GOO, Fegaras 1998): repeatedly join the two inputs, connected by a condition, whose
estimated result (:class:`~xpdb.sql.optimizer.estimate.Estimator`) is smallest; inputs
with no condition between them are crossed only when nothing else is left, smallest first.
Each join puts the larger input on the left, so the smaller one is the build side (the
executor checks actual sizes again before it builds). A :class:`~xpdb.sql.plan.Permute`
on top restores the column order the query was written with, so ``SELECT *`` does not
change.

Trees with fewer than three inputs, a USING join, a node shared by several parents, or a
condition that names a column no single input resolves are left as written.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from .. import plan as p
from .estimate import Estimator
from .schema import Schemas, homes
from .tree import and_all, children, conjuncts, has_subquery, parent_counts, with_children


def order_joins(root: p.Node, catalog: Any, estimator: Estimator | None = None) -> p.Node:
    """Reorder every inner-join tree of three or more inputs (see the module docstring)."""
    schemas = Schemas(catalog)
    est = estimator or Estimator(catalog, schemas)
    parents = parent_counts(root)
    memo: dict[p.Node, p.Node] = {}

    def go(node: p.Node) -> p.Node:
        if node in memo:
            return memo[node]
        out = None
        if _joinable(node):
            leaves: list[p.Node] = []
            conds: list[exp.Expression] = []
            _flatten(node, leaves, conds, parents, top=True)
            if len(leaves) >= 3:
                out = _reorder([go(leaf) for leaf in leaves], conds, schemas, est)
        if out is None:
            out = with_children(node, [go(c) for c in children(node)])
        memo[node] = out
        return out

    return go(root)


def _joinable(node: p.Node) -> bool:
    return isinstance(node, p.Join) and node.kind in ("inner", "cross") and not node.using


def _flatten(node: p.Node, leaves: list[p.Node], conds: list[exp.Expression],
             parents: dict[p.Node, int], top: bool) -> None:
    if _joinable(node) and (top or parents.get(node, 0) <= 1):
        assert isinstance(node, p.Join)
        conds.extend(conjuncts(node.on))
        _flatten(node.left, leaves, conds, parents, False)
        _flatten(node.right, leaves, conds, parents, False)
        return
    leaves.append(node)


def _reorder(leaves: list[p.Node], conds: list[exp.Expression], schemas: Schemas,
             est: Estimator) -> p.Node | None:
    scopes = [schemas(leaf) for leaf in leaves]
    if any(s is None for s in scopes):
        return None
    edges: list[tuple[frozenset[int], exp.Expression]] = []
    top: list[exp.Expression] = []
    for c in conds:
        if has_subquery(c):
            return None
        h = homes(c, scopes)  # type: ignore[arg-type]
        if h is None:
            return None
        if len(h) < 2:
            top.append(c)  # constant (or, after pushdown, nothing else)
        else:
            edges.append((frozenset(h), c))
    # inputs: (plan, leaf set, leaf order inside the plan)
    parts: list[tuple[p.Node, frozenset[int], list[int]]] = [
        (leaf, frozenset([i]), [i]) for i, leaf in enumerate(leaves)]
    while len(parts) > 1:
        best = None
        for i in range(len(parts)):
            for j in range(i + 1, len(parts)):
                a, b = parts[i], parts[j]
                union = a[1] | b[1]
                on = [c for s, c in edges if s <= union and s & a[1] and s & b[1]]
                if not on:
                    continue
                rows = est.join_rows(a[0], b[0], on)
                if best is None or rows < best[0]:
                    best = (rows, i, j, on)
        if best is None:
            order = sorted(range(len(parts)), key=lambda k: est.rows(parts[k][0]))
            i, j = sorted(order[:2])
            on = []
        else:
            _, i, j, on = best
        a, b = parts[i], parts[j]
        if est.rows(a[0]) < est.rows(b[0]):
            a, b = b, a
        used = {id(c) for c in on}
        edges = [(s, c) for s, c in edges if id(c) not in used]
        cond = and_all(on)
        join = p.Join(a[0], b[0], "inner" if cond is not None else "cross", cond)
        parts = [x for k, x in enumerate(parts) if k not in (i, j)]
        parts.append((join, a[1] | b[1], a[2] + b[2]))
    plan, _, order = parts[0]
    top.extend(c for _, c in edges)
    widths = [len(s.fields) for s in scopes]  # type: ignore[union-attr]
    start, offset = {}, 0
    for leaf in order:
        start[leaf] = offset
        offset += widths[leaf]
    perm = [start[leaf] + f for leaf in range(len(leaves)) for f in range(widths[leaf])]
    out: p.Node = plan if perm == list(range(len(perm))) else p.Permute(plan, perm)
    cond = and_all(top)
    return out if cond is None else p.Filter(out, cond)


__all__ = ["order_joins"]
