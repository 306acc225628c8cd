"""The warehouse handle: the one way analysis code reaches data.

A :class:`Warehouse` wraps one open engine connection. Analysis code asks it for Ibis tables
(:meth:`Warehouse.events`, :meth:`Warehouse.table`), states what it needs
(:meth:`Warehouse.require`, which names the command that fills a missing table) and writes
through :meth:`Warehouse.transaction`. Functions that accept "a warehouse path, an Ibis
backend or a Warehouse" resolve it with :meth:`Warehouse.of`, which closes only what it opened.

Modelled on datasette's ``Database`` (one object per database, owning its connection) and
ibis's backend classes (tables by name, expressions out).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from harmscope.errors import WarehouseError
from harmscope.warehouse import engines
from harmscope.warehouse.migrations import check_readable, migrate, outdated
from harmscope.warehouse.schema import DDL, FILLED_BY

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = ["DEFAULT_DB", "Warehouse", "default_db", "open_duckdb"]

DEFAULT_DB = "harmscope.duckdb"


def default_db() -> str:
    """The warehouse path: ``$HARMSCOPE_DB`` or ``harmscope.duckdb`` in the working folder."""
    return os.environ.get("HARMSCOPE_DB", DEFAULT_DB)


class Warehouse:
    """One open warehouse (a DuckDB file by default; a Parquet folder on PySpark, a
    database on PostgreSQL: :mod:`harmscope.warehouse.engines`).

    Parameters
    ----------
    backend : ibis backend or None
        An Ibis backend holding the warehouse tables (None: only ``events`` is known).
    path : str, optional
        Where it lives, for messages.
    events : ibis table, optional
        The events table to use instead of the backend's ``events`` (a caller's own table,
        perhaps already filtered; see :meth:`of`).
    engine : str
        ``duckdb``, ``pyspark`` or ``postgres`` (:data:`~harmscope.warehouse.engines.ENGINES`).
    closer : callable, optional
        How :meth:`close` releases the backend (default: its ``disconnect``); the PySpark
        warehouse drops its views instead, keeping the process's one Spark session.
    """

    def __init__(
        self,
        backend: Any,
        *,
        path: str | None = None,
        events: ir.Table | None = None,
        engine: str = "duckdb",
        closer: Any = None,
    ) -> None:
        self.backend = backend
        self.path = path or "warehouse"
        self.given_events = events
        self.engine = engine
        self.closer = closer

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        db: str | os.PathLike[str] | None = None,
        *,
        read_only: bool = True,
        engine: str | None = None,
    ) -> Warehouse:
        """Open the warehouse at *db* (default :func:`default_db`) on *engine* (default
        :func:`~harmscope.warehouse.engines.engine_name`: ``--engine``, ``$HARMSCOPE_ENGINE``
        or duckdb).

        A DuckDB file: see :func:`open_duckdb` for creation, upgrades and refusals. A PySpark
        folder or a PostgreSQL URL: read-only through Ibis
        (:func:`~harmscope.warehouse.engines.open_backend`); writing them is ``ingest``'s.
        """
        name = engines.engine_name(engine)
        path = engines.location(db, name, default_db())
        if name == "duckdb":
            engines.check_location(path, name, must_exist=False)
            import ibis  # here: ingest and other loaders open DuckDB without Ibis (start-up)

            backend = ibis.duckdb.from_connection(open_duckdb(path, read_only=read_only))
            return cls(backend, path=path)
        if not read_only:
            raise WarehouseError(
                f"{engines.display(path)}: this command writes the DuckDB warehouse only; "
                f"on --engine {name} only `harmscope ingest` writes"
            )
        backend, closer = engines.open_backend(path, name, read_only=read_only)
        return cls(backend, path=engines.display(path), engine=name, closer=closer)

    @classmethod
    @contextmanager
    def of(
        cls, source: Any = None, *, read_only: bool = True, engine: str | None = None
    ) -> Iterator[Warehouse]:
        """Resolve *source* to a warehouse: a path or URL (None: :func:`default_db`), a
        :class:`Warehouse`, an Ibis backend, or an Ibis *events* table.

        A path or URL opens on *engine* (:meth:`open`). An events table gives a handle whose
        :meth:`events` is that table and whose other tables are those of the backend it was
        built on (none when it has no backend). Closes the warehouse on exit only when it was
        opened here.
        """
        if isinstance(source, Warehouse):
            yield source
            return
        import ibis.expr.types as ir

        if isinstance(source, ir.Table):
            try:
                backend = source.get_backend()
            except Exception:  # an unbound table (ibis.table(...)): no other tables to read
                backend = None
            yield cls(backend, events=source, engine=_engine_of(backend))
            return
        if source is None or isinstance(source, str | os.PathLike):
            wh = cls.open(source, read_only=read_only, engine=engine)
            try:
                yield wh
            finally:
                wh.close()
            return
        if hasattr(source, "table") and hasattr(source, "list_tables"):
            yield cls(source, engine=_engine_of(source))
            return
        raise TypeError(
            "expected a warehouse path, a Warehouse, an Ibis backend or an Ibis events table; "
            f"got {type(source).__name__}"
        )

    def close(self) -> None:
        """Close the engine connection."""
        if self.closer is not None:
            self.closer()
        elif self.backend is not None:
            self.backend.disconnect()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------
    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The raw DuckDB connection, for loaders that need DuckDB's SQL (CSV reader, COPY).

        Raises :class:`WarehouseError` on another engine: those paths are DuckDB-only.
        """
        if self.engine != "duckdb":
            raise WarehouseError(
                f"{self.path}: this command needs the DuckDB warehouse; "
                f"it does not run on --engine {self.engine}"
            )
        return self.backend.con

    def has(self, name: str) -> bool:
        """Whether the table exists."""
        if name == "events" and self.given_events is not None:
            return True
        return self.backend is not None and name in self.backend.list_tables()

    def count(self, name: str) -> int:
        """Rows in a table; 0 when it does not exist."""
        return int(self.table(name).count().execute()) if self.has(name) else 0

    def table(self, name: str) -> ir.Table:
        """The Ibis table *name*; a clear error naming the command that fills it if absent."""
        if name == "events" and self.given_events is not None:
            return self.given_events
        if not self.has(name):
            raise WarehouseError(f"{self.path}: no {name!r} table; {_fill_hint(name)}")
        return self.backend.table(name)

    def events(self) -> ir.Table:
        """The ``events`` table (police.uk street, outcomes and stop-and-search rows)."""
        return self.table("events")

    def require(self, *names: str) -> None:
        """Raise :class:`WarehouseError` unless every named table exists and holds rows.

        The message lists each missing or empty table with the command that fills it.
        """
        missing = [n for n in names if self.count(n) == 0]
        if missing:
            raise WarehouseError(
                f"{self.path}: " + "; ".join(f"no rows in {n!r} ({_fill_hint(n)})" for n in missing)
            )

    # -- writing -------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")


def open_duckdb(
    db: str | os.PathLike[str] | None = None, *, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file as a raw DuckDB connection (for loaders' SQL).

    Read-write: create the file and missing tables, upgrade an older schema in place.
    Read-only: upgrade an older file in place when it is writable; refuse a missing file or
    a schema this HarmScope would misread.
    """
    path = str(db or default_db())
    if read_only and not Path(path).exists():
        raise WarehouseError(f"{path}: no warehouse here yet; run `harmscope ingest` first")
    try:
        con = duckdb.connect(path, read_only=read_only)
    except duckdb.Error as exc:
        raise WarehouseError(f"{path}: cannot open the warehouse ({exc})") from exc
    try:
        if read_only:
            if outdated(con) and os.access(path, os.W_OK):
                # An older file we may write: upgrade it in place, then read it as asked.
                con.close()
                open_duckdb(path, read_only=False).close()
                con = duckdb.connect(path, read_only=True)
            check_readable(con, path)
        else:
            migrate(con, path)
            for stmt in DDL:
                con.execute(stmt)
    except BaseException:
        con.close()
        raise
    return con


def _engine_of(backend: Any) -> str:
    """The engine name of an Ibis backend (``duckdb`` when unknown or absent)."""
    name = str(getattr(backend, "name", "duckdb"))
    return name if name in engines.ENGINES else "duckdb"


def _fill_hint(name: str) -> str:
    command = FILLED_BY.get(name)
    return f"run `harmscope {command}` first" if command else "no command fills it yet"
