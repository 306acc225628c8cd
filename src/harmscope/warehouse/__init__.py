"""The warehouse: a DuckDB file (default) holding events, areas and provenance.

Loading is DuckDB SQL (its CSV reader is the fastest and strictest we have); analysis reads
the same tables through Ibis (:func:`tables`), so analytic code is engine-portable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from harmscope.warehouse.handle import DEFAULT_DB, Warehouse, default_db, open_duckdb

__all__ = ["DEFAULT_DB", "Warehouse", "connect", "default_db", "ibis_connect", "open_duckdb"]


def connect(db: str | Path | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the warehouse file as a raw DuckDB connection.

    Prefer :class:`Warehouse`; this stays for loaders that need DuckDB's own SQL.
    """
    return open_duckdb(db, read_only=read_only)


def ibis_connect(db: str | Path | None = None, *, read_only: bool = True) -> Any:
    """An Ibis DuckDB backend on the warehouse file, for analysis."""
    return Warehouse.open(db, read_only=read_only).backend
