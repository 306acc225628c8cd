"""Force-records files: recognised by header, every value checked, errors name file, line and
column, person ids pseudonymised with HMAC-SHA256 before anything leaves the adapter.

The files are the simulator's (SYNTHETIC: no real force records are public); bad files are
those files with one value changed, so the expected line is known independently.
"""

from __future__ import annotations

import ast
import hashlib
import hmac
from pathlib import Path

import pandas as pd
import pytest

from harmscope.errors import InputError
from harmscope.simulate import simulate
from harmscope.sources import registry
from harmscope.sources.base import SourceFile
from harmscope.sources.records import ADAPTER, FORMATS, Pseudonymiser
from harmscope.sources.records.read import read_file

KEY = b"test key of at least sixteen bytes"
FILES = {
    "nominals": "intel/nominals.csv",
    "groups": "intel/groups.csv",
    "markets": "intel/markets.csv",
    "links": "intel/links.csv",
    "reports": "intel/reports.csv",
    "crime_people": "records/crime_people.csv",
    "arrests": "records/arrests.csv",
}


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SYNTHETIC small city, 8 months."""
    return simulate(seed=11, months=8, size="small").write(tmp_path_factory.mktemp("s") / "c")


def _frame(sim: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(sim / FILES[name], dtype=str, keep_default_na=False)


def _write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False, lineterminator="\n")
    return path


@pytest.mark.parametrize("name", list(FILES))
def test_each_simulator_file_is_recognised_as_its_format(sim: Path, name: str) -> None:
    src = SourceFile(sim / FILES[name])
    got = registry.recognise(src)
    assert got is not None and got[0].name == "records" and got[1] == name
    assert ADAPTER.check_columns(src).name == name
    rows = read_file(src, FORMATS[name], sha256="x").rows
    raw = _frame(sim, name)
    assert len(rows) == len(raw) > 0
    # Lines: header is line 1, the k-th record line k + 1 (no multi-line fields here).
    assert rows["_line"].tolist() == list(range(2, len(raw) + 2))


def test_values_are_typed(sim: Path) -> None:
    rows = read_file(SourceFile(sim / FILES["nominals"]), FORMATS["nominals"], sha256="x").rows
    raw = _frame(sim, "nominals")
    assert rows["birth_year"].tolist() == raw["birth_year"].astype(int).tolist()
    assert rows["marker_violence"].tolist() == (raw["marker_violence"] == "True").tolist()
    assert [d.strftime("%Y-%m") for d in rows["first_recorded"]] == raw["first_recorded"].tolist()


@pytest.mark.parametrize(
    ("name", "column", "value", "expected"),
    [
        ("links", "source_evaluation", "1", "expected one of A, B, C; found '1'"),
        ("links", "intelligence_assessment", "E", "expected one of 1, 2, 3, 4, 5; found 'E'"),
        ("reports", "handling_code", "X", "expected one of P, C; found 'X'"),
        ("reports", "month", "2021-13", "expected a month written YYYY-MM"),
        ("crime_people", "role", "witness", "expected one of suspect, offender, victim"),
        ("groups", "recorded_type", "gang", "organised crime group, street gang, county line"),
        ("nominals", "birth_year", "19x0", "expected a whole number from 1900 to 2100"),
        ("nominals", "marker_firearms", "yes", "expected True or False"),
        ("markets", "lsoa_code", "E0100", "expected an LSOA code"),
        ("arrests", "custody_outcome", "bailed", "expected one of charged, remanded in custody"),
        ("arrests", "nominal_id", "", "blank value: this column is required"),
    ],
)
def test_a_bad_value_names_file_line_and_column(
    sim: Path, tmp_path: Path, name: str, column: str, value: str, expected: str
) -> None:
    frame = _frame(sim, name)
    row = len(frame) // 2
    frame.loc[row, column] = value
    path = _write(frame, tmp_path / f"{name}.csv")
    with pytest.raises(InputError) as info:
        read_file(SourceFile(path), FORMATS[name], sha256="x")
    err = info.value
    assert (err.path, err.line, err.column) == (str(path), row + 2, list(frame).index(column) + 1)
    assert err.column_name == column
    assert expected in err.reason


def test_a_person_id_is_never_echoed(sim: Path, tmp_path: Path) -> None:
    frame = _frame(sim, "crime_people")
    frame.loc[3, "crime_id"] = frame.loc[2, "crime_id"]
    frame.loc[3, ["nominal_id", "role"]] = frame.loc[2, ["nominal_id", "role"]]
    path = _write(frame, tmp_path / "cp.csv")
    with pytest.raises(InputError) as info:
        read_file(SourceFile(path), FORMATS["crime_people"], sha256="x")
    assert info.value.line == 5 and "repeats the record of an earlier line" in str(info.value)
    assert frame.loc[2, "nominal_id"] not in str(info.value)


def test_header_and_record_shape_errors(sim: Path, tmp_path: Path) -> None:
    text = (sim / FILES["groups"]).read_text().splitlines()
    # An unknown column: line 1, its position.
    bad = tmp_path / "groups.csv"
    bad.write_text(text[0] + ",colour\n" + "\n".join(t + ",red" for t in text[1:]) + "\n")
    with pytest.raises(InputError) as info:
        ADAPTER.read([bad], Pseudonymiser(KEY))
    assert (info.value.line, info.value.column) == (1, len(text[0].split(",")) + 1)
    assert "unexpected column 'colour'" in str(info.value)
    # A record with one field too many: its line.
    bad.write_text("\n".join([*text[:2], text[2] + ",extra", *text[3:]]) + "\n")
    with pytest.raises(InputError, match=r"line 3, column \d+: expected 5 fields, found 6"):
        ADAPTER.read([bad], Pseudonymiser(KEY))
    # Not UTF-8: the line and field of the first bad byte (Windows-1252 e-acute, field 2).
    bad.write_bytes(("\n".join(text[:3]) + "\n").encode() + b"G999,Caf\xe9,street gang,,1\n")
    with pytest.raises(InputError, match="line 4, column 2: not UTF-8 text: byte 0xe9"):
        ADAPTER.read([bad], Pseudonymiser(KEY))
    # UTF-16 (a spreadsheet's "Unicode text"): said as such, not "not a force-records file".
    bad.write_bytes(("\n".join(text) + "\n").encode("utf-16"))
    with pytest.raises(InputError, match="line 1: UTF-16 text, not UTF-8"):
        ADAPTER.read([bad], Pseudonymiser(KEY))
    # A required column missing: recognised by the others, the missing one named.
    cp = tmp_path / "crime_people.csv"
    cp.write_text("crime_id,nominal_id,month\nabc,N1,2021-01\n")
    with pytest.raises(InputError, match=r"line 1: missing required column.*'role'"):
        ADAPTER.read([cp], Pseudonymiser(KEY))
    # No records file at all.
    bad.write_text("colour,size\nred,2\n")
    with pytest.raises(InputError, match="line 1: not a force-records file"):
        ADAPTER.read([bad], Pseudonymiser(KEY))


def test_person_ids_are_replaced_by_their_hmac(sim: Path) -> None:
    out = {
        rf.format.name: rf.rows
        for rf in ADAPTER.read([sim / "intel", sim / "records"], Pseudonymiser(KEY))[0]
    }
    assert set(out) == set(FILES)

    def hm(raw: str) -> str:
        return "P" + hmac.new(KEY, raw.encode(), hashlib.sha256).hexdigest()[:32]

    raw = _frame(sim, "nominals")
    assert out["nominals"]["nominal_id"].tolist() == [hm(r) for r in raw["nominal_id"]]
    raw = _frame(sim, "links")
    got = out["links"]
    for end in ("source", "target"):
        nominal = raw[f"{end}_kind"] == "nominal"
        want = [hm(r) if n else r for r, n in zip(raw[f"{end}_id"], nominal, strict=True)]
        assert got[f"{end}_id"].tolist() == want
    for name, col in (
        ("reports", "subject_id"),
        ("crime_people", "nominal_id"),
        ("arrests", "nominal_id"),
    ):
        assert out[name][col].tolist() == [hm(r) for r in _frame(sim, name)[col]]
    # A different key gives other pseudonyms; the same key the same ones.
    other = Pseudonymiser(b"another key, also sixteen bytes")
    assert other("N0000000001") != Pseudonymiser(KEY)("N0000000001") == hm("N0000000001")


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        Pseudonymiser(b"short")


def test_records_package_never_imports_the_warehouse() -> None:
    root = Path(__file__).resolve().parents[2] / "src" / "harmscope" / "sources" / "records"
    for path in sorted(root.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("harmscope.warehouse"), path.name
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("harmscope.warehouse") for a in node.names)
