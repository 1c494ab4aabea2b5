"""Kill -9 a process running SQL statements on a persistent database at random moments:
every reopen shows the state after the last committed statement (or after the one that
was running, if its commit landed), never a mix."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import xpdb

CHILD = Path(__file__).with_name("persistent_crash_child.py")
ROOT = Path(__file__).resolve().parents[2]
KILLS = 12


def read_state(path: Path) -> list:
    with xpdb.connect(path, device="cpu") as db:
        rows = db.sql("SELECT id, v, s FROM t").fetchall()
        assert all(s == f"s{i}" for i, _, s in rows)  # no torn row
        c = db.sql("SELECT count(*) FROM c").fetchall()[0][0] if "c" in db.tables() else None
        return [sorted([i, v] for i, v, _ in rows), c]


@pytest.mark.slow
def test_kill_sql_writer_repeatedly(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    db_path = tmp_path / "db"
    # the child imports xpdb from this checkout, and its dependencies from where ours are
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    outcomes = {"before": 0, "after": 0}
    expected = None
    for k in range(KILLS):
        log = tmp_path / f"log{k}.jsonl"
        log.touch()
        child = subprocess.Popen([sys.executable, str(CHILD), str(db_path), str(log), str(k)],
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        target = int(rng.integers(2, 12))
        deadline = time.monotonic() + 60
        while log.read_text().count("\n") < target and child.poll() is None:
            assert time.monotonic() < deadline, "the child made no progress"
            time.sleep(0.002)
        time.sleep(float(rng.uniform(0, 0.03)))
        child.send_signal(signal.SIGKILL)
        _, err = child.communicate()
        assert child.returncode == -signal.SIGKILL, err.decode()[-3000:]
        entries = []
        for line in log.read_text().splitlines():
            with contextlib.suppress(ValueError):  # the kill may cut the last line short
                entries.append(json.loads(line))
        begins = [e for e in entries if "begin" in e]
        if expected is not None and begins:
            assert begins[0]["before"] == expected  # the child started where we left off
        allowed = []
        if begins:
            last = begins[-1]
            done = len([e for e in entries if "done" in e]) == len(begins)
            allowed = [last["after"]] if done else [last["before"], last["after"]]
        got = read_state(db_path)
        if allowed:
            assert got in allowed, (k, begins[-1]["begin"])
            if len(allowed) == 2 and allowed[0] != allowed[1]:
                outcomes["before" if got == allowed[0] else "after"] += 1
        expected = got
    print(f"{KILLS} kills: {outcomes}")
