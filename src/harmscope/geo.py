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
    l = _lit
    # 1. geodetic -> geocentric cartesian on WGS84 (height 0).
    cart = f"""SELECT *,
        {l(_WGS84_A)} / sqrt(1 - {l(e2w)} * pow(sin(radians({lat})), 2)) AS _nu_w,
        radians({lat}) AS _p1, radians({lon}) AS _l1 FROM {source}"""
    xyz = f"""SELECT *,
        _nu_w * cos(_p1) * cos(_l1) AS _x1,
        _nu_w * cos(_p1) * sin(_l1) AS _y1,
        _nu_w * (1 - {l(e2w)}) * sin(_p1) AS _z1 FROM ({cart})"""
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
        atan2(_z2 + {l(ep2a * _AIRY_B)} * pow(sin(_th), 3),
              _pp - {l(e2a * _AIRY_A)} * pow(cos(_th), 3)) AS _phi,
        atan2(_y2, _x2) - {l(_LAM0)} AS _dl FROM ({pth})"""
    # 4. Transverse Mercator series of the National Grid.
    aF0, bF0 = _AIRY_A * _F0, _AIRY_B * _F0
    terms = f"""SELECT *,
        {l(aF0)} / sqrt(1 - {l(e2a)} * pow(sin(_phi), 2)) AS _nu,
        {l(aF0 * (1 - e2a))} / pow(1 - {l(e2a)} * pow(sin(_phi), 2), 1.5) AS _rho,
        pow(tan(_phi), 2) AS _t2,
        {l(bF0)} * (
          {l(1 + n + 1.25 * n**2 + 1.25 * n**3)} * (_phi - {l(_PHI0)})
          - {l(3 * n + 3 * n**2 + 21 / 8 * n**3)} * sin(_phi - {l(_PHI0)}) * cos(_phi + {l(_PHI0)})
          + {l(15 / 8 * n**2 + 15 / 8 * n**3)}
            * sin(2 * (_phi - {l(_PHI0)})) * cos(2 * (_phi + {l(_PHI0)}))
          - {l(35 / 24 * n**3)} * sin(3 * (_phi - {l(_PHI0)})) * cos(3 * (_phi + {l(_PHI0)}))
        ) AS _m FROM ({geo})"""
    eta = "(_nu / _rho - 1)"
    c = "cos(_phi)"
    s = "sin(_phi)"
    north = f"""(_m + {l(_N0)}
        + _nu / 2 * {s} * {c} * pow(_dl, 2)
        + _nu / 24 * {s} * pow({c}, 3) * (5 - _t2 + 9 * {eta}) * pow(_dl, 4)
        + _nu / 720 * {s} * pow({c}, 5) * (61 - 58 * _t2 + _t2 * _t2) * pow(_dl, 6))"""
    east = f"""({l(_E0)} + _nu * {c} * _dl
        + _nu / 6 * pow({c}, 3) * (_nu / _rho - _t2) * pow(_dl, 3)
        + _nu / 120 * pow({c}, 5)
          * (5 - 18 * _t2 + _t2 * _t2 + 14 * {eta} - 58 * _t2 * {eta}) * pow(_dl, 5))"""
    hidden = "_nu_w, _p1, _l1, _x1, _y1, _z1, _x2, _y2, _z2, _pp, _th, _phi, _dl, _nu, _rho, _t2, _m"
    return f"SELECT * EXCLUDE ({hidden}), {east} AS x, {north} AS y FROM ({terms})"
