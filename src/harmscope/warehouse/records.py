"""Loading force records into the warehouse: pseudonymised, checked, all or nothing, audited.

:func:`load_records` resolves the pseudonym key (``$HARMSCOPE_PSEUDONYM_KEY`` or the key
file beside the warehouse), has the source adapter read, check and pseudonymise every file
(:mod:`harmscope.sources.records`), then writes the whole batch in one transaction:

* files whose bytes (SHA-256) were loaded before, or given twice, are skipped: identical
  files load once;
* a record whose key (``nominal_id``; ``source_id, target_id, link_type``; ...) was loaded
  before is replaced by the later one (a force re-exports its index); within one batch the
  file listed last wins;
* every person id of links, reports, crime-person links and arrests must be a nominal of
  the batch or of the warehouse; the first that is not fails the batch, naming file, line
  and column (read through the audited :func:`~harmscope.warehouse.personal.read_personal`);
* a batch pseudonymised with another key than the warehouse's earlier loads is refused;
* the load is logged in ``audit_log`` (action ``load``) with the user and reason, which
  files of personal data require.

Any failure rolls the whole batch back: the warehouse is left exactly as it was.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from harmscope.errors import InputError, WarehouseError
from harmscope.periods import Progress
from harmscope.sources.records import ADAPTER, FORMATS, Pseudonymiser, RecordFile
from harmscope.sources.records.pseudonym import load_key
from harmscope.warehouse.handle import Warehouse, default_db
from harmscope.warehouse.personal import AuditError, log_access, read_personal

__all__ = ["RecordsReport", "load_records"]


@dataclass
class RecordsReport:
    """What one :func:`load_records` call did."""

    files: int = 0
    files_skipped: int = 0
    """Files whose identical bytes were loaded before (or given twice in the batch)."""
    rows: dict[str, int] = field(default_factory=dict)
    """Records written per format (new or replacing an earlier one)."""
    passed_over: int = 0
    """Files in the folders and archives given whose header is no records layout."""
    passed_over_names: list[str] = field(default_factory=list)
    """The first few of them."""

    @property
    def rows_loaded(self) -> int:
        return sum(self.rows.values())


def _person_refs(files: Sequence[RecordFile]) -> list[tuple[RecordFile, str]]:
    """(file, column) of every person column that must name a nominal."""
    out = []
    for rf in files:
        for c in rf.format.columns:
            if c.kind == "person" and rf.format.name != "nominals":
                out.append((rf, c.name))
    return out


def _check_references(
    wh: Warehouse, files: Sequence[RecordFile], *, user: str, reason: str
) -> None:
    refs = _person_refs(files)
    if not refs:
        return
    known = {
        p for rf in files if rf.format.name == "nominals" for p in rf.rows["nominal_id"].dropna()
    }
    wanted = {
        p
        for rf, col in refs
        for p in rf.rows.loc[_nominal_mask(rf, col), col].dropna()
        if p not in known
    }
    if wanted and wh.has("records_nominals"):
        held = read_personal(
            wh,
            "records_nominals",
            user=user,
            reason=f"{reason} (load-records: check references to nominals)",
            columns=["nominal_id"],
            where={"nominal_id": sorted(wanted)},
        )
        known |= set(held["nominal_id"])
    for rf, col in refs:
        mask = _nominal_mask(rf, col)
        missing = mask & ~rf.rows[col].isin(known)
        if missing.any():
            i = int(missing.to_numpy().argmax())
            header = list(rf.format.names)
            raise InputError(
                "names a person who is not on the nominal index (load their nominals file "
                "in the same batch or before)",
                path=rf.src.display,
                line=int(rf.rows["_line"].iat[i]),
                column=header.index(col) + 1,
                column_name=col,
            )


def _nominal_mask(rf: RecordFile, col: str) -> pd.Series:
    kind_col = rf.format.column(col).kind_column
    mask = rf.rows[col].notna()
    if kind_col:
        mask &= rf.rows[kind_col] == "nominal"
    return mask


def load_records(
    paths: Sequence[str | os.PathLike[str]],
    *,
    db: str | os.PathLike[str] | None = None,
    user: str | None = None,
    reason: str | None = None,
    progress: Progress | None = None,
) -> RecordsReport:
    """Load force-records files (folders and zip archives of them too) into the warehouse.

    Parameters
    ----------
    paths : sequence of path
        Files, folder trees or zip archives in the layouts of ``docs/force-records.md``.
    db : path, optional
        The warehouse (default :func:`~harmscope.warehouse.handle.default_db`); created when
        missing, with its pseudonym key file beside it (mode 0600) unless
        ``$HARMSCOPE_PSEUDONYM_KEY`` is set.
    user, reason : str, optional
        Who loads and why: required when the batch holds personal data (nominals, links,
        reports, crime-person links, arrests); written to ``audit_log``.
    progress : callable, optional
        ``progress(stage, done, total)``.

    Returns
    -------
    RecordsReport
        Files read and skipped, records written per format.

    Raises
    ------
    InputError
        A bad file (file, line, column) or a person id not on the nominal index.
    AuditError
        Personal data without a user or reason.
    WarehouseError
        The batch was pseudonymised with another key than earlier loads.
    """
    path = str(db or default_db())
    pseudonymiser = Pseudonymiser(_key(path))
    files, found = ADAPTER.read(list(map(str, paths)), pseudonymiser, progress=progress)
    personal = any(rf.format.personal for rf in files)
    if personal:
        user, reason = _required(user, reason)
    who = (user or "").strip() or "(not given)"
    why = (reason or "").strip() or "load-records"
    report = RecordsReport(
        files=len(files), passed_over=found.passed_over, passed_over_names=found.passed_over_names
    )
    with Warehouse.open(path, read_only=False) as wh:
        con = wh.con
        checks = {
            r[0] for r in con.execute("SELECT DISTINCT key_check FROM records_files").fetchall()
        }
        if checks and checks != {pseudonymiser.check()}:
            raise WarehouseError(
                f"{path}: its records were pseudonymised with another key; load with the "
                "same key (the key file beside the warehouse, or $HARMSCOPE_PSEUDONYM_KEY)"
            )
        loaded = {r[0] for r in con.execute("SELECT sha256 FROM records_files").fetchall()}
        new: list[RecordFile] = []
        for rf in files:
            if rf.sha256 in loaded:
                report.files_skipped += 1
                continue
            loaded.add(rf.sha256)
            new.append(rf)
        if personal and new:
            _check_references(wh, new, user=who, reason=why)
        with wh.transaction() as tx:
            row = tx.execute("SELECT coalesce(max(file_id), 0) FROM records_files").fetchone()
            next_id = int(row[0]) if row else 0
            now = datetime.now(UTC).replace(tzinfo=None)
            frames: dict[str, list[pd.DataFrame]] = {}
            for rf in new:
                next_id += 1
                tx.execute(
                    "INSERT INTO records_files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        next_id,
                        rf.format.name,
                        rf.src.display,
                        rf.sha256,
                        len(rf.rows),
                        now,
                        who,
                        pseudonymiser.check(),
                    ],
                )
                frames.setdefault(rf.format.name, []).append(
                    rf.rows.drop(columns="_line").assign(file_id=next_id)
                )
            for name, fmt in FORMATS.items():  # nominals first
                if name not in frames:
                    continue
                # Later files win within a batch, as a later load replaces an earlier one.
                batch = pd.concat(frames[name], ignore_index=True)
                batch = batch.drop_duplicates(list(fmt.key), keep="last")
                tx.register("_hs_records", batch)
                try:
                    cols = ", ".join([*fmt.names, "file_id"])
                    tx.execute(
                        f"INSERT OR REPLACE INTO {fmt.table} ({cols}) "
                        f"SELECT {cols} FROM _hs_records"
                    )
                finally:
                    tx.unregister("_hs_records")
                report.rows[name] = len(batch)
            if new:
                log_access(
                    tx,
                    user=who,
                    reason=why,
                    action="load",
                    target=", ".join(FORMATS[n].table for n in frames),
                    detail={"files": [rf.src.display for rf in new], "rows": report.rows},
                    rows=report.rows_loaded,
                )
    return report


def _required(user: str | None, reason: str | None) -> tuple[str, str]:
    if not (user or "").strip() or not (reason or "").strip():
        raise AuditError(
            "these files hold personal data: loading them needs a user and a reason, written "
            "to the audit log (CLI: --user NAME --reason TEXT)"
        )
    return str(user).strip(), str(reason).strip()


def _key(db: str) -> bytes:
    # The key file sits beside the warehouse: create the folder first, as opening would.
    Path(db).parent.mkdir(parents=True, exist_ok=True)
    try:
        return load_key(db)
    except ValueError as exc:
        raise WarehouseError(str(exc)) from exc
