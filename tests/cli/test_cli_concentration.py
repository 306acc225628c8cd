"""``harmscope concentration`` (the power few) recomputed independently from the raw files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.harm import load_scheme


def city_folder() -> Path:
    env = os.environ.get("HARMSCOPE_SHARED_DATA")
    base = Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"
    return base / "policeuk-city-of-london-2018-12_2021-11"


def _independent_cells() -> pd.DataFrame:
    """Harm and events per 250 m cell of the study area for 2019-01..06, zeros included, with
    pandas and pyproj only. Without reference areas the study area is the cells holding a
    street record in an LSOA of the City's own district (named "City of London 00nX")."""
    months = [f"2019-0{m}" for m in range(1, 7)]
    street = pd.concat(
        [pd.read_csv(city_folder() / "street" / f"{m}-city-of-london-street.csv") for m in months]
    )
    # Fold repeated Crime IDs within a month, keeping a located row (as ingest does).
    street["_unlocated"] = street["Longitude"].isna()
    keyed = street[street["Crime ID"].notna()].sort_values("_unlocated", kind="stable")
    keyed = keyed.drop_duplicates(["Crime ID", "Month"])
    street = pd.concat([keyed, street[street["Crime ID"].isna()]])
    searches = pd.concat(
        [
            pd.read_csv(
                city_folder() / "stop-and-search" / f"{m}-city-of-london-stop-and-search.csv"
            )
            for m in months
        ]
    )
    searches["Crime type"] = "Stop and search"
    both = pd.concat([street, searches]).dropna(subset=["Longitude", "Latitude"])
    x, y = Transformer.from_crs(4326, 27700, always_xy=True).transform(
        both["Longitude"].to_numpy(), both["Latitude"].to_numpy()
    )
    weights = {w.event_type: w for w in load_scheme("cchi").weights}
    both["cx"] = np.floor(np.asarray(x) / 250) * 250
    both["cy"] = np.floor(np.asarray(y) / 250) * 250
    both["kind"] = both["Crime type"].map(lambda t: weights[t].kind)
    both["harm"] = np.where(
        both["kind"] == "harm", both["Crime type"].map(lambda t: weights[t].weight), 0.0
    )
    both["is_harm"] = both["kind"] == "harm"
    cells = both.groupby(["cx", "cy"]).agg(
        harm=("harm", "sum"), harm_events=("is_harm", "sum"), events=("kind", "size")
    )
    own = both[both["LSOA name"].fillna("").str.startswith("City of London ")]
    area = own[["cx", "cy"]].drop_duplicates().set_index(["cx", "cy"]).index
    return cells.reindex(area, fill_value=0)


def test_concentration_json_matches_independent_figures(city_db: Path) -> None:
    res = CliRunner().invoke(
        app, ["concentration", "--db", str(city_db), "--format", "json", "--harm", "all"]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    cells = _independent_cells()
    assert doc["cells"] == len(cells)
    harm = np.sort(cells["harm"].to_numpy())[::-1]
    # Gini from its definition: mean absolute difference over twice the mean.
    gini = np.abs(harm[:, None] - harm[None, :]).mean() / (2 * harm.mean())
    assert abs(doc["gini_harm"] - gini) < 1e-9
    top10 = doc["power_few"][2]
    assert top10["share_of_places"] == 0.10
    # The top 10 % is a whole number of cells, rounded up, in every column.
    k = int(np.ceil(0.10 * len(harm)))
    assert top10["places"] == k == doc["count_vs_harm"]["top"][2]["k"]
    assert abs(top10["harm_share"] - harm[:k].sum() / harm.sum()) < 1e-9
    events = np.sort(cells["events"].to_numpy())[::-1]
    assert abs(top10["count_share"] - events[:k].sum() / events.sum()) < 1e-9
    assert doc["study_area"]["cells"] == len(cells) and doc["study_area"]["strays"] > 0
    assert f"{len(cells)} cells" in res.stderr and "left out" in res.stderr


def test_concentration_table_top_row_uses_whole_cells(city_db: Path) -> None:
    res = CliRunner().invoke(app, ["concentration", "--db", str(city_db)])
    assert res.exit_code == 0, res.output
    n = len(_independent_cells())
    top1 = next(line for line in res.stdout.splitlines() if "1%" in line)
    k = int(np.ceil(0.01 * n))
    # "top of cells | cells | ... | same cells k of k": one whole number in both places.
    assert f"│ {k} " in top1 or f" {k} │" in top1
    assert f"of {k}" in top1
