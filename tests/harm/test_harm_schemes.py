"""Weight schemes: packaged cchi and count, user schemes, and strict validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from harm_testdata import DESIGN_WEIGHTS, POLICE_UK_TYPES

from harmscope.errors import SchemeError
from harmscope.harm.schemes import (
    BUILTIN_SCHEMES_DIR,
    SCHEMES_ENV,
    available_schemes,
    load_scheme,
    scheme_name,
)

ACTIVITY = {"Drugs", "Possession of weapons", "Stop and search"}


def test_cchi_weights_are_design_section_3():
    cchi = load_scheme("cchi")
    assert cchi.name == "cchi"
    assert cchi.unit == "days of imprisonment"
    for event_type, days in DESIGN_WEIGHTS.items():
        assert cchi.get(event_type).weight == pytest.approx(days, abs=0.005), event_type


def test_cchi_kinds_and_asb_assumption():
    cchi = load_scheme("cchi")
    assert {w.event_type for w in cchi.weights if w.kind == "activity"} == ACTIVITY
    asb = cchi.get("Anti-social behaviour")
    assert (asb.weight, asb.kind, asb.assumption) == (1.0, "harm", True)
    assert set(POLICE_UK_TYPES) <= set(cchi.event_types)
    assert all(w.citation for w in cchi.weights)
    # Only the four types without a CCHI value are assumptions.
    assert {w.event_type for w in cchi.weights if w.assumption} == {
        "Anti-social behaviour",
        "Violent crime",
        "Public disorder and weapons",
        "Stop and search",
    }


def test_count_is_one_per_event_with_the_kinds_of_cchi():
    cchi, count = load_scheme("cchi"), load_scheme("count")
    assert count.unit == "events"
    assert count.event_types == cchi.event_types
    for w in count.weights:
        assert w.weight == 1.0
        assert w.kind == cchi.get(w.event_type).kind, w.event_type
        assert w.citation


def test_to_frame():
    frame = load_scheme("count").to_frame()
    assert list(frame.columns) == ["event_type", "weight", "kind"]
    assert str(frame["weight"].dtype) == "float64"
    assert len(frame) == len(load_scheme("count").weights)


def test_available_schemes_lists_packaged_then_user(tmp_path, monkeypatch):
    monkeypatch.delenv(SCHEMES_ENV, raising=False)
    assert list(available_schemes()) == ["cchi", "count"]
    assert available_schemes()["cchi"] == BUILTIN_SCHEMES_DIR / "cchi.toml"
    user = tmp_path / "schemes"
    user.mkdir()
    (user / "css.toml").write_text(VALID, encoding="utf-8")
    (user / "cchi.toml").write_text(VALID, encoding="utf-8")  # shadowed by the packaged one
    monkeypatch.setenv(SCHEMES_ENV, str(user))
    found = available_schemes()
    assert list(found) == ["cchi", "count", "css"]
    assert found["cchi"] == BUILTIN_SCHEMES_DIR / "cchi.toml"
    css = load_scheme("css")
    assert css.name == "css"  # from the file stem: no [scheme] name
    assert css.get("Robbery").weight == 1500.5
    assert css.path == user / "css.toml"


def test_user_scheme_by_path(tmp_path):
    p = tmp_path / "mine.toml"
    p.write_text(VALID, encoding="utf-8")
    for arg in (p, str(p)):
        s = load_scheme(arg)
        assert s.name == "mine"
        assert s.event_types == ("Robbery", "Drugs")
        assert s.get("Drugs").kind == "activity"
    assert load_scheme(s) is s


def test_unknown_name_lists_available(monkeypatch):
    monkeypatch.delenv(SCHEMES_ENV, raising=False)
    with pytest.raises(SchemeError, match=r"scheme 'nope': unknown name \(available: cchi, count"):
        load_scheme("nope")


VALID = """
[scheme]
unit = "ONS CSS units"
citation = "Office for National Statistics, Crime Severity Score weights (example)"

[[weight]]
event_type = "Robbery"
weight = 1500.5
kind = "harm"
citation = "ONS CSS 2023, robbery of personal property"

[[weight]]
event_type = "Drugs"
weight = 20
kind = "activity"
citation = "ONS CSS 2023, possession"
"""


@pytest.mark.parametrize(
    ("old", "new", "key", "what"),
    [
        ('citation = "ONS CSS 2023, possession"', "", "weight[1] (Drugs).citation", "missing"),
        (
            'citation = "ONS CSS 2023, possession"',
            'citation = "  "',
            "weight[1] (Drugs).citation",
            "non-empty",
        ),
        (
            'kind = "activity"',
            'kind = "busyness"',
            "weight[1] (Drugs).kind",
            "unknown kind 'busyness'",
        ),
        ('kind = "activity"', "", "weight[1] (Drugs).kind", "missing"),
        (
            "weight = 20",
            "weight = -20",
            "weight[1] (Drugs).weight",
            "expected a finite number >= 0",
        ),
        ("weight = 20", 'weight = "20"', "weight[1] (Drugs).weight", "expected a number >= 0"),
        ("weight = 20", "weight = true", "weight[1] (Drugs).weight", "expected a number >= 0"),
        ("weight = 20", "weight = nan", "weight[1] (Drugs).weight", "finite"),
        ("weight = 20", "", "weight[1] (Drugs).weight", "missing"),
        (
            'event_type = "Drugs"',
            'event_type = "robbery"',
            "weight[1] (robbery).event_type",
            "duplicate event type 'robbery'",
        ),
        (
            'event_type = "Drugs"',
            'event_type = "Drugs"\nwieght = 3',
            "weight[1] (Drugs).wieght",
            "unknown key",
        ),
        ('citation = "Office', 'cite = "Office', "scheme.cite", "unknown key"),
        ('unit = "ONS CSS units"', "", "scheme.unit", "missing"),
        ("[scheme]", "[scheme]\nname = 'bad name'", "scheme.name", "not a valid scheme name"),
    ],
)
def test_invalid_scheme_names_file_and_key(tmp_path, old, new, key, what):
    assert old in VALID
    p = tmp_path / "bad.toml"
    p.write_text(VALID.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(SchemeError) as info:
        load_scheme(p)
    message = str(info.value)
    assert message.startswith(f"{p}: {key}"), message
    assert what in message, message


def test_structural_errors(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text('[scheme]\nunit = "d"\ncitation = "c"\n', encoding="utf-8")
    with pytest.raises(SchemeError, match=r"s\.toml: weight: missing"):
        load_scheme(p)
    p.write_text('[[weight]]\nevent_type = "x"\n', encoding="utf-8")
    with pytest.raises(SchemeError, match=r"s\.toml: scheme: missing \[scheme\]"):
        load_scheme(p)
    p.write_text("[scheme\n", encoding="utf-8")
    with pytest.raises(SchemeError, match=r"s\.toml: not valid TOML"):
        load_scheme(p)
    with pytest.raises(SchemeError, match=r"missing\.toml: scheme file not found"):
        load_scheme(tmp_path / "missing.toml")
    with pytest.raises(SchemeError, match="is a directory"):
        load_scheme(Path(tmp_path))


@pytest.mark.parametrize("typed", ["CCHI", "Cchi", " cchi ", "cChI"])
def test_scheme_names_ignore_case(typed, monkeypatch):
    """Analysts type names as reports print them: ``CCHI`` is the packaged ``cchi`` file."""
    monkeypatch.delenv(SCHEMES_ENV, raising=False)
    scheme = load_scheme(typed)
    assert scheme.name == "cchi"
    assert scheme.path == BUILTIN_SCHEMES_DIR / "cchi.toml"
    assert scheme.get("Robbery").weight == 365.0  # DESIGN §3
    assert scheme_name(typed) == "cchi"
    assert load_scheme("COUNT").get("Robbery").weight == 1.0


def test_user_scheme_differing_only_in_case_is_shadowed(tmp_path, monkeypatch):
    user = tmp_path / "schemes"
    user.mkdir()
    (user / "CCHI.toml").write_text(VALID, encoding="utf-8")  # would make 'cchi' ambiguous
    (user / "Css.toml").write_text(VALID, encoding="utf-8")
    monkeypatch.setenv(SCHEMES_ENV, str(user))
    assert list(available_schemes()) == ["cchi", "count", "Css"]
    assert load_scheme("CCHI").path == BUILTIN_SCHEMES_DIR / "cchi.toml"
    assert load_scheme("css").path == user / "Css.toml"


def test_wrong_name_lists_the_valid_ones_whatever_the_case(monkeypatch):
    monkeypatch.delenv(SCHEMES_ENV, raising=False)
    with pytest.raises(SchemeError, match=r"scheme 'CCH': unknown name \(available: cchi, count;"):
        load_scheme("CCH")
