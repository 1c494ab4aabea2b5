"""The model statements' pre-parser: CREATE [OR REPLACE] MODEL, EVALUATE MODEL, SHOW MODELS,
DESCRIBE MODEL, DROP MODEL.

sqlglot parses none of them, so :func:`split_script` finds them with sqlglot's tokenizer and
parses them here (the AS / ON query by :mod:`xpdb.sql.parser`, positions kept so a
ParseError's caret points into the original text); other statements are left to the usual
parser. :mod:`xpdb.sql.models` runs what this returns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import TokenError
from sqlglot.tokens import Token, TokenType

from ..errors import ParseError
from .parser import DIALECT, _with_caret, parse

_MODEL_WORD = re.compile(r"\bmodels?\b", re.IGNORECASE)


@dataclass
class ModelStatement:
    """One parsed model statement (``kind``: create, evaluate, show, describe, drop)."""

    kind: str
    name: str = ""
    replace: bool = False
    if_not_exists: bool = False
    if_exists: bool = False
    type_name: str = ""
    target: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    query: exp.Expression | None = None
    query_sql: str = ""
    version: int | None = None


class _Cursor:
    """Tokens of one statement, with errors that point into the SQL text."""

    def __init__(self, sql: str, tokens: list[Token]):
        self.sql, self.tokens, self.i = sql, tokens, 0

    def peek(self, k: int = 0) -> Token | None:
        j = self.i + k
        return self.tokens[j] if j < len(self.tokens) else None

    def word(self, k: int = 0) -> str:
        tok = self.peek(k)
        return tok.text.upper() if tok is not None and tok.token_type != TokenType.STRING else ""

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            self.fail("unexpected end of the statement")
        self.i += 1
        return tok

    def accept(self, *words: str) -> bool:
        if all(self.word(k) == w for k, w in enumerate(words)):
            self.i += len(words)
            return True
        return False

    def expect(self, word: str, what: str) -> None:
        if not self.accept(word):
            self.fail(f"expected {word} {what}")

    def name(self, what: str) -> str:
        tok = self.peek()
        if tok is None or tok.token_type == TokenType.STRING or not (
                tok.token_type in (TokenType.VAR, TokenType.IDENTIFIER)
                or re.fullmatch(r"\w+", tok.text)):
            self.fail(f"expected {what}")
        self.i += 1
        return tok.text

    def fail(self, msg: str, tok: Token | None = None) -> None:
        tok = tok or self.peek() or (self.tokens[-1] if self.tokens else None)
        if tok is None:
            raise ParseError(f"SQL syntax error: {msg}")
        start = tok.start
        line = self.sql.count("\n", 0, start) + 1
        col = start - (self.sql.rfind("\n", 0, start) + 1) + 1
        raise ParseError(_with_caret(self.sql, msg, line, col), line, col)

    def rest_sql(self) -> str:
        """The statement text from the current token on, padded so positions stay put."""
        tok = self.peek()
        if tok is None:
            self.fail("expected a query")
        return _padded(self.sql, tok.start, self.tokens[-1].end + 1)


def _padded(sql: str, start: int, end: int) -> str:
    """``sql[start:end]`` behind blanks standing for the text before it (lines kept)."""
    return re.sub(r"[^\n]", " ", sql[:start]) + sql[start:end]


def _is_model_statement(c: _Cursor) -> bool:
    w = [c.word(k) for k in range(6)]
    if w[0] == "CREATE":
        rest = w[3:] if w[1:3] == ["OR", "REPLACE"] else w[1:]
        return rest[:1] == ["MODEL"]
    if w[:2] in (["DESCRIBE", "MODEL"], ["DESC", "MODEL"]):
        return c.peek(2) is not None  # DESCRIBE model: a table called model
    return w[:2] in (["EVALUATE", "MODEL"], ["DROP", "MODEL"], ["SHOW", "MODELS"])


def split_script(sql: str) -> list[str | ModelStatement] | None:
    """The statements of ``sql`` with model statements parsed, or None when it has none.

    Other statements come back as text (blank-padded, so parse errors keep their line and
    column in ``sql``).

    Examples
    --------
    >>> [type(s).__name__ for s in split_script("SHOW MODELS; SELECT 1")]
    ['ModelStatement', 'str']
    >>> split_script("SELECT 1") is None
    True
    """
    if not _MODEL_WORD.search(sql):
        return None
    try:
        tokens = Dialect.get_or_raise(DIALECT).tokenize(sql)
    except TokenError:
        return None  # the parser reports it
    statements: list[list[Token]] = [[]]
    for tok in tokens:
        if tok.token_type == TokenType.SEMICOLON:
            statements.append([])
        else:
            statements[-1].append(tok)
    out: list[str | ModelStatement] = []
    found = False
    for toks in statements:
        if not toks:
            continue
        cur = _Cursor(sql, toks)
        if _is_model_statement(cur):
            found = True
            out.append(_parse_statement(cur))
        else:
            out.append(_padded(sql, toks[0].start, toks[-1].end + 1))
    return out if found else None


def check_syntax(sql: str) -> None:
    """Parse every statement of ``sql`` (model statements included) without running any.

    Raises
    ------
    xpdb.errors.ParseError
        The first syntax error, with its line, column and caret.
    """
    script = split_script(sql)
    for piece in script if script is not None else [sql]:
        if isinstance(piece, str):
            parse(piece)


def _parse_statement(c: _Cursor) -> ModelStatement:
    head = c.word()
    if head == "SHOW":
        c.i += 2
        st = ModelStatement("show")
    elif head == "CREATE":
        st = _parse_create(c)
    elif head == "EVALUATE":
        c.i += 2
        st = ModelStatement("evaluate", c.name("a model name after EVALUATE MODEL"))
        st.version = _version(c)
        c.expect("ON", "and the rows to evaluate on: ON (SELECT ...) or ON table")
        if c.word() == "(" and c.tokens[-1].text == ")":
            c.i += 1
            inner = _Cursor(c.sql, c.tokens[:-1])
            inner.i = c.i
            st.query_sql = inner.rest_sql()
            c.i = len(c.tokens)
        else:
            table = c.name("a table name or (SELECT ...) after ON")
            st.query = exp.select("*").from_(exp.to_table(table, dialect=DIALECT))
    elif head in ("DESCRIBE", "DESC"):
        c.i += 2
        st = ModelStatement("describe", c.name("a model name after DESCRIBE MODEL"))
        st.version = _version(c)
    else:  # DROP
        c.i += 2
        st = ModelStatement("drop")
        st.if_exists = c.accept("IF", "EXISTS")
        st.name = c.name("a model name after DROP MODEL")
    if st.query_sql:
        st.query = _parse_query(c, st.query_sql)
    elif c.peek() is not None:
        c.fail(f"unexpected {c.peek().text!r} at the end of the {st.kind.upper()} statement")
    return st


def _version(c: _Cursor) -> int | None:
    if not c.accept("VERSION"):
        return None
    tok = c.take()
    if tok.token_type != TokenType.NUMBER or not tok.text.isdigit():
        c.fail("expected a version number after VERSION", tok)
    return int(tok.text)


def _parse_create(c: _Cursor) -> ModelStatement:
    c.i += 1
    st = ModelStatement("create")
    st.replace = c.accept("OR", "REPLACE")
    c.i += 1  # MODEL
    st.if_not_exists = c.accept("IF", "NOT", "EXISTS")
    st.name = c.name("a model name after CREATE MODEL")
    seen: set[str] = set()
    while not (c.word() == "AS" and c.peek().token_type == TokenType.ALIAS):
        tok = c.peek()
        clause = c.word()
        if tok is None:
            c.fail("expected AS SELECT ... (the training rows)")
        if clause in seen:
            c.fail(f"{clause} is given twice")
        seen.add(clause)
        c.i += 1
        if clause == "TYPE":
            st.type_name = c.name("a model type after TYPE (e.g. linear_regression, kmeans)")
        elif clause == "TARGET":
            st.target = c.name("the target column after TARGET")
        elif clause == "WITH":
            st.options = _parse_options(c)
        else:
            c.fail(f"unexpected {tok.text!r}; CREATE MODEL takes TYPE, TARGET, WITH (...) "
                   "and AS SELECT ...", tok)
    if not st.type_name:
        c.fail("CREATE MODEL needs TYPE <model type> before AS (e.g. TYPE linear_regression)")
    c.i += 1  # AS
    st.query_sql = c.rest_sql()
    c.i = len(c.tokens)
    return st


def _parse_options(c: _Cursor) -> dict[str, Any]:
    c.expect("(", "after WITH: WITH (name = value, ...)")
    out: dict[str, Any] = {}
    while True:
        key_tok = c.peek()
        key = c.name("an option name in WITH (...)")
        if key in out:
            c.fail(f"option {key!r} is given twice", key_tok)
        c.expect("=", f"after option {key!r}")
        out[key] = _option_value(c)
        if c.accept(")"):
            return out
        c.expect(",", "or ) between options")


def _option_value(c: _Cursor) -> Any:
    tok = c.take()
    kind, text = tok.token_type, tok.text
    if kind == TokenType.STRING:
        return text
    if kind == TokenType.NUMBER:
        return int(text) if re.fullmatch(r"\d+", text) else float(text)
    if kind == TokenType.DASH:
        value = _option_value(c)
        if isinstance(value, bool) or not isinstance(value, int | float):
            c.fail("expected a number after '-'", tok)
        return -value
    if kind in (TokenType.L_PAREN, TokenType.L_BRACKET):
        close = ")" if kind == TokenType.L_PAREN else "]"
        items: list[Any] = []
        while not c.accept(close):
            items.append(_option_value(c))
            if not c.accept(","):
                c.expect(close, "to close the list")
                break
        return tuple(items) if close == ")" else items
    upper = text.upper()
    if upper in ("TRUE", "FALSE"):
        return upper == "TRUE"
    if upper == "NULL":
        return None
    if re.fullmatch(r"\w+", text):
        return text  # a bare word: penalty = l1
    c.fail(f"expected an option value (number, 'string', true/false, null), got {text!r}", tok)
    return None


def _parse_query(c: _Cursor, text: str) -> exp.Expression:
    trees = parse(text)
    if len(trees) != 1 or not isinstance(trees[0], exp.Query):
        c.fail("expected one query (SELECT ...) here")
    return trees[0]


# == the registry of a database ============================================================
