"""The Warehouse handle and schema migrations: upgrade older files, refuse newer ones."""

from __future__ import annotations

from pathlib import Path

import duckdb
import ibis
import pytest

from harmscope.errors import WarehouseError
from harmscope.warehouse import Warehouse, connect, ibis_connect, migrations
from harmscope.warehouse.schema import DDL


def _version(path: Path) -> int | None:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return migrations.schema_version(con)
    finally:
        con.close()


def _version0_file(path: Path) -> None:
    """A warehouse as written before schema versioning: the tables, no warehouse_meta."""
    con = duckdb.connect(str(path))
    for stmt in DDL:
        con.execute(stmt)
    con.execute("INSERT INTO areas (lsoa_code, population) VALUES ('E01000001', 1500)")
    con.close()


def test_new_file_is_stamped_with_the_current_version(tmp_path: Path) -> None:
    db = tmp_path / "new.duckdb"
    connect(db).close()
    assert _version(db) == migrations.SCHEMA_VERSION


@pytest.mark.parametrize("read_only", [False, True])
def test_older_file_is_upgraded_in_place_and_keeps_its_rows(
    tmp_path: Path, read_only: bool
) -> None:
    db = tmp_path / "old.duckdb"
    _version0_file(db)
    assert _version(db) == 0
    with Warehouse.open(db, read_only=read_only) as wh:
        assert wh.table("areas").to_pandas().population.tolist() == [1500]
    assert _version(db) == migrations.SCHEMA_VERSION


def test_older_file_we_may_not_write_is_refused_not_misread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "old.duckdb"
    _version0_file(db)
    # chmod cannot stop root (CI runs as root), so stand in for a file on a read-only share.
    monkeypatch.setattr("harmscope.warehouse.handle.os.access", lambda *_a: False)
    with pytest.raises(WarehouseError, match="older than this HarmScope"):
        Warehouse.open(db, read_only=True)
    assert _version(db) == 0


def test_newer_file_is_refused_both_ways(tmp_path: Path) -> None:
    db = tmp_path / "future.duckdb"
    connect(db).close()
    con = duckdb.connect(str(db))
    con.execute("UPDATE warehouse_meta SET schema_version = ?", [migrations.SCHEMA_VERSION + 1])
    con.close()
    for read_only in (True, False):
        with pytest.raises(WarehouseError, match="written by a newer HarmScope"):
            Warehouse.open(db, read_only=read_only)


def test_failed_migration_leaves_the_file_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "old.duckdb"
    _version0_file(db)

    def broken(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("ALTER TABLE areas ADD COLUMN region VARCHAR")
        con.execute("SELECT * FROM no_such_table")

    monkeypatch.setattr(migrations, "MIGRATIONS", (broken,))
    with pytest.raises(WarehouseError, match="file is unchanged"):
        Warehouse.open(db, read_only=False)
    con = duckdb.connect(str(db), read_only=True)
    cols = [r[0] for r in con.execute("DESCRIBE areas").fetchall()]
    con.close()
    assert "region" not in cols
    assert _version(db) == 0


def test_missing_file_read_only_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="run `harmscope ingest` first"):
        Warehouse.open(tmp_path / "nothing.duckdb")
    assert not (tmp_path / "nothing.duckdb").exists()


def test_require_names_each_empty_table_and_its_command(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    connect(db).close()
    with Warehouse.open(db) as wh:
        with pytest.raises(WarehouseError) as err:
            wh.require("events", "areas")
        message = str(err.value)
        assert "'events' (run `harmscope ingest` first)" in message
        assert "'areas' (run `harmscope load-areas` first)" in message
        with pytest.raises(WarehouseError, match="no 'nominals' table"):
            wh.table("nominals")


def test_transaction_commits_or_rolls_back(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with Warehouse.open(db, read_only=False) as wh:
        with wh.transaction() as con:
            con.execute("INSERT INTO areas (lsoa_code) VALUES ('E01000001')")
        with pytest.raises(RuntimeError), wh.transaction() as con:
            con.execute("INSERT INTO areas (lsoa_code) VALUES ('E01000002')")
            raise RuntimeError("boom")
        assert sorted(wh.table("areas").to_pandas().lsoa_code) == ["E01000001"]


def test_of_closes_only_what_it_opened(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    connect(db).close()
    with Warehouse.of(db) as wh:
        assert wh.count("events") == 0
    with pytest.raises(duckdb.ConnectionException):
        wh.con.execute("SELECT 1")
    backend = ibis_connect(db)
    with Warehouse.of(backend) as wh2:
        assert wh2.has("events")
    assert backend.raw_sql("SELECT 42").fetchone()[0] == 42  # still open
    with pytest.raises(TypeError, match="got int"), Warehouse.of(3):
        pass
    assert isinstance(backend, type(ibis.duckdb.connect()))


def test_of_an_events_table_uses_that_table_and_its_backend(db: Path) -> None:
    # The real City of London 2019-11 warehouse; expected counts recomputed with plain SQL.
    with duckdb.connect(str(db), read_only=True) as raw:
        total = raw.execute("SELECT count(*) FROM events").fetchone()
        streets = raw.execute("SELECT count(*) FROM events WHERE source = 'street'").fetchone()
    assert total and streets and 0 < streets[0] < total[0]
    backend = ibis_connect(db)
    events = backend.table("events")
    street = events.filter(events.source == "street")
    with Warehouse.of(street) as wh:
        assert wh.events() is street  # the caller's (filtered) table, not the backend's
        assert wh.count("events") == streets[0]
        assert wh.count("ingest_files") > 0  # other tables: those of the table's backend
        with pytest.raises(WarehouseError, match=r"no rows in 'areas' \(run `harmscope load-areas"):
            wh.require("events", "areas")
    assert backend.raw_sql("SELECT 42").fetchone()[0] == 42  # a caller's table: left open
    unbound = ibis.table({"source": "string"}, name="events")
    with Warehouse.of(unbound) as wh:
        assert wh.events() is unbound
        assert not wh.has("areas")
        with pytest.raises(WarehouseError, match="no 'areas' table"):
            wh.table("areas")


def test_one_registry_of_tables(tmp_path: Path) -> None:
    from harmscope.markets import curation
    from harmscope.warehouse import schema

    named = set()
    for stmt in schema.DDL:
        named.add(stmt.split("EXISTS", 1)[1].split("(", 1)[0].strip())
    assert named == set(schema.FILLED_BY)  # every table says what fills it, and only tables do
    assert curation.DECISIONS_DDL is schema.DECISIONS_DDL
    db = tmp_path / "new.duckdb"
    connect(db).close()
    with Warehouse.open(db) as wh:
        assert all(wh.has(t) for t in named)  # a new file holds every table, empty
        assert {t: wh.count(t) for t in named} == dict.fromkeys(named, 0)
    # No other module of the package defines a warehouse table.
    src = Path(__file__).resolve().parents[2] / "src" / "harmscope"
    for path in src.rglob("*.py"):
        if path.name in ("schema.py", "migrations.py"):  # migrations: warehouse_meta
            continue
        text = path.read_text(encoding="utf-8")
        assert "CREATE TABLE" not in text.replace("CREATE TEMP TABLE", ""), path
