"""The study area of the places analyses: the one set of grid cells every command uses.

Every places command of a dataset — ``hotspots``, ``emerging``, ``concentration``,
``markets``, ``priorities``, ``validate-forecast``, ``areas`` and the overview report — runs on
the same cells, chosen here once (:func:`dataset_area`):

- by default the **force's own area**: the local authority districts whose records per LSOA
  reach 5 % of the force's busiest district's (:func:`force_lsoas`), as the grid cells whose
  centres fall in their LSOAs plus any cell holding a record police.uk places in one of them;
- or a user's area (``--area``: ``lsoa:...``, ``lad:...`` or a GeoJSON file; see
  :mod:`harmscope.places.area_specs`), as the cells whose centres fall inside.

Located records in no study-area cell are **strays**: counted (:class:`AreaCells`, printed on
stderr by the CLI and in the report) and left out. The analyses take the cells as
``mask=(cell_x, cell_y)`` (or an :class:`AreaCells`); :func:`resolve_area` is the one place
they turn their ``within=`` / ``mask=`` options into cells; :func:`events_in_cells` restricts
an Ibis events table to the cells in the engine.

The area-giving functions of :mod:`harmscope.places.area_specs` are re-exported here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from numpy.typing import NDArray

from harmscope.errors import WarehouseError
from harmscope.harm import select_events
from harmscope.harm.weigh import OUTCOME_SOURCE, keep_values
from harmscope.periods import Months
from harmscope.places.area_specs import (
    LSOA_RE,
    SPEC_HELP,
    StudyArea,
    cells_in,
    geometry_from_geojson,
    lad_lsoas,
    lsoa_geometry,
    parse_study_area,
    read_geojson_area,
)
from harmscope.places.grid import DEFAULT_CELL_SIZE
from harmscope.warehouse.handle import Warehouse

__all__ = [
    "AREA",
    "AREA_RULE",
    "DEFAULT_MIN_DENSITY",
    "LSOA_RE",
    "SPEC_HELP",
    "AreaCells",
    "StudyArea",
    "Within",
    "cells_in",
    "dataset_area",
    "events_in_cells",
    "force_lsoas",
    "geometry_from_geojson",
    "lad_lsoas",
    "lsoa_geometry",
    "one_area_per_command",
    "parse_study_area",
    "read_geojson_area",
    "records_outside",
    "resolve_area",
    "study_area_mask",
]


def events_in_cells(
    events: ir.Table,
    mask: tuple[Any, Any],
    *,
    cell_size: float = DEFAULT_CELL_SIZE,
) -> ir.Table:
    """The rows of ``events`` whose location falls in one of the ``mask`` cells (Ibis, any
    engine): a semi-join of the rows' cells with the mask. Rows without a location drop out.

    The result has the columns of ``events`` and nothing else, so it can stand in for the
    warehouse ``events`` table in any analysis.
    """
    mx = np.asarray(mask[0], dtype=np.float64).ravel()
    my = np.asarray(mask[1], dtype=np.float64).ravel()
    if mx.shape != my.shape:
        raise ValueError("mask must be two arrays of cell corners of equal length")
    s = float(cell_size)
    ix = np.rint(mx / s).astype(np.int64)
    iy = np.rint(my / s).astype(np.int64)
    wanted = ibis.memtable({"_area_ix": ix, "_area_iy": iy})
    keyed = events.filter(events.x.notnull() & events.y.notnull()).mutate(
        _area_ix=(events.x.cast("float64") / s).floor().cast("int64"),
        _area_iy=(events.y.cast("float64") / s).floor().cast("int64"),
    )
    inside = keyed.semi_join(wanted, ["_area_ix", "_area_iy"])
    return inside.select(*events.columns)


def study_area_mask(
    spec: str | StudyArea,
    source: Any = None,
    *,
    cell_size: float = DEFAULT_CELL_SIZE,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The ``mask=(cell_x, cell_y)`` of a study area, for hotspots, markets and forecasts.

    Parameters
    ----------
    spec : str or StudyArea
        See :func:`parse_study_area`.
    source : str, Path, Ibis backend or None
        The warehouse (for LSOA and district areas).
    cell_size : float, default 250
        Cell side, metres.

    Raises
    ------
    ValueError
        No cell centre falls inside the area (it is smaller than a cell).
    """
    area = spec if isinstance(spec, StudyArea) else parse_study_area(spec, source)
    cx, cy = area.cells(cell_size)
    if cx.size == 0:
        raise ValueError(
            f"no {cell_size:g} m cell has its centre inside {area.describe()}: "
            "use a smaller --cell-size or a larger area"
        )
    return cx, cy


# ---------------------------------------------------------------------- the dataset's area -
DEFAULT_MIN_DENSITY = 0.05
"""A district belongs to the force's area when its records per LSOA reach this share of the
force's busiest district's (see :func:`force_lsoas`)."""

AREA_RULE = (
    "the force's area: the local authority districts whose records per LSOA reach "
    "{pct:g} % of the force's busiest district's, as grid cells whose centres fall in their LSOAs "
    "(plus any cell holding a record police.uk places in one of those LSOAs)"
)


@dataclass(frozen=True)
class AreaCells:
    """The study area every places command of one dataset uses, as grid cells.

    Attributes
    ----------
    cell_x, cell_y : ndarray of float64
        Lower-left corners of the study-area cells, metres (EPSG:27700), sorted by ``cell_y``
        then ``cell_x``.
    cell_size : float
        Cell side, metres.
    label : str
        What the area is (``"force area: 1 district (City of London), 6 LSOAs"``, a ``--area``
        label, ...).
    rule : str
        The rule that chose it, in one sentence, for reports.
    lsoas : tuple of str
        The LSOAs of the area (empty when not known, e.g. a drawn area); per-resident rates
        are computed over these only.
    located : int
        Located records in the warehouse (all months, every kind).
    strays : int
        Of those, the records in no study-area cell: left out of every places analysis.
    stray_lsoas : int
        LSOAs that records name but that are outside the area's LSOAs (0 when ``lsoas`` is
        empty); their records are left out of per-LSOA tables.
    """

    cell_x: NDArray[np.float64] = field(compare=False, repr=False)
    cell_y: NDArray[np.float64] = field(compare=False, repr=False)
    cell_size: float
    label: str
    rule: str
    lsoas: tuple[str, ...] = field(default=(), repr=False)
    located: int = 0
    strays: int = 0
    stray_lsoas: int = 0

    @property
    def mask(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(cell_x, cell_y)``, the ``mask=`` the analyses take."""
        return self.cell_x, self.cell_y

    @property
    def cells(self) -> int:
        """Number of study-area cells."""
        return int(self.cell_x.size)

    def describe(self) -> str:
        """One line for stderr and reports: the area, its cells and the strays left out."""
        share = f" ({self.strays / self.located:.1%})" if self.located else ""
        lsoa_part = (
            f"; {self.stray_lsoas:,} LSOA(s) outside it named by records"
            if self.stray_lsoas
            else ""
        )
        return (
            f"study area: {self.label}, {self.cells:,} cells of {self.cell_size:g} m; "
            f"{self.strays:,} of {self.located:,} located records lie outside it{share} "
            f"and are left out{lsoa_part}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the cell lists)."""
        return {
            "label": self.label,
            "rule": self.rule,
            "cells": self.cells,
            "cell_size": self.cell_size,
            "lsoas": len(self.lsoas),
            "located": self.located,
            "strays": self.strays,
            "stray_lsoas": self.stray_lsoas,
        }


def _district(name: Any) -> str | None:
    """The district part of an ONS LSOA name (``'City of London 001A'`` -> ``'City of London'``)."""
    text = str(name or "").strip()
    head, _, tail = text.rpartition(" ")
    return head if head and re.fullmatch(r"\d{3}[A-Z]", tail) else (text or None)


def force_lsoas(
    events: ir.Table, backend: Any = None, *, min_density: float = DEFAULT_MIN_DENSITY
) -> tuple[list[str], list[str]]:
    """The LSOAs of the force's own area and the names of its districts (the district rule).

    police.uk places each record at an anonymised map point and names the LSOA of that point;
    near a force boundary, and for mislocated records, that LSOA belongs to a neighbouring
    force. Police force areas in England and Wales are unions of whole local authority
    districts, so the area is chosen district by district: a district is the force's when
    its records per LSOA (records naming its LSOAs / its LSOAs) reach ``min_density`` (5 %)
    of the force's busiest district's. Neighbours' districts hold a few records per LSOA
    (36 months of City of London: Tower Hamlets 0.12 % of the City's density; Lincolnshire:
    Rutland 0.22 % of Lincoln's), the force's own districts tens of per cent (Lincolnshire's
    least busy, North Kesteven, 32 %). With several forces in one warehouse (the ``force``
    column) the rule runs for each force and the areas are joined.

    A district is the ``lad_code`` of the warehouse ``areas`` table when it has one, else the
    district part of the LSOA name (ONS names LSOAs ``<district> <MSOA number><letter>``). Its
    LSOA count comes from ``areas`` when loaded; without it only the LSOAs that records name
    are known, which overstates a neighbour's density (load the reference areas).

    Returns
    -------
    lsoas, districts : list of str
        Every LSOA of the kept districts (sorted; from ``areas`` when loaded, else those the
        records name) and the kept districts' names. Both empty when no record has an LSOA.
    """
    if not 0 < min_density <= 1:
        raise ValueError(f"min_density must be in (0, 1], got {min_density}")
    named = events.filter(events.lsoa_code.notnull())
    force = named.force if "force" in named.columns else ibis.literal("")
    named = named.mutate(_force=force.coalesce(""))
    per_lsoa = (
        named.group_by(["_force", "lsoa_code"])
        .aggregate(n=named.count(), name=named.lsoa_name.max())
        .to_pyarrow()
        .to_pandas()  # through Arrow: Ibis's own pandas conversion cost more than the query
    )
    if per_lsoa.empty:
        return [], []
    per_lsoa["district"] = per_lsoa["name"].map(_district)
    tables = set(backend.list_tables()) if backend is not None else set()
    universe = None
    if "areas" in tables:
        areas = backend.table("areas").select("lsoa_code", "lsoa_name", "lad_code", "lad_name")
        universe = areas.to_pyarrow().to_pandas()
        universe["district"] = universe["lad_code"].where(
            universe["lad_code"].notna(), universe["lsoa_name"].map(_district)
        )
        universe["label"] = universe["lad_name"].where(
            universe["lad_name"].notna(), universe["district"]
        )
        known = per_lsoa["lsoa_code"].isin(universe["lsoa_code"])
        lookup = universe.set_index("lsoa_code")["district"]
        per_lsoa.loc[known, "district"] = per_lsoa.loc[known, "lsoa_code"].map(lookup)
    per_lsoa["district"] = per_lsoa["district"].fillna(per_lsoa["lsoa_code"])
    records = per_lsoa.groupby(["_force", "district"])["n"].sum()
    named_sizes = per_lsoa.groupby(["_force", "district"])["lsoa_code"].nunique()
    if universe is not None:
        full = universe.groupby("district")["lsoa_code"].nunique()
        sizes = pd.Series(
            records.index.get_level_values("district").map(full), index=records.index
        ).fillna(named_sizes)
    else:
        sizes = named_sizes
    density = records / sizes
    busiest = density.groupby(level="_force").transform("max")
    kept = set(density[density >= min_density * busiest].index.get_level_values("district"))
    lsoas = set(per_lsoa.loc[per_lsoa["district"].isin(kept), "lsoa_code"])
    labels = {d: d for d in kept}
    if universe is not None:
        inside = universe[universe["district"].isin(kept)]
        lsoas |= set(inside["lsoa_code"])
        labels.update(inside.groupby("district")["label"].first().to_dict())
    return sorted(lsoas), sorted(str(labels[d]) for d in kept)


def dataset_area(
    source: Any,
    area: str | StudyArea | None = None,
    *,
    cell_size: float = DEFAULT_CELL_SIZE,
    min_density: float = DEFAULT_MIN_DENSITY,
) -> AreaCells:
    """The one study area of a dataset that every places command uses, with its strays.

    Parameters
    ----------
    source : str, Path, Ibis backend, Ibis table or None
        The warehouse (None: the default warehouse) or its ``events`` table.
    area : str or StudyArea, optional
        A user's area (``--area``: ``lsoa:...``, ``lad:...`` or a GeoJSON file); its cells are
        those whose centres fall inside (:func:`study_area_mask`).
    cell_size : float, default 250
        Cell side, metres.
    min_density : float, default 0.05
        The district rule's threshold (:func:`force_lsoas`).

    Returns
    -------
    AreaCells

    Notes
    -----
    Without ``area`` the area is the force's (:func:`force_lsoas`): the cells whose centres
    fall in its LSOAs (boundaries from ``area_shapes``), plus every cell holding a record
    police.uk places in one of those LSOAs, so that no record of the force's own LSOAs is lost
    to a boundary cell whose centre is just outside. Without boundaries only the second part
    applies; when no record names an LSOA the area is every cell holding a located record
    (strays then cannot be told apart, and the label says so). A stray is a located record
    in no study-area cell; records of stray LSOAs inside an area cell stay in cell analyses
    (the cell is the unit there) but not in per-LSOA tables.

    Inside :func:`one_area_per_command` the area of the same data is computed once.
    """
    with Warehouse.of(source) as wh:
        events, backend = wh.events(), wh.backend
        cache = _AREAS.get()
        key = None
        if cache is not None and (area is None or isinstance(area, str)):
            key = _area_key(events, backend, area, float(cell_size), float(min_density))
            if key is not None and key in cache:
                return _copied(cache[key][0])
        found = _dataset_area(wh, area, cell_size=cell_size, min_density=min_density)
    if cache is not None and key is not None:
        # The backend is kept with the answer so that an id() in the key is never reused.
        cache[key] = (_copied(found), backend)
    return found


#: The areas already computed inside :func:`one_area_per_command`, by :func:`_area_key`;
#: None outside it (every call computes).
_AREAS: ContextVar[dict[tuple[Any, ...], tuple[AreaCells, Any]] | None] = ContextVar(
    "harmscope_study_areas", default=None
)


@contextmanager
def one_area_per_command() -> Iterator[None]:
    """Within the block, :func:`dataset_area` computes each dataset's area once.

    A command asks for the area at several layers (the harm matrix asks three times: the CLI
    for its strays note, local attribution, and the markets it attributes to), each with its
    own connection; every ask cost the engine a second at 1/8 of the national data (issue
    13). Inside the block, a second ask with the same data, ``area``, ``cell_size`` and
    ``min_density`` gets a copy of the first answer. The data are the same when the events
    expression is the same (the whole ``events`` table, or the same filter of it, as SQL) on
    the same DuckDB file (or the same connection, for an in-memory database); other engines
    are not cached. A user's area given as a :class:`StudyArea` object is not cached.

    For a command that only reads the warehouse while the block is open: a write inside it
    (``ingest``, ``load-areas``) could change the answer, and the block would not see it.
    Blocks nest (an inner block shares the outer one's answers).
    """
    if _AREAS.get() is not None:
        yield
        return
    token = _AREAS.set({})
    try:
        yield
    finally:
        _AREAS.reset(token)


def _area_key(
    events: ir.Table, backend: Any, area: str | None, cell_size: float, min_density: float
) -> tuple[Any, ...] | None:
    """What makes two :func:`dataset_area` asks the same, or None when that cannot be told
    cheaply (no backend, an engine other than DuckDB)."""
    con = getattr(backend, "con", None)
    if backend is None or getattr(backend, "name", None) != "duckdb" or con is None:
        return None
    row = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    path = row[0] if row else None
    where: Any = ("file", os.path.realpath(path)) if path else ("connection", id(backend))
    op = events.op()
    data: Any = None
    if isinstance(op, ops.DatabaseTable):  # a whole table: no SQL to write
        data = ("table", op.name, repr(op.namespace))
    else:
        try:
            data = str(ibis.to_sql(events, dialect="duckdb"))
        except Exception:  # an expression ibis cannot write as SQL: compute every time
            return None
    return (where, data, area, cell_size, min_density)


def _copied(found: AreaCells) -> AreaCells:
    """*found* with its own cell arrays, so no caller's edit reaches another's area."""
    return replace(found, cell_x=found.cell_x.copy(), cell_y=found.cell_y.copy())


def _dataset_area(
    wh: Warehouse, area: str | StudyArea | None, *, cell_size: float, min_density: float
) -> AreaCells:
    """:func:`dataset_area` of an open warehouse, computed."""
    events, backend = wh.events(), wh.backend
    located_t = _located_records(events)
    if area is not None:
        spec = area if isinstance(area, StudyArea) else parse_study_area(area, wh)
        cx, cy = study_area_mask(spec, cell_size=cell_size)
        label, rule, lsoas = (
            spec.describe(),
            "cells whose centres fall in the given area",
            spec.lsoas,
        )
    else:
        cx, cy, label, rule, lsoas = _force_cells(events, backend, cell_size, min_density)
    located, inside = _located_inside(located_t, cx, cy, float(cell_size))
    strays = located - inside
    stray_lsoas = 0
    if lsoas:
        named = events.filter(events.lsoa_code.notnull())
        outside = keep_values(named, "lsoa_code", lsoas, keep=False)
        stray_lsoas = int(outside.lsoa_code.nunique().to_pyarrow().as_py())
    return AreaCells(
        cell_x=cx,
        cell_y=cy,
        cell_size=float(cell_size),
        label=label,
        rule=rule,
        lsoas=tuple(lsoas),
        located=located,
        strays=strays,
        stray_lsoas=stray_lsoas,
    )


def _force_cells(
    events: ir.Table, backend: Any, cell_size: float, min_density: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], str, str, tuple[str, ...]]:
    """Cells, label, rule and LSOAs of the force's own area (see :func:`dataset_area`)."""
    s = float(cell_size)
    has_lsoa = "lsoa_code" in events.columns and "lsoa_name" in events.columns
    lsoas, districts = (
        force_lsoas(events, backend, min_density=min_density) if has_lsoa else ([], [])
    )
    located = events.filter(events.x.notnull() & events.y.notnull())
    own = keep_values(located, "lsoa_code", lsoas) if lsoas else located
    corners = (
        own.mutate(
            _cx=(own.x.cast("float64") / s).floor() * s,
            _cy=(own.y.cast("float64") / s).floor() * s,
        )
        .select("_cx", "_cy")
        .distinct()
    )
    if getattr(backend, "name", None) == "duckdb":
        corners = corners.to_pyarrow()  # Ibis's pandas conversion doubled the time at 1x
    else:
        # PostgreSQL returns the products as numeric (its literal 250.0 is numeric), which
        # Ibis's Arrow path refuses and its pandas path converts to the float64 it typed
        corners = pa.Table.from_pandas(corners.to_pandas(), preserve_index=False)
    xs = [np.asarray(corners.column("_cx").to_numpy(), dtype=np.float64)]
    ys = [np.asarray(corners.column("_cy").to_numpy(), dtype=np.float64)]
    shapes = backend is not None and "area_shapes" in backend.list_tables()
    if lsoas and shapes:
        have = keep_values(backend.table("area_shapes"), "lsoa_code", lsoas)
        if int(have.count().to_pyarrow().as_py()) > 0:
            found = have.select("geometry").to_pyarrow()
            geom = shapely.union_all(
                shapely.from_wkb(np.array(found.column("geometry").to_pylist(), dtype=object))
            )
            gx, gy = cells_in(geom, cell_size)
            xs.append(gx)
            ys.append(gy)
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    if x.size == 0:
        raise WarehouseError("no located records: the study area would be empty")
    cx, cy = _unique_cells(x, y, s)
    pct = min_density * 100
    if not lsoas:
        return (
            cx,
            cy,
            "every cell holding a located record (no record names an LSOA: strays cannot be "
            "told apart)",
            "cells holding at least one located record",
            (),
        )
    shown = ", ".join(districts[:3]) + (" …" if len(districts) > 3 else "")
    plural = "district" if len(districts) == 1 else "districts"
    label = f"force area: {len(districts)} {plural} ({shown}), {len(lsoas):,} LSOAs"
    if not shapes:
        label += " (no LSOA boundaries loaded: only cells holding their records)"
    return cx, cy, label, AREA_RULE.format(pct=pct), tuple(lsoas)


def _located_inside(
    located: ir.Table, cx: NDArray[np.float64], cy: NDArray[np.float64], cell_size: float
) -> tuple[int, int]:
    """Located records, and those of them in the cells ``(cx, cy)`` (distinct lower-left
    corners, metres), in one pass of the engine: the count of ``located`` and of
    :func:`events_in_cells` of it, each cell key matched as there."""
    ix = np.rint(cx / cell_size).astype(np.int64)
    iy = np.rint(cy / cell_size).astype(np.int64)
    wanted = ibis.memtable({"_area_ix": ix, "_area_iy": iy, "_area_in": np.ones(ix.size)})
    keyed = located.select(
        _area_ix=(located.x.cast("float64") / cell_size).floor().cast("int64"),
        _area_iy=(located.y.cast("float64") / cell_size).floor().cast("int64"),
    )
    # A left join keeps every located record once: the cells are distinct, so each record
    # matches at most one of them.
    joined = keyed.left_join(wanted, ["_area_ix", "_area_iy"])
    counts = joined.aggregate(n=joined.count(), inside=joined["_area_in"].count()).to_pyarrow()
    return int(counts["n"][0].as_py()), int(counts["inside"][0].as_py())


def _unique_cells(
    x: NDArray[np.float64], y: NDArray[np.float64], cell_size: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The distinct cells of corners ``(x, y)`` (metres, multiples of ``cell_size``), sorted by
    ``y`` then ``x``: what ``np.unique(np.column_stack([y, x]), axis=0)`` gives, from one
    integer key per cell (its row-major index) instead of a sort of float pairs, which cost
    a fifth of the area's time."""
    ix = np.rint(x / cell_size).astype(np.int64)
    iy = np.rint(y / cell_size).astype(np.int64)
    ix0 = ix.min()
    width = ix.max() - ix0 + 1
    _, first = np.unique((iy - iy.min()) * width + (ix - ix0), return_index=True)
    return x[first], y[first]


AREA: Final = "area"
"""The ``within=`` default of the places analyses: use the dataset's study area."""

Within = float | None | Literal["area"]
"""``within=``: the dataset's study area (``"area"``), metres around occupied cells, or None."""


def resolve_area(
    events: ir.Table,
    *,
    mask: tuple[Any, Any] | AreaCells | None,
    within: Within,
    cell_size: float,
) -> tuple[tuple[Any, Any] | None, float | None, dict[str, Any] | None]:
    """What an analysis runs on: ``(mask, within, study_area)``.

    An :class:`AreaCells` gives its cells; explicit cells are used as given; otherwise
    ``within="area"`` (the default of every places analysis) computes :func:`dataset_area` of
    the ``events`` table's warehouse, and a number (or None) keeps the older occupied-cells
    lattice of :func:`~harmscope.places.grid.study_area_cells`. ``study_area`` is the area's
    :meth:`AreaCells.to_dict` (None for explicit cells or ``within``), for the result object.
    """
    if isinstance(mask, AreaCells):
        return mask.mask, None, mask.to_dict()
    if mask is not None:
        return mask, None, None
    if isinstance(within, str):
        if within != AREA:
            raise ValueError(f"within must be metres, None or {AREA!r}, got {within!r}")
        found = dataset_area(events, cell_size=cell_size)
        return found.mask, None, found.to_dict()
    return None, within, None


def records_outside(events: ir.Table, area: AreaCells, *, months: Months | None = None) -> int:
    """Located records of the period outside the study area's cells (strays), counted as the
    places commands count them (:func:`events_in_cells`).

    For commands that count every record (the harm matrix, the report's headline), so they can
    say plainly how many of their records the places commands leave out. Records with no
    location are not strays.
    """
    located = _located_records(select_events(events, months=months))
    inside = events_in_cells(located, area.mask, cell_size=area.cell_size)
    return int(located.count().execute()) - int(inside.count().execute())


def _located_records(events: ir.Table) -> ir.Table:
    """Located crimes and searches: records, not rows (an outcome row repeats a street crime
    already counted, so it is never a record of its own)."""
    if "source" in events.columns:
        events = events.filter(events.source.isnull() | (events.source != OUTCOME_SOURCE))
    return events.filter(events.x.notnull() & events.y.notnull())
