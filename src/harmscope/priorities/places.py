"""The places lens: grid cells ranked by the harm in them, with the matrix cells behind it.

Score
-----
For cell :math:`i` over the period, with :math:`H_i` its harm (sum of scheme weights of its
harm-kind events; activity is never added) and :math:`z_i` its Gi* z of harm
(:func:`harmscope.places.hotspots.hotspots`):

==============  ==========================================  ==================================
significance    score                                       cells ranked
==============  ==========================================  ==================================
``'none'``      :math:`H_i`                                 every cell with :math:`H_i > 0`
``'weight'``    :math:`H_i \\, \\Phi(z_i)`                   every cell with :math:`H_i > 0`
``'require'``   :math:`H_i`                                 hot cells: FDR p ≤ ``alpha``, z > 0
==============  ==========================================  ==================================

:math:`\\Phi` is the standard normal CDF, so ``'weight'`` keeps a harmful cell in a hot cluster
near its full harm and discounts an isolated one (z ≈ 0 halves it) or one in a cold area.
Ties are broken by harm, then south to north, west to east; ranks are 1..n.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import stats

from harmscope.harm import load_scheme, select_events
from harmscope.harm.selection import DEFAULT_HARM, check_harm, check_types, selection_attrs
from harmscope.harm.shares import matrix_shares, spread_harm
from harmscope.harm.taxonomy import Taxonomy, default_taxonomy, load_taxonomy
from harmscope.harm.weigh import AttributionLike, SchemeLike, event_key, weigh
from harmscope.periods import Months, Progress
from harmscope.places.grid import DEFAULT_CELL_SIZE, with_cells
from harmscope.places.hotspots import hotspots
from harmscope.places.study_area import AREA, AreaCells, Within
from harmscope.priorities.reasons import frame_reasons
from harmscope.warehouse.handle import Warehouse

__all__ = ["PLACE_COLUMNS", "Significance", "place_id", "rank_places"]

Significance = Literal["none", "weight", "require"]

PLACE_COLUMNS: tuple[str, ...] = (
    "rank",
    "unit_id",
    "score",
    "reasons",
    "reason_cells",
    "name",
    "cell_x",
    "cell_y",
    "harm",
    "activity",
    "gi_z",
    "p_fdr",
    "category",
    "harm_events",
)
"""Columns of :func:`rank_places`; ``reasons`` and ``reason_cells`` hold lists of strings."""


def place_id(cell_x: float, cell_y: float, cell_size: float) -> str:
    """Unit id of a cell: ``'cell-<size>m-<cell_x>-<cell_y>'``.

    Examples
    --------
    >>> place_id(532000, 181250, 250)
    'cell-250m-532000-181250'
    """
    return f"cell-{float(cell_size):g}m-{float(cell_x):g}-{float(cell_y):g}"


def rank_places(
    source: ir.Table | ibis.BaseBackend | str | Path,
    *,
    scheme: SchemeLike = "cchi",
    cell_size: float = DEFAULT_CELL_SIZE,
    months: Months | None = None,
    significance: Significance = "none",
    alpha: float = 0.05,
    top: int | None = None,
    reasons: int = 3,
    within: Within = AREA,
    mask: tuple[Any, Any] | AreaCells | None = None,
    taxonomy: Taxonomy | str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    harm: str = DEFAULT_HARM,
    attribution: AttributionLike = None,
    types: Collection[str] | None = None,
) -> pd.DataFrame:
    """Rank grid cells by harm over the period (see the module docstring for the score).

    Parameters
    ----------
    source : ibis.Table, ibis backend, str or Path
        Warehouse ``events``, a backend holding it, or a warehouse path.
    scheme : Scheme, str or path-like, default 'cchi'
    cell_size : float, default 250
        Metres.
    months : (from, to), optional
        Inclusive month bounds.
    significance : {'none', 'weight', 'require'}, default 'none'
        How Gi* enters the score.
    alpha : float, default 0.05
        FDR level for ``'require'``.
    top : int, optional
        Keep the first ``top`` rows.
    reasons : int, default 3
        Matrix cells named per row (after the two crime types with most harm;
        :func:`~harmscope.priorities.reasons.word_reasons`).
    within : 'area', float or None, default 'area'
        Study area of the Gi* (as :func:`~harmscope.places.hotspots.hotspots`: by default
        the dataset's one study area).
    mask : (cell_x, cell_y) arrays, optional
        Exact study area (e.g. from :mod:`harmscope.places.study_area`): only these cells
        are ranked, and the Gi* runs on them, zeros included.
    taxonomy : Taxonomy or path, optional
        Harm taxonomy behind the reasons.
    progress : callable, optional
        Passed to :func:`~harmscope.places.hotspots.hotspots`.
    harm : {'drug', 'all'}, default 'drug'
        View of harm ranked: drug-attributed (default) or every crime's; the reasons are the
        matrix cells of the same view (:func:`~harmscope.harm.shares.matrix_shares`).
    attribution : Attribution or path, optional
        Attributable fractions of the drug view.
    types : collection of str, optional
        Only these crime types (police.uk names, any case).

    Returns
    -------
    pandas.DataFrame
        :data:`PLACE_COLUMNS`, rank 1 first; ``attrs`` has ``lens``, ``scheme``, ``unit``,
        ``dropped``, ``cell_size``, ``months``, ``significance``, ``study_area`` (cells and
        strays left out), ``harm_view``, ``harm_label`` and ``types``.
    """
    if significance not in ("none", "weight", "require"):
        raise ValueError(f"significance must be none, weight or require, got {significance!r}")
    if top is not None and top < 1:
        raise ValueError(f"top must be a positive number of rows, got {top}")
    sch = load_scheme(scheme)
    if isinstance(taxonomy, Taxonomy):
        tax = taxonomy
    else:
        tax = default_taxonomy() if taxonomy is None else load_taxonomy(taxonomy)
    harm = check_harm(harm)
    types = check_types(types, tax)
    shares = matrix_shares(sch, taxonomy=tax, attribution=attribution, harm=harm)
    with Warehouse.of(source) as wh:
        events = wh.events()
        spots = hotspots(
            events,
            scheme=sch,
            cell_size=cell_size,
            months=months,
            within=within,
            mask=mask,
            progress=progress,
            harm=harm,
            attribution=attribution,
            types=types,
        )
        # Every crime's harm per cell and type: the shares of the view then spread it, as
        # the matrix does, so a cell's reasons add up to its harm in that view.
        chosen = select_events(events, months=months, types=types)
        w = weigh(chosen.mutate(event_key=event_key(chosen)), sch, harm="all")
        w = w.filter((w.kind == "harm") & w.x.notnull() & w.y.notnull())
        c = with_cells(w, cell_size=cell_size)
        by_type = c.group_by(["cell_x", "cell_y", "event_key"]).aggregate(value=c.weight.sum())
        totals = by_type.to_pandas()
    ranked = spots[spots["harm"] > 0].copy()
    if significance == "weight":
        ranked["score"] = ranked["harm"] * stats.norm.cdf(ranked["gi_z"].to_numpy())
    else:
        ranked["score"] = ranked["harm"].astype(float)
    if significance == "require":
        ranked = ranked[(ranked["p_fdr"] <= alpha) & (ranked["gi_z"] > 0)]
    ranked = ranked.sort_values(
        ["score", "harm", "cell_y", "cell_x"], ascending=[False, False, True, True], kind="stable"
    ).reset_index(drop=True)
    if top is not None:
        ranked = ranked.head(top)
    ranked["rank"] = np.arange(1, len(ranked) + 1, dtype=np.int64)
    ranked["unit_id"] = [
        place_id(x, y, cell_size) for x, y in zip(ranked["cell_x"], ranked["cell_y"], strict=True)
    ]
    for col in ("cell_x", "cell_y"):
        totals[col] = totals[col].astype(np.float64)
    keys = ranked[["cell_x", "cell_y"]].astype(np.float64)
    totals = totals.merge(keys, on=["cell_x", "cell_y"])
    matrix = spread_harm(totals, shares, unit_columns=["cell_x", "cell_y"]) if len(totals) else None
    if matrix is not None:
        # Each type's harm in the view (drug: times its drug share, the sum of its shares),
        # so the type phrases are shares of the same harm as the cells and the score.
        view_share = shares.groupby("event_key")["share"].sum()
        in_view = totals.assign(
            value=totals["value"] * totals["event_key"].map(view_share).fillna(0.0)
        )
        # set-based: every cell's reasons in one pass (issue 13; was to_dict per cell)
        words = frame_reasons(matrix, in_view, ["cell_x", "cell_y"], sch.unit, tax, k=reasons)
        words = words.astype({c: ranked[c].dtype for c in ("cell_x", "cell_y")})
        ranked = ranked.merge(words, on=["cell_x", "cell_y"], how="left", sort=False)
    else:
        ranked["reasons"] = None
        ranked["reason_cells"] = None
    for col in ("reasons", "reason_cells"):
        ranked[col] = [v if isinstance(v, list) else [] for v in ranked[col]]
    out = ranked[list(PLACE_COLUMNS)].reset_index(drop=True)
    out.attrs.update(
        {
            "lens": "places",
            "scheme": sch.name,
            "unit": sch.unit,
            "cell_size": cell_size,
            "months": None if months is None else tuple(str(m) for m in months),
            "significance": significance,
            "dropped": spots.attrs.get("dropped"),
            "study_area": spots.attrs.get("study_area"),
            **selection_attrs(harm, types),
        }
    )
    return out
