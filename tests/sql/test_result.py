"""Result objects: conversions, names, types, repr."""

from __future__ import annotations

import xpdb


def test_result_conversions(device: str) -> None:
    db = xpdb.connect(device=device)
    res = db.sql("SELECT 1 AS a, 'é' AS s, NULL AS n UNION ALL SELECT 2, NULL, NULL ORDER BY a")
    assert res.columns == ["a", "s", "n"]
    assert res.fetchall() == [(1, "é", None), (2, None, None)]
    assert res.fetchone() == (1, "é", None)
    assert res.to_pandas()["a"].tolist() == [1, 2]
    assert res.to_arrow().column_names == ["a", "s", "n"]
    assert str(res.types[1]) == "string"
    assert len(res) == 2
    text = repr(res)
    assert "a" in text and "é" in text and "2 rows" in text


def test_duplicate_names_kept(device: str) -> None:
    db = xpdb.connect(device=device)
    res = db.sql("SELECT 1 AS x, 2 AS x")
    assert res.to_arrow().column_names == ["x", "x"]
    assert res.table.names == ["x", "x_1"]


def test_statement_result(device: str) -> None:
    db = xpdb.connect(device=device)
    res = db.sql("CREATE TABLE t (a INTEGER)")
    assert res.rowcount == 0
