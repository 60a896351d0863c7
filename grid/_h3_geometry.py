"""Numba kernels for H3 cell geometry: ports of ``cellToLatLng``, ``cellToBoundary`` and ``cellAreaRads2``.

Ported from ``src/h3lib/lib/{h3Index,faceijk,coordijk,vec3d,vec2,area}.c`` of
https://github.com/uber/h3 (Apache-2.0, Copyright Uber Technologies, Inc.), v4.5: H3 index → FaceIJK
(with the icosahedron-face "overage" adjustment) → hex2d → inverse gnomonic projection through the
face's tangent basis (``_hex2dToVec3``) → unit vector → lat/lng (``vec3ToLatLng``). Boundaries
add the extra vertices where a Class III cell edge crosses an icosahedron edge (up to 10 vertices).
The cell area is the Cagnoli spherical-excess sum over the boundary arcs with Kahan summation,
as in H3 4.5 ``area.c``.

Centres and boundaries are bit-identical to h3-py 4.5 and areas agree to ~1e-15 relative in the tests
(``tests/grid/test_cells.py``). Inputs must be valid cells (checked by the callers in
:mod:`grid.cells`); invalid ones give undefined output.

Kept rather than replaced by h3ronpy (issue 18 item 6, rule: replace where the end-to-end loss is under
15 %). ``benchmarks/bench_h3ronpy.py``, 2026-12-07, 2 cores at load 6-11 (other jobs), h3ronpy 0.22.0, the
two arms interleaved in one process, best of 7: ``grid.cells.cells_to_polygons`` of 100k cells takes
1.34-2.24x the CPU time and 1.31-1.92x the wall time with ``vector.cells_to_wkb_polygons`` +
``shapely.from_wkb`` + ``cells_area_m2``, whose vertices also differ from h3's by up to ~1e-11° and areas by
~1e-6 relative (h3o is not the C library). Centres cost the same either way (0.99-1.00x CPU), so they stay
with the boundaries.

Licence: Apache-2.0, as the H3 code it ports: see NOTICE and LICENSES/Apache-2.0.txt.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

from grid._h3_kernel import (
    _BC_IS_PENT,
    _EPSILON,
    _FACE_AXIS_I,
    _FACE_X,
    _FACE_Y,
    _FACE_Z,
    _M_AP7_ROT_RADS,
    _ijk_normalize,
    _leading_nonzero_digit,
    _normalized,
    _pos_angle,
    _rotate_cw,
)
from grid._h3_tables import (
    ADJACENT_FACE_DIR,
    BASE_CELL_HOME_FIJK,
    FACE_EAST,
    FACE_NEIGHBORS,
    FACE_NORTH,
    MAX_DIM_BY_CII_RES,
    UNIT_SCALE_BY_CII_RES,
)

#: Most vertices a cell boundary can have (``MAX_CELL_BNDRY_VERTS``).
MAX_CELL_BOUNDARY_VERTS = 10
_M_SQRT3_2 = 0.8660254037844386467637231707529361834714
_M_RSQRT7 = 0.37796447300922722721451653623418006081576
_M_ONETHIRD = 1.0 / 3.0
_FLT_EPSILON = 1.1920928955078125e-07
_RES0_U_GNOMONIC = 0.38196601125010500003
_M_180_PI = 57.29577951308232087679815481410517033240547
_EARTH_RADIUS_KM = 6371.007180918475
# Vertices of an origin-centred cell on the aperture-3 substrate grid (33r for Class II, 33r7r for III).
_VERTS_CII = np.array([[2, 1, 0], [1, 2, 0], [0, 2, 1], [0, 1, 2], [1, 0, 2], [2, 0, 1]], dtype=np.int64)
_VERTS_CIII = np.array([[5, 4, 0], [1, 5, 0], [0, 5, 4], [0, 1, 5], [4, 0, 5], [5, 0, 1]], dtype=np.int64)
_NO_OVERAGE, _FACE_EDGE, _NEW_FACE = 0, 1, 2
_IJ, _KI, _JK = 1, 2, 3


@njit(cache=True, inline="always")
def _rot60ccw(i: int, j: int, k: int) -> tuple[int, int, int]:
    return _ijk_normalize(i + k, i + j, j + k)


@njit(cache=True, inline="always")
def _rot60cw(i: int, j: int, k: int) -> tuple[int, int, int]:
    return _ijk_normalize(i + j, j + k, i + k)


@njit(cache=True, inline="always")
def _down_ap7(i: int, j: int, k: int, clockwise: bool) -> tuple[int, int, int]:
    if clockwise:
        return _ijk_normalize(3 * i + k, i + 3 * j, j + 3 * k)
    return _ijk_normalize(3 * i + j, 3 * j + k, i + 3 * k)


@njit(cache=True, inline="always")
def _ijk_to_hex2d(i: int, j: int, k: int) -> tuple[float, float]:
    ii = i - k
    jj = j - k
    return ii - 0.5 * jj, jj * _M_SQRT3_2


@njit(cache=True)
def _adjust_overage(
    face: int, i: int, j: int, k: int, res: int, pent_leading4: bool, substrate: bool
) -> tuple[int, int, int, int, int]:
    """``_adjustOverageClassII``: move a FaceIJK onto the neighbouring face if it lies past this one."""
    max_dim = MAX_DIM_BY_CII_RES[res] * (3 if substrate else 1)
    total = i + j + k
    if substrate and total == max_dim:
        return _FACE_EDGE, face, i, j, k
    if total <= max_dim:
        return _NO_OVERAGE, face, i, j, k
    if k > 0:
        if j > 0:
            quadrant = _JK
        else:
            quadrant = _KI
            if pent_leading4:  # rotate about the triangle corner to skip the missing pentagon sequence
                ti, tj, tk = _rot60cw(i - max_dim, j, k)
                i, j, k = ti + max_dim, tj, tk
    else:
        quadrant = _IJ
    for _ in range(FACE_NEIGHBORS[face, quadrant, 4]):
        i, j, k = _rot60ccw(i, j, k)
    scale = UNIT_SCALE_BY_CII_RES[res] * (3 if substrate else 1)
    i, j, k = _ijk_normalize(
        i + FACE_NEIGHBORS[face, quadrant, 1] * scale,
        j + FACE_NEIGHBORS[face, quadrant, 2] * scale,
        k + FACE_NEIGHBORS[face, quadrant, 3] * scale,
    )
    face = FACE_NEIGHBORS[face, quadrant, 0]
    overage = _FACE_EDGE if substrate and i + j + k == max_dim else _NEW_FACE
    return overage, face, i, j, k


@njit(cache=True)
def _h3_to_face_ijk(h: int) -> tuple[int, int, int, int]:
    """``_h3ToFaceIjk``: the FaceIJK address (face, i, j, k) of a valid cell."""
    res = (h >> 52) & 15
    base_cell = (h >> 45) & 127
    is_pent = _BC_IS_PENT[base_cell] == 1
    if is_pent and _leading_nonzero_digit(h, res) == 5:
        h = _rotate_cw(h, res)
    face = BASE_CELL_HOME_FIJK[base_cell, 0]
    i = BASE_CELL_HOME_FIJK[base_cell, 1]
    j = BASE_CELL_HOME_FIJK[base_cell, 2]
    k = BASE_CELL_HOME_FIJK[base_cell, 3]
    possible_overage = is_pent or not (res == 0 or (i == 0 and j == 0 and k == 0))
    for r in range(1, res + 1):
        i, j, k = _down_ap7(i, j, k, r % 2 == 0)
        digit = (h >> ((15 - r) * 3)) & 7
        if 0 < digit < 7:
            i, j, k = _ijk_normalize(i + ((digit >> 2) & 1), j + ((digit >> 1) & 1), k + (digit & 1))
    if not possible_overage:
        return face, i, j, k
    return _overage_tail(h, face, i, j, k, res, is_pent)


@njit(cache=True)
def _overage_tail(
    h: int, face: int, i: int, j: int, k: int, res: int, is_pent: bool
) -> tuple[int, int, int, int]:
    """The end of ``_h3ToFaceIjk`` for a cell that may lie over its home face's edge: (face, i, j, k)."""
    orig_i, orig_j, orig_k = i, j, k
    adj_res = res
    if res % 2 == 1:  # drop into the next finer Class II grid
        i, j, k = _down_ap7(i, j, k, True)
        adj_res += 1
    pent_leading4 = is_pent and _leading_nonzero_digit(h, res) == 4
    overage, face, i, j, k = _adjust_overage(face, i, j, k, adj_res, pent_leading4, False)
    if overage != _NO_OVERAGE:
        if is_pent:  # pentagons can have secondary overages
            while overage != _NO_OVERAGE:
                overage, face, i, j, k = _adjust_overage(face, i, j, k, adj_res, False, False)
        if adj_res != res:  # _upAp7r back to res
            ii = i - k
            jj = j - k
            i, j, k = _ijk_normalize((2 * ii + jj + 3) // 7, (3 * jj - ii + 3) // 7, 0)
    elif adj_res != res:
        i, j, k = orig_i, orig_j, orig_k
    return face, i, j, k


@njit(cache=True)
def _hex2d_to_geo(x: float, y: float, face: int, res: int, substrate: bool) -> tuple[float, float]:
    """``_hex2dToVec3`` + ``vec3ToLatLng``: inverse gnomonic projection of a hex2d point (radians out)."""
    cx, cy, cz = _FACE_X[face], _FACE_Y[face], _FACE_Z[face]
    r = math.sqrt(x * x + y * y)
    if r < _EPSILON:
        return math.asin(cz), math.atan2(cy, cx)
    theta = math.atan2(y, x)
    for _ in range(res):
        r *= _M_RSQRT7
    if substrate:
        r *= _M_ONETHIRD
        if res % 2 == 1:
            r *= _M_RSQRT7
    r = math.atan(r * _RES0_U_GNOMONIC)
    if not substrate and res % 2 == 1:
        theta = _pos_angle(theta + _M_AP7_ROT_RADS)
    theta = _pos_angle(_FACE_AXIS_I[face] - theta)
    # the point at angular distance r and azimuth theta from the face centre, via its tangent basis
    ct = math.cos(theta)
    st = math.sin(theta)
    dx = ct * FACE_NORTH[face, 0] + st * FACE_EAST[face, 0]
    dy = ct * FACE_NORTH[face, 1] + st * FACE_EAST[face, 1]
    dz = ct * FACE_NORTH[face, 2] + st * FACE_EAST[face, 2]
    cr = math.cos(r)
    sr = math.sin(r)
    vx, vy, vz = _normalized(cr * cx + sr * dx, cr * cy + sr * dy, cr * cz + sr * dz)
    return math.asin(vz), math.atan2(vy, vx)


@njit(cache=True)
def _intersect(
    p0x: float, p0y: float, p1x: float, p1y: float, p2x: float, p2y: float, p3x: float, p3y: float
) -> tuple[float, float]:
    """``_vec2Intersect``: intersection of the lines p0-p1 and p2-p3."""
    s1x = p1x - p0x
    s1y = p1y - p0y
    s2x = p3x - p2x
    s2y = p3y - p2y
    t = (s2x * (p0y - p2y) - s2y * (p0x - p2x)) / (-s2x * s1y + s1x * s2y)
    return p0x + (t * s1x), p0y + (t * s1y)


@njit(cache=True)
def _face_edge(face: int, other: int, max_dim: int) -> tuple[float, float, float, float]:
    """End points (hex2d) of the icosahedron edge of ``face`` shared with ``other``."""
    direction = ADJACENT_FACE_DIR[face, other]
    x0, y0 = 3.0 * max_dim, 0.0
    x1, y1 = -1.5 * max_dim, 3.0 * _M_SQRT3_2 * max_dim
    x2, y2 = -1.5 * max_dim, -3.0 * _M_SQRT3_2 * max_dim
    if direction == _IJ:
        return x0, y0, x1, y1
    if direction == _JK:
        return x1, y1, x2, y2
    return x2, y2, x0, y0


@njit(cache=True)
def _substrate_center(i: int, j: int, k: int, res: int) -> tuple[int, int, int, int]:
    """``_faceIjkToVerts`` set-up: centre on the aperture 33r(7r) substrate grid and its resolution."""
    i, j, k = _ijk_normalize(2 * i + j, 2 * j + k, i + 2 * k)  # _downAp3
    i, j, k = _ijk_normalize(2 * i + k, i + 2 * j, j + 2 * k)  # _downAp3r
    if res % 2 == 1:
        i, j, k = _down_ap7(i, j, k, True)
        return i, j, k, res + 1
    return i, j, k, res


@njit(cache=True)
def _hex_boundary(
    face: int,
    i: int,
    j: int,
    k: int,
    res: int,
    out_lat: npt.NDArray[np.float64],
    out_lng: npt.NDArray[np.float64],
) -> int:
    """``_faceIjkToCellBoundary`` for a hexagon; writes radians, returns the vertex count."""
    ci, cj, ck, adj_res = _substrate_center(i, j, k, res)
    verts = _VERTS_CIII if res % 2 == 1 else _VERTS_CII
    n = 0
    last_face = -1
    last_overage = _NO_OVERAGE
    for vert in range(7):
        v = vert % 6
        vi, vj, vk = _ijk_normalize(ci + verts[v, 0], cj + verts[v, 1], ck + verts[v, 2])
        overage, vface, vi, vj, vk = _adjust_overage(face, vi, vj, vk, adj_res, False, True)
        if res % 2 == 1 and vert > 0 and vface != last_face and last_overage != _FACE_EDGE:
            lv = (v + 5) % 6
            # hex2d depends on i - k and j - k only, which normalisation leaves unchanged
            x0, y0 = _ijk_to_hex2d(ci + verts[lv, 0], cj + verts[lv, 1], ck + verts[lv, 2])
            x1, y1 = _ijk_to_hex2d(ci + verts[v, 0], cj + verts[v, 1], ck + verts[v, 2])
            face2 = vface if last_face == face else last_face
            ex0, ey0, ex1, ey1 = _face_edge(face, face2, MAX_DIM_BY_CII_RES[adj_res])
            ix, iy = _intersect(x0, y0, x1, y1, ex0, ey0, ex1, ey1)
            at_vertex = (abs(x0 - ix) < _FLT_EPSILON and abs(y0 - iy) < _FLT_EPSILON) or (
                abs(x1 - ix) < _FLT_EPSILON and abs(y1 - iy) < _FLT_EPSILON
            )
            if not at_vertex:  # an intersection at a vertex needs no extra vertex
                out_lat[n], out_lng[n] = _hex2d_to_geo(ix, iy, face, adj_res, True)
                n += 1
        if vert < 6:
            x, y = _ijk_to_hex2d(vi, vj, vk)
            out_lat[n], out_lng[n] = _hex2d_to_geo(x, y, vface, adj_res, True)
            n += 1
        last_face = vface
        last_overage = overage
    return n


@njit(cache=True)
def _pent_boundary(
    face: int,
    i: int,
    j: int,
    k: int,
    res: int,
    out_lat: npt.NDArray[np.float64],
    out_lng: npt.NDArray[np.float64],
) -> int:
    """``_faceIjkPentToCellBoundary``; writes radians, returns the vertex count."""
    ci, cj, ck, adj_res = _substrate_center(i, j, k, res)
    verts = _VERTS_CIII if res % 2 == 1 else _VERTS_CII
    n = 0
    last_face, last_i, last_j, last_k = face, ci, cj, ck
    for vert in range(6):
        v = vert % 5
        vi, vj, vk = _ijk_normalize(ci + verts[v, 0], cj + verts[v, 1], ck + verts[v, 2])
        overage, vface, vi, vj, vk = _adjust_overage(face, vi, vj, vk, adj_res, False, True)
        while overage == _NEW_FACE:
            overage, vface, vi, vj, vk = _adjust_overage(vface, vi, vj, vk, adj_res, False, True)
        if res % 2 == 1 and vert > 0:  # every Class III pentagon edge crosses an icosahedron edge
            x0, y0 = _ijk_to_hex2d(last_i, last_j, last_k)
            direction = ADJACENT_FACE_DIR[vface, last_face]
            tface = FACE_NEIGHBORS[vface, direction, 0]
            ti, tj, tk = vi, vj, vk
            for _ in range(FACE_NEIGHBORS[vface, direction, 4]):
                ti, tj, tk = _rot60ccw(ti, tj, tk)
            scale = UNIT_SCALE_BY_CII_RES[adj_res] * 3
            ti, tj, tk = _ijk_normalize(
                ti + FACE_NEIGHBORS[vface, direction, 1] * scale,
                tj + FACE_NEIGHBORS[vface, direction, 2] * scale,
                tk + FACE_NEIGHBORS[vface, direction, 3] * scale,
            )
            x1, y1 = _ijk_to_hex2d(ti, tj, tk)
            ex0, ey0, ex1, ey1 = _face_edge(tface, vface, MAX_DIM_BY_CII_RES[adj_res])
            ix, iy = _intersect(x0, y0, x1, y1, ex0, ey0, ex1, ey1)
            out_lat[n], out_lng[n] = _hex2d_to_geo(ix, iy, tface, adj_res, True)
            n += 1
        if vert < 5:
            x, y = _ijk_to_hex2d(vi, vj, vk)
            out_lat[n], out_lng[n] = _hex2d_to_geo(x, y, vface, adj_res, True)
            n += 1
        last_face, last_i, last_j, last_k = vface, vi, vj, vk
    return n


@njit(cache=True)
def _loop_area_rads2(lat: npt.NDArray[np.float64], lng: npt.NDArray[np.float64], n: int) -> float:
    """``geoLoopArea``: Cagnoli spherical excess of a ccw loop (radians²), Kahan-compensated as in H3."""
    total = 0.0
    comp = 0.0
    for a in range(n + 1):
        if a < n:
            b = (a + 1) % n
            xl = lat[a] / 2.0 + math.pi / 4.0
            yl = lat[b] / 2.0 + math.pi / 4.0
            sa = math.sin(xl) * math.sin(yl)
            ca = math.cos(xl) * math.cos(yl)
            d = lng[b] - lng[a]
            term = -2.0 * math.atan2(sa * math.sin(d), sa * math.cos(d) + ca)
        elif total < 0.0:  # signed area → [0, 4π]
            term = 4.0 * math.pi
        else:
            break
        y = term - comp
        t = total + y
        comp = (t - total) - y
        total = t
    return total


@njit(cache=True, nogil=True)
def cells_to_latlng_kernel(
    cells: npt.NDArray[np.int64], out_lat: npt.NDArray[np.float64], out_lng: npt.NDArray[np.float64]
) -> None:
    """Cell centres (``cellToLatLng``) of valid cells, in degrees."""
    for n in range(cells.shape[0]):
        h = cells[n]
        face, i, j, k = _h3_to_face_ijk(h)
        x, y = _ijk_to_hex2d(i, j, k)
        lat, lng = _hex2d_to_geo(x, y, face, (h >> 52) & 15, False)
        out_lat[n] = lat * _M_180_PI
        out_lng[n] = lng * _M_180_PI


@njit(cache=True, nogil=True)
def cells_to_boundary_kernel(
    cells: npt.NDArray[np.int64],
    out_lat: npt.NDArray[np.float64],
    out_lng: npt.NDArray[np.float64],
    counts: npt.NDArray[np.int64],
    area_m2: npt.NDArray[np.float64],
) -> None:
    """Boundaries (``cellToBoundary``; degrees, rows of ``MAX_CELL_BOUNDARY_VERTS``) and areas (m²)."""
    for n in range(cells.shape[0]):
        h = cells[n]
        res = (h >> 52) & 15
        face, i, j, k = _h3_to_face_ijk(h)
        if _BC_IS_PENT[(h >> 45) & 127] == 1 and _leading_nonzero_digit(h, res) == 0:
            nv = _pent_boundary(face, i, j, k, res, out_lat[n], out_lng[n])
        else:
            nv = _hex_boundary(face, i, j, k, res, out_lat[n], out_lng[n])
        counts[n] = nv
        area_km2 = _loop_area_rads2(out_lat[n], out_lng[n], nv) * _EARTH_RADIUS_KM * _EARTH_RADIUS_KM
        area_m2[n] = area_km2 * 1000 * 1000
        for v in range(nv):
            out_lat[n, v] *= _M_180_PI
            out_lng[n, v] *= _M_180_PI
