"""The SQL store: migrations, time zones, constraints and versioning on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from cases.db import alembic_config, init_db, make_engine, schema_revision
from cases.models import Base, Case, CaseEvent, Inspector
from cases.store import recent_activity, table_counts

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _case(case_id: str, **overrides: object) -> Case:
    values: dict[str, object] = {
        "case_id": case_id,
        "source": "hotline",
        "category_code": "06010",
        "category_standard": "GB/T 47678.5-2026",
        "kind": "event",
        "lat": 32.015,
        "lon": 120.864,
        "cell": 622351985017159679,
        "reported_at": dt.datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI),
        "description": "暴露垃圾 <b>test</b>",
    }
    values.update(overrides)
    return Case(**values)


def test_schema_is_at_head_and_init_is_idempotent(store_engine: Engine) -> None:
    assert schema_revision(store_engine) == "0009"
    init_db(store_engine)  # a second run changes nothing
    assert schema_revision(store_engine) == "0009"
    assert set(Base.metadata.tables) <= set(sa.inspect(store_engine).get_table_names())


def test_migrations_match_the_models(store_engine: Engine) -> None:
    """A model change without a migration would make this diff non-empty."""
    with store_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_downgrade_then_upgrade(store_engine: Engine) -> None:
    from alembic import command

    command.downgrade(alembic_config(store_engine), "base")
    assert "cases" not in sa.inspect(store_engine).get_table_names()
    init_db(store_engine)
    assert "cases" in sa.inspect(store_engine).get_table_names()


def test_times_round_trip_as_utc_instants(store_engine: Engine) -> None:
    reported = dt.datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=SHANGHAI)
    with Session(store_engine) as session:
        session.add(_case("C1", reported_at=reported))
        session.commit()
    with Session(store_engine) as session:
        got = session.get(Case, "C1")
        assert got is not None
        assert got.reported_at == reported
        assert got.reported_at.utcoffset() == dt.timedelta(0)
        assert got.reported_at.hour == 1  # 09:30 in Shanghai is 01:30 UTC
        assert got.description == "暴露垃圾 <b>test</b>"


def test_naive_datetimes_are_refused(store_engine: Engine) -> None:
    with Session(store_engine) as session:
        session.add(_case("C2", reported_at=dt.datetime(2026, 3, 2, 9, 30)))
        with pytest.raises(sa.exc.StatementError, match="naive datetime"):
            session.commit()


@pytest.mark.parametrize(
    ("field", "value"),
    [("source", "fax"), ("kind", "rumour"), ("lat", 91.0), ("lon", -181.0)],
)
def test_constraints_refuse_invalid_values(store_engine: Engine, field: str, value: object) -> None:
    with Session(store_engine) as session:
        session.add(_case("C3", **{field: value}))
        with pytest.raises(sa.exc.IntegrityError):
            session.commit()


def test_version_column_detects_a_stale_update(store_engine: Engine) -> None:
    with Session(store_engine) as session:
        session.add(_case("C4"))
        session.commit()
    with Session(store_engine) as first, Session(store_engine) as second:
        a = first.get(Case, "C4")
        b = second.get(Case, "C4")
        assert a is not None
        assert b is not None
        a.status = "registered"
        first.commit()
        b.status = "cancelled"
        with pytest.raises(sa.orm.exc.StaleDataError):
            second.commit()
    with Session(store_engine) as session:
        case = session.get(Case, "C4")
        assert case is not None
        assert (case.status, case.version) == ("registered", 2)


def test_foreign_keys_are_enforced(store_engine: Engine) -> None:
    with Session(store_engine) as session:
        session.add(CaseEvent(case_id="missing", at=dt.datetime.now(dt.UTC), to_status="reported"))
        with pytest.raises(sa.exc.IntegrityError):
            session.commit()


def test_table_counts(store_engine: Engine) -> None:
    with Session(store_engine) as session:
        session.add_all([_case("C5"), _case("C6"), Inspector(inspector_id="I1", name="张三")])
        session.commit()
    counts = table_counts(store_engine)
    assert counts["cases"] == 2
    assert counts["inspectors"] == 1
    assert counts["users"] == 0


def test_sqlite_runs_in_wal_mode(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_default_url_is_sqlite_in_the_data_dir(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cases.db import database_url

    monkeypatch.delenv("GRIDPATROL_DB_URL", raising=False)
    monkeypatch.setenv("GRIDPATROL_DATA_DIR", str(tmp_path / "d"))
    assert database_url() == f"sqlite:///{(tmp_path / 'd' / 'gridpatrol.db').as_posix()}"
    engine = make_engine()
    init_db(engine)
    assert (tmp_path / "d" / "gridpatrol.db").exists()


def test_load_case_frame_reads_the_same_instants_and_values_on_both_backends(store_engine: Engine) -> None:
    """The fast reader (raw DBAPI rows, one vectorised time parse) gives exact UTC instants and types."""
    import pandas as pd

    from cases.store import load_case_frame

    whole = dt.datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI)
    micro = dt.datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=SHANGHAI)
    with Session(store_engine) as session:
        session.add_all(
            [
                _case("C1", reported_at=whole, location_flag="suspicious_cluster"),
                _case("C2", reported_at=micro, lat=None, lon=None, source="patrol"),
                _case("C3", cell=None),  # not located: left out
            ]
        )
        session.commit()
    frame = load_case_frame(store_engine).sort_values("case_id").reset_index(drop=True)
    assert frame["case_id"].tolist() == ["C1", "C2"]
    assert frame["cell"].dtype == "int64"
    assert frame["cell"].tolist() == [622351985017159679] * 2
    assert frame["reported_at"].tolist() == [pd.Timestamp(whole), pd.Timestamp(micro)]
    assert str(frame["reported_at"].dt.tz) == "UTC"
    assert frame["lat"].iloc[0] == 32.015
    assert frame["lat"].isna().iloc[1]
    assert frame["source"].tolist() == ["hotline", "patrol"]
    assert frame["location_flag"].iloc[0] == "suspicious_cluster"
    assert frame["location_flag"].iloc[1] is None
    some = load_case_frame(store_engine, columns=("case_id", "cell", "reported_at"))
    assert list(some.columns) == ["case_id", "cell", "reported_at"]
    assert len(some) == 2


def test_recent_activity_counts_local_days_and_last_week_cells(store_engine: Engine) -> None:
    """Relative to the newest case; days are Shanghai days (16:30 UTC is the next local day)."""
    a, b = 622351985017159679, 622351984090972159
    times_and_cells = [
        (dt.datetime(2026, 3, 31, 16, 30, tzinfo=dt.UTC), a),  # local 1 April: the newest day
        (dt.datetime(2026, 3, 31, 15, 0, tzinfo=dt.UTC), a),  # local 31 March, 23:00
        (dt.datetime(2026, 3, 26, 1, 0, tzinfo=dt.UTC), b),  # local 26 March: day 7 back, on the map
        (dt.datetime(2026, 3, 25, 1, 0, tzinfo=dt.UTC), b),  # local 25 March: off the map, in the chart
        (dt.datetime(2026, 3, 30, 1, 0, tzinfo=dt.UTC), None),  # not located: chart only
        (dt.datetime(2026, 1, 1, 1, 0, tzinfo=dt.UTC), a),  # months before: neither
    ]
    with Session(store_engine) as session:
        session.add_all(
            _case(f"R{i}", reported_at=when, cell=cell, lat=None if cell is None else 32.015)
            for i, (when, cell) in enumerate(times_and_cells)
        )
        session.commit()
    cells, daily = recent_activity(store_engine, days=28, map_days=7)
    assert cells.to_dict("list") == {"cell": [a, b], "count": [2, 1]}
    assert len(daily) == 28
    assert daily["day"].iloc[-1] == dt.date(2026, 4, 1)
    by_day = dict(zip(daily["day"], daily["count"], strict=True))
    assert by_day[dt.date(2026, 4, 1)] == 1
    assert by_day[dt.date(2026, 3, 31)] == 1
    assert by_day[dt.date(2026, 3, 30)] == 1
    assert by_day[dt.date(2026, 3, 25)] == 1
    assert daily["count"].sum() == 5


def test_recent_activity_of_an_empty_store(store_engine: Engine) -> None:
    cells, daily = recent_activity(store_engine)
    assert cells.empty
    assert daily.empty
    assert list(cells.columns) == ["cell", "count"]
