"""GROUP BY ROLLUP / CUBE / GROUPING SETS and GROUPING(...) against DuckDB."""

from __future__ import annotations

import pyarrow as pa
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xpdb.errors import BindError, NotSupportedError
from xpdb.sql.grouping_sets import expand

from .conftest import Both

QUERIES = [
    # ROLLUP, with a NULL key value beside the rolled-up NULL (told apart by GROUPING)
    "SELECT cust, count(*) AS n, sum(amount) AS s, grouping(cust) AS g FROM orders GROUP BY ROLLUP(cust)",
    "SELECT cust, status, count(*) AS n, grouping(cust, status) AS g FROM orders "
    "GROUP BY ROLLUP(cust, status)",
    "SELECT status, cust, sum(qty) AS s, min(day) AS d, max(amount) AS m, avg(amount) AS a "
    "FROM orders GROUP BY ROLLUP(status, cust)",
    "SELECT cust, status, count(*) AS n, grouping_id(cust, status) AS g, grouping(status) AS gs "
    "FROM orders GROUP BY ROLLUP(cust, status)",
    # CUBE
    "SELECT cust, status, count(*) AS n, grouping(cust, status) AS g FROM orders GROUP BY CUBE(cust, status)",
    "SELECT cust, qty, status, count(*) AS n, grouping(status, qty, cust) AS g FROM orders "
    "GROUP BY CUBE(cust, qty, status)",
    # GROUPING SETS
    "SELECT cust, status, count(*) AS n FROM orders GROUP BY GROUPING SETS ((cust, status), (cust), ())",
    "SELECT cust, status, sum(qty) AS s FROM orders GROUP BY GROUPING SETS (cust, status)",
    "SELECT cust, status, count(*) AS n, grouping(cust, status) AS g FROM orders "
    "GROUP BY GROUPING SETS ((), (status), ROLLUP(cust, status), CUBE(status))",
    # plain keys crossed with sets, several set items crossed
    "SELECT cust, status, qty, count(*) AS n, grouping(cust, status, qty) AS g FROM orders "
    "GROUP BY cust, ROLLUP(status, qty)",
    "SELECT cust, status, qty, count(*) AS n, grouping(cust, status, qty) AS g FROM orders "
    "GROUP BY ROLLUP(cust), CUBE(status, qty)",
    "SELECT cust, status, count(*) AS n FROM orders GROUP BY GROUPING SETS ((cust), (status)), ROLLUP(cust)",
    "SELECT cust, status, count(*) AS n FROM orders GROUP BY ROLLUP((cust, status))",
    "SELECT cust, status, qty, count(*) AS n FROM orders GROUP BY ROLLUP(cust, (status, qty))",
    # duplicate sets give duplicate blocks
    "SELECT cust, count(*) AS n FROM orders GROUP BY GROUPING SETS ((cust), (cust), ())",
    "SELECT cust, count(*) AS n, grouping(cust) AS g FROM orders GROUP BY ROLLUP(cust), ROLLUP(cust)",
    "SELECT count(*) AS n FROM orders GROUP BY GROUPING SETS ((), ())",
    # expressions, positions and aliases as keys
    "SELECT cust % 20 AS k, count(*) AS n, grouping(cust % 20) AS g FROM orders GROUP BY ROLLUP(cust % 20)",
    "SELECT cust, status, count(*) AS n FROM orders GROUP BY ROLLUP(1, 2)",
    "SELECT year(day) AS y, status, count(*) AS n, grouping(y) AS g FROM orders GROUP BY CUBE(y, status)",
    "SELECT upper(status) AS u, sum(qty) + 1 AS s, grouping(status) AS g FROM orders GROUP BY ROLLUP(status)",
    # HAVING and ORDER BY over the result, ORDER BY GROUPING(...)
    "SELECT cust, status, count(*) AS n FROM orders GROUP BY CUBE(cust, status) HAVING grouping(cust) = 1",
    "SELECT cust, sum(qty) AS s FROM orders GROUP BY ROLLUP(cust) HAVING sum(qty) > 5 ORDER BY s DESC, cust",
    "SELECT cust, count(*) AS n FROM orders GROUP BY ROLLUP(cust) ORDER BY grouping(cust), cust NULLS FIRST",
    "SELECT cust, status, count(*) AS n FROM orders GROUP BY ROLLUP(cust, status) "
    "ORDER BY grouping(cust, status) DESC, cust, status",
    "SELECT cust, count(*) AS n FROM orders GROUP BY ROLLUP(cust) ORDER BY n DESC, cust LIMIT 3",
    # FILTER and DISTINCT aggregates per set
    "SELECT cust, count(DISTINCT status) AS d, count(*) FILTER (WHERE qty > 2) AS f, "
    "sum(amount) FILTER (WHERE status = 'new') AS sn FROM orders GROUP BY ROLLUP(cust)",
    "SELECT status, count(DISTINCT cust) AS d FROM orders GROUP BY CUBE(status)",
    # GROUPING with a plain GROUP BY is 0
    "SELECT cust, grouping(cust) AS g, count(*) AS n FROM orders GROUP BY cust",
    # joins and subqueries under the aggregate
    "SELECT c.city, o.status, count(*) AS n, grouping(c.city, o.status) AS g FROM orders o "
    "JOIN customers c ON o.cust = c.cust GROUP BY ROLLUP(c.city, o.status)",
    "SELECT k, count(*) AS n FROM (SELECT cust AS k FROM orders) s GROUP BY ROLLUP(k)",
    "SELECT s.cust, s.g FROM (SELECT cust, grouping(cust) AS g FROM orders GROUP BY ROLLUP(cust)) s "
    "WHERE s.g = 1",
]


@pytest.mark.parametrize("q", QUERIES)
def test_query_matches_duckdb(both: Both, q: str) -> None:
    both.check(q)


def test_unnamed_columns_match_duckdb(both: Both) -> None:
    # DuckDB names the column GROUPING(cust); the planner's default names are lowercase
    both.check("SELECT cust, grouping(cust), count(*) FROM orders GROUP BY ROLLUP(cust)",
               names=False)


def test_empty_input(both: Both) -> None:
    both.register("empty", pa.table({"a": pa.array([], pa.int64()), "s": pa.array([], pa.string()),
                                     "x": pa.array([], pa.float64())}))
    both.check("SELECT a, s, count(*) AS n, sum(x) AS t, grouping(a, s) AS g FROM empty "
               "GROUP BY ROLLUP(a, s)")
    both.check("SELECT a, s, count(*) AS n FROM empty GROUP BY CUBE(a, s)")
    both.check("SELECT count(*) AS n FROM empty GROUP BY GROUPING SETS ((), (a), ())")
    both.check("SELECT a, count(*) AS n FROM empty GROUP BY GROUPING SETS ((a), (s))")


def test_grouping_type_is_bigint(device: str) -> None:
    both = Both(device)
    got = both.db.sql("SELECT grouping(cust, status) AS g FROM orders GROUP BY CUBE(cust, status)")
    assert got.to_arrow().schema.field("g").type == pa.int64()


def test_rolled_up_string_keys_keep_type(device: str) -> None:
    both = Both(device)
    got = both.db.sql("SELECT status, count(*) AS n FROM orders GROUP BY ROLLUP(status)").to_arrow()
    assert pa.types.is_string(got.schema.field("status").type) or \
        pa.types.is_large_string(got.schema.field("status").type)


def test_grouping_of_a_non_key_is_an_error(device: str) -> None:
    both = Both(device)
    with pytest.raises(BindError, match="not a GROUP BY key"):
        both.db.sql("SELECT status, grouping(cust) FROM orders GROUP BY ROLLUP(status)")


def test_grouping_without_group_by_is_an_error(device: str) -> None:
    both = Both(device)
    with pytest.raises(BindError, match="without GROUP BY"):
        both.db.sql("SELECT grouping(cust) FROM orders")


def test_non_key_column_is_an_error(device: str) -> None:
    both = Both(device)
    with pytest.raises(BindError, match="GROUP BY"):
        both.db.sql("SELECT cust, qty FROM orders GROUP BY ROLLUP(cust)")


def _sets(sql: str) -> tuple[list[str], list[list[int]] | None]:
    group = sqlglot.parse_one(sql, dialect="duckdb").args["group"]
    keys, sets = expand(list(group.expressions), lambda e: e, [])
    return [k.sql() for k in keys], sets


def test_expand_shapes() -> None:
    assert _sets("SELECT 1 FROM t GROUP BY a, b") == (["a", "b"], None)
    assert _sets("SELECT 1 FROM t GROUP BY ROLLUP(a, b)") == (["a", "b"], [[0, 1], [0], []])
    assert _sets("SELECT 1 FROM t GROUP BY CUBE(a, b)") == (["a", "b"], [[0, 1], [0], [1], []])
    assert _sets("SELECT 1 FROM t GROUP BY GROUPING SETS ((a, b), (a), ())") == (
        ["a", "b"], [[0, 1], [0], []])
    assert _sets("SELECT 1 FROM t GROUP BY a, ROLLUP(b, c)") == (
        ["a", "b", "c"], [[0, 1, 2], [0, 1], [0]])
    assert _sets("SELECT 1 FROM t GROUP BY ROLLUP(a), ROLLUP(a)") == (["a"], [[0], [0], [0], []])
    assert _sets("SELECT 1 FROM t GROUP BY ROLLUP((a, b), c)") == (
        ["a", "b", "c"], [[0, 1, 2], [0, 1], []])


def test_expand_limits() -> None:
    cols = ", ".join(f"c{i}" for i in range(13))
    with pytest.raises(NotSupportedError, match="CUBE"):
        _sets(f"SELECT 1 FROM t GROUP BY CUBE({cols})")
    with pytest.raises(NotSupportedError, match="grouping sets"):
        _sets("SELECT 1 FROM t GROUP BY CUBE(a, b, c, d, e, f, g), CUBE(h, i, j, k, l, m)")


INT64 = st.one_of(st.none(), st.integers(-3, 3), st.sampled_from([2**63 - 1, -(2**63)]))
SMALL = st.one_of(st.none(), st.integers(-100, 100))
FLOAT = st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False))
TEXT = st.one_of(st.none(), st.sampled_from(["", "a", "b", "ä", "日本", "Z"]))
ROWS = st.lists(st.tuples(INT64, SMALL, FLOAT, TEXT), min_size=0, max_size=12)

PROPERTY_QUERIES = [
    "SELECT k, s, count(*) AS n, min(v) AS mn, max(k) AS mx, avg(f) AS af, grouping(k, s) AS g "
    "FROM a GROUP BY ROLLUP(k, s)",
    "SELECT k, s, count(v) AS n, count(DISTINCT v) AS d, min(s) AS ms, grouping(s, k) AS g "
    "FROM a GROUP BY CUBE(k, s)",
    "SELECT v, s, sum(v) FILTER (WHERE f > 0) AS sv, grouping(v) AS g FROM a "
    "GROUP BY GROUPING SETS ((v, s), (s), (), (v)) HAVING count(*) > 0",
]


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ROWS)
def test_random_tables_match_duckdb(device: str, rows: list[tuple]) -> None:
    cols = list(zip(*rows, strict=True)) if rows else [[], [], [], []]
    table = pa.table({
        "k": pa.array(cols[0], pa.int64()), "v": pa.array(cols[1], pa.int64()),
        "f": pa.array(cols[2], pa.float64()), "s": pa.array(cols[3], pa.string()),
    })
    both = Both(device, {"a": table})
    for q in PROPERTY_QUERIES:
        both.check(q)
