"""The ``xpdb`` command line: ``xpdb sql``, ``xpdb shell`` and ``xpdb demo``.

Errors that xpdb raises on purpose print ``Error: <message>`` on stderr and exit with 1;
usage errors exit with 2 (argparse); Ctrl-C exits with 130.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from .cli_format import FORMATS

DEVICES = ("cpu", "gpu", "auto")

MAIN_EPILOG = """\
examples:
  xpdb sql "SELECT 42 AS answer"
  xpdb sql --db mydb "CREATE TABLE trips AS SELECT * FROM read_parquet('trips/*.parquet')"
  xpdb sql --db mydb --format csv "SELECT vendor, avg(fare) FROM trips GROUP BY 1" > fares.csv
  xpdb shell --db mydb
  xpdb demo --rows 100000

'xpdb COMMAND --help' describes each command."""

SQL_EPILOG = """\
Several statements separated by ';' run in order; each query's rows are printed and each
other statement prints "OK, N rows affected" (on stderr for csv/json, so stdout stays data).
The whole text is parsed before anything runs: a syntax error runs nothing.

examples:
  xpdb sql "SELECT 1 AS x, 'a' AS y"
  xpdb sql --db mydb "CREATE TABLE t AS SELECT * FROM read_csv('t.csv'); SELECT count(*) FROM t"
  xpdb sql --db mydb --format json "SELECT * FROM t LIMIT 5"
  xpdb sql --db mydb --format parquet --output out.parquet "SELECT * FROM t WHERE x > 0"
  xpdb sql --db mydb --file report.sql
  echo "SELECT 1" | xpdb sql -"""

SHELL_EPILOG = """\
Statements end with ';' and may span lines. Commands: .tables, .schema [TABLE],
.mode table|csv|json, .timer on|off, .read FILE, .help, .quit (or Ctrl-D).
History is saved in ~/.xpdb_history ($XPDB_HISTORY overrides the file).

examples:
  xpdb shell                       # an in-memory database
  xpdb shell --db mydb --device gpu
  xpdb shell --db mydb < script.sql  # runs the script; exits with 1 if a statement failed"""


def _add_database_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="PATH", default=None,
                   help="database directory (created if missing); default: in memory")
    p.add_argument("--device", choices=DEVICES, default=None,
                   help="where tables live and queries run (default: the device setting, "
                        "XPDB_DEVICE, else auto: the GPU when there is one)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``xpdb`` command (every subcommand has ``--help``)."""
    from . import __version__, demo

    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="xpdb", description="xpdb: an accelerated analytics and ML database (CPU/GPU).",
        epilog=MAIN_EPILOG, formatter_class=fmt)
    parser.add_argument("--version", action="version", version=f"xpdb {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p_sql = sub.add_parser("sql", help="run SQL statements and print the results",
                           description="Run SQL statements and print their results.",
                           epilog=SQL_EPILOG, formatter_class=fmt)
    _add_database_arguments(p_sql)
    p_sql.add_argument("--format", "-f", choices=FORMATS, default="table",
                       help="table (aligned box, default), csv, json (one object per line) "
                            "or parquet (needs --output)")
    p_sql.add_argument("--output", "-o", metavar="FILE", default=None,
                       help="write the results to FILE instead of stdout")
    p_sql.add_argument("--file", metavar="FILE", default=None,
                       help="read the SQL from FILE")
    p_sql.add_argument("--timer", action="store_true", help="print each statement's run time")
    p_sql.add_argument("sql", nargs="*", metavar="SQL",
                       help="SQL text (several words are joined by spaces); - reads stdin")

    p_shell = sub.add_parser("shell", help="an interactive SQL prompt",
                             description="An interactive SQL prompt with history and "
                                         "dot-commands.",
                             epilog=SHELL_EPILOG, formatter_class=fmt)
    _add_database_arguments(p_shell)

    p_demo = sub.add_parser("demo", help="run the end-to-end demo on generated data",
                            description="Generate NYC-taxi-like trips, write them as Parquet, "
                                        "load them into a persistent database with COPY, run "
                                        "the ETL and the analytics in SQL (the four classic "
                                        "taxi queries among them), timed per device (CPU and "
                                        "GPU side by side when a GPU is present) and checked "
                                        "against pandas.",
                            epilog="example:\n  xpdb demo --rows 100000 --device cpu",
                            formatter_class=fmt)
    demo.add_arguments(p_demo)
    return parser


def _sql_text(args: argparse.Namespace, parser: argparse.ArgumentParser) -> str:
    from .cli_sql import read_sql_file

    if args.file is not None and args.sql:
        parser.error("give the SQL either as arguments or with --file, not both")
    if args.file is not None:
        return sys.stdin.read() if args.file == "-" else read_sql_file(args.file)
    if args.sql == ["-"]:
        return sys.stdin.read()
    if not args.sql:
        parser.error("no SQL given; pass SQL text, - to read stdin, or --file FILE")
    return " ".join(args.sql)


def _connect(args: argparse.Namespace) -> Any:
    import xpdb

    return xpdb.connect(args.db, device=args.device)


def _close(db: Any) -> None:
    close = getattr(db, "close", None)
    if close is not None:
        close()


def cmd_sql(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """``xpdb sql``: run the statements, print or write the results."""
    from .cli_sql import Output, run_script

    if args.format == "parquet" and args.output is None:
        parser.error("--format parquet writes a binary file: give it --output FILE")
    text = _sql_text(args, parser)
    db = _connect(args)
    try:
        if args.output is not None and args.format != "parquet":
            import io

            from .io._common import atomic_write

            # written only when every statement succeeded: no half-written output file
            buf = io.StringIO()
            run_script(db, text, Output(buf, sys.stderr, args.format, timer=args.timer,
                                         quiet_data=True))
            with atomic_write(args.output) as tmp, open(tmp, "w", encoding="utf-8") as f:
                f.write(buf.getvalue())
        else:
            output = Output(sys.stdout, sys.stderr, args.format, args.output,
                            timer=args.timer, quiet_data=True)
            run_script(db, text, output)
            output.finish()
    finally:
        _close(db)
    return 0


def cmd_shell(args: argparse.Namespace) -> int:
    """``xpdb shell``: the interactive prompt."""
    from .cli_shell import run_shell

    db = _connect(args)
    try:
        return run_shell(db)
    finally:
        _close(db)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``xpdb`` command; returns the process exit code.

    Examples
    --------
    >>> main(["sql", "--device", "cpu", "--format", "csv", "SELECT 6 * 7 AS answer"])
    "answer"
    42
    0
    """
    from . import demo
    from .errors import XpdbError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            return demo.run(args)
        if args.command == "sql":
            return cmd_sql(args, parser)
        if args.command == "shell":
            return cmd_shell(args)
    except BrokenPipeError:
        # the reader (``| head``) left: not an error; keep Python from complaining at exit
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (XpdbError, OSError) as e:
        # an error the user can fix: the message says how, a traceback would only hide it
        sys.stdout.flush()
        print(f"Error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted", file=sys.stderr)
        return 130
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
