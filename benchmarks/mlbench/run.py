"""Run the ML benchmark: xpdb on the GPU beside scikit-learn and xpdb on the CPU.

Each case's data is generated once on the host (:mod:`ml.datagen`); then every peer fits
and predicts on it in a child process forked from this one (the data is shared, not
copied), so a run that passes ``--cap-seconds`` is killed at the cap and reported as
``> cap`` (a lower bound, never extrapolated). The GPU peer copies the data to the device
first (timed apart) after an untimed warm-up on a few rows. The first full run is the
warm-up; ``--repeats`` timed runs follow and the median is reported, unless the first run
took more than ``--single-above`` seconds, when it is reported as the only run.

This process never touches CUDA or OpenMP: a CUDA context does not survive ``fork``, so
each GPU run starts its own in its child, and GNU libgomp's thread pool would hang a forked
child's first parallel loop (scikit-learn's KMeans) had this process used it. ``--isolate inline`` runs everything in this process instead
(no kill at the cap; for tests in a process that already uses the GPU).

Usage::

    python benchmarks/mlbench/run.py --scale 0.01 --peers sklearn,xpdb-cpu --out /tmp/mlbench
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import multiprocessing as mp
import os
import signal
import statistics
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from machine_info import basics

from mlbench.cases import CASES, CUML_SPEEDUP, PEERS, TARGET_SPEEDUP, Case, Data

DEFAULT_PEERS = "xpdb-gpu,sklearn,xpdb-cpu"
Message = tuple[Any, ...]


# -- one peer on one case (runs in the child) -------------------------------------------------
def _device(peer: str) -> tuple[Callable[[Any], Any], Callable[[], None]]:
    """``(put, sync)``: put a host array where ``peer`` computes; wait for its device."""
    if peer == "xpdb-gpu":
        from xpdb.device import get_device

        dev = get_device("gpu")
        return dev.asarray, dev.synchronize
    return (lambda a: a), (lambda: None)


def _quiet(caught: list[str], fn: Callable[..., Any], *args: Any) -> Any:
    """Call ``fn``, recording its warnings (convergence...) instead of printing them."""
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter("always")
        out = fn(*args)
    caught.extend(f"{w.category.__name__}: {str(w.message).splitlines()[0][:200]}" for w in ws)
    return out


def measure(case: Case, peer: str, data: Data, repeats: int,
            single_above: float, cap: float) -> Iterator[Message]:
    """Fit and predict ``case`` with ``peer``, yielding progress messages:

    ``("setup", {warmup_s, transfer_s})``, then per run ``("phase", i, "fit" | "predict",
    info)`` as each timed phase starts and ``("run", {i, fit_s, predict_s[, score]})`` when
    it ends, and ``("done", {warnings})``. The caller's clock starts at each phase message.
    """
    caught: list[str] = []
    put, sync = _device(peer)
    setup: dict[str, Any] = {}
    X = data.X_train
    y = data.y_train if case.supervised else None
    if peer == "xpdb-gpu":
        # CUDA context, cuBLAS handles and kernel compilation, on a few rows, off the clock
        t0 = time.perf_counter()
        m = X.shape[0] if case.warm_rows is None else min(X.shape[0], case.warm_rows)
        Xw = put(X[:m])
        est = case.build(peer, data, warm=True)
        # the warm-up is cut short on purpose (warm_params): its warnings are not the run's
        _quiet([], est.fit, *((Xw, put(y[:m])) if y is not None else (Xw,)))
        if case.infer:
            _quiet([], getattr(est, case.infer), Xw)
        sync()
        setup["warmup_s"] = time.perf_counter() - t0
        del est, Xw
    t0 = time.perf_counter()
    Xtr = put(X)
    ytr = put(y) if y is not None else None
    Xte = put(data.X_test) if case.infer else None
    sync()
    if peer == "xpdb-gpu":
        setup["transfer_s"] = time.perf_counter() - t0
    yield ("setup", setup)
    t_repeats = 0.0
    for i in range(1 + repeats):
        gc.collect()
        est = case.build(peer, data)
        yield ("phase", i, "fit", {})
        t0 = time.perf_counter()
        _quiet(caught, est.fit, *((Xtr, ytr) if ytr is not None else (Xtr,)))
        sync()
        fit_s = time.perf_counter() - t0
        out, predict_s = None, None
        if case.infer:
            yield ("phase", i, "predict", {"fit_s": fit_s})
            t0 = time.perf_counter()
            out = _quiet(caught, getattr(est, case.infer), Xte)
            sync()
            predict_s = time.perf_counter() - t0
        run: dict[str, Any] = {"i": i, "fit_s": fit_s, "predict_s": predict_s}
        if i == 0:
            run["score"] = _quiet(caught, case.score, est, out, data, put)
        yield ("run", run)
        del est, out
        total = fit_s + (predict_s or 0.0)
        if i == 0:
            if total > single_above:
                break
            t_repeats = time.perf_counter()
        elif time.perf_counter() - t_repeats + total > cap:
            break  # one more run would pass the cap
    yield ("done", {"warnings": sorted(set(caught))[:10]})


def _child(conn: Any, case: Case, peer: str, data: Data, repeats: int, single_above: float,
           cap: float) -> None:
    with contextlib.suppress(OSError):
        os.setpgrp()  # its own process group: killed at the cap with any helper it starts
    try:
        for msg in measure(case, peer, data, repeats, single_above, cap):
            conn.send(msg)
    except BaseException as e:  # noqa: BLE001  (reported to the parent, then the child exits)
        conn.send(("error", _error(e), traceback.format_exc(limit=8)))
    finally:
        conn.close()


def _error(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0][:300] if text else ''}"


def _kill(p: Any) -> None:
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        p.kill()
    p.join(10)


def _forked(case: Case, peer: str, data: Data, repeats: int, single_above: float,
            cap: float, setup_limit: float, end: float) -> Iterator[Message]:
    """:func:`measure` in a forked child; yields its messages, then ``("capped", phase,
    seconds)`` when a phase outlives ``cap`` or runs into ``end`` (``time.monotonic()``:
    the time budget) and the child is killed, or ``("error", ...)`` if it dies."""
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    # not a daemon: joblib runs n_jobs=1 in daemonic processes (they cannot have children)
    p = ctx.Process(target=_child, args=(send, case, peer, data, repeats, single_above, cap))
    p.start()
    send.close()
    phase = "setup"
    started = time.monotonic()
    deadline = min(started + setup_limit, end)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not recv.poll(left):
                yield ("capped", phase, time.monotonic() - started)
                return
            try:
                msg = recv.recv()
            except EOFError:
                yield ("error", f"the child process died (exit code {p.exitcode})", "")
                return
            yield msg
            if msg[0] in ("done", "error"):
                return
            if msg[0] == "phase":
                phase = msg[2]
            started = time.monotonic()
            deadline = min(started + cap, end)
    finally:
        if p.is_alive():
            p.join(2)
        if p.is_alive():
            _kill(p)
        recv.close()


def run_peer(case: Case, peer: str, data: Data, *, repeats: int, single_above: float,
             cap: float, isolate: str, setup_limit: float,
             end: float = float("inf")) -> dict[str, Any]:
    """One peer on one case: the record written to ``results.json``. A phase killed at
    the cap (or at ``end``, the budget) records how long it ran as ``cap_s``: a lower bound
    of its time."""
    rec: dict[str, Any] = {"case": case.name, "peer": peer, "status": "ok", "cap_s": cap,
                           "runs": []}
    if isolate == "fork":
        msgs: Iterator[Message] = _forked(case, peer, data, repeats, single_above, cap,
                                          setup_limit, end)
    else:
        msgs = measure(case, peer, data, repeats, single_above, cap)
    phase: tuple[int, str] = (0, "setup")
    try:
        for msg in msgs:
            kind = msg[0]
            if kind == "setup":
                rec.update(msg[1])
            elif kind == "phase":
                phase = (msg[1], msg[2])
                if msg[1] == 0 and "fit_s" in msg[3]:
                    rec["fit_s"] = msg[3]["fit_s"]
            elif kind == "run":
                run = dict(msg[1])
                if "score" in run:
                    rec["score"] = run.pop("score")
                rec["runs"].append(run)
            elif kind == "done":
                rec["warnings"] = msg[1]["warnings"]
            elif kind == "capped":
                if not rec["runs"]:  # the first run never finished
                    rec["status"], rec["capped_phase"] = "capped", msg[1]
                    rec["cap_s"] = round(msg[2], 2)
                else:
                    rec["note"] = f"repeat {phase[0]} stopped at the cap"
            elif kind == "error":
                _record_error(rec, msg[1], msg[2])
    except Exception as e:  # noqa: BLE001  (inline: a failing peer must not stop the others)
        _record_error(rec, _error(e), traceback.format_exc(limit=8))
    _summarize(rec)
    return rec


def _record_error(rec: dict[str, Any], error: str, tb: str) -> None:
    if rec["runs"]:
        rec["note"] = f"a repeat failed: {error}"
    else:
        rec["status"], rec["error"] = "error", error
        if tb:
            rec["traceback"] = tb


def _summarize(rec: dict[str, Any]) -> None:
    """Median fit/predict seconds of the timed runs (all but the warm-up, or the only
    run)."""
    runs = rec["runs"]
    if not runs:
        return
    timed = runs[1:] if len(runs) > 1 else runs
    rec["n_runs"] = len(timed)
    rec["single"] = len(runs) == 1  # the first run alone: no warm-up before it
    rec["fit_s"] = statistics.median(r["fit_s"] for r in timed)
    if timed[0]["predict_s"] is not None:
        rec["predict_s"] = statistics.median(r["predict_s"] for r in timed)


# -- machine ----------------------------------------------------------------------------------
def probe(peers: list[str]) -> dict[str, Any]:
    """Versions and libraries, and the GPU when a GPU peer runs (in a child in fork mode,
    so this process keeps away from CUDA)."""
    info: dict[str, Any] = {}
    versions = {}
    for mod in ("numpy", "scipy", "sklearn", "threadpoolctl", "cupy", "xpdb"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001  (absent or broken: recorded as None)
            versions[mod] = None
    info["versions"] = versions
    import sklearn.cluster  # noqa: F401  (load its OpenMP runtime for threadpool_info)
    from threadpoolctl import threadpool_info

    info["threadpools"] = [{k: d.get(k) for k in ("user_api", "internal_api", "num_threads",
                                                  "version")} for d in threadpool_info()]
    if "xpdb-gpu" in peers:
        try:
            from xpdb.device import get_device

            dev = get_device("gpu")
            props = dev.xp.cuda.runtime.getDeviceProperties(dev.index)
            name = props["name"]
            info["gpu_device"] = name.decode() if isinstance(name, bytes) else str(name)
        except Exception as e:  # noqa: BLE001
            info["gpu_error"] = _error(e)
    return info


def _probe_child(conn: Any, peers: list[str]) -> None:
    try:
        conn.send(probe(peers))
    except BaseException as e:  # noqa: BLE001
        conn.send({"probe_error": _error(e)})
    finally:
        conn.close()


def machine_info(peers: list[str], isolate: str) -> dict[str, Any]:
    info: dict[str, Any] = basics()
    if isolate == "fork":
        ctx = mp.get_context("fork")
        recv, send = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_probe_child, args=(send, peers), daemon=True)
        p.start()
        send.close()
        info.update(recv.recv() if recv.poll(120) else {"probe_error": "timed out"})
        p.join(10)
        if p.is_alive():
            _kill(p)
    else:
        info.update(probe(peers))
    return info


# -- scores across peers ----------------------------------------------------------------------
def _ari(a: Any, b: Any) -> float:
    from sklearn.metrics import adjusted_rand_score

    return float(adjusted_rand_score(a, b))


def add_parity(result: dict[str, Any], labels: dict[tuple[str, str], Any]) -> None:
    """Each run's ``parity``: its primary score beside scikit-learn's (a difference for
    accuracy, R2, recall and ARI; a ratio for inertia and explained variance). DBSCAN's
    primary score, the ARI against scikit-learn's labels, is computed here from
    ``labels[(case, peer)]``."""
    records = result["runs"]
    sk = {r["case"]: r for r in records if r["peer"] == "sklearn" and "score" in r}
    for r in records:
        info = result["cases"].get(r["case"], {})
        key, kind = info.get("primary"), info.get("parity")
        if "score" not in r or key is None:
            continue
        ref_labels = labels.get((r["case"], "sklearn"))
        mine_labels = labels.get((r["case"], r["peer"]))
        if ref_labels is not None and mine_labels is not None:
            r["score"]["ari_sklearn"] = _ari(ref_labels, mine_labels)
        ref = sk.get(r["case"])
        if ref is None or key not in r["score"] or key not in ref["score"]:
            continue
        mine_v, ref_v = r["score"][key], ref["score"][key]
        if kind == "ratio":
            r["parity"] = {"metric": key, "sklearn": ref_v,
                           "ratio": mine_v / ref_v if ref_v else None}
        else:
            r["parity"] = {"metric": key, "sklearn": ref_v, "diff": mine_v - ref_v}


# -- report -----------------------------------------------------------------------------------
def _t(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.3g}" if v >= 0.01 else f"{v:.2g}"


def _time_cell(r: dict[str, Any] | None, phase: str) -> str:
    if r is None:
        return ""
    st = r["status"]
    if st == "capped":
        capped = r.get("capped_phase")
        if capped == "setup":
            return "setup > cap" if phase == "fit" else "-"
        if capped == phase:
            return f"> {_t(r['cap_s'])}"
        if phase == "predict":  # the fit was capped: no prediction
            return "-"
        return _t(r.get("fit_s"))
    if st != "ok":
        return st
    cell = _t(r.get(f"{phase}_s"))
    if cell != "-" and r.get("single"):
        cell += " (1 run)"
    return cell


Speedup = tuple[str, float | None, str]


def _speedup(sk: dict | None, me: dict | None, phase: str) -> Speedup:
    """``(cell, value, bound)``: scikit-learn's time over ``me``'s; bound ``">"`` (a lower
    bound) when scikit-learn was capped, ``"<"`` (an upper bound) when ``me`` was."""
    if not sk or not me or sk["status"] not in ("ok", "capped") \
            or me["status"] not in ("ok", "capped"):
        return "-", None, ""
    key = f"{phase}_s"
    sk_capped = sk["status"] == "capped" and (sk.get("capped_phase") == phase
                                              or (phase == "fit" and
                                                  sk.get("capped_phase") == "setup"))
    me_capped = me["status"] == "capped" and me.get("capped_phase") in (phase, "setup")
    sk_t = sk["cap_s"] if sk_capped else sk.get(key)
    me_t = me["cap_s"] if me_capped else me.get(key)
    if sk_t is None or me_t is None or me_t <= 0 or (sk_capped and me_capped):
        return "-", None, ""
    v = sk_t / me_t
    bound = ">" if sk_capped else "<" if me_capped else ""
    return f"{bound} {v:.3g}x".lstrip(), v, bound


def _score_text(r: dict[str, Any], info: dict[str, Any]) -> str:
    sc = r.get("score")
    key = info.get("primary")
    if not sc or key is None:
        return ""
    v = sc.get(key)
    text = f"{key} {v:.6g}" if isinstance(v, (int, float)) else ""
    p = r.get("parity")
    if p and r["peer"] != "sklearn":
        if p.get("ratio") is not None:
            text += f" (x{p['ratio']:.4f} of sklearn)"
        elif "diff" in p:
            text += f" ({p['diff']:+.2g} vs sklearn)"
    return text


def _verdict(sp: Speedup, goal: float, yes: str, no: str) -> str:
    """``yes`` when the speedup reaches ``goal``, ``no`` when it does not, "" when its
    bound leaves it open."""
    _, v, bound = sp
    if v is None:
        return ""
    if v >= goal:
        return "" if bound == "<" else yes
    return "" if bound == ">" else no


def render_markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    a = result["args"]
    lines = [
        "# xpdb ML benchmark",
        "",
        f"Machine: {m.get('cpu_model')} ({m.get('cpu_count')} cores, {m.get('memory_gb')} GB)"
        + (f"; GPU {m['gpu']}" if m.get("gpu") else "; no GPU")
        + ". Versions: " + ", ".join(f"{k} {v}" for k, v in m.get("versions", {}).items()
                                     if v) + ".",
        "",
        f"Scale {a['scale']}; "
        + (f"first run a warm-up, then median of {a['repeats']} timed runs (runs over "
           f"{a['single_above']} s: the first run alone, marked `(1 run)`)" if a["repeats"]
           else "one run each, no warm-up")
        + f"; cap {_caps(a)} per peer and case (`> cap`: killed there, so a speedup "
        "`> N x` is a lower bound); times in seconds; GPU times after the data is on the "
        "device (transfer apart).",
        "",
        "| case | size | peer | fit s | predict s | to GPU s | score |",
        "| --- | --- | --- | ---: | ---: | ---: | --- |",
    ]
    by = {(r["case"], r["peer"]): r for r in result["runs"]}
    cases = [c for c in result["cases"] if any(k[0] == c for k in by)]
    for name in cases:
        info = result["cases"][name]
        for peer in result["args"]["peers"]:
            r = by.get((name, peer))
            if r is None:
                continue
            if r["status"] in ("error", "skipped", "unavailable"):
                cells = [r["status"], "", ""]
                score = r.get("error") or (r.get("reason", "") if r["status"] == "skipped"
                                           else "see the notes")
            else:
                cells = [_time_cell(r, "fit"), _time_cell(r, "predict"),
                         _t(r.get("transfer_s")) if peer == "xpdb-gpu" else ""]
                score = _score_text(r, info)
            lines.append(f"| {info['title']} | {info['size']} | {peer} | "
                         + " | ".join(cells) + f" | {score} |")
    lines += ["", "## Speedups over scikit-learn", "",
              f"Target: {TARGET_SPEEDUP:g}x for each case; cuML's published training "
              "speedups on an H100 beside.", "",
              "| case | xpdb-gpu fit | xpdb-gpu predict | xpdb-cpu fit | xpdb-cpu predict "
              f"| cuML (published) | {TARGET_SPEEDUP:g}x target |",
              "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for name in cases:
        sk = by.get((name, "sklearn"))
        gpu, cpu = by.get((name, "xpdb-gpu")), by.get((name, "xpdb-cpu"))
        g_fit, g_pred = _speedup(sk, gpu, "fit"), _speedup(sk, gpu, "predict")
        c_fit, c_pred = _speedup(sk, cpu, "fit"), _speedup(sk, cpu, "predict")
        cuml = CUML_SPEEDUP.get(name)
        cuml_cell = "-" if not cuml else f"{cuml:g}x" + _verdict(g_fit, cuml, " (beaten)",
                                                                  " (not beaten)")
        # KNN's fit only stores the rows: its work, and its target, is the prediction
        target = _verdict(g_pred if name == "knn" else g_fit, TARGET_SPEEDUP, "met",
                          "missed") or "-"
        lines.append(f"| {result['cases'][name]['title']} | {g_fit[0]} | {g_pred[0]} | "
                     f"{c_fit[0]} | {c_pred[0]} | {cuml_cell} | {target} |")
    notes = []
    if m.get("gpu_error"):
        notes.append(f"- xpdb-gpu unavailable: {m['gpu_error']}")
    for r in result["runs"]:
        if r.get("error"):
            notes.append(f"- {r['case']} / {r['peer']}: {r['error']}")
        if r.get("warnings"):
            notes.append(f"- {r['case']} / {r['peer']} warned: {'; '.join(r['warnings'][:3])}")
        if r.get("note"):
            notes.append(f"- {r['case']} / {r['peer']}: {r['note']}")
    if notes:
        lines += ["", "## Notes", "", *notes]
    lines += ["", "Data: " + "; ".join(
        f"{n} {i['gen_s']:.1f} s ({i['data_gb']:.2f} GB)" for n, i in result["cases"].items()
        if "gen_s" in i) + ".", ""]
    return "\n".join(lines)


def write_outputs(result: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result, indent=1, default=str))
    (out / "results.md").write_text(render_markdown(result))


def _caps(args: dict[str, Any]) -> str:
    """The cap of a run, or the range of caps of merged runs."""
    caps = args["cap_seconds"]
    if not isinstance(caps, list):
        return f"{caps} s"
    return f"{caps[0]} s" if len(caps) == 1 else f"{caps[0]} s to {caps[-1]} s (by run)"


def merge_results(paths: list[str | Path]) -> dict[str, Any]:
    """One result from the ``results.json`` of several runs on one machine (say xpdb-gpu
    with scikit-learn in one device call and xpdb-cpu in the next): each (case, peer) takes
    its record from the last run that has it, except scikit-learn's, taken from the first,
    and parity is recomputed against it; a completed record always beats one killed at the
    cap (so a capped peer can be rerun alone with a longer cap). Runs on other machines are
    refused."""
    results = [json.loads((Path(p) / "results.json").read_text()) for p in paths]
    if not results:
        raise ValueError("nothing to merge")
    first = results[0]

    def where(res: dict[str, Any]) -> tuple[Any, ...]:
        m = res["machine"]
        return m.get("cpu_model"), m.get("cpu_count"), m.get("gpu")

    for path, res in zip(paths, results, strict=True):
        if where(res) != where(first):
            raise ValueError(f"{path} ran on {where(res)}, not {where(first)}: only runs "
                             "on one machine may be merged")
    out = json.loads(json.dumps(first))
    out["merged_from"] = [str(p) for p in paths]
    runs: dict[tuple[str, str], dict[str, Any]] = {}
    peers: list[str] = []
    for res in results:
        for name, info in res["cases"].items():
            out["cases"].setdefault(name, info)
            if "gen_s" in info and "gen_s" not in out["cases"][name]:
                out["cases"][name].update(info)
        for r in res["runs"]:
            key = (r["case"], r["peer"])
            held = runs.get(key)
            ok, held_ok = r["status"] == "ok", held is not None and held["status"] == "ok"
            if held is None or (ok and not held_ok) or (ok == held_ok and r["peer"] != "sklearn"):
                runs[key] = r
        peers += [p for p in res["args"]["peers"] if p not in peers]
    out["runs"] = list(runs.values())
    caps = [res["args"]["cap_seconds"] for res in results]
    out["args"]["cap_seconds"] = sorted({c for cs in caps
                                         for c in (cs if isinstance(cs, list) else [cs])})
    out["args"]["peers"] = [p for p in DEFAULT_PEERS.split(",") if p in peers] + [
        p for p in peers if p not in DEFAULT_PEERS.split(",")]
    add_parity(out, {})
    return out


# -- the run ----------------------------------------------------------------------------------
def run_benchmark(args: argparse.Namespace, log: Callable[[str], None] = print,
                  cases: dict[str, Case] | None = None) -> dict[str, Any]:
    """Run the cases of ``args`` (``cases`` defaults to :data:`CASES`) and return the
    result; with ``args.out`` set, ``results.json`` and ``results.md`` are rewritten there
    after every run."""
    t_start = time.monotonic()
    cases = CASES if cases is None else cases
    names = [c.strip() for c in args.cases.split(",") if c.strip()]
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = [n for n in names if n not in cases] + [p for p in peers if p not in PEERS]
    if unknown:
        raise SystemExit(f"unknown case or peer {unknown}: cases are {sorted(cases)}, "
                         f"peers {list(PEERS)}")
    out = Path(args.out) if args.out else None
    result: dict[str, Any] = {
        "benchmark": "xpdb ml", "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "args": {**vars(args), "cases": names, "peers": peers},
        "machine": machine_info(peers, args.isolate), "cases": {}, "runs": []}
    gpu_error = result["machine"].get("gpu_error")
    for name in names:
        c = cases[name]
        result["cases"][name] = {"title": c.title, "size": c.size_text(args.scale),
                                 "estimator": c.estimator, "dtype": c.dtype,
                                 "params": c.params, "sklearn_params": c.sk_params,
                                 "xpdb_params": c.xp_params, "primary": c.primary,
                                 "parity": c.parity}
    if args.isolate == "fork":
        _preimport([cases[n] for n in names], peers)
    data: dict[str, Data] = {}
    labels: dict[tuple[str, str], Any] = {}

    def budget_left() -> float:
        return args.time_budget - (time.monotonic() - t_start)

    def save() -> None:
        add_parity(result, labels)
        result["elapsed_s"] = time.monotonic() - t_start
        if out:
            write_outputs(result, out)

    for peer in peers:
        for name in names:
            c = cases[name]
            rec: dict[str, Any]
            if peer == "xpdb-gpu" and gpu_error:
                rec = {"case": name, "peer": peer, "status": "unavailable", "reason": gpu_error}
            elif budget_left() < 2:
                rec = {"case": name, "peer": peer, "status": "skipped",
                       "reason": "time budget spent"}
            else:
                key = c.data_key or name
                if key not in data:
                    data[key] = _make_data(c, args, result["cases"][name], log)
                else:
                    result["cases"][name].setdefault("data_shared_with", key)
                cap = max(0.5, min(args.cap_seconds, budget_left()))
                rec = run_peer(c, peer, data[key], repeats=args.repeats,
                               single_above=args.single_above, cap=cap,
                               isolate=args.isolate,
                               setup_limit=max(cap, 120.0),
                               end=t_start + args.time_budget)
            score = rec.get("score") or {}
            if "labels" in score:  # kept in memory for the ARI against sklearn, not saved
                labels[(name, peer)] = score.pop("labels")
            result["runs"].append(rec)
            save()
            log(_log_line(rec))
    save()
    return result


def _preimport(cases: list[Case], peers: list[str]) -> None:
    """Import the estimators' modules once here, not in every child (imports only: no
    compute, no OpenMP or CUDA start-up happens in this process)."""
    import importlib

    for c in cases:
        if "sklearn" in peers:
            importlib.import_module(c.sk_module)
        if any(p.startswith("xpdb") for p in peers):
            getattr(importlib.import_module("xpdb.ml"), c.estimator, None)
    importlib.import_module("sklearn.metrics")


def _make_data(c: Case, args: argparse.Namespace, info: dict[str, Any],
               log: Callable[[str], None]) -> Data:
    n, t = c.sizes(args.scale)
    t0 = time.perf_counter()
    d = c.make_data(n, t, args.seed)
    d.seconds = time.perf_counter() - t0
    info.update({"n_train": n, "n_test": t, "n_features": c.n_features, "gen_s": d.seconds,
                 "data_gb": d.nbytes / 1e9, "data_params": d.params})
    log(f"[{c.name}] data {c.size_text(args.scale)} {c.dtype}: {d.seconds:.2f} s, "
        f"{d.nbytes / 1e9:.2f} GB")
    return d


def _log_line(r: dict[str, Any]) -> str:
    head = f"[{r['case']}] {r['peer']}:"
    if r["status"] in ("error", "skipped", "unavailable"):
        return f"{head} {r['status']}: {r.get('error') or r.get('reason', '')}"
    parts = [f"fit {_time_cell(r, 'fit')} s"]
    if "predict_s" in r or r.get("capped_phase") == "predict":
        parts.append(f"predict {_time_cell(r, 'predict')} s")
    if "transfer_s" in r:
        parts.append(f"to GPU {_t(r['transfer_s'])} s")
    sc = {k: (round(v, 6) if isinstance(v, float) else v) for k, v in
          (r.get("score") or {}).items()}
    return f"{head} " + ", ".join(parts) + (f", {sc}" if sc else "")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", default=",".join(CASES),
                   help=f"comma-separated cases (default all: {','.join(CASES)})")
    p.add_argument("--peers", default=DEFAULT_PEERS,
                   help="comma-separated peers, run in this order: sklearn, xpdb-cpu, "
                        f"xpdb-gpu (default {DEFAULT_PEERS})")
    p.add_argument("--scale", type=float, default=1.0,
                   help="multiplies every case's rows (0.01 for a smoke run)")
    p.add_argument("--repeats", type=int, default=3,
                   help="timed runs after the warm-up (0: the first run only)")
    p.add_argument("--single-above", type=float, default=5.0,
                   help="a first run slower than this many seconds is the only run")
    p.add_argument("--cap-seconds", type=float, default=60.0,
                   help="per peer and case: a phase running longer is killed (reported as "
                        "'> cap')")
    p.add_argument("--time-budget", type=float, default=540.0,
                   help="seconds for the whole run; once spent the rest is skipped (the "
                        "cap shrinks to what is left)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--isolate", choices=("fork", "inline"), default="fork",
                   help="fork: every run in a child killed at the cap; inline: in this "
                        "process, not capped (for a process that already uses CUDA)")
    p.add_argument("--out", default=None, help="directory for results.json and results.md")
    p.add_argument("--merge", nargs="+", default=None, metavar="DIR",
                   help="run nothing: merge these runs' results.json (one machine) into "
                        "--out")
    args = p.parse_args(argv)
    if args.repeats < 0 or args.scale <= 0 or args.cap_seconds <= 0:
        p.error("--repeats must be >= 0, --scale and --cap-seconds > 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.merge:
        result = merge_results(args.merge)
        if args.out:
            write_outputs(result, Path(args.out))
        print(render_markdown(result))
        return 0
    result = run_benchmark(args, log=lambda s: print(s, flush=True))
    print()
    print(render_markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
