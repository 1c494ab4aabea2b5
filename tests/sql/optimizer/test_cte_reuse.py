"""A CTE read twice is one plan node, computed once (with and without the optimizer)."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from xpdb.sql.executor import Executor

TWICE = ("WITH x AS (SELECT a, c FROM t WHERE a > 1) "
         "SELECT * FROM x AS p JOIN x AS q ON p.a = q.a WHERE p.c > 1")


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Counts the executions of each table's scan."""
    counts: Counter = Counter()
    original = Executor._scan

    def counting(self, node):  # type: ignore[no-untyped-def]
        counts[node.name] += 1
        return original(self, node)

    monkeypatch.setattr(Executor, "_scan", counting)
    return counts


@pytest.mark.parametrize("rules", [None, ()])
def test_cte_read_twice_scans_once(cat, scans: Counter, rules) -> None:
    cat.db.optimizer_rules = rules
    cat.check(TWICE)
    assert scans["t"] == 1


def test_cte_read_three_times_scans_once(cat, scans: Counter) -> None:
    sql = ("WITH x AS (SELECT a, d FROM u WHERE d > 10) "
           "SELECT * FROM x JOIN x AS y ON x.a = y.a JOIN x AS z ON z.d = y.d")
    cat.check(sql)
    assert scans["u"] == 1


def test_cte_in_union_branches_scans_once(cat, scans: Counter) -> None:
    sql = ("WITH x AS (SELECT a, d FROM u) "
           "SELECT * FROM x WHERE d > 10 UNION ALL SELECT * FROM x WHERE a < 2")
    cat.check(sql)
    assert scans["u"] == 1


def test_cte_read_once_is_inlined_and_pushed_into(cat, scans: Counter) -> None:
    cat.golden("WITH x AS (SELECT a, c FROM t) SELECT * FROM x WHERE c > 1", """
        Project *
          Alias x
            Project a, c
              Scan t filters=[c > 1]
    """)
    scans.clear()
    cat.db.sql("WITH x AS (SELECT a, c FROM t) SELECT * FROM x WHERE c > 1")
    assert scans["t"] == 1


def test_explain_analyze_shows_one_computation(cat) -> None:
    text = cat.db.explain(TWICE, analyze=True)
    lines = text.splitlines()
    shared = [ln for ln in lines if "[shared #" in ln]
    assert len(shared) == 1 and shared[0].lstrip().startswith("Project a, c")
    num = re.search(r"\[shared #(\d+)\]", shared[0]).group(1)
    assert sum(f"-> shared #{num} (computed once)" in ln for ln in lines) == 1
    # measured once: no "2 runs" on the shared node or below it
    assert not any(" runs" in ln for ln in lines)
    scan = next(ln for ln in lines if ln.lstrip().startswith("Scan t"))
    assert re.search(r"\| [\d.]+ ms \(self [\d.]+ ms\), 3 rows", scan)


def test_cte_with_subquery_reader(cat) -> None:
    # the CTE read by the main query and by a subquery: both see the same rows
    sql = ("WITH x AS (SELECT a, d FROM u) SELECT * FROM t "
           "WHERE a IN (SELECT a FROM x) AND a IN (SELECT a FROM x WHERE d > 10)")
    cat.differential(sql)
