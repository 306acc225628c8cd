"""The behaviour severity table: every behaviour the simulator's reports allege is on it, the
3x5x2 weights are those stated, and a bad table is refused naming file and key."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harmscope.errors import SchemeError
from harmscope.harm.taxonomy import default_taxonomy
from harmscope.people.contributions import grade_confidence
from harmscope.people.severity import OTHER, default_severity, load_severity
from harmscope.simulate.codes import INTEL_BEHAVIOURS


def test_every_simulated_report_behaviour_maps_to_a_severity() -> None:
    table = default_severity()
    for words in INTEL_BEHAVIOURS:
        assert table.behaviour_of_report(words) is not None, words
        assert table.behaviour_of_report(words.upper()) == table.behaviour_of_report(words)
    # the examples are all on the table
    for words in (
        "child criminal exploitation",
        "cuckooing",
        "firearms",
        "violent debt collection",
        "open dealing near schools",
        "selling adulterated drugs",
    ):
        assert table.behaviour_of_report(words) is not None, words
    assert table.behaviour_of_offence("Robbery") == "violence"
    assert table.behaviour_of_offence("no such type") == OTHER


def test_cells_and_grading_are_valid() -> None:
    table = default_severity()
    tax = default_taxonomy()
    for b in table.behaviours.values():
        assert b.harm_type in tax.harm_types.ids and b.bearer in tax.bearers.ids, b.id
        assert b.source in tax.sources.ids and b.anchor, b.id
    conf = grade_confidence(
        table, pd.Series(["A", "B", "C", "A", "Z"]), pd.Series(["1", "2", "3", "5", "1"])
    )
    assert conf.tolist() == pytest.approx([1.0, 0.6 * 0.8, 0.3 * 0.5, 0.0, 0.0])


def test_bad_table_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "b.toml"
    text = (Path(default_severity().path)).read_text(encoding="utf-8")
    path.write_text(text.replace('severity = "grave"', 'severity = "awful"', 1), encoding="utf-8")
    with pytest.raises(
        SchemeError, match=r"b\.toml, \[behaviours\.child_criminal_exploitation\] severity"
    ):
        load_severity(path)
    path.write_text(text.replace("B = 0.6", "B = 1.6"), encoding="utf-8")
    with pytest.raises(SchemeError, match=r"source_evaluation\.B"):
        load_severity(path)
