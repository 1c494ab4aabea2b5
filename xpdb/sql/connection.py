"""``xpdb.connect()``: an in-memory SQL database over the kernels.

The catalog maps names to Tables (and views to queries). A statement computes every change
first and applies them through one function (:meth:`Database._apply`), so a statement that
fails changes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, NamedTuple

import pyarrow as pa
from sqlglot import exp

from .. import types as t
from ..column import Column
from ..device import get_device
from ..errors import BindError, NotSupportedError, XpdbError
from ..errors import TypeError as XTypeError
from ..kernels import cast as kcast
from ..table import Table, concat_tables, missing_column_message
from . import models as model_sql
from . import spatial as _spatial_sql  # noqa: F401  (registers the ST_* functions)
from .executor import Executor, Relation
from .expressions import sql_type, to_mask
from .optimizer.estimate import TableStats
from .parser import bind_parameters, parse
from .result import Result


def connect(path: str | os.PathLike[str] | None = None, device: Any = "auto", *,
            memory_limit: int | float | str | None = None, read_only: bool = False) -> Database:
    """Open a database: in memory, or persistent in directory ``path``.

    Parameters
    ----------
    path : str or path-like, optional
        A database directory, opened or created (tables in Delta Lake format, see
        :mod:`xpdb.storage`); None or ``":memory:"`` for an in-memory database.
    device : {"auto", "cpu", "gpu"} or Device
        Where tables live and queries run.
    memory_limit : int, float or str, optional
        The budget of the device-resident column cache (bytes, ``"8GB"``, ``"50%"`` of
        the device). Default: half the device's memory limit (or of its memory), a quarter
        of physical memory on the CPU. Scans larger than the budget stream through the
        device in pieces instead of being loaded at once.
    read_only : bool
        Open a persistent database without taking its writer lock; statements that change
        it raise, and every statement sees the latest committed state.

    Examples
    --------
    >>> db = connect(device="cpu")
    >>> db.sql("SELECT 1 + 2 AS x").fetchall()
    [(3,)]
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "db")
    >>> with connect(path, device="cpu") as db:
    ...     _ = db.sql("CREATE TABLE t AS SELECT 42 AS answer")
    >>> connect(path, device="cpu").sql("SELECT answer FROM t").fetchall()
    [(42,)]
    """
    if path is None or path == ":memory:":
        if read_only:
            raise XpdbError("read_only=True needs a database path")
        return Database(device, memory_limit=memory_limit)
    from ..storage.store import Store

    return Database(device, store=Store.open(path, read_only=read_only),
                    memory_limit=memory_limit)


class Append(NamedTuple):
    """A change that adds ``rows`` (with the table's columns, in order) to a table.

    Statements that only add rows (INSERT, COPY FROM) say so, so that a persistent
    database appends to its storage instead of rewriting the table.
    """

    rows: Table


class Database:
    """A catalog of tables and views plus a SQL front end, in memory or persistent.

    In a persistent database (``connect(path)``) every table created with SQL is stored
    (see :mod:`xpdb.storage`) and read onto the device column by column as queries need
    it, into a least-recently-used cache of ``memory_limit`` bytes. Tables made with
    :meth:`register` are temporary: they live in memory for this connection only.
    """

    def __init__(self, device: Any = "auto", *, store: Any = None,
                 memory_limit: int | float | str | None = None):
        from ..storage.cache import ColumnCache

        self.device = get_device(device)
        self._tables: dict[str, Any] = {}  # Table (in memory) or StoredTable
        self._views: dict[str, exp.Expression] = {}
        self._stats = TableStats()
        self._store = store
        self._temp: set[str] = set()  # registered (never stored) tables
        self._cache = ColumnCache(self._budget(memory_limit))
        #: optimizer rules to run (None: all of :data:`xpdb.sql.optimizer.RULES`; ``()``:
        #: none, the plan runs as written; for comparing plans and results)
        self.optimizer_rules: tuple[str, ...] | None = None
        if store is not None:
            self._load_catalog()

    # -- persistence ----------------------------------------------------------------------
    @property
    def path(self) -> str | None:
        """The database directory (None in memory)."""
        return None if self._store is None else self._store.root

    @property
    def memory_limit(self) -> int:
        """The column cache's budget in bytes (settable like :func:`connect`'s argument)."""
        return self._cache.limit

    @memory_limit.setter
    def memory_limit(self, value: int | float | str | None) -> None:
        self._cache.set_limit(self._budget(value))

    @property
    def cache(self) -> Any:
        """The device-resident column cache (:class:`xpdb.storage.cache.ColumnCache`)."""
        return self._cache

    def _budget(self, value: int | float | str | None) -> int:
        from ..device import parse_bytes

        if value is None:
            cap = self.device.memory_limit or self.device.total_memory
            return cap // 2 if self.device.is_gpu else cap // 4
        out = parse_bytes(value, self.device.memory_limit or self.device.total_memory)
        if out is None or out < 0:
            raise XpdbError(f"memory_limit must be a size such as '4GB' or '50%', got {value!r}")
        return out

    def _load_catalog(self) -> None:
        from ..storage.stored_table import StoredTable

        store = self._store
        store.refresh()
        tables: dict[str, Any] = {n: self._tables[n] for n in self._temp}
        for name in store.tables():
            old = self._tables.get(name)
            if old is not None and name not in self._temp and (old.dir, old.version) \
                    == store.files_version(name):
                tables[name] = old
            else:
                self._stats.forget(name)
                tables[name] = StoredTable(store, name, self.device, self._cache)
        self._tables = tables
        self._views = {n: parse(q)[0] for n, q in store.views().items()}

    def close(self) -> None:
        """Release the database directory and the device memory of the cache."""
        if self._store is not None:
            self._store.close()
        self._cache.clear()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def history(self, name: str) -> list[dict[str, Any]]:
        """The committed versions of stored table ``name``, oldest first (``version``,
        ``timestamp`` in ms, ``operation``); read one with ``FROM t VERSION AS OF n``."""
        if self._store is None or name in self._temp:
            raise XpdbError(f"table {name!r} is not stored: history needs a persistent table")
        return self._store.history(name)

    # -- catalog ------------------------------------------------------------------------
    def register(self, name: str, obj: Any) -> None:
        """Make ``obj`` (pandas DataFrame, pyarrow Table, xpdb Table or DataFrame) a table
        called ``name`` (replacing one of that name), moved onto the database's device.

        In a persistent database the table is temporary (this connection only, never
        stored); use ``CREATE TABLE t AS SELECT * FROM name`` to store it.
        """
        if self._store is not None and name in self._tables and name not in self._temp:
            msg = (f"register({name!r}): a stored table has that name; drop it first or "
                   "register under another name")
            raise XpdbError(msg)
        table = _to_table(obj, self.device)
        self._temp.add(name)
        self._apply({name: table})

    def unregister(self, name: str) -> None:
        """Remove the table ``name``."""
        self._require(name)
        self._apply({name: None})

    def table(self, name: str, version: int | None = None) -> Any:
        """The table ``name`` (at stored ``version``, default the latest) as an
        :class:`xpdb.DataFrame`."""
        from ..frame import DataFrame

        table = self._require(name)
        if version is not None:
            table = self._at_version(name, version)
        return DataFrame._from_table(table.materialize() if hasattr(table, "materialize")
                                     else table)

    def _at_version(self, name: str, version: int) -> Any:
        from ..storage.stored_table import StoredTable

        table = self._require(name)
        if not isinstance(table, StoredTable):
            raise XpdbError(f"table {name!r} is not stored: VERSION AS OF needs a persistent "
                            "table (xpdb.connect(path))")
        return StoredTable(self._store, name, self.device, self._cache, version=version)

    def tables(self) -> list[str]:
        """Names of the tables and views, sorted."""
        return sorted([*self._tables, *self._views])

    def _require(self, name: str) -> Table:
        if name not in self._tables:
            raise BindError(missing_column_message(name, list(self._tables), "table"))
        return self._tables[name]

    def _apply(self, changes: dict[str, Table | Append | None],
               views: dict[str, exp.Expression | None] | None = None,
               layouts: dict[str, tuple[tuple[str, ...], int]] | None = None) -> None:
        """The one place the catalog changes (after a statement has fully succeeded).

        ``changes`` maps a table name to its new content, to :class:`Append` (rows added)
        or to None (dropped); ``layouts`` gives new stored tables their shard key and shard
        count. In a persistent database each table's change is one atomic commit.
        """
        for name, tb in changes.items():
            self._stats.forget(name)
            if self._store is not None and name not in self._temp:
                new = self._persist(name, tb, (layouts or {}).get(name))
                if new is None:
                    self._tables.pop(name, None)
                else:
                    self._tables[name] = new
                continue
            if tb is None:
                self._tables.pop(name, None)
                self._temp.discard(name)
            elif isinstance(tb, Append):
                self._tables[name] = concat_tables([self._tables[name], tb.rows])
            else:
                self._tables[name] = tb
        for name, q in (views or {}).items():
            if self._store is not None:
                if q is None:
                    self._store.drop_view(name, missing_ok=True)
                else:
                    from .parser import DIALECT

                    self._store.create_view(name, q.sql(dialect=DIALECT), replace=True)
            if q is None:
                self._views.pop(name, None)
            else:
                self._views[name] = q

    def _persist(self, name: str, tb: Table | Append | None,
                 layout: tuple[tuple[str, ...], int] | None) -> Any:
        """Commit one table's change to storage; the table as now stored (None: dropped).

        Columns the change produced on the device go into the cache under the new
        version, so a query right after a load or a CREATE TABLE AS reads nothing back.
        """
        from ..storage.stored_table import StoredTable

        store, cache = self._store, self._cache
        old = self._tables.get(name)
        old = old if isinstance(old, StoredTable) else None
        if tb is None:
            store.drop_table(name, missing_ok=True)
            if old is not None:
                cache.drop_table(old.dir)
            return None
        if isinstance(tb, Append):
            assert old is not None
            store.append(name, tb.rows.to_arrow())
            new = StoredTable(store, name, self.device, cache)
            for cname in old.names:
                col = cache.get((old.dir, old.version, cname))
                if col is not None:
                    both = concat_tables([Table([(cname, col)], old.num_rows, self.device),
                                          tb.rows.select([cname])])
                    cache.put((new.dir, new.version, cname), both.column(cname))
            cache.drop_table(old.dir, keep_version=new.version)
            return new
        data = tb.to_arrow()
        if old is not None and layout is None and old.schema == tb.schema:
            store.overwrite(name, data)
        else:
            keys, shards = layout or ((), 1)
            store.create_table(name, data.schema, shard_key=keys or None,
                               shards=shards, data=data if data.num_rows else None,
                               replace=old is not None)
        if old is not None:
            cache.drop_table(old.dir)
        new = StoredTable(store, name, self.device, cache)
        if new.shards == 1:  # a sharded table's row order is its shards' order
            for cname, col in tb.items():
                cache.put((new.dir, new.version, cname), col)
        return new

    # -- models (see xpdb.sql.models) ---------------------------------------------------
    def register_model(self, name: str, estimator: Any, *, features: Sequence[str] | None = None,
                       target: str | None = None, replace: bool = False) -> int:
        """Store a fitted estimator as model ``name`` for SQL's PREDICT; its version.

        ``features`` names the feature columns in order (default: the estimator's
        ``feature_names_in_``); ``replace`` adds a new version to an existing model.
        """
        return model_sql.register_model(self, name, estimator, features=features,
                                        target=target, replace=replace)

    def model(self, name: str, version: int | None = None) -> Any:
        """The estimator of model ``name`` (``version``, default the current one)."""
        return model_sql.get_model(self, name, version)

    def models(self) -> list[str]:
        """Names of the models, sorted."""
        return model_sql.list_models(self)

    def drop_model(self, name: str) -> None:
        """Remove model ``name`` with all its versions."""
        model_sql.registry(self).drop(self, name)

    def export_model(self, name: str, path: str | os.PathLike[str],
                     version: int | None = None) -> None:
        """Write model ``name`` to ``path`` in the portable format (xpdb.ml.serialize)."""
        model_sql.export_model(self, name, path, version)

    def import_model(self, name: str, path: str | os.PathLike[str],
                     replace: bool = False) -> int:
        """Store the model file at ``path`` as model ``name``; its version."""
        return model_sql.import_model(self, name, path, replace)

    # -- SQL ----------------------------------------------------------------------------
    def sql(self, query: str) -> Result:
        """Run one or more statements; the last one's result is returned."""
        return self.execute(query)

    def execute(self, query: str, params: Sequence[Any] | None = None) -> Result:
        """Run ``query`` with ``?`` / ``$1`` placeholders bound to ``params`` as literals.

        Examples
        --------
        >>> db = connect(device="cpu")
        >>> db.execute("SELECT ? * 2 AS x, $2 AS s", [21, "hi"]).fetchall()
        [(42, 'hi')]
        """
        script = model_sql.split_script(query)  # CREATE/EVALUATE/SHOW/DESCRIBE/DROP MODEL
        if script is not None:
            return model_sql.run_script(self, script, params)
        trees = parse(query)
        if not trees:
            raise XpdbError("no SQL statement given")
        if self._store is not None and self._store.read_only:
            self._load_catalog()  # a reader sees what writers committed since
        result = None
        for tree in trees:
            bound = tree
            if params is not None or tree.find(exp.Placeholder) is not None:
                bound = bind_parameters(tree, params)
            bound = model_sql.bind_predict(self, bound)
            with self.device.guard():  # out of device memory: DeviceMemoryError
                result = self._statement(bound)
        assert result is not None
        return result

    def _executor(self, profile: bool = False) -> Executor:
        return Executor(self._tables, self._views, self.device, stats=self._stats,
                        rules=self.optimizer_rules, profile=profile)

    def _query(self, tree: exp.Expression) -> Relation:
        ex = self._executor()
        try:
            rel = ex.execute(ex.plan(tree))
        except BindError as e:
            if self.optimizer_rules == ():
                raise
            # the optimized plan reads fewer columns, so its "not found; did you mean"
            # hints would miss the pruned ones: bind the plan as written for the message
            plain = Executor(self._tables, self._views, self.device, rules=())
            plain.execute(plain.plan(tree))
            raise e from None
        if rel.scope.hidden:
            keep = [i for i in range(len(rel.scope.fields)) if i not in rel.scope.hidden]
            from .executor import make_relation

            rel = make_relation([rel.table.columns[i] for i in keep],
                                [rel.scope.fields[i] for i in keep], rel.table.num_rows,
                                self.device)
        return rel

    def _statement(self, tree: exp.Expression) -> Result:
        if isinstance(tree, exp.Query | exp.Values):
            rel = self._query(tree)
            return Result(rel.table, rel.names)
        if isinstance(tree, exp.Command) and str(tree.this).upper() == "EXPLAIN":
            return self._explain(tree)
        handler = {exp.Create: self._create, exp.Insert: self._insert, exp.Drop: self._drop,
                   exp.Show: self._show, exp.Describe: self._describe,
                   exp.Delete: self._delete, exp.Update: self._update,
                   exp.Copy: self._copy}.get(type(tree))
        if handler is None:
            msg = f"statement {type(tree).__name__.upper()} is not supported yet"
            raise NotSupportedError(msg)
        return handler(tree)

    def _explain(self, tree: exp.Command) -> Result:
        import re

        from .explain import explain

        text = tree.expression.this if isinstance(tree.expression, exp.Literal) else str(tree.expression)
        m = re.match(r"\s*ANALY[SZ]E\b", text, re.IGNORECASE)
        analyze = m is not None
        if m:
            text = text[m.end():]
        inner = parse(text)
        if len(inner) != 1 or not isinstance(inner[0], exp.Query | exp.Values):
            msg = "EXPLAIN takes one query (SELECT, WITH, VALUES, set operation)"
            raise NotSupportedError(msg)
        key, plan_text = explain(self, inner[0], analyze)
        cols = [("explain_key", Column.from_arrow(pa.array([key], pa.string()), self.device)),
                ("explain_value", Column.from_arrow(pa.array([plan_text], pa.string()), self.device))]
        return Result(Table(cols, None, self.device), ["explain_key", "explain_value"])

    def explain(self, query: str, analyze: bool = False) -> str:
        """The optimized plan of ``query`` as text, with estimated rows; with ``analyze``
        the query runs and each operator shows its time, rows and bytes moved.

        Examples
        --------
        >>> db = connect(device="cpu")
        >>> import pyarrow as pa
        >>> db.register("t", pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]}))
        >>> print(db.explain("SELECT a FROM t WHERE a > 1"))
        Project a  ~1 rows
          Scan t columns=[a] filters=[a > 1]  ~1 rows
        """
        from .explain import explain

        trees = parse(query)
        if len(trees) != 1 or not isinstance(trees[0], exp.Query | exp.Values):
            raise NotSupportedError("explain() takes one query")
        return explain(self, trees[0], analyze)[1]

    def _create(self, tree: exp.Create) -> Result:
        kind = str(tree.args.get("kind") or "").upper()
        target = tree.this
        schema = target if isinstance(target, exp.Schema) else None
        table_node = schema.this if schema is not None else target
        name = table_node.name
        exists = name in self._tables or name in self._views
        if exists and tree.args.get("exists"):
            return _status(0, self.device)
        if exists and not tree.args.get("replace"):
            raise XpdbError(f"{name!r} already exists; use CREATE OR REPLACE or DROP it first")
        query = tree.expression
        if kind == "VIEW":
            if query is None:
                raise BindError("CREATE VIEW needs AS SELECT ...")
            self._query(query)  # bind now so a broken view is rejected
            temp = sorted({tb.name for tb in query.find_all(exp.Table)} & self._temp)
            if self._store is not None and temp:
                msg = (f"view {name!r} reads temporary (registered) tables {temp}; a stored "
                       "view outlives them. Store them first (CREATE TABLE name AS SELECT * "
                       "FROM ...) or query them directly")
                raise BindError(msg)
            self._apply({name: None}, {name: query})
            return _status(0, self.device)
        if kind != "TABLE":
            raise NotSupportedError(f"CREATE {kind} is not supported yet")
        layout = _layout(tree)
        if query is not None:
            rel = self._query(query)
            names = rel.names
            if len(set(names)) != len(names):
                raise BindError(f"CREATE TABLE AS gives duplicate column names {names}; alias them")
            table = Table(list(zip(names, rel.table.columns, strict=True)), rel.table.num_rows,
                          self.device)
        else:
            cols = []
            for cdef in schema.expressions if schema is not None else []:
                if not isinstance(cdef, exp.ColumnDef):
                    raise NotSupportedError(f"{cdef.sql()!r} in CREATE TABLE is not supported yet")
                dtype = sql_type(cdef.args["kind"])
                cols.append((cdef.name, Column.from_arrow(pa.array([], dtype.to_arrow()), self.device)))
            table = Table(cols, 0, self.device)
        if layout is not None:
            for k in layout[0]:
                if k not in table:
                    raise BindError(missing_column_message(k, table.names,
                                                           f"shard_key column of {name!r}"))
        self._temp.discard(name)
        self._apply({name: table}, {name: None}, {name: layout} if layout else None)
        return _status(table.num_rows, self.device)

    def _insert(self, tree: exp.Insert) -> Result:
        if tree.args.get("overwrite") or tree.args.get("where") or tree.args.get("conflict"):
            raise NotSupportedError("INSERT OVERWRITE / ON CONFLICT is not supported yet")
        target = tree.this
        schema = target if isinstance(target, exp.Schema) else None
        name = (schema.this if schema is not None else target).name
        table = self._require(name)
        names = [c.name for c in schema.expressions] if schema is not None else table.names
        for n in names:
            if n not in table:
                raise BindError(missing_column_message(n, table.names,
                                                       f"column of table {name!r}"))
        rel = self._query(tree.expression)
        if len(rel.names) != len(names):
            msg = (f"INSERT INTO {name} gives {len(rel.names)} values per row for "
                   f"{len(names)} columns {names}")
            raise BindError(msg)
        n = rel.table.num_rows
        given = dict(zip(names, rel.table.columns, strict=True))
        cols = []
        for cname, dtype in table.schema.items():
            src = given.get(cname)
            if src is None:
                src = Column.full(n, None, dtype, self.device)
            elif src.dtype != dtype:
                if src.null_count == n:
                    src = Column.full(n, None, dtype, self.device)
                else:
                    src = kcast.cast(src, dtype, float_to_int="sql")
            cols.append((cname, src))
        self._apply({name: Append(Table(cols, n, self.device))})
        return _status(n, self.device)

    def _copy(self, tree: exp.Copy) -> Result:
        from .copy import run_copy_stats

        changes, count, stats = run_copy_stats(self, tree)
        # the target table commits first: a crash before the rejects table's commit
        # keeps the loaded rows (each table's commit is atomic on its own)
        target = [n for n, c in changes.items() if isinstance(c, Append)][:1]
        self._apply(dict(sorted(changes.items(), key=lambda kv: kv[0] not in target)))
        result = _status(count, self.device)
        if stats is not None:
            result.stats = stats.as_dict()
            result.message = stats.message()
        return result

    def _delete(self, tree: exp.Delete) -> Result:
        from .expressions import evaluate

        name = tree.this.name
        table, ctx = self._table_context(name)
        where = tree.args.get("where")
        if where is None:
            self._apply({name: table.slice(0, 0)})
            return _status(table.num_rows, self.device)

        keep = ~to_mask(evaluate(where.this, ctx), ctx)
        new = table.filter(keep)
        self._apply({name: new})
        return _status(table.num_rows - new.num_rows, self.device)

    def _table_context(self, name: str) -> tuple[Table, Any]:
        from .executor import make_relation

        table = self._require(name)
        rel = make_relation(table.columns, [(name, c) for c in table.names], table.num_rows,
                            self.device)
        return table, self._executor().context(rel)

    def _update(self, tree: exp.Update) -> Result:
        if tree.args.get("from_") or tree.args.get("joins"):
            raise NotSupportedError("UPDATE ... FROM is not supported yet")
        from .expressions import as_column, evaluate

        name = tree.this.name
        table, ctx = self._table_context(name)
        where = tree.args.get("where")
        mask = to_mask(evaluate(where.this, ctx), ctx) if where is not None else None
        new = table
        for assign in tree.expressions:
            cname = assign.this.name
            old = table.column(cname)
            val = as_column(evaluate(assign.expression, ctx), ctx)
            if val.dtype != old.dtype:
                val = (Column.full(len(val), None, old.dtype, self.device)
                       if val.null_count == len(val) else
                       kcast.cast(val, old.dtype, float_to_int="sql"))
            if mask is not None:
                from ..kernels import expr as kx

                cond = Column(t.bool_, mask, None, None, self.device)
                val = kx.case_when([cond], [val], old)
            new = new.with_column(cname, val)
        count = table.num_rows if mask is None else int(self.device.scalar(mask.sum()))
        self._apply({name: new})
        return _status(count, self.device)

    def _drop(self, tree: exp.Drop) -> Result:
        kind = str(tree.args.get("kind") or "").upper()
        if kind not in ("TABLE", "VIEW"):
            raise NotSupportedError(f"DROP {kind} is not supported yet")
        store = self._tables if kind == "TABLE" else self._views
        names = [tb.name for tb in tree.args.get("tables") or [tree.this]]
        for name in names:
            if name not in store and not tree.args.get("exists"):
                raise BindError(missing_column_message(name, list(store), kind.lower()))
        if kind == "TABLE":
            self._apply(dict.fromkeys(names))
        else:
            self._apply({}, dict.fromkeys(names))
        return _status(0, self.device)

    def _show(self, tree: exp.Show) -> Result:
        if str(tree.name).upper() != "TABLES":
            raise NotSupportedError(f"SHOW {tree.name} is not supported yet")
        col = Column.from_arrow(pa.array(self.tables(), pa.string()), self.device)
        return Result(Table([("name", col)], None, self.device), ["name"])

    def _describe(self, tree: exp.Describe) -> Result:
        target = tree.this
        if isinstance(target, exp.Table) and target.name in self._tables:
            table = self._tables[target.name]
            names, types = table.names, [sql_type_name(d) for d in table.schema.values()]
        else:
            query = target.this if isinstance(target, exp.Table) and target.name in self._views \
                else target
            if isinstance(target, exp.Table) and target.name in self._views:
                query = self._views[target.name]
            elif isinstance(target, exp.Table):
                self._require(target.name)
            rel = self._query(query)
            names, types = rel.names, [sql_type_name(c.dtype) for c in rel.table.columns]
        out = Table([("column_name", Column.from_arrow(pa.array(names, pa.string()), self.device)),
                     ("column_type", Column.from_arrow(pa.array(types, pa.string()), self.device))],
                    None, self.device)
        return Result(out, ["column_name", "column_type"])

    def __repr__(self) -> str:
        where = "in-memory" if self._store is None else repr(self._store.root)
        return f"Database({where} on {self.device}; tables: {self.tables()})"


_SQL_NAMES = {"bool": "BOOLEAN", "int8": "TINYINT", "int16": "SMALLINT", "int32": "INTEGER",
              "int64": "BIGINT", "uint8": "UTINYINT", "uint16": "USMALLINT", "uint32": "UINTEGER",
              "uint64": "UBIGINT", "float32": "FLOAT", "float64": "DOUBLE", "string": "VARCHAR",
              "date": "DATE"}


def sql_type_name(dtype: t.DataType) -> str:
    """DuckDB's name of an xpdb type (``INTEGER``, ``VARCHAR``, ``DECIMAL(10,2)``...).

    Examples
    --------
    >>> sql_type_name(t.int32), sql_type_name(t.decimal(10, 2)), sql_type_name(t.timestamp("ns"))
    ('INTEGER', 'DECIMAL(10,2)', 'TIMESTAMP_NS')
    """
    if dtype.kind in _SQL_NAMES:
        return _SQL_NAMES[dtype.kind]
    if dtype.is_decimal:
        return f"DECIMAL({dtype.precision},{dtype.scale})"
    if dtype.kind == "timestamp":
        if dtype.tz:
            return "TIMESTAMP WITH TIME ZONE"
        return {"us": "TIMESTAMP", "s": "TIMESTAMP_S", "ms": "TIMESTAMP_MS",
                "ns": "TIMESTAMP_NS"}[dtype.unit or "us"]
    if dtype.kind == "duration":
        return "INTERVAL"
    return str(dtype).upper()


def _layout(tree: exp.Create) -> tuple[tuple[str, ...], int] | None:
    """``WITH (shard_key = 'id', shards = 16)`` of a CREATE TABLE: (key columns, shards)."""
    props = tree.args.get("properties")
    if props is None:
        return None
    opts: dict[str, Any] = {}
    for prop in props.expressions:
        key = prop.name.lower() if isinstance(prop, exp.Property) else ""
        if key not in ("shard_key", "shards"):
            msg = (f"CREATE TABLE option {prop.sql()!r} is not supported; the options are "
                   "shard_key = 'column[, column...]' and shards = <n>")
            raise NotSupportedError(msg)
        value = prop.args.get("value")
        opts[key] = value.this if isinstance(value, exp.Literal) else value.sql()
    keys = tuple(k.strip() for k in str(opts.get("shard_key", "")).split(",") if k.strip())
    try:
        shards = int(opts.get("shards", 16 if keys else 1))
    except ValueError:
        raise BindError(f"shards must be a whole number, got {opts['shards']!r}") from None
    if shards < 1 or shards > 4096:
        raise BindError(f"shards must be between 1 and 4096, got {shards}")
    return keys, shards


def _status(count: int, device: Any) -> Result:
    col = Column.from_arrow(pa.array([count], pa.int64()), device)
    return Result(Table([("Count", col)], None, device), ["Count"], rowcount=count)


def _to_table(obj: Any, device: Any) -> Table:
    from ..shards import ShardedTable

    if isinstance(obj, Table):
        return obj.to(device)
    if isinstance(obj, ShardedTable):
        return obj.concat().to(device)
    if isinstance(obj, pa.Table | pa.RecordBatch):
        return Table.from_arrow(obj, device)
    inner = getattr(obj, "_table", None)
    if isinstance(inner, Table):  # xpdb DataFrame
        return inner.to(device)
    import pandas as pd

    if isinstance(obj, pd.DataFrame):  # geometry columns (GeoPandas, shapely) included
        from ..spatial.column import table_from_pandas

        return table_from_pandas(obj, device)
    msg = (f"cannot register an object of type {type(obj).__name__}; pass a pandas DataFrame, "
           "a pyarrow Table, or an xpdb Table or DataFrame")
    raise XTypeError(msg)


__all__ = ["Database", "connect"]

