"""The MoRiLE-style priority model: harm, likelihood, confidence and organisational position.

MoRiLE (Management of Risk in Law Enforcement; National Police Chiefs' Council with the
College of Policing) scores each threat on four factors: the **harm** it does, the
**likelihood** that it goes on, the **confidence** of what is known about it, and the
**organisational position** (capacity, capability, partnership) to deal with it. This module
does not reproduce MoRiLE's own scoring matrices; it is an open, stated version of the same
four factors, on the rows any lens returns (:data:`~harmscope.priorities.lenses.BOARD_COLUMNS`).
Every scale and default is data (``priorities/data/morile.toml``); a force changes them with
a TOML file holding any subset of its keys (:func:`load_morile`).

Board score of row :math:`r` in lens :math:`\\ell`:

.. math::

    S_r = H^b_r \\cdot \\frac{L_r}{5} \\cdot C_r \\cdot O_r, \\qquad
    H_r = 5 \\, \\frac{h_r}{\\max_{j \\in \\ell} h_j}, \\qquad
    H^b_r = H_r \\, \\big((1 - \\mu) + \\mu \\, m_r\\big)

- :math:`h_r` the row's harm (``harm``, else ``score``; scheme unit), so :math:`H` is 0-5 and
  each lens is scaled to its own top row (lenses are not additive: a market holds its places);
- :math:`m_r` the community weight (:mod:`harmscope.priorities.community`; 1 = neutral) and
  :math:`\\mu` the community mix (``--community-mix``, default 0.25);
- :math:`L_r` likelihood, 1-5: the mean of the parts the lens supplies — trend
  :math:`3 + \\text{trend}/0.05`, recency (5 if the last harm was ≤ 1 month before the end,
  4 ≤ 3, 3 ≤ 6, 2 ≤ 12, else 1), forecast :math:`3 + 2 \\log_2(\\text{forecast\\_harm}/h)`,
  each clipped to 1-5; 3 when the lens supplies none;
- :math:`C_r = f + (1 - f)\\,c_r`, :math:`c_r` the ``confidence`` column (0-1) or the lens
  default, :math:`f` = 0.5;
- :math:`O_r = 1 + g\\,(\\bar o_r - 3)/2`, :math:`\\bar o_r` the mean of capacity, capability
  and partnership (1-5, 5 = least able to deal with it today), per unit, per lens or the
  default 3, :math:`g` = 0.2.

The uncertainty of a row is the score at ``harm_low`` and ``harm_high`` (same other factors),
and the rank range it allows (:func:`rank_range`). Where a lens gives no harm range but counts
its events (``harm_events``), the range is the Poisson one, :math:`h (1 \\mp 1.96/\\sqrt n)`.

References
----------
National Police Chiefs' Council / College of Policing. *MoRiLE: Management of Risk in Law
    Enforcement* (threat assessment and prioritisation method used by UK police forces and
    regional organised crime units).
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harmscope.errors import InputError
from harmscope.priorities.reasons import formatted

__all__ = [
    "DEFAULT_MORILE",
    "FORMULA",
    "likelihood",
    "load_morile",
    "rank_range",
    "score_board",
]

#: The packaged defaults (priorities/data/morile.toml).
DEFAULT_MORILE = Path(str(resources.files("harmscope.priorities") / "data" / "morile.toml"))

#: The board score in words, as it goes into every board's attrs and rows.
FORMULA = (
    "score = H_b * (L / 5) * C * O; H = 5 * harm / max harm of the row's lens; "
    "H_b = H * ((1 - mix) + mix * community_weight); L = likelihood 1-5 (mean of trend, "
    "recency, forecast parts; 3 if none); C = floor + (1 - floor) * confidence; "
    "O = 1 + gain * (mean(capacity, capability, partnership) - 3) / 2"
)


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def load_morile(path: str | Path | None = None) -> dict[str, Any]:
    """The MoRiLE config: the packaged defaults, with an analyst's TOML file laid over them.

    Parameters
    ----------
    path : str or Path, optional
        A TOML file with any subset of the keys of ``priorities/data/morile.toml`` (e.g.
        ``[position.lens.markets] partnership = 2`` or ``[position.unit."cell-250m-..."]``).

    Raises
    ------
    InputError
        Unreadable TOML (naming the file, line and column), or a factor score outside 1-5.
    """
    config = tomllib.loads(DEFAULT_MORILE.read_text("utf-8"))
    if path is None:
        return config
    p = Path(path)
    if not p.exists():
        raise InputError("no such file", path=str(p))
    try:
        extra = tomllib.loads(p.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        col = getattr(exc, "colno", None)
        raise InputError(f"not valid TOML ({exc})", path=str(p), line=line, column=col) from None
    config = _merge(config, extra)
    position = config["position"]
    scopes = [("position", position)]
    scopes += [(f"position.lens.{k}", v) for k, v in position.get("lens", {}).items()]
    scopes += [(f'position.unit."{k}"', v) for k, v in position.get("unit", {}).items()]
    for where, table in scopes:
        for part in ("capacity", "capability", "partnership"):
            if part in table and not 1 <= float(table[part]) <= 5:
                raise InputError(f"{where}.{part} = {table[part]!r}: expected 1 to 5", path=str(p))
    return config


def likelihood(frame: pd.DataFrame, config: Mapping[str, Any]) -> tuple[np.ndarray, list[str]]:
    """Likelihood L (1-5) of each row and which parts it rests on.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows with any of ``trend`` (fraction per month), ``months_since_last`` (months),
        ``forecast_harm`` (scheme unit, next period) and ``harm``.
    config : mapping
        The ``[likelihood]`` table.

    Returns
    -------
    (numpy.ndarray, list of str)
        L per row, and per row the parts used (``'trend, recency'``) or the default note.

    Examples
    --------
    >>> cfg = {"default": 3.0, "trend_step": 0.05, "recency_months": [1, 3, 6, 12],
    ...        "forecast_step": 2.0}
    >>> L, used = likelihood(pd.DataFrame({"trend": [0.05, None],
    ...                                    "months_since_last": [0, 7]}), cfg)
    >>> L.tolist(), used
    ([4.5, 2.0], ['trend, recency', 'recency'])
    """
    n = len(frame)
    parts: list[tuple[str, np.ndarray]] = []

    def col(name: str) -> np.ndarray:
        if name not in frame.columns:
            return np.full(n, np.nan)
        return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)

    trend = col("trend")
    parts.append(("trend", np.clip(3 + trend / float(config["trend_step"]), 1, 5)))
    since = col("months_since_last")
    edges = np.asarray(config["recency_months"], dtype=float)
    # 5 within the first edge, one step down past each further edge
    recency = 5 - np.searchsorted(edges, since, side="left").astype(float)
    parts.append(("recency", np.where(np.isnan(since), np.nan, np.clip(recency, 1, 5))))
    harm = col("harm")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = col("forecast_harm") / harm
        forecast = 3 + float(config["forecast_step"]) * np.log2(ratio)
    forecast = np.where(np.isfinite(forecast), np.clip(forecast, 1, 5), np.nan)
    # forecast 0 against past harm > 0: as unlikely as the scale goes
    forecast = np.where((ratio == 0) & (harm > 0), 1.0, forecast)
    parts.append(("forecast", forecast))
    stack = np.vstack([p for _, p in parts])
    have = ~np.isnan(stack)
    count = have.sum(axis=0)
    total = np.where(have, stack, 0.0).sum(axis=0)
    value = np.where(count > 0, total / np.maximum(count, 1), float(config["default"]))
    # The words once per combination of parts present (at most 2 ** 3), not once per row.
    pattern = (have * (1 << np.arange(len(parts)))[:, None]).sum(axis=0)
    words = {
        int(code): ", ".join(name for j, (name, _) in enumerate(parts) if code >> j & 1)
        or f"no trend, recency or forecast from this lens: {float(config['default']):g} assumed"
        for code in np.unique(pattern).tolist()
    }
    used = [words[code] for code in pattern.tolist()]
    return value, used


def rank_range(low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best and worst rank each row can take given every row's score range.

    Row :math:`i` ranks at best :math:`1 + \\#\\{j: \\text{low}_j > \\text{high}_i\\}` (only
    rows surely above it stay above) and at worst :math:`n - \\#\\{j: \\text{high}_j <
    \\text{low}_i\\}`.

    Examples
    --------
    >>> best, worst = rank_range(np.array([9.0, 5.0, 4.0]), np.array([11.0, 8.0, 6.0]))
    >>> best.tolist(), worst.tolist()
    ([1, 2, 2], [1, 3, 3])
    """
    lo_sorted = np.sort(low)
    hi_sorted = np.sort(high)
    n = len(low)
    above = n - np.searchsorted(lo_sorted, high, side="right")
    below = np.searchsorted(hi_sorted, low, side="left")
    return (1 + above).astype(np.int64), (n - below).astype(np.int64)


def _position(frame: pd.DataFrame, config: Mapping[str, Any]) -> tuple[np.ndarray, list[str]]:
    """Organisational position multiplier O per row, and where its scores came from."""
    pos = config["position"]
    lenses = pos.get("lens", {})
    units = pos.get("unit", {})
    scores = []
    source = []
    for part in ("capacity", "capability", "partnership"):
        # unit beats lens beats default: set-based, one map per level
        by_unit = frame["unit_id"].map({u: t[part] for u, t in units.items() if part in t})
        by_lens = frame["lens"].map({k: t[part] for k, t in lenses.items() if part in t})
        value = by_unit.fillna(by_lens).fillna(pos[part]).astype(float).to_numpy()
        where = np.where(
            by_unit.notna(), " (unit)", np.where(by_lens.notna(), " (lens)", " (default)")
        ).astype(object)
        scores.append(value)
        source.append(part + " " + formatted(value, "g") + where)
    pos_f = 1 + float(pos["gain"]) * (np.mean(scores, axis=0) - 3) / 2
    notes = (source[0] + ", " + source[1] + ", " + source[2]).tolist()
    return pos_f, notes


def score_board(
    frame: pd.DataFrame,
    config: Mapping[str, Any],
    *,
    community: np.ndarray | None = None,
    mix: float | None = None,
) -> pd.DataFrame:
    """Score and rank board rows on the four MoRiLE factors (formula in the module docstring).

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows with ``lens``, ``unit_id`` and ``harm`` or ``score``, plus any
        :data:`~harmscope.priorities.lenses.BOARD_COLUMNS`.
    config : mapping
        :func:`load_morile`.
    community : numpy.ndarray, optional
        Community weight :math:`m_r` per row (default 1).
    mix : float, optional
        Community mix :math:`\\mu` in [0, 1] (default ``[community] mix``, 0.25).

    Returns
    -------
    pandas.DataFrame
        The rows ordered by board score, ``rank`` 1..n, ``score`` the board score,
        ``lens_score`` the lens's own score, and the factors: ``harm_factor`` (H, 0-5),
        ``community_weight`` (m), ``harm_factor_blended`` (H_b), ``likelihood`` (L, 1-5),
        ``likelihood_from``, ``confidence_used`` (c, 0-1), ``confidence_factor`` (C),
        ``position_factor`` (O), ``position_from``, ``community_mix`` (the mix, on every
        row), ``score_formula`` (the row's arithmetic), ``score_low``/``score_high`` and
        ``rank_best``/``rank_worst``, ``defaults`` (list of str: what the row lacked and the
        default used). ``attrs["formula"]`` states the formula, ``attrs["community_mix"]``
        the mix.
    """
    mu = float(config["community"]["mix"] if mix is None else mix)
    if not 0.0 <= mu <= 1.0:
        raise ValueError(f"community mix must be between 0 and 1, got {mu}")
    out = frame.copy()
    n = len(out)
    # What each row lacked, one array per kind of default ("" where the row had it), in
    # the order the row's list names them; the lists are made once, at the end.
    lacked: list[np.ndarray] = []
    out["lens_score"] = pd.to_numeric(out["score"], errors="coerce").astype(float)
    harm = pd.to_numeric(out["harm"], errors="coerce") if "harm" in out.columns else None
    if harm is None:
        harm = pd.Series(np.nan, index=out.index)
    missing_harm = harm.isna().to_numpy()
    h = np.where(missing_harm, out["lens_score"].to_numpy(), harm.to_numpy(dtype=float))
    lacked.append(_where(missing_harm, "harm: none from this lens, its score used"))
    top = pd.Series(h, index=out.index).groupby(out["lens"].to_numpy()).transform("max")
    scale = float(config["harm"]["scale_max"])
    with np.errstate(divide="ignore", invalid="ignore"):
        per = np.where(top.to_numpy() > 0, scale / top.to_numpy(), 0.0)
    h_factor = h * per
    m = np.ones(n) if community is None else np.asarray(community, dtype=float)
    blend = (1 - mu) + mu * m
    h_blend = h_factor * blend
    like_frame = out.assign(harm=h)
    like, like_from = likelihood(like_frame, config["likelihood"])
    conf = config["confidence"]
    if "confidence" in out.columns:
        c = pd.to_numeric(out["confidence"], errors="coerce").to_numpy(dtype=float)
    else:
        c = np.full(n, np.nan)
    lens_default = out["lens"].map(conf.get("lens", {})).fillna(conf["default"]).to_numpy(float)
    assumed = "confidence: none from this lens, " + formatted(lens_default, "g") + " assumed"
    lacked.append(_where(np.isnan(c), assumed))
    c = np.where(np.isnan(c), lens_default, np.clip(c, 0, 1))
    conf_f = float(conf["floor"]) + (1 - float(conf["floor"])) * c
    pos_f, pos_from = _position(out, config)
    factor = like / 5 * conf_f * pos_f
    score = h_blend * factor
    # uncertainty: the harm range through the same factors
    given = out["harm_low"].notna().to_numpy() if "harm_low" in out.columns else np.zeros(n, bool)
    low, high = _harm_range(out, h)
    poisson = "uncertainty: no harm range from this lens, Poisson from its events"
    lacked.append(_where(~given & ~np.isnan(low), poisson))
    point = "uncertainty: no harm range from this lens, score range is the point"
    lacked.append(_where(np.isnan(low), point))
    low = np.where(np.isnan(low), h, low)
    high = np.where(np.isnan(high), h, high)
    out["harm_factor"] = h_factor
    out["community_weight"] = m
    out["harm_factor_blended"] = h_blend
    out["likelihood"] = like
    out["likelihood_from"] = like_from
    out["confidence_used"] = c
    out["confidence_factor"] = conf_f
    out["position_factor"] = pos_f
    out["position_from"] = pos_from
    out["score"] = score
    out["community_mix"] = mu
    # the row's own arithmetic: the formula with its numbers (the words are attrs["formula"])
    out["score_formula"] = (
        "H_b "
        + formatted(h_blend, ".3g")
        + " x L/5 "
        + formatted(like / 5, ".3g")
        + " x C "
        + formatted(conf_f, ".3g")
        + " x O "
        + formatted(pos_f, ".3g")
        + " = "
        + formatted(score, ".3g")
    ).tolist()
    out["score_low"] = low * per * blend * factor
    out["score_high"] = high * per * blend * factor
    codes, kinds = pd.factorize(np.asarray(like_from, dtype=object))
    words = np.array([f"likelihood: {u}" if u.startswith("no trend") else "" for u in kinds])
    lacked.append(words.astype(object)[codes])
    out["defaults"] = [[w for w in row if w] for row in zip(*lacked, strict=True)]
    sort_cols = ["score", "lens", "unit_id"]
    out = out.sort_values(sort_cols, ascending=[False, True, True], kind="stable")
    out = out.reset_index(drop=True)
    out["rank"] = np.arange(1, n + 1, dtype=np.int64)
    best, worst = rank_range(out["score_low"].to_numpy(), out["score_high"].to_numpy())
    out["rank_best"] = best
    out["rank_worst"] = worst
    out.attrs.update(frame.attrs)
    out.attrs.update({"formula": FORMULA, "community_mix": mu})
    return out


def _where(rows: np.ndarray, words: str | np.ndarray) -> np.ndarray:
    """*words* (one text, or one per row) on the *rows* (bool), ``""`` elsewhere: objects."""
    return np.where(rows, words, "").astype(object)


def _harm_range(frame: pd.DataFrame, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """harm_low/harm_high per row; Poisson from ``harm_events`` where no range is given."""

    def col(name: str) -> np.ndarray:
        if name not in frame.columns:
            return np.full(len(frame), np.nan)
        return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)

    low, high = col("harm_low"), col("harm_high")
    events = col("harm_events")
    # relative standard error of a Poisson count, 1/sqrt(n): 95 % range h(1 -/+ 1.96/sqrt n)
    with np.errstate(divide="ignore", invalid="ignore"):
        # no events: rel is inf and the row keeps its point (h x inf is never used)
        rel = 1.96 / np.sqrt(events)
        poisson = np.isnan(low) & np.isfinite(rel)
        low = np.where(poisson, h * np.clip(1 - rel, 0, None), low)
        high = np.where(poisson, h * (1 + rel), high)
    return low, high


def columns_in(frame: pd.DataFrame, names: Sequence[str]) -> list[str]:
    """The names present in *frame*, in order."""
    return [c for c in names if c in frame.columns]
