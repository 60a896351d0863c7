"""cases.export: CSV (Excel), GeoJSON and Open311 GeoReport v2 exports of the cases table."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import geopandas as gpd
import h3
import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.cli import main
from cases.db import init_db, make_engine
from cases.export import (
    CSV_COLUMNS,
    GEOJSON_PROPERTIES,
    OPEN311_FIELDS,
    export_cases,
    mask_phone_numbers,
)
from cases.models import Case

UTC = dt.UTC
SHANGHAI = ZoneInfo("Asia/Shanghai")
XSS = "<img src=x onerror=alert(1)>"
C1_LAT, C1_LON = 32.015, 120.864
C1_CELL = h3.str_to_int(h3.latlng_to_cell(C1_LAT, C1_LON, 10))


def _cases() -> list[Case]:
    """C1 closed, located; C2 open (no closed_at); C3 cancelled, no location. Reported in that order."""
    return [
        Case(
            case_id="C1",
            source="hotline",
            category_code="0601",
            category_standard="GB/T 30428.2-2013",
            kind="event",
            lat=C1_LAT,
            lon=C1_LON,
            cell=C1_CELL,
            reported_at=dt.datetime(2015, 1, 1, 0, 0, tzinfo=UTC),
            registered_at=dt.datetime(2015, 1, 1, 0, 5, tzinfo=UTC),
            dispatched_at=dt.datetime(2015, 1, 1, 0, 10, tzinfo=UTC),
            department="环卫处",
            deadline_at=dt.datetime(2015, 1, 1, 4, 0, tzinfo=UTC),
            resolved_at=dt.datetime(2015, 1, 1, 2, 0, tzinfo=UTC),
            verified_at=dt.datetime(2015, 1, 1, 3, 0, tzinfo=UTC),
            closed_at=dt.datetime(2015, 1, 1, 3, 30, tzinfo=UTC),
            status="closed",
            urgency="normal",
            reported_by="I007",
            reporter_phone="13812345678",
            description=f"暴露垃圾，路边堆放 {XSS}",
            satisfaction=0.9,
            address="崇川区 桃坞路44号",
        ),
        Case(
            case_id="C2",
            source="patrol",
            category_code="0102",
            kind="component",
            lat=32.02,
            lon=120.87,
            cell=h3.str_to_int(h3.latlng_to_cell(32.02, 120.87, 10)),
            reported_at=dt.datetime(2015, 1, 2, 1, 2, 3, 456789, tzinfo=SHANGHAI),
            deadline_at=dt.datetime(2015, 1, 3, 0, 0, tzinfo=UTC),
            status="dispatched",
            reporter_phone=None,
            description='=HYPERLINK("http://evil")',
        ),
        Case(
            case_id="C3",
            source="wechat",
            category_code="0103",
            reported_at=dt.datetime(2015, 1, 3, 0, 0, tzinfo=UTC),
            status="cancelled",
            reporter_phone="+86 139-0000-1111",
            location_flag="no_location",
        ),
    ]


@pytest.fixture
def engine(sqlite_engine: Engine) -> Engine:
    with Session(sqlite_engine) as session:
        session.add_all(_cases())
        session.commit()
    return sqlite_engine


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)


def test_csv_round_trip(engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "cases.csv"
    assert export_cases(engine, out, fmt="csv") == 3
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel opens it as UTF-8
    frame = _read_csv(out)
    assert list(frame.columns) == list(CSV_COLUMNS)
    assert frame["case_id"].tolist() == ["C1", "C2", "C3"]
    c1, c2, c3 = (frame.iloc[i] for i in range(3))
    assert c1["reported_at"] == "2015-01-01T08:00:00+08:00"
    assert c2["reported_at"] == "2015-01-02T01:02:03.456789+08:00"
    originals = {c.case_id: c for c in _cases()}
    for column in ("reported_at", "registered_at", "deadline_at", "closed_at"):
        for _, row in frame.iterrows():
            expected = getattr(originals[row["case_id"]], column)
            if expected is None:
                assert row[column] == ""
            else:
                assert pd.Timestamp(row[column]) == pd.Timestamp(expected)  # the same instant
    assert c2["closed_at"] == ""
    assert c1["description"] == f"暴露垃圾，路边堆放 {XSS}"
    assert c1["category"] == "0601"
    assert (float(c1["lat"]), float(c1["lon"])) == (C1_LAT, C1_LON)
    assert c1["h3"] == h3.latlng_to_cell(C1_LAT, C1_LON, 10)
    assert (c3["lat"], c3["lon"], c3["h3"]) == ("", "", "")
    assert [c1["reporter_phone"], c2["reporter_phone"], c3["reporter_phone"]] == [
        "138****5678",
        "",
        "139****1111",
    ]
    assert c2["description"].startswith("'=HYPERLINK")  # CSV injection defused
    assert float(c1["satisfaction"]) == 0.9


def test_csv_in_another_zone_and_unmasked(engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "utc.csv"
    export_cases(engine, out, fmt="csv", timezone="UTC", mask_phone=False)
    frame = _read_csv(out)
    assert frame.loc[0, "reported_at"] == "2015-01-01T00:00:00+00:00"
    assert frame.loc[0, "reporter_phone"] == "13812345678"
    assert frame.loc[2, "reporter_phone"] == "'+86 139-0000-1111"  # '+' would start a formula in Excel
    export_cases(engine, out, fmt="csv", timezone="America/St_Johns")  # a negative half-hour offset
    assert _read_csv(out).loc[0, "reported_at"] == "2014-12-31T20:30:00-03:30"


def test_geojson_points_in_lon_lat_order(engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "cases.geojson"
    assert export_cases(engine, out, fmt="geojson") == 3
    text = out.read_text(encoding="utf-8")
    assert "<img" not in text  # escaped as \u003c …, harmless if pasted into HTML
    doc = json.loads(text)
    assert doc["type"] == "FeatureCollection"
    features = {f["id"]: f for f in doc["features"]}
    assert features["C1"]["geometry"] == {"type": "Point", "coordinates": [C1_LON, C1_LAT]}
    assert features["C3"]["geometry"] is None
    assert list(features["C1"]["properties"]) == list(GEOJSON_PROPERTIES)
    assert features["C1"]["properties"]["description"] == f"暴露垃圾，路边堆放 {XSS}"
    assert features["C1"]["properties"]["closed_at"] == "2015-01-01T11:30:00+08:00"
    assert features["C2"]["properties"]["closed_at"] is None
    assert features["C1"]["properties"]["reporter_phone"] == "138****5678"
    frame = gpd.read_file(out, engine="pyogrio")
    assert frame.crs.to_epsg() == 4326
    assert len(frame) == 3
    c1 = frame.set_index("case_id").loc["C1", "geometry"]
    assert (c1.x, c1.y) == (C1_LON, C1_LAT)


def test_open311_requests(engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "requests.json"
    assert export_cases(engine, out, fmt="open311") == 3
    requests = {r["service_request_id"]: r for r in json.loads(out.read_text(encoding="utf-8"))}
    assert all(list(r) == list(OPEN311_FIELDS) for r in requests.values())
    assert {k: r["status"] for k, r in requests.items()} == {"C1": "closed", "C2": "open", "C3": "closed"}
    c1 = requests["C1"]
    assert c1["status_notes"] == "closed"
    assert (c1["service_code"], c1["service_name"]) == ("0601", "0601")
    assert c1["agency_responsible"] == "环卫处"
    assert c1["requested_datetime"] == "2015-01-01T08:00:00+08:00"
    assert c1["updated_datetime"] == "2015-01-01T11:30:00+08:00"  # closed: the closing time
    assert c1["expected_datetime"] == "2015-01-01T12:00:00+08:00"
    assert (c1["lat"], c1["long"]) == (C1_LAT, C1_LON)
    assert c1["address"] == "崇川区 桃坞路44号"
    assert c1["description"] == f"暴露垃圾，路边堆放 {XSS}"
    assert requests["C2"]["updated_datetime"] == requests["C2"]["requested_datetime"]
    assert (requests["C3"]["lat"], requests["C3"]["long"]) == (None, None)
    assert requests["C3"]["media_url"] is None


@pytest.mark.parametrize("fmt", ["csv", "geojson", "open311"])
def test_chunked_output_is_identical(engine: Engine, tmp_path: Path, fmt: str) -> None:
    whole, chunked = tmp_path / f"whole.{fmt}", tmp_path / f"chunked.{fmt}"
    assert export_cases(engine, whole, fmt=fmt) == export_cases(engine, chunked, fmt=fmt, chunk_rows=1) == 3
    assert whole.read_bytes() == chunked.read_bytes()


def test_export_on_each_backend(store_engine: Engine, tmp_path: Path) -> None:
    with Session(store_engine) as session:
        session.add_all(_cases())
        session.commit()
    out = tmp_path / "cases.csv"
    assert export_cases(store_engine, out, fmt="csv") == 3
    frame = _read_csv(out)
    assert frame["reported_at"].tolist()[0] == "2015-01-01T08:00:00+08:00"
    assert frame.loc[0, "h3"] == h3.latlng_to_cell(C1_LAT, C1_LON, 10)  # int64 cell never went via float


@pytest.mark.parametrize(("fmt", "empty"), [("csv", None), ("geojson", []), ("open311", [])])
def test_empty_database(sqlite_engine: Engine, tmp_path: Path, fmt: str, empty: list[object] | None) -> None:
    out = tmp_path / f"empty.{fmt}"
    assert export_cases(sqlite_engine, out, fmt=fmt) == 0
    if fmt == "csv":
        assert list(_read_csv(out).columns) == list(CSV_COLUMNS)
    elif fmt == "geojson":
        assert json.loads(out.read_text(encoding="utf-8"))["features"] == empty
    else:
        assert json.loads(out.read_text(encoding="utf-8")) == empty


def test_bad_arguments(engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    with pytest.raises(ValueError, match="`fmt` was 'xml'"):
        export_cases(engine, out, fmt="xml")
    with pytest.raises(ValueError, match="`timezone` was 'Mars/Olympus'"):
        export_cases(engine, out, fmt="csv", timezone="Mars/Olympus")
    assert not out.exists()
    assert not list(tmp_path.glob("*.part"))


def test_mask_phone_numbers() -> None:
    phones = pd.Series(["13812345678", "+86 138-1234-5678", "0513-85123456", "12345", None, ""])
    assert mask_phone_numbers(phones).tolist() == [
        "138****5678",
        "138****5678",
        "051****3456",
        "****",
        None,
        None,
    ]


@pytest.mark.parametrize("fmt", ["csv", "geojson", "open311"])
def test_cli_export(tmp_path: Path, fmt: str) -> None:
    db_url = f"sqlite:///{tmp_path / 'gp.db'}"
    engine = make_engine(db_url)
    init_db(engine)
    with Session(engine) as session:
        session.add_all(_cases())
        session.commit()
    engine.dispose()
    out = tmp_path / "out" / f"cases.{fmt}"
    result = CliRunner().invoke(
        main, ["--db-url", db_url, "export", "cases", "--format", fmt, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert f"wrote 3 cases to {out}" in result.output
    assert "13812345678" not in out.read_text(encoding="utf-8-sig")  # the CLI masks phones
