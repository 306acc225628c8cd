"""The warehouse: a DuckDB file (default) holding events, areas and provenance.

Loading is DuckDB SQL (its CSV reader is the fastest and strictest we have); analysis reads
the same tables through Ibis (:func:`tables`), so analytic code is engine-portable.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb
import ibis

from harmscope.errors import WarehouseError
from harmscope.sources.policeuk import SourceFile, identity_of
from harmscope.warehouse.schema import ADDED_COLUMNS, DDL

DEFAULT_DB = "harmscope.duckdb"


def default_db() -> str:
    """The warehouse path: ``$HARMSCOPE_DB`` or ``harmscope.duckdb`` in the working folder."""
    return os.environ.get("HARMSCOPE_DB", DEFAULT_DB)


def connect(db: str | Path | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the warehouse file and make sure every table exists."""
    path = str(db or default_db())
    if read_only and not Path(path).exists():
        raise WarehouseError(f"{path}: no warehouse here yet; run `harmscope ingest` first")
    try:
        con = duckdb.connect(path, read_only=read_only)
    except duckdb.Error as exc:
        raise WarehouseError(f"{path}: cannot open the warehouse ({exc})") from exc
    if not read_only:
        for stmt in DDL:
            con.execute(stmt)
        _add_columns(con)
    return con


def _add_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Bring a warehouse made by an earlier version up to :data:`schema.ADDED_COLUMNS`."""
    have = set(
        con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'main'"
        ).fetchall()
    )
    missing = [(t, c, typ) for t, c, typ in ADDED_COLUMNS if (t, c) not in have]
    if not missing:
        return
    con.execute("BEGIN TRANSACTION")
    try:
        for table, column, typ in missing:
            con.execute(f"ALTER TABLE {table} ADD COLUMN {column} {typ}")
        if any(c == "file_month" for _, c, _ in missing):
            # Earlier loads were police.uk-named files: their identity is in the recorded name.
            for file_id, path, member in con.execute(
                "SELECT file_id, path, member FROM ingest_files"
            ).fetchall():
                ident = identity_of(SourceFile(Path(path), member))
                if ident is not None:
                    con.execute(
                        "UPDATE ingest_files SET file_force = ?, file_month = ? WHERE file_id = ?",
                        [ident.force, f"{ident.month}-01", file_id],
                    )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def ibis_connect(db: str | Path | None = None, *, read_only: bool = True) -> Any:
    """An Ibis DuckDB backend on the warehouse file, for analysis."""
    con = connect(db, read_only=read_only)
    return ibis.duckdb.from_connection(con)
