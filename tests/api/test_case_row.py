"""The one-row checks of live intake (:func:`cases.case_row.check_case_row`) agree with the import's batch
checks (:func:`cases.case_rules.check_cases`) row by row: same quarantine reason, same location defect,
same typed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import shapely

from cases.case_row import CategoryCodes, check_case_row
from cases.case_rules import CaseContext, check_cases
from cases.categories import load_categories
from cases.mapping import CASE_FIELDS, Mapping, apply_mapping
from cases.validation import CityArea

_STRING = pd.ArrowDtype(pa.string())
AREA = CityArea([shapely.box(120.84, 32.00, 120.90, 32.04)])
BASE = {"case_id": "X1", "source": "wechat", "category_code": "06010", "lat": "32.01", "lon": "120.86",
        "reported_at": "2026-12-01T08:00:00+00:00", "address": "1 号", "description": "d",
        "reporter_phone": "13812345678"}  # fmt: skip
ROWS = [
    {},
    {"lat": "32.0100", "lon": "１２０.８６"},  # full-width digits
    {"lat": "120.86", "lon": "32.01"},  # swapped, out of range
    {"lat": "32.01", "lon": "100.0"},  # outside the city
    {"lat": "abc"},
    {"lon": ""},
    {"lat": "", "lon": ""},
    {"lat": "0", "lon": "0"},
    {"lat": "95", "lon": "200"},
    {"lat": "32.01", "lon": "-120.86"},
    {"category_code": "99999"},
    {"category_code": ""},
    {"category_code": "x" * 40},
    {"reporter_phone": "call me"},
    {"reporter_phone": "(0513) 8512-3456"},
    {"description": "长" * 5000},
    {"address": "路" * 600},
    {"source": "carrier pigeon"},
    {"lat": "null", "lon": "120.86"},
    {"lat": "nan", "lon": "120.86"},
    {"lat": " 32.02 ", "lon": "120.87 "},
    {"lat": "+32.01", "lon": "120.86e0"},
    {"lat": "32.", "lon": "1.2086e2"},
    {"lat": "3_2.01", "lon": "120.86"},
    {"lat": "32.01.5", "lon": "120.86"},
]


def _reference(row: dict[str, str], table: pd.DataFrame) -> tuple:
    frame = pd.DataFrame({k: pd.Series([v], dtype=_STRING) for k, v in row.items()})
    ctx = CaseContext(file="t", mapping=Mapping(timezone="UTC"), categories=table, area=AREA)
    checked = check_cases(apply_mapping(frame, ctx.mapping, CASE_FIELDS), ctx)
    if not checked.problems.ok[0]:
        return ("refused", str(checked.problems.to_frame("t", np.array([1]), frame).iloc[0]["reason"]))
    typed = checked.rows.iloc[0]
    if not np.isfinite(typed["lat"]):
        defects = checked.problems.defects_frame("t", np.array([1]))
        located = defects[defects["field"].isin(["lat", "lon"])]
        return ("no_location", str(located["reason"].iloc[0]) if len(located) else "missing_field")
    names = ("cell", "category_standard", "kind", "reporter_phone", "address", "description", "source")
    return ("ok", round(float(typed["lat"]), 9), round(float(typed["lon"]), 9),
            *(None if pd.isna(typed[n]) else typed[n] for n in names))  # fmt: skip


def _fast(row: dict[str, str], codes: CategoryCodes) -> tuple:
    checked = check_case_row(row, codes, AREA)
    if checked.problem is not None:
        return ("refused", checked.problem[0])
    values = checked.values
    if values["cell"] is None:
        located = [d for d in checked.defects if d[1] in ("lat", "lon")]
        return ("no_location", located[0][0] if located else "missing_field")
    names = ("cell", "category_standard", "kind", "reporter_phone", "address", "description", "source")
    return ("ok", round(values["lat"], 9), round(values["lon"], 9), *(values.get(n) for n in names))


@pytest.mark.parametrize("change", ROWS, ids=[str(i) for i in range(len(ROWS))])
def test_one_row_checks_agree_with_the_import(change: dict[str, str]) -> None:
    table = load_categories()
    row = {**BASE, **change}
    assert _fast(row, CategoryCodes.from_table(table)) == _reference(row, table)
