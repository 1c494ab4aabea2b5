"""db-benchmark data, generated with NumPy.

The distributions follow db-benchmark's R generators (``_data/groupby-datagen.R`` and
``_data/join-datagen.R`` of h2oai/db-benchmark, continued by duckdblabs/db-benchmark); the
random streams differ (NumPy's PCG64, seed 108 like the R scripts' ``set.seed(108)``), so
the values are not R's, but every column's law, the group counts, the NA rules and the join
key overlaps are. Everything is vectorized: 1e8 rows take seconds, not minutes.

String columns are pyarrow dictionary arrays (int32 codes into the distinct strings), the
form pandas reads as ``category``, Polars as ``Categorical`` and xpdb as its native strings.

Usage::

    python benchmarks/dbbench/datagen.py groupby --rows 1e7 --k 100 --nas 0 --sort 0 --out data/
    python benchmarks/dbbench/datagen.py join --rows 1e7 --nas 0 --out data/
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SEED = 108


# -- names ----------------------------------------------------------------------------------
def pretty_sci(x: float) -> str:
    """db-benchmark's short number format: 1e7 -> '1e7', 2e4 -> '2e4', 1.5e7 -> '1.5e7'.

    Examples
    --------
    >>> pretty_sci(1e7), pretty_sci(20000), pretty_sci(100), pretty_sci(1.5e7)
    ('1e7', '2e4', '1e2', '1.5e7')
    """
    mant, _, exp = f"{float(x):e}".partition("e")
    return f"{mant.rstrip('0').rstrip('.')}e{int(exp)}"


def groupby_name(n: int, k: int, nas: int = 0, sort: int = 0) -> str:
    """``G1_{N}_{K}_{nas}_{sort}``, e.g. ``G1_1e7_1e2_0_0``."""
    return f"G1_{pretty_sci(n)}_{pretty_sci(k)}_{nas}_{sort}"


def join_sizes(n: int) -> dict[str, int]:
    """Rows of the right-hand tables: small N/1e6, medium N/1e3, big N.

    The R generator refuses fewer than 1e7 rows; below that the small and medium tables
    get at least 10 rows, so tiny test data still has keys in both key sets.
    """
    return {"small": max(n // 10**6, 10), "medium": max(n // 10**3, 10), "big": n}


def join_names(n: int, nas: int = 0, sort: int = 0) -> dict[str, str]:
    """Names of the four join tables: ``x`` (``J1_1e7_NA_0_0``) and small/medium/big."""
    x = f"J1_{pretty_sci(n)}_NA_{nas}_{sort}"
    out = {"x": x}
    for side, rows in join_sizes(n).items():
        out[side] = x.replace("NA", pretty_sci(rows), 1)
    return out


# -- building blocks --------------------------------------------------------------------------
def id_strings(values: np.ndarray, width: int = 0) -> pa.Array:
    """``sprintf("id%0{width}d", values)`` for an int array, built by pyarrow compute."""
    text = pc.cast(pa.array(values), pa.string())
    if width:
        text = pc.utf8_lpad(text, width, "0")
    return pc.binary_join_element_wise("id", text, "")


def dict_array(codes: np.ndarray, dictionary: pa.Array, null_mask: np.ndarray | None = None
               ) -> pa.DictionaryArray:
    """A dictionary array from int32 codes (and a mask, True = null) without row loops."""
    indices = pa.array(codes.astype(np.int32, copy=False), mask=null_mask)
    return pa.DictionaryArray.from_arrays(indices, dictionary)


def int_array(values: np.ndarray, null_mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(values, mask=null_mask)


def runif_round(rng: np.random.Generator, n: int, digits: int = 6) -> np.ndarray:
    """``round(runif(n, max=100), digits)``."""
    out = rng.random(n)
    out *= 100.0
    return np.round(out, digits, out=out)


def sample_rows(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """``sample(n, size, replace=FALSE)`` as 0-based row numbers."""
    return rng.choice(n, size=size, replace=False, shuffle=False)


def row_mask(n: int, rows: np.ndarray) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    return mask


# -- group-by data ----------------------------------------------------------------------------
def groupby_table(n: float, k: float, nas: int = 0, sort: int = 0, seed: int = SEED) -> pa.Table:
    """The group-by table ``G1_{N}_{K}_{nas}_{sort}`` (groupby-datagen.R).

    id1, id2: ``sample(sprintf("id%03d", 1:K), N, TRUE)``; id3:
    ``sample(sprintf("id%010d", 1:(N/K)), N, TRUE)``; id4, id5: ``sample(K, N, TRUE)``; id6:
    ``sample(N/K, N, TRUE)``; v1: ``sample(5, N, TRUE)``; v2: ``sample(15, N, TRUE)``; v3:
    ``round(runif(N, max=100), 6)``. With ``nas`` > 0, ``as.integer(N * nas/100)`` rows drawn
    without replacement are NA, separately in each of the nine columns. ``sort=1`` orders the
    rows by id1..id6, NAs first (``setkeyv``).

    Examples
    --------
    >>> t = groupby_table(1000, 10)
    >>> t.num_rows, t.column_names[:3], t.column("v2").type
    (1000, ['id1', 'id2', 'id3'], DataType(int32))
    """
    n, k = int(n), int(k)
    if n < 1 or k < 1:
        raise ValueError(f"need rows >= 1 and k >= 1, got rows={n!r}, k={k!r}")
    if not 0 <= nas <= 100 or sort not in (0, 1):
        raise ValueError(f"need 0 <= nas <= 100 and sort in (0, 1), got {nas!r}, {sort!r}")
    rng = np.random.default_rng(seed)
    nk = max(n // k, 1)
    small_dict = id_strings(np.arange(1, k + 1), 3)
    big_dict = id_strings(np.arange(1, nk + 1), 10)
    # id%03d strings sort numerically only up to 999; keep code order == string order
    small_dict, small_remap = _sorted_dictionary(small_dict, k > 999)
    big_dict, big_remap = _sorted_dictionary(big_dict, nk > 9_999_999_999)

    def draw(m: int) -> np.ndarray:
        return rng.integers(0, m, size=n, dtype=np.int32)

    cols: dict[str, np.ndarray] = {
        "id1": small_remap[draw(k)],
        "id2": small_remap[draw(k)],
        "id3": big_remap[draw(nk)],
        "id4": draw(k) + 1,
        "id5": draw(k) + 1,
        "id6": draw(nk) + 1,
        "v1": draw(5) + 1,
        "v2": draw(15) + 1,
        "v3": runif_round(rng, n),
    }
    masks: dict[str, np.ndarray | None] = dict.fromkeys(cols)
    n_nas = int(n * nas / 100)
    if n_nas:
        for name in cols:
            masks[name] = row_mask(n, sample_rows(rng, n, n_nas))
    if sort:
        keys = []
        for name in ("id6", "id5", "id4", "id3", "id2", "id1"):  # lexsort: last key first
            key = cols[name].astype(np.int64)
            if masks[name] is not None:
                key[masks[name]] = -1  # NA first, as data.table's setkeyv
            keys.append(key)
        order = np.lexsort(keys)
        cols = {name: v[order] for name, v in cols.items()}
        masks = {name: None if m is None else m[order] for name, m in masks.items()}
    arrays = {
        "id1": dict_array(cols["id1"], small_dict, masks["id1"]),
        "id2": dict_array(cols["id2"], small_dict, masks["id2"]),
        "id3": dict_array(cols["id3"], big_dict, masks["id3"]),
    }
    for name in ("id4", "id5", "id6", "v1", "v2", "v3"):
        arrays[name] = int_array(cols[name], masks[name])
    return pa.table(arrays)


def _sorted_dictionary(dictionary: pa.Array, needed: bool) -> tuple[pa.Array, np.ndarray]:
    """The dictionary in string order and the map old code -> new code (identity if sorted)."""
    if not needed:
        return dictionary, np.arange(len(dictionary), dtype=np.int32)
    order = pc.array_sort_indices(dictionary).to_numpy()
    remap = np.empty(len(order), dtype=np.int32)
    remap[order] = np.arange(len(order), dtype=np.int32)
    return dictionary.take(pa.array(order)), remap


# -- join data --------------------------------------------------------------------------------
@dataclass
class KeySet:
    """``split_xlr(n)``: a permutation of 1..1.1n split into common (0.9n), left-only
    (0.1n) and right-only (0.1n) keys."""

    x: np.ndarray
    l: np.ndarray  # noqa: E741  (the R generator's name)
    r: np.ndarray
    dictionary: pa.Array = field(repr=False)  # "id<key>" for keys 1..1.1n, then "idNA"

    @classmethod
    def split(cls, rng: np.random.Generator, n: int) -> KeySet:
        n_side = n // 10
        total = n + n_side
        key = rng.permutation(total).astype(np.int32) + 1
        # sprintf("id%.0f", NA) is "idNA" in R: rows whose int key is NA keep that string
        names = pa.concat_arrays([id_strings(np.arange(1, total + 1)), pa.array(["idNA"])])
        return cls(key[: n - n_side], key[n - n_side: n], key[n:], names)

    @property
    def lhs(self) -> np.ndarray:
        return np.concatenate([self.x, self.l])

    @property
    def rhs(self) -> np.ndarray:
        return np.concatenate([self.x, self.r])

    @property
    def na_code(self) -> int:
        return len(self.dictionary) - 1


def sample_all(rng: np.random.Generator, values: np.ndarray, size: int) -> np.ndarray:
    """``sample_all(x, size)``: every value at least once, the rest drawn with replacement,
    shuffled."""
    if len(values) > size:
        raise ValueError(f"sample_all: {len(values)} values do not fit in {size} rows")
    extra = values[rng.integers(0, len(values), size=size - len(values))]
    out = np.concatenate([values, extra])
    rng.shuffle(out)
    return out


def join_tables(n: float, nas: int = 0, sort: int = 0, seed: int = SEED) -> dict[str, pa.Table]:
    """The join tables ``x`` (N rows), ``small`` (N/1e6), ``medium`` (N/1e3), ``big`` (N).

    Follows join-datagen.R: three key sets (``split_xlr``) of N/1e6, N/1e3 and N keys; x
    draws id1..id3 from the common+left keys, the right tables from the common+right keys
    (``sample_all``: every key appears), so about 90% of the keys match. id4..id6 are
    ``sprintf("id%.0f", id1..id3)``; v1, v2 are ``round(runif(, max=100), 6)``. With
    ``nas`` > 0, ``nas``% of each id column's distinct values become NA in x (all their
    rows) and ``nas``% of v1's rows; the right tables have no NAs. ``sort=1`` orders x by
    id1, id2, id3 and small/medium/big by id1/id2/id3.

    Examples
    --------
    >>> ts = join_tables(20_000)
    >>> {k: (t.num_rows, t.num_columns) for k, t in ts.items()}
    {'x': (20000, 7), 'small': (10, 3), 'medium': (20, 5), 'big': (20000, 7)}
    """
    n = int(n)
    if n < 1:
        raise ValueError(f"need rows >= 1, got {n!r}")
    if not 0 <= nas <= 100 or sort not in (0, 1):
        raise ValueError(f"need 0 <= nas <= 100 and sort in (0, 1), got {nas!r}, {sort!r}")
    sizes = join_sizes(n)
    rng = np.random.default_rng(seed)
    keys = [KeySet.split(rng, sizes[s]) for s in ("small", "medium", "big")]

    lhs = {f"id{i + 1}": sample_all(rng, ks.lhs, n) for i, ks in enumerate(keys)}
    if sort:
        order = np.lexsort([lhs["id3"], lhs["id2"], lhs["id1"]])
        lhs = {name: v[order] for name, v in lhs.items()}
    v1 = runif_round(rng, n)
    masks: dict[str, np.ndarray | None] = {"id1": None, "id2": None, "id3": None, "v1": None}
    if nas:
        for i, ks in enumerate(keys):
            name = f"id{i + 1}"
            distinct = ks.lhs
            nna = int(len(distinct) * nas / 100)
            if nna:
                chosen = distinct[sample_rows(rng, len(distinct), nna)]
                lut = np.zeros(len(ks.dictionary), dtype=bool)
                lut[chosen] = True
                masks[name] = lut[lhs[name]]
        nna = int(n * nas / 100)
        if nna:
            masks["v1"] = row_mask(n, sample_rows(rng, n, nna))
    x = _join_table(lhs, keys, masks, "v1", v1)

    out = {"x": x}
    want = {"small": 1, "medium": 2, "big": 3}
    for side, n_ids in want.items():
        rows = sizes[side]
        ids = {f"id{i + 1}": sample_all(rng, keys[i].rhs, rows) for i in range(n_ids)}
        if sort:
            order = np.argsort(ids[f"id{n_ids}"], kind="stable")
            ids = {name: v[order] for name, v in ids.items()}
        out[side] = _join_table(ids, keys, {}, "v2", runif_round(rng, rows))
    return out


def _join_table(ids: dict[str, np.ndarray], keys: list[KeySet],
                masks: dict[str, np.ndarray | None], vname: str, v: np.ndarray) -> pa.Table:
    arrays: dict[str, pa.Array] = {}
    for name, values in ids.items():
        arrays[name] = int_array(values, masks.get(name))
    for name, values in ids.items():
        i = int(name[2:]) - 1
        codes = values - 1
        mask = masks.get(name)
        if mask is not None:
            codes = np.where(mask, keys[i].na_code, codes)
        arrays[f"id{i + 4}"] = dict_array(codes, keys[i].dictionary)
    arrays[vname] = pa.array(v, mask=masks.get(vname))
    return pa.table(arrays)


# -- files ------------------------------------------------------------------------------------
def write_parquet(tables: dict[str, pa.Table], out_dir: str) -> list[str]:
    """Write ``{name: table}`` as ``out_dir/name.parquet``; returns the paths."""
    import pyarrow.parquet as pq

    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for name, table in tables.items():
        path = os.path.join(out_dir, f"{name}.parquet")
        # Parquet's dictionary encoding of the join tables' 1e7-value dictionaries is ~10x
        # slower than plain pages (25 s against 2 s for J1_1e7 big); readers re-encode.
        pq.write_table(table, path, use_dictionary=False)
        paths.append(path)
    return paths


def read_parquet(path: str) -> pa.Table:
    """Read a table written by :func:`write_parquet`, string columns as dictionaries again
    (as generated), so every engine loads the same types whether data was read or made."""
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    strings = [f.name for f in schema if pa.types.is_string(f.type)
               or pa.types.is_large_string(f.type) or pa.types.is_dictionary(f.type)]
    return pq.read_table(path, read_dictionary=strings)


def groupby_data(n: float, k: float, nas: int = 0, sort: int = 0) -> dict[str, pa.Table]:
    """``{"x": table}`` named as db-benchmark names it, under key ``"x"``."""
    return {"x": groupby_table(n, k, nas, sort)}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("task", choices=["groupby", "join"])
    p.add_argument("--rows", type=float, default=1e7)
    p.add_argument("--k", type=float, default=100, help="groupby: K (groups of id1, id2, id4, id5)")
    p.add_argument("--nas", type=int, default=0, help="percent of NAs")
    p.add_argument("--sort", type=int, default=0, choices=[0, 1])
    p.add_argument("--out", default="data")
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    if a.task == "groupby":
        tables = {groupby_name(int(a.rows), int(a.k), a.nas, a.sort):
                  groupby_table(a.rows, a.k, a.nas, a.sort)}
    else:
        names = join_names(int(a.rows), a.nas, a.sort)
        tables = {names[side]: t for side, t in join_tables(a.rows, a.nas, a.sort).items()}
    t1 = time.perf_counter()
    paths = write_parquet(tables, a.out)
    t2 = time.perf_counter()
    for path in paths:
        print(path)
    print(f"generated in {t1 - t0:.1f}s, written in {t2 - t1:.1f}s")


if __name__ == "__main__":
    main()
