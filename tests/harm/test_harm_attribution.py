"""The attributable-fractions file: the packaged default and strict validation of bad files."""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path

import pytest
from harm_testdata import POLICE_UK_TYPES

from harmscope.errors import SchemeError
from harmscope.harm import load_scheme
from harmscope.harm.attribution import (
    DEFAULT_ATTRIBUTION_PATH,
    DRUG_SOURCES,
    default_attribution,
    load_attribution,
)


def test_default_covers_every_police_uk_type_asb_and_searches() -> None:
    a = default_attribution()
    assert a.name == "uk-default"
    for t in (*POLICE_UK_TYPES, "Stop and search", "Violent crime", "Public disorder and weapons"):
        assert t in a.types, t
    # Every type the packaged schemes weigh as harm has fractions.
    for name in ("cchi", "count"):
        for w in load_scheme(name).weights:
            a.for_type(w.event_type)


def test_default_fractions_are_ranges_with_citations() -> None:
    raw = tomllib.loads(DEFAULT_ATTRIBUTION_PATH.read_text(encoding="utf-8"))
    a = default_attribution()
    n = 0
    for event_type, by_source in raw["fractions"].items():
        ta = a.for_type(event_type)
        assert set(by_source) <= set(DRUG_SOURCES)
        for source, f in by_source.items():
            n += 1
            assert 0 <= f["low"] <= f["central"] <= f["high"] <= 1
            assert f["refs"] and all(r in raw["references"] for r in f["refs"])
            assert isinstance(f["judgement"], bool) and f["basis"].strip()
            got = ta.get(source)
            assert got is not None
            assert (got.low, got.central, got.high) == (f["low"], f["central"], f["high"])
        central = math.fsum(f["central"] for f in by_source.values())
        assert central <= 1 + 1e-9
        assert ta.drug[1] == pytest.approx(central)
        assert ta.not_attributed[1] == pytest.approx(1 - central)
    assert n == sum(len(ta.fractions) for ta in a.types.values())


def test_default_figures_read_off_their_sources() -> None:
    """The few fractions close to a published figure carry it (see the references)."""
    a = default_attribution()
    refs = a.references
    # Home Office / NTA: heroin and crack users commit a third to a half of acquisitive crime.
    burglary = a.for_type("Burglary").get("use")
    assert burglary is not None and (burglary.low, burglary.high) == (0.33, 0.50)
    assert "between a third and a half" in refs["nta_2012"]
    # Searches for drugs: 59-69 % of searches, read off Home Office statistics.
    search = a.for_type("Stop and search").get("control")
    assert search is not None and not search.judgement
    assert (search.low, search.central, search.high) == (0.59, 0.62, 0.69)
    # Drug offences are all drug-attributed: possession 80 %, trafficking 20 % (2017/18).
    assert a.for_type("Drugs").drug[1] == pytest.approx(1.0)
    assert "80%" in refs["ho_prc_2018"]
    # The Homicide Index figures behind the violence judgement.
    assert "1,627 (52%)" in refs["ons_drh_2024"] and "systemic 15%" in refs["ons_drh_2024"]
    # Every other fraction is flagged as a judgement.
    judged = [
        (t, s) for t, ta in a.types.items() for s, f in ta.fractions.items() if not f.judgement
    ]
    assert judged == [("Stop and search", "control")]


def test_ranges_widen_for_every_type() -> None:
    for ta in default_attribution().types.values():
        low, central, high = ta.drug
        assert low <= central <= high
        na_low, _, na_high = ta.not_attributed
        assert na_low == pytest.approx(max(0.0, 1 - high))
        assert na_high == pytest.approx(1 - low)


MINIMAL = """
[attribution]
name = "t"
citation = "c"

[references]
a = "A. (2020). A source."

[fractions."Burglary".use]
low = 0.3
central = 0.4
high = 0.5
refs = ["a"]
judgement = true
basis = "b"

[fractions."Burglary".distribution]
low = 0.0
central = 0.1
high = 0.2
refs = ["a"]
judgement = false
basis = "b"

[fractions."Shoplifting"]
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "attr.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_minimal_file_and_empty_type(tmp_path: Path) -> None:
    a = load_attribution(_write(tmp_path, MINIMAL))
    assert a.for_type("Burglary").drug == pytest.approx((0.3, 0.5, 0.7))
    assert a.for_type("Shoplifting").drug == (0.0, 0.0, 0.0)  # all not drug-attributed
    assert a.for_type("Shoplifting").not_attributed == (1.0, 1.0, 1.0)
    with pytest.raises(SchemeError, match=r"attr\.toml: fractions\.'Robbery': no attributable"):
        a.for_type("Robbery")


@pytest.mark.parametrize(
    ("edit", "key", "message"),
    [
        (lambda s: s.replace("low = 0.3", "low = 1.5"), "fractions.Burglary.use.low",
         r"expected a number in \[0, 1\], got 1.5"),
        (lambda s: s.replace("low = 0.3", "low = -0.1"), "fractions.Burglary.use.low",
         r"got -0.1"),
        (lambda s: s.replace("low = 0.3", 'low = "x"'), "fractions.Burglary.use.low",
         r"got 'x'"),
        (lambda s: s.replace("low = 0.3", "low = 0.45"), "fractions.Burglary.use",
         r"expected low <= central <= high, got low=0.45, central=0.4"),
        (lambda s: s.replace("high = 0.5", "high = 0.35"), "fractions.Burglary.use",
         r"central=0.4, high=0.35"),
        (lambda s: s.replace("central = 0.1\nhigh = 0.2", "central = 0.65\nhigh = 0.7"),
         "fractions.Burglary", r"central shares of the drug sources sum to 1.05"),
        (lambda s: s.replace('[fractions."Burglary".distribution]', '[fractions."Burglary".market]'),
         "fractions.Burglary.market", r"unknown key"),
        (lambda s: s.replace('refs = ["a"]\njudgement = true', 'refs = ["zz"]\njudgement = true'),
         "fractions.Burglary.use.refs", r"unknown reference 'zz'"),
        (lambda s: s.replace('refs = ["a"]\njudgement = true', 'refs = []\njudgement = true'),
         "fractions.Burglary.use.refs", r"expected a non-empty list"),
        (lambda s: s.replace("judgement = true\n", ""), "fractions.Burglary.use.judgement",
         r"expected true .* or false"),
        (lambda s: s.replace('judgement = true\nbasis = "b"', "judgement = true"),
         "fractions.Burglary.use.basis", r"expected a non-empty string"),
        (lambda s: s.replace("basis = \"b\"\n\n[fractions.\"Burglary\".distribution]",
                             "basis = \"b\"\nnote = 1\n\n[fractions.\"Burglary\".distribution]"),
         "fractions.Burglary.use.note", r"unknown key"),
        (lambda s: s.replace('[references]\na = "A. (2020). A source."\n', ""),
         "references", r"missing"),
        (lambda s: s.replace('name = "t"\n', ""), "attribution.name", r"expected a non-empty"),
        (lambda s: s + "\n[extra]\n", "<root>.extra", r"unknown key"),
    ],
)  # fmt: skip
def test_malformed_file_names_file_and_key(tmp_path: Path, edit, key: str, message: str) -> None:
    p = _write(tmp_path, edit(MINIMAL))
    with pytest.raises(SchemeError) as info:
        load_attribution(p)
    text = str(info.value)
    assert text.startswith(f"{p}: {key}"), text
    assert re.search(message, text), text


def test_missing_and_invalid_toml(tmp_path: Path) -> None:
    with pytest.raises(SchemeError, match=r"nope\.toml: attribution file not found"):
        load_attribution(tmp_path / "nope.toml")
    p = _write(tmp_path, MINIMAL.replace("low = 0.3", "low = = 0.3"))
    with pytest.raises(SchemeError, match=r"attr\.toml: not valid TOML: .*line 10"):
        load_attribution(p)


def test_docs_table_matches_the_packaged_fractions() -> None:
    """docs/harm-model.md quotes every default fraction; it must say what the file says."""
    doc = Path(__file__).resolve().parents[2] / "docs" / "harm-model.md"
    lines = doc.read_text(encoding="utf-8").splitlines()
    start = lines.index(
        "| event type | use | production | distribution | control | **not drug-attributed** "
        "| basis |"
    )
    a = default_attribution()
    seen = set()
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cols = [c.strip() for c in line.strip("|").split("|")]
        name = re.sub(r" \(.*\)$", "", cols[0])
        ta = a.for_type(name)
        seen.add(name)
        for source, col in zip(DRUG_SOURCES, cols[1:5], strict=True):
            f = ta.get(source)
            if not col:
                assert f is None, (name, source)
                continue
            assert f is not None, (name, source)
            central, low, high = (float(x) for x in re.findall(r"[\d.]+", col))
            assert (central, low, high) == (f.central, f.low, f.high), (name, source)
        assert float(re.findall(r"[\d.]+", cols[5])[0]) == pytest.approx(ta.not_attributed[1])
    assert seen | {"Violent crime"} == set(a.types)
