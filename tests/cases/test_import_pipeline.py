"""The fast import machinery: read-ahead thread, multi-row SQLite inserts from prepared rows, shared texts.

Each fast path is compared with a plain reference (SQLAlchemy Core inserts, one chunk, pandas groupby) on
data built to hit its edge cases: statement boundaries, constant and all-NULL columns, repeated texts,
NULLs, exceptions in either thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import cases.importing
from cases import bulk, readers
from cases.db import init_db, make_engine
from cases.importing import _ahead, _distinct_points, import_cases
from cases.models import Case, ImportBatch
from cases.types import UTCDateTime

from .conftest import write_cases_csv


def _table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "t",
        metadata,
        sa.Column("k", sa.String(32), primary_key=True),
        sa.Column("word", sa.String(32)),
        sa.Column("text", sa.Text),
        sa.Column("x", sa.Float),
        sa.Column("n", sa.BigInteger),
        sa.Column("at", UTCDateTime),
        sa.Column("same", sa.String(8)),
        sa.Column("unused", sa.Text),
        sa.Column("batch", sa.Integer),
    )


def _frame(n: int) -> pd.DataFrame:
    """``n`` rows: unique keys, few repeated Chinese words, NULLs everywhere but ``k``, a constant."""
    rng = np.random.default_rng(7)
    words = np.array(["结案", "处置中", "待派遣", "it's", 'quote"d'], dtype=object)
    word = words[rng.integers(0, len(words), n)]
    word[rng.random(n) < 0.1] = None
    x = rng.normal(32.0, 0.03, n)
    x[rng.random(n) < 0.1] = np.nan
    x[:1] = -0.0
    at = pd.Series(
        pd.Timestamp("2024-03-05 08:00", tz="UTC") + pd.to_timedelta(rng.integers(0, 10**9, n), "us")
    )
    at[rng.random(n) < 0.1] = pd.NaT
    return pd.DataFrame(
        {
            "k": pd.array([f"K{i}" for i in range(n)], dtype=pd.ArrowDtype(pa.string())),
            "word": pd.array(word, dtype=pd.ArrowDtype(pa.string())),
            "text": pd.array([f"第{i}条\n行" if i % 3 else None for i in range(n)], dtype="str"),
            "x": x,
            "n": rng.integers(-(2**62), 2**62, n),
            "at": at,
            "same": pd.array(["gcj02"] * n, dtype=pd.ArrowDtype(pa.string())),
            "unused": pd.array([None] * n, dtype=pd.ArrowDtype(pa.string())),
        }
    )


def _stored(engine: Engine) -> list[tuple]:
    """Every row as stored, with SQLite's storage class of each value (bit-exact comparison)."""
    columns = ["k", "word", "text", "x", "n", "at", "same", "unused", "batch"]
    select = ", ".join(f"{c}, typeof({c})" for c in columns)
    with engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(f"SELECT {select} FROM t ORDER BY rowid")]


def _engine(path: Path) -> tuple[Engine, sa.Table]:
    engine = make_engine(f"sqlite:///{path}")
    metadata = sa.MetaData()
    table = _table(metadata)
    metadata.create_all(engine)
    return engine, table


@pytest.mark.parametrize(("n", "per"), [(1, 50), (2, 50), (50, 50), (2_500 + 7, 50), (2_100, 7)])
def test_prepared_sqlite_insert_stores_what_core_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int, per: int
) -> None:
    """Multi-row statements, shared texts and bound-once constants store exactly what Core stores."""
    monkeypatch.setattr(bulk, "SQLITE_ROWS_PER_STATEMENT", per)
    frame = _frame(n)
    fast, table = _engine(tmp_path / "fast.db")
    with fast.begin() as conn:
        bulk.insert_prepared(conn, table, bulk.prepare_rows("sqlite", frame), {"batch": 3})
    core, table = _engine(tmp_path / "core.db")
    with core.begin() as conn:
        bulk._execute_many(conn, sa.insert(table), bulk._records(frame.assign(batch=3)))
    assert _stored(fast) == _stored(core)
    assert len(_stored(fast)) == n
    with fast.connect() as conn:  # reads back typed like any row (tz-aware UTC, floats bit-exact)
        got = conn.execute(sa.select(table.c.x, table.c.at).order_by(table.c.k)).all()
    want = frame.assign(o=frame["k"].astype(str)).sort_values("o")
    assert [r.at for r in got] == [None if pd.isna(t) else t.to_pydatetime() for t in want["at"]]
    np.testing.assert_array_equal(np.array([np.nan if r.x is None else r.x for r in got]), want["x"])
    fast.dispose()
    core.dispose()


def test_prepare_rows_keeps_constants_apart_and_leaves_null_columns_out() -> None:
    frame = _frame(3_000)
    rows = bulk.prepare_rows("sqlite", frame)
    assert rows.constant == {"same": "gcj02"}
    assert rows.names == ("k", "word", "text", "x", "n", "at")
    words = rows.values[1]
    assert words.count(None) > 0
    # a repeated text is one shared str object (decoded and UTF-8 encoded once)
    by_value: dict[str, int] = {}
    for word in words:
        if word is not None:
            by_value.setdefault(word, id(word))
            assert id(word) == by_value[word]
    assert len(set(map(id, rows.values[0]))) == 3_000  # unique ids are not pooled
    assert rows.values[2][:3] == [None, "第1条\n行", "第2条\n行"]
    utc_text = [None if pd.isna(t) else t.strftime("%Y-%m-%d %H:%M:%S.%f") for t in frame["at"]]
    assert rows.values[5] == utc_text  # exactly UTCDateTime's SQLite text


def test_one_row_binds_every_column_once(tmp_path: Path) -> None:
    """One row: every column is a constant, the statement has no per-row parameters at all."""
    frame = pd.DataFrame({"k": ["only"], "word": ["结案"], "n": [5]})
    rows = bulk.prepare_rows("sqlite", frame)
    assert (rows.names, rows.constant) == ((), {"k": "only", "word": "结案", "n": 5})
    engine, table = _engine(tmp_path / "one.db")
    with engine.begin() as conn:
        bulk.insert_prepared(conn, table, rows, {"batch": 1})
    values = ("only", "结案", None, None, 5, None, None, None, 1)
    types = ("text", "text", "null", "null", "integer", "null", "null", "null", "integer")
    assert _stored(engine) == [tuple(x for pair in zip(values, types, strict=True) for x in pair)]
    engine.dispose()


def test_prepared_subset_keeps_the_order_of_the_kept_rows() -> None:
    frame = _frame(10)
    keep = np.array([True, False, True, True, False, False, True, False, False, True])
    for dialect in ("sqlite", "postgresql"):
        rows = bulk.prepare_rows(dialect, frame).subset(keep)
        assert len(rows) == 5
        kept = rows.values[0] if dialect == "sqlite" else rows.frame["k"].tolist()
        assert kept == ["K0", "K2", "K3", "K6", "K9"]


def _slow(n: int, fail_at: int | None = None) -> Iterator[int]:
    for i in range(n):
        if i == fail_at:
            raise KeyError(f"item {i}")
        time.sleep(0.001)
        yield i


def _helpers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "gridpatrol-import-read-ahead"]


def test_read_ahead_yields_every_item_in_order() -> None:
    assert list(_ahead(_slow(50), 2)) == list(range(50))
    assert list(_ahead(iter([]), 1)) == []
    assert _helpers() == []


def test_read_ahead_raises_the_helpers_exception_at_that_item() -> None:
    seen: list[int] = []
    with pytest.raises(KeyError, match="item 7"):
        seen.extend(_ahead(_slow(20, fail_at=7), 1))
    assert seen == list(range(7))
    assert _helpers() == []


def test_closing_the_read_ahead_stops_the_helper() -> None:
    produced = []

    def counting() -> Iterator[int]:
        for i in range(1_000):
            produced.append(i)
            yield i

    items = _ahead(counting(), 1)
    assert next(items) == 0
    items.close()
    assert _helpers() == []
    assert len(produced) < 10  # it stopped at once, not after reading everything


def _cases(engine: Engine) -> list[tuple]:
    with engine.connect() as conn:
        query = sa.select(*(c for c in Case.__table__.columns if c.name != "import_batch"))
        return [tuple(r) for r in conn.execute(query.order_by(Case.case_id))]


def test_small_chunks_store_the_same_as_one_chunk(
    tmp_path: Path, store_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read-ahead pipeline over many chunks gives the store and report of a single chunk."""
    path = write_cases_csv(tmp_path / "c.csv", 300)
    one = make_engine(f"sqlite:///{tmp_path / 'one.db'}")
    init_db(one)
    whole = import_cases(path, one)
    monkeypatch.setattr(readers, "CHUNK_ROWS", 7)
    chunked = import_cases(path, store_engine)
    counts = ("read", "imported", "duplicates", "quarantined", "flagged")
    assert [getattr(chunked, c) for c in counts] == [getattr(whole, c) for c in counts] == [301, 295, 5, 1, 0]
    assert chunked.quarantine.drop(columns="file").equals(whole.quarantine.drop(columns="file"))
    assert _cases(store_engine) == _cases(one)
    one.dispose()


def test_a_failure_in_the_read_ahead_thread_leaves_the_store_as_it_was(
    tmp_path: Path, sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check that blows up on a later chunk (in the helper thread) rolls the whole file back."""
    monkeypatch.setattr(readers, "CHUNK_ROWS", 20)
    monkeypatch.setattr(bulk, "DEFER_INDEXES_MIN_ROWS", 0)
    real_check = cases.importing.check_cases
    calls = []

    def failing_check(*args: object) -> object:
        calls.append(threading.current_thread().name)
        if len(calls) == 3:
            raise MemoryError("out of memory in chunk 3")
        return real_check(*args)

    monkeypatch.setattr(cases.importing, "check_cases", failing_check)
    with pytest.raises(MemoryError, match="chunk 3"):
        import_cases(write_cases_csv(tmp_path / "c.csv", 100), sqlite_engine)
    assert set(calls) == {"gridpatrol-import-read-ahead"}
    assert _helpers() == []
    with sqlite_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Case)).scalar_one() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(ImportBatch)).scalar_one() == 0
    indexes = {ix["name"] for ix in sa.inspect(sqlite_engine).get_indexes("cases")}
    assert {"ix_cases_cell_reported", "ix_cases_reported_at", "ix_cases_status"} <= indexes


def test_distinct_points_match_a_two_key_groupby() -> None:
    rng = np.random.default_rng(3)
    lat = np.round(rng.normal(32, 0.001, 5_000), 4)
    lon = np.round(rng.normal(120, 0.001, 5_000), 4)
    lat[::97] = np.nan
    codes, points = _distinct_points(lat, lon)
    frame = pd.DataFrame({"lat": lat, "lon": lon})
    groups = frame.groupby(["lat", "lon"], sort=False)
    want = groups.size().reset_index()
    np.testing.assert_array_equal(points["lat"], want["lat"])
    np.testing.assert_array_equal(points["lon"], want["lon"])
    np.testing.assert_array_equal(np.bincount(codes[codes >= 0]), want[0])
    np.testing.assert_array_equal(codes, groups.ngroup().fillna(-1).to_numpy(dtype=np.int64))
