"""Devices: the CPU (NumPy) and a CUDA GPU (CuPy).

A :class:`Device` owns its array namespace ``xp``, its memory limit, and every transfer
between host and device; it counts the bytes moved so tests can assert that a query over
device-resident data moves only its result. This module is the only place that imports CuPy.
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from . import config
from .errors import DeviceError, DeviceMemoryError

_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def parse_bytes(value: int | float | str | None, total: int | None = None) -> int | None:
    """Turn a memory size setting into bytes.

    Parameters
    ----------
    value : int, float, str or None
        Bytes (int), a fraction of ``total`` (float in (0, 1] or text such as ``"80%"``),
        or text with a unit (``"8GB"``, ``"512MiB"``). None means no limit.
    total : int, optional
        The device's memory, for fractions.

    Examples
    --------
    >>> parse_bytes("2GB"), parse_bytes("50%", total=1000), parse_bytes(None)
    (2000000000, 500, None)
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise DeviceError(f"memory limit must be bytes, a fraction or text, not {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not 0 < value <= 1 or total is None:
            raise DeviceError(
                f"memory limit {value!r}: a float is a fraction of device memory in (0, 1]"
            )
        return int(value * total)
    text = str(value).strip().upper().replace(" ", "")
    if text.endswith("%"):
        if total is None:
            raise DeviceError(f"memory limit {value!r} is a fraction but the total is unknown")
        return int(float(text[:-1]) / 100 * total)
    m = re.fullmatch(r"([0-9.]+)([A-Z]*)", text)
    if not m or m.group(2) not in _UNITS:
        raise DeviceError(
            f"cannot read memory limit {value!r}; use bytes, '8GB', '512MiB' or '80%'"
        )
    return int(float(m.group(1)) * _UNITS[m.group(2)])


@functools.cache
def _cupy() -> ModuleType | None:
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() < 1:
            return None
        return cupy
    except Exception:  # noqa: BLE001 - any failure means "no usable GPU"
        return None


def gpu_available() -> bool:
    """Return True when CuPy is installed and sees at least one CUDA device."""
    return _cupy() is not None


@dataclass
class TransferStats:
    """Bytes and calls moved between host and device."""

    to_device: int = 0
    to_host: int = 0
    calls: int = 0

    def copy(self) -> TransferStats:
        return TransferStats(self.to_device, self.to_host, self.calls)


@dataclass(eq=False)
class Device:
    """A place where columns live and kernels run.

    Use :func:`get_device` rather than constructing one.

    Attributes
    ----------
    kind : {"cpu", "gpu"}
    index : int
        The CUDA device number (0 on the CPU).
    xp : module
        ``numpy`` or ``cupy``.
    stats : TransferStats
        Bytes moved between host and device since creation (or :meth:`reset_stats`).
    """

    kind: str
    index: int = 0
    xp: ModuleType = field(default=np, repr=False)
    stats: TransferStats = field(default_factory=TransferStats, repr=False)
    _memory_limit: int | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def is_gpu(self) -> bool:
        return self.kind == "gpu"

    def __str__(self) -> str:
        return "cpu" if self.kind == "cpu" else f"gpu:{self.index}"

    # -- memory -------------------------------------------------------------------------
    @property
    def total_memory(self) -> int:
        """Memory of the device in bytes (physical memory on the CPU)."""
        if self.is_gpu:
            with self.xp.cuda.Device(self.index):
                return int(self.xp.cuda.runtime.memGetInfo()[1])
        import os

        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))

    @property
    def memory_limit(self) -> int | None:
        """The device memory limit in bytes, or None for none."""
        return self._memory_limit

    def set_memory_limit(self, value: int | float | str | None) -> None:
        """Set the memory limit (bytes, ``"8GB"``, ``"80%"``, 0.8 or None).

        On the GPU the limit caps CuPy's memory pool, so an allocation past it raises
        :class:`~xpdb.errors.DeviceMemoryError`. On the CPU it is recorded for the storage
        layer's cache budget; NumPy allocations are not capped.
        """
        limit = parse_bytes(value, self.total_memory)
        self._memory_limit = limit
        if self.is_gpu:
            with self.xp.cuda.Device(self.index):
                self.xp.get_default_memory_pool().set_limit(size=limit or 0)

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        """Turn the array library's out-of-memory errors into DeviceMemoryError."""
        try:
            yield
        except MemoryError as e:  # cupy.cuda.memory.OutOfMemoryError derives from it
            if isinstance(e, DeviceMemoryError):
                raise
            limit = self._memory_limit
            msg = (
                f"out of memory on {self}: {e}. "
                + (f"The memory limit is {limit:,} bytes; " if limit else "")
                + "raise it with xpdb.config.set(memory_limit=...) or work on fewer rows."
            )
            raise DeviceMemoryError(msg) from e

    # -- transfers ----------------------------------------------------------------------
    def asarray(self, values: Any, dtype: Any = None) -> Any:
        """Put ``values`` (NumPy, CuPy, DLPack or a sequence) on this device.

        Host-to-device copies are counted in :attr:`stats`.
        """
        xp = self.xp
        if not self.is_gpu:
            if _is_cupy_array(values):
                return self.to_host(values) if dtype is None else self.to_host(values).astype(dtype)
            return np.asarray(values, dtype=dtype)
        if _is_cupy_array(values):
            if values.device.id == self.index:
                return values if dtype is None else values.astype(dtype, copy=False)
            with xp.cuda.Device(self.index):
                return xp.asarray(values, dtype=dtype)
        host = np.asarray(values, dtype=dtype)
        with self._lock:
            self.stats.to_device += host.nbytes
            self.stats.calls += 1
        with self.guard(), xp.cuda.Device(self.index):
            return xp.asarray(host)

    def to_host(self, values: Any) -> np.ndarray:
        """Return ``values`` as a NumPy array, counting device-to-host bytes."""
        if isinstance(values, np.ndarray):
            return values
        if _is_cupy_array(values):
            with self._lock:
                self.stats.to_host += values.nbytes
                self.stats.calls += 1
            return values.get()
        return np.asarray(values)

    def scalar(self, value: Any) -> Any:
        """Read a 0-d device array as a Python scalar (a transfer on the GPU)."""
        if self.is_gpu and _is_cupy_array(value):
            return self.to_host(value).item()
        return value.item() if hasattr(value, "item") else value

    def synchronize(self) -> None:
        """Wait for all queued work on the device (a no-op on the CPU)."""
        if self.is_gpu:
            self.xp.cuda.Device(self.index).synchronize()

    def reset_stats(self) -> TransferStats:
        """Zero the transfer counters and return their old values."""
        with self._lock:
            old = self.stats.copy()
            self.stats = TransferStats()
        return old


def _is_cupy_array(values: Any) -> bool:
    return type(values).__module__.startswith("cupy")


_devices: dict[tuple[str, int], Device] = {}
_devices_lock = threading.Lock()


def get_device(spec: str | Device | None = None) -> Device:
    """Return the device for ``spec``.

    Parameters
    ----------
    spec : {"cpu", "gpu", "gpu:N", "auto"}, Device or None
        None means the ``device`` setting (``XPDB_DEVICE``, default ``"auto"``): the GPU when
        CuPy sees one, else the CPU.

    Raises
    ------
    DeviceError
        When a GPU is requested and none is usable.

    Examples
    --------
    >>> get_device("cpu")
    Device(kind='cpu', index=0)
    """
    if isinstance(spec, Device):
        return spec
    if spec is None:
        spec = config.get("device")
    text = str(spec).strip().lower()
    if text == "auto":
        text = "gpu" if gpu_available() else "cpu"
    if text == "cpu":
        key = ("cpu", 0)
    elif text == "gpu" or text.startswith(("gpu:", "cuda")):
        _, _, idx = text.partition(":")
        try:
            key = ("gpu", int(idx) if idx else 0)
        except ValueError:
            raise DeviceError(f"cannot read device {spec!r}; use 'cpu', 'gpu' or 'gpu:N'") from None
    else:
        raise DeviceError(f"unknown device {spec!r}; use 'cpu', 'gpu', 'gpu:N' or 'auto'")
    with _devices_lock:
        dev = _devices.get(key)
        if dev is None:
            dev = _make_device(*key)
            _devices[key] = dev
    return dev


def _make_device(kind: str, index: int) -> Device:
    if kind == "cpu":
        dev = Device("cpu", 0, np)
    else:
        cp = _cupy()
        if cp is None:
            msg = (
                f"device 'gpu:{index}' was requested but no GPU is usable: CuPy is not "
                "installed or sees no CUDA device. Install xpdb[cuda12] or xpdb[cuda13] on a "
                "machine with an NVIDIA GPU, or use device='cpu'."
            )
            raise DeviceError(msg)
        count = cp.cuda.runtime.getDeviceCount()
        if index >= count:
            raise DeviceError(f"device 'gpu:{index}' requested but only {count} GPU(s) exist")
        dev = Device("gpu", index, cp)
    limit = config.get("memory_limit")
    if limit is not None:
        dev.set_memory_limit(limit)
    return dev


def device_of(array: Any) -> Device:
    """Return the device holding ``array`` (NumPy arrays live on the CPU)."""
    if _is_cupy_array(array):
        return get_device(f"gpu:{array.device.id}")
    return get_device("cpu")
