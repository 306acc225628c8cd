"""Which engine runs the analysis: DuckDB (default), PySpark or PostgreSQL.

HarmScope's analytics are Ibis expressions, so one code path runs on every engine Ibis
supports; this module is the one place that turns a ``--db`` location and an engine name into
an Ibis backend (:func:`open_backend`, used by :meth:`harmscope.warehouse.Warehouse.open`).

What ``--db`` means per engine (DESIGN §5):

``duckdb``
    A DuckDB file (the default ``harmscope.duckdb``); opened by
    :func:`harmscope.warehouse.handle.open_duckdb`, exactly as before engines existed.
``pyspark``
    A *warehouse folder*: one sub-folder of Parquet per table (``events/`` partitioned by
    ``force`` and ``month``, Hive style: ``events/force=.../month=YYYY-MM-01/*.parquet``).
    Spark runs in local mode (``local[2]``), started once per process (:func:`spark_session`).
``postgres``
    A database URL, ``postgresql://user@host:port/dbname`` (libpq's own form; ``?host=/dir``
    for a Unix socket). The tables are read in place; nothing is copied out.

The engine is chosen by, first to last: the ``engine`` argument, :func:`use_engine` (what the
CLI's ``--engine`` sets for the command it runs), ``$HARMSCOPE_ENGINE``, else ``duckdb``.
The DuckDB path does no extra work: nothing here is imported or started for it beyond the
name check.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from harmscope.errors import WarehouseError
from harmscope.warehouse.schema import EVENT_COLUMNS

__all__ = [
    "ENGINES",
    "ENGINE_ENV",
    "check_location",
    "display",
    "engine_name",
    "engine_selected",
    "is_url",
    "location",
    "open_backend",
    "spark_session",
    "use_engine",
]

#: The engines ``--engine`` accepts, default first.
ENGINES: tuple[str, ...] = ("duckdb", "pyspark", "postgres")

#: The environment variable that chooses the engine when ``--engine`` is not given.
ENGINE_ENV = "HARMSCOPE_ENGINE"

#: Spark in local mode: two worker threads (the machines we measure on have two cores) and
#: few shuffle partitions (Spark's default of 200 makes every small group-by 200 tasks).
SPARK_CONF: dict[str, str] = {
    "spark.master": "local[2]",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
    # Partition values stay strings: the month is cast to DATE explicitly below, the force
    # name must never be read as a number.
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.sql.ansi.enabled": "false",
    "spark.driver.memory": "1g",
    "spark.ui.showConsoleProgress": "false",
}

#: Spark's own logging: errors only, so a command's stderr holds HarmScope's lines (the
#: launcher reads it before any session setting could quieten it).
_LOG4J = """rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
"""

_selected: ContextVar[str | None] = ContextVar("harmscope_engine", default=None)
_URL = re.compile(r"^(postgres|postgresql)://", re.IGNORECASE)


def engine_name(engine: str | None = None) -> str:
    """The engine to use: *engine*, else :func:`use_engine`'s, else ``$HARMSCOPE_ENGINE``,
    else ``duckdb``; any case. An unknown name raises :class:`ValueError` listing the valid
    ones."""
    name = engine or _selected.get() or os.environ.get(ENGINE_ENV) or ENGINES[0]
    key = name.strip().lower()
    if key not in ENGINES:
        source = "" if engine or _selected.get() else f" (from ${ENGINE_ENV})"
        raise ValueError(f"--engine must be {', '.join(ENGINES)}, not {name!r}{source}")
    return key


def use_engine(engine: str | None) -> Callable[[], None]:
    """Make *engine* (None: ``$HARMSCOPE_ENGINE`` or duckdb) the one every warehouse opened
    afterwards in this context uses; return the function that undoes it. The CLI calls this
    once per command with ``--engine`` and undoes it when the command ends.

    Raises
    ------
    ValueError
        An unknown engine name.
    """
    name = engine_name(engine) if engine else None
    token = _selected.set(name)
    return lambda: _selected.reset(token)


@contextmanager
def engine_selected(engine: str) -> Iterator[str]:
    """Within the block, warehouses open on *engine* (for tests and library callers)."""
    token = _selected.set(engine_name(engine))
    try:
        yield engine_name()
    finally:
        _selected.reset(token)


def is_url(db: object) -> bool:
    """Whether *db* is a PostgreSQL URL (``postgresql://...`` or ``postgres://...``)."""
    return isinstance(db, str) and bool(_URL.match(db))


def location(db: str | os.PathLike[str] | None, engine: str, default: str) -> str:
    """The ``--db`` to open on *engine*: *db*, else *default* (``$HARMSCOPE_DB`` or
    ``harmscope.duckdb``) — which only DuckDB may fall back on unless ``$HARMSCOPE_DB`` names
    it, so a PySpark or PostgreSQL command never opens a stray DuckDB file by mistake."""
    if db is not None and str(db) != "":
        return str(db)
    if engine != "duckdb" and not os.environ.get("HARMSCOPE_DB"):
        form = "a warehouse folder" if engine == "pyspark" else "a postgresql:// URL"
        raise WarehouseError(f"--engine {engine} needs --db ({form}) or $HARMSCOPE_DB")
    return default


def check_location(db: str, engine: str, *, must_exist: bool) -> None:
    """Refuse a ``--db`` that cannot be *engine*'s, with the form it needs.

    Raises
    ------
    WarehouseError
        A URL given to duckdb/pyspark, a folder to duckdb, a file to pyspark, a path to
        postgres, or (``must_exist``) a pyspark folder without ``events/``.
    """
    if engine == "postgres":
        if not is_url(db):
            raise WarehouseError(
                f"{db}: --engine postgres needs --db as a database URL, "
                "e.g. postgresql://user@host:5432/harmscope"
            )
        return
    if is_url(db):
        raise WarehouseError(f"{_redact(db)}: a database URL needs --engine postgres")
    path = Path(db)
    if engine == "duckdb" and path.is_dir():
        raise WarehouseError(
            f"{db}: is a folder; a DuckDB warehouse is a file "
            "(a Parquet warehouse folder needs --engine pyspark)"
        )
    if engine == "pyspark":
        if path.exists() and not path.is_dir():
            raise WarehouseError(
                f"{db}: --engine pyspark needs --db as a warehouse folder "
                "(Parquet: events/force=.../month=.../*.parquet), not a file"
            )
        if must_exist and not (path / "events").is_dir():
            raise WarehouseError(
                f"{db}: no events/ Parquet folder here; run "
                f"`harmscope ingest FILES --engine pyspark --db {db}` first"
            )


def open_backend(db: str, engine: str, *, read_only: bool = True) -> tuple[Any, Callable[[], None]]:
    """An Ibis backend on the pyspark or postgres warehouse *db*, and how to close it.

    Parameters
    ----------
    db : str
        A warehouse folder (pyspark) or a database URL (postgres).
    engine : {"pyspark", "postgres"}
        The engine (DuckDB files are opened by :func:`~harmscope.warehouse.handle.open_duckdb`).
    read_only : bool
        Only checked: these engines are written by ``ingest`` alone
        (:mod:`harmscope.warehouse.ingest`), never through the handle.

    Returns
    -------
    (backend, close)
        The Ibis backend, and a function that releases it without stopping the process's
        one Spark session.
    """
    check_location(db, engine, must_exist=True)
    if engine == "pyspark":
        return _open_spark_folder(Path(db))
    if engine == "postgres":
        return _open_postgres(db)
    raise ValueError(f"open_backend: {engine!r} is opened by open_duckdb")


# -- PySpark --------------------------------------------------------------------------------
_session: Any = None


def spark_session() -> Any:
    """The process's one local Spark session (:data:`SPARK_CONF`), started on first use.

    Raises
    ------
    WarehouseError
        When PySpark or Java is missing, naming what to install.
    """
    global _session
    if _session is not None:
        return _session
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # the optional extra
        raise WarehouseError(
            "--engine pyspark needs PySpark: pip install 'harmscope[spark]'"
        ) from exc
    if not _java_found():
        raise WarehouseError(
            "--engine pyspark needs Java 17: apt-get install openjdk-17-jre-headless "
            "(or set JAVA_HOME)"
        )
    import tempfile

    log4j = Path(tempfile.gettempdir()) / f"harmscope-spark-log4j2-{os.getuid()}.properties"
    if not log4j.exists():
        log4j.write_text(_LOG4J, encoding="utf-8")
    # Without it Spark warns that the host name resolves to a loopback address.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.appName("harmscope").config(
        "spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{log4j}"
    )
    for key, value in SPARK_CONF.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the JVM failed to start: say so in one line
        raise WarehouseError(f"--engine pyspark: Spark did not start ({exc})") from exc
    session.sparkContext.setLogLevel("ERROR")
    _session = session
    return session


def _java_found() -> bool:
    import shutil

    home = os.environ.get("JAVA_HOME")
    return bool(home and Path(home, "bin", "java").exists()) or shutil.which("java") is not None


def _open_spark_folder(folder: Path) -> tuple[Any, Callable[[], None]]:
    """Register each table folder of *folder* as a temporary view and connect Ibis to it.

    Each warehouse gets its own Spark session (``newSession``: the one Spark context, its
    own temporary views), so two folders open at once never see each other's ``events``.
    """
    import ibis

    session = spark_session().newSession()
    for sub in sorted(folder.iterdir()):
        if not sub.is_dir() or sub.name.startswith(("_", ".")):
            continue
        frame = session.read.option("basePath", str(sub)).parquet(str(sub))
        if sub.name == "events":
            frame = _typed_events(frame)
        frame.createOrReplaceTempView(sub.name)
    backend = ibis.pyspark.connect(session)

    def close() -> None:
        # Nothing to release: stopping the session (the backend's own disconnect) would stop
        # the process's one Spark context, and the views vanish with this session object.
        return None

    # Callers holding only the backend (``ibis_connect``) close it with ``disconnect``.
    backend.disconnect = close
    return backend, close


def _typed_events(frame: Any) -> Any:
    """The events frame in the warehouse's column order and types (Hive partition columns
    come back as strings, at the end)."""
    spark_type = {
        "VARCHAR": "string",
        "DATE": "date",
        "TIMESTAMP": "timestamp",
        "DOUBLE": "double",
        "BOOLEAN": "boolean",
        "INTEGER": "int",
    }
    return frame.selectExpr(
        *(f"CAST(`{name}` AS {spark_type[typ]}) AS `{name}`" for name, typ, _ in EVENT_COLUMNS)
    )


# -- PostgreSQL -----------------------------------------------------------------------------
def _open_postgres(url: str) -> tuple[Any, Callable[[], None]]:
    import ibis

    try:
        backend = ibis.connect(url)
    except ImportError as exc:
        raise WarehouseError(
            "--engine postgres needs psycopg: pip install 'harmscope[postgres]'"
        ) from exc
    except Exception as exc:  # psycopg.OperationalError: server down, auth, no database
        raise WarehouseError(f"{_redact(url)}: cannot connect ({_first_line(exc)})") from exc
    return backend, backend.disconnect


def display(db: str) -> str:
    """*db* as messages show it: a URL without its password."""
    return _redact(db) if is_url(db) else db


def _redact(url: str) -> str:
    """*url* without its password, for messages."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
