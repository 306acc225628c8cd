"""What one ingest batch did: per file and in total (also stored in ``ingest_files``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from harmscope.sources.policeuk import FileIdentity


@dataclass
class FileReport:
    """What happened to one file."""

    path: str
    family: str
    sha256: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_folded: int = 0
    rows_quarantined: int = 0
    rows_superseded: int = 0
    rows_outside_month: int = 0
    """Rows loaded whose month is not the file's own (kept, under their own month)."""
    skipped: bool = False  # identical bytes were loaded before
    identity: FileIdentity | None = None
    """(family, force, month) from the name or archive folder; None when they do not say."""


@dataclass
class IngestReport:
    """Summary of one batch (also stored in ``ingest_batches``)."""

    batch_id: int | None
    files: list[FileReport] = field(default_factory=list)
    files_passed_over: int = 0
    """Files in the folders and archives given that are not named the police.uk way."""
    passed_over_names: list[str] = field(default_factory=list)
    """The first few of them (``path`` or ``archive.zip!member``)."""

    def _sum(self, name: str) -> int:
        return sum(getattr(f, name) for f in self.files)

    @property
    def rows_read(self) -> int:
        return self._sum("rows_read")

    @property
    def rows_loaded(self) -> int:
        return self._sum("rows_loaded")

    @property
    def rows_folded(self) -> int:
        return self._sum("rows_folded")

    @property
    def rows_quarantined(self) -> int:
        return self._sum("rows_quarantined")

    @property
    def rows_superseded(self) -> int:
        return self._sum("rows_superseded")

    @property
    def rows_outside_month(self) -> int:
        return self._sum("rows_outside_month")

    @property
    def files_without_identity(self) -> int:
        """Files loaded whose name gives no force and month: they supersede nothing."""
        return sum(f.identity is None for f in self.files if not f.skipped)

    @property
    def files_skipped(self) -> int:
        return sum(f.skipped for f in self.files)
