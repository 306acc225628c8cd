"""Warehouse tables: the one registry of every table's definition and what fills it.

One wide ``events`` table of plain columns, provenance (``ingest_*``, ``quarantine``), areas
and their shapes, survey responses, the market curation log, partner indicators and\nanalysts' assessed cells. Every module that writes a
table takes its definition from here, and :func:`~harmscope.warehouse.handle.open_duckdb`
creates them all (``CREATE TABLE IF NOT EXISTS``) when it opens the file for writing. A new
table is therefore not a schema-version change; a changed table is (add a migration in
:mod:`harmscope.warehouse.migrations`).

Geometry is resolved once at ingest (``x``, ``y`` in British National Grid metres,
EPSG:27700), so every analysis is an Ibis expression over plain columns and runs on any
engine. The column list here is the contract documented in ``docs/warehouse.md``.
"""

from __future__ import annotations

from harmscope.sources.records.formats import FORMATS, PERSONAL_TABLES, RecordFormat

# (name, DuckDB type, description). Order is the physical column order.
EVENT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("source", "VARCHAR", "street | outcome | stop_search (which police.uk file family)"),
    ("event_type", "VARCHAR", "crime type, outcome type, or 'Stop and search'"),
    ("month", "DATE", "first day of the month (outcomes: month recorded, not of the crime)"),
    ("occurred_at", "TIMESTAMP", "stop-and-search date and time (UTC); NULL otherwise"),
    ("crime_id", "VARCHAR", "police.uk Crime ID; NULL for ASB, BTP and stop-and-search"),
    ("force", "VARCHAR", "'Falls within'; for stop-and-search the force slug of the file name"),
    ("reported_by", "VARCHAR", "'Reported by'"),
    ("longitude", "DOUBLE", "WGS84 degrees as published (snapped to an anonymous point)"),
    ("latitude", "DOUBLE", "WGS84 degrees as published"),
    ("x", "DOUBLE", "British National Grid easting, metres; NULL when no location"),
    ("y", "DOUBLE", "British National Grid northing, metres; NULL when no location"),
    ("location", "VARCHAR", "'On or near ...' description"),
    ("lsoa_code", "VARCHAR", "LSOA code as published (2011 codes before mid-2023)"),
    ("lsoa_name", "VARCHAR", "LSOA name as published"),
    ("outcome", "VARCHAR", "last outcome category / outcome type / search outcome"),
    ("context", "VARCHAR", "street 'Context' (usually blank)"),
    ("search_type", "VARCHAR", "stop-and-search 'Type'"),
    ("object_of_search", "VARCHAR", "stop-and-search 'Object of search'"),
    ("legislation", "VARCHAR", "stop-and-search 'Legislation'"),
    ("outcome_linked", "BOOLEAN", "stop-and-search: outcome linked to object of search"),
    ("removal_of_clothing", "BOOLEAN", "stop-and-search: more than outer clothing removed"),
    ("part_of_operation", "BOOLEAN", "stop-and-search: part of a policing operation"),
    ("operation_name", "VARCHAR", "stop-and-search 'Policing operation'"),
    ("gender", "VARCHAR", "stop-and-search"),
    ("age_range", "VARCHAR", "stop-and-search"),
    ("self_defined_ethnicity", "VARCHAR", "stop-and-search"),
    ("officer_defined_ethnicity", "VARCHAR", "stop-and-search"),
    ("file_id", "INTEGER", "provenance: ingest_files.file_id"),
)

#: Community survey responses (``load-survey``; :mod:`harmscope.sources.survey`). Codes in
#: ``docs/evaluation.md``; ``file_sha256`` makes loading idempotent.
SURVEY_DDL = """CREATE TABLE IF NOT EXISTS survey_responses (
    month DATE NOT NULL,
    lsoa_code VARCHAR,
    drug_problem INTEGER,
    confidence_in_police INTEGER,
    feel_safe_after_dark INTEGER,
    file_sha256 VARCHAR NOT NULL
)"""

DECISIONS_DDL = """CREATE TABLE IF NOT EXISTS market_decisions (
    decision_id BIGINT PRIMARY KEY,
    market_id VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    key VARCHAR,
    value VARCHAR,
    cells VARCHAR NOT NULL,
    cell_size DOUBLE NOT NULL,
    decided_by VARCHAR NOT NULL,
    decided_at TIMESTAMP NOT NULL
)"""
"""The market curation log (``markets decide``; :mod:`harmscope.markets.curation`),
append-only. ``action`` is confirm | reject | rename | merge | set; ``key`` the characteristic
of a ``set``; ``value`` the new name, the JSON list of absorbed ids of a ``merge`` or the JSON
value of a characteristic; ``cells`` the JSON object ``{market_id: [[cell_x, cell_y], ...]}``
of every candidate the decision names, as detected when it was made."""

PARTNERS_DDL = """CREATE TABLE IF NOT EXISTS partner_indicators (
    area_code VARCHAR,
    area_name VARCHAR,
    area_level VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    month_from DATE NOT NULL,
    month_to DATE NOT NULL,
    indicator VARCHAR NOT NULL,
    value DOUBLE NOT NULL,
    unit VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    line INTEGER,
    file_sha256 VARCHAR NOT NULL
)"""
"""Partner indicators (``load-partners``; :mod:`harmscope.sources.partners`): one row per
area, period and indicator. ``area_level`` is ``lsoa`` (``area_code`` set), ``police_force``,
``upper_tier_la``, ``region`` or ``country`` (``area_name`` set); ``period`` is ``YYYY`` or
``YYYY-MM`` as published, spanning ``month_from`` to ``month_to`` (first days of months);
``value`` a count in ``unit``; ``source_file``/``line`` where it was read; ``file_sha256``
(with ``indicator``) makes loading idempotent."""

ASSESSMENTS_DDL = """CREATE TABLE IF NOT EXISTS assessed_cells (
    assessment_id BIGINT PRIMARY KEY,
    harm_type VARCHAR NOT NULL,
    bearer VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    category VARCHAR,
    area VARCHAR,
    severity VARCHAR NOT NULL,
    incidence VARCHAR NOT NULL,
    confidence VARCHAR NOT NULL,
    evidence VARCHAR NOT NULL,
    assessed_by VARCHAR NOT NULL,
    assessed_at TIMESTAMP NOT NULL
)"""
"""Analysts' assessed cells (``assess add``; :mod:`harmscope.harm.assessed`), append-only:
a later assessment of the same cell, category and area supersedes the earlier one in the
matrix, and both stay listed (``assess list``). ``severity`` and ``incidence`` are grades
of the configured scales, ``confidence`` low | medium | high; the priority band is derived
(never stored), so a changed lookup applies to every assessment."""

DDL: tuple[str, ...] = (
    "CREATE TABLE IF NOT EXISTS events ("
    + ", ".join(f"{name} {typ}" for name, typ, _ in EVENT_COLUMNS)
    + ")",
    """CREATE TABLE IF NOT EXISTS ingest_batches (
        batch_id INTEGER PRIMARY KEY,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP,
        mode VARCHAR NOT NULL,
        files INTEGER NOT NULL,
        rows_loaded BIGINT NOT NULL,
        rows_folded BIGINT NOT NULL,
        rows_quarantined BIGINT NOT NULL,
        rows_superseded BIGINT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS ingest_files (
        file_id INTEGER PRIMARY KEY,
        batch_id INTEGER NOT NULL,
        path VARCHAR NOT NULL,
        member VARCHAR,
        sha256 VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        rows_read BIGINT NOT NULL,
        rows_loaded BIGINT NOT NULL,
        rows_folded BIGINT NOT NULL,
        rows_quarantined BIGINT NOT NULL,
        rows_superseded BIGINT NOT NULL,
        ingested_at TIMESTAMP NOT NULL,
        file_force VARCHAR,
        file_month DATE,
        rows_outside_month BIGINT
    )""",
    """CREATE TABLE IF NOT EXISTS quarantine (
        file_id INTEGER NOT NULL,
        line INTEGER,
        column_name VARCHAR,
        reason VARCHAR NOT NULL,
        raw VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS areas (
        lsoa_code VARCHAR PRIMARY KEY,
        lsoa_name VARCHAR,
        lad_code VARCHAR,
        lad_name VARCHAR,
        population BIGINT,
        imd_rank INTEGER,
        imd_decile INTEGER,
        x DOUBLE,
        y DOUBLE
    )""",
    # LSOA boundaries, resolved once at load: WKB (Multi)Polygon in EPSG:27700 metres.
    """CREATE TABLE IF NOT EXISTS area_shapes (
        lsoa_code VARCHAR PRIMARY KEY,
        geometry BLOB NOT NULL
    )""",
    SURVEY_DDL,
    DECISIONS_DDL,
    PARTNERS_DDL,
    ASSESSMENTS_DDL,
)
"""Every table's definition, in creation order (:data:`FILLED_BY` names the same tables)."""

#: The command that fills each table, for "no data" messages (``Warehouse.require``).
FILLED_BY: dict[str, str] = {
    "events": "ingest",
    "ingest_batches": "ingest",
    "ingest_files": "ingest",
    "quarantine": "ingest --lenient",
    "areas": "load-areas",
    "area_shapes": "load-areas",
    "survey_responses": "load-survey",
    "market_decisions": "markets decide",
    "partner_indicators": "load-partners",
    "assessed_cells": "assess add",
}


# ---- force records and intelligence (issue 12 item 1) ------------------------------------
# One table per records format (harmscope.sources.records.formats, the one definition of the
# columns), loaded by `harmscope load-records` (harmscope.warehouse.records). Person-id
# columns hold keyed pseudonyms, never raw ids. The tables of PERSONAL_TABLES are read only
# through harmscope.warehouse.personal.read_personal, which writes an audit_log row first.
_RECORD_SQL_TYPES = {"int": "BIGINT", "month": "DATE", "bool": "BOOLEAN"}


def _record_ddl(fmt: RecordFormat) -> str:
    cols = [f"{c.name} {_RECORD_SQL_TYPES.get(c.kind, 'VARCHAR')}" for c in fmt.columns]
    # file_id: which records_files row the record was last loaded from (provenance).
    key = ", ".join(fmt.key)
    return (
        f"CREATE TABLE IF NOT EXISTS {fmt.table} ("
        + ", ".join([*cols, "file_id BIGINT NOT NULL", f"PRIMARY KEY ({key})"])
        + ")"
    )


RECORDS_FILES_DDL = """CREATE TABLE IF NOT EXISTS records_files (
    file_id BIGINT PRIMARY KEY,
    format VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    rows_read BIGINT NOT NULL,
    loaded_at TIMESTAMP NOT NULL,
    loaded_by VARCHAR NOT NULL,
    key_check VARCHAR NOT NULL
)"""
"""One row per force-records file loaded; ``sha256`` makes loading idempotent and
``key_check`` (:meth:`~harmscope.sources.records.pseudonym.Pseudonymiser.check`) refuses a
later load pseudonymised with another key."""

AUDIT_DDL = """CREATE TABLE IF NOT EXISTS audit_log (
    audit_id BIGINT PRIMARY KEY,
    logged_at TIMESTAMP NOT NULL,
    user_name VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    target VARCHAR NOT NULL,
    detail VARCHAR,
    rows BIGINT
)"""
"""Every read (and load) of personal data: who (``user_name``), when (``logged_at``, UTC), why
(``reason``), what (``action`` read | load, ``target`` table(s), ``detail`` the columns and
filter as JSON, ``rows`` returned or written). Append-only."""

RECORDS_DDL: tuple[str, ...] = (
    RECORDS_FILES_DDL,
    *(_record_ddl(f) for f in FORMATS.values()),
    AUDIT_DDL,
)
DDL = (*DDL, *RECORDS_DDL)
FILLED_BY.update(
    {"records_files": "load-records", "audit_log": "load-records"}
    | {f.table: "load-records" for f in FORMATS.values()}
)
PERSONAL = PERSONAL_TABLES
"""Tables holding personal data (pseudonymised): read them with
:func:`harmscope.warehouse.personal.read_personal` only."""


# ---- the priority board (issue 12 item 3) ------------------------------------------------
SURVEY_RANKS_DDL = """CREATE TABLE IF NOT EXISTS survey_harm_ranks (
    month DATE NOT NULL,
    lsoa_code VARCHAR,
    harm_rank_1 VARCHAR,
    harm_rank_2 VARCHAR,
    harm_rank_3 VARCHAR,
    file_sha256 VARCHAR NOT NULL
)"""
"""The community survey's harm ranking ("which three of these harm your area most, most
harmful first"), one row per respondent who answered it, loaded by ``load-survey`` beside
``survey_responses`` when the file has ``harm_rank_1..3`` columns; read by
:mod:`harmscope.priorities.community` for the board's community weights."""

SNAPSHOTS_DDL = """CREATE TABLE IF NOT EXISTS priority_snapshots (
    snapshot VARCHAR NOT NULL,
    saved_at TIMESTAMP NOT NULL,
    board_lens VARCHAR NOT NULL,
    lens VARCHAR NOT NULL,
    unit_id VARCHAR NOT NULL,
    rank BIGINT NOT NULL,
    score DOUBLE NOT NULL,
    harm DOUBLE,
    settings VARCHAR NOT NULL,
    PRIMARY KEY (snapshot, lens, unit_id)
)"""
"""Saved priority boards (``priorities --save-snapshot NAME``), one row per board row;
``settings`` is the board's options and formula as JSON. ``--compare-with NAME|last`` reads
them (:mod:`harmscope.priorities.snapshot`)."""

DDL = (*DDL, SURVEY_RANKS_DDL, SNAPSHOTS_DDL)
FILLED_BY.update(
    {"survey_harm_ranks": "load-survey", "priority_snapshots": "priorities --save-snapshot"}
)
