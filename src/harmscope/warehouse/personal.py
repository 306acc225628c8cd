"""The one way to read personal data: :func:`read_personal`, which logs who, what, when, why.

Force records hold personal data (pseudonymised, but still personal data in law: whoever
holds the key can re-identify). Every read of a table of
:data:`~harmscope.warehouse.schema.PERSONAL` goes through :func:`read_personal`: it refuses a
read without a user and a reason, and writes a row to ``audit_log`` (user, reason, time,
table, columns, filter and rows returned) in the same transaction as the read, *before* the
rows are handed back — so a read whose audit row cannot be written returns nothing.
:func:`log_access` is the writer of audit rows (loads log themselves through it).
``tests/warehouse/test_personal.py`` checks that no other module of the package names a
personal table outside the schema and the records loader.

References
----------
Data Protection Act 2018, Part 3 (law enforcement processing), s. 62: logging of
    collection, alteration, consultation, disclosure, combination and erasure, with the
    justification, date and time and the identity of the person consulting.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from harmscope.errors import WarehouseError
from harmscope.warehouse.handle import Warehouse
from harmscope.warehouse.schema import FILLED_BY, PERSONAL

__all__ = ["AuditError", "log_access", "read_personal"]


class AuditError(WarehouseError, PermissionError):
    """A read of personal data refused: no user or reason, or the audit row cannot be written."""


def _columns_of(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def _who(user: str | None, reason: str | None) -> tuple[str, str]:
    who, why = (user or "").strip(), (reason or "").strip()
    if not who or not why:
        missing = " and ".join(n for n, v in (("a user", who), ("a reason", why)) if not v)
        raise AuditError(
            f"personal data is read only with a user and a reason (audited): {missing} "
            "missing (CLI: --user NAME --reason TEXT)"
        )
    return who, why


def log_access(
    con: duckdb.DuckDBPyConnection,
    *,
    user: str,
    reason: str,
    action: str,
    target: str,
    detail: Mapping[str, Any] | None = None,
    rows: int | None = None,
) -> int:
    """Append one ``audit_log`` row through ``con`` (inside the caller's transaction).

    Returns the new row's ``audit_id``. Raises :class:`AuditError` without a user or reason.
    """
    who, why = _who(user, reason)
    row = con.execute("SELECT coalesce(max(audit_id), 0) + 1 FROM audit_log").fetchone()
    audit_id = int(row[0]) if row else 1
    con.execute(
        "INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            audit_id,
            datetime.now(UTC).replace(tzinfo=None),
            who,
            why,
            action,
            target,
            json.dumps(dict(detail), sort_keys=True, default=str) if detail else None,
            rows,
        ],
    )
    return audit_id


def read_personal(
    source: Warehouse | str | os.PathLike[str] | None,
    table: str,
    *,
    user: str | None,
    reason: str | None,
    columns: Sequence[str] | None = None,
    where: Mapping[str, Sequence[object]] | None = None,
) -> pd.DataFrame:
    """Read a personal-data table, logging the read in ``audit_log`` before returning it.

    Parameters
    ----------
    source : Warehouse, path or None
        The warehouse (None: :func:`~harmscope.warehouse.handle.default_db`). It must be
        writable: a read that cannot be logged is refused.
    table : str
        One of :data:`~harmscope.warehouse.schema.PERSONAL` (``records_nominals``, ...).
    user, reason : str
        Who reads and why (both required, non-blank).
    columns : sequence of str, optional
        Columns to return (default all).
    where : mapping, optional
        ``{column: values}``: keep rows whose column is one of the values (pseudonyms for
        person columns); several columns are combined with AND.

    Returns
    -------
    DataFrame
        The rows, ordered by the table's first column (its id).

    Raises
    ------
    AuditError
        No user or reason, or the warehouse is read-only (nothing is returned).
    WarehouseError
        Not a personal table, an unknown column, or no such table yet.
    """
    who, why = _who(user, reason)
    if isinstance(source, str | os.PathLike) and not Path(source).exists():
        raise WarehouseError(f"{source}: no warehouse here yet; run `harmscope load-records`")
    if table not in PERSONAL:
        raise WarehouseError(
            f"{table!r} is not a personal-data table (those are: {', '.join(sorted(PERSONAL))})"
        )
    with Warehouse.of(source, read_only=False) as wh:
        if not wh.has(table):
            raise WarehouseError(
                f"{wh.path}: no {table!r} table; run `harmscope "
                f"{FILLED_BY.get(table, 'load-records')}` first"
            )
        con = wh.con
        have = _columns_of(con, table)
        cols = list(columns) if columns else have
        filters = dict(where or {})
        unknown = [c for c in [*cols, *filters] if c not in have]
        if unknown:
            raise WarehouseError(f"{table}: no column(s) {', '.join(unknown)}")
        # Column names come from information_schema (checked above), values are parameters.
        sql = f"SELECT {', '.join(cols)} FROM {table}"
        params: list[object] = []
        if filters:
            sql += " WHERE " + " AND ".join(
                f"{c} IN (SELECT unnest(?::VARCHAR[]))" for c in filters
            )
            params = [[str(v) for v in vals] for vals in filters.values()]
        order = [c for c in have if c != "file_id"][:1]
        sql += f" ORDER BY {order[0]}" if order else ""
        try:
            with wh.transaction() as tx:
                frame = tx.execute(sql, params).df()
                log_access(
                    tx,
                    user=who,
                    reason=why,
                    action="read",
                    target=table,
                    detail={"columns": cols, "where": filters},
                    rows=len(frame),
                )
        except duckdb.Error as exc:
            raise AuditError(
                f"{wh.path}: the read of {table} could not be logged, so nothing is returned "
                f"({exc})"
            ) from exc
    return frame
