"""The overview report: harm matrix, harm vs activity by month, hot spot map, top LSOAs.

One self-contained HTML file (inline CSS and SVG; nothing fetched), written by
``harmscope report`` and at the end of ``harmscope demo``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import shapely

from harmscope import __version__
from harmscope.harm import harm_by_area, harm_matrix, load_scheme
from harmscope.places.area_harm import area_harm, harm_by_imd_decile
from harmscope.places.concentration import gini as gini_index
from harmscope.places.concentration import power_few
from harmscope.places.hotspots import hotspots
from harmscope.places.study_area import dataset_area
from harmscope.report.charts import harm_map, harm_vs_activity
from harmscope.warehouse import ibis_connect

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("harmscope.report", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
)


def write_overview(
    out: str | Path,
    *,
    db: str | Path | None = None,
    scheme: str = "cchi",
    months: tuple[str | None, str | None] | None = None,
    cell_size: float = 250.0,
    title: str = "Drug-market harm overview",
    synthetic: bool = False,
) -> Path:
    """Write the overview report to ``out`` (an .html file) and return its path."""
    con = ibis_connect(db)
    events = con.table("events")
    sch = load_scheme(scheme)
    matrix = harm_matrix(events, scheme=sch, months=months)
    monthly = (
        harm_by_area(events, scheme=sch, months=months)
        .group_by("month")
        .aggregate(harm=lambda t: t.harm.sum(), activity=lambda t: t.activity.sum())
        .order_by("month")
        .to_pandas()
    )
    # One study area for the map, the concentration line and the per-resident rates: the
    # force's own area, so neighbours' LSOAs that only hold stray points get no rate.
    study = dataset_area(events, cell_size=cell_size)
    cells = hotspots(events, scheme=sch, cell_size=cell_size, months=months, mask=study)
    harmed = cells["harm"].to_numpy()
    per_area = area_harm(
        events, con.table("areas"), scheme=sch, months=months, lsoas=list(study.lsoas) or None
    )
    areas = per_area.limit(15).to_pandas()
    deciles = harm_by_imd_decile(per_area).filter(lambda t: t.imd_decile.notnull()).to_pandas()
    sources = events.group_by("source").aggregate(n=events.count()).order_by("source").to_pandas()
    html = _ENV.get_template("overview.html").render(
        title=title,
        synthetic=synthetic,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
        db=str(db or "harmscope.duckdb"),
        scheme=sch.name,
        unit=matrix.unit,
        scheme_citation=getattr(sch, "citation", "") or sch.name,
        first_month=str(monthly["month"].min())[:7] if len(monthly) else "-",
        last_month=str(monthly["month"].max())[:7] if len(monthly) else "-",
        matrix=matrix,
        n_events=int(sources["n"].sum()),
        sources=", ".join(f"{r.source} {r.n:,}" for r in sources.itertuples()),
        monthly_svg=harm_vs_activity(monthly, unit=matrix.unit),
        map_svg=harm_map(
            cells,
            cell_size=cell_size,
            title=f"Harm per {cell_size:g} m cell",
            outlines=_lsoa_outlines(con, events),
        ),
        cell_size=f"{cell_size:g}",
        distance=f"{cells.attrs.get('distance', cell_size * 1.5):g}",
        hot_cells=list(cells.head(10).itertuples()),
        top5=power_few(harmed, shares=[0.05]).to_dict("records")[0] if harmed.sum() > 0 else None,
        gini=gini_index(harmed) if harmed.sum() > 0 else 0.0,
        study_area=study.describe(),
        cells_total=study.cells,
        stray_lsoas=study.stray_lsoas,
        top_areas=list(areas.itertuples()),
        deciles=list(deciles.itertuples()),
        has_areas=bool(areas["population"].notna().any()) if len(areas) else False,
    )
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


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
