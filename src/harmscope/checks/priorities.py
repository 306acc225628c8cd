"""How well each lens finds the truly most harmful units: precision@k on simulated cities.

The simulator (:mod:`harmscope.simulate`) writes police.uk files *and* the ground truth
behind them (``DIR/truth/``). :func:`validate_priorities` ingests the police.uk files of a
simulator folder into a DuckDB warehouse, runs each lens, and compares its top ``k`` with the
top ``k`` of the true harm ranking — beside the same lens run with the ``count`` scheme, the
"busyness" ranking an analyst counting recorded events would produce (DESIGN §3).

Precision@k
-----------
With :math:`T_k` the ``k`` units of largest true harm and :math:`P_k` the lens's first ``k``
rows, precision@k :math:`= |P_k \\cap T_k| / k`. When the truth has fewer than ``k`` units with
any harm, ``k`` becomes that number (``k_effective``); a lens that ranks fewer units than that
simply has fewer hits (missing rows count as misses).

Ground truth and matching, per lens
-----------------------------------
``places``
    True harm of a cell: the sum of ``true_harm`` (CCHI days, every crime that happened plus
    hidden harm) over all months in ``truth/places.csv``, whose cells are named by their
    lower-left BNG corner on the 250 m grid — the same corners :func:`rank_places` reports
    (the simulator puts every published point at least 25 m inside its cell, so ingest lands
    it back in the same cell). For a coarser ``cell_size`` (a multiple of 250 m) truth cells
    are summed into the coarse cell holding them. Units match by cell.
``markets``
    True harm of a market: the sum of ``true_harm`` over all months in
    ``truth/market_month.csv`` (crimes attributed to the market — its violence, nuisance,
    users' acquisitive crime — plus its hidden harm). A true market is at the cell given in
    ``truth/markets.csv``. Detected markets are footprints of cells, not ids, so a detected
    market *locates* a true market when that cell lies in its area: footprint plus the lens's
    buffer (``market_match='area'``, default: the market as the lens measures it, i.e. within
    one cell at 250 m) or the footprint alone (``'footprint'``). :math:`|P_k \\cap T_k|` is the
    size of a maximum one-to-one matching between the two lists (each detected market counts
    for at most one true market and vice versa), so one footprint spanning two true markets
    earns one hit, and a footprint covering the whole city cannot collect them all.
``people``, ``groups``, ``behaviours``
    Not implemented by :mod:`harmscope.priorities` (see
    :data:`~harmscope.priorities.lenses.PLANNED_LENSES`); reported unavailable with the reason,
    never as zeros. So is any other registered lens this module has no truth for.
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
from scipy.optimize import linear_sum_assignment

from harmscope.errors import HarmScopeError
from harmscope.harm import load_scheme
from harmscope.markets import Market, markets
from harmscope.periods import Progress, progress_stage
from harmscope.places.study_area import dataset_area
from harmscope.priorities.lenses import LENSES, PLANNED_LENSES
from harmscope.priorities.markets import ranked_markets
from harmscope.priorities.places import place_id, rank_places
from harmscope.warehouse.ingest import ingest_paths

__all__ = [
    "TRUTH_CELL_SIZE",
    "LensValidation",
    "SimulationFolderError",
    "market_hits",
    "precision_at_k",
    "true_market_ranking",
    "true_place_ranking",
    "validate_priorities",
]

MarketMatch = Literal["area", "footprint"]

#: Side of the simulator's truth grid, metres.
TRUTH_CELL_SIZE = 250.0

_TRUTH_FILES = ("truth/places.csv", "truth/markets.csv", "truth/market_month.csv")


class SimulationFolderError(HarmScopeError, FileNotFoundError):
    """The folder is not a simulator output (no police.uk files or no ``truth/`` tables)."""


@dataclass(frozen=True)
class LensValidation:
    """Precision@k of one lens against the simulator's ground truth.

    Attributes
    ----------
    lens : str
    available : bool
        False when the lens is not implemented or has no truth to compare with.
    k : int
        Requested ``k``.
    k_effective : int
        ``min(k, n_true)``: the denominator of both precisions.
    n_true : int
        Units with true harm above 0.
    precision_at_k, baseline_precision_at_k : float or None
        Harm lens (``scheme``) and busyness baseline (``baseline_scheme``); None when
        unavailable.
    hits, baseline_hits : int or None
        :math:`|P_k \\cap T_k|` of each.
    n_ranked, baseline_n_ranked : int or None
        Units each ranking holds (it may hold fewer than ``k``).
    true_top, predicted, baseline_predicted : tuple of str
        Unit ids of :math:`T_k` and of each :math:`P_k`, rank order.
    matched, baseline_matched : tuple of (str, str)
        ``(predicted id, true id)`` pairs counted as hits.
    scheme, baseline_scheme : str
    matching : str
        The matching rule, in words.
    reason : str or None
        Why the lens is unavailable.
    """

    lens: str
    available: bool
    k: int
    k_effective: int = 0
    n_true: int = 0
    precision_at_k: float | None = None
    baseline_precision_at_k: float | None = None
    hits: int | None = None
    baseline_hits: int | None = None
    n_ranked: int | None = None
    baseline_n_ranked: int | None = None
    true_top: tuple[str, ...] = ()
    predicted: tuple[str, ...] = ()
    baseline_predicted: tuple[str, ...] = ()
    matched: tuple[tuple[str, str], ...] = ()
    baseline_matched: tuple[tuple[str, str], ...] = ()
    scheme: str = ""
    baseline_scheme: str = ""
    matching: str = ""
    reason: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; ``precision_at_k`` and ``baseline_precision_at_k`` first."""
        return {
            "precision_at_k": self.precision_at_k,
            "baseline_precision_at_k": self.baseline_precision_at_k,
            "available": self.available,
            "reason": self.reason,
            "k": self.k,
            "k_effective": self.k_effective,
            "n_true": self.n_true,
            "hits": self.hits,
            "baseline_hits": self.baseline_hits,
            "n_ranked": self.n_ranked,
            "baseline_n_ranked": self.baseline_n_ranked,
            "scheme": self.scheme,
            "baseline_scheme": self.baseline_scheme,
            "matching": self.matching,
            "options": dict(self.options),
            "true_top": list(self.true_top),
            "predicted": list(self.predicted),
            "baseline_predicted": list(self.baseline_predicted),
            "matched": [list(p) for p in self.matched],
            "baseline_matched": [list(p) for p in self.baseline_matched],
        }


# --------------------------------------------------------------------------- truth


def _check_cell_size(cell_size: float) -> float:
    ratio = float(cell_size) / TRUTH_CELL_SIZE
    if not math.isfinite(ratio) or ratio < 1 or abs(ratio - round(ratio)) > 1e-9:
        raise ValueError(
            f"cell_size must be a positive multiple of the simulator's {TRUTH_CELL_SIZE:g} m "
            f"truth grid, got {cell_size!r}"
        )
    return float(cell_size)


def _coarse(values: pd.Series, cell_size: float) -> pd.Series:
    return np.floor(values.astype(np.float64) / cell_size) * cell_size


def true_place_ranking(places: pd.DataFrame, *, cell_size: float = TRUTH_CELL_SIZE) -> pd.DataFrame:
    """Cells ranked by true harm over the period.

    Parameters
    ----------
    places : DataFrame
        ``truth/places.csv``: ``month``, ``cell_x``, ``cell_y``, ``true_harm`` ...
    cell_size : float, default 250
        A multiple of 250 m; truth cells are summed into the cell of this size holding them.

    Returns
    -------
    DataFrame
        ``unit_id`` (:func:`~harmscope.priorities.places.place_id`), ``cell_x``, ``cell_y``,
        ``true_harm``; cells with true harm above 0, largest first (ties south to north, west
        to east, as :func:`rank_places`).
    """
    size = _check_cell_size(cell_size)
    frame = pd.DataFrame(
        {
            "cell_x": _coarse(places["cell_x"], size),
            "cell_y": _coarse(places["cell_y"], size),
            "true_harm": places["true_harm"].astype(np.float64),
        }
    )
    out = frame.groupby(["cell_x", "cell_y"], as_index=False)["true_harm"].sum()
    out = out[out["true_harm"] > 0].sort_values(
        ["true_harm", "cell_y", "cell_x"], ascending=[False, True, True], kind="stable"
    )
    out.insert(
        0,
        "unit_id",
        [place_id(x, y, size) for x, y in zip(out["cell_x"], out["cell_y"], strict=True)],
    )
    return out.reset_index(drop=True)


def true_market_ranking(
    markets_truth: pd.DataFrame, market_month: pd.DataFrame, *, cell_size: float = TRUTH_CELL_SIZE
) -> pd.DataFrame:
    """True markets ranked by true harm over the period.

    Parameters
    ----------
    markets_truth : DataFrame
        ``truth/markets.csv`` (``market_id``, ``cell_x``, ``cell_y`` ...).
    market_month : DataFrame
        ``truth/market_month.csv`` (``month``, ``market_id``, ``true_harm`` ...).
    cell_size : float, default 250
        Grid of the detected footprints; ``cell_x``/``cell_y`` are given on it.

    Returns
    -------
    DataFrame
        ``market_id``, ``cell_x``, ``cell_y``, ``true_harm``; markets with true harm above 0,
        largest first (ties by id).
    """
    size = _check_cell_size(cell_size)
    harm = market_month.groupby("market_id")["true_harm"].sum()
    out = pd.DataFrame(
        {
            "market_id": markets_truth["market_id"].astype(str),
            "cell_x": _coarse(markets_truth["cell_x"], size),
            "cell_y": _coarse(markets_truth["cell_y"], size),
        }
    )
    out["true_harm"] = out["market_id"].map(harm).fillna(0.0).astype(np.float64)
    out = out[out["true_harm"] > 0].sort_values(
        ["true_harm", "market_id"], ascending=[False, True], kind="stable"
    )
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- scoring


def precision_at_k(predicted: Sequence[str], truth: Sequence[str], k: int) -> float:
    """``|predicted[:k] ∩ truth[:k]| / k``.

    Examples
    --------
    >>> precision_at_k(["a", "b", "c"], ["c", "a", "d"], 2)
    0.5
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    return len(set(predicted[:k]) & set(truth[:k])) / k


def market_hits(
    predicted: Sequence[tuple[str, Sequence[tuple[float, float]]]],
    truth: Sequence[tuple[str, tuple[float, float]]],
) -> list[tuple[str, str]]:
    """Maximum one-to-one matching of detected market areas to true market cells.

    Parameters
    ----------
    predicted : sequence of (id, cells)
        Detected markets and the cells (lower-left corners) of their area.
    truth : sequence of (id, (cell_x, cell_y))
        True markets and the cell they sit in, on the same grid.

    Returns
    -------
    list of (predicted id, true id)
        A largest set of pairs in which the true cell lies in the detected area, each market
        of either list used at most once.

    Examples
    --------
    >>> market_hits([("a", [(0, 0), (250, 0)]), ("b", [(500, 0)])],
    ...             [("M1", (0, 0)), ("M2", (250, 0)), ("M3", (750, 0))])
    [('a', 'M1')]
    """
    if not predicted or not truth:
        return []
    areas = [{(float(x), float(y)) for x, y in cells} for _, cells in predicted]
    hit = np.array(
        [[(float(c[0]), float(c[1])) in area for _, c in truth] for area in areas], dtype=float
    )
    rows, cols = linear_sum_assignment(hit, maximize=True)
    return [
        (predicted[r][0], truth[c][0])
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True)
        if hit[r, c] > 0
    ]


# --------------------------------------------------------------------------- validation


def _read_truth(folder: Path) -> dict[str, pd.DataFrame]:
    missing = [name for name in _TRUTH_FILES if not (folder / name).is_file()]
    if missing:
        raise SimulationFolderError(
            f"{folder}: not a simulator output folder, missing {', '.join(missing)} "
            "(write one with `harmscope simulate --out DIR`)"
        )
    return {
        name: pd.read_csv(folder / f"truth/{name}.csv", dtype={"month": str})
        for name in ("places", "markets", "market_month")
    }


def _validate_places(
    db: Path,
    truth: pd.DataFrame,
    *,
    k: int,
    scheme: str,
    baseline: str,
    labels: tuple[str, str],
    cell_size: float,
) -> LensValidation:
    n_true = len(truth)
    if n_true == 0:
        return _unavailable("places", k, "no cell has true harm in truth/places.csv")
    k_eff = min(k, n_true)
    true_top = tuple(truth["unit_id"].head(k_eff))
    results: dict[str, tuple[tuple[str, ...], int, int]] = {}
    area = dataset_area(db, cell_size=cell_size)  # one study area, whatever the scheme
    for name in (scheme, baseline):
        if name in results:
            continue
        # The truth is every crime's harm (and the baseline counts every record), so the
        # lens is scored on all crime harm, not the drug-attributed default.
        # The truth is the period's own harm, so the period's harm ranks (score_by='harm'),
        # not the board's forecast of the next period (docs/forecast.md).
        ranked = rank_places(
            db, scheme=name, cell_size=cell_size, mask=area, harm="all", score_by="harm"
        )
        top = tuple(ranked["unit_id"].head(k_eff))
        results[name] = (top, len(set(top) & set(true_top)), len(ranked))
    pred, hits, n_ranked = results[scheme]
    bpred, bhits, b_ranked = results[baseline]
    return LensValidation(
        lens="places",
        available=True,
        k=k,
        k_effective=k_eff,
        n_true=n_true,
        precision_at_k=hits / k_eff,
        baseline_precision_at_k=bhits / k_eff,
        hits=hits,
        baseline_hits=bhits,
        n_ranked=n_ranked,
        baseline_n_ranked=b_ranked,
        true_top=true_top,
        predicted=pred,
        baseline_predicted=bpred,
        matched=tuple((u, u) for u in pred if u in true_top),
        baseline_matched=tuple((u, u) for u in bpred if u in true_top),
        scheme=labels[0],
        baseline_scheme=labels[1],
        matching=f"same {cell_size:g} m cell (lower-left BNG corner) in both top k",
        options={"cell_size": cell_size, "significance": "none"},
    )


def _validate_markets(
    db: Path,
    truth: pd.DataFrame,
    *,
    k: int,
    scheme: str,
    baseline: str,
    cell_size: float,
    labels: tuple[str, str],
    buffer: float,
    match: MarketMatch,
) -> LensValidation:
    n_true = len(truth)
    if n_true == 0:
        return _unavailable("markets", k, "no market has true harm in truth/market_month.csv")
    k_eff = min(k, n_true)
    top_truth = truth.head(k_eff)
    true_cells = [
        (str(m), (float(x), float(y)))
        for m, x, y in zip(
            top_truth["market_id"], top_truth["cell_x"], top_truth["cell_y"], strict=True
        )
    ]
    results: dict[str, tuple[tuple[str, ...], list[tuple[str, str]], int]] = {}
    area = dataset_area(db, cell_size=cell_size)  # one study area, whatever the scheme
    for name in (scheme, baseline):
        if name in results:
            continue
        found = markets(db, scheme=name, cell_size=cell_size, buffer=buffer, mask=area, harm="all")
        by_id: dict[str, Market] = {m.id: m for m in found}
        ranked = ranked_markets(found, top=k_eff)
        top = tuple(str(u) for u in ranked["unit_id"])
        areas = [(u, by_id[u].area_cells if match == "area" else by_id[u].cells) for u in top]
        results[name] = (top, market_hits(areas, true_cells), len(found))
    pred, pairs, n_ranked = results[scheme]
    bpred, bpairs, b_ranked = results[baseline]
    where = "footprint + buffer" if match == "area" else "footprint"
    return LensValidation(
        lens="markets",
        available=True,
        k=k,
        k_effective=k_eff,
        n_true=n_true,
        precision_at_k=len(pairs) / k_eff,
        baseline_precision_at_k=len(bpairs) / k_eff,
        hits=len(pairs),
        baseline_hits=len(bpairs),
        n_ranked=n_ranked,
        baseline_n_ranked=b_ranked,
        true_top=tuple(m for m, _ in true_cells),
        predicted=pred,
        baseline_predicted=bpred,
        matched=tuple(sorted(pairs)),
        baseline_matched=tuple(sorted(bpairs)),
        scheme=labels[0],
        baseline_scheme=labels[1],
        matching=(
            f"true top-k market whose cell lies in a detected top-k market's {where} "
            f"({buffer:g} m buffer), by maximum one-to-one matching"
        ),
        options={"cell_size": cell_size, "buffer": buffer, "market_match": match},
    )


def _unavailable(lens: str, k: int, reason: str) -> LensValidation:
    return LensValidation(lens=lens, available=False, k=k, reason=reason)


def validate_priorities(
    simdir: str | Path,
    *,
    k: int = 10,
    scheme: str = "cchi",
    baseline_scheme: str = "count",
    cell_size: float = TRUTH_CELL_SIZE,
    buffer: float = 250.0,
    market_match: MarketMatch = "area",
    db: str | Path | None = None,
    progress: Progress | None = None,
) -> dict[str, LensValidation]:
    """Precision@k of every lens against a simulator folder's ground truth.

    Parameters
    ----------
    simdir : str or Path
        Output of ``harmscope simulate --out DIR`` (police.uk month folders and ``truth/``).
    k : int, default 10
        Top units compared.
    scheme : str, default 'cchi'
        Weight scheme of the lenses under test.
    baseline_scheme : str, default 'count'
        Scheme of the busyness baseline (every recorded crime or ASB incident counts one).
    cell_size : float, default 250
        Grid of the places lens and of market detection, metres; a multiple of 250.
    buffer : float, default 250
        Markets lens buffer around a footprint, metres.
    market_match : {'area', 'footprint'}, default 'area'
        Where a true market's cell must lie to count as found (module docstring).
    db : str or Path, optional
        Warehouse to ingest into and rank from (kept afterwards); default a temporary DuckDB
        file removed on return. It must hold nothing but this folder's police.uk files
        (ingesting the same files twice adds nothing), or the rankings mix other data in.
    progress : callable, optional
        ``progress(stage, done, total)``.

    Returns
    -------
    dict of str to LensValidation
        ``places``, ``markets``, then every other registered or planned lens (unavailable,
        with the reason).

    Raises
    ------
    SimulationFolderError
        ``simdir`` is not a simulator output folder.
    ValueError
        ``k`` below 1, a bad ``cell_size`` or ``market_match``.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if market_match not in ("area", "footprint"):
        raise ValueError(f"market_match must be area or footprint, got {market_match!r}")
    size = _check_cell_size(cell_size)
    labels = (load_scheme(scheme).name, load_scheme(baseline_scheme).name)
    folder = Path(simdir)
    if not folder.is_dir():
        raise SimulationFolderError(f"{folder}: no such folder")
    truth = _read_truth(folder)
    places_truth = true_place_ranking(truth["places"], cell_size=size)
    markets_truth = true_market_ranking(truth["markets"], truth["market_month"], cell_size=size)

    # One stage each (periods.progress_stage): every stage ends at its total.
    with tempfile.TemporaryDirectory(prefix="harmscope-validate-") as tmp:
        warehouse = Path(db) if db is not None else Path(tmp) / "warehouse.duckdb"
        with progress_stage(progress, "ingest"):
            ingest_paths([folder], db=warehouse)
        out: dict[str, LensValidation] = {}
        with progress_stage(progress, "places"):
            out["places"] = _validate_places(
                warehouse,
                places_truth,
                k=k,
                scheme=scheme,
                baseline=baseline_scheme,
                labels=labels,
                cell_size=size,
            )
        with progress_stage(progress, "markets"):
            out["markets"] = _validate_markets(
                warehouse,
                markets_truth,
                k=k,
                scheme=scheme,
                baseline=baseline_scheme,
                labels=labels,
                cell_size=size,
                buffer=buffer,
                match=market_match,
            )
    for name in [*PLANNED_LENSES, *sorted(LENSES)]:
        if name in out:
            continue
        if name in LENSES:
            reason = (
                f"lens {name!r} is registered, but the simulator's ground truth has no "
                "comparison for it in harmscope.checks.priorities"
            )
        else:
            reason = f"lens {name!r} is not implemented yet: {PLANNED_LENSES[name]}"
        out[name] = _unavailable(name, k, reason)
    return out
