"""Run the db-benchmark group-by and join questions on several engines and compare them.

For each task the data is generated once in memory (or read from ``--data-dir``), then each
solution in turn: load (timed apart), and for each question one warm-up run and
``--repeats`` timed runs (the median is reported; the GPU is synchronized before every
clock read); the answer's shape and checksum are recorded and compared across solutions.
The solution's data is freed before the next one loads.

Usage::

    python benchmarks/dbbench/run.py --rows 1e7 --k 100 --nas 0 \\
        --solutions pandas,duckdb,polars,xpdb-cpu,xpdb-gpu --task groupby,join \\
        --repeats 3 --out results/dbbench
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from machine_info import basics

from dbbench import datagen
from dbbench.questions import QUESTIONS, Question, floor_ms
from dbbench.solutions import SOLUTIONS, NotSupported, Solution, make

# which solution's answers the others are compared with, first available wins
REFERENCE_ORDER = ("duckdb", "polars", "pandas", "xpdb-cpu", "xpdb-gpu")
DEFAULT_SOLUTIONS = "pandas,duckdb,polars,xpdb-cpu,xpdb-gpu"


# -- data -------------------------------------------------------------------------------------
def make_data(task: str, rows: int, k: int, nas: int, sort: int,
              data_dir: str | None) -> tuple[str, dict[str, Any], float]:
    """``(dataset name, {table: pyarrow.Table}, seconds)``: read from ``data_dir`` when
    the Parquet files are there, else generated (and written there when given)."""
    t0 = time.perf_counter()
    if task == "groupby":
        name = datagen.groupby_name(rows, k, nas, sort)
        files = {"x": name}
    else:
        files = datagen.join_names(rows, nas, sort)
        name = files["x"]
    if data_dir and all((Path(data_dir) / f"{f}.parquet").exists() for f in files.values()):
        tables = {t: datagen.read_parquet(str(Path(data_dir) / f"{f}.parquet"))
                  for t, f in files.items()}
        return name, tables, time.perf_counter() - t0
    if task == "groupby":
        tables = {"x": datagen.groupby_table(rows, k, nas, sort)}
    else:
        tables = datagen.join_tables(rows, nas, sort)
    if data_dir:
        datagen.write_parquet({files[t]: tb for t, tb in tables.items()}, data_dir)
    return name, tables, time.perf_counter() - t0


# -- timing -----------------------------------------------------------------------------------
def _error(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0][:300] if text else ''}"


def _timed(sol: Solution, q: Question, collect: bool = True) -> tuple[Any, float]:
    if collect:
        gc.collect()
    t0 = time.perf_counter()
    ans = sol.run(q)
    sol.sync()
    return ans, time.perf_counter() - t0


def time_question(sol: Solution, q: Question, repeats: int, max_seconds: float,
                  collect: bool = True) -> dict:
    """One warm-up run (shape and checksum taken from its answer), then up to ``repeats``
    timed runs; the repeats stop after a run slower than ``max_seconds``. ``collect``
    runs ``gc.collect()`` before each run, off the clock, as db-benchmark does."""
    rec: dict[str, Any] = {"status": "ok"}
    try:
        ans, warm = _timed(sol, q, collect)
    except NotSupported as e:
        return {"status": "not supported", "reason": str(e)}
    except Exception as e:  # noqa: BLE001  (a failing engine must not stop the others)
        return {"status": "error", "reason": _error(e)}
    note = sol.note(q)
    if note:
        rec["note"] = note
    rec["warmup_ms"] = warm * 1e3
    try:
        rec["out_rows"], rec["out_cols"] = (int(v) for v in sol.shape(ans))
        rec["chk"] = sol.checksum(ans, q)
    except Exception as e:  # noqa: BLE001
        rec["status"], rec["reason"] = "error", "checksum: " + _error(e)
    sol.drop(ans)
    del ans
    times: list[float] = []
    if warm <= max_seconds:
        for _ in range(repeats):
            try:
                ans, dt = _timed(sol, q, collect)
            except Exception as e:  # noqa: BLE001
                rec["status"], rec["reason"] = "error", "timed run: " + _error(e)
                break
            sol.drop(ans)
            del ans
            times.append(dt)
            if dt > max_seconds:
                break
    if not times:
        times = [warm]
        rec["warmup_only"] = True
    rec["times_s"] = times
    rec["median_ms"] = statistics.median(times) * 1e3
    return rec


# -- checking ---------------------------------------------------------------------------------
def _close(a: float, b: float, rtol: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=rtol, abs_tol=rtol)


def compare(records: list[dict], rtol: float) -> None:
    """Mark each answer ``match`` True/False against the reference solution's answer to the
    same question (same rows, columns and checksums within ``rtol``)."""
    by_q: dict[tuple[str, str], list[dict]] = {}
    for r in records:
        if r["status"] == "ok" and "chk" in r:
            by_q.setdefault((r["task"], r["qid"]), []).append(r)
    for recs in by_q.values():
        order = {s: i for i, s in enumerate(REFERENCE_ORDER)}
        ref = min(recs, key=lambda r: order.get(r["solution"], len(order)))
        for r in recs:
            r["reference"] = ref["solution"]
            problems = []
            if (r["out_rows"], r["out_cols"]) != (ref["out_rows"], ref["out_cols"]):
                problems.append(f"shape {r['out_rows']}x{r['out_cols']} vs "
                                f"{ref['out_rows']}x{ref['out_cols']}")
            if len(r["chk"]) != len(ref["chk"]) or not all(
                    _close(a, b, rtol) for a, b in zip(r["chk"], ref["chk"], strict=False)):
                problems.append(f"chk {_fmt_chk(r['chk'])} vs {_fmt_chk(ref['chk'])}")
            r["match"] = not problems
            if problems:
                r["mismatch"] = f"{'; '.join(problems)} ({ref['solution']})"


def _fmt_chk(chk: list[float]) -> str:
    return "[" + ", ".join(f"{v:.10g}" for v in chk) + "]"


# -- machine ----------------------------------------------------------------------------------
def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = basics()
    versions = {}
    for mod in ("numpy", "pandas", "pyarrow", "duckdb", "polars", "cupy", "xpdb"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001  (absent or broken: recorded as None)
            versions[mod] = None
    info["versions"] = versions
    return info


# -- report -----------------------------------------------------------------------------------
def _cell(r: dict | None) -> str:
    if r is None:
        return ""
    status = r["status"]
    if status == "ok":
        text = f"{r['median_ms']:.4g}"
        if r.get("warmup_only"):
            text += " (1 run)"
        if r.get("match") is False:
            text += " !"
        return text
    return {"not supported": "n/s", "error": "error", "unavailable": "-",
            "skipped": "skipped"}.get(status, status)


def render_markdown(result: dict) -> str:
    m = result["machine"]
    lines = ["# db-benchmark: xpdb and its peers", ""]
    lines.append(f"Machine: {m['cpu_count']} CPUs ({m['cpu_model']}), {m['memory_gb']} GB; "
                 f"GPU: {m['gpu'] or 'none'}; Python {m['python']}.")
    vers = ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v)
    lines += [f"Versions: {vers}.", ""]
    lines.append("Cells: median of the timed runs in ms (after one warm-up); `(1 run)`: only "
                 "the warm-up ran (slower than --max-seconds); `!`: answer differs from the "
                 "reference solution; `n/s`: not supported; `-`: solution unavailable. "
                 "floor: bytes of the input columns read / 3.0e12 B/s (H100 HBM3).")
    sols = result["args"]["solutions"]
    notes: list[str] = []
    for ds in result["datasets"]:
        task = ds["task"]
        recs = {(r["solution"], r["qid"]): r for r in result["results"] if r["task"] == task}
        rows = ", ".join(f"{t} {n:,}" for t, n in ds["rows"].items())
        lines += ["", f"## {task}: {ds['name']} ({rows} rows; generated in "
                      f"{ds['gen_seconds']:.1f} s)", ""]
        lines.append("| question | floor ms | " + " | ".join(sols) + " |")
        lines.append("|---|---:|" + "---:|" * len(sols))
        loads = {ld["solution"]: ld for ld in result["loads"] if ld["task"] == task}
        cells = []
        for s in sols:
            ld = loads.get(s)
            if ld is None:
                cells.append("")
            elif ld["status"] != "ok":
                cells.append("-" if ld["status"] == "unavailable" else ld["status"])
            else:
                cells.append(f"{ld['seconds'] * 1e3:.4g}")
                if ld.get("parts"):
                    parts = ", ".join(f"{k} {v * 1e3:.4g} ms" for k, v in ld["parts"].items())
                    notes.append(f"{task} load {s}: {parts}")
        lines.append("| load | | " + " | ".join(cells) + " |")
        for q in QUESTIONS[task]:
            floor = ds["floor_ms"].get(q.qid)
            row = [f"{q.qid} {q.name}", f"{floor:.3g}" if floor is not None else ""]
            for s in sols:
                r = recs.get((s, q.qid))
                row.append(_cell(r))
                if r is None:
                    continue
                if r["status"] in ("not supported", "error", "skipped"):
                    notes.append(f"{task} {q.qid} {s}: {r['status']}: {r.get('reason', '')}")
                if r.get("mismatch"):
                    notes.append(f"{task} {q.qid} {s}: MISMATCH {r['mismatch']}")
                if r.get("note"):
                    notes.append(f"{task} {q.qid} {s}: {r['note']}")
            lines.append("| " + " | ".join(row) + " |")
        unavailable = {ld["solution"]: ld.get("reason", "") for ld in loads.values()
                       if ld["status"] == "unavailable"}
        notes += [f"{task} {s}: unavailable: {why}" for s, why in unavailable.items()]
    if notes:
        lines += ["", "Notes:", ""] + [f"- {n}" for n in dict.fromkeys(notes)]
    return "\n".join(lines) + "\n"


def write_outputs(result: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result, indent=1, default=str))
    (out / "results.md").write_text(render_markdown(result))


# -- main -------------------------------------------------------------------------------------
def run_benchmark(args: argparse.Namespace, log: Any = print) -> dict:
    """Run everything ``args`` asks for; returns the result dict (also written to
    ``args.out`` after every question, so an interrupted run leaves what it measured)."""
    rows, k = int(args.rows), int(args.k)
    out = Path(args.out) if args.out else None
    result: dict[str, Any] = {
        "machine": machine_info(),
        "args": {**vars(args), "solutions": args.solutions, "task": args.task},
        "datasets": [], "loads": [], "results": [],
    }
    started = time.perf_counter()
    wanted = set(args.questions) if args.questions else None

    def over_budget() -> bool:
        return bool(args.time_budget) and time.perf_counter() - started > args.time_budget

    def save() -> None:
        if out is not None:
            write_outputs(result, out)

    for task in args.task:
        name, tables, gen_s = make_data(task, rows, k, args.nas, args.sort, args.data_dir)
        floors = {q.qid: floor_ms(q, tables) for q in QUESTIONS[task]}
        result["datasets"].append({"task": task, "name": name, "gen_seconds": gen_s,
                                   "rows": {t: tb.num_rows for t, tb in tables.items()},
                                   "floor_ms": floors})
        log(f"[{task}] {name}: generated in {gen_s:.1f}s")
        for sol_name in args.solutions:
            sol = make(sol_name)
            base = {"task": task, "data": name, "solution": sol_name}
            reason = sol.available()
            if reason or over_budget():
                status = "unavailable" if reason else "skipped"
                reason = reason or "time budget spent"
                result["loads"].append({**base, "status": status, "reason": reason})
                log(f"[{task}] {sol_name}: {status}: {reason}")
                continue
            version = sol.version()
            gc.collect()
            try:
                t0 = time.perf_counter()
                parts = sol.load(task, tables)
                sol.sync()
                load_s = time.perf_counter() - t0
            except Exception as e:  # noqa: BLE001
                result["loads"].append({**base, "status": "error", "reason": _error(e)})
                log(f"[{task}] {sol_name}: load failed: {_error(e)}")
                sol.free()
                continue
            result["loads"].append({**base, "status": "ok", "version": version,
                                    "seconds": load_s, "parts": parts})
            log(f"[{task}] {sol_name} {version}: loaded in {load_s * 1e3:.1f} ms {parts or ''}")
            for q in QUESTIONS[task]:
                if wanted and q.qid not in wanted:
                    continue
                rec = {**base, "qid": q.qid, "question": q.name, "floor_ms": floors[q.qid]}
                if over_budget():
                    rec.update(status="skipped", reason="time budget spent")
                else:
                    rec.update(time_question(sol, q, args.repeats, args.max_seconds,
                                             not args.no_gc))
                result["results"].append(rec)
                log(f"[{task}] {sol_name} {q.qid}: " + (
                    f"{rec['median_ms']:.1f} ms rows={rec.get('out_rows')} chk={rec.get('chk')}"
                    if rec["status"] == "ok" else f"{rec['status']}: {rec.get('reason')}"))
                save()
            sol.free()
            del sol
            gc.collect()
        del tables
        gc.collect()
        compare(result["results"], args.rtol)
        save()
    result["wall_seconds"] = time.perf_counter() - started
    save()
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=float, default=1e7, help="rows of x (default 1e7)")
    p.add_argument("--k", type=float, default=100, help="groupby K (default 100)")
    p.add_argument("--nas", type=int, default=0, help="percent of NAs (default 0)")
    p.add_argument("--sort", type=int, default=0, choices=[0, 1])
    p.add_argument("--solutions", default=DEFAULT_SOLUTIONS,
                   help=f"comma-separated subset of {','.join(SOLUTIONS)}")
    p.add_argument("--task", default="groupby,join", help="groupby, join or both")
    p.add_argument("--questions", default="", help="comma-separated subset, e.g. q1,q3")
    p.add_argument("--repeats", type=int, default=3, help="timed runs after the warm-up")
    p.add_argument("--max-seconds", type=float, default=10.0,
                   help="skip the remaining repeats after a run slower than this")
    p.add_argument("--time-budget", type=float, default=0.0,
                   help="seconds; once spent, the remaining questions are skipped (0: none)")
    p.add_argument("--rtol", type=float, default=1e-6, help="checksum tolerance")
    p.add_argument("--no-gc", action="store_true",
                   help="no gc.collect() before each run (saves ~0.1 s a run on tiny data)")
    p.add_argument("--data-dir", default=None,
                   help="read the Parquet files from here if present, else write them here")
    p.add_argument("--out", default="dbbench-results", help="directory for results.json/.md")
    a = p.parse_args(argv)
    a.solutions = [s.strip() for s in a.solutions.split(",") if s.strip()]
    a.task = [t.strip() for t in a.task.split(",") if t.strip()]
    a.questions = [q.strip() for q in a.questions.split(",") if q.strip()]
    for s in a.solutions:
        if s not in SOLUTIONS:
            p.error(f"unknown solution {s!r}; choose from {','.join(SOLUTIONS)}")
    for t in a.task:
        if t not in QUESTIONS:
            p.error(f"unknown task {t!r}; choose groupby and/or join")
    return a


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = run_benchmark(args, log=lambda s: print(s, flush=True))
    print()
    print(render_markdown(result), flush=True)
    print(f"wall time {result['wall_seconds']:.1f} s; results in {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
