"""Lookup tables of the H3 grid, transcribed from Uber's H3 C library (v4).

Sources: ``src/h3lib/lib/faceijk.c`` (``faceCenterGeo``, ``faceCenterPoint``, ``faceAxesAzRadsCII``,
``faceNeighbors``, ``adjacentFaceDir``, ``maxDimByCIIres``, ``unitScaleByCIIres``) and
``src/h3lib/lib/baseCells.c`` (``faceIjkBaseCells``, ``baseCellData``) of https://github.com/uber/h3,
Copyright Uber Technologies, Inc., licensed under the Apache License, Version 2.0. The numbers are copied
unchanged; only the layout differs (numpy arrays, read by the numba kernels in ``grid._h3_kernel``).

Every array is read-only and indexed by icosahedron face (0..19) or base cell (0..121).

Licence: Apache-2.0, as the H3 tables it transcribes: see NOTICE and LICENSES/Apache-2.0.txt.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

NUM_ICOSA_FACES = 20
NUM_BASE_CELLS = 122
MAX_H3_RES = 15
#: Largest ijk+ component of a resolution-0 cell on its face (``MAX_FACE_COORD``).
MAX_FACE_COORD = 2

#: Icosahedron face centres as (lat, lng) in radians, shape (20, 2).
FACE_CENTER_GEO: npt.NDArray[np.float64] = np.array(
    [
        [0.803582649718989942, 1.248397419617396099],
        [1.307747883455638156, 2.536945009877921159],
        [1.054751253523952054, -1.347517358900396623],
        [0.600191595538186799, -0.450603909469755746],
        [0.491715428198773866, 0.401988202911306943],
        [0.172745327415618701, 1.678146885280433686],
        [0.605929321571350690, 2.953923329812411617],
        [0.427370518328979641, -1.888876200336285401],
        [-0.079066118549212831, -0.733429513380867741],
        [-0.230961644455383637, 0.506495587332349035],
        [0.079066118549212831, 2.408163140208925497],
        [0.230961644455383637, -2.635097066257444203],
        [-0.172745327415618701, -1.463445768309359553],
        [-0.605929321571350690, -0.187669323777381622],
        [-0.427370518328979641, 1.252716453253507838],
        [-0.600191595538186799, 2.690988744120037492],
        [-0.491715428198773866, -2.739604450678486295],
        [-0.803582649718989942, -1.893195233972397139],
        [-1.307747883455638156, -0.604647643711872080],
        [-1.054751253523952054, 1.794075294689396615],
    ]
)

#: Icosahedron face centres as unit vectors (x, y, z), shape (20, 3).
FACE_CENTER_POINT: npt.NDArray[np.float64] = np.array(
    [
        [0.2199307791404606, 0.6583691780274996, 0.7198475378926182],
        [-0.2139234834501421, 0.1478171829550703, 0.9656017935214205],
        [0.1092625278784797, -0.4811951572873210, 0.8697775121287253],
        [0.7428567301586791, -0.3593941678278028, 0.5648005936517033],
        [0.8112534709140969, 0.3448953237639384, 0.4721387736413930],
        [-0.1055498149613921, 0.9794457296411413, 0.1718874610009365],
        [-0.8075407579970092, 0.1533552485898818, 0.5695261994882688],
        [-0.2846148069787907, -0.8644080972654206, 0.4144792552473539],
        [0.7405621473854482, -0.6673299564565524, -0.0789837646326737],
        [0.8512303986474293, 0.4722343788582681, -0.2289137388687808],
        [-0.7405621473854481, 0.6673299564565524, 0.0789837646326737],
        [-0.8512303986474292, -0.4722343788582682, 0.2289137388687808],
        [0.1055498149613919, -0.9794457296411413, -0.1718874610009365],
        [0.8075407579970092, -0.1533552485898819, -0.5695261994882688],
        [0.2846148069787908, 0.8644080972654204, -0.4144792552473539],
        [-0.7428567301586791, 0.3593941678278027, -0.5648005936517033],
        [-0.8112534709140971, -0.3448953237639382, -0.4721387736413930],
        [-0.2199307791404607, -0.6583691780274996, -0.7198475378926182],
        [0.2139234834501420, -0.1478171829550704, -0.9656017935214205],
        [-0.1092625278784796, 0.4811951572873210, -0.8697775121287253],
    ]
)

#: Azimuth (radians) from each face centre to its vertices 0/1/2, i.e. the Class II i/j/k axes, (20, 3).
FACE_AXES_AZ_RADS_CII: npt.NDArray[np.float64] = np.array(
    [
        [5.619958268523939882, 3.525563166130744542, 1.431168063737548730],
        [5.760339081714187279, 3.665943979320991689, 1.571548876927796127],
        [0.780213654393430055, 4.969003859179821079, 2.874608756786625655],
        [0.430469363979999913, 4.619259568766391033, 2.524864466373195467],
        [6.130269123335111400, 4.035874020941915804, 1.941478918548720291],
        [2.692877706530642877, 0.598482604137447119, 4.787272808923838195],
        [2.982963003477243874, 0.888567901084048369, 5.077358105870439581],
        [3.532912002790141181, 1.438516900396945656, 5.627307105183336758],
        [3.494305004259568154, 1.399909901866372864, 5.588700106652763840],
        [3.003214169499538391, 0.908819067106342928, 5.097609271892733906],
        [5.930472956509811562, 3.836077854116615875, 1.741682751723420374],
        [0.138378484090254847, 4.327168688876645809, 2.232773586483450311],
        [0.448714947059150361, 4.637505151845541521, 2.543110049452346120],
        [0.158629650112549365, 4.347419854898940135, 2.253024752505744869],
        [5.891865957979238535, 3.797470855586042958, 1.703075753192847583],
        [2.711123289609793325, 0.616728187216597771, 4.805518392002988683],
        [3.294508837434268316, 1.200113735041072948, 5.388903939827463911],
        [3.804819692245439833, 1.710424589852244509, 5.899214794638635174],
        [3.664438879055192436, 1.570043776661997111, 5.758833981448388027],
        [2.361378999196363184, 0.266983896803167583, 4.455774101589558636],
    ]
)

# faceIjkBaseCells: three lines per face (i = 0, 1, 2), each 9 "baseCell:ccwRot60" tokens in C order [j][k].
_FACE_IJK_BASE_CELLS_TEXT = """
16:0 18:0 24:0 33:0 30:0 32:3 49:1 48:3 50:3
8:0 5:5 10:5 22:0 16:0 18:0 41:1 33:0 30:0
4:0 0:5 2:5 15:1 8:0 5:5 31:1 22:0 16:0
2:0 6:0 14:0 10:0 11:0 17:3 24:1 23:3 25:3
0:0 1:5 9:5 5:0 2:0 6:0 18:1 10:0 11:0
4:1 3:5 7:5 8:1 0:0 1:5 16:1 5:0 2:0
7:0 21:0 38:0 9:0 19:0 34:3 14:1 20:3 36:3
3:0 13:5 29:5 1:0 7:0 21:0 6:1 9:0 19:0
4:2 12:5 26:5 0:1 3:0 13:5 2:1 1:0 7:0
26:0 42:0 58:0 29:0 43:0 62:3 38:1 47:3 64:3
12:0 28:5 44:5 13:0 26:0 42:0 21:1 29:0 43:0
4:3 15:5 31:5 3:1 12:0 28:5 7:1 13:0 26:0
31:0 41:0 49:0 44:0 53:0 61:3 58:1 65:3 75:3
15:0 22:5 33:5 28:0 31:0 41:0 42:1 44:0 53:0
4:4 8:5 16:5 12:1 15:0 22:5 26:1 28:0 31:0
50:0 48:0 49:3 32:0 30:3 33:3 24:3 18:3 16:3
70:0 67:0 66:3 52:3 50:0 48:0 37:3 32:0 30:3
83:0 87:3 85:3 74:3 70:0 67:0 57:1 52:3 50:0
25:0 23:0 24:3 17:0 11:3 10:3 14:3 6:3 2:3
45:0 39:0 37:3 35:3 25:0 23:0 27:3 17:0 11:3
63:0 59:3 57:3 56:3 45:0 39:0 46:3 35:3 25:0
36:0 20:0 14:3 34:0 19:3 9:3 38:3 21:3 7:3
55:0 40:0 27:3 54:3 36:0 20:0 51:3 34:0 19:3
72:0 60:3 46:3 73:3 55:0 40:0 71:3 54:3 36:0
64:0 47:0 38:3 62:0 43:3 29:3 58:3 42:3 26:3
84:0 69:0 51:3 82:3 64:0 47:0 76:3 62:0 43:3
97:0 89:3 71:3 98:3 84:0 69:0 96:3 82:3 64:0
75:0 65:0 58:3 61:0 53:3 44:3 49:3 41:3 31:3
94:0 86:0 76:3 81:3 75:0 65:0 66:3 61:0 53:3
107:0 104:3 96:3 101:3 94:0 86:0 85:3 81:3 75:0
57:0 59:0 63:3 74:0 78:3 79:3 83:3 92:3 95:3
37:0 39:3 45:3 52:0 57:0 59:0 70:3 74:0 78:3
24:0 23:3 25:3 32:3 37:0 39:3 50:3 52:0 57:0
46:0 60:0 72:3 56:0 68:3 80:3 63:3 77:3 90:3
27:0 40:3 55:3 35:0 46:0 60:0 45:3 56:0 68:3
14:0 20:3 36:3 17:3 27:0 40:3 25:3 35:0 46:0
71:0 89:0 97:3 73:0 91:3 103:3 72:3 88:3 105:3
51:0 69:3 84:3 54:0 71:0 89:0 55:3 73:0 91:3
38:0 47:3 64:3 34:3 51:0 69:3 36:3 54:0 71:0
96:0 104:0 107:3 98:0 110:3 115:3 97:3 111:3 119:3
76:0 86:3 94:3 82:0 96:0 104:0 84:3 98:0 110:3
58:0 65:3 75:3 62:3 76:0 86:3 64:3 82:0 96:0
85:0 87:0 83:3 101:0 102:3 100:3 107:3 112:3 114:3
66:0 67:3 70:3 81:0 85:0 87:0 94:3 101:0 102:3
49:0 48:3 50:3 61:3 66:0 67:3 75:3 81:0 85:0
95:0 92:0 83:0 79:0 78:0 74:3 63:1 59:3 57:3
109:0 108:0 100:5 93:1 95:0 92:0 77:1 79:0 78:0
117:4 118:5 114:5 106:1 109:0 108:0 90:1 93:1 95:0
90:0 77:0 63:0 80:0 68:0 56:3 72:1 60:3 46:3
106:0 93:0 79:5 99:1 90:0 77:0 88:1 80:0 68:0
117:3 109:5 95:5 113:1 106:0 93:0 105:1 99:1 90:0
105:0 88:0 72:0 103:0 91:0 73:3 97:1 89:3 71:3
113:0 99:0 80:5 116:1 105:0 88:0 111:1 103:0 91:0
117:2 106:5 90:5 121:1 113:0 99:0 119:1 116:1 105:0
119:0 111:0 97:0 115:0 110:0 98:3 107:1 104:3 96:3
121:0 116:0 103:5 120:1 119:0 111:0 112:1 115:0 110:0
117:1 113:5 105:5 118:1 121:0 116:0 114:1 120:1 119:0
114:0 112:0 107:0 100:0 102:0 101:3 83:1 87:3 85:3
118:0 120:0 115:5 108:1 114:0 112:0 92:1 100:0 102:0
117:0 121:5 119:5 109:1 118:0 120:0 95:1 108:1 114:0
"""

# baseCellData, 4 base cells per line ("|"-separated), each: home face, home i j k, isPentagon,
# cwOffsetPent[0], cwOffsetPent[1].
_BASE_CELL_DATA_TEXT = """
1 1 0 0 0 0 0 | 2 1 1 0 0 0 0 | 1 0 0 0 0 0 0 | 2 1 0 0 0 0 0
0 2 0 0 1 -1 -1 | 1 1 1 0 0 0 0 | 1 0 0 1 0 0 0 | 2 0 0 0 0 0 0
0 1 0 0 0 0 0 | 2 0 1 0 0 0 0 | 1 0 1 0 0 0 0 | 1 0 1 1 0 0 0
3 1 0 0 0 0 0 | 3 1 1 0 0 0 0 | 11 2 0 0 1 2 6 | 4 1 0 0 0 0 0
0 0 0 0 0 0 0 | 6 0 1 0 0 0 0 | 0 0 0 1 0 0 0 | 2 0 1 1 0 0 0
7 0 0 1 0 0 0 | 2 0 0 1 0 0 0 | 0 1 1 0 0 0 0 | 6 0 0 1 0 0 0
10 2 0 0 1 1 5 | 6 0 0 0 0 0 0 | 3 0 0 0 0 0 0 | 11 1 0 0 0 0 0
4 1 1 0 0 0 0 | 3 0 1 0 0 0 0 | 0 0 1 1 0 0 0 | 4 0 0 0 0 0 0
5 0 1 0 0 0 0 | 0 0 1 0 0 0 0 | 7 0 1 0 0 0 0 | 11 1 1 0 0 0 0
7 0 0 0 0 0 0 | 10 1 0 0 0 0 0 | 12 2 0 0 1 3 7 | 6 1 0 1 0 0 0
7 1 0 1 0 0 0 | 4 0 0 1 0 0 0 | 3 0 0 1 0 0 0 | 3 0 1 1 0 0 0
4 0 1 0 0 0 0 | 6 1 0 0 0 0 0 | 11 0 0 0 0 0 0 | 8 0 0 1 0 0 0
5 0 0 1 0 0 0 | 14 2 0 0 1 0 9 | 5 0 0 0 0 0 0 | 12 1 0 0 0 0 0
10 1 1 0 0 0 0 | 4 0 1 1 0 0 0 | 12 1 1 0 0 0 0 | 7 1 0 0 0 0 0
11 0 1 0 0 0 0 | 10 0 0 0 0 0 0 | 13 2 0 0 1 4 8 | 10 0 0 1 0 0 0
11 0 0 1 0 0 0 | 9 0 1 0 0 0 0 | 8 0 1 0 0 0 0 | 6 2 0 0 1 11 15
8 0 0 0 0 0 0 | 9 0 0 1 0 0 0 | 14 1 0 0 0 0 0 | 5 1 0 1 0 0 0
16 0 1 1 0 0 0 | 8 1 0 1 0 0 0 | 5 1 0 0 0 0 0 | 12 0 0 0 0 0 0
7 2 0 0 1 12 16 | 12 0 1 0 0 0 0 | 10 0 1 0 0 0 0 | 9 0 0 0 0 0 0
13 1 0 0 0 0 0 | 16 0 0 1 0 0 0 | 15 0 1 1 0 0 0 | 15 0 1 0 0 0 0
16 0 1 0 0 0 0 | 14 1 1 0 0 0 0 | 13 1 1 0 0 0 0 | 5 2 0 0 1 10 19
8 1 0 0 0 0 0 | 14 0 0 0 0 0 0 | 9 1 0 1 0 0 0 | 14 0 0 1 0 0 0
17 0 0 1 0 0 0 | 12 0 0 1 0 0 0 | 16 0 0 0 0 0 0 | 17 0 1 1 0 0 0
15 0 0 1 0 0 0 | 16 1 0 1 0 0 0 | 9 1 0 0 0 0 0 | 15 0 0 0 0 0 0
13 0 0 0 0 0 0 | 8 2 0 0 1 13 17 | 13 0 1 0 0 0 0 | 17 1 0 1 0 0 0
19 0 1 0 0 0 0 | 14 0 1 0 0 0 0 | 19 0 1 1 0 0 0 | 17 0 1 0 0 0 0
13 0 0 1 0 0 0 | 17 0 0 0 0 0 0 | 16 1 0 0 0 0 0 | 9 2 0 0 1 14 18
15 1 0 1 0 0 0 | 15 1 0 0 0 0 0 | 18 0 1 1 0 0 0 | 18 0 0 1 0 0 0
19 0 0 1 0 0 0 | 17 1 0 0 0 0 0 | 19 0 0 0 0 0 0 | 18 0 1 0 0 0 0
18 1 0 1 0 0 0 | 19 2 0 0 1 -1 -1 | 19 1 0 0 0 0 0 | 18 0 0 0 0 0 0
19 1 0 1 0 0 0 | 18 1 0 0 0 0 0
"""


# faceNeighbors: one line per face; for its ij, ki and jk quadrants (directions 1, 2, 3): the neighbouring
# face, the translation i j k of the neighbour's origin (in units of the res-0 unit scale) and the number
# of 60° ccw rotations into the neighbour's coordinate system. Direction 0 is the face itself.
_FACE_NEIGHBORS_TEXT = """
4 2 0 2 1 | 1 2 2 0 5 | 5 0 2 2 3
0 2 0 2 1 | 2 2 2 0 5 | 6 0 2 2 3
1 2 0 2 1 | 3 2 2 0 5 | 7 0 2 2 3
2 2 0 2 1 | 4 2 2 0 5 | 8 0 2 2 3
3 2 0 2 1 | 0 2 2 0 5 | 9 0 2 2 3
10 2 2 0 3 | 14 2 0 2 3 | 0 0 2 2 3
11 2 2 0 3 | 10 2 0 2 3 | 1 0 2 2 3
12 2 2 0 3 | 11 2 0 2 3 | 2 0 2 2 3
13 2 2 0 3 | 12 2 0 2 3 | 3 0 2 2 3
14 2 2 0 3 | 13 2 0 2 3 | 4 0 2 2 3
5 2 2 0 3 | 6 2 0 2 3 | 15 0 2 2 3
6 2 2 0 3 | 7 2 0 2 3 | 16 0 2 2 3
7 2 2 0 3 | 8 2 0 2 3 | 17 0 2 2 3
8 2 2 0 3 | 9 2 0 2 3 | 18 0 2 2 3
9 2 2 0 3 | 5 2 0 2 3 | 19 0 2 2 3
16 2 0 2 1 | 19 2 2 0 5 | 10 0 2 2 3
17 2 0 2 1 | 15 2 2 0 5 | 11 0 2 2 3
18 2 0 2 1 | 16 2 2 0 5 | 12 0 2 2 3
19 2 0 2 1 | 17 2 2 0 5 | 13 0 2 2 3
15 2 0 2 1 | 18 2 2 0 5 | 14 0 2 2 3
"""


def _parse_face_ijk_base_cells() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    tokens = _FACE_IJK_BASE_CELLS_TEXT.split()
    pairs = np.array([t.split(":") for t in tokens], dtype=np.int64).reshape(NUM_ICOSA_FACES, 3, 3, 3, 2)
    return pairs[..., 0].copy(), pairs[..., 1].copy()


def _parse_base_cell_data() -> npt.NDArray[np.int64]:
    rows = _BASE_CELL_DATA_TEXT.replace("\n", "|").split("|")
    data = np.array([r.split() for r in rows if r.strip()], dtype=np.int64)
    return data.reshape(NUM_BASE_CELLS, 7)


#: Base cell at (face, i, j, k) of the resolution-0 face ijk+ grid, shape (20, 3, 3, 3).
#: FACE_IJK_BASE_CELL_ROT: 60° ccw rotations into that base cell's orientation, same shape.
FACE_IJK_BASE_CELL, FACE_IJK_BASE_CELL_ROT = _parse_face_ijk_base_cells()

_BASE_CELL_DATA = _parse_base_cell_data()
#: Home face and ijk+ of each base cell, shape (122, 4) as (face, i, j, k).
BASE_CELL_HOME_FIJK: npt.NDArray[np.int64] = _BASE_CELL_DATA[:, 0:4].copy()
#: Whether each base cell is one of the 12 pentagons, shape (122,).
BASE_CELL_IS_PENTAGON: npt.NDArray[np.bool_] = _BASE_CELL_DATA[:, 4].astype(np.bool_)
#: For pentagon base cells the two faces with a clockwise offset rotation (-1: none), shape (122, 2).
BASE_CELL_CW_OFFSET_PENT: npt.NDArray[np.int64] = _BASE_CELL_DATA[:, 5:7].copy()


def _parse_face_neighbors() -> npt.NDArray[np.int64]:
    data = np.array(_FACE_NEIGHBORS_TEXT.replace("|", " ").split(), dtype=np.int64).reshape(20, 3, 5)
    central = np.zeros((NUM_ICOSA_FACES, 1, 5), dtype=np.int64)
    central[:, 0, 0] = np.arange(NUM_ICOSA_FACES)
    return np.concatenate([central, data], axis=1)


#: ``faceNeighbors``: for (face, direction 0=self/1=ij/2=ki/3=jk) the (neighbour face, translate i, j, k,
#: ccw 60° rotations), shape (20, 4, 5).
FACE_NEIGHBORS = _parse_face_neighbors()
#: ``adjacentFaceDir``: direction (1 ij, 2 ki, 3 jk) from face f to face g, 0 if f == g, -1 if not
#: adjacent, shape (20, 20). Derived from FACE_NEIGHBORS (it is the inverse lookup of that table).
ADJACENT_FACE_DIR = np.full((NUM_ICOSA_FACES, NUM_ICOSA_FACES), -1, dtype=np.int64)
for _face in range(NUM_ICOSA_FACES):
    ADJACENT_FACE_DIR[_face, FACE_NEIGHBORS[_face, :, 0]] = np.arange(4)
del _face
#: ``unitScaleByCIIres`` / ``maxDimByCIIres`` for Class II resolutions 0, 2, ..., 16 (-1 at odd ones), (17,).
UNIT_SCALE_BY_CII_RES = np.array([7 ** (r // 2) if r % 2 == 0 else -1 for r in range(17)], dtype=np.int64)
MAX_DIM_BY_CII_RES = np.where(UNIT_SCALE_BY_CII_RES > 0, 2 * UNIT_SCALE_BY_CII_RES, -1)


# --- derived tables (computed here from the ones above, not transcribed) ----------------------------------


def _face_tangent_bases() -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``_vec3TangentBasis`` of each face centre: unit north and east vectors, each shape (20, 3).

    Computed once in Python floats with the C operation order (IEEE double, no fused multiply-add), so
    the values are bit-identical to the ones H3 computes on the fly.
    """
    north = np.empty((NUM_ICOSA_FACES, 3))
    east = np.empty((NUM_ICOSA_FACES, 3))
    for f, (px, py, pz) in enumerate(FACE_CENTER_POINT.tolist()):
        nx, ny, nz = 0.0 + -pz * px, 0.0 + -pz * py, 1.0 + -pz * pz
        inv = 1.0 / math.sqrt(nx * nx + ny * ny + nz * nz)
        nx, ny, nz = nx * inv, ny * inv, nz * inv
        north[f] = nx, ny, nz
        east[f] = ny * pz - nz * py, nz * px - nx * pz, nx * py - ny * px
    return north, east


def _digit_rotation_table() -> npt.NDArray[np.int64]:
    """``[n, d]``: digit d rotated 60° counter-clockwise n times (n = 0..5); 0 and 7 are fixed."""
    ccw = np.array([0, 5, 3, 1, 6, 4, 2, 7], dtype=np.int64)  # K→IK, J→JK, JK→K, I→IJ, IK→I, IJ→J
    table = np.empty((6, 8), dtype=np.int64)
    table[0] = np.arange(8)
    for n in range(1, 6):
        table[n] = ccw[table[n - 1]]
    return table


def _three_digit_rotation_table(rot: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``[n * 512 + d3]``: three packed digits (9 bits) each rotated 60° ccw n times, flat (3072,)."""
    table = np.zeros(6 * 512, dtype=np.int64)
    for n in range(6):
        for d3 in range(512):
            for shift in (0, 3, 6):
                table[n * 512 + d3] |= rot[n, (d3 >> shift) & 7] << shift
    return table


def _ij_to_slot_table() -> npt.NDArray[np.int64]:
    """Resolution-0 IJ coordinates (ci, cj) in [-2, 2]² → ``i * 9 + j * 3 + k`` of their normalised
    ijk+ (-1 when a component exceeds ``MAX_FACE_COORD``), indexed (ci + 2) * 5 + cj + 2.
    """
    table = np.full(25, -1, dtype=np.int64)
    for ci in range(-2, 3):
        for cj in range(-2, 3):
            low = min(ci, cj, 0)
            i, j, k = ci - low, cj - low, -low
            if max(i, j, k) <= MAX_FACE_COORD:
                table[(ci + 2) * 5 + cj + 2] = i * 9 + j * 3 + k
    return table


def _pentagon_rotation_table(rot: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Net 60° ccw turns of ``_faceIjkToH3``'s pentagon branch, by [leading digit, ccwRot60, cw offset].

    C turns the digits step by step: once out of the deleted k-axes sub-sequence when the leading non-zero
    digit is 1 (clockwise on the base cell's two cw-offset faces, else counter-clockwise), then ccwRot60
    times ``_h3RotatePent60ccw``, which turns once more whenever the leading digit becomes 1. Every step
    turns all digits alike, so the leading digit decides the total and one rotation by it suffices.
    """
    table = np.zeros((8, 6, 2), dtype=np.int64)
    for lead0 in range(8):
        for num_rots in range(6):
            for cw_offset in (0, 1):
                lead, total = lead0, 0
                if lead == 1:
                    total = 5 if cw_offset else 1
                    lead = int(rot[total, lead])
                for _ in range(num_rots):
                    step = 2 if rot[1, lead] == 1 else 1
                    total += step
                    lead = int(rot[step, lead])
                table[lead0, num_rots, cw_offset] = total % 6
    return table


#: ``_vec3TangentBasis`` (north, east unit vectors) of each face centre, each (20, 3).
FACE_NORTH, FACE_EAST = _face_tangent_bases()
#: ``_rotate60ccw`` applied n times: ``[n, digit]``, (6, 8); n = 5 is ``_rotate60cw``.
DIGIT_ROT_CCW = _digit_rotation_table()
#: Three packed digits rotated n times: ``[n * 512 + d3]``, (3072,).
DIGITS3_ROT_CCW = _three_digit_rotation_table(DIGIT_ROT_CCW)
#: Offset ``i * 9 + j * 3 + k`` into a face's ``FACE_IJK_BASE_CELL`` block for res-0 IJ (ci, cj), (25,).
IJ_TO_BASE_SLOT = _ij_to_slot_table()
#: Net ccw rotations of a pentagon base cell's digits: ``[leading digit, ccwRot60, cw offset]``, (8, 6, 2).
PENTAGON_ROTATIONS = _pentagon_rotation_table(DIGIT_ROT_CCW)
#: Digit of a unit IJ step (di, dj) in {-1, 0, 1}², as 4-bit fields at (di + 1) * 3 + (dj + 1) of one int:
#: 1, 3, 7, 5, 0, 2, 7, 4, 6 (7 = not a unit step).
IJ_STEP_DIGITS = sum(d << (4 * n) for n, d in enumerate([1, 3, 7, 5, 0, 2, 7, 4, 6]))

for _arr in (
    FACE_CENTER_GEO,
    FACE_CENTER_POINT,
    FACE_AXES_AZ_RADS_CII,
    FACE_IJK_BASE_CELL,
    FACE_IJK_BASE_CELL_ROT,
    BASE_CELL_HOME_FIJK,
    BASE_CELL_IS_PENTAGON,
    BASE_CELL_CW_OFFSET_PENT,
    FACE_NEIGHBORS,
    ADJACENT_FACE_DIR,
    UNIT_SCALE_BY_CII_RES,
    MAX_DIM_BY_CII_RES,
    FACE_NORTH,
    FACE_EAST,
    DIGIT_ROT_CCW,
    DIGITS3_ROT_CCW,
    IJ_TO_BASE_SLOT,
    PENTAGON_ROTATIONS,
):
    _arr.flags.writeable = False
del _arr
