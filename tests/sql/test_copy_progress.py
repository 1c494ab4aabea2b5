"""COPY's statistics (rows, files, bytes, rows per second, rejected rows) and the progress
bar of xpdb.progress on a terminal."""

from __future__ import annotations

import io
import pathlib
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot

import xpdb
from xpdb import progress
from xpdb.sql.copy import CopyStats, run_copy, run_copy_stats


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _tree(sql: str) -> sqlglot.exp.Expression:
    return sqlglot.parse_one(sql, dialect="duckdb")


def _files(tmp_path: pathlib.Path, n: int, rows: int) -> list[pathlib.Path]:
    (tmp_path / "d").mkdir()
    out = []
    for i in range(n):
        p = tmp_path / "d" / f"f{i}.csv"
        p.write_text("a,b\n" + "".join(f"{j},s{j}\n" for j in range(rows)), encoding="utf8")
        out.append(p)
    return out


def test_run_copy_stats(device: str, tmp_path: pathlib.Path) -> None:
    files = _files(tmp_path, 3, 50)
    (tmp_path / "d" / "f1.csv").write_text("a,b\n1,x\nbad,y\n2,z\n", encoding="utf8")
    db = xpdb.connect(device=device)
    db.sql("CREATE TABLE t (a INTEGER, b VARCHAR)")
    changes, count, stats = run_copy_stats(
        db, _tree(f"COPY t FROM '{tmp_path}/d/*.csv' (ON_ERROR 'skip')"))
    assert isinstance(stats, CopyStats)
    assert count == stats.rows == 102 and stats.files == 3 and stats.rejected == 1
    assert stats.bytes == sum(f.stat().st_size for f in files)
    assert stats.seconds > 0 and stats.rows_per_second == pytest.approx(102 / stats.seconds)
    assert stats.rejects_table == "t_rejects" and sorted(changes) == ["t", "t_rejects"]
    d = stats.as_dict()
    assert d["rows"] == 102 and d["rejected"] == 1 and d["rows_per_second"] > 0
    text = stats.message()
    assert "102 rows from 3 files" in text and "rows/s" in text
    assert "1 rejected rows in t_rejects" in text
    # nothing was applied by run_copy_stats; run_copy keeps its (changes, count) shape
    assert db.sql("SELECT count(*) FROM t").fetchall() == [(0,)]
    changes2, count2 = run_copy(db, _tree(f"COPY t FROM '{files[0]}'"))
    assert count2 == 50 and list(changes2) == ["t"]


def test_copy_to_stats(device: str, tmp_path: pathlib.Path) -> None:
    db = xpdb.connect(device=device)
    db.register("src", pa.table({"a": list(range(10))}))
    out = tmp_path / "o.parquet"
    _, count, stats = run_copy_stats(db, _tree(f"COPY src TO '{out}'"))
    assert count == stats.rows == pq.read_table(out).num_rows == 10
    assert stats.direction == "to" and stats.bytes == out.stat().st_size
    assert "10 rows to 1 file" in stats.message() and "rejected" not in stats.message()


def test_progress_bar_on_a_terminal(device: str, tmp_path: pathlib.Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    files = _files(tmp_path, 4, 2000)
    total = sum(f.stat().st_size for f in files)
    term = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", term)
    monkeypatch.setattr(progress, "MIN_BYTES", 0)  # draw at once, whatever the size
    monkeypatch.delenv("XPDB_PROGRESS", raising=False)
    db = xpdb.connect(device=device)
    db.sql("CREATE TABLE t (a INTEGER, b VARCHAR)")
    assert db.sql(f"COPY t FROM '{tmp_path}/d/*.csv'").rowcount == 8000
    text = term.getvalue()
    last = text.rstrip("\n").split("\r")[-1]
    assert last.startswith("COPY t [" + "#" * 28 + "]") and "100.0%" in last, text
    assert "file 4/4" in last and f"{total / 1024:.1f} KB" in last
    assert text.endswith("\n")


@pytest.mark.parametrize("case", ["env", "not_a_tty"])
def test_progress_bar_disabled(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch,
                               case: str) -> None:
    files = _files(tmp_path, 2, 100)
    stream: io.StringIO = FakeTerminal() if case == "env" else io.StringIO()
    if case == "env":
        monkeypatch.setenv("XPDB_PROGRESS", "0")
    monkeypatch.setattr(sys, "stderr", stream)
    monkeypatch.setattr(progress, "MIN_BYTES", 0)
    assert not progress.enabled()
    db = xpdb.connect(device="cpu")
    db.sql("CREATE TABLE t (a INTEGER, b VARCHAR)")
    db.sql(f"COPY t FROM '{files[0]}', '{files[1]}'")
    assert stream.getvalue() == ""


def test_progress_waits_for_long_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    term = FakeTerminal()
    monkeypatch.delenv("XPDB_PROGRESS", raising=False)
    # a small, quick load draws nothing
    with progress.Progress(100, 1, "COPY t", stream=term, interval=0.01) as bar, bar.file(100):
        pass
    assert term.getvalue() == "" and not bar.drawn
    # a slow one does, once MIN_SECONDS have passed, with the position inside the file
    monkeypatch.setattr(progress, "MIN_SECONDS", 0.0)
    monkeypatch.setattr(progress, "_bytes_read", lambda: 40)
    with progress.Progress(100, 2, "COPY t", stream=term, interval=0.01) as bar:
        with bar.file(60):
            monkeypatch.setattr(progress, "_bytes_read", lambda: 70)
            assert bar.position() == 30
            bar._stop.wait(0.1)
        assert bar.position() == 60
    draws = term.getvalue().split("\r")
    assert bar.drawn and "30.0%" in "".join(draws[:-1])  # drawn while inside the file
    assert "60.0%" in draws[-1] and "file 1/2" in draws[-1] and draws[-1].endswith("\n")
