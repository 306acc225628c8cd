"""A constructed warehouse with planted drug markets (known answers for the market tests)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from harmscope.warehouse import connect
from harmscope.warehouse.schema import EVENT_COLUMNS

SIZE = 250
X0, Y0 = 400_000, 300_000
MONTHS = [date(2020, m, 1) for m in range(1, 7)]
MARKET_A = [(3, 3), (4, 3), (3, 4), (4, 4)]
MARKET_B = [(9, 9), (10, 9), (9, 10), (10, 10)]
UNFOUND = [(9, 2), (10, 2), (9, 3), (10, 3)]  # drug searches that never find anything
INTEL = [(1, 9), (2, 9), (1, 10), (2, 10)]  # intelligence reports only
# cchi days (DESIGN §3)
DAYS = {
    "Other theft": 2.0,
    "Anti-social behaviour": 1.0,
    "Violence and sexual offences": 230.89,
    "Robbery": 365.0,
    "Drugs": 3.39,
}


def corner(i: int, j: int) -> tuple[float, float]:
    return float(X0 + i * SIZE), float(Y0 + j * SIZE)


def _event(kind: str, i: int, j: int, month: date, k: int, **extra: object) -> dict[str, object]:
    x, y = corner(i, j)
    row: dict[str, object] = {
        "source": "stop_search" if kind == "search" else "street",
        "event_type": "Stop and search" if kind == "search" else kind,
        "month": month,
        "x": x + 20 + (k * 37) % 200,
        "y": y + 30 + (k * 53) % 190,
    }
    row.update(extra)
    return row


def planted_events() -> pd.DataFrame:
    """12 x 12 cells, 6 months: background harm everywhere, activity only in planted places."""
    rows: list[dict[str, object]] = []
    for t, month in enumerate(MONTHS):
        for i in range(12):
            for j in range(12):
                rows.append(_event("Other theft", i, j, month, t))
                rows.append(_event("Anti-social behaviour", i, j, month, t + 1))
        for i, j in MARKET_A:
            for k in range(8):
                rows.append(_event("Drugs", i, j, month, k))
            for k in range(4):
                rows.append(
                    _event(
                        "search",
                        i,
                        j,
                        month,
                        k,
                        object_of_search="Controlled drugs",
                        outcome_linked=True,
                    )
                )
                rows.append(
                    _event(
                        "search",
                        i,
                        j,
                        month,
                        k + 4,
                        object_of_search="Controlled drugs",
                        outcome_linked=False,
                    )
                )
        for k in range(t + 1):  # violence rising month by month in the market
            rows.append(_event("Violence and sexual offences", 3, 3, month, k))
        for i, j in MARKET_B:
            for k in range(10):
                rows.append(_event("Drugs", i, j, month, k))
        rows.append(_event("Robbery", *MARKET_B[0], month, 0))
        for i, j in UNFOUND:
            for k in range(40):
                rows.append(
                    _event(
                        "search",
                        i,
                        j,
                        month,
                        k,
                        object_of_search="Controlled drugs",
                        outcome_linked=False,
                    )
                )
        # searches for other objects are not market activity, found or not
        for k in range(6):
            rows.append(
                _event(
                    "search", 6, 6, month, k, object_of_search="Stolen goods", outcome_linked=True
                )
            )
    frame = pd.DataFrame(rows)
    for name, _typ, _desc in EVENT_COLUMNS:
        if name not in frame.columns:
            frame[name] = None
    return frame[[c for c, _t, _d in EVENT_COLUMNS]]


def write_warehouse(path: Path, frame: pd.DataFrame) -> Path:
    con = connect(path)
    try:
        con.register("planted", frame)
        con.execute("INSERT INTO events BY NAME SELECT * FROM planted")
        con.unregister("planted")
    finally:
        con.close()
    return path


def intel_reports() -> pd.DataFrame:
    """Forty intelligence reports a month in each INTEL cell (no other market activity there)."""
    rows = []
    for m in MONTHS:
        for i, j in INTEL:
            x, y = corner(i, j)
            rows += [{"month": f"{m:%Y-%m}", "x": x + 100.0, "y": y + 100.0}] * 40
    return pd.DataFrame(rows)
