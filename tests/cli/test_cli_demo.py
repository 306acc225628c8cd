"""``harmscope demo`` (what ``make demo`` runs) and the overview report, end to end."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.harm import harm_matrix
from harmscope.warehouse import ibis_connect

runner = CliRunner()


class _Text(HTMLParser):
    """Visible text and the tags seen, to assert on the report like a reader would."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_demo_end_to_end_and_idempotent(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    first = runner.invoke(app, ["demo", "--out", str(out), "--months", "6", "--seed", "7"])
    assert first.exit_code == 0, first.output
    assert "SYNTHETIC" in first.stdout
    db = out / "harmscope.duckdb"
    report = out / "report.html"
    assert report.exists()
    with duckdb.connect(str(db), read_only=True) as con:
        n_events = con.execute("SELECT count(*) FROM events").fetchone()[0]  # type: ignore[index]
        n_areas = con.execute("SELECT count(*) FROM areas").fetchone()[0]  # type: ignore[index]
        months = con.execute(
            "SELECT count(DISTINCT month) FROM events WHERE source = 'street'"
        ).fetchone()[0]  # type: ignore[index]
    assert n_events > 0 and n_areas > 0 and months == 6

    parsed = _Text()
    parsed.feed(report.read_text(encoding="utf-8"))
    text = " ".join(parsed.text)
    assert "SYNTHETIC DATA" in text
    assert parsed.tags.count("svg") >= 2  # monthly chart and hot spot map, inline
    assert "<script" not in report.read_text(encoding="utf-8")  # works offline, no CDN
    assert "Harm and deprivation" in text
    total = harm_matrix(ibis_connect(db).table("events"), scheme="cchi").total
    shown = re.search(r"([\d,]+)\s+harm \(days of imprisonment\)", text)
    assert shown is not None
    assert int(shown.group(1).replace(",", "")) == round(total)

    again = runner.invoke(app, ["demo", "--out", str(out), "--months", "6", "--seed", "7"])
    assert again.exit_code == 0, again.output
    assert "0 rows loaded" in again.stdout
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM events").fetchone()[0] == n_events  # type: ignore[index]
