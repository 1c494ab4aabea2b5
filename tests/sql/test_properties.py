"""Property tests: random tables (nulls, extreme integers, unicode, empty) against DuckDB."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import Both

INT64 = st.one_of(st.none(), st.integers(-5, 5), st.sampled_from([2**63 - 1, -(2**63)]))
SMALL = st.one_of(st.none(), st.integers(-100, 100))
FLOAT = st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False))
TEXT = st.one_of(st.none(), st.sampled_from(["", "a", "b", "ä", "日本", "a b", "Z"]))

ROWS = st.lists(st.tuples(INT64, SMALL, FLOAT, TEXT), min_size=0, max_size=12)


def _table(rows: list[tuple]) -> pa.Table:
    cols = list(zip(*rows, strict=True)) if rows else [[], [], [], []]
    return pa.table({
        "k": pa.array(cols[0], pa.int64()), "v": pa.array(cols[1], pa.int64()),
        "f": pa.array(cols[2], pa.float64()), "s": pa.array(cols[3], pa.string()),
    })


QUERIES = [
    "SELECT * FROM a WHERE v > 0 OR s LIKE 'a%'",
    "SELECT k, v FROM a ORDER BY k DESC, v NULLS FIRST",
    "SELECT s, count(*) AS n, sum(v) AS sv, min(k) AS mn, max(k) AS mx, avg(f) AS af FROM a GROUP BY s",
    "SELECT count(*) AS n, count(s) AS ns, min(s) AS ms, max(f) AS xf FROM a",
    "SELECT DISTINCT s, v FROM a",
    "SELECT a.k, b.v FROM a JOIN b ON a.k = b.k",
    "SELECT a.s, b.s AS s2 FROM a LEFT JOIN b ON a.s = b.s AND a.v < b.v",
    "SELECT k FROM a UNION SELECT k FROM b",
    "SELECT s FROM a EXCEPT SELECT s FROM b",
    "SELECT v, coalesce(s, 'none') AS c, CASE WHEN f > 0 THEN 'pos' ELSE 'other' END AS g FROM a",
]


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ROWS, ROWS)
def test_random_tables_match_duckdb(device: str, rows_a: list[tuple], rows_b: list[tuple]) -> None:
    both = Both(device, {"a": _table(rows_a), "b": _table(rows_b)})
    for q in QUERIES:
        both.check(q)
