"""The warehouse: a DuckDB file (default) holding events, areas and provenance; or, for
analysis, a PySpark Parquet folder or a PostgreSQL database (:mod:`.engines`).

Loading is DuckDB SQL (its CSV reader is the fastest and strictest we have); analysis reads
the same tables through Ibis (:func:`tables`), so analytic code is engine-portable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from harmscope.errors import WarehouseError
from harmscope.warehouse.engines import display, engine_name
from harmscope.warehouse.handle import DEFAULT_DB, Warehouse, default_db, open_duckdb

__all__ = ["DEFAULT_DB", "Warehouse", "connect", "default_db", "ibis_connect", "open_duckdb"]


def connect(db: str | Path | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the warehouse file as a raw DuckDB connection.

    Prefer :class:`Warehouse`; this stays for loaders that need DuckDB's own SQL, so it
    refuses another engine (``--engine``/``$HARMSCOPE_ENGINE``): those paths write the
    DuckDB warehouse only (docs/engines.md).
    """
    engine = engine_name()
    if engine != "duckdb":
        raise WarehouseError(
            f"{display(str(db or default_db()))}: this command works on the DuckDB warehouse "
            f"only, not on --engine {engine}"
        )
    return open_duckdb(db, read_only=read_only)


def ibis_connect(db: str | Path | None = None, *, read_only: bool = True) -> Any:
    """An Ibis backend on the warehouse, for analysis (the engine of
    :func:`~harmscope.warehouse.engines.engine_name`; DuckDB by default)."""
    return Warehouse.open(db, read_only=read_only).backend
