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
from harmscope.warehouse.schema import DDL

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
    return con


def ibis_connect(db: str | Path | None = None, *, read_only: bool = True) -> Any:
    """An Ibis DuckDB backend on the warehouse file, for analysis."""
    con = connect(db, read_only=read_only)
    return ibis.duckdb.from_connection(con)
