"""Warehouse schema versions: upgrade an older file in place, refuse a newer one.

The version lives in a one-row table, ``warehouse_meta``. A file with tables but no
``warehouse_meta`` predates versioning: it is version 0, whose tables are those of version 1.

To change the schema: append a function to :data:`MIGRATIONS` that takes a DuckDB connection
holding version ``n`` to ``n + 1`` (``ALTER TABLE ... ADD COLUMN ... DEFAULT ...``, never a
rewrite that could lose rows), then change the table definitions in ``schema.py`` to the new
shape. Every migration runs inside one transaction with the version stamp, so a failure leaves
the file as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from harmscope.errors import WarehouseError
from harmscope.sources.policeuk import SourceFile, identity_of
from harmscope.warehouse.schema import EVENT_COLUMNS

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "check_readable",
    "migrate",
    "outdated",
    "schema_version",
]

META_DDL = "CREATE TABLE IF NOT EXISTS warehouse_meta (schema_version INTEGER NOT NULL)"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_name = ?",
        [table],
    ).fetchall()
    return {r[0] for r in rows}


def _v0_to_v1(con: duckdb.DuckDBPyConnection) -> None:
    """Version 1 only adds ``warehouse_meta``; version-0 tables already have its shape.

    A file whose ``events`` table lacks columns was not written by HarmScope (or is damaged):
    it is refused rather than stamped and misread.
    """
    have = _columns(con, "events")
    missing = [name for name, _, _ in EVENT_COLUMNS if name not in have]
    if have and missing:
        raise WarehouseError(
            f"its events table lacks {len(missing)} column(s) ({', '.join(missing[:5])}"
            f"{', ...' if len(missing) > 5 else ''}): not a warehouse HarmScope wrote"
        )


def _v1_to_v2(con: duckdb.DuckDBPyConnection) -> None:
    """``ingest_files`` gains each file's own identity (force, month) and its count of rows
    dated outside that month, so supersession is keyed on the file, never on a row's date.

    Earlier loads were police.uk-named files: their identity is read back from the recorded
    name. Their ``rows_outside_month`` stays NULL (not counted then), never 0.
    """
    have = _columns(con, "ingest_files")
    if not have:  # no ingest yet: the table is created whole afterwards
        return
    for column, typ in (
        ("file_force", "VARCHAR"),
        ("file_month", "DATE"),
        ("rows_outside_month", "BIGINT"),
    ):
        if column not in have:
            con.execute(f"ALTER TABLE ingest_files ADD COLUMN {column} {typ}")
    for file_id, path, member in con.execute(
        "SELECT file_id, path, member FROM ingest_files WHERE file_month IS NULL"
    ).fetchall():
        ident = identity_of(SourceFile(Path(path), member))
        if ident is not None:
            con.execute(
                "UPDATE ingest_files SET file_force = ?, file_month = ? WHERE file_id = ?",
                [ident.force, f"{ident.month}-01", file_id],
            )


#: ``MIGRATIONS[n]`` takes a warehouse at version ``n`` to ``n + 1``.
MIGRATIONS: tuple[Callable[[duckdb.DuckDBPyConnection], None], ...] = (_v0_to_v1, _v1_to_v2)
#: The schema version this HarmScope reads and writes.
SCHEMA_VERSION = len(MIGRATIONS)


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchall()
    return {r[0] for r in rows}


def schema_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The file's schema version; ``None`` for an empty file (nothing to read yet)."""
    tables = _tables(con)
    if "warehouse_meta" not in tables:
        return 0 if tables else None
    row = con.execute("SELECT max(schema_version) FROM warehouse_meta").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def outdated(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the file holds an older schema than this HarmScope's."""
    version = schema_version(con)
    return version is not None and version < SCHEMA_VERSION


def check_readable(con: duckdb.DuckDBPyConnection, path: str) -> None:
    """Refuse a file this HarmScope would misread (newer, or older and opened read-only)."""
    version = schema_version(con)
    if version is None or version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise WarehouseError(
            f"{path}: warehouse schema version {version} was written by a newer HarmScope; "
            f"this one reads up to version {SCHEMA_VERSION}. Upgrade HarmScope to read it."
        )
    raise WarehouseError(
        f"{path}: warehouse schema version {version} is older than this HarmScope's "
        f"({SCHEMA_VERSION}); open it once with write access (e.g. `harmscope ingest` or "
        "`harmscope load-areas`) to upgrade it in place"
    )


def migrate(con: duckdb.DuckDBPyConnection, path: str) -> int:
    """Bring the file to :data:`SCHEMA_VERSION`; return the version it had (or the current one).

    Raises
    ------
    WarehouseError
        When the file is newer than this HarmScope, or a migration fails (the file is then
        left exactly as it was).
    """
    version = schema_version(con)
    if version is None:  # a new file: create at the current version
        con.execute(META_DDL)
        con.execute("INSERT INTO warehouse_meta VALUES (?)", [SCHEMA_VERSION])
        return SCHEMA_VERSION
    if version > SCHEMA_VERSION:
        check_readable(con, path)
    if version == SCHEMA_VERSION:
        return version
    con.execute("BEGIN TRANSACTION")
    try:
        for step in MIGRATIONS[version:]:
            step(con)
        con.execute(META_DDL)
        con.execute("DELETE FROM warehouse_meta")
        con.execute("INSERT INTO warehouse_meta VALUES (?)", [SCHEMA_VERSION])
        con.execute("COMMIT")
    except (duckdb.Error, WarehouseError) as exc:
        con.execute("ROLLBACK")
        raise WarehouseError(
            f"{path}: could not upgrade the warehouse from schema version {version} "
            f"to {SCHEMA_VERSION} ({exc}); the file is unchanged"
        ) from exc
    return version
