"""The home page renders headless on an empty and on a filled database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from cases.db import init_db, make_engine
from cases.models import Case, ImportBatch

HOME = str(Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("GRIDPATROL_DB_URL", raising=False)
    monkeypatch.setenv("GRIDPATROL_DATA_DIR", str(tmp_path))
    return tmp_path


def test_home_on_an_empty_database(data_dir: Path) -> None:
    at = AppTest.from_file(HOME, default_timeout=30).run()
    assert not at.exception
    assert at.title[0].value == "GridPatrol 网格巡查"
    assert at.metric[0].value == "0"
    assert "尚未导入数据" in at.info[0].value


def test_home_shows_counts_and_imports_in_english(data_dir: Path) -> None:
    engine = make_engine()
    init_db(engine)
    now = dt.datetime.now(dt.UTC)
    with Session(engine) as session:
        batch = ImportBatch(
            kind="cases", source_file="x.csv", sha256="0" * 64, started_at=now, finished_at=now
        )
        session.add(batch)
        session.flush()
        for i in range(3):
            session.add(
                Case(
                    case_id=f"C{i}",
                    source="hotline",
                    category_code="06010",
                    reported_at=now,
                    import_batch=batch.batch_id,
                )
            )
        session.commit()
    at = AppTest.from_file(HOME, default_timeout=30).run()
    at.sidebar.radio[0].set_value("en").run()
    assert not at.exception
    assert at.title[0].value == "GridPatrol"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["cases"] == "3"
    assert at.dataframe[0].value["source_file"].tolist() == ["x.csv"]
