"""The db-benchmark questions: 10 group-by and 5 join questions.

Each solution implements every question under the same id and with the same output
columns, so the runner can compare result shapes and checksums (db-benchmark's ``chk``:
the sums of the numeric result columns named in ``chk``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

HBM_BYTES_PER_S = 3.0e12  # H100 HBM3, the bandwidth floor's denominator


@dataclass(frozen=True)
class Question:
    """One benchmark question.

    Attributes
    ----------
    qid : str
        ``q1``..``q10`` (group-by) or ``q1``..``q5`` (join), as db-benchmark numbers them.
    name : str
        db-benchmark's question text.
    reads : dict
        Table name -> columns the question reads (for the bandwidth floor).
    chk : tuple of str
        Result columns whose sums form the checksum.
    """

    task: str
    qid: str
    name: str
    reads: dict[str, tuple[str, ...]]
    chk: tuple[str, ...]


ALL = ("id1", "id2", "id3", "id4", "id5", "id6")

GROUPBY = [
    Question("groupby", "q1", "sum v1 by id1", {"x": ("id1", "v1")}, ("v1",)),
    Question("groupby", "q2", "sum v1 by id1:id2", {"x": ("id1", "id2", "v1")}, ("v1",)),
    Question("groupby", "q3", "sum v1 mean v3 by id3", {"x": ("id3", "v1", "v3")},
             ("v1", "v3")),
    Question("groupby", "q4", "mean v1:v3 by id4", {"x": ("id4", "v1", "v2", "v3")},
             ("v1", "v2", "v3")),
    Question("groupby", "q5", "sum v1:v3 by id6", {"x": ("id6", "v1", "v2", "v3")},
             ("v1", "v2", "v3")),
    Question("groupby", "q6", "median v3 sd v3 by id4 id5", {"x": ("id4", "id5", "v3")},
             ("median_v3", "sd_v3")),
    Question("groupby", "q7", "max v1 - min v2 by id3", {"x": ("id3", "v1", "v2")},
             ("range_v1_v2",)),
    Question("groupby", "q8", "largest two v3 by id6", {"x": ("id6", "v3")},
             ("largest2_v3",)),
    Question("groupby", "q9", "regression v1 v2 by id2 id4", {"x": ("id2", "id4", "v1", "v2")},
             ("r2",)),
    Question("groupby", "q10", "sum v3 count by id1:id6", {"x": (*ALL, "v3")},
             ("v3", "count")),
]

X_ALL = (*ALL, "v1")
JOIN = [
    Question("join", "q1", "small inner on int", {"x": X_ALL, "small": ("id1", "id4", "v2")},
             ("v1", "v2")),
    Question("join", "q2", "medium inner on int",
             {"x": X_ALL, "medium": ("id1", "id2", "id4", "id5", "v2")}, ("v1", "v2")),
    Question("join", "q3", "medium outer on int",
             {"x": X_ALL, "medium": ("id1", "id2", "id4", "id5", "v2")}, ("v1", "v2")),
    Question("join", "q4", "medium inner on factor",
             {"x": X_ALL, "medium": ("id1", "id2", "id4", "id5", "v2")}, ("v1", "v2")),
    Question("join", "q5", "big inner on int", {"x": X_ALL, "big": (*ALL, "v2")}, ("v1", "v2")),
]

QUESTIONS = {"groupby": GROUPBY, "join": JOIN}

# join questions: (right table, key, how); every solution renames the right table's
# non-key columns that clash with x's to "<table>_<name>" (DuckDB's SQL in db-benchmark)
JOIN_SPEC = {
    "q1": ("small", "id1", "inner"),
    "q2": ("medium", "id2", "inner"),
    "q3": ("medium", "id2", "left"),
    "q4": ("medium", "id5", "inner"),
    "q5": ("big", "id3", "inner"),
}


def column_bytes(column: pa.ChunkedArray | pa.Array) -> int:
    """Bytes a scan of ``column`` reads at least: fixed-width values (dictionary codes for
    strings) plus a validity bitmap when it has nulls."""
    n = len(column)
    typ = column.type
    width = (typ.index_type if pa.types.is_dictionary(typ) else typ).bit_width // 8
    return n * width + (-(-n // 8) if column.null_count else 0)


def floor_ms(question: Question, tables: dict[str, pa.Table]) -> float:
    """Bytes of the input columns ``question`` reads / 3.0e12 B/s (H100 HBM3), in ms."""
    total = sum(column_bytes(tables[t].column(c)) for t, cols in question.reads.items()
                for c in cols)
    return total / HBM_BYTES_PER_S * 1e3
