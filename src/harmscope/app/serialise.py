"""Serialisation shared by every face: strict JSON, injection-safe CSV, GeoJSON of grid cells.

- JSON is strict (RFC 8259): NaN and infinities become ``null`` at any depth, numpy scalars
  become Python numbers, and months (stored as their first day) print as ``YYYY-MM``.
- CSV always goes through :func:`harmscope.export.write_csv`, which neutralises spreadsheet
  formula injection.
- GeoJSON follows RFC 7946: WGS84, longitude first.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyproj import Transformer

from harmscope.export import write_csv

__all__ = ["cells_geojson", "jsonable", "records", "to_json", "write_csv_out", "write_json"]


def jsonable(value: Any) -> Any:
    """*value* made JSON-ready at any depth (non-finite floats -> None, months -> YYYY-MM)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, datetime | pd.Timestamp | date):
        if pd.isna(value):
            return None
        ts = pd.Timestamp(value)
        # Months are stored as their first day: show them as analysts write them.
        if ts.day == 1 and ts == ts.normalize():
            return ts.strftime("%Y-%m")
        return ts.isoformat()
    if value is pd.NaT or value is pd.NA:
        return None
    if hasattr(value, "item") and callable(value.item):  # other numpy scalars
        return jsonable(value.item())
    return value


def to_json(payload: object, *, indent: int | None = 2) -> str:
    """Strict JSON text of *payload* (see :func:`jsonable`)."""
    return json.dumps(jsonable(payload), indent=indent, allow_nan=False)


def write_json(payload: object, out: str | Path | None = None, *, indent: int | None = 2) -> None:
    """Write strict JSON to *out*, or to stdout when *out* is None."""
    text = to_json(payload, indent=indent) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        Path(out).write_text(text, encoding="utf-8")


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """DataFrame rows as JSON-ready dicts (NaN -> None, months as YYYY-MM)."""
    clean = frame.astype(object).where(frame.notna(), None)
    return [jsonable(row) for row in clean.to_dict(orient="records")]


def write_csv_out(frame: pd.DataFrame, out: str | Path | None = None) -> None:
    """Write a table as CSV to *out*, or to stdout, through the injection-safe writer."""
    write_csv(frame, sys.stdout if out is None else out)


def cells_geojson(frame: pd.DataFrame, cell_size: float, *, name: str) -> dict[str, Any]:
    """Grid cells as a GeoJSON FeatureCollection of WGS84 polygons (RFC 7946), one per row.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per cell with ``cell_x``, ``cell_y`` (lower-left corner, EPSG:27700 metres);
        every column becomes a property.
    cell_size : float
        Cell side, metres.
    name : str
        The collection's name (QGIS shows it as the layer name).

    Notes
    -----
    Each square's four BNG corners are projected with pyproj (EPSG:27700 to EPSG:4326,
    longitude first, 7 decimals: about 1 cm).
    """
    to_wgs84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    x0 = frame["cell_x"].to_numpy(dtype=np.float64)
    y0 = frame["cell_y"].to_numpy(dtype=np.float64)
    corners_x = np.stack([x0, x0 + cell_size, x0 + cell_size, x0, x0], axis=1)
    corners_y = np.stack([y0, y0, y0 + cell_size, y0 + cell_size, y0], axis=1)
    lon, lat = to_wgs84.transform(corners_x.ravel(), corners_y.ravel())
    lon = np.round(np.asarray(lon).reshape(corners_x.shape), 7)
    lat = np.round(np.asarray(lat).reshape(corners_y.shape), 7)
    features = [
        {
            "type": "Feature",
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[float(a), float(b)] for a, b in zip(lo, la, strict=True)]],
            },
            "properties": props,
        }
        for lo, la, props in zip(lon, lat, records(frame), strict=True)
    ]
    return {"type": "FeatureCollection", "name": name, "features": features}
