"""string_agg / group_concat / listagg: SQL against DuckDB, the kernel against pandas."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import xpdb
from xpdb.errors import BindError, NotSupportedError
from xpdb.kernels import groupby as kg
from xpdb.table import Table

from .conftest import Both


@pytest.fixture
def both(device: str) -> Both:
    tb = pa.table({
        "k": pa.array([1, 1, 2, 2, 2, 3, None, 1], pa.int64()),
        "s": pa.array(["a", "b", None, "ñ", "a", None, "z", "b"]),
        "x": pa.array([1, 0, 2, 2, None, 5, 7, -3], pa.int64()),
        "f": pa.array([1.5, 0.25, None, -2.0, 3.0, 4.0, 0.5, 1.0]),
        "d": pa.array([dt.date(2024, 1, 5), None, dt.date(2023, 12, 31), dt.date(2024, 2, 29),
                       dt.date(2024, 1, 5), None, dt.date(2022, 7, 14), dt.date(2024, 3, 1)]),
        "o": pa.array([3, 1, 2, 0, 5, None, 4, 6], pa.int32()),
    })
    return Both(device, {"t": tb})


@pytest.mark.parametrize("sql", [
    "SELECT string_agg(s) FROM t",
    "SELECT group_concat(x) FROM t",
    "SELECT string_agg(s, ' | ') FROM t",
    "SELECT listagg(x, ';') FROM t",
    "SELECT string_agg(f, ',') FROM t",
    "SELECT string_agg(d, ',') FROM t",
    "SELECT k, string_agg(s, '-') AS j FROM t GROUP BY k ORDER BY k",
    "SELECT k, string_agg(s, ',' ORDER BY o) FROM t GROUP BY k ORDER BY k",
    "SELECT k, string_agg(x, ',' ORDER BY o DESC) FROM t GROUP BY k ORDER BY k",
    "SELECT string_agg(s, ',' ORDER BY o NULLS FIRST) FROM t",
    "SELECT string_agg(x, ',' ORDER BY s DESC, o) FROM t",
    "SELECT string_agg(s, NULL) FROM t",
    "SELECT string_agg(s) FROM t WHERE k > 10",
    "SELECT k, string_agg(s) FROM t WHERE x > 0 GROUP BY k HAVING count(*) > 0 ORDER BY k",
    "SELECT string_agg(DISTINCT s ORDER BY s) FROM t",
    "SELECT group_concat(DISTINCT x, ':' ORDER BY x DESC) FROM t",
    "SELECT k, count(*), string_agg(s, ''), sum(x) FROM t GROUP BY k ORDER BY k NULLS LAST",
])
def test_matches_duckdb(both: Both, sql: str) -> None:
    both.check(sql, names=False)


def test_distinct_keeps_first_occurrences_in_row_order(both: Both) -> None:
    # DuckDB's DISTINCT order is its hash table's; xpdb keeps row order (SQLite's answer)
    got = both.db.sql("SELECT k, group_concat(DISTINCT s) FROM t GROUP BY k ORDER BY k")
    assert got.fetchall() == [(1, "a,b"), (2, "ñ,a"), (3, None), (None, "z")]
    want = both.duck.sql("SELECT k, group_concat(DISTINCT s) FROM t GROUP BY k ORDER BY k")
    for (gk, gs), (wk, ws) in zip(got.fetchall(), want.fetchall(), strict=True):
        assert gk == wk and (gs is None) == (ws is None)
        assert gs is None or sorted(gs.split(",")) == sorted(ws.split(","))


def test_errors(both: Both) -> None:
    with pytest.raises(BindError, match="separator .* must be a constant"):
        both.db.sql("SELECT string_agg(s, s) FROM t").fetchall()


def test_streamed_scan_refuses_clearly(tmp_path, device: str) -> None:
    """A scan streamed for memory cannot hold every value: a clear error, not a wrong
    answer; the same query on a budget that fits answers."""
    path = tmp_path / "db"
    with xpdb.connect(path, device=device) as db:
        db.register("src", pa.table({"i": pa.array(range(60_000), pa.int64())}))
        db.sql("CREATE TABLE t AS SELECT * FROM src")
    small = xpdb.connect(path, device=device, memory_limit=100_000)
    with pytest.raises(NotSupportedError, match="string_agg cannot be computed piece by piece"):
        small.sql("SELECT string_agg(i, ',') FROM t").fetchall()
    small.close()
    big = xpdb.connect(path, device=device, read_only=True)
    assert big.sql("SELECT string_agg(i, ',') FROM t WHERE i < 5").fetchall() == [("0,1,2,3,4",)]


@pytest.mark.parametrize("sep", [",", "", "::"])
def test_kernel_matches_pandas(device: str, sep: str) -> None:
    rng = np.random.default_rng(3)
    n = 500
    keys = rng.integers(0, 20, n)
    vals = rng.choice(["x", "yy", "ß", "", None], n).tolist()
    order = rng.permutation(n)
    tb = Table.from_arrow(pa.table({"k": keys, "v": pa.array(vals), "o": order}),
                          device=device)
    out = kg.groupby_agg(tb, ["k"], [kg.Agg("string_agg", "v", "plain", {"sep": sep}),
                                     kg.Agg("string_agg", "v", "by_o",
                                            {"sep": sep, "order": [("o", True, True)]})])
    got = out.to_pandas().set_index("k").sort_index()
    df = pd.DataFrame({"k": keys, "v": vals, "o": order})

    def join(s: pd.Series) -> str | None:
        s = s.dropna()
        return sep.join(s) if len(s) else None

    want_plain = df.groupby("k")["v"].agg(join)
    want_by_o = df.sort_values("o", ascending=False, kind="stable").groupby("k")["v"].agg(join)
    assert got["plain"].tolist() == want_plain.tolist()
    assert got["by_o"].tolist() == want_by_o.tolist()
