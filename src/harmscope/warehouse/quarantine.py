"""The rows ``ingest --lenient`` set aside: where each was, and why it was refused.

``ingest --lenient`` loads the good rows of a file and moves each bad one to the
``quarantine`` table (file id, physical line, warehouse column, reason, the record as read).
:func:`quarantined_rows` lists them for people: the file as ingest named it (``archive.zip!
member`` for a zip member), the line, the column under its police.uk header name (the name the
analyst sees in the CSV; ``quarantine.column_name`` keeps the warehouse name), the value
found there, the reason and the record.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pandas as pd

from harmscope.errors import HarmScopeError, WarehouseError
from harmscope.sources.base import SourceFile
from harmscope.sources.policeuk import FAMILIES, read_header
from harmscope.warehouse.handle import Warehouse

__all__ = ["COLUMNS", "quarantined_rows"]

#: The columns of :func:`quarantined_rows`, in order.
COLUMNS: tuple[str, ...] = ("batch_id", "file", "line", "column", "value", "reason", "record")

# Warehouse column -> police.uk header, per file kind (the inverse of each family's map).
_HEADERS: dict[str, dict[str, str]] = {
    kind: {column: header for header, column in columns.items()}
    for kind, (columns, _) in FAMILIES.items()
}


def quarantined_rows(source: Any = None, *, file: str | None = None) -> pd.DataFrame:
    """Every quarantined row, in file and line order.

    Parameters
    ----------
    source : path, Warehouse or Ibis backend, optional
        The warehouse (default :func:`~harmscope.warehouse.default_db`), resolved by
        :meth:`Warehouse.of`.
    file : str, optional
        Only rows of this file: its name (``2019-03-city-of-london-street.csv``), its path
        as ingested, or a zip member's name. Case-sensitive, as file names are.

    Returns
    -------
    pandas.DataFrame
        :data:`COLUMNS`: ``batch_id`` (the ingest batch), ``file`` (path, or
        ``archive.zip!member``), ``line`` (1-based physical line of the file; the header is
        line 1), ``column`` (police.uk header name; empty when the record could not be split
        into columns), ``value`` (the record's field under that column, read with the file's
        own header; empty when the file is no longer where it was ingested from or the record
        has the wrong number of fields), ``reason``, ``record`` (the line as read). Empty when
        nothing was quarantined.

    Raises
    ------
    WarehouseError
        ``file`` names no ingested file with quarantined rows (the message lists those
        that have some), or the warehouse has no ingest tables.
    """
    with Warehouse.of(source) as wh:
        if not wh.has("quarantine") or wh.count("ingest_files") == 0:
            if file is not None:
                raise WarehouseError(f"--file {file}: {wh.path} has no quarantined rows")
            return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
        q = wh.table("quarantine")
        f = wh.table("ingest_files")
        joined = q.join(f, q.file_id == f.file_id).select(
            q.file_id,
            f.batch_id,
            f.path,
            f.member,
            f.kind,
            q.line,
            q.column_name,
            q.reason,
            q.raw,
        )
        frame = joined.order_by(["file_id", "line"]).execute()
        where = wh.path
    frame["file"] = [
        f"{p}!{m}" if isinstance(m, str) and m else str(p)
        for p, m in zip(frame["path"], frame["member"], strict=True)
    ]
    if file is not None:
        shown = zip(frame["file"], frame["member"], strict=True)
        keep = [_names(display, member, file) for display, member in shown]
        if not any(keep):
            listed = ", ".join(sorted(set(frame["file"]))) or "none"
            raise WarehouseError(
                f"--file {file}: no quarantined rows of that file in {where} "
                f"(files with quarantined rows: {listed})"
            )
        frame = frame[keep]
    frame["column"] = [
        _HEADERS.get(str(kind), {}).get(col, col) if isinstance(col, str) else ""
        for kind, col in zip(frame["kind"], frame["column_name"], strict=True)
    ]
    headers: dict[str, tuple[str, ...] | None] = {}
    frame["value"] = [
        _value(record, column, _header(headers, path, member))
        for record, column, path, member in zip(
            frame["raw"], frame["column"], frame["path"], frame["member"], strict=True
        )
    ]
    frame = frame.rename(columns={"raw": "record"})
    frame["line"] = frame["line"].astype("Int64")
    frame["batch_id"] = frame["batch_id"].astype("Int64")
    return frame[list(COLUMNS)].reset_index(drop=True)


def _header(
    seen: dict[str, tuple[str, ...] | None], path: str, member: object
) -> tuple[str, ...] | None:
    """The header of the ingested file (read once per file); None when it cannot be read."""
    key = f"{path}!{member}" if isinstance(member, str) and member else str(path)
    if key not in seen:
        src = SourceFile(Path(path), member if isinstance(member, str) and member else None)
        try:
            seen[key] = read_header(src).columns
        except (HarmScopeError, OSError, KeyError, ValueError):  # moved, deleted or replaced
            seen[key] = None
    return seen[key]


def _value(record: object, column: str, header: tuple[str, ...] | None) -> str:
    """The field of *record* (a CSV line) under *column*, or "" when it cannot be told."""
    if not column or header is None or column not in header or not isinstance(record, str):
        return ""
    fields = next(csv.reader(io.StringIO(record)), [])
    # A record with missing or surplus fields has no reliable field under any column.
    if len(fields) != len(header):
        return ""
    return fields[header.index(column)]


def _names(display: str, member: object, wanted: str) -> bool:
    """Whether a file shown as *display* is the one *wanted* names (whole path or name)."""
    names = {display, Path(display.split("!")[0]).name}
    if isinstance(member, str) and member:
        names |= {member, Path(member).name}
    return wanted in names or display.endswith("/" + wanted)
