"""SQL text to sqlglot syntax trees (DuckDB dialect), with xpdb's error messages."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError as GlotParseError
from sqlglot.errors import TokenError

from ..errors import ParseError

DIALECT = "duckdb"


def parse(sql: str) -> list[exp.Expression]:
    """Parse ``sql`` (one or more statements separated by ``;``) into syntax trees.

    Raises
    ------
    xpdb.errors.ParseError
        With the line and column of the offending token and a caret under it.

    Examples
    --------
    >>> [type(s).__name__ for s in parse("SELECT 1; DROP TABLE t")]
    ['Select', 'Drop']
    """
    log = logging.getLogger("sqlglot")
    level = log.level
    log.setLevel(logging.ERROR)  # EXPLAIN parses as a Command, which sqlglot warns about
    try:
        trees = sqlglot.parse(sql, dialect=DIALECT)
    except GlotParseError as e:
        info = e.errors[0] if e.errors else {}
        line, col = info.get("line"), info.get("col")
        msg = info.get("description") or str(e)
        raise ParseError(_with_caret(sql, msg, line, col), line, col) from None
    except TokenError as e:
        raise ParseError(f"cannot tokenize the SQL: {e}") from None
    finally:
        log.setLevel(level)
    return [t for t in trees if t is not None]


def _with_caret(sql: str, msg: str, line: int | None, col: int | None) -> str:
    if not line or col is None:
        return f"SQL syntax error: {msg}"
    lines = sql.split("\n")
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    caret = " " * max(col - 1, 0) + "^"
    return f"SQL syntax error at line {line}, column {col}: {msg}\n  {text}\n  {caret}"


def bind_parameters(tree: exp.Expression, params: Sequence[Any] | None) -> exp.Expression:
    """Replace ``?`` and ``$n`` placeholders by literal nodes (never by text substitution).

    Examples
    --------
    >>> bind_parameters(parse("SELECT ? + $1")[0], [2]).sql()
    'SELECT 2 + 2'
    """
    params = list(params or [])
    counter = iter(range(len(params) + 1))

    def sub(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Placeholder):
            return node
        name = node.this if isinstance(node.this, str) and node.this != "?" else ""
        if name and name.isdigit():
            idx = int(name) - 1
        elif name:
            msg = f"named parameter ${name} is not supported; use ? or $1, $2..."
            raise ParseError(msg)
        else:
            idx = next(counter)
        if not 0 <= idx < len(params):
            msg = f"parameter {idx + 1} is not bound: {len(params)} value(s) given"
            raise ParseError(msg)
        return to_literal(params[idx])

    return tree.transform(sub, copy=True)


def to_literal(value: Any) -> exp.Expression:
    """A sqlglot literal node for a Python value (None, bool, number, str, date, datetime)."""
    import datetime as dt
    from decimal import Decimal

    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float | Decimal):
        return exp.Literal.number(value)
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    msg = f"cannot bind a parameter of type {type(value).__name__}: {value!r}"
    raise ParseError(msg)
