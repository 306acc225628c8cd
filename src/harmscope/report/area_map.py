"""Where an evaluation looked: a map of its target, buffer and control areas.

Each area is drawn from what it was given as: cells as squares, polygons as given, a ring
around the target as the ring, and LSOAs (or a district's LSOAs) from their boundaries in
the warehouse ``area_shapes`` table (``harmscope load-areas``). An area that has no shape —
``all`` (every event not in another area), or LSOAs whose boundaries are not loaded — is named
in the legend as "not drawn" with the reason, so a reader never mistakes a missing area for an
empty one.

The map is an SVG whose text stays text (``svg.fonttype = 'none'``), so the legend can be
read, searched and checked in the HTML; matplotlib (Agg) draws it offline, like every chart.
Coordinates are British National Grid metres (EPSG:27700).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from harmscope.errors import HarmScopeError
from harmscope.evaluate.spec import Intervention
from harmscope.places.area_specs import lsoa_geometry

__all__ = ["COLOURS", "Shape", "area_map", "area_shapes"]

#: Fill colour of each role (the same as the report's monthly charts).
COLOURS: dict[str, str] = {"target": "#b2182b", "buffer": "#ef8a62", "control": "#2166ac"}

#: An area's geometry (BNG metres), or None with the reason it cannot be drawn.
Shape = tuple[BaseGeometry | None, str]


def _lsoas(spec: Any, db: str | Path | None) -> tuple[str, ...]:
    if spec.kind == "lad":
        return tuple(spec.resolve_lads(db).lsoas)
    return tuple(spec.lsoas)


def area_shapes(iv: Intervention, db: str | Path | None = None) -> dict[str, Shape]:
    """The shape of each area of an intervention, by role, in precedence order.

    Parameters
    ----------
    iv : Intervention
    db : str or Path, optional
        Warehouse holding the LSOA boundaries (``area_shapes``); without it LSOA and district
        areas are not drawn.

    Returns
    -------
    dict of str to (geometry or None, str)
        Geometry in BNG metres, or None and why it is not drawn.
    """
    out: dict[str, Shape] = {}
    for role, spec in iv.areas.items():
        if spec.kind in ("cells", "polygons"):
            out[role] = (spec.polygon(), "")
        elif spec.kind == "all":
            out[role] = (None, "every event not in another area")
        elif spec.kind in ("lsoas", "lad"):
            if db is None:
                out[role] = (None, "LSOA boundaries not given")
                continue
            try:
                out[role] = (lsoa_geometry(db, _lsoas(spec, db)), "")
            except (HarmScopeError, ValueError) as exc:
                out[role] = (None, f"no boundaries ({exc})")
        elif spec.kind == "ring":
            inner = out.get("target", (None, ""))[0]
            if inner is None:
                out[role] = (None, "the target has no shape to draw a ring around")
            else:
                out[role] = (spec.resolve_ring(iv.target, outline=inner).polygon(), "")
    return out


def _path(geom: BaseGeometry) -> MplPath:
    """A matplotlib path of (multi)polygons with holes (outer rings counter-clockwise)."""
    parts = list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]
    verts: list[tuple[float, float]] = []
    codes: list[int] = []
    for part in parts:
        if not isinstance(part, Polygon) or part.is_empty:
            continue
        # Holes must wind the other way for the non-zero fill rule to leave them empty.
        poly = orient(part, 1.0)
        for ring in (poly.exterior, *poly.interiors):
            xy = list(ring.coords)
            verts.extend(xy)
            codes.append(int(MplPath.MOVETO))
            codes.extend([int(MplPath.LINETO)] * (len(xy) - 2))
            codes.append(int(MplPath.CLOSEPOLY))
    return MplPath(verts, codes)


def area_map(shapes: Mapping[str, Shape], labels: Mapping[str, str]) -> Figure | None:
    """Map of the areas (target on top), with a legend naming each one.

    Parameters
    ----------
    shapes : mapping of role to (geometry or None, reason)
        From :func:`area_shapes`.
    labels : mapping of role to str
        How each area is described (``AreaSpec.describe()``).

    Returns
    -------
    Figure or None
        None when no area has a shape to draw.
    """
    drawn = {role: g for role, (g, _) in shapes.items() if g is not None and not g.is_empty}
    if not drawn:
        return None
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    handles = []
    # Control first, target last: the area of interest is drawn on top.
    for role in ("control", "buffer", "target"):
        if role not in shapes:
            continue
        geom, why = shapes[role]
        colour = COLOURS[role]
        label = f"{role}: {labels.get(role, '')}".rstrip(": ")
        if geom is None or geom.is_empty:
            handles.append(Patch(fill=False, ec="none", label=f"{label} (not drawn: {why})"))
            continue
        ax.add_patch(
            PathPatch(_path(geom), fc=colour, ec=colour, alpha=0.45 if role != "target" else 0.7)
        )
        handles.append(Patch(fc=colour, ec=colour, alpha=0.6, label=label))
    x0, y0, x1, y1 = _bounds(list(drawn.values()))
    pad = max(x1 - x0, y1 - y0) * 0.05 + 50
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect("equal")
    ax.set_title("Target, buffer and control areas")
    ax.set_xlabel("easting (m, EPSG:27700)")
    ax.set_ylabel("northing (m)")
    ax.ticklabel_format(style="plain")
    ax.xaxis.set_major_locator(plt.MaxNLocator(4))
    ax.grid(alpha=0.3)
    # Legend in reverse drawing order: target, buffer, control, as the tables list them.
    ax.legend(
        handles=handles[::-1],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.14),
        fontsize=8,
        frameon=False,
    )
    return fig


def _bounds(geoms: list[BaseGeometry]) -> tuple[float, float, float, float]:
    b = [g.bounds for g in geoms]
    return (
        min(v[0] for v in b),
        min(v[1] for v in b),
        max(v[2] for v in b),
        max(v[3] for v in b),
    )
