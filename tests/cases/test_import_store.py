"""cases.importing against the store: idempotency, updates, one transaction, the batch record, time storage,
location clusters and coordinate systems, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import cases.importing
from cases import bulk, readers
from cases.importing import SUSPICIOUS_CLUSTER, import_cases
from cases.mapping import Mapping
from cases.models import Case, ImportBatch, QuarantineRow
from grid.cells import latlng_to_cells
from grid.coords import gcj02_to_wgs84

HEADER = "case_id,source,category,lat,lon,reported_at,closed_at,status,description\n"


def _rows(n: int, *, status: str = "open", start: int = 0) -> str:
    return "".join(
        f"NT{i},patrol,06010,{32.0 + i * 1e-3:.6f},{120.86 + i * 1e-3:.6f},2024-03-05 08:{i % 60:02d}:00,,"
        f"{status},第{i}条\n"
        for i in range(start, start + n)
    )


def _write(path: Path, body: str) -> Path:
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def _count(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_import_twice_adds_nothing(tmp_path: Path, store_engine: Engine) -> None:
    path = _write(tmp_path / "c.csv", _rows(5) + "BAD,patrol,06010,32.0,120,someday,,open,x\n")
    first = import_cases(path, store_engine)
    second = import_cases(path, store_engine)
    assert (first.read, first.imported, first.duplicates, first.quarantined) == (6, 5, 0, 1)
    assert (second.read, second.imported, second.duplicates, second.quarantined) == (6, 0, 5, 1)
    assert _count(store_engine, Case.__table__) == 5
    assert second.batch_id != first.batch_id


def test_clean_file_second_run_is_all_duplicates(tmp_path: Path, store_engine: Engine) -> None:
    path = _write(tmp_path / "c.csv", _rows(4))
    import_cases(path, store_engine)
    again = import_cases(path, store_engine)
    assert (again.imported, again.duplicates, again.read) == (0, 4, 4)


def test_on_duplicate_update_overwrites_changed_fields_only(tmp_path: Path, store_engine: Engine) -> None:
    import_cases(_write(tmp_path / "a.csv", _rows(3)), store_engine)
    changed = _rows(1, status="closed") + _rows(2, start=1) + _rows(1, start=3)
    report = import_cases(_write(tmp_path / "b.csv", changed), store_engine, on_duplicate="update")
    assert (report.read, report.imported, report.duplicates, report.updated) == (4, 1, 3, 1)
    with Session(store_engine) as session:
        rows = {c.case_id: c for c in session.scalars(sa.select(Case))}
    assert (rows["NT0"].status, rows["NT0"].version, rows["NT0"].import_batch) == (
        "closed",
        2,
        report.batch_id,
    )
    assert (rows["NT1"].status, rows["NT1"].version) == ("open", 1)
    skipped = import_cases(_write(tmp_path / "c.csv", _rows(1, status="done")), store_engine)
    assert (skipped.duplicates, skipped.updated) == (1, 0)
    with Session(store_engine) as session:
        assert session.get(Case, "NT0").status == "closed"  # on_duplicate="skip" keeps the stored row


def test_update_does_not_touch_fields_the_file_lacks(tmp_path: Path, sqlite_engine: Engine) -> None:
    import_cases(_write(tmp_path / "a.csv", _rows(1)), sqlite_engine)
    slim = tmp_path / "slim.csv"
    slim.write_text("case_id,category,lat,lon,reported_at,status\nNT0,06010,32.0,120.86,2024-03-05 08:00,x\n")
    report = import_cases(slim, sqlite_engine, on_duplicate="update")
    assert report.updated == 1
    with Session(sqlite_engine) as session:
        case = session.get(Case, "NT0")
        assert (case.status, case.description, case.source) == ("x", "第0条", "patrol")


def test_a_crash_midway_leaves_the_store_as_it_was(
    tmp_path: Path, store_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_cases(_write(tmp_path / "before.csv", _rows(2, start=100)), store_engine)
    monkeypatch.setattr(readers, "CHUNK_ROWS", 2)
    monkeypatch.setattr(bulk, "DEFER_INDEXES_MIN_ROWS", 0)  # also exercise the SQLite index drop/rebuild
    calls = []
    real_insert = cases.importing.insert_rows

    def failing_insert(conn: object, rows: pd.DataFrame, constants: dict) -> None:
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        real_insert(conn, rows, constants)

    monkeypatch.setattr(cases.importing, "insert_rows", failing_insert)
    with pytest.raises(RuntimeError, match="disk on fire"):
        import_cases(
            _write(tmp_path / "c.csv", _rows(6) + "X,patrol,06010,32.0,1,someday,,open,x\n"), store_engine
        )
    assert calls == [2, 2]
    assert _count(store_engine, Case.__table__) == 2  # only the earlier import
    assert _count(store_engine, ImportBatch.__table__) == 1
    assert _count(store_engine, QuarantineRow.__table__) == 0
    indexes = {ix["name"] for ix in sa.inspect(store_engine).get_indexes("cases")}
    assert {"ix_cases_cell_reported", "ix_cases_reported_at", "ix_cases_category_code"} <= indexes


def test_deferred_indexes_are_rebuilt(
    tmp_path: Path, sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = {ix["name"]: ix["column_names"] for ix in sa.inspect(sqlite_engine).get_indexes("cases")}
    monkeypatch.setattr(bulk, "DEFER_INDEXES_MIN_ROWS", 0)
    assert import_cases(_write(tmp_path / "c.csv", _rows(5)), sqlite_engine).imported == 5
    after = {ix["name"]: ix["column_names"] for ix in sa.inspect(sqlite_engine).get_indexes("cases")}
    assert after == before
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"


def test_batch_and_quarantine_rows_are_recorded(tmp_path: Path, store_engine: Engine) -> None:
    path = _write(tmp_path / "c.csv", _rows(3) + "BAD,patrol,06010,32.0,120.86,someday,,open,x\n")
    report = import_cases(path, store_engine)
    with Session(store_engine) as session:
        batch = session.get(ImportBatch, report.batch_id)
        quarantine = session.scalars(sa.select(QuarantineRow)).all()
        stored_batches = {c.import_batch for c in session.scalars(sa.select(Case))}
    assert (batch.kind, batch.source_file) == ("cases", str(path))
    assert batch.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (batch.rows_read, batch.rows_imported, batch.rows_duplicate, batch.rows_quarantined) == (
        4,
        3,
        0,
        1,
    )
    assert batch.finished_at >= batch.started_at
    assert stored_batches == {report.batch_id}
    (row,) = quarantine
    assert (row.batch_id, row.line, row.field, row.reason) == (
        report.batch_id,
        5,
        "reported_at",
        "unparseable_time",
    )
    assert '"reported_at":"someday"' in row.raw


def test_times_are_utc_and_sqlite_text_matches_utcdatetime(tmp_path: Path, sqlite_engine: Engine) -> None:
    """The fast SQLite path writes exactly the text UTCDateTime writes, and reads back as tz-aware UTC."""
    body = "NT1,patrol,06010,32.0,120.86,2024-03-05 08:15:30.250000,2024-03-06 00:00:00,open,x\n"
    import_cases(_write(tmp_path / "c.csv", body), sqlite_engine)
    reference = Case(
        case_id="ORM",
        source="patrol",
        category_code="06010",
        source_crs="wgs84",
        reported_at=dt.datetime(2024, 3, 5, 0, 15, 30, 250000, tzinfo=dt.UTC),
        closed_at=dt.datetime(2024, 3, 5, 16, 0, tzinfo=dt.UTC),
    )
    with Session(sqlite_engine, expire_on_commit=False) as session:
        session.add(reference)
        session.commit()
    with sqlite_engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT case_id, reported_at, closed_at FROM cases ORDER BY case_id").all()
        typed = conn.execute(sa.select(Case.reported_at, Case.closed_at).where(Case.case_id == "NT1")).one()
    assert raw[0][1:] == raw[1][1:] == ("2024-03-05 00:15:30.250000", "2024-03-05 16:00:00.000000")
    assert tuple(typed) == (reference.reported_at, reference.closed_at)
    assert typed.reported_at.tzinfo is not None


def test_gcj02_input_is_converted_and_recorded(tmp_path: Path, store_engine: Engine) -> None:
    report = import_cases(_write(tmp_path / "c.csv", _rows(2)), store_engine, mapping=Mapping(crs="gcj02"))
    assert report.imported == 2
    with store_engine.connect() as conn:
        rows = conn.execute(
            sa.select(Case.lat, Case.lon, Case.cell, Case.source_crs).order_by(Case.case_id)
        ).all()
    lat, lon = gcj02_to_wgs84(np.array([32.0, 32.001]), np.array([120.86, 120.861]))
    np.testing.assert_allclose([r.lat for r in rows], lat, atol=1e-9)
    np.testing.assert_allclose([r.lon for r in rows], lon, atol=1e-9)
    assert [r.cell for r in rows] == latlng_to_cells(lat, lon, 10).tolist()
    assert {r.source_crs for r in rows} == {"gcj02"}


def test_suspicious_cluster_is_flagged_and_warned(tmp_path: Path, store_engine: Engine) -> None:
    """120 rows on one exact point among 100 single-row points: only that point is flagged."""
    spread = _rows(100)
    pile = "".join(
        f"P{i},hotline,06010,32.015000,120.864000,2024-03-05 09:00:00,,open,default geocode\n"
        for i in range(120)
    )
    report = import_cases(_write(tmp_path / "c.csv", spread + pile), store_engine)
    assert (report.imported, report.flagged) == (220, 120)
    assert any("120 of 220 located rows" in w and "(32.015, 120.864)" in w for w in report.warnings)
    with store_engine.connect() as conn:
        flags = dict(
            conn.execute(
                sa.select(Case.location_flag, sa.func.count())
                .group_by(Case.location_flag)
                .order_by(Case.location_flag)
            ).all()
        )
    assert flags == {None: 100, SUSPICIOUS_CLUSTER: 120}
    again = import_cases(_write(tmp_path / "c.csv", spread + pile), store_engine, on_duplicate="update")
    assert (again.imported, again.updated, again.flagged) == (0, 0, 0)
    with store_engine.connect() as conn:
        flagged = conn.execute(
            sa.select(sa.func.count()).where(Case.location_flag == SUSPICIOUS_CLUSTER)
        ).scalar()
    assert flagged == 120  # an update run keeps the flags of unchanged rows


def test_small_repeats_are_not_a_cluster(tmp_path: Path, sqlite_engine: Engine) -> None:
    pile = "".join(f"P{i},hotline,06010,32.015,120.864,2024-03-05 09:00:00,,open,x\n" for i in range(40))
    report = import_cases(_write(tmp_path / "c.csv", _rows(10) + pile), sqlite_engine)
    assert (report.flagged, report.warnings) == (0, [])
