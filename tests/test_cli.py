from __future__ import annotations

from xpdb.cli import main


def test_demo_runs_and_agrees_with_pandas(device, capsys):
    assert main(["demo", "--rows", "20000", "--device", device]) == 0
    out = capsys.readouterr().out
    from xpdb.demo.steps import STEPS

    assert f"running {len(STEPS)} steps on {'cpu' if device == 'cpu' else 'gpu:0'}" in out
    assert "results agree with pandas on the same data" in out
    assert "Q1: trips by cab type" in out
