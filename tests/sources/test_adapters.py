"""The source-adapter protocol: police.uk, LSOA reference data and surveys behind one seam.

Figures are recomputed here from the real files (csv module, hashlib) or from the loaders the
adapters wrap, called directly.
"""

from __future__ import annotations

import ast
import csv
import gzip
import hashlib
import os
import shutil
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import MappingProxyType

import duckdb
import pytest

from harmscope.errors import InputError
from harmscope.evaluate.survey import load_survey
from harmscope.sources import registry
from harmscope.sources.areas import BOUNDARIES, CENSUS, IMD, load_areas_csv
from harmscope.sources.base import (
    Batch,
    Discovery,
    Family,
    Progress,
    Provenance,
    SourceAdapter,
    SourceFile,
    walk,
)
from harmscope.warehouse import connect
from harmscope.warehouse.ingest import ingest_paths
from harmscope.warehouse.loaders import load

SHARED = Path(
    os.environ.get("HARMSCOPE_SHARED_DATA")
    or Path(__file__).resolve().parents[3] / "shared" / "data"
)
CITY = SHARED / "policeuk-city-of-london-2018-12_2021-11"
LINCS = SHARED / "policeuk-lincolnshire-2017-02_2020-01"

SURVEY_ROWS = [
    "month,lsoa_code,drug_problem,confidence_in_police,feel_safe_after_dark,respondent",
    "2020-01,E01000001,3,4,2,r1",
    "2020-01,E01000002,1,,4,r2",
    "2020-02,E01000001,4,2,1,r3",
]


def _header(path: Path) -> list[str]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
        return next(csv.reader(fh))


@pytest.fixture
def survey_csv(tmp_path: Path) -> Path:
    path = tmp_path / "responses.csv"
    path.write_text("\n".join(SURVEY_ROWS) + "\n", encoding="utf-8")
    return path


def test_every_registered_source_follows_the_protocol() -> None:
    found = registry.adapters()
    assert [a.name for a in found] == ["policeuk", "survey", "areas", "records", "partners"]
    for a in found:
        assert isinstance(a, SourceAdapter)
        assert a.families and all(isinstance(f, Family) for f in a.families.values())
        assert all(name == f.name for name, f in a.families.items())
    tables = {t for a in found for f in a.families.values() for t in f.tables}
    records = {f"records_{n}" for n in ("nominals", "groups", "markets", "links", "reports")}
    records |= {"records_crime_people", "records_arrests"}
    assert (
        tables
        == {"events", "survey_responses", "areas", "area_shapes", "partner_indicators"} | records
    )
    with pytest.raises(KeyError, match="known: policeuk, survey, areas, records, partners"):
        registry.adapter("intelligence")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (CITY / "street" / "2019-01-city-of-london-street.csv", ("policeuk", "street")),
        (
            CITY / "stop-and-search" / "2019-01-city-of-london-stop-and-search.csv",
            ("policeuk", "stop_search"),
        ),
        (LINCS / "outcomes" / "2018-01-lincolnshire-outcomes.csv.gz", ("policeuk", "outcome")),
        (SHARED / IMD, ("areas", "imd")),
        (SHARED / CENSUS, ("areas", "census")),
        (SHARED / BOUNDARIES, ("areas", "boundaries")),
    ],
    ids=lambda v: v.name if isinstance(v, Path) else "-".join(v),
)
def test_real_files_are_recognised_with_their_family(path: Path, expected: tuple[str, str]) -> None:
    got = registry.recognise(SourceFile(path))
    assert got is not None
    assert (got[0].name, got[1]) == expected
    # The family's column map covers the real header, and check_columns accepts it.
    family = got[0].check_columns(SourceFile(path))
    assert family.name == expected[1]
    if not path.name.endswith(".geojson.gz"):
        header = [c.strip() for c in _header(path)]
        assert set(family.required) <= set(header)
        if family.closed:
            assert set(header) <= set(family.columns)


def test_recognition_by_header_and_refusal(tmp_path: Path, survey_csv: Path) -> None:
    renamed = tmp_path / "my-export.csv"
    shutil.copyfile(CITY / "street" / "2019-01-city-of-london-street.csv", renamed)
    got = registry.recognise(SourceFile(renamed))
    assert got is not None and (got[0].name, got[1]) == ("policeuk", "street")
    got = registry.recognise(SourceFile(survey_csv))
    assert got is not None and (got[0].name, got[1]) == ("survey", "responses")
    notes = tmp_path / "notes.txt"
    notes.write_text("not data\n")
    assert registry.recognise(SourceFile(notes)) is None
    # A police.uk header with a stray column: recognised by name, refused by its columns.
    bad = tmp_path / "2019-01-test-street.csv"
    bad.write_text(",".join([*_header(renamed), "Colour"]) + "\n")
    with pytest.raises(InputError) as info:
        registry.adapter("policeuk").check_columns(SourceFile(bad))
    assert (info.value.line, info.value.column) == (1, 13)
    assert "unexpected column 'Colour' in a police.uk street file" in str(info.value)
    bad_survey = tmp_path / "bad-survey.csv"
    bad_survey.write_text("month,lsoa_code,drug_problem\n")
    with pytest.raises(InputError, match="missing required column"):
        registry.adapter("survey").check_columns(SourceFile(bad_survey))


def test_provenance_hashes_the_bytes_and_names_the_identity(tmp_path: Path) -> None:
    src = CITY / "stop-and-search" / "2019-01-city-of-london-stop-and-search.csv"
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(src, f"2019-01/{src.name}")
    want = hashlib.sha256(src.read_bytes()).hexdigest()
    policeuk = registry.adapter("policeuk")
    for file, shown in (
        (SourceFile(src), str(src)),
        (SourceFile(archive, f"2019-01/{src.name}"), f"{archive}!2019-01/{src.name}"),
    ):
        prov = policeuk.provenance(file)
        assert prov == Provenance(
            "policeuk", "stop_search", shown, want, ("stop_search", "city-of-london", "2019-01")
        )
    imd = registry.adapter("areas").provenance(SourceFile(SHARED / IMD))
    assert (imd.family, imd.identity) == ("imd", None)
    assert imd.sha256 == hashlib.sha256((SHARED / IMD).read_bytes()).hexdigest()


def test_discovery_takes_each_sources_own_files(tmp_path: Path, survey_csv: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in ("2019-01-city-of-london-street.csv", "2019-02-city-of-london-street.csv"):
        shutil.copyfile(CITY / "street" / name, folder / name)
    shutil.copyfile(survey_csv, folder / "responses.csv")
    (folder / "README.txt").write_text("notes\n")
    police = registry.adapter("policeuk").discover([folder])
    assert [f.name for f in police.files] == [
        "2019-01-city-of-london-street.csv",
        "2019-02-city-of-london-street.csv",
    ]
    assert police.passed_over == 2
    survey = registry.adapter("survey").discover([folder])
    assert [f.name for f in survey.files] == ["responses.csv"]
    assert survey.passed_over == 3
    whole = registry.adapter("policeuk").discover([CITY])
    assert (len(whole.files), whole.passed_over) == (72, 0)


def test_policeuk_load_is_ingest(tmp_path: Path) -> None:
    files = sorted((CITY / "street").glob("2019-0[1-2]-*.csv")) + sorted(
        (CITY / "stop-and-search").glob("2019-0[1-2]-*.csv")
    )
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    result = load("policeuk", files, db=a)
    direct = ingest_paths(files, db=b)
    assert (result.source, result.files, result.rows_loaded) == (
        "policeuk",
        4,
        direct.rows_loaded,
    )
    q = "SELECT source, event_type, count(*), round(sum(x), 3) FROM events GROUP BY ALL ORDER BY ALL"
    with duckdb.connect(str(a), read_only=True) as ca, duckdb.connect(str(b), read_only=True) as cb:
        assert ca.execute(q).fetchall() == cb.execute(q).fetchall()
    again = load("policeuk", files, db=a)
    assert again.rows_loaded == 0  # idempotent


def test_survey_load_is_load_survey_and_all_or_nothing(tmp_path: Path, survey_csv: Path) -> None:
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    assert load("survey", [survey_csv], db=a).rows_loaded == len(SURVEY_ROWS) - 1
    assert load_survey(survey_csv, db=b) == len(SURVEY_ROWS) - 1
    q = "SELECT * FROM survey_responses ORDER BY ALL"
    with duckdb.connect(str(a), read_only=True) as ca, duckdb.connect(str(b), read_only=True) as cb:
        assert ca.execute(q).fetchall() == cb.execute(q).fetchall()
    assert load("survey", [survey_csv], db=a).rows_loaded == 0  # identical content adds nothing
    # A batch with one bad file writes nothing, the good file included.
    good = tmp_path / "good.csv"
    good.write_text("\n".join([*SURVEY_ROWS[:1], "2020-03,E01000003,2,3,3,r4"]) + "\n")
    bad = tmp_path / "zz-bad.csv"
    bad.write_text("\n".join([*SURVEY_ROWS[:1], "2020-03,E01000003,2,9,3,r5"]) + "\n")
    with pytest.raises(InputError) as info:
        load("survey", [good, bad], db=a)
    assert (info.value.line, info.value.column) == (2, 4)
    with duckdb.connect(str(a), read_only=True) as ca:
        assert ca.execute("SELECT count(*) FROM survey_responses").fetchone() == (3,)
    with pytest.raises(ValueError, match="lenient"):
        load("survey", [good], db=a, lenient=True)


def test_survey_names_have_one_home() -> None:
    import harmscope.evaluate.survey as evaluation
    import harmscope.sources.survey as source
    import harmscope.warehouse.schema as schema

    assert evaluation.SURVEY_COLUMNS is source.SURVEY_COLUMNS
    assert evaluation.survey_exists is source.survey_exists
    assert evaluation.SURVEY_DDL is schema.SURVEY_DDL and schema.SURVEY_DDL in schema.DDL


def test_sources_never_import_the_warehouse() -> None:
    # Sources sit below the warehouse (not even an import inside a function): the warehouse
    # layer opens the file and writes their batches (harmscope.warehouse.loaders).
    root = Path(__file__).resolve().parents[2] / "src" / "harmscope" / "sources"
    for path in sorted(root.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            assert not any(n.startswith("harmscope.warehouse") for n in names), (
                f"{path.name}:{node.lineno} imports the warehouse"
            )


def test_areas_load_is_the_areas_loader(tmp_path: Path) -> None:
    rows = [
        "lsoa_code,lsoa_name,lad_code,lad_name,population,imd_rank,imd_decile,x,y",
        "E01000001,City of London 001A,E09000001,City of London,1465,29199,9,532153,181615",
        "E01000002,City of London 001B,E09000001,City of London,1436,30379,10,532443,181645",
    ]
    path = tmp_path / "areas.csv"
    path.write_text("\n".join(rows) + "\n")
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    result = load("areas", [path], db=a)
    con = connect(b)
    assert result.rows_loaded == load_areas_csv(con, path) == 2
    con.close()
    q = "SELECT * FROM areas ORDER BY lsoa_code"
    with duckdb.connect(str(a), read_only=True) as ca, duckdb.connect(str(b), read_only=True) as cb:
        assert ca.execute(q).fetchall() == cb.execute(q).fetchall()
    assert load("areas", [path], db=a).rows_loaded == 2  # replaces, adds none
    with duckdb.connect(str(a), read_only=True) as ca:
        assert ca.execute("SELECT count(*) FROM areas").fetchone() == (2,)
    other = tmp_path / "other.csv"
    shutil.copyfile(path, other)
    before = duckdb.connect(str(a), read_only=True)
    snap = before.execute(q).fetchall()
    before.close()
    with pytest.raises(InputError, match="one load takes"):
        load("areas", [path, other], db=a)
    with duckdb.connect(str(a), read_only=True) as ca:
        assert ca.execute(q).fetchall() == snap


# -- adding a source: one module (here, a class) and one registration ------------------------
class _Tally:
    """A toy source: ``*.tally`` files, one number a line, into table ``tallies``."""

    name = "tally"
    families = MappingProxyType(
        {"tally": Family("tally", ("tallies",), {"value": "value"}, ("value",))}
    )

    def discover(self, paths: Iterable[str | Path]) -> Discovery:
        return walk(paths, lambda src: self.recognise(src) is not None)

    def recognise(self, src: SourceFile) -> str | None:
        return "tally" if src.name.endswith(".tally") else None

    def check_columns(self, src: SourceFile) -> Family:
        return self.families["tally"]

    def provenance(self, src: SourceFile) -> Provenance:
        return Provenance(self.name, "tally", src.display, src.sha256())

    def prepare(
        self,
        paths: Sequence[str | Path],
        *,
        lenient: bool = False,
        progress: Progress | None = None,
    ) -> Batch:
        files = self.discover(paths).files
        values = [int(v) for f in files for v in f.path.read_text().split()]

        def write(con: duckdb.DuckDBPyConnection) -> int:
            con.execute("CREATE TABLE IF NOT EXISTS tallies (value INTEGER)")
            con.executemany("INSERT INTO tallies VALUES (?)", [[v] for v in values])
            return len(values)

        return Batch(self.name, len(files), write)


def test_a_new_source_plugs_in_with_one_registration(tmp_path: Path) -> None:
    path = tmp_path / "counts.tally"
    path.write_text("3\n4\n")
    assert registry.recognise(SourceFile(path)) is None
    registry.register(_Tally())
    try:
        got = registry.recognise(SourceFile(path))
        assert got is not None and (got[0].name, got[1]) == ("tally", "tally")
        db = tmp_path / "w.duckdb"
        assert load("tally", [tmp_path], db=db).rows_loaded == 2
        with duckdb.connect(str(db), read_only=True) as con:
            assert con.execute("SELECT sum(value) FROM tallies").fetchone() == (7,)
        with pytest.raises(ValueError, match="already registered"):
            registry.register(_Tally())
    finally:
        registry.unregister("tally")
    assert registry.recognise(SourceFile(path)) is None
    with pytest.raises(TypeError, match="protocol"):
        registry.register(object())  # type: ignore[arg-type]
