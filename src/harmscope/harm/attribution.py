"""Drug-attributable fractions: how much of each event type's harm drugs caused.

A weighted crime is harm; how much of it drugs caused is a second, separate question (DESIGN
§3). For each event type the attribution file gives, per drug source of the UKDPC matrix
(``use``, ``production``, ``distribution``, ``control``), the share of the type's harm
attributable to it, as a range (``low``, ``central``, ``high``) with its citations and a flag
saying whether the number is read off a source or is a judgement derived from it. The
remainder, ``1 - sum(central)``, is **not drug-attributed**.

The default, ``harm/data/attribution.toml``, is drawn from published UK estimates (Home Office
and NTA figures on acquisitive crime by heroin and crack users, the Homicide Index, the
Review of Drugs, the Bennett-Holloway-Farrington meta-analysis, stop-and-search statistics).
It is data: a force copies it, changes the numbers and passes its path.

References
----------
Black, C. (2020). *Review of drugs: summary*. London: Home Office.

Bennett, T., Holloway, K. & Farrington, D. (2008). The statistical association between drug
misuse and crime: a meta-analysis. *Aggression and Violent Behavior* 13(2), 107-118.

Office for National Statistics (2024). *Measuring drug-related homicide: methodology*.
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
    "DEFAULT_ATTRIBUTION_PATH",
    "DRUG_SOURCES",
    "NOT_ATTRIBUTED",
    "Attribution",
    "Fraction",
    "TypeAttribution",
    "default_attribution",
    "load_attribution",
]

#: Path of the packaged default attribution file.
DEFAULT_ATTRIBUTION_PATH = Path(
    str(resources.files("harmscope.harm") / "data" / "attribution.toml")
)

#: The drug sources of the UKDPC matrix (DESIGN §2), in axis order.
DRUG_SOURCES = ("use", "production", "distribution", "control")

#: Source id of the harm not attributed to drugs (the remainder of each event type).
NOT_ATTRIBUTED = "not_attributed"

#: Tolerance on "central shares sum to at most 1" (rounded decimals in TOML).
SUM_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Fraction:
    """Share of one event type's harm attributable to one drug source.

    Attributes
    ----------
    source : str
        One of :data:`DRUG_SOURCES`.
    low, central, high : float
        The share (dimensionless, 0 to 1): ``0 <= low <= central <= high <= 1``.
    refs : tuple of str
        Keys of the file's ``[references]`` the number rests on.
    judgement : bool
        True when the number is a judgement derived from the references rather than read
        off them.
    basis : str
        How the number follows from the references.
    """

    source: str
    low: float
    central: float
    high: float
    refs: tuple[str, ...]
    judgement: bool
    basis: str


@dataclass(frozen=True)
class TypeAttribution:
    """All fractions of one event type, with the drug total and the remainder.

    Attributes
    ----------
    event_type : str
    fractions : dict of str to Fraction
        By source, in :data:`DRUG_SOURCES` order; sources not listed are 0.
    """

    event_type: str
    fractions: dict[str, Fraction]

    def get(self, source: str) -> Fraction | None:
        """The fraction for ``source`` (None when the file gives none: a share of 0)."""
        return self.fractions.get(source)

    @property
    def drug(self) -> tuple[float, float, float]:
        """Drug-attributed share ``(low, central, high)``, summed over sources, capped at 1.

        The bounds put every source at its own bound at once (fully correlated errors),
        which gives the widest interval and assumes no independence between sources.
        """
        low = math.fsum(f.low for f in self.fractions.values())
        central = math.fsum(f.central for f in self.fractions.values())
        high = math.fsum(f.high for f in self.fractions.values())
        return (min(low, 1.0), min(central, 1.0), min(high, 1.0))

    @property
    def not_attributed(self) -> tuple[float, float, float]:
        """Share not attributed to drugs ``(low, central, high)``: one minus :attr:`drug`."""
        low, central, high = self.drug
        return (max(0.0, 1.0 - high), max(0.0, 1.0 - central), max(0.0, 1.0 - low))


@dataclass(frozen=True)
class Attribution:
    """A validated attribution file.

    Attributes
    ----------
    name, title, citation : str
        Identification and what the file as a whole rests on.
    path : Path
        File it was loaded from.
    references : dict of str to str
        Citation key to full citation.
    types : dict of str to TypeAttribution
        Event type to its fractions, in file order.
    """

    name: str
    title: str
    citation: str
    path: Path
    references: dict[str, str]
    types: dict[str, TypeAttribution]

    @property
    def event_types(self) -> tuple[str, ...]:
        """Event types with fractions, in file order."""
        return tuple(self.types)

    def for_type(self, event_type: str) -> TypeAttribution:
        """Fractions of ``event_type``; :class:`SchemeError` naming the file when absent."""
        try:
            return self.types[event_type]
        except KeyError:
            raise SchemeError(
                f"{self.path}: fractions.{event_type!r}: no attributable fractions for event "
                f'type {event_type!r} (add a [fractions."{event_type}".<source>] table; '
                'an empty table [fractions."..."] says none of it is drug-attributed)'
            ) from None


def _fail(path: Path, key: str, message: str) -> SchemeError:
    return SchemeError(f"{path}: {key}: {message}")


def _check_keys(path: Path, table: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise _fail(
            path, f"{where}.{unknown[0]}", f"unknown key (allowed: {', '.join(sorted(allowed))})"
        )


def _text(path: Path, table: dict[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, f"{where}.{key}", f"expected a non-empty string, got {value!r}")
    return value.strip()


def _share(path: Path, table: dict[str, Any], key: str, where: str) -> float:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(path, f"{where}.{key}", f"expected a number in [0, 1], got {value!r}")
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise _fail(path, f"{where}.{key}", f"expected a number in [0, 1], got {value!r}")
    return float(value)


def _fraction(
    path: Path, raw: Any, source: str, where: str, references: dict[str, str]
) -> Fraction:
    if not isinstance(raw, dict):
        raise _fail(path, where, "expected a table (low, central, high, refs, judgement, basis)")
    _check_keys(path, raw, {"low", "central", "high", "refs", "judgement", "basis"}, where)
    low = _share(path, raw, "low", where)
    central = _share(path, raw, "central", where)
    high = _share(path, raw, "high", where)
    if not low <= central <= high:
        raise _fail(
            path,
            where,
            f"expected low <= central <= high, got low={low:g}, central={central:g}, high={high:g}",
        )
    refs = raw.get("refs")
    if not isinstance(refs, list) or not refs or not all(isinstance(r, str) for r in refs):
        raise _fail(path, f"{where}.refs", f"expected a non-empty list of keys, got {refs!r}")
    for r in refs:
        if r not in references:
            raise _fail(
                path, f"{where}.refs", f"unknown reference {r!r} (add it under [references])"
            )
    judgement = raw.get("judgement")
    if not isinstance(judgement, bool):
        raise _fail(
            path,
            f"{where}.judgement",
            f"expected true (a judgement derived from the refs) or false (read off them), "
            f"got {judgement!r}",
        )
    return Fraction(
        source=source,
        low=low,
        central=central,
        high=high,
        refs=tuple(refs),
        judgement=judgement,
        basis=_text(path, raw, "basis", where),
    )


def _types(
    path: Path, doc: dict[str, Any], references: dict[str, str]
) -> dict[str, TypeAttribution]:
    raw = doc.get("fractions")
    if not isinstance(raw, dict) or not raw:
        raise _fail(path, "fractions", 'missing: expected [fractions."<event type>".<source>]')
    out: dict[str, TypeAttribution] = {}
    for event_type, by_source in raw.items():
        where = f"fractions.{event_type}"
        if not isinstance(by_source, dict):
            raise _fail(path, where, "expected a table of sources")
        _check_keys(path, by_source, set(DRUG_SOURCES), where)
        fractions = {
            s: _fraction(path, by_source[s], s, f"{where}.{s}", references)
            for s in DRUG_SOURCES
            if s in by_source
        }
        total = math.fsum(f.central for f in fractions.values())
        if total > 1.0 + SUM_TOLERANCE:
            raise _fail(
                path,
                where,
                f"central shares of the drug sources sum to {total:g}, expected at most 1 "
                "(the rest is not drug-attributed)",
            )
        out[event_type] = TypeAttribution(event_type=event_type, fractions=fractions)
    return out


def load_attribution(path: str | os.PathLike[str] | None = None) -> Attribution:
    """Load and validate an attribution TOML file.

    Parameters
    ----------
    path : str or path-like, optional
        TOML file; the packaged default (:data:`DEFAULT_ATTRIBUTION_PATH`) when omitted.

    Returns
    -------
    Attribution

    Raises
    ------
    SchemeError
        The file is missing or not TOML, or a key is missing, unknown or inconsistent: a
        share outside [0, 1], ``low > central`` or ``central > high``, central shares of one
        type summing above 1, an unknown source or reference key, a missing citation or
        basis. The message names the file and the key (e.g.
        ``force.toml: fractions.Burglary.use.low: expected a number in [0, 1], got 1.5``).
    """
    p = DEFAULT_ATTRIBUTION_PATH if path is None else Path(path)
    try:
        with p.open("rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError:
        raise SchemeError(f"{p}: attribution file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise SchemeError(f"{p}: not valid TOML: {exc}") from None
    _check_keys(p, doc, {"attribution", "references", "fractions"}, "<root>")
    head = doc.get("attribution")
    if not isinstance(head, dict):
        raise _fail(p, "attribution", "missing [attribution] table (name, title, citation)")
    _check_keys(p, head, {"name", "title", "citation"}, "attribution")
    refs_raw = doc.get("references")
    if not isinstance(refs_raw, dict) or not refs_raw:
        raise _fail(p, "references", 'missing: expected [references] key = "full citation"')
    references = {k: _text(p, refs_raw, k, "references") for k in refs_raw}
    return Attribution(
        name=_text(p, head, "name", "attribution"),
        title=str(head.get("title", "")).strip(),
        citation=_text(p, head, "citation", "attribution"),
        path=p,
        references=references,
        types=_types(p, doc, references),
    )


@lru_cache(maxsize=1)
def default_attribution() -> Attribution:
    """The packaged default attribution (loaded once)."""
    return load_attribution(None)
