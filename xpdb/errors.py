"""The one exception hierarchy of xpdb.

Every error a user can cause derives from :class:`XpdbError`. Messages say what went wrong,
show the offending value, and say how to fix it.
"""

from __future__ import annotations

import builtins


class XpdbError(Exception):
    """Base class of every error xpdb raises on purpose."""


class ParseError(XpdbError):
    """Text (SQL, a literal, a file) could not be parsed.

    Parameters
    ----------
    message : str
        What went wrong.
    line, column : int, optional
        1-based position of the offending token, when known.
    """

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.line = line
        self.column = column


class BindError(XpdbError):
    """A name (table, column, function) does not resolve."""


class TypeError(XpdbError, builtins.TypeError):  # noqa: A001 - deliberate, mirrors the design
    """An operation got values of a type it cannot take."""


class CastError(TypeError, ValueError):
    """A value could not be converted to the requested type."""


class ExecutionError(XpdbError):
    """A well-formed operation failed while running."""


class IOError(XpdbError, OSError):  # noqa: A001
    """A file could not be read or written (missing, malformed, wrong type)."""

    def __init__(
        self,
        message: str,
        path: str | None = None,
        line: int | None = None,
        column: str | None = None,
    ):
        super().__init__(message)
        self.path = path
        self.line = line
        self.column = column

    def __str__(self) -> str:  # OSError's __str__ would print errno-style tuples
        return str(self.args[0]) if self.args else ""


class StorageError(XpdbError):
    """The database directory or its catalog is unusable."""


class DeviceError(XpdbError):
    """A device was requested that cannot be used."""


class DeviceMemoryError(DeviceError, MemoryError):
    """An allocation on a device failed or would exceed its memory limit."""


class AuthError(XpdbError):
    """Authentication or authorization failed."""


class NotSupportedError(XpdbError, NotImplementedError):
    """A construct is valid but not supported (yet) on this device."""


__all__ = [
    "AuthError",
    "BindError",
    "CastError",
    "DeviceError",
    "DeviceMemoryError",
    "ExecutionError",
    "IOError",
    "NotSupportedError",
    "ParseError",
    "StorageError",
    "TypeError",
    "XpdbError",
]
