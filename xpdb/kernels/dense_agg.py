"""Per-group reductions over dense group ids: the inner loop of every group-by.

``ids`` are integer group ids in ``[0, n_groups)``; the functions return one value per group.
Each function is a kernel pair:

- on the GPU, a fused CUDA kernel reads ``ids`` (and ``values``, ``valid``) once. With few
  groups each thread block reduces into a private copy of the groups in shared memory and adds
  it to the global result at the end, so the atomics that would serialize on a hundred hot
  global addresses stay on chip; with many groups it adds straight into global memory. Floats
  use the order-preserving integer image of IEEE values for min/max, so NaN is the greatest
  value (as in DuckDB) and -0.0 < 0.0 only in bit order, never in the result's value.
- on the CPU, the NumPy twin uses ``bincount`` (exact for integer sums whose bound fits in
  2**53) or ``ufunc.at``.

Tests compare the two on the same random inputs (``tests/kernels/test_dense_agg.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _xp

# Shared-memory bins are 8-byte accumulators. Up to 48 KiB a block needs no opt-in; past it
# (Hopper: up to 227 KiB) the kernel raises its dynamic shared-memory limit, and fewer blocks
# fit on a multiprocessor, so the grid shrinks to keep the per-block flush of the bins cheap.
_SMEM_DEFAULT = 48 * 1024
_BLOCK = 256
_EXACT_FLOAT = 2**53

_CTYPES = {
    "int8": "signed char", "int16": "short", "int32": "int", "int64": "long long",
    "uint8": "unsigned char", "uint16": "unsigned short", "uint32": "unsigned int",
    "uint64": "unsigned long long", "float32": "float", "float64": "double", "bool": "bool",
}

_PREAMBLE = r"""
__device__ __forceinline__ long long xpdb_f2key(double v) {
    long long b = __double_as_longlong(v);
    return b ^ ((b >> 63) & 0x7fffffffffffffffLL);
}
__device__ __forceinline__ void xpdb_add(long long* p, long long v) {
    atomicAdd((unsigned long long*)p, (unsigned long long)v);
}
__device__ __forceinline__ void xpdb_add(double* p, double v) { atomicAdd(p, v); }
__device__ __forceinline__ void xpdb_add(unsigned long long* p, unsigned long long v) {
    atomicAdd(p, v);
}
__device__ __forceinline__ void xpdb_min(long long* p, long long v) { atomicMin(p, v); }
__device__ __forceinline__ void xpdb_max(long long* p, long long v) { atomicMax(p, v); }
"""

# op -> (accumulator C type, identity, per-row update, how a row value becomes ACC)
_OPS = {
    "count": ("unsigned long long", "0ULL", "xpdb_add", "1ULL"),
    "sum_int": ("long long", "0LL", "xpdb_add", "(long long)v"),
    "sum_float": ("double", "0.0", "xpdb_add", "(double)v"),
    "min_int": ("long long", "0x7fffffffffffffffLL", "xpdb_min", "(long long)v"),
    "max_int": ("long long", "(-0x7fffffffffffffffLL - 1)", "xpdb_max", "(long long)v"),
    "min_float": ("long long", "0x7fffffffffffffffLL", "xpdb_min", "xpdb_f2key((double)v)"),
    "max_float": ("long long", "(-0x7fffffffffffffffLL - 1)", "xpdb_max",
                  "xpdb_f2key((double)v)"),
}


def _source(name: str, op: str, id_t: str, val_t: str | None, has_valid: bool,
            shared: bool) -> str:
    acc, ident, update, conv = _OPS[op]
    vals_arg = f"const {val_t}* __restrict__ vals, " if val_t else ""
    load = f"{val_t} v = vals[i];" if val_t else ""
    skip = "if (!valid[i]) continue;" if has_valid else ""
    target = "bins" if shared else "out"
    body = f"""
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n_rows;
         i += (long long)gridDim.x * blockDim.x) {{
        {skip}
        {load}
        {update}(&{target}[(long long)ids[i]], {conv});
    }}"""
    if shared:
        body = f"""
    extern __shared__ {acc} bins[];
    for (int g = threadIdx.x; g < n_groups; g += blockDim.x) bins[g] = {ident};
    __syncthreads();{body}
    __syncthreads();
    for (int g = threadIdx.x; g < n_groups; g += blockDim.x) {{
        {acc} b = bins[g];
        if (b != ({acc})({ident})) {update}(&out[g], b);
    }}"""
    return f"""{_PREAMBLE}
extern "C" __global__ void {name}(const {id_t}* __restrict__ ids, {vals_arg}
        const bool* __restrict__ valid, long long n_rows, int n_groups, {acc}* out) {{{body}
}}"""


def _device_properties(xp: Any, dev_id: int) -> dict[str, Any]:
    # cudaGetDeviceProperties costs about a millisecond: read it once per device
    key = ("device_properties", dev_id)
    return _xp.cached_kernel(key, lambda: dict(xp.cuda.runtime.getDeviceProperties(dev_id)))


def _launch(xp: Any, op: str, ids: Any, n_groups: int, values: Any, valid: Any) -> Any:
    """Run the CUDA kernel of ``op`` and return the accumulator array."""
    id_t = _CTYPES[ids.dtype.name]
    val_t = None if values is None else _CTYPES[values.dtype.name]
    dev_id = ids.device.id
    props = _device_properties(xp, dev_id)
    smem_limit = int(props.get("sharedMemPerBlockOptin", _SMEM_DEFAULT))
    shared = n_groups * 8 <= smem_limit
    has_valid = valid is not None
    name = (f"xpdb_dense_{op}_{ids.dtype.name}_{values.dtype.name if values is not None else 'none'}"
            f"_{'v' if has_valid else 'nv'}_{'smem' if shared else 'gmem'}")
    kernel = _xp.cached_kernel(
        (name, dev_id),
        lambda: xp.RawKernel(_source(name, op, id_t, val_t, has_valid, shared), name),
    )
    acc_t, ident = _OPS[op][0], _OPS[op][1]
    acc_dtype = {"unsigned long long": np.uint64, "long long": np.int64, "double": np.float64}[acc_t]
    fill = {"0ULL": 0, "0LL": 0, "0.0": 0.0}.get(ident)
    if fill is None:
        fill = np.iinfo(np.int64).max if op.startswith("min") else np.iinfo(np.int64).min
    out = xp.full(n_groups, fill, dtype=acc_dtype)
    n_rows = int(ids.shape[0])
    if n_rows == 0 or n_groups == 0:
        return out
    smem = n_groups * 8 if shared else 0
    per_sm = 8 if smem <= _SMEM_DEFAULT else max(1, int(props["sharedMemPerMultiprocessor"]) // smem)
    grid = max(1, min(-(-n_rows // _BLOCK), props["multiProcessorCount"] * min(8, per_sm)))
    if smem > _SMEM_DEFAULT:
        kernel.max_dynamic_shared_size_bytes = smem
    args = [ids] + ([values] if values is not None else []) + [
        valid if has_valid else ids,  # a dummy pointer when there is no mask
        np.int64(n_rows), np.int32(n_groups), out]
    kernel((grid,), (_BLOCK,), tuple(args), shared_mem=smem)
    return out


def _key_to_float(xp: Any, keys: Any) -> Any:
    bits = keys ^ ((keys >> 63) & np.int64(0x7FFFFFFFFFFFFFFF))
    return bits.view(np.float64)


def group_count(xp: Any, ids: Any, n_groups: int, valid: Any = None) -> Any:
    """Rows per group (only rows where ``valid`` is True), int64."""
    if not _xp.is_numpy(xp):
        return _launch(xp, "count", ids, n_groups, None, valid).astype(np.int64)
    if valid is not None:
        ids = ids[valid]
    return np.bincount(ids, minlength=n_groups).astype(np.int64, copy=False)


def group_sum(xp: Any, ids: Any, n_groups: int, values: Any, valid: Any = None) -> Any:
    """Sum per group: int64 for integer/bool values (wrapping), float64 for floats.

    Null rows (``valid`` False) are skipped; an empty group sums to 0.
    """
    is_float = values.dtype.kind == "f"
    if not _xp.is_numpy(xp):
        return _launch(xp, "sum_float" if is_float else "sum_int", ids, n_groups,
                       values, valid)
    if valid is not None:
        ids, values = ids[valid], values[valid]
    if is_float:
        return np.bincount(ids, weights=values, minlength=n_groups)
    if values.dtype.kind == "b":
        return np.bincount(ids, weights=values, minlength=n_groups).astype(np.int64)
    if values.shape[0]:
        lo, hi = int(values.min()), int(values.max())
        if max(abs(lo), abs(hi)) * values.shape[0] < _EXACT_FLOAT:
            # every partial sum is an exact float64 integer: bincount's fast loop is exact
            return np.bincount(ids, weights=values, minlength=n_groups).astype(np.int64)
    out = np.zeros(n_groups, dtype=np.int64)
    np.add.at(out, ids, values.astype(np.int64, copy=False))
    return out


def _group_extreme(xp: Any, which: str, ids: Any, n_groups: int, values: Any,
                   valid: Any) -> tuple[Any, Any]:
    kind = values.dtype.kind
    is_float = kind == "f"
    if kind == "u" and values.dtype.itemsize == 8:
        # uint64 does not fit the signed accumulator: fall back to the portable scatter
        return _scatter_extreme(xp, which, ids, n_groups, values, valid)
    if not _xp.is_numpy(xp):
        op = f"{which}_{'float' if is_float else 'int'}"
        acc = _launch(xp, op, ids, n_groups, values.view(np.uint8) if kind == "b" else values,
                      valid)
        counts = group_count(xp, ids, n_groups, valid)
        res = _key_to_float(xp, acc) if is_float else acc
        return res.astype(values.dtype), counts
    return _scatter_extreme(xp, which, ids, n_groups, values, valid)


def _scatter_extreme(xp: Any, which: str, ids: Any, n_groups: int, values: Any,
                     valid: Any) -> tuple[Any, Any]:
    counts = group_count(xp, ids, n_groups, valid)
    if valid is not None:
        ids, values = ids[valid], values[valid]
    is_float = values.dtype.kind == "f"
    if is_float:
        # NaN is the greatest value: compare through the order-preserving integer image
        keys = values.astype(np.float64).view(np.int64)
        keys = keys ^ ((keys >> 63) & np.int64(0x7FFFFFFFFFFFFFFF))
        info = np.iinfo(np.int64)
        out = xp.full(n_groups, info.max if which == "min" else info.min, dtype=np.int64)
        (_xp.scatter_min if which == "min" else _xp.scatter_max)(xp, out, ids, keys)
        return _key_to_float(xp, out).astype(values.dtype), counts
    src = values.view(np.uint8) if values.dtype.kind == "b" else values
    info = np.iinfo(src.dtype)
    out = xp.full(n_groups, info.max if which == "min" else info.min, dtype=src.dtype)
    (_xp.scatter_min if which == "min" else _xp.scatter_max)(xp, out, ids, src)
    return out.astype(values.dtype), counts


def group_min(xp: Any, ids: Any, n_groups: int, values: Any, valid: Any = None) -> tuple[Any, Any]:
    """Minimum per group and the count of valid rows per group (0 means the min is undefined)."""
    return _group_extreme(xp, "min", ids, n_groups, values, valid)


def group_max(xp: Any, ids: Any, n_groups: int, values: Any, valid: Any = None) -> tuple[Any, Any]:
    """Maximum per group and the count of valid rows per group (0 means the max is undefined)."""
    return _group_extreme(xp, "max", ids, n_groups, values, valid)
