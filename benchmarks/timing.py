"""The timing loop the profiling scripts share (``benchmarks/*/profile_*.py``)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def median_ms(fn: Callable[[], Any], sync: Callable[[], None], repeats: int = 5
              ) -> tuple[float, Any]:
    """One untimed warm-up call, then the median milliseconds of ``repeats`` calls, each
    ended by ``sync()`` (a device synchronize); returns it with the last call's result."""
    out = fn()
    sync()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        sync()
        times.append((time.perf_counter() - t) * 1e3)
    return round(statistics.median(times), 3), out
