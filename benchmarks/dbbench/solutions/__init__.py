"""The engines the db-benchmark runner compares, by name."""

from __future__ import annotations

from collections.abc import Callable

from .base import NotSupported, Solution
from .duckdb_solution import DuckDBSolution
from .pandas_solution import PandasSolution
from .polars_solution import PolarsSolution
from .xpdb_solution import XpdbSolution

SOLUTIONS: dict[str, Callable[[], Solution]] = {
    "pandas": PandasSolution,
    "duckdb": DuckDBSolution,
    "polars": PolarsSolution,
    "xpdb-cpu": lambda: XpdbSolution("cpu"),
    "xpdb-gpu": lambda: XpdbSolution("gpu"),
}


def make(name: str) -> Solution:
    """The solution called ``name`` (one of :data:`SOLUTIONS`)."""
    try:
        return SOLUTIONS[name]()
    except KeyError:
        msg = f"unknown solution {name!r}; choose from {sorted(SOLUTIONS)}"
        raise ValueError(msg) from None


__all__ = ["SOLUTIONS", "NotSupported", "Solution", "make"]
