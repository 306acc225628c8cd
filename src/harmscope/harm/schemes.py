"""Weight schemes: how an event becomes harm (or activity).

A scheme is a TOML file that gives every event type it knows a non-negative ``weight``, a
``kind`` — ``harm`` (it hurts a bearer) or ``activity`` (it measures police work,
"busyness": reported beside harm, never added to it) — and a ``citation`` for the weight.
Two schemes are packaged:

``cchi``
    Cambridge Crime Harm Index weights per police.uk crime type, in days of imprisonment,
    derived by :mod:`harmscope.harm.build_cchi` (Sherman, Neyroud & Neyroud 2016).
``count``
    Every event 1: the "busyness" baseline, with the same kinds as ``cchi``.

A user scheme is any TOML file path, or a name found as ``NAME.toml`` in one of the
directories listed in the environment variable ``HARMSCOPE_SCHEMES`` (separated by
``os.pathsep``). Packaged names take precedence over user directories. Names are
case-insensitive (``CCHI`` is ``cchi``).

File format::

    [scheme]
    name = "cchi"                      # optional, defaults to the file stem
    title = "..."                      # optional
    unit = "days of imprisonment"      # required
    citation = "..."                   # required: the scheme as a whole
    description = "..."                # optional
    generated_by = "..."               # optional

    [[weight]]
    event_type = "Robbery"             # required, unique (case-insensitive)
    weight = 365.0                     # required, finite number >= 0
    kind = "harm"                      # required: harm | activity
    citation = "..."                   # required: where this number comes from
    assumption = false                 # optional: true when the weight is a stated assumption
    note = "..."                       # optional
    derivation = "..."                 # optional: how the number was computed

References
----------
Sherman, L. W., Neyroud, P. W. & Neyroud, E. (2016). The Cambridge Crime Harm Index:
measuring total harm from crime based on sentencing guidelines. *Policing* 10(3), 171-183.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from harmscope.errors import SchemeError

__all__ = [
    "BUILTIN_SCHEMES_DIR",
    "KINDS",
    "SCHEMES_ENV",
    "Scheme",
    "Weight",
    "available_schemes",
    "load_scheme",
    "parse_scheme",
    "scheme_name",
]

Kind = Literal["harm", "activity"]

#: The two kinds of event.
KINDS: tuple[str, ...] = ("harm", "activity")

#: Environment variable listing user scheme directories (``os.pathsep``-separated).
SCHEMES_ENV = "HARMSCOPE_SCHEMES"

#: Directory of the packaged schemes.
BUILTIN_SCHEMES_DIR = Path(str(resources.files("harmscope.harm") / "data" / "schemes"))

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SCHEME_KEYS = {"name", "title", "unit", "citation", "description", "generated_by"}
_WEIGHT_KEYS = {"event_type", "weight", "kind", "citation", "assumption", "note", "derivation"}


@dataclass(frozen=True)
class Weight:
    """The weight of one event type.

    Attributes
    ----------
    event_type : str
        police.uk crime type (or ``"Stop and search"``, or a force's own type).
    weight : float
        Value of one event, in the scheme's unit (``cchi``: days of imprisonment).
    kind : {'harm', 'activity'}
        ``harm`` is added to the harm total; ``activity`` is reported beside it.
    citation : str
        Source of the number.
    assumption : bool
        True when the weight is a stated assumption rather than a published value.
    note, derivation : str
        Free text; ``derivation`` says how a derived number was computed.
    """

    event_type: str
    weight: float
    kind: Kind
    citation: str
    assumption: bool = False
    note: str = ""
    derivation: str = ""


@dataclass(frozen=True)
class Scheme:
    """A validated weight scheme.

    Attributes
    ----------
    name : str
        Scheme name (``[scheme] name`` or the file stem).
    unit : str
        Unit of the weights (e.g. ``"days of imprisonment"``, ``"events"``).
    citation : str
        Source of the scheme as a whole.
    weights : tuple of Weight
        One per event type, in file order.
    path : Path or None
        File it was loaded from.
    title, description : str
        Free text.
    """

    name: str
    unit: str
    citation: str
    weights: tuple[Weight, ...]
    path: Path | None = None
    title: str = ""
    description: str = ""

    @property
    def event_types(self) -> tuple[str, ...]:
        """Event types the scheme weights, in file order."""
        return tuple(w.event_type for w in self.weights)

    def get(self, event_type: str) -> Weight:
        """The :class:`Weight` of ``event_type`` (KeyError when the scheme does not know it)."""
        for w in self.weights:
            if w.event_type == event_type:
                return w
        raise KeyError(event_type)

    def to_frame(self) -> pd.DataFrame:
        """``event_type`` (str), ``weight`` (float64), ``kind`` (str): one row per type."""
        return pd.DataFrame(
            {
                "event_type": pd.Series([w.event_type for w in self.weights], dtype=object),
                "weight": pd.Series([w.weight for w in self.weights], dtype="float64"),
                "kind": pd.Series([w.kind for w in self.weights], dtype=object),
            }
        )


def _fail(where: str, key: str, message: str) -> SchemeError:
    return SchemeError(f"{where}: {key}: {message}")


def _text(where: str, table: dict[str, Any], key: str, ctx: str, *, required: bool) -> str:
    value = table.get(key)
    if value is None:
        if required:
            raise _fail(where, f"{ctx}.{key}", "missing (expected a non-empty string)")
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise _fail(where, f"{ctx}.{key}", f"expected a non-empty string, got {value!r}")
    return value.strip()


def parse_scheme(doc: dict[str, Any], *, where: str, default_name: str) -> Scheme:
    """Validate a parsed scheme document and build a :class:`Scheme`.

    Parameters
    ----------
    doc : dict
        The TOML document as parsed by :mod:`tomllib`.
    where : str
        File name used in error messages.
    default_name : str
        Name used when ``[scheme] name`` is absent (the file stem).

    Raises
    ------
    SchemeError
        A missing citation or unit, an unknown kind, a negative, non-finite or non-numeric
        weight, a duplicate event type, or an unknown key. The message names the file and
        the key.
    """
    unknown = sorted(set(doc) - {"scheme", "weight"})
    if unknown:
        raise _fail(where, unknown[0], "unknown top-level key (expected [scheme] and [[weight]])")
    head = doc.get("scheme")
    if not isinstance(head, dict):
        raise _fail(where, "scheme", "missing [scheme] table (unit, citation)")
    bad = sorted(set(head) - _SCHEME_KEYS)
    if bad:
        raise _fail(
            where, f"scheme.{bad[0]}", f"unknown key (allowed: {', '.join(sorted(_SCHEME_KEYS))})"
        )
    name = _text(where, head, "name", "scheme", required=False) or default_name
    if not _NAME_RE.match(name):
        raise _fail(
            where, "scheme.name", f"{name!r} is not a valid scheme name (letters, digits, _.-)"
        )
    raw = doc.get("weight")
    if not isinstance(raw, list) or not raw:
        raise _fail(where, "weight", "missing: expected [[weight]] entries")
    weights: list[Weight] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(raw):
        ctx = f"weight[{i}]"
        if not isinstance(entry, dict):
            raise _fail(where, ctx, "expected a table")
        event_type = _text(where, entry, "event_type", ctx, required=True)
        ctx = f"weight[{i}] ({event_type})"
        bad = sorted(set(entry) - _WEIGHT_KEYS)
        if bad:
            raise _fail(
                where,
                f"{ctx}.{bad[0]}",
                f"unknown key (allowed: {', '.join(sorted(_WEIGHT_KEYS))})",
            )
        folded = event_type.casefold()
        if folded in seen:
            raise _fail(
                where,
                f"{ctx}.event_type",
                f"duplicate event type {event_type!r} (also weight[{seen[folded]}])",
            )
        seen[folded] = i
        value = entry.get("weight")
        if value is None:
            raise _fail(where, f"{ctx}.weight", "missing (expected a number >= 0)")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(where, f"{ctx}.weight", f"expected a number >= 0, got {value!r}")
        if not math.isfinite(value) or value < 0:
            raise _fail(where, f"{ctx}.weight", f"expected a finite number >= 0, got {value!r}")
        kind = entry.get("kind")
        if kind is None:
            raise _fail(where, f"{ctx}.kind", "missing (expected 'harm' or 'activity')")
        if kind not in KINDS:
            raise _fail(
                where, f"{ctx}.kind", f"unknown kind {kind!r} (expected 'harm' or 'activity')"
            )
        assumption = entry.get("assumption", False)
        if not isinstance(assumption, bool):
            raise _fail(where, f"{ctx}.assumption", f"expected true or false, got {assumption!r}")
        weights.append(
            Weight(
                event_type=event_type,
                weight=float(value),
                kind=kind,
                citation=_text(where, entry, "citation", ctx, required=True),
                assumption=assumption,
                note=_text(where, entry, "note", ctx, required=False),
                derivation=_text(where, entry, "derivation", ctx, required=False),
            )
        )
    return Scheme(
        name=name,
        unit=_text(where, head, "unit", "scheme", required=True),
        citation=_text(where, head, "citation", "scheme", required=True),
        weights=tuple(weights),
        title=_text(where, head, "title", "scheme", required=False),
        description=_text(where, head, "description", "scheme", required=False),
    )


def _load_file(path: Path) -> Scheme:
    try:
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError:
        raise SchemeError(f"{path}: scheme file not found") from None
    except IsADirectoryError:
        raise SchemeError(f"{path}: is a directory, expected a scheme TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise SchemeError(f"{path}: not valid TOML: {exc}") from None
    scheme = parse_scheme(doc, where=str(path), default_name=path.stem)
    return Scheme(
        name=scheme.name,
        unit=scheme.unit,
        citation=scheme.citation,
        weights=scheme.weights,
        path=path,
        title=scheme.title,
        description=scheme.description,
    )


def _user_dirs() -> list[Path]:
    raw = os.environ.get(SCHEMES_ENV, "")
    return [Path(p) for p in raw.split(os.pathsep) if p.strip()]


def available_schemes() -> dict[str, Path]:
    """Names of the schemes :func:`load_scheme` can find by name, and their files.

    Packaged schemes come first; then ``*.toml`` files in the ``HARMSCOPE_SCHEMES``
    directories, in order. A user file whose stem is already taken (ignoring case: names are
    case-insensitive, :func:`scheme_name`) is shadowed.
    Files are listed, not validated: loading one can still raise :class:`SchemeError`.

    Returns
    -------
    dict of str to Path
    """
    found: dict[str, Path] = {}
    taken: set[str] = set()
    for directory in [BUILTIN_SCHEMES_DIR, *_user_dirs()]:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.toml")):
            if path.stem.casefold() not in taken:
                taken.add(path.stem.casefold())
                found[path.stem] = path
    return found


def load_scheme(name_or_path: str | os.PathLike[str] | Scheme) -> Scheme:
    """Load and validate a weight scheme.

    Parameters
    ----------
    name_or_path : str, path-like or Scheme
        A packaged name (``"cchi"``, ``"count"``; case-insensitive, :func:`scheme_name`), a
        name found in a ``HARMSCOPE_SCHEMES`` directory, or the path of a TOML file (anything ending ``.toml`` or containing a
        path separator is a path). A :class:`Scheme` is returned unchanged.

    Returns
    -------
    Scheme

    Raises
    ------
    SchemeError
        Unknown name, missing file, or an invalid file (see :func:`parse_scheme`).

    Examples
    --------
    >>> load_scheme("cchi").get("Robbery").weight
    365.0
    """
    if isinstance(name_or_path, Scheme):
        return name_or_path
    if isinstance(name_or_path, os.PathLike):
        return _load_file(Path(name_or_path))
    text = str(name_or_path).strip()
    if not text:
        raise SchemeError("scheme: empty name (expected a scheme name or a TOML path)")
    if text.endswith(".toml") or "/" in text or os.sep in text:
        return _load_file(Path(text))
    available = available_schemes()
    return _load_file(available[scheme_name(text, available)])


def scheme_name(text: str, available: dict[str, Path] | None = None) -> str:
    """The name of the scheme *text* asks for, matched case-insensitively (``CCHI`` → ``cchi``).

    An exact match wins; otherwise the one name equal to *text* ignoring case. Analysts type
    scheme names as they read them in a report ("CCHI"), so the case of a name never matters.

    Parameters
    ----------
    text : str
        A scheme name (not a path).
    available : dict of str to Path, optional
        The names to match (default :func:`available_schemes`).

    Returns
    -------
    str
        The name as :func:`available_schemes` spells it.

    Raises
    ------
    SchemeError
        No name matches (the message lists the valid ones).
    """
    if available is None:
        available = available_schemes()
    wanted = text.strip()
    if wanted in available:
        return wanted
    matches = [name for name in available if name.casefold() == wanted.casefold()]
    if matches:  # available_schemes keeps one file per name ignoring case
        return matches[0]
    names = ", ".join(available) or "none"
    raise SchemeError(
        f"scheme {text!r}: unknown name (available: {names}; or give a TOML path, or add "
        f"a directory to {SCHEMES_ENV})"
    )
