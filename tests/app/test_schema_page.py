"""The app on a store without the current schema: a translated error, no traceback, nothing migrated."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cases.db import make_engine, schema_revision


def test_the_app_on_an_empty_store_says_run_init(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app_path: str
) -> None:
    monkeypatch.delenv("GRIDPATROL_DB_URL", raising=False)
    monkeypatch.setenv("GRIDPATROL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GRIDPATROL_TILES", "none")
    at = AppTest.from_file(app_path, default_timeout=60).run()
    assert not at.exception
    assert "gridpatrol init" in at.error[0].value
    assert "数据库尚未建立" in at.error[0].value
    assert not at.text_input  # no login form on a store that cannot serve it
    assert schema_revision(make_engine()) is None  # the app migrated nothing
