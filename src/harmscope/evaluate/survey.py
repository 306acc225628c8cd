"""Community survey responses for the evaluation: load them into the warehouse.

Reading and checking the files is the survey source's (:mod:`harmscope.sources.survey`); the
table is defined in :mod:`harmscope.warehouse.schema`. :func:`load_survey` is the one-file
loader ``harmscope load-survey`` calls.
"""

from __future__ import annotations

from pathlib import Path

from harmscope.sources.survey import SURVEY_COLUMNS, read_survey, survey_exists, write_survey
from harmscope.warehouse.handle import Warehouse
from harmscope.warehouse.schema import SURVEY_DDL

__all__ = ["SURVEY_COLUMNS", "SURVEY_DDL", "load_survey", "survey_exists"]


def load_survey(path: str | Path, *, db: str | Path | None = None) -> int:
    """Load survey responses (CSV) into the warehouse table ``survey_responses``.

    Parameters
    ----------
    path : str or Path
        CSV with at least the columns of :data:`SURVEY_COLUMNS`.
    db : str or Path, optional
        Warehouse file (created when missing).

    Returns
    -------
    int
        Rows loaded (0 when the same file content was loaded before: loading is idempotent).

    Raises
    ------
    InputError
        A missing column, a month that is not ``YYYY-MM`` or a code out of range; the message
        names the file, line and column. Nothing is loaded then.
    """
    frame = read_survey(path)  # checked before the warehouse is opened: bad input writes nothing
    with Warehouse.open(db, read_only=False) as wh:
        return write_survey(wh.con, [frame])
