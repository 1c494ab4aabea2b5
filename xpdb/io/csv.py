"""CSV reading (pyarrow's multithreaded parser) and writing.

Parsing rules, chosen to match pandas and DuckDB where they agree:

- **Nulls**: an unquoted field equal to one of :data:`DEFAULT_NULL_VALUES` (pandas'
  default ``na_values``: ``""``, ``"NA"``, ``"N/A"``, ``"NULL"``, ``"null"``, ``"NaN"``,
  ``"nan"``, ``"None"``, ``"<NA>"``, ``"#N/A"``...) is null in every column, strings too.
  A *quoted* field is never null: ``""`` is the empty string (DuckDB's rule; pandas reads
  it as missing). So ``NaN`` in a float column reads as null, as in pandas.
- **Types** are inferred per column over the whole file: null, int64, bool
  (``true``/``false``/``1``/``0`` spellings), date (``2020-01-31``), timestamp (ISO-8601,
  with a ``Z`` or ``+hh:mm`` offset giving a UTC timestamp), float64, else string. Pass
  ``dtype={"col": "int32", ...}`` to fix a column's type; ``parse_dates=False`` keeps
  date-like text as strings.
- **Quoted values** may contain the separator, doubled quotes and newlines.
- A column that is empty in every row reads as float64 full of nulls (as in pandas).

Errors name the file, the 1-based line (the header is line 1) and the column.
"""

from __future__ import annotations

import csv as _pycsv
import io
import os
import re
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from .. import types as t
from ..errors import IOError as XIOError
from ..errors import XpdbError
from ..table import Table
from . import _common as c

#: Unquoted values read as null by default (pandas' default ``na_values``).
DEFAULT_NULL_VALUES: tuple[str, ...] = (
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
    "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
)


def read_csv_table(
    path: c.PathArg,
    *,
    sep: str = ",",
    header: bool = True,
    names: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    dtype: dict[str, Any] | None = None,
    null_values: Sequence[str] | None = None,
    skip_rows: int = 0,
    quotechar: str | None = '"',
    parse_dates: bool | Sequence[str] = True,
    date_format: str | None = None,
    block_size: int | None = None,
    encoding: str = "utf8",
    device: Any = None,
) -> Table:
    """Read CSV files into a :class:`~xpdb.Table` on ``device``.

    Parameters
    ----------
    path : str, Path, glob or list of them
        One file, several (read in the given order; a glob's matches sorted by name), or a
        directory. Compressed files (``.gz``, ``.bz2``, ``.zst``...) are decompressed.
    sep : str, default ","
        The field separator (one character).
    header : bool, default True
        Whether the first line (after ``skip_rows``) holds the column names. Without a
        header and without ``names`` the columns are called ``f0``, ``f1``...
    names : list of str, optional
        Column names to use; with ``header=True`` they replace the file's header line.
    columns : list of str, optional
        Read only these columns, in this order.
    dtype : dict, optional
        Column name -> type (anything :func:`xpdb.types.parse` takes: ``"int32"``,
        ``"decimal(10,2)"``, ``"timestamp[ms]"``, ``"date"``, ``str``...).
    null_values : list of str, optional
        Unquoted values that mean null; default :data:`DEFAULT_NULL_VALUES`.
    skip_rows : int, default 0
        Rows to skip before the header (or the data, without one).
    quotechar : str or None, default '"'
        The quote character; None disables quoting.
    parse_dates : bool or list of str, default True
        True: infer ISO-8601 dates and timestamps. False: keep them as strings (unless
        ``dtype`` says otherwise). A list: read these columns as ``timestamp[us]``.
    date_format : str, optional
        A ``strptime`` format (``"%d/%m/%Y %H:%M"``) tried before ISO-8601 for timestamps.
    block_size : int, optional
        Bytes per parsing block (pyarrow's default: 1 MiB); blocks are parsed in parallel.
    encoding : str, default "utf8"
        The file's text encoding.
    device : str or Device, optional
        Where the table goes; None means the configured default device.

    Returns
    -------
    Table

    Raises
    ------
    xpdb.errors.IOError
        A missing or empty file, a malformed row or a value that does not fit its column's
        type (with the file, the line, the column and the value).

    Examples
    --------
    >>> import os, pathlib, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "x.csv")
    >>> _ = pathlib.Path(p).write_text("a,b\\n1,x\\n2,NA\\n")
    >>> read_csv_table(p, device="cpu").to_pydict()
    {'a': [1, 2], 'b': ['x', None]}
    """
    opts = _Options(sep, header, names, c.resolve_columns(columns), c.parse_dtypes(dtype),
                    null_values, skip_rows, quotechar, parse_dates, date_format, block_size,
                    encoding)
    paths = c.expand_paths(path, "CSV file")
    tables = [_read_one(p, opts) for p in paths]
    table = c.concat_arrow(tables, paths)
    opts.check_dtype_names(table.column_names, paths[0])
    return c.to_device(table, device, paths[0] if len(paths) == 1 else None)


def read_csv(path: c.PathArg, **kwargs: Any) -> Any:
    """Read CSV files into an xpdb DataFrame; takes the arguments of :func:`read_csv_table`.

    Returns
    -------
    xpdb.DataFrame
    """
    return c.to_frame(read_csv_table(path, **kwargs))


class _Options:
    """The reader's arguments, validated once and turned into pyarrow options."""

    def __init__(self, sep: str, header: bool, names: Sequence[str] | None,
                 columns: list[str] | None, dtypes: dict[str, t.DataType],
                 null_values: Sequence[str] | None, skip_rows: int, quotechar: str | None,
                 parse_dates: bool | Sequence[str], date_format: str | None,
                 block_size: int | None, encoding: str):
        if not isinstance(sep, str) or len(sep) != 1:
            raise XIOError(f"sep must be a single character, got {sep!r}")
        if quotechar is not None and (not isinstance(quotechar, str) or len(quotechar) != 1):
            raise XIOError(f"quotechar must be a single character or None, got {quotechar!r}")
        if not isinstance(skip_rows, int) or skip_rows < 0:
            raise XIOError(f"skip_rows must be a non-negative integer, got {skip_rows!r}")
        self.sep, self.header, self.quotechar = sep, bool(header), quotechar
        self.names = None if names is None else [str(n) for n in names]
        self.columns, self.dtypes, self.skip_rows = columns, dtypes, skip_rows
        self.null_values = list(DEFAULT_NULL_VALUES if null_values is None else null_values)
        self.parse_dates, self.date_format = parse_dates, date_format
        self.block_size, self.encoding = block_size, encoding

    def read_options(self) -> pacsv.ReadOptions:
        kw: dict[str, Any] = {"use_threads": True, "encoding": self.encoding,
                              "skip_rows": self.skip_rows}
        if self.block_size is not None:
            kw["block_size"] = int(self.block_size)
        if self.names is not None:
            kw["column_names"] = self.names
            if self.header:  # the names replace the header line, which is skipped
                kw["skip_rows"] = self.skip_rows + 1
        elif not self.header:
            kw["autogenerate_column_names"] = True
        return pacsv.ReadOptions(**kw)

    def parse_options(self) -> pacsv.ParseOptions:
        return pacsv.ParseOptions(delimiter=self.sep, quote_char=self.quotechar or False,
                                  double_quote=True, newlines_in_values=True)

    def convert_options(self, as_string: Sequence[str] = ()) -> pacsv.ConvertOptions:
        types = {n: d.to_arrow() for n, d in self.dtypes.items()}
        if not isinstance(self.parse_dates, bool):
            for name in self.parse_dates:
                types.setdefault(name, pa.timestamp("us"))
        for name in as_string:
            types[name] = pa.string()
        parsers: list[Any] = [pacsv.ISO8601]
        if self.date_format:
            parsers.insert(0, self.date_format)
        kw: dict[str, Any] = {
            "column_types": types, "null_values": self.null_values,
            "strings_can_be_null": True, "quoted_strings_can_be_null": False,
            "timestamp_parsers": parsers,
        }
        if self.columns is not None:
            kw["include_columns"] = self.columns
        return pacsv.ConvertOptions(**kw)

    def check_dtype_names(self, read: Sequence[str], path: str) -> None:
        unknown = [n for n in self.dtypes if n not in read]
        if unknown and self.columns is None:
            msg = f"dtype names column {unknown[0]!r}, which {path!r} lacks{c.closest(unknown[0], read)}"
            raise XIOError(msg, path=path, column=unknown[0])


def _read_one(path: str, opts: _Options) -> pa.Table:
    c.check_not_empty(path, "CSV file")
    table = _arrow_read(path, opts)
    if opts.parse_dates is False:
        inferred = [f.name for f in table.schema
                    if (pa.types.is_timestamp(f.type) or pa.types.is_date(f.type))
                    and f.name not in opts.dtypes]
        if inferred:  # pyarrow always infers ISO dates; read those columns again as text
            table = _arrow_read(path, opts, as_string=inferred)
    for field in table.schema:
        if pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type):
            msg = (
                f"column {field.name!r} of {path!r} holds bytes that are not valid "
                f"{opts.encoding}; pass the file's encoding, e.g. encoding='latin-1'"
            )
            raise XIOError(msg, path=path, column=field.name)
    return table


def _arrow_read(path: str, opts: _Options, as_string: Sequence[str] = ()) -> pa.Table:
    try:
        return pacsv.read_csv(path, read_options=opts.read_options(),
                              parse_options=opts.parse_options(),
                              convert_options=opts.convert_options(as_string))
    except XpdbError:
        raise
    except pa.ArrowException as e:
        raise _explain(path, opts, e) from e
    except (OSError, UnicodeError, ValueError) as e:
        raise XIOError(f"cannot read CSV file {path!r}: {e}", path=path) from e


_PARSE_RE = re.compile(r"Expected (\d+) columns, got (\d+): (.*)", re.S)
_CONVERT_RE = re.compile(r"In CSV column #(\d+): (?:Row #\d+: )?CSV conversion error to "
                         r"(.+?): invalid value '(.*)'$", re.S)
_INCLUDE_RE = re.compile(r"Column '(.*)' in include_columns does not exist")


def _explain(path: str, opts: _Options, e: Exception) -> XIOError:
    """Turn a pyarrow CSV error into an IOError with the file, line and column."""
    text = str(e)
    if "Empty CSV file" in text:
        return XIOError(f"CSV file {path!r} has no header and no data", path=path)
    m = _PARSE_RE.search(text)
    if m:
        expected = int(m.group(1))
        line, fields = _find_bad_row(path, opts, expected)
        found = len(fields) if fields is not None else int(m.group(2))
        shown = opts.sep.join(fields) if fields is not None else m.group(3)
        where = f"{path}:{line}" if line else path
        msg = (
            f"{where}: malformed CSV row: expected {expected} fields but found {found}: "
            f"{shown!r}. Check the separator (sep={opts.sep!r}) and the quoting "
            f"(quotechar={opts.quotechar!r}) or fix the row"
        )
        return XIOError(msg, path=path, line=line)
    m = _CONVERT_RE.search(text)
    if m:
        index, arrow_type, value = int(m.group(1)), m.group(2), m.group(3)
        header, line = _find_value(path, opts, index, value)
        name = header[index] if header is not None and index < len(header) else f"#{index}"
        given = opts.dtypes.get(name)
        expected = str(given) if given is not None else arrow_type
        origin = "the dtype you passed" if given is not None else "the column's type"
        where = f"{path}:{line}" if line else path
        msg = (
            f"{where}: column {name!r}: value {value!r} is not a valid {expected} "
            f"({origin}); pass dtype={{{name!r}: 'string'}} (or the type that fits every "
            "value) or fix the value"
        )
        return XIOError(msg, path=path, line=line, column=name)
    m = _INCLUDE_RE.search(text)
    if m:
        header = _header(path, opts)
        msg = f"column {m.group(1)!r} not found in {path!r}{c.closest(m.group(1), header or [])}"
        return XIOError(msg, path=path, column=m.group(1))
    return XIOError(f"cannot read CSV file {path!r}: {text}", path=path)


# -- locating a bad row: only on errors, so a plain sequential scan is fine -----------------
def _records(path: str, opts: _Options) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, fields) of every non-empty record, after ``skip_rows``."""
    _pycsv.field_size_limit(2**31 - 1)
    with pa.input_stream(path) as raw:
        text = io.TextIOWrapper(raw, encoding=opts.encoding, errors="replace", newline="")
        quoting = _pycsv.QUOTE_MINIMAL if opts.quotechar else _pycsv.QUOTE_NONE
        reader = _pycsv.reader(text, delimiter=opts.sep, quotechar=opts.quotechar or '"',
                               quoting=quoting, doublequote=True, strict=False)
        skipped, last = 0, 0
        for fields in reader:
            start, last = last + 1, reader.line_num
            if skipped < opts.skip_rows:
                skipped += 1
                continue
            if fields:
                yield start, fields


def _data_records(path: str, opts: _Options) -> tuple[list[str] | None,
                                                        Iterator[tuple[int, list[str]]]]:
    """The header names (None when unknown) and the data records."""
    records = _records(path, opts)
    if opts.header:
        first = next(records, None)
        header = opts.names or (first[1] if first else None)
    else:
        header = opts.names
    return header, records


def _header(path: str, opts: _Options) -> list[str] | None:
    try:
        header, records = _data_records(path, opts)
        if header is None:
            first = next(records, None)
            header = [f"f{i}" for i in range(len(first[1]))] if first else None
        return header
    except (OSError, _pycsv.Error):
        return None


def _find_bad_row(path: str, opts: _Options, expected: int) -> tuple[int | None, list[str] | None]:
    try:
        _, records = _data_records(path, opts)
        for line, fields in records:
            if len(fields) != expected:
                return line, fields
    except (OSError, _pycsv.Error):
        pass
    return None, None


def _find_value(path: str, opts: _Options, index: int, value: str) -> tuple[list[str] | None,
                                                                             int | None]:
    try:
        header, records = _data_records(path, opts)
        line = None
        for ln, fields in records:
            if index < len(fields) and fields[index] == value:
                line = ln
                break
        if header is None:
            header = [f"f{i}" for i in range(index + 1)]
        return header, line
    except (OSError, _pycsv.Error):
        return None, None


# -- writing ---------------------------------------------------------------------------------
def write_csv(data: Any, path: str | os.PathLike, *, header: bool = True, sep: str = ",") -> None:
    """Write a table as CSV.

    Nulls are written as empty fields and empty strings as ``""``, so :func:`read_csv`
    tells them apart; strings are quoted where needed; timestamps are ISO-8601 text (with
    the UTC offset for time-zone-aware ones). The file appears only once fully written.

    Parameters
    ----------
    data : xpdb Table or DataFrame, pandas DataFrame or pyarrow Table
    path : str or Path
    header : bool, default True
        Write the column names as the first line.
    sep : str, default ","
        The field separator.

    Examples
    --------
    >>> import os, pathlib, tempfile, pandas as pd
    >>> p = os.path.join(tempfile.mkdtemp(), "out.csv")
    >>> write_csv(pd.DataFrame({"a": [1, 2]}), p)
    >>> pathlib.Path(p).read_text()
    '"a"\\n1\\n2\\n'
    """
    table = c.to_arrow_data(data)
    if not isinstance(sep, str) or len(sep) != 1:
        raise XIOError(f"sep must be a single character, got {sep!r}")
    options = pacsv.WriteOptions(include_header=bool(header), delimiter=sep)
    try:
        with c.atomic_write(path) as tmp:
            pacsv.write_csv(table, tmp, write_options=options)
    except XpdbError:
        raise
    except (pa.ArrowException, OSError) as e:
        raise c.write_error(path, e, "CSV") from e
