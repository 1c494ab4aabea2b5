"""__repr__ and _repr_html_ of DataFrame and Series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import xpdb
from xpdb.frame import DataFrame, Series, from_pandas
from xpdb.table import Table


def test_repr_small_frame(device: str) -> None:
    df = DataFrame({"a": [1, None, 3], "s": ["x", None, "日本"], "f": [1.5, 2.0, None]},
                   device=device)
    text = repr(df)
    lines = text.splitlines()
    assert lines[0].split() == ["a", "s", "f"]
    assert lines[1].split() == ["int64", "string", "float64"]
    assert lines[-1] == f"[3 rows x 3 columns, {df.device}]"
    assert "<null>" in lines[3] and "日本" in lines[4]
    assert "1.5" in lines[2] and "2.0" in lines[3]
    # numbers right-aligned: every value line ends at the same column for 'f'
    assert len({len(line) for line in lines[2:5]}) <= 2


def test_repr_nan_and_inf_values(device: str) -> None:
    x = Series([0.0, 1.0, -1.0], device=device) / 0
    text = repr(x)
    assert "NaN" in text and "inf" in text and "-inf" in text
    assert "Name: None, dtype: float64, length: 3" in text


def test_repr_truncates_long_frames(device: str) -> None:
    df = DataFrame({"i": np.arange(100)}, device=device)
    with xpdb.config.set(display_rows=6):
        lines = repr(df).splitlines()
    body = lines[2:-1]
    assert len(body) == 7 and body[3].split() == ["...", "..."]
    assert body[0].split() == ["0", "0"] and body[-1].split() == ["99", "99"]
    assert lines[-1].startswith("[100 rows x 1 columns")
    s = Series(np.arange(50), name="n", device=device)
    with xpdb.config.set(display_rows=4):
        slines = repr(s).splitlines()
    assert len(slines) == 6 and slines[2].split() == ["...", "..."]


def test_repr_only_moves_displayed_rows(device: str, dev: xpdb.Device,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    n = 200_000
    df = DataFrame({"a": np.arange(n, dtype=np.int64), "b": np.ones(n)}, device=device)
    converted: list[int] = []
    original = Table.to_arrow

    def spy(self: Table) -> object:
        converted.append(self.num_rows)
        return original(self)

    monkeypatch.setattr(Table, "to_arrow", spy)
    dev.reset_stats()
    text = repr(df)
    html = df._repr_html_()
    srepr = repr(df["a"])
    assert "199999" in text and "199999" in html and "199999" in srepr
    assert dev.stats.to_host < 10_000
    assert sum(converted) <= 3 * xpdb.config.get("display_rows")


def test_repr_empty_and_no_columns(device: str) -> None:
    e = DataFrame({"a": []}, device=device)
    assert repr(e).splitlines()[-1] == f"[0 rows x 1 columns, {e.device}]"
    assert repr(DataFrame({}, device=device)).endswith("[0 rows x 0 columns, " +
                                                       f"{e.device}]")
    assert "length: 0" in repr(Series([], device=device))


def test_repr_html_escapes(device: str) -> None:
    pdf = pd.DataFrame({"<b>": ["<script>&", None], "n": [1, 2]})
    html = from_pandas(pdf, device=device)._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;&amp;" in html
    assert "&lt;b&gt;" in html and "&lt;null&gt;" in html
    assert html.count("<tr>") == 4 and "2 rows x 2 columns" in html


def test_repr_long_strings_and_control_characters(device: str) -> None:
    df = DataFrame({"s": ["a" * 100, "tab\there\nnew"]}, device=device)
    text = repr(df)
    assert "…" in text and "\\t" in text and "\\n" in text
    assert max(len(line) for line in text.splitlines()) < 60


def test_repr_temporal_and_bool(device: str) -> None:
    pdf = pd.DataFrame({"t": pd.to_datetime(["2024-01-02 03:04:05", None]).as_unit("us"),
                        "b": [True, None]})
    text = repr(from_pandas(pdf, device=device))
    assert "2024-01-02 03:04:05" in text and "True" in text
    assert "timestamp[us]" in text and "bool" in text
