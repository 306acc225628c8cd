"""GIS layers QGIS and ArcGIS open directly: GeoPackage and GeoParquet, in EPSG:27700.

A layer is a :class:`geopandas.GeoDataFrame` in British National Grid (EPSG:27700), the CRS
every HarmScope coordinate is in, so cell squares are exact (no reprojection) and their
corners are the ``cell_x, cell_y`` of the row:

- grid cells (hot spots, emerging hot spots, a KDE surface): :func:`cells_layer`, one square
  polygon per row;
- markets: :func:`markets_layer`, each market's footprint cells as one (multi)polygon;
- LSOAs: :func:`areas_layer`, each row's boundary from the warehouse ``area_shapes`` table.

:func:`write_raster` writes one value per grid cell as a GeoTIFF (rasterio), the cells as
pixels of a north-up raster in EPSG:27700.

:func:`write_layer` writes GeoPackage (OGC 12-128r19, through pyogrio/GDAL) or GeoParquet
(1.x, through geopandas/pyarrow) *atomically*: into a temporary file beside the target,
renamed over it only once complete, so an error never leaves a half-written layer. Both keep
full precision (rounding is for text and CSV, :func:`harmscope.app.serialise.readable`); months
are written as ``YYYY-MM`` text, as everywhere.

References
----------
.. [1] Open Geospatial Consortium (2021). *GeoPackage Encoding Standard*, OGC 12-128r18.
.. [2] GeoParquet 1.1.0 specification, https://geoparquet.org/releases/v1.1.0/.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from harmscope.app.serialise import units
from harmscope.errors import WarehouseError
from harmscope.warehouse.handle import Warehouse

if TYPE_CHECKING:
    from harmscope.markets import Market

__all__ = [
    "CRS",
    "GEO_FORMATS",
    "areas_layer",
    "as_layer",
    "cell_polygons",
    "cells_layer",
    "layer_geojson",
    "lsoa_shapes",
    "markets_layer",
    "write_layer",
    "write_raster",
]

#: British National Grid: the CRS of every coordinate HarmScope holds.
CRS = "EPSG:27700"

#: GIS formats, with what each holds (both need a file: they are binary).
GEO_FORMATS: dict[str, str] = {
    "gpkg": "GeoPackage layer, EPSG:27700 polygons (QGIS, ArcGIS Pro)",
    "parquet": "GeoParquet, EPSG:27700 polygons (QGIS 3.28+, ArcGIS Pro 3.2+, geopandas, R sf)",
}


def cell_polygons(cell_x: Any, cell_y: Any, cell_size: float) -> np.ndarray:
    """Square cells as shapely polygons, from their lower-left corners (metres, EPSG:27700).

    Examples
    --------
    >>> cell_polygons([533000], [181250], 250)[0].bounds
    (533000.0, 181250.0, 533250.0, 181500.0)
    """
    x0 = np.asarray(cell_x, dtype=np.float64)
    y0 = np.asarray(cell_y, dtype=np.float64)
    return np.asarray(shapely.box(x0, y0, x0 + cell_size, y0 + cell_size))


def _months_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Date columns as ``YYYY-MM`` text (GIS drivers would write them as timestamps)."""
    out = frame.copy()
    for col in out.columns:
        values = out[col]
        present = values.dropna()
        if values.dtype.kind == "M" or (
            values.dtype == object
            and not present.empty
            and all(hasattr(v, "year") and hasattr(v, "month") for v in present)
        ):
            stamps = pd.to_datetime(values, errors="coerce")
            out[col] = stamps.dt.strftime("%Y-%m").where(stamps.notna(), None)
    return out


def cells_layer(frame: pd.DataFrame, cell_size: float) -> gpd.GeoDataFrame:
    """Grid-cell rows (``cell_x``, ``cell_y``: lower-left corners) as a polygon layer.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per cell; every column is kept as an attribute.
    cell_size : float
        Cell side, metres.

    Returns
    -------
    geopandas.GeoDataFrame
        The rows with a ``geometry`` of squares, CRS EPSG:27700.
    """
    if not {"cell_x", "cell_y"} <= set(frame.columns):
        raise ValueError("a cell layer needs cell_x and cell_y (grid-cell rows)")
    geometry = cell_polygons(frame["cell_x"], frame["cell_y"], cell_size)
    return gpd.GeoDataFrame(_months_as_text(frame), geometry=geometry, crs=CRS)


def markets_layer(found: Sequence[Market], frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """Markets as a polygon layer: each row's footprint cells dissolved into one shape.

    Parameters
    ----------
    found : sequence of Market
        The markets, in the order of ``frame``'s rows.
    frame : pandas.DataFrame
        One row per market (:func:`harmscope.markets.markets_frame`).

    Returns
    -------
    geopandas.GeoDataFrame
        ``frame`` with a ``geometry`` of (Multi)Polygons, EPSG:27700. The buffer is not
        drawn: it is ``buffer`` metres around the footprint, which GIS tools draw on demand.
    """
    if len(found) != len(frame):
        raise ValueError(f"{len(found)} markets but {len(frame)} rows")
    shapes = []
    for market in found:
        corners = np.asarray(market.cells, dtype=np.float64).reshape(-1, 2)
        shapes.append(
            shapely.union_all(cell_polygons(corners[:, 0], corners[:, 1], market.cell_size))
        )
    return gpd.GeoDataFrame(
        _months_as_text(frame), geometry=np.asarray(shapes, dtype=object), crs=CRS
    )


def lsoa_shapes(source: Any, codes: Sequence[str]) -> dict[str, Any]:
    """The boundary of each LSOA in ``codes`` from the warehouse ``area_shapes`` table.

    Parameters
    ----------
    source : str, Path, Ibis backend or None
        The warehouse (None: the default one).
    codes : sequence of str
        LSOA codes; those without a boundary are left out of the result.

    Returns
    -------
    dict of str to shapely geometry
        Code -> (Multi)Polygon, EPSG:27700.

    Raises
    ------
    WarehouseError
        The warehouse has no ``area_shapes`` table, or no boundary of any of ``codes``.
    """
    wanted = sorted({str(c) for c in codes})
    hint = "load LSOA boundaries with `harmscope load-areas --reference DIR` (or --geojson FILE)"
    with Warehouse.of(source) as wh:
        if not wh.has("area_shapes"):
            raise WarehouseError(f"the warehouse has no area_shapes table: {hint}")
        shapes = wh.table("area_shapes")
        found = (
            shapes.filter(shapes.lsoa_code.isin(wanted)).select("lsoa_code", "geometry")
        ).to_pyarrow()
    if wanted and found.num_rows == 0:
        raise WarehouseError(
            f"the warehouse holds no boundary of these {len(wanted)} LSOAs: {hint}"
        )
    geoms = shapely.from_wkb(np.array(found.column("geometry").to_pylist(), dtype=object))
    return dict(zip(found.column("lsoa_code").to_pylist(), geoms, strict=True))


def areas_layer(frame: pd.DataFrame, shapes: Mapping[str, Any]) -> gpd.GeoDataFrame:
    """LSOA rows (``lsoa_code``) as a polygon layer of their boundaries.

    A row whose LSOA has no boundary in ``shapes`` gets an empty geometry (GIS tools list it
    in the attribute table without drawing it).
    """
    if "lsoa_code" not in frame.columns:
        raise ValueError("an area layer needs lsoa_code")
    geometry = np.asarray([shapes.get(str(code)) for code in frame["lsoa_code"]], dtype=object)
    return gpd.GeoDataFrame(_months_as_text(frame), geometry=geometry, crs=CRS)


def as_layer(frame: pd.DataFrame, cell_size: float | None) -> gpd.GeoDataFrame | None:
    """*frame* as a layer: itself if it has geometry, its cells' squares if it has grid cells
    and ``cell_size`` is known, else None (a plain table)."""
    if isinstance(frame, gpd.GeoDataFrame):
        return frame
    if cell_size is not None and {"cell_x", "cell_y"} <= set(frame.columns):
        return cells_layer(frame, cell_size)
    return None


def layer_geojson(layer: gpd.GeoDataFrame, *, name: str = "harmscope") -> dict[str, Any]:
    """A layer as a GeoJSON FeatureCollection (RFC 7946: WGS84, longitude first, 7 decimals,
    about 1 cm), every column a property, and ``units`` (the unit of each column of a known
    kind, :func:`harmscope.app.serialise.units`) when the layer has a ``harm_unit``."""
    import json

    wgs84 = layer.to_crs("EPSG:4326")
    wgs84 = wgs84.set_geometry(shapely.set_precision(wgs84.geometry.values, 1e-7))
    doc: dict[str, Any] = json.loads(wgs84.to_json(na="null", drop_id=True))
    out: dict[str, Any] = {"type": "FeatureCollection", "name": name}  # RFC 7946: no crs
    if "harm_unit" in layer.columns and len(layer):
        out["units"] = units(list(layer.columns), str(layer["harm_unit"].iloc[0]))
    out["features"] = doc["features"]
    return out


def write_layer(
    layer: gpd.GeoDataFrame, fmt: str, out: str | Path, *, name: str = "harmscope"
) -> None:
    """Write ``layer`` as GeoPackage (``gpkg``) or GeoParquet (``parquet``), atomically.

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
        The layer (its CRS is written with it).
    fmt : {'gpkg', 'parquet'}
    out : path
        The file to write; replaced only once the new one is complete.
    name : str
        GeoPackage layer name (QGIS shows it in the layer list).

    Raises
    ------
    ValueError
        Unknown format.
    """
    if fmt not in GEO_FORMATS:
        raise ValueError(f"unknown GIS format {fmt!r} (known: {', '.join(GEO_FORMATS)})")
    target = Path(out)
    # Same folder, so the final rename is atomic (one file system); hidden until complete.
    # The extension stays last: GDAL checks it is .gpkg.
    part = target.with_name(f".{target.stem}.part{os.getpid()}{target.suffix or '.' + fmt}")
    try:
        if fmt == "gpkg":
            layer.to_file(part, driver="GPKG", layer=name, engine="pyogrio")
        else:
            layer.to_parquet(part, index=False)
        part.replace(target)
    finally:
        part.unlink(missing_ok=True)


def write_raster(frame: pd.DataFrame, column: str, cell_size: float, out: str | Path) -> None:
    """Write one value per grid cell as a single-band GeoTIFF in EPSG:27700, atomically.

    Parameters
    ----------
    frame : pandas.DataFrame
        Grid-cell rows: ``cell_x``, ``cell_y`` (lower-left corners, metres) and ``column``.
    column : str
        The value each pixel holds (float64).
    cell_size : float
        Cell side, metres: the pixel size.
    out : path
        The ``.tif`` to write; replaced only once the new one is complete.

    Notes
    -----
    The raster is north-up: its top-left corner is ``(min cell_x, max cell_y + cell_size)``,
    pixels are ``cell_size`` square, so the cell with lower-left corner ``(x, y)`` is the
    pixel of row ``(top - y) / cell_size - 1``, column ``(x - left) / cell_size``, and the
    pixel holding a cell's centre holds that cell's value. Pixels of the bounding box that
    are not study-area cells are *nodata* (NaN). Compressed with DEFLATE.
    """
    import rasterio
    from rasterio.transform import from_origin

    if frame.empty:
        raise ValueError("no cells to draw as a raster")
    x = frame["cell_x"].to_numpy(dtype=np.float64)
    y = frame["cell_y"].to_numpy(dtype=np.float64)
    left, top = float(x.min()), float(y.max()) + cell_size
    cols = np.rint((x - left) / cell_size).astype(np.int64)
    rows = np.rint((top - y) / cell_size).astype(np.int64) - 1
    band = np.full((int(rows.max()) + 1, int(cols.max()) + 1), np.nan, dtype=np.float64)
    band[rows, cols] = frame[column].to_numpy(dtype=np.float64)
    target = Path(out)
    part = target.with_name(f".{target.stem}.part{os.getpid()}{target.suffix or '.tif'}")
    try:
        with rasterio.open(
            part,
            "w",
            driver="GTiff",
            height=band.shape[0],
            width=band.shape[1],
            count=1,
            dtype="float64",
            crs=CRS,
            transform=from_origin(left, top, cell_size, cell_size),
            nodata=np.nan,
            compress="deflate",
        ) as dst:
            dst.write(band, 1)
            dst.set_band_description(1, column)
        part.replace(target)
    finally:
        part.unlink(missing_ok=True)
