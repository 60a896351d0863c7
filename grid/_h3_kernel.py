"""Numba kernels for H3 indexing: a port of the H3 C library's ``latLngToCell`` and ``isValidCell``.

The port follows ``src/h3lib/lib/{faceijk,coordijk,h3Index,latLng,vec3d,baseCells}.c`` of
https://github.com/uber/h3 (Apache-2.0, Copyright Uber Technologies, Inc.) step for step:

geo (radians) → closest icosahedron face (squared chord distance to the 20 face centres) → gnomonic
projection onto that face as hex2d (x, y) at the target resolution → ijk+ cell coordinates → walk up the
aperture-7 hierarchy collecting one digit per resolution → resolution-0 base cell lookup → rotate the
digits into the base cell's orientation (with the pentagon "deleted k-axes sub-sequence" rules).

Floating-point operations are done in the same order as the C code so that the result is bit-identical to
h3 except, in principle, for points within a few ulp of a cell boundary: some C constants are
``long double`` literals, which numba cannot reproduce. Integer rounding of ``lround(n / 7)`` is done
exactly in integers (``(n + 3) // 7``), which equals the C result for every ``int`` n.

Private module: the public, validated entry points are in :mod:`grid.cells`.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

from grid._h3_tables import (
    BASE_CELL_CW_OFFSET_PENT,
    BASE_CELL_IS_PENTAGON,
    FACE_AXES_AZ_RADS_CII,
    FACE_CENTER_GEO,
    FACE_CENTER_POINT,
    FACE_IJK_BASE_CELL,
    FACE_IJK_BASE_CELL_ROT,
    MAX_FACE_COORD,
    NUM_BASE_CELLS,
)

H3_NULL = 0
_M_PI_180 = 0.0174532925199432957692369076848861271111
_M_2PI = 6.28318530717958647692528676655900576839433
_EPSILON = 0.0000000000000001
_M_RSIN60 = 1.1547005383792515290182975610039149112953
_M_AP7_ROT_RADS = 0.333473172251832115336090755351601070065900389
_M_SQRT7 = 2.6457513110645905905016157536392604257102
_INV_RES0_U_GNOMONIC = 2.61803398874989588842

_H3_INIT = (1 << 45) - 1  # every digit 7, base cell 0, resolution 0, mode 0
_H3_CELL_MODE_BITS = 1 << 59
_RES_OFFSET = 52
_BC_OFFSET = 45

# Face-centre trigonometry, computed once with the C library's libm (Python's math module).
_FACE_COS_LAT = np.array([math.cos(v) for v in FACE_CENTER_GEO[:, 0]])
_FACE_SIN_LAT = np.array([math.sin(v) for v in FACE_CENTER_GEO[:, 0]])
_FACE_LNG = np.ascontiguousarray(FACE_CENTER_GEO[:, 1])
_FACE_AXIS_I = np.ascontiguousarray(FACE_AXES_AZ_RADS_CII[:, 0])
_FACE_X = np.ascontiguousarray(FACE_CENTER_POINT[:, 0])
_FACE_Y = np.ascontiguousarray(FACE_CENTER_POINT[:, 1])
_FACE_Z = np.ascontiguousarray(FACE_CENTER_POINT[:, 2])
_BC_TABLE = np.ascontiguousarray(FACE_IJK_BASE_CELL.reshape(-1))
_BC_ROT_TABLE = np.ascontiguousarray(FACE_IJK_BASE_CELL_ROT.reshape(-1))
_BC_IS_PENT = BASE_CELL_IS_PENTAGON.astype(np.int64)
_BC_CW0 = np.ascontiguousarray(BASE_CELL_CW_OFFSET_PENT[:, 0])
_BC_CW1 = np.ascontiguousarray(BASE_CELL_CW_OFFSET_PENT[:, 1])


def _digit_rotation_table() -> npt.NDArray[np.int64]:
    """Table ``[n, d]``: digit d rotated 60° counter-clockwise n times (n = 0..5); 0 and 7 are fixed."""
    ccw = np.array([0, 5, 3, 1, 6, 4, 2, 7], dtype=np.int64)  # K→IK, J→JK, JK→K, I→IJ, IK→I, IJ→J
    table = np.empty((6, 8), dtype=np.int64)
    table[0] = np.arange(8)
    for n in range(1, 6):
        table[n] = ccw[table[n - 1]]
    return table


_ROT_CCW = _digit_rotation_table()
_ROT_CW1 = np.ascontiguousarray(_ROT_CCW[5])


@njit(cache=True, inline="always")
def _pos_angle(rads: float) -> float:
    tmp = rads + _M_2PI if rads < 0.0 else rads
    if rads >= _M_2PI:
        tmp -= _M_2PI
    return tmp


@njit(cache=True, inline="always")
def _ijk_normalize(i: int, j: int, k: int) -> tuple[int, int, int]:
    if i < 0:
        j -= i
        k -= i
        i = 0
    if j < 0:
        i -= j
        k -= j
        j = 0
    if k < 0:
        i -= k
        j -= k
        k = 0
    m = min(i, j, k)
    if m > 0:
        i -= m
        j -= m
        k -= m
    return i, j, k


@njit(cache=True)
def _hex2d_to_ijk(x: float, y: float) -> tuple[int, int, int]:
    """``_hex2dToCoordIJK``: the ijk+ coordinates of the hex containing the hex2d point (x, y)."""
    a1 = abs(x)
    a2 = abs(y)
    x2 = a2 * _M_RSIN60
    x1 = a1 + x2 / 2.0
    m1 = int(x1)
    m2 = int(x2)
    r1 = x1 - m1
    r2 = x2 - m2
    if r1 < 0.5:
        if r1 < 1.0 / 3.0:
            i = m1
            j = m2 if r2 < (1.0 + r1) / 2.0 else m2 + 1
        else:
            j = m2 if r2 < (1.0 - r1) else m2 + 1
            i = m1 + 1 if (1.0 - r1) <= r2 and r2 < (2.0 * r1) else m1
    elif r1 < 2.0 / 3.0:
        j = m2 if r2 < (1.0 - r1) else m2 + 1
        i = m1 if (2.0 * r1 - 1.0) < r2 and r2 < (1.0 - r1) else m1 + 1
    else:
        i = m1 + 1
        j = m2 if r2 < (r1 / 2.0) else m2 + 1
    # fold across the axes if necessary (j >= 0 here, so floor and C division agree)
    if x < 0.0:
        if j % 2 == 0:
            i = i - 2 * (i - j // 2)
        else:
            i = i - (2 * (i - (j + 1) // 2) + 1)
    if y < 0.0:
        i = i - (2 * j + 1) // 2
        j = -j
    return _ijk_normalize(i, j, 0)


@njit(cache=True)
def _geo_to_face_ijk(lat: float, lng: float, res: int) -> tuple[int, int, int, int]:
    """``_geoToFaceIjk``: face and ijk+ at ``res`` of a point given in radians."""
    cos_lat = math.cos(lat)
    sin_lat = math.sin(lat)
    vx = math.cos(lng) * cos_lat
    vy = math.sin(lng) * cos_lat
    face = 0
    sqd = 5.0
    for f in range(20):
        d = (_FACE_X[f] - vx) ** 2 + (_FACE_Y[f] - vy) ** 2 + (_FACE_Z[f] - sin_lat) ** 2
        if d < sqd:
            face = f
            sqd = d
    r = math.acos(1.0 - sqd * 0.5)
    if r < _EPSILON:
        return face, 0, 0, 0
    dlng = lng - _FACE_LNG[face]
    az = math.atan2(
        cos_lat * math.sin(dlng),
        _FACE_COS_LAT[face] * sin_lat - _FACE_SIN_LAT[face] * cos_lat * math.cos(dlng),
    )
    theta = _pos_angle(_FACE_AXIS_I[face] - _pos_angle(az))
    if res % 2 == 1:
        theta = _pos_angle(theta - _M_AP7_ROT_RADS)
    r = math.tan(r) * _INV_RES0_U_GNOMONIC
    for _ in range(res):
        r *= _M_SQRT7
    i, j, k = _hex2d_to_ijk(r * math.cos(theta), r * math.sin(theta))
    return face, i, j, k


@njit(cache=True, inline="always")
def _get_digit(h: int, r: int) -> int:
    return (h >> ((15 - r) * 3)) & 7


@njit(cache=True, inline="always")
def _set_digit(h: int, r: int, d: int) -> int:
    off = (15 - r) * 3
    return (h & ~(7 << off)) | (d << off)


@njit(cache=True)
def _leading_nonzero_digit(h: int, res: int) -> int:
    for r in range(1, res + 1):
        d = _get_digit(h, r)
        if d != 0:
            return d
    return 0


@njit(cache=True)
def _rotate_ccw_n(h: int, res: int, n: int) -> int:
    """``_h3Rotate60ccw`` applied n times (one pass over the digits)."""
    if n == 0:
        return h
    for r in range(1, res + 1):
        h = _set_digit(h, r, _ROT_CCW[n, _get_digit(h, r)])
    return h


@njit(cache=True)
def _rotate_cw(h: int, res: int) -> int:
    for r in range(1, res + 1):
        h = _set_digit(h, r, _ROT_CW1[_get_digit(h, r)])
    return h


@njit(cache=True)
def _rotate_pent_ccw(h: int, res: int) -> int:
    """``_h3RotatePent60ccw``: rotate about a pentagon centre, skipping the deleted k-axes sequence."""
    found = False
    for r in range(1, res + 1):
        h = _set_digit(h, r, _ROT_CCW[1, _get_digit(h, r)])
        if not found and _get_digit(h, r) != 0:
            found = True
            if _leading_nonzero_digit(h, res) == 1:
                h = _rotate_ccw_n(h, res, 1)
    return h


@njit(cache=True)
def _face_ijk_to_h3(face: int, i: int, j: int, k: int, res: int) -> int:
    """``_faceIjkToH3``: the H3 index (as int64) of a FaceIJK address, or 0 if out of range."""
    h = _H3_INIT | _H3_CELL_MODE_BITS | (res << _RES_OFFSET)
    for r in range(res - 1, -1, -1):
        li, lj, lk = i, j, k
        ii = i - k
        jj = j - k
        if (r + 1) % 2 == 1:  # Class III: ccw aperture 7
            i, j, k = _ijk_normalize((3 * ii - jj + 3) // 7, (ii + 2 * jj + 3) // 7, 0)
            ci, cj, ck = _ijk_normalize(3 * i + j, 3 * j + k, i + 3 * k)
        else:  # Class II: cw aperture 7
            i, j, k = _ijk_normalize((2 * ii + jj + 3) // 7, (3 * jj - ii + 3) // 7, 0)
            ci, cj, ck = _ijk_normalize(3 * i + k, i + 3 * j, j + 3 * k)
        di, dj, dk = _ijk_normalize(li - ci, lj - cj, lk - ck)
        digit = 4 * di + 2 * dj + dk if di <= 1 and dj <= 1 and dk <= 1 else 7
        h = _set_digit(h, r + 1, digit)
    if i > MAX_FACE_COORD or j > MAX_FACE_COORD or k > MAX_FACE_COORD:
        return H3_NULL
    slot = ((face * 3 + i) * 3 + j) * 3 + k
    base_cell = _BC_TABLE[slot]
    num_rots = _BC_ROT_TABLE[slot]
    h |= base_cell << _BC_OFFSET
    if _BC_IS_PENT[base_cell] == 1:
        if _leading_nonzero_digit(h, res) == 1:  # force rotation out of the missing k-axes sequence
            if _BC_CW0[base_cell] == face or _BC_CW1[base_cell] == face:
                h = _rotate_cw(h, res)
            else:
                h = _rotate_ccw_n(h, res, 1)
        for _ in range(num_rots):
            h = _rotate_pent_ccw(h, res)
    else:
        h = _rotate_ccw_n(h, res, num_rots)
    return h


@njit(cache=True, nogil=True)
def latlng_to_cells_kernel(
    lat_deg: npt.NDArray[np.float64], lng_deg: npt.NDArray[np.float64], res: int, out: npt.NDArray[np.int64]
) -> int:
    """Fill ``out`` with the res-``res`` cells of 1-D degree arrays; non-finite rows get 0.

    Returns the number of non-finite rows.
    """
    n_bad = 0
    for n in range(lat_deg.shape[0]):
        lat = lat_deg[n]
        lng = lng_deg[n]
        if not (math.isfinite(lat) and math.isfinite(lng)):
            out[n] = H3_NULL
            n_bad += 1
            continue
        face, i, j, k = _geo_to_face_ijk(lat * _M_PI_180, lng * _M_PI_180, res)
        out[n] = _face_ijk_to_h3(face, i, j, k, res)
    return n_bad


_MHI = 0b100100100100100100100100100100100100100100100
_MLO = _MHI >> 2
_LOW45 = (1 << 45) - 1


@njit(cache=True)
def _is_valid_cell(h: int) -> bool:
    """``isValidCell`` on an int64 view of the index (negative values are never valid)."""
    if (h >> 56) != 0b00001000:
        return False
    res = (h >> _RES_OFFSET) & 15
    bc = (h >> _BC_OFFSET) & 127
    if bc >= NUM_BASE_CELLS:
        return False
    digits = h & _LOW45
    shift = 3 * (15 - res)
    upto = (digits >> shift) << shift  # digits 1..res, kept in place
    if (upto & _MHI & ((~upto) - _MLO)) != 0:  # some digit 1..res is 7
        return False
    if res < 15 and ((~digits) & ((1 << shift) - 1)) != 0:  # some digit after res is not 7
        return False
    if _BC_IS_PENT[bc] == 1 and upto != 0:
        # first non-zero digit of a pentagon may not be 1 (the deleted k-axes sub-sequence)
        top = 63
        while (digits >> top) & 1 == 0:
            top -= 1
        if top % 3 == 0:
            return False
    return True


@njit(cache=True, nogil=True)
def is_valid_cells_kernel(cells: npt.NDArray[np.int64], out: npt.NDArray[np.bool_]) -> None:
    """Fill ``out[n]`` with ``isValidCell(cells[n])``."""
    for n in range(cells.shape[0]):
        out[n] = _is_valid_cell(cells[n])
