"""The registry of source adapters: adding a source is one module plus one line here.

Each module named in :data:`BUILTIN` defines ``ADAPTER``, an object following
:class:`~harmscope.sources.base.SourceAdapter`. Modules are imported on first use, so a
source's dependencies (pandas, shapely, ...) load only when that source is used, and a
source's loader may use the warehouse without an import circle. :func:`register` adds an
adapter at run time (a force's own source, or a test's).
"""

from __future__ import annotations

import importlib

from harmscope.sources.base import SourceAdapter, SourceFile

BUILTIN: tuple[str, ...] = (
    "harmscope.sources.policeuk",  # police.uk street, outcomes, stop-and-search -> events
    "harmscope.sources.survey",  # community survey responses -> survey_responses
    "harmscope.sources.areas",  # LSOA attributes and boundaries -> areas, area_shapes
    "harmscope.sources.records",  # force records and intelligence -> records_* (pseudonymised)
    "harmscope.sources.partners",  # drug deaths, admissions, needle finds -> partner_indicators
)
"""Built-in sources, in the order :func:`recognise` asks them."""

_added: dict[str, SourceAdapter] = {}


def register(adapter: SourceAdapter) -> SourceAdapter:
    """Add ``adapter`` under its ``name`` (asked after the built-in sources); returns it.

    Raises
    ------
    TypeError
        When ``adapter`` does not follow the :class:`SourceAdapter` protocol.
    ValueError
        When a source of that name is already registered.
    """
    if not isinstance(adapter, SourceAdapter):
        raise TypeError(f"{adapter!r} does not follow the SourceAdapter protocol")
    if adapter.name in {a.name for a in adapters()}:
        raise ValueError(f"a source named {adapter.name!r} is already registered")
    _added[adapter.name] = adapter
    return adapter


def unregister(name: str) -> None:
    """Remove a source added by :func:`register` (built-in sources stay)."""
    _added.pop(name, None)


def adapters() -> list[SourceAdapter]:
    """Every registered source: the built-in ones first, in :data:`BUILTIN` order."""
    found: list[SourceAdapter] = [importlib.import_module(m).ADAPTER for m in BUILTIN]
    return found + list(_added.values())


def adapter(name: str) -> SourceAdapter:
    """The source called ``name``; :class:`KeyError` listing the known ones otherwise."""
    for a in adapters():
        if a.name == name:
            return a
    known = ", ".join(a.name for a in adapters())
    raise KeyError(f"no source called {name!r} (known: {known})")


def recognise(src: SourceFile) -> tuple[SourceAdapter, str] | None:
    """The first source that recognises ``src``, with the family it says, or None."""
    for a in adapters():
        family = a.recognise(src)
        if family is not None:
            return a, family
    return None
