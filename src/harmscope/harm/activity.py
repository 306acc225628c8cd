"""Police activity in the harm matrix: counted by kind, never weighed (DESIGN §2).

Drug offences and weapons possession found by police, and stop-and-searches, measure what
police did ("busyness"). The matrix reports them beside harm, one count per kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

from harmscope.harm.schemes import Scheme
from harmscope.harm.weigh import STOP_AND_SEARCH, activity_label

__all__ = ["NO_SEARCH_DATA", "ActivityCell", "activity_by_kind"]


class ActivityCell(TypedDict):
    """One kind of police activity: its scheme type, plain name and number of events.

    ``value`` is None, and ``no_data`` says why, when the data cannot answer: no
    stop-and-search file has been loaded at all (police.uk publishes searches separately), so
    a count of 0 would claim there were none.
    """

    event_type: str
    label: str
    value: int | None
    no_data: str | None


#: Why an activity kind has no count (see :class:`ActivityCell`).
NO_SEARCH_DATA = "no stop-and-search data loaded (police.uk publishes searches in separate files)"


def activity_by_kind(
    counted: Mapping[str, int], scheme: Scheme, *, searches_loaded: bool
) -> list[ActivityCell]:
    """One row per activity-kind type of the scheme (zeros included), most events first.

    Parameters
    ----------
    counted : mapping of str to int
        Events of each activity-kind type in the selection.
    scheme : Scheme
        Says which types are activity.
    searches_loaded : bool
        Whether the warehouse holds any stop-and-search at all; if not, the search count is
        unknown (``value`` None, ``no_data`` the reason), never 0.
    """
    kinds = [w.event_type for w in scheme.weights if w.kind == "activity"]
    order = {t: i for i, t in enumerate(kinds)}
    kinds.sort(key=lambda t: (-counted.get(t, 0), order[t]))
    cells = []
    for t in kinds:
        unknown = t == STOP_AND_SEARCH and not searches_loaded
        cells.append(
            ActivityCell(
                event_type=t,
                label=activity_label(t),
                value=None if unknown else int(counted.get(t, 0)),
                no_data=NO_SEARCH_DATA if unknown else None,
            )
        )
    return cells
