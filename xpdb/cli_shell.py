"""``xpdb shell``: an interactive SQL prompt with history and dot-commands.

Statements may span lines and run when a line ends them with ``;``. Lines that start with
``.`` at the start of a statement are commands (``.help`` lists them). An error prints its
message and the shell goes on. History is kept in ``~/.xpdb_history`` (or ``$XPDB_HISTORY``).

The shell reads any text stream, so it runs without a terminal:

>>> import io, xpdb
>>> out = io.StringIO()
>>> sh = Shell(xpdb.connect(device="cpu"), io.StringIO("SELECT 40 +\\n 2 AS x;\\n.quit\\n"),
...            out, io.StringIO(), interactive=False)
>>> sh.run(), "42" in out.getvalue()
(0, True)
"""

from __future__ import annotations

import os
import sys
from typing import IO, Any

from .cli_format import TEXT_FORMATS
from .cli_sql import Output, is_complete, read_sql_file, run_script, split_statements
from .errors import BindError, XpdbError

PROMPT = "xpdb> "
CONTINUE = "  ...> "
HISTORY_LENGTH = 2000

HELP = """\
Statements end with ';' and may span lines. Commands:
  .tables [PATTERN]       list tables and views (matching a glob PATTERN like 'trip*')
  .schema [TABLE]         CREATE statements of every table, or of one
  .mode table|csv|json    how results are shown (now: {mode})
  .timer on|off           print each statement's run time (now: {timer})
  .read FILE              run the SQL statements in FILE
  .help                   this text
  .quit, .exit            leave the shell (so does Ctrl-D)"""


def history_path() -> str:
    """The history file: ``$XPDB_HISTORY`` if set, else ``~/.xpdb_history``."""
    return os.path.expanduser(os.environ.get("XPDB_HISTORY") or "~/.xpdb_history")


class _History:
    """Statement history kept in readline (arrow keys recall it) and saved to a file.

    The process-wide readline history is set aside while the shell runs and put back after,
    so calling the shell from a Python REPL leaves that REPL's history alone.
    """

    def __init__(self, path: str, use_readline: bool):
        self.path = path
        self.entries: list[str] = []
        self._rl: Any = None
        self._saved: list[str] = []
        if use_readline:
            try:
                import readline
            except ImportError:  # Windows without pyreadline: plain history file only
                readline = None
            self._rl = readline
        self._load()

    def _load(self) -> None:
        try:
            with open(self.path, encoding="utf-8", errors="replace") as f:
                self.entries = [line.rstrip("\n") for line in f if line.strip()]
        except OSError:
            self.entries = []
        if self._rl is not None:
            rl = self._rl
            self._saved = [rl.get_history_item(i) for i in
                           range(1, rl.get_current_history_length() + 1)]
            rl.clear_history()
            for entry in self.entries[-HISTORY_LENGTH:]:
                rl.add_history(entry)
            rl.set_auto_history(False)  # a multi-line statement is one entry, added by us

    def add(self, entry: str) -> None:
        entry = " ".join(entry.split("\n")).strip()
        if not entry or (self.entries and self.entries[-1] == entry):
            return
        self.entries.append(entry)
        if self._rl is not None:
            self._rl.add_history(entry)

    def save(self) -> None:
        """Write the history file (plain lines, the last HISTORY_LENGTH entries)."""
        try:
            with open(self.path, "w", encoding="utf-8") as f:
                f.writelines(e + "\n" for e in self.entries[-HISTORY_LENGTH:])
        except OSError as e:
            print(f"Warning: cannot save the shell history to {self.path!r}: {e}",
                  file=sys.stderr)
        if self._rl is not None:
            rl = self._rl
            rl.clear_history()
            for entry in self._saved:
                if entry is not None:
                    rl.add_history(entry)
            rl.set_auto_history(True)


class Shell:
    """An interactive SQL prompt over a database.

    Parameters
    ----------
    db : xpdb.sql.connection.Database
        Where statements run.
    stdin, stdout, stderr : text streams, optional
        Default: the process's. On a terminal, lines are read with readline (editing and
        history); any other stream is read line by line.
    interactive : bool, optional
        Show prompts and a banner and record history; default: whether stdin is a terminal.
    mode : {"table", "csv", "json"}
        How results are shown at the start (``.mode`` changes it).
    """

    def __init__(self, db: Any, stdin: IO[str] | None = None, stdout: IO[str] | None = None,
                 stderr: IO[str] | None = None, interactive: bool | None = None,
                 mode: str = "table"):
        self.db = db
        self.stdin = stdin if stdin is not None else sys.stdin
        self.stdout = stdout if stdout is not None else sys.stdout
        self.stderr = stderr if stderr is not None else sys.stderr
        isatty = getattr(self.stdin, "isatty", lambda: False)()
        self.interactive = isatty if interactive is None else interactive
        # input() gives line editing, but only reads the real stdin on a terminal
        self._use_input = isatty and self.stdin is sys.stdin
        self.output = Output(self.stdout, self.stderr, fmt=mode)
        self.errors = 0
        self._done = False

    # -- input ----------------------------------------------------------------------------
    def _read_line(self, prompt: str) -> str | None:
        if self._use_input:
            try:
                return input(prompt)
            except EOFError:
                return None
        if self.interactive:
            self.stdout.write(prompt)
            self.stdout.flush()
        line = self.stdin.readline()
        return line.rstrip("\n") if line else None

    def run(self) -> int:
        """Read and run until ``.quit`` or the end of input.

        Returns
        -------
        int
            0; or 1 when not interactive and a statement failed (so scripts piped into the
            shell report failure).
        """
        history = _History(history_path(), self._use_input) if self.interactive else None
        if self.interactive:
            import xpdb

            self.stdout.write(f"xpdb {xpdb.__version__} on {self.db.device}. "
                              "Enter .help for help; statements end with ';'.\n")
        buffer: list[str] = []
        try:
            while not self._done:
                try:
                    line = self._read_line(CONTINUE if buffer else PROMPT)
                except KeyboardInterrupt:  # Ctrl-C drops the statement being typed
                    self.stdout.write("\n")
                    buffer = []
                    continue
                if line is None:
                    break
                if not buffer and line.lstrip().startswith("."):
                    if history is not None:
                        history.add(line.strip())
                    self.command(line.strip())
                    continue
                if not buffer and not line.strip():
                    continue
                buffer.append(line)
                text = "\n".join(buffer)
                if is_complete(text):
                    buffer = []
                    if history is not None:
                        history.add(text)
                    self.execute(text)
            rest = "\n".join(buffer)
            if split_statements(rest) and not self._done:
                self.execute(rest)  # the last statement may lack its ';'
        finally:
            if history is not None:
                history.save()
        if self.interactive and not self._done:
            self.stdout.write("\n")
        return 1 if self.errors and not self.interactive else 0

    # -- running --------------------------------------------------------------------------
    def _error(self, e: BaseException) -> None:
        self.errors += 1
        self.stderr.write(f"Error: {e}\n")
        self.stderr.flush()

    def execute(self, text: str) -> None:
        """Run the statements in ``text``, printing results; an error is printed, not raised."""
        try:
            run_script(self.db, text, self.output)
        except (XpdbError, OSError) as e:
            self._error(e)
        except KeyboardInterrupt:
            self._error(KeyboardInterrupt("interrupted"))

    def command(self, line: str) -> None:
        """Run one dot-command (``.tables``, ``.schema``, ``.mode``, ``.timer``...)."""
        name, *args = line.split()
        handler = {".tables": self._tables, ".schema": self._schema, ".timer": self._timer,
                   ".mode": self._mode, ".help": self._help, ".read": self._read,
                   ".quit": self._quit, ".exit": self._quit}.get(name.lower())
        try:
            if handler is None:
                msg = f"unknown command {name!r}; enter .help for the list of commands"
                raise XpdbError(msg)
            handler(args)
        except (XpdbError, OSError) as e:
            self._error(e)

    def _print(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def _help(self, args: list[str]) -> None:
        self._print(HELP.format(mode=self.output.fmt,
                                timer="on" if self.output.timer else "off"))

    def _quit(self, args: list[str]) -> None:
        self._done = True

    def _tables(self, args: list[str]) -> None:
        import fnmatch

        names = self.db.tables()
        if args:
            names = [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in args)]
        self._print("\n".join(names) if names else "(no tables)")

    def _schema(self, args: list[str]) -> None:
        if len(args) > 1:
            raise XpdbError(f".schema takes at most one table name, got {' '.join(args)!r}")
        names = args if args else self.db.tables()
        if not names:
            self._print("(no tables)")
        for name in names:
            self._print(create_statement(self.db, name) + ";")

    def _timer(self, args: list[str]) -> None:
        if len(args) != 1 or args[0].lower() not in {"on", "off"}:
            raise XpdbError(f"usage: .timer on|off (got {' '.join(args)!r})")
        self.output.timer = args[0].lower() == "on"

    def _mode(self, args: list[str]) -> None:
        if len(args) != 1 or args[0].lower() not in TEXT_FORMATS:
            msg = f"usage: .mode {'|'.join(TEXT_FORMATS)} (got {' '.join(args)!r})"
            raise XpdbError(msg)
        self.output.fmt = args[0].lower()

    def _read(self, args: list[str]) -> None:
        if len(args) != 1:
            raise XpdbError(f"usage: .read FILE (got {' '.join(args)!r})")
        self.execute(read_sql_file(args[0]))


def create_statement(db: Any, name: str) -> str:
    """``CREATE TABLE name (col TYPE, ...)`` for a table (``CREATE VIEW ... AS`` for a view).

    Raises
    ------
    xpdb.errors.BindError
        No table or view ``name`` (the message names the closest one).
    """
    from sqlglot import exp

    from .sql.parser import DIALECT

    table = exp.Table(this=exp.to_identifier(name))
    view = getattr(db, "_views", {}).get(name)
    if isinstance(view, exp.Expression):
        create = exp.Create(this=table, kind="VIEW", expression=view)
        return create.sql(dialect=DIALECT, pretty=True)
    if name not in db.tables():
        from .table import missing_column_message

        raise BindError(missing_column_message(name, db.tables(), "table"))
    described = db.sql(exp.Describe(this=table).sql(dialect=DIALECT)).fetchall()
    cols = [exp.ColumnDef(this=exp.to_identifier(col),
                          kind=exp.DataType.build(typ, dialect=DIALECT, udt=True))
            for col, typ, *_ in described]
    create = exp.Create(this=exp.Schema(this=table, expressions=cols), kind="TABLE")
    return create.sql(dialect=DIALECT, pretty=True)


def run_shell(db: Any, stdin: IO[str] | None = None, stdout: IO[str] | None = None,
              stderr: IO[str] | None = None, interactive: bool | None = None) -> int:
    """Run :class:`Shell` on ``db``; returns the process exit code."""
    return Shell(db, stdin, stdout, stderr, interactive).run()


__all__ = ["Shell", "create_statement", "history_path", "run_shell"]
