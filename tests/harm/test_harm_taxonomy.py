"""Taxonomy: DESIGN §2 axes, the event-type mapping, and strict validation of force files."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from harm_testdata import POLICE_UK_TYPES

from harmscope.errors import SchemeError
from harmscope.harm.taxonomy import DEFAULT_TAXONOMY_PATH, default_taxonomy, load_taxonomy

PRE_2013 = ("Violent crime", "Public disorder and weapons")


def test_default_axes_are_design_section_2():
    tax = default_taxonomy()
    assert tax.harm_types.ids == ("health", "economic", "social", "environmental")
    assert tax.harm_types.get("social").label == "Social/structural"
    assert tax.bearers.ids == ("individuals", "families", "communities", "society")
    assert tax.sources.ids == ("use", "production", "distribution", "control")
    subs = {b.id: tuple(b.children) for b in tax.bearers.values}
    assert subs == {
        "individuals": ("users", "sellers", "victims"),
        "families": ("families", "peers", "neighbours"),
        "communities": ("residents", "local_businesses", "local_institutions"),
        "society": ("national_institutions", "economy", "state"),
    }


def test_finer_categories_hang_under_types():
    tax = default_taxonomy()
    cats = {t.id: set(t.children) for t in tax.harm_types.values}
    assert {"violence", "ill_health"} <= cats["health"]
    assert "acquisitive_crime" in cats["economic"]
    assert {"nuisance", "exploitation", "loss_of_confidence", "corruption"} <= cats["social"]
    assert "drug_litter" in cats["environmental"]


def test_every_police_uk_type_is_mapped_with_shares_summing_to_one():
    tax = default_taxonomy()
    assert set(tax.event_types) == {*POLICE_UK_TYPES, *PRE_2013, "Stop and search"}
    for event_type, cells in tax.mapping.items():
        assert math.isclose(sum(c.share for c in cells), 1.0), event_type
        for c in cells:
            assert c.rationale, event_type
            assert c.category in tax.harm_types.get(c.harm_type).children


@pytest.mark.parametrize(
    ("event_type", "cell"),
    [
        ("Violence and sexual offences", ("health", "individuals", "distribution")),
        ("Anti-social behaviour", ("social", "communities", "use")),
        ("Stop and search", ("social", "individuals", "control")),
        ("Shoplifting", ("economic", "communities", "use")),
        ("Vehicle crime", ("economic", "individuals", "use")),
    ],
)
def test_documented_single_cell_choices(event_type, cell):
    cells = default_taxonomy().cells_for(event_type)
    assert [(c.cell, c.share) for c in cells] == [(cell, 1.0)]


def test_robbery_is_split_between_violence_and_acquisitive_loss():
    cells = default_taxonomy().cells_for("Robbery")
    assert {(c.cell, c.category, c.share) for c in cells} == {
        (("health", "individuals", "use"), "violence", 0.5),
        (("economic", "individuals", "use"), "acquisitive_crime", 0.5),
    }


def test_cells_for_unknown_type_names_the_file():
    with pytest.raises(
        SchemeError, match=r"taxonomy\.toml: no \[\[mapping\]\] for event type 'Arson'"
    ):
        default_taxonomy().cells_for("Arson")


MINIMAL = """
[taxonomy]
name = "force-x"
citation = "Force X local harm assessment 2024"

[harm_types.health]
label = "Health"
[harm_types.health.categories]
violence = "Violence"

[bearers.individuals]
label = "Individuals"
[bearers.individuals.sub_bearers]
victims = "Victims"

[sources.distribution]
label = "Distribution"

[[mapping]]
event_type = "Robbery"
[[mapping.cell]]
harm_type = "health"
category = "violence"
bearer = "individuals"
source = "distribution"
share = SHARE
rationale = "Local choice."
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "force.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_a_force_can_pass_its_own_taxonomy(tmp_path):
    tax = load_taxonomy(_write(tmp_path, MINIMAL.replace("SHARE", "1.0")))
    assert tax.name == "force-x"
    assert tax.event_types == ("Robbery",)
    assert tax.cells_for("Robbery")[0].cell == ("health", "individuals", "distribution")
    assert tax.cells_for("Robbery")[0].sub_bearer is None


@pytest.mark.parametrize(
    ("edit", "key", "what"),
    [
        (lambda s: s.replace("SHARE", "0.6"), "mapping[0] (Robbery).cell", "shares sum to 0.6"),
        (lambda s: s.replace("SHARE", "-1"), "cell[0].share", "expected a number in (0, 1]"),
        (lambda s: s.replace("SHARE", '"half"'), "cell[0].share", "expected a number"),
        (
            lambda s: s.replace("SHARE", "1").replace(
                'harm_type = "health"\ncategory', 'harm_type = "wealth"\ncategory'
            ),
            "cell[0].harm_type",
            "unknown harm_type 'wealth'",
        ),
        (
            lambda s: s.replace("SHARE", "1").replace(
                'category = "violence"', 'category = "theft"'
            ),
            "cell[0].category",
            "unknown category 'theft' under harm type 'health'",
        ),
        (
            lambda s: s.replace("SHARE", "1").replace('source = "distribution"', 'source = "use"'),
            "cell[0].source",
            "unknown source 'use'",
        ),
        (
            lambda s: s.replace("SHARE", "1").replace('rationale = "Local choice."', ""),
            "cell[0].rationale",
            "missing",
        ),
        (
            lambda s: s.replace("SHARE", "1").replace(
                'source = "distribution"\n', 'source = "distribution"\nsub_bearer = "users"\n'
            ),
            "cell[0].sub_bearer",
            "unknown sub-bearer 'users' under bearer 'individuals'",
        ),
        (
            lambda s: (
                s.replace("SHARE", "1")
                + s.split("[[mapping]]")[1].replace("SHARE", "1").join(["[[mapping]]", ""])
            ),
            "mapping[1] (Robbery)",
            "duplicate event type 'Robbery'",
        ),
        (
            lambda s: s.replace("SHARE", "1").replace('citation = "Force X', 'cite = "Force X'),
            "taxonomy.cite",
            "unknown key",
        ),
        (
            lambda s: (
                s.replace("SHARE", "1")
                .replace("[sources.distribution]", "[sources]")
                .replace('label = "Distribution"', "")
            ),
            "sources",
            "missing or empty axis table",
        ),
    ],
)
def test_invalid_taxonomy_names_file_and_key(tmp_path, edit, key, what):
    path = _write(tmp_path, edit(MINIMAL))
    with pytest.raises(SchemeError) as info:
        load_taxonomy(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert key in message, message
    assert what in message, message


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(SchemeError, match="taxonomy file not found"):
        load_taxonomy(tmp_path / "nope.toml")
    bad = _write(tmp_path, "[taxonomy\nname=")
    with pytest.raises(SchemeError, match="not valid TOML"):
        load_taxonomy(bad)


def test_default_path_is_packaged():
    assert DEFAULT_TAXONOMY_PATH.is_file()
    assert load_taxonomy().path == DEFAULT_TAXONOMY_PATH
