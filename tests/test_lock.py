"""The lock file (``requirements.lock``) agrees with ``pyproject.toml``.

``make setup`` installs the whole dependency tree from the lock, with hashes, so a new release
of a transitive package cannot change what a fresh machine runs. These tests fail when someone
edits the pins in ``pyproject.toml`` without re-running ``make lock``, or hand-edits the lock.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"

_ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _direct_requirements() -> list[Requirement]:
    project = _pyproject()["project"]
    specs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        specs.extend(extra)
    specs.extend(_pyproject()["build-system"]["requires"])
    return [Requirement(s) for s in specs]


def _lock_entries() -> dict[str, tuple[str, list[str], str]]:
    """``name -> (version, hashes, annotation)`` for every package in the lock."""
    entries: dict[str, tuple[str, list[str], str]] = {}
    name = ""
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        match = _ENTRY.match(line)
        if match:
            name = canonicalize_name(match.group(1))
            entries[name] = (match.group(2), [], "")
        elif name and "--hash=sha256:" in line:
            entries[name][1].append(line.split("--hash=sha256:")[1].split()[0])
        elif name and line.strip().startswith("#"):
            version, hashes, note = entries[name]
            entries[name] = (version, hashes, note + line.strip("# ") + "\n")
    return entries


def test_every_runtime_and_dev_dependency_is_pinned_exactly() -> None:
    for req in _direct_requirements():
        if req.name in {"setuptools", "wheel"}:  # build backend: a floor, resolved by the lock
            continue
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{req} is not pinned with =="


def test_lock_pins_each_direct_dependency_at_the_pyproject_version() -> None:
    lock = _lock_entries()
    for req in _direct_requirements():
        name = canonicalize_name(req.name)
        assert name in lock, f"{req.name} is in pyproject.toml but not in requirements.lock"
        version = lock[name][0]
        assert req.specifier.contains(version, prereleases=True), (
            f"pyproject.toml asks for {req}, requirements.lock has {version}: run `make lock`"
        )


def test_lock_lists_no_direct_dependency_pyproject_has_dropped() -> None:
    direct = {canonicalize_name(r.name) for r in _direct_requirements()}
    for name, (_, _, note) in _lock_entries().items():
        if "harmscope (pyproject.toml)" in note:
            assert name in direct, (
                f"{name} is locked as direct but pyproject.toml no longer asks for it"
            )


def test_every_locked_package_has_a_hash() -> None:
    entries = _lock_entries()
    assert len(entries) > 20  # the whole tree, not just the direct pins
    unhashed = [n for n, (_, hashes, _) in entries.items() if not hashes]
    assert not unhashed, f"no --hash in requirements.lock for {unhashed}"
    for name, (_, hashes, _) in entries.items():
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), name
