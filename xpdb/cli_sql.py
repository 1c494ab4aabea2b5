"""Running SQL text for the command line: split it into statements, run each, print each result.

The whole text is parsed first, so a syntax error anywhere stops the script before any
statement runs (and its caret points into the text as the user wrote it).

>>> split_statements("SELECT ';' AS x; -- note;\\nSELECT 2")
["SELECT ';' AS x;", 'SELECT 2']
>>> is_complete("SELECT 1"), is_complete("SELECT ';"), is_complete("SELECT 1; -- done")
(False, False, True)
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from sqlglot.errors import TokenError
from sqlglot.tokens import Token, TokenType

from .cli_format import is_statement, render, status_line, supports_unicode, write_parquet
from .errors import XpdbError
from .sql.parser import DIALECT


def _tokens(text: str) -> list[Token]:
    from sqlglot.dialects.dialect import Dialect

    return Dialect.get_or_raise(DIALECT).tokenize(text)


def split_statements(text: str) -> list[str]:
    """The statements of ``text``, each with its ``;`` (comments between them dropped).

    A ``;`` inside a string literal, quoted name or comment does not end a statement.
    Text that cannot be tokenized comes back whole, so that parsing reports the error.
    """
    try:
        tokens = _tokens(text)
    except TokenError:
        return [text] if text.strip() else []
    out, start = [], None
    for tok in tokens:
        if start is None:
            if tok.token_type == TokenType.SEMICOLON:
                continue  # an empty statement
            start = tok.start
        if tok.token_type == TokenType.SEMICOLON:
            out.append(text[start:tok.end + 1])
            start = None
    if start is not None:
        out.append(text[start:].rstrip())
    return out


def is_complete(text: str) -> bool:
    """Whether ``text`` ends a statement: its last token is a ``;`` outside quotes/comments."""
    try:
        tokens = _tokens(text)
    except TokenError:
        return False  # an open string or quoted name: the statement goes on
    return bool(tokens) and tokens[-1].token_type == TokenType.SEMICOLON


def first_keyword(statement: str) -> str:
    """The statement's first word, upper-cased (``SELECT``, ``CREATE``...)."""
    words = statement.split(None, 1)
    return words[0].upper() if words else ""


@dataclass
class Output:
    """Where and how results go.

    Parameters
    ----------
    out, err : text streams
        Results, and messages.
    fmt : str
        ``table``, ``csv``, ``json`` or ``parquet``.
    path : str, optional
        ``parquet`` writes here.
    timer : bool
        Print each statement's run time.
    quiet_data : bool
        Status and timer lines go to ``err`` unless the format is ``table``, so that CSV and
        JSON on ``out`` stay pure data (for ``xpdb sql``; the shell shows them inline).
    """

    out: IO[str]
    err: IO[str]
    fmt: str = "table"
    path: str | None = None
    timer: bool = False
    quiet_data: bool = False
    results: int = field(default=0)  # result sets written so far
    pending: Any = None  # the query result a parquet file will hold

    def finish(self) -> None:
        """Write the Parquet file (a no-op for text formats).

        Raises
        ------
        xpdb.errors.XpdbError
            When no statement returned rows to write.
        """
        if self.fmt != "parquet":
            return
        if self.pending is None:
            msg = f"no query result to write to {self.path!r}: the SQL has no SELECT"
            raise XpdbError(msg)
        assert self.path is not None
        write_parquet(self.pending, self.path)

    def message(self, text: str) -> None:
        stream = self.err if self.quiet_data and self.fmt != "table" else self.out
        stream.write(text + "\n")
        stream.flush()

    def result(self, result: Any, statement: str) -> None:
        if is_statement(result):
            self.message(status_line(result, first_keyword(statement)))
            return
        if self.fmt == "table" and result.columns == ["explain_key", "explain_value"]:
            # a plan is text with its own indentation: print it, not a box of escaped lines
            for _, plan in result.fetchall():
                self.out.write(plan.rstrip("\n") + "\n")
            self.out.flush()
            self.results += 1
            return
        if self.fmt == "parquet":
            if self.results:
                msg = ("--format parquet writes one result to one file, but the SQL has more "
                       "than one query; run them separately")
                raise XpdbError(msg)
            self.pending = result  # written by finish(), once every statement succeeded
        else:
            text = render(result, self.fmt, unicode=supports_unicode(self.out))
            if self.fmt == "table" and self.results:
                text = "\n" + text
            self.out.write(text)
            self.out.flush()
        self.results += 1


def run_script(db: Any, text: str, output: Output,
               clock: Callable[[], float] = time.perf_counter) -> None:
    """Run every statement of ``text`` on ``db``, writing each result to ``output``.

    Raises
    ------
    xpdb.errors.XpdbError
        The first failing statement's error (earlier statements have run; later ones not).
    """
    statements = split_statements(text)
    if not statements:
        raise XpdbError("no SQL statement given; pass SQL text, - for stdin, or --file PATH")
    from .sql.models import check_syntax

    check_syntax(text)  # fail on a syntax error anywhere (model statements too) before running
    output.results = 0
    for statement in statements:
        t0 = clock()
        result = db.sql(statement)
        db.device.synchronize()
        ms = (clock() - t0) * 1000
        output.result(result, statement)
        if output.timer:
            output.message(f"Run Time: {ms:.3f} ms")


def read_sql_file(path: str) -> str:
    """The text of the SQL file ``path``."""
    from .errors import IOError as XIOError

    try:
        with open(os.path.expanduser(path), encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        raise XIOError(f"SQL file {path!r} does not exist; check the path", path=path) from None
    except (OSError, UnicodeDecodeError) as e:
        raise XIOError(f"cannot read SQL file {path!r}: {e}", path=path) from None


__all__ = ["Output", "is_complete", "read_sql_file", "run_script", "split_statements"]
