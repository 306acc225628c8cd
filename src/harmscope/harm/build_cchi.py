"""Build the ``cchi`` weight scheme from CCHI subgroup medians and Home Office counts.

police.uk publishes 14 broad crime types; the Cambridge Crime Harm Index (CCHI) weights
offences much more finely. The weight of a police.uk type is the national volume-weighted
mean of the CCHI values of its offence subgroups::

    w(type) = sum_g days(g) * n(g) / sum_g n(g)

where ``g`` runs over the Home Office offence subgroups mapped to the type
(``CrimeCatMappings.csv.gz``: offence code -> subgroup -> police.uk type), ``n(g)`` is the
number of offences recorded in England and Wales in 2017/18 (``prc-pfa-201718_new.csv.gz``,
all four quarters, excluding Action Fraud and British Transport Police) and ``days(g)`` the
CCHI subgroup median in days of imprisonment (``harm/data/cchi_subgroups.toml``). Weights
are written rounded to 0.01 day. Types with no CCHI value (anti-social behaviour, stop and
search, the pre-2013 names) are written as stated in that file, flagged as assumptions.

Run::

    python -m harmscope.harm.build_cchi --data ../shared/data --out src/harmscope/harm/data/schemes/cchi.toml
    python -m harmscope.harm.build_cchi --data ../shared/data --check   # exit 1 if stale

``--data`` is the shared data folder or the ``ho-offence-mappings-and-prc_crime-sim-toolkit``
folder itself.

References
----------
Sherman, L. W., Neyroud, P. W. & Neyroud, E. (2016). The Cambridge Crime Harm Index:
measuring total harm from crime based on sentencing guidelines. *Policing* 10(3), 171-183.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from harmscope.errors import SchemeError
from harmscope.harm.schemes import BUILTIN_SCHEMES_DIR, KINDS, parse_scheme

__all__ = [
    "HO_FOLDER",
    "MAPPING_FILE",
    "PRC_FILE",
    "SUBGROUPS_PATH",
    "BuildConfig",
    "DerivedWeight",
    "build_scheme_text",
    "derive_category_weights",
    "load_build_config",
    "main",
]

#: Folder of the Home Office files inside the shared data folder.
HO_FOLDER = "ho-offence-mappings-and-prc_crime-sim-toolkit"
#: Offence code -> subgroup -> police.uk category map.
MAPPING_FILE = "CrimeCatMappings.csv.gz"
#: Police recorded crime by PFA, 2017/18, by quarter and offence code.
PRC_FILE = "prc-pfa-201718_new.csv.gz"
#: Subgroup medians and build settings.
SUBGROUPS_PATH = Path(str(resources.files("harmscope.harm") / "data" / "cchi_subgroups.toml"))
#: Where the packaged scheme lives.
DEFAULT_OUT = BUILTIN_SCHEMES_DIR / "cchi.toml"


@dataclass(frozen=True)
class Subgroup:
    """A CCHI subgroup: its median value and the Home Office subgroups it covers."""

    name: str
    days: float
    ho_subgroups: tuple[str, ...]


@dataclass(frozen=True)
class Category:
    """A police.uk crime type whose weight is derived, with its kind."""

    event_type: str
    kind: str
    note: str


@dataclass(frozen=True)
class Extra:
    """A type with no CCHI subgroup: a stated weight, or ``same_as`` another type."""

    event_type: str
    kind: str
    citation: str
    assumption: bool
    weight: float | None
    same_as: str | None


@dataclass(frozen=True)
class BuildConfig:
    """Contents of ``cchi_subgroups.toml``."""

    path: Path
    citation: str
    unit: str
    counts_citation: str
    exclude_forces: tuple[str, ...]
    exclude_forces_reason: str
    exclude_subgroups: tuple[str, ...]
    exclude_subgroups_reason: str
    subgroups: tuple[Subgroup, ...]
    categories: tuple[Category, ...]
    extras: tuple[Extra, ...]

    def days_by_ho_subgroup(self) -> dict[str, tuple[str, float]]:
        """Home Office subgroup name to (CCHI subgroup name, days)."""
        return {ho: (s.name, s.days) for s in self.subgroups for ho in s.ho_subgroups}


@dataclass(frozen=True)
class DerivedWeight:
    """The derived weight of one police.uk type.

    Attributes
    ----------
    event_type : str
        police.uk crime type.
    days : float
        Volume-weighted mean CCHI value, days of imprisonment (not rounded).
    offences : int
        Offences recorded in 2017/18 in the type (after exclusions).
    parts : tuple of (str, float, int)
        CCHI subgroup name, its days and its offences, in descending order of offences.
    """

    event_type: str
    days: float
    offences: int
    parts: tuple[tuple[str, float, int], ...]


def _req(
    path: Path, table: dict[str, Any], key: str, where: str, typ: type | tuple[type, ...]
) -> Any:
    value = table.get(key)
    if value is None or (isinstance(value, bool) and typ is not bool) or not isinstance(value, typ):
        raise SchemeError(f"{path}: {where}.{key}: missing or not a {typ}")
    return value


def load_build_config(path: str | Path | None = None) -> BuildConfig:
    """Read and validate the CCHI subgroup medians and build settings.

    Parameters
    ----------
    path : str or Path, optional
        TOML file; the packaged ``harm/data/cchi_subgroups.toml`` when omitted.

    Raises
    ------
    SchemeError
        Missing file or key, negative days, an unknown kind, or a Home Office subgroup
        listed under two CCHI subgroups. The message names the file and the key.
    """
    p = SUBGROUPS_PATH if path is None else Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SchemeError(f"{p}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise SchemeError(f"{p}: not valid TOML: {exc}") from None
    source = _req(p, doc, "source", "<root>", dict)
    build = _req(p, doc, "build", "<root>", dict)
    subgroups = []
    seen_ho: set[str] = set()
    for i, s in enumerate(_req(p, doc, "subgroup", "<root>", list)):
        where = f"subgroup[{i}]"
        days = _req(p, s, "days", where, (int, float))
        if not math.isfinite(days) or days < 0:
            raise SchemeError(f"{p}: {where}.days: expected a finite number >= 0, got {days!r}")
        ho = tuple(_req(p, s, "ho_subgroups", where, list))
        for name in ho:
            if name in seen_ho:
                raise SchemeError(f"{p}: {where}.ho_subgroups: {name!r} is listed twice")
            seen_ho.add(name)
        subgroups.append(Subgroup(_req(p, s, "name", where, str), float(days), ho))
    categories = []
    for i, c in enumerate(_req(p, doc, "category", "<root>", list)):
        where = f"category[{i}]"
        kind = _req(p, c, "kind", where, str)
        if kind not in KINDS:
            raise SchemeError(f"{p}: {where}.kind: unknown kind {kind!r}")
        categories.append(Category(_req(p, c, "event_type", where, str), kind, c.get("note", "")))
    extras = []
    for i, e in enumerate(doc.get("extra", [])):
        where = f"extra[{i}]"
        kind = _req(p, e, "kind", where, str)
        if kind not in KINDS:
            raise SchemeError(f"{p}: {where}.kind: unknown kind {kind!r}")
        weight, same_as = e.get("weight"), e.get("same_as")
        if (weight is None) == (same_as is None):
            raise SchemeError(f"{p}: {where}: give exactly one of weight and same_as")
        extras.append(
            Extra(
                event_type=_req(p, e, "event_type", where, str),
                kind=kind,
                citation=_req(p, e, "citation", where, str),
                assumption=bool(e.get("assumption", False)),
                weight=None if weight is None else float(weight),
                same_as=same_as,
            )
        )
    return BuildConfig(
        path=p,
        citation=_req(p, source, "citation", "source", str),
        unit=_req(p, source, "unit", "source", str),
        counts_citation=_req(p, build, "counts_citation", "build", str),
        exclude_forces=tuple(_req(p, build, "exclude_forces", "build", list)),
        exclude_forces_reason=_req(p, build, "exclude_forces_reason", "build", str),
        exclude_subgroups=tuple(build.get("exclude_subgroups", [])),
        exclude_subgroups_reason=str(build.get("exclude_subgroups_reason", "")),
        subgroups=tuple(subgroups),
        categories=tuple(categories),
        extras=tuple(extras),
    )


def _ho_dir(data: str | Path) -> Path:
    d = Path(data)
    return d / HO_FOLDER if (d / HO_FOLDER).is_dir() else d


def _read_csv(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    if not path.is_file():
        raise SchemeError(f"{path}: file not found (expected the Home Office file {path.name})")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SchemeError(
            f"{path}: missing column {missing[0]!r} (expected columns {', '.join(columns)})"
        )
    return df[list(columns)]


def derive_category_weights(
    data: str | Path, config: BuildConfig | None = None
) -> dict[str, DerivedWeight]:
    """Volume-weighted mean CCHI value of each police.uk crime type.

    Parameters
    ----------
    data : str or Path
        The shared data folder, or the Home Office folder itself.
    config : BuildConfig, optional
        Subgroup medians and settings; the packaged ones when omitted.

    Returns
    -------
    dict of str to DerivedWeight
        Keyed by police.uk type, in the order of ``config.categories``.

    Raises
    ------
    SchemeError
        A missing file or column, an offence code absent from the map, a subgroup with no
        CCHI value that is not excluded, a police.uk type not in the config, a non-integer
        count, or a type with no offences.
    """
    cfg = config if config is not None else load_build_config()
    folder = _ho_dir(data)
    mapping_path, prc_path = folder / MAPPING_FILE, folder / PRC_FILE
    mapping = _read_csv(mapping_path, ["Offence_Code", "Offence_Subgroup", "Police.uk_Cat"])
    prc = _read_csv(prc_path, ["Force_Name", "Offence_Code", "Number_of_Offences"])

    dupes = mapping["Offence_Code"][mapping["Offence_Code"].duplicated()]
    if len(dupes):
        raise SchemeError(f"{mapping_path}: Offence_Code {dupes.iloc[0]!r} appears twice")
    counts = pd.to_numeric(prc["Number_of_Offences"].str.replace(",", ""), errors="coerce")
    bad = counts.isna() | (counts != counts.round())
    if bad.any():
        line = int(bad.to_numpy().nonzero()[0][0]) + 2
        raise SchemeError(
            f"{prc_path}, line {line}, column Number_of_Offences: expected an integer count"
        )
    prc = prc.assign(n=counts.astype("int64"))
    prc = prc[~prc["Force_Name"].isin(cfg.exclude_forces)]

    joined = prc.merge(mapping, on="Offence_Code", how="left", validate="many_to_one")
    unmapped = joined["Offence_Subgroup"].isna()
    if unmapped.any():
        code = joined.loc[unmapped, "Offence_Code"].iloc[0]
        raise SchemeError(f"{prc_path}: Offence_Code {code!r} is not in {mapping_path.name}")
    joined = joined[~joined["Offence_Subgroup"].isin(cfg.exclude_subgroups)]

    days = cfg.days_by_ho_subgroup()
    missing = sorted(set(joined["Offence_Subgroup"]) - set(days))
    if missing:
        raise SchemeError(
            f"{cfg.path}: subgroup: no CCHI value for Home Office subgroup {missing[0]!r} "
            f"(add it to a [[subgroup]] ho_subgroups list or to build.exclude_subgroups)"
        )
    canonical = {c.event_type.casefold(): c.event_type for c in cfg.categories}
    cats = joined["Police.uk_Cat"].str.strip().str.casefold()
    unknown = sorted(set(cats) - set(canonical))
    if unknown:
        raise SchemeError(
            f"{mapping_path}: Police.uk_Cat {unknown[0]!r} is not a [[category]] in {cfg.path}"
        )
    joined = joined.assign(
        event_type=cats.map(canonical),
        cchi=joined["Offence_Subgroup"].map(lambda s: days[s][0]),
        days=joined["Offence_Subgroup"].map(lambda s: days[s][1]),
    )
    parts = joined.groupby(["event_type", "cchi", "days"], as_index=False)["n"].sum()

    out: dict[str, DerivedWeight] = {}
    for cat in cfg.categories:
        rows = parts[parts["event_type"] == cat.event_type].sort_values(
            ["n", "cchi"], ascending=[False, True]
        )
        total = int(rows["n"].sum())
        if total <= 0:
            raise SchemeError(
                f"{cfg.path}: category {cat.event_type!r}: no offences in {prc_path.name}"
            )
        value = math.fsum(float(d) * int(n) for d, n in zip(rows["days"], rows["n"], strict=True))
        out[cat.event_type] = DerivedWeight(
            event_type=cat.event_type,
            days=value / total,
            offences=total,
            parts=tuple(
                (str(s), float(d), int(n))
                for s, d, n in zip(rows["cchi"], rows["days"], rows["n"], strict=True)
            ),
        )
    return out


def _s(text: str) -> str:
    """A TOML basic string (JSON string escaping is valid TOML)."""
    return json.dumps(text, ensure_ascii=False)


def _num(value: float) -> str:
    return f"{value:.2f}"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_scheme_text(data: str | Path, config: BuildConfig | None = None) -> str:
    """Render the ``cchi`` scheme TOML (deterministic: same inputs, same bytes).

    Parameters
    ----------
    data : str or Path
        The shared data folder, or the Home Office folder itself.
    config : BuildConfig, optional
        Subgroup medians and settings; the packaged ones when omitted.

    Returns
    -------
    str
        The file text; it validates as a scheme (checked before returning).
    """
    cfg = config if config is not None else load_build_config()
    derived = derive_category_weights(data, cfg)
    folder = _ho_dir(data)
    excluded = ", ".join(cfg.exclude_forces)
    lines = [
        "# Cambridge Crime Harm Index weights per police.uk event type (days of imprisonment).",
        "# GENERATED by `python -m harmscope.harm.build_cchi`: do not edit by hand.",
        "# Inputs: harm/data/cchi_subgroups.toml (CCHI subgroup medians) and, from",
        f"# {HO_FOLDER}/:",
        f"#   {MAPPING_FILE} sha256 {_sha256(folder / MAPPING_FILE)}",
        f"#   {PRC_FILE} sha256 {_sha256(folder / PRC_FILE)}",
        f"# Excluded forces: {excluded}. {cfg.exclude_forces_reason}",
    ]
    if cfg.exclude_subgroups:
        lines.append(f"# Excluded subgroups: {', '.join(cfg.exclude_subgroups)}.")
    lines += [
        "",
        "[scheme]",
        'name = "cchi"',
        'title = "Cambridge Crime Harm Index, police.uk crime types"',
        f"unit = {_s(cfg.unit)}",
        f"citation = {_s(cfg.citation)}",
        "description = "
        + _s(
            "Each police.uk type weighs the national volume-weighted mean of the CCHI values "
            "of its Home Office offence subgroups (2017/18 recorded crime). Drugs, Possession "
            "of weapons and Stop and search are activity (mostly found by police): reported "
            "beside harm, never added to it."
        ),
        'generated_by = "python -m harmscope.harm.build_cchi"',
    ]
    derived_citation = (
        f"Sherman, Neyroud & Neyroud (2016) CCHI subgroup medians, volume-weighted by {cfg.counts_citation}"
        f" Excluding {excluded}."
    )
    for cat in cfg.categories:
        d = derived[cat.event_type]
        parts = "; ".join(f"{name} {days:g} d x {n:,}" for name, days, n in d.parts)
        lines += [
            "",
            "[[weight]]",
            f"event_type = {_s(cat.event_type)}",
            f"weight = {_num(d.days)}",
            f"kind = {_s(cat.kind)}",
            f"citation = {_s(derived_citation)}",
            f"derivation = {_s(f'mean over {d.offences:,} offences (2017/18): {parts}')}",
        ]
        if cat.note:
            lines.append(f"note = {_s(cat.note)}")
    for extra in cfg.extras:
        if extra.same_as is not None:
            if extra.same_as not in derived:
                raise SchemeError(
                    f"{cfg.path}: extra ({extra.event_type}).same_as: {extra.same_as!r} is not a "
                    "derived [[category]]"
                )
            weight = round(derived[extra.same_as].days, 2)
            derivation = f"same as {extra.same_as}"
        else:
            assert extra.weight is not None
            weight, derivation = extra.weight, "stated"
        lines += [
            "",
            "[[weight]]",
            f"event_type = {_s(extra.event_type)}",
            f"weight = {_num(weight)}",
            f"kind = {_s(extra.kind)}",
            f"citation = {_s(extra.citation)}",
            f"assumption = {'true' if extra.assumption else 'false'}",
            f"derivation = {_s(derivation)}",
        ]
    text = "\n".join(lines) + "\n"
    parse_scheme(tomllib.loads(text), where="<built cchi.toml>", default_name="cchi")
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: build (``--out``) or verify (``--check``) the ``cchi`` scheme."""
    parser = argparse.ArgumentParser(
        prog="python -m harmscope.harm.build_cchi",
        description="Derive police.uk CCHI weights from subgroup medians and Home Office counts.",
    )
    parser.add_argument(
        "--data", required=True, help="shared data folder or the Home Office folder"
    )
    parser.add_argument("--out", help="write the scheme here ('-' for stdout)")
    parser.add_argument(
        "--check",
        nargs="?",
        const=str(DEFAULT_OUT),
        metavar="FILE",
        help="compare with FILE (default: the packaged cchi.toml); exit 1 if it differs",
    )
    parser.add_argument("--subgroups", help="subgroup medians TOML (default: the packaged one)")
    args = parser.parse_args(argv)
    if not args.out and not args.check:
        parser.error("give --out FILE, --out -, or --check")
    try:
        text = build_scheme_text(args.data, load_build_config(args.subgroups))
    except SchemeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        path = Path(args.check)
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current != text:
            print(f"{path}: differs from a fresh build; rebuild with --out {path}", file=sys.stderr)
            return 1
        print(f"{path}: up to date")
    if args.out == "-":
        sys.stdout.write(text)
    elif args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
