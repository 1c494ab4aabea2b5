"""EXPLAIN and EXPLAIN ANALYZE statements, and Database.explain."""

from __future__ import annotations

import re

import pytest

from xpdb.errors import NotSupportedError
from xpdb.sql import plan as p
from xpdb.sql.explain import label, render
from xpdb.sql.optimizer import Estimator

_MEASURED = re.compile(r"  \| [\d.]+ ms \(self [\d.]+ ms\), [\d,]+ rows")


def _value(both, sql: str) -> tuple[str, str]:
    res = both.db.sql(sql)
    assert res.columns == ["explain_key", "explain_value"]
    (key, text), = res.fetchall()
    return key, text


def test_explain_statement(both) -> None:
    key, text = _value(both, "EXPLAIN SELECT id FROM orders WHERE qty > 2")
    assert key == "logical_plan"
    assert text == both.db.explain("SELECT id FROM orders WHERE qty > 2")
    assert text == ("Project id  ~2 rows\n"
                    "  Scan orders columns=[id, qty] filters=[qty > 2]  ~2 rows")


def test_explain_lowercase_and_parenthesized(both) -> None:
    _, text = _value(both, "explain (SELECT id FROM orders)")
    assert text == "Project id  ~8 rows\n  Scan orders columns=[id]  ~8 rows"


@pytest.mark.parametrize("word", ["ANALYZE", "analyse"])
def test_explain_analyze_statement(both, word: str) -> None:
    key, text = _value(both, f"EXPLAIN {word} SELECT id FROM orders WHERE qty > 2")
    assert key == "analyzed_plan"
    lines = text.splitlines()
    assert lines[0].startswith("Project id  ~2 rows  | ")
    assert lines[1].startswith("  Scan orders columns=[id, qty] filters=[qty > 2]  ~2 rows  | ")
    assert all(_MEASURED.search(ln) for ln in lines[:2])
    assert lines[0].endswith(", 4 rows") and lines[1].endswith(", 4 rows")
    assert re.fullmatch(r"Total: [\d.]+ ms, 4 rows on \S+; moved to device \S+, to host \S+",
                        lines[2])


def test_explain_does_not_run_the_query(both, monkeypatch: pytest.MonkeyPatch) -> None:
    from xpdb.sql.executor import Executor

    def fail(self, node):  # type: ignore[no-untyped-def]
        raise AssertionError("EXPLAIN executed the plan")

    monkeypatch.setattr(Executor, "execute", fail)
    assert both.db.explain("SELECT count(*) FROM orders").startswith("Project count_star()")


def test_db_explain_analyze(both) -> None:
    text = both.db.explain("SELECT cust, count(*) AS n FROM orders GROUP BY cust", analyze=True)
    lines = text.splitlines()
    assert [ln.split("  ~")[0] for ln in lines[:-1]] == [
        "Project cust, n", "  Aggregate keys=[cust] aggs=[COUNT(*)]",
        "    Scan orders columns=[cust]"]
    # 10, 20, 30, 40 and null; on a GPU the line goes on with the bytes moved
    assert re.search(r"ms\), 5 rows(, to device \S+, to host \S+)?$", lines[1]), lines[1]
    assert lines[-1].startswith("Total: ")


def test_explain_set_operation_and_values(both) -> None:
    _, text = _value(both, "EXPLAIN SELECT cust FROM orders UNION ALL SELECT cust FROM customers")
    assert text == ("UNION ALL  ~13 rows\n"
                    "  Project cust  ~8 rows\n"
                    "    Scan orders columns=[cust]  ~8 rows\n"
                    "  Project cust  ~5 rows\n"
                    "    Scan customers columns=[cust]  ~5 rows")
    _, text = _value(both, "EXPLAIN VALUES (1, 'a'), (2, 'b')")
    assert text == "Values 2 rows  ~2 rows"


def test_explain_with_cte_marks_shared_node(both) -> None:
    sql = ("WITH x AS (SELECT cust FROM orders WHERE qty > 1) "
           "SELECT * FROM x JOIN x AS y ON x.cust = y.cust")
    assert both.db.explain(sql) == (
        "Project *  ~2 rows\n"
        "  InnerJoin ON x.cust = y.cust  ~2 rows\n"
        "    Alias x  ~2 rows\n"
        "      Project cust  ~2 rows  [shared #4]\n"
        "        Scan orders filters=[qty > 1]  ~2 rows\n"
        "    Alias y  ~2 rows\n"
        "      -> shared #4 (computed once)")


@pytest.mark.parametrize("sql", [
    "EXPLAIN INSERT INTO orders (id) VALUES (9)",
    "EXPLAIN ANALYZE INSERT INTO orders (id) VALUES (9)",
    "EXPLAIN CREATE TABLE z AS SELECT 1",
    "EXPLAIN DELETE FROM orders",
    "EXPLAIN DROP TABLE orders",
    "EXPLAIN",
    "EXPLAIN ANALYZE",
])
def test_explain_of_non_query_raises(both, sql: str) -> None:
    with pytest.raises(NotSupportedError, match="EXPLAIN takes one query"):
        both.db.sql(sql)
    # nothing ran
    assert both.db.sql("SELECT count(*) FROM orders").fetchall() == [(8,)]


@pytest.mark.parametrize("sql", ["INSERT INTO orders (id) VALUES (9)", "SELECT 1; SELECT 2",
                                 "DROP TABLE orders"])
def test_db_explain_of_non_query_raises(both, sql: str) -> None:
    with pytest.raises(NotSupportedError, match="explain\\(\\) takes one query"):
        both.db.explain(sql)
    assert both.db.sql("SELECT count(*) FROM orders").fetchall() == [(8,)]


def test_explain_respects_optimizer_rules(both) -> None:
    both.db.optimizer_rules = ()
    assert both.db.explain("SELECT id FROM orders WHERE qty > 2") == (
        "Project id  ~2 rows\n  Filter qty > 2  ~2 rows\n    Scan orders  ~8 rows")
    both.db.optimizer_rules = ("nope",)
    with pytest.raises(ValueError, match="unknown optimizer rule"):
        both.db.explain("SELECT id FROM orders")


def test_labels(device: str) -> None:
    from sqlglot import exp

    scan = p.Scan("orders", "o", ["id"], [exp.column("id").eq(1)])
    assert label(scan) == "Scan orders AS o columns=[id] filters=[id = 1]"
    assert label(p.Limit(scan, 5, 2)) == "Limit 5 OFFSET 2"
    assert label(p.Sort(scan, [(0, True, True), (1, False, False)])) == "Sort [0 DESC, 1]"
    assert label(p.Head(scan, 2)) == "Head (drops 2 sort keys)"
    assert label(p.Alias(scan, "d", ["x", "y"])) == "Alias d(x, y)"
    assert label(p.Join(scan, scan, "outer", None, ["id"])) == "FullJoin USING (id)"
    assert label(p.SetOp("except", scan, scan, True)) == "EXCEPT"
    assert label(p.Distinct(scan)) == "Distinct"
    long = exp.column("x").eq(exp.Literal.string("y" * 200))
    assert label(p.Filter(scan, long)).endswith("...")
    assert len(label(p.Filter(scan, long))) == len("Filter ") + 120


def test_render_not_run_nodes(both) -> None:
    ex = both.db._executor()
    scan = p.Scan("orders", "orders", ["id"])
    text = render(p.Limit(scan, 1), Estimator(ex), {})
    assert text == "Limit 1  ~1 rows  | not run\n  Scan orders columns=[id]  ~8 rows  | not run"
