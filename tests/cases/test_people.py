"""cases.people: inspectors and assignments with the same quarantine, idempotency and CLI as cases."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.cli import main
from cases.models import Assignment, ImportBatch, Inspector
from cases.people import import_assignments, import_inspectors
from grid.cells import cells_to_strings, latlng_to_cells
from tests.conftest import migrated_sqlite

CELL = int(latlng_to_cells(32.015, 120.864, 10))
CELL_HEX = str(cells_to_strings([CELL])[0])
INSPECTORS = "inspector_id,name,district,active\nI1,张三,崇川区,在岗\nI2,李四,崇川区,0\nI3,王五,,\n"


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _check(report) -> None:
    assert report.read == report.imported + report.duplicates + report.quarantined
    assert len(report.quarantine) == report.quarantined


def test_inspectors_import_once(tmp_path: Path, store_engine: Engine) -> None:
    path = _write(
        tmp_path / "inspectors.csv",
        INSPECTORS + "I1,张三,崇川区,1\n,无编号,崇川区,1\nI4,赵六,,maybe\n",
        "gbk",
    )
    report = import_inspectors(path, store_engine)
    _check(report)
    assert (report.read, report.imported, report.duplicates, report.quarantined) == (6, 3, 1, 2)
    assert report.quarantine[["line", "field", "reason"]].values.tolist() == [
        [6, "inspector_id", "missing_field"],
        [7, "active", "unmapped_value"],
    ]
    with Session(store_engine) as session:
        people = {
            i.inspector_id: (i.name, i.district, i.active) for i in session.scalars(sa.select(Inspector))
        }
        assert session.get(ImportBatch, report.batch_id).kind == "inspectors"
    assert people == {
        "I1": ("张三", "崇川区", True),
        "I2": ("李四", "崇川区", False),
        "I3": ("王五", None, True),
    }
    again = import_inspectors(path, store_engine)
    assert (again.imported, again.duplicates, again.quarantined) == (0, 4, 2)


def test_assignments(tmp_path: Path, store_engine: Engine) -> None:
    import_inspectors(_write(tmp_path / "inspectors.csv", INSPECTORS), store_engine)
    text = (
        "inspector_id,cell,valid_from,valid_to\n"
        f"I1,{CELL_HEX},2024-01-01,\n"  # line 2: still valid
        f"I2,{CELL},2024-01-01 08:00,2024-06-30\n"  # line 3: decimal id
        f"I1,{CELL_HEX.upper()},2024-01-01,\n"  # line 4: same key as line 2 → duplicate
        "I1,8a309d5541a7ffz,2024-01-01,\n"  # line 5
        f"I9,{CELL_HEX},2024-01-01,\n"  # line 6
        f"I3,{CELL_HEX},2024-06-30,2024-01-01\n"  # line 7
        f"I3,{CELL_HEX},someday,\n"  # line 8
        f"I3,,2024-01-01,\n"  # line 9
    )
    path = _write(tmp_path / "assignments.csv", text)
    report = import_assignments(path, store_engine)
    _check(report)
    assert (report.read, report.imported, report.duplicates, report.quarantined) == (8, 2, 1, 5)
    assert report.quarantine[["line", "field", "reason"]].values.tolist() == [
        [5, "cell", "invalid_cell"],
        [6, "inspector_id", "unknown_inspector"],
        [7, "valid_to", "valid_to_before_valid_from"],
        [8, "valid_from", "unparseable_time"],
        [9, "cell", "missing_field"],
    ]
    with Session(store_engine) as session:
        rows = session.scalars(sa.select(Assignment).order_by(Assignment.inspector_id)).all()
        stored = [(a.inspector_id, a.cell, a.valid_from, a.valid_to) for a in rows]
    assert stored == [
        ("I1", CELL, dt.datetime(2023, 12, 31, 16, 0, tzinfo=dt.UTC), None),
        (
            "I2",
            CELL,
            dt.datetime(2024, 1, 1, 0, 0, tzinfo=dt.UTC),
            dt.datetime(2024, 6, 29, 16, 0, tzinfo=dt.UTC),
        ),
    ]
    again = import_assignments(path, store_engine)
    assert (again.imported, again.duplicates) == (0, 3)


def test_people_cli(tmp_path: Path) -> None:
    db = ["--db-url", migrated_sqlite(tmp_path / "t.db")]
    inspectors = _write(tmp_path / "inspectors.csv", INSPECTORS)
    assignments = _write(tmp_path / "a.csv", f"inspector_id,cell,valid_from\nI1,{CELL_HEX},2024-01-01\n")
    runner = CliRunner()
    first = runner.invoke(main, [*db, "import", "inspectors", str(inspectors)])
    assert first.exit_code == 0, first.output
    assert "read 3, imported 3" in first.output
    second = runner.invoke(main, [*db, "import", "assignments", str(assignments)])
    assert second.exit_code == 0, second.output
    assert "read 1, imported 1" in second.output
    broken = _write(tmp_path / "broken.csv", "\x00\x01\x02")
    assert runner.invoke(main, [*db, "import", "inspectors", str(broken)]).exit_code == 2


def test_unknown_inspector_in_an_empty_store(tmp_path: Path, sqlite_engine: Engine) -> None:
    path = _write(tmp_path / "a.csv", f"inspector_id,cell,valid_from\nI1,{CELL_HEX},2024-01-01\n")
    report = import_assignments(path, sqlite_engine)
    assert report.quarantine["reason"].tolist() == ["unknown_inspector"]
    with sqlite_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Assignment.__table__)).scalar_one() == 0
