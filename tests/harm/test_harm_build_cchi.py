"""The cchi build step: re-derive DESIGN §3 from the Home Office files and the CCHI medians."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from harm_testdata import DESIGN_WEIGHTS

from harmscope.errors import SchemeError
from harmscope.harm import build_cchi
from harmscope.harm.schemes import BUILTIN_SCHEMES_DIR, load_scheme


def test_derived_weights_match_design_to_two_decimals(shared_data):
    derived = build_cchi.derive_category_weights(shared_data)
    assert set(derived) == set(DESIGN_WEIGHTS)
    for event_type, days in DESIGN_WEIGHTS.items():
        assert round(derived[event_type].days, 2) == pytest.approx(days, abs=1e-9), event_type


def test_derivation_counts_exclude_action_fraud_and_btp(shared_data):
    derived = build_cchi.derive_category_weights(shared_data)
    vso = derived["Violence and sexual offences"]
    assert dict((name, n) for name, _, n in vso.parts)["homicide"] == 723  # 728 incl. BTP
    assert vso.offences == 1_535_473
    # Independent recomputation of one weight from its parts.
    burglary = derived["Burglary"]
    parts = {name: (days, n) for name, days, n in burglary.parts}
    assert parts == {
        "residential burglary": (273.5, 309_792),
        "non-residential burglary": (183.5, 127_336),
    }
    assert burglary.days == pytest.approx((273.5 * 309_792 + 183.5 * 127_336) / 437_128)
    assert derived["Other crime"].days == 10.0  # fraud left out


def test_committed_cchi_equals_a_fresh_build(shared_data):
    fresh = build_cchi.build_scheme_text(shared_data)
    committed = (BUILTIN_SCHEMES_DIR / "cchi.toml").read_text(encoding="utf-8")
    assert committed == fresh


def test_cli_check_and_out(shared_data, tmp_path, capsys):
    assert build_cchi.main(["--data", str(shared_data), "--check"]) == 0
    out = tmp_path / "cchi.toml"
    ho = shared_data / build_cchi.HO_FOLDER
    assert build_cchi.main(["--data", str(ho), "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == (BUILTIN_SCHEMES_DIR / "cchi.toml").read_text(
        encoding="utf-8"
    )
    out.write_text(out.read_text(encoding="utf-8").replace("230.89", "230.90"), encoding="utf-8")
    assert build_cchi.main(["--data", str(shared_data), "--check", str(out)]) == 1
    assert "differs from a fresh build" in capsys.readouterr().err


# --- a hand-made Home Office folder: the formula and the exclusions, computed by hand ---

MAPPING = """,Offence_Group,Offence_Code,Offence_Description,Offence_Subgroup,Police.uk_Cat
0,Violence,1/4.1/4.10/4.2,Homicide,Homicide,Violence and Sexual Offences
1,Violence,8N,Assault with injury,Violence with injury,Violence and Sexual Offences
2,Drug offences,92A,Trafficking,Trafficking of drugs,Drugs
3,Drug offences,92D,Possession,Possession of drugs,Drugs
4,Fraud offences,AF,Fraud,Fraud: action fraud,Other crime
"""

PRC = """,Financial_Year,Financial_Quarter,Force_Name,Offence_Description,Offence_Group,Offence_Subgroup,Offence_Code,Number_of_Offences,Policeuk_Cat
0,2017/18,1,Kent,Homicide,Violence,Homicide,1/4.1/4.10/4.2,1,Violence and Sexual Offences
1,2017/18,1,Kent,Assault with injury,Violence,Violence with injury,8N,9,Violence and Sexual Offences
2,2017/18,1,British Transport Police,Homicide,Violence,Homicide,1/4.1/4.10/4.2,100,Violence and Sexual Offences
3,2017/18,2,Kent,Trafficking,Drug offences,Trafficking of drugs,92A,1,Drugs
4,2017/18,2,Kent,Possession,Drug offences,Possession of drugs,92D,3,Drugs
5,2017/18,2,Action Fraud,Fraud,Fraud offences,Fraud: action fraud,AF,5000,Other crime
"""


def _folder(tmp_path: Path, mapping: str = MAPPING, prc: str = PRC) -> Path:
    d = tmp_path / build_cchi.HO_FOLDER
    d.mkdir()
    (d / build_cchi.MAPPING_FILE).write_bytes(gzip.compress(mapping.encode()))
    (d / build_cchi.PRC_FILE).write_bytes(gzip.compress(prc.encode()))
    return tmp_path


def _config(tmp_path: Path) -> build_cchi.BuildConfig:
    text = build_cchi.SUBGROUPS_PATH.read_text(encoding="utf-8")
    # Keep only the two categories present in the hand-made files.
    head, _, _ = text.partition("[[category]]")
    extra = text[text.index("[[extra]]") :]
    cats = '[[category]]\nevent_type = "Violence and sexual offences"\nkind = "harm"\n'
    cats += '[[category]]\nevent_type = "Drugs"\nkind = "activity"\n\n'
    p = tmp_path / "subgroups.toml"
    p.write_text(
        head + cats + extra.replace('same_as = "Public order"', 'same_as = "Drugs"'),
        encoding="utf-8",
    )
    return build_cchi.load_build_config(p)


def test_volume_weighted_mean_by_hand(tmp_path):
    data = _folder(tmp_path)
    derived = build_cchi.derive_category_weights(data, _config(tmp_path))
    # (5475 x 1 + 365 x 9) / 10; BTP's 100 homicides left out.
    assert derived["Violence and sexual offences"].days == pytest.approx(876.0)
    assert derived["Violence and sexual offences"].offences == 10
    # (5 x 1 + 3 x 3) / 4
    assert derived["Drugs"].days == pytest.approx(3.5)
    text = build_cchi.build_scheme_text(data, _config(tmp_path))
    out = tmp_path / "built.toml"
    out.write_text(text, encoding="utf-8")
    s = load_scheme(out)
    assert s.get("Violence and sexual offences").weight == 876.0
    assert s.get("Violent crime").weight == 876.0
    assert s.get("Drugs").weight == 3.5
    assert s.get("Public disorder and weapons").weight == 3.5


def test_unmapped_subgroup_is_an_error(tmp_path):
    mapping = MAPPING + "5,Misc,999,Something new,Brand new subgroup,Other crime\n"
    prc = PRC + "6,2017/18,3,Kent,Something new,Misc,Brand new subgroup,999,2,Other crime\n"
    data = _folder(tmp_path, mapping, prc)
    with pytest.raises(
        SchemeError, match="no CCHI value for Home Office subgroup 'Brand new subgroup'"
    ):
        build_cchi.derive_category_weights(data, _config(tmp_path))


def test_unknown_offence_code_and_bad_count(tmp_path):
    prc = PRC + "6,2017/18,3,Kent,Mystery,Misc,Misc,ZZZ,2,Other crime\n"
    (tmp_path / "a").mkdir()
    data = _folder(tmp_path / "a", MAPPING, prc)
    with pytest.raises(SchemeError, match="Offence_Code 'ZZZ' is not in CrimeCatMappings"):
        build_cchi.derive_category_weights(data, _config(tmp_path))
    prc = PRC.replace(",9,Violence", ",nine,Violence")
    (tmp_path / "b").mkdir()
    data = _folder(tmp_path / "b", MAPPING, prc)
    with pytest.raises(
        SchemeError, match=r"line 3, column Number_of_Offences: expected an integer"
    ):
        build_cchi.derive_category_weights(data, _config(tmp_path))


def test_missing_files_and_columns(tmp_path):
    with pytest.raises(SchemeError, match=r"CrimeCatMappings\.csv\.gz: file not found"):
        build_cchi.derive_category_weights(tmp_path)
    data = _folder(tmp_path, MAPPING.replace("Police.uk_Cat", "Category"))
    with pytest.raises(SchemeError, match=r"missing column 'Police\.uk_Cat'"):
        build_cchi.derive_category_weights(data)


def test_packaged_medians_are_design_section_3():
    cfg = build_cchi.load_build_config()
    medians = {s.name: s.days for s in cfg.subgroups}
    assert medians == {
        "homicide": 5475, "rape": 2555, "violence with injury": 365,
        "violence without injury": 10, "stalking and harassment": 10,
        "other sexual offences": 182.25, "residential burglary": 273.5,
        "non-residential burglary": 183.5, "robbery": 365, "arson": 185,
        "criminal damage": 2, "public order": 7.5, "vehicle offences": 5,
        "theft from the person": 2, "bicycle theft": 2, "other theft": 2,
        "shoplifting": 1, "possession of drugs": 3, "trafficking of drugs": 5,
        "possession of weapons": 273.75, "miscellaneous crimes against society": 10,
    }  # fmt: skip
    assert "Sherman" in cfg.citation
