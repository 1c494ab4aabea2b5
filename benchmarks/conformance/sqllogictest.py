"""A sqllogictest runner: SQLite's SQL conformance corpus against any engine.

The corpus (``shared/conformance/sqllogictest/``, see its README) holds records separated by
blank lines: ``statement ok|error``, ``query <types> <sort> [label]`` with a ``----`` line and
the expected values one per line (or ``N values hashing to <md5>``), ``hash-threshold N``,
``skipif``/``onlyif`` guards and ``halt``. The expected values are SQLite's, so the runner runs
the records SQLite runs and bridges SQLite's semantics (integer ``/``) through sqlglot.

An engine is any object with ``execute(sql) -> list[tuple] | None`` that raises on error;
``DuckDBEngine`` and ``XpdbEngine`` are provided.

Timeouts: each record runs on one reused daemon worker thread and the runner waits on it with
a timeout. A thread, not ``signal.alarm``, because an alarm only fires in the main thread (pytest
plugins, notebooks) and a Python signal handler cannot interrupt a query running inside C code
(DuckDB, NumPy): it would only run once the query returned. On a timeout the runner calls the
engine's optional ``interrupt()`` and waits a grace period; if the engine is still busy the
worker is abandoned and the rest of the file is skipped with the reason ``engine hung``.

Usage::

    python benchmarks/conformance/sqllogictest.py --engine duckdb --out r.json FILES...
"""

from __future__ import annotations

import argparse
import contextlib
import decimal
import hashlib
import json
import math
import queue
import re
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import sqlglot
from sqlglot import exp

ENGINE_NAME = "sqlite"  # the engine whose results the corpus holds
GRACE_S = 5.0  # how long an interrupted record may take to give up before the file stops
TRUNCATE = 400


class EngineUnavailable(RuntimeError):
    """The engine cannot be built here (module missing, API not there yet)."""


class Engine(Protocol):
    """What the runner needs from an engine."""

    name: str

    def execute(self, sql: str) -> list[tuple] | None:
        """Run one SQL statement; rows for a query, None otherwise; raise on error."""
        ...


# --------------------------------------------------------------------------- parsing


@dataclass
class Record:
    """One sqllogictest record.

    ``kind`` is ``statement``, ``query``, ``halt`` or ``hash-threshold``.
    """

    kind: str
    line: int
    sql: str = ""
    expect_error: bool = False
    types: str = ""
    sort: str = "nosort"
    label: str | None = None
    expected: list[str] | None = None
    expected_hash: tuple[int, str] | None = None
    threshold: int = 0
    conditions: list[tuple[str, str]] = field(default_factory=list)

    def skip_reason(self, engine: str = ENGINE_NAME) -> str | None:
        """Why this record is not run for ``engine`` ('skipif', 'onlyif'), or None."""
        for cond, name in self.conditions:
            if cond == "skipif" and name == engine:
                return "skipif"
            if cond == "onlyif" and name != engine:
                return "onlyif"
        return None


_HASH_RE = re.compile(r"^(\d+) values hashing to ([0-9a-f]{32})$")


def _words(line: str) -> list[str]:
    return line.split("#", 1)[0].split()


def parse(text: str) -> list[Record]:
    """Parse a sqllogictest file's text into records.

    Examples
    --------
    >>> recs = parse("statement ok\\nCREATE TABLE t(a INTEGER)\\n\\nquery I nosort\\nSELECT 1\\n----\\n1\\n")
    >>> [(r.kind, r.sql, r.expected) for r in recs]
    [('statement', 'CREATE TABLE t(a INTEGER)', None), ('query', 'SELECT 1', ['1'])]
    """
    records: list[Record] = []
    lines = text.splitlines()
    i, n = 0, len(lines)
    while i < n:
        # gather one block of non-blank lines
        while i < n and not lines[i].strip():
            i += 1
        start = i
        block: list[str] = []
        while i < n and lines[i].strip():
            block.append(lines[i].rstrip("\r"))
            i += 1
        if not block:
            continue
        conditions: list[tuple[str, str]] = []
        j = 0
        while j < len(block):
            w = _words(block[j])
            if not w:  # a comment line
                j += 1
                continue
            if w[0] in ("skipif", "onlyif") and len(w) >= 2:
                conditions.append((w[0], w[1]))
                j += 1
                continue
            break
        if j >= len(block):
            continue
        head, body = _words(block[j]), block[j + 1 :]
        lineno = start + j + 1
        kind = head[0]
        if kind == "statement":
            records.append(Record("statement", lineno, sql="\n".join(body).strip(),
                                  expect_error=len(head) > 1 and head[1] == "error",
                                  conditions=conditions))
        elif kind == "query":
            if "----" in body:
                k = body.index("----")
                sql_lines, result = body[:k], body[k + 1 :]
            else:
                sql_lines, result = body, []
            rec = Record("query", lineno, sql="\n".join(sql_lines).strip(),
                         types=head[1] if len(head) > 1 else "",
                         sort=head[2] if len(head) > 2 else "nosort",
                         label=head[3] if len(head) > 3 else None, conditions=conditions)
            m = _HASH_RE.match(result[0].strip()) if len(result) == 1 else None
            if m:
                rec.expected_hash = (int(m.group(1)), m.group(2))
            else:
                rec.expected = [r.strip() for r in result]
            records.append(rec)
        elif kind == "hash-threshold":
            records.append(Record("hash-threshold", lineno, threshold=int(head[1]),
                                  conditions=conditions))
        elif kind == "halt":
            records.append(Record("halt", lineno, conditions=conditions))
        else:
            records.append(Record("unknown", lineno, sql=block[j], conditions=conditions))
    return records


# --------------------------------------------------------------------------- formatting


_NUM_PREFIX = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _numeric_prefix(s: str) -> float:
    m = _NUM_PREFIX.match(s)
    return float(m.group(0)) if m else 0.0


_DECIMAL_CTX = decimal.Context(prec=400)


def _sqlite_3f(x: float) -> str:
    """``%.3f`` as SQLite's printf writes it: 16 significant digits, then half-up rounding.

    >>> _sqlite_3f(-2.0**64), _sqlite_3f(0.0025), _sqlite_3f(2 / 3)
    ('-18446744073709550000.000', '0.003', '0.667')
    """
    if not math.isfinite(x):
        return f"{x:.3f}"
    d = Decimal(f"{x:.15e}").quantize(Decimal("0.001"), rounding=decimal.ROUND_HALF_UP,
                                       context=_DECIMAL_CTX)
    return f"{d:.3f}"


def format_value(value: Any, letter: str) -> str:
    """Format one value the way SQLite's sqllogictest runner prints it.

    ``I`` truncates to an integer, ``R`` prints 3 decimals, ``T`` prints the text; NULL is
    ``NULL`` and an empty string ``(empty)``; unprintable characters become ``@``.

    Examples
    --------
    >>> [format_value(v, c) for v, c in [(None, "I"), ("", "T"), (2.5, "I"), (1, "R"), (-0.5, "R")]]
    ['NULL', '(empty)', '2', '1.000', '-0.500']
    """
    if value is None:
        return "NULL"
    if letter == "I":
        if isinstance(value, bool):
            return str(int(value))
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float | Decimal):
            if not math.isfinite(value):
                return "0"
            return str(int(value))
        return str(int(_numeric_prefix(str(value))))
    if letter == "R":
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, int | float | Decimal):
            return _sqlite_3f(float(value))
        return _sqlite_3f(_numeric_prefix(str(value)))
    if isinstance(value, bool):
        text = str(int(value))
    elif isinstance(value, float) and not math.isfinite(value):
        text = "NULL" if math.isnan(value) else ("Inf" if value > 0 else "-Inf")
    elif isinstance(value, float):
        text = repr(value) if value != int(value) or abs(value) >= 1e15 else f"{value:.1f}"
    else:
        text = str(value)
    if text == "":
        return "(empty)"
    return "".join(c if " " <= c <= "~" else "@" for c in text)


def format_rows(rows: list[tuple], types: str) -> list[list[str]]:
    """Format result rows with one type letter per column (extra columns use ``T``)."""
    return [[format_value(v, types[k] if k < len(types) else "T") for k, v in enumerate(row)]
            for row in rows]


def sort_values(rows: list[list[str]], mode: str) -> list[str]:
    """Flatten formatted rows in the order a sort mode gives.

    Examples
    --------
    >>> sort_values([["2", "a"], ["10", "b"]], "rowsort")
    ['10', 'b', '2', 'a']
    >>> sort_values([["2", "a"], ["10", "b"]], "valuesort")
    ['10', '2', 'a', 'b']
    """
    if mode == "rowsort":
        rows = sorted(rows)
    flat = [v for row in rows for v in row]
    if mode == "valuesort":
        flat.sort()
    return flat


def hash_values(values: list[str]) -> str:
    """md5 of all values, each followed by a newline.

    Examples
    --------
    >>> hash_values(["1", "2"]) == hashlib.md5(b"1\\n2\\n").hexdigest()
    True
    """
    h = hashlib.md5()
    for v in values:
        h.update(v.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


# --------------------------------------------------------------------------- SQLite bridge


_INT_TYPES = exp.DataType.INTEGER_TYPES


class SqliteBridge:
    """Rewrite SQLite SQL for a DuckDB-like engine, tracking table schemas from the file.

    ``/`` between two integer operands becomes ``//`` with a ``NULLIF(divisor, 0)`` (SQLite
    truncates and gives NULL on a zero divisor); operand types come from sqlglot's type
    annotation over the tables the file created, so the rewrite is engine-agnostic.
    """

    def __init__(self, write: str = "duckdb") -> None:
        self.write = write
        self.schema: dict[str, dict[str, str]] = {}

    def translate(self, sql: str) -> str:
        try:
            tree = sqlglot.parse_one(sql, read="sqlite")
        except sqlglot.errors.SqlglotError:
            return sql
        self._track(tree)
        tree = self._sqlite_isms(tree)
        if tree.find(exp.Div) is not None:
            self._rewrite_divisions(tree)
        try:
            return tree.sql(dialect=self.write)
        except sqlglot.errors.SqlglotError:
            return sql

    def _sqlite_isms(self, tree: exp.Expression) -> exp.Expression:
        """Rewrite SQLite-only syntax: ``x IN ()``, ``x IN table``, ``NOT INDEXED``, ``total``."""
        for node in list(tree.find_all(exp.In)):
            a = node.args
            if not a.get("expressions") and not a.get("query") and not a.get("unnest"):
                field = a.get("field")
                if field is None:
                    # SQLite: anything IN an empty list is false, even NULL
                    node.replace(exp.false())
                elif isinstance(field, exp.Column) and not field.table \
                        and field.name.lower() in self.schema:
                    sub = exp.select("*").from_(exp.to_table(field.name))
                    node.set("field", None)
                    node.set("query", exp.Subquery(this=sub))
        for table in tree.find_all(exp.Table):
            if table.args.get("indexed") is not None:
                table.set("indexed", None)
        for fn in list(tree.find_all(exp.Anonymous)):
            if fn.name.lower() == "total" and len(fn.expressions) == 1:
                total = exp.Coalesce(this=exp.Sum(this=fn.expressions[0].copy()),
                                     expressions=[exp.Literal.number(0)])
                fn.replace(exp.cast(total, exp.DataType.build("DOUBLE")))
        return tree

    def _track(self, tree: exp.Expression) -> None:
        if isinstance(tree, exp.Create) and isinstance(tree.this, exp.Schema):
            table = tree.this.this
            cols = {c.name.lower(): (c.args["kind"].sql("duckdb") if c.args.get("kind") else "TEXT")
                    for c in tree.this.expressions if isinstance(c, exp.ColumnDef)}
            self.schema[table.name.lower()] = cols
        elif isinstance(tree, exp.Create) and tree.kind == "VIEW":
            self._track_view(tree)
        elif isinstance(tree, exp.Drop) and isinstance(tree.this, exp.Table):
            self.schema.pop(tree.this.name.lower(), None)

    def _track_view(self, tree: exp.Create) -> None:
        query = tree.expression
        if not isinstance(query, exp.Query):
            return
        try:
            from sqlglot.optimizer.annotate_types import annotate_types
            from sqlglot.optimizer.qualify import qualify

            q = annotate_types(qualify(query.copy(), schema=self.schema, dialect="sqlite"),
                               schema=self.schema)
            self.schema[tree.this.name.lower()] = {
                s.alias_or_name.lower(): (s.type.sql("duckdb") if s.type else "TEXT")
                for s in q.selects}
        except Exception:  # noqa: BLE001 - sqlglot's optimizer also asserts; fall back
            return

    def _rewrite_divisions(self, tree: exp.Expression) -> None:
        from sqlglot.optimizer.annotate_types import annotate_types
        from sqlglot.optimizer.qualify import qualify

        try:
            typed = annotate_types(qualify(tree.copy(), schema=self.schema, dialect="sqlite",
                                           validate_qualify_columns=False),
                                   schema=self.schema)
        except Exception:  # noqa: BLE001 - sqlglot's optimizer also asserts; fall back
            try:
                typed = annotate_types(tree.copy(), schema=self.schema)
            except Exception:  # noqa: BLE001 - sqlglot's optimizer also asserts; fall back
                return
        originals = list(tree.find_all(exp.Div))
        annotated = list(typed.find_all(exp.Div))
        if len(originals) != len(annotated):
            return
        integer = [d.left.is_type(*_INT_TYPES) and d.right.is_type(*_INT_TYPES)
                   for d in annotated]
        # innermost first (find_all walks breadth first): a rewrite copies its operands, so
        # an outer division rewritten first would leave the inner one detached, unchanged
        for div, is_int in reversed(list(zip(originals, integer, strict=True))):
            if is_int:
                div.replace(exp.IntDiv(this=div.left.copy(), expression=exp.Nullif(
                    this=div.right.copy(), expression=exp.Literal.number(0))))


# --------------------------------------------------------------------------- engines


class DuckDBEngine:
    """DuckDB in memory, with SQLite SQL bridged through ``SqliteBridge``."""

    name = "duckdb"

    def __init__(self) -> None:
        try:
            import duckdb
        except ImportError as e:
            msg = f"engine unavailable: duckdb is not installed ({e})"
            raise EngineUnavailable(msg) from e
        self.con = duckdb.connect(":memory:")
        self.bridge = SqliteBridge("duckdb")

    def execute(self, sql: str) -> list[tuple] | None:
        cur = self.con.execute(self.bridge.translate(sql))
        if cur.description is None:
            return None
        return cur.fetchall()

    def interrupt(self) -> None:
        self.con.interrupt()

    def close(self) -> None:
        self.con.close()


class XpdbEngine:
    """xpdb's SQL front end (``xpdb.connect().sql(sql).fetchall()``), SQL bridged as for DuckDB."""

    name = "xpdb"

    def __init__(self) -> None:
        try:
            import xpdb
        except ImportError as e:
            msg = f"engine unavailable: xpdb cannot be imported ({e})"
            raise EngineUnavailable(msg) from e
        try:
            connect = xpdb.connect
        except AttributeError as e:
            msg = "engine unavailable: xpdb.connect does not exist yet"
            raise EngineUnavailable(msg) from e
        self.db = connect()
        self.bridge = SqliteBridge("duckdb")

    def execute(self, sql: str) -> list[tuple] | None:
        result = self.db.sql(self.bridge.translate(sql))
        if result is None:
            return None
        fetch = getattr(result, "fetchall", None)
        if fetch is None:
            return None
        rows = fetch()
        return None if rows is None else [tuple(r) for r in rows]


ENGINES: dict[str, type] = {"duckdb": DuckDBEngine, "xpdb": XpdbEngine}


def make_engine(name: str) -> Engine:
    """Build an engine by name; raises ``EngineUnavailable`` when it cannot run here."""
    if name not in ENGINES:
        msg = f"unknown engine {name!r}: choose one of {sorted(ENGINES)}"
        raise ValueError(msg)
    return ENGINES[name]()


# --------------------------------------------------------------------------- running


@dataclass
class FileResult:
    """Counts for one file: ``run == passed + failed``; skipped by reason."""

    path: str
    run: int = 0
    passed: int = 0
    failed: int = 0
    skipped: Counter = field(default_factory=Counter)
    failures: list[dict] = field(default_factory=list)
    failure_kinds: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    error: str | None = None

    @property
    def total(self) -> int:
        return self.run + sum(self.skipped.values())

    @property
    def pass_rate(self) -> float:
        return self.passed / self.run if self.run else 0.0

    def to_dict(self) -> dict:
        return {"path": self.path, "run": self.run, "passed": self.passed,
                "failed": self.failed, "skipped": dict(self.skipped),
                "pass_rate": round(self.pass_rate, 4), "seconds": round(self.seconds, 3),
                "failure_kinds": dict(self.failure_kinds.most_common()),
                "failures": self.failures, "error": self.error}


def _trunc(x: Any) -> str:
    s = x if isinstance(x, str) else repr(x)
    return s if len(s) <= TRUNCATE else s[:TRUNCATE] + "..."


class _Timeout(Exception):
    pass


class _Job:
    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.done = threading.Event()
        self.rows: list[tuple] | None = None
        self.error: BaseException | None = None


class _Runner:
    """Runs records on one daemon worker thread so that a hung query can be abandoned.

    A daemon thread, not a ``ThreadPoolExecutor``: the executor's threads are joined when the
    interpreter exits, so one runaway query would keep the CLI from ever finishing.
    """

    def __init__(self, engine: Engine, timeout: float | None) -> None:
        self.engine = engine
        self.timeout = timeout
        self.hung = False
        self.jobs: queue.Queue[_Job | None] = queue.Queue()
        self.thread: threading.Thread | None = None
        if timeout:
            self.thread = threading.Thread(target=self._work, name="sqllogictest-worker",
                                           daemon=True)
            self.thread.start()

    def _work(self) -> None:
        while (job := self.jobs.get()) is not None:
            try:
                job.rows = self.engine.execute(job.sql)
            except BaseException as e:  # noqa: BLE001 - handed to the waiting caller
                job.error = e
            job.done.set()

    def call(self, sql: str) -> list[tuple] | None:
        if self.thread is None:
            return self.engine.execute(sql)
        job = _Job(sql)
        self.jobs.put(job)
        if not job.done.wait(self.timeout):
            interrupt = getattr(self.engine, "interrupt", None)
            if interrupt is not None:
                with contextlib.suppress(Exception):
                    interrupt()
            if not job.done.wait(GRACE_S):
                self.hung = True
            msg = f"timed out after {self.timeout} s"
            raise _Timeout(msg)
        if job.error is not None:
            raise job.error
        return job.rows

    def close(self) -> None:
        if self.thread is not None and not self.hung:
            self.jobs.put(None)
            self.thread.join()


def check_query(rec: Record, rows: list[tuple] | None,
                labels: dict[str, str]) -> tuple[bool, str, list[str]]:
    """Compare a query's rows with a record; returns (ok, why, formatted values).

    The expected form says which comparison to make: a hash line (the result was over the
    file's ``hash-threshold``) compares the count and md5, a value list compares the values.
    A labelled query must also hash like the first query run with its label.
    """
    if rows is None:
        return False, "the engine returned no result set", []
    if rows and rec.types and len(rows[0]) != len(rec.types):
        return False, f"{len(rows[0])} columns, expected {len(rec.types)}", []
    values = sort_values(format_rows(rows, rec.types), rec.sort)
    digest = hash_values(values)
    if rec.expected_hash is not None:
        n, md5 = rec.expected_hash
        ok = len(values) == n and digest == md5
        why = "" if ok else f"{len(values)} values hashing to {digest}"
    else:
        expected = rec.expected or []
        ok = values == expected
        why = "" if ok else "values differ"
    if rec.label is not None:
        seen = labels.setdefault(rec.label, digest)
        if seen != digest:
            return False, f"label {rec.label!r} gave a different result before", values
    return ok, why, values


def run_records(records: list[Record], engine: Engine, path: str = "<text>",
                max_records: int | None = None,
                timeout: float | None = None) -> FileResult:
    """Run parsed records on an engine, counting passes, failures and skips."""
    res = FileResult(path)
    t0 = time.perf_counter()
    runner = _Runner(engine, timeout)
    labels: dict[str, str] = {}
    seen = 0
    try:
        for rec in records:
            reason = rec.skip_reason()
            if rec.kind in ("halt", "hash-threshold"):
                if reason is None and rec.kind == "halt":
                    break
                continue  # the expected form already tells a hashed result from values
            if max_records is not None and seen >= max_records:
                break
            seen += 1
            if runner.hung:
                res.skipped["engine hung"] += 1
                continue
            if reason is not None:
                res.skipped[reason] += 1
                continue
            if rec.kind not in ("statement", "query") or (
                    rec.kind == "query" and (not rec.types or set(rec.types) - set("ITR"))):
                res.skipped["unsupported"] += 1
                continue
            res.run += 1
            error: str | None = None
            rows: list[tuple] | None = None
            kind = "wrong result"
            try:
                rows = runner.call(rec.sql)
            except _Timeout as e:
                error, kind = str(e), "timeout"
            except Exception as e:  # noqa: BLE001 - any engine error is a result
                error, kind = f"{type(e).__name__}: {e}", type(e).__name__
            if rec.kind == "statement":
                ok = (error is not None) if rec.expect_error else (error is None)
                why = error or ("the statement succeeded" if rec.expect_error else "")
                actual: Any = error
            elif error is not None:
                ok, why, actual = False, error, error
            else:
                ok, why, values = check_query(rec, rows, labels)
                actual = values[:20]
            if ok:
                res.passed += 1
            else:
                res.failed += 1
                res.failure_kinds["statement succeeded" if rec.expect_error else kind] += 1
                # every failure is kept: the wrong results are what a reader looks for
                expected = (f"{rec.expected_hash[0]} values hashing to {rec.expected_hash[1]}"
                            if rec.expected_hash else (rec.expected or [])[:20])
                res.failures.append({
                    "file": path, "line": rec.line,
                    "kind": "statement succeeded" if rec.expect_error else kind,
                    "sql": _trunc(rec.sql), "expected": _trunc(expected),
                    "got": _trunc(actual) if rec.kind == "query" and error is None else None,
                    "error": None if error is None else _trunc(error),
                    "why": _trunc(why)})
    finally:
        runner.close()
    if runner.hung:
        res.error = "engine hung: a timed-out record did not stop after an interrupt"
    res.seconds = time.perf_counter() - t0
    return res


def run_file(path: str | Path, engine_name: str = "duckdb", max_records: int | None = None,
             timeout: float | None = 10.0) -> FileResult:
    """Run one test file on a fresh engine (files share no state)."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    engine = make_engine(engine_name)
    res = run_records(parse(text), engine, str(path), max_records, timeout)
    close = getattr(engine, "close", None)
    if close is not None and res.error is None:  # a hung engine would block in close()
        with contextlib.suppress(Exception):
            close()
    return res


def summarize(results: list[FileResult]) -> dict:
    """Totals over files."""
    skipped: Counter = Counter()
    kinds: Counter = Counter()
    for r in results:
        skipped.update(r.skipped)
        kinds.update(r.failure_kinds)
    run = sum(r.run for r in results)
    passed = sum(r.passed for r in results)
    return {"files": len(results), "run": run, "passed": passed,
            "failed": sum(r.failed for r in results), "skipped": dict(skipped),
            "failure_kinds": dict(kinds.most_common()),
            "pass_rate": round(passed / run, 4) if run else 0.0}


def format_table(results: list[FileResult]) -> str:
    """A plain-text table of per-file counts and the total."""
    head = f"{'file':<40} {'run':>7} {'passed':>7} {'failed':>7} {'skipped':>8} {'rate':>7} {'s':>7}"
    out = [head, "-" * len(head)]
    for r in results:
        name = r.path if len(r.path) <= 40 else "..." + r.path[-37:]
        out.append(f"{name:<40} {r.run:>7} {r.passed:>7} {r.failed:>7} "
                   f"{sum(r.skipped.values()):>8} {r.pass_rate:>7.1%} {r.seconds:>7.1f}")
    s = summarize(results)
    out.append("-" * len(head))
    out.append(f"{'TOTAL':<40} {s['run']:>7} {s['passed']:>7} {s['failed']:>7} "
               f"{sum(s['skipped'].values()):>8} {s['pass_rate']:>7.1%}")
    out.append(f"skipped by reason: {s['skipped']}")
    out.append(f"failures by kind: {s['failure_kinds']}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--engine", choices=sorted(ENGINES), default="duckdb")
    p.add_argument("--max-records", type=int, default=None,
                   help="run at most N statement/query records per file")
    p.add_argument("--timeout-per-record", type=float, default=10.0,
                   help="seconds per record (0 = no timeout, run inline)")
    p.add_argument("--out", help="write the results as JSON here")
    p.add_argument("--failures", type=int, default=0, help="print the first N failures per file")
    p.add_argument("files", nargs="+")
    a = p.parse_args(argv)
    results = []
    for f in a.files:
        try:
            r = run_file(f, a.engine, a.max_records, a.timeout_per_record or None)
        except EngineUnavailable as e:
            print(str(e), file=sys.stderr)
            return 2
        results.append(r)
        print(f"{f}: {r.passed}/{r.run} passed ({r.pass_rate:.1%}), {r.seconds:.1f} s",
              file=sys.stderr)
    print(format_table(results))
    if a.failures:
        for r in results:
            for fl in r.failures[: a.failures]:
                print(f"\n{r.path}:{fl['line']}: {fl['why']}\n  sql: {fl['sql']}\n"
                      f"  expected: {fl['expected']}\n  got: {fl['got']}")
    if a.out:
        Path(a.out).write_text(json.dumps({"engine": a.engine, "total": summarize(results),
                                           "files": [r.to_dict() for r in results]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
