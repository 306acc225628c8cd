"""docs/people.md tells the truth: its severity table and forecast parameters are the code's."""

from __future__ import annotations

import re
from pathlib import Path

from harmscope.people.forecast import DEFAULT_MODEL
from harmscope.people.severity import default_severity

DOC = Path(__file__).resolve().parents[2] / "docs" / "people.md"


def test_severity_table_in_docs_is_the_data_file() -> None:
    text = DOC.read_text(encoding="utf-8")
    table = default_severity()
    shown = {
        m.group(1).strip(): (m.group(2).strip(), float(m.group(3)))
        for m in re.finditer(r"^\| ([a-z ]+) \| (\w+) \| ([\d.]+) \|", text, flags=re.M)
    }
    listed = {b.label: (b.severity, b.days) for b in table.behaviours.values() if b.days > 0}
    assert shown == listed


def test_forecast_parameters_in_docs_are_the_defaults() -> None:
    text = " ".join(DOC.read_text(encoding="utf-8").split())
    assert f"half-life `h` = {DEFAULT_MODEL.half_life:g} months" in text
    assert f"`alpha` = {DEFAULT_MODEL.context:g}" in text
    assert f"`intel` = {DEFAULT_MODEL.intel:g}" in text
    assert f"Default {DEFAULT_MODEL.custody:g}:" in text
    assert f"`persistence` = {DEFAULT_MODEL.persistence:g}" in text
