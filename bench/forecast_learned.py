"""Could a learned model catch more of next month's harm? Gradient boosting beside ``forecast_harm``.

Issue 12 item 6 asks the places ranking to catch at least 18 % of next month's all-crime harm
in the top 1 % of Lincolnshire's occupied 250 m cells (``validate-forecast --within 0``, 24
rolling origins). ``forecast_harm`` catches 16.4 %, and the best *single* map chosen with
hindsight of every outcome 16.9 % (``docs/forecast.md``). Only a map whose cells change from
month to month can beat that bound, and only if the changes can be foreseen: seasons (the
Lincolnshire coast in summer), trends, spill-over from neighbouring cells.

This bench fits the usual machine-learning forecast for that (Wheeler & Steenbeek 2021):
gradient-boosted trees with a Poisson loss (scikit-learn's ``HistGradientBoostingRegressor``).
At every origin the model is fitted afresh on all earlier origins only (features at month
*s*, the harm of month *s* + 1, for *s* + 1 up to the origin: nothing from the future), then
ranks the cells for the next month. Features per cell, all from months up to the origin:

- each crime type's count in the last month, and its mean over the last 3, 12 and all months;
- harm the same four ways, and the events of every kind over 12 and all months;
- harm and violence in the same month a year before the month forecast;
- the 3 x 3 neighbourhood's mean monthly harm, violence and events over 12 months;
- the calendar month forecast.

``--target types`` fits one model per type instead, for the five types that hold almost all of
the harm, and weighs the forecast counts by each type's harm per event (the idea behind
``forecast_harm``, with a learned count model in place of empirical Bayes).

The grids are the check's own (:func:`harmscope.places.forecast.forecast_grids`), the scorer
is the check's (:func:`harmscope.places.forecast_accuracy.forecast_measures`), and the baselines
``forecast_harm``, ``mean_harm`` and ``count`` are scored in the same run, so the printed ratio
to ``forecast_harm`` compares like with like. This bench measures accuracy, not time.

    .venv/bin/python bench/forecast_learned.py [--target harm|types] [--data DIR] [--db FILE]

About five minutes on two cores for ``harm`` (24 fits), eleven for ``types``.

References
----------
Wheeler, A. P. & Steenbeek, W. (2021). Mapping the risk terrain for crime using machine
learning. *Journal of Quantitative Criminology*, 37, 445–480.
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from sklearn.ensemble import HistGradientBoostingRegressor

from harmscope.places.forecast import forecast_grids, hindsight_bound
from harmscope.places.forecast_accuracy import DEFAULT_SHARES, forecast_measures
from harmscope.places.forecast_rankers import ranking_scores
from harmscope.warehouse.ingest import ingest_paths

HERE = Path(__file__).resolve().parent
DEFAULT = HERE.parent.parent / "shared" / "data" / "policeuk-lincolnshire-2017-02_2020-01"
WARMUP = 12  # as validate-forecast: the first origin is month 12
VIOLENCE = "Violence and sexual offences"
#: The types --target types models: together about 99 % of Lincolnshire's CCHI harm.
MODELLED = (VIOLENCE, "Burglary", "Robbery", "Criminal damage and arson", "Anti-social behaviour")


def _mean(grid: NDArray[np.float64], t: int, months: int | None) -> NDArray[np.float64]:
    """Mean of rows t - months + 1 .. t (all rows up to t when months is None)."""
    lo = 0 if months is None else max(0, t - months + 1)
    return np.asarray(grid[lo : t + 1].mean(axis=0))


def features(
    t: int,
    harm: NDArray[np.float64],
    events: NDArray[np.float64],
    types: dict[str, NDArray[np.float64]],
    neighbours: object,
) -> NDArray[np.float64]:
    """Per-cell features from months 0..t (see the module docstring), shape (cells, features)."""
    cols = []
    for grid in [*types.values(), harm]:
        cols += [grid[t], _mean(grid, t, 3), _mean(grid, t, 12), _mean(grid, t, None)]
    cols += [_mean(events, t, 12), _mean(events, t, None)]
    for grid in (harm, types[VIOLENCE]):
        # The same calendar month a year before the month forecast (t + 1 - 12).
        cols.append(grid[t - 11] if t >= 11 else _mean(grid, t, None))
    for grid in (harm, types[VIOLENCE], events):
        cols.append(neighbours @ _mean(grid, t, 12))  # type: ignore[operator]
    cols.append(np.full(harm.shape[1], (t + 1) % 12, dtype=np.float64))
    return np.column_stack(cols)


def _model() -> HistGradientBoostingRegressor:
    return HistGradientBoostingRegressor(
        loss="poisson",
        max_iter=200,
        learning_rate=0.05,
        max_leaf_nodes=15,
        min_samples_leaf=50,
        random_state=0,
    )


def learned_scores(
    harm: NDArray[np.float64],
    events: NDArray[np.float64],
    types: dict[str, NDArray[np.float64]],
    weights: dict[str, float],
    coords: NDArray[np.float64],
    origins: NDArray[np.int64],
    *,
    target: str,
    cell_size: float,
) -> NDArray[np.float64]:
    """The model's forecast of next month's harm per origin and cell, fitted on the past only."""
    tree = cKDTree(coords)
    neighbours = tree.sparse_distance_matrix(tree, 1.5 * cell_size, p=np.inf).tocsr()
    neighbours.data[:] = 1.0  # the 3 x 3 block of cells, the cell itself included
    first = 2  # a quarter of history before a month is used as a training example
    feats = {
        t: features(t, harm, events, types, neighbours) for t in range(first, int(origins[-1]) + 1)
    }
    out = np.zeros((origins.size, harm.shape[1]))
    for row, t in enumerate(origins):
        past = range(first, int(t))  # example s is scored on month s + 1 <= t
        x = np.vstack([feats[s] for s in past])
        if target == "harm":
            out[row] = (
                _model().fit(x, np.concatenate([harm[s + 1] for s in past])).predict(feats[t])
            )
        else:
            for key in MODELLED:
                y = np.concatenate([types[key][s + 1] for s in past])
                out[row] += weights[key] * _model().fit(x, y).predict(feats[t])
        print(f"  origin {row + 1}/{origins.size} fitted", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=("harm", "types"), default="harm")
    parser.add_argument("--data", type=Path, default=DEFAULT, help="police.uk street files")
    parser.add_argument("--db", type=Path, help="an existing warehouse of --data (skips ingest)")
    args = parser.parse_args()
    cell_size = 250.0
    with tempfile.TemporaryDirectory(prefix="forecast-learned-") as tmp:
        db = args.db
        if db is None:
            db = Path(tmp) / "w.duckdb"
            ingest_paths([args.data], db=db)
        grids = forecast_grids(db, within=0, by_type=True, cell_size=cell_size)
    assert grids.type_counts is not None and grids.type_weights is not None
    types = {k: np.asarray(v.toarray(), dtype=np.float64) for k, v in grids.type_counts.items()}
    periods = len(grids.month_labels)
    origins = np.arange(WARMUP - 1, periods - 1, dtype=np.int64)
    outcome = grids.harm[origins + 1]
    scores = ranking_scores(
        grids.harm,
        grids.all_events,
        grids.coords,
        origins,
        window=12,
        half_life=3.0,
        distance=1.5 * cell_size,
        kde=None,
        rankings=("mean_harm", "count", "forecast_harm"),
        type_counts=grids.type_counts,
        type_weights=grids.type_weights,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        scores["learned"] = learned_scores(
            grids.harm,
            grids.all_events,
            types,
            grids.type_weights,
            grids.coords,
            origins,
            target=args.target,
            cell_size=cell_size,
        )
    bound = hindsight_bound({"harm": outcome}, DEFAULT_SHARES)["harm"]
    print(
        f"{args.data.name}: {grids.coords.shape[0]:,} occupied cells, {origins.size} origins "
        f"({grids.month_labels[origins[0]]} to {grids.month_labels[origins[-1]]}), "
        f"model target: {args.target}"
    )
    print("mean harm hit rate, % of next month's harm in the top cells")
    print("share      " + " ".join(f"{name:>13}" for name in scores) + "  hindsight")
    means = {}
    for name, s in scores.items():
        means[name] = np.nanmean(forecast_measures(s, outcome, DEFAULT_SHARES).hit_rate, axis=0)
    for j, share in enumerate(DEFAULT_SHARES):
        row = " ".join(f"{100 * means[name][j]:>13.1f}" for name in scores)
        print(f"{share:>5.0%}      {row}  {100 * (bound[f'{share:g}'] or np.nan):>9.1f}")
    ratio = means["learned"][0] / means["forecast_harm"][0]
    wins = np.mean(
        forecast_measures(scores["learned"], outcome, DEFAULT_SHARES).hit_rate[:, 0]
        > forecast_measures(scores["forecast_harm"], outcome, DEFAULT_SHARES).hit_rate[:, 0]
    )
    print(
        f"learned / forecast_harm at 1 %: {ratio:.3f}x; the learned map catches more "
        f"at {wins:.0%} of origins; target 18 %"
    )


if __name__ == "__main__":
    main()
