"""cases.importing: one tiny hand-written CSV per bad-input class, with the exact reason, field and line.

Line numbers count the header as line 1, so the first data row is line 2.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases import readers
from cases.categories import SHIPPED_CATEGORIES
from cases.importing import import_cases
from cases.mapping import Mapping
from cases.models import Area, Case

HEADER = "case_id,source,category,lat,lon,reported_at,closed_at,description\n"
GOOD = "C1,hotline,06010,32.0100,120.8600,2024-03-05 08:00:00,2024-03-05 10:00:00,暴露垃圾\n"


def _import(tmp_path: Path, engine: Engine, body: str, *, header: str = HEADER, **kwargs: object):
    path = tmp_path / "cases.csv"
    path.write_text(header + body, encoding="utf-8")
    report = import_cases(path, engine, **kwargs)
    assert report.read == report.imported + report.duplicates + report.quarantined
    assert len(report.quarantine) == report.quarantined
    return report


def _stored_ids(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(sa.select(Case.case_id)).scalars())


BAD_ROWS = [
    # (id, row, reason, field)
    ("missing_case_id", ",hotline,06010,32.01,120.86,2024-03-05 09:00:00,,x", "missing_field", "case_id"),
    ("missing_reported_at", "C2,hotline,06010,32.01,120.86,,,x", "missing_field", "reported_at"),
    ("missing_category", "C2,hotline,,32.01,120.86,2024-03-05 09:00:00,,x", "missing_field", "category_code"),
    ("missing_lat", "C2,hotline,06010,,120.86,2024-03-05 09:00:00,,x", "missing_field", "lat"),
    ("null_token_lon", "C2,hotline,06010,32.01,NULL,2024-03-05 09:00:00,,x", "missing_field", "lon"),
    ("null_island", "C2,hotline,06010,0,0,2024-03-05 09:00:00,,x", "missing_field", "lat"),
    (
        "bad_reported_at",
        "C2,hotline,06010,32.01,120.86,2024-13-45 08:00,,x",
        "unparseable_time",
        "reported_at",
    ),
    (
        "bad_closed_at",
        "C2,hotline,06010,32.01,120.86,2024-03-05 09:00:00,yesterday,x",
        "unparseable_time",
        "closed_at",
    ),
    ("bad_lat", "C2,hotline,06010,32.01x,120.86,2024-03-05 09:00:00,,x", "unparseable_number", "lat"),
    ("nan_lon", "C2,hotline,06010,32.01,inf,2024-03-05 09:00:00,,x", "unparseable_number", "lon"),
    ("lat_95", "C2,hotline,06010,95.0,120.86,2024-03-05 09:00:00,,x", "coordinate_out_of_range", "lat"),
    ("lon_181", "C2,hotline,06010,32.01,181.0,2024-03-05 09:00:00,,x", "coordinate_out_of_range", "lon"),
    ("swapped_range", "C2,hotline,06010,120.86,32.01,2024-03-05 09:00:00,,x", "lat_lon_swapped", "lat"),
    (
        "closed_early",
        "C2,hotline,06010,32.01,120.86,2024-03-05 09:00:00,2024-03-05 08:59:59,x",
        "closed_before_reported",
        "closed_at",
    ),
    ("source_vocab", "C2,phone,06010,32.01,120.86,2024-03-05 09:00:00,,x", "unmapped_value", "source"),
    (
        "case_id_65",
        "C" * 65 + ",hotline,06010,32.01,120.86,2024-03-05 09:00:00,,x",
        "value_too_long",
        "case_id",
    ),
]


@pytest.mark.parametrize(("row", "reason", "field"), [b[1:] for b in BAD_ROWS], ids=[b[0] for b in BAD_ROWS])
def test_bad_row_is_quarantined_with_reason_field_and_line(
    tmp_path: Path, sqlite_engine: Engine, row: str, reason: str, field: str
) -> None:
    """With ``strict=True`` every reason quarantines the row (field-level: test_import_defects.py)."""
    report = _import(tmp_path, sqlite_engine, GOOD + row + "\n" + GOOD.replace("C1", "C3"), strict=True)
    assert (report.read, report.imported, report.duplicates, report.quarantined) == (3, 2, 0, 1)
    bad = report.quarantine.iloc[0]
    assert (bad["reason"], bad["field"], bad["line"]) == (reason, field, 3)
    assert bad["detail"].startswith(f"{tmp_path / 'cases.csv'}, line 3: {field}")
    assert '"source"' in bad["raw"]
    assert '"description":"x"' in bad["raw"]
    assert _stored_ids(sqlite_engine) == ["C1", "C3"]


def test_missing_column_quarantines_every_row_and_warns(tmp_path: Path, sqlite_engine: Engine) -> None:
    header = "case_id,source,lat,lon,reported_at\n"
    mapping = Mapping(columns={"category_code": "小类"})
    report = _import(
        tmp_path, sqlite_engine, "C1,hotline,32.01,120.86,2024-03-05 08:00\n", header=header, mapping=mapping
    )
    assert report.quarantined == 1
    bad = report.quarantine.iloc[0]
    assert (bad["reason"], bad["field"], bad["line"]) == ("missing_field", "category_code", 2)
    assert "no column '小类'" in bad["detail"]
    assert any("'小类', which is not in the file" in w for w in report.warnings)


def test_swapped_coordinates_near_the_city_bounds(tmp_path: Path, sqlite_engine: Engine) -> None:
    """Boston-like rows: (-71.06, 42.36) is in range both ways; only the swap is near the file's points."""
    rows = "".join(f"B{i},hotline,x,42.36{i},-71.06{i},2024-03-05 08:00,,\n" for i in range(5))
    rows += "B9,hotline,x,-71.0587,42.3594,2024-03-05 08:00,,\n"
    report = _import(tmp_path, sqlite_engine, rows)
    assert (report.imported, report.quarantined) == (5, 1)
    bad = report.quarantine.iloc[0]
    assert (bad["reason"], bad["field"], bad["line"]) == ("lat_lon_swapped", "lat", 7)
    assert "-71.0587, 42.3594" in bad["detail"]


def _store_area(engine: Engine, lat0: float, lon0: float, size: float = 0.1) -> None:
    square = shapely.box(lon0, lat0, lon0 + size, lat0 + size)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Area.__table__).values(
                area_id="320602",
                level="district",
                name="崇川区",
                geometry_wkb=shapely.to_wkb(square),
                area_m2=1.0e8,
                source_crs="wgs84",
            )
        )


def test_outside_city_area(tmp_path: Path, sqlite_engine: Engine) -> None:
    _store_area(sqlite_engine, 31.95, 120.80)
    body = GOOD + "C2,hotline,06010,31.50,121.50,2024-03-05 09:00:00,,x\n"
    body += "C3,hotline,06010,31.9485,120.8100,2024-03-05 09:00:00,,within the 200 m buffer\n"
    report = _import(tmp_path, sqlite_engine, body)
    assert (report.imported, report.quarantined) == (2, 1)
    bad = report.quarantine.iloc[0]
    assert (bad["reason"], bad["field"], bad["line"]) == ("outside_city_area", "lat", 3)


def test_swapped_coordinates_inside_the_city_area(tmp_path: Path, sqlite_engine: Engine) -> None:
    _store_area(sqlite_engine, 42.30, -71.10)
    body = (
        "B1,hotline,x,42.3594,-71.0587,2024-03-05 08:00,,\nB2,hotline,x,-71.0587,42.3594,2024-03-05 08:00,,\n"
    )
    report = _import(tmp_path, sqlite_engine, body)
    bad = report.quarantine.iloc[0]
    assert (report.quarantined, bad["reason"], bad["field"], bad["line"]) == (1, "lat_lon_swapped", "lat", 3)


def test_unmapped_value_of_a_value_map(tmp_path: Path, sqlite_engine: Engine) -> None:
    mapping = Mapping(origin="city.toml", values={"source": {"热线": "hotline", "监督员": "patrol"}})
    body = GOOD.replace("hotline", "热线") + "C2,传真,06010,32.01,120.86,2024-03-05 09:00:00,,x\n"
    report = _import(tmp_path, sqlite_engine, body, mapping=mapping)
    bad = report.defects.iloc[0]  # a field-level defect: the case is imported with source "other"
    assert (report.imported, bad["reason"], bad["field"], bad["line"]) == (2, "unmapped_value", "source", 3)
    assert '"传真"' in bad["detail"]
    assert "[values.source] of city.toml" in bad["detail"]
    with sqlite_engine.connect() as conn:
        assert conn.execute(sa.select(Case.source).where(Case.case_id == "C2")).scalar_one() == "other"


def test_value_map_default_star(tmp_path: Path, sqlite_engine: Engine) -> None:
    mapping = Mapping(values={"source": {"热线": "hotline", "*": "other"}})
    body = GOOD.replace("hotline", "热线") + "C2,传真,06010,32.01,120.86,2024-03-05 09:00:00,,x\n"
    report = _import(tmp_path, sqlite_engine, body, mapping=mapping)
    assert (report.imported, report.quarantined) == (2, 0)
    with sqlite_engine.connect() as conn:
        sources = dict(conn.execute(sa.select(Case.case_id, Case.source)).all())
    assert sources == {"C1": "hotline", "C2": "other"}


def test_unknown_category_against_the_table(tmp_path: Path, sqlite_engine: Engine) -> None:
    body = GOOD + "C2,hotline,99999,32.01,120.86,2024-03-05 09:00:00,,x\n"
    report = _import(tmp_path, sqlite_engine, body, categories=SHIPPED_CATEGORIES)
    bad = report.quarantine.iloc[0]
    assert (report.imported, bad["reason"], bad["field"], bad["line"]) == (
        1,
        "unknown_category",
        "category_code",
        3,
    )
    with sqlite_engine.connect() as conn:
        row = conn.execute(sa.select(Case.category_standard, Case.kind)).one()
    assert tuple(row) == ("GB/T 47678.5-2026", "event")  # filled from the table


def test_category_kept_as_is_without_a_table(tmp_path: Path, sqlite_engine: Engine) -> None:
    report = _import(tmp_path, sqlite_engine, GOOD.replace("06010", "Street Light Outages"))
    assert report.imported == 1
    with sqlite_engine.connect() as conn:
        assert conn.execute(sa.select(Case.category_code)).scalar_one() == "Street Light Outages"


def test_same_case_id_twice_in_one_file_is_a_duplicate(tmp_path: Path, sqlite_engine: Engine) -> None:
    body = (
        GOOD + GOOD.replace("暴露垃圾", "second copy") + "C2,hotline,06010,32.01,120.86,2024-03-05 09:00,,x\n"
    )
    report = _import(tmp_path, sqlite_engine, body)
    assert (report.read, report.imported, report.duplicates, report.quarantined) == (3, 2, 1, 0)
    assert any("line 3 (case_id 'C1')" in w for w in report.warnings)
    with sqlite_engine.connect() as conn:
        assert (
            conn.execute(sa.select(Case.description).where(Case.case_id == "C1")).scalar_one() == "暴露垃圾"
        )


def test_duplicate_across_chunks_and_after_a_quarantined_first_copy(
    tmp_path: Path, sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "CHUNK_ROWS", 2)
    body = (
        "C1,hotline,06010,32.01,120.86,someday,,first copy is invalid\n"
        + GOOD
        + "C2,hotline,06010,32.01,120.86,2024-03-05 09:00,,x\n"
        + GOOD
        + GOOD
    )
    report = _import(tmp_path, sqlite_engine, body)
    assert (report.read, report.imported, report.duplicates, report.quarantined) == (5, 2, 2, 1)
    assert report.quarantine.iloc[0]["line"] == 2
    assert _stored_ids(sqlite_engine) == ["C1", "C2"]


def test_malformed_row_keeps_its_text_and_line(tmp_path: Path, sqlite_engine: Engine) -> None:
    body = GOOD + "C2,hotline,06010,32.01,120.86,2024-03-05 09:00,,x,extra\n" + GOOD.replace("C1", "C3")
    report = _import(tmp_path, sqlite_engine, body)
    assert (report.read, report.imported, report.quarantined) == (3, 2, 1)
    bad = report.quarantine.iloc[0]
    assert (bad["reason"], bad["line"], pd.isna(bad["field"])) == ("malformed_row", 3, True)
    assert bad["raw"] == "C2,hotline,06010,32.01,120.86,2024-03-05 09:00,,x,extra"
    assert "expected 8 fields, found 9" in bad["detail"]


@pytest.mark.parametrize("chunk_rows", [1, 2, 1000])
def test_line_numbers_count_physical_lines(
    tmp_path: Path, sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch, chunk_rows: int
) -> None:
    """Quoted multi-line values, blank lines and malformed rows shift the following lines, in any chunking."""
    monkeypatch.setattr(readers, "CHUNK_ROWS", chunk_rows)
    body = (
        GOOD  # line 2
        + 'C2,hotline,06010,32.01,120.86,2024-03-05 09:00,,"two\nlines"\n'  # lines 3-4
        + "\n"  # line 5, blank
        + "C3,too,many,fields,here,x,y,z,w\n"  # line 6, malformed
        + 'C4,hotline,06010,32.01,120.86,2024-03-05 09:00,,"three\r\nphysical\nlines"\n'  # lines 7-9
        + "C5,hotline,06010,32.01,120.86,someday,,x\n"  # line 10
    )
    report = _import(tmp_path, sqlite_engine, body)
    assert (report.read, report.imported, report.quarantined) == (5, 3, 2)
    assert dict(zip(report.quarantine["reason"], report.quarantine["line"], strict=True)) == {
        "malformed_row": 6,
        "unparseable_time": 10,
    }
    assert any("1 empty row(s) skipped" in w for w in report.warnings)
    with sqlite_engine.connect() as conn:
        text = conn.execute(sa.select(Case.description).where(Case.case_id == "C4")).scalar_one()
    assert text == "three\r\nphysical\nlines"


def test_first_failing_check_wins(tmp_path: Path, sqlite_engine: Engine) -> None:
    """A row with several problems is quarantined once, with the earliest check's reason."""
    report = _import(tmp_path, sqlite_engine, "C2,phone,06010,abc,120.86,garbage,,x\n", strict=True)
    assert report.quarantined == 1
    assert report.quarantine.iloc[0]["reason"] == "unparseable_number"


def test_a_row_level_problem_wins_over_field_defects(tmp_path: Path, sqlite_engine: Engine) -> None:
    """Field defects of a quarantined row are not listed: the row is quarantined with its row-level reason."""
    report = _import(tmp_path, sqlite_engine, "C2,phone,06010,abc,120.86,garbage,,x\n")
    assert (report.quarantined, report.defective, len(report.defects)) == (1, 0, 0)
    assert report.quarantine.iloc[0]["reason"] == "unparseable_time"
