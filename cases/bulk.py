"""Bulk writes of imported rows: insert, compare-and-update, key look-ups, the batch and quarantine records.

All functions take an open :class:`~sqlalchemy.engine.Connection` inside the importer's transaction, so a
failure anywhere rolls the whole file back.

Speed: SQLAlchemy Core ``executemany`` with values converted column-wise beforehand (no ORM objects). On
SQLite, new rows go straight to the DBAPI (``exec_driver_sql``) with times pre-formatted exactly as
:class:`cases.types.UTCDateTime` stores them (naive UTC text ``YYYY-MM-DD HH:MM:SS.ffffff``), which skips a
Python call per value (``tests/cases/test_import_store.py`` proves the round trip), and columns that are
NULL in every row of a chunk are left out of the statement. Other backends (PostgreSQL) go through the
typed Core table, which binds tz-aware datetimes. Key look-ups send all keys of a chunk as one parameter
(SQLite ``json_each``, PostgreSQL ``= ANY(array)``) instead of thousands of bound ``IN`` parameters.
A large load into a small SQLite table drops the table's secondary indexes and rebuilds them before commit
(:func:`deferred_indexes`): building an index from sorted data is much cheaper than updating it row by row.
A large load into an SQLite database that no other connection has open runs with a rollback journal instead
of the write-ahead log (:func:`bulk_journal`), so that each new page is written once, not twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import sqlite3
import time
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cases.bulk_rows import PreparedRows, _gc_paused, _records, _same, prepare_rows
from cases.models import ImportBatch, QuarantineRow
from cases.report import ImportReport

__all__ = [
    "PreparedRows",
    "begin_batch",
    "bulk_journal",
    "deferred_indexes",
    "fast_writes",
    "fetch_existing",
    "finish_batch",
    "insert_frame",
    "insert_prepared",
    "prepare_rows",
    "update_changed",
    "write_quarantine",
]


#: Keys per ``IN (…)`` look-up (below PostgreSQL's 65,535 and SQLite's 32,766 parameter limits).
LOOKUP_CHUNK = 5_000
#: Rows per ``executemany`` call.
WRITE_CHUNK = 50_000
#: Rows per multi-row ``INSERT`` statement on SQLite (see :func:`_sqlite_insert`).
SQLITE_ROWS_PER_STATEMENT = 50
#: SQLite page cache for the import's connection (KiB, as ``PRAGMA cache_size=-N``): index pages stay hot.
SQLITE_CACHE_KIB = 262_144
#: Rows from which :func:`deferred_indexes` pays off (when the table holds fewer rows than the load).
DEFER_INDEXES_MIN_ROWS = 100_000
#: Journal of a large SQLite load (:func:`bulk_journal`): ``"DELETE"`` (a rollback journal) or ``"WAL"`` (keep
#: the write-ahead log: every page is then written twice, once to the log and once when it is checkpointed).
SQLITE_BULK_JOURNAL = "DELETE"
#: Rows from which :func:`bulk_journal` switches the journal (switching costs a checkpoint and two fsyncs).
BULK_JOURNAL_MIN_ROWS = 100_000
#: Seconds :func:`bulk_journal` keeps trying to switch back to WAL while another connection reads.
WAL_RESTORE_SECONDS = 2.0


@contextlib.contextmanager
def bulk_journal(conn: Connection, expected_rows: int) -> Iterator[bool]:
    """Run a large SQLite load with a rollback journal instead of the write-ahead log; yields whether it did.

    Enter it on a connection *outside* any transaction and run the load's transaction inside it. In WAL
    mode every page a load writes goes to the ``-wal`` file at commit (or when the page cache spills) and
    once more into the database at the checkpoint that follows; with a rollback journal a page appended
    past the end of the database is written once, and a page that existed before is written once to the
    journal (its old content) and once in place. The end of a fresh 1M-row import (commit, checkpoint):
    3.6–5.5 s → 1.4–2.6 s on a loaded 2-core machine (``benchmarks/bench_import.py`` has the A/B).

    Only on SQLite in WAL mode, for ``expected_rows`` ≥ :data:`BULK_JOURNAL_MIN_ROWS`, and only when no
    other connection has the database open: leaving WAL needs an exclusive lock, so with the app (or any
    other connection, also an idle one in this process's pool) attached ``PRAGMA journal_mode=DELETE``
    fails at once with "database is locked" and the load runs in WAL as before (yields False).

    Crash safety (never ``journal_mode=OFF`` or ``MEMORY``): leaving WAL checkpoints the log into the
    database before removing it. During the load ``synchronous=FULL`` is set: the journal holding the old
    content of every pre-existing page is fsynced before that page is overwritten in the database, and the
    journal header records the database's original size, so pages appended by the load need no journal
    (a rollback truncates them away). The commit is the deletion of the journal after the database was
    fsynced. A crash of the process, the OS or the power at any point leaves a "hot" journal that the next
    connection rolls back, or the committed load: atomic and durable, as in WAL mode. On the way out
    (committed or rolled back) WAL and the previous ``synchronous`` are restored; if another connection is
    reading at that moment the switch is retried for :data:`WAL_RESTORE_SECONDS`, after which the database
    stays in rollback mode (consistent) until the next connection made by :func:`cases.db.make_engine`
    switches it back.

    While the load runs in rollback mode, a connection opened meanwhile can read the committed data, but
    its reads and the load's writes to the database file (page-cache spills, commit) wait for each other,
    which WAL would avoid: the price of the faster load.
    """
    if (
        conn.dialect.name != "sqlite"
        or expected_rows < BULK_JOURNAL_MIN_ROWS
        or SQLITE_BULK_JOURNAL.lower() == "wal"
    ):
        yield False
        return
    driver = conn.connection.driver_connection
    if driver.in_transaction or _pragma(driver, "journal_mode") != "wal":  # e.g. ":memory:" databases
        yield False
        return
    synchronous = int(_pragma(driver, "synchronous"))
    try:
        switched = _pragma(driver, f"journal_mode={SQLITE_BULK_JOURNAL}") == SQLITE_BULK_JOURNAL.lower()
    except sqlite3.OperationalError:  # "database is locked": another connection has the database open
        switched = False
    if not switched:
        yield False
        return
    driver.execute("PRAGMA synchronous=FULL")
    try:
        yield True
    finally:
        _restore_wal(driver)
        with contextlib.suppress(sqlite3.Error):  # never mask the load's own exception
            driver.execute(f"PRAGMA synchronous={synchronous}")


def _pragma(driver: sqlite3.Connection, pragma: str) -> str | int:
    value = driver.execute(f"PRAGMA {pragma}").fetchone()[0]
    return value.lower() if isinstance(value, str) else value


def _restore_wal(driver: sqlite3.Connection) -> None:
    """Switch back to WAL, retrying while another connection holds a lock (see :func:`bulk_journal`)."""
    deadline = time.monotonic() + WAL_RESTORE_SECONDS
    while True:
        try:
            driver.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:  # locked by a reader, or still inside a broken transaction
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)


@contextlib.contextmanager
def fast_writes(conn: Connection) -> Iterator[None]:
    """Enlarge SQLite's page cache for the duration of an import (restored afterwards); no-op elsewhere."""
    if conn.dialect.name != "sqlite":
        yield
        return
    old = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        with contextlib.suppress(sa.exc.DBAPIError):
            conn.exec_driver_sql(f"PRAGMA cache_size={int(old)}")


@contextlib.contextmanager
def deferred_indexes(conn: Connection, table: sa.Table, expected_rows: int) -> Iterator[bool]:
    """Drop ``table``'s secondary indexes for a bulk load and recreate them, identically, at the end.

    Only on SQLite, and only when ``expected_rows`` ≥ :data:`DEFER_INDEXES_MIN_ROWS` and ≥ the rows already
    stored (``max(rowid)``); yields whether it did. Must run inside the import's transaction, after a first
    write (Python's sqlite3 opens the transaction on the first DML): SQLite DDL is transactional, so a failure
    before the end rolls the drop back and leaves the indexes as they were. Readers of a WAL database keep
    seeing the committed indexes meanwhile.
    """
    if conn.dialect.name != "sqlite" or expected_rows < DEFER_INDEXES_MIN_ROWS:
        yield False
        return
    stored = conn.exec_driver_sql(f"SELECT max(rowid) FROM {table.name}").scalar() or 0
    if stored > expected_rows or not conn.in_transaction():
        yield False
        return
    indexes = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        (table.name,),
    ).all()
    for name, _ in indexes:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    yield True
    for _, sql in indexes:
        conn.exec_driver_sql(sql)


def begin_batch(conn: Connection, kind: str, file: str, sha256: str, started: dt.datetime) -> int:
    """Insert the ``import_batches`` row of this run (counts 0) and return its ``batch_id``."""
    result = conn.execute(
        sa.insert(ImportBatch.__table__).values(
            kind=kind,
            source_file=file,
            sha256=sha256,
            started_at=started,
            rows_read=0,
            rows_imported=0,
            rows_duplicate=0,
            rows_quarantined=0,
            rows_flagged=0,
        )
    )
    return int(result.inserted_primary_key[0])


def finish_batch(conn: Connection, batch_id: int, report: ImportReport) -> None:
    """Store the final counts of ``report`` and the finish time on the batch row."""
    table = ImportBatch.__table__
    conn.execute(
        sa.update(table)
        .where(table.c.batch_id == batch_id)
        .values(
            finished_at=dt.datetime.now(dt.UTC),
            rows_read=report.read,
            rows_imported=report.imported,
            rows_duplicate=report.duplicates,
            rows_quarantined=report.quarantined,
            rows_flagged=report.flagged,
        )
    )


def write_quarantine(conn: Connection, batch_id: int, quarantine: pd.DataFrame) -> None:
    """Insert the quarantined rows (``cases.report.QUARANTINE_COLUMNS``) for ``batch_id``."""
    if quarantine.empty:
        return
    frame = pd.DataFrame(
        {
            "source_file": quarantine["file"].astype(object),
            "line": quarantine["line"].astype(np.int64),
            "field": quarantine["field"].astype(object),
            "reason": quarantine["reason"].astype(object),
            "detail": quarantine["detail"].astype(object),
            "raw": quarantine["raw"].astype(object),
        }
    )
    # the bulk insert path (multi-row statements on SQLite): field defects can be 5 % of a million rows
    insert_frame(conn, QuarantineRow.__table__, frame.reset_index(drop=True), {"batch_id": batch_id})


def fetch_existing(
    conn: Connection, table: sa.Table, keys: Sequence[str], columns: Sequence[str]
) -> pd.DataFrame:
    """Stored rows whose primary key is in ``keys``: a frame indexed by the key with ``columns``.

    Values come through the typed table (times as tz-aware UTC datetimes).
    """
    (key,) = table.primary_key.columns
    parts = []
    unique = list(dict.fromkeys(keys))
    step = LOOKUP_CHUNK * 20 if conn.dialect.name in ("sqlite", "postgresql") else LOOKUP_CHUNK
    for start in range(0, len(unique), step):
        part = unique[start : start + step]
        query = sa.select(key, *(table.c[c] for c in columns))
        if conn.dialect.name == "sqlite":
            # drive the look-up from the keys: one index search per key, no temporary b-tree of the IN list
            each = sa.func.json_each(sa.bindparam("keys", json.dumps(part))).table_valued("value").alias("k")
            query = query.select_from(each.join(table, key == each.c.value))
        else:
            query = query.where(_key_in(conn, key, part))
        parts.extend(tuple(row) for row in conn.execute(query))
    frame = pd.DataFrame(parts, columns=[key.name, *columns], dtype=object)
    return frame.set_index(key.name)


def _key_in(conn: Connection, key: sa.Column, values: list) -> sa.ColumnElement[bool]:
    """``key IN values`` as one bound parameter where the backend allows it."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return key == sa.any_(sa.bindparam("keys", values, type_=ARRAY(key.type)))
    return key.in_(values)


def insert_frame(
    conn: Connection, table: sa.Table, frame: pd.DataFrame, constants: dict | None = None
) -> None:
    """Insert every row of ``frame`` (columns named as ``table``'s; times datetime64 UTC; NaN/NA = NULL).

    ``constants`` are extra columns with one value for every row (e.g. ``import_batch``).
    """
    if frame.empty:
        return
    insert_prepared(conn, table, prepare_rows(conn.dialect.name, frame), constants)


def insert_prepared(
    conn: Connection, table: sa.Table, rows: PreparedRows, constants: dict | None = None
) -> None:
    """Insert rows prepared by :func:`prepare_rows` (``constants``: extra columns, one value for all rows)."""
    if not len(rows):
        return
    constants = constants or {}
    if rows.frame is not None:
        _execute_many(conn, sa.insert(table), _records(rows.frame.assign(**constants)))
        return
    with _gc_paused():
        _sqlite_insert(conn, table, rows, constants)


def _sqlite_insert(conn: Connection, table: sa.Table, rows: PreparedRows, constants: dict) -> None:
    """Multi-row ``INSERT … VALUES (…), (…)`` through the DBAPI cursor of the transaction's connection.

    Each statement carries :data:`SQLITE_ROWS_PER_STATEMENT` rows: SQLite's per-execution work (the
    ephemeral table of a CHECK's ``IN (…)`` list, the foreign-key cursor, the statement reset) is then paid
    once per statement instead of once per row. Constants are bound once per statement (``?NNN``
    referenced by every row). Parameters are fed lazily: no list of all rows is built.
    """
    fixed = {**rows.constant, **constants}
    width = len(rows.names)
    driver = conn.connection.driver_connection
    limit = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    per = SQLITE_ROWS_PER_STATEMENT if width == 0 else (limit - len(fixed)) // width
    per = max(1, min(SQLITE_ROWS_PER_STATEMENT, per))
    const_values = tuple(fixed.values())
    full, rest = divmod(rows.n, per)
    cursor = driver.cursor()
    try:
        if width == 0:  # every column constant (e.g. one row): the same parameters for every row
            cursor.executemany(_values_sql(conn, table, rows.names, fixed, 1), [const_values] * rows.n)
            return
        flat = itertools.chain.from_iterable(zip(*rows.values, strict=True))
        step = per * width
        if full:
            params = (tuple(itertools.islice(flat, step)) + const_values for _ in range(full))
            cursor.executemany(_values_sql(conn, table, rows.names, fixed, per), params)
        if rest:
            cursor.execute(_values_sql(conn, table, rows.names, fixed, rest), tuple(flat) + const_values)
    finally:
        cursor.close()


def _values_sql(conn: Connection, table: sa.Table, names: Sequence[str], fixed: dict, per: int) -> str:
    """``INSERT`` of ``per`` rows: row ``i`` binds ``?(i·w+1)…?(i·w+w)``, then the shared constants."""
    quote = conn.dialect.identifier_preparer.quote
    width = len(names)
    shared = [f"?{per * width + j + 1}" for j in range(len(fixed))]
    tuples = (
        "(" + ", ".join([*(f"?{i * width + j + 1}" for j in range(width)), *shared]) + ")" for i in range(per)
    )
    columns = ", ".join(quote(name) for name in [*names, *fixed])
    return f"INSERT INTO {quote(table.name)} ({columns}) VALUES {', '.join(tuples)}"


def update_changed(
    conn: Connection, table: sa.Table, frame: pd.DataFrame, columns: Sequence[str], extra: dict
) -> int:
    """Overwrite stored rows that differ from ``frame`` in any of ``columns``; return how many changed.

    ``frame`` is indexed like the input chunk and has the primary key column; ``extra`` holds constant
    values to set on every updated row (e.g. ``import_batch``). ``version`` is incremented.
    """
    if frame.empty or not columns:
        return 0
    (key,) = table.primary_key.columns
    stored = fetch_existing(conn, table, frame[key.name].tolist(), columns)
    mine = frame.set_index(key.name)[list(columns)]
    theirs = stored.reindex(mine.index)
    changed = np.zeros(len(mine), dtype=bool)
    for column in columns:
        changed |= ~_same(mine[column], theirs[column])
    todo = mine.loc[changed].reset_index()
    if todo.empty:
        return 0
    params = todo.rename(columns=lambda c: f"b_{c}")
    statement = (
        sa.update(table)
        .where(key == sa.bindparam(f"b_{key.name}"))
        .values({c: sa.bindparam(f"b_{c}") for c in columns} | {"version": table.c.version + 1} | extra)
    )
    _execute_many(conn, statement, _records(params))
    return len(todo)


def _execute_many(conn: Connection, statement: sa.Executable, records: list[dict]) -> None:
    for start in range(0, len(records), WRITE_CHUNK):
        conn.execute(statement, records[start : start + WRITE_CHUNK])
