"""Fixtures of the optimizer tests: a small catalog, golden plan text, differential runs."""

from __future__ import annotations

import re
import textwrap
from typing import Any

import pyarrow as pa
import pytest

from ..conftest import Both, sample_tables


def catalog_tables() -> dict[str, pa.Table]:
    """Four small chained tables (t.a = u.a, u.d = v.d, v.e = w.e) with nulls, plus the
    shared sample tables (orders, customers)."""
    i64 = pa.int64()
    tables = sample_tables()
    tables["t"] = pa.table({"a": pa.array([1, 2, 3, None, 2], i64),
                            "b": pa.array(["x", "y", None, "z", "x"]),
                            "c": pa.array([1.0, 2.0, 3.0, 4.0, None])})
    tables["u"] = pa.table({"a": pa.array([1, 2, 5, None], i64),
                            "d": pa.array([10, 20, 30, 10], i64)})
    tables["v"] = pa.table({"d": pa.array([10, 20, 30, 40, 50, 60], i64),
                            "e": pa.array([1, 1, 2, 2, 3, None], i64)})
    tables["w"] = pa.table({"e": pa.array([1, 2, 3, 4], i64),
                            "f": pa.array(["p", "q", "r", None])})
    return tables


class Catalog(Both):
    """:class:`Both` over :func:`catalog_tables`, with plan and differential checks."""

    def __init__(self, device: str, tables: dict[str, pa.Table] | None = None):
        super().__init__(device, tables or catalog_tables())

    def plan(self, sql: str, rules: tuple[str, ...] | None = None, *,
             estimates: bool = False) -> str:
        """The EXPLAIN text of ``sql`` under ``rules`` (``~N rows`` dropped unless
        ``estimates``)."""
        self.db.optimizer_rules = rules
        try:
            text = self.db.explain(sql)
        finally:
            self.db.optimizer_rules = None
        return text if estimates else re.sub(r"  ~[\d,]+ rows", "", text)

    def node(self, sql: str, rules: tuple[str, ...] | None = None) -> Any:
        """The optimized logical plan (a :mod:`xpdb.sql.plan` node) of ``sql``."""
        from xpdb.sql.parser import parse

        ex = self.db._executor()
        ex.rules = rules
        return ex.plan(parse(sql)[0])

    def items(self, sql: str, rules: tuple[str, ...] | None = None) -> list[str]:
        """The top Project's items of the plan of ``sql`` as SQL text."""
        node = self.node(sql, rules)
        while not hasattr(node, "items"):
            node = node.child
        return [e.sql(dialect="duckdb") for _, e in node.items]

    def golden(self, sql: str, expected: str, rules: tuple[str, ...] | None = None, *,
               estimates: bool = False, run: bool = True) -> None:
        """Assert the plan of ``sql`` is ``expected`` and (with ``run``) that the query
        gives DuckDB's result under these rules, all rules and no rules."""
        got = self.plan(sql, rules, estimates=estimates)
        want = textwrap.dedent(expected).strip("\n")
        assert got == want, f"plan of {sql!r} under {rules}:\n{got}"
        if run:
            self.differential(sql, rules)

    def differential(self, sql: str, *extra: tuple[str, ...] | None) -> None:
        """``sql`` with all rules, no rules (and each ``extra`` rule set) equals DuckDB."""
        for rules in (None, (), *extra):
            self.db.optimizer_rules = rules
            try:
                self.check(sql)
            except AssertionError as e:
                raise AssertionError(f"rules={rules}: {e}") from e
            finally:
                self.db.optimizer_rules = None


@pytest.fixture
def cat(device: str) -> Catalog:
    return Catalog(device)
