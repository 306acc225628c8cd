"""Harm taxonomy: the axes of the UKDPC harm matrix and where each event type lands in it.

The taxonomy is data (TOML), not code. The default, ``harm/data/taxonomy.toml``, holds the
axes of DESIGN §2 — harm types (health, economic, social/structural, environmental) with
finer categories, bearers (individuals, families, communities, society) with sub-bearers,
and sources (use, production, distribution, control) — and a mapping from each police.uk
event type to one or more matrix cells with a share and a one-line rationale. A force can
copy the file, localise it, and pass its own path to :func:`load_taxonomy`.

References
----------
UK Drug Policy Commission (2009). *Refocusing drug-related law enforcement to address
harms*. London: UKDPC.

Greenfield, V. A. & Paoli, L. (2013). A framework to assess the harms of crimes. *British
Journal of Criminology* 53(5), 864-885.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from harmscope.errors import SchemeError

__all__ = [
    "DEFAULT_TAXONOMY_PATH",
    "Axis",
    "AxisValue",
    "CellShare",
    "Taxonomy",
    "default_taxonomy",
    "load_taxonomy",
]

#: Path of the packaged default taxonomy.
DEFAULT_TAXONOMY_PATH = Path(str(resources.files("harmscope.harm") / "data" / "taxonomy.toml"))

#: Tolerance on the sum of the shares of one event type.
SHARE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class AxisValue:
    """One value of a matrix axis (a harm type, a bearer or a source).

    Attributes
    ----------
    id : str
        Identifier used in matrix cells (e.g. ``"social"``).
    label : str
        Human label (e.g. ``"Social/structural"``).
    description : str
        What the value covers.
    children : dict of str to str
        Finer categories (harm types) or sub-bearers (bearers), id to description; empty
        for sources.
    """

    id: str
    label: str
    description: str
    children: dict[str, str]


@dataclass(frozen=True)
class Axis:
    """An ordered axis of the harm matrix."""

    name: str
    values: tuple[AxisValue, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        """Value ids in file order."""
        return tuple(v.id for v in self.values)

    def get(self, id_: str) -> AxisValue:
        """Return the value with id ``id_`` (KeyError when absent)."""
        for v in self.values:
            if v.id == id_:
                return v
        raise KeyError(id_)


@dataclass(frozen=True)
class CellShare:
    """Share of an event type's weighted value that lands in one matrix cell.

    Attributes
    ----------
    harm_type, bearer, source : str
        The matrix cell (axis value ids).
    category : str
        Finer harm category under ``harm_type``.
    sub_bearer : str or None
        Sub-bearer under ``bearer``, when the mapping names one.
    share : float
        Fraction in (0, 1]; the shares of one event type sum to 1.
    rationale : str
        One line: why the event type lands here.
    """

    harm_type: str
    bearer: str
    source: str
    category: str
    sub_bearer: str | None
    share: float
    rationale: str

    @property
    def cell(self) -> tuple[str, str, str]:
        """``(harm_type, bearer, source)``."""
        return (self.harm_type, self.bearer, self.source)


@dataclass(frozen=True)
class Taxonomy:
    """A validated harm taxonomy.

    Attributes
    ----------
    name, title, citation : str
        Identification and the source of the axes.
    path : Path
        File it was loaded from.
    harm_types, bearers, sources : Axis
        The three axes of the matrix, in file order.
    mapping : dict of str to tuple of CellShare
        Event type to the cells its weighted value is spread over.
    """

    name: str
    title: str
    citation: str
    path: Path
    harm_types: Axis
    bearers: Axis
    sources: Axis
    mapping: dict[str, tuple[CellShare, ...]]

    @property
    def event_types(self) -> tuple[str, ...]:
        """Mapped event types, in file order."""
        return tuple(self.mapping)

    def cells_for(self, event_type: str) -> tuple[CellShare, ...]:
        """Cells of ``event_type``; :class:`SchemeError` when the taxonomy does not map it."""
        try:
            return self.mapping[event_type]
        except KeyError:
            raise SchemeError(
                f"{self.path}: no [[mapping]] for event type {event_type!r}"
            ) from None

    def cell_order(self, cell: tuple[str, str, str]) -> tuple[int, int, int]:
        """Sort key of a cell in axis order (harm type, bearer, source)."""
        return (
            self.harm_types.ids.index(cell[0]),
            self.bearers.ids.index(cell[1]),
            self.sources.ids.index(cell[2]),
        )


def _fail(path: Path, key: str, message: str) -> SchemeError:
    return SchemeError(f"{path}: {key}: {message}")


def _string(
    path: Path, table: dict[str, Any], key: str, where: str, *, required: bool = True
) -> str:
    value = table.get(key)
    if value is None:
        if required:
            raise _fail(path, f"{where}.{key}", "missing (expected a non-empty string)")
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise _fail(path, f"{where}.{key}", f"expected a non-empty string, got {value!r}")
    return value.strip()


def _check_keys(path: Path, table: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise _fail(
            path, f"{where}.{unknown[0]}", f"unknown key (allowed: {', '.join(sorted(allowed))})"
        )


def _axis(path: Path, doc: dict[str, Any], name: str, children_key: str | None) -> Axis:
    table = doc.get(name)
    if not isinstance(table, dict) or not table:
        raise _fail(path, name, "missing or empty axis table")
    values = []
    for id_, entry in table.items():
        where = f"{name}.{id_}"
        if not isinstance(entry, dict):
            raise _fail(path, where, "expected a table")
        allowed = {"label", "description"} | ({children_key} if children_key else set())
        _check_keys(path, entry, allowed, where)
        children: dict[str, str] = {}
        if children_key is not None:
            raw = entry.get(children_key, {})
            if not isinstance(raw, dict):
                raise _fail(path, f"{where}.{children_key}", "expected a table of id = description")
            for cid, desc in raw.items():
                if not isinstance(desc, str) or not desc.strip():
                    raise _fail(
                        path, f"{where}.{children_key}.{cid}", "expected a non-empty description"
                    )
                children[cid] = desc.strip()
        values.append(
            AxisValue(
                id=id_,
                label=_string(path, entry, "label", where),
                description=_string(path, entry, "description", where, required=False),
                children=children,
            )
        )
    return Axis(name=name, values=tuple(values))


def _mapping(
    path: Path, doc: dict[str, Any], harm_types: Axis, bearers: Axis, sources: Axis
) -> dict[str, tuple[CellShare, ...]]:
    raw = doc.get("mapping")
    if not isinstance(raw, list) or not raw:
        raise _fail(path, "mapping", "missing: expected [[mapping]] entries")
    out: dict[str, tuple[CellShare, ...]] = {}
    for i, entry in enumerate(raw):
        where = f"mapping[{i}]"
        if not isinstance(entry, dict):
            raise _fail(path, where, "expected a table")
        _check_keys(path, entry, {"event_type", "cell"}, where)
        event_type = _string(path, entry, "event_type", where)
        where = f"mapping[{i}] ({event_type})"
        if event_type in out:
            raise _fail(path, where, f"duplicate event type {event_type!r}")
        cells_raw = entry.get("cell")
        if not isinstance(cells_raw, list) or not cells_raw:
            raise _fail(path, f"{where}.cell", "missing: expected at least one [[mapping.cell]]")
        cells = []
        seen: set[tuple[str, str, str, str, str | None]] = set()
        for j, c in enumerate(cells_raw):
            cw = f"{where}.cell[{j}]"
            if not isinstance(c, dict):
                raise _fail(path, cw, "expected a table")
            _check_keys(
                path,
                c,
                {"harm_type", "category", "bearer", "sub_bearer", "source", "share", "rationale"},
                cw,
            )
            harm_type = _string(path, c, "harm_type", cw)
            bearer = _string(path, c, "bearer", cw)
            source = _string(path, c, "source", cw)
            category = _string(path, c, "category", cw)
            sub_bearer = _string(path, c, "sub_bearer", cw, required=False) or None
            rationale = _string(path, c, "rationale", cw)
            for axis, value, key in (
                (harm_types, harm_type, "harm_type"),
                (bearers, bearer, "bearer"),
                (sources, source, "source"),
            ):
                if value not in axis.ids:
                    raise _fail(
                        path,
                        f"{cw}.{key}",
                        f"unknown {key} {value!r} (expected one of {', '.join(axis.ids)})",
                    )
            if category not in harm_types.get(harm_type).children:
                raise _fail(
                    path,
                    f"{cw}.category",
                    f"unknown category {category!r} under harm type {harm_type!r} (expected one "
                    f"of {', '.join(harm_types.get(harm_type).children)})",
                )
            if sub_bearer is not None and sub_bearer not in bearers.get(bearer).children:
                raise _fail(
                    path,
                    f"{cw}.sub_bearer",
                    f"unknown sub-bearer {sub_bearer!r} under bearer {bearer!r} (expected one "
                    f"of {', '.join(bearers.get(bearer).children)})",
                )
            share = c.get("share")
            if isinstance(share, bool) or not isinstance(share, int | float):
                raise _fail(path, f"{cw}.share", f"expected a number in (0, 1], got {share!r}")
            if not math.isfinite(share) or not 0 < share <= 1:
                raise _fail(path, f"{cw}.share", f"expected a number in (0, 1], got {share!r}")
            key4 = (harm_type, bearer, source, category, sub_bearer)
            if key4 in seen:
                raise _fail(path, cw, "the same cell, category and sub-bearer appear twice")
            seen.add(key4)
            cells.append(
                CellShare(
                    harm_type=harm_type,
                    bearer=bearer,
                    source=source,
                    category=category,
                    sub_bearer=sub_bearer,
                    share=float(share),
                    rationale=rationale,
                )
            )
        total = math.fsum(c.share for c in cells)
        if abs(total - 1.0) > SHARE_TOLERANCE:
            raise _fail(path, f"{where}.cell", f"shares sum to {total:g}, expected 1")
        out[event_type] = tuple(cells)
    return out


def load_taxonomy(path: str | os.PathLike[str] | None = None) -> Taxonomy:
    """Load and validate a harm taxonomy TOML file.

    Parameters
    ----------
    path : str or path-like, optional
        TOML file; the packaged default (:data:`DEFAULT_TAXONOMY_PATH`) when omitted.

    Returns
    -------
    Taxonomy

    Raises
    ------
    SchemeError
        The file is missing or not TOML, or a key is missing, unknown or inconsistent
        (unknown axis value or category, shares not summing to 1, duplicate event type).
        The message names the file and the key.
    """
    p = DEFAULT_TAXONOMY_PATH if path is None else Path(path)
    try:
        with p.open("rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError:
        raise SchemeError(f"{p}: taxonomy file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise SchemeError(f"{p}: not valid TOML: {exc}") from None
    _check_keys(p, doc, {"taxonomy", "harm_types", "bearers", "sources", "mapping"}, "<root>")
    head = doc.get("taxonomy")
    if not isinstance(head, dict):
        raise _fail(p, "taxonomy", "missing [taxonomy] table (name, title, citation)")
    _check_keys(p, head, {"name", "title", "citation"}, "taxonomy")
    harm_types = _axis(p, doc, "harm_types", "categories")
    for v in harm_types.values:
        if not v.children:
            raise _fail(p, f"harm_types.{v.id}.categories", "expected at least one category")
    bearers = _axis(p, doc, "bearers", "sub_bearers")
    sources = _axis(p, doc, "sources", None)
    return Taxonomy(
        name=_string(p, head, "name", "taxonomy"),
        title=_string(p, head, "title", "taxonomy", required=False),
        citation=_string(p, head, "citation", "taxonomy"),
        path=p,
        harm_types=harm_types,
        bearers=bearers,
        sources=sources,
        mapping=_mapping(p, doc, harm_types, bearers, sources),
    )


@lru_cache(maxsize=1)
def default_taxonomy() -> Taxonomy:
    """The packaged default taxonomy (loaded once)."""
    return load_taxonomy(None)
