"""EXPLAIN and EXPLAIN ANALYZE: the optimized plan as an indented tree.

Each line is one operator with its estimated output rows (``~rows``, from
:class:`~xpdb.sql.optimizer.estimate.Estimator`). EXPLAIN ANALYZE runs the query and adds,
per operator: wall time including its inputs, its own time (``self``), the rows it produced
and the bytes it moved between host and device; a node shared by several parents (a CTE
read twice) is printed once and referred to afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlglot import exp

from ..errors import BindError
from . import plan as p
from .optimizer.estimate import Estimator
from .optimizer.tree import children


def _sql(e: exp.Expression, limit: int = 120) -> str:
    text = e.sql(dialect="duckdb")
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _list(es: list[exp.Expression]) -> str:
    return ", ".join(_sql(e, 60) for e in es)


def label(node: p.Node) -> str:
    """One line describing ``node`` (without estimates)."""
    if isinstance(node, p.Scan):
        out = f"Scan {node.name}" + (f" AS {node.alias}" if node.alias != node.name else "")
        if node.columns is not None:
            out += f" columns=[{', '.join(node.columns)}]"
        if node.filters:
            out += f" filters=[{_list(node.filters)}]"
        return out
    if isinstance(node, p.Filter):
        return f"Filter {_sql(node.predicate)}"
    if isinstance(node, p.Join):
        kind = {"inner": "InnerJoin", "cross": "CrossJoin", "left": "LeftJoin",
                "right": "RightJoin", "outer": "FullJoin"}.get(node.kind, node.kind)
        out = kind
        if node.on is not None:
            out += f" ON {_sql(node.on)}"
        if node.using:
            out += f" USING ({', '.join(node.using)})"
        return out
    if isinstance(node, p.Aggregate):
        out = f"Aggregate keys=[{_list(node.keys)}] aggs=[{_list(node.aggs)}]"
        sets = getattr(node, "sets", None)
        return out + (f" sets={sets}" if sets else "")
    if isinstance(node, p.Project):
        return "Project " + ", ".join(n for n, _ in node.items)
    if isinstance(node, p.Window):
        return f"Window [{_list(list(node.funcs))}]"
    if isinstance(node, p.Sort):
        keys = [f"{k}{' DESC' if d else ''}" for k, d, _ in node.keys]
        return f"Sort [{', '.join(map(str, keys))}]"
    if isinstance(node, p.Limit):
        return f"Limit {node.limit}" + (f" OFFSET {node.offset}" if node.offset else "")
    if isinstance(node, p.Alias):
        cols = f"({', '.join(node.columns)})" if node.columns else ""
        return f"Alias {node.alias}{cols}"
    if isinstance(node, p.SetOp):
        return f"{node.kind.upper()}{'' if node.distinct else ' ALL'}"
    if isinstance(node, p.Values):
        return f"Values {len(node.rows)} rows"
    if isinstance(node, p.Permute):
        return "Permute (restores the written column order)"
    if isinstance(node, p.Head):
        return f"Head (drops {node.hidden} sort keys)"
    if isinstance(node, p.Distinct):
        return "Distinct"
    if isinstance(node, p.OneRow):
        return "OneRow"
    name = getattr(node, "name", None)
    return type(node).__name__ + (f" {name}" if name else "")


def _bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1024
    return f"{n:.1f}GB"


def render(root: p.Node, estimator: Estimator,
           profile: dict[p.Node, list[float]] | None = None) -> str:
    """The plan tree as text, with estimates and (given a profile) measurements."""
    lines: list[str] = []
    seen: dict[p.Node, int] = {}

    def go(node: p.Node, depth: int) -> None:
        pad = "  " * depth
        if node in seen:
            lines.append(f"{pad}-> shared #{seen[node]} (computed once)")
            return
        kids = children(node)
        text = f"{pad}{label(node)}  ~{estimator.rows(node):,.0f} rows"
        if profile is not None:
            entry = profile.get(node)
            if entry is not None:
                total = entry[0]
                own = total - sum(profile[c][0] for c in kids if c in profile)
                text += (f"  | {total * 1e3:.2f} ms (self {max(own, 0.0) * 1e3:.2f} ms), "
                         f"{int(entry[1]):,} rows")
                if entry[2] or entry[3]:
                    text += f", to device {_bytes(entry[2])}, to host {_bytes(entry[3])}"
                if entry[4] > 1:
                    text += f", {int(entry[4])} runs"
            else:
                text += "  | not run"
        seen[node] = len(seen) + 1
        if _shared(node, root_counts):
            text += f"  [shared #{seen[node]}]"
        lines.append(text)
        for c in kids:
            go(c, depth + 1)

    from .optimizer.tree import parent_counts

    root_counts = parent_counts(root)
    go(root, 0)
    return "\n".join(lines)


def _shared(node: p.Node, counts: dict[p.Node, int]) -> bool:
    return counts.get(node, 0) > 1


class _EmptyTables(Mapping):
    """A catalog's tables, each read as its first zero rows (no data is touched)."""

    def __init__(self, tables: Mapping[str, Any]):
        self.tables = tables

    def __getitem__(self, name: str) -> Any:
        return self.tables[name].slice(0, 0)

    def __iter__(self) -> Iterator[str]:
        return iter(self.tables)

    def __len__(self) -> int:
        return len(self.tables)


def check_binding(ex: Any, query: exp.Expression) -> None:
    """Raise the BindError that running ``query`` would raise (an unknown column or table,
    with its "did you mean" hint), by running its plan as written over empty tables.

    Other errors are left to the run: they may depend on the data. Plans reading files
    (table functions) are not checked, since that would read the files.
    """
    from .executor import Executor

    plain = Executor(_EmptyTables(ex.tables), ex.views, ex.device, rules=())
    plan = plain.plan(query)
    stack = [plan]
    while stack:
        node = stack.pop()
        if isinstance(node, p.TableFunction):
            return
        stack.extend(children(node))
    try:
        plain.execute(plan)
    except BindError:
        raise
    except Exception:  # noqa: BLE001 - only binding errors are EXPLAIN's to report
        pass


def explain(db: Any, query: exp.Expression, analyze: bool) -> tuple[str, str]:
    """``(key, text)`` of EXPLAIN [ANALYZE] ``query`` on database ``db``; a query that does
    not bind (an unknown column) raises its BindError instead of showing a plan."""
    import time

    ex = db._executor(profile=analyze)
    check_binding(ex, query)  # before the optimizer prunes the columns a hint would name
    plan = ex.plan(query)
    est = Estimator(ex)
    if not analyze:
        return "logical_plan", render(plan, est)
    stats = db.device.stats
    d0, h0 = stats.to_device, stats.to_host
    c0 = db.cache.stats.copy()
    t0 = time.perf_counter()
    rel = ex.execute(plan)
    db.device.synchronize()
    total = time.perf_counter() - t0
    text = render(plan, est, ex.profile)
    text += (f"\nTotal: {total * 1e3:.2f} ms, {rel.table.num_rows:,} rows on {db.device}; "
             f"moved to device {_bytes(stats.to_device - d0)}, to host {_bytes(stats.to_host - h0)}")
    c1 = db.cache.stats
    if db.path is not None:
        text += (f"\nColumn cache: {c1.hits - c0.hits} hits, {c1.misses - c0.misses} misses, "
                 f"{_bytes(c1.bytes_loaded - c0.bytes_loaded)} read into it, "
                 f"{c1.evictions - c0.evictions} evictions; holds {_bytes(db.cache.nbytes)} "
                 f"of {_bytes(db.cache.limit)}")
    for note in ex.notes:  # spatial joins note themselves (xpdb.sql.spatial)
        text += f"\n{note}" if note.startswith("Spatial join") else f"\nStreaming: {note}"
    return "analyzed_plan", text


__all__ = ["check_binding", "explain", "label", "render"]
