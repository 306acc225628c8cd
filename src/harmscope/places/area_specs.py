"""How a study area is given: LSOAs, local authorities or drawn polygons, and their grid cells.

:mod:`harmscope.places.study_area` builds on these (and re-exports them) to choose the one
study area of a dataset.

A given area becomes ``mask=(cell_x, cell_y)``: the cells of the grid (:mod:`harmscope.places.grid`) whose
**centres** fall inside the area. An area is given as

``lsoa:E01000001,E01000002``
    LSOAs by code; their boundaries come from the warehouse ``area_shapes`` table
    (``harmscope load-areas``).
``lad:E09000001``
    Every LSOA of a local authority district (code or name, as in the ``areas`` table; the
    reference load gives English LSOAs their 2019 district from IMD 2019).
``PATH.geojson`` / ``PATH.json``
    A user-drawn area: a GeoJSON FeatureCollection, Feature or geometry of (Multi)Polygons in
    WGS84 (GeoJSON's default) or British National Grid metres. The CRS is read from the legacy
    ``crs`` member when present (``EPSG:27700`` = BNG); otherwise coordinates within
    longitude/latitude ranges are WGS84 and anything else BNG.

Geometry is resolved here, once, in numpy and shapely (``shapely.contains_xy`` on every
candidate cell centre at once); the analyses then only see cell corners, plain columns that any
engine can join on (DESIGN §4).

A centre on the area's boundary is outside (``contains_xy``), so a square drawn along cell
edges selects exactly the cells it covers. An area smaller than a cell may hold no centre at
all; that is an error that suggests a smaller cell size.

References
----------
Gillies, S. et al. Shapely: manipulation and analysis of geometric objects
(``shapely.contains_xy``). https://shapely.readthedocs.io

Ordnance Survey (2020). *A guide to coordinate systems in Great Britain*, v3.6 (EPSG:27700).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis.expr.types as ir
import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from harmscope.errors import InputError, WarehouseError
from harmscope.harm.weigh import keep_values
from harmscope.places.grid import DEFAULT_CELL_SIZE
from harmscope.sources.areas import geojson_crs, looks_wgs84, to_bng
from harmscope.warehouse.handle import Warehouse

__all__ = [
    "LSOA_RE",
    "SPEC_HELP",
    "StudyArea",
    "cells_in",
    "geometry_from_geojson",
    "lad_lsoas",
    "lsoa_geometry",
    "parse_study_area",
    "read_geojson_area",
    "require_table",
]

LSOA_RE = re.compile(r"^[EWSN]0\d{7}$")
_BLOCK = 4_000_000  # cell centres tested per contains_xy call (bounds memory on big areas)
SPEC_HELP = "lsoa:CODE,..., lad:CODE or a .geojson file"


@dataclass(frozen=True)
class StudyArea:
    """A study area as a polygon in BNG metres.

    Attributes
    ----------
    geometry : shapely geometry
        Valid (Multi)Polygon, EPSG:27700 metres.
    label : str
        How it was given, for reports (``"LAD E09000001 (6 LSOAs)"``, a file name ...).
    lsoas : tuple of str
        The LSOAs it was built from (empty for a drawn area).
    """

    geometry: BaseGeometry = field(compare=False)
    label: str
    lsoas: tuple[str, ...] = ()

    def cells(
        self, cell_size: float = DEFAULT_CELL_SIZE
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The grid cells whose centres fall inside (see :func:`cells_in`)."""
        return cells_in(self.geometry, cell_size)

    def describe(self) -> str:
        """One line for reports: label and area."""
        return f"{self.label} ({self.geometry.area / 1e6:.2f} km²)"


# ---------------------------------------------------------------------- cells -------------
def cells_in(
    geometry: BaseGeometry, cell_size: float = DEFAULT_CELL_SIZE
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Lower-left corners of the grid cells whose centres lie inside ``geometry``.

    Parameters
    ----------
    geometry : shapely geometry
        (Multi)Polygon in BNG metres.
    cell_size : float, default 250
        Cell side, metres; cells are aligned to multiples of it.

    Returns
    -------
    cell_x, cell_y : ndarray of float64
        Sorted by ``cell_y`` then ``cell_x`` (row-major from the south-west), possibly empty.
        A centre on the boundary is outside.
    """
    if not (isinstance(cell_size, int | float) and math.isfinite(cell_size) and cell_size > 0):
        raise ValueError(f"cell_size must be a positive number of metres, got {cell_size!r}")
    s = float(cell_size)
    empty = (np.empty(0, dtype=np.float64), np.empty(0, dtype=np.float64))
    if geometry.is_empty:
        return empty
    minx, miny, maxx, maxy = geometry.bounds
    # Cell i has its centre at (i + 0.5) * s: the candidates are the centres inside the bounds.
    i0, i1 = math.ceil(minx / s - 0.5), math.floor(maxx / s - 0.5)
    j0, j1 = math.ceil(miny / s - 0.5), math.floor(maxy / s - 0.5)
    if i1 < i0 or j1 < j0:
        return empty
    shapely.prepare(geometry)
    cols = np.arange(i0, i1 + 1, dtype=np.int64)
    rows_per_block = max(1, _BLOCK // cols.size)
    xs: list[NDArray[np.float64]] = []
    ys: list[NDArray[np.float64]] = []
    for start in range(j0, j1 + 1, rows_per_block):
        rows = np.arange(start, min(start + rows_per_block, j1 + 1), dtype=np.int64)
        gi, gj = np.meshgrid(cols, rows)
        gi, gj = gi.ravel(), gj.ravel()
        inside = shapely.contains_xy(geometry, (gi + 0.5) * s, (gj + 0.5) * s)
        xs.append(gi[inside].astype(np.float64) * s)
        ys.append(gj[inside].astype(np.float64) * s)
    return np.concatenate(xs), np.concatenate(ys)


# ---------------------------------------------------------------------- warehouse ---------
def require_table(wh: Warehouse, name: str, hint: str) -> ir.Table:
    """Table ``name`` of the warehouse, or a WarehouseError that says how to load it."""
    if not wh.has(name):
        raise WarehouseError(f"the warehouse has no {name} table: {hint}")
    return wh.table(name)


_SHAPES_HINT = (
    "load LSOA boundaries with `harmscope load-areas --reference DIR` "
    "(or --csv FILE with an areas.geojson beside it)"
)


def lsoa_geometry(source: Any, codes: Sequence[str]) -> BaseGeometry:
    """The union of the boundaries of ``codes`` from the warehouse ``area_shapes`` table.

    Parameters
    ----------
    source : str, Path, Ibis backend or None
        Warehouse file (None: the default warehouse) or an open Ibis backend.
    codes : sequence of str
        LSOA codes.

    Raises
    ------
    WarehouseError
        No ``area_shapes`` table, or some code has no boundary there.
    """
    wanted = list(dict.fromkeys(str(c).strip() for c in codes if str(c).strip()))
    if not wanted:
        raise ValueError("no LSOA codes given")
    with Warehouse.of(source) as wh:
        shapes = require_table(wh, "area_shapes", _SHAPES_HINT)
        found = (
            keep_values(shapes, "lsoa_code", wanted).select("lsoa_code", "geometry").to_pyarrow()
        )
    have = found.column("lsoa_code").to_pylist()
    missing = [c for c in wanted if c not in set(have)]
    if missing:
        shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        raise WarehouseError(
            f"no boundary in the warehouse for {len(missing)} LSOA(s): {shown}; {_SHAPES_HINT}"
        )
    geoms = shapely.from_wkb(np.array(found.column("geometry").to_pylist(), dtype=object))
    return shapely.union_all(geoms)


def lad_lsoas(source: Any, lad: str) -> list[str]:
    """The LSOA codes of a local authority district, by code or name (``areas`` table).

    Raises
    ------
    WarehouseError
        No ``areas`` table, or no LSOA of that district in it.
    """
    key = lad.strip()
    if not key:
        raise ValueError("lad: give a local authority code (e.g. E09000001) or name")
    with Warehouse.of(source) as wh:
        areas = require_table(wh, "areas", "load areas with `harmscope load-areas --reference DIR`")
        match = (areas.lad_code.upper() == key.upper()) | (areas.lad_name.lower() == key.lower())
        codes = areas.filter(match).select("lsoa_code").order_by("lsoa_code").to_pyarrow()
    out = [str(c) for c in codes.column("lsoa_code").to_pylist()]
    if not out:
        raise WarehouseError(
            f"no LSOA of local authority {key!r} in the areas table (the reference load gives "
            "English LSOAs their 2019 district code and name, from IMD 2019)"
        )
    return out


# ---------------------------------------------------------------------- GeoJSON -----------
def geometry_from_geojson(doc: Mapping[str, Any], *, crs: str | None = None) -> BaseGeometry:
    """The union of the (Multi)Polygons of a GeoJSON object, in BNG metres.

    Parameters
    ----------
    doc : mapping
        FeatureCollection, Feature or geometry.
    crs : {"wgs84", "bng"}, optional
        Coordinate system of ``doc``; by default read from its ``crs`` member, else guessed
        from the coordinate ranges (longitude/latitude ranges mean WGS84).

    Returns
    -------
    shapely geometry
        A valid (Multi)Polygon in EPSG:27700 metres.
    """
    kind = doc.get("type")
    if kind == "FeatureCollection":
        geoms = [shape(f["geometry"]) for f in doc.get("features", []) if f.get("geometry")]
    elif kind == "Feature":
        geoms = [shape(doc["geometry"])] if doc.get("geometry") else []
    elif kind in ("Polygon", "MultiPolygon"):
        geoms = [shape(doc)]
    else:
        raise ValueError(f"expected a GeoJSON FeatureCollection, Feature or Polygon, got {kind!r}")
    geoms = [g for g in geoms if not g.is_empty]
    bad = sorted({g.geom_type for g in geoms} - {"Polygon", "MultiPolygon"})
    if bad:
        raise ValueError(f"areas must be Polygons or MultiPolygons, found {', '.join(bad)}")
    if not geoms:
        raise ValueError("the GeoJSON has no polygons")
    geom = shapely.union_all([shapely.make_valid(g) for g in geoms])
    which = crs or geojson_crs(doc) or ("wgs84" if looks_wgs84(geom.bounds) else "bng")
    if which == "wgs84":
        geom = to_bng(geom)
    elif which != "bng":
        raise ValueError(f"crs must be 'wgs84' or 'bng', got {which!r}")
    if geom.area <= 0:
        raise ValueError("the polygons have no area")
    return geom


def read_geojson_area(path: str | Path) -> BaseGeometry:
    """A drawn area from a GeoJSON file, in BNG metres (see :func:`geometry_from_geojson`).

    Raises
    ------
    InputError
        Missing, unreadable or invalid file (names the file).
    """
    p = Path(path)
    if not p.exists():
        raise InputError("no such file", path=str(p))
    try:
        doc = json.loads(p.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON ({exc.msg})", path=str(p), line=exc.lineno, column=exc.colno
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the file ({exc})", path=str(p)) from None
    try:
        if not isinstance(doc, Mapping):
            raise ValueError("expected a GeoJSON object")
        return geometry_from_geojson(doc)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(str(exc), path=str(p)) from None


# ---------------------------------------------------------------------- specs -------------
def _codes(text: str, what: str) -> list[str]:
    codes = [t.strip() for t in text.split(",") if t.strip()]
    if not codes:
        raise ValueError(f"{what}: give at least one code")
    return codes


def parse_study_area(spec: str, source: Any = None, *, base: Path | None = None) -> StudyArea:
    """A study area from its text form (see the module docstring).

    Parameters
    ----------
    spec : str
        ``lsoa:CODE,...``, ``lad:CODE`` (or ``lad:NAME``; several comma-separated) or a
        GeoJSON path.
    source : str, Path, Ibis backend or None
        The warehouse holding ``areas`` and ``area_shapes`` (None: the default warehouse);
        not opened for a GeoJSON file.
    base : Path, optional
        Folder that a relative path is resolved against.

    Raises
    ------
    ValueError
        Text that is none of the forms, or a malformed LSOA code.
    WarehouseError
        LSOAs or a district the warehouse has no boundary for.
    InputError
        A GeoJSON file that cannot be read.
    """
    text = str(spec).strip()
    low = text.lower()
    if low.startswith(("lsoa:", "lsoas:")):
        codes = _codes(text.split(":", 1)[1], "lsoa")
        bad = [c for c in codes if not LSOA_RE.match(c)]
        if bad:
            raise ValueError(f"lsoa: {bad[0]!r} is not an LSOA code (expected e.g. E01000001)")
        geom = lsoa_geometry(source, codes)
        label = codes[0] if len(codes) == 1 else f"{len(codes)} LSOAs"
        return StudyArea(geometry=geom, label=label, lsoas=tuple(dict.fromkeys(codes)))
    if low.startswith("lad:"):
        lads = _codes(text.split(":", 1)[1], "lad")
        codes = list(dict.fromkeys(c for lad in lads for c in lad_lsoas(source, lad)))
        geom = lsoa_geometry(source, codes)
        return StudyArea(
            geometry=geom, label=f"LAD {', '.join(lads)} ({len(codes)} LSOAs)", lsoas=tuple(codes)
        )
    if not text:
        raise ValueError(f"empty study area: give {SPEC_HELP}")
    path = Path(text)
    if base is not None and not path.is_absolute():
        path = base / path
    if path.suffix.lower() in (".geojson", ".json") or path.exists():
        return StudyArea(geometry=read_geojson_area(path), label=path.name)
    raise ValueError(f"study area {text!r}: expected {SPEC_HELP}")
