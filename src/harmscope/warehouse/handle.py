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
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir

from harmscope.errors import WarehouseError
from harmscope.warehouse.migrations import check_readable, migrate, outdated
from harmscope.warehouse.schema import DDL, FILLED_BY

__all__ = ["DEFAULT_DB", "Warehouse", "default_db", "open_duckdb"]

DEFAULT_DB = "harmscope.duckdb"


def default_db() -> str:
    """The warehouse path: ``$HARMSCOPE_DB`` or ``harmscope.duckdb`` in the working folder."""
    return os.environ.get("HARMSCOPE_DB", DEFAULT_DB)


class Warehouse:
    """One open warehouse (a DuckDB file by default).

    Parameters
    ----------
    backend : ibis backend or None
        An Ibis backend holding the warehouse tables (None: only ``events`` is known).
    path : str, optional
        Where it lives, for messages.
    events : ibis table, optional
        The events table to use instead of the backend's ``events`` (a caller's own table,
        perhaps already filtered; see :meth:`of`).
    """

    def __init__(
        self, backend: Any, *, path: str | None = None, events: ir.Table | None = None
    ) -> None:
        self.backend = backend
        self.path = path or "warehouse"
        self.given_events = events

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, db: str | os.PathLike[str] | None = None, *, read_only: bool = True) -> Warehouse:
        """Open the warehouse file at *db* (default :func:`default_db`).

        See :func:`open_duckdb` for creation, upgrades and refusals.
        """
        path = str(db or default_db())
        return cls(ibis.duckdb.from_connection(open_duckdb(path, read_only=read_only)), path=path)

    @classmethod
    @contextmanager
    def of(cls, source: Any = None, *, read_only: bool = True) -> Iterator[Warehouse]:
        """Resolve *source* to a warehouse: a path (None: :func:`default_db`), a
        :class:`Warehouse`, an Ibis backend, or an Ibis *events* table.

        An events table gives a handle whose :meth:`events` is that table and whose other
        tables are those of the backend it was built on (none when it has no backend). Closes
        the warehouse on exit only when it was opened here.
        """
        if isinstance(source, Warehouse):
            yield source
            return
        if isinstance(source, ir.Table):
            try:
                backend = source.get_backend()
            except Exception:  # an unbound table (ibis.table(...)): no other tables to read
                backend = None
            yield cls(backend, events=source)
            return
        if source is None or isinstance(source, str | os.PathLike):
            wh = cls.open(source, read_only=read_only)
            try:
                yield wh
            finally:
                wh.close()
            return
        if hasattr(source, "table") and hasattr(source, "list_tables"):
            yield cls(source)
            return
        raise TypeError(
            "expected a warehouse path, a Warehouse, an Ibis backend or an Ibis events table; "
            f"got {type(source).__name__}"
        )

    def close(self) -> None:
        """Close the engine connection."""
        if self.backend is not None:
            self.backend.disconnect()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------
    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The raw DuckDB connection, for loaders that need DuckDB's SQL (CSV reader, COPY)."""
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


def _fill_hint(name: str) -> str:
    command = FILLED_BY.get(name)
    return f"run `harmscope {command}` first" if command else "no command fills it yet"
