"""The simulated police.uk files have the exact headers, layout and vocabularies of real files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from harmscope.simulate import CRIME_TYPES, SIZES, SYNTHETIC_NOTICE, SimResult
from harmscope.simulate.vocab import OUTCOMES_HEADER, STOP_SEARCH_HEADER, STREET_HEADER

FAMILIES = {
    "street": STREET_HEADER,
    "outcomes": OUTCOMES_HEADER,
    "stop-and-search": STOP_SEARCH_HEADER,
}


def _files(d: Path, family: str) -> list[Path]:
    return sorted(d.glob(f"20*/20*-harmshire-{family}.csv"))


def _read(d: Path, family: str) -> pd.DataFrame:
    """Read with DuckDB's strict CSV reader (every value as text)."""
    files = [str(f) for f in _files(d, family)]
    rel = duckdb.read_csv(files, header=True, all_varchar=True, strict_mode=True, filename=True)
    return rel.df().fillna("")


def test_archive_layout_and_exact_headers(small_dir: Path, small_sim: SimResult) -> None:
    months = sorted(p.name for p in small_dir.glob("20*"))
    assert months == small_sim.month_labels
    assert len(months) == 18
    for fam, header in FAMILIES.items():
        files = _files(small_dir, fam)
        assert [f.parent.name for f in files] == months
        for f in files:
            assert re.fullmatch(rf"{f.parent.name}-harmshire-{fam}\.csv", f.name)
            first = f.read_bytes().split(b"\n", 1)[0]
            assert first.decode() == header  # no BOM, no CR, exact column order


def test_street_values_match_real_vocabularies(
    small_dir: Path, lincs_street: pd.DataFrame, col_street: pd.DataFrame
) -> None:
    st = _read(small_dir, "street")
    assert len(st) > 2000
    assert set(st["Crime type"]) == set(CRIME_TYPES)
    assert set(st["Crime type"]) <= set(lincs_street["Crime type"]) | set(col_street["Crime type"])
    real_outcomes = set(lincs_street["Last outcome category"])
    assert set(st["Last outcome category"]) <= real_outcomes
    asb = st["Crime type"] == "Anti-social behaviour"
    assert (st.loc[asb, "Crime ID"] == "").all()
    assert (st.loc[asb, "Last outcome category"] == "").all()
    ids = st.loc[~asb, "Crime ID"]
    assert ids.str.fullmatch(r"[0-9a-f]{64}").all()
    assert ids.is_unique
    assert (st.loc[~asb, "Last outcome category"] != "").all()
    assert (st["Context"] == "").all()
    assert (st["Reported by"] == "Harmshire Police").all()
    assert (st["Falls within"] == "Harmshire Police").all()
    assert st["Location"].str.startswith("On or near ").all()
    assert st["LSOA code"].str.fullmatch(r"E019\d{5}").all()
    # Month column agrees with the folder the row is in.
    assert (st["Month"] == st["filename"].str.extract(r"/(\d{4}-\d{2})/")[0]).all()
    # Coordinates: six decimals, inside England, inside the simulated grid once projected.
    assert st["Longitude"].str.fullmatch(r"-?\d+\.\d{6}").all()
    lon, lat = st["Longitude"].astype(float), st["Latitude"].astype(float)
    assert lon.between(-6, 2).all() and lat.between(50, 56).all()
    x, y = Transformer.from_crs(4326, 27700, always_xy=True).transform(
        lon.to_numpy(), lat.to_numpy()
    )
    side = SIZES["small"].cells * 250
    assert (x >= 470_000).all() and (x < 470_000 + side).all()
    assert (y >= 262_000).all() and (y < 262_000 + side).all()


def test_outcomes_join_their_crimes(small_dir: Path, lincs_outcomes: pd.DataFrame) -> None:
    st = _read(small_dir, "street")
    oc = _read(small_dir, "outcomes")
    assert len(oc) > 500
    assert set(oc["Outcome type"]) <= set(lincs_outcomes["Outcome type"])
    assert "Suspect charged" in set(oc["Outcome type"])
    crimes = st[st["Crime ID"] != ""].set_index("Crime ID")
    assert oc["Crime ID"].isin(crimes.index).all()
    joined = oc.join(
        crimes[["Month", "Location", "LSOA code", "Crime type"]], on="Crime ID", rsuffix="_crime"
    )
    assert (joined["Month"] >= joined["Month_crime"]).all()  # outcomes are recorded later
    assert (joined["Location"] == joined["Location_crime"]).all()
    assert (joined["LSOA code"] == joined["LSOA code_crime"]).all()
    # A charged crime's court result comes after its "Suspect charged" row.
    court = joined[joined["Outcome type"] == "Offender sent to prison"]
    charged = joined[joined["Outcome type"] == "Suspect charged"].set_index("Crime ID")["Month"]
    assert court["Crime ID"].isin(charged.index).all()
    assert (court["Month"].to_numpy() > charged.loc[court["Crime ID"]].to_numpy()).all()
    # The last outcome category of the street row is the latest outcome published.
    last = oc.groupby("Crime ID")["Outcome type"].last()
    final = crimes.loc[last.index, "Last outcome category"]
    charged_only = last == "Suspect charged"
    assert (final[~charged_only] == last[~charged_only]).all()
    assert final[charged_only].isin(["Awaiting court outcome", "Court result unavailable"]).all()


def test_stop_and_search_values(small_dir: Path, col_stop_search: pd.DataFrame) -> None:
    ss = _read(small_dir, "stop-and-search")
    assert len(ss) > 100
    for col in (
        "Type",
        "Gender",
        "Age range",
        "Self-defined ethnicity",
        "Officer-defined ethnicity",
        "Legislation",
        "Object of search",
        "Outcome",
    ):
        assert set(ss[col]) <= set(col_stop_search[col]), col
    for col in (
        "Part of a policing operation",
        "Outcome linked to object of search",
        "Removal of more than just outer clothing",
    ):
        assert set(ss[col]) <= {"True", "False"}
    assert ss["Date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00").all()
    assert (ss["Date"].str[:7] == ss["filename"].str.extract(r"/(\d{4}-\d{2})/")[0]).all()
    blank = ss["Latitude"] == ""
    assert (blank == (ss["Longitude"] == "")).all()
    assert 0 < blank.mean() < 0.1
    drugs = ss["Object of search"] == "Controlled drugs"
    assert (ss.loc[drugs, "Legislation"] == "Misuse of Drugs Act 1971 (section 23)").all()
    linked = ss["Outcome linked to object of search"] == "True"
    assert (
        ss.loc[~linked & (ss["Outcome"] != "Arrest"), "Outcome"] == "A no further action disposal"
    ).all()
    # Searches during the crackdown are labelled with the operation.
    assert set(ss.loc[ss["Part of a policing operation"] == "True", "Policing operation"]) <= {
        "OP001",
        "OP002",
        "OP003",
    }
    assert (ss["Part of a policing operation"] == "True").any()


def test_areas_manifest_and_notice(small_dir: Path, small_sim: SimResult) -> None:
    areas = pd.read_csv(small_dir / "areas.csv", dtype={"lsoa_code": str})
    assert list(areas.columns) == [
        "lsoa_code",
        "lsoa_name",
        "lad_code",
        "lad_name",
        "population",
        "imd_rank",
        "imd_decile",
        "x",
        "y",
    ]
    assert areas["lsoa_code"].str.fullmatch(r"E019\d{5}").all()
    assert areas["lsoa_code"].is_unique
    assert areas["imd_decile"].between(1, 10).all()
    assert abs(areas["population"].sum() - SIZES["small"].residents) < 50
    st = _read(small_dir, "street")
    assert set(st["LSOA code"]) <= set(areas["lsoa_code"])
    names = dict(zip(areas["lsoa_code"], areas["lsoa_name"], strict=True))
    assert (st["LSOA name"] == st["LSOA code"].map(names)).all()
    gj = json.loads((small_dir / "areas.geojson").read_text())
    assert len(gj["features"]) == len(areas)
    man = json.loads((small_dir / "manifest.json").read_text())
    assert man["synthetic"] is True and man["seed"] == small_sim.seed and man["months"] == 18
    assert man["rows"]["street"] == len(st)
    assert "SYNTHETIC" in (small_dir / "README.txt").read_text()
    assert SYNTHETIC_NOTICE.startswith("SYNTHETIC")


@pytest.mark.parametrize(
    ("path", "columns"),
    [
        (
            "intel/nominals.csv",
            [
                "nominal_id",
                "gender",
                "birth_year",
                "home_lsoa_code",
                "recorded_role",
                "group_id",
                "market_id",
                "marker_violence",
                "marker_firearms",
                "marker_weapons",
                "marker_drug_user",
                "marker_vulnerable_child",
                "marker_cuckooing_victim",
                "first_recorded",
            ],
        ),
        (
            "intel/groups.csv",
            ["group_id", "codename", "recorded_type", "market_ids", "assessed_threat"],
        ),
        (
            "intel/markets.csv",
            [
                "market_id",
                "lsoa_code",
                "cell_x",
                "cell_y",
                "market_type",
                "mode",
                "drugs",
                "group_id",
            ],
        ),
        (
            "intel/links.csv",
            [
                "source_id",
                "source_kind",
                "target_id",
                "target_kind",
                "link_type",
                "first_recorded",
                "source_evaluation",
                "intelligence_assessment",
                "handling_code",
            ],
        ),
        (
            "intel/reports.csv",
            [
                "report_id",
                "month",
                "subject_id",
                "behaviour",
                "lsoa_code",
                "market_id",
                "source_evaluation",
                "intelligence_assessment",
                "handling_code",
            ],
        ),
        ("records/crime_people.csv", ["crime_id", "nominal_id", "role", "month"]),
        (
            "records/arrests.csv",
            [
                "arrest_id",
                "nominal_id",
                "month",
                "lsoa_code",
                "offence",
                "crime_id",
                "custody_outcome",
                "custody_until",
            ],
        ),
        (
            "survey/responses.csv",
            [
                "response_id",
                "month",
                "lsoa_code",
                "age_band",
                "gender",
                "drug_problem",
                "confidence_in_police",
                "feel_safe_after_dark",
                "harm_rank_1",
                "harm_rank_2",
                "harm_rank_3",
            ],
        ),
        (
            "partners/indicators.csv",
            ["month", "lsoa_code", "overdoses", "drug_deaths", "needle_finds", "treatment_entries"],
        ),
        (
            "truth/places.csv",
            [
                "month",
                "cell_x",
                "cell_y",
                "lsoa_code",
                "true_harm",
                "recorded_harm",
                "hidden_harm",
                "true_events",
                "recorded_events",
                "activity",
            ],
        ),
        (
            "truth/operation_effects.csv",
            [
                "operation_id",
                "month",
                "zone",
                "true_harm_with",
                "true_harm_without",
                "recorded_harm_with",
                "recorded_harm_without",
                "recorded_events_with",
                "recorded_events_without",
                "activity_with",
                "activity_without",
            ],
        ),
    ],
)
def test_documented_columns(small_dir: Path, path: str, columns: list[str]) -> None:
    frame = pd.read_csv(small_dir / path, dtype=str, keep_default_na=False)
    assert list(frame.columns) == columns
    assert len(frame) > 0
    doc = (Path(__file__).resolve().parents[2] / "docs" / "simulator.md").read_text()
    assert f"`{path}`" in doc
    for col in columns:
        assert f"`{col}`" in doc, f"{path}: column {col} is not documented in docs/simulator.md"


def test_every_written_file_is_documented(small_dir: Path) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "simulator.md").read_text()
    for f in sorted(small_dir.rglob("*")):
        rel = f.relative_to(small_dir).as_posix()
        if f.is_file() and not rel.startswith("20"):
            assert f"`{rel}`" in doc, f"{rel} is not documented in docs/simulator.md"


def test_grading_and_ids_are_consistent(small_dir: Path) -> None:
    nom = pd.read_csv(small_dir / "intel/nominals.csv", dtype=str, keep_default_na=False)
    people = pd.read_csv(small_dir / "truth/people.csv", dtype=str, keep_default_na=False)
    assert nom["nominal_id"].str.fullmatch(r"N[0-9A-F]{10}").all()
    assert nom["nominal_id"].isin(people["person_id"]).all()
    rep = pd.read_csv(small_dir / "intel/reports.csv", dtype=str, keep_default_na=False)
    # UK 3x5x2: source evaluation A/B/C, intelligence assessment 1-5 (College of Policing).
    assert set(rep["source_evaluation"]) <= set("ABC")
    assert set(rep["intelligence_assessment"]) <= set("12345")
    assert set(rep["handling_code"]) <= {"P", "C"}
    assert rep["subject_id"].isin(nom["nominal_id"]).all()
    links = pd.read_csv(small_dir / "intel/links.csv", dtype=str, keep_default_na=False)
    groups = pd.read_csv(small_dir / "intel/groups.csv", dtype=str)
    ids = set(people["person_id"]) | set(groups["group_id"])
    assert links["source_id"].isin(ids).all() and links["target_id"].isin(ids).all()
    truth_rep = pd.read_csv(small_dir / "truth/intel_reports.csv", dtype=str)
    assert (truth_rep["report_id"] == rep["report_id"]).all()
    markets = pd.read_csv(small_dir / "truth/markets.csv", dtype=str)
    assert (
        pd.read_csv(small_dir / "intel/markets.csv", dtype=str)["market_id"]
        .isin(markets["market_id"])
        .all()
    )
    assert np.isin(rep.loc[rep["market_id"] != "", "market_id"], markets["market_id"]).all()
