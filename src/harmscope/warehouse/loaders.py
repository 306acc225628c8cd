"""Loading sources into the warehouse: one registry from a source's name to its loader.

Sources (:mod:`harmscope.sources`) sit *below* the warehouse: they discover, recognise and
check files and never open the warehouse. Writing belongs here. A source is loaded one of two
ways:

* by a loader registered in :data:`LOADERS` — police.uk, whose writing is the warehouse's own
  strict, atomic, idempotent ingest (:func:`harmscope.warehouse.ingest.ingest_paths`);
* otherwise through the source's :meth:`~harmscope.sources.base.WritesBatch.prepare`: every
  file is read and checked first, then the warehouse is opened for writing (creating and
  upgrading its tables, see :func:`~harmscope.warehouse.handle.open_duckdb`) and the
  :class:`~harmscope.sources.base.Batch` writes itself through that connection, all or
  nothing. LSOA reference data and surveys load this way, and so does a new source: one
  module under ``sources/`` plus one registration in :mod:`harmscope.sources.registry`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from harmscope.harm.assessed import Assessment
from harmscope.sources import registry
from harmscope.sources.base import LoadResult, Progress, WritesBatch, no_lenient
from harmscope.warehouse.handle import Warehouse
from harmscope.warehouse.ingest import ingest_paths

__all__ = ["LOADERS", "Loader", "PartnerLoad", "load", "load_partners", "record_assessment"]

Loader = Callable[..., LoadResult]
"""``loader(paths, *, db, lenient, progress) -> LoadResult``: writes one batch of a source."""


def _load_policeuk(
    paths: Sequence[str | Path],
    *,
    db: str | Path | None = None,
    lenient: bool = False,
    progress: Progress | None = None,
) -> LoadResult:
    report = ingest_paths(paths, db=db, lenient=lenient, progress=progress)
    return LoadResult("policeuk", len(report.files), report.rows_loaded, report)


def _load_records(
    paths: Sequence[str | Path],
    *,
    db: str | Path | None = None,
    lenient: bool = False,
    progress: Progress | None = None,
    **options: str | None,
) -> LoadResult:
    from harmscope.warehouse.records import load_records  # import cost only when used

    no_lenient("records", lenient)
    report = load_records(paths, db=db, progress=progress, **options)
    return LoadResult("records", report.files, report.rows_loaded, report)


#: Sources with a loader of their own; every other source is loaded through ``prepare``.
#: Force records: pseudonym key, audit (``user``, ``reason`` options), see warehouse.records.
LOADERS: dict[str, Loader] = {"policeuk": _load_policeuk, "records": _load_records}


def load(
    source: str,
    paths: Sequence[str | Path],
    *,
    db: str | Path | None = None,
    lenient: bool = False,
    progress: Progress | None = None,
    **options: str | None,
) -> LoadResult:
    """Load ``paths`` of the source called ``source`` into the warehouse ``db``, all or nothing.

    Parameters
    ----------
    source : str
        A registered source's name (``policeuk``, ``areas``, ``survey``, or one added with
        :func:`harmscope.sources.registry.register`).
    paths : sequence of str or Path
        Files, folders or archives, as the source's ``discover`` takes them.
    db : str or Path, optional
        Warehouse file (default :func:`~harmscope.warehouse.handle.default_db`); created when
        missing.
    lenient : bool
        Quarantine bad rows instead of failing (police.uk only; others refuse it).
    progress : callable, optional
        ``progress(stage, done, total)``.
    **options
        Passed to a loader of :data:`LOADERS` (records: ``user``, ``reason``).

    Returns
    -------
    LoadResult
        Files and rows written (0 rows when the same content was loaded before).

    Raises
    ------
    KeyError
        No source of that name (the message lists the known ones).
    InputError
        A bad file; nothing is written then.
    """
    adapter = registry.adapter(source)
    if source in LOADERS:
        return LOADERS[source](paths, db=db, lenient=lenient, progress=progress, **options)
    if not isinstance(adapter, WritesBatch):
        raise TypeError(
            f"source {source!r} has no loader: give it a prepare() (sources.base.WritesBatch) "
            "or register one in harmscope.warehouse.loaders.LOADERS"
        )
    # Every file is read and checked before the warehouse is opened: a bad file writes nothing.
    batch = adapter.prepare(paths, lenient=lenient, progress=progress)
    with Warehouse.open(db, read_only=False) as wh:
        rows = batch.write(wh.con)
    return LoadResult(batch.source, batch.files, rows)


@dataclass(frozen=True)
class PartnerLoad:
    """What ``load-partners`` wrote: files, rows, and the rows refused per file with why."""

    files: int
    rows_loaded: int
    refused: dict[str, str] = field(default_factory=dict)


def load_partners(
    paths: Sequence[str | Path],
    *,
    db: str | Path | None = None,
    indicators: Collection[str] | None = None,
    progress: Progress | None = None,
) -> PartnerLoad:
    """Load partner indicator files into ``partner_indicators``, all or nothing.

    Parameters
    ----------
    paths : sequence of str or Path
        Drug-statistics files or per-LSOA indicator files, or folders of them
        (:mod:`harmscope.sources.partners`).
    db : str or Path, optional
        Warehouse file; created when missing.
    indicators : collection of str, optional
        Load only these indicator ids (``drug_misuse_deaths``, ``needle_finds``, ...).

    Returns
    -------
    PartnerLoad
        Rows written (0 when every file and indicator was loaded before) and the suspect
        rows refused.

    Raises
    ------
    InputError
        A bad file (file, line and column named); nothing is written then.
    KeyError
        An unknown indicator id.
    """
    from harmscope.sources.partners import ADAPTER

    # Every file is read and checked before the warehouse is opened: a bad file writes nothing.
    batch = ADAPTER.prepare(paths, progress=progress, indicators=indicators)
    with Warehouse.open(db, read_only=False) as wh, wh.transaction() as con:
        rows = batch.write(con)
    return PartnerLoad(batch.files, rows, dict(batch.refused))


def record_assessment(
    assessment: Assessment, *, db: str | Path | None = None, at: datetime | None = None
) -> int:
    """Append an analyst's assessment to ``assessed_cells``; returns its id.

    The assessment is checked first (:meth:`Assessment.check`: a :class:`ValueError` names
    the field); ``at`` defaults to now (UTC).
    """
    assessment.check()
    when = (at or datetime.now(UTC)).replace(tzinfo=None)
    with Warehouse.open(db, read_only=False) as wh, wh.transaction() as con:
        row = con.execute("SELECT coalesce(max(assessment_id), 0) + 1 FROM assessed_cells")
        found = row.fetchone()
        new_id = int(found[0]) if found else 1
        con.execute(
            "INSERT INTO assessed_cells VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                new_id,
                assessment.harm_type,
                assessment.bearer,
                assessment.source,
                assessment.category,
                assessment.area,
                assessment.severity,
                assessment.incidence,
                assessment.confidence,
                assessment.evidence.strip(),
                assessment.assessed_by.strip(),
                when,
            ],
        )
    return new_id
