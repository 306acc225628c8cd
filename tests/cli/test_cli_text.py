"""User-facing text names no internal document: CLI help, scheme citations, report templates.

A user of the installed tool has no ``DESIGN.md`` and no ``docs/`` folder; "DESIGN §3" in a
citation printed in a report is a dead reference.
"""

from __future__ import annotations

import re
from importlib import resources

import pytest
import typer
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.harm import available_schemes, load_scheme

INTERNAL = re.compile(r"DESIGN|docs/|§|\.md\b|issue \d")
runner = CliRunner()


def _command_paths() -> list[list[str]]:
    root = typer.main.get_command(app)
    paths: list[list[str]] = []

    def walk(cmd: object, prefix: list[str]) -> None:
        paths.append(prefix)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*prefix, name])

    walk(root, [])
    return paths


COMMANDS = _command_paths()


def test_every_command_is_walked() -> None:
    names = {" ".join(p) for p in COMMANDS}
    assert {"", "areas", "report", "export events", "markets decide", "simulate"} <= names


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "harmscope")
def test_help_names_no_internal_document(path: list[str]) -> None:
    res = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
    assert res.exit_code == 0, res.output
    assert "Usage:" in res.stdout
    assert not INTERNAL.findall(res.stdout), res.stdout
    assert "…" not in res.stdout  # an 80-column terminal shows every word whole


@pytest.mark.parametrize("name", available_schemes())
def test_scheme_citations_name_no_internal_document(name: str) -> None:
    scheme = load_scheme(name)
    texts = [scheme.citation, *(w.citation for w in scheme.weights)]
    texts += [w.note for w in scheme.weights] + [w.derivation for w in scheme.weights]
    assert all(texts[:1])
    assert [t for t in texts if INTERNAL.search(t or "")] == []


@pytest.mark.parametrize("template", ["overview.html", "evaluation.html"])
def test_report_templates_name_no_internal_document(template: str) -> None:
    text = (resources.files("harmscope.report") / "templates" / template).read_text("utf-8")
    assert len(text) > 500
    assert INTERNAL.findall(text) == []


def test_every_option_and_argument_is_documented() -> None:
    """An option without help text is an option nobody can find (``report --title`` had none)."""
    missing = []

    def walk(cmd: object, prefix: list[str]) -> None:
        for param in getattr(cmd, "params", []):
            if "--help" not in param.opts and not getattr(param, "help", None):
                missing.append(f"{' '.join(prefix)} {param.opts[0]}")
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*prefix, name])

    walk(typer.main.get_command(app), ["harmscope"])
    assert missing == []
