"""The serial end of a large import: a rollback journal instead of WAL, store look-ups only for repeated ids.

Sizes are shrunk (``BULK_JOURNAL_MIN_ROWS``, ``DEFER_INDEXES_MIN_ROWS``, ``CHUNK_ROWS``) so that small files
take the large-import path. Each path is compared with the plain one (WAL, every id looked up) on the same
file, and the crash test kills a real process in the middle of a write.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import cases.importing
from cases import bulk, readers
from cases.db import init_db, make_engine
from cases.importing import _SeenIds, import_cases
from cases.models import Case, ImportBatch

from .conftest import HEADER, write_cases_csv

COUNTS = ("read", "imported", "duplicates", "quarantined", "flagged")
INDEXES = {
    "ix_cases_cell_reported",
    "ix_cases_category_code",
    "ix_cases_department",
    "ix_cases_reported_at",
    "ix_cases_status",
}


def _engine(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    return engine


def _cases(engine: Engine) -> list[tuple]:
    with engine.connect() as conn:
        query = sa.select(*(c for c in Case.__table__.columns if c.name != "import_batch"))
        return [tuple(r) for r in conn.execute(query.order_by(Case.case_id))]


def _pragmas(engine: Engine) -> tuple[str, int, str]:
    with engine.connect() as conn:
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        sync = conn.exec_driver_sql("PRAGMA synchronous").scalar()
        check = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
    return mode, sync, check


def _count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


@pytest.fixture
def large(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Small files take the large-import path; returns the (journal_mode, synchronous) seen by each write."""
    monkeypatch.setattr(bulk, "BULK_JOURNAL_MIN_ROWS", 0)
    monkeypatch.setattr(bulk, "DEFER_INDEXES_MIN_ROWS", 0)
    monkeypatch.setattr(readers, "CHUNK_ROWS", 50)
    seen: list[tuple[str, int]] = []
    real = cases.importing.insert_rows

    def spying(conn: sa.Connection, rows: bulk.PreparedRows, constants: dict) -> None:
        driver = conn.connection.driver_connection
        seen.append(
            tuple(driver.execute(f"PRAGMA {p}").fetchone()[0] for p in ("journal_mode", "synchronous"))
        )
        real(conn, rows, constants)

    monkeypatch.setattr(cases.importing, "insert_rows", spying)
    return seen


def test_a_large_import_writes_through_a_rollback_journal_and_returns_to_wal(
    tmp_path: Path, large: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same report and rows as the WAL path; during the load: journal DELETE with synchronous FULL."""
    path = write_cases_csv(tmp_path / "c.csv", 400)
    fast = _engine(tmp_path / "fast.db")
    report = import_cases(path, fast)
    assert set(large) == {("delete", 2)}  # every chunk, synchronous=FULL
    large.clear()
    monkeypatch.setattr(bulk, "SQLITE_BULK_JOURNAL", "WAL")
    plain = _engine(tmp_path / "plain.db")
    want = import_cases(path, plain)
    assert set(large) == {("wal", 1)}
    assert [getattr(report, c) for c in COUNTS] == [getattr(want, c) for c in COUNTS] == [401, 395, 5, 1, 0]
    assert report.quarantine.drop(columns="file").equals(want.quarantine.drop(columns="file"))
    assert _cases(fast) == _cases(plain)
    assert _pragmas(fast) == ("wal", 1, "ok")  # WAL and synchronous=NORMAL again, database intact
    assert not (tmp_path / "fast.db-journal").exists()
    assert {ix["name"] for ix in sa.inspect(fast).get_indexes("cases")} == INDEXES
    again = import_cases(path, fast)  # idempotent
    assert (again.imported, again.duplicates, _count(fast, Case)) == (0, 400, 395)
    fast.dispose()
    plain.dispose()


def test_another_open_connection_keeps_the_import_in_wal(
    tmp_path: Path, large: list[tuple[str, int]]
) -> None:
    """Leaving WAL needs the database to itself: with the app attached the import stays in WAL."""
    engine = _engine(tmp_path / "db.db")
    app = make_engine(f"sqlite:///{tmp_path / 'db.db'}")
    with app.connect() as reader:
        assert reader.execute(sa.select(sa.func.count()).select_from(Case)).scalar_one() == 0
        report = import_cases(write_cases_csv(tmp_path / "c.csv", 200), engine)
        assert set(large) == {("wal", 1)}
        assert reader.execute(sa.select(sa.func.count()).select_from(Case)).scalar_one() == report.imported
    assert report.imported == 195
    assert _pragmas(engine) == ("wal", 1, "ok")
    app.dispose()
    engine.dispose()


def test_the_app_can_connect_and_read_during_a_rollback_journal_import(
    tmp_path: Path, large: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection opened mid-import reads the committed state, then follows the file back into WAL."""
    engine = _engine(tmp_path / "db.db")
    app = make_engine(f"sqlite:///{tmp_path / 'db.db'}")
    counts: list[int] = []
    real = cases.importing.insert_rows

    def with_app_reading(conn: sa.Connection, rows: bulk.PreparedRows, constants: dict) -> None:
        real(conn, rows, constants)
        with app.connect() as reader:  # make_engine's hook cannot set WAL now, and must not fail
            counts.append(reader.execute(sa.select(sa.func.count()).select_from(Case)).scalar_one())

    monkeypatch.setattr(cases.importing, "insert_rows", with_app_reading)
    report = import_cases(write_cases_csv(tmp_path / "c.csv", 200), engine)
    assert len(counts) == 5  # every chunk written …
    assert set(counts) == {0}  # … none visible before the commit
    with app.connect() as reader:
        assert reader.execute(sa.select(sa.func.count()).select_from(Case)).scalar_one() == report.imported
        assert reader.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    app.dispose()
    engine.dispose()


def test_a_failure_in_rollback_journal_mode_leaves_the_database_as_it_was(
    tmp_path: Path, large: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _engine(tmp_path / "db.db")
    before = import_cases(write_cases_csv(tmp_path / "first.csv", 100, prefix="OLD"), engine)
    real = cases.importing.insert_rows
    calls: list[int] = []

    def failing(conn: sa.Connection, rows: bulk.PreparedRows, constants: dict) -> None:
        calls.append(len(rows))
        if len(calls) == 3:
            raise OSError("disk full")
        real(conn, rows, constants)

    monkeypatch.setattr(cases.importing, "insert_rows", failing)
    large.clear()
    with pytest.raises(OSError, match="disk full"):
        import_cases(write_cases_csv(tmp_path / "c.csv", 400), engine)
    assert set(large) == {("delete", 2)}
    assert _count(engine, Case) == before.imported == 95
    assert _count(engine, ImportBatch) == 1
    assert _pragmas(engine) == ("wal", 1, "ok")
    assert {ix["name"] for ix in sa.inspect(engine).get_indexes("cases")} == INDEXES
    assert not (tmp_path / "db.db-journal").exists()
    engine.dispose()


CRASHING_IMPORT = """
import os, sys
from cases import bulk, readers
import cases.importing
from cases.db import make_engine
from cases.importing import import_cases

bulk.BULK_JOURNAL_MIN_ROWS = bulk.DEFER_INDEXES_MIN_ROWS = 0
bulk.SQLITE_CACHE_KIB = 64  # a tiny page cache: changed pages reach the database file before the commit
readers.CHUNK_ROWS = 50
real, calls = cases.importing.insert_rows, []

def crashing(conn, rows, constants):
    real(conn, rows, constants)
    calls.append(conn.connection.driver_connection.execute("PRAGMA journal_mode").fetchone()[0])
    if len(calls) == 6:
        print(",".join(calls), flush=True)
        os._exit(3)  # no rollback, no cleanup: as if the power went out

cases.importing.insert_rows = crashing
import_cases(sys.argv[2], make_engine("sqlite:///" + sys.argv[1]))
"""


def test_a_crash_in_rollback_journal_mode_is_rolled_back_on_the_next_open(tmp_path: Path) -> None:
    """Kill the process mid-write: the hot journal restores the database as it was before the import."""
    engine = _engine(tmp_path / "db.db")
    big_pages = "x" * 2_000  # long descriptions: the second import overflows a 64 KiB cache at once
    rows = [
        f"OLD{i},patrol,06010,32.{i:04d},120.86,2024-03-05 08:00:00,,open,{big_pages}\n" for i in range(300)
    ]
    (tmp_path / "first.csv").write_text(HEADER + "".join(rows), encoding="utf-8")
    first = import_cases(tmp_path / "first.csv", engine)
    want = _cases(engine)
    engine.dispose()
    rows = [
        f"NEW{i},patrol,06010,32.{i:04d},120.87,2024-03-06 08:00:00,,open,{big_pages}\n" for i in range(600)
    ]
    (tmp_path / "second.csv").write_text(HEADER + "".join(rows), encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(CRASHING_IMPORT),
            str(tmp_path / "db.db"),
            str(tmp_path / "second.csv"),
        ],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert done.stdout.strip() == ",".join(["delete"] * 6)
    journal = tmp_path / "db.db-journal"
    assert journal.exists()  # a hot journal: the crash hit a rollback-mode write
    assert journal.stat().st_size > 0
    engine = make_engine(f"sqlite:///{tmp_path / 'db.db'}")  # the first connection rolls the journal back
    assert _pragmas(engine) == ("wal", 1, "ok")
    assert _cases(engine) == want
    assert _count(engine, ImportBatch) == 1
    assert first.imported == 300
    assert {ix["name"] for ix in sa.inspect(engine).get_indexes("cases")} == INDEXES
    assert not journal.exists()
    engine.dispose()


def test_seen_ids_flag_exactly_the_ids_of_earlier_chunks() -> None:
    seen = _SeenIds()
    assert seen.check_and_add([]).tolist() == []
    assert seen.check_and_add(["a", "b", "案1"]).tolist() == [False, False, False]
    assert seen.check_and_add(["c", "案1", "a"]).tolist() == [False, True, True]
    rng = np.random.default_rng(5)
    ids = [f"K{i}" for i in rng.permutation(20_000)]
    seen = _SeenIds()
    earlier: set[str] = set()
    for start in range(0, 20_000, 3_000):
        part = ids[start : start + 3_000] + ids[: start // 10]  # some ids of earlier chunks come back
        part = list(dict.fromkeys(part))
        assert seen.check_and_add(part).tolist() == [k in earlier for k in part]
        earlier.update(part)
    assert np.all(np.diff(seen.hashes) >= 0)


def _spy_lookups(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    looked: list[int] = []
    real = bulk.fetch_existing

    def spying(conn: sa.Connection, table: sa.Table, keys: list[str], columns: list[str]) -> object:
        if table is Case.__table__:
            looked.append(len(keys))
        return real(conn, table, keys, columns)

    monkeypatch.setattr(bulk, "fetch_existing", spying)
    return looked


def test_a_fresh_table_looks_up_only_repeated_ids(
    tmp_path: Path, store_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Into an empty table only the 5 ids repeated from an earlier chunk go to the store; else all."""
    monkeypatch.setattr(readers, "CHUNK_ROWS", 50)
    looked = _spy_lookups(monkeypatch)
    path = write_cases_csv(tmp_path / "c.csv", 300)
    report = import_cases(path, store_engine)
    assert (report.imported, report.duplicates, report.quarantined) == (295, 5, 1)
    assert sum(looked) == 5
    looked.clear()
    other = write_cases_csv(
        tmp_path / "other.csv", 300, prefix="NT1"
    )  # NT1 + 0…294: NT10 … NT19, NT110 … NT199 stored
    report = import_cases(other, store_engine)
    assert sum(looked) == 300  # the table held cases: every id of every chunk is looked up
    stored = {f"NT{k}" for k in range(295)}
    again = sum(f"NT1{k}" in stored for k in range(295))
    assert again == 100
    assert (report.imported, report.duplicates) == (295 - again, 5 + again)


def test_hash_collisions_cost_look_ups_but_change_nothing(
    tmp_path: Path, sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every id hashing alike, every id of a later chunk is looked up and the result is the same."""
    monkeypatch.setattr(readers, "CHUNK_ROWS", 50)
    path = write_cases_csv(tmp_path / "c.csv", 300)
    plain = _engine(tmp_path / "plain.db")
    want = import_cases(path, plain)
    looked = _spy_lookups(monkeypatch)
    monkeypatch.setattr(cases.importing, "hash", lambda _: 7, raising=False)
    got = import_cases(path, sqlite_engine)
    assert sum(looked) == 300 - 50  # every id after the first chunk (the unparseable row is not looked up)
    assert [getattr(got, c) for c in COUNTS] == [getattr(want, c) for c in COUNTS]
    assert _cases(sqlite_engine) == _cases(plain)
    plain.dispose()
