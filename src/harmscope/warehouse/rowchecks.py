"""Row checks and typed columns for police.uk files, as SQL over the reader's VARCHARs.

Each check is ``(warehouse column, SQL condition that is TRUE when the row is bad, reason)``;
:mod:`harmscope.warehouse.ingest` turns them into one pass over the data. The rules are
listed for users in ``docs/warehouse.md``.
"""

from __future__ import annotations

from collections.abc import Iterable

from harmscope.sources.policeuk import CRIME_TYPES, LEGACY_CRIME_TYPES, STOP_AND_SEARCH
from harmscope.warehouse.schema import EVENT_COLUMNS

# A generous box around the UK including Northern Ireland and the islands (WGS84 degrees).
UK_LON = (-8.75, 1.90)
UK_LAT = (49.80, 61.00)
_OLDEST_YEAR = 2000  # police.uk starts in 2010; anything before 2000 is a broken file.


def q(s: str) -> str:
    """SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def trim(col: str) -> str:
    """SQL ``trim(col)`` that copies a value only when it has a space to remove.

    police.uk values almost never do, and ``trim`` copies every string it is given: on the
    national extract that copy was the costliest expression of the load (issue 13).
    """
    return f"CASE WHEN starts_with({col}, ' ') OR ends_with({col}, ' ') THEN trim({col}) ELSE {col} END"


def _in_list(values: Iterable[str]) -> str:
    return "(" + ", ".join(q(v) for v in values) + ")"


def case_sql(checks: list[tuple[str, str, str]], *, then: str) -> str:
    """``CASE WHEN bad1 THEN ... END`` giving the failing column (``then='column'``) or reason."""
    pick = 0 if then == "column" else 2
    return "CASE " + " ".join(f"WHEN {c[1]} THEN {q(c[pick])}" for c in checks) + " END"


def parsed(
    family: str,
    source: str,
    *,
    extra: str = "",
    join: str = "JOIN _file_map m ON r.filename = m._local",
) -> str:
    """Rows of ``source`` with numbers and dates parsed once (``_lon``, ``_lat``, ``_ts``).

    The checks and the typed columns both read these, so each value is parsed once.
    """
    ts = (
        f", try_cast({trim('occurred_at')} AS TIMESTAMPTZ) AS _ts"
        if family == "stop_search"
        else ""
    )
    ids = ", m.file_id, m._slug" if "_file_map" in join else ""
    return (
        f"SELECT r.*{ids}, try_cast({trim('longitude')} AS DOUBLE) AS _lon, "
        f"try_cast({trim('latitude')} AS DOUBLE) AS _lat{ts}{extra} FROM {source} r {join}"
    )


def checks(family: str, present: set[str]) -> list[tuple[str, str, str]]:
    """(warehouse column, SQL condition that is TRUE when the row is bad, reason) in order."""
    checks: list[tuple[str, str, str]] = []
    if family in ("street", "outcome"):
        checks.append(
            (
                "month",
                f"""(month IS NULL OR NOT regexp_full_match(month, '\\d{{4}}-(0[1-9]|1[0-2])')
                    OR month < '{_OLDEST_YEAR}-01'
                    OR month > strftime(current_date + INTERVAL 31 DAY, '%Y-%m'))""",
                f"impossible month: expected YYYY-MM between {_OLDEST_YEAR}-01 and this month",
            )
        )
        checks.append(
            (
                "force",
                f"force IS NULL OR {trim('force')} = ''",
                "blank 'Falls within': expected a force",
            )
        )
    else:
        checks.append(
            (
                "occurred_at",
                "(_ts IS NULL OR _ts < TIMESTAMPTZ '2000-01-01 00:00:00+00')",
                "impossible date: expected an ISO 8601 date-time like 2019-01-01T02:48:45+00:00",
            )
        )
        # As street months are: nothing can have happened after today. A day of slack
        # covers clocks and time zones; anything later is a broken or mistyped file.
        checks.append(
            (
                "occurred_at",
                "(_ts > current_timestamp + INTERVAL 1 DAY)",
                "date in the future: expected a date-time no later than today",
            )
        )
    for axis, lo, hi in (("longitude", *UK_LON), ("latitude", *UK_LAT)):
        other = "latitude" if axis == "longitude" else "longitude"
        checks.append(
            (
                axis,
                f"({axis} IS NOT NULL AND _{axis[:3]} IS NULL)",
                f"{axis} is not a number: expected decimal degrees (WGS84)",
            )
        )
        checks.append(
            (
                axis,
                f"(_{axis[:3]} NOT BETWEEN {lo} AND {hi})",
                f"{axis} outside the UK: expected {lo} to {hi} degrees",
            )
        )
        checks.append(
            (
                axis,
                f"({axis} IS NULL AND {other} IS NOT NULL)",
                f"{axis} is blank but {other} is not: expected both or neither",
            )
        )
    if "lsoa_code" in present:
        checks.append(
            (
                "lsoa_code",
                f"(lsoa_code IS NOT NULL AND NOT regexp_full_match({trim('lsoa_code')}, '[EWSN]\\d{{8}}'))",
                "not an LSOA code: expected a letter E/W/S/N and 8 digits (e.g. E01000001) or blank",
            )
        )
    if family == "street":
        checks.append(
            (
                "event_type",
                f"(event_type IS NULL OR {trim('event_type')} NOT IN "
                f"{_in_list(CRIME_TYPES + LEGACY_CRIME_TYPES)})",
                "unknown crime type: expected one of the 14 police.uk crime types",
            )
        )
    if family == "outcome":
        checks.append(
            ("crime_id", "crime_id IS NULL", "blank Crime ID: an outcome needs its crime")
        )
        checks.append(("event_type", "event_type IS NULL", "blank outcome type"))
    if family == "stop_search":
        checks.append(("search_type", "search_type IS NULL", "blank search type"))
        for col in ("outcome_linked", "removal_of_clothing", "part_of_operation"):
            if col in present:
                checks.append(
                    (
                        col,
                        f"({col} IS NOT NULL AND lower({trim(col)}) NOT IN ('true', 'false'))",
                        "expected True, False or blank",
                    )
                )
    # Only check columns this file has; absent optional columns are NULL by construction.
    return [c for c in checks if c[0] in present]


def typed_select(family: str, present: set[str]) -> str:
    """SELECT list turning checked VARCHARs into the warehouse columns."""

    def text(col: str) -> str:
        return f"nullif({trim(col)}, '')" if col in present else "NULL"

    def boolean(col: str) -> str:
        return f"CAST(lower({trim(col)}) = 'true' AS BOOLEAN)" if col in present else "NULL"

    exprs: dict[str, str] = {n: "NULL" for n, _, _ in EVENT_COLUMNS}
    exprs.update(
        {
            "source": q(family),
            "longitude": "_lon",
            "latitude": "_lat",
            "file_id": "file_id",
        }
    )
    for col in (
        "crime_id",
        "reported_by",
        "location",
        "lsoa_code",
        "lsoa_name",
        "outcome",
        "context",
        "search_type",
        "object_of_search",
        "legislation",
        "operation_name",
        "gender",
        "age_range",
        "self_defined_ethnicity",
        "officer_defined_ethnicity",
    ):
        exprs[col] = text(col)
    if family == "stop_search":
        ts = "timezone('UTC', _ts)"
        exprs["occurred_at"] = ts
        exprs["month"] = f"CAST(date_trunc('month', {ts}) AS DATE)"
        exprs["event_type"] = q(STOP_AND_SEARCH)
        exprs["force"] = "_slug"
        for col in ("outcome_linked", "removal_of_clothing", "part_of_operation"):
            exprs[col] = boolean(col)
    else:
        exprs["month"] = "CAST(month || '-01' AS DATE)"
        exprs["event_type"] = trim("event_type")
        exprs["force"] = trim("force")
    types = {n: t for n, t, _ in EVENT_COLUMNS}
    # x and y are added by the projection step.
    return ", ".join(
        f"CAST({exprs[n]} AS {types[n]}) AS {n}" for n, _, _ in EVENT_COLUMNS if n not in ("x", "y")
    )
