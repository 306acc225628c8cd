"""The lens registry: what can be ranked, and how.

A lens turns the warehouse into ranked rows with at least ``rank`` (1..n), ``unit_id``,
``score`` (descending) and ``reasons`` (list of strings). ``places`` and ``markets`` are built
in; a lens for people (nominals), groups or behaviours registers a function with the same
shape::

    def rank_people(source, *, top=None, **options) -> pandas.DataFrame: ...

    register_lens("people", rank_people, "nominals ranked by the harm attributed to them")

Until one is registered, asking for a planned lens raises :class:`LensUnavailableError`
saying it is not available yet and what it needs.

A lens over personal data (people, groups: force records) registers with ``personal=True``;
it then takes ``user`` and ``reason`` keyword options and must read the records only through
:func:`harmscope.warehouse.personal.read_personal` (audited). Other lenses never receive them.
A lens that cannot run on this warehouse (e.g. no force records loaded) raises
:class:`LensUnavailableError` saying what it needs.

Besides :data:`REQUIRED_COLUMNS`, a lens may return the columns of :data:`BOARD_COLUMNS`; the
priority board (MoRiLE-style) reads them when present and says so when they are missing.

``all`` (:data:`ALL`) is the one board across the lenses that exist (:func:`rank_all`): every
registered lens's rows, with a ``lens`` column, ranked together by score. Planned lenses, and
lenses that raise :class:`LensUnavailableError` on this warehouse, are left out of it and
named in ``attrs["unavailable"]`` (with the reason in ``attrs["unavailable_reasons"]``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from harmscope.errors import HarmScopeError
from harmscope.harm.selection import DEFAULT_HARM, check_types, selection_attrs
from harmscope.people.attribute import one_read
from harmscope.people.records import NoRecordsError
from harmscope.periods import Progress
from harmscope.places.grid import DEFAULT_CELL_SIZE
from harmscope.places.study_area import AREA, dataset_area
from harmscope.priorities.behaviours import rank_behaviours
from harmscope.priorities.groups import rank_groups
from harmscope.priorities.markets import rank_markets
from harmscope.priorities.people import rank_people
from harmscope.priorities.places import rank_places
from harmscope.warehouse.personal import AuditError

__all__ = [
    "ALL",
    "BOARD_COLUMNS",
    "LENSES",
    "PLANNED_LENSES",
    "REQUIRED_COLUMNS",
    "Lens",
    "LensUnavailableError",
    "rank",
    "rank_all",
    "register_lens",
]

RankFunction = Callable[..., pd.DataFrame]

#: Columns every lens returns first.
REQUIRED_COLUMNS: tuple[str, ...] = ("rank", "unit_id", "score", "reasons")

#: Optional columns a lens returns for the priority board, with their meaning and unit.
BOARD_COLUMNS: dict[str, str] = {
    "name": "words an analyst recognises for the unit (a place name, a pseudonym, a group type)",
    "harm": "harm over the period in the scheme's unit (harm_unit column)",
    "harm_low": "lower end of the harm's range, same unit",
    "harm_high": "upper end of the harm's range, same unit",
    "forecast_harm": "harm expected over the next period of the same length, same unit",
    "trend": "change of harm per month as a fraction of the mean month (+0.05 = rising 5 %)",
    "months_since_last": "whole months from the last harmful event to the end of the period",
    "confidence": "0-1: data quality and intelligence grading behind the row",
    "top_cells": "list of str: the unit's largest harm-matrix cells, in words with figures",
    "evidence": "list of str: the records and intelligence the row rests on, in words",
    "area": "LSOA code the unit lies in (or mostly in): where its community weights come from",
    "harm_types": "mapping of crime type or behaviour to harm (same unit as harm), for the "
    "community weights (harmscope.priorities.community)",
}

#: The lens name of the one board across every available lens (DESIGN §5 ``--lens all``).
ALL = "all"


class LensUnavailableError(HarmScopeError, LookupError):
    """The lens is unknown, or planned but not available in this installation."""


@dataclass(frozen=True)
class Lens:
    """A registered lens: its name, what it ranks, and the function that ranks."""

    name: str
    description: str
    function: RankFunction
    personal: bool = False
    """True when the lens reads personal data: it takes ``user`` and ``reason`` (audited)."""
    uses_records: bool = False
    """True when the lens reads force records *if* given ``user`` and ``reason`` (audited) and
    runs on police.uk data alone without them (markets: linked harm, the force's market list).
    Its rows are not personal data."""


LENSES: dict[str, Lens] = {}
"""Registered lenses by name."""

PLANNED_LENSES: dict[str, str] = {}
"""Lenses DESIGN §2 names that have no implementation registered yet, with what they need."""


def register_lens(
    name: str,
    function: RankFunction,
    description: str,
    *,
    personal: bool = False,
    uses_records: bool = False,
) -> Lens:
    """Register (or replace) a lens (``personal=True``: it reads force records, audited;
    ``uses_records=True``: it reads them when given ``user`` and ``reason``).

    Raises
    ------
    ValueError
        Empty name.
    """
    key = name.strip().lower()
    if not key:
        raise ValueError("a lens needs a name")
    lens = Lens(
        name=key,
        description=description,
        function=function,
        personal=personal,
        uses_records=uses_records,
    )
    LENSES[key] = lens
    PLANNED_LENSES.pop(key, None)
    return lens


def rank(lens: str, source: Any, **options: Any) -> pd.DataFrame:
    """Rank units through a lens.

    Parameters
    ----------
    lens : str
        ``'places'``, ``'markets'`` or another registered lens.
    source
        Warehouse path, Ibis backend or events table.
    **options
        The lens function's options (``scheme``, ``cell_size``, ``months``, ``top`` ...).

    Returns
    -------
    pandas.DataFrame
        Starts with :data:`REQUIRED_COLUMNS`.

    Raises
    ------
    LensUnavailableError
        Unknown lens, or a planned one not yet available (the message says what it needs).
    """
    key = lens.strip().lower()
    if key == ALL:
        return rank_all(source, **options)
    if key in LENSES:
        if not (LENSES[key].personal or LENSES[key].uses_records):
            # user/reason are for the audited read of personal data only
            options = {k: v for k, v in options.items() if k not in _PERSONAL_OPTIONS}
        out = LENSES[key].function(source, **options)
        missing = [c for c in REQUIRED_COLUMNS if c not in out.columns]
        if missing:
            raise LensUnavailableError(f"lens {key!r} returned no {', '.join(missing)} column")
        return out
    available = ", ".join(sorted(LENSES))
    if key in PLANNED_LENSES:
        raise LensUnavailableError(
            f"lens {key!r} is not available yet: {PLANNED_LENSES[key]} "
            f"(available: {available}, {ALL})"
        )
    raise LensUnavailableError(f"unknown lens {lens!r} (available: {available}, {ALL})")


#: Options only a personal lens receives (DPA 2018 s. 62 audit: who and why).
_PERSONAL_OPTIONS = ("user", "reason")


def rank_all(
    source: Any,
    *,
    top: int | None = None,
    per_lens: Mapping[str, Mapping[str, Any]] | None = None,
    **options: Any,
) -> pd.DataFrame:
    """One board across every registered lens, ranked together by score.

    Parameters
    ----------
    source
        Warehouse path, Ibis backend or events table.
    top : int, optional
        Keep the first ``top`` rows of the board (not of each lens).
    per_lens : mapping of lens name to options, optional
        Options for one lens only (e.g. ``{"places": {"significance": "weight"},
        "markets": {"buffer": 500}}``); a name that is not a registered lens is refused.
    **options
        Options every lens takes (``scheme``, ``cell_size``, ``months``, ``mask``, ``harm``,
        ``types`` ...). A ``progress`` callback hears each lens's stages named
        ``"<lens>: <stage>"``.

    Returns
    -------
    pandas.DataFrame
        ``lens``, then :data:`REQUIRED_COLUMNS` (``rank`` 1..n over the board), ``lens_rank``
        (the row's rank within its lens), then the union of the lenses' other columns (empty
        where a lens has none). Scores share the scheme's unit, but they are not additive
        across lenses: a market's harm includes the harm of the places inside it.
        ``attrs["unavailable"]`` lists the lenses left out (planned, unavailable on this
        warehouse, or personal without ``user`` and ``reason``), ``attrs
        ["unavailable_reasons"]`` says why for each; ``harm_view``,
        ``harm_label`` and ``types`` name the selection.

    Raises
    ------
    LensUnavailableError
        ``per_lens`` names a lens that is not registered.
    """
    if top is not None and top < 1:
        raise ValueError(f"top must be a positive number of rows, got {top}")
    extra = dict(per_lens or {})
    unknown = sorted(set(extra) - set(LENSES))
    if unknown:
        raise LensUnavailableError(
            f"options given for lens(es) {', '.join(unknown)}, which the board does not hold "
            f"(available: {', '.join(sorted(LENSES))})"
        )
    if options.get("mask") is None and options.get("within", AREA) == AREA:
        # Every lens runs on the dataset's one study area: work it out once, not per lens.
        options = {
            **options,
            "mask": dataset_area(source, cell_size=options.get("cell_size", DEFAULT_CELL_SIZE)),
        }
    first = ["lens", *REQUIRED_COLUMNS, "lens_rank"]
    progress = options.pop("progress", None)
    audited = all(str(options.get(k) or "").strip() for k in _PERSONAL_OPTIONS)
    with one_read():  # people, groups and behaviours share one audited read of the records
        parts, skipped = _rank_each(source, options, extra, audited, progress)
    if not parts:
        board = pd.DataFrame(columns=first)
    else:
        board = pd.concat(parts, ignore_index=True)
        for col in board.columns:
            # a count column of one lens stays a count (not float) beside the other lens's blanks
            kinds = [p[col].dtype for p in parts if col in p.columns]
            if board[col].dtype.kind == "f" and all(k.kind in "iu" for k in kinds):
                board[col] = board[col].astype("Int64")
        # ties: the lens name, then the lens's own order, so the board is deterministic
        board = board.sort_values(
            ["score", "lens", "lens_rank"], ascending=[False, True, True], kind="stable"
        ).reset_index(drop=True)
        board["rank"] = range(1, len(board) + 1)
    if top is not None:
        board = board.head(top)
    board = board[first + [c for c in board.columns if c not in first]]
    reasons = {**{n: f"not available yet: {w}" for n, w in PLANNED_LENSES.items()}, **skipped}
    board.attrs.update(
        {"lens": ALL, "unavailable": sorted(reasons), "unavailable_reasons": reasons}
    )
    # Every lens weighed the same view and types: the board says which.
    board.attrs.update(
        selection_attrs(options.get("harm", DEFAULT_HARM), check_types(options.get("types")))
    )
    return board


def _rank_each(
    source: Any,
    options: dict[str, Any],
    extra: dict[str, Mapping[str, Any]],
    audited: bool,
    progress: Progress | None,
) -> tuple[list[pd.DataFrame], dict[str, str]]:
    """Every registered lens's rows (with ``lens``) and the lenses left out, with why."""
    parts: list[pd.DataFrame] = []
    skipped: dict[str, str] = {}
    for name in sorted(LENSES):
        if LENSES[name].personal and not audited:
            # personal data is read only by a named user for a stated reason (DPA 2018 s. 62)
            skipped[name] = (
                "reads force records (personal data): left out without --user and --reason"
            )
            continue
        # Each lens's stages are its own ("places: aggregate"), so a stage name that two
        # lenses share never goes back to 0 (the periods.Progress protocol).
        mine = {"progress": _prefixed(progress, name)} if progress is not None else {}
        try:
            rows = rank(name, source, **options, **mine, **extra.get(name, {}))
        except LensUnavailableError as exc:
            # e.g. no force records loaded: the board holds the other lenses and says why
            skipped[name] = str(exc)
            continue
        if not rows.empty:
            parts.append(rows.rename(columns={"rank": "lens_rank"}).assign(lens=name))
    return parts, skipped


def _prefixed(progress: Progress, lens: str) -> Progress:
    """*progress* with the stage names of one lens prefixed by the lens name."""

    def report(stage: str, done: int, total: int) -> None:
        progress(f"{lens}: {stage}", done, total)

    return report


register_lens("places", rank_places, "grid cells ranked by harm over the period")
register_lens(
    "markets",
    rank_markets,
    "candidate drug markets ranked by harm in and around them, or by their linked harm when "
    "force records are read (--user, --reason)",
    uses_records=True,
)


def _records_lens(function: RankFunction) -> RankFunction:
    """A lens over force records: no records, or no user/reason to read them, is unavailable."""

    def ranked(source: Any, **options: Any) -> pd.DataFrame:
        try:
            return function(source, **options)
        except (NoRecordsError, AuditError) as exc:
            raise LensUnavailableError(str(exc)) from exc

    return ranked


register_lens(
    "people",
    _records_lens(rank_people),
    "nominals ranked by the harm they are forecast to cause next period (force records)",
    personal=True,
)
register_lens(
    "groups",
    _records_lens(rank_groups),
    "groups ranked by the forecast harm of their members and group-level intelligence",
    personal=True,
)
register_lens(
    "behaviours",
    _records_lens(rank_behaviours),
    "behaviours ranked by the harm of graded reports and linked offences",
    personal=True,
)
