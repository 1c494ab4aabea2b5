"""pandas: db-benchmark's groupby-pandas.py / join-pandas.py questions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from ..questions import JOIN_SPEC, Question
from .base import Solution, right_renames

GB = {"as_index": False, "sort": False, "observed": True, "dropna": False}


class PandasSolution(Solution):
    name = "pandas"

    def __init__(self) -> None:
        self.t: dict[str, Any] = {}

    def version(self) -> str:
        import pandas as pd

        return pd.__version__

    def load(self, task: str, tables: dict[str, pa.Table]) -> dict[str, float]:
        # dictionary columns arrive as 'category', as db-benchmark's astype('category')
        self.t = {name: t.to_pandas() for name, t in tables.items()}
        return {}

    def run(self, q: Question) -> Any:
        if q.task == "join":
            return self._join(q)
        x = self.t["x"]
        match q.qid:
            case "q1":
                return x.groupby("id1", **GB).agg(v1=("v1", "sum"))
            case "q2":
                return x.groupby(["id1", "id2"], **GB).agg(v1=("v1", "sum"))
            case "q3":
                return x.groupby("id3", **GB).agg(v1=("v1", "sum"), v3=("v3", "mean"))
            case "q4":
                return x.groupby("id4", **GB).agg(
                    v1=("v1", "mean"), v2=("v2", "mean"), v3=("v3", "mean"))
            case "q5":
                return x.groupby("id6", **GB).agg(
                    v1=("v1", "sum"), v2=("v2", "sum"), v3=("v3", "sum"))
            case "q6":
                return x.groupby(["id4", "id5"], **GB).agg(
                    median_v3=("v3", "median"), sd_v3=("v3", "std"))
            case "q7":
                ans = x.groupby("id3", **GB).agg(v1=("v1", "max"), v2=("v2", "min"))
                ans["range_v1_v2"] = ans["v1"] - ans["v2"]
                return ans[["id3", "range_v1_v2"]]
            case "q8":
                ans = (x[~x["v3"].isna()][["id6", "v3"]].sort_values("v3", ascending=False)
                       .groupby("id6", **GB).head(2))
                ans = ans.rename(columns={"v3": "largest2_v3"})
                return ans.reset_index(drop=True)
            case "q9":
                return _r2(x)
            case "q10":
                return x.groupby(["id1", "id2", "id3", "id4", "id5", "id6"], **GB).agg(
                    v3=("v3", "sum"), count=("v1", "size"))
        raise KeyError(q.qid)

    def _join(self, q: Question) -> Any:
        table, key, how = JOIN_SPEC[q.qid]
        right = self.t[table]
        right = right.rename(columns=right_renames(table, list(right.columns), key))
        return self.t["x"].merge(right, how=how, on=key)

    def shape(self, ans: Any) -> tuple[int, int]:
        return ans.shape

    def column_sum(self, ans: Any, name: str) -> float:
        col = ans[name].to_numpy(dtype=np.float64, na_value=np.nan)
        return float(np.nansum(col))

    def free(self) -> None:
        self.t = {}

    def note(self, q: Question) -> str:
        if q.task == "groupby" and q.qid == "q9":
            return "corr from grouped sums (db-benchmark's pandas uses a per-group apply)"
        return ""


def _r2(x: Any) -> Any:
    """``corr(v1, v2)^2`` by id2, id4 from grouped sums (pairwise-complete rows)."""
    v1 = x["v1"].to_numpy(dtype=np.float64, na_value=np.nan)
    v2 = x["v2"].to_numpy(dtype=np.float64, na_value=np.nan)
    both = ~(np.isnan(v1) | np.isnan(v2))
    if not both.all():
        v1 = np.where(both, v1, np.nan)
        v2 = np.where(both, v2, np.nan)
    tmp = x[["id2", "id4"]].assign(a=v1, b=v2, aa=v1 * v1, bb=v2 * v2, ab=v1 * v2)
    s = tmp.groupby(["id2", "id4"], **GB).agg(
        n=("a", "count"), a=("a", "sum"), b=("b", "sum"), aa=("aa", "sum"),
        bb=("bb", "sum"), ab=("ab", "sum"))
    n = s["n"].to_numpy(np.float64)
    cov = n * s["ab"].to_numpy() - s["a"].to_numpy() * s["b"].to_numpy()
    va = n * s["aa"].to_numpy() - s["a"].to_numpy() ** 2
    vb = n * s["bb"].to_numpy() - s["b"].to_numpy() ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = cov * cov / (va * vb)
    r2[(n < 2) | (va <= 0) | (vb <= 0)] = np.nan
    return s[["id2", "id4"]].assign(r2=r2)
