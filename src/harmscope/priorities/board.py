"""The priority board: any lens's rows (or every lens's, ``all``) scored on the MoRiLE factors.

:func:`priority_board` ranks through the lens registry (:func:`harmscope.priorities.rank`),
finds each row's area and harm by type (from the lens's ``area`` and ``harm_types`` columns,
or, for rows that name a grid cell or a centroid, from the events in that cell), weighs the
community's survey ranking (:mod:`harmscope.priorities.community`) and scores every row
(:func:`harmscope.priorities.morile.score_board`). Every row explains itself: ``top_cells``
(its largest harm-matrix cells), ``evidence`` (what it rests on), ``defaults`` (what the lens
did not supply and the value used) and its score and rank range; ``compare`` in
:mod:`harmscope.priorities.snapshot` adds what moved it since a saved board.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from harmscope.harm import load_scheme, select_events
from harmscope.harm.selection import DEFAULT_HARM, check_types
from harmscope.harm.weigh import event_key, repeatable_sum, weigh
from harmscope.places.grid import DEFAULT_CELL_SIZE, with_cells
from harmscope.priorities.community import community_weights, row_weights
from harmscope.priorities.lenses import rank
from harmscope.priorities.morile import load_morile, score_board
from harmscope.priorities.reasons import formatted
from harmscope.warehouse.handle import Warehouse

__all__ = ["cell_profiles", "priority_board"]


def cell_profiles(
    source: Any,
    *,
    scheme: Any = "cchi",
    cell_size: float = DEFAULT_CELL_SIZE,
    months: Any = None,
    harm: str = DEFAULT_HARM,
    types: Any = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each grid cell's LSOA and harm by crime type over the period (set-based, in the engine).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        ``cell_x, cell_y, area`` (the LSOA holding most of the cell's records) and
        ``cell_x, cell_y, type, value`` (harm of the view, scheme unit, per crime type).
    """
    sch = load_scheme(scheme)
    with Warehouse.of(source) as wh:
        events = wh.events()
        chosen = select_events(events, months=months, types=check_types(types))
        located = chosen.filter(chosen.x.notnull() & chosen.y.notnull())
        w = weigh(located.mutate(event_key=event_key(located)), sch, harm=harm)
        w = with_cells(w.filter(w.kind == "harm"), cell_size=cell_size)
        by_type = (
            w.group_by(["cell_x", "cell_y", "event_key"])
            .aggregate(value=repeatable_sum(w.weight))
            .rename(type="event_key")
            .to_pandas()
        )
        c = with_cells(located.filter(located.lsoa_code.notnull()), cell_size=cell_size)
        counts = c.group_by(["cell_x", "cell_y", "lsoa_code"]).aggregate(n=c.count()).to_pandas()
    # the LSOA with most records; ties by code, so the area is deterministic
    counts = counts.sort_values(["cell_x", "cell_y", "n", "lsoa_code"], ascending=[1, 1, 0, 1])
    areas = counts.drop_duplicates(["cell_x", "cell_y"]).rename(columns={"lsoa_code": "area"})
    for frame in (areas, by_type):
        for col in ("cell_x", "cell_y"):
            frame[col] = frame[col].astype(np.float64)
    return areas[["cell_x", "cell_y", "area"]], by_type


def _row_cells(frame: pd.DataFrame, cell_size: float) -> tuple[np.ndarray, np.ndarray]:
    """The grid cell of each row: its ``cell_x/cell_y``, else the cell of its centroid."""
    x = np.full(len(frame), np.nan)
    y = np.full(len(frame), np.nan)
    for cx, cy, snap in (("cell_x", "cell_y", False), ("centroid_x", "centroid_y", True)):
        if cx in frame.columns and cy in frame.columns:
            vx = pd.to_numeric(frame[cx], errors="coerce").to_numpy(dtype=float)
            vy = pd.to_numeric(frame[cy], errors="coerce").to_numpy(dtype=float)
            if snap:
                vx, vy = np.floor(vx / cell_size) * cell_size, np.floor(vy / cell_size) * cell_size
            fill = np.isnan(x) & ~np.isnan(vx)
            x[fill], y[fill] = vx[fill], vy[fill]
    return x, y


def _profiles(
    source: Any, frame: pd.DataFrame, options: Mapping[str, Any]
) -> tuple[list[Any], pd.DataFrame]:
    """Each row's area and its harm by type (long: row, type, value)."""
    n = len(frame)
    areas: list[Any] = list(frame["area"]) if "area" in frame.columns else [None] * n
    areas = [a if isinstance(a, str) and a else None for a in areas]
    given = []
    if "harm_types" in frame.columns:
        for i, t in enumerate(frame["harm_types"]):
            if isinstance(t, Mapping):
                given += [(i, str(k), float(v)) for k, v in t.items()]
    types = pd.DataFrame(given, columns=["row", "type", "value"])
    has_types = set(types["row"])
    cell_size = float(options.get("cell_size", DEFAULT_CELL_SIZE))
    x, y = _row_cells(frame, cell_size)
    need = ~np.isnan(x) & (
        np.array([a is None for a in areas]) | ~np.isin(np.arange(n), list(has_types))
    )
    if n and need.any():
        cell_areas, cell_types = cell_profiles(
            source,
            scheme=options.get("scheme", "cchi"),
            cell_size=cell_size,
            months=options.get("months"),
            harm=options.get("harm", DEFAULT_HARM),
            types=options.get("types"),
        )
        rows = pd.DataFrame({"row": np.arange(n), "cell_x": x, "cell_y": y})[need]
        found = rows.merge(cell_areas, on=["cell_x", "cell_y"], how="left")
        for r, a in zip(found["row"], found["area"], strict=True):
            if areas[r] is None and isinstance(a, str):
                areas[r] = a
        extra = rows[~rows["row"].isin(has_types)].merge(cell_types, on=["cell_x", "cell_y"])
        parts = [t for t in (types, extra[["row", "type", "value"]]) if len(t)]
        types = pd.concat(parts, ignore_index=True) if parts else types
    return areas, types


def _explain(frame: pd.DataFrame) -> None:
    """``top_cells`` for rows whose lens gave none, and ``evidence`` (in place)."""
    n = len(frame)
    if "top_cells" not in frame.columns:
        frame["top_cells"] = None
    if "evidence" not in frame.columns:
        frame["evidence"] = None
    reasons = frame["reasons"] if "reasons" in frame.columns else pd.Series([[]] * n)
    keys = frame["reason_cells"] if "reason_cells" in frame.columns else pd.Series([[]] * n)
    top = []
    for given, words, cells in zip(frame["top_cells"], reasons, keys, strict=True):
        if isinstance(given, list):
            top.append(given)
        elif isinstance(words, list) and isinstance(cells, list) and cells:
            # the matrix-cell phrases close the reasons, one per key
            top.append(words[-len(cells) :])
        else:
            top.append([])
    frame["top_cells"] = top

    # Each sentence for every row at once (one text per distinct figure, no Python call per
    # row), then each row's present sentences in order.
    def said(name: str, words: Any) -> list[Any]:
        if name not in frame.columns:
            return [None] * n
        values = frame[name]
        present = values.notna().to_numpy()
        if not present.any():
            return [None] * n
        return words(values[present]).reindex(values.index).where(present, None).tolist()

    def once(values: pd.Series, text: Any) -> pd.Series:
        codes, uniques = pd.factorize(values)
        return pd.Series(np.array([text(u) for u in uniques.tolist()], object)[codes], values.index)

    def count(template: str) -> Any:
        return lambda v: once(
            v.astype(np.float64).astype(np.int64), lambda u: template.format(f"{u:,}")
        )

    parts = [
        said("harm_events", count("{} harmful crimes recorded (police.uk)")),
        said("cells", count("a footprint of {} grid cells of market activity")),
        said("status", lambda v: "market status: " + v.astype(str)),
        said(
            "activity",
            lambda v: pd.Series(
                formatted(v, ",.0f")
                + " police activity records (arrests, drug finds, searches: effort, not harm)",
                v.index,
            ),
        ),
    ]
    # a lens's own evidence first (what found the row), then what the board's columns show
    frame["evidence"] = [
        (given if isinstance(given, list) else []) + [p for p in row if p is not None]
        for given, *row in zip(frame["evidence"], *parts, strict=True)
    ]


def priority_board(
    source: Any,
    lens: str,
    *,
    morile: Mapping[str, Any] | None = None,
    community_mix: float | None = None,
    wave: str | None = None,
    top: int | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Rank through *lens* and score every row on the MoRiLE factors, with community weights.

    Parameters
    ----------
    source
        Warehouse path or backend.
    lens : str
        A registered lens or ``'all'`` (one board across every lens available).
    morile : mapping, optional
        :func:`~harmscope.priorities.morile.load_morile` (default: the packaged defaults).
    community_mix : float, optional
        :math:`\\mu` in [0, 1]; default the config's (0.25); 0 = no community weight.
    wave : str, optional
        Survey wave of the community weights (default the latest up to the period's end).
    top : int, optional
        Keep the first ``top`` rows of the scored board.
    **options
        The lens options (``scheme``, ``cell_size``, ``months``, ``harm``, ``types``,
        ``user``/``reason`` for personal lenses, ``per_lens`` for ``all`` ...).

    Returns
    -------
    pandas.DataFrame
        ``lens``, ``rank``, ``unit_id``, ``score`` (board score), ``reasons``, ``lens_rank``,
        the lens's columns, the factor columns of :func:`score_board`, ``area``,
        ``community_note``, ``top_cells``, ``evidence``. ``attrs``: ``formula``,
        ``community_mix``, ``community`` (wave, force-wide weights, suppressed areas) and
        the lens's attrs.
    """
    if top is not None and top < 1:
        raise ValueError(f"top must be a positive number of rows, got {top}")
    config = dict(morile) if morile is not None else load_morile()
    frame = rank(lens, source, **options)
    if "lens" not in frame.columns:
        frame.insert(0, "lens", lens.strip().lower())
    if "lens_rank" not in frame.columns:
        frame["lens_rank"] = frame["rank"]
    frame = frame.reset_index(drop=True)
    areas, types = _profiles(source, frame, options)
    weights = community_weights(
        source, config["community"], months=options.get("months"), wave=wave
    )
    m, notes = row_weights(weights, areas, types)
    frame["area"] = areas
    frame["community_note"] = notes
    _explain(frame)
    board = score_board(frame, config, community=m, mix=community_mix)
    if top is not None:
        board = board.head(top)
    first = ["lens", "rank", "unit_id", "score", "reasons", "lens_rank"]
    board = board[first + [c for c in board.columns if c not in first]]
    board.attrs["community"] = weights.summary()
    return board
