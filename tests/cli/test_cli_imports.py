"""A ``harmscope COMMAND`` run imports only its command's module; everything else sees all.

``harmscope.cli.COMMAND_MODULES`` must name, for every command and command group, the module
that registers it, or a run of that command would not find it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harmscope.cli import COMMAND_MODULES, app, command_modules

SRC = Path(__file__).resolve().parents[2] / "src"


def _registered() -> dict[str, str]:
    """Command name -> the module (under harmscope.cli) whose function it runs."""
    out = {}
    for cmd in app.registered_commands:
        assert cmd.callback is not None
        name = cmd.name or cmd.callback.__name__.replace("_", "-")
        out[name] = cmd.callback.__module__
    for group in app.registered_groups:
        commands = group.typer_instance.registered_commands if group.typer_instance else []
        assert group.name and commands, "a command group with its commands"
        assert commands[0].callback is not None
        out[group.name] = commands[0].callback.__module__
    return out


def test_every_command_names_the_module_that_registers_it() -> None:
    registered = _registered()
    assert sorted(registered) == sorted(COMMAND_MODULES)
    for name, module in registered.items():
        assert module == f"harmscope.cli.{COMMAND_MODULES[name]}", name


def test_only_a_named_command_is_narrowed() -> None:
    everything = sorted(set(COMMAND_MODULES.values()))
    assert command_modules(["/venv/bin/harmscope", "priorities", "--lens", "places"]) == [
        "priorities"
    ]
    assert command_modules(["/venv/bin/harmscope", "areas"]) == ["matrix"]
    for argv in (
        ["/venv/bin/harmscope"],
        ["/venv/bin/harmscope", "--help"],
        ["/venv/bin/harmscope", "--version"],
        ["/venv/bin/harmscope", "no-such-command"],
        ["/usr/bin/pytest", "matrix"],
        [],
    ):
        assert command_modules(argv) == everything, argv


def _modules_loaded(argv: list[str], prefix: str = "harmscope") -> set[str]:
    code = (
        "import sys\n"
        f"sys.argv = {argv!r}\n"
        "import harmscope.cli\n"
        f"print(' '.join(sorted(m for m in sys.modules if m.startswith({prefix!r}))))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return set(done.stdout.split())


def test_a_command_run_leaves_other_commands_libraries_unloaded() -> None:
    loaded = _modules_loaded(["/venv/bin/harmscope", "ingest", "--help"])
    assert "harmscope.cli.ingest" in loaded
    others = {f"harmscope.cli.{m}" for m in COMMAND_MODULES.values()} - {"harmscope.cli.ingest"}
    assert not loaded & others
    # the simulator, the validation checks and the report templates stay out of an ingest
    assert not {"harmscope.simulate", "harmscope.checks", "harmscope.report"} & loaded
    full = _modules_loaded(["/venv/bin/harmscope", "--help"])
    assert others <= full


#: Libraries that cost a command seconds to import and that its run does not need (issue 13):
#: SciPy's statistics (about a second on its own), statsmodels, pyproj (WGS84 boundaries only)
#: and our simulator, method checks, evaluation models and report templates.
SLOW_IMPORTS = {
    "scipy.stats",
    "statsmodels",
    "pyproj",
    "harmscope.simulate",
    "harmscope.checks",
    "harmscope.evaluate",
    "harmscope.report",
}


def test_hotspot_commands_start_without_slow_libraries() -> None:
    # hotspots, emerging and concentration: the Gi* tails come from scipy.special, and
    # harmscope.places loads its submodules on first use, so SciPy loads only when the
    # analysis runs.
    for command in ("hotspots", "emerging"):
        loaded = _modules_loaded(["/venv/bin/harmscope", command, "--help"], prefix="")
        assert not (SLOW_IMPORTS | {"scipy"}) & loaded, command


def test_matrix_starts_without_the_simulator_checks_or_models() -> None:
    loaded = _modules_loaded(["/venv/bin/harmscope", "matrix", "--help"], prefix="")
    # pyproj comes with geopandas (the areas command's map layers; Ibis loads it on any
    # to_pandas too); harm.measured's Poisson interval uses scipy.special, not scipy.stats.
    slow = SLOW_IMPORTS - {"pyproj"}
    assert not slow & loaded


def test_ingest_starts_without_ibis_or_pandas() -> None:
    # The ingest target (issue 13: within 2x of the cheapest load) includes the process start;
    # loading is DuckDB SQL and Arrow, so neither Ibis nor pandas (about 1 s together) is needed
    # before the run (DuckDB's own parameter binding may load pandas later, at its choosing).
    loaded = _modules_loaded(["/venv/bin/harmscope", "ingest", "--help"], prefix="")
    assert not {"ibis", "pandas", "scipy"} & loaded
