"""Configuration in one place: defaults, environment overrides, temporary settings.

>>> import xpdb
>>> xpdb.config.get("device") in {"auto", "cpu", "gpu"}
True
>>> with xpdb.config.set(device="cpu"):
...     xpdb.config.get("device")
'cpu'

Environment variables ``XPDB_<NAME>`` (for example ``XPDB_DEVICE=gpu``) override the
defaults when the process starts; :func:`set` overrides both, globally or within a ``with``.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any

from .errors import XpdbError

#: Every setting, its default and what it means.
DEFAULTS: dict[str, Any] = {
    # "cpu", "gpu" or "auto" (the GPU when CuPy sees one, else the CPU).
    "device": "auto",
    # Device memory limit: None (no limit), bytes (int), "8GB"-style text, or a fraction
    # of the device's memory ("80%" or 0.8).
    "memory_limit": None,
    # Threads for per-shard work on the CPU; None means os.cpu_count().
    "num_threads": None,
    # Rows per shard when xpdb splits a table itself.
    "shard_rows": 1 << 22,
    # Rows shown by DataFrame.__repr__.
    "display_rows": 10,
}

_lock = threading.Lock()
_settings: dict[str, Any] = {}


def _from_env() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, default in DEFAULTS.items():
        raw = os.environ.get(f"XPDB_{key.upper()}")
        if raw is None:
            continue
        if isinstance(default, int) and not isinstance(default, bool):
            try:
                out[key] = int(raw)
            except ValueError as e:
                msg = f"environment variable XPDB_{key.upper()}={raw!r} is not an integer"
                raise XpdbError(msg) from e
        else:
            out[key] = raw
    return out


_settings.update(DEFAULTS)
_settings.update(_from_env())


def get(key: str) -> Any:
    """Return the current value of a setting.

    Parameters
    ----------
    key : str
        A name from :data:`DEFAULTS`.
    """
    try:
        return _settings[key]
    except KeyError:
        msg = f"unknown xpdb setting {key!r}; known settings: {sorted(DEFAULTS)}"
        raise XpdbError(msg) from None


class set(contextlib.AbstractContextManager):  # noqa: A001 - dask.config.set's name
    """Change settings, for good or for the duration of a ``with`` block.

    Parameters
    ----------
    **kwargs
        Setting names and their new values.
    """

    def __init__(self, **kwargs: Any):
        for key in kwargs:
            get(key)  # validate the name
        with _lock:
            self._old = {k: _settings[k] for k in kwargs}
            _settings.update(kwargs)

    def __exit__(self, *exc: object) -> None:
        with _lock:
            _settings.update(self._old)


def refresh() -> None:
    """Reset every setting to its default, then apply the environment again."""
    with _lock:
        _settings.clear()
        _settings.update(DEFAULTS)
        _settings.update(_from_env())


def items() -> Iterator[tuple[str, Any]]:
    """Iterate over (name, value) of every setting."""
    return iter(dict(_settings).items())
