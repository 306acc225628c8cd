"""WGS84 longitude/latitude to British National Grid (EPSG:27700) as plain SQL arithmetic.

police.uk publishes WGS84 points; every spatial method here works in metres on the
British National Grid. The projection runs once, at ingest, inside the engine, as ordinary
arithmetic (sin, cos, atan2, sqrt), so it is vectorised, parallel and portable to any SQL
engine, with no spatial extension. It is the Ordnance Survey method: a 7-parameter Helmert
transformation WGS84 -> OSGB36 (accurate to about 5 m, the same transformation PROJ applies
when no OSTN15 grid is installed), then the Transverse Mercator series of the National Grid.
The tests check it against pyproj to a few millimetres.

References
----------
Ordnance Survey (2020). *A guide to coordinate systems in Great Britain*, v3.6, §6.6 and
Annexes B, C.
"""

from __future__ import annotations

import math

DEFAULT_CELL_SIZE = 250
"""Default grid cell size, metres (a street block or two: the scale of most hot-spot policing).

Here, not in :mod:`harmscope.places.grid`, so that every command's options can name it
without importing pandas."""

# WGS84 and Airy 1830 ellipsoids (metres).
_WGS84_A, _WGS84_B = 6378137.0, 6356752.314245
_AIRY_A, _AIRY_B = 6377563.396, 6356256.909
# Helmert WGS84 -> OSGB36: translations (m), scale (ppm), rotations (arc seconds).
_TX, _TY, _TZ = -446.448, 125.157, -542.060
_S = 20.4894e-6
_SEC = math.pi / (180 * 3600)
_RX, _RY, _RZ = -0.1502 * _SEC, -0.2470 * _SEC, -0.8421 * _SEC
# National Grid projection constants.
_F0 = 0.9996012717
_PHI0, _LAM0 = math.radians(49.0), math.radians(-2.0)
_E0, _N0 = 400000.0, -100000.0


def _lit(v: float) -> str:
    return repr(float(v))


def bng_select_sql(source: str, *, lon: str = "longitude", lat: str = "latitude") -> str:
    """SQL that adds ``x`` and ``y`` (BNG metres) to every row of ``source``.

    ``source`` is a table name or a parenthesised subquery; the result keeps all its
    columns and adds ``x``, ``y`` (NULL where ``lon``/``lat`` are NULL). Written as nested
    SELECTs so each intermediate quantity is computed once per row.
    """
    e2w = 1 - _WGS84_B**2 / _WGS84_A**2
    e2a = 1 - _AIRY_B**2 / _AIRY_A**2
    ep2a = _AIRY_A**2 / _AIRY_B**2 - 1
    n = (_AIRY_A - _AIRY_B) / (_AIRY_A + _AIRY_B)
    s1 = 1 + _S
    l = _lit  # noqa: E741 - keeps the formulas readable
    # 1. geodetic -> geocentric cartesian on WGS84 (height 0).
    cart = f"""SELECT *, sin(radians({lat})) AS _p1, cos(radians({lat})) AS _l1,
        radians({lon}) AS _nu_w FROM {source}"""
    # (_p1, _l1, _nu_w hold sin φ, cos φ, λ here, reusing the hidden names.)
    xyz = f"""SELECT * REPLACE (
        {l(_WGS84_A)} / sqrt(1 - {l(e2w)} * _p1 * _p1) AS _nu_w),
        {l(_WGS84_A)} / sqrt(1 - {l(e2w)} * _p1 * _p1) * _l1 * cos(_nu_w) AS _x1,
        {l(_WGS84_A)} / sqrt(1 - {l(e2w)} * _p1 * _p1) * _l1 * sin(_nu_w) AS _y1,
        {l(_WGS84_A)} / sqrt(1 - {l(e2w)} * _p1 * _p1) * {l(1 - e2w)} * _p1 AS _z1
        FROM ({cart})"""
    # 2. Helmert to OSGB36 cartesian.
    helm = f"""SELECT *,
        {l(_TX)} + {l(s1)} * _x1 - {l(_RZ)} * _y1 + {l(_RY)} * _z1 AS _x2,
        {l(_TY)} + {l(_RZ)} * _x1 + {l(s1)} * _y1 - {l(_RX)} * _z1 AS _y2,
        {l(_TZ)} - {l(_RY)} * _x1 + {l(_RX)} * _y1 + {l(s1)} * _z1 AS _z2 FROM ({xyz})"""
    # 3. cartesian -> geodetic on Airy 1830 (Bowring's closed form; sub-mm near h = 0).
    pth = f"""SELECT *, sqrt(_x2 * _x2 + _y2 * _y2) AS _pp,
        atan2(_z2 * {l(_AIRY_A)}, sqrt(_x2 * _x2 + _y2 * _y2) * {l(_AIRY_B)}) AS _th
        FROM ({helm})"""
    geo = f"""SELECT *,
        atan2(_z2 + {l(ep2a * _AIRY_B)} * sin(_th) * sin(_th) * sin(_th),
              _pp - {l(e2a * _AIRY_A)} * cos(_th) * cos(_th) * cos(_th)) AS _phi,
        atan2(_y2, _x2) - {l(_LAM0)} AS _dl FROM ({pth})"""
    # 4. Transverse Mercator series of the National Grid (each trig function computed once).
    af0, bf0 = _AIRY_A * _F0, _AIRY_B * _F0
    trig = f"""SELECT *, sin(_phi) AS _s, cos(_phi) AS _c, _phi - {l(_PHI0)} AS _dp,
        _phi + {l(_PHI0)} AS _sp FROM ({geo})"""
    terms = f"""SELECT *,
        {l(af0)} / sqrt(1 - {l(e2a)} * _s * _s) AS _nu,
        {l(af0 * (1 - e2a))} / pow(1 - {l(e2a)} * _s * _s, 1.5) AS _rho,
        (_s * _s) / (_c * _c) AS _t2,
        _dl * _dl AS _dl2,
        {l(bf0)} * (
          {l(1 + n + 1.25 * n**2 + 1.25 * n**3)} * _dp
          - {l(3 * n + 3 * n**2 + 21 / 8 * n**3)} * sin(_dp) * cos(_sp)
          + {l(15 / 8 * n**2 + 15 / 8 * n**3)} * sin(2 * _dp) * cos(2 * _sp)
          - {l(35 / 24 * n**3)} * sin(3 * _dp) * cos(3 * _sp)
        ) AS _m FROM ({trig})"""
    eta = "(_nu / _rho - 1)"
    c3, c5 = "(_c * _c * _c)", "(_c * _c * _c * _c * _c)"
    north = f"""(_m + {l(_N0)}
        + _nu / 2 * _s * _c * _dl2
        + _nu / 24 * _s * {c3} * (5 - _t2 + 9 * {eta}) * _dl2 * _dl2
        + _nu / 720 * _s * {c5} * (61 - 58 * _t2 + _t2 * _t2) * _dl2 * _dl2 * _dl2)"""
    east = f"""({l(_E0)} + _nu * _c * _dl
        + _nu / 6 * {c3} * (_nu / _rho - _t2) * _dl2 * _dl
        + _nu / 120 * {c5}
          * (5 - 18 * _t2 + _t2 * _t2 + 14 * {eta} - 58 * _t2 * {eta}) * _dl2 * _dl2 * _dl)"""
    hidden = (
        "_nu_w, _p1, _l1, _x1, _y1, _z1, _x2, _y2, _z2, _pp, _th, _phi, _dl, _s, _c, _dp, _sp, "
        "_nu, _rho, _t2, _dl2, _m"
    )
    return f"SELECT * EXCLUDE ({hidden}), {east} AS x, {north} AS y FROM ({terms})"
