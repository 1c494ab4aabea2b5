"""The demo's printing: timings side by side per device, answers cut to a few rows."""

from __future__ import annotations

import io

import pandas as pd

from xpdb.demo.report import MAX_ROWS, print_answers, print_timings
from xpdb.demo.steps import Step, StepTiming


def test_timings_side_by_side():
    timings = {"cpu": [StepTiming("load", 1234.5), StepTiming("query", 10.0)],
               "gpu:0": [StepTiming("load", 100.25), StepTiming("query", 0.5)]}
    out = io.StringIO()
    print_timings(timings, out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["step", "cpu", "ms", "gpu:0", "ms"]
    assert lines[1].split() == ["load", "1,234.5", "100.2"]
    assert lines[2].split() == ["query", "10.0", "0.5"]
    assert lines[3].split() == ["total", "1,244.5", "100.8"]
    assert len({len(line) for line in lines}) == 1  # aligned columns


def test_answers_cut_and_untitled_skipped():
    steps = [Step("a", lambda ctx: None, "first answer"), Step("b", lambda ctx: None)]
    long = pd.DataFrame({"x": range(MAX_ROWS + 5)})
    out = io.StringIO()
    print_answers(steps, {"a": long, "b": pd.DataFrame({"y": [1]})}, out)
    text = out.getvalue()
    assert "first answer:" in text
    assert "... 5 more rows" in text
    lines = [line.strip() for line in text.splitlines()]
    assert lines[lines.index("x") + 1:lines.index("... 5 more rows")] == [
        str(i) for i in range(MAX_ROWS)]
    assert "y" not in lines  # the untitled step's answer is not printed
