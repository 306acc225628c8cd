"""The market data types: a detected or curated :class:`Market` and a curation :class:`Decision`.

Kept apart from the code that makes them, so detection, description and curation can each
import the types without importing one another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from harmscope.harm.matrix import HarmMatrix
from harmscope.harm.words import percent, share_words
from harmscope.markets.cells import Cells

__all__ = ["Decision", "Market", "MarketSite"]


@dataclass(frozen=True)
class MarketSite:
    """A market located by intelligence before any hot spot is looked for.

    Attributes
    ----------
    id : str
        The force's market id (``records_markets``, or as named in reports).
    cell_x, cell_y : float
        Lower-left corner of its cell on the detection grid, BNG metres.
    source : {'known', 'reports'}
        The force's market list, or graded intelligence reports naming it
        (:mod:`harmscope.markets.sites`).
    detail : str
        The evidence in words (``"on the force's market list as M001 (open street)"``).
    """

    id: str
    cell_x: float
    cell_y: float
    source: str
    detail: str = ""


@dataclass(frozen=True)
class Decision:
    """One entry of the curation log.

    Attributes
    ----------
    decision_id : int
        Order of recording.
    market_id : str
        Candidate the decision is about (for ``merge``, the one that absorbs the others).
    action : {'confirm', 'reject', 'rename', 'merge', 'set'}
    key : str or None
        Characteristic name of a ``set``.
    value : str, bool, list of str or None
        New name (rename), absorbed ids (merge), characteristic value (set).
    cells : dict of str to tuple of (x, y)
        Cells of every named candidate when the decision was made.
    cell_size : float
        Cell size of those cells, metres.
    decided_by : str
    decided_at : datetime
        UTC.
    """

    decision_id: int
    market_id: str
    action: str
    key: str | None
    value: Any
    cells: dict[str, Cells]
    cell_size: float
    decided_by: str
    decided_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (cells left out)."""
        return {
            "decision_id": self.decision_id,
            "market_id": self.market_id,
            "action": self.action,
            "key": self.key,
            "value": self.value,
            "decided_by": self.decided_by,
            "decided_at": self.decided_at.isoformat(),
        }


@dataclass(frozen=True)
class Market:
    """A candidate (or curated) drug market.

    Attributes
    ----------
    id : str
        Stable, place-derived id (:func:`~harmscope.markets.cells.market_id` of its peak
        cell; for a merge, the target's id).
    name : str or None
        Analyst's name for it (``markets decide --rename``).
    place : str
        Readable name of its footprint from the police.uk records there
        (:func:`harmscope.places.names.unit_names`): ``"On or near A / B, City of London 001F"``.
    status : {'candidate', 'confirmed', 'rejected'}
    cells : tuple of (cell_x, cell_y)
        Footprint cells (lower-left corners, metres), sorted by y then x.
    cell_size : float
        Metres.
    centroid_x, centroid_y : float
        Mean of the footprint cell centres, BNG metres.
    buffer : float
        Buffer distance, metres.
    area_cells : tuple of (cell_x, cell_y)
        Footprint plus buffer cells this market holds (after the split of cells shared with
        other markets): where ``matrix``, ``harm`` and ``activity`` are measured.
    harm : float
        Harm total in ``area_cells`` (scheme unit).
    activity : float
        Market activity in ``area_cells``, in events (drug offences and drug searches counted;
        intelligence one per report unless weighted).
    footprint_activity : float
        Market activity in the footprint alone.
    activity_harm_ratio : float or None
        ``activity / harm``; None when harm is 0.
    peak_gi_z : float
        Largest Gi* z of market activity in the footprint.
    matrix : HarmMatrix
        Harm matrix of the events in ``area_cells``.
    months : tuple of str
        ``'YYYY-MM'`` of the monthly series.
    monthly_harm : tuple of float
        Harm in ``area_cells`` per month, aligned with ``months``.
    trend : dict
        Mann–Kendall on ``monthly_harm``: ``s``, ``z``, ``p``, ``tau``, ``direction``
        (``increasing`` | ``decreasing`` | ``no_trend``).
    top_types : tuple of dict
        Harm event types, largest first: ``event_type``, ``events``, ``value``, ``share``.
    harms : tuple of dict
        The matrix cells holding most harm: ``words`` (the taxonomy's labels), ``cell``
        (``harm_type/bearer/source``), ``value``, ``share``
        (:func:`~harmscope.markets.description.harms_in_words`).
    merged_from : tuple of str
        Candidate ids merged into this market.
    split_with : tuple of str
        Other markets (of the same listing) whose footprint plus buffer overlapped this one's;
        each shared cell was given to one market only (nearest footprint, see
        :func:`allocate_cells`), so no cell's harm is counted twice.
    ceded_cells : int
        Cells of this market's footprint plus buffer that went to another market.
    characteristics : dict
        ``{key: {"value": ..., "by": ..., "at": ...}}``.
    decisions : tuple of Decision
        Decisions applied to it, in order.
    unit : str
        Scheme unit.
    evidence : tuple of str
        What found it, in words: the intelligence naming it (force's market list, graded
        reports) and the hot spot of market activity it holds, if any
        (:func:`~harmscope.markets.detection.detect`).
    force_ids : tuple of str
        The force's ids of the markets it stands for (from intelligence; empty for a hot spot
        alone).
    linked_harm : float or None
        Harm (scheme unit, every crime weighed in full) of the recorded crimes linked by the
        force's crime-person links to the nominals recorded in it
        (:mod:`harmscope.markets.linked`); None when no links were read (no force records,
        or no user and reason for the audited read).
    linked_crimes : int or None
        The number of those crimes (each once).
    """

    id: str
    cells: Cells
    cell_size: float
    centroid_x: float
    centroid_y: float
    buffer: float
    area_cells: Cells
    harm: float
    activity: float
    footprint_activity: float
    activity_harm_ratio: float | None
    peak_gi_z: float
    matrix: HarmMatrix
    months: tuple[str, ...]
    monthly_harm: tuple[float, ...]
    trend: dict[str, Any]
    top_types: tuple[dict[str, Any], ...]
    unit: str
    harms: tuple[dict[str, Any], ...] = ()
    name: str | None = None
    place: str = ""
    status: str = "candidate"
    merged_from: tuple[str, ...] = ()
    split_with: tuple[str, ...] = ()
    ceded_cells: int = 0
    characteristics: dict[str, dict[str, Any]] = field(default_factory=dict)
    decisions: tuple[Decision, ...] = ()
    evidence: tuple[str, ...] = ()
    force_ids: tuple[str, ...] = ()
    linked_harm: float | None = None
    linked_crimes: int | None = None

    @property
    def harm_events(self) -> int:
        """The number of harmful crimes behind :attr:`score`: the linked crimes when links were
        read, else the harm events in the footprint plus buffer (the board's Poisson range)."""
        if self.linked_harm is not None:
            return int(self.linked_crimes or 0)
        return int(sum(t.events for t in self.matrix.by_event_type if t.kind == "harm"))

    @property
    def score(self) -> float:
        """What the markets lens ranks by: the linked harm when crime-person links were read,
        else the harm in and around the market (:attr:`harm`).

        Linked harm is the market's own harm as the force's records attribute it; harm in the
        area mixes in every other crime there (a busy high street beside a small market), so it
        is the stand-in when no links are known. One listing uses one of the two for every
        market: with links, a market none of whose people is linked to a crime scores 0.
        """
        return self.harm if self.linked_harm is None else self.linked_harm

    @property
    def label(self) -> str:
        """The analyst's name if given, else the place name, else the id."""
        return self.name or self.place or self.id

    @property
    def description(self) -> str:
        """The market in words: its top three crime types, then its top harms, with shares of
        its harm (``"Robbery: 45 % of harm; ...; Health harm to individuals, from use: 30 %"``).
        """
        types = [share_words(t["event_type"], t["share"]) for t in self.top_types[:3]]
        harms = [f"{h['words']}: {percent(h['share'])}" for h in self.harms]
        return "; ".join(types + harms)

    def flat_summary(self) -> dict[str, Any]:
        """The flat fields a listing or ranking row shows: ``name`` (the analyst's name, else
        the place name), ``place``, ``status``, ``cells`` (footprint size), ``harm``,
        ``activity``, ``activity_harm_ratio`` and ``trend`` (the direction)."""
        return {
            "name": self.name or self.place,
            "place": self.place,
            "status": self.status,
            "cells": len(self.cells),
            "harm": self.harm,
            "activity": self.activity,
            "activity_harm_ratio": self.activity_harm_ratio,
            "trend": self.trend["direction"],
            "split_with": " ".join(self.split_with),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "name": self.name or self.place,
            "place": self.place,
            "renamed": self.name is not None,
            "status": self.status,
            "cell_size": self.cell_size,
            "cells": [list(c) for c in self.cells],
            "centroid_x": self.centroid_x,
            "centroid_y": self.centroid_y,
            "buffer": self.buffer,
            "area_cells": len(self.area_cells),
            "unit": self.unit,
            "harm": self.harm,
            "activity": self.activity,
            "footprint_activity": self.footprint_activity,
            "activity_harm_ratio": self.activity_harm_ratio,
            "peak_gi_z": self.peak_gi_z,
            "trend": self.trend,
            "monthly": [
                {"month": m, "harm": h} for m, h in zip(self.months, self.monthly_harm, strict=True)
            ],
            "top_types": [dict(t) for t in self.top_types],
            "description": self.description,
            "harms": [dict(h) for h in self.harms],
            "matrix": self.matrix.to_dict(),
            "merged_from": list(self.merged_from),
            "split_with": list(self.split_with),
            "ceded_cells": self.ceded_cells,
            "characteristics": self.characteristics,
            "decisions": [d.to_dict() for d in self.decisions],
            "evidence": list(self.evidence),
            "force_ids": list(self.force_ids),
            "linked_harm": self.linked_harm,
            "linked_crimes": self.linked_crimes,
            "score": self.score,
        }
