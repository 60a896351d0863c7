"""The data-access layer on SQLite and PostgreSQL: the same frames, types and answers from both stores."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from cases import repository
from cases.models import Assignment, Case, Inspector

UTC = dt.UTC
CELL_A, CELL_B = 622351985017159679, 622351985017225215


def _seed(engine: Engine, n_cases: int = 1_000) -> None:
    """Two inspectors (I1 hands cell A to I2 on 1 March), ``n_cases`` located cases and one without a cell."""
    t0 = dt.datetime(2026, 1, 1, tzinfo=UTC)
    march = dt.datetime(2026, 3, 1, tzinfo=UTC)
    with Session(engine) as session:
        session.add_all([Inspector(inspector_id=i, name=n, district="320613", active=True)
                         for i, n in (("I1", "张三"), ("I2", "李四"))])  # fmt: skip
        session.flush()
        session.add_all(
            [
                Assignment(inspector_id="I1", cell=CELL_A, valid_from=t0, valid_to=march),
                Assignment(inspector_id="I2", cell=CELL_A, valid_from=march, valid_to=None),
                Assignment(inspector_id="I1", cell=CELL_B, valid_from=t0, valid_to=None),
            ]
        )
        cases = [
            Case(case_id=f"C{k:05d}", source="hotline", category_code="06010", category_standard="test",
                 kind="event", lat=32.0, lon=120.86, cell=CELL_A if k % 2 else CELL_B,
                 reported_at=t0 + dt.timedelta(hours=k), status="reported", description=f"<b>{k}</b>")
            for k in range(n_cases)
        ]  # fmt: skip
        no_place = {"category_standard": "test", "kind": "event", "reported_at": t0, "status": "reported"}
        cases.append(Case(case_id="NOPLACE", source="hotline", category_code="06010", **no_place))
        session.add_all(cases)
        session.commit()


def test_assignments_valid_at_an_instant_and_over_a_range(store_engine: Engine) -> None:
    _seed(store_engine, n_cases=10)
    every = repository.assignments(store_engine)
    assert every["cell"].dtype == np.int64
    assert str(every["valid_from"].dt.tz) == "UTC"
    assert every["valid_to"].isna().sum() == 2

    feb = repository.assignments_valid_at(store_engine, pd.Timestamp("2026-02-15", tz="UTC"))
    assert sorted(zip(feb["inspector_id"], feb["cell"], strict=True)) == [("I1", CELL_A), ("I1", CELL_B)]
    handover = repository.assignments_valid_at(store_engine, pd.Timestamp("2026-03-01", tz="UTC"))
    assert sorted(handover["inspector_id"]) == ["I1", "I2"]  # valid_to is exclusive, valid_from inclusive
    week = repository.assignments_overlapping(
        store_engine, pd.Timestamp("2026-02-27", tz="UTC"), pd.Timestamp("2026-03-03", tz="UTC")
    )
    assert len(week) == 3
    assert (
        list(repository.inspector_cells(store_engine, "I2", "2026-02-01T00:00Z", "2026-02-28T00:00Z")) == []
    )
    with pytest.raises(ValueError, match="tz-aware"):
        repository.assignments_valid_at(store_engine, pd.Timestamp("2026-02-15"))


def test_cases_frame_and_case_rows_chunk_past_the_parameter_limit(store_engine: Engine) -> None:
    _seed(store_engine, n_cases=2_000)
    frame = repository.cases_frame(store_engine)
    assert len(frame) == 2_000  # the case without a cell is not a located case
    assert frame["cell"].dtype == np.int64
    assert str(frame["reported_at"].dt.tz) == "UTC"
    ids = [f"C{k:05d}" for k in range(0, 2_000, 1)]  # more ids than SQLite binds in one statement
    rows = repository.case_rows(store_engine, ids)
    assert len(rows) == 2_000
    assert "reporter_phone" not in rows  # PII is read only where a role needs it
    assert set(rows.columns) == set(repository.CASE_ROW_COLUMNS)
    people = repository.inspectors(store_engine).set_index("inspector_id")
    assert people.loc["I2", "name"] == "李四"
