"""Reasons for a rank, in words: the crime types and harm-matrix cells behind a unit's harm.

A ranked row says *why* it ranks where it does in two kinds of words (:func:`word_reasons`):

- the crime types carrying most of its harm: ``"Violence and sexual offences: 62 % of harm"``;
- the matrix cells holding most of it, in the taxonomy's labels:
  ``"Health harm to individuals, from use: 1,508 days (55 %)"``.

Beside the words, ``reason_cells`` keeps the machine keys of those cells
(``health/individuals/use``, :func:`harmscope.harm.words.cell_key`) so JSON readers can join
them to the matrix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from harmscope.harm.taxonomy import Taxonomy
from harmscope.harm.words import cell_key, cell_words, percent, share_words

__all__ = [
    "Reasons",
    "formatted",
    "frame_reasons",
    "matrix_reasons",
    "short_unit",
    "type_reasons",
    "word_reasons",
]

#: A row's reasons: the phrases, and the matrix-cell keys behind the cell phrases.
Reasons = tuple[list[str], list[str]]


def formatted(values: Any, spec: str) -> np.ndarray:
    """``format(v, spec)`` of every value (floats), as an object array of str.

    Each distinct value is formatted once (a board's factor columns repeat a few thousand
    values over 100,000 rows); distinct by bit pattern, so ``-0.0`` keeps its sign. Add
    the result to str or to other such arrays to build one text per row in C.

    Examples
    --------
    >>> formatted([0.5, 1234.5, 0.5, -0.0], ".3g").tolist()
    ['0.5', '1.23e+03', '0.5', '-0']
    """
    array = np.ascontiguousarray(values, dtype=np.float64)
    codes, bits = pd.factorize(array.view(np.int64))
    texts = np.array([format(v, spec) for v in bits.view(np.float64).tolist()], dtype=object)
    return texts[codes]


def short_unit(unit: str) -> str:
    """Unit as written in a reason: ``'days of imprisonment'`` → ``'days'``; others unchanged.

    Examples
    --------
    >>> short_unit("days of imprisonment"), short_unit("events")
    ('days', 'events')
    """
    return "days" if unit.strip().lower().startswith("days") else unit.strip()


def matrix_reasons(cells: Iterable[Mapping[str, object]], unit: str, *, k: int = 3) -> list[str]:
    """The ``k`` largest non-zero harm cells as ``'type/bearer/source: value unit (share)'``.

    Parameters
    ----------
    cells : iterable of mapping
        Harm-matrix cells ``{harm_type, bearer, source, value}`` (e.g. ``HarmMatrix.cells``).
    unit : str
        Scheme unit.
    k : int, default 3
        How many reasons.

    Returns
    -------
    list of str
        Largest first; shares are of the unit's total harm (sum of all cells).

    Examples
    --------
    >>> cells = [{"harm_type": "health", "bearer": "individuals", "source": "distribution",
    ...           "value": 1234.0},
    ...          {"harm_type": "economic", "bearer": "individuals", "source": "use",
    ...           "value": 1508.0},
    ...          {"harm_type": "social", "bearer": "society", "source": "control", "value": 0.0}]
    >>> matrix_reasons(cells, "days of imprisonment")
    ['economic/individuals/use: 1,508 days (55%)', 'health/individuals/distribution: 1,234 days (45%)']
    """
    rows = [c for c in cells if float(str(c["value"])) > 0]
    total = sum(float(str(c["value"])) for c in rows)
    rows.sort(key=lambda c: -float(str(c["value"])))
    short = short_unit(unit)
    out = []
    for c in rows[:k]:
        value = float(str(c["value"]))
        out.append(
            f"{c['harm_type']}/{c['bearer']}/{c['source']}: {value:,.0f} {short} "
            f"({value / total:.0%})"
        )
    return out


def _top_cells(cells: Iterable[Mapping[str, object]]) -> tuple[list[Mapping[str, object]], float]:
    """Non-zero cells, largest first (ties by key, so reasons are deterministic), and total."""
    rows = [c for c in cells if float(str(c["value"])) > 0]
    rows.sort(key=lambda c: (-float(str(c["value"])), cell_key(c)))
    return rows, sum(float(str(c["value"])) for c in rows)


def type_reasons(
    types: Mapping[str, float], *, k: int = 2, total: float | None = None
) -> list[str]:
    """The ``k`` crime types with most harm, as ``'<type>: <share> of harm'``.

    Parameters
    ----------
    types : mapping of str to float
        Harm of each crime type in the unit (scheme unit; zeros ignored).
    k : int, default 2
    total : float, optional
        The unit's harm, when ``types`` holds only its largest types; default their sum.

    Examples
    --------
    >>> type_reasons({"Robbery": 300.0, "Burglary": 100.0, "Shoplifting": 0.0})
    ['Robbery: 75 % of harm', 'Burglary: 25 % of harm']
    """
    rows = sorted(
        ((t, float(v)) for t, v in types.items() if float(v) > 0), key=lambda r: (-r[1], r[0])
    )
    whole = sum(v for _, v in rows) if total is None else float(total)
    return [share_words(t, v / whole) for t, v in rows[:k]]


def word_reasons(
    cells: Iterable[Mapping[str, object]],
    types: Mapping[str, float],
    unit: str,
    taxonomy: Taxonomy,
    *,
    k: int = 3,
    k_types: int = 2,
    types_total: float | None = None,
) -> Reasons:
    """A unit's reasons in words, and the matrix keys behind them.

    Parameters
    ----------
    cells : iterable of mapping
        Harm-matrix cells ``{harm_type, bearer, source, value}`` of the unit.
    types : mapping of str to float
        Harm per crime type of the unit.
    unit : str
        Scheme unit (``'days of imprisonment'`` is written ``days``).
    taxonomy : Taxonomy
        Labels of the matrix axes.
    k, k_types : int
        How many matrix cells and crime types to name.
    types_total : float, optional
        The unit's harm when ``types`` holds only its largest types (as
        :attr:`harmscope.markets.Market.top_types` does); default their sum.

    Returns
    -------
    (list of str, list of str)
        The phrases (crime types first, then matrix cells, largest first; shares of the
        unit's total harm) and the ``harm_type/bearer/source`` keys of the cells named.

    Examples
    --------
    >>> from harmscope.harm.taxonomy import default_taxonomy
    >>> words, keys = word_reasons(
    ...     [{"harm_type": "health", "bearer": "individuals", "source": "use", "value": 30.0},
    ...      {"harm_type": "economic", "bearer": "individuals", "source": "use", "value": 70.0}],
    ...     {"Burglary": 100.0}, "days of imprisonment", default_taxonomy(), k=2)
    >>> words
    ['Burglary: 100 % of harm', 'Economic harm to individuals, from use: 70 days (70 %)', 'Health harm to individuals, from use: 30 days (30 %)']
    >>> keys
    ['economic/individuals/use', 'health/individuals/use']
    """
    rows, total = _top_cells(cells)
    short = short_unit(unit)
    words = type_reasons(types, k=k_types, total=types_total)
    keys = []
    for c in rows[:k]:
        value = float(str(c["value"]))
        words.append(f"{cell_words(taxonomy, c)}: {value:,.0f} {short} ({percent(value / total)})")
        keys.append(cell_key(c))
    return words, keys


def frame_reasons(
    matrix: pd.DataFrame,
    types: pd.DataFrame,
    unit_columns: Sequence[str],
    unit: str,
    taxonomy: Taxonomy,
    *,
    k: int = 3,
    k_types: int = 2,
) -> pd.DataFrame:
    """Every unit's reasons at once: :func:`word_reasons` for a whole table of units.

    Set-based: the top cells and types of all units are picked with one sort and one
    ``cumcount`` (no per-unit ``to_dict``), so 174,000 units cost seconds, not minutes
    (issue 13: the row-by-row form took 135 s on the 39-force extract).

    Parameters
    ----------
    matrix : pandas.DataFrame
        ``unit_columns`` + ``harm_type, bearer, source, value``: each unit's harm-matrix
        cells (e.g. :func:`harmscope.harm.shares.spread_harm`), scheme unit.
    types : pandas.DataFrame
        ``unit_columns`` + ``event_key, value``: each unit's harm per crime type, same unit.
    unit_columns : sequence of str
        Columns naming a unit (``['cell_x', 'cell_y']``).
    unit : str
        Scheme unit (``'days of imprisonment'`` is written ``days``).
    taxonomy : Taxonomy
        Labels of the matrix axes.
    k, k_types : int
        How many matrix cells and crime types to name.

    Returns
    -------
    pandas.DataFrame
        ``unit_columns`` + ``reasons`` (list of str: crime types first, then matrix cells,
        largest first, each a share of the unit's harm) + ``reason_cells`` (the
        ``harm_type/bearer/source`` keys named), one row per unit with any non-zero cell or
        type; the same words :func:`word_reasons` gives unit by unit.
    """
    keys = list(unit_columns)
    short = short_unit(unit)
    cells = matrix.loc[matrix["value"] > 0, [*keys, "harm_type", "bearer", "source", "value"]]
    cells = cells.assign(
        key=cells["harm_type"].astype(str)
        + "/"
        + cells["bearer"].astype(str)
        + "/"
        + cells["source"].astype(str)
    )
    cells = cells.assign(total=cells.groupby(keys)["value"].transform("sum"))
    # largest first, ties by key: the order word_reasons uses, so the words are the same
    cells = cells.sort_values(
        [*keys, "value", "key"], ascending=[*(True for _ in keys), False, True]
    )
    cells = cells[cells.groupby(keys).cumcount() < k]
    # Each phrase is put together in C from parts made once per distinct label, figure or
    # share (a board repeats a few hundred figures over 100,000 rows), not once per row.
    label = _per_distinct(
        lambda t, b, s: cell_words(taxonomy, {"harm_type": t, "bearer": b, "source": s}),
        cells["harm_type"],
        cells["bearer"],
        cells["source"],
    )
    figure = _per_distinct(lambda v: f"{v:,.0f}", cells["value"])
    share = _per_distinct(percent, (cells["value"] / cells["total"]).to_numpy())
    cells = cells.assign(text=label + ": " + figure + f" {short} (" + share + ")")
    kinds = types.loc[types["value"] > 0, [*keys, "event_key", "value"]]
    kinds = kinds.assign(total=kinds.groupby(keys)["value"].transform("sum"))
    kinds = kinds.sort_values(
        [*keys, "value", "event_key"], ascending=[*(True for _ in keys), False, True]
    )
    kinds = kinds[kinds.groupby(keys)["value"].cumcount() < k_types]
    kinds = kinds.assign(
        text=_per_distinct(
            lambda t, v: share_words(str(t), v),
            kinds["event_key"],
            (kinds["value"] / kinds["total"]).to_numpy(),
        )
    )
    # type phrases first, then cell phrases: one concatenation, one stable group into lists
    phrases = pd.concat(
        [kinds[[*keys, "text"]].assign(part=0), cells[[*keys, "text"]].assign(part=1)],
        ignore_index=True,
    ).sort_values([*keys, "part"], kind="stable")
    words = _lists(phrases, keys, "text").rename("reasons")
    named = _lists(cells.sort_values(keys, kind="stable"), keys, "key").rename("reason_cells")
    out = pd.concat([words, named], axis=1).reset_index()
    out["reason_cells"] = [v if isinstance(v, list) else [] for v in out["reason_cells"]]
    return out


def _lists(frame: pd.DataFrame, keys: list[str], column: str) -> pd.Series:
    """*column* gathered into one list per unit of *frame* (already sorted by *keys*).

    Slices of one array at the group boundaries: ``groupby().agg(list)`` calls Python once per
    group through pandas (most of the time of this function on the 39-force extract's 164,000 cells).
    """
    if frame.empty:
        return pd.Series(
            [], index=pd.MultiIndex.from_arrays([[] for _ in keys], names=keys), dtype=object
        )
    index = pd.MultiIndex.from_frame(frame[keys])
    codes = frame.groupby(keys, sort=False).ngroup().to_numpy()
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    ends = np.r_[starts[1:], len(codes)]
    values = frame[column].tolist()
    lists = [values[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
    return pd.Series(lists, index=index[starts], dtype=object)


def _per_distinct(make: Callable[..., str], *columns: Any) -> np.ndarray:
    """``make(*row)`` for every row of *columns* (arrays of one length), as an object array.

    ``make`` is called once per distinct row, with Python values; floats are told apart by
    bit pattern (``-0.0`` is not ``0.0``), anything else by equality (missing values too).
    """
    arrays = [np.asarray(c) for c in columns]
    n = len(arrays[0]) if arrays else 0
    row = np.zeros(n, dtype=np.int64)
    for a in arrays:
        codes, uniques = pd.factorize(
            a.view(np.int64) if a.dtype == np.float64 else a, use_na_sentinel=False
        )
        row, _ = pd.factorize(row * len(uniques) + codes)
    groups = int(row.max()) + 1 if n else 0
    first = np.empty(groups, dtype=np.int64)
    first[row[::-1]] = np.arange(n - 1, -1, -1)  # each distinct row's first occurrence
    texts = [make(*r) for r in zip(*(a[first].tolist() for a in arrays), strict=True)]
    return np.array(texts, dtype=object)[row]
