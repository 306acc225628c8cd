"""The overview report: harm matrix, harm vs activity by month, hot spot map, top LSOAs.

One self-contained HTML file (inline CSS and SVG; nothing fetched), written by
``harmscope report`` and at the end of ``harmscope demo``.

The report follows the rule it states: a count under :data:`SMALL` is published as "<10",
and a harm, rate or activity figure that rests on fewer than :data:`SMALL` records is
withheld (a known weight per crime type would give the count away). Every rate per resident
names its period.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import shapely

from harmscope import __version__
from harmscope.app.matrix import matrix_report
from harmscope.errors import HarmScopeError
from harmscope.harm import (
    HarmMatrix,
    harm_by_area,
    load_scheme,
    select_events,
)
from harmscope.harm.evidence import MatrixReport, explain
from harmscope.harm.measured import SCHEME_UNIT
from harmscope.harm.months import check_months
from harmscope.harm.selection import DEFAULT_HARM, check_harm, check_types, harm_label
from harmscope.markets import Market, markets
from harmscope.places.area_harm import area_harm, harm_by_imd_decile
from harmscope.places.concentration import gini as gini_index
from harmscope.places.concentration import power_few
from harmscope.places.hotspots import hotspots
from harmscope.places.study_area import dataset_area, one_area_per_command, records_outside
from harmscope.report.charts import MapLabel, harm_map, harm_vs_activity
from harmscope.warehouse import default_db, ibis_connect

#: Counts under this are not published ("<10"), nor figures resting on them (withheld).
SMALL = 10

#: Hot spots named on the map (the highest Gi* z first); every candidate market is named.
TOP_HOT_SPOTS = 5
WITHHELD = "withheld"

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("harmscope.report", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
)


# The report reads the warehouse only; its matrix, markets and map share one study area.
@one_area_per_command()
def write_overview(
    out: str | Path,
    *,
    db: str | Path | None = None,
    scheme: str = "cchi",
    months: tuple[str | None, str | None] | None = None,
    cell_size: float = 250.0,
    title: str = "Drug-market harm overview",
    synthetic: bool = False,
    harm: str = DEFAULT_HARM,
    types: Collection[str] | None = None,
) -> Path:
    """Write the overview report to ``out`` (an .html file) and return its path.

    ``harm`` (``'drug'``, the default, or ``'all'``) is the view of harm every figure shows,
    named in the headings; ``types`` keeps only those police.uk crime types.
    """
    con = ibis_connect(db)
    events = con.table("events")
    check_months(events, months, what=str(db or "the warehouse"))
    sch = load_scheme(scheme)
    harm = check_harm(harm)
    types = check_types(types)
    # The view's harm by source, with its range from the cited fractions; the drug-attributed
    # and not-attributed totals are shown in either view.
    # The matrix as the matrix command shows it: fractions, the local excess around drug
    # markets, measured and assessed cells beside it.
    beside, local_note = matrix_report(
        db if db is not None else default_db(),
        scheme=sch,
        harm=harm,
        months=months,
        types=types,
    )
    matrix = beside.matrix
    monthly = (
        harm_by_area(events, scheme=sch, months=months, harm=harm, types=types)
        .group_by("month")
        .aggregate(harm=lambda t: t.harm.sum(), activity=lambda t: t.activity.sum())
        .order_by("month")
        .to_pandas()
    )
    # One study area for the map, the concentration line and the per-resident rates: the
    # force's own area, so neighbours' LSOAs that only hold stray points get no rate.
    study = dataset_area(events, cell_size=cell_size)
    cells = hotspots(
        events, scheme=sch, cell_size=cell_size, months=months, mask=study, harm=harm, types=types
    )
    harmed = cells["harm"].to_numpy()
    found = _markets(db, sch, months, cell_size)
    per_area = area_harm(
        events,
        con.table("areas"),
        scheme=sch,
        months=months,
        lsoas=list(study.lsoas) or None,
        harm=harm,
        types=types,
    )
    areas = per_area.limit(15).to_pandas()
    deciles = harm_by_imd_decile(per_area).filter(lambda t: t.imd_decile.notnull()).to_pandas()
    # the records behind the figures shown
    chosen = select_events(events, months=months, types=types)
    sources = chosen.group_by("source").aggregate(n=chosen.count()).order_by("source").to_pandas()
    decile_records = (
        per_area.group_by("imd_decile").aggregate(records=per_area.harm_events.sum()).to_pandas()
    )
    deciles = deciles.merge(decile_records, on="imd_decile", how="left")
    first_month = str(monthly["month"].min())[:7] if len(monthly) else "-"
    last_month = str(monthly["month"].max())[:7] if len(monthly) else "-"
    period = f"{first_month} to {last_month}, {len(monthly)} month" + (
        "" if len(monthly) == 1 else "s"
    )
    html = _ENV.get_template("overview.html").render(
        title=title,
        synthetic=synthetic,
        harm_label=harm_label(harm),
        types_text="" if types is None else f", {', '.join(types)} only",
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
        db=str(db or "harmscope.duckdb"),
        scheme=sch.name,
        unit=matrix.unit,
        scheme_citation=(getattr(sch, "citation", "") or sch.name).rstrip("."),
        first_month=first_month,
        last_month=last_month,
        period=period,
        small=SMALL,
        matrix=matrix,
        matrix_rows=_matrix_rows(matrix),
        measured_rows=_measured_rows(beside),
        assessed_rows=[beside.explain(a) for a in beside.assessed],
        activity_rows=_activity_rows(matrix),
        activity_total=count_text(matrix.activity),
        drug_split=_drug_split(matrix),
        local_note=local_note,
        n_events=count_text(int(sources["n"].sum())),
        sources=", ".join(f"{r.source} {count_text(int(r.n))}" for r in sources.itertuples()),
        monthly_svg=harm_vs_activity(monthly, unit=matrix.unit),
        map_svg=harm_map(
            cells,
            cell_size=cell_size,
            title=f"Harm per {cell_size:g} m cell",
            outlines=_lsoa_outlines(con, events),
            labels=map_labels(cells, found, cell_size),
        ),
        markets=[_market_row(m) for m in found],
        cell_size=f"{cell_size:g}",
        distance=f"{cells.attrs.get('distance', cell_size * 1.5):g}",
        hot_cells=[_hot_row(r) for r in cells.head(10).itertuples()],
        top5=power_few(harmed, shares=[0.05]).to_dict("records")[0] if harmed.sum() > 0 else None,
        gini=gini_index(harmed) if harmed.sum() > 0 else 0.0,
        study_area=study.describe(),
        headline_strays=count_text(records_outside(events, study, months=months)),
        cells_total=study.cells,
        stray_lsoas=study.stray_lsoas,
        top_areas=[_area_row(r) for r in areas.itertuples()],
        deciles=[_decile_row(r) for r in deciles.itertuples()],
        has_areas=bool(areas["population"].notna().any()) if len(areas) else False,
    )
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


def _markets(db: str | Path | None, scheme: Any, months: Any, cell_size: float) -> list[Market]:
    """Candidate drug markets of the period (analysts' decisions applied); none when the
    period has no market activity."""
    try:
        return markets(
            db if db is not None else default_db(),
            scheme=scheme,
            months=months,
            cell_size=cell_size,
        )
    except (HarmScopeError, ValueError):
        return []


def map_labels(cells: Any, found: list[Market], cell_size: float) -> list[MapLabel]:
    """Names on the overview map: the :data:`TOP_HOT_SPOTS` hot cells with the highest Gi*
    z (``H1`` ...) and every candidate market (``M1`` ..., its footprint outlined).

    A hot spot is named by its place name (:mod:`harmscope.places.names`), a market by the
    analyst's name or its place name, then its id.
    """
    hot = cells[cells["category"].astype(str).str.startswith("hot")].head(TOP_HOT_SPOTS)
    half = cell_size / 2.0
    out = [
        MapLabel(
            tag=f"H{i}",
            name=str(r.name) or f"cell {_metres(r.cell_x)}, {_metres(r.cell_y)}",
            x=float(r.cell_x) + half,
            y=float(r.cell_y) + half,
        )
        for i, r in enumerate(hot.itertuples(), start=1)
    ]
    for i, m in enumerate(found, start=1):
        out.append(
            MapLabel(
                tag=f"M{i}",
                name=f"{m.label} ({m.id})",
                x=m.centroid_x,
                y=m.centroid_y,
                cells=m.cells,
            )
        )
    return out


def _market_row(m: Market) -> dict[str, str]:
    return {"id": m.id, "name": m.label, "description": m.description}


def count_text(n: float | None) -> str:
    """A count as published: ``"<10"`` from 1 to under :data:`SMALL`, else with thousands
    separators. A true zero is shown as 0: it identifies nobody, and "<10" would claim there
    were some."""
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return ""
    return f"<{SMALL}" if 0 < n < SMALL else f"{int(n):,}"


def figure_text(value: float | None, records: float | None, fmt: str = "{:,.0f}") -> str:
    """A figure resting on ``records`` events: withheld when they number under :data:`SMALL`.

    A harm figure is a weight times a count; for one crime type the count is the figure
    divided by a published weight, so a small count must not be readable through it.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if records is None or (isinstance(records, float) and math.isnan(records)):
        return WITHHELD
    return WITHHELD if 0 < records < SMALL else fmt.format(value)


def _known(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _hot_row(r: Any) -> dict[str, str]:
    return {
        "cell": f"{_metres(r.cell_x)}, {_metres(r.cell_y)}",
        "name": str(r.name),
        "records": count_text(r.harm_events),
        "harm": figure_text(r.harm, r.harm_events),
        "z": f"{r.gi_z:.2f}",
        # A p below what a double can hold prints as 0: say how small instead.
        "p": f"{r.p_fdr:.3g}" if r.p_fdr > 0 else "< 1e-300",
        "category": str(r.category),
    }


def _matrix_rows(matrix: HarmMatrix) -> list[dict[str, str]]:
    """Harm cells, drug-attributed first, with the records behind each (events of the types
    that contribute) and the range from the attributable fractions."""
    events = {t.event_type: t.events for t in matrix.by_event_type if t.kind == "harm"}
    cells = sorted(
        (c for c in matrix.cells if c["value"]),
        key=lambda c: (c["basis"] == "remainder", -c["value"]),
    )
    rows = []
    for c in cells:
        n = sum(events.get(t, 0) for t in c["event_types"])
        remainder = c["basis"] == "remainder"
        rows.append(
            {
                "harm_type": c["harm_type"],
                "bearer": c["bearer"],
                "source": "not attributed to drugs" if remainder else c["source"],
                "records": count_text(n),
                "value": figure_text(c["value"], n, "{:,.1f}"),
                "range": _range_text(c["low"], c["high"], n) if not remainder else "",
                "share": figure_text(c["value"] / matrix.total, n, "{:.0%}")
                if matrix.total
                else "",
                "source_text": explain(c, unit=matrix.unit, scheme=matrix.scheme, figures=False),
            }
        )
    return rows


def _measured_rows(report: MatrixReport) -> list[dict[str, str]]:
    """Measured cells in their own units; counts under SMALL shown as ``<10`` and their
    intervals withheld (violence after enforcement rests on the violent crimes it compares)."""
    rows = []
    for c in report.measured:
        records = c["rows"] if c["unit"] == SCHEME_UNIT else c["value"]
        scheme_unit = c["unit"] == SCHEME_UNIT
        value = figure_text(c["value"], records) if scheme_unit else count_text(c["value"])
        shown = c["value"] is not None and not (records is not None and 0 < records < SMALL)
        rows.append(
            {
                "label": c["label"],
                "cell": "/".join(str(c[k]) for k in ("harm_type", "bearer", "source"))
                if c["kind"] == "harm"
                else "service (not harm)",
                "value": value if c["value"] is not None else "no data",
                "range": f"{c['low']:,.0f} to {c['high']:,.0f}" if shown else "",
                "unit": report.matrix.unit if scheme_unit else c["unit"],
                "source_text": report.explain(c)
                if c["value"] is None
                else explain(c, unit=report.matrix.unit, figures=False),
            }
        )
    return rows


def _range_text(low: float, high: float, records: int) -> str:
    """A cell's range, withheld like its value when it rests on fewer than SMALL records."""
    if 0 < records < SMALL:
        return WITHHELD
    return f"{low:,.0f} to {high:,.0f}"


def _drug_split(matrix: HarmMatrix) -> dict[str, str]:
    """The drug-attributed total, its range and the rest, under the small-numbers rule (they
    rest on every harm record of the period)."""
    n = sum(t.events for t in matrix.by_event_type if t.kind == "harm")
    return {
        "drug": figure_text(matrix.drug_attributed, n),
        "range": _range_text(matrix.drug_low, matrix.drug_high, n),
        "rest": figure_text(matrix.not_attributed, n),
    }


def _activity_rows(matrix: HarmMatrix) -> list[dict[str, str]]:
    """Police activity by kind, counted in events (small counts suppressed like any other)."""
    return [
        {
            "label": str(a["label"]),
            "events": count_text(int(a["value"])),
            "share": figure_text(a["value"] / matrix.activity, int(a["value"]), "{:.0%}")
            if matrix.activity
            else "",
        }
        if a["value"] is not None
        else {"label": str(a["label"]), "events": "no data", "share": str(a["no_data"])}
        for a in matrix.activity_cells
    ]


def _metres(value: float) -> str:
    # Not "g": a northing of 1,200,000 m would print as 1.2e+06.
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _area_row(r: Any) -> dict[str, str]:
    return {
        "lsoa_code": str(r.lsoa_code),
        "lsoa_name": str(r.lsoa_name) if _known(r.lsoa_name) else "",
        "records": count_text(r.harm_events),
        "harm": figure_text(r.harm, r.harm_events),
        "per_1000": figure_text(r.harm_per_1000, r.harm_events),
        "population": f"{r.population:,.0f}" if _known(r.population) else "",
        "imd_decile": f"{r.imd_decile:.0f}" if _known(r.imd_decile) else "",
        "activity": count_text(r.activity_events),  # a count of police activity, not a weight
    }


def _decile_row(r: Any) -> dict[str, str]:
    return {
        "imd_decile": f"{r.imd_decile:.0f}",
        "lsoas": f"{int(r.lsoas):,}",
        "population": f"{r.population:,.0f}" if _known(r.population) else "",
        "records": count_text(r.records),
        "harm": figure_text(r.harm, r.records),
        "per_1000": figure_text(r.harm_per_1000, r.records),
    }


def _lsoa_outlines(con: Any, events: Any) -> list[np.ndarray]:
    """Boundary rings (BNG metres) of the LSOAs the events name, when the warehouse has them."""
    if "area_shapes" not in con.list_tables():
        return []
    named = events.filter(events.lsoa_code.notnull()).select("lsoa_code").distinct()
    shapes = con.table("area_shapes")
    rows = shapes.semi_join(named, "lsoa_code").select("geometry").to_pandas()
    if rows.empty:
        return []
    geoms = shapely.from_wkb(rows["geometry"].to_numpy())
    rings = shapely.get_exterior_ring(shapely.get_parts(geoms))
    return [np.asarray(shapely.get_coordinates(r)) for r in rings]
