"""Output renderers: a result as CSV, JSON, GeoJSON or Parquet, the same for every face.

A result is rendered through one of two views:

- its **JSON view** (:func:`json_view`): a DataFrame's rows as objects (:func:`records`), or
  whatever the result's ``to_dict()`` returns; lists and dicts are rendered item by item;
- its **table view** (:func:`table_view`): the DataFrame itself, or the result's
  ``to_frame()``. In CSV a cell holding a list (a ranked row's ``reasons``) is joined with
  ``"; "`` so a spreadsheet shows it as one readable cell.

GeoJSON needs grid cells (``cell_x``, ``cell_y``; :func:`harmscope.app.serialise.cells_geojson`)
and is written compact, as GIS tools read it; JSON is indented for people. Parquet is binary,
so it needs a file. A new format is one entry in :data:`FORMATS` and one branch in
:func:`render`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from harmscope.app.options import binary_out
from harmscope.app.serialise import cells_geojson, records, write_csv_out, write_json

__all__ = ["FORMATS", "json_view", "render", "table_view"]

#: Machine-readable formats, with what each holds (terminal tables stay with the faces).
FORMATS: dict[str, str] = {
    "csv": "one row per unit, injection-safe (harmscope.export.write_csv)",
    "json": "strict JSON (RFC 8259): NaN and infinities as null, months as YYYY-MM",
    "geojson": "grid cells as WGS84 polygons (RFC 7946), every column a property",
    "parquet": "GeoParquet of grid cells or areas (EPSG:27700), else plain Parquet (needs a file)",
    "gpkg": "GeoPackage layer of grid cells, markets or areas (EPSG:27700; needs a file)",
}


def json_view(result: Any) -> Any:
    """What *result* looks like as JSON (before :func:`~harmscope.app.serialise.jsonable`)."""
    if isinstance(result, pd.DataFrame):
        return records(result)
    if isinstance(result, list | tuple):
        return [json_view(item) for item in result]
    to_dict = getattr(result, "to_dict", None)
    if callable(to_dict) and not isinstance(result, dict):
        return to_dict()
    return result


def table_view(result: Any) -> pd.DataFrame:
    """*result* as a table: the DataFrame itself, or its ``to_frame()``.

    Raises
    ------
    TypeError
        The result has no table form.
    """
    if isinstance(result, pd.DataFrame):
        return result
    to_frame = getattr(result, "to_frame", None)
    if callable(to_frame):
        frame = to_frame()
        if isinstance(frame, pd.DataFrame):
            return frame
    raise TypeError(f"{type(result).__name__} has no table form (CSV or Parquet)")


def _joined(frame: pd.DataFrame) -> pd.DataFrame:
    """*frame* with list cells joined by ``"; "`` (a copy when any column holds lists)."""
    # infer_dtype is one C pass: a column of text alone holds no list, and only the others
    # are looked at cell by cell.
    listy = [
        c
        for c in frame.columns
        if frame[c].dtype == object
        and pd.api.types.infer_dtype(frame[c], skipna=True) not in ("string", "empty")
        and any(isinstance(v, list) for v in frame[c].tolist())
    ]
    if not listy:
        return frame
    flat = frame.copy()
    for c in listy:
        flat[c] = ["; ".join(v) if isinstance(v, list) else v for v in flat[c]]
    return flat


def render(
    result: Any,
    fmt: str,
    out: str | Path | None = None,
    *,
    cell_size: float | None = None,
    name: str = "harmscope",
) -> None:
    """Write *result* in format *fmt* to *out*, or to stdout when *out* is None.

    Parameters
    ----------
    result : DataFrame or result object
        See the module notes for the views each format uses.
    fmt : str
        One of :data:`FORMATS`.
    out : path, optional
        The file to write (replaced); stdout when None (not for Parquet).
    cell_size : float, optional
        Cell side, metres: needed by GeoJSON.
    name : str
        GeoJSON: the collection's name (GIS tools show it as the layer name).

    Raises
    ------
    ValueError
        Unknown format, GeoJSON without ``cell_size``, or Parquet without a file.
    """
    if fmt in ("geojson", "parquet", "gpkg"):
        # Imported here: geopandas and the GIS writers cost a second to load, and only these
        # formats need them.
        from geopandas import GeoDataFrame

        from harmscope.app.geoformats import as_layer, layer_geojson, write_layer
    if fmt == "json":
        write_json(json_view(result), out)
    elif fmt == "csv":
        write_csv_out(_joined(table_view(result)), out)
    elif fmt == "geojson":
        if isinstance(result, GeoDataFrame):  # markets, areas: shapes of their own
            write_json(layer_geojson(result, name=name), out, indent=None)
            return
        if cell_size is None:
            raise ValueError("GeoJSON needs the cell size of the grid cells")
        write_json(cells_geojson(table_view(result), cell_size, name=name), out, indent=None)
    elif fmt in ("parquet", "gpkg"):
        path = binary_out(fmt, out)
        layer = as_layer(table_view(result), cell_size)
        if layer is None and fmt == "gpkg":
            raise ValueError("--format gpkg needs grid cells or areas with their boundaries")
        if layer is None:
            table_view(result).to_parquet(path, index=False)
        else:
            write_layer(layer, fmt, path, name=name)
    else:
        listed = ", ".join(FORMATS)
        raise ValueError(f"unknown format {fmt!r} (known: {listed})")
