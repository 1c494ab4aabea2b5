"""Child process of the kill test: writes to a store forever, logging every commit.

Usage: ``python crash_child.py DB LOG SEED``. Before each operation it appends
``{"begin": table, "before": state, "after": state}`` to LOG, and ``{"done": table}``
after the operation returns; a state is ``null`` (no table) or ``[rows, sum of ids]``.
Rows satisfy ``s == f"s{id}"``, ``u == 3 * id``, ``ts == id`` ns, ``dec == id / 100`` so
the parent can check contents after a SIGKILL.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal

import numpy as np
import pyarrow as pa

from xpdb.storage import Store, delta

TABLES = ("a", "b", "c")
SCHEMA = pa.schema([
    ("id", pa.int64()), ("s", pa.string()), ("u", pa.uint64()),
    ("ts", pa.timestamp("ns", tz="UTC")), ("dec", pa.decimal128(12, 2)),
])


def rows(ids: np.ndarray) -> pa.Table:
    ids = np.asarray(ids, dtype=np.int64)
    return pa.Table.from_arrays([
        pa.array(ids), pa.array([f"s{i}" for i in ids]), pa.array(ids * 3, pa.uint64()),
        pa.array(ids, pa.int64()).cast(pa.timestamp("ns", tz="UTC")),
        pa.array([Decimal(int(i)).scaleb(-2) for i in ids], pa.decimal128(12, 2)),
    ], schema=SCHEMA)


def state(ids: np.ndarray) -> list[int]:
    return [len(ids), int(np.sum(ids, dtype=np.int64))]


def main(db_path: str, log_path: str, seed: int) -> None:
    delta.CHECKPOINT_INTERVAL = 4  # checkpoints happen under kills too
    rng = np.random.default_rng(seed)
    db = Store.open(db_path)
    ids = {t: (db.read(t, ["id"]).column("id").to_numpy() if t in db.tables() else None)
           for t in TABLES}
    next_id = 1 + max((int(v.max()) for v in ids.values() if v is not None and len(v)),
                      default=0)
    with open(log_path, "a") as log:
        def note(**entry: object) -> None:
            log.write(json.dumps(entry) + "\n")
            log.flush()

        while True:
            t = TABLES[rng.integers(len(TABLES))]
            cur = ids[t]
            before = None if cur is None else state(cur)
            r = rng.random()
            new = np.arange(next_id, next_id + int(rng.integers(0, 40)), dtype=np.int64)
            if cur is None or r < 0.08:
                shards = int(rng.integers(1, 4))
                key = [None, "id", "s"][rng.integers(3)]
                first = new if rng.random() < 0.7 else None
                after_ids = first if first is not None else np.zeros(0, np.int64)
                note(begin=t, before=before, after=state(after_ids), op="create")
                db.create_table(t, SCHEMA, shard_key=key, shards=shards,
                                data=None if first is None else rows(first), replace=True)
            elif r < 0.65:
                after_ids = np.concatenate([cur, new])
                note(begin=t, before=before, after=state(after_ids), op="append")
                db.append(t, rows(new))
            elif r < 0.92:
                after_ids = cur[cur % 3 != rng.integers(3)]
                note(begin=t, before=before, after=state(after_ids), op="overwrite")
                db.overwrite(t, rows(after_ids))
            else:
                after_ids = None
                note(begin=t, before=before, after=None, op="drop")
                db.drop_table(t)
            note(done=t)
            ids[t] = after_ids
            next_id += len(new)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
