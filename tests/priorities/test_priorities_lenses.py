"""Priorities: places and markets ranked by harm with matrix reasons; the lens registry."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from harmscope.harm import harm_matrix
from harmscope.harm.matrix import HarmMatrix
from harmscope.harm.taxonomy import default_taxonomy
from harmscope.markets import markets
from harmscope.places.grid import with_cells
from harmscope.priorities import (
    LENSES,
    PLACE_COLUMNS,
    LensUnavailableError,
    matrix_reasons,
    rank,
    rank_markets,
    rank_places,
    register_lens,
)
from harmscope.warehouse import ibis_connect

REASON = re.compile(r"^(\w+)/(\w+)/(\w+): ([\d,]+) days \((\d+)%\)$")


def _drug_shares() -> dict[str, float]:
    """Central drug share of each type, read straight from the attribution TOML."""
    import tomllib

    import harmscope.harm

    doc = tomllib.loads(
        (Path(harmscope.harm.__file__).parent / "data" / "attribution.toml").read_text()
    )
    return {t: sum(f["central"] for f in s.values()) for t, s in doc["fractions"].items()}


def expected_reasons(m: HarmMatrix, k: int = 3) -> tuple[list[str], list[str]]:
    """Reasons of a unit from its harm matrix, worded from the taxonomy file's labels; crime
    types' shares are of the view's harm (drug-attributed: value x the type's drug share)."""
    tax = default_taxonomy()
    share = _drug_shares() if m.harm == "drug" else {}
    values = [
        (t.event_type, t.value * share.get(t.event_type, 1.0))
        for t in m.by_event_type
        if t.kind == "harm"
    ]
    types = sorted(((t, v) for t, v in values if v > 0), key=lambda t: (-t[1], t[0]))
    words = [f"{t}: {100 * v / m.total:.0f} % of harm" for t, v in types[:2]]
    cells = sorted(
        (c for c in m.cells if c["value"] > 0),
        key=lambda c: (-c["value"], f"{c['harm_type']}/{c['bearer']}/{c['source']}"),
    )[:k]
    for c in cells:
        kind = tax.harm_types.get(c["harm_type"]).label
        bearer = tax.bearers.get(c["bearer"]).label.lower()
        source = tax.sources.get(c["source"]).label.lower()
        words.append(
            f"{kind} harm to {bearer}, from {source}: {c['value']:,.0f} days "
            f"({100 * c['value'] / m.total:.0f} %)"
        )
    return words, [f"{c['harm_type']}/{c['bearer']}/{c['source']}" for c in cells]


@pytest.fixture(scope="module")
def places(city_db: Path) -> pd.DataFrame:
    return rank_places(city_db)


def test_places_contract_ranks_and_scores(places: pd.DataFrame) -> None:
    assert tuple(places.columns) == PLACE_COLUMNS
    assert places["rank"].tolist() == list(range(1, len(places) + 1))
    assert places["score"].is_monotonic_decreasing
    # the score is the harm to come (tests/priorities/test_places_forecast.py recomputes it)
    assert (places["score"] == places["forecast_harm"]).all() and (places["harm"] > 0).all()
    assert places["unit_id"].is_unique
    first = places.iloc[0]
    assert first["unit_id"] == f"cell-250m-{first['cell_x']}-{first['cell_y']}"


def test_place_reasons_equal_the_harm_matrix_of_the_cell(
    places: pd.DataFrame, city_db: Path
) -> None:
    backend = ibis_connect(city_db)
    try:
        events = backend.table("events")
        for _, row in places.head(3).iterrows():
            cells = with_cells(events)
            inside = cells.filter(
                (cells.cell_x == int(row["cell_x"])) & (cells.cell_y == int(row["cell_y"]))
            ).drop("cell_x", "cell_y")
            m = harm_matrix(inside, scheme="cchi")
            assert m.total == pytest.approx(row["harm"], rel=1e-9)
            assert (row["reasons"], row["reason_cells"]) == expected_reasons(m)
            # in words: crime types and harms, never a bare matrix key
            assert row["reasons"][0].endswith("% of harm") and len(row["reasons"]) == 5
            assert not any(REASON.match(r) or "/individuals/" in r for r in row["reasons"])
            assert row["name"].startswith("On or near ") and "City of London" in row["name"]
    finally:
        backend.disconnect()


def test_place_significance_options(places: pd.DataFrame, city_db: Path) -> None:
    weighted = rank_places(city_db, significance="weight")
    expected = weighted["forecast_harm"] * stats.norm.cdf(weighted["gi_z"])
    assert np.allclose(weighted["score"], expected)
    assert weighted["score"].is_monotonic_decreasing
    # On the City's own 60-odd cells six are hot at FDR 0.10 (two at 0.01) in all crime harm
    # (drug-attributed harm is spread more evenly: two are hot at 0.10).
    required = rank_places(city_db, significance="require", alpha=0.10, top=5, harm="all")
    drug = rank_places(city_db, significance="require", alpha=0.10)
    assert len(drug) == 2 and (drug["p_fdr"] <= 0.10).all()
    assert len(required) == 5
    assert (required["p_fdr"] <= 0.10).all() and (required["gi_z"] > 0).all()
    assert required["rank"].tolist() == [1, 2, 3, 4, 5]
    with pytest.raises(ValueError, match="significance"):
        rank_places(city_db, significance="maybe")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="top"):
        rank_places(city_db, top=0)


def test_rank_markets_orders_markets_by_harm(city_db: Path) -> None:
    ranked = rank_markets(city_db, buffer=250)
    found = markets(city_db, buffer=250)
    assert len(ranked) == len(found) > 0
    assert ranked["rank"].tolist() == list(range(1, len(found) + 1))
    assert ranked["score"].is_monotonic_decreasing
    by_id = {m.id: m for m in found}
    for _, row in ranked.iterrows():
        m = by_id[row["unit_id"]]
        assert row["score"] == pytest.approx(m.harm)
        assert (row["reasons"], row["reason_cells"]) == expected_reasons(m.matrix)
        assert row["name"] == m.place and row["place"].startswith("On or near ")
    with pytest.raises(ValueError, match="rejected"):
        rank_markets(city_db, include_rejected=True)


def test_lens_registry(city_db: Path) -> None:
    assert {"places", "markets"} <= set(LENSES)
    assert rank("places", city_db, top=3)["rank"].tolist() == [1, 2, 3]
    for personal in ("people", "groups", "behaviours"):
        # registered, but this warehouse holds no force records: refused saying what to load
        with pytest.raises(LensUnavailableError, match="no force records are loaded"):
            rank(personal, city_db, user="test", reason="lens registry test")
    board = rank("all", city_db, per_lens={"markets": {"buffer": 0.0}})
    assert list(board.columns[:6]) == ["lens", "rank", "unit_id", "score", "reasons", "lens_rank"]
    assert set(board["lens"]) == {"places", "markets"}
    assert board["score"].is_monotonic_decreasing
    assert board.attrs["unavailable"] == ["behaviours", "groups", "people"]
    assert all(
        "user" in why or "records" in why for why in board.attrs["unavailable_reasons"].values()
    )
    for lens, rows in board.groupby("lens"):
        alone = rank(str(lens), city_db, **({"buffer": 0.0} if lens == "markets" else {}))
        assert rows["unit_id"].tolist() == alone["unit_id"].tolist()
        assert rows["lens_rank"].tolist() == alone["rank"].tolist()
    with pytest.raises(LensUnavailableError, match="options given for lens"):
        rank("all", city_db, per_lens={"victims": {}})
    with pytest.raises(LensUnavailableError, match="unknown lens 'weather'"):
        rank("weather", city_db)

    def broken(source: object, **options: object) -> pd.DataFrame:
        return pd.DataFrame({"rank": [1]})

    def constant(source: object, **options: object) -> pd.DataFrame:
        return pd.DataFrame({"rank": [1], "unit_id": ["x"], "score": [1.0], "reasons": [[]]})

    try:
        register_lens("broken", broken, "test")
        with pytest.raises(LensUnavailableError, match="no unit_id, score, reasons"):
            rank("broken", city_db)
        register_lens("Constant", constant, "test")
        assert rank("constant", city_db)["unit_id"].tolist() == ["x"]
    finally:
        LENSES.pop("broken", None)
        LENSES.pop("constant", None)


def test_matrix_reasons_format() -> None:
    cells = [
        {"harm_type": "health", "bearer": "individuals", "source": "distribution", "value": 1234.4},
        {"harm_type": "social", "bearer": "communities", "source": "use", "value": 0.0},
        {"harm_type": "economic", "bearer": "individuals", "source": "use", "value": 300.0},
        {"harm_type": "economic", "bearer": "communities", "source": "use", "value": 100.0},
    ]
    assert matrix_reasons(cells, "days of imprisonment", k=2) == [
        "health/individuals/distribution: 1,234 days (76%)",
        "economic/individuals/use: 300 days (18%)",
    ]
    assert matrix_reasons(cells, "events", k=5)[-1] == "economic/communities/use: 100 events (6%)"
    assert matrix_reasons([cells[1]], "events") == []
