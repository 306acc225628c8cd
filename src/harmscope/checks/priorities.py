"""How well each lens finds the truly most harmful units of one simulated city.

The simulator (:mod:`harmscope.simulate`) writes police.uk files, force records (``intel/``,
``records/``) *and* the ground truth behind them (``DIR/truth/``). :func:`validate_priorities`
ingests the police.uk files and loads the force records of a simulator folder into a DuckDB
warehouse (:func:`prepare_city`; the records are loaded and read under the audit user
:data:`AUDIT_USER`), runs each lens's registered check (:mod:`harmscope.checks.rankings`:
the lens, the ``counting`` baseline and the ``busyness`` baseline of police activity, DESIGN
§3) and scores the three alike (:mod:`harmscope.checks.scoring`). The places and markets
checks are :mod:`harmscope.checks.units`; :mod:`harmscope.checks.seeds` runs the same over
many simulated cities.

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
``people``, ``groups``, ``behaviours`` and any other lens
    Scored when a check is registered for it (:func:`~harmscope.checks.rankings.register_lens_check`);
    otherwise reported unavailable with the reason, never as zeros.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from harmscope.checks.rankings import LENS_CHECKS
from harmscope.checks.scoring import METRICS, LensScore, score_rankings
from harmscope.errors import HarmScopeError
from harmscope.harm import load_scheme
from harmscope.periods import Progress, progress_stage
from harmscope.places.study_area import one_area_per_command
from harmscope.priorities.lenses import LENSES, PLANNED_LENSES, LensUnavailableError
from harmscope.priorities.places import place_id
from harmscope.sources.records.pseudonym import KEY_ENV, key_path, write_key
from harmscope.warehouse.ingest import ingest_paths
from harmscope.warehouse.records import load_records

__all__ = [
    "AUDIT_REASON",
    "AUDIT_USER",
    "TRUTH_CELL_SIZE",
    "LensValidation",
    "SimulationFolderError",
    "check_city",
    "lens_names",
    "market_hits",
    "precision_at_k",
    "prepare_city",
    "read_truth",
    "true_market_ranking",
    "true_place_ranking",
    "unavailable_reason",
    "validate_priorities",
]

MarketMatch = Literal["area", "footprint"]

#: Side of the simulator's truth grid, metres.
TRUTH_CELL_SIZE = 250.0

_TRUTH_FILES = ("truth/places.csv", "truth/markets.csv", "truth/market_month.csv")

#: Who loads and reads a simulated city's force records, and why (its warehouse's audit log).
AUDIT_USER = "harmscope validate-priorities"
AUDIT_REASON = "validation of the priority lenses against simulated ground truth"


class SimulationFolderError(HarmScopeError, FileNotFoundError):
    """The folder is not a simulator output (no police.uk files or no ``truth/`` tables)."""


@dataclass(frozen=True)
class LensValidation:
    """One lens on one simulated city: its scores beside both baselines, or why it has none.

    Attributes
    ----------
    lens : str
    available : bool
        False when no check is registered for the lens or the check cannot run here.
    k : int
        Requested ``k``.
    score : LensScore or None
        The scorer's result (:func:`~harmscope.checks.scoring.score_rankings`).
    reason : str or None
        Why the lens is unavailable.
    """

    lens: str
    available: bool
    k: int
    score: LensScore | None = None
    reason: str | None = None

    def _metric(self, role: str, metric: str) -> float | None:
        return None if self.score is None else self.score.scores[role].metric(metric)

    @property
    def precision_at_k(self) -> float | None:
        """The lens's precision@k."""
        return self._metric("lens", "precision_at_k")

    @property
    def baseline_precision_at_k(self) -> float | None:
        """Counting's precision@k."""
        return self._metric("counting", "precision_at_k")

    @property
    def busyness_precision_at_k(self) -> float | None:
        """Busyness's (police activity) precision@k."""
        return self._metric("busyness", "precision_at_k")

    @property
    def k_effective(self) -> int:
        """``min(k, n_true)``."""
        return 0 if self.score is None else self.score.k_effective

    @property
    def n_true(self) -> int:
        """Units with true harm above 0."""
        return 0 if self.score is None else self.score.n_true

    def _hits(self, role: str) -> int | None:
        return None if self.score is None else self.score.scores[role].hits

    @property
    def hits(self) -> int | None:
        """Matched units in the lens's top k."""
        return self._hits("lens")

    @property
    def baseline_hits(self) -> int | None:
        """Matched units in counting's top k."""
        return self._hits("counting")

    @property
    def busyness_hits(self) -> int | None:
        """Matched units in busyness's top k."""
        return self._hits("busyness")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``precision_at_k``, ``baseline_precision_at_k``,
        ``busyness_precision_at_k`` first (DESIGN §5), then the other metrics and ids."""
        if self.score is not None:
            return self.score.to_dict()
        out: dict[str, Any] = {}
        for metric in METRICS:
            out[metric] = None
            out[f"baseline_{metric}"] = None
            out[f"busyness_{metric}"] = None
        out.update({"available": False, "reason": self.reason, "k": self.k})
        return out


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


def read_truth(folder: Path) -> dict[str, pd.DataFrame]:
    """``truth/places.csv``, ``markets.csv`` and ``market_month.csv`` of a simulator folder.

    Raises
    ------
    SimulationFolderError
        One of them is missing.
    """
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


def prepare_city(folder: Path, warehouse: Path, *, user: str, reason: str) -> Path:
    """Ingest a simulator folder's police.uk files and load its force records (``intel/``,
    ``records/``, when present) into ``warehouse``; returns ``warehouse``.

    Loading the same folder twice adds nothing (ingest and load-records skip identical files).
    A warehouse with no pseudonym key yet gets :data:`SYNTHETIC_KEY`: baselines rank ties by
    pseudonym, so a random key per run would make a run's figures differ from the next's.
    """
    ingest_paths([folder], db=warehouse)
    records = [folder / name for name in ("intel", "records") if (folder / name).is_dir()]
    if records:
        key = key_path(warehouse)
        if not os.environ.get(KEY_ENV) and not key.exists():
            write_key(key, SYNTHETIC_KEY)
        load_records(records, db=warehouse, user=user, reason=reason)
    return warehouse


#: Pseudonym key of the simulated cities' validation warehouses. Fixed, so validation figures
#: reproduce; never used for real records (those get a random key, sources.records.pseudonym).
SYNTHETIC_KEY = "5e" * 16 + "harmscope-validation-synthetic-city"


def lens_names(lenses: Sequence[str] | None = None) -> list[str]:
    """Lenses to report: ``lenses``, or the registered checks, the planned and the registered
    lenses (each once, checks first)."""
    if lenses:
        return list(dict.fromkeys(name.strip().lower() for name in lenses))
    return list(dict.fromkeys([*LENS_CHECKS, *PLANNED_LENSES, *sorted(LENSES)]))


def unavailable_reason(name: str) -> str:
    """Why a lens without a registered check has no validation."""
    if name in LENSES:
        return (
            f"lens {name!r} is registered, but no check for it is registered "
            "(harmscope.checks.rankings.register_lens_check): the simulator's truth is not "
            "compared with it"
        )
    if name in PLANNED_LENSES:
        return f"lens {name!r} is not implemented yet: {PLANNED_LENSES[name]}"
    return f"unknown lens {name!r} (lenses: {', '.join(sorted({*LENSES, *PLANNED_LENSES}))})"


def check_city(
    folder: Path,
    warehouse: Path,
    names: Sequence[str],
    *,
    k: int,
    k2: int = 20,
    options: dict[str, Any],
    progress: Progress | None = None,
) -> dict[str, LensValidation]:
    """Run and score each lens's registered check on one prepared city.

    The checks only read the city's events (the records they load are other tables), so the
    places and markets checks share one study area (:func:`one_area_per_command`).
    """
    out: dict[str, LensValidation] = {}
    with one_area_per_command():
        for name in names:
            check = LENS_CHECKS.get(name)
            if check is None:
                out[name] = LensValidation(name, False, k, reason=unavailable_reason(name))
                continue
            with progress_stage(progress, name):
                try:
                    rankings = check(folder, warehouse, **options)
                    out[name] = LensValidation(
                        name, True, k, score=score_rankings(rankings, k=k, k2=k2)
                    )
                except LensUnavailableError as exc:
                    out[name] = LensValidation(name, False, k, reason=str(exc))
    return out


def validate_priorities(
    simdir: str | Path,
    *,
    k: int = 10,
    scheme: str = "cchi",
    baseline_scheme: str = "count",
    cell_size: float = TRUTH_CELL_SIZE,
    buffer: float = 250.0,
    market_match: MarketMatch = "area",
    lenses: Sequence[str] | None = None,
    db: str | Path | None = None,
    progress: Progress | None = None,
) -> dict[str, LensValidation]:
    """Every lens against a simulator folder's ground truth, beside counting and busyness.

    Parameters
    ----------
    simdir : str or Path
        Output of ``harmscope simulate --out DIR`` (police.uk month folders, ``intel/``,
        ``records/`` and ``truth/``).
    k : int, default 10
        Top units compared (``precision_at_20`` is also reported).
    scheme : str, default 'cchi'
        Weight scheme of the lenses under test.
    baseline_scheme : str, default 'count'
        Scheme of the counting baseline (every recorded crime or ASB incident counts one).
    cell_size : float, default 250
        Grid of the places lens and of market detection, metres; a multiple of 250.
    buffer : float, default 250
        Markets lens buffer around a footprint, metres.
    market_match : {'area', 'footprint'}, default 'area'
        Where a true market's cell must lie to count as found (module docstring).
    lenses : sequence of str, optional
        Lenses to report (default: every registered check, then every other lens, unavailable).
    db : str or Path, optional
        Warehouse to ingest into and rank from (kept afterwards); default a temporary DuckDB
        file removed on return. It must hold nothing but this folder's files.
    progress : callable, optional
        ``progress(stage, done, total)``: ``ingest``, then one stage per lens.

    Returns
    -------
    dict of str to LensValidation

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
    load_scheme(scheme), load_scheme(baseline_scheme)  # a bad scheme fails before the ingest
    folder = Path(simdir)
    if not folder.is_dir():
        raise SimulationFolderError(f"{folder}: no such folder")
    read_truth(folder)
    names = lens_names(lenses)
    options = {
        "scheme": scheme,
        "baseline_scheme": baseline_scheme,
        "cell_size": size,
        "buffer": buffer,
        "market_match": market_match,
    }
    with tempfile.TemporaryDirectory(prefix="harmscope-validate-") as tmp:
        warehouse = Path(db) if db is not None else Path(tmp) / "warehouse.duckdb"
        with progress_stage(progress, "ingest"):
            prepare_city(folder, warehouse, user=AUDIT_USER, reason=AUDIT_REASON)
        return check_city(folder, warehouse, names, k=k, options=options, progress=progress)
