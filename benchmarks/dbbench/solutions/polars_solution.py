"""Polars: db-benchmark's groupby-polars.py / join-polars.py questions (lazy, collected)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from ..questions import JOIN_SPEC, Question
from .base import Solution, right_renames


class PolarsSolution(Solution):
    name = "polars"

    def __init__(self) -> None:
        self.t: dict[str, Any] = {}

    def available(self) -> str | None:
        try:
            import polars  # noqa: F401
        except ImportError as e:
            return f"polars is not importable: {e}"
        return None

    def version(self) -> str:
        import polars as pl

        return pl.__version__

    def load(self, task: str, tables: dict[str, pa.Table]) -> dict[str, float]:
        import polars as pl

        # dictionary columns arrive as Categorical, as db-benchmark casts them
        self.t = {name: pl.from_arrow(t, rechunk=True) for name, t in tables.items()}
        return {}

    def run(self, q: Question) -> Any:
        import polars as pl

        if q.task == "join":
            table, key, how = JOIN_SPEC[q.qid]
            right = self.t[table]
            right = right.rename(right_renames(table, right.columns, key))
            return self.t["x"].lazy().join(right.lazy(), on=key, how=how).collect()
        x = self.t["x"].lazy()
        col = pl.col
        match q.qid:
            case "q1":
                ans = x.group_by("id1").agg(col("v1").sum())
            case "q2":
                ans = x.group_by(["id1", "id2"]).agg(col("v1").sum())
            case "q3":
                ans = x.group_by("id3").agg(col("v1").sum(), col("v3").mean())
            case "q4":
                ans = x.group_by("id4").agg(col("v1").mean(), col("v2").mean(), col("v3").mean())
            case "q5":
                ans = x.group_by("id6").agg(col("v1").sum(), col("v2").sum(), col("v3").sum())
            case "q6":
                ans = x.group_by(["id4", "id5"]).agg(
                    col("v3").median().alias("median_v3"), col("v3").std().alias("sd_v3"))
            case "q7":
                ans = x.group_by("id3").agg(
                    (col("v1").max() - col("v2").min()).alias("range_v1_v2"))
            case "q8":
                ans = (x.drop_nulls("v3").group_by("id6")
                       .agg(col("v3").top_k(2).alias("largest2_v3")).explode("largest2_v3"))
            case "q9":
                ans = x.group_by(["id2", "id4"]).agg(
                    (pl.corr("v1", "v2", method="pearson") ** 2).alias("r2"))
            case "q10":
                ans = x.group_by(["id1", "id2", "id3", "id4", "id5", "id6"]).agg(
                    col("v3").sum(), pl.len().alias("count"))
            case _:
                raise KeyError(q.qid)
        return ans.collect()

    def shape(self, ans: Any) -> tuple[int, int]:
        return ans.shape

    def column_sum(self, ans: Any, name: str) -> float:
        import polars as pl

        s = ans.get_column(name)
        if s.dtype.is_float():
            return float(s.fill_nan(None).sum())
        return float(s.cast(pl.Int64).sum())

    def free(self) -> None:
        self.t = {}
