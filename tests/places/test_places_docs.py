"""The docs must not fall behind the code: doctests pass and docs/places.md names every label."""

from __future__ import annotations

import doctest
import importlib
import re
from pathlib import Path

import pytest

from harmscope.places.emerging import EMERGING_CATEGORIES
from harmscope.places.gi_star import CATEGORIES
from harmscope.places.hotspots import HOTSPOT_COLUMNS

DOC = Path(__file__).resolve().parents[2] / "docs" / "places.md"
MODULES = [
    "grid",
    "gi_star",
    "emerging",
    "concentration",
    "hotspots",
    "study_area",
    "area_specs",
    "names",
    "surface",
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(f"harmscope.places.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_docs_name_every_category_and_column() -> None:
    text = DOC.read_text(encoding="utf-8")
    mirrors = {c for c in EMERGING_CATEGORIES if c.endswith("cold_spot")}
    for label in set(EMERGING_CATEGORIES) - mirrors:
        assert f"`{label}`" in text, label
    for label in CATEGORIES.values():
        assert f"`{label}`" in text, label
    assert ", ".join(HOTSPOT_COLUMNS[:7]) in " ".join(text.split())


def test_docs_list_every_public_function() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in MODULES:
        module = importlib.import_module(f"harmscope.places.{name}")
        for public in module.__all__:
            if public[0].islower() and callable(getattr(module, public)):
                assert re.search(rf"`{public}\b", text), f"{name}.{public}"


def test_package_exports_the_design_gi_star_function() -> None:
    from harmscope import places

    z = places.gi_star(
        [2, 3, 3.2, 5, 8, 7], [(10, 10), (20, 10), (40, 10), (15, 20), (30, 20), (30, 30)], 15
    )
    assert z.round(8).tolist()[-1] == 2.02424331
