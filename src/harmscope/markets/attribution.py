"""Local attribution: the excess of harm in and around each market over comparable places.

DESIGN §3: drug-market harm is found where market activity and harm coincide. The national
attributable fractions (:mod:`harmscope.harm.attribution`) say what share of a crime type
markets cause *on average*; where the data show a market, this module measures it locally:

    excess_k = observed_k - expected_k

``observed_k`` is the harm (scheme unit) of the period in the cells of market ``k``: the
study-area cells whose centre lies within ``radius`` metres (default 500) of the market's
centroid, a cell reached by two markets going to the nearer. (The market's own footprint plus
buffer, ``radius=None``, is offered but biased: footprint cells are chosen *because* they hold
market activity, and police activity follows recorded crime, so a footprint picks out busy
cells and their background would be counted as excess.)

Only the event types a market can cause are counted in ``observed`` and ``expected``: those
with a ``distribution`` fraction in the attribution (:func:`market_types`: violence, robbery,
public order, criminal damage, other crime, anti-social behaviour). Acquisitive crime is left
out: users steal near the market where they buy, but that is harm from *use*, which the
national fractions already count; counting its excess here would count it twice. The
denominator of the shares is every harm type.

``expected_k`` is what the same cells would hold without a market. **Placebo areas**: the
market's own shape laid on every origin within ``reach`` metres (default 1,250 m) of it,
each counted when at least ``min_share`` of its cells are study cells no market holds (its
harm is the mean of those cells times the market's cell count): places of the same
neighbourhood, chosen from the geography alone, before any harm is read. Markets sit where
crime already concentrates, so the placebo mean alone under-predicts; the **place offset**
corrects it from the harm of the *other* (reference) types, acquisitive crime::

    expected_k = mean(L_p) * (R_k / mean(R_p)) ** beta

(``L``: counted harm, ``R``: reference harm; ``p`` placebo areas, ``k`` the market's cells).
``beta = 1`` is the ratio estimator, which would take the reference to measure the place
exactly; but a market's users steal around it, so ``R_k`` is raised by the market itself.
``beta`` (default 0.4) was fitted on the simulator's tuning seeds by
:func:`harmscope.checks.place_offset.fit_place_offset` (log-linear model, quasi-Poisson
score).

**Markets** are every kind of market activity a caller has: ``sites`` known by place
(confirmed markets, markets named in intelligence reports) and the markets detected from
drug offences, drug finds and intelligence (:func:`harmscope.markets.markets`); a detected
market within ``gap`` (500 m) of a site is the same market (:func:`merge_sites`).

Interval: ``replicates`` (default 2000) draws of one placebo area per market, at random;
the replicate excess is ``observed - L_p * offset``, and the interval its 2.5 and 97.5
percentiles (``level`` 0.95); the area's interval takes percentiles of the replicate *sums*
over markets. A whole area is drawn, not cells one by one, because harm is spatially
correlated: drawing cells independently gave intervals too narrow on the tuning seeds
(coverage 63-80 %). This is a bootstrap over the comparison places (a placebo-in-space
design). ``widen`` scales the replicates' deviations; the tuning seeds needed none (1).
A Poisson or negative-binomial interval was not used: cell harm is a sum of CCHI weights
from 1 to 5,475 days, neither Poisson nor NB in days, and the spread between places (the
dominant uncertainty) is what the placebo areas show directly.

**Place model (``background='place'``, fourth pass; the base of 'local').** The expected
background of a market's cells is the sum over them of one log-linear model fitted to
*every* cell no market holds (:func:`harmscope.markets.excess.place_background`,
quasi-Poisson estimating equations, so harm in days need not be Poisson)::

    log E[L_c] = b0 + b1 d_c + b2 d_c**2 + b3 n_c + b4 log((R_c + 1) / (Rbar_c + 1))

``d_c`` the cell's distance (km) to the area's harm centre; ``n_c`` the log harm level of
the background cells around (Gaussian, 750 m scale, the cell itself and market cells left
out: the placebo areas' idea pooled into the model); ``R_c`` the cell's count of crimes of
the other (reference) types and ``Rbar_c`` the mean of its 8 neighbours'. The diagnosis on
tuning seeds 101-140 (``docs/harm-model.md``) found the error of a city's share almost all
in the background of the market's cells (recording noise alone would give 8 % of the true
share; missed markets and market harm beyond 500 m or in types not counted, -7 %): crime
concentrates at micro places that draw every type, distance cannot see a single busy cell,
and markets sit on busy ones. The reference types see the place, but a market's users
steal around it, so a cell's own count also holds the market (the ratio estimator's
failure); against its neighbours that spread-out rise largely cancels while the cell's own
place effect stays. The coefficients come from the city's own cells without a market, not
from the simulator's truth. Each interval replicate multiplies the expected background by
one placebo area's ratio of observed to predicted harm (the model's error on an area of the
market's shape nearby, where no market is), deviations scaled by ``widen`` 1.4 (coverage
96 % on the 80 tuning seeds).

**Local background (the default, ``background='local'``, fifth pass).** The 'place'
model's prediction for a market's cells times the **median** observed/predicted ratio of
the placebo areas of its shape within ``reach`` (the model's own error near the market,
read off comparable places without one). A city-wide model fitted mostly on quiet cells
misjudges the busy districts markets sit in; on the calibrated simulator's tuning seeds
101-140 it over-predicted the background of the market cells by 6.8 % of the true market
harm on average (by more than the whole market harm in some cities), which, with the
7.4 % of market harm no method of this kind sees (markets not found, harm beyond 500 m,
types not counted), gave a bias of -14.2 %; calibrated locally, -3.3 % (``docs/markets.md``,
fifth pass; pre-registered on reported seeds 1-40: bias -8.5 %, coverage 95 %). The
median, not the mean, so that one busy placebo area does not move it. The interval draws
the same ratios (one placebo area per market and replicate), so the estimate is the
replicates' median before widening; deviations are scaled by ``widen`` 1.5 (coverage 95 %
on the 80 tuning seeds).

**Interval centring (all backgrounds).** Replicates are centred on the estimate
(:func:`harmscope.markets.excess.centred`): each market's replicate deviations on their
median, and the area's replicate sums again on theirs. Uncentred, the draws of placebo
ratios that average away from 1 put an area's excess outside its own interval (739,965
days against 442,280 to 554,718 on 1/8 of the 39-force extract).

**Place background (``background='place'``, fourth pass):** the model alone.
**Distance background (``background='distance'``, third pass):** distance terms
alone; ``background='placebo'`` (second pass) keeps the placebo mean and place offset
above (``widen`` 1).

The settings (:data:`DEFAULTS`) were chosen on the simulator's tuning seeds 101-180 and are
scored on other seeds by ``harmscope validate-attribution`` (``docs/harm-model.md``,
``docs/markets.md``).

References
----------
Efron, B. & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*. Chapman & Hall.

May, T. & Hough, M. (2004). Drug markets and distribution systems. *Addiction Research &
Theory* 12(6), 549-563.

Weisburd, D. (2015). The law of crime concentration and the criminology of place.
*Criminology* 53(2), 133-157.

Rengert, G. F., Piquero, A. R. & Jones, P. R. (1999). Distance decay reexamined.
*Criminology* 37(2), 427-446.

Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for
comparative case studies. *Journal of the American Statistical Association* 105(490),
493-505 (placebo units as the reference distribution of an effect).

Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed., ch. 6 (ratio estimators). Wiley.

McCullagh, P. & Nelder, J. A. (1989). *Generalized Linear Models*, 2nd ed. Chapman & Hall.

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

from harmscope.harm import Attribution, Scheme, default_attribution, load_scheme
from harmscope.harm.local import LocalExcess, MarketExcessRow
from harmscope.harm.weigh import SchemeLike, repeatable_sum
from harmscope.markets.activity import market_activity
from harmscope.markets.excess import (
    AttributionCells,
    Site,
    attribute_cells,
    centred,
    frame_cells,
    market_cells,
    percentile_interval,
)
from harmscope.markets.lattice import label_groups
from harmscope.markets.model import Market
from harmscope.markets.pipeline import markets as find_markets
from harmscope.periods import Months
from harmscope.places.grid import DEFAULT_CELL_SIZE, with_cells
from harmscope.places.study_area import dataset_area
from harmscope.warehouse.handle import Warehouse

__all__ = [
    "BACKGROUND",
    "DEFAULTS",
    "WIDEN",
    "LocalAttribution",
    "MarketExcess",
    "Site",
    "local_attribution",
    "market_types",
    "merge_sites",
]

#: Settings of :func:`local_attribution`, chosen on the simulator's tuning seeds 101-180
#: (never on the seeds ``validate-attribution`` reports): see ``docs/harm-model.md``.
DEFAULTS: dict[str, float] = {
    "radius": 500.0,
    "reach": 1250.0,
    "min_share": 0.5,
    "gap": 500.0,
    "beta": 0.4,
    "widen": 1.0,
    "widen_distance": 1.25,
    "widen_place": 1.4,
    "widen_local": 1.5,
}

#: Default background model of :func:`local_attribution` (``'local'``, ``'place'``,
#: ``'distance'`` or ``'placebo'``).
BACKGROUND = "local"

#: The interval's widening factor of each background (``DEFAULTS``, tuning seeds).
WIDEN: dict[str, float] = {
    "placebo": DEFAULTS["widen"],
    "distance": DEFAULTS["widen_distance"],
    "place": DEFAULTS["widen_place"],
    "local": DEFAULTS["widen_local"],
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
        Study-area cells the market holds (see ``radius``).
    area_harm : float
        Harm of every type in those cells.
    observed : float
        Harm of the market-linked types (``LocalAttribution.types``) in those cells.
    expected : float
        Harm of those types expected there without the market: the background model's
        prediction summed over the cells (``'place'``, ``'distance'``), or the placebo mean
        times the place offset (``'placebo'``).
    excess, excess_low, excess_high : float
        ``observed - expected`` and its bootstrap interval.
    share, share_low, share_high : float
        The excess as a share of the study area's harm (central, low, high).
    placebos : int
        Placebo areas the market was compared with.
    source : str
        What placed the market: ``'confirmed'``, ``'reports'`` or ``'detected'`` (:class:`Site`).
    offset : float
        ``expected`` over the placebo mean: the place offset ``(R_k / mean(R_p)) ** beta``
        with the placebo background (1: the placebo mean alone), the model's prediction
        against its neighbourhood with the others.
    area : tuple of (cell_x, cell_y)
        The market's cells (lower-left corners, metres).
    """

    market_id: str
    name: str | None
    status: str
    cells: int
    area_harm: float
    observed: float
    expected: float
    excess: float
    excess_low: float
    excess_high: float
    share: float
    share_low: float
    share_high: float
    placebos: int = 0
    source: str = "detected"
    offset: float = 1.0
    area: tuple[tuple[float, float], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "market_id": self.market_id,
            "name": self.name,
            "status": self.status,
            "cells": self.cells,
            "area_harm": self.area_harm,
            "observed": self.observed,
            "expected": self.expected,
            "excess": self.excess,
            "excess_low": self.excess_low,
            "excess_high": self.excess_high,
            "share": self.share,
            "share_low": self.share_low,
            "share_high": self.share_high,
            "placebos": self.placebos,
            "source": self.source,
            "offset": self.offset,
            "area": [list(c) for c in self.area],
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
    study_cells : int
        Cells of the study area.
    types : tuple of str
        Event types whose excess is counted (the denominator counts every harm type).
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
    study_cells: int
    types: tuple[str, ...]
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
            "types": list(self.types),
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
                    area_harm=m.area_harm,
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


def market_types(scheme: Scheme, attribution: Attribution | None = None) -> tuple[str, ...]:
    """Harm-kind event types of the scheme that a market can cause: those whose
    ``distribution`` fraction has a high end above 0 in the attribution (default: the
    packaged fractions). Acquisitive crime (use only) is left out: users' theft near a market
    is harm from *use*, which the national fractions already count."""
    attr = attribution if attribution is not None else default_attribution()
    out = []
    for w in scheme.weights:
        if w.kind != "harm" or w.event_type not in attr.types:
            continue
        f = attr.for_type(w.event_type).get("distribution")
        if f is not None and f.high > 0:
            out.append(w.event_type)
    return tuple(out)


def merge_sites(sites: Sequence[Site], found: Sequence[Market], gap: float) -> list[Site]:
    """Known sites first, then detected markets, each kept unless its centroid lies within
    ``gap`` metres of one already kept (the same market seen twice: a confirmed market is
    usually also a hot spot of drug offences and finds)."""
    kept: list[Site] = []

    def far(x: float, y: float) -> bool:
        return all(math.hypot(x - k.centroid_x, y - k.centroid_y) >= gap for k in kept)

    for site in sites:
        if far(site.centroid_x, site.centroid_y):
            kept.append(site)
    for m in found:
        if far(m.centroid_x, m.centroid_y):
            kept.append(
                Site(
                    id=m.id,
                    centroid_x=m.centroid_x,
                    centroid_y=m.centroid_y,
                    source="detected",
                    name=m.name,
                    status=m.status,
                    area_cells=tuple(m.area_cells),
                )
            )
    return kept


def _cell_frame(
    events: Any,
    *,
    scheme: Scheme,
    months: Months | None,
    cell_size: float,
    types: Sequence[str],
) -> pd.DataFrame:
    # Every crime's harm: the local excess *is* the attribution to the market, so it is
    # measured on harm not yet multiplied by the national fractions (apply_local then
    # replaces the national distribution fraction inside the market cells).
    act = market_activity(events, scheme=scheme, months=months, harm="all")
    t = with_cells(act, cell_size=cell_size)
    is_harm = t.kind == "harm"
    agg = t.group_by(["cell_x", "cell_y"]).aggregate(
        harm=repeatable_sum(t.weight, where=is_harm).coalesce(0.0),
        counted=repeatable_sum(t.weight, where=is_harm & t.event_key.isin(list(types))).coalesce(
            0.0
        ),
        # Crimes of the other (reference) types: the place signal of the 'place' background.
        reference_count=t.count(where=is_harm & ~t.event_key.isin(list(types))),
        records=t.count(),
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
    reach: float = DEFAULTS["reach"],
    min_share: float = DEFAULTS["min_share"],
    types: Sequence[str] | None = None,
    attribution: Attribution | None = None,
    replicates: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    intelligence: pd.DataFrame | None = None,
    sites: Sequence[Site] = (),
    gap: float = DEFAULTS["gap"],
    beta: float = DEFAULTS["beta"],
    widen: float | None = None,
    background: str = BACKGROUND,
) -> LocalAttribution:
    """Attribute the local excess of harm around each market to it, with an interval.

    Parameters
    ----------
    source : warehouse path, Ibis backend or events table
    found : sequence of Market, optional
        The markets; default :func:`harmscope.markets.markets` on ``source`` with the same
        scheme, months, cell size and ``intelligence`` (on a warehouse path the curation log
        applies: confirmed markets kept, rejected ones left out).
    scheme : Scheme, str or path-like, default 'cchi'
    months : (from, to), optional
        Inclusive ``'YYYY-MM'`` bounds.
    cell_size : float, default 250
        Cell side, metres.
    radius : float or None, default 500
        Market cells: study cells whose centre lies within this many metres of the market's
        centroid (None: the market's own footprint plus buffer, biased; see the module).
    reach : float, default 1250
        Placebo areas are laid on origins within this many metres of the market.
    min_share : float, default 0.5
        Share of a placebo area's cells that must be known background (study cells no
        market holds).
    types : sequence of str, optional
        Event types whose excess is counted; default :func:`market_types` (those with a
        distribution fraction).
    attribution : Attribution, optional
        Fractions that choose the default ``types``.
    replicates : int, default 2000
        Bootstrap replicates.
    seed : int, default 0
        Bootstrap seed (results are reproducible).
    level : float, default 0.95
        Interval level.
    intelligence : DataFrame, optional
        Intelligence reports (``month``, ``x``, ``y``, optional ``weight``) passed to market
        detection when ``found`` is not given.
    sites : sequence of Site, optional
        Markets known by place (confirmed markets, markets named in intelligence reports),
        added before the detected ones; a detected market within ``gap`` of a site is the
        same market and is dropped (:func:`merge_sites`).
    gap : float, default 500
        Metres between centroids under which two markets are one.
    beta : float, default 0.4
        Exponent of the place offset: the expected background is the placebo mean times
        (the market cells' harm of the other types / the placebo mean of it) ** beta; 0 is
        the placebo mean, 1 the ratio estimator (see the module and
        :func:`harmscope.markets.excess.attribute_cells`).
    widen : float, optional
        Factor on the bootstrap deviations (interval width about the central excess);
        default :data:`WIDEN` of the background (1.5 for ``'local'``, 1.4 for ``'place'``, 1.25
        for ``'distance'``, 1 for ``'placebo'``), each fixed on the tuning seeds. Replicates are
        centred on the estimate (:func:`harmscope.markets.excess.centred`), so every
        interval holds its own estimate.
    background : {'local', 'place', 'distance', 'placebo'}, default :data:`BACKGROUND`
        How ``expected`` is obtained, summed over the market's cells: ``'local'`` (default),
        the ``'place'`` model times the median observed/predicted ratio of the market's
        placebo areas (the model's error near the market); ``'place'``, a
        log-linear model of the distance to the city's harm centre and of the cell's
        crimes of the other types against its 8 neighbours'
        (:func:`harmscope.markets.excess.place_background`); ``'distance'``, the distance
        alone (:func:`~harmscope.markets.excess.distance_background`); both fitted on every
        cell no market holds, ``beta`` unused. ``'placebo'``: the placebo mean times the
        place offset.

    Returns
    -------
    LocalAttribution

    Raises
    ------
    WarehouseError
        No located event in the period (from detection).
    ValueError
        Bad settings, or too few placebo areas.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")
    if not (math.isfinite(reach) and reach > 0):
        raise ValueError(f"reach must be a finite number of metres > 0, got {reach!r}")
    if radius is not None and not (math.isfinite(radius) and radius > 0):
        raise ValueError(f"radius must be > 0 metres or None, got {radius!r}")
    if not 0 < min_share <= 1:
        raise ValueError(f"min_share must lie in (0, 1], got {min_share!r}")
    if not (math.isfinite(gap) and gap >= 0):
        raise ValueError(f"gap must be a finite number of metres >= 0, got {gap!r}")
    if background not in WIDEN:
        raise ValueError(
            f"background must be one of {', '.join(map(repr, WIDEN))}, got {background!r}"
        )
    if widen is None:
        widen = WIDEN[background]
    sch = load_scheme(scheme)
    counted_types = tuple(types) if types is not None else market_types(sch, attribution)
    if found is None:
        # On a warehouse path, markets() also replays the analysts' curation log.
        found = find_markets(
            source, scheme=sch, months=months, cell_size=cell_size, intelligence=intelligence
        )
    with Warehouse.of(source) as wh:
        events = wh.events()
        area = dataset_area(events, cell_size=cell_size)
        frame = _cell_frame(
            events, scheme=sch, months=months, cell_size=cell_size, types=counted_types
        )
    study = pd.DataFrame({"cell_x": area.cell_x, "cell_y": area.cell_y})
    frame["cell_x"] = frame["cell_x"].astype(np.float64)
    frame["cell_y"] = frame["cell_y"].astype(np.float64)
    study = study.merge(frame, on=["cell_x", "cell_y"], how="left").fillna(0.0)
    ix, iy = frame_cells(study, cell_size)
    counted = study["counted"].to_numpy(dtype=np.float64)
    places = merge_sites(sites, found, gap)
    member = market_cells(ix, iy, places, cell_size, radius)
    all_harm = study["harm"].to_numpy(dtype=np.float64)
    total = float(all_harm.sum())
    held = member >= 0
    area_harm = np.bincount(member[held], weights=all_harm[held], minlength=len(places))
    n = len(places)
    observed, expect, boot, placebos, offsets = attribute_cells(
        AttributionCells(
            harm=counted,
            ix=ix,
            iy=iy,
            market=member,
            reference=all_harm - counted,
            reference_count=study["reference_count"].to_numpy(dtype=np.float64),
        ),
        n,
        reach_cells=reach / cell_size,
        min_share=min_share,
        replicates=replicates,
        seed=seed,
        beta=beta,
        widen=widen,
        background=background,
    )
    denom = total if total > 0 else math.nan
    rows = []
    held_by = label_groups(member, n)  # each market's cells, one sort for all of them
    cell_x, cell_y = study["cell_x"].to_numpy(), study["cell_y"].to_numpy()
    for k, m in enumerate(places):
        lo, hi = percentile_interval(boot[k], level)
        ex = float(observed[k] - expect[k])
        rows.append(
            MarketExcess(
                market_id=m.id,
                name=m.name,
                status=m.status,
                cells=len(held_by[k]),
                area_harm=float(area_harm[k]),
                observed=float(observed[k]),
                expected=float(expect[k]),
                excess=ex,
                excess_low=lo,
                excess_high=hi,
                share=ex / denom,
                share_low=lo / denom,
                share_high=hi / denom,
                placebos=int(placebos[k]),
                source=m.source,
                offset=float(offsets[k]),
                area=tuple(
                    (float(a), float(b))
                    for a, b in zip(cell_x[held_by[k]], cell_y[held_by[k]], strict=True)
                ),
            )
        )
    excess = float(observed.sum() - expect.sum())
    # The sum of medians is not the median of the sum: centre the sums again so the area's
    # interval holds its own point estimate (markets.excess.centred).
    sums = centred(excess, boot.sum(axis=0)) if n else np.zeros(replicates)
    lo, hi = percentile_interval(sums, level)
    area_text = (
        f"cells within {radius:g} m of each market's centroid"
        if radius is not None
        else "each market's footprint plus buffer"
    )
    offset = f" times (their harm of the other types / the placebos') ** {beta:g}" if beta else ""
    if background in ("distance", "place", "local"):
        place = (
            " and of each cell's crimes of the other types against its 8 neighbours'"
            if background in ("place", "local")
            else ""
        )
        method = (
            f"excess = harm of the market-linked types in {area_text} minus its expected "
            f"value from a log-linear model of the distance to the area's harm centre{place}, "
            "fitted on every cell no market holds"
            + (
                ", times the median observed/predicted ratio of the areas of the market's "
                f"shape within {reach:g} m; "
                if background == "local"
                else "; "
            )
            + f"{level:.0%} interval from {replicates} draws of the model's observed/predicted "
            f"ratio on one area of the same shape within {reach:g} m per market"
        )
    else:
        method = (
            f"excess = harm of the market-linked types in {area_text} minus the mean harm of "
            f"the same shape laid on places within {reach:g} m (cells no market holds){offset}; "
            f"{level:.0%} interval from {replicates} draws of one such placebo area per market"
        )
    method += f", deviations widened x{widen:g}" if widen != 1 else ""
    return LocalAttribution(
        markets=tuple(rows),
        total_harm=total,
        excess=excess,
        excess_low=lo,
        excess_high=hi,
        share=excess / denom,
        share_low=lo / denom,
        share_high=hi / denom,
        study_cells=len(study),
        types=counted_types,
        method=method,
        unit=sch.unit,
        scheme=sch.name,
        level=level,
        replicates=replicates,
        replicate_excess=sums,
    )
