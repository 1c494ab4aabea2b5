"""Relational kernels, written once against the array namespace ``xp`` of their columns.

Module map:

- ``_xp``: small helpers that fill gaps between NumPy and CuPy (scatter reductions...).
- ``keys``: order-preserving integer codes of key columns; factorize; joint factorize.
- ``selection``: filter, take, concat of tables.
- ``expr``: arithmetic, comparison, three-valued logic, CASE, COALESCE, NULLIF, IN, BETWEEN.
- ``cast``: casts between logical types.
- ``strings``: string functions on dictionaries.
- ``datetime``: extract, date_trunc, date and interval arithmetic.
- ``groupby``: hash/sort group-by aggregation, per shard and combined.
- ``join``: inner/left/right/full/semi/anti/cross joins returning row indices.
- ``sort``: multi-key sort, top-k, distinct.
- ``window``: ranking, offsets and framed aggregates over partitions.

Where CuPy has a gap or a hand-written kernel is measurably faster, the module holds a pair:
a CuPy kernel built through ``xp`` in a cached per-device factory and a NumPy twin with the
same signature; tests compare the two.
"""
