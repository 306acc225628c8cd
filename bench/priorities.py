"""Benchmark: the people lens on 100,000 nominals with 1,000,000 linked events (issue 12 item 7).

Run ``.venv/bin/python bench/priorities.py`` (under a minute). Synthetic, generated here:
100,000 nominals in 2,000 groups, 1,000,000 recorded crimes over 24 months (police.uk types
in national proportions, in an in-memory DuckDB events table) each linked to one nominal as
offender or suspect (a tenth of them to a second one), and 200,000 graded intelligence
reports. Timed, best of ``--repeat`` runs:

1. the people lens's ranking: the linked crimes joined to the events and weighed in the engine,
   split among co-offenders, reports valued and graded, every nominal's decayed rate, group
   context and forecast, sorted (:meth:`harmscope.people.attribute.PeopleHarm.figures` from
   :func:`harmscope.people.contributions.contributions`) — everything but the audited read,
   which the bench has no warehouse file for;
2. a count-based ranking of the same links (linked crimes per nominal, sorted): the
   "counting" baseline, timed in the same run.

Prints both times and their ratio. Target: the people ranking under 10 s. No assertion is made
about time; a miss prints "MISSED" and the exit status is 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import TypeVar

import duckdb
import ibis
import numpy as np
import pandas as pd

from harmscope.people.attribute import PeopleHarm
from harmscope.people.contributions import contributions
from harmscope.people.forecast import DEFAULT_MODEL
from harmscope.people.records import Records
from harmscope.people.severity import default_severity

T = TypeVar("T")

NOMINALS = 100_000
CRIMES = 1_000_000
REPORTS = 200_000
GROUPS = 2_000
MONTHS = 24
START = 2023 * 12  # month index of 2023-01
TARGET_S = 10.0

TYPES = {  # police.uk types, rough national shares of recorded crime with a Crime ID
    "Violence and sexual offences": 0.36,
    "Shoplifting": 0.07,
    "Other theft": 0.08,
    "Criminal damage and arson": 0.09,
    "Burglary": 0.05,
    "Vehicle crime": 0.06,
    "Public order": 0.10,
    "Drugs": 0.03,
    "Robbery": 0.02,
    "Theft from the person": 0.02,
    "Bicycle theft": 0.01,
    "Possession of weapons": 0.01,
    "Other crime": 0.10,
}


def best_of(repeats: int, fn: Callable[[], T]) -> tuple[float, T]:
    """Minimum wall time of ``repeats`` calls, seconds, and the last result."""
    best = float("inf")
    result: T | None = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    assert result is not None
    return best, result


def synthetic(rng: np.random.Generator) -> tuple[Records, ibis.Table]:
    """Records of 100,000 nominals and an events table of their 1,000,000 crimes."""
    ids = np.array([f"P{i:07d}" for i in range(NOMINALS)], dtype=object)
    # heavy-tailed offending: a few nominals are linked to many crimes (power few)
    w = rng.pareto(1.2, NOMINALS) + 0.05
    who = rng.choice(NOMINALS, size=CRIMES, p=w / w.sum())
    month = rng.integers(0, MONTHS, CRIMES)
    types = np.array(list(TYPES), dtype=object)
    p = np.array(list(TYPES.values()))
    crime = np.array([f"C{i:09d}" for i in range(CRIMES)], dtype=object)
    months = pd.to_datetime(
        [f"{(START + m) // 12}-{(START + m) % 12 + 1:02d}-01" for m in range(MONTHS)]
    )
    events = pd.DataFrame(
        {
            "source": "street",
            "event_type": types[rng.choice(len(types), CRIMES, p=p / p.sum())],
            "crime_id": crime,
            "month": months[month],
        }
    )
    second = rng.random(CRIMES) < 0.1
    links = pd.DataFrame(
        {
            "crime_id": np.concatenate([crime, crime[second]]),
            "nominal_id": np.concatenate([ids[who], ids[rng.integers(0, NOMINALS, second.sum())]]),
            "role": np.where(rng.random(CRIMES + second.sum()) < 0.3, "offender", "suspect"),
            "m": START + np.concatenate([month, month[second]]),
        }
    )
    rep_month = rng.integers(0, MONTHS, REPORTS)
    reports = pd.DataFrame(
        {
            "report_id": [f"R{i:07d}" for i in range(REPORTS)],
            "subject_id": ids[rng.choice(NOMINALS, REPORTS, p=w / w.sum())],
            "behaviour": rng.choice(["drug dealing", "violence", "firearms", "cuckooing"], REPORTS),
            "market_id": "",
            "source_evaluation": rng.choice(list("ABC"), REPORTS),
            "intelligence_assessment": rng.choice(list("12345"), REPORTS),
            "m": START + rep_month,
        }
    )
    group = np.array([f"G{i:04d}" for i in range(GROUPS)], dtype=object)[
        rng.integers(0, GROUPS, NOMINALS)
    ]
    nominals = pd.DataFrame(
        {"nominal_id": ids, "recorded_role": "", "group_id": group, "market_id": ""}
    )
    empty_links = pd.DataFrame(
        columns=[
            "source_id",
            "source_kind",
            "target_id",
            "target_kind",
            "link_type",
            "source_evaluation",
            "intelligence_assessment",
        ]
    )
    arrests = pd.DataFrame(columns=["nominal_id", "m", "custody_outcome", "custody_until"])
    records = Records(
        nominals=nominals,
        links=empty_links,
        reports=reports,
        crime_people=links,
        arrests=arrests,
        groups=pd.DataFrame(columns=["group_id", "market_ids"]),
        markets=pd.DataFrame(columns=["group_id", "market_id"]),
        start=START,
        end=START + MONTHS - 1,
    )
    con = ibis.duckdb.from_connection(duckdb.connect())
    return records, con.create_table("events", events)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(12)
    records, events = synthetic(rng)
    table = default_severity()
    print(
        f"{NOMINALS:,} nominals, {len(records.crime_people):,} crime-person links to "
        f"{CRIMES:,} crimes, {REPORTS:,} reports, {MONTHS} months"
    )

    def people() -> pd.Series:
        contrib = contributions(records, events, table, harm="drug")
        ph = PeopleHarm(records=records, contrib=contrib, model=DEFAULT_MODEL, harm="drug")
        return ph.figures("people")["forecast_harm"].sort_values(ascending=False)

    def counting() -> pd.Series:
        links = records.crime_people
        return links.groupby("nominal_id")["crime_id"].nunique().sort_values(ascending=False)

    t_people, ranked = best_of(args.repeat, people)
    t_count, counted = best_of(args.repeat, counting)
    print(f"people lens ranking : {t_people:6.2f} s ({len(ranked):,} nominals ranked)")
    print(f"count-based ranking : {t_count:6.2f} s ({len(counted):,} nominals ranked)")
    print(f"ratio people / count: {t_people / t_count:6.1f}x")
    ok = t_people < TARGET_S
    print(f"target: people ranking under {TARGET_S:.0f} s: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
