"""``validate-priorities --seeds N``: every lens over N simulated cities it was not tuned on.

:func:`validate_priorities_seeds` simulates seeds ``first_seed .. first_seed + N - 1``
(:func:`harmscope.simulate.simulate`), writes each city to a folder, ingests its police.uk
files and loads its force records (:func:`~harmscope.checks.priorities.prepare_city`), runs
each lens's registered check and scores it (:func:`~harmscope.checks.scoring.score_rankings`),
then pools the seeds (:func:`~harmscope.checks.scoring.summarise`): per lens the mean and 95 %
interval of each metric for the lens and both baselines, each ranking's ceiling, the share of
seeds where the lens beats each baseline (strictly; ties counted apart, and those at the
lens's ceiling), every seed's values, and the same for each further truth of a lens (the
people lens's ``all_population``).

The lenses' settings (market detection, issue 12; the people forecast's parameters,
``bench/people_persistence.py``) were chosen on :data:`TUNING_SEEDS`, which are refused: a score on the seeds a method was tuned on says nothing about a city it has
never seen.

Cities are written under ``cache`` when given (and reused by a later run with the same seed,
size, months and harmscope version), otherwise under a temporary folder removed on return.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harmscope import __version__
from harmscope.checks.priorities import (
    AUDIT_REASON,
    AUDIT_USER,
    TRUTH_CELL_SIZE,
    LensValidation,
    check_city,
    lens_names,
    prepare_city,
)
from harmscope.checks.scoring import LensScore, summarise
from harmscope.periods import Progress
from harmscope.simulate import simulate

__all__ = ["TUNING_SEEDS", "SeedsValidation", "simulated_folder", "validate_priorities_seeds"]

#: Seeds the lenses' settings were tuned on (issue 12); never reported.
TUNING_SEEDS: tuple[int, ...] = tuple(range(101, 181))

Size = Literal["small", "city", "region"]


@dataclass(frozen=True)
class SeedsValidation:
    """Every lens over simulated cities.

    Attributes
    ----------
    seeds : list of int
    size : str
    months : int
    k : int
    lenses : dict of str to dict
        Per lens :func:`~harmscope.checks.scoring.summarise` (``available`` true), or
        ``{available: false, reason}``.
    """

    seeds: list[int]
    size: str
    months: int
    k: int
    lenses: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON: lens name to its entry (DESIGN §5: ``precision_at_k``,
        ``baseline_precision_at_k``, ``busyness_precision_at_k`` ... as means over seeds),
        each entry also naming the seeds, size and months."""
        meta = {
            "seeds": self.seeds,
            "size": self.size,
            "months": self.months,
            "tuning_seeds": [TUNING_SEEDS[0], TUNING_SEEDS[-1]],
        }
        return {name: {**entry, **meta} for name, entry in self.lenses.items()}


def simulated_folder(
    seed: int, *, size: Size, months: int, work: Path, progress: Progress | None = None
) -> tuple[Path, Path]:
    """The city of ``seed`` written under ``work`` and its warehouse, prepared once.

    A folder prepared by the same harmscope version with the same settings is reused.
    """
    folder = work / f"seed-{seed}-{size}-{months}"
    warehouse = folder / "warehouse.duckdb"
    stamp = folder / "prepared.json"
    want = {"seed": seed, "size": size, "months": months, "version": __version__}
    if stamp.is_file() and json.loads(stamp.read_text()) == want and warehouse.is_file():
        return folder, warehouse
    if warehouse.exists():
        warehouse.unlink()  # half-prepared by an interrupted run: start again
    simulate(seed=seed, months=months, size=size).write(folder)
    prepare_city(folder, warehouse, user=AUDIT_USER, reason=AUDIT_REASON)
    stamp.write_text(json.dumps(want))
    return folder, warehouse


def validate_priorities_seeds(
    seeds: int = 20,
    *,
    first_seed: int = 1,
    lenses: Sequence[str] | None = None,
    k: int = 10,
    size: Size = "city",
    months: int = 36,
    scheme: str = "cchi",
    baseline_scheme: str = "count",
    cell_size: float = TRUTH_CELL_SIZE,
    buffer: float = 250.0,
    market_match: str = "area",
    cache: str | Path | None = None,
    allow_tuning: bool = False,
    progress: Progress | None = None,
) -> SeedsValidation:
    """Each lens against the truth of ``seeds`` simulated cities (module docstring).

    Parameters
    ----------
    seeds : int, default 20
        Cities: seeds ``first_seed`` .. ``first_seed + seeds - 1``.
    first_seed : int, default 1
    lenses : sequence of str, optional
        Lenses to report (default: every registered check, then the other lenses as
        unavailable).
    k : int, default 10
        Precision depth (``precision_at_20`` too).
    size : {'small', 'city', 'region'}, default 'city'
        City size (a city has 24 markets, so the markets lens is scored at k = 10).
    months : int, default 36
    scheme, baseline_scheme, cell_size, buffer, market_match
        As :func:`~harmscope.checks.priorities.validate_priorities`.
    cache : str or Path, optional
        Keep the simulated cities (and their warehouses) here for later runs.
    allow_tuning : bool, default False
        Score tuning seeds too (how the settings were chosen; the command never sets it).
    progress : callable, optional
        ``progress('seeds', done, total)``.

    Returns
    -------
    SeedsValidation

    Raises
    ------
    ValueError
        Fewer than one seed, ``k`` below 1, or seeds among :data:`TUNING_SEEDS`.
    """
    if seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {seeds}")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    chosen = list(range(first_seed, first_seed + seeds))
    tuned = sorted(set(chosen) & set(TUNING_SEEDS))
    if tuned and not allow_tuning:
        raise ValueError(
            f"seeds {tuned[0]}..{tuned[-1]} were used to tune the lenses "
            f"({TUNING_SEEDS[0]}-{TUNING_SEEDS[-1]}); report other seeds (--first-seed)"
        )
    names = lens_names(lenses)
    options = {
        "scheme": scheme,
        "baseline_scheme": baseline_scheme,
        "cell_size": cell_size,
        "buffer": buffer,
        "market_match": market_match,
    }
    scored: dict[str, list[tuple[int, LensScore]]] = {name: [] for name in names}
    why: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="harmscope-validate-seeds-") as tmp:
        work = Path(cache) if cache is not None else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for i, seed in enumerate(chosen):
            if progress:
                progress("seeds", i, len(chosen))
            folder, warehouse = simulated_folder(seed, size=size, months=months, work=work)
            results: dict[str, LensValidation] = check_city(
                folder, warehouse, names, k=k, options=options
            )
            for name, v in results.items():
                if v.score is not None:
                    scored[name].append((seed, v.score))
                elif v.reason:
                    why.setdefault(name, v.reason)
    if progress:
        progress("seeds", len(chosen), len(chosen))
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        if scored[name]:
            out[name] = summarise(scored[name])
            if len(scored[name]) < len(chosen):
                out[name]["unavailable_seeds"] = len(chosen) - len(scored[name])
        else:
            out[name] = {
                "precision_at_k": None,
                "baseline_precision_at_k": None,
                "busyness_precision_at_k": None,
                "available": False,
                "reason": why.get(name, "no seed could be scored"),
                "k": k,
            }
    return SeedsValidation(seeds=chosen, size=size, months=months, k=k, lenses=out)
