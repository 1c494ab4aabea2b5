"""Differential helpers: the same SQL on xpdb and on DuckDB over the same data."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
import sqlglot

import xpdb
from xpdb.testing import assert_tables_equal


def sample_tables() -> dict[str, pa.Table]:
    """Small tables with nulls, unicode strings, dates and timestamps."""
    d = dt.date
    orders = pa.table({
        "id": pa.array([1, 2, 3, 4, 5, 6, 7, 8], pa.int64()),
        "cust": pa.array([10, 20, 10, None, 30, 20, 10, 40], pa.int64()),
        "amount": pa.array([5.5, 12.0, None, 7.25, 100.0, -3.5, 0.0, 42.0]),
        "qty": pa.array([1, 3, 2, 5, None, 4, 7, 2], pa.int32()),
        "status": pa.array(["new", "shipped", "new", None, "cancelled", "shipped", "ñew",
                            "日本"]),
        "day": pa.array([d(2024, 1, 5), d(2024, 2, 29), None, d(2023, 12, 31),
                         d(2024, 3, 1), d(2024, 1, 5), d(2022, 7, 14), d(2024, 2, 1)]),
    })
    customers = pa.table({
        "cust": pa.array([10, 20, 30, 50, None], pa.int64()),
        "name": pa.array(["Ann", "Bob", "Çelik", "Dee", "Eve"]),
        "city": pa.array(["Paris", "Oslo", None, "Paris", "Rome"]),
    })
    return {"orders": orders, "customers": customers}


class Both:
    """An xpdb database and a DuckDB connection holding the same tables."""

    def __init__(self, device: str, tables: dict[str, pa.Table] | None = None):
        self.db = xpdb.connect(device=device)
        self.duck = duckdb.connect()
        for name, tb in (tables or sample_tables()).items():
            self.register(name, tb)

    def register(self, name: str, tb: pa.Table) -> None:
        self.db.register(name, tb)
        self.duck.register(name, tb)

    def expected(self, sql: str) -> pa.Table:
        res = self.duck.sql(sql).arrow()
        return res.read_all() if hasattr(res, "read_all") else res

    def check(self, sql: str, *, names: bool = True, ordered: bool | None = None) -> None:
        """Assert xpdb and DuckDB agree on ``sql`` (row order only with ORDER BY)."""
        if ordered is None:
            ordered = sqlglot.parse_one(sql, dialect="duckdb").args.get("order") is not None
        got = self.db.sql(sql).to_arrow()
        want = self.expected(sql)
        assert_tables_equal(got, want, check_row_order=ordered, check_names=names)


@pytest.fixture
def both(device: str) -> Both:
    return Both(device)


_ = (pd, xpdb)
