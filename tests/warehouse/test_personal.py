"""The one audited read of personal data: refused without a user and reason, every read
logged (who, what, when, why) before any row is returned, and no other module of the
package names a personal table.

Data: a SYNTHETIC simulated city's force records (no real ones are public), loaded with
``load_records``; expected rows are recomputed with pandas and ``hmac``.
"""

from __future__ import annotations

import ast
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from harmscope.errors import WarehouseError
from harmscope.simulate import simulate
from harmscope.sources.records.pseudonym import KEY_ENV
from harmscope.warehouse import Warehouse
from harmscope.warehouse.personal import AuditError, read_personal
from harmscope.warehouse.records import load_records
from harmscope.warehouse.schema import PERSONAL

KEY = "a test key that is long enough"
SRC = Path(__file__).resolve().parents[2] / "src" / "harmscope"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(simulated city folder, warehouse with its records loaded)."""
    base = tmp_path_factory.mktemp("p")
    sim = simulate(seed=9, months=10, size="small").write(base / "c")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(KEY_ENV, KEY)
        load_records([sim / "intel", sim / "records"], db=base / "w.duckdb", user="u", reason="r")
    return sim, base / "w.duckdb"


@pytest.fixture
def db(loaded: tuple[Path, Path], tmp_path: Path) -> Path:
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(loaded[1].read_bytes())
    return copy


def _audit(db: Path) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT * FROM audit_log ORDER BY audit_id").df()


def _hm(raw: str) -> str:
    return "P" + hmac.new(KEY.encode(), raw.encode(), hashlib.sha256).hexdigest()[:32]


@pytest.mark.parametrize(
    ("user", "reason", "missing"),
    [(None, "why", "a user"), ("u1", None, "a reason"), ("  ", "", "a user and a reason")],
)
def test_a_read_without_user_or_reason_is_refused(
    db: Path, user: str | None, reason: str | None, missing: str
) -> None:
    before = len(_audit(db))
    with pytest.raises(AuditError, match=f"{missing} missing"):
        read_personal(db, "records_nominals", user=user, reason=reason)
    assert len(_audit(db)) == before  # nothing read, nothing logged


def test_every_read_is_logged_with_who_what_when_why(loaded: tuple[Path, Path], db: Path) -> None:
    sim = loaded[0]
    before = len(_audit(db))
    start = datetime.now(UTC).replace(tzinfo=None)
    arrests = pd.read_csv(sim / "records/arrests.csv", dtype=str, keep_default_na=False)
    person = arrests["nominal_id"].iat[0]
    frame = read_personal(
        db,
        "records_arrests",
        user="analyst2",
        reason="case review 42",
        columns=["arrest_id", "nominal_id", "custody_outcome"],
        where={"nominal_id": [_hm(person)]},
    )
    want = arrests.loc[arrests["nominal_id"] == person, ["arrest_id", "custody_outcome"]]
    assert frame["arrest_id"].tolist() == want["arrest_id"].tolist()
    assert frame["custody_outcome"].tolist() == want["custody_outcome"].tolist()
    assert set(frame["nominal_id"]) == {_hm(person)}
    for table in sorted(PERSONAL):
        read_personal(db, table, user="analyst3", reason="audit test")
    log = _audit(db).iloc[before:]
    assert len(log) == 1 + len(PERSONAL)
    first = log.iloc[0]
    assert (first["user_name"], first["reason"], first["action"], first["target"]) == (
        "analyst2",
        "case review 42",
        "read",
        "records_arrests",
    )
    assert first["rows"] == len(want)
    assert json.loads(first["detail"]) == {
        "columns": ["arrest_id", "nominal_id", "custody_outcome"],
        "where": {"nominal_id": [_hm(person)]},
    }
    assert start <= first["logged_at"] <= datetime.now(UTC).replace(tzinfo=None)
    assert sorted(log["target"].iloc[1:]) == sorted(PERSONAL)
    assert person not in log.to_string()  # the log holds pseudonyms only


def test_a_read_that_cannot_be_logged_returns_nothing(db: Path) -> None:
    with Warehouse.open(db, read_only=True) as wh, pytest.raises(AuditError, match="logged"):
        read_personal(wh, "records_nominals", user="u", reason="r")


def test_only_personal_tables_and_known_columns(db: Path) -> None:
    with pytest.raises(WarehouseError, match="not a personal-data table"):
        read_personal(db, "records_groups", user="u", reason="r")
    with pytest.raises(WarehouseError, match="no column"):
        read_personal(db, "records_nominals", user="u", reason="r", columns=["name"])


def _table_names_in(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            names |= {t for t in PERSONAL if t in node.value}
    return names


def test_no_other_module_names_a_personal_table() -> None:
    # Where the tables may be named: their definition (the formats and the schema), the
    # loader that writes them, and the audited read. Any other module reading one would
    # bypass the audit.
    allowed = {
        SRC / "sources" / "records" / "formats.py",
        SRC / "warehouse" / "schema.py",
        SRC / "warehouse" / "records.py",
        SRC / "warehouse" / "personal.py",
    }
    offenders = {
        str(p.relative_to(SRC)): names
        for p in sorted(SRC.rglob("*.py"))
        if p not in allowed and (names := _table_names_in(p))
    }
    assert offenders == {}
    # The control: the scan finds every personal table where the formats define it.
    assert _table_names_in(SRC / "sources" / "records" / "formats.py") == set(PERSONAL)
