"""``xpdb shell``: multi-line statements, dot-commands, the timer, errors, history."""

from __future__ import annotations

import datetime
import decimal
import io
import re
import sys

import duckdb
import pyarrow as pa
import pyarrow.csv as pcsv
import pytest

import xpdb
from xpdb.cli import main
from xpdb.cli_shell import Shell, create_statement

CREATE = ("CREATE TABLE trips AS SELECT * FROM (VALUES "
          "(1::INTEGER, 'card', 2.5::DOUBLE, DATE '2024-01-02'), "
          "(2, 'cash', NULL, DATE '2024-03-04'), (3, NULL, 7.25, NULL)) v(id, pay, fare, day);")


def _shell(device: str, script: str, interactive: bool = False,
           db=None) -> tuple[int, str, str, Shell]:
    out, err = io.StringIO(), io.StringIO()
    sh = Shell(db or xpdb.connect(device=device), io.StringIO(script), out, err,
               interactive=interactive)
    rc = sh.run()
    return rc, out.getvalue(), err.getvalue(), sh


def test_multiline_statements_and_modes(device):
    script = f"""{CREATE}
SELECT id,
       fare
FROM trips
  ORDER BY id;
.mode csv
SELECT pay, day FROM trips ORDER BY id; SELECT count(*) AS n
  FROM trips;
.mode json
SELECT id FROM trips WHERE fare IS NULL;
"""
    rc, out, err, _ = _shell(device, script)
    assert rc == 0 and err == "", err
    assert out.startswith("OK, 3 rows affected\n┌")
    box, rest = out.split("3 rows\n", 1)
    rows = [[c.strip() for c in ln[1:-1].split("│")] for ln in box.splitlines()
            if ln.startswith("│")]
    want = duckdb.sql(CREATE.replace("CREATE TABLE trips AS", "").rstrip(";")
                      + " ORDER BY id").fetchall()
    assert rows[2:] == [[str(r[0]), "NULL" if r[2] is None else str(r[2])] for r in want]
    csv_part, json_part = rest.rsplit('"n"\n3\n', 1)
    got = pcsv.read_csv(io.BytesIO(csv_part.encode()),
                        convert_options=pcsv.ConvertOptions(strings_can_be_null=True))
    assert got.column("pay").to_pylist() == [r[1] for r in want]
    assert got.column("day").to_pylist() == [r[3] for r in want]
    assert json_part == '{"id": 2}\n'


def test_tables_and_schema(device):
    rc, out, err, sh = _shell(device, f"{CREATE}\nCREATE VIEW cheap AS SELECT id FROM trips "
                                      "WHERE fare < 5;\n.tables\n")
    assert rc == 0 and err == ""
    assert out.splitlines()[2:] == ["cheap", "trips"]
    assert create_statement(sh.db, "cheap").startswith("CREATE VIEW cheap AS")
    rc, out, err, _ = _shell(device, f"{CREATE}\n.schema trip\n.schema\n")
    assert rc == 1 and "'trip' not found; did you mean 'trips'?" in err
    assert out.count("CREATE TABLE trips (") == 1


def test_schema_text_creates_the_same_types_in_duckdb(device):
    data = pa.table({
        "i": pa.array([1, None], pa.int32()), "f": pa.array([1.5, None], pa.float32()),
        "s": pa.array(["a", None]), "d": pa.array([datetime.date(2024, 1, 2), None]),
        "ts": pa.array([datetime.datetime(2024, 1, 2, 3), None], pa.timestamp("us")),
        "b": pa.array([True, None]),
        "m": pa.array([decimal.Decimal("1.25"), None], pa.decimal128(10, 2)),
        "odd name": pa.array([1, 2], pa.int64()),
    })
    db = xpdb.connect(device=device)
    db.register("t", data)
    rc, out, err, _ = _shell(device, ".schema t\n", db=db)
    assert rc == 0 and err == ""
    assert out.startswith("CREATE TABLE t (") and out.endswith(");\n")
    con = duckdb.connect()
    con.sql(out)
    con.register("data", data)
    con.sql("CREATE TABLE oracle AS SELECT * FROM data")
    assert con.sql("DESCRIBE t").fetchall() == con.sql("DESCRIBE oracle").fetchall()


def test_timer(device):
    script = ".timer on\nSELECT 1 AS a;\n.timer off\nSELECT 2 AS b;\n.timer maybe\n"
    rc, out, err, _ = _shell(device, script)
    times = re.findall(r"Run Time: (\d+\.\d+) ms", out)
    assert len(times) == 1 and float(times[0]) >= 0
    assert out.index("│      1 │") < out.index("Run Time") < out.index("│      2 │")
    assert rc == 1 and "usage: .timer on|off" in err


def test_an_error_prints_and_the_shell_goes_on(device):
    script = "SELECT nope FROM (SELECT 1 AS nop);\nSELEC 1;\n.frobnicate\n.mode xml\n" \
             "SELECT 42 AS answer;\n.quit\nSELECT 'not reached' AS x;\n"
    rc, out, err, sh = _shell(device, script)
    errors = err.splitlines()
    assert errors[0] == "Error: column 'nope' not found; did you mean 'nop'?"
    assert "syntax error" in errors[1] and "^" in err
    assert "unknown command '.frobnicate'" in err and "usage: .mode" in err
    assert "42" in out and "not reached" not in out
    assert rc == 1 and sh.errors == 4


def test_last_statement_without_semicolon_and_read(device, tmp_path):
    script = tmp_path / "s.sql"
    script.write_text(CREATE + "\nSELECT sum(id) AS total FROM trips;\n")
    rc, out, err, _ = _shell(device, "-- a comment only\n")
    assert (rc, out, err) == (0, "", "")
    rc, out, err, _ = _shell(device, f".mode csv\n.read {script}\nSELECT max(id) AS m\nFROM trips")
    assert rc == 0 and err == ""
    assert out.split() == ["OK,", "3", "rows", "affected", '"total"', "6", '"m"', "3"]


def test_help_and_interactive_prompts(device, tmp_path, monkeypatch):
    monkeypatch.setenv("XPDB_HISTORY", str(tmp_path / "hist"))
    rc, out, _, _ = _shell(device, ".help\nSELECT 1\n AS x;\n", interactive=True)
    assert rc == 0
    assert out.startswith(f"xpdb {xpdb.__version__} on ")
    assert ".schema [TABLE]" in out and "xpdb> " in out and "  ...> " in out


def test_history_file(device, tmp_path, monkeypatch):
    hist = tmp_path / "hist"
    hist.write_text("SELECT 'old';\n")
    monkeypatch.setenv("XPDB_HISTORY", str(hist))
    readline = pytest.importorskip("readline")
    before = readline.get_current_history_length()
    rc, _, _, _ = _shell(device, "SELECT 1\n  AS x;\nSELECT 1\n  AS x;\n.tables\n",
                         interactive=True)
    assert rc == 0
    assert hist.read_text().splitlines() == ["SELECT 'old';", "SELECT 1   AS x;", ".tables"]
    assert readline.get_current_history_length() == before  # the caller's history is back
    # piped (non-interactive) input is not recorded
    _shell(device, "SELECT 2;\n")
    assert "SELECT 2;" not in hist.read_text()


def test_shell_command(device, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("SELECT 5 AS five;\nSELECT * FROM nowhere;\n"))
    rc = main(["shell", "--device", device])
    cap = capsys.readouterr()
    assert rc == 1  # piped input with a failing statement
    assert "│      5 │" in cap.out and cap.err.startswith("Error: ") and "nowhere" in cap.err


def test_shell_on_a_persistent_database(device, tmp_path, monkeypatch, capsys):
    path = str(tmp_path / "db")
    try:
        xpdb.connect(path, device="cpu").close()
    except xpdb.errors.NotSupportedError as e:
        pytest.skip(f"persistent databases (connect(path)) are not available yet: {e}")
    monkeypatch.setattr(sys, "stdin", io.StringIO(CREATE + "\n"))
    assert main(["shell", "--db", path, "--device", device]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO(".tables\n.mode csv\nSELECT count(*) AS n "
                                                  "FROM trips;\n"))
    assert main(["shell", "--db", path, "--device", device]) == 0
    assert capsys.readouterr().out.split()[-3:] == ["trips", '"n"', "3"]


def test_results_match_xpdb_types(device):
    db = xpdb.connect(device=device)
    db.register("t", pa.table({"a": pa.array([1, 2], pa.int32())}))
    rc, out, _, _ = _shell(device, "SELECT a FROM t;\n", db=db)
    assert rc == 0 and "│ integer │" in out
