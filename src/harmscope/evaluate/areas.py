"""Evaluation areas: target, buffer and control given as grid cells, LSOAs or polygons.

An :class:`AreaSpec` says which events belong to an area. Cells and LSOAs are matched in the
engine (Ibis, plain columns); polygons are matched with shapely (``contains_xy``, vectorised)
on events already aggregated by location, because portable engines have no geometry
functions (DESIGN §4). Polygons may be given in WGS84 (GeoJSON's default) or British National
Grid (EPSG:27700) metres; they are projected to BNG once, here.

Text forms (command line, TOML/JSON files) are parsed by :func:`parse_area`:

``all``
    Every event (e.g. the whole force area, or "the rest of the force" as a control: events
    already in the target or buffer are never counted again).
``lsoa:E01000001,E01000002`` (or bare codes ``E01000001,E01000002``)
    LSOA codes as published by police.uk (2011 codes before mid-2023).
``cells:530000_181000,530250_181000[@250]``
    Grid cells named by their lower-left corner in BNG metres; cell size after ``@``
    (default 250 m).
``lad:E07000138`` (or ``lad:Lincoln``; several comma-separated)
    Every LSOA of a local authority district, resolved against the warehouse ``areas``
    table when the evaluation runs (:func:`harmscope.places.study_area.lad_lsoas`, the same
    resolution as ``--area lad:...`` elsewhere).
``ring:500``
    A ring of that many metres around the target (buffers only; the target must be cells,
    polygons or LSOAs with boundaries loaded).
``PATH.geojson`` / ``PATH.json``
    A GeoJSON FeatureCollection, Feature or geometry of (Multi)Polygons. The CRS is read from
    the legacy ``crs`` member when present (``EPSG:27700`` = BNG); otherwise coordinates
    within longitude/latitude ranges are WGS84 and anything else is BNG.
``PATH.txt`` / ``PATH.csv``
    One LSOA code (or one ``X_Y`` cell) per line; blank lines and ``#`` comments ignored.

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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from harmscope.errors import InputError
from harmscope.places.study_area import geometry_from_geojson, lad_lsoas

__all__ = ["AreaSpec", "area_mask", "parse_area"]

AreaKind = Literal["all", "lsoas", "lad", "cells", "polygons", "ring"]

_LSOA_RE = re.compile(r"^[EWSN]0\d{7}$")
_CELL_RE = re.compile(r"^(-?\d+(?:\.\d+)?)_(-?\d+(?:\.\d+)?)$")
DEFAULT_CELL_SIZE = 250.0


@dataclass(frozen=True)
class AreaSpec:
    """Which events make up one area of an evaluation.

    Parameters
    ----------
    kind : {"all", "lsoas", "lad", "cells", "polygons", "ring"}
        How the area is defined (see the module docstring).
    lsoas : tuple of str
        LSOA codes (``kind="lsoas"``).
    lads : tuple of str
        Local authority district codes or names (``kind="lad"``; resolved to LSOAs by
        :meth:`resolve_lads`).
    cells : tuple of (float, float)
        Lower-left cell corners in BNG metres (``kind="cells"``).
    cell_size : float
        Side of a cell in metres (``kind="cells"``). Default 250.
    geometry : shapely geometry, optional
        (Multi)Polygon in BNG metres (``kind="polygons"``).
    ring_m : float
        Width of a ring around the target in metres (``kind="ring"``; resolved by
        :meth:`resolve_ring`).
    label : str
        How the area was given, for reports (e.g. a file name or ``"3 LSOAs"``).
    """

    kind: AreaKind
    lsoas: tuple[str, ...] = ()
    cells: tuple[tuple[float, float], ...] = ()
    cell_size: float = DEFAULT_CELL_SIZE
    geometry: BaseGeometry | None = field(default=None, compare=False)
    ring_m: float = 0.0
    label: str = ""
    lads: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind == "lsoas" and not self.lsoas:
            raise ValueError("an LSOA area needs at least one LSOA code")
        if self.kind == "lad" and not self.lads:
            raise ValueError("a district area needs at least one local authority code or name")
        if self.kind == "cells":
            if not self.cells:
                raise ValueError("a cell area needs at least one cell")
            if not (math.isfinite(self.cell_size) and self.cell_size > 0):
                raise ValueError(f"cell size must be a positive number, got {self.cell_size}")
        if self.kind == "polygons" and (self.geometry is None or self.geometry.is_empty):
            raise ValueError("a polygon area needs a non-empty polygon")
        if self.kind == "ring" and not (math.isfinite(self.ring_m) and self.ring_m > 0):
            raise ValueError(f"a ring needs a positive width in metres, got {self.ring_m}")

    # ------------------------------------------------------------------ constructors ------
    @classmethod
    def everything(cls) -> AreaSpec:
        """Every event (a whole force area)."""
        return cls("all", label="all events")

    @classmethod
    def from_lsoas(cls, codes: Iterable[str], *, label: str = "") -> AreaSpec:
        """An area of LSOA codes (duplicates dropped, order kept)."""
        clean = tuple(dict.fromkeys(str(c).strip() for c in codes if str(c).strip()))
        return cls("lsoas", lsoas=clean, label=label or _plural(len(clean), "LSOA"))

    @classmethod
    def from_cells(
        cls,
        cells: Iterable[Sequence[float]],
        *,
        cell_size: float = DEFAULT_CELL_SIZE,
        label: str = "",
    ) -> AreaSpec:
        """An area of grid cells named by their lower-left corners (BNG metres)."""
        clean = tuple(dict.fromkeys((float(c[0]), float(c[1])) for c in cells))
        for cx, cy in clean:
            if not (math.isclose(cx % cell_size, 0) or math.isclose(cx % cell_size, cell_size)):
                raise ValueError(
                    f"cell ({cx:g}, {cy:g}) is not aligned to the {cell_size:g} m grid "
                    "(cells are named by their lower-left corner, a multiple of the size)"
                )
        return cls(
            "cells",
            cells=clean,
            cell_size=float(cell_size),
            label=label or f"{_plural(len(clean), 'cell')} of {cell_size:g} m",
        )

    @classmethod
    def from_geometry(cls, geometry: BaseGeometry, *, label: str = "") -> AreaSpec:
        """An area from a shapely (Multi)Polygon in BNG metres."""
        if geometry.geom_type not in ("Polygon", "MultiPolygon"):
            raise ValueError(f"expected a Polygon or MultiPolygon, got {geometry.geom_type}")
        return cls("polygons", geometry=geometry, label=label or "polygon")

    @classmethod
    def from_lads(cls, lads: Iterable[str]) -> AreaSpec:
        """The LSOAs of local authority districts (codes or names), resolved when the
        evaluation runs (:meth:`resolve_lads`)."""
        clean = tuple(dict.fromkeys(str(c).strip() for c in lads if str(c).strip()))
        return cls("lad", lads=clean, label=f"LAD {', '.join(clean)}")

    def resolve_lads(self, source: Any) -> AreaSpec:
        """A district area as its LSOAs from the warehouse ``areas`` table (other kinds are
        returned unchanged).

        Parameters
        ----------
        source : str, Path or Ibis backend
            The warehouse (see :func:`harmscope.places.study_area.lad_lsoas`).
        """
        if self.kind != "lad":
            return self
        codes = list(dict.fromkeys(c for lad in self.lads for c in lad_lsoas(source, lad)))
        return AreaSpec.from_lsoas(codes, label=f"{self.label} ({len(codes)} LSOAs)")

    @classmethod
    def ring(cls, metres: float) -> AreaSpec:
        """A ring of ``metres`` around the target (a buffer); see :meth:`resolve_ring`."""
        return cls("ring", ring_m=float(metres), label=f"{metres:g} m ring around the target")

    # ------------------------------------------------------------------ geometry ----------
    def polygon(self) -> BaseGeometry:
        """The area as a shapely geometry in BNG metres (cells become squares)."""
        if self.kind == "polygons":
            assert self.geometry is not None
            return self.geometry
        if self.kind == "cells":
            s = self.cell_size
            return unary_union([box(x, y, x + s, y + s) for x, y in self.cells])
        raise ValueError(f"an area of kind {self.kind!r} has no polygon")

    def resolve_ring(self, target: AreaSpec, *, outline: BaseGeometry | None = None) -> AreaSpec:
        """The ring as a polygon area around ``target`` (the target itself excluded later).

        An LSOA target has no shape of its own: pass its boundary as ``outline`` (the union
        of its LSOAs from the warehouse ``area_shapes`` table).
        """
        if self.kind != "ring":
            return self
        if outline is None and target.kind not in ("cells", "polygons"):
            raise ValueError(
                "a ring around LSOAs needs their boundaries: load them with "
                "`harmscope load-areas`, or give the target as cells or a GeoJSON polygon"
            )
        inner = outline if outline is not None else target.polygon()
        outer = inner.buffer(self.ring_m)
        return AreaSpec("polygons", geometry=outer.difference(inner), label=self.label or "ring")

    def describe(self) -> str:
        """One line for reports."""
        if self.kind == "lsoas":
            shown = ", ".join(self.lsoas[:6]) + (" …" if len(self.lsoas) > 6 else "")
            return f"{self.label}: {shown}"
        if self.kind == "polygons" and self.geometry is not None:
            km2 = self.geometry.area / 1e6
            return f"{self.label} ({km2:.2f} km²)"
        return self.label

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description that :func:`parse_area` reads back (cells, LSOAs, rings,
        polygons as BNG GeoJSON)."""
        if self.kind == "all":
            return {"kind": "all"}
        if self.kind == "lad":
            return {"kind": "lad", "lads": list(self.lads)}
        if self.kind == "lsoas":
            return {"kind": "lsoas", "lsoas": list(self.lsoas), "label": self.label}
        if self.kind == "cells":
            return {
                "kind": "cells",
                "cells": [list(c) for c in self.cells],
                "cell_size": self.cell_size,
                "label": self.label,
            }
        if self.kind == "ring":
            return {"kind": "ring", "metres": self.ring_m}
        assert self.geometry is not None
        return {
            "kind": "polygons",
            "crs": "EPSG:27700",
            "geometry": shapely.geometry.mapping(self.geometry),
            "label": self.label,
        }


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


# ---------------------------------------------------------------------- matching ----------
def area_mask(
    area: AreaSpec,
    *,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    lsoa: NDArray[np.object_],
) -> NDArray[np.bool_]:
    """Which rows (one per event location) fall in ``area``.

    Parameters
    ----------
    area : AreaSpec
        A resolved area (not a ring).
    x, y : ndarray
        BNG easting and northing in metres (NaN where the event has no location).
    lsoa : ndarray of object
        LSOA codes (None where blank).

    Returns
    -------
    ndarray of bool
        ``True`` where the location is in the area. Points on a polygon's boundary are
        outside (``shapely.contains_xy``); rows without coordinates are never in a cell or
        polygon area.
    """
    n = len(x)
    if area.kind == "all":
        return np.ones(n, dtype=bool)
    if area.kind == "lsoas":
        return np.isin(lsoa.astype(object), np.array(area.lsoas, dtype=object))
    located = np.isfinite(x) & np.isfinite(y)
    out = np.zeros(n, dtype=bool)
    if area.kind == "cells":
        s = area.cell_size
        with np.errstate(invalid="ignore"):
            cx = np.floor(x / s) * s
            cy = np.floor(y / s) * s
        idx = np.flatnonzero(located)
        wanted = pd.MultiIndex.from_tuples(
            [(round(a, 6), round(b, 6)) for a, b in area.cells], names=["x", "y"]
        )
        here = pd.MultiIndex.from_arrays([np.round(cx[idx], 6), np.round(cy[idx], 6)])
        out[idx] = here.isin(wanted)
        return out
    if area.kind == "polygons":
        assert area.geometry is not None
        idx = np.flatnonzero(located)
        out[idx] = shapely.contains_xy(area.geometry, x[idx], y[idx])
        return out
    raise ValueError(
        f"resolve a {area.kind} area (against its target or the warehouse) before matching events"
    )


# ---------------------------------------------------------------------- parsing -----------
def _cells_from_tokens(tokens: Iterable[str], where: str) -> list[tuple[float, float]]:
    cells = []
    for tok in tokens:
        m = _CELL_RE.match(tok.strip())
        if not m:
            raise ValueError(f"{where}: {tok!r} is not a cell (expected X_Y, e.g. 530000_181250)")
        cells.append((float(m.group(1)), float(m.group(2))))
    return cells


def _lsoas_from_tokens(tokens: Iterable[str], where: str) -> list[str]:
    codes = [t.strip() for t in tokens if t.strip()]
    bad = [c for c in codes if not _LSOA_RE.match(c)]
    if bad:
        raise ValueError(f"{where}: {bad[0]!r} is not an LSOA code (expected e.g. E01000001)")
    return codes


def _read_list(path: Path) -> list[str]:
    out: list[str] = []
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        text = line.split("#", 1)[0].strip().strip(",")
        if text:
            out.extend(t for t in re.split(r"[,\s;]+", text) if t)
    return out


def parse_area(value: str | Mapping[str, Any], *, base: Path | None = None) -> AreaSpec:
    """Parse an area from its text form or a mapping (see the module docstring).

    Parameters
    ----------
    value : str or mapping
        ``"all"``, ``"lsoa:..."``, ``"cells:...[@SIZE]"``, ``"ring:METRES"``, a path, bare
        LSOA codes, or a mapping such as ``{"lsoas": [...]}``, ``{"cells": [[x, y], ...],
        "cell_size": 250}``, ``{"geojson": "file.geojson"}``, ``{"ring": 500}`` or the output
        of :meth:`AreaSpec.to_dict`.
    base : Path, optional
        Folder that relative paths are resolved against (a spec file's folder).

    Returns
    -------
    AreaSpec

    Raises
    ------
    InputError
        A file that cannot be read or parsed (names the file).
    ValueError
        Text that is none of the accepted forms.
    """
    if isinstance(value, Mapping):
        return _parse_mapping(value, base)
    text = str(value).strip()
    if not text:
        raise ValueError(
            "empty area: give all, lsoa:..., lad:..., cells:..., ring:METRES or a file"
        )
    low = text.lower()
    if low in ("all", "force", "everything"):
        return AreaSpec.everything()
    if low.startswith("lsoa:") or low.startswith("lsoas:"):
        codes = _lsoas_from_tokens(text.split(":", 1)[1].split(","), "lsoa")
        return AreaSpec.from_lsoas(codes)
    if low.startswith("lad:"):
        lads = [t.strip() for t in text.split(":", 1)[1].split(",") if t.strip()]
        if not lads:
            raise ValueError("lad: give a local authority code (e.g. E07000138) or name")
        return AreaSpec.from_lads(lads)
    if low.startswith("cells:"):
        body = text.split(":", 1)[1]
        size = DEFAULT_CELL_SIZE
        if "@" in body:
            body, size_text = body.rsplit("@", 1)
            try:
                size = float(size_text)
            except ValueError:
                raise ValueError(f"cells: cell size {size_text!r} is not a number") from None
        return AreaSpec.from_cells(_cells_from_tokens(body.split(","), "cells"), cell_size=size)
    if low.startswith("ring:"):
        metres = text.split(":", 1)[1].strip().removesuffix("m")
        try:
            return AreaSpec.ring(float(metres))
        except ValueError:
            raise ValueError(f"ring: {metres!r} is not a width in metres") from None
    path = Path(text)
    if base is not None and not path.is_absolute():
        path = base / path
    if path.suffix.lower() in (".geojson", ".json", ".txt", ".csv") or path.exists():
        return _parse_file(path)
    if all(_LSOA_RE.match(t.strip()) for t in text.split(",")):
        return AreaSpec.from_lsoas(t.strip() for t in text.split(","))
    raise ValueError(
        f"area {text!r}: expected all, lsoa:CODE,..., lad:CODE,..., cells:X_Y,...[@SIZE], "
        "ring:METRES, or a .geojson/.txt file"
    )


def _parse_file(path: Path) -> AreaSpec:
    if not path.exists():
        raise InputError("no such file", path=str(path))
    suffix = path.suffix.lower()
    try:
        if suffix in (".geojson", ".json"):
            doc = json.loads(path.read_text(encoding="utf-8-sig"))
            return AreaSpec.from_geometry(geometry_from_geojson(doc), label=path.name)
        tokens = _read_list(path)
        if not tokens:
            raise ValueError("the file lists no LSOA codes or cells")
        if _CELL_RE.match(tokens[0]):
            return AreaSpec.from_cells(_cells_from_tokens(tokens, path.name), label=path.name)
        return AreaSpec.from_lsoas(_lsoas_from_tokens(tokens, path.name), label=path.name)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON ({exc.msg})", path=str(path), line=exc.lineno, column=exc.colno
        ) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(str(exc), path=str(path)) from None


def _parse_mapping(value: Mapping[str, Any], base: Path | None) -> AreaSpec:
    kind = value.get("kind")
    label = str(value.get("label", ""))
    if kind == "all" or value.get("all") is True:
        return AreaSpec.everything()
    if kind == "lad" or "lad" in value or "lads" in value:
        lads = value.get("lads", value.get("lad"))
        if isinstance(lads, str):
            lads = lads.split(",")
        if not isinstance(lads, list | tuple):
            raise ValueError(f"lad: expected a code, a name or a list of them, got {lads!r}")
        return AreaSpec.from_lads(str(v) for v in lads)
    if "lsoas" in value:
        return AreaSpec.from_lsoas(
            _lsoas_from_tokens([str(v) for v in value["lsoas"]], "lsoas"), label=label
        )
    if "cells" in value:
        cells = value["cells"]
        if isinstance(cells, str):
            cells = _cells_from_tokens(cells.split(","), "cells")
        return AreaSpec.from_cells(
            [(float(c[0]), float(c[1])) for c in cells],
            cell_size=float(value.get("cell_size", DEFAULT_CELL_SIZE)),
            label=label,
        )
    if "ring" in value or kind == "ring":
        return AreaSpec.ring(float(value.get("ring", value.get("metres", 0))))
    if "geojson" in value:
        spec = parse_area(str(value["geojson"]), base=base)
        return spec if not label else AreaSpec.from_geometry(spec.polygon(), label=label)
    if "geometry" in value:
        crs = value.get("crs")
        which = None if crs is None else ("bng" if "27700" in str(crs) else "wgs84")
        return AreaSpec.from_geometry(
            geometry_from_geojson(value["geometry"], crs=which), label=label or "polygon"
        )
    if "area" in value:
        return parse_area(value["area"], base=base)
    raise ValueError(
        f"area table needs one of lsoas, lad, cells, ring, geojson, geometry or kind='all'; "
        f"got keys {sorted(value)}"
    )
