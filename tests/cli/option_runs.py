"""Shared by the every-option tests: which options a command declares, and one CLI run
captured in a comparable form (exit code, stdout, stderr, hashes of the files it wrote)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import typer
from typer.testing import CliRunner

from harmscope.cli import app

runner = CliRunner()

#: Terminal width each option's runs are compared at (200 unless listed): ``--wide`` shows
#: what a narrow terminal hides or wraps (a table that fits is the same either way), so its
#: base and variant run 40 columns wide, where every command's table needs wrapping.
COLUMNS = {"--wide": 40}


def columns_for(option: str) -> int:
    """The terminal width at which the runs for *option* are compared (:data:`COLUMNS`)."""
    return COLUMNS.get(option, 200)


def declared(path: str) -> set[str]:
    """Options (first spelling) and arguments (upper-cased) of ``harmscope PATH``."""
    cmd = typer.main.get_command(app)
    for name in path.split():
        cmd = cmd.commands[name]  # type: ignore[attr-defined]
    names = set()
    for param in cmd.params:
        if param.param_type_name == "argument":
            names.add(str(param.name).upper())
        elif "--help" not in param.opts:
            names.add(param.opts[0])
    return names


def captured_run(
    args: list[str], run: Path, paths: dict[str, Path], *, columns: int = 200
) -> tuple[object, ...]:
    """Run ``harmscope ARGS`` (``{run}``/``{name}`` filled from ``paths``) in a fresh folder,
    ``columns`` characters wide; times, durations and the folder's own path are normalised so
    two runs compare."""
    run.mkdir(parents=True)
    filled = [a.format(run=run, **paths) for a in args]
    res = runner.invoke(app, filled, env={"COLUMNS": str(columns)})

    def norm(text: str) -> str:
        text = text.replace(str(run), "{run}")
        text = re.sub(r"Generated \d{4}-\d\d-\d\d \d\d:\d\d UTC", "Generated <time>", text)
        return re.sub(r"in \d+\.\d s", "in <t> s", text)

    files = []
    for f in sorted(p for p in run.rglob("*") if p.is_file()):
        name = f.relative_to(run).as_posix()
        if f.suffix in (".duckdb", ".wal"):
            files.append((name, "binary"))  # DuckDB files are not byte-reproducible
        else:
            data = norm(f.read_text(encoding="utf-8", errors="replace"))
            files.append((name, hashlib.sha256(data.encode()).hexdigest()))
    return res.exit_code, norm(res.stdout), norm(res.stderr), tuple(files)
