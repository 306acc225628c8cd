"""One scorer for every lens: precision@k, harm captured, and wins over the two baselines.

A lens's check (:mod:`harmscope.checks.rankings`) hands over three rankings of one simulated
city — the lens, ``counting`` and ``busyness`` — and the true harm of each unit.
:func:`score_rankings` scores the three the same way; :func:`summarise` pools the scores of
many cities.

Metrics of one ranking
----------------------
With :math:`T_k` the ``k`` units of largest true harm (ties by id) and :math:`P_k` the
ranking's first ``k`` units, ``k`` capped at the number of units with true harm above 0
(``k_effective``):

``precision_at_k``
    :math:`|P_k \\cap T_k| / k`, where :math:`|P_k \\cap T_k|` is the size of the one-to-one
    matching of the check's ``matcher`` (equal ids by default; markets: a detected footprint
    locating a true market). A ranking shorter than ``k`` has fewer hits, never a smaller
    denominator.
``precision_at_20``
    The same at ``k2`` (default 20).
``harm_captured``
    True harm of the units :math:`P_k` finds — matched among *all* true units, not only
    :math:`T_k` — over the true harm of :math:`T_k`, the best any ``k`` units can hold
    (Chainey et al. 2008 call the unscaled share the hit rate; dividing by the best possible
    makes 1 the ceiling whatever the concentration of harm).
``ceiling_at_k``
    The best ``precision_at_k`` *any* order of the units the ranking holds could reach: the
    size of the matcher's one-to-one matching between **all** its units and :math:`T_k`, over
    ``k`` (for equal ids, :math:`|R \\cap T_k| / k` with :math:`R` every ranked unit — the
    precision of the oracle that orders the found units by their true harm). A ranking at its
    ceiling is bound by what it found (detection), not by how it weighed what it found: a tie
    with a baseline at the ceiling says "detection-bound", not "weighting failed".

Further truths
--------------
A check may hand more than one truth (:attr:`Rankings.other_truths`): the same three
rankings are scored against each and reported under its name (the people lens scores the
nominals the force knows as its primary truth, and everybody under ``all_population``); a
note ``{name}_truth`` of the check describes that truth (its ``truth`` note when reported).

Over seeds
----------
Each metric's mean with a 95 % interval by Student's t over seeds (mean ± t · s / √n; none
with one seed), and, per baseline, the seeds where the lens scores strictly higher
(``wins``), the same (``ties``) and lower (``losses``), with ``win_share`` = wins / seeds.

References
----------
Chainey, S., Tompson, L. and Uhlig, S. (2008). The utility of hotspot mapping for
    predicting spatial patterns of crime. *Security Journal* 21, 4-28.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from harmscope.checks.rankings import Rankings

__all__ = [
    "BASELINES",
    "CEILING",
    "METRICS",
    "LensScore",
    "RankingScore",
    "exact_matcher",
    "mean_interval",
    "score_rankings",
    "summarise",
    "true_order",
]

#: The two baselines every lens is compared with (``Rankings`` fields).
BASELINES: tuple[str, ...] = ("counting", "busyness")

#: Metrics scored per ranking, in report order.
METRICS: tuple[str, ...] = ("precision_at_k", "precision_at_20", "harm_captured")

#: Best precision@k any order of a ranking's own units could reach (module docstring).
CEILING = "ceiling_at_k"

_ROLES: tuple[tuple[str, str], ...] = (
    ("lens", ""),
    ("counting", "baseline_"),
    ("busyness", "busyness_"),
)

Matcher = Callable[[Sequence[str], Sequence[str]], list[tuple[str, str]]]


def exact_matcher(predicted: Sequence[str], truth: Sequence[str]) -> list[tuple[str, str]]:
    """Pairs of equal ids (each id once), the default matcher.

    Examples
    --------
    >>> exact_matcher(["a", "b", "a"], ["b", "c", "a"])
    [('a', 'a'), ('b', 'b')]
    """
    wanted = set(truth)
    seen: set[str] = set()
    out = []
    for u in predicted:
        if u in wanted and u not in seen:
            seen.add(u)
            out.append((u, u))
    return out


def true_order(truth: pd.Series) -> list[str]:
    """Units with true harm above 0, largest first, ties by id."""
    t = truth[truth > 0]
    frame = pd.DataFrame({"unit": t.index.astype(str), "harm": t.to_numpy(dtype=np.float64)})
    frame = frame.sort_values(["harm", "unit"], ascending=[False, True], kind="stable")
    return frame["unit"].tolist()


@dataclass(frozen=True)
class RankingScore:
    """The metrics of one ranking (the lens or a baseline) on one city.

    Attributes
    ----------
    precision_at_k, precision_at_20, harm_captured : float
        Module docstring.
    hits, hits_at_20 : int
        Matched units in the top ``k`` and top ``k2``.
    n_ranked : int
        Units the ranking holds.
    predicted : tuple of str
        Its first ``k_effective`` unit ids.
    matched : tuple of (str, str)
        ``(predicted, true)`` hits counted by ``precision_at_k``.
    ceiling_at_k : float
        Best ``precision_at_k`` any order of the ranked units could reach (module docstring).
    ceiling_hits : int
        Units of :math:`T_k` the ranking holds anywhere (matched one-to-one).
    """

    precision_at_k: float
    precision_at_20: float
    harm_captured: float
    hits: int
    hits_at_20: int
    n_ranked: int
    predicted: tuple[str, ...] = ()
    matched: tuple[tuple[str, str], ...] = ()
    ceiling_at_k: float = math.nan
    ceiling_hits: int = 0

    def metric(self, name: str) -> float:
        """The value of one of :data:`METRICS`."""
        return float(getattr(self, name))


@dataclass(frozen=True)
class LensScore:
    """One lens on one city: its ranking and both baselines, scored alike.

    Attributes
    ----------
    lens : str
    k, k2 : int
        Requested depths; ``k_effective``, ``k2_effective`` are capped at ``n_true``.
    n_true : int
        Units with true harm above 0.
    best_harm : float
        True harm of the ``k_effective`` most harmful units (the denominator of
        ``harm_captured``), in ``unit``.
    true_top : tuple of str
    scores : dict of str to RankingScore
        ``lens``, ``counting``, ``busyness``.
    unit : str
    notes : dict
        The check's notes (matching rule, options, schemes).
    others : dict of str to LensScore
        The same rankings scored against the check's further truths
        (:attr:`Rankings.other_truths`), by name.
    """

    lens: str
    k: int
    k2: int
    k_effective: int
    k2_effective: int
    n_true: int
    best_harm: float
    true_top: tuple[str, ...]
    scores: dict[str, RankingScore]
    unit: str = "CCHI days"
    notes: dict[str, Any] = field(default_factory=dict)
    others: dict[str, LensScore] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Flat JSON: ``precision_at_k`` (lens), ``baseline_precision_at_k`` (counting),
        ``busyness_precision_at_k``, the same for ``precision_at_20`` and ``harm_captured``,
        then the ceilings (``ceiling_at_k``, ``baseline_ceiling_at_k``,
        ``busyness_ceiling_at_k``), hits and ids, and each further truth's dict under its
        name."""
        out: dict[str, Any] = {}
        for metric in (*METRICS, CEILING):
            for role, prefix in _ROLES:
                out[f"{prefix}{metric}"] = self.scores[role].metric(metric)
        out.update(
            {
                "available": True,
                "reason": None,
                "k": self.k,
                "k_effective": self.k_effective,
                "k2": self.k2,
                "k2_effective": self.k2_effective,
                "n_true": self.n_true,
                "best_harm": self.best_harm,
                "unit": self.unit,
                "hits": self.scores["lens"].hits,
                "baseline_hits": self.scores["counting"].hits,
                "busyness_hits": self.scores["busyness"].hits,
                "n_ranked": self.scores["lens"].n_ranked,
                "baseline_n_ranked": self.scores["counting"].n_ranked,
                "busyness_n_ranked": self.scores["busyness"].n_ranked,
                "true_top": list(self.true_top),
                "predicted": list(self.scores["lens"].predicted),
                "baseline_predicted": list(self.scores["counting"].predicted),
                "busyness_predicted": list(self.scores["busyness"].predicted),
                "matched": [list(p) for p in self.scores["lens"].matched],
                "baseline_matched": [list(p) for p in self.scores["counting"].matched],
                "busyness_matched": [list(p) for p in self.scores["busyness"].matched],
                **{k: v for k, v in self.notes.items() if k not in ("available", "reason")},
            }
        )
        for name, other in self.others.items():
            out[name] = other.to_dict()
        return out


def _score_one(
    ranking: Sequence[str],
    order: list[str],
    truth: pd.Series,
    *,
    k: int,
    k2: int,
    best: float,
    matcher: Matcher,
) -> RankingScore:
    ranked = [str(u) for u in ranking]
    top = order[:k]
    pairs = matcher(ranked[:k], top)
    pairs20 = matcher(ranked[:k2], order[:k2])
    # Harm captured: the top k matched among every true unit (a unit just outside T_k still
    # carries harm), the most harmful first so a matcher that breaks ties by order prefers them.
    anywhere = matcher(ranked[:k], order)
    captured = float(sum(float(truth.get(t, 0.0)) for _, t in anywhere))
    # The ceiling: every ranked unit may be moved into the top k, so the best any order
    # reaches is the largest one-to-one matching of all of them with T_k (at most k pairs).
    reachable = matcher(ranked, top)
    return RankingScore(
        precision_at_k=len(pairs) / k,
        precision_at_20=len(pairs20) / k2,
        harm_captured=captured / best if best > 0 else math.nan,
        hits=len(pairs),
        hits_at_20=len(pairs20),
        n_ranked=len(ranked),
        predicted=tuple(ranked[:k]),
        matched=tuple(sorted(pairs)),
        ceiling_at_k=len(reachable) / k,
        ceiling_hits=len(reachable),
    )


def score_rankings(rankings: Rankings, *, k: int = 10, k2: int = 20) -> LensScore:
    """Score a lens and its two baselines on one city (module docstring).

    Parameters
    ----------
    rankings : Rankings
        From the lens's registered check.
    k : int, default 10
    k2 : int, default 20
        Depth of ``precision_at_20``.

    Returns
    -------
    LensScore

    Raises
    ------
    ValueError
        ``k`` or ``k2`` below 1, or no unit with true harm (in any of the truths).
    """
    others = {
        name: score_rankings(
            replace(rankings, truth=t, other_truths={}, notes=_notes_for(rankings.notes, name)),
            k=k,
            k2=k2,
        )
        for name, t in rankings.other_truths.items()
    }
    if k < 1 or k2 < 1:
        raise ValueError(f"k must be at least 1, got {min(k, k2)}")
    truth = rankings.truth.astype(np.float64)
    truth.index = truth.index.astype(str)
    order = true_order(truth)
    if not order:
        raise ValueError(f"{rankings.lens}: no unit has true harm above 0")
    k_eff, k2_eff = min(k, len(order)), min(k2, len(order))
    best = float(truth.reindex(order[:k_eff]).sum())
    matcher: Matcher = rankings.matcher or exact_matcher
    scores = {
        name: _score_one(
            getattr(rankings, "predicted" if name == "lens" else name),
            order,
            truth,
            k=k_eff,
            k2=k2_eff,
            best=best,
            matcher=matcher,
        )
        for name in ("lens", *BASELINES)
    }
    return LensScore(
        lens=rankings.lens,
        k=k,
        k2=k2,
        k_effective=k_eff,
        k2_effective=k2_eff,
        n_true=len(order),
        best_harm=best,
        true_top=tuple(order[:k_eff]),
        scores=scores,
        unit=rankings.unit,
        notes=dict(rankings.notes),
        others=others,
    )


def _notes_for(notes: dict[str, Any], name: str) -> dict[str, Any]:
    """The notes of a further truth: its own ``{name}_truth`` note becomes its ``truth``."""
    out = {k: v for k, v in notes.items() if not k.endswith("_truth")}
    if f"{name}_truth" in notes:
        out["truth"] = notes[f"{name}_truth"]
    return out


def mean_interval(values: Sequence[float], level: float = 0.95) -> dict[str, float | None]:
    """Mean and Student-t interval of ``values`` (``low``/``high`` None with one value).

    Examples
    --------
    >>> mean_interval([0.8, 0.9, 1.0])["mean"]
    0.9
    """
    x = np.asarray([v for v in values if not math.isnan(v)], dtype=np.float64)
    if x.size == 0:
        return {"mean": None, "low": None, "high": None}
    mean = float(x.mean())
    if x.size < 2:
        return {"mean": mean, "low": None, "high": None}
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return {"mean": mean, "low": mean - half, "high": mean + half}


def summarise(per_seed: Sequence[tuple[int, LensScore]], level: float = 0.95) -> dict[str, Any]:
    """Pool one lens's scores over seeds.

    Returns
    -------
    dict
        ``precision_at_k``, ``baseline_precision_at_k``, ``busyness_precision_at_k`` and the
        same for every metric of :data:`METRICS`: the means over seeds; ``intervals``:
        ``{metric: {lens|counting|busyness: {mean, low, high}}}``; ``wins``:
        ``{baseline: {metric: {wins, ties, losses, win_share}}}``, and for
        ``precision_at_k`` also ``ties_at_ceiling`` (ties where the lens is at its ceiling:
        detection-bound); ``ceiling_at_k``, ``baseline_ceiling_at_k``,
        ``busyness_ceiling_at_k``: mean ceilings (``intervals['ceiling_at_k']`` too) and
        ``at_ceiling``: seeds where the lens's precision@k equals its ceiling; ``seeds`` and
        ``per_seed`` (each seed's :meth:`LensScore.to_dict` metrics and ceilings); each
        further truth scored on every seed (:attr:`LensScore.others`) pooled the same way
        under its name.
    """
    if not per_seed:
        raise ValueError("no seed to summarise")
    out: dict[str, Any] = {}
    intervals: dict[str, dict[str, dict[str, float | None]]] = {}
    for metric in (*METRICS, CEILING):
        intervals[metric] = {}
        for role, prefix in _ROLES:
            band = mean_interval([s.scores[role].metric(metric) for _, s in per_seed], level)
            intervals[metric][role] = band
            out[f"{prefix}{metric}"] = band["mean"]
    wins: dict[str, dict[str, dict[str, float | int]]] = {}
    n = len(per_seed)
    for baseline in BASELINES:
        wins[baseline] = {}
        for metric in METRICS:
            d = [
                s.scores["lens"].metric(metric) - s.scores[baseline].metric(metric)
                for _, s in per_seed
            ]
            w = sum(1 for v in d if v > 1e-12)
            t = sum(1 for v in d if abs(v) <= 1e-12)
            wins[baseline][metric] = {"wins": w, "ties": t, "losses": n - w - t, "win_share": w / n}
        wins[baseline]["precision_at_k"]["ties_at_ceiling"] = sum(
            1
            for _, s in per_seed
            if abs(s.scores["lens"].precision_at_k - s.scores[baseline].precision_at_k) <= 1e-12
            and _at_ceiling(s)
        )
    first = per_seed[0][1]
    out.update(
        {
            "available": True,
            "reason": None,
            "k": first.k,
            "k2": first.k2,
            "level": level,
            "n_seeds": n,
            "seeds": [seed for seed, _ in per_seed],
            "intervals": intervals,
            "wins": wins,
            "at_ceiling": sum(1 for _, s in per_seed if _at_ceiling(s)),
            "unit": first.unit,
            "per_seed": [
                {
                    "seed": seed,
                    "n_true": s.n_true,
                    "k_effective": s.k_effective,
                    **{
                        key: value
                        for key, value in s.to_dict().items()
                        if any(key.endswith(m) for m in (*METRICS, CEILING))
                    },
                }
                for seed, s in per_seed
            ],
        }
    )
    for name in first.others:
        if all(name in s.others for _, s in per_seed):
            out[name] = summarise([(seed, s.others[name]) for seed, s in per_seed], level)
    return out


def _at_ceiling(score: LensScore) -> bool:
    lens = score.scores["lens"]
    return abs(lens.precision_at_k - lens.ceiling_at_k) <= 1e-12
