"""``make bench`` runs every benchmark under ``bench/`` (and each prints ratios, not bare times)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _benches() -> list[str]:
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    found = re.search(r"^BENCHES :=(.*)$", make, flags=re.M)
    assert found, "Makefile has no BENCHES list"
    target = make[make.index("\nbench:") :].split("\n\n")[0]
    assert "$(BENCHES)" in target and "bench/$$b.py" in target
    return found.group(1).split()


def test_make_bench_runs_every_benchmark() -> None:
    listed = _benches()
    assert {"ingest", "hotspots", "simulate", "evaluation"} <= set(listed)
    on_disk = {p.stem for p in (ROOT / "bench").glob("*.py")}
    assert on_disk <= set(listed), f"benchmarks make bench does not run: {on_disk - set(listed)}"


def test_each_benchmark_compares_with_a_baseline_in_the_same_run() -> None:
    for path in sorted((ROOT / "bench").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "baseline" in text.lower(), path.name
        assert "ratio" in text.lower() or "x the" in text, path.name
