"""A store with one district (a 6 km × 4 km box in Nantong), two cases, an API key, and the API served by
a real uvicorn server on a free loopback port (in a thread), driven over HTTP."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from api import create_app
from cases.db import init_db, make_engine
from cases.lifecycle import report_case
from grid.config import load_city_config
from services.api_keys import NewKey, add_key
from services.context import ServiceContext
from services.imports import ImportRequest, import_file

#: The district: lon 120.84–120.90, lat 32.00–32.04 (WGS-84).
BOX = [[120.84, 32.00], [120.90, 32.00], [120.90, 32.04], [120.84, 32.04], [120.84, 32.00]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=["sqlite", "postgresql"])
def api_store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ServiceContext]:
    """A migrated store (``GRIDPATROL_DB_URL``) with its data folder, with the district and two cases
    reported an hour ago (one closed-looking: cancelled): SQLite, and PostgreSQL from
    ``GRIDPATROL_TEST_PG_URL`` (skipped without it, like ``tests/cases/test_repository.py``)."""
    folder = tmp_path / "data"
    folder.mkdir()
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_engine").url.render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{folder / 'gridpatrol.db'}"
    monkeypatch.setenv("GRIDPATROL_DATA_DIR", str(folder))
    monkeypatch.setenv("GRIDPATROL_DB_URL", url)
    monkeypatch.delenv("GRIDPATROL_TIMEZONE", raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # the clients talk to loopback directly
    engine = make_engine(url)
    init_db(engine)
    ctx = ServiceContext(engine=engine, config=load_city_config(), data_dir=folder)
    area = tmp_path / "district.geojson"
    feature = {"type": "Feature", "properties": {"id": "320602", "name": "崇川区"},
               "geometry": {"type": "Polygon", "coordinates": [BOX]}}  # fmt: skip
    area.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    result = import_file(
        ctx, ImportRequest(kind="areas", path=area, level="district", write_quarantine=False)
    )
    assert result.report.imported == 1
    at = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    for k, (code, status) in enumerate([("06010", None), ("01002", "cancelled")]):
        report_case(engine, case_id=f"NT{k}", source="hotline", category_code=code, reported_at=at,
                    actor="op", role="operator", lat=32.01 + k / 100, lon=120.86,
                    description=f"case {k} <b>x</b>", address=f"{k} 号")  # fmt: skip
        if status:
            from cases.lifecycle import transition

            transition(engine, f"NT{k}", "cancel", "op", "operator", at + dt.timedelta(minutes=5))
    yield ctx
    engine.dispose()


@pytest.fixture
def api_key(api_store: ServiceContext) -> str:
    """A WeChat mini-program's key."""
    return add_key(api_store, NewKey("wechat-app", source="wechat"))[1]


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port (in a thread); yield its base URL."""
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, name="api-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the API server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def serve() -> Any:
    """:func:`serving` for tests that build their own app."""
    return serving


@pytest.fixture
def server(api_store: ServiceContext) -> Iterator[str]:
    """The API on a free loopback port; yields its base URL."""
    with serving(create_app(lambda: api_store, max_body_bytes=64 * 1024)) as url:
        yield url
