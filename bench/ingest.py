"""Ingest benchmark: the 39-force national extract (1.64 million street rows, 5 months).

Prints rows per second, peak memory, and the ratio of HarmScope's full ingest (header and
row checks, projection to British National Grid, gzip integrity, folding, provenance, one
transaction) to a bare DuckDB ``read_csv`` of the same files into a table (default options,
so DuckDB sniffs types), all measured in this run, each in a fresh subprocess (so peak
memory is per run), alternating, best of ``--repeat``. A second, stricter reference reads
everything as VARCHAR (no sniffing): the cheapest possible load.

Targets (issue 2): ratio <= 2.0 and peak memory under 2 GB.

Then the command as a user runs it (issue 13): ``harmscope ingest`` in a subprocess, process
start and imports included, against the cheapest load of the same files
(``bench/scale.py``'s ``cheapest_load``: ``CREATE TABLE AS SELECT * FROM read_csv(...,
all_varchar = true)``) at 1/8, 1/2 and 1x of the extract (``scale.write_size``), alternating,
best of ``--repeat``; ``harmscope --help`` is timed beside it, as the command's fixed start-up
cost. Target: within 2x of the cheapest load at every size.

    .venv/bin/python bench/ingest.py [--data DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT = HERE.parent.parent / "shared" / "data" / "policeuk-39-forces-2018-10_2019-02_geoinfo"

_CHILD = r"""
import json, resource, sys, time
mode, db, data = sys.argv[1:4]
t0 = time.perf_counter()
if mode in ("baseline", "baseline_varchar"):
    import duckdb, glob
    files = sorted(glob.glob(data + "/**/*.csv.gz", recursive=True))
    con = duckdb.connect(db)
    opts = ", all_varchar = true" if mode == "baseline_varchar" else ""
    con.execute(f"CREATE TABLE raw AS SELECT * FROM read_csv(?{opts})", [files])
    rows = con.execute("SELECT count(*) FROM raw").fetchone()[0]
    con.close()
else:
    from harmscope.warehouse.ingest import ingest_paths
    rep = ingest_paths([data], db=db)
    rows = rep.rows_read
secs = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB (Linux)
print(json.dumps({"seconds": secs, "rows": rows, "peak_mib": peak}))
"""


def run(mode: str, data: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, mode, os.path.join(tmp, "w.duckdb"), str(data)],
            check=True,
            capture_output=True,
            text=True,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def cli_curve(data: Path, repeat: int, sizes: str) -> bool:
    """Print ``harmscope ingest`` / cheapest load per size; True when every size is <= 2."""
    sys.path.insert(0, str(HERE))
    from fractions import Fraction

    import scale  # bench/scale.py: the same sizes and baseline as the scale curve

    ok = True
    print("size        rows  cheapest s  ingest s  ratio  (start-up s)")
    for size in (Fraction(x) for x in sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            files = Path(tmp) / "data"
            rows = scale.write_size(data, files, size)
            best: dict[str, float] = {}
            for k in range(repeat):
                floor = scale.cheapest_load(files, Path(tmp) / f"floor{k}.duckdb")
                times = {"floor": floor}
                for what, argv in (
                    ("ingest", ["ingest", str(files), "--db", f"{tmp}/w{k}.duckdb"]),
                    ("start", ["--help"]),
                ):
                    t0 = time.perf_counter()
                    subprocess.run([str(scale.HARMSCOPE), *argv], check=True, capture_output=True)
                    times[what] = time.perf_counter() - t0
                best = {w: min(best.get(w, t), t) for w, t in times.items()}
        ratio = best["ingest"] / best["floor"]
        ok &= ratio <= 2.0
        print(
            f"{size!s:>4} {rows:>11,} {best['floor']:>11.2f} {best['ingest']:>9.2f} "
            f"{ratio:>6.2f}  ({best['start']:.2f})"
        )
    print(f"target (ingest <= 2x cheapest load at every size): {'met' if ok else 'MISSED'}")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--sizes", default="1/8,1/2,1", help="sizes of the command's curve")
    args = ap.parse_args()
    if not args.data.exists():
        print(f"data not found: {args.data}", file=sys.stderr)
        return 2
    base: list[dict[str, float]] = []
    plain: list[dict[str, float]] = []
    ours: list[dict[str, float]] = []
    for _ in range(args.repeat):
        base.append(run("baseline", args.data))
        plain.append(run("baseline_varchar", args.data))
        ours.append(run("harmscope", args.data))
    b = min(base, key=lambda r: r["seconds"])
    v = min(plain, key=lambda r: r["seconds"])
    o = min(ours, key=lambda r: r["seconds"])
    ratio = o["seconds"] / b["seconds"]
    peak = max(r["peak_mib"] for r in ours)
    print(f"rows: {int(o['rows']):,}")
    print(
        f"bare DuckDB read_csv -> table: {b['seconds']:.2f} s ({b['rows'] / b['seconds']:,.0f} rows/s), "
        f"peak {b['peak_mib']:,.0f} MiB"
    )
    print(
        f"harmscope ingest (full):       {o['seconds']:.2f} s ({o['rows'] / o['seconds']:,.0f} rows/s), "
        f"peak {peak:,.0f} MiB"
    )
    print(f"bare read_csv, all_varchar (no type sniffing): {v['seconds']:.2f} s")
    print(
        f"ratio harmscope / bare read_csv: {ratio:.2f}  (target <= 2.0: {'met' if ratio <= 2.0 else 'MISSED'})"
    )
    print(
        f"ratio harmscope / all_varchar read_csv (stricter reference): {o['seconds'] / v['seconds']:.2f}"
    )
    print(
        f"peak memory: {peak / 1024:.2f} GiB  (target < 2 GiB: {'met' if peak < 2048 else 'MISSED'})"
    )
    curve = cli_curve(args.data, args.repeat, args.sizes)
    return 0 if ratio <= 2.0 and peak < 2048 and curve else 1


if __name__ == "__main__":
    raise SystemExit(main())
