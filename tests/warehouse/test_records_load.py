"""load-records: pseudonymised at import, one transaction per batch, identical files once,
references checked, every load audited; no raw person id anywhere in the DuckDB file.

Data: a SYNTHETIC simulated city's ``intel/`` and ``records/`` files (no real force records
are public). Expected counts and pseudonyms are recomputed here with pandas and ``hmac``.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import shutil
import stat
import zipfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from harmscope.errors import InputError, WarehouseError
from harmscope.simulate import simulate
from harmscope.sources.records import FORMATS
from harmscope.sources.records.pseudonym import KEY_ENV, key_path
from harmscope.warehouse.loaders import load
from harmscope.warehouse.personal import AuditError
from harmscope.warehouse.records import load_records

KEY = "a test key that is long enough"
WHO = {"user": "analyst1", "reason": "test: load the force export"}
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
    """A SYNTHETIC small city, 12 months."""
    return simulate(seed=5, months=12, size="small").write(tmp_path_factory.mktemp("s") / "c")


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(KEY_ENV, KEY)
    return KEY


def _csv(sim: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(sim / FILES[name], dtype=str, keep_default_na=False)


def _hm(raw: str) -> str:
    return "P" + hmac.new(KEY.encode(), raw.encode(), hashlib.sha256).hexdigest()[:32]


def _counts(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        names = [f.table for f in FORMATS.values()] + ["records_files", "audit_log"]
        return {n: con.execute(f"SELECT count(*) FROM {n}").fetchone()[0] for n in names}


def test_loads_every_file_with_pseudonyms(sim: Path, tmp_path: Path, keyed: str) -> None:
    db = tmp_path / "w.duckdb"
    report = load_records([sim / "intel", sim / "records"], db=db, **WHO)
    want = {name: len(_csv(sim, name)) for name in FILES}
    assert report.rows == want and report.files == 7 and report.files_skipped == 0
    counts = _counts(db)
    assert {n: counts[FORMATS[n].table] for n in FILES} == want
    with duckdb.connect(str(db), read_only=True) as con:
        got = {r[0] for r in con.execute("SELECT nominal_id FROM records_nominals").fetchall()}
        assert got == {_hm(r) for r in _csv(sim, "nominals")["nominal_id"]}
        # Joins survive pseudonymisation: crime links and arrests meet the nominal index.
        unmatched = con.execute(
            "SELECT count(*) FROM records_crime_people c ANTI JOIN records_nominals n "
            "USING (nominal_id)"
        ).fetchone()[0]
        assert unmatched == 0
        links = con.execute(
            "SELECT source_id, target_id, source_evaluation, intelligence_assessment "
            "FROM records_links WHERE link_type = 'member_of' ORDER BY ALL"
        ).df()
        audit = con.execute("SELECT user_name, reason, action, rows FROM audit_log").fetchall()
    raw = _csv(sim, "links")
    raw = raw[raw["link_type"] == "member_of"]
    want_links = pd.DataFrame(
        {
            "source_id": raw["source_id"].map(_hm),
            "target_id": raw["target_id"],  # group ids are not personal: kept as they are
            "source_evaluation": raw["source_evaluation"],
            "intelligence_assessment": raw["intelligence_assessment"],
        }
    ).sort_values(list(links.columns), ignore_index=True)
    pd.testing.assert_frame_equal(links, want_links)
    assert audit == [("analyst1", "test: load the force export", "load", sum(want.values()))]


def test_no_raw_person_id_anywhere_in_the_file(
    sim: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the variable: the key file beside the warehouse, created 0600.
    monkeypatch.delenv(KEY_ENV, raising=False)
    db = tmp_path / "w.duckdb"
    load_records([sim / "intel", sim / "records"], db=db, **WHO)
    kp = key_path(db)
    assert stat.S_IMODE(kp.stat().st_mode) == 0o600
    assert not Path(f"{db}.wal").exists()
    data = db.read_bytes()
    raw_ids = set(_csv(sim, "nominals")["nominal_id"])
    assert len(raw_ids) > 100
    assert [r for r in raw_ids if r.encode() in data] == []
    # The control: values that are stored do show in the bytes (the scan can find strings).
    with duckdb.connect(str(db), read_only=True) as con:
        stored = [r[0] for r in con.execute("SELECT nominal_id FROM records_nominals").fetchall()]
        groups = [r[0] for r in con.execute("SELECT codename FROM records_groups").fetchall()]
        assert all(p.encode() in data for p in stored)
        assert all(g.encode() in data for g in groups)
        # And no text column of any table holds a raw id.
        cols = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR' AND table_schema = 'main'"
        ).fetchall()
        for table, col in cols:
            hits = con.execute(
                f"SELECT count(*) FROM {table} WHERE {col} IN (SELECT unnest(?::VARCHAR[]))",
                [sorted(raw_ids)],
            ).fetchone()[0]
            assert hits == 0, f"{table}.{col} holds raw ids"
    assert kp.read_text().strip().encode() not in data  # nor the key


def test_a_whole_city_folder_loads_only_the_records(sim: Path, tmp_path: Path, keyed: str) -> None:
    # Inside folders only files whose header is exactly a layout are taken: the police.uk
    # files, truth/, survey/ and the rest are passed over, and counted.
    report = load_records([sim], db=tmp_path / "w.duckdb", **WHO)
    everything = [p for p in sim.rglob("*") if p.is_file()]
    assert report.files == 7 and report.rows == {n: len(_csv(sim, n)) for n in FILES}
    assert report.passed_over == len(everything) - 7


@pytest.mark.parametrize("damage", ["missing column", "utf-16", "windows-1252 header"])
def test_a_broken_records_file_in_a_folder_fails_the_batch(
    sim: Path, tmp_path: Path, keyed: str, damage: str
) -> None:
    """A file meant as a layout is refused, never passed over while the rest load."""
    folder = tmp_path / "export"
    shutil.copytree(sim / "intel", folder)
    arrests = (sim / FILES["arrests"]).read_text(encoding="utf-8")
    target = folder / "arrests.csv"
    if damage == "missing column":
        table = _csv(sim, "arrests").drop(columns="month")
        table.to_csv(target, index=False)
        expect = r"arrests.csv, line 1: .*missing required column.*'month'"
    elif damage == "utf-16":
        target.write_bytes(arrests.encode("utf-16"))
        expect = r"arrests.csv, line 1: UTF-16 text, not UTF-8"
    else:
        header, rest = arrests.split("\n", 1)
        target.write_bytes(header.encode() + b",r\xe9f\n" + rest.encode())
        expect = r"arrests.csv, line 1, column \d+: not UTF-8 text: byte 0xe9"
    db = tmp_path / "w.duckdb"
    with pytest.raises(InputError, match=expect):
        load_records([folder], db=db, **WHO)
    assert not db.exists() or sum(_counts(db).values()) == 0


def test_identical_files_load_once(sim: Path, tmp_path: Path, keyed: str) -> None:
    db = tmp_path / "w.duckdb"
    load_records([sim / "intel", sim / "records"], db=db, **WHO)
    before = _counts(db)
    again = load_records([sim / "intel", sim / "records"], db=db, **WHO)
    assert again.files_skipped == 7 and again.rows_loaded == 0
    assert _counts(db) == before  # not even an audit row: nothing was loaded
    # The same bytes under another name are the same file.
    copy = tmp_path / "copy.csv"
    shutil.copyfile(sim / FILES["groups"], copy)
    assert load_records([copy], db=db).files_skipped == 1


def test_a_bad_file_loads_nothing_of_the_batch(sim: Path, tmp_path: Path, keyed: str) -> None:
    db = tmp_path / "w.duckdb"
    load_records([sim / FILES["groups"]], db=db)
    before = _counts(db)
    bad = tmp_path / "bad" / "links.csv"
    bad.parent.mkdir()
    links = _csv(sim, "links")
    links.loc[len(links) - 1, "handling_code"] = "2"
    links.to_csv(bad, index=False)
    with pytest.raises(InputError) as info:
        load_records([sim / "intel", sim / "records", bad], db=db, **WHO)
    assert (info.value.line, info.value.column_name) == (len(links) + 1, "handling_code")
    assert _counts(db) == before


def test_references_to_unknown_nominals_fail_the_batch(
    sim: Path, tmp_path: Path, keyed: str
) -> None:
    db = tmp_path / "w.duckdb"
    cp = _csv(sim, "crime_people")
    cp.loc[4, "nominal_id"] = "NOBODY00001"
    bad = tmp_path / "crime_people.csv"
    cp.to_csv(bad, index=False)
    with pytest.raises(InputError) as info:
        load_records([sim / "intel", bad], db=db, **WHO)
    assert (info.value.line, info.value.column, info.value.column_name) == (6, 2, "nominal_id")
    assert "not on the nominal index" in str(info.value)
    assert "NOBODY00001" not in str(info.value)
    assert _counts(db)["records_nominals"] == 0
    # Nominals loaded in an earlier batch count: the check reads them through the audited
    # read, which logs itself (the failed batch's read above too: the read happened).
    load_records([sim / FILES["nominals"]], db=db, **WHO)
    load_records([sim / FILES["crime_people"]], db=db, **WHO)
    with duckdb.connect(str(db), read_only=True) as con:
        actions = con.execute("SELECT action, target FROM audit_log ORDER BY audit_id").fetchall()
    assert actions == [
        ("read", "records_nominals"),
        ("load", "records_nominals"),
        ("read", "records_nominals"),
        ("load", "records_crime_people"),
    ]


def test_personal_data_needs_a_user_and_reason(sim: Path, tmp_path: Path, keyed: str) -> None:
    db = tmp_path / "w.duckdb"
    with pytest.raises(AuditError, match="needs a user and a reason"):
        load_records([sim / FILES["nominals"]], db=db, user="analyst1")
    assert not db.exists()
    # Groups and markets are not personal data: they load without.
    report = load_records([sim / FILES["groups"], sim / FILES["markets"]], db=db)
    assert report.rows == {"groups": len(_csv(sim, "groups")), "markets": len(_csv(sim, "markets"))}


def test_another_key_is_refused(sim: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "w.duckdb"
    monkeypatch.setenv(KEY_ENV, KEY)
    load_records([sim / FILES["nominals"]], db=db, **WHO)
    monkeypatch.setenv(KEY_ENV, "quite another key, long enough")
    with pytest.raises(WarehouseError, match="pseudonymised with another key"):
        load_records([sim / FILES["reports"]], db=db, **WHO)


def test_a_later_record_replaces_the_earlier(sim: Path, tmp_path: Path, keyed: str) -> None:
    db = tmp_path / "w.duckdb"
    load_records([sim / FILES["groups"]], db=db)
    groups = _csv(sim, "groups")
    groups.loc[0, "assessed_threat"] = "4" if groups.loc[0, "assessed_threat"] != "4" else "1"
    newer = tmp_path / "groups-2.csv"
    groups.to_csv(newer, index=False)
    assert load_records([newer], db=db).rows == {"groups": len(groups)}
    with duckdb.connect(str(db), read_only=True) as con:
        got = con.execute("SELECT group_id, assessed_threat FROM records_groups").fetchall()
    assert dict(got) == dict(
        zip(groups["group_id"], groups["assessed_threat"].astype(int), strict=True)
    )


def test_the_registry_loader_is_load_records(sim: Path, tmp_path: Path, keyed: str) -> None:
    result = load("records", [sim / "intel"], db=tmp_path / "w.duckdb", **WHO)
    assert result.source == "records" and result.files == 5
    assert result.rows_loaded == sum(len(_csv(sim, n)) for n in list(FILES)[:5])
    with pytest.raises(ValueError, match="lenient"):
        load("records", [sim / "intel"], db=tmp_path / "w.duckdb", lenient=True, **WHO)


def test_zips_gzips_bom_and_crlf_load_the_same(sim: Path, tmp_path: Path, keyed: str) -> None:
    plain = tmp_path / "plain.duckdb"
    load_records([sim / "intel", sim / "records"], db=plain, **WHO)
    # The same records as a zip of intel/, a gzipped crime_people file, and an arrests file
    # saved by a spreadsheet (UTF-8 with BOM, CRLF line ends).
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in ("nominals", "groups", "markets", "links", "reports"):
            zf.write(sim / FILES[name], f"export/{name}.csv")
    gz = tmp_path / "crime_people.csv.gz"
    gz.write_bytes(gzip.compress((sim / FILES["crime_people"]).read_bytes()))
    excel = tmp_path / "arrests.csv"
    text = (sim / FILES["arrests"]).read_text(encoding="utf-8")
    excel.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    other = tmp_path / "other.duckdb"
    report = load_records([archive, gz, excel], db=other, **WHO)
    assert report.rows == {n: len(_csv(sim, n)) for n in FILES}
    for fmt in FORMATS.values():
        query = f"SELECT * EXCLUDE (file_id) FROM {fmt.table} ORDER BY ALL"
        with duckdb.connect(str(plain), read_only=True) as a:
            want = a.execute(query).df()
        with duckdb.connect(str(other), read_only=True) as b:
            got = b.execute(query).df()
        pd.testing.assert_frame_equal(got, want)
