"""How the people forecast's ``persistence`` was chosen: a grid on the tuning seeds only.

Run ``.venv/bin/python bench/people_persistence.py [--seeds 12] [--cache DIR]`` (about a
minute a seed). For each tuning seed (101, 102, ...; :data:`harmscope.checks.seeds.TUNING_SEEDS`,
never reported as validation) the city is simulated (``city`` size, 36 months; kept under
``--cache`` for a later run), the people check ranks the first 24 months
(:func:`harmscope.checks.people.records_rankings`) and the scorer scores precision@10 against
the known nominals' true harm of the last 12 (the validation's primary people truth), once
per ``persistence`` of the grid (the other forecast parameters at their defaults). Prints
each seed's row and the means, with the counting baseline scored in the same run beside them
and each mean's ratio to counting's (precision, not time: this bench measures accuracy).
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from harmscope.checks.people import REASON, USER, records_rankings
from harmscope.checks.scoring import score_rankings
from harmscope.checks.seeds import TUNING_SEEDS, simulated_folder
from harmscope.people.attribute import attribute_harm
from harmscope.people.forecast import DEFAULT_MODEL

GRID = (0.0, 0.5, 0.9, 0.99, 1.0)


def _order(forecast: pd.Series) -> list[str]:
    f = forecast[forecast > 0]
    frame = pd.DataFrame({"u": f.index.astype(str), "f": f.to_numpy()})
    return frame.sort_values(["f", "u"], ascending=[False, True])["u"].tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=12)
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args()
    seeds = TUNING_SEEDS[: args.seeds]
    rows = []
    with tempfile.TemporaryDirectory(prefix="people-persistence-") as tmp:
        work = args.cache or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for seed in seeds:
            folder, warehouse = simulated_folder(seed, size="city", months=36, work=work)
            r = records_rankings("people", folder, warehouse)
            ph = attribute_harm(
                warehouse,
                user=USER,
                reason=REASON,
                months=tuple(r.notes["ranked_months"]),
                harm="all",
            )
            row = []
            for p in GRID:
                model = dataclasses.replace(DEFAULT_MODEL, persistence=p)
                figs = dataclasses.replace(ph, model=model).figures("people")
                ranked = dataclasses.replace(r, predicted=_order(figs["forecast_harm"]))
                row.append(score_rankings(ranked).scores["lens"].precision_at_k)
            row.append(score_rankings(r).scores["counting"].precision_at_k)
            rows.append(row)
            print(seed, " ".join(f"{v:.2f}" for v in row), flush=True)
    means = np.mean(rows, axis=0)
    print("persistence", " ".join(f"{p:g}" for p in GRID), "| counting")
    print("mean p@10  ", " ".join(f"{v:.3f}" for v in means))
    base = means[-1]
    ratio = " ".join(f"{v / base:.1f}x" if base > 0 else "n/a" for v in means[:-1])
    print("ratio to the counting baseline", ratio)


if __name__ == "__main__":
    main()
