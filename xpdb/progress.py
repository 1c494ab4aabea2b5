"""A progress bar on stderr for long loads, with no dependency.

A load (``COPY t FROM 'data/*.csv'``) knows the bytes of its files up front; the bar shows
how many of them have been read. Inside a file the position comes from the bytes this
process has read so far (``/proc/self/io`` on Linux: the readers are pyarrow's, reading
in C++ threads), capped at the file's size; elsewhere the bar advances file by file.

The bar is drawn only on a terminal (``stderr.isatty()``), only once the load has run
for :data:`MIN_SECONDS` or when it is bigger than :data:`MIN_BYTES`, and never when the
environment sets ``XPDB_PROGRESS=0``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any, TextIO

#: Seconds a load runs before its bar appears.
MIN_SECONDS = 1.0
#: Loads at least this big (bytes) show their bar at once.
MIN_BYTES = 50 * 2**20
_WIDTH = 28


def enabled(stream: Any = None) -> bool:
    """Whether a bar may be drawn on ``stream`` (default: stderr): a terminal, and
    ``XPDB_PROGRESS`` is not ``0``/``false``/``off``/``no``."""
    if os.environ.get("XPDB_PROGRESS", "1").strip().lower() in ("0", "false", "off", "no"):
        return False
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _bytes_read() -> int | None:
    try:
        with open("/proc/self/io", "rb") as f:
            for line in f:
                if line.startswith(b"rchar:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"  # pragma: no cover - unreachable


class Progress:
    """Progress of a load over files of known sizes, drawn by a background thread.

    Parameters
    ----------
    total : int
        Bytes of all the files.
    files : int
        How many files the load reads.
    label : str
        Shown before the bar (``"COPY trips"``).
    stream : file, optional
        Where to draw (default: stderr).
    interval : float, default 0.1
        Seconds between redraws.

    Examples
    --------
    >>> with Progress(total=10, files=1, label="COPY t") as bar:
    ...     with bar.file(10):
    ...         pass
    >>> bar.done
    10
    """

    def __init__(self, total: int, files: int, label: str, *, stream: TextIO | None = None,
                 interval: float = 0.1):
        self.total, self.files, self.label = max(int(total), 0), files, label
        self.stream = sys.stderr if stream is None else stream
        self.interval = interval
        self.done = 0
        self.index = 0
        self._size = 0
        self._read_at: int | None = None
        self._start = time.perf_counter()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.drawn = False

    def __enter__(self) -> Progress:
        self._start = time.perf_counter()
        if enabled(self.stream):
            if self._due():
                self._draw()
            self._thread = threading.Thread(target=self._run, name="xpdb-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, kind: Any, value: Any, tb: Any) -> None:
        self._stop.set()
        if self._thread is None:
            return
        self._thread.join()
        if kind is None and (self.drawn or self._due()):
            self._draw()  # the final state: 100%, the time and the rate
        if self.drawn:
            with contextlib.suppress(OSError, ValueError):
                self.stream.write("\n")
                self.stream.flush()

    def _due(self) -> bool:
        return time.perf_counter() - self._start >= MIN_SECONDS or self.total >= MIN_BYTES

    @contextlib.contextmanager
    def file(self, size: int) -> Iterator[None]:
        """Mark the reading of one file of ``size`` bytes."""
        self.index += 1
        self._size = max(int(size), 0)
        self._read_at = _bytes_read()
        try:
            yield
        finally:
            self.done += self._size
            self._size = 0

    def position(self) -> int:
        """Bytes read so far (an estimate inside a file)."""
        inside = 0
        now = _bytes_read() if self._read_at is not None else None
        if now is not None and self._read_at is not None:
            inside = min(self._size, max(now - self._read_at, 0))
        return min(self.done + inside, self.total) if self.total else self.done

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if self._due():
                self._draw()

    def _draw(self) -> None:
        pos = self.position()
        frac = pos / self.total if self.total else 1.0
        filled = round(frac * _WIDTH)
        elapsed = time.perf_counter() - self._start
        rate = pos / elapsed if elapsed > 0 else 0.0
        line = (f"\r{self.label} [{'#' * filled}{'-' * (_WIDTH - filled)}] {frac:6.1%} "
                f"{_size(pos)}/{_size(self.total)} file {min(self.index, self.files)}/"
                f"{self.files} {elapsed:5.1f}s {_size(rate)}/s ")
        try:
            self.stream.write(line)
            self.stream.flush()
        except (OSError, ValueError):  # a closed terminal must not fail the load
            self._stop.set()
            return
        self.drawn = True


__all__ = ["MIN_BYTES", "MIN_SECONDS", "Progress", "enabled"]
