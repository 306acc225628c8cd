"""The overview map names its top hot spots and candidate markets (real City of London data)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import duckdb
import pytest

from harmscope.markets import markets
from harmscope.places.hotspots import hotspots
from harmscope.places.study_area import dataset_area
from harmscope.report.overview import TOP_HOT_SPOTS, write_overview


@pytest.fixture(scope="module")
def page(city_db: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("overview") / "overview.html"
    write_overview(out, db=city_db)
    return out.read_text(encoding="utf-8")


def map_texts(page: str) -> list[str]:
    found = re.search(r'<div id="overview-map">(.*?)</div>', page, re.S)
    assert found, "no overview map"
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", found.group(1))]


def place_name(db: Path, cell_x: float, cell_y: float) -> str:
    """Top two locations and the top LSOA name of a 250 m cell, by plain SQL over its rows."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        where = f"floor(x / 250) * 250 = {cell_x} AND floor(y / 250) * 250 = {cell_y}"
        locs = [
            r[0]
            for r in con.execute(
                f"SELECT location, count(*) n FROM events WHERE {where} AND location IS NOT NULL "
                "AND lower(location) <> 'no location' GROUP BY 1 ORDER BY n DESC, 1 LIMIT 2"
            ).fetchall()
        ]
        lsoa = con.execute(
            f"SELECT lsoa_name, count(*) n FROM events WHERE {where} AND lsoa_name IS NOT NULL "
            "GROUP BY 1 ORDER BY n DESC, 1 LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    where_words = " / ".join(locs[:1] + [s.removeprefix("On or near ") for s in locs[1:]])
    return ", ".join(p for p in (where_words, lsoa[0] if lsoa else "") if p)


def test_top_hot_spots_are_named_on_the_map(page: str, city_db: Path) -> None:
    texts = map_texts(page)
    spots = hotspots(city_db, mask=dataset_area(city_db))
    hot = spots[spots["category"].str.startswith("hot")].head(TOP_HOT_SPOTS)
    assert len(hot) >= 2  # the City's drug-attributed harm has two hot cells (FDR 0.10)
    for i, r in enumerate(hot.itertuples(), start=1):
        name = place_name(city_db, float(r.cell_x), float(r.cell_y))
        assert name.startswith("On or near ")
        assert f"H{i}  {name}" in texts and f"H{i}" in texts  # legend line and map tag
    # the hot-spot table beside the map names them too
    assert html.unescape(place_name(city_db, *map(float, hot.iloc[0][["cell_x", "cell_y"]]))) in (
        html.unescape(page)
    )


def test_markets_are_named_and_outlined(page: str, city_db: Path) -> None:
    texts = map_texts(page)
    found = markets(city_db)
    assert found
    for i, m in enumerate(found, start=1):
        assert f"M{i}  {m.label} ({m.id})" in texts
        assert m.label == m.place and m.place.startswith("On or near ")
    listed = re.search(r'<ul id="markets">(.*?)</ul>', page, re.S)
    assert listed and found[0].id in listed.group(1)
    assert "% of harm" in listed.group(1)  # described in words
