"""Field-level defects and cases without a place (issue 22): a valid case with a bad optional field is
imported with that field empty and a defect record; only rows that cannot be a case are quarantined."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.importing import import_cases
from cases.mapping import Mapping, MappingError
from cases.models import Case, QuarantineRow
from cases.validation import FIELD_LEVEL_REASONS, REASONS

HEADER = "case_id,source,category,lat,lon,reported_at,closed_at,description\n"
GOOD = "C1,hotline,06010,32.0100,120.8600,2024-03-05 08:00:00,2024-03-05 10:00:00,暴露垃圾\n"

FIELD_ROWS = [
    # (id, row, reason, field, stored column that is emptied, located afterwards)
    ("missing_lat", "C2,hotline,06010,,120.86,2024-03-05 09:00:00,,x", "missing_field", "lat", "lat", False),
    (
        "null_token_lon",
        "C2,hotline,06010,32.01,NULL,2024-03-05 09:00:00,,x",
        "missing_field",
        "lon",
        "lat",
        False,
    ),
    (
        "bad_closed_at",
        "C2,hotline,06010,32.01,120.86,2024-03-05 09:00:00,yesterday,x",
        "unparseable_time",
        "closed_at",
        "closed_at",
        True,
    ),
    (
        "bad_lat",
        "C2,hotline,06010,32.01x,120.86,2024-03-05 09:00:00,,x",
        "unparseable_number",
        "lat",
        "lat",
        False,
    ),
    (
        "lat_95",
        "C2,hotline,06010,95.0,120.86,2024-03-05 09:00:00,,x",
        "coordinate_out_of_range",
        "lat",
        "lat",
        False,
    ),
    (
        "closed_early",
        "C2,hotline,06010,32.01,120.86,2024-03-05 09:00:00,2024-03-05 08:59:59,x",
        "closed_before_reported",
        "closed_at",
        "closed_at",
        True,
    ),
]


def _import(tmp_path: Path, engine: Engine, body: str, *, header: str = HEADER, **kwargs: object):
    path = tmp_path / "cases.csv"
    path.write_text(header + body, encoding="utf-8")
    report = import_cases(path, engine, **kwargs)
    assert report.read == report.imported + report.duplicates + report.quarantined
    assert len(report.quarantine) == report.quarantined
    return report


def _row(engine: Engine, case_id: str) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(Case).where(Case.case_id == case_id)).mappings().one())


@pytest.mark.parametrize(
    ("row", "reason", "field", "column", "located"),
    [r[1:] for r in FIELD_ROWS],
    ids=[r[0] for r in FIELD_ROWS],
)
def test_field_defect_imports_the_case_with_the_field_empty(
    tmp_path: Path, sqlite_engine: Engine, row: str, reason: str, field: str, column: str, located: bool
) -> None:
    report = _import(tmp_path, sqlite_engine, GOOD + row + "\n" + GOOD.replace("C1", "C3"))
    assert (report.read, report.imported, report.duplicates, report.quarantined) == (3, 3, 0, 0)
    assert report.defective == 1
    (defect,) = report.defects.itertuples()
    assert (defect.reason, defect.field, defect.line) == (reason, field, 3)
    assert defect.detail.startswith(f"{tmp_path / 'cases.csv'}, line 3: {field}")
    assert f"imported with {field} empty" in defect.detail
    assert "3 imported, of which 1 with field defects" in report.summary()
    stored = _row(sqlite_engine, "C2")
    assert stored[column] is None
    assert (stored["cell"] is not None) == located
    assert stored["location_flag"] == (None if located else "no_location")


@pytest.mark.parametrize("reason", ["closed_before_reported", "unparseable_time"])
def test_strict_per_reason_from_the_mapping(tmp_path: Path, sqlite_engine: Engine, reason: str) -> None:
    body = GOOD + "C2,hotline,06010,32.01,120.86,2024-03-05 09:00:00,2024-03-05 08:00:00,x\n"
    body += "C3,hotline,06010,32.01,120.86,2024-03-05 09:00:00,yesterday,x\n"
    mapping = Mapping.from_dict({"options": {"strict": [reason]}})
    report = _import(tmp_path, sqlite_engine, body, mapping=mapping)
    assert (report.imported, report.quarantined, report.defective) == (2, 1, 1)
    assert report.quarantine.iloc[0]["reason"] == reason
    assert report.defects.iloc[0]["reason"] != reason


def test_strict_rejects_a_row_level_reason() -> None:
    with pytest.raises(MappingError, match="not a field-level reason"):
        Mapping.from_dict({"options": {"strict": ["lat_lon_swapped"]}})
    assert set(FIELD_LEVEL_REASONS) <= set(REASONS)


def test_cases_without_a_place(tmp_path: Path, sqlite_engine: Engine) -> None:
    """Both coordinates empty, or 0, 0: a case without a place, no defect; strict makes a place required."""
    body = GOOD + "C2,hotline,06010,,,2024-03-05 09:00:00,,x\nC3,hotline,06010,0,0,2024-03-05 09:00:00,,x\n"
    report = _import(tmp_path, sqlite_engine, body)
    assert (report.imported, report.quarantined, report.defective) == (3, 0, 0)
    for case_id in ("C2", "C3"):
        stored = _row(sqlite_engine, case_id)
        assert (stored["lat"], stored["cell"], stored["location_flag"]) == (None, None, "no_location")
    assert _row(sqlite_engine, "C1")["location_flag"] is None
    strict = _import(tmp_path, sqlite_engine, body.replace("C", "S"), strict=["missing_field"])
    assert (strict.imported, strict.quarantined) == (1, 2)


def test_department_phone_and_vocabulary_defects(tmp_path: Path, sqlite_engine: Engine) -> None:
    header = "case_id,source,category,lat,lon,reported_at,department,reporter_phone,kind\n"
    body = (
        "D1,hotline,06010,32.01,120.86,2024-03-05 09:00,城管局,138-0000-1234,event\n"
        "D2,fax,06010,32.01,120.86,2024-03-05 09:00,不存在的局,call me,thing\n"
        "D3,hotline,06010,32.01,120.86,2024-03-05 09:00,,+86 (513) 1234****,\n"
    )
    mapping = Mapping.from_dict({"options": {"departments": ["城管局", "环卫处"]}})
    report = _import(tmp_path, sqlite_engine, body, header=header, mapping=mapping)
    assert (report.imported, report.quarantined, report.defective) == (3, 0, 1)
    got = sorted(zip(report.defects["field"], report.defects["reason"], report.defects["raw"], strict=True))
    assert got == [
        ("department", "unknown_department", "不存在的局"),
        ("kind", "unmapped_value", "thing"),
        ("reporter_phone", "invalid_phone", "call me"),
        ("source", "unmapped_value", "fax"),
    ]
    d2 = _row(sqlite_engine, "D2")
    assert (d2["source"], d2["department"], d2["reporter_phone"], d2["kind"]) == ("other", None, None, None)
    assert _row(sqlite_engine, "D3")["reporter_phone"] == "+86 (513) 1234****"


def test_defects_in_the_quarantine_csv_and_the_store(tmp_path: Path, sqlite_engine: Engine) -> None:
    body = GOOD + "C2,hotline,06010,32.01,120.86,2024-03-05 09:00:00,2024-03-05 08:00:00,x\n"
    body += ",hotline,06010,32.01,120.86,2024-03-05 09:00:00,,no id\n"
    report = _import(tmp_path, sqlite_engine, body)
    out = report.write_quarantine(tmp_path / "q.csv")
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert list(table.columns[:2]) == ["outcome", "file"]
    assert sorted(zip(table["outcome"], table["reason"], strict=True)) == [
        ("imported, field emptied", "closed_before_reported"),
        ("quarantined", "missing_field"),
    ]
    with sqlite_engine.connect() as conn:
        reasons = sorted(conn.execute(sa.select(QuarantineRow.reason)).scalars())
    assert reasons == ["defect:closed_before_reported", "missing_field"]


def test_duplicates_carry_no_defects(tmp_path: Path, sqlite_engine: Engine) -> None:
    bad = "C1,hotline,06010,32.01,120.86,2024-03-05 09:00:00,2024-03-05 08:00:00,x\n"
    report = _import(tmp_path, sqlite_engine, GOOD + bad)
    assert (report.imported, report.duplicates, report.defective, len(report.defects)) == (1, 1, 0, 0)
