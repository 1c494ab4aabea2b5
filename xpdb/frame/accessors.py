"""``Series.str`` and ``Series.dt``: pandas' string and datetime accessors.

String functions run once per distinct value on the host dictionary (pyarrow.compute) and
gather through the codes on the device (:mod:`xpdb.kernels.strings`); datetime fields are
integer arithmetic on the device (:mod:`xpdb.kernels.datetime`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .. import types as t
from ..column import Column
from ..errors import NotSupportedError
from ..errors import TypeError as XTypeError
from ._convert import kernel


class StringAccessor:
    """``Series.str``: vectorized string functions with pandas' names and semantics.

    Missing values give missing results, except in the predicates (``contains``,
    ``startswith``, ``match``, ``isdigit``...), which give ``na`` (False by default, as
    pandas 3's string dtype does). Regular expressions are RE2 (pyarrow's engine): Python's
    syntax without backreferences and lookaround.

    Examples
    --------
    >>> from xpdb.frame import Series
    >>> s = Series([" Ab ", None, "cd"], device="cpu")
    >>> s.str.strip().str.upper().to_list()
    ['AB', None, 'CD']
    >>> s.str.contains("b", case=False).to_list()
    [True, False, False]
    """

    def __init__(self, series: Any):
        if not series.dtype.is_string:
            msg = (
                f"the .str accessor needs a string Series, got type {series.dtype}; use "
                ".astype(str) first"
            )
            raise XTypeError(msg)
        self._s = series

    def _k(self) -> Any:
        return kernel("strings", "the .str accessor")

    def _wrap(self, col: Column) -> Any:
        return self._s._new(col)

    def _map(self, fn: Callable[[pa.Array], pa.Array], out_type: Any = None) -> Any:
        return self._wrap(self._k().map_dictionary(self._s._col, fn, out_type))

    def _pred(self, col: Column, na: bool | None) -> Any:
        """A bool result with missing rows set to ``na`` (None keeps them null)."""
        if na is None or col.validity is None:
            return self._wrap(col)
        data = col.data & col.validity if not na else col.data | ~col.validity
        return self._wrap(Column(t.bool_, data, None, None, col.device))

    def _pmap(self, fn: Callable[[pa.Array], pa.Array], na: bool | None) -> Any:
        return self._pred(self._k().map_dictionary(self._s._col, fn, t.bool_), na)

    # -- case and length ------------------------------------------------------------------
    def upper(self) -> Any:
        """Upper case."""
        return self._wrap(self._k().upper(self._s._col))

    def lower(self) -> Any:
        """Lower case."""
        return self._wrap(self._k().lower(self._s._col))

    def title(self) -> Any:
        """Title Case (each word capitalized)."""
        return self._wrap(self._k().title(self._s._col))

    def capitalize(self) -> Any:
        """First character upper case, the rest lower case."""
        return self._wrap(self._k().capitalize(self._s._col))

    def swapcase(self) -> Any:
        """Upper case to lower and lower to upper."""
        return self._map(pc.utf8_swapcase)

    def len(self) -> Any:
        """Number of characters (code points)."""
        return self._wrap(self._k().length(self._s._col))

    # -- trimming, slicing, padding -------------------------------------------------------
    def strip(self, to_strip: str | None = None) -> Any:
        """Remove leading and trailing whitespace (or the characters of ``to_strip``)."""
        return self._wrap(self._k().trim(self._s._col, to_strip))

    def lstrip(self, to_strip: str | None = None) -> Any:
        """Remove leading whitespace (or the characters of ``to_strip``)."""
        return self._wrap(self._k().ltrim(self._s._col, to_strip))

    def rstrip(self, to_strip: str | None = None) -> Any:
        """Remove trailing whitespace (or the characters of ``to_strip``)."""
        return self._wrap(self._k().rtrim(self._s._col, to_strip))

    def slice(self, start: int | None = None, stop: int | None = None,
              step: int | None = None) -> Any:
        """``value[start:stop:step]`` of each value."""
        return self._wrap(self._k().slice_(self._s._col, start, stop, step))

    def get(self, i: int) -> Any:
        """The character at position ``i`` (missing when the value is shorter)."""
        def fn(d: pa.Array) -> pa.Array:
            got = pc.utf8_slice_codeunits(d, i, i + 1 if i != -1 else None)
            return pc.if_else(pc.equal(pc.utf8_length(got), 0), pa.scalar(None, pa.string()),
                              got)

        return self._map(fn)

    def pad(self, width: int, side: str = "left", fillchar: str = " ") -> Any:
        """Pad to ``width`` characters on the ``side`` (left, right or both)."""
        return self._wrap(self._k().pad(self._s._col, width, side, fillchar))

    def zfill(self, width: int) -> Any:
        """Pad with zeros on the left to ``width`` (after a leading sign, as Python)."""
        def fn(d: pa.Array) -> pa.Array:
            return pa.array([s.zfill(width) for s in d.to_pylist()], pa.string())

        return self._map(fn)

    def repeat(self, repeats: int) -> Any:
        """Each value repeated ``repeats`` times."""
        return self._wrap(self._k().repeat(self._s._col, repeats))

    # -- matching ---------------------------------------------------------------------------
    def contains(self, pat: str, case: bool = True, flags: int = 0, na: bool | None = False,
                 regex: bool = True) -> Any:
        """True where ``pat`` occurs (a regular expression unless ``regex=False``)."""
        if regex:
            fl = flags | (0 if case else re.IGNORECASE)
            return self._pred(self._k().regex_match(self._s._col, pat, fl), na)
        return self._pred(self._k().contains(self._s._col, pat, regex=False, case=case), na)

    def startswith(self, pat: str | tuple[str, ...], na: bool | None = False) -> Any:
        """True where the value starts with ``pat`` (or one of a tuple of prefixes)."""
        pats = (pat,) if isinstance(pat, str) else tuple(pat)
        return self._pmap(lambda d: _any([pc.starts_with(d, p) for p in pats], len(d)), na)

    def endswith(self, pat: str | tuple[str, ...], na: bool | None = False) -> Any:
        """True where the value ends with ``pat`` (or one of a tuple of suffixes)."""
        pats = (pat,) if isinstance(pat, str) else tuple(pat)
        return self._pmap(lambda d: _any([pc.ends_with(d, p) for p in pats], len(d)), na)

    def match(self, pat: str, case: bool = True, flags: int = 0,
              na: bool | None = False) -> Any:
        """True where the regular expression ``pat`` matches at the start of the value."""
        return self.contains(f"^(?:{pat})", case=case, flags=flags, na=na)

    def fullmatch(self, pat: str, case: bool = True, flags: int = 0,
                  na: bool | None = False) -> Any:
        """True where the regular expression ``pat`` matches the whole value."""
        return self.contains(f"^(?:{pat})$", case=case, flags=flags, na=na)

    def find(self, sub: str) -> Any:
        """Lowest character index of ``sub`` (-1 when absent)."""
        return self._map(lambda d: pc.find_substring(d, sub), t.int64)

    def count(self, pat: str, flags: int = 0) -> Any:
        """Number of non-overlapping matches of the regular expression ``pat``."""
        rx = pat if not flags & re.IGNORECASE else f"(?i){pat}"
        return self._map(lambda d: pc.count_substring_regex(d, rx), t.int64)

    def replace(self, pat: str, repl: str, n: int = -1, case: bool | None = None,
                flags: int = 0, regex: bool = False) -> Any:
        """Replace occurrences of ``pat`` (literal by default, as pandas 2+) with ``repl``.

        ``n`` limits the replacements per value (-1: all); ``repl`` refers to groups as
        ``\\1`` when ``regex=True``.
        """
        limit = None if n is None or n < 0 else int(n)
        if pat == "" and not regex:  # Python's rule: repl goes between every character
            count = -1 if limit is None else limit
            return self._map(lambda d: pa.array([v.replace("", repl, count)
                                                 for v in d.to_pylist()], pa.string()))
        if not regex and case is not False and not flags:
            if limit is None:
                return self._wrap(self._k().replace(self._s._col, pat, repl))
            return self._map(lambda d: pc.replace_substring(d, pat, repl,
                                                            max_replacements=limit))
        rx = pat if regex else re.escape(pat)
        if case is False or flags & re.IGNORECASE:
            rx = f"(?i){rx}"
        return self._map(lambda d: pc.replace_substring_regex(d, rx, repl,
                                                              max_replacements=limit))

    # -- character classes ------------------------------------------------------------------
    def isdigit(self) -> Any:
        """True where every character is digits (and the value is not empty)."""
        return self._pmap(pc.utf8_is_digit, False)

    def isalpha(self) -> Any:
        """True where every character is letters (and the value is not empty)."""
        return self._pmap(pc.utf8_is_alpha, False)

    def isalnum(self) -> Any:
        """True where every character is letters or digits (and the value is not empty)."""
        return self._pmap(pc.utf8_is_alnum, False)

    def isnumeric(self) -> Any:
        """True where every character is numeric characters (and the value is not empty)."""
        return self._pmap(pc.utf8_is_numeric, False)

    def isspace(self) -> Any:
        """True where every character is whitespace (and the value is not empty)."""
        return self._pmap(pc.utf8_is_space, False)

    def islower(self) -> Any:
        """True where every character is lower case (cased characters) (and the value is not empty)."""
        return self._pmap(pc.utf8_is_lower, False)

    def isupper(self) -> Any:
        """True where every character is upper case (cased characters) (and the value is not empty)."""
        return self._pmap(pc.utf8_is_upper, False)

    # -- combining --------------------------------------------------------------------------
    def cat(self, others: Any = None, sep: str = "", na_rep: str | None = None) -> Any:
        """Concatenate: with ``others`` element-wise (a Series or list); without, every
        value into one string (missing values skipped unless ``na_rep`` is given)."""
        col = self._s._col
        if others is None:
            vals = col.to_pylist()
            return sep.join(v if v is not None else na_rep for v in vals
                            if v is not None or na_rep is not None)
        other = self._s._operand(others)
        if na_rep is not None:
            fill = kernel("expr", "str.cat").fill_null
            col = fill(col, na_rep)
            if isinstance(other, Column):
                other = fill(other, na_rep)
        args = [col, other] if sep == "" else [col, sep, other]
        return self._wrap(self._k().concat(*args))


def _any(masks: list[pa.Array], n: int) -> pa.Array:
    out = masks[0] if masks else pa.array([False] * n)
    for m in masks[1:]:
        out = pc.or_(out, m)
    return out


_FIELDS = {
    "year": "year", "month": "month", "day": "day", "hour": "hour", "minute": "minute",
    "second": "second", "microsecond": "microsecond", "nanosecond": "nanosecond",
    "dayofweek": "dayofweek", "day_of_week": "dayofweek", "weekday": "dayofweek",
    "dayofyear": "dayofyear", "day_of_year": "dayofyear", "quarter": "quarter",
}
_FREQS = {"D": "day", "d": "day", "h": "hour", "H": "hour", "min": "minute", "T": "minute",
          "s": "second", "S": "second", "ms": "millisecond", "us": "microsecond",
          "MS": "month", "M": "month", "Y": "year", "YS": "year", "W": "week"}


class DatetimeAccessor:
    """``Series.dt``: fields and rounding of date and timestamp Series (pandas' names).

    ``dayofweek`` counts Monday as 0, as pandas. Fields are integers; missing values stay
    missing.

    Examples
    --------
    >>> import datetime
    >>> from xpdb.frame import Series
    >>> s = Series([datetime.date(2024, 3, 1), None], device="cpu")
    >>> s.dt.year.to_list(), s.dt.dayofweek.to_list()
    ([2024, None], [4, None])
    """

    def __init__(self, series: Any):
        if series.dtype.kind not in ("date", "timestamp"):
            msg = (
                f"the .dt accessor needs a date or timestamp Series, got type {series.dtype}; "
                "cast it with astype('timestamp') first"
            )
            raise XTypeError(msg)
        self._s = series

    def _k(self) -> Any:
        return kernel("datetime", "the .dt accessor")

    def _field(self, name: str) -> Any:
        return self._s._new(self._k().extract(self._s._col, _FIELDS[name], convention="pandas"))

    def __getattr__(self, name: str) -> Any:
        if name in _FIELDS:
            return self._field(name)
        raise AttributeError(f"'.dt' has no attribute {name!r}")

    @property
    def date(self) -> Any:
        """The calendar date (a ``date`` Series)."""
        if self._s.dtype.kind == "date":
            return self._s._new(self._s._col)
        return self._s._new(kernel("cast", ".dt.date").cast(self._s._col, t.date))

    def normalize(self) -> Any:
        """Timestamps truncated to midnight."""
        return self.floor("D")

    def floor(self, freq: str) -> Any:
        """Round down to a frequency: D, h, min, s, ms, us (and MS month, YS year)."""
        unit = _FREQS.get(freq)
        if unit is None:
            msg = f"floor freq={freq!r} is not supported; use one of {sorted(_FREQS)}"
            raise NotSupportedError(msg)
        return self._s._new(self._k().date_trunc(self._s._col, unit))

    def strftime(self, date_format: str) -> Any:
        """Format as strings with C strftime codes (``"%Y-%m-%d"``)."""
        return self._s._new(self._k().strftime(self._s._col, date_format))
