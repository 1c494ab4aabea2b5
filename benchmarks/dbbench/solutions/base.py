"""What every db-benchmark solution provides to the runner."""

from __future__ import annotations

import math
from typing import Any

import pyarrow as pa

from ..questions import Question


class NotSupported(Exception):
    """The engine lacks something a question needs; the message says what."""


class Solution:
    """One engine answering the db-benchmark questions on in-memory tables.

    The runner calls :meth:`load` once per task (timed as the load), then for each question
    :meth:`run` (timed, followed by :meth:`sync`), :meth:`shape` and :meth:`checksum` on the
    answer (untimed), :meth:`drop` (untimed), and :meth:`free` at the end.
    """

    name = "?"
    device = "cpu"

    def available(self) -> str | None:
        """None when the engine can run here, else why not."""
        return None

    def version(self) -> str:
        return ""

    def load(self, task: str, tables: dict[str, pa.Table]) -> dict[str, float]:
        """Put ``tables`` (``x`` and, for joins, ``small``/``medium``/``big``) onto the
        engine. Returns named parts of the load time (seconds) when the load has phases."""
        raise NotImplementedError

    def run(self, q: Question) -> Any:
        """Answer ``q``, fully materialized (the timed part)."""
        raise NotImplementedError

    def sync(self) -> None:
        """Wait for queued device work (the GPU) before the clock is read."""

    def shape(self, ans: Any) -> tuple[int, int]:
        raise NotImplementedError

    def column_sum(self, ans: Any, name: str) -> float:
        """Sum of a result column, skipping nulls and NaNs."""
        raise NotImplementedError

    def checksum(self, ans: Any, q: Question) -> list[float]:
        return [float(self.column_sum(ans, c)) for c in q.chk]

    def drop(self, ans: Any) -> None:
        """Release an answer (DuckDB drops its ``ans`` table)."""

    def free(self) -> None:
        """Release the loaded tables."""

    def note(self, q: Question) -> str:
        """How this solution answered ``q`` when it departs from db-benchmark's code
        (asked after the first run)."""
        return ""


def nan_to_zero(x: Any) -> float:
    x = float(x) if x is not None else 0.0
    return 0.0 if math.isnan(x) else x


def right_renames(table: str, columns: list[str], key: str) -> dict[str, str]:
    """The right table's non-key columns renamed like db-benchmark's DuckDB SQL
    (``medium.id1 AS medium_id1``); ``v2`` keeps its name."""
    return {c: f"{table}_{c}" for c in columns if c not in (key, "v2")}
