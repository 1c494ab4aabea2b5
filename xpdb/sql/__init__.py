"""xpdb's SQL layer: ``connect()`` -> :class:`Database` -> ``sql(...)`` -> :class:`Result`.

Staging follows sqlglot: parse (:mod:`.parser`) -> plan (:mod:`.planner`, :mod:`.plan`) ->
execute (:mod:`.executor`, expressions in :mod:`.expressions`, functions in
:mod:`.functions`) on the kernels.
"""

from __future__ import annotations

from .connection import Database, connect
from .functions import register_function
from .result import Result

__all__ = ["Database", "Result", "connect", "register_function"]
