"""Progress (issue 10 item 7): every long command reports real progress, on stderr, ending full.

Library side: each long function called with a recording callback on real data (the City
of London months; a small SYNTHETIC city for the simulator and the validate-* checks) must
keep the :data:`harmscope.periods.Progress` protocol: within a stage ``done`` never goes
back, the total never changes, a stage is not resumed once another has started, and its last
call has ``done == total``. Face side: with a terminal forced (``TTY_COMPATIBLE=1``) and no
delay, the bar is drawn on stderr, its last frame shows every stage at 100 %, and stdout
holds only the result (JSON that parses).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harmscope.cli import app

runner = CliRunner()
CITY = (
    Path(os.environ["HARMSCOPE_SHARED_DATA"])
    if os.environ.get("HARMSCOPE_SHARED_DATA")
    else Path(__file__).resolve().parents[3] / "shared" / "data"
) / "policeuk-city-of-london-2018-12_2021-11"
Calls = list[tuple[str, int, int]]


def check_protocol(calls: Calls) -> list[str]:
    """The stages of *calls*, in order, after checking the Progress protocol on them."""
    assert calls, "no progress reported"
    stages: list[str] = []
    last: dict[str, tuple[int, int]] = {}
    for stage, done, total in calls:
        if stage in last:
            assert stages[-1] == stage, f"stage {stage!r} resumed after {stages[-1]!r}"
            before, was = last[stage]
            assert total == was, f"{stage!r}: total changed from {was} to {total}"
            assert done >= before, f"{stage!r}: done went back from {before} to {done}"
        else:
            stages.append(stage)
        assert 0 <= done <= max(total, 0), (stage, done, total)
        last[stage] = (done, total)
    for stage, (done, total) in last.items():
        assert done == total, f"stage {stage!r} ended at {done} of {total}"
    return stages


def recorder() -> tuple[Calls, object]:
    calls: Calls = []
    return calls, lambda stage, done, total: calls.append((stage, done, total))


def test_ingest_reports_every_file_and_every_stage(tmp_path: Path) -> None:
    from harmscope.warehouse.ingest import ingest_paths

    files = sorted((CITY / "street").glob("2019-0[1-4]-*.csv"))
    calls, progress = recorder()
    ingest_paths(files, db=tmp_path / "w.duckdb", progress=progress)  # type: ignore[arg-type]
    stages = check_protocol(calls)
    assert stages == [
        "checking headers",
        "loading",
        "folding",
        "superseding",
        "writing",
        "recording",
        "committing",
    ]
    per_file = [d for s, d, t in calls if s == "checking headers"]
    assert per_file == list(range(len(files) + 1))  # one step per file: real progress
    # Nothing new the second time: the header stage alone, still ending full.
    again, progress = recorder()
    ingest_paths(files, db=tmp_path / "w.duckdb", progress=progress)  # type: ignore[arg-type]
    assert check_protocol(again) == ["checking headers"]


def test_hotspots_emerging_markets_and_priorities(city_db: Path) -> None:
    from harmscope.markets import markets
    from harmscope.places.hotspots import emerging_cells, hotspots
    from harmscope.priorities import rank

    calls, progress = recorder()
    hotspots(city_db, progress=progress)  # type: ignore[arg-type]
    assert check_protocol(calls) == ["aggregate", "gi_star"]
    calls, progress = recorder()
    emerging_cells(city_db, progress=progress)  # type: ignore[arg-type]
    assert check_protocol(calls) == ["aggregate", "months", "gi_star"]
    months = [t for s, _, t in calls if s == "months"]
    assert months[0] == 6  # one unit per month of the City fixture (2019-01..06)
    calls, progress = recorder()
    markets(city_db, progress=progress)  # type: ignore[arg-type]
    assert check_protocol(calls)[0] == "aggregate"
    calls, progress = recorder()
    rank("all", city_db, progress=progress)
    stages = check_protocol(calls)
    assert {s.split(":")[0] for s in stages} == {"markets", "places"}  # every lens, named


def test_simulate_reports_each_month(tmp_path: Path) -> None:
    from harmscope.simulate import simulate

    calls, progress = recorder()
    simulate(seed=3, months=4, size="small", progress=progress)  # type: ignore[arg-type]
    assert check_protocol(calls) == ["months"]
    assert calls == [("months", d, 4) for d in range(5)]


@pytest.mark.slow
def test_validate_checks_report_progress(tmp_path: Path) -> None:
    from harmscope.checks.evaluation import validate_evaluation
    from harmscope.checks.priorities import validate_priorities

    sim = tmp_path / "sim"
    done = runner.invoke(app, ["simulate", "--seed", "1", "--months", "24", "--out", str(sim)])
    assert done.exit_code == 0, done.output
    calls, progress = recorder()
    validate_priorities(sim, k=5, progress=progress)  # type: ignore[arg-type]
    assert check_protocol(calls) == [
        "ingest",
        "places",
        "markets",
        "people",
        "groups",
        "behaviours",
    ]
    calls, progress = recorder()
    validate_evaluation(sim, operations=3, progress=progress)  # type: ignore[arg-type]
    assert check_protocol(calls) == ["simulated operations"]
    assert [d for _, d, _ in calls][-1] == 3


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _last_frame(stderr: str) -> list[str]:
    """The lines of the bar's last frame (each redraw starts after a carriage return)."""
    return [line for line in ANSI.sub("", stderr.rsplit("\r", 1)[-1]).splitlines() if "━" in line]


@pytest.mark.parametrize(
    ("args", "stages"),
    [
        (["hotspots", "--format", "geojson"], ["aggregate", "gi_star"]),
        (["emerging", "--format", "json"], ["aggregate", "months", "gi_star"]),
        (["markets", "--format", "json"], ["aggregate", "detect", "describe"]),
        (["priorities", "--lens", "places", "--format", "json"], ["aggregate", "gi_star"]),
    ],
)
def test_bar_goes_to_stderr_ends_full_and_stdout_stays_json(
    args: list[str], stages: list[str], city_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import harmscope.cli._common as common

    monkeypatch.setattr(common, "PROGRESS_DELAY", 0.0)  # draw at once, however quick
    res = runner.invoke(
        app, [*args, "--db", str(city_db)], env={"TTY_COMPATIBLE": "1", "COLUMNS": "80"}
    )
    assert res.exit_code == 0, res.stderr
    json.loads(res.stdout)  # nothing but the result on stdout
    assert "━" not in res.stdout
    frame = _last_frame(res.stderr)
    assert [line.split()[0] for line in frame] == stages
    assert all("100%" in line for line in frame), frame


def test_no_bar_when_stderr_is_not_a_terminal(
    city_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import harmscope.cli._common as common

    monkeypatch.setattr(common, "PROGRESS_DELAY", 0.0)
    res = runner.invoke(app, ["hotspots", "--db", str(city_db), "--format", "geojson"])
    assert res.exit_code == 0
    assert "━" not in res.stderr and "\x1b[" not in res.stderr  # logs stay clean
