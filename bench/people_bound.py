"""How well could *any* ranking of the past do? The people lens beside perfect past knowledge.

The people lens's precision@10 (0.14 on the unseen seeds, target 0.8) is scored against the
known nominals' true harm of the 12 months after the 24 ranked (``docs/priorities.md``). A
force sees only records: a sample of what its nominals did. This bench asks what a force that
saw **everything** could reach: for each seed it ranks the same known nominals by their
**true** harm in the ranked months (every crime they committed, recorded or not, and hidden
harm; ``truth/person_month.csv``, and for members of the public the harm of the crimes they
are linked to, :func:`harmscope.checks.people.public_truth`) and scores that ranking with
the scorer the validation uses, on the same truth. Two oracles:

- ``past 24``: true harm of all 24 ranked months;
- ``past 12``: true harm of the last 12 ranked months (recent harm only);
- ``quiet year``: the smaller of the two ranked years' true harm, the lens's own
  ``persistence`` idea (bursts end; :mod:`harmscope.people.forecast`) on perfect data.

Printed per seed and as means, beside the lens and the counting baseline scored in the same
run (precision, not time: this bench measures accuracy, and each figure is also a ratio to
the counting baseline). Nothing here is tuned: the seeds are the reporting seeds (1, 2, ...),
and no setting of the lens is read from the result.

    .venv/bin/python bench/people_bound.py [--seeds 20] [--cache DIR] [--size city]

About a minute a seed (the simulation, ingest and the lens), less with a warm ``--cache``.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from harmscope.checks.people import (
    REASON,
    USER,
    known_nominals,
    public_truth,
    records_rankings,
)
from harmscope.checks.scoring import score_rankings
from harmscope.checks.seeds import simulated_folder
from harmscope.people.attribute import attribute_harm
from harmscope.sources.records.pseudonym import Pseudonymiser, load_key

COLUMNS = ("lens", "counting", "past 24", "past 12", "quiet year")


def _order(harm: pd.Series) -> list[str]:
    h = harm[harm > 0]
    frame = pd.DataFrame({"u": h.index.astype(str), "h": h.to_numpy()})
    return frame.sort_values(["h", "u"], ascending=[False, True])["u"].tolist()


def _true_past(folder: Path, warehouse: Path, months: list[str], known: pd.Index) -> pd.Series:
    """True harm (CCHI days) of each known nominal over *months*, by pseudonym."""
    key = Pseudonymiser(load_key(warehouse))
    t = pd.read_csv(
        folder / "truth" / "person_month.csv", usecols=["month", "person_id", "true_harm"]
    )
    t = t[t["month"].isin(months)]
    harm = t.groupby("person_id")["true_harm"].sum()
    harm = harm.add(public_truth(folder, months), fill_value=0.0)
    harm.index = harm.index.map(key)
    return harm[harm.index.isin(known)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--size", default="city", help="simulated city size (validation: city)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="people-bound-") as tmp:
        work = args.cache or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        print("seed " + " ".join(f"{c:>9}" for c in COLUMNS), flush=True)
        for seed in range(1, args.seeds + 1):
            folder, warehouse = simulated_folder(seed, size=args.size, months=36, work=work)
            r = records_rankings("people", folder, warehouse)
            first, last = r.notes["ranked_months"]
            ph = attribute_harm(
                warehouse, user=USER, reason=REASON, months=(first, last), harm="all"
            )
            # The lens ranks the nominals with records in the ranked months; so do the oracles
            # (the truth is theirs). Not r.truth's index: that keeps only future harm > 0.
            known = known_nominals(ph.records)
            months = pd.read_csv(folder / "truth" / "person_month.csv", usecols=["month"])
            ranked = sorted(m for m in set(months["month"]) if first <= m <= last)
            scored = score_rankings(r).scores
            row = [scored["lens"].precision_at_k, scored["counting"].precision_at_k]
            year1, year2 = (
                _true_past(folder, warehouse, y, known) for y in (ranked[:12], ranked[12:])
            )
            quiet = pd.concat([year1, year2], axis=1).fillna(0.0).min(axis=1)
            for past in (_true_past(folder, warehouse, ranked, known), year2, quiet):
                oracle = _order(past)
                row.append(
                    score_rankings(dataclasses.replace(r, predicted=oracle, other_truths={}))
                    .scores["lens"]
                    .precision_at_k
                )
            rows.append(row)
            print(f"{seed:>4} " + " ".join(f"{v:>9.2f}" for v in row), flush=True)
    means = np.mean(rows, axis=0)
    print("mean " + " ".join(f"{v:>9.3f}" for v in means))
    base = means[1]
    print(
        "ratio to the counting baseline "
        + " ".join(
            f"{c}: {v / base:.1f}x" if base > 0 else f"{c}: n/a"
            for c, v in zip(COLUMNS, means, strict=True)
        )
    )
    wins = np.mean([row[0] >= row[2] for row in rows])
    print(f"seeds where the lens reaches the past-24 oracle: {wins:.0%}")


if __name__ == "__main__":
    main()
