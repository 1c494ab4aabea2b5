"""Arrow IPC reading and writing: the file format (Feather v2, ``.arrow``/``.feather``), the
stream format (``.arrows``) and legacy Feather v1 files.

The reader tells the formats apart by their first bytes, so the extension does not matter.
Every xpdb type round-trips exactly.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from pyarrow import feather, ipc

from ..errors import IOError as XIOError
from ..errors import XpdbError
from ..table import Table
from . import _common as c

_FILE_MAGIC = b"ARROW1"
_FEATHER_V1_MAGIC = b"FEA1"


def read_ipc_table(
    path: c.PathArg,
    *,
    columns: Sequence[str] | None = None,
    memory_map: bool = False,
    device: Any = None,
) -> Table:
    """Read Arrow IPC files (file or stream format) into a :class:`~xpdb.Table`.

    Parameters
    ----------
    path : str, Path, glob or list of them
        Files are read in the given order (a glob's sorted by name) and stacked.
    columns : list of str, optional
        Keep only these columns, in this order.
    memory_map : bool, default False
        Map the file instead of reading it. On the CPU the columns then point into the
        mapping (no copy), which keeps the file open and requires that nobody truncates it.
    device : str or Device, optional
        Where the table goes; None means the configured default device.

    Returns
    -------
    Table

    Raises
    ------
    xpdb.errors.IOError
        A missing, empty or corrupt file (named), or an unknown column.

    Examples
    --------
    >>> import os, tempfile, pyarrow as pa
    >>> p = os.path.join(tempfile.mkdtemp(), "x.arrow")
    >>> write_ipc(pa.table({"a": [1, 2], "b": ["x", None]}), p)
    >>> read_ipc_table(p, columns=["b"], device="cpu").to_pydict()
    {'b': ['x', None]}
    """
    cols = c.resolve_columns(columns)
    paths = c.expand_paths(path, "Arrow IPC file")
    tables = [_read_one(p, cols, memory_map) for p in paths]
    return c.to_device(c.concat_arrow(tables, paths), device,
                       paths[0] if len(paths) == 1 else None)


def read_ipc(path: c.PathArg, **kwargs: Any) -> Any:
    """Read Arrow IPC files into an xpdb DataFrame; takes the arguments of
    :func:`read_ipc_table`.

    Returns
    -------
    xpdb.DataFrame
    """
    return c.to_frame(read_ipc_table(path, **kwargs))


def _read_one(path: str, columns: list[str] | None, memory_map: bool) -> pa.Table:
    c.check_not_empty(path, "Arrow IPC file")
    try:
        with open(path, "rb") as f:
            magic = f.read(len(_FILE_MAGIC))
        if magic.startswith(_FEATHER_V1_MAGIC):
            table = feather.read_table(path, memory_map=memory_map)
        else:
            source = pa.memory_map(path) if memory_map else pa.OSFile(path)
            with source:
                if magic == _FILE_MAGIC:
                    table = ipc.open_file(source).read_all()
                else:
                    table = ipc.open_stream(source).read_all()
    except XpdbError:
        raise
    except (pa.ArrowException, OSError) as e:
        msg = f"cannot read Arrow IPC file {path!r}: it is corrupt or not an Arrow file ({e})"
        raise XIOError(msg, path=path) from e
    if columns is not None:
        c.check_columns(columns, table.column_names, path)
        table = table.select(columns)
    return table


def write_ipc(data: Any, path: str | os.PathLike, *, stream: bool = False,
              compression: str | None = None) -> None:
    """Write a table as an Arrow IPC file.

    Parameters
    ----------
    data : xpdb Table or DataFrame, pandas DataFrame or pyarrow Table
    path : str or Path
    stream : bool, default False
        False: the random-access file format (Feather v2); True: the stream format.
    compression : {"lz4", "zstd"} or None, default None
        Buffer compression.

    Notes
    -----
    The file appears only once fully written: a failed write leaves ``path`` as it was.
    """
    table = c.to_arrow_data(data)
    try:
        options = ipc.IpcWriteOptions(compression=compression)
        with c.atomic_write(path) as tmp, pa.OSFile(tmp, "wb") as sink:
            opener = ipc.new_stream if stream else ipc.new_file
            with opener(sink, table.schema, options=options) as writer:
                writer.write_table(table)
    except XpdbError:
        raise
    except (pa.ArrowException, OSError, ValueError) as e:
        raise c.write_error(path, e, "Arrow IPC") from e
