"""A pandas-like DataFrame and Series over xpdb Tables, on the CPU or a GPU.

Module map:

- ``dataframe``: :class:`DataFrame`, :func:`from_pandas`, :func:`from_arrow`.
- ``concat``: :func:`concat` (rows).
- ``series``: :class:`Series` (operators, missing values, reductions, sorting).
- ``groupby``: :class:`~xpdb.frame.groupby.GroupBy` (``df.groupby(...)``).
- ``merge``: pandas' ``merge`` on the join kernels.
- ``accessors``: ``Series.str`` and ``Series.dt``.
- ``reductions``: whole-column reductions with pandas' semantics.
- ``format``: ``__repr__`` and ``_repr_html_``.
- ``_convert``: constructor inputs and scalars to Columns and Tables.

The main difference from pandas: there is no index. Rows are positional, results are
numbered 0..n-1, and what pandas keeps in an index (group keys, ``value_counts`` values,
``describe`` statistic names) comes back as ordinary columns.
"""

from __future__ import annotations

from .concat import concat
from .dataframe import DataFrame, from_arrow, from_pandas
from .series import Series

__all__ = ["DataFrame", "Series", "concat", "from_arrow", "from_pandas"]
