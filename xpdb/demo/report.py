"""Printing the demo: the per-step timings side by side per device, then the answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from .steps import Step, StepTiming

#: answers longer than this are cut (Q4 has a row per passengers x year x miles)
MAX_ROWS = 12


class TimingTable:
    """The per-step milliseconds, one column per device, printed row by row.

    With one device the rows are printed as its steps finish (the table is the progress
    report); with several, each device's steps are listed as they finish and the table
    side by side comes at the end (:meth:`print_table`).
    """

    def __init__(self, steps: Sequence[Step], devices: Sequence[str], out: TextIO):
        self.devices = list(devices)
        self.out = out
        self.width = max(len(n) for n in [*(s.name for s in steps), "step"]) + 2
        self.timings: dict[str, list[StepTiming]] = {d: [] for d in self.devices}

    def _row(self, name: str, cells: Sequence[float]) -> str:
        return f"{name:<{self.width}}" + "".join(f"{ms:14,.1f}" for ms in cells)

    def header(self, devices: Sequence[str] | None = None) -> None:
        """The column titles (``step``, then ``<device> ms`` per device)."""
        devices = self.devices if devices is None else devices
        print(f"{'step':<{self.width}}" + "".join(f"{d + ' ms':>14}" for d in devices),
              file=self.out, flush=True)

    def add(self, device: str, timing: StepTiming) -> None:
        """Record a finished step of ``device`` and print its row."""
        self.timings[device].append(timing)
        print(self._row(timing.name, [timing.ms]), file=self.out, flush=True)

    def total(self, device: str) -> None:
        """The total row of one device."""
        print(self._row("total", [sum(t.ms for t in self.timings[device])]), file=self.out)

    def print_table(self) -> None:
        """The whole table, devices side by side, with the totals."""
        self.header()
        first = self.timings[self.devices[0]]
        for i, t in enumerate(first):
            print(self._row(t.name, [self.timings[d][i].ms for d in self.devices]),
                  file=self.out)
        print(self._row("total", [sum(t.ms for t in self.timings[d]) for d in self.devices]),
              file=self.out)


def print_timings(timings: Mapping[str, Sequence[StepTiming]], out: TextIO) -> None:
    """A table of milliseconds: one row per step, one column per device, then the total."""
    names = [t.name for t in next(iter(timings.values()))]
    table = TimingTable([Step(n, lambda ctx: None) for n in names], list(timings), out)
    table.timings = {d: list(ts) for d, ts in timings.items()}
    table.print_table()


def print_answers(steps: Sequence[Step], answers: Mapping[str, Any], out: TextIO) -> None:
    """Each titled step's answer, at most :data:`MAX_ROWS` rows."""
    import pandas as pd

    for step in steps:
        if step.title is None or step.name not in answers:
            continue
        ans = answers[step.name]
        print(f"\n{step.title}:", file=out)
        if isinstance(ans, pd.DataFrame):
            more = len(ans) - MAX_ROWS
            text = ans.head(MAX_ROWS).to_string(index=False, float_format=lambda v: f"{v:,.2f}")
            print(text, file=out)
            if more > 0:
                print(f"... {more} more rows", file=out)
        else:
            print(ans, file=out)
