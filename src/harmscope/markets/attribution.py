"""Local attribution: the excess of harm in and around each market over comparable places.

DESIGN §3: drug-market harm is found where market activity and harm coincide. The national
attributable fractions (:mod:`harmscope.harm.attribution`) say what share of a crime type
markets cause *on average*; where the data show a market, this module measures it locally:

    excess_k = observed_k - expected_k

``observed_k`` is the harm (scheme unit) of the period in the cells market ``k`` holds
(footprint plus buffer, one market per cell: :func:`harmscope.markets.pipeline.markets`).
``expected_k`` is what the same cells would hold without a market, read off **comparison
cells**: study-area cells at least ``exclusion`` metres from every market's cells, matched
to each market cell on strata fixed before any harm of the market cells is looked at:

- the **distance band** from the study area's centre (the median corner of the cells holding
  any located record, so the centre is a fact of the geography, not of harm): ``bands``
  equal-count bands of the study cells' distances;
- the **neighbourhood level**: the mean harm per cell of the comparison cells within
  ``level_radius`` metres (harm density of the surroundings, market zones left out, so a
  market's own harm never sets its stratum), in ``level_bands`` equal-count bands.

A stratum with no comparison cell falls back to the distance band alone, then to all
comparison cells (``fallback`` counts the market cells that needed it).

Interval: a bootstrap over the comparison cells. Each replicate resamples the comparison
cells of every stratum with replacement (the uncertainty of the stratum's level), then draws
one cell of the resample for every market cell (the market cell's own background is one
draw from its stratum: the spread of places, not only of their mean). The replicate excess is
``observed - sum of the draws``; the interval is its 2.5 and 97.5 percentiles (``level``
0.95). A Poisson or negative-binomial model was not used: cell harm is a sum of CCHI weights
from 1 to 5,475 days, neither Poisson nor NB in days, and the spread between places (the
dominant uncertainty) is what the comparison cells show directly.

References
----------
Efron, B. & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*. Chapman & Hall.

May, T. & Hough, M. (2004). Drug markets and distribution systems. *Addiction Research &
Theory* 12(6), 549-563.

Rosenbaum, P. R. (2002). *Observational Studies*, 2nd ed., ch. 3 (matched comparisons
chosen before the outcome is seen). Springer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from harmscope.harm import load_scheme
from harmscope.harm.local import LocalExcess, MarketExcessRow
from harmscope.harm.weigh import SchemeLike
from harmscope.markets.activity import market_activity
from harmscope.markets.excess import (
    AttributionCells,
    attribute_cells,
    distance_to,
    frame_cells,
    market_cells,
    neighbourhood_level,
    percentile_interval,
    strata,
)
from harmscope.markets.model import Market
from harmscope.markets.pipeline import markets as find_markets
from harmscope.periods import Months
from harmscope.places.grid import DEFAULT_CELL_SIZE, with_cells
from harmscope.places.study_area import dataset_area
from harmscope.warehouse.handle import Warehouse

__all__ = ["DEFAULTS", "LocalAttribution", "MarketExcess", "local_attribution"]

#: Settings of :func:`local_attribution`, fixed on the simulator's tuning seeds 101-116
#: (never on the seeds ``validate-attribution`` reports): see ``docs/markets.md``.
DEFAULTS: dict[str, float] = {
    "radius": 400.0,
    "exclusion": 500.0,
    "bands": 8,
    "level_radius": 500.0,
    "level_bands": 3,
}

F = NDArray[np.float64]
Ints = NDArray[np.int64]


@dataclass(frozen=True)
class MarketExcess:
    """Local excess of one market (scheme unit, over the period).

    Attributes
    ----------
    market_id, name, status : str, str or None, str
        The market (:class:`~harmscope.markets.model.Market` fields).
    cells : int
        Cells the market holds (footprint plus buffer, after the split).
    observed : float
        Harm in those cells.
    expected : float
        Harm the matched comparison cells predict for them (sum of stratum means).
    excess, excess_low, excess_high : float
        ``observed - expected`` and its bootstrap interval.
    share, share_low, share_high : float
        The excess as a share of the study area's harm (central, low, high).
    fallback : int
        Market cells whose stratum had no comparison cell (matched on a coarser stratum).
    """

    market_id: str
    name: str | None
    status: str
    cells: int
    observed: float
    expected: float
    excess: float
    excess_low: float
    excess_high: float
    share: float
    share_low: float
    share_high: float
    fallback: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "market_id": self.market_id,
            "name": self.name,
            "status": self.status,
            "cells": self.cells,
            "observed": self.observed,
            "expected": self.expected,
            "excess": self.excess,
            "excess_low": self.excess_low,
            "excess_high": self.excess_high,
            "share": self.share,
            "share_low": self.share_low,
            "share_high": self.share_high,
            "fallback": self.fallback,
        }


@dataclass(frozen=True)
class LocalAttribution:
    """Local attribution of a study area's harm to its markets.

    Attributes
    ----------
    markets : tuple of MarketExcess
        One per market, in the order given.
    total_harm : float
        Harm of the study area over the period (scheme unit): the denominator of the shares.
    excess, excess_low, excess_high : float
        Sum of the markets' excess and its interval (percentiles of the replicate sums, not
        the sum of the markets' bounds).
    share, share_low, share_high : float
        ``excess / total_harm`` and its interval: the drug-market share of the area's harm.
    comparison_cells : int
        Cells used for comparison.
    study_cells : int
        Cells of the study area.
    method : str
        One sentence saying how ``expected`` and the interval were obtained.
    unit, scheme : str
        Scheme unit and name.
    level : float
        Interval level.
    replicates : int
        Bootstrap replicates.
    replicate_excess : ndarray
        The replicate sums of excess (for callers that combine intervals).
    """

    markets: tuple[MarketExcess, ...]
    total_harm: float
    excess: float
    excess_low: float
    excess_high: float
    share: float
    share_low: float
    share_high: float
    comparison_cells: int
    study_cells: int
    method: str
    unit: str = ""
    scheme: str = ""
    level: float = 0.95
    replicates: int = 0
    replicate_excess: F = field(default_factory=lambda: np.zeros(0), repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (replicates left out)."""
        return {
            "scheme": self.scheme,
            "unit": self.unit,
            "total_harm": self.total_harm,
            "excess": self.excess,
            "excess_low": self.excess_low,
            "excess_high": self.excess_high,
            "share": self.share,
            "share_low": self.share_low,
            "share_high": self.share_high,
            "comparison_cells": self.comparison_cells,
            "study_cells": self.study_cells,
            "level": self.level,
            "replicates": self.replicates,
            "method": self.method,
            "markets": [m.to_dict() for m in self.markets],
        }

    def local_excess(self) -> LocalExcess:
        """The harm core's view of this result (:class:`harmscope.harm.local.LocalExcess`)."""
        return LocalExcess(
            unit=self.unit,
            scheme=self.scheme,
            total=(self.excess_low, self.excess, self.excess_high),
            markets=tuple(
                MarketExcessRow(
                    market_id=m.market_id,
                    observed=m.observed,
                    expected=m.expected,
                    low=m.excess_low,
                    central=m.excess,
                    high=m.excess_high,
                )
                for m in self.markets
            ),
            method=self.method,
        )


def _cell_frame(
    events: Any, *, scheme: SchemeLike, months: Months | None, cell_size: float
) -> pd.DataFrame:
    act = market_activity(events, scheme=scheme, months=months)
    t = with_cells(act, cell_size=cell_size)
    agg = t.group_by(["cell_x", "cell_y"]).aggregate(
        harm=t.weight.sum(where=t.kind == "harm").coalesce(0.0), records=t.count()
    )
    return agg.to_pandas()


def local_attribution(
    source: Any,
    *,
    found: Sequence[Market] | None = None,
    scheme: SchemeLike = "cchi",
    months: Months | None = None,
    cell_size: float = DEFAULT_CELL_SIZE,
    radius: float | None = DEFAULTS["radius"],
    exclusion: float = DEFAULTS["exclusion"],
    bands: int = int(DEFAULTS["bands"]),
    level_radius: float = DEFAULTS["level_radius"],
    level_bands: int = int(DEFAULTS["level_bands"]),
    replicates: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    intelligence: pd.DataFrame | None = None,
) -> LocalAttribution:
    """Attribute the local excess of harm around each market to it, with an interval.

    Parameters
    ----------
    source : warehouse path, Ibis backend or events table
    found : sequence of Market, optional
        The markets; default :func:`harmscope.markets.markets` on ``source`` with the same
        scheme, months, cell size and ``intelligence`` (confirmed markets and the curation
        log included; rejected markets left out).
    scheme : Scheme, str or path-like, default 'cchi'
    months : (from, to), optional
        Inclusive ``'YYYY-MM'`` bounds.
    cell_size : float, default 250
        Cell side, metres.
    radius : float or None, default 400
        Market area: cells whose centre lies within this many metres of the market's centroid
        (None: the market's own footprint plus buffer).
    exclusion : float, default 500
        Comparison cells lie at least this far (metres, centre to centre) from every market
        cell, so a market's harm spilling past its area does not raise the comparison.
    bands : int, default 8
        Distance bands from the centre.
    level_radius : float, default 500
        Radius (metres, square window) of the neighbourhood level.
    level_bands : int, default 3
        Bands of the neighbourhood level (1: distance bands only).
    replicates : int, default 2000
        Bootstrap replicates.
    seed : int, default 0
        Bootstrap seed (results are reproducible).
    level : float, default 0.95
        Interval level.
    intelligence : DataFrame, optional
        Intelligence reports (``month``, ``x``, ``y``, optional ``weight``) passed to market
        detection when ``found`` is not given.

    Returns
    -------
    LocalAttribution

    Raises
    ------
    WarehouseError
        No located event in the period (from detection).
    ValueError
        Bad settings, or no comparison cell.
    """
    for name, value in (("exclusion", exclusion), ("level_radius", level_radius)):
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number of metres >= 0, got {value!r}")
    if radius is not None and not (math.isfinite(radius) and radius > 0):
        raise ValueError(f"radius must be > 0 metres or None, got {radius!r}")
    if bands < 1 or level_bands < 1:
        raise ValueError(f"bands and level_bands must be >= 1, got {bands!r}, {level_bands!r}")
    sch = load_scheme(scheme)
    if found is None:
        # On a warehouse path, markets() also replays the analysts' curation log.
        found = find_markets(
            source, scheme=sch, months=months, cell_size=cell_size, intelligence=intelligence
        )
    with Warehouse.of(source) as wh:
        events = wh.events()
        area = dataset_area(events, cell_size=cell_size)
        frame = _cell_frame(events, scheme=sch, months=months, cell_size=cell_size)
    study = pd.DataFrame({"cell_x": area.cell_x, "cell_y": area.cell_y})
    frame["cell_x"] = frame["cell_x"].astype(np.float64)
    frame["cell_y"] = frame["cell_y"].astype(np.float64)
    study = study.merge(frame, on=["cell_x", "cell_y"], how="left").fillna(0.0)
    ix, iy = frame_cells(study, cell_size)
    harm = study["harm"].to_numpy(dtype=np.float64)
    member = market_cells(ix, iy, found, cell_size, radius)
    taken = {(int(a), int(b)) for a, b in zip(ix[member >= 0], iy[member >= 0], strict=True)}
    far = distance_to(ix, iy, taken, cell_size) >= exclusion
    comparison = far & (member < 0)
    occupied = study["records"].to_numpy() > 0
    centre = (
        float(np.median((ix[occupied] + 0.5) * cell_size)) if occupied.any() else 0.0,
        float(np.median((iy[occupied] + 0.5) * cell_size)) if occupied.any() else 0.0,
    )
    lv = (
        neighbourhood_level(ix, iy, harm, comparison, math.ceil(level_radius / cell_size))
        if level_bands > 1
        else None
    )
    stratum, coarse = strata(
        ((ix + 0.5) * cell_size).astype(np.float64),
        ((iy + 0.5) * cell_size).astype(np.float64),
        centre=centre,
        bands=bands,
        level=lv,
        level_bands=level_bands,
    )
    total = float(harm.sum())
    n = len(found)
    observed, expected, boot, fallback = attribute_cells(
        AttributionCells(
            harm=harm, stratum=stratum, coarse=coarse, market=member, comparison=comparison
        ),
        n,
        replicates=replicates,
        seed=seed,
        level=level,
    )
    denom = total if total > 0 else math.nan
    rows = []
    for k, m in enumerate(found):
        lo, hi = percentile_interval(boot[k], level)
        ex = float(observed[k] - expected[k])
        rows.append(
            MarketExcess(
                market_id=m.id,
                name=m.name,
                status=m.status,
                cells=int((member == k).sum()),
                observed=float(observed[k]),
                expected=float(expected[k]),
                excess=ex,
                excess_low=lo,
                excess_high=hi,
                share=ex / denom,
                share_low=lo / denom,
                share_high=hi / denom,
                fallback=int(fallback[k]),
            )
        )
    sums = boot.sum(axis=0) if n else np.zeros(replicates)
    lo, hi = percentile_interval(sums, level)
    excess = float(observed.sum() - expected.sum())
    area_text = (
        f"cells within {radius:g} m of each market's centroid"
        if radius is not None
        else "each market's footprint plus buffer"
    )
    method = (
        f"excess = harm in {area_text} minus the mean harm of comparison cells "
        f"(study-area cells at least {exclusion:g} m from any market cell) of the same stratum "
        f"({bands} distance bands from the centre x {level_bands} bands of the harm density "
        f"of comparison cells within {level_radius:g} m); {level:.0%} interval: "
        f"{replicates} bootstrap replicates over the comparison cells"
    )
    return LocalAttribution(
        markets=tuple(rows),
        total_harm=total,
        excess=excess,
        excess_low=lo,
        excess_high=hi,
        share=excess / denom,
        share_low=lo / denom,
        share_high=hi / denom,
        comparison_cells=int(comparison.sum()),
        study_cells=len(study),
        method=method,
        unit=sch.unit,
        scheme=sch.name,
        level=level,
        replicates=replicates,
        replicate_excess=sums,
    )
