"""Run xpdb's CUDA RawKernel sources on the CPU, to test the kernels' logic without a GPU.

xpdb's GPU fast paths are ``cupy.RawKernel`` sources. Their NumPy twins are tested on every
machine, but the kernels themselves only where a GPU is. This module compiles a kernel
source as plain C++ (``g++``) behind a small header that defines the CUDA built-ins it uses
(``blockIdx``, ``threadIdx``, ``double2``, the ``__d*_rn`` intrinsics, which round to nearest
as the CPU's double arithmetic does), and launches it thread by thread: a test can then run
a kernel wrapper unchanged on NumPy arrays and compare it with the twin, on any machine with
a C++ compiler.

Only sequential semantics are emulated: threads run one after another, so the kernels
tested this way must not depend on their threads' interleaving (no atomics, no shared
memory, no synchronization). For small inputs: each thread is one Python call.

Examples
--------
>>> xp = emulated_cupy()                                   # doctest: +SKIP
>>> k = xp.RawKernel(source, "my_kernel")                   # doctest: +SKIP
>>> k((blocks,), (threads,), (x, np.int64(n), out))        # doctest: +SKIP
"""

from __future__ import annotations

import ctypes
import hashlib
import shutil
import subprocess
import tempfile
import types
from pathlib import Path
from typing import Any

import numpy as np

_HEADER = r"""
#include <math.h>
#include <limits.h>
#define __global__
#define __device__
#define __forceinline__ inline
struct xpdb_emu_dim3 { unsigned x, y, z; };
static xpdb_emu_dim3 blockIdx, threadIdx, blockDim, gridDim;
struct double2 { double x, y; };
struct float2 { float x, y; };
static inline double __ddiv_rn(double a, double b) { return a / b; }
static inline double __dsub_rn(double a, double b) { return a - b; }
static inline double __dadd_rn(double a, double b) { return a + b; }
static inline double __dmul_rn(double a, double b) { return a * b; }
extern "C" void xpdb_emu_set(unsigned b, unsigned t, unsigned bd, unsigned gd) {
    blockIdx.x = b; threadIdx.x = t; blockDim.x = bd; gridDim.x = gd;
    blockIdx.y = blockIdx.z = threadIdx.y = threadIdx.z = 0;
    blockDim.y = blockDim.z = gridDim.y = gridDim.z = 1;
}
"""

_CACHE: dict[str, ctypes.CDLL] = {}


def available() -> bool:
    """Whether a C++ compiler is there to emulate kernels."""
    return shutil.which("g++") is not None


def _library(source: str) -> ctypes.CDLL:
    text = _HEADER + source
    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    if key not in _CACHE:
        d = Path(tempfile.mkdtemp(prefix="xpdb-emu-"))
        (d / "k.cpp").write_text(text)
        # no fused multiply-add, as the kernels' explicit roundings assume
        subprocess.run(["g++", "-O1", "-ffp-contract=off", "-shared", "-fPIC", "-o",
                        str(d / "k.so"), str(d / "k.cpp")], check=True, capture_output=True)
        _CACHE[key] = ctypes.CDLL(str(d / "k.so"))
    return _CACHE[key]


def _c_arg(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        if not v.flags.c_contiguous:
            raise ValueError("emulated kernels take C-contiguous arrays")
        return ctypes.c_void_p(v.ctypes.data)
    if isinstance(v, np.float64):
        return ctypes.c_double(float(v))
    if isinstance(v, np.float32):
        return ctypes.c_float(float(v))
    if isinstance(v, np.int64):
        return ctypes.c_longlong(int(v))
    if isinstance(v, np.int32):
        return ctypes.c_int(int(v))
    if isinstance(v, (np.bool_, bool)):
        return ctypes.c_bool(bool(v))
    raise TypeError(f"emulated kernel argument of type {type(v).__name__}: pass NumPy "
                    "arrays or NumPy scalars (np.int64, np.float64, ...) as CuPy needs")


class EmulatedKernel:
    """``cupy.RawKernel(source, name)`` compiled for the CPU; called as CuPy's is."""

    def __init__(self, source: str, name: str):
        lib = _library(source)
        self._fn = getattr(lib, name)
        self._fn.restype = None
        self._set = lib.xpdb_emu_set
        self.name = name

    def __call__(self, grid: tuple[int, ...], block: tuple[int, ...], args: tuple) -> None:
        cargs = [_c_arg(a) for a in args]
        gx, bx = int(grid[0]), int(block[0])
        for b in range(gx):
            for t in range(bx):
                self._set(b, t, bx, gx)
                self._fn(*cargs)


def emulated_cupy() -> Any:
    """A namespace that is NumPy plus ``RawKernel`` (emulated) and ``cuda.Device().id``
    (-1), enough for xpdb's kernel wrappers that take ``xp``."""
    ns = types.SimpleNamespace(**{k: getattr(np, k) for k in dir(np) if not k.startswith("__")})
    ns.RawKernel = EmulatedKernel
    ns.cuda = types.SimpleNamespace(Device=lambda *a: types.SimpleNamespace(id=-1))
    ns.__name__ = "xpdb.kernels.emulate"
    return ns
