"""Serialisation shared by every face: strict JSON, readable CSV, GeoJSON of grid cells.

- JSON is strict (RFC 8259): NaN and infinities become ``null`` at any depth, numpy scalars
  become Python numbers, and months (stored as their first day) print as ``YYYY-MM``. JSON
  (and Parquet, GeoPackage) keep full precision: they are for programs.
- CSV and text are for people: every column of a known kind (:data:`COLUMN_KINDS`) is rounded
  to the precision :data:`KINDS` states (harm to 0.1 of its unit, shares to 0.1 %, BNG
  coordinates to 1 m, z to 0.01, p to 0.0001), counts are integers, months are ``YYYY-MM``
  (:func:`readable`). Each kind names its unit (:func:`units`): days of imprisonment or
  events (the scheme's), events, per 1,000 residents, metres (EPSG:27700).
- CSV always goes through :func:`harmscope.export.write_csv`, which neutralises spreadsheet
  formula injection.
- GeoJSON follows RFC 7946: WGS84, longitude first.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from harmscope.export import write_csv

__all__ = [
    "COLUMN_KINDS",
    "KINDS",
    "Kind",
    "cells_geojson",
    "jsonable",
    "readable",
    "records",
    "scheme_unit",
    "to_json",
    "units",
    "with_harm_unit",
    "write_csv_out",
    "write_json",
]


@dataclass(frozen=True)
class Kind:
    """How a kind of figure is shown to people: its precision and its unit.

    Attributes
    ----------
    decimals : int or None
        Decimal places in text and CSV; 0 means a whole number printed without a decimal
        point (``704``, never ``704.0``); None leaves the value as it is (text, months).
    unit : str
        The unit, with ``{harm}`` standing for the harm unit of the scheme (``cchi``: days
        of imprisonment; ``count``: events).
    """

    decimals: int | None
    unit: str


#: Kinds of figure and how each is shown (text and CSV; JSON and Parquet keep full precision).
KINDS: dict[str, Kind] = {
    # A tenth of a day of imprisonment (or of an event) is below any weight in a scheme.
    "harm": Kind(1, "{harm}"),
    "rate": Kind(1, "{harm} per 1,000 residents over the rate period"),
    "count": Kind(0, "events"),
    "cells": Kind(0, "grid cells"),
    "periods": Kind(0, "months"),
    "bin": Kind(0, "Gi* confidence bin (-3 to 3: 99 % cold to 99 % hot)"),
    "decile": Kind(0, "IMD 2019 decile (1 = most deprived)"),
    "residents": Kind(0, "residents (Census 2011)"),
    # Shares are fractions of 1; three decimals are 0.1 %.
    "share": Kind(3, "fraction of the total (0 to 1)"),
    # Cells are named by their BNG corner: whole metres, as the grid is aligned to them.
    "metres": Kind(0, "metres (EPSG:27700)"),
    "z": Kind(2, "standard deviations (z-score)"),
    "p": Kind(4, "probability"),
    "tau": Kind(3, "Kendall's tau (-1 to 1)"),
    "ratio": Kind(4, "activity events per unit of harm"),
    "rank": Kind(0, "rank (1 = first)"),
    "month": Kind(None, "month (YYYY-MM)"),
}

#: The kind of each column HarmScope writes (other columns are written as they are).
COLUMN_KINDS: dict[str, str] = {
    **dict.fromkeys(
        ("harm", "value", "low", "high", "score", "kde_harm", "weight", "footprint_harm"),
        "harm",
    ),
    "harm_per_1000": "rate",
    **dict.fromkeys(
        ("activity", "harm_events", "activity_events", "events", "footprint_activity"), "count"
    ),
    **dict.fromkeys(("cells", "neighbours", "ceded_cells"), "cells"),
    **dict.fromkeys(("periods", "hot_periods", "cold_periods"), "periods"),
    "gi_bin": "bin",
    "imd_decile": "decile",
    "population": "residents",
    **dict.fromkeys(("share", "harm_share", "count_share", "share_of_places"), "share"),
    **dict.fromkeys(
        ("cell_x", "cell_y", "centroid_x", "centroid_y", "x", "y", "bng_x", "bng_y"), "metres"
    ),
    **dict.fromkeys(("gi_z", "trend_z", "final_gi_z", "peak_gi_z", "z"), "z"),
    **dict.fromkeys(("p", "p_fdr", "trend_p"), "p"),
    "trend_tau": "tau",
    "activity_harm_ratio": "ratio",
    "rank": "rank",
    "month": "month",
}

#: Significant digits kept for float columns of no known kind: enough for any measured
#: figure, few enough to drop binary noise (``312855.95000001066`` -> ``312855.95``).
OTHER_FLOAT_DIGITS = 10


def units(columns: list[str] | pd.Index, harm_unit: str) -> dict[str, str]:
    """The unit of each column of a known kind, ``{harm}`` filled with ``harm_unit``.

    Parameters
    ----------
    columns : list of str
        Column names (those of no known kind are left out).
    harm_unit : str
        The scheme's unit (``Scheme.unit``: ``days of imprisonment``, ``events``).

    Returns
    -------
    dict of str to str
        Column -> unit, in column order; JSON outputs carry it as ``units``.
    """
    return {
        str(c): KINDS[COLUMN_KINDS[str(c)]].unit.format(harm=harm_unit)
        for c in columns
        if str(c) in COLUMN_KINDS
    }


def scheme_unit(scheme: object) -> str:
    """The harm unit of a scheme (its name, TOML path or :class:`~harmscope.harm.Scheme`)."""
    from harmscope.harm import load_scheme

    return str(getattr(scheme, "unit", None) or load_scheme(scheme).unit)  # type: ignore[arg-type]


def with_harm_unit(frame: pd.DataFrame, harm_unit: str) -> pd.DataFrame:
    """*frame* with a last column ``harm_unit`` (a copy), naming the unit of its harm.

    CSV has one header line, which GIS tools and spreadsheets read as column names; the harm
    unit (which depends on the scheme) therefore travels as a column of its own, on every
    row, and so survives any filter or join an analyst makes. It goes last so the columns a
    contract fixes keep their places (DESIGN §5: ``cell_x, cell_y, name, harm, ...``).
    """
    out = frame.copy()
    out.attrs.update(frame.attrs)
    out["harm_unit"] = harm_unit
    return out


def _month_text(values: pd.Series) -> pd.Series:
    """Dates, datetimes or month strings as ``YYYY-MM`` (missing stays missing)."""
    stamps = pd.to_datetime(values, errors="coerce")
    text = stamps.dt.strftime("%Y-%m")
    return text.where(stamps.notna(), values.where(values.isna(), values.astype(str)))


def _numeric(values: pd.Series) -> pd.Series | None:
    """*values* as numbers when every present value is one (object columns too), else None."""
    if values.dtype.kind in "biuf":
        return values
    if values.dtype != object:
        return None
    present = values.dropna()
    if present.empty or not all(
        isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
        for v in present
    ):
        return None
    return pd.to_numeric(values)


def _rounded(values: pd.Series, decimals: int) -> pd.Series:
    if values.dtype.kind == "b":
        return values
    if decimals == 0:
        # Nullable integers print "704", never "704.0", and keep missing values empty.
        return values.round(0).astype("Int64")
    return values.astype("float64").round(decimals)


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """*frame* as people read it: rounded to the precision of each column's kind (a copy).

    Columns of a known kind (:data:`COLUMN_KINDS`) are rounded as :data:`KINDS` states
    (counts and coordinates become whole numbers); ``month`` and any date column print as
    ``YYYY-MM``; other float columns keep :data:`OTHER_FLOAT_DIGITS` significant digits. Text
    is untouched. Used for CSV and terminal tables; JSON, Parquet and GeoPackage keep full
    precision.

    Examples
    --------
    >>> frame = pd.DataFrame({"cell_x": [533000.0], "harm": [20828.179999999975],
    ...                       "activity": [704.0], "p_fdr": [0.006080436370419625],
    ...                       "month": [pd.Timestamp("2018-12-01")], "other": [0.1 + 0.2]})
    >>> print(readable(frame).to_csv(index=False), end="")
    cell_x,harm,activity,p_fdr,month,other
    533000,20828.2,704,0.0061,2018-12,0.3
    """
    out = frame.copy()
    out.attrs.update(frame.attrs)
    for col in out.columns:
        kind = COLUMN_KINDS.get(str(col))
        values = out[col]
        if kind == "month" or values.dtype.kind == "M" or _all_dates(values):
            out[col] = _month_text(values) if _first_days(values) else values
            continue
        numbers = _numeric(values)
        if numbers is None:
            continue
        decimals = KINDS[kind].decimals if kind is not None else None
        if values.dtype == object and decimals is not None:
            # A column of mixed rows (the matrix's harm values beside activity counts):
            # each cell keeps its own type, so a count stays "5338", never "5338.0".
            cells = [_round_cell(v, decimals) for v in values]
            out[col] = pd.Series(cells, index=values.index, dtype=object)  # no float inference
        elif kind == "harm" and _whole(numbers):
            # Harm of the count scheme counts whole events: 196 events, never 196.0.
            out[col] = _rounded(numbers, 0)
        elif decimals is not None:
            out[col] = _rounded(numbers, decimals)
        elif numbers.dtype.kind == "f":
            out[col] = pd.Series(
                _significant(numbers.to_numpy(dtype=np.float64)), index=values.index
            )
    return out


def _round_cell(value: object, decimals: int) -> object:
    """One cell rounded by its own type: integers as they are, floats to ``decimals``."""
    if value is None or isinstance(value, bool | np.bool_):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        if not np.isfinite(value):
            return None
        return round(float(value)) if decimals == 0 else round(float(value), decimals)
    return value


def _whole(values: pd.Series) -> bool:
    """Whether every present value is a whole number (a count of events)."""
    finite = values.dropna().to_numpy(dtype=np.float64)
    return bool(finite.size) and bool(np.all(np.isfinite(finite) & (finite == np.round(finite))))


def _significant(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each value to :data:`OTHER_FLOAT_DIGITS` significant digits (non-finite unchanged).

    Through the decimal text, as people read it (``0.1 + 0.2`` becomes ``0.3``), once per
    distinct value (a board's float columns repeat a few thousand values over 100,000 rows);
    distinct by bit pattern, so ``-0.0`` keeps its sign.
    """
    digits = f".{OTHER_FLOAT_DIGITS}g"
    values = np.ascontiguousarray(values, dtype=np.float64)
    codes, bits = pd.factorize(values.view(np.int64))
    once = [float(format(v, digits)) for v in bits.view(np.float64).tolist()]
    out = np.asarray(once, dtype=np.float64)[codes]
    finite = np.isfinite(values)
    return np.where(finite, out, values)


def _all_dates(values: pd.Series) -> bool:
    present = values.dropna()
    return (
        values.dtype == object
        and not present.empty
        and all(isinstance(v, date | pd.Timestamp) for v in present)
    )


def _first_days(values: pd.Series) -> bool:
    """Whether every date in *values* is a month (its first day at midnight)."""
    stamps = pd.to_datetime(values, errors="coerce").dropna()
    return bool(((stamps.dt.day == 1) & (stamps == stamps.dt.normalize())).all())


def jsonable(value: Any) -> Any:
    """*value* made JSON-ready at any depth (non-finite floats -> None, months -> YYYY-MM)."""
    # The common cells first, by exact type (a board is a million of them): text, whole
    # numbers and None come back as they are, a float unless it is NaN or infinite.
    kind = type(value)
    if kind is str or kind is int or value is None:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
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
    # Column by column (each cell made JSON-ready as a row's would be), then zipped into
    # rows: the row dicts of to_dict(orient="records") cost a pandas call per row.
    names = [str(c) for c in clean.columns]
    if not names:
        return [{} for _ in range(len(clean))]
    cells = [[jsonable(v) for v in clean.iloc[:, i].tolist()] for i in range(len(names))]
    return [dict(zip(names, row, strict=True)) for row in zip(*cells, strict=True)]


def write_csv_out(frame: pd.DataFrame, out: str | Path | None = None) -> None:
    """Write a table as CSV to *out*, or to stdout, through the injection-safe writer.

    Figures are rounded for people first (:func:`readable`). A file is written whole or not
    at all: the rows go to a temporary file beside it, renamed over *out* once complete.
    """
    frame = readable(frame)
    if out is None:
        write_csv(frame, sys.stdout)
        return
    target = Path(out)
    part = target.with_name(f".{target.name}.part")
    try:
        write_csv(frame, part)
        part.replace(target)
    finally:
        part.unlink(missing_ok=True)


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

    Returns
    -------
    dict
        The FeatureCollection; with a ``harm_unit`` column, also ``units``: the unit of each
        column of a known kind (:func:`units`).

    Notes
    -----
    Each square's four BNG corners are projected with pyproj (EPSG:27700 to EPSG:4326,
    longitude first, 7 decimals: about 1 cm).
    """
    # pyproj is imported here, not with the module: only GeoJSON output needs it, and every
    # CSV or JSON command would otherwise pay for loading it.
    from pyproj import Transformer

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
    doc: dict[str, Any] = {"type": "FeatureCollection", "name": name}
    if "harm_unit" in frame.columns and len(frame):
        # A foreign member (RFC 7946 section 6.1): GIS tools ignore it, readers find the units.
        doc["units"] = units(frame.columns, str(frame["harm_unit"].iloc[0]))
    doc["features"] = features
    return doc
