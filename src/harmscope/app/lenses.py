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

__all__ = [
    "LENS_OPTIONS",
    "LensOption",
    "available_lenses",
    "check_lens",
    "lens_options",
    "options_for",
    "planned_lenses",
    "ranked",
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
