"""Kill -9 a writer at random moments; the reopened store is always at a committed state."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from xpdb.storage import Store, hash_shard_ids
from xpdb.storage.catalog import read_catalog

CHILD = Path(__file__).with_name("crash_child.py")
ROOT = Path(__file__).resolve().parents[2]
TABLES = ("a", "b", "c")
KILLS = 30


def allowed_states(log: Path, expected: dict) -> dict:
    """Per table, the states the store may be in after the child died."""
    current = dict(expected)
    pending: dict = {}
    for line in log.read_text().splitlines():
        try:
            e = json.loads(line)
        except ValueError:  # the kill may cut the last line short
            continue
        if "begin" in e:
            t = e["begin"]
            assert e["before"] == current[t], f"child saw {e['before']}, expected {current[t]}"
            pending[t] = e["after"]
        else:
            t = e["done"]
            current[t] = pending.pop(t)
    out = {t: [current[t]] for t in TABLES}
    for t, after in pending.items():
        out[t].append(after)
    return out


def check_table(db: Store, name: str) -> list[int]:
    info = db.table_info(name)
    whole = db.read(name)
    assert whole.schema == info.schema
    ids = whole.column("id").to_numpy()
    assert len(np.unique(ids)) == len(ids)
    assert whole.column("s").to_pylist() == [f"s{i}" for i in ids]
    assert pc.all(pc.equal(whole.column("u"), pa.array(ids * 3, pa.uint64()))).as_py() \
        in (True, None)
    assert whole.column("ts").cast(pa.int64()).to_numpy().tolist() == ids.tolist()
    assert [int(d * 100) for d in whole.column("dec").to_pylist()] == ids.tolist()
    assert db.num_rows(name) == len(ids)
    shards = db.read_shards(name)
    assert len(shards) == info.shards
    if info.shard_key and info.shards > 1:
        for s, part in enumerate(shards):
            assert (hash_shard_ids(part, info.shard_key, info.shards) == s).all()
    return [len(ids), int(ids.sum())]


@pytest.mark.slow
def test_kill_writer_repeatedly(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    db_path = tmp_path / "db"
    expected: dict = dict.fromkeys(TABLES)
    # the child imports xpdb from this checkout, and its dependencies from where ours are
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    outcomes = {"before": 0, "after": 0}
    for k in range(KILLS):
        log = tmp_path / f"log{k}.jsonl"
        log.touch()
        child = subprocess.Popen(
            [sys.executable, str(CHILD), str(db_path), str(log), str(k)], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        target = int(rng.integers(1, 16))
        deadline = time.monotonic() + 30
        while log.read_text().count("\n") < target and child.poll() is None:
            assert time.monotonic() < deadline, "the child made no progress"
            time.sleep(0.002)
        time.sleep(float(rng.uniform(0, 0.05)))
        child.send_signal(signal.SIGKILL)
        _, err = child.communicate()
        assert child.returncode == -signal.SIGKILL, err.decode()[-3000:]

        allowed = allowed_states(log, expected)
        read_catalog(str(db_path))  # valid JSON, valid catalog
        with Store.open(db_path) as db:
            for t in TABLES:
                got = check_table(db, t) if t in db.tables() else None
                assert got in allowed[t], (k, t, got, allowed[t])
                if len(allowed[t]) > 1 and allowed[t][0] != allowed[t][1]:
                    outcomes["before" if got == allowed[t][0] else "after"] += 1
                expected[t] = got
            on_disk = sorted(os.listdir(db_path / "tables")) if (db_path / "tables").exists() \
                else []
            assert on_disk == sorted(db.table_info(t).dir.split("/")[1] for t in db.tables())
    # how kills fell: pending operation lost (before) or committed (after)
    print(f"{KILLS} kills: {outcomes}")
