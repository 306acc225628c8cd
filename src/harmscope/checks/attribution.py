"""How well the local market attribution recovers the true drug-market share of harm.

:func:`validate_attribution` simulates ``seeds`` small cities itself (:mod:`harmscope.simulate`),
ingests each one's police.uk files into a temporary warehouse, and gathers every kind of
market activity the issue names:

- **confirmed markets**: ``intel/markets.csv`` (police know every open market, most
  semi-open ones and half the closed ones), each a :class:`~harmscope.markets.excess.Site`
  at its cell's centre (:func:`confirmed_sites`);
- **intelligence reports** (``intel/reports.csv``, graded 3x5x2): a market named by at least
  :data:`MIN_REPORTS` reports whose intelligence assessment is 1-3 (College of Policing
  2016: known directly to the source, known indirectly but corroborated, known not
  personally but corroborated; 4 cannot be judged, 5 suspected false) and not among the confirmed ones is a site at the cell
  of its reports' LSOA with the most drug activity (:func:`report_sites`; reports carry an
  LSOA, not a point);
- **drug offences and drug finds in searches**: :func:`harmscope.markets.markets` detection
  (Gi*), with each confirmed market's cell as one intelligence report a month;

then runs :func:`harmscope.markets.attribution.local_attribution` on the sites and the
detected markets (a detected market within 500 m of a site is the same market) and compares
the attributed share of the area's harm with the truth.

Truth
-----
``truth/behaviour_month.csv`` says which behaviour caused each crime. The markets cause
``open dealing nuisance``, ``market violence``, ``firearms violence`` and ``turf violence``
(:data:`MARKET_BEHAVIOURS`); ``truth/market_month.csv`` holds the same events per market plus
the acquisitive crime of each market's users, which is harm from *use* (UKDPC source axis),
not from distribution, and is left out. True share = recorded harm (CCHI days) of the market
behaviours / recorded harm of every behaviour, over all months: what police.uk shows, the
harm the method sees.

Scores over seeds
-----------------
``bias`` = mean over seeds of ``(attributed share - true share) / true share`` (mean relative
error); ``coverage`` = share of seeds whose interval holds the true share. Targets (issue 11):
``|bias| < 0.10`` and ``0.90 <= coverage <= 0.98`` over at least 20 seeds.

The reported seeds are ``first_seed .. first_seed + seeds - 1`` (default 1..N). The method's
settings (:data:`harmscope.markets.attribution.DEFAULTS`) were chosen on
:data:`TUNING_SEEDS`, which the command refuses to report.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from harmscope.markets.activity import market_activity
from harmscope.markets.attribution import (
    BACKGROUND,
    DEFAULTS,
    LocalAttribution,
    Site,
    local_attribution,
)
from harmscope.periods import Progress
from harmscope.places.grid import DEFAULT_CELL_SIZE, with_cells
from harmscope.simulate import SimResult, simulate
from harmscope.warehouse.handle import Warehouse
from harmscope.warehouse.ingest import ingest_paths

__all__ = [
    "MARKET_BEHAVIOURS",
    "MIN_REPORTS",
    "TARGETS",
    "TUNING_SEEDS",
    "AttributionValidation",
    "SeedResult",
    "SimulatedCity",
    "confirmed_sites",
    "known_market_intelligence",
    "report_sites",
    "simulated_city",
    "true_market_share",
    "validate_attribution",
]

#: Behaviours of ``truth/behaviour_month.csv`` that a market causes (distribution harm).
MARKET_BEHAVIOURS: tuple[str, ...] = (
    "open dealing nuisance",
    "market violence",
    "firearms violence",
    "turf violence",
)

#: Fewest graded (assessment 1-3) intelligence reports that make a market named in them a site.
MIN_REPORTS = 3

#: Intelligence assessments (3x5x2) counted in :func:`report_sites`.
REPORT_GRADES: tuple[str, ...] = ("1", "2", "3")

#: Every intelligence assessment code of the 3x5x2 system (College of Policing 2016).
ASSESSMENT_CODES: tuple[str, ...] = ("1", "2", "3", "4", "5")

#: Seeds the method's settings were tuned on; never reported.
TUNING_SEEDS: tuple[int, ...] = tuple(range(101, 181))

#: Issue 11 targets: ``|bias|`` below, coverage within.
TARGETS: dict[str, Any] = {"abs_bias_below": 0.10, "coverage": (0.90, 0.98), "min_seeds": 20}


@dataclass(frozen=True)
class SeedResult:
    """One simulated city: the true and the attributed drug-market share of its harm."""

    seed: int
    markets_true: int
    markets_found: int
    true_share: float
    share: float
    share_low: float
    share_high: float
    relative_error: float
    covered: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class AttributionValidation:
    """Bias and interval coverage of the local attribution over simulated cities.

    Attributes
    ----------
    bias : float
        Mean relative error of the attributed share.
    coverage : float
        Share of seeds whose interval holds the true share.
    seeds : list of int
        Seeds reported.
    runs : list of SeedResult
    months, size : int, str
        Simulation settings.
    level : float
        Interval level.
    targets_met : bool
        Whether ``|bias|`` and ``coverage`` meet :data:`TARGETS` (with enough seeds).
    """

    bias: float
    coverage: float
    seeds: list[int]
    runs: list[SeedResult] = field(default_factory=list)
    months: int = 36
    size: str = "small"
    level: float = 0.95
    targets_met: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The DESIGN §5 JSON: ``{bias, coverage, seeds, ...}``."""
        rel = [r.relative_error for r in self.runs]
        return {
            "bias": self.bias,
            "coverage": self.coverage,
            "seeds": self.seeds,
            "n_seeds": len(self.seeds),
            "relative_error_sd": float(np.std(rel, ddof=1)) if len(rel) > 1 else None,
            "mean_true_share": float(np.mean([r.true_share for r in self.runs])),
            "mean_share": float(np.mean([r.share for r in self.runs])),
            "level": self.level,
            "months": self.months,
            "size": self.size,
            "truth": "recorded harm of " + ", ".join(MARKET_BEHAVIOURS) + " / all recorded harm",
            "tuning_seeds": list(TUNING_SEEDS),
            "targets": {
                "abs_bias_below": TARGETS["abs_bias_below"],
                "coverage": list(TARGETS["coverage"]),
                "min_seeds": TARGETS["min_seeds"],
            },
            "targets_met": self.targets_met,
            "runs": [r.to_dict() for r in self.runs],
        }


def true_market_share(behaviour_month: pd.DataFrame) -> float:
    """Recorded harm of :data:`MARKET_BEHAVIOURS` over all recorded harm (any months)."""
    harm = behaviour_month["recorded_harm"].astype(float)
    total = float(harm.sum())
    mine = float(harm[behaviour_month["behaviour"].isin(MARKET_BEHAVIOURS)].sum())
    return mine / total if total > 0 else math.nan


def known_market_intelligence(intel_markets: pd.DataFrame, months: Sequence[str]) -> pd.DataFrame:
    """Known markets (``intel/markets.csv``) as intelligence reports: one a month at each cell's
    centre (``month``, ``x``, ``y``), the form :func:`harmscope.markets.markets` takes."""
    rows = [
        (m, float(r.cell_x) + 125.0, float(r.cell_y) + 125.0)
        for r in intel_markets.itertuples()
        for m in months
    ]
    return pd.DataFrame(rows, columns=["month", "x", "y"])


def confirmed_sites(
    intel_markets: pd.DataFrame, cell_size: float = DEFAULT_CELL_SIZE
) -> list[Site]:
    """Known markets (``intel/markets.csv``: ``market_id``, ``cell_x``, ``cell_y``) as sites at
    their cells' centres."""
    half = cell_size / 2.0
    return [
        Site(
            id=str(r.market_id),
            centroid_x=float(r.cell_x) + half,
            centroid_y=float(r.cell_y) + half,
            source="confirmed",
        )
        for r in intel_markets.itertuples()
    ]


def report_sites(
    reports: pd.DataFrame,
    db: str | Path,
    *,
    known: Sequence[str] = (),
    min_reports: int = MIN_REPORTS,
    grades: Sequence[str] = REPORT_GRADES,
    cell_size: float = DEFAULT_CELL_SIZE,
) -> list[Site]:
    """Markets named in graded intelligence reports and not already ``known``, as sites.

    A report names its subject's market (``market_id``) and the LSOA it concerns, not a point;
    the site is the cell of that LSOA (the LSOA most of the cell's located records fall in)
    with the most market activity (drug offences and searches that found drugs), or the
    LSOA's busiest cell when none has any. Reports assessed 4 or 5 (cannot be judged, or
    suspected false) are left out.

    Raises
    ------
    ValueError
        A column is missing, or an intelligence assessment is not one of the 3x5x2 codes
        1-5 (an old A-E file would otherwise match no grade and lose every site silently).
    """
    cols = {"market_id", "lsoa_code", "intelligence_assessment"}
    missing = cols - set(reports.columns)
    if missing:
        raise ValueError(f"intel/reports.csv: missing columns {sorted(missing)}")
    codes = set(reports["intelligence_assessment"].dropna().astype(str))
    unknown = sorted(codes - set(ASSESSMENT_CODES))
    if unknown:
        raise ValueError(
            f"intel/reports.csv: column intelligence_assessment: {unknown} are not 3x5x2 "
            f"assessment codes (expected one of {', '.join(ASSESSMENT_CODES)})"
        )
    named = reports[
        reports["market_id"].notna()
        & (reports["market_id"].astype(str) != "")
        & reports["intelligence_assessment"].isin(list(grades))
        & ~reports["market_id"].isin(list(known))
    ]
    counts = named.groupby("market_id").size()
    wanted = counts[counts >= min_reports].index
    if len(wanted) == 0:
        return []
    with Warehouse.of(db) as wh:
        events = wh.events()
        act = with_cells(market_activity(events), cell_size=cell_size)
        per_cell = (
            act.group_by(["cell_x", "cell_y"])
            .aggregate(activity=act.market.sum(), records=act.count())
            .to_pandas()
        )
        located = with_cells(
            events.filter(events.x.notnull() & events.y.notnull()), cell_size=cell_size
        )
        lsoa = (
            located.group_by(["cell_x", "cell_y", "lsoa_code"])
            .aggregate(n=located.count())
            .to_pandas()
        )
    lsoa = lsoa.sort_values(["n", "lsoa_code"]).drop_duplicates(["cell_x", "cell_y"], keep="last")
    cells = lsoa.merge(per_cell, on=["cell_x", "cell_y"], how="left").fillna(
        {"activity": 0.0, "records": 0}
    )
    out = []
    half = cell_size / 2.0
    for mid in wanted:
        where = named.loc[named["market_id"] == mid, "lsoa_code"].mode()
        here = cells[cells["lsoa_code"].isin(list(where))]
        if here.empty:
            continue
        best = here.sort_values(["activity", "records"], ascending=False).iloc[0]
        out.append(
            Site(
                id=str(mid),
                centroid_x=float(best["cell_x"]) + half,
                centroid_y=float(best["cell_y"]) + half,
                source="reports",
                status="candidate",
            )
        )
    return out


Size = Literal["small", "city", "region"]


@dataclass(frozen=True)
class SimulatedCity:
    """One simulated city ready for the local attribution.

    Attributes
    ----------
    seed : int
    result : SimResult
        The simulation (truth included).
    db : Path
        Warehouse its police.uk files were ingested into.
    intelligence : DataFrame
        Confirmed markets as monthly intelligence reports (for detection).
    sites : list of Site
        Confirmed markets, then markets named in graded reports.
    """

    seed: int
    result: SimResult
    db: Path
    intelligence: pd.DataFrame
    sites: list[Site]


def simulated_city(seed: int, *, months: int, size: Size, work: Path) -> SimulatedCity:
    """Simulate a city, ingest its police.uk files under ``work`` and gather its market sites
    (:func:`confirmed_sites`, :func:`report_sites`) and intelligence."""
    res = simulate(seed=seed, months=months, size=size)
    out = work / f"seed-{seed}"
    res.write(out)
    db = out / "warehouse.duckdb"
    ingest_paths(sorted(p for p in out.glob("20*") if p.is_dir()), db=db)
    labels = sorted(res.truth["behaviour_month"]["month"].unique())
    intel = known_market_intelligence(res.intel["markets"], labels)
    confirmed = confirmed_sites(res.intel["markets"])
    reported = report_sites(res.intel["reports"], db, known=[c.id for c in confirmed])
    return SimulatedCity(seed, res, db, intel, [*confirmed, *reported])


def _one(
    seed: int,
    *,
    months: int,
    size: Size,
    replicates: int,
    work: Path,
    beta: float,
    background: str = BACKGROUND,
) -> SeedResult:
    city = simulated_city(seed, months=months, size=size, work=work)
    found: LocalAttribution = local_attribution(
        city.db,
        intelligence=city.intelligence,
        sites=city.sites,
        replicates=replicates,
        seed=seed,
        beta=beta,
        background=background,
    )
    truth = true_market_share(city.result.truth["behaviour_month"])
    return SeedResult(
        seed=seed,
        markets_true=len(city.result.truth["markets"]),
        markets_found=len(found.markets),
        true_share=truth,
        share=found.share,
        share_low=found.share_low,
        share_high=found.share_high,
        relative_error=found.share / truth - 1.0,
        covered=bool(found.share_low <= truth <= found.share_high),
    )


def validate_attribution(
    seeds: int = 20,
    *,
    first_seed: int = 1,
    months: int = 36,
    size: Size = "small",
    replicates: int = 1000,
    progress: Progress | None = None,
    allow_tuning: bool = False,
    beta: float = DEFAULTS["beta"],
    background: str = BACKGROUND,
) -> AttributionValidation:
    """Attributed against true drug-market share of harm over simulated cities.

    Parameters
    ----------
    seeds : int, default 20
        Number of cities (seeds ``first_seed`` .. ``first_seed + seeds - 1``).
    first_seed : int, default 1
    months : int, default 36
        Months simulated per city.
    size : {'small', 'city', 'region'}, default 'small'
    replicates : int, default 1000
        Bootstrap replicates of each interval.
    progress : callable, optional
        ``progress('seeds', done, total)``.
    allow_tuning : bool, default False
        Score tuning seeds too (to show how the settings were chosen, never as the result;
        the command never sets it).
    beta : float, default 0.4
        Exponent of the place offset (:func:`~harmscope.markets.attribution.local_attribution`);
        other values show what the default is compared with.
    background : {'local', 'place', 'distance', 'placebo'}, default :data:`~harmscope.markets.attribution.BACKGROUND`
        Background model of the local attribution.

    Returns
    -------
    AttributionValidation

    Raises
    ------
    ValueError
        Fewer than one seed, or a seed range that overlaps the tuning seeds.
    """
    if seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {seeds}")
    chosen = list(range(first_seed, first_seed + seeds))
    tuned = sorted(set(chosen) & set(TUNING_SEEDS))
    if tuned and not allow_tuning:
        raise ValueError(
            f"seeds {tuned[0]}..{tuned[-1]} were used to tune the method "
            f"({TUNING_SEEDS[0]}-{TUNING_SEEDS[-1]}); report other seeds"
        )
    runs: list[SeedResult] = []
    with tempfile.TemporaryDirectory(prefix="harmscope-attribution-") as tmp:
        for i, seed in enumerate(chosen):
            if progress:
                progress("seeds", i, len(chosen))
            runs.append(
                _one(
                    seed,
                    months=months,
                    size=size,
                    replicates=replicates,
                    work=Path(tmp),
                    beta=beta,
                    background=background,
                )
            )
    if progress:
        progress("seeds", len(chosen), len(chosen))
    bias = float(np.mean([r.relative_error for r in runs]))
    coverage = float(np.mean([r.covered for r in runs]))
    lo, hi = TARGETS["coverage"]
    met = (
        abs(bias) < TARGETS["abs_bias_below"]
        and lo <= coverage <= hi
        and len(runs) >= TARGETS["min_seeds"]
    )
    return AttributionValidation(
        bias=bias,
        coverage=coverage,
        seeds=chosen,
        runs=runs,
        months=months,
        size=size,
        targets_met=met,
    )
