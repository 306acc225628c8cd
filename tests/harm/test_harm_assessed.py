"""Assessed cells: the scales, the priority lookup, checks, and latest-per-cell reading."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harmscope.errors import SchemeError
from harmscope.harm.assessed import (
    ASSESSMENT_FIELDS,
    Assessment,
    assessed_cells,
    default_scales,
    load_scales,
)
from harmscope.harm.evidence import explain


def test_scales_are_five_graded_and_the_lookup_is_monotone() -> None:
    sc = default_scales()
    assert sc.severity == ("marginal", "moderate", "serious", "grave", "catastrophic")
    assert sc.incidence == ("rare", "occasional", "recurrent", "persistent", "continuous")
    assert "Greenfield" in sc.citation and "864-885" in sc.citation
    rank = {b: i for i, b in enumerate(sc.bands)}
    # Worse or more frequent harm is never a lower priority.
    for s in range(5):
        for i in range(5):
            here = rank[sc.band(sc.severity[s], sc.incidence[i])]
            if s < 4:
                assert rank[sc.band(sc.severity[s + 1], sc.incidence[i])] >= here
            if i < 4:
                assert rank[sc.band(sc.severity[s], sc.incidence[i + 1])] >= here
    assert sc.band("catastrophic", "continuous") == "highest"
    assert sc.band("marginal", "rare") == "low"


def test_confidence_widens_the_band_range() -> None:
    sc = default_scales()
    assert sc.band_range("serious", "recurrent", "high") == ("medium", "medium")
    assert sc.band_range("serious", "recurrent", "medium") == ("low", "high")
    assert sc.band_range("serious", "recurrent", "low") == ("low", "highest")
    assert sc.band_range("catastrophic", "continuous", "medium") == ("high", "highest")


def test_a_lookup_that_does_not_fit_the_scales_is_refused(tmp_path: Path) -> None:
    text = default_scales().path.read_text(encoding="utf-8")
    bad = tmp_path / "a.toml"
    bad.write_text(text.replace('grave        = ["medium",', 'grave        = ["urgent",'))
    with pytest.raises(SchemeError, match=r"a\.toml: priority\.grave: 'urgent' is not one of"):
        load_scales(bad)


def _assessment(**over: str) -> Assessment:
    fields = {
        "harm_type": "social",
        "bearer": "individuals",
        "source": "distribution",
        "severity": "grave",
        "incidence": "recurrent",
        "confidence": "medium",
        "evidence": "4 county-lines referrals, 2021",
        "assessed_by": "analyst",
        "category": "exploitation",
    }
    fields.update(over)
    return Assessment(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("harm_type", "moral", "harm_type: expected one of health"),
        ("severity", "bad", "severity: expected one of marginal, moderate"),
        ("incidence", "often", "incidence: expected one of rare"),
        ("confidence", "sure", "confidence: expected one of low, medium, high"),
        ("category", "violence", "category: 'violence' is not a category of social"),
        ("evidence", "  ", "evidence: must not be blank"),
    ],
)
def test_check_names_the_field(field: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _assessment(**{field: value}).check()


def test_latest_assessment_per_cell_supersedes_earlier_ones() -> None:
    rows = pd.DataFrame(
        [
            (1, "social", "individuals", "distribution", "exploitation", None, "serious",
             "occasional", "low", "first look", "a", pd.Timestamp("2026-01-01")),
            (2, "social", "individuals", "distribution", "exploitation", None, "grave",
             "persistent", "high", "case review", "b", pd.Timestamp("2026-02-01")),
            (3, "social", "families", "distribution", None, "E01000001", "moderate", "rare",
             "medium", "one report", "a", pd.Timestamp("2026-01-15")),
        ],
        columns=list(ASSESSMENT_FIELDS),
    )  # fmt: skip
    latest = assessed_cells(rows)
    assert [c["assessment_id"] for c in latest] == [2, 3]  # highest priority first
    assert latest[0]["superseded"] == 1 and latest[0]["priority"] == "high"
    assert latest[0]["assessed_at"] == "2026-02-01T00:00:00Z"
    assert latest[1]["area"] == "E01000001" and latest[1]["category"] is None
    assert len(assessed_cells(rows, latest=False)) == 3
    sentence = explain(latest[0])
    assert sentence.startswith("Analyst assessment (exploitation) by b on 2026-02-01")
    assert "severity grave, incidence persistent, priority high" in sentence
    assert sentence.endswith("A rating, not summed.")
    assert assessed_cells(None) == []
