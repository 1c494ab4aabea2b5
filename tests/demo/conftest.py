"""Shared helpers of the demo tests."""

from __future__ import annotations

import duckdb

from xpdb.demo import steps as demo_steps


def duck_after_etl(parquet: str) -> duckdb.DuckDBPyConnection:
    """DuckDB holding the demo's ``trips`` (COPY from ``parquet``) and ``clean`` tables."""
    con = duckdb.connect()
    con.execute(demo_steps.CREATE_TRIPS)
    con.execute(demo_steps.copy_statement(parquet))
    con.execute(demo_steps.CREATE_CLEAN)
    return con
