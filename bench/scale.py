"""Scale curve: the end-to-end run (ingest -> matrix -> hot spots -> emerging -> priorities)
on the real 39-force police.uk extract at 1/8, 1/2 and 1x, then replicated to 7x.

Input sizes (issue 13):

- ``1/8``, ``1/2``: every 8th / every 2nd row of each file of the extract (all 39 forces and 5
  months kept, so the map and the lattice stay the national ones);
- ``1x``: the extract itself (1.64 million street rows);
- ``7x``: the extract 7 times, each copy moved 5 months later (35 consecutive months) with its
  Crime IDs made unique, so no copy folds into another (about 11.5 million rows).

Each size is written once as gzipped police.uk files in a temporary folder. Each command runs as
a user would run it (``harmscope ...`` in a subprocess, output to a file), so each time includes
the process start; peak memory is the largest resident set of any stage. The baseline, timed in
the same run on the same files, is the cheapest possible load:
``CREATE TABLE AS SELECT * FROM read_csv(files, all_varchar = true)`` into a DuckDB file.

Printed: per size, each stage's seconds, the end-to-end seconds, microseconds per row and that
cost relative to 1x, the marginal microseconds per row added since the previous size, and
ingest / cheapest load. Targets:

- cost per row within 1.5x across sizes (DuckDB);
- 7x (11.5 million rows) end to end in under 5 minutes;
- ingest within 2x of the cheapest load at every size.

    .venv/bin/python bench/scale.py [--sizes 1/8,1/2,1,7] [--engine duckdb|pyspark]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import TypedDict

import duckdb

HERE = Path(__file__).resolve().parent
DEFAULT = HERE.parent.parent / "shared" / "data" / "policeuk-39-forces-2018-10_2019-02_geoinfo"
HARMSCOPE = Path(sys.executable).with_name("harmscope")

#: The end-to-end run, in order: (stage, harmscope arguments after the command name).
STAGES: tuple[tuple[str, list[str]], ...] = (
    ("ingest", ["ingest", "{data}"]),
    ("matrix", ["matrix", "--format", "json"]),
    ("hotspots", ["hotspots", "--format", "csv"]),
    ("emerging", ["emerging", "--format", "csv"]),
    ("priorities", ["priorities", "--lens", "places", "--format", "csv"]),
)

#: Months of the extract; each 7x copy moves this many months later.
EXTRACT_MONTHS = 5


def write_size(src: Path, dest: Path, size: Fraction) -> int:
    """Write *size* x the extract under *dest* as police.uk ``.csv.gz`` files; rows written.

    Fractions keep every n-th row of each file; whole multiples above 1 repeat the extract
    with months shifted by :data:`EXTRACT_MONTHS` per copy and Crime IDs suffixed by the copy.
    """
    con = duckdb.connect()
    files = sorted(src.glob("street/*.csv.gz"))
    copies = max(1, int(size))
    step = 1 if size >= 1 else int(1 / size)
    total = 0
    for f in files:
        # all_varchar: the files are copied as published, nothing re-typed or re-formatted
        cols = con.sql(f"SELECT * FROM read_csv('{f}', all_varchar = true) LIMIT 0").columns
        for copy in range(copies):
            month_expr = (
                "strftime(CAST(\"Month\" || '-01' AS DATE) + INTERVAL "
                f"{copy * EXTRACT_MONTHS} MONTH, '%Y-%m')"
            )
            crime = (
                f'CASE WHEN "Crime ID" IS NULL THEN NULL ELSE "Crime ID" || \'{copy:x}\' END'
                if copy
                else '"Crime ID"'
            )
            select = ", ".join(
                f'{month_expr} AS "Month"'
                if c == "Month"
                else f'{crime} AS "Crime ID"'
                if c == "Crime ID"
                else f'"{c}"'
                for c in cols
            )
            year, mon = int(f.name[:4]), int(f.name[5:7]) + copy * EXTRACT_MONTHS
            year, mon = year + (mon - 1) // 12, (mon - 1) % 12 + 1
            name = f"{year:04d}-{mon:02d}{f.name[7:]}"
            out = dest / "street" / name
            out.parent.mkdir(parents=True, exist_ok=True)
            query = (
                f"SELECT {select} FROM (SELECT *, row_number() OVER () AS _n "
                f"FROM read_csv('{f}', all_varchar = true)) WHERE (_n - 1) % {step} = 0"
            )
            con.execute(f"COPY ({query}) TO '{out}' (HEADER, DELIMITER ',', COMPRESSION gzip)")
            counted = con.sql(f"SELECT count(*) FROM read_csv('{out}', all_varchar = true)")
            total += int(counted.fetchone()[0])  # type: ignore[index]
    con.close()
    return total


def cheapest_load(data: Path, db: Path) -> float:
    """Seconds for the cheapest possible load of the same files, in a fresh process."""
    code = (
        "import duckdb, glob, sys, time; t = time.perf_counter(); "
        "c = duckdb.connect(sys.argv[1]); "
        "c.execute('CREATE TABLE raw AS SELECT * FROM read_csv(?, all_varchar = true)', "
        "[sorted(glob.glob(sys.argv[2] + '/**/*.csv.gz', recursive=True))]); c.close(); "
        "print(time.perf_counter() - t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(db), str(data)], check=True, capture_output=True, text=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def run_stages(data: Path, work: Path, engine: str) -> tuple[dict[str, float], float]:
    """Each stage's seconds (subprocess wall time) and the peak resident set of any, MiB."""
    db = work / ("w.duckdb" if engine == "duckdb" else "warehouse")  # pyspark: a folder
    env = {**os.environ, "HARMSCOPE_DB": str(db), "HARMSCOPE_ENGINE": engine}
    times: dict[str, float] = {}
    peak = 0.0
    for stage, args in STAGES:
        argv = [str(HARMSCOPE), *(a.format(data=data) for a in args)]
        out = subprocess.run(
            [sys.executable, "-c", _TIMED, str(work / f"{stage}.out"), *argv],
            capture_output=True,
            text=True,
            env=env,
        )
        if out.returncode:  # the stage's own message, not only its exit status
            raise SystemExit(f"{stage} failed: {out.stderr.strip()[-3000:]}")
        seconds, mib = json.loads(out.stdout.strip().splitlines()[-1])
        times[stage] = seconds
        peak = max(peak, mib)
    return times, peak


# Runs one command with its output to a file; prints its wall time and peak resident set (MiB:
# ru_maxrss of the waited-for children is per process tree, so each stage is measured alone).
_TIMED = r"""
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
with open(sys.argv[1], "wb") as out:
    done = subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.PIPE)
secs = time.perf_counter() - t0
if done.returncode:
    sys.exit(f"{sys.argv[2:]} failed: {done.stderr.decode()[-2000:]}")
print(json.dumps([secs, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024]))
"""


class SizeRun(TypedDict):
    """One size's figures: stage seconds, the cheapest load's seconds, peak memory."""

    size: str
    rows: int
    times: dict[str, float]
    total: float
    floor: float
    peak_mib: float


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT)
    ap.add_argument("--sizes", default="1/8,1/2,1,7", help="comma-separated multiples")
    ap.add_argument("--engine", default="duckdb", choices=["duckdb", "pyspark"])
    args = ap.parse_args()
    if not args.data.exists():
        print(f"data not found: {args.data}", file=sys.stderr)
        return 2
    sizes = [Fraction(s) for s in args.sizes.split(",")]
    results: list[SizeRun] = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="harmscope-scale-") as tmp:
            data, work = Path(tmp) / "data", Path(tmp) / "work"
            work.mkdir()
            rows = write_size(args.data, data, size)
            floor = cheapest_load(data, work / "floor.duckdb")
            times, peak = run_stages(data, work, args.engine)
        total = sum(times.values())
        results.append(
            {
                "size": str(size),
                "rows": rows,
                "times": times,
                "total": total,
                "floor": floor,
                "peak_mib": peak,
            }
        )
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    ref = next((r for r in results if r["size"] == "1"), results[-1])
    ref_cost = ref["total"] / ref["rows"]
    print(f"engine: {args.engine}; stages: {', '.join(s for s, _ in STAGES)}")
    header = f"{'size':>5} {'rows':>11} " + " ".join(f"{s:>10}" for s, _ in STAGES)
    vs = f"vs {ref['size']}"  # 1x when measured, else the largest size run
    print(
        header + f" {'total s':>8} {'us/row':>7} {vs:>6} {'marginal':>8} {'ingest/floor':>12}"
        f" {'peak MiB':>8}"
    )
    ok = True
    previous = None
    for r in results:
        cost = r["total"] / r["rows"]
        ratio = cost / ref_cost
        ingest = r["times"]["ingest"] / r["floor"]
        ok &= 1 / 1.5 <= ratio <= 1.5 and ingest <= 2.0
        # marginal: us per row added since the previous size (the slope, free of the fixed
        # costs every command pays whatever the size: process start, the national lattice)
        marginal = (
            f"{(r['total'] - previous['total']) / (r['rows'] - previous['rows']) * 1e6:>8.1f}"
            if previous
            else f"{'':>8}"
        )
        previous = r
        print(
            f"{r['size']:>5} {r['rows']:>11,} "
            + " ".join(f"{r['times'][s]:>10.1f}" for s, _ in STAGES)
            + f" {r['total']:>8.1f} {cost * 1e6:>7.1f} {ratio:>6.2f} {marginal}"
            f" {ingest:>12.2f} {r['peak_mib']:>8,.0f}"
        )
    big = [r for r in results if Fraction(r["size"]) >= 7]
    for r in big:
        ok &= r["total"] < 300
        print(
            f"{r['size']}x end to end: {r['total']:.0f} s (target < 300 s: "
            f"{'met' if r['total'] < 300 else 'MISSED'})"
        )
    print(
        f"targets (cost per row within 1.5x of {ref['size']}x; ingest <= 2x cheapest load"
        f"{'; 7x < 5 min' if big else ''}): {'met' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
