"""Child of the SQL kill test: runs statements on a persistent database forever.

Usage: ``python persistent_crash_child.py DB LOG SEED``. Before each statement it appends
``{"begin": sql, "before": state, "after": state}`` to LOG, and ``{"done": 1}`` after it
returns. A state is the sorted list of ``[id, v]`` rows of table ``t`` plus the row count
of table ``c`` (null when absent), computed by a pure-Python model of the statements.
"""

from __future__ import annotations

import json
import sys

import numpy as np

import xpdb


def main(path: str, log_path: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    db = xpdb.connect(path, device="cpu")
    if "t" not in db.tables():
        db.sql("CREATE TABLE t (id BIGINT, v BIGINT, s VARCHAR)")
    rows = {int(i): int(v) for i, v in db.sql("SELECT id, v FROM t").fetchall()}
    c = db.sql("SELECT count(*) FROM c").fetchall()[0][0] if "c" in db.tables() else None
    next_id = max(rows, default=0) + 1
    with open(log_path, "a", buffering=1) as log:
        while True:
            op = rng.integers(0, 4)
            new, new_c = dict(rows), c
            if op == 0 or len(rows) < 20:
                n = int(rng.integers(1, 400))
                ids = range(next_id, next_id + n)
                next_id += n
                values = ", ".join(f"({i}, {i * 2}, 's{i}')" for i in ids)
                sql = f"INSERT INTO t VALUES {values}"
                new.update({i: i * 2 for i in ids})
            elif op == 1:
                r = int(rng.integers(0, 3))
                sql = f"UPDATE t SET v = v + 1 WHERE id % 3 = {r}"
                new = {i: v + 1 if i % 3 == r else v for i, v in rows.items()}
            elif op == 2:
                r = int(rng.integers(0, 5))
                sql = f"DELETE FROM t WHERE id % 5 = {r} AND v % 2 = 1"
                new = {i: v for i, v in rows.items() if not (i % 5 == r and v % 2 == 1)}
            else:
                sql = "CREATE OR REPLACE TABLE c AS SELECT * FROM t WHERE v % 2 = 0"
                new_c = sum(1 for v in rows.values() if v % 2 == 0)
            log.write(json.dumps({"begin": sql[:60], "before": state(rows, c),
                                  "after": state(new, new_c)}) + "\n")
            db.sql(sql)
            log.write(json.dumps({"done": 1}) + "\n")
            rows, c = new, new_c


def state(rows: dict[int, int], c: int | None) -> list:
    return [sorted([i, v] for i, v in rows.items()), c]


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
