"""Saved priority boards: write and read table ``priority_snapshots``.

``harmscope priorities ... --save-snapshot NAME`` stores the board it printed (one row per
board row: lens, unit, rank, score, harm, and the board's settings as JSON), so a later run
can say what moved (``--compare-with NAME|last``, :mod:`harmscope.priorities.snapshot`).
A name is saved once (a second save under it is refused, so a comparison always means the
board that was printed then). Rows of personal lenses (people, groups) hold pseudonyms: they
are written and read only with a user and a reason, logged in ``audit_log``
(:func:`harmscope.warehouse.personal.log_access`); without them such rows are left out of
the snapshot and of the comparison, and the caller is told how many.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from harmscope.errors import WarehouseError
from harmscope.warehouse.handle import Warehouse
from harmscope.warehouse.personal import log_access

__all__ = ["LAST", "SnapshotError", "read_snapshot", "save_snapshot", "snapshot_names"]

#: ``--compare-with last``: the snapshot saved most recently.
LAST = "last"

_COLUMNS = ("lens", "unit_id", "rank", "score", "harm")


class SnapshotError(WarehouseError, LookupError):
    """No such snapshot, or a name already taken."""


def _audited(user: str | None, reason: str | None) -> bool:
    return bool((user or "").strip() and (reason or "").strip())


def save_snapshot(
    db: str | os.PathLike[str] | None,
    name: str,
    board: pd.DataFrame,
    settings: Mapping[str, Any],
    *,
    board_lens: str,
    personal: Collection[str] = (),
    user: str | None = None,
    reason: str | None = None,
) -> tuple[int, int]:
    """Store a board under *name*, in one transaction.

    Parameters
    ----------
    db : path or None
        The warehouse (written).
    name : str
        Snapshot name (``'2019-06'``, ``'before op Hawk'``); ``last`` is reserved.
    board : pandas.DataFrame
        Rows with ``lens, unit_id, rank, score`` and optionally ``harm``.
    settings : mapping
        The options and formula of the board, stored as JSON.
    board_lens : str
        The ``--lens`` asked for (``all``, ``places`` ...).
    personal : collection of str
        Lenses whose rows hold personal data (pseudonyms).
    user, reason : str, optional
        Who saves and why: needed to store rows of personal lenses (audited).

    Returns
    -------
    (int, int)
        Rows saved, and rows of personal lenses left out for want of a user and reason.

    Raises
    ------
    SnapshotError
        Blank or reserved name, or a snapshot of that name exists already.
    """
    key = name.strip()
    if not key or key.lower() == LAST:
        raise SnapshotError(f"--save-snapshot: {name!r} is not a usable snapshot name")
    rows = board.reindex(columns=list(_COLUMNS)).copy()
    mine = rows["lens"].isin(list(personal)).to_numpy()
    audited = _audited(user, reason)
    left_out = 0 if audited else int(mine.sum())
    if not audited:
        rows = rows[~mine]
    now = datetime.now(UTC).replace(tzinfo=None)
    rows.insert(0, "board_lens", board_lens)
    rows.insert(0, "saved_at", now)
    rows.insert(0, "snapshot", key)
    rows["settings"] = json.dumps(settings, sort_keys=True, default=str)
    rows["harm"] = pd.to_numeric(rows["harm"], errors="coerce")
    rows = rows[
        [
            "snapshot",
            "saved_at",
            "board_lens",
            "lens",
            "unit_id",
            "rank",
            "score",
            "harm",
            "settings",
        ]
    ]
    with Warehouse.open(db, read_only=False) as wh, wh.transaction() as con:
        taken = con.execute(
            "SELECT count(*) FROM priority_snapshots WHERE snapshot = ?", [key]
        ).fetchone()
        if taken and taken[0]:
            raise SnapshotError(
                f"--save-snapshot: a snapshot named {key!r} exists already; choose another name"
            )
        if audited and mine.any():
            log_access(
                con,
                user=str(user),
                reason=str(reason),
                action="write",
                target="priority_snapshots",
                detail={"snapshot": key, "lenses": sorted(set(board["lens"][mine]))},
                rows=int(mine.sum()),
            )
        con.register("_hs_snapshot", rows)
        try:
            con.execute("INSERT INTO priority_snapshots SELECT * FROM _hs_snapshot")
        finally:
            con.unregister("_hs_snapshot")
    return len(rows), left_out


def snapshot_names(db: str | os.PathLike[str] | None) -> list[str]:
    """Saved snapshot names, oldest first."""
    with Warehouse.of(db) as wh:
        if not wh.has("priority_snapshots"):
            return []
        got = wh.con.execute(
            "SELECT snapshot FROM priority_snapshots GROUP BY snapshot "
            "ORDER BY min(saved_at), snapshot"
        ).fetchall()
    return [r[0] for r in got]


def read_snapshot(
    db: str | os.PathLike[str] | None,
    name: str,
    *,
    personal: Collection[str] = (),
    user: str | None = None,
    reason: str | None = None,
) -> tuple[str, pd.DataFrame, int]:
    """A saved board: its name, rows (``lens, unit_id, rank, score, harm, saved_at``) and the
    rows of personal lenses left out (no user and reason).

    ``name`` ``last`` is the snapshot saved most recently.

    Raises
    ------
    SnapshotError
        No snapshot of that name (the message lists the saved ones).
    """
    names = snapshot_names(db)
    key = name.strip()
    if key.lower() == LAST:
        if not names:
            raise SnapshotError(
                "--compare-with last: no snapshot saved yet (save one with --save-snapshot NAME)"
            )
        key = names[-1]
    if key not in names:
        saved = ", ".join(names) if names else "none yet"
        raise SnapshotError(f"--compare-with: no snapshot named {key!r} (saved: {saved})")
    audited = _audited(user, reason)
    with Warehouse.of(db, read_only=not audited) as wh:
        rows = wh.con.execute(
            "SELECT lens, unit_id, rank, score, harm, saved_at FROM priority_snapshots "
            "WHERE snapshot = ? ORDER BY rank",
            [key],
        ).df()
        mine = rows["lens"].isin(list(personal)).to_numpy()
        if audited and mine.any():
            with wh.transaction() as con:
                log_access(
                    con,
                    user=str(user),
                    reason=str(reason),
                    action="read",
                    target="priority_snapshots",
                    detail={"snapshot": key},
                    rows=int(mine.sum()),
                )
    left_out = 0 if audited else int(mine.sum())
    if not audited:
        rows = rows[~mine].reset_index(drop=True)
    return key, rows, left_out
