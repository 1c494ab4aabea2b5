"""db-benchmark smoke test: the generators follow db-benchmark's rules, and every solution
available here answers the questions on tiny data with the same shapes and checksums.

A correctness test: it never looks at timings.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from dbbench import datagen
from dbbench.questions import GROUPBY, JOIN, floor_ms
from dbbench.run import compare, parse_args, run_benchmark, time_question
from dbbench.solutions import Solution, make

PEERS = ["pandas", "duckdb", "polars"]


def _values(table: pa.Table, name: str) -> np.ndarray:
    col = table.column(name)
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    return np.asarray(col.to_pylist(), dtype=object)


# -- generators -----------------------------------------------------------------------------
def test_names():
    assert datagen.groupby_name(10**7, 100, 0, 0) == "G1_1e7_1e2_0_0"
    assert datagen.groupby_name(10**8, 10, 5, 1) == "G1_1e8_1e1_5_1"
    assert datagen.join_names(10**7) == {
        "x": "J1_1e7_NA_0_0", "small": "J1_1e7_1e1_0_0", "medium": "J1_1e7_1e4_0_0",
        "big": "J1_1e7_1e7_0_0"}


def test_groupby_table_laws():
    n, k = 20_000, 10
    t = datagen.groupby_table(n, k)
    assert t.column_names == ["id1", "id2", "id3", "id4", "id5", "id6", "v1", "v2", "v3"]
    assert t.num_rows == n
    assert set(_values(t, "id1")) <= {f"id{i:03d}" for i in range(1, k + 1)}
    assert len(set(_values(t, "id1"))) == k
    assert all(len(s) == 12 and s.startswith("id") for s in set(_values(t, "id3")))
    ints = {c: t.column(c).to_numpy() for c in ("id4", "id5", "id6", "v1", "v2")}
    assert ints["id4"].min() == 1 and ints["id4"].max() == k
    assert ints["id6"].min() >= 1 and ints["id6"].max() <= n // k
    assert set(np.unique(ints["v1"])) == set(range(1, 6))
    assert set(np.unique(ints["v2"])) == set(range(1, 16))
    v3 = t.column("v3").to_numpy()
    assert v3.min() >= 0 and v3.max() < 100
    np.testing.assert_array_equal(v3, np.round(v3, 6))
    assert t.column("v3").null_count == 0
    # the same seed gives the same table
    assert datagen.groupby_table(n, k).equals(t)


def test_groupby_table_nas_and_sort():
    n = 10_000
    t = datagen.groupby_table(n, 10, nas=5, sort=1)
    for name in t.column_names:
        assert t.column(name).null_count == n * 5 // 100, name
    # sorted by id1..id6 with NAs first: compare with pandas' own sort
    df = t.to_pandas()
    keys = [f"id{i}" for i in range(1, 7)]
    expected = df.sort_values(keys, na_position="first", kind="stable")
    assert expected.index.tolist() == list(range(n))


def test_groupby_dictionary_order_beyond_999():
    # "id1000" sorts before "id101": codes must follow string order all the same
    t = datagen.groupby_table(5_000, 1_200)
    d = t.column("id1").chunk(0).dictionary
    assert d.equals(d.take(pc.array_sort_indices(d)))
    assert set(_values(t, "id1")) <= {f"id{i:03d}" for i in range(1, 1_201)}


def test_join_tables_key_rules():
    n = 20_000
    ts = datagen.join_tables(n)
    x, small, medium, big = ts["x"], ts["small"], ts["medium"], ts["big"]
    assert x.column_names == ["id1", "id2", "id3", "id4", "id5", "id6", "v1"]
    assert small.column_names == ["id1", "id4", "v2"]
    assert medium.column_names == ["id1", "id2", "id4", "id5", "v2"]
    assert big.column_names == ["id1", "id2", "id3", "id4", "id5", "id6", "v2"]
    sizes = datagen.join_sizes(n)
    assert (small.num_rows, medium.num_rows, big.num_rows) == (10, 20, n)
    # keys unique on the side db-benchmark asserts it, every key set fully used
    assert len(np.unique(x.column("id3").to_numpy())) == n
    assert len(np.unique(x.column("id1").to_numpy())) == sizes["small"]
    assert len(np.unique(x.column("id2").to_numpy())) == sizes["medium"]
    assert len(np.unique(small.column("id1").to_numpy())) == sizes["small"]
    assert len(np.unique(medium.column("id2").to_numpy())) == sizes["medium"]
    assert len(np.unique(big.column("id3").to_numpy())) == n
    # 90% of each side's keys are common, 10% one-sided
    common = np.intersect1d(x.column("id3").to_numpy(), big.column("id3").to_numpy())
    assert len(common) == n - n // 10
    common = np.intersect1d(x.column("id1").to_numpy(), small.column("id1").to_numpy())
    assert len(common) == 9
    # id4..id6 are sprintf("id%.0f", id1..id3)
    for tb, pairs in ((x, (("id1", "id4"), ("id3", "id6"))), (medium, (("id2", "id5"),))):
        for a, s in pairs:
            ints = tb.column(a).to_numpy()[:50]
            assert list(_values(tb, s)[:50]) == [f"id{v}" for v in ints]
    v1 = x.column("v1").to_numpy()
    np.testing.assert_array_equal(v1, np.round(v1, 6))


def test_join_tables_nas_and_sort():
    n = 20_000
    ts = datagen.join_tables(n, nas=5, sort=1)
    x = ts["x"]
    # nas% of the distinct id values of x become NA (all their rows); of id1's 10 none
    assert x.column("id1").null_count == 0
    id3 = x.column("id3")
    assert id3.null_count == n * 5 // 100
    assert x.column("v1").null_count == n * 5 // 100
    na_rows = id3.is_null().to_numpy(zero_copy_only=False)
    assert set(_values(x, "id6")[na_rows]) == {"idNA"}
    for side, key in (("small", "id1"), ("medium", "id2"), ("big", "id3")):
        keys = ts[side].column(key).to_numpy()
        assert ts[side].column(key).null_count == 0
        assert np.all(np.diff(keys) >= 0)


def test_floor_ms():
    t = datagen.groupby_table(1_000, 10)
    q1 = GROUPBY[0]
    assert math.isclose(floor_ms(q1, {"x": t}), 1_000 * (4 + 4) / 3.0e12 * 1e3)


# -- runner pieces ------------------------------------------------------------------------
class _Fake(Solution):
    name = "fake"

    def __init__(self) -> None:
        self.calls = 0

    def run(self, q):
        self.calls += 1
        return [1.0, 2.0]

    def shape(self, ans):
        return (len(ans), 1)

    def column_sum(self, ans, name):
        return sum(ans)


def test_time_question_repeats_and_max_seconds():
    q = GROUPBY[0]
    fake = _Fake()
    rec = time_question(fake, q, repeats=3, max_seconds=math.inf)
    assert fake.calls == 4 and len(rec["times_s"]) == 3
    assert rec["out_rows"] == 2 and rec["chk"] == [3.0]
    fake = _Fake()
    rec = time_question(fake, q, repeats=3, max_seconds=0.0)  # every run is "too slow"
    assert fake.calls == 1 and rec["warmup_only"]


def test_compare_flags_mismatch():
    base = {"task": "groupby", "qid": "q1", "status": "ok", "out_rows": 2, "out_cols": 2}
    recs = [{**base, "solution": "duckdb", "chk": [1.0]},
            {**base, "solution": "pandas", "chk": [1.0 + 1e-9]},
            {**base, "solution": "polars", "chk": [1.1]},
            {**base, "solution": "xpdb-cpu", "chk": [1.0], "out_rows": 3}]
    compare(recs, rtol=1e-6)
    assert [r["match"] for r in recs] == [True, True, False, False]
    assert "shape" in recs[3]["mismatch"]


# -- every solution on tiny data ----------------------------------------------------------
@pytest.mark.parametrize(("nas", "sort"), [(0, 0), (5, 1)])
def test_solutions_agree(device, tmp_path, nas, sort):
    names = [s for s in PEERS if make(s).available() is None] + [f"xpdb-{device}"]
    args = parse_args(["--rows", "2e4", "--k", "10", "--nas", str(nas), "--sort", str(sort),
                       "--solutions", ",".join(names), "--repeats", "0",
                       "--no-gc", "--out", str(tmp_path)])
    result = run_benchmark(args, log=lambda s: None)
    assert (tmp_path / "results.json").exists() and (tmp_path / "results.md").exists()
    recs = result["results"]
    assert len(recs) == len(names) * (len(GROUPBY) + len(JOIN))
    bad = [f"{r['task']} {r['qid']} {r['solution']}: {r.get('reason') or r.get('mismatch')}"
           for r in recs if r["status"] == "error" or r.get("match") is False]
    assert not bad, "\n".join(bad)
    # the peers answer everything; xpdb may report "not supported", never a wrong answer
    for r in recs:
        if r["solution"] in PEERS:
            assert r["status"] == "ok", r
        assert r["status"] in ("ok", "not supported"), r
        if r["status"] == "ok":
            assert r["match"] is True, r
