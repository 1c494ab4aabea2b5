"""DuckDB: the SQL of db-benchmark's groupby-duckdb.py / join-duckdb.py.

Tables are loaded into an in-memory database first (id1/id2, and id4/id5 of the join data,
as ENUM types like db-benchmark's script); every answer is materialized with
``CREATE TEMP TABLE ans AS ...``. v3 is DOUBLE here (db-benchmark declares FLOAT), so the
checksums compare with the other solutions' float64 sums.
"""

from __future__ import annotations

import os
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..questions import JOIN_SPEC, Question
from .base import Solution, right_renames

GROUPBY_SQL = {
    "q1": "SELECT id1, sum(v1) AS v1 FROM x GROUP BY id1",
    "q2": "SELECT id1, id2, sum(v1) AS v1 FROM x GROUP BY id1, id2",
    "q3": "SELECT id3, sum(v1) AS v1, avg(v3) AS v3 FROM x GROUP BY id3",
    "q4": "SELECT id4, avg(v1) AS v1, avg(v2) AS v2, avg(v3) AS v3 FROM x GROUP BY id4",
    "q5": "SELECT id6, sum(v1) AS v1, sum(v2) AS v2, sum(v3) AS v3 FROM x GROUP BY id6",
    "q6": "SELECT id4, id5, quantile_cont(v3, 0.5) AS median_v3, stddev(v3) AS sd_v3 "
          "FROM x GROUP BY id4, id5",
    "q7": "SELECT id3, max(v1) - min(v2) AS range_v1_v2 FROM x GROUP BY id3",
    "q8": "SELECT id6, unnest(max(v3, 2)) AS largest2_v3 FROM x WHERE v3 IS NOT NULL "
          "GROUP BY id6",
    "q9": "SELECT id2, id4, pow(corr(v1, v2), 2) AS r2 FROM x GROUP BY id2, id4",
    "q10": "SELECT id1, id2, id3, id4, id5, id6, sum(v3) AS v3, count(*) AS count FROM x "
           "GROUP BY id1, id2, id3, id4, id5, id6",
}

ENUMS = {"groupby": {"id1": ["x"], "id2": ["x"]},
         "join": {"id4": ["x", "small", "medium", "big"], "id5": ["x", "medium", "big"]}}


class DuckDBSolution(Solution):
    name = "duckdb"

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads or os.cpu_count() or 1
        self.con: Any = None
        self.columns: dict[str, list[str]] = {}

    def available(self) -> str | None:
        try:
            import duckdb  # noqa: F401
        except ImportError as e:
            return f"duckdb is not importable: {e}"
        return None

    def version(self) -> str:
        import duckdb

        return duckdb.__version__

    def load(self, task: str, tables: dict[str, pa.Table]) -> dict[str, float]:
        import duckdb

        con = duckdb.connect(":memory:")
        con.execute(f"PRAGMA threads={int(self.threads)}")
        con.execute("SET enable_progress_bar = false")
        for col, names in ENUMS[task].items():
            values = pc.unique(pa.chunked_array(
                [tables[n].column(col).combine_chunks().dictionary for n in names]))
            con.register("enum_values", pa.table({"v": values}))
            con.execute(f"CREATE TYPE {col}ENUM AS ENUM (SELECT v FROM enum_values)")
            con.unregister("enum_values")
        for name, table in tables.items():
            con.register("arrow_src", table)
            cols = ", ".join(f"{c}::{c}ENUM AS {c}" if c in ENUMS[task] else c
                             for c in table.column_names)
            con.execute(f"CREATE TABLE {name} AS SELECT {cols} FROM arrow_src")
            con.unregister("arrow_src")
            self.columns[name] = table.column_names
        self.con = con
        return {}

    def sql(self, q: Question) -> str:
        if q.task == "groupby":
            return GROUPBY_SQL[q.qid]
        table, key, how = JOIN_SPEC[q.qid]
        ren = right_renames(table, self.columns[table], key)
        right = ", ".join(f"{table}.{c} AS {new}" for c, new in ren.items())
        join = "JOIN" if how == "inner" else "LEFT JOIN"
        return f"SELECT x.*, {right}, v2 FROM x {join} {table} USING ({key})"

    def run(self, q: Question) -> Any:
        self.con.execute(f"CREATE TEMP TABLE ans AS {self.sql(q)}")
        return "ans"

    def shape(self, ans: Any) -> tuple[int, int]:
        rows = self.con.execute(f"SELECT count(*) FROM {ans}").fetchone()[0]
        cols = len(self.con.execute(f"SELECT * FROM {ans} LIMIT 0").description)
        return rows, cols

    def column_sum(self, ans: Any, name: str) -> float:
        typ = self.con.execute(f"SELECT typeof({name}) FROM {ans} LIMIT 1").fetchone()
        if typ and typ[0] in ("DOUBLE", "FLOAT"):
            sql = f"SELECT sum({name}) FILTER (WHERE NOT isnan({name})) FROM {ans}"
        else:
            sql = f"SELECT sum({name}) FROM {ans}"
        value = self.con.execute(sql).fetchone()[0]
        return 0.0 if value is None else float(value)

    def drop(self, ans: Any) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS {ans}")

    def free(self) -> None:
        if self.con is not None:
            self.con.close()
        self.con = None
