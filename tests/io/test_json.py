"""Tests of xpdb.io.json: JSON lines and arrays, dtypes, errors, the vectorized writer."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xpdb import types as T
from xpdb.device import get_device
from xpdb.errors import IOError as XIOError
from xpdb.io import read_json, read_json_table, write_json
from xpdb.table import Table
from xpdb.testing import assert_tables_equal


def _write(path, text: str) -> str:
    with open(path, "w", encoding="utf8") as f:
        f.write(text)
    return str(path)


def all_types() -> pa.Table:
    """One column of every xpdb type, with nulls, extremes and unicode."""
    i64 = np.iinfo(np.int64)
    return pa.table({
        "b": pa.array([True, None, False, True], pa.bool_()),
        "i8": pa.array([-128, 127, None, 0], pa.int8()),
        "i32": pa.array([-(2**31), 2**31 - 1, None, 2], pa.int32()),
        "i64": pa.array([int(i64.min), int(i64.max), None, 3], pa.int64()),
        "u16": pa.array([0, 65535, None, 4], pa.uint16()),
        "u64": pa.array([0, 2**64 - 1, None, 6], pa.uint64()),
        "f32": pa.array([1.5, float("nan"), None, float("-inf")], pa.float32()),
        "f64": pa.array([0.1, float("nan"), None, 1e300], pa.float64()),
        "s": pa.array(['héllo "wörld"', "", None, "tab\tnl\nback\\slash \x01 ✓ \u2028"]),
        "d": pa.array([dt.date(1970, 1, 1), dt.date(2024, 2, 29), None, dt.date(1900, 12, 31)]),
        "ts_s": pa.array([0, 1_700_000_000, None, -86_400], pa.timestamp("s")),
        "ts_ms": pa.array([0, 1_700_000_000_123, None, -1], pa.timestamp("ms")),
        "ts_ns": pa.array([0, 1_700_000_000_123_456_789, None, 7], pa.timestamp("ns")),
        "tz": pa.array([0, 1_700_000_000_000_000, None, 5], pa.timestamp("us", "Europe/Paris")),
        "utc": pa.array([0, 1_700_000_000_000, None, 5], pa.timestamp("ms", "UTC")),
        "dec": pa.array([decimal.Decimal("1.25"), decimal.Decimal("-99999999.99"), None,
                         decimal.Decimal("0.00")], pa.decimal128(10, 2)),
        "dur": pa.array([0, 1500, None, -3], pa.duration("ms")),
        "allnull": pa.nulls(4, pa.int64()),
    })


# -- reading ---------------------------------------------------------------------------------
def test_read_lines_matches_pandas(device, tmp_path):
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"i": rng.integers(-1000, 1000, 200), "f": rng.normal(size=200),
                       "s": rng.choice(["a", "ü", 'q"'], 200), "b": rng.choice([True, False], 200)})
    path = tmp_path / "x.jsonl"
    df.to_json(path, orient="records", lines=True)
    got = read_json_table(path, device=device)
    assert got.device is get_device(device)
    assert got.schema == {"i": T.int64, "f": T.float64, "s": T.string, "b": T.bool_}
    assert_tables_equal(got, pd.read_json(path, lines=True))


def test_missing_keys_blank_lines_and_mixed_numbers(device, tmp_path):
    path = _write(tmp_path / "x.jsonl", '{"a": 1, "b": "x"}\n\n{"a": 2.5}\n   \n{"b": null}\n')
    got = read_json_table(path, device=device)
    assert got.schema == {"a": T.float64, "b": T.string}
    assert got.to_pydict() == {"a": [1.0, 2.5, None], "b": ["x", None, None]}


def test_json_array(device, tmp_path):
    path = _write(tmp_path / "x.json", '[{"a": 1, "s": "x"},\n {"a": null, "s": "ÿ"}]')
    got = read_json_table(path, lines=False, device=device)
    assert got.to_pydict() == {"a": [1, None], "s": ["x", "ÿ"]}
    assert_tables_equal(got, pd.read_json(path))


def test_dtype_and_projection(device, tmp_path):
    path = _write(tmp_path / "x.jsonl",
                  '{"d": "2020-01-02", "p": "1.25", "q": 2.5, "t": "2020-01-02T03:04:05Z", '
                  '"n": 7, "m": 3, "s": 12, "x": 1}\n'
                  '{"d": null, "p": null, "q": null, "t": null, "n": null, "m": 19000, "s": "a"}\n')
    got = read_json_table(path, dtype={"d": "date", "p": "decimal(5,2)", "q": "decimal(4,1)",
                                       "t": T.timestamp("ms", "UTC"), "n": "int8",
                                       "m": "date", "s": "string"},
                          columns=["s", "d", "p", "q", "t", "n", "m"], device=device)
    assert got.names == ["s", "d", "p", "q", "t", "n", "m"]
    assert got.schema["t"] == T.timestamp("ms", "UTC") and got.schema["n"] == T.int8
    assert got.to_pydict() == {
        "s": ["12", "a"],  # numbers read into a string column become their JSON text
        "d": [dt.date(2020, 1, 2), None],
        "p": [decimal.Decimal("1.25"), None], "q": [decimal.Decimal("2.5"), None],
        "t": [dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC), None], "n": [7, None],
        "m": [dt.date(1970, 1, 4), dt.date(2022, 1, 8)],
    }


def test_multiple_files_keep_order(device, tmp_path):
    _write(tmp_path / "b.jsonl", '{"a": 3}\n')
    _write(tmp_path / "a.jsonl", '{"a": 1}\n{"a": 2}\n')
    assert read_json_table(str(tmp_path / "*.jsonl"), device=device).to_pydict() == \
        {"a": [1, 2, 3]}
    assert read_json_table([tmp_path / "b.jsonl", tmp_path / "a.jsonl"],
                           device=device).to_pydict() == {"a": [3, 1, 2]}


def test_small_blocks(device, tmp_path):
    lines = [json.dumps({"i": i, "s": f"v{i % 7}"}) for i in range(5000)]
    path = _write(tmp_path / "x.jsonl", "\n".join(lines) + "\n")
    got = read_json_table(path, block_size=1 << 12, device=device)
    assert got.to_pydict()["i"] == list(range(5000))


def test_public_read_json_returns_dataframe(device, tmp_path):
    from xpdb.frame import DataFrame

    df = read_json(_write(tmp_path / "x.jsonl", '{"a": 1}\n'), device=device)
    assert isinstance(df, DataFrame)
    assert_tables_equal(df._table, pa.table({"a": [1]}))


# -- errors ----------------------------------------------------------------------------------
def _raises(fn, *args, **kwargs) -> XIOError:
    with pytest.raises(XIOError) as info:
        fn(*args, **kwargs)
    return info.value


def test_malformed_line(tmp_path):
    path = _write(tmp_path / "bad.jsonl", '{"a": 1}\n\n{"a": 2\n{"a": 3}\n')
    err = _raises(read_json_table, path, device="cpu")
    assert err.line == 3 and f"{path}:3" in str(err) and "invalid JSON" in str(err)
    assert isinstance(err.__cause__, pa.ArrowException)
    path = _write(tmp_path / "arr.jsonl", '{"a": 1}\n[1, 2]\n')
    err = _raises(read_json_table, path, device="cpu")
    assert err.line == 2 and "expected a JSON object" in str(err)


def test_type_conflict_names_line_column_and_fix(tmp_path):
    lines = [json.dumps({"id": i, "v": i}) for i in range(3000)] + ['{"id": 1, "v": "12x"}']
    path = _write(tmp_path / "t.jsonl", "\n".join(lines) + "\n")
    err = _raises(read_json_table, path, block_size=1 << 12, device="cpu")
    assert err.line == 3001 and err.column == "v"
    assert "'12x'" in str(err) and "dtype={'v': 'string'}" in str(err)
    fixed = read_json_table(path, dtype={"v": "string"}, device="cpu")
    assert fixed.to_pydict()["v"][-2:] == ["2999", "12x"]
    err = _raises(read_json_table, path, dtype={"v": "int32"}, device="cpu")
    assert err.line == 3001 and "int32" in str(err) and "'12x'" in str(err)


def test_bad_value_for_a_cast_dtype(tmp_path):
    path = _write(tmp_path / "d.jsonl", '{"d": "2020-01-01"}\n\n{"d": "2020-13-01"}\n')
    err = _raises(read_json_table, path, dtype={"d": "date"}, device="cpu")
    assert err.line == 3 and err.column == "d" and "'2020-13-01'" in str(err)
    err = _raises(read_json_table, path, dtype={"d": "bool"}, device="cpu")
    assert err.column == "d"


def test_array_errors(tmp_path):
    err = _raises(read_json_table, _write(tmp_path / "a.json", '[{"a": 1},\n {"a": }]'),
                  lines=False, device="cpu")
    assert err.line == 2
    err = _raises(read_json_table, _write(tmp_path / "b.json", '{"a": 1}'), lines=False,
                  device="cpu")
    assert "lines=True" in str(err)
    err = _raises(read_json_table, _write(tmp_path / "c.json", "[]"), lines=False,
                  device="cpu")
    assert "empty" in str(err)
    err = _raises(read_json_table, _write(tmp_path / "e.json", '[{"a": 1}, {"a": "x"}]'),
                  lines=False, device="cpu")
    assert "record #2" in str(err) and err.column == "a"


def test_missing_empty_nested_unknown(tmp_path):
    _write(tmp_path / "events.jsonl", '{"a": 1}\n')
    err = _raises(read_json_table, tmp_path / "event.jsonl", device="cpu")
    assert "did you mean" in str(err) and "events.jsonl" in str(err)
    err = _raises(read_json_table, _write(tmp_path / "e.jsonl", ""), device="cpu")
    assert "empty" in str(err)
    err = _raises(read_json_table, _write(tmp_path / "w.jsonl", "\n  \n"), device="cpu")
    assert "no JSON objects" in str(err)
    err = _raises(read_json_table, _write(tmp_path / "n.jsonl", '{"o": {"x": 1}, "a": 1}\n'),
                  device="cpu")
    assert err.column == "o" and "columns=" in str(err)
    err = _raises(read_json_table, tmp_path / "events.jsonl", columns=["b"], device="cpu")
    assert err.column == "b"
    err = _raises(read_json_table, tmp_path / "events.jsonl", dtype={"aa": "int8"},
                  device="cpu")
    assert "did you mean 'a'" in str(err)


# -- writing ---------------------------------------------------------------------------------
def test_round_trip_every_type(device, tmp_path):
    source = Table.from_arrow(all_types(), device)
    path = tmp_path / "all.jsonl"
    write_json(source, path)
    got = read_json_table(path, dtype=source.schema, device=device)
    assert_tables_equal(got, source, check_types=True, rtol=0)
    # every line is JSON that Python reads to the same keys in column order
    first = json.loads(path.read_text(encoding="utf8").split("\n")[0])
    assert list(first) == source.names and first["s"] == 'héllo "wörld"'


def test_types_kept_without_dtype(device, tmp_path):
    source = pa.table({"i": [1, None], "f": [1.0, float("inf")], "b": [True, None],
                       "s": ["x", None], "t": pa.array([1, None], pa.timestamp("s"))})
    path = tmp_path / "x.jsonl"
    write_json(source, path)
    got = read_json_table(path, device=device)
    assert_tables_equal(got, source, check_types=True)


def test_empty_and_columnless_tables(tmp_path):
    path = tmp_path / "e.jsonl"
    write_json(pa.table({"a": pa.array([], pa.int64())}), path)
    assert path.read_bytes() == b""
    write_json(pa.table({"a": [1, 2]}).select([]), path)
    assert path.read_bytes() == b"{}\n{}\n"


def test_writer_inputs(device, tmp_path):
    table = Table.from_pydict({"a": [1, 2], "b": ["x", None]}, device)

    class Frame:  # what xpdb.frame.DataFrame exposes to the writers
        _table = table

    for i, data in enumerate([table, Frame(), table.to_pandas(), table.to_arrow()]):
        path = tmp_path / f"w{i}.jsonl"
        write_json(data, path)
        assert path.read_text() == '{"a":1,"b":"x"}\n{"a":2,"b":null}\n'


def test_failed_write_leaves_directory_unchanged(tmp_path, monkeypatch):
    import xpdb.io.json as xjson

    target = tmp_path / "out.jsonl"
    target.write_text("old\n")
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(XIOError, match="'nested'"):
        write_json(pa.table({"nested": [[1, 2]]}), target)
    assert sorted(os.listdir(tmp_path)) == before and target.read_text() == "old\n"
    real, calls = xjson._json_lines, []

    def fail_second_batch(table, keys, n):
        calls.append(1)
        if len(calls) > 1:
            raise OSError("No space left on device")
        return real(table, keys, n)

    monkeypatch.setattr(xjson, "_WRITE_BATCH", 2)
    monkeypatch.setattr(xjson, "_json_lines", fail_second_batch)
    with pytest.raises(XIOError, match="No space left"):
        write_json(pa.table({"a": [1, 2, 3, 4]}), target)
    assert len(calls) == 2  # the first batch was written before the failure
    assert sorted(os.listdir(tmp_path)) == before and target.read_text() == "old\n"


def test_batched_writer_matches_one_batch(tmp_path, monkeypatch):
    import xpdb.io.json as xjson

    table = pa.table({"i": list(range(10)), "s": [str(i) * i for i in range(10)]})
    write_json(table, tmp_path / "one.jsonl")
    monkeypatch.setattr(xjson, "_WRITE_BATCH", 3)
    write_json(table, tmp_path / "many.jsonl")
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "many.jsonl").read_bytes()


# -- properties ------------------------------------------------------------------------------
@given(
    strings=st.lists(st.one_of(st.none(), st.text(max_size=10)), min_size=1, max_size=15),
    floats=st.lists(st.one_of(st.none(), st.floats(width=64)), min_size=1, max_size=15),
)
def test_round_trip_property(tmp_path_factory, strings, floats):
    n = min(len(strings), len(floats))
    strings = [s if s is None else s.encode("utf8", "replace").decode("utf8") for s in strings]
    source = pa.table({"s": pa.array(strings[:n], pa.string()),
                       "f": pa.array(floats[:n], pa.float64())})
    path = tmp_path_factory.mktemp("json") / "p.jsonl"
    try:
        write_json(source, path)
    except XIOError:
        # lone surrogates cannot be encoded; everything else must write
        assert any(s and any(0xD800 <= ord(ch) <= 0xDFFF for ch in s) for s in strings[:n])
        return
    got = read_json_table(path, dtype={"s": "string", "f": "float64"}, device="cpu")
    assert_tables_equal(got, source, check_types=True, rtol=0)
    # split on "\n" only: str.splitlines() also splits on U+0085, U+2028...
    for line, s, f in zip(path.read_text(encoding="utf8").split("\n"), strings, floats,
                          strict=False):
        rec = json.loads(line)  # Python's json agrees (it reads NaN/Infinity too)
        assert rec["s"] == s
        assert rec["f"] == f or (f is not None and math.isnan(f) and math.isnan(rec["f"]))
