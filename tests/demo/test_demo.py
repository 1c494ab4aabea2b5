"""The whole ``xpdb demo`` through the command line, at a small size."""

from __future__ import annotations

import os

import numpy as np
import pytest

import xpdb
from xpdb.cli import main
from xpdb.demo import STEPS
from xpdb.demo import check as demo_check
from xpdb.device import Device

ROWS = "20000"


def _devices(device: str) -> list[str]:
    # on a GPU machine the GPU run also shows the CPU beside it, as `make demo` does
    return ["cpu"] if device == "cpu" else ["cpu", "gpu"]


def test_demo_end_to_end(device, capsys, tmp_path):
    db = str(tmp_path / "db")
    argv = ["demo", "--rows", ROWS, "--db", db, "--seed", "3"]
    for d in _devices(device):
        argv += ["--device", d]
    assert main(argv) == 0
    out = capsys.readouterr().out
    names = [str(xpdb.get_device(d)) for d in _devices(device)]
    headers = [line.split() for line in out.splitlines() if line.startswith("step")]
    assert [h[1::2] for h in headers[:len(names)]] == [[n] for n in names]  # as they run
    assert headers[-1][1::2] == names  # at the end, one ms column per device side by side
    totals = [line for line in out.splitlines() if line.startswith("total")]
    assert len(totals) == len(names) + (len(names) > 1)
    for step in STEPS:
        assert step.name in out
        if step.title:
            assert step.title in out
    assert "results agree with pandas on the same data" in out
    if device == "gpu":
        assert "gpu:0 and cpu answers agree" in out
    # the database persists after the demo
    with xpdb.connect(db, device="cpu") as con:
        assert con.sql("SELECT count(*) FROM trips").fetchall() == [(int(ROWS),)]
        (n_clean,) = con.sql("SELECT count(*) FROM clean").fetchone()
        assert 0 < n_clean < int(ROWS)


def test_temporary_files_removed_unless_kept(monkeypatch, capsys, tmp_path):
    work = []

    def mkdtemp(prefix: str) -> str:
        path = str(tmp_path / f"work{len(work)}")
        os.mkdir(path)
        work.append(path)
        return path

    monkeypatch.setattr("xpdb.demo.tempfile.mkdtemp", mkdtemp)
    assert main(["demo", "--rows", "3000", "--device", "cpu"]) == 0
    assert not os.path.exists(work[0])
    assert main(["demo", "--rows", "3000", "--device", "cpu", "--keep"]) == 0
    assert os.listdir(os.path.join(work[1], "trips")) == ["trips-00000.parquet"]
    with xpdb.connect(os.path.join(work[1], "db"), device="cpu") as con:
        assert con.sql("SELECT count(*) FROM trips").fetchall() == [(3000,)]
    assert f"kept the generated files in {work[1]}" in capsys.readouterr().out


def test_disagreement_with_pandas_fails(monkeypatch, capsys):
    real = demo_check.pandas_answers

    def off_by_one(paths):
        answers = real(paths)
        answers["Q1 trips by cab type"]["trips"] += 1
        return answers

    monkeypatch.setattr(demo_check, "pandas_answers", off_by_one)
    assert main(["demo", "--rows", "3000", "--device", "cpu"]) == 1
    captured = capsys.readouterr()
    assert "answers disagree" in captured.err
    assert "results agree" not in captured.out


@pytest.mark.parametrize("argv, message", [
    (["--rows", "0"], "rows=0"),
    (["--device", "tpu"], "unknown device 'tpu'"),
])
def test_bad_options_are_errors(argv, message, capsys):
    assert main(["demo", *argv]) == 1
    assert message in capsys.readouterr().err


class _Twin(Device):
    """A second CPU device under another name: the side-by-side path runs in CPU-only CI."""

    def __str__(self) -> str:
        return "cpu-twin"


def test_two_devices_side_by_side(monkeypatch, capsys):
    twin = _Twin("cpu", 0, np)
    real = xpdb.get_device
    monkeypatch.setattr(xpdb, "get_device", lambda spec=None: twin if spec == "twin"
                        else real(spec))
    assert main(["demo", "--rows", "5000", "--device", "cpu", "--device", "twin"]) == 0
    out = capsys.readouterr().out
    table = out.split("milliseconds per step, side by side:\n")[1].splitlines()
    assert table[0].split() == ["step", "cpu", "ms", "cpu-twin", "ms"]
    rows = [line.rsplit(maxsplit=2) for line in table[1:len(STEPS) + 2]]
    assert [r[0] for r in rows] == [s.name for s in STEPS] + ["total"]
    assert "cpu-twin and cpu answers agree" in out
    assert "results agree with pandas" in out
