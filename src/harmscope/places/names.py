"""Readable names for places: grid cells, hot spots, markets and ranked rows.

A place is named from the police.uk records that fall in it, most telling first:

1. its most frequent police.uk ``location`` strings (the anonymised map point's description,
   "On or near Bishopsgate"): the top one or two, joined as
   ``"On or near Bishopsgate / Liverpool Street"``;
2. its most frequent LSOA name as police.uk publishes it (``"City of London 001F"``);
3. its local authority: ``lad_name`` from the ``areas`` table when loaded, else the LSOA
   name's district part (ONS LSOA names are ``"<local authority> <3 digits><letter>"``).

The name is ``"<locations>, <LSOA name>"`` (either part alone when the other is missing), or
the local authority alone, or ``""`` for a place with no named record. Ties between equally
frequent strings go to the alphabetically first, so the same data always give the same names.

Counting is set-based in the engine (one ``GROUP BY`` of the located events by place,
location and LSOA name); only those counts come back to be ranked, so the cost is linear in
events and no event is looped over in Python. Records of every month count by default: a place's name is a
property of the place, not of the query period, and stays the same across ``--from/--to``.
"""

from __future__ import annotations

import re
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from harmscope.harm import select_events
from harmscope.periods import Months
from harmscope.places.grid import DEFAULT_CELL_SIZE, with_cells

__all__ = [
    "NAME_COLUMNS",
    "area_table",
    "cell_names",
    "compose_name",
    "local_authority",
    "name_cells",
    "unit_names",
]

NAME_COLUMNS: tuple[str, ...] = ("name", "locations", "lsoa_name", "local_authority")
"""Name columns of :func:`cell_names` and :func:`unit_names` after the place key."""

#: The ``Location`` police.uk publishes for a record without coordinates ("No Location":
#: 37,629 rows of the 39-force extract); compared in lower case and never used as a name.
_NO_LOCATION = "no location"

_PREFIX = "On or near "

_LSOA_TAIL = re.compile(r"\d{3}[A-Z]")


def local_authority(lsoa_name: Any) -> str:
    """The local authority part of an ONS LSOA name; ``""`` when there is none.

    Examples
    --------
    >>> local_authority("City of London 001F"), local_authority("North Kesteven 012C")
    ('City of London', 'North Kesteven')
    >>> local_authority("Lincoln"), local_authority(None)
    ('Lincoln', '')
    """
    if lsoa_name is None or (isinstance(lsoa_name, float) and pd.isna(lsoa_name)):
        return ""
    text = str(lsoa_name).strip()
    head, _, tail = text.rpartition(" ")
    return head if head and _LSOA_TAIL.fullmatch(tail) else text


def compose_name(locations: list[str], lsoa_name: str, authority: str) -> str:
    """One readable name from the top locations, the LSOA name and the local authority.

    Examples
    --------
    >>> compose_name(["On or near Bishopsgate", "On or near Liverpool Street"],
    ...              "City of London 001F", "City of London")
    'On or near Bishopsgate / Liverpool Street, City of London 001F'
    >>> compose_name([], "", "Lincoln")
    'Lincoln'
    """
    parts = [str(s).strip() for s in locations if str(s).strip()]
    # "On or near" is said once: "On or near A / B", not "On or near A / On or near B".
    words = parts[:1] + [p[len(_PREFIX) :] if p.startswith(_PREFIX) else p for p in parts[1:]]
    where = " / ".join(words)
    if where and lsoa_name:
        return f"{where}, {lsoa_name}"
    return where or lsoa_name or authority


def _counts(table: ir.Table, keys: list[str]) -> pd.DataFrame:
    """Records per place, ``location`` and ``lsoa_name``: the one pass over the events.

    The engine counts; everything after runs on these counts, which number at most the
    distinct (place, location, LSOA name) triples.
    """
    counts = table.group_by([*keys, "location", "lsoa_name"]).aggregate(_n=table.count())
    return counts.to_pandas()


def _top(counts: pd.DataFrame, keys: list[str], column: str, k: int) -> pd.DataFrame:
    """The ``k`` most frequent non-empty values of ``column`` per ``keys`` (ties: A to Z)."""
    # Each distinct text is cleaned once (a national table repeats a location or LSOA name
    # over many cells); missing values (code -1) are never kept.
    codes, uniques = pd.factorize(counts[column])
    value = pd.Series(uniques, dtype=object).astype("string").str.strip()
    keep = (value.notna() & (value != "") & (value.str.lower() != _NO_LOCATION)).fillna(False)
    kept = np.append(keep.to_numpy(dtype=bool), False)  # code -1 reads the last: missing
    rows = kept[codes]
    named = counts.loc[rows, keys].assign(
        _v=value.astype(str).to_numpy(dtype=object)[codes[rows]],
        _n=counts.loc[rows, "_n"].to_numpy(),
    )
    per = named.groupby([*keys, "_v"], as_index=False, sort=False)["_n"].sum()
    per = per.sort_values([*keys, "_n", "_v"], ascending=[*([True] * len(keys)), False, True])
    return per.groupby(keys, sort=False).head(k)


def _authorities(areas: ir.Table | None) -> dict[str, str]:
    """``lsoa_name`` -> local authority name from the ``areas`` table (empty when not loaded)."""
    if areas is None or "lad_name" not in areas.columns:
        return {}
    frame = (
        areas.filter(areas.lsoa_name.notnull() & areas.lad_name.notnull())
        .select("lsoa_name", "lad_name")
        .distinct()
        .to_pandas()
    )
    return dict(zip(frame["lsoa_name"].astype(str), frame["lad_name"].astype(str), strict=True))


def _named(
    placed: ir.Table, keys: list[str], areas: ir.Table | None, *, locations: int
) -> pd.DataFrame:
    """Names of every place of ``placed`` (events with the ``keys`` columns), as a frame."""
    counts = _counts(placed, keys)
    loc = _top(counts, keys, "location", locations)
    lsoa = _top(counts, keys, "lsoa_name", 1)
    by_la = _authorities(areas)
    places = pd.concat([loc[keys], lsoa[keys]], ignore_index=True).drop_duplicates()
    places = places.reset_index(drop=True)
    # Column by column over all places at once (no Python call per place): the r-th most
    # frequent location of each place; loc is in rank order within each place.
    rank = loc.groupby(keys, sort=False).cumcount()
    where = pd.Series("", index=places.index, dtype=object)
    listed = pd.Series("", index=places.index, dtype=object)
    for r in range(locations):
        top = loc.loc[rank.to_numpy() == r, [*keys, "_v"]]
        v = places.merge(top, on=keys, how="left")["_v"]
        has = v.notna().to_numpy()
        text = v.fillna("").astype(str)
        # "On or near" is said once: "On or near A / B", not "On or near A / On or near B".
        said = (
            text
            if r == 0
            else text.str.slice(len(_PREFIX)).where(text.str.startswith(_PREFIX), text)
        )
        sep = "" if r == 0 else " / "
        where = where.where(~has, where + sep + said)
        listed = listed.where(~has, listed + sep + text)
    lsoa_name = places.merge(lsoa[[*keys, "_v"]], on=keys, how="left")["_v"].fillna("").astype(str)
    names = {n: by_la.get(n) or local_authority(n) for n in pd.unique(lsoa_name)}
    authority = lsoa_name.map(names).astype(object)
    both = (where != "") & (lsoa_name != "")
    name = where.where(where != "", lsoa_name.where(lsoa_name != "", authority))
    name = name.where(~both, where + ", " + lsoa_name)
    out = places.assign(name=name, locations=listed, lsoa_name=lsoa_name, local_authority=authority)
    out = out[[*keys, *NAME_COLUMNS]]
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


def _located(events: ir.Table, months: Months | None) -> ir.Table:
    """Located events carrying a location or LSOA name, optionally within months."""
    t = events.filter(events.x.notnull() & events.y.notnull())
    if months is not None:
        t = select_events(t, months=months)
    cols = [c for c in ("x", "y", "location", "lsoa_name") if c in t.columns]
    t = t.select(*cols)
    for missing in ("location", "lsoa_name"):
        if missing not in t.columns:
            t = t.mutate(**{missing: ibis.null("string")})
    return t


def cell_names(
    events: ir.Table,
    *,
    cell_size: float = DEFAULT_CELL_SIZE,
    months: Months | None = None,
    areas: ir.Table | None = None,
    locations: int = 2,
) -> pd.DataFrame:
    """A readable name for every grid cell holding a named record.

    Parameters
    ----------
    events : ibis.Table
        Warehouse ``events`` (``x``, ``y`` in BNG metres; ``location`` and ``lsoa_name`` used).
    cell_size : float, default 250
        Cell side, metres.
    months : (from, to), optional
        Count only these months' records; default every month, so names do not change with
        the period asked about.
    areas : ibis.Table, optional
        The warehouse ``areas`` table (``lsoa_name``, ``lad_name``): local authority names.
    locations : int, default 2
        How many of the most frequent location strings make the name.

    Returns
    -------
    pandas.DataFrame
        ``cell_x``, ``cell_y`` (float metres) and :data:`NAME_COLUMNS`: ``name``,
        ``locations`` (the top strings joined by ``' / '``), ``lsoa_name``,
        ``local_authority``; sorted by ``cell_x``, ``cell_y``.

    Examples
    --------
    >>> events = ibis.memtable({
    ...     "x": [10.0, 20.0, 30.0, 400.0], "y": [10.0, 20.0, 30.0, 10.0],
    ...     "location": ["On or near A Street", "On or near B Road", "On or near A Street",
    ...                  None],
    ...     "lsoa_name": ["Lincoln 001A", "Lincoln 001A", "Lincoln 001B", "Boston 003C"],
    ... })
    >>> cell_names(events)[["cell_x", "name"]].values.tolist()
    [[0.0, 'On or near A Street / B Road, Lincoln 001A'], [250.0, 'Boston 003C']]
    """
    placed = with_cells(_located(events, months), cell_size=cell_size)
    placed = placed.mutate(
        cell_x=placed.cell_x.cast("float64"), cell_y=placed.cell_y.cast("float64")
    )
    return _named(placed, ["cell_x", "cell_y"], areas, locations=locations)


def unit_names(
    events: ir.Table,
    units: pd.DataFrame,
    *,
    cell_size: float = DEFAULT_CELL_SIZE,
    months: Months | None = None,
    areas: ir.Table | None = None,
    locations: int = 2,
) -> pd.DataFrame:
    """A readable name for each unit made of grid cells (a market's core cells, an area).

    The records of all the unit's cells are counted together, so a unit is named after the
    streets most recorded across it, not after one cell.

    Parameters
    ----------
    events : ibis.Table
        Warehouse ``events``.
    units : DataFrame
        ``unit_id``, ``cell_x``, ``cell_y`` (lower-left corners, metres): the cells of each
        unit (a cell may belong to several units).
    cell_size, months, areas, locations
        As :func:`cell_names`.

    Returns
    -------
    pandas.DataFrame
        ``unit_id`` and :data:`NAME_COLUMNS`, one row per unit of ``units`` (name ``""``
        for a unit without a named record), in ``unit_id`` order.
    """
    ids = sorted(set(units["unit_id"].astype(str)))
    if not ids:
        return pd.DataFrame(columns=["unit_id", *NAME_COLUMNS])
    lookup = ibis.memtable(
        pd.DataFrame(
            {
                "unit_id": units["unit_id"].astype(str).to_numpy(),
                "_cx": units["cell_x"].astype("float64").to_numpy(),
                "_cy": units["cell_y"].astype("float64").to_numpy(),
            }
        )
    )
    placed = with_cells(_located(events, months), cell_size=cell_size)
    placed = placed.mutate(
        cell_x=placed.cell_x.cast("float64"), cell_y=placed.cell_y.cast("float64")
    )
    joined = placed.inner_join(
        lookup, [placed.cell_x == lookup["_cx"], placed.cell_y == lookup["_cy"]]
    ).select("unit_id", "location", "lsoa_name")
    named = _named(joined, ["unit_id"], areas, locations=locations)
    full = pd.DataFrame({"unit_id": ids}).merge(named, on="unit_id", how="left")
    for col in NAME_COLUMNS:
        full[col] = full[col].fillna("").astype(str)
    return full


def area_table(wh: Any) -> ir.Table | None:
    """The warehouse ``areas`` table when one is loaded (local authority names), else None."""
    return wh.table("areas") if wh.has("areas") else None


def name_cells(frame: pd.DataFrame, names: pd.DataFrame, *, after: str = "cell_y") -> pd.DataFrame:
    """``frame`` with a ``name`` column from ``names`` (:func:`cell_names`) after ``after``.

    ``frame`` keeps its rows, order and ``attrs``; cells without a named record get ``""``.

    Examples
    --------
    >>> names = pd.DataFrame({"cell_x": [0.0], "cell_y": [0.0], "name": ["Lincoln 001A"]})
    >>> name_cells(pd.DataFrame({"cell_x": [0, 250], "cell_y": [0, 0]}), names).values.tolist()
    [[0, 0, 'Lincoln 001A'], [250, 0, '']]
    """
    key = pd.MultiIndex.from_arrays(
        [frame["cell_x"].astype("float64"), frame["cell_y"].astype("float64")]
    )
    lookup = names.set_index(["cell_x", "cell_y"])["name"]
    values = lookup.reindex(key).fillna("").astype(str).to_numpy()
    out = frame.copy()
    out.insert(out.columns.get_loc(after) + 1, "name", values)
    out.attrs = dict(frame.attrs)
    return out
