"""``xpdb demo``: the end-to-end demo on generated NYC-taxi-like trips.

It generates trips into Parquet files (:mod:`.taxi`), loads them into a persistent
database, runs the ETL and the analytics in SQL (:mod:`.steps`: a list of named steps that
later features extend, e.g. ML models and spatial joins), reopens the database to show the
tables persisted, and prints per-step timings per device, CPU and GPU side by side, and
the answers (:mod:`.report`), some of them checked against pandas (:mod:`.check`).

The CLI calls :func:`add_arguments` to declare the demo's options and :func:`run` to run it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any, TextIO

from .steps import STEPS, Context, Step, run_steps
from .taxi import FILE_ROWS, write_trips

#: the default size: the whole demo takes about a minute on the CPU of a 2-core machine
#: (measured: 58 s wall, 4.4 GB peak memory; generation 12 s, steps 34 s, pandas check)
DEFAULT_ROWS = 8_000_000
#: rows of the untimed warm-up run before each device's timed run (the first run pays
#: for imports and caches, on a GPU also for compiling the kernels)
WARMUP_ROWS = 20_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the demo's command-line options on ``parser``."""
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS,
                        help=f"trips to generate (default {DEFAULT_ROWS:,}: about a minute "
                             "on 2 CPU cores)")
    parser.add_argument("--device", action="append", default=None,
                        help="cpu, gpu, gpu:N or auto (repeatable); default: cpu, and gpu "
                             "when one is usable")
    parser.add_argument("--db", default=None, metavar="PATH",
                        help="database directory (default: a fresh temporary one, removed "
                             "at the end unless --keep); its tables trips and clean are "
                             "replaced")
    parser.add_argument("--seed", type=int, default=42, help="random seed of the generator")
    parser.add_argument("--keep", action="store_true",
                        help="keep the generated Parquet files and the temporary database")


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run the demo with the parsed options; returns the process exit code."""
    return demo(rows=args.rows, devices=args.device, db_path=args.db, seed=args.seed,
                keep=args.keep, out=out or sys.stdout)


def demo(rows: int = DEFAULT_ROWS, devices: Sequence[str] | None = None,
         db_path: str | None = None, seed: int = 42, keep: bool = False,
         steps: Sequence[Step] = STEPS, file_rows: int = FILE_ROWS,
         out: TextIO | None = None) -> int:
    """Generate trips, run ``steps`` on each device, print timings and answers.

    Parameters
    ----------
    rows : int
        Trips to generate.
    devices : list of str, optional
        Devices to run on, in order (default: cpu, and gpu when usable).
    db_path : str, optional
        The database directory (default: a temporary one).
    seed : int
        The generator's seed.
    keep : bool
        Keep the temporary files (Parquet and database).
    steps : list of Step
        The pipeline (default :data:`xpdb.demo.steps.STEPS`).
    file_rows : int
        Rows per generated Parquet file.

    Returns
    -------
    int
        0 on success.
    """
    import xpdb

    from ..errors import XpdbError
    from .check import check_devices_agree, check_with_pandas
    from .report import TimingTable, print_answers

    out = out or sys.stdout
    if rows < 1:
        raise XpdbError(f"xpdb demo --rows {rows}: the demo needs at least 1 row (rows=0 "
                        "or less given); try --rows 100000")
    if devices is None:
        devices = ["cpu", "gpu"] if xpdb.gpu_available() else ["cpu"]
    devs = list(dict.fromkeys(xpdb.get_device(d) for d in devices))  # once each, in order
    work = tempfile.mkdtemp(prefix="xpdb-demo-")
    try:
        print(f"xpdb {xpdb.__version__} demo: {rows:,} generated NYC-taxi-like trips "
              f"(seed {seed}) on {', '.join(str(d) for d in devs)}", file=out)
        t0 = time.perf_counter()
        paths = write_trips(os.path.join(work, "trips"), rows, seed, file_rows)
        size = sum(os.path.getsize(p) for p in paths)
        print(f"generated {len(paths)} Parquet file(s), {size / 1e6:,.1f} MB, in "
              f"{time.perf_counter() - t0:,.1f} s: {os.path.dirname(paths[0])}", file=out)
        pattern = os.path.join(work, "trips", "*.parquet")
        db_dir = db_path or os.path.join(work, "db")
        print(f"database: {db_dir}", file=out, flush=True)

        table = TimingTable(steps, [str(d) for d in devs], out)
        answers = {}
        for dev in devs:
            why = "imports, caches, kernel compilation" if dev.is_gpu else "imports, caches"
            print(f"\nwarming up {dev}: an untimed run on {WARMUP_ROWS:,} rows ({why})...",
                  file=out, flush=True)
            _warm_up(dev, work, seed, steps)
            ctx = Context(connect=lambda dev=dev: xpdb.connect(db_dir, device=dev),
                          parquet=pattern)
            print(f"running {len(steps)} steps on {dev}:", file=out)
            table.header([str(dev)])
            run_steps(ctx, steps, dev, lambda t, dev=dev: table.add(str(dev), t))
            table.total(str(dev))
            answers[str(dev)] = ctx.answers
        if len(devs) > 1:
            print("\nmilliseconds per step, side by side:", file=out)
            table.print_table()
        first = answers[str(devs[0])]
        print_answers(steps, first, out)
        print(file=out)
        try:
            for dev in devs[1:]:
                check_devices_agree(first, answers[str(dev)])
                print(f"{dev} and {devs[0]} answers agree", file=out)
            checked = check_with_pandas(first, paths)
        except AssertionError as e:
            print(f"xpdb demo: the answers disagree (a bug; please report it): {e}",
                  file=sys.stderr)
            return 1
        print(f"results agree with pandas on the same data ({', '.join(checked)})", file=out)
        if keep:
            print(f"kept the generated files in {work}", file=out)
        if keep or db_path:
            print(f"explore the database: xpdb shell --db {db_dir}", file=out)
        return 0
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def _warm_up(dev: Any, work: str, seed: int, steps: Sequence[Step]) -> None:
    """Run the steps once on a few rows, untimed, so that the timed run does not include
    first-use costs (imports, caches; on a GPU, compiling the kernels)."""
    import xpdb

    warm = os.path.join(work, "warmup")
    write_trips(os.path.join(warm, "trips"), WARMUP_ROWS, seed + 1)
    db_dir = os.path.join(warm, "db")
    ctx = Context(connect=lambda: xpdb.connect(db_dir, device=dev),
                  parquet=os.path.join(warm, "trips", "*.parquet"))
    run_steps(ctx, steps, dev)
    shutil.rmtree(warm, ignore_errors=True)


__all__ = ["DEFAULT_ROWS", "add_arguments", "demo", "run"]
