"""The engine-parity suite's fixtures: one warehouse per engine, all from the same real files.

``engine`` is parametrised over :data:`harmscope.warehouse.engines.ENGINES`; ``wh`` is that
engine's warehouse and ``duck`` the DuckDB one every result is compared with. Each warehouse
is loaded by ``ingest_paths(..., engine=...)`` from six real months of City of London street
crime and stop-and-search (``../shared/data``), so the suite also checks that ingest writes
the same table to every engine.

An engine that cannot start makes its tests FAIL with what to install, never skip: CI
provides Java and PostgreSQL (``.ci/run``). PostgreSQL: ``$HARMSCOPE_TEST_POSTGRES_URL``
(a server where the user may create databases; the suite makes its own and drops it), or
else a throwaway cluster started here from ``pg_ctl`` under ``/usr/lib/postgresql/*/bin``
(as the ``postgres`` user when run as root: initdb refuses root).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from engine_testdata import city_files

from harmscope.warehouse import Warehouse
from harmscope.warehouse.engines import ENGINES
from harmscope.warehouse.ingest import ingest_paths

PG_URL_ENV = "HARMSCOPE_TEST_POSTGRES_URL"


@pytest.fixture(scope="session", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The engine under test: duckdb, pyspark, postgres."""
    return str(request.param)


def _pg_bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if found:
        return found[-1].parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def _fresh_database(admin_url: str, name: str) -> str:
    """Create database *name* through *admin_url*; its URL."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}"')
        con.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A URL of an empty PostgreSQL database for this session."""
    name = f"harmscope_parity_{os.getpid()}"
    given = os.environ.get(PG_URL_ENV)
    if given:
        url = _fresh_database(given, name)
        yield url
        _drop_database(given, name)
        return
    bindir = _pg_bindir()
    if bindir is None:
        pytest.fail(
            "PostgreSQL server binaries not found (no pg_ctl under /usr/lib/postgresql/*/bin "
            f"or on PATH): apt-get install postgresql, or set {PG_URL_ENV}"
        )
    # A short folder: the server's Unix socket path must stay under 108 bytes.
    base = Path(tempfile.mkdtemp(prefix="hs-pg-"))
    run_as: list[str] = []
    if os.getuid() == 0:  # initdb refuses root: run the cluster as an unprivileged user
        user = "postgres" if _user_exists("postgres") else "nobody"
        shutil.chown(base, user)
        run_as = ["runuser", "-u", user, "--"]
    data = base / "data"

    def run(*args: str) -> None:
        proc = subprocess.run([*run_as, *args], capture_output=True, text=True, check=False)
        if proc.returncode:
            pytest.fail(f"PostgreSQL did not start ({' '.join(args[:1])}): {proc.stderr[-500:]}")

    run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "harmscope", "-E", "UTF8")
    opts = f"-k {base} -p 5432 -c listen_addresses='' -c fsync=off"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(base / "log"), "-w", "start")
    admin = f"postgresql://harmscope@/postgres?host={base}&port=5432"
    try:
        yield _fresh_database(admin, name)
    finally:
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _require_java() -> None:
    home = os.environ.get("JAVA_HOME")
    if not (home and Path(home, "bin", "java").exists()) and shutil.which("java") is None:
        pytest.fail("Java not found: apt-get install openjdk-17-jre-headless (or set JAVA_HOME)")


@pytest.fixture(scope="session")
def location(
    engine: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """``--db`` of the engine's warehouse, loaded by ``ingest_paths(engine=...)``."""
    if engine == "duckdb":
        where = str(tmp_path_factory.mktemp("duckdb") / "city.duckdb")
    elif engine == "pyspark":
        _require_java()
        where = str(tmp_path_factory.mktemp("spark") / "warehouse")
    else:
        where = request.getfixturevalue("postgres_url")
    ingest_paths(city_files(), db=where, engine=engine)
    return where


@pytest.fixture
def empty_location(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty warehouse location for *engine*: a new file, folder or database."""
    if engine == "duckdb":
        yield str(tmp_path / "w.duckdb")
        return
    if engine == "pyspark":
        _require_java()
        yield str(tmp_path / "warehouse")
        return
    admin = request.getfixturevalue("postgres_url")
    name = f"harmscope_empty_{os.getpid()}_{abs(hash(request.node.nodeid)) % 10**6}"
    yield _fresh_database(admin, name)
    _drop_database(admin, name)


@pytest.fixture(scope="session")
def wh(engine: str, location: str) -> Iterator[Warehouse]:
    """The engine's warehouse, open for the session."""
    with Warehouse.open(location, engine=engine) as warehouse:
        yield warehouse


@pytest.fixture(scope="session")
def duck(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """The DuckDB warehouse of the same files: every engine's results are compared with it."""
    db = tmp_path_factory.mktemp("reference") / "city.duckdb"
    ingest_paths(city_files(), db=db, engine="duckdb")
    with Warehouse.open(db, engine="duckdb") as warehouse:
        yield warehouse
