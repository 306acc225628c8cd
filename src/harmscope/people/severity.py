"""The behaviour severity table: what a graded intelligence report of a behaviour is worth.

The table is data (``people/data/behaviours.toml``), not code, so a force sets its own
values: per behaviour a label, a severity grade (Greenfield & Paoli 2013), the CCHI days one
substantiated report adds (an analyst's assessment anchored on the CCHI days of the nearest
offence, each with its ``anchor``), the harm-matrix cell it lands in, the words reports use
for it (``aliases``) and the police.uk crime types of linked offences counted under it. The
3x5x2 grading weights and the role weights of crime-person links sit beside it.

References
----------
Sherman, L. W., Neyroud, P. W. & Neyroud, E. (2016). The Cambridge Crime Harm Index.
    *Policing* 10(3), 171-183.
Greenfield, V. A. & Paoli, L. (2013). A framework to assess the harms of crimes. *British
    Journal of Criminology* 53(5), 864-885.
College of Policing (2016). *Intelligence management: the 3x5x2 intelligence grading system*.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from harmscope.errors import SchemeError

__all__ = ["OTHER", "Behaviour", "SeverityTable", "default_severity", "load_severity"]

#: Behaviour id of linked offences whose crime type no behaviour claims.
OTHER = "other"

_SEVERITY = ("marginal", "moderate", "serious", "grave", "catastrophic")
_FIELDS = ("label", "severity", "days", "harm_type", "bearer", "source", "anchor")


@dataclass(frozen=True)
class Behaviour:
    """One row of the table (see ``behaviours.toml`` for the meaning of each field)."""

    id: str
    label: str
    severity: str
    days: float
    """CCHI days one substantiated report adds (scheme unit)."""
    harm_type: str
    bearer: str
    source: str
    anchor: str
    aliases: tuple[str, ...]
    offences: tuple[str, ...]


@dataclass(frozen=True)
class SeverityTable:
    """The behaviours, the 3x5x2 grading weights and the role weights."""

    path: str
    behaviours: dict[str, Behaviour]
    source_evaluation: dict[str, float]
    """Weight 0-1 of the 3x5x2 source evaluation A, B, C."""
    intelligence_assessment: dict[str, float]
    """Weight 0-1 of the 3x5x2 intelligence assessment 1-5."""
    roles: dict[str, float]
    """Confidence 0-1 of a crime-person link by role (offender, suspect)."""
    citation: str = ""

    def behaviour_of_report(self, words: str) -> str | None:
        """Behaviour id a report's ``behaviour`` value means (case-blind alias), or None."""
        key = words.strip().lower()
        for b in self.behaviours.values():
            if key == b.id or key in (a.lower() for a in b.aliases):
                return b.id
        return None

    def behaviour_of_offence(self, crime_type: str) -> str:
        """Behaviour id a linked offence of *crime_type* counts under (:data:`OTHER` if none)."""
        for b in self.behaviours.values():
            if crime_type in b.offences:
                return b.id
        return OTHER


def _fail(path: str, where: str, what: str) -> SchemeError:
    return SchemeError(f"{path}, {where}: {what}")


def _weights(path: str, raw: Any, name: str, keys: tuple[str, ...]) -> dict[str, float]:
    if not isinstance(raw, dict) or set(map(str, raw)) != set(keys):
        raise _fail(path, name, f"expected weights for exactly {', '.join(keys)}; found {raw!r}")
    out = {str(k): float(v) for k, v in raw.items()}
    bad = [k for k, v in out.items() if not 0.0 <= v <= 1.0]
    if bad:
        raise _fail(path, f"{name}.{bad[0]}", f"expected a weight in 0-1; found {out[bad[0]]}")
    return out


def load_severity(path: str | os.PathLike[str]) -> SeverityTable:
    """Read and check a behaviour severity table (TOML).

    Raises
    ------
    SchemeError
        Not TOML, or a behaviour or weight missing, of the wrong type or out of range (the
        message names the file and the key).
    """
    p = str(path)
    try:
        doc = tomllib.loads(Path(p).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SchemeError(f"{p}: not a readable TOML severity table ({exc})") from exc
    raw = doc.get("behaviours")
    if not isinstance(raw, dict) or not raw:
        raise _fail(p, "[behaviours]", "expected at least one [behaviours.<id>] table")
    behaviours: dict[str, Behaviour] = {}
    for bid, row in raw.items():
        where = f"[behaviours.{bid}]"
        missing = [f for f in _FIELDS if f not in row]
        if missing:
            raise _fail(p, where, f"missing {', '.join(missing)}")
        if row["severity"] not in _SEVERITY:
            raise _fail(
                p, f"{where} severity", f"expected one of {_SEVERITY}; found {row['severity']!r}"
            )
        days = row["days"]
        if not isinstance(days, int | float) or isinstance(days, bool) or days < 0:
            raise _fail(p, f"{where} days", f"expected days >= 0; found {days!r}")
        behaviours[bid] = Behaviour(
            id=bid,
            label=str(row["label"]),
            severity=str(row["severity"]),
            days=float(days),
            harm_type=str(row["harm_type"]),
            bearer=str(row["bearer"]),
            source=str(row["source"]),
            anchor=str(row["anchor"]),
            aliases=tuple(str(a) for a in row.get("aliases", [])),
            offences=tuple(str(o) for o in row.get("offences", [])),
        )
    if OTHER not in behaviours:
        raise _fail(
            p, f"[behaviours.{OTHER}]", "missing: linked offences of no other behaviour land here"
        )
    grading = doc.get("grading", {})
    return SeverityTable(
        path=p,
        behaviours=behaviours,
        source_evaluation=_weights(
            p, grading.get("source_evaluation"), "[grading] source_evaluation", ("A", "B", "C")
        ),
        intelligence_assessment=_weights(
            p,
            grading.get("intelligence_assessment"),
            "[grading] intelligence_assessment",
            ("1", "2", "3", "4", "5"),
        ),
        roles=_weights(p, doc.get("roles"), "[roles]", ("offender", "suspect")),
        citation=str(doc.get("meta", {}).get("citation", "")),
    )


def default_severity() -> SeverityTable:
    """The packaged table (``harmscope/people/data/behaviours.toml``)."""
    ref = resources.files("harmscope.people").joinpath("data/behaviours.toml")
    with resources.as_file(ref) as path:
        return load_severity(path)
