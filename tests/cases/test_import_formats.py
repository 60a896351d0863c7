"""cases.readers through import_cases: encodings, xlsx, Open311 JSON, gzip, delimiters, unreadable files."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from app.cli import main
from cases.importing import ImportReadError, import_cases
from cases.mapping import Mapping, load_mapping
from cases.models import Case
from cases.readers import iter_chunks, open_table
from tests.conftest import migrated_sqlite

CHINESE = {
    "department": "市容环境",
    "category": "暴露垃圾",
    "address": "南通市崇川区",
    "description": "路边有垃圾，请处理",
}
HEADER = [
    "case_id",
    "source",
    "category",
    "lat",
    "lon",
    "reported_at",
    "department",
    "address",
    "description",
]


def _rows(extra: str = "") -> list[list[str]]:
    return [
        ["NT1", "hotline", CHINESE["category"], "32.0150", "120.8640", "2024-03-05 08:15:00",
         CHINESE["department"], CHINESE["address"], CHINESE["description"] + extra],
        ["NT2", "patrol", CHINESE["category"], "32.0160", "120.8650", "2024-03-05 09:15:00",
         CHINESE["department"], CHINESE["address"], "第二条" + extra],
    ]  # fmt: skip


def _csv_text(extra: str = "") -> str:
    return "\n".join(",".join(r) for r in [HEADER, *_rows(extra)]) + "\n"


def _stored(engine: Engine) -> list[tuple]:
    with engine.connect() as conn:
        query = sa.select(Case.case_id, Case.category_code, Case.department, Case.address, Case.description)
        return [tuple(r) for r in conn.execute(query.order_by(Case.case_id))]


@pytest.mark.parametrize(
    ("encoding", "extra"),
    [("utf-8", ""), ("utf-8-sig", ""), ("gbk", ""), ("gb18030", "𠮷䶮")],  # 𠮷 needs GB18030's 4-byte codes
)
def test_chinese_text_round_trips_in_every_encoding(
    tmp_path: Path, sqlite_engine: Engine, encoding: str, extra: str
) -> None:
    path = tmp_path / f"cases_{encoding}.csv"
    path.write_bytes(_csv_text(extra).encode(encoding))
    if encoding == "gbk":
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")  # the file really is not UTF-8
    report = import_cases(path, sqlite_engine)
    assert (report.read, report.imported, report.quarantined) == (2, 2, 0)
    assert _stored(sqlite_engine) == [
        ("NT1", "暴露垃圾", "市容环境", "南通市崇川区", "路边有垃圾，请处理" + extra),
        ("NT2", "暴露垃圾", "市容环境", "南通市崇川区", "第二条" + extra),
    ]


def test_detected_encodings(tmp_path: Path) -> None:
    for encoding, expected in [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030")]:
        path = tmp_path / f"e_{encoding}.csv"
        path.write_bytes(_csv_text().encode(encoding))
        source = open_table(path)
        assert (source.encoding, source.columns[0]) == (expected, "case_id")


def test_mapping_encoding_wins(tmp_path: Path, sqlite_engine: Engine) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes(_csv_text().encode("gbk"))
    assert import_cases(path, sqlite_engine, mapping=Mapping(encoding="gbk")).imported == 2
    with pytest.raises(ImportReadError, match="tried utf-8"):
        import_cases(path, sqlite_engine, mapping=Mapping(encoding="utf-8"))


def test_gzip_and_semicolon_delimiter(tmp_path: Path, sqlite_engine: Engine) -> None:
    path = tmp_path / "cases.csv.gz"
    path.write_bytes(gzip.compress(_csv_text().replace(",", ";").encode("gb18030")))
    report = import_cases(path, sqlite_engine)
    assert (report.imported, report.quarantined) == (2, 0)
    assert _stored(sqlite_engine)[0][2] == "市容环境"


def test_xlsx_with_a_title_row_keeps_chinese_and_sheet_rows(tmp_path: Path, sqlite_engine: Engine) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["南通市数字城管案件导出"])  # a title above the header, as Excel exports often have
    sheet.append(HEADER)
    first, second = _rows()
    sheet.append([*first[:3], 32.015, 120.864, dt.datetime(2024, 3, 5, 8, 15), *first[6:]])  # typed cells
    sheet.append([])  # an empty sheet row is skipped but still counted in row numbers
    sheet.append([*second[:3], "not a number", *second[4:]])
    path = tmp_path / "cases.xlsx"
    workbook.save(path)
    report = import_cases(path, sqlite_engine, strict=["unparseable_number"])
    assert (report.read, report.imported, report.quarantined) == (2, 1, 1)
    bad = report.quarantine.iloc[0]
    assert (bad["reason"], bad["field"], bad["line"]) == ("unparseable_number", "lat", 5)
    assert any("header found on row 2" in w for w in report.warnings)
    assert _stored(sqlite_engine) == [("NT1", "暴露垃圾", "市容环境", "南通市崇川区", "路边有垃圾，请处理")]
    with sqlite_engine.connect() as conn:
        reported = conn.execute(sa.select(Case.reported_at)).scalar_one()
    assert reported == dt.datetime(2024, 3, 5, 0, 15, tzinfo=dt.UTC)  # 08:15 Asia/Shanghai


def test_open311_requests_json(tmp_path: Path, sqlite_engine: Engine) -> None:
    requests = [
        {
            "service_request_id": "638344",
            "status": "closed",
            "service_name": "Sidewalk and Curb Issues",
            "service_code": "006",
            "description": "Crack in sidewalk",
            "agency_responsible": "Public Works",
            "requested_datetime": "2010-04-14T06:37:38-08:00",
            "updated_datetime": "2010-04-14T06:37:38-08:00",
            "expected_datetime": "2010-04-15T06:37:38-08:00",
            "address": "8TH AVE and JUDAH ST",
            "lat": 37.762221815,
            "long": -122.4651145,
            "media_url": None,
        },
        {"service_request_id": "638349", "service_code": "006", "requested_datetime": "2010-04-19T06:37:38Z",
         "lat": "37.7622", "long": None},
    ]  # fmt: skip
    path = tmp_path / "requests.json"
    path.write_text(json.dumps(requests), encoding="utf-8")
    report = import_cases(path, sqlite_engine, mapping=load_mapping("open311"), strict=["missing_field"])
    assert (report.read, report.imported, report.quarantined) == (2, 1, 1)
    bad = report.quarantine.iloc[0]
    assert (bad["reason"], bad["field"], bad["line"]) == ("missing_field", "lon", 2)  # array index + 1
    with sqlite_engine.connect() as conn:
        row = conn.execute(sa.select(Case)).one()
    assert (row.case_id, row.category_code, row.source, row.department) == (
        "638344",
        "006",
        "other",
        "Public Works",
    )
    assert row.reported_at == dt.datetime(2010, 4, 14, 14, 37, 38, tzinfo=dt.UTC)
    assert row.deadline_at == dt.datetime(2010, 4, 15, 14, 37, 38, tzinfo=dt.UTC)
    assert (row.lat, row.lon) == (37.762221815, -122.4651145)


def test_chunks_carry_lines_and_strings(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("a,b\n1,x\n2,y\n3,z\n", encoding="utf-8")
    chunks = list(iter_chunks(open_table(path), chunksize=2))
    assert [list(c.line) for c in chunks] == [[2, 3], [4]]
    assert chunks[0].frame["a"].tolist() == ["1", "2"]  # text, no type guessing


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.csv", b""),
        (
            "image.png",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00",
        ),
        ("bad.json", b'[{"service_request_id": 1}'),
        ("scalar.json", b'{"a": 1}'),
        ("broken.xlsx", b"PK\x03\x04 this is not a workbook"),
        ("latin.csv", "case_id,名称\n1,\udcff".encode("utf-8", "surrogateescape") + b"\xff\xfe\x00\x00"),
    ],
)
def test_unreadable_files_raise_import_read_error(
    tmp_path: Path, sqlite_engine: Engine, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportReadError):
        import_cases(path, sqlite_engine)
    with sqlite_engine.connect() as conn:  # nothing was recorded
        assert conn.execute(sa.text("SELECT count(*) FROM import_batches")).scalar_one() == 0


def test_missing_file_raises_import_read_error(tmp_path: Path, sqlite_engine: Engine) -> None:
    with pytest.raises(ImportReadError, match="no such file"):
        import_cases(tmp_path / "nope.csv", sqlite_engine)


def test_cli_exits_2_on_an_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    result = CliRunner().invoke(
        main, ["--db-url", migrated_sqlite(tmp_path / "t.db"), "import", "cases", str(path)]
    )
    assert result.exit_code == 2
    assert "cannot read" in result.output


def test_cli_imports_and_writes_the_quarantine(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text(_csv_text() + "NT3,hotline,x,abc,120.86,2024-03-05 09:15:00,d,a,desc\n", encoding="utf-8")
    out = tmp_path / "q.csv"
    args = [
        "--db-url",
        migrated_sqlite(tmp_path / "t.db"),
        "import",
        "cases",
        str(path),
        "--quarantine-out",
        str(out),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "read 3, imported 3, duplicates 0, quarantined 0; 3 imported, of which 1 with field defects" in (
        result.output
    )
    assert "unparseable_number lat 1" in result.output
    assert out.read_text(encoding="utf-8-sig").count("unparseable_number") == 1
    strict = CliRunner().invoke(
        main, [args[0], migrated_sqlite(tmp_path / "s.db"), *args[2:], "--strict", "all"]
    )
    assert "read 3, imported 2, duplicates 0, quarantined 1" in strict.output, strict.output
