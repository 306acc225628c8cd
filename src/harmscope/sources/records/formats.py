"""The force-records file formats: one table per file, its columns, types and allowed values.

A force exports its nominal index, groups, markets, intelligence links and reports,
crime-person links and custody/arrest records from its own systems (Niche, Athena, CRIS,
...) into these seven CSV layouts; the simulator writes the same files (``intel/`` and
``records/`` of a simulated city). ``docs/force-records.md`` is this module written out for
people; :func:`harmscope.sources.records.read.read_file` enforces it.

Grading follows the UK 3x5x2 intelligence grading system (College of Policing 2016):
**source evaluation** A (reliable), B (untested), C (not reliable); **intelligence
assessment** 1 (known directly to the source), 2 (known indirectly to the source and
corroborated), 3 (known indirectly to the source), 4 (not known), 5 (suspected to be false);
**handling code** P (lawful sharing permitted) or C (lawful sharing permitted with
conditions).

References
----------
College of Policing (2016). *Intelligence management: the 3x5x2 intelligence grading
    system*. Authorised Professional Practice.
National Crime Agency (2021). *County lines* (group types: organised crime group, street
    gang, county line, family network as forces record them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

Kind = Literal["id", "person", "text", "int", "month", "bool", "lsoa", "choice"]
"""How a column is checked: ``id`` non-blank text kept as is; ``person`` an identifier of a
person, replaced by its keyed pseudonym at import (or kept as is when its row's kind column
says ``group``); ``int`` a whole number in ``bounds``; ``month`` ``YYYY-MM``; ``bool``
``True``/``False``; ``lsoa`` an ONS LSOA code; ``choice`` one of ``allowed``."""


@dataclass(frozen=True)
class Column:
    """One column of a records file.

    ``required``: the column must be in the header and no value may be blank; otherwise it
    may be left out of the header (it loads as blank) and its values may be blank.
    ``kind_column`` (``person`` columns of links only): the column saying whether the id is a
    ``nominal`` (pseudonymised) or a ``group`` (kept as is).
    """

    name: str
    kind: Kind
    required: bool = False
    allowed: tuple[str, ...] = ()
    bounds: tuple[int, int] | None = None
    kind_column: str | None = None
    description: str = ""


@dataclass(frozen=True)
class RecordFormat:
    """One file layout: its columns, the warehouse table it fills and the table's key."""

    name: str
    table: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    """Columns identifying a record: a record loaded again (any file) replaces the earlier."""
    description: str
    personal: bool
    """Whether the file holds personal data (nominal ids): loading it needs a user and reason."""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


SOURCE_EVALUATION = ("A", "B", "C")
"""3x5x2 source evaluation: A reliable, B untested, C not reliable."""
INTELLIGENCE_ASSESSMENT = ("1", "2", "3", "4", "5")
"""3x5x2 intelligence assessment: 1 known directly ... 5 suspected to be false."""
HANDLING_CODES = ("P", "C")
"""3x5x2 handling code: P lawful sharing permitted, C permitted with conditions."""
GROUP_TYPES = ("organised crime group", "street gang", "county line", "family network")
LINK_TYPES = ("member_of", "associate", "supplies", "buys_from", "cuckoos", "exploits")
"""``member_of`` (nominal to group), ``associate``, ``supplies``, ``buys_from``, ``cuckoos``
(group or nominal to the nominal whose home is taken over), ``exploits`` (child criminal
exploitation: exploiter to exploited)."""
ENTITY_KINDS = ("nominal", "group")
CRIME_ROLES = ("suspect", "offender", "victim")
MARKET_TYPES = ("open", "semi_open", "closed")
GENDERS = ("Male", "Female", "Other", "Unknown")
CUSTODY_OUTCOMES = (
    "charged",
    "remanded in custody",
    "released on bail",
    "released under investigation",
    "cautioned",
    "no further action",
)

_GRADING = (
    Column("source_evaluation", "choice", True, SOURCE_EVALUATION, description="3x5x2 A/B/C"),
    Column("intelligence_assessment", "choice", True, INTELLIGENCE_ASSESSMENT, description="1-5"),
    Column("handling_code", "choice", True, HANDLING_CODES, description="P or C"),
)
_MARKERS = tuple(
    Column(f"marker_{m}", "bool", description=f"warning marker: {m.replace('_', ' ')}")
    for m in (
        "violence",
        "firearms",
        "weapons",
        "drug_user",
        "vulnerable_child",
        "cuckooing_victim",
    )
)

NOMINALS = RecordFormat(
    "nominals",
    "records_nominals",
    (
        Column("nominal_id", "person", True, description="the force's person id (pseudonymised)"),
        Column("gender", "choice", allowed=GENDERS),
        Column("birth_year", "int", bounds=(1900, 2100)),
        Column("home_lsoa_code", "lsoa"),
        Column("recorded_role", "text", description="role as recorded (street dealer, ...)"),
        Column("group_id", "text", description="group the nominal is recorded in"),
        Column("market_id", "text", description="market the nominal is recorded in"),
        *_MARKERS,
        Column("first_recorded", "month"),
    ),
    ("nominal_id",),
    "one row per person on the nominal index",
    personal=True,
)
GROUPS = RecordFormat(
    "groups",
    "records_groups",
    (
        Column("group_id", "id", True),
        Column("codename", "text"),
        Column("recorded_type", "choice", True, GROUP_TYPES),
        Column("market_ids", "text", description="markets the group runs, ';'-separated"),
        Column("assessed_threat", "int", bounds=(1, 4), description="1 low ... 4 very high"),
    ),
    ("group_id",),
    "one row per group: organised crime group, street gang, county line, family network",
    personal=False,
)
MARKETS = RecordFormat(
    "markets",
    "records_markets",
    (
        Column("market_id", "id", True),
        Column("lsoa_code", "lsoa"),
        Column("cell_x", "int", bounds=(0, 1_000_000), description="BNG easting, metres"),
        Column("cell_y", "int", bounds=(0, 1_300_000), description="BNG northing, metres"),
        Column("market_type", "choice", allowed=MARKET_TYPES),
        Column("mode", "text", description="how it sells (street, phone line, county line)"),
        Column("drugs", "text", description="drugs sold, ';'-separated"),
        Column("group_id", "text"),
    ),
    ("market_id",),
    "one row per drug market known to the force",
    personal=False,
)
LINKS = RecordFormat(
    "links",
    "records_links",
    (
        Column("source_id", "person", True, kind_column="source_kind"),
        Column("source_kind", "choice", True, ENTITY_KINDS),
        Column("target_id", "person", True, kind_column="target_kind"),
        Column("target_kind", "choice", True, ENTITY_KINDS),
        Column("link_type", "choice", True, LINK_TYPES),
        Column("first_recorded", "month"),
        *_GRADING,
    ),
    ("source_id", "target_id", "link_type"),
    "one row per link between nominals and groups, graded 3x5x2",
    personal=True,
)
REPORTS = RecordFormat(
    "reports",
    "records_reports",
    (
        Column("report_id", "id", True),
        Column("month", "month", True),
        Column("subject_id", "person", True),
        Column("behaviour", "text", True, description="what the report alleges"),
        Column("lsoa_code", "lsoa"),
        Column("market_id", "text"),
        *_GRADING,
    ),
    ("report_id",),
    "one row per intelligence report about a nominal, graded 3x5x2",
    personal=True,
)
CRIME_PEOPLE = RecordFormat(
    "crime_people",
    "records_crime_people",
    (
        Column("crime_id", "id", True, description="the police.uk Crime ID of the crime"),
        Column("nominal_id", "person", True),
        Column("role", "choice", True, CRIME_ROLES),
        Column("month", "month", True, description="month of the crime"),
    ),
    ("crime_id", "nominal_id", "role"),
    "one row per person linked to a recorded crime, as suspect, offender or victim",
    personal=True,
)
ARRESTS = RecordFormat(
    "arrests",
    "records_arrests",
    (
        Column("arrest_id", "id", True),
        Column("nominal_id", "person", True),
        Column("month", "month", True, description="month of the arrest"),
        Column("lsoa_code", "lsoa", description="where the arrest was made"),
        Column("offence", "text", True, description="police.uk crime type of the offence"),
        Column("crime_id", "text", description="Crime ID of the crime, when one is linked"),
        Column("custody_outcome", "choice", True, CUSTODY_OUTCOMES),
        Column(
            "custody_until",
            "month",
            description="remanded: month released (blank: still held at export)",
        ),
    ),
    ("arrest_id",),
    "one row per arrest, with its custody outcome",
    personal=True,
)

FORMATS: Mapping[str, RecordFormat] = MappingProxyType(
    {f.name: f for f in (NOMINALS, GROUPS, MARKETS, LINKS, REPORTS, CRIME_PEOPLE, ARRESTS)}
)
"""Every records format by name, in load order (nominals first: others refer to them)."""

PERSONAL_TABLES: frozenset[str] = frozenset(f.table for f in FORMATS.values() if f.personal)
"""Warehouse tables holding personal data: read only through the audited function
:func:`harmscope.warehouse.personal.read_personal`."""
