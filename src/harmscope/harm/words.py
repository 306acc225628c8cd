"""The harm model in words: matrix cells and crime-type shares as phrases an analyst reads.

A matrix cell is keyed ``harm_type/bearer/source`` (``health/individuals/distribution``) for
machines; people read it from the taxonomy's own labels, so a force that localises the labels
in its taxonomy file gets its own words: ``"Health harm to individuals, from distribution"``.
A crime type's part of a unit's harm reads ``"Robbery: 45 % of harm"``. Percentages are
rounded to whole per cent (a space before ``%``, as the style guide of the Office for National
Statistics writes them).
"""

from __future__ import annotations

from collections.abc import Mapping

from harmscope.harm.taxonomy import Axis, Taxonomy

__all__ = ["cell_key", "cell_words", "percent", "share_words"]


def cell_key(cell: Mapping[str, object]) -> str:
    """Machine key of a matrix cell: ``'harm_type/bearer/source'``.

    Examples
    --------
    >>> cell_key({"harm_type": "health", "bearer": "individuals", "source": "use"})
    'health/individuals/use'
    """
    return f"{cell['harm_type']}/{cell['bearer']}/{cell['source']}"


def cell_words(taxonomy: Taxonomy, cell: Mapping[str, object]) -> str:
    """A matrix cell in the taxonomy's words: ``'<Type> harm to <bearer>, from <source>'``.

    Ids the taxonomy does not hold are shown as they are.

    Examples
    --------
    >>> from harmscope.harm.taxonomy import default_taxonomy
    >>> cell_words(default_taxonomy(),
    ...            {"harm_type": "social", "bearer": "communities", "source": "distribution"})
    'Social/structural harm to communities, from distribution'
    """

    def label(axis: Axis, key: object) -> str:
        try:
            return axis.get(str(key)).label
        except KeyError:
            return str(key)

    kind = label(taxonomy.harm_types, cell["harm_type"])
    bearer = label(taxonomy.bearers, cell["bearer"]).lower()
    source = label(taxonomy.sources, cell["source"]).lower()
    return f"{kind} harm to {bearer}, from {source}"


def percent(share: float) -> str:
    """A share in [0, 1] as whole per cent; below 0.5 % but above 0 says ``'<1 %'``.

    Examples
    --------
    >>> percent(0.781), percent(0.004), percent(0.0)
    ('78 %', '<1 %', '0 %')
    """
    if 0 < share < 0.005:
        return "<1 %"
    return f"{share * 100:.0f} %"


def share_words(label: str, share: float, *, of: str = "harm") -> str:
    """``'<label>: <share> of <of>'``.

    Examples
    --------
    >>> share_words("Violence and sexual offences", 0.62)
    'Violence and sexual offences: 62 % of harm'
    """
    return f"{label}: {percent(share)} of {of}"
