"""``make bench`` runs every benchmark under ``bench/`` and every bench command the docs quote.

The docs quote benchmark figures beside the command that prints them (issue 8, item 17:
"make bench prints every figure that the docs quote"), so the Makefile's ``BENCH_RUNS`` must
hold exactly those invocations, and each benchmark prints ratios, not bare times.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A bench command quoted in backticks, optionally after an interpreter path such as
# `.venv/bin/python` or `python`: `bench/NAME.py ARGS...`.
QUOTED = re.compile(r"`(?:[\w./-]*python3? )?(bench/\w+\.py(?: [^`]*)?)`")


def _runs() -> list[str]:
    """The invocations of the Makefile's ``bench`` target, as ``bench/NAME.py ARGS``."""
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    found = re.search(r"^BENCH_RUNS :=((?:.*\\\n)*.*)$", make, flags=re.M)
    assert found, "Makefile has no BENCH_RUNS list"
    target = make[make.index("\nbench:") :].split("\n\n")[0]
    # The loop must run each entry as given, not a name mapped to a default invocation.
    assert "$(BENCH_RUNS)" in target and "python $$run" in target
    runs = shlex.split(found.group(1).replace("\\\n", " "))
    assert runs, "BENCH_RUNS is empty"
    return [" ".join(r.split()) for r in runs]


def _quoted() -> dict[str, list[str]]:
    """Every backticked bench command in README.md and docs/*.md, with where it is quoted."""
    where: dict[str, list[str]] = {}
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for m in QUOTED.finditer(line):
                cmd = " ".join(m.group(1).split())
                where.setdefault(cmd, []).append(f"{path.name}:{line_no}")
    return where


def test_make_bench_runs_every_benchmark() -> None:
    scripts = {r.split()[0] for r in _runs()}
    assert {f"bench/{b}.py" for b in ("ingest", "hotspots", "simulate", "evaluation")} <= scripts
    on_disk = {f"bench/{p.name}" for p in (ROOT / "bench").glob("*.py")}
    assert on_disk <= scripts, f"benchmarks make bench does not run: {on_disk - scripts}"
    assert scripts <= on_disk, f"make bench runs missing scripts: {scripts - on_disk}"


def test_every_bench_command_the_docs_quote_is_one_make_bench_runs() -> None:
    runs = set(_runs())
    quoted = _quoted()
    # The docs do quote bench commands (a regex that matched nothing would pass vacuously).
    assert {"bench/ingest.py --repeat 2", "bench/simulate.py --size region --repeat 1"} <= set(
        quoted
    )
    # A bare script name (`bench/hotspots.py`) names the script; with arguments it is a command
    # and must be run by make bench exactly as quoted.
    missing = {
        cmd: at
        for cmd, at in quoted.items()
        if cmd not in runs and not (" " not in cmd and any(r.split()[0] == cmd for r in runs))
    }
    assert not missing, f"docs quote bench commands make bench does not run: {missing}"


def test_the_pattern_reads_commands_as_the_docs_write_them() -> None:
    line = (
        "`.venv/bin/python bench/ingest.py --repeat 2` and `python bench/evaluation.py "
        "--part scaling` and `bench/hotspots.py`, not `hotspots.py`"
    )
    assert [m.group(1) for m in QUOTED.finditer(line)] == [
        "bench/ingest.py --repeat 2",
        "bench/evaluation.py --part scaling",
        "bench/hotspots.py",
    ]


def test_each_benchmark_compares_with_a_baseline_in_the_same_run() -> None:
    for path in sorted((ROOT / "bench").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "baseline" in text.lower(), path.name
        assert "ratio" in text.lower() or "x the" in text, path.name
