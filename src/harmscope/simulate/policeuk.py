"""Render simulated events as police.uk street, outcomes and stop-and-search tables.

Column names, order and values follow the real bulk-download files exactly
(:mod:`harmscope.simulate.vocab`): 64-hex Crime IDs, blank Crime ID and outcome for ASB,
"On or near ..." locations snapped to a fixed set of anonymous map points, outcome rows in
the month they were recorded (a "Suspect charged" row and a later court result for charged
crimes), and the last outcome category as at the end of the simulated period.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from harmscope.simulate import vocab
from harmscope.simulate.city import rng_for
from harmscope.simulate.params import CRIME_TYPES, OUTCOME_MIX, T
from harmscope.simulate.record import SimRecord

STREET_COLUMNS = vocab.STREET_HEADER.split(",")
OUTCOME_COLUMNS = vocab.OUTCOMES_HEADER.split(",")
STOP_SEARCH_COLUMNS = vocab.STOP_SEARCH_HEADER.split(",")
# Hour-of-day weights of searches (evening and night heavy, as in the City of London files).
_HOUR_P = np.array(
    [5, 4, 3, 2, 1, 1, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 7, 6], dtype=np.float64
)
_HOUR_P /= _HOUR_P.sum()


def hex_ids(rng: np.random.Generator, n: int) -> NDArray[np.str_]:
    """``n`` random 64-hex-digit ids (the police.uk Crime ID format), without Python loops."""
    if n == 0:
        return np.zeros(0, dtype="U64")
    raw = np.frombuffer(rng.bytes(32 * n), dtype=np.uint8)
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    chars = np.empty(64 * n, dtype=np.uint8)
    chars[0::2] = digits[raw >> 4]
    chars[1::2] = digits[raw & 15]
    return np.frombuffer(chars.tobytes(), dtype="S64").astype("U64")


def by_month(
    seed: int,
    key: int,
    month: NDArray[np.int64],
    draw: Callable[[np.random.Generator, int], NDArray[Any]],
) -> NDArray[Any]:
    """``draw(rng, k)`` for each month's ``k`` rows, one random stream per (key, month).

    ``month`` must be sorted. Rows of a month therefore get the same draws whatever happens in
    other months (e.g. an operation scheduled later does not change earlier months' files).
    """
    months, counts = np.unique(month, return_counts=True)
    parts = [draw(rng_for(seed, key, int(m)), int(k)) for m, k in zip(months, counts, strict=True)]
    return np.concatenate(parts) if parts else draw(rng_for(seed, key, 0), 0)


def _choice_by_type(rng: np.random.Generator, ctype: NDArray[np.int64]) -> NDArray[np.object_]:
    out = np.full(len(ctype), "", dtype=object)
    for name, mix in OUTCOME_MIX.items():
        sel = np.flatnonzero(ctype == T[name])
        if len(sel) == 0:
            continue
        cats = np.array(list(mix), dtype=object)
        pr = np.array(list(mix.values()))
        out[sel] = cats[rng.choice(len(cats), size=len(sel), p=pr / pr.sum())]
    return out


def _choice_by_month(
    seed: int, month: NDArray[np.int64], ctype: NDArray[np.int64]
) -> NDArray[np.object_]:
    out = np.full(len(ctype), "", dtype=object)
    months, start = np.unique(month, return_index=True)
    stop = np.append(start[1:], len(month))
    for m, a, b in zip(months, start, stop, strict=True):
        out[a:b] = _choice_by_type(rng_for(seed, 93, int(m)), ctype[a:b])
    return out


def street_and_outcomes(res: SimRecord) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Recorded events as police.uk street rows, and the outcomes rows."""
    c = res.city
    ev = res.recorded
    n = len(ev)
    seed = res.seed
    cell = ev["cell"].to_numpy()
    month = ev["month"].to_numpy()
    ctype = ev["type"].to_numpy()
    u_pt = by_month(seed, 90, month, lambda r, k: r.random(k))
    pt = c.cell_pt_start[cell] + (u_pt * c.cell_pt_count[cell]).astype(np.int64)
    asb = ctype == T["Anti-social behaviour"]
    ids = by_month(seed, 91, month, hex_ids).astype(object)
    ids[asb] = ""
    # Outcomes: last category, lag to the first outcome row, lag to a court result.
    last = _choice_by_month(seed, month, ctype)
    lag1 = by_month(seed, 94, month, lambda r, k: r.geometric(0.42, k) - 1)
    lag2 = by_month(seed, 95, month, lambda r, k: r.geometric(0.3, k))
    m1 = month + lag1
    m2 = m1 + lag2
    horizon = res.months
    court = np.isin(last, list(vocab.COURT_RESULTS))
    charged = court | np.isin(last, list(vocab.CHARGED_ONLY))
    single = ~asb & ~charged & ~np.isin(last, list(vocab.NO_OUTCOME_ROW))
    late1 = m1 >= horizon
    late2 = m2 >= horizon
    final = last.copy()
    final[(single | charged) & late1] = "Under investigation"
    final[court & ~late1 & late2] = "Awaiting court outcome"
    labels = np.array(res.month_labels, dtype=object)
    lsoa_code = c.areas["lsoa_code"].to_numpy()[c.cell_lsoa[cell]]
    lsoa_name = c.areas["lsoa_name"].to_numpy()[c.cell_lsoa[cell]]
    force = res.params.force_name
    street = pd.DataFrame(
        {
            "Crime ID": ids,
            "Month": labels[month],
            "Reported by": force,
            "Falls within": force,
            "Longitude": c.pt_lon[pt],
            "Latitude": c.pt_lat[pt],
            "Location": c.pt_location[pt],
            "LSOA code": lsoa_code,
            "LSOA name": lsoa_name,
            "Crime type": np.array(CRIME_TYPES, dtype=object)[ctype],
            "Last outcome category": final,
            "Context": "",
        }
    )
    parts = []
    for sel, otype, om in (
        (single & ~late1, last, m1),
        (charged & ~late1, np.full(n, "Suspect charged", dtype=object), m1),
        (court & ~late2, last, m2),
    ):
        idx = np.flatnonzero(sel)
        parts.append(pd.DataFrame({"_m": om[idx], "_i": idx, "Outcome type": otype[idx]}))
    o = pd.concat(parts, ignore_index=True).sort_values(["_m", "_i"], kind="stable")
    oi = o["_i"].to_numpy()
    outcomes = pd.DataFrame(
        {
            "Crime ID": ids[oi],
            "Month": labels[o["_m"].to_numpy()],
            "Reported by": force,
            "Falls within": force,
            "Longitude": c.pt_lon[pt[oi]],
            "Latitude": c.pt_lat[pt[oi]],
            "Location": c.pt_location[pt[oi]],
            "LSOA code": lsoa_code[oi],
            "LSOA name": lsoa_name[oi],
            "Outcome type": o["Outcome type"].to_numpy(),
        }
    )
    outcomes["_m"] = o["_m"].to_numpy()
    street["_m"] = month
    return street, outcomes


def stop_and_search(res: SimRecord) -> pd.DataFrame:
    """Simulated searches as police.uk stop-and-search rows (sorted by date within month)."""
    c = res.city
    ss = res.searches
    seed = res.seed
    cell = ss["cell"].to_numpy()
    month = ss["month"].to_numpy()
    drug = ss["drug"].to_numpy()
    found = ss["found"].to_numpy()
    op = ss["op"].to_numpy()
    key = iter(range(110, 140))

    def draw(f: Callable[[np.random.Generator, int], NDArray[Any]]) -> NDArray[Any]:
        return by_month(seed, next(key), month, f)

    def pick(options: Sequence[object], p: Sequence[float]) -> NDArray[Any]:
        pr = np.asarray(p, dtype=np.float64) / np.sum(p)
        return np.asarray(options, dtype=object)[draw(lambda r, k: r.choice(len(pr), size=k, p=pr))]

    u_pt = draw(lambda r, k: r.random(k))
    pt = c.cell_pt_start[cell] + (u_pt * c.cell_pt_count[cell]).astype(np.int64)
    first = np.array([np.datetime64(f"{lab}-01T00:00:00") for lab in res.month_labels])
    nxt = np.array([np.datetime64(f"{lab}-01", "M") + 1 for lab in res.month_labels])
    span = (nxt.astype("datetime64[s]") - first).astype(np.int64)
    secs = (
        draw(lambda r, k: r.integers(0, 31, k)) * 86400
        + draw(lambda r, k: r.choice(24, size=k, p=_HOUR_P)) * 3600
        + draw(lambda r, k: r.integers(0, 3600, k))
    )
    secs = np.minimum(secs, span[month] - 1)
    when = first[month] + secs.astype("timedelta64[s]")
    date = np.char.add(np.datetime_as_string(when, unit="s").astype(str), "+00:00")
    eth = pick(range(len(vocab.ETHNICITY)), [e[2] for e in vocab.ETHNICITY]).astype(np.int64)
    oth = pick(range(len(vocab.OTHER_OBJECTS)), [o[2] for o in vocab.OTHER_OBJECTS]).astype(
        np.int64
    )
    obj = np.where(drug, "Controlled drugs", np.array([o[0] for o in vocab.OTHER_OBJECTS])[oth])
    leg = np.where(
        drug, vocab.LEGISLATION_DRUGS, np.array([o[1] for o in vocab.OTHER_OBJECTS])[oth]
    )
    fd, fo = vocab.FIND_OUTCOMES_DRUGS, vocab.FIND_OUTCOMES_OTHER
    out_d = pick([x[0] for x in fd], [x[1] for x in fd])
    out_o = pick([x[0] for x in fo], [x[1] for x in fo])
    unrelated_arrest = draw(lambda r, k: r.random(k)) < 0.05
    outcome = np.where(
        found, np.where(drug, out_d, out_o), np.where(unrelated_arrest, "Arrest", vocab.NFA)
    )
    blank_loc = draw(lambda r, k: r.random(k)) < 0.03
    removal = draw(lambda r, k: r.random(k)) < 0.03
    ids = np.array([p.operation_id for p in res.plans] + [""], dtype=object)
    df = pd.DataFrame(
        {
            "Type": pick(vocab.SEARCH_TYPES, vocab.SEARCH_TYPE_P),
            "Date": date,
            "Part of a policing operation": np.where(op >= 0, "True", "False"),
            "Policing operation": ids[op],
            "Latitude": np.where(blank_loc, "", c.pt_lat[pt]),
            "Longitude": np.where(blank_loc, "", c.pt_lon[pt]),
            "Gender": pick(vocab.GENDERS, vocab.GENDER_P),
            "Age range": pick(vocab.AGE_RANGES, vocab.AGE_P),
            "Self-defined ethnicity": np.array([e[0] for e in vocab.ETHNICITY])[eth],
            "Officer-defined ethnicity": np.array([e[1] for e in vocab.ETHNICITY])[eth],
            "Legislation": leg,
            "Object of search": obj,
            "Outcome": outcome,
            "Outcome linked to object of search": np.where(found, "True", "False"),
            "Removal of more than just outer clothing": np.where(removal, "True", "False"),
        }
    )
    df["_m"] = month
    df["_d"] = date
    return df.sort_values(["_m", "_d"], kind="stable").drop(columns="_d").reset_index(drop=True)
