"""Importer hardening (issue #25): no silent data loss on odd CSV/xlsx files, one clear line for bad files."""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from app.cli import main
from cases.importing import ImportReadError, import_cases
from cases.mapping import Mapping
from cases.readers import iter_chunks, open_table
from tests.conftest import SHARED_DATASETS, migrated_sqlite

HEADER = "case_id,reported_at,category_code,lat,lon,description\n"


def _row(i: int, description: str) -> str:
    return f"A{i},2025-01-02 {7 + i:02d}:00,road,31.23,121.47,{description}\n"


#: The issue's example: 8 rows, row A3 (line 4) opens a quote it never closes.
EIGHT_ROWS = HEADER + "".join(
    _row(i, {2: '"ok, two"', 3: '"broken, never closed'}.get(i, f"ok {i}")) for i in range(1, 9)
)


def _stored(engine: Engine, column: str = "description") -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT case_id, {column} FROM cases ORDER BY case_id")).all()
    return dict(rows)


def _batches(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM import_batches")).scalar_one()


def _strict_records(text: str) -> int:
    """Data records a strict parser finds, taking an unterminated quote as ending at its line's end."""
    return sum(1 for line in text.splitlines()[1:] if line.strip())


def test_unterminated_quote_is_quarantined_and_the_rest_imported(
    tmp_path: Path, sqlite_engine: Engine
) -> None:
    path = tmp_path / "eight.csv"
    path.write_text(EIGHT_ROWS, encoding="utf-8")
    report = import_cases(path, sqlite_engine)
    assert (report.read, report.imported, report.duplicates, report.quarantined) == (8, 7, 0, 1)
    assert report.read == _strict_records(EIGHT_ROWS)
    bad = report.quarantine.iloc[0]
    assert (bad["reason"], bad["line"]) == ("unterminated_quote", 4)
    assert "line 4" in bad["detail"]
    assert bad["raw"].startswith("A3,")
    stored = _stored(sqlite_engine)
    assert sorted(stored) == ["A1", "A2", "A4", "A5", "A6", "A7", "A8"]
    assert stored["A2"] == "ok, two"
    assert stored["A4"] == "ok 4"


def test_a_later_quote_does_not_close_an_unterminated_one(tmp_path: Path, sqlite_engine: Engine) -> None:
    rows = {3: '"broken', 6: '"six, quoted"', 7: '"seven\nspans two lines"'}
    text = HEADER + "".join(_row(i, rows.get(i, f"ok {i}")) for i in range(1, 9))
    path = tmp_path / "later.csv"
    path.write_text(text, encoding="utf-8")
    report = import_cases(path, sqlite_engine)
    assert (report.read, report.imported, report.quarantined) == (8, 7, 1)
    assert report.quarantine[["reason", "line"]].values.tolist() == [["unterminated_quote", 4]]
    stored = _stored(sqlite_engine)
    assert stored["A6"] == "six, quoted"
    assert stored["A7"] == "seven\nspans two lines"
    with sqlite_engine.connect() as conn:  # A8 sits on line 10 (A7 spans lines 8-9)
        assert conn.execute(sa.text("SELECT count(*) FROM cases")).scalar_one() == 7


def test_a_literal_quote_inside_a_field_is_no_problem(tmp_path: Path, sqlite_engine: Engine) -> None:
    text = HEADER + _row(1, '12" pipe leaks') + _row(2, "ok")
    path = tmp_path / "inch.csv"
    path.write_text(text, encoding="utf-8")
    report = import_cases(path, sqlite_engine)
    assert (report.read, report.imported, report.quarantined) == (2, 2, 0)


def test_gbk_rows_then_utf8_rows_keep_their_chinese(tmp_path: Path, sqlite_engine: Engine) -> None:
    gbk = "".join(_row(i, f"路边有垃圾第{i}条") for i in range(1, 4)).encode("gbk")
    utf8 = "".join(_row(i, f"井盖缺失第{i}条") for i in range(4, 7)).encode("utf-8")
    path = tmp_path / "mixed.csv"
    path.write_bytes(HEADER.encode() + gbk + utf8)
    report = import_cases(path, sqlite_engine)
    assert (report.read, report.imported, report.quarantined) == (6, 6, 0)
    stored = _stored(sqlite_engine)
    assert stored["A1"] == "路边有垃圾第1条"
    assert stored["A3"] == "路边有垃圾第3条"
    assert stored["A4"] == "井盖缺失第4条"
    assert stored["A6"] == "井盖缺失第6条"
    assert any("line by line" in w and "line 2" in w for w in report.warnings)


def test_an_undecodable_row_is_quarantined_with_its_line(tmp_path: Path, sqlite_engine: Engine) -> None:
    body = "".join(_row(i, f"第{i}条") for i in range(1, 5)).encode("utf-8").split(b"\n")
    body[1] = body[1].replace("第2条".encode(), b"\xff\xfe\xff")  # neither UTF-8 nor GB18030
    path = tmp_path / "broken.csv"
    path.write_bytes(HEADER.encode() + b"\n".join(body))
    report = import_cases(path, sqlite_engine)
    assert (report.read, report.imported, report.quarantined) == (4, 3, 1)
    bad = report.quarantine.iloc[0]
    assert (bad["reason"], bad["line"]) == ("undecodable_row", 3)
    assert _stored(sqlite_engine)["A3"] == "第3条"
    offset = len(HEADER) + len(body[0]) + 1 + body[1].index(b"\xff")
    assert any(f"byte {offset}, line 3" in w for w in report.warnings)


def test_cp1252_only_by_the_mapping_and_never_an_exotic_code_page(
    tmp_path: Path, sqlite_engine: Engine
) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes((HEADER + _row(1, "Piñata broken") + _row(2, "Café")).encode("cp1252"))
    report = import_cases(path, sqlite_engine, mapping=Mapping(encoding="cp1252"))
    assert report.imported == 2
    assert _stored(sqlite_engine) == {"A1": "Piñata broken", "A2": "Café"}
    path.write_bytes((HEADER + _row(3, "Piñata broken") + _row(4, "Café")).encode("cp1252"))
    source = open_table(path)
    assert source.encoding in ("gb18030", "utf-8")  # the documented list only: never cp1250 or ptcp154
    assert any("cp1252" in w for w in source.warnings)


def test_gbk_declared_for_a_utf8_file_warns(tmp_path: Path, sqlite_engine: Engine) -> None:
    path = tmp_path / "utf8.csv"
    path.write_text(HEADER + _row(1, "ok") + _row(2, "fine") + _row(3, "路边有垃圾"), encoding="utf-8")
    report = import_cases(path, sqlite_engine, mapping=Mapping(encoding="gbk"))
    assert any("declares encoding 'gbk'" in w and "valid UTF-8" in w for w in report.warnings)
    path.write_text(HEADER + "".join(_row(i, "路边有垃圾，井盖缺失") for i in range(1, 4)), encoding="utf-8")
    with pytest.raises(
        ImportReadError, match="valid UTF-8"
    ):  # no line decodes as GBK: refused, with the hint
        import_cases(path, sqlite_engine, mapping=Mapping(encoding="gbk"))


def _patch_sheet(path: Path, old: str, new: str) -> None:
    """Rewrite a cell value in the sheet XML (openpyxl writes big integers as floats)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buffer, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(old.encode(), new.encode(), 1)
            dst.writestr(item, data)
    path.write_bytes(buffer.getvalue())


def test_xlsx_ids_and_phones_are_text_and_inexact_ids_are_refused(
    tmp_path: Path, sqlite_engine: Engine
) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["case_id", "reported_at", "category_code", "lat", "lon", "reporter_phone"])
    sheet.append([320612202501021234, "2025-01-02 08:00", "road", 31.23, 121.47, 13812345678])
    sheet.append([320612202501021235, "2025-01-02 09:00", "road", 31.23, 121.47, 13812345679.0])
    sheet.append([320612202501021236.0, "2025-01-02 10:00", "road", 31.23, 121.47, "13812345670"])
    sheet.append(["320612202501021237", "2025-01-02 11:00", "road", 31.23, 121.47, None])
    path = tmp_path / "ids.xlsx"
    workbook.save(path)
    # rows 2 and 3 as Excel files written by other tools hold them: the exact integer text
    _patch_sheet(path, "<v>3.206122025010212e+17</v>", "<v>320612202501021234</v>")
    _patch_sheet(path, "<v>3.206122025010212e+17</v>", "<v>320612202501021235</v>")
    report = import_cases(path, sqlite_engine)
    assert (report.read, report.imported, report.duplicates, report.quarantined) == (4, 3, 0, 1)
    bad = report.quarantine.iloc[0]
    assert (bad["reason"], bad["line"]) == ("inexact_number", 4)
    assert "e+17" not in "".join(_stored(sqlite_engine))
    assert _stored(sqlite_engine, "reporter_phone") == {
        "320612202501021234": "13812345678",
        "320612202501021235": "13812345679",
        "320612202501021237": None,
    }


def test_two_rounded_ids_never_collide_as_duplicates(tmp_path: Path, sqlite_engine: Engine) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["case_id", "reported_at", "category_code"])
    sheet.append([320612202501021234, "2025-01-02 08:00", "road"])  # both round to 3.206122025010212e+17
    sheet.append([320612202501021235, "2025-01-02 09:00", "road"])
    path = tmp_path / "rounded.xlsx"
    workbook.save(path)
    report = import_cases(path, sqlite_engine)
    assert (report.read, report.imported, report.duplicates, report.quarantined) == (2, 0, 0, 2)
    assert set(report.quarantine["reason"]) == {"inexact_number"}


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    header_only = tmp_path / "header_only.csv"
    header_only.write_bytes(b"case_id,reported_at,category_code")
    whole = gzip.compress((HEADER + "".join(_row(i, "x" * 200) for i in range(1, 200))).encode())
    truncated = tmp_path / "truncated.csv.gz"
    truncated.write_bytes(whole[: len(whole) // 2])
    nul = tmp_path / "nul.csv"
    nul.write_bytes((HEADER + _row(1, "ok") + _row(2, "bad\x00row") + _row(3, "ok")).encode())
    return {
        "truncated": (truncated, "truncated"),
        "nul": (nul, "line 3 holds a NUL byte"),
        "header_only": (header_only, ""),
    }


@pytest.mark.parametrize("name", ["truncated", "nul"])
def test_bad_files_give_one_line_exit_2_and_write_nothing(tmp_path: Path, name: str) -> None:
    path, words = _bad_files(tmp_path)[name]
    url = migrated_sqlite(tmp_path / "t.db")
    result = CliRunner().invoke(main, ["--db-url", url, "import", "cases", str(path)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert str(path) in result.output
    assert words in result.output
    assert "Traceback" not in result.output
    engine = sa.create_engine(url)
    assert _batches(engine) == 0
    engine.dispose()


def test_a_header_only_file_without_final_newline_reads_nothing(
    tmp_path: Path, sqlite_engine: Engine
) -> None:
    path, _ = _bad_files(tmp_path)["header_only"]
    report = import_cases(path, sqlite_engine)
    assert (report.read, report.imported, report.quarantined) == (0, 0, 0)


def test_read_equals_strict_parser_records_for_a_clean_multiline_file(
    tmp_path: Path, sqlite_engine: Engine
) -> None:
    text = HEADER + _row(1, '"two\nlines"') + _row(2, '"say ""hi"""') + _row(3, "plain")
    path = tmp_path / "clean.csv"
    path.write_text(text, encoding="utf-8")
    report = import_cases(path, sqlite_engine)
    strict = list(csv.reader(io.StringIO(text, newline=""), strict=True))[1:]
    assert report.read == len(strict) == report.imported == 3
    assert _stored(sqlite_engine)["A2"] == 'say "hi"'


SAMPLES = [
    SHARED_DATASETS / "sf311_sample" / "cases_sample.csv",
    SHARED_DATASETS / "nyc311_2011_micro" / "311_subset_micro.csv",
    SHARED_DATASETS / "chicago_crime_opencp_sample" / "example.csv",
]


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.parent.name)
def test_the_reader_finds_the_records_a_strict_parser_finds(path: Path) -> None:
    if not path.is_file():
        pytest.skip(f"{path} is not available")
    source = open_table(path)
    read = sum(len(c.frame) + len(c.malformed) for c in iter_chunks(source))
    text = path.read_bytes().decode(source.encoding or "utf-8")
    records = csv.reader(io.StringIO(text, newline=""), delimiter=source.delimiter or ",", strict=True)
    strict = sum(1 for row in list(records)[1:] if any(cell.strip() for cell in row))
    assert read == strict
