"""The lens options: which lenses a face can offer, and which options belong to which lens.

``priorities`` ranks through a lens (:mod:`harmscope.priorities.lenses`). Some options belong
to one lens only (``--significance`` to places, ``--buffer`` to markets; both to ``all``,
which holds them), and the lenses DESIGN plans but nobody has built yet (people, groups,
behaviours) are refused as "not available yet". The CLI and a web form ask the same
questions here, so an option either changes the result or is refused with a message naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from harmscope.priorities import ALL, LENSES, PLANNED_LENSES, LensUnavailableError, rank
from harmscope.priorities.board import priority_board
from harmscope.priorities.morile import load_morile
from harmscope.priorities.snapshot import compare
from harmscope.warehouse.snapshots import read_snapshot, save_snapshot

__all__ = [
    "LENS_OPTIONS",
    "BoardRequest",
    "LensOption",
    "available_lenses",
    "board",
    "check_lens",
    "check_personal",
    "lens_options",
    "options_for",
    "personal_lenses",
    "planned_lenses",
    "ranked",
    "records_lenses",
]


@dataclass(frozen=True)
class LensOption:
    """An option that belongs to one lens (and to the ``all`` board, which holds it).

    Attributes
    ----------
    flag : str
        How faces name it to people (``--significance``).
    name : str
        The keyword the lens's rank function takes (``significance``).
    lens : str
        The lens it belongs to.
    """

    flag: str
    name: str
    lens: str


#: Lens-specific options, in the order faces list them.
LENS_OPTIONS: tuple[LensOption, ...] = (
    LensOption("--significance", "significance", "places"),
    LensOption("--buffer", "buffer", "markets"),
)


def available_lenses() -> list[str]:
    """The lenses a face can offer: every registered lens (sorted), then ``all``."""
    return [*sorted(LENSES), ALL]


def planned_lenses() -> dict[str, str]:
    """Lenses DESIGN names that are not built here yet, with what each needs."""
    return {k: v for k, v in PLANNED_LENSES.items() if k not in LENSES}


def options_for(lens: str) -> tuple[LensOption, ...]:
    """The lens-specific options that apply to *lens* (all of them for ``all``)."""
    key = lens.strip().lower()
    return tuple(o for o in LENS_OPTIONS if key in (o.lens, ALL))


def check_lens(lens: str) -> str:
    """The lens key of *lens*: names ignore case and surrounding blanks (``Places`` is
    ``places``), as analysts type them; a planned lens not built yet, or an unknown name, is
    refused before any work starts.

    Raises
    ------
    LensUnavailableError
        ``--lens people: not available yet (what it needs); available: markets, places, all``,
        or ``--lens: unknown lens 'Placs' (available: markets, places, all)``.
    """
    key = lens.strip().lower()
    planned = planned_lenses()
    if key in planned:
        raise LensUnavailableError(
            f"--lens {key}: not available yet ({planned[key]}); available: "
            f"{', '.join(available_lenses())}"
        )
    if key not in available_lenses():
        raise LensUnavailableError(
            f"--lens: unknown lens {lens.strip()!r} (available: {', '.join(available_lenses())})"
        )
    return key


def lens_options(key: str, given: Mapping[str, Any], **common: Any) -> dict[str, Any]:
    """The keyword options of :func:`harmscope.priorities.rank` for lens *key*.

    Parameters
    ----------
    key : str
        A lens key from :func:`check_lens`.
    given : mapping
        Lens-specific options by :attr:`LensOption.name`; None means not given.
    **common
        Options every lens takes (``scheme``, ``cell_size``, ``months``, ``top`` ...), passed
        through.

    Returns
    -------
    dict
        *common*, plus the given lens options: as they are for a single lens, or under
        ``per_lens`` (by lens) for ``all``.

    Raises
    ------
    ValueError
        An option given for a lens it does not belong to: ``--buffer applies to --lens
        markets (or all) only``.
    """
    for option in LENS_OPTIONS:
        if given.get(option.name) is not None and key not in (option.lens, ALL):
            raise ValueError(f"{option.flag} applies to --lens {option.lens} (or {ALL}) only")
    per_lens: dict[str, dict[str, Any]] = {}
    for option in LENS_OPTIONS:
        value = given.get(option.name)
        if value is not None:
            per_lens.setdefault(option.lens, {})[option.name] = value
    options = dict(common)
    if key == ALL:
        options["per_lens"] = {k: v for k, v in per_lens.items() if k in LENSES}
    else:
        options.update(per_lens.get(key, {}))
    return options


def ranked(key: str, source: Any, options: Mapping[str, Any]) -> pd.DataFrame:
    """Rows ranked through lens *key* (:func:`harmscope.priorities.rank`), each naming its lens.

    DESIGN §5: every row carries ``lens``, so boards from several runs can be joined; the
    ``all`` board has it already.
    """
    frame = rank(key, source, **options)
    if "lens" not in frame.columns:
        frame.insert(0, "lens", key)
    return frame


def personal_lenses() -> list[str]:
    """Registered lenses that read force records (personal data, audited)."""
    return sorted(k for k, lens in LENSES.items() if lens.personal)


def records_lenses() -> list[str]:
    """Registered lenses that read force records: the personal ones, and those (markets) that
    read them when given a user and a reason."""
    return sorted(k for k, lens in LENSES.items() if lens.personal or lens.uses_records)


def check_personal(key: str, user: str | None, reason: str | None) -> None:
    """Refuse a personal lens asked for by name without a user and a reason, and a user or
    reason given where no personal data is read (or one without the other).

    ``all`` without them is allowed: the board leaves the personal lenses out and says so.

    Raises
    ------
    ValueError
        ``--user applies to personal lenses ... or all only``; ``--user needs --reason too``.
    LensUnavailableError
        ``--lens people reads force records (personal data): give --user NAME and --reason
        TEXT (both audited)``.
    """
    given = [f for f, v in (("--user", user), ("--reason", reason)) if v is not None]
    if given and key != ALL and key not in records_lenses():
        readers = ", ".join(records_lenses()) or "none registered here"
        raise ValueError(
            f"{' and '.join(given)} apply to lenses that read force records ({readers}) or "
            f"{ALL} only: --lens {key} reads no personal data"
        )
    if len(given) == 1:
        raise ValueError(f"{given[0]} needs {'--reason' if given[0] == '--user' else '--user'} too")
    if key in personal_lenses() and not ((user or "").strip() and (reason or "").strip()):
        raise LensUnavailableError(
            f"--lens {key} reads force records (personal data): give --user NAME and "
            "--reason TEXT (both audited)"
        )


@dataclass(frozen=True)
class BoardRequest:
    """What a face asks of the board beyond the lens options.

    Attributes
    ----------
    morile : str or None
        A TOML file laid over the MoRiLE defaults (``priorities/data/morile.toml``).
    community_mix : float or None
        Community mix in [0, 1] (None: the config's, 0.25).
    save_snapshot, compare_with : str or None
        Snapshot to save the board under; snapshot (or ``last``) to compare it with.
    user, reason : str or None
        Who asks and why (personal lenses and their snapshot rows only).
    """

    morile: str | None = None
    community_mix: float | None = None
    save_snapshot: str | None = None
    compare_with: str | None = None
    user: str | None = None
    reason: str | None = None


def board(
    key: str, source: Any, options: Mapping[str, Any], request: BoardRequest
) -> tuple[pd.DataFrame, list[str]]:
    """The scored board for lens *key*, compared with and saved as the request asks.

    Returns the board (:func:`harmscope.priorities.board.priority_board`, plus
    :func:`harmscope.priorities.snapshot.compare` columns when comparing) and notes for the
    analyst (snapshot saved, rows left out).
    """
    config = load_morile(request.morile)
    opts = dict(options)
    top = opts.pop("top", None)
    if request.user is not None:
        opts["user"] = request.user
    if request.reason is not None:
        opts["reason"] = request.reason
    # the whole board is compared and saved; --top only cuts what is shown
    frame = priority_board(source, key, morile=config, community_mix=request.community_mix, **opts)
    notes: list[str] = []
    personal = personal_lenses()
    who = {"user": request.user, "reason": request.reason}
    if request.compare_with:
        name, previous, hidden = read_snapshot(
            source, request.compare_with, personal=personal, **who
        )
        frame = compare(frame, previous, name)
        if hidden:
            notes.append(
                f"--compare-with {name}: {hidden} row(s) of personal lenses not read "
                "(no --user/--reason)"
            )
        if frame.attrs["dropped_since"]:
            gone = ", ".join(
                f"{d['lens']} {d['unit_id']}" for d in frame.attrs["dropped_since"][:5]
            )
            more = len(frame.attrs["dropped_since"]) - 5
            notes.append(
                f"dropped since {name}: {gone}" + (f" and {more} more" if more > 0 else "")
            )
    if request.save_snapshot:
        settings = {
            "lens": key,
            "formula": frame.attrs.get("formula"),
            "community_mix": frame.attrs.get("community_mix"),
            "community_wave": frame.attrs.get("community", {}).get("wave"),
            "morile": request.morile,
            **{k: v for k, v in options.items() if k not in ("mask", "progress")},
        }
        saved, hidden = save_snapshot(
            source,
            request.save_snapshot,
            frame,
            settings,
            board_lens=key,
            personal=personal,
            **who,
        )
        notes.append(f"board saved as snapshot {request.save_snapshot.strip()!r} ({saved} rows)")
        if hidden:
            notes.append(f"{hidden} row(s) of personal lenses not saved (no --user/--reason)")
    if top is not None:
        frame = frame.head(top)
    return frame, notes
