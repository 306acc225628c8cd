"""What an analysis looks at: the view of harm (``--harm``) and the crime types (``--type``).

Every analysis takes the same two choices and passes them to
:func:`~harmscope.harm.weigh.select_events` (types) and :func:`~harmscope.harm.weigh.weigh`
(view). This module checks them once and names them, so every output says which harm it
shows ("drug-attributed harm" or "all crime harm") and which types it kept.

- ``harm='drug'`` (the default everywhere downstream, issue 11): each harm event counts for
  its scheme weight times the central share of its type's harm attributable to drugs
  (``harm/data/attribution.toml``); ``harm='all'``: every crime's harm, unattributed.
- ``types``: police.uk crime types (``'Stop and search'`` for searches), matched without
  regard to case; names the taxonomy does not map are refused, listing the ones it does.

References
----------
UK Drug Policy Commission (2009). *Refocusing drug-related law enforcement to address
harms*. London: UKDPC (drug harm is a part of crime harm, not all of it; DESIGN §3).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable
from typing import Any

from harmscope.harm.taxonomy import Taxonomy, default_taxonomy, load_taxonomy

__all__ = [
    "DEFAULT_HARM",
    "HARM_VIEWS",
    "check_harm",
    "check_types",
    "harm_label",
    "selection_attrs",
    "valid_types",
]

#: The views of harm (``--harm``) and how every output labels them.
HARM_VIEWS: dict[str, str] = {"drug": "drug-attributed harm", "all": "all crime harm"}

#: The view every analysis uses unless told otherwise.
DEFAULT_HARM = "drug"


def check_harm(harm: str) -> str:
    """The view key of ``harm`` (trimmed, lower case).

    Raises
    ------
    ValueError
        ``harm 'some': expected drug or all``.

    Examples
    --------
    >>> check_harm(" Drug ")
    'drug'
    """
    key = str(harm).strip().lower()
    if key not in HARM_VIEWS:
        raise ValueError(f"harm {harm!r}: expected {' or '.join(HARM_VIEWS)}")
    return key


def harm_label(harm: str) -> str:
    """How outputs name a view: ``'drug-attributed harm'`` or ``'all crime harm'``.

    Examples
    --------
    >>> harm_label("all")
    'all crime harm'
    """
    return HARM_VIEWS[check_harm(harm)]


def _taxonomy(taxonomy: Taxonomy | str | os.PathLike[str] | None) -> Taxonomy:
    if isinstance(taxonomy, Taxonomy):
        return taxonomy
    return default_taxonomy() if taxonomy is None else load_taxonomy(taxonomy)


def valid_types(taxonomy: Taxonomy | str | os.PathLike[str] | None = None) -> tuple[str, ...]:
    """The event types a ``--type`` may name: those the taxonomy maps, in its order."""
    return _taxonomy(taxonomy).event_types


def check_types(
    types: Iterable[str] | None, taxonomy: Taxonomy | str | os.PathLike[str] | None = None
) -> tuple[str, ...] | None:
    """Crime types in the taxonomy's spelling, each once, in the order given.

    Parameters
    ----------
    types : iterable of str or None
        Names as typed (any case, surrounding blanks ignored). None or empty: every type.
    taxonomy : Taxonomy or path, optional
        Where the valid names come from (the packaged default when None).

    Returns
    -------
    tuple of str or None
        None when no type was given (keep every type).

    Raises
    ------
    ValueError
        A name the taxonomy does not map, with the list of valid ones.

    Examples
    --------
    >>> check_types(["burglary", "ROBBERY", "Burglary"])
    ('Burglary', 'Robbery')
    """
    if types is None:
        return None
    given = [str(t) for t in types]
    if not given:
        return None
    known = valid_types(taxonomy)
    by_key = {t.lower(): t for t in known}
    out: list[str] = []
    for name in given:
        found = by_key.get(name.strip().lower())
        if found is None:
            raise ValueError(
                f"--type {name!r}: not a police.uk crime type the taxonomy maps; expected one "
                f"of: {', '.join(known)}"
            )
        if found not in out:
            out.append(found)
    return tuple(out)


def selection_attrs(harm: str, types: Collection[str] | None) -> dict[str, Any]:
    """What a result records about its selection (DataFrame ``attrs``, JSON objects).

    Returns
    -------
    dict
        ``harm_view`` (``'drug'``/``'all'``), ``harm_label`` (its words) and ``types``
        (list of types kept, or None for every type).
    """
    key = check_harm(harm)
    return {
        "harm_view": key,
        "harm_label": HARM_VIEWS[key],
        "types": None if types is None else list(types),
    }
