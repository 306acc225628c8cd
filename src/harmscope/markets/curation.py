"""Curation of candidate markets: the analysts' decision log and its replay.

Analysts confirm, rename, merge, reject and describe candidates (:func:`decide`). Decisions are
an append-only log in the warehouse table ``market_decisions`` (created here), each with who
and when. :func:`~harmscope.markets.pipeline.markets` replays the log in time order over the current candidates:

- a decision names a candidate id and stores that candidate's cells; if the id is not among
  today's candidates (the footprint changed with more data or another period) it applies to
  the current candidate overlapping the stored cells most (by area, so other cell sizes work),
  and is ignored if none overlaps;
- ``confirm`` / ``reject`` set the status (the later wins); ``rename`` sets the name;
  ``set`` records a characteristic (:data:`CHARACTERISTICS`);
- ``merge`` joins other candidates into the named one: the result is one market over the union
  of the cells (its harm recomputed, not summed, so overlapping buffers count once), keeping
  the target's id, name, status and characteristics (characteristics only the absorbed ones
  had are kept);
- rejected markets are left out unless ``include_rejected=True``.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harmscope.errors import HarmScopeError
from harmscope.markets.cells import Cells, candidate_id, overlap_area, sorted_cells
from harmscope.markets.detection import Candidate
from harmscope.markets.model import Decision, Market
from harmscope.warehouse.handle import Warehouse
from harmscope.warehouse.schema import DECISIONS_DDL

__all__ = [
    "ACTIONS",
    "CHARACTERISTICS",
    "DECISIONS_DDL",
    "CurationState",
    "MarketDecisionError",
    "decide",
    "find_market",
    "load_decisions",
    "replay",
]

ACTIONS: tuple[str, ...] = ("confirm", "reject", "rename", "merge", "set")

#: Characteristics an analyst can record: key -> allowed values (None: free text; bool: yes/no).
CHARACTERISTICS: dict[str, tuple[str, ...] | type[bool] | None] = {
    "market_type": ("open", "semi_open", "closed"),
    "mode": ("street", "premises", "delivery", "mixed"),
    "near_schools": bool,
    "juveniles_seen": bool,
    "firearms": bool,
    "violence": bool,
    "drugs": None,
    "notes": None,
}

_TRUE = {"true", "yes", "y", "1"}

_FALSE = {"false", "no", "n", "0"}


class MarketDecisionError(HarmScopeError, ValueError):
    """A curation decision is impossible: unknown market, key or value, or conflicting actions."""


@dataclass
class CurationState:
    """Curation state of one market while the log is replayed."""

    status: str = "candidate"
    name: str | None = None
    characteristics: dict[str, dict[str, Any]] = field(default_factory=dict)
    decisions: list[Decision] = field(default_factory=list)


def _resolve(
    market_id: str,
    cells: Mapping[str, Cells],
    cell_size: float,
    candidates: Mapping[str, Candidate],
    current_size: float,
) -> str | None:
    """Today's candidate a decision about ``market_id`` applies to (exact id, else overlap)."""
    if market_id in candidates:
        return market_id
    stored = cells.get(market_id, ())
    best, best_area = None, 0.0
    for cid in sorted(candidates):
        area = overlap_area(stored, cell_size, candidates[cid].cells, current_size)
        if area > best_area:
            best, best_area = cid, area
    return best


def replay(
    found: list[Candidate], decisions: Sequence[Decision], size: float
) -> list[tuple[Candidate, list[Candidate], CurationState]]:
    """Apply the curation log in order: (root candidate, all members, state) per market."""
    candidates = {c.id: c for c in found}
    parent = {cid: cid for cid in candidates}
    states = {cid: CurationState() for cid in candidates}

    def root(cid: str) -> str:
        while parent[cid] != cid:
            parent[cid] = parent[parent[cid]]
            cid = parent[cid]
        return cid

    for d in sorted(decisions, key=lambda d: (d.decided_at, d.decision_id)):
        target = _resolve(d.market_id, d.cells, d.cell_size, candidates, size)
        if target is None:
            continue
        r = root(target)
        st = states[r]
        st.decisions.append(d)
        if d.action == "confirm":
            st.status = "confirmed"
        elif d.action == "reject":
            st.status = "rejected"
        elif d.action == "rename":
            st.name = str(d.value)
        elif d.action == "set" and d.key is not None:
            st.characteristics[d.key] = {
                "value": d.value,
                "by": d.decided_by,
                "at": d.decided_at.isoformat(),
            }
        elif d.action == "merge":
            for other in d.value:
                o = _resolve(str(other), d.cells, d.cell_size, candidates, size)
                if o is None or root(o) == r:
                    continue
                ro = root(o)
                absorbed = states.pop(ro)
                for key, val in absorbed.characteristics.items():
                    st.characteristics.setdefault(key, val)
                st.decisions.extend(absorbed.decisions)
                parent[ro] = r
    groups: dict[str, list[Candidate]] = {}
    for cid in sorted(candidates):
        groups.setdefault(root(cid), []).append(candidates[cid])
    out = []
    for r, members in groups.items():
        st = states[r]
        st.decisions.sort(key=lambda d: (d.decided_at, d.decision_id))
        out.append((candidates[r], members, st))
    return out


def _decode_cells(text: str) -> dict[str, Cells]:
    raw = json.loads(text)
    return {str(k): sorted_cells([(c[0], c[1]) for c in v]) for k, v in raw.items()}


def load_decisions(db: str | Path | None = None) -> list[Decision]:
    """The curation log of a warehouse, oldest first (empty when none was recorded).

    Parameters
    ----------
    db : str or Path, optional
        Warehouse file (default ``$HARMSCOPE_DB`` or ``harmscope.duckdb``).
    """
    with Warehouse.open(db, read_only=True) as wh:
        if not wh.has("market_decisions"):
            return []
        # Through Ibis, so a PySpark or PostgreSQL warehouse reads its log too.
        t = wh.table("market_decisions")
        cols = ["decision_id", "market_id", "action", "key", "value", "cells"]
        cols += ["cell_size", "decided_by", "decided_at"]
        table = t.select(cols).order_by(["decided_at", "decision_id"]).to_pyarrow()
        rows = list(zip(*(table.column(c).to_pylist() for c in cols), strict=True))
    out = []
    for did, mid, action, key, value, cells, size, by, at in rows:
        out.append(
            Decision(
                decision_id=int(did),
                market_id=str(mid),
                action=str(action),
                key=key,
                value=json.loads(value) if value is not None else None,
                cells=_decode_cells(cells),
                cell_size=float(size),
                decided_by=str(by),
                decided_at=at.replace(tzinfo=UTC) if at.tzinfo is None else at,
            )
        )
    return out


def _characteristic(key: str, value: Any) -> Any:
    """Validate and normalise one characteristic value."""
    if key not in CHARACTERISTICS:
        raise MarketDecisionError(
            f"unknown market characteristic {key!r} (allowed: {', '.join(CHARACTERISTICS)})"
        )
    allowed = CHARACTERISTICS[key]
    if allowed is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise MarketDecisionError(f"{key}: expected yes or no (true/false), got {value!r}")
    text = str(value).strip()
    if isinstance(allowed, tuple):
        norm = text.lower().replace("-", "_").replace(" ", "_")
        if norm not in allowed:
            raise MarketDecisionError(f"{key}: expected one of {', '.join(allowed)}, got {value!r}")
        return norm
    if not text:
        raise MarketDecisionError(f"{key}: expected non-empty text")
    return text


def decide(
    db: str | Path | None,
    market: Market,
    *,
    confirm: bool = False,
    reject: bool = False,
    rename: str | None = None,
    merge: Sequence[Market] = (),
    characteristics: Mapping[str, Any] | None = None,
    by: str | None = None,
    at: datetime | None = None,
) -> list[Decision]:
    """Record an analyst's decisions about a market (one transaction; appended to the log).

    Parameters
    ----------
    db : str, Path or None
        Warehouse file; ``market_decisions`` is created if missing.
    market : Market
        The market decided about (from :func:`~harmscope.markets.pipeline.markets`, with ``include_rejected=True`` to
        revisit a rejected one).
    confirm, reject : bool
        Set the status (not both).
    rename : str, optional
        New name (non-empty).
    merge : sequence of Market
        Markets to merge into ``market``.
    characteristics : mapping, optional
        ``{key: value}`` with keys of :data:`CHARACTERISTICS`; booleans accept yes/no,
        true/false, 1/0.
    by : str, optional
        Who decides (default: the login name).
    at : datetime, optional
        When (default: now, UTC).

    Returns
    -------
    list of Decision
        What was recorded, in order.

    Raises
    ------
    MarketDecisionError
        Nothing to record, confirm and reject together, an empty name, merging a market into
        itself, an unknown characteristic or a bad value.
    """
    if confirm and reject:
        raise MarketDecisionError("a market cannot be confirmed and rejected at once")
    if rename is not None and not rename.strip():
        raise MarketDecisionError("a market name cannot be empty")
    if any(m.id == market.id for m in merge):
        raise MarketDecisionError(f"cannot merge market {market.id} into itself")
    chars = {k: _characteristic(k, v) for k, v in (characteristics or {}).items()}
    planned: list[tuple[str, str | None, Any, list[Market]]] = []
    if confirm:
        planned.append(("confirm", None, None, [market]))
    if reject:
        planned.append(("reject", None, None, [market]))
    if rename is not None:
        planned.append(("rename", None, rename.strip(), [market]))
    if merge:
        planned.append(("merge", None, [m.id for m in merge], [market, *merge]))
    for name, setting in chars.items():
        planned.append(("set", name, setting, [market]))
    if not planned:
        raise MarketDecisionError(
            "nothing to record: give confirm, reject, rename, merge or a characteristic"
        )
    who = (by or "").strip() or _login()
    when = (at or datetime.now(UTC)).astimezone(UTC)
    out: list[Decision] = []
    # Opening for writing creates ``market_decisions`` (schema.DECISIONS_DDL) when missing.
    with Warehouse.open(db, read_only=False) as wh, wh.transaction() as con:
        row = con.execute("SELECT coalesce(max(decision_id), 0) FROM market_decisions").fetchone()
        next_id = int(row[0]) + 1 if row else 1
        for action, key, value, named in planned:
            cells = {m.id: m.cells for m in named}
            d = Decision(
                decision_id=next_id,
                market_id=market.id,
                action=action,
                key=key,
                value=value,
                cells=cells,
                cell_size=market.cell_size,
                decided_by=who,
                decided_at=when,
            )
            con.execute(
                "INSERT INTO market_decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    d.decision_id,
                    d.market_id,
                    d.action,
                    d.key,
                    None if value is None else json.dumps(value),
                    json.dumps({k: [list(c) for c in v] for k, v in cells.items()}),
                    d.cell_size,
                    d.decided_by,
                    when.replace(tzinfo=None),
                ],
            )
            out.append(d)
            next_id += 1
    return out


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def find_market(found: Sequence[Market], market_id: str) -> Market:
    """The market with this id (or a merged candidate id, or a name, case-insensitive).

    Ids of earlier versions still find their market: the footprint hash of
    :func:`~harmscope.markets.cells.candidate_id` over the market's current cells, and any id
    a decision applied to the market was recorded under.

    Raises
    ------
    MarketDecisionError
        Unknown id, listing the ids there are.
    """
    for m in found:
        if m.id == market_id:
            return m
    for m in found:
        if market_id in m.merged_from:
            return m
    for m in found:
        if market_id == candidate_id(m.cells, m.cell_size) or any(
            d.market_id == market_id for d in m.decisions
        ):
            return m
    wanted = market_id.strip().lower()
    named = [m for m in found if m.name and m.name.lower() == wanted]
    if len(named) == 1:
        return named[0]
    placed = [m for m in found if m.place and m.place.lower() == wanted]
    if len(placed) == 1:
        return placed[0]
    ids = ", ".join(m.id for m in found) or "none"
    raise MarketDecisionError(
        f"no market {market_id!r} with these settings (markets: {ids}); use the same "
        "--from/--to/--cell-size/--scheme as the listing"
    )
