"""A store locked by another writer, and two imports at once (issue #25), with real processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from app.cli import main
from cases.db import make_engine
from grid.config import load_city_config
from services.context import ServiceContext
from services.errors import ServiceError
from services.imports import ImportRequest, import_file
from tests.conftest import migrated_sqlite

ROOT = Path(__file__).resolve().parents[2]
CSV = "case_id,reported_at,category_code\nL1,2025-06-01 08:00,road\nL2,2025-06-02 08:00,road\n"


def _holder(code: str) -> subprocess.Popen:
    """A second process running ``code``; it prints ``held`` once it holds its lock."""
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    return proc


def _counts(url: str) -> tuple[int, int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        cases = conn.execute(sa.text("SELECT count(*) FROM cases")).scalar_one()
        batches = conn.execute(sa.text("SELECT count(*) FROM import_batches")).scalar_one()
    engine.dispose()
    return cases, batches


def test_a_second_import_waits_for_the_first(tmp_path: Path) -> None:
    url = migrated_sqlite(tmp_path / "t.db")
    data = tmp_path / "cases.csv"
    data.write_text(CSV, encoding="utf-8")
    holder = _holder(f"""
        import time
        from cases.db import make_engine
        from cases.import_lock import import_lock
        with import_lock(make_engine({url!r})):
            print("held", flush=True)
            time.sleep(2)
    """)
    result = CliRunner().invoke(main, ["--db-url", url, "import", "cases", str(data)])
    assert holder.wait(timeout=30) == 0
    assert result.exit_code == 0, result.output
    assert "waiting for another import" in result.output
    assert _counts(url) == (2, 1)


def test_a_store_locked_longer_than_the_busy_timeout_fails_cleanly(tmp_path: Path) -> None:
    url = migrated_sqlite(tmp_path / "t.db")
    data = tmp_path / "cases.csv"
    data.write_text(CSV, encoding="utf-8")
    holder = _holder(
        f"""
        import sqlite3, time
        conn = sqlite3.connect({str(tmp_path / "t.db")!r}, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        print("held", flush=True)
        time.sleep(60)
    """
    )
    engine = make_engine(url)
    sa.event.listen(engine, "connect", lambda dbapi, _rec: dbapi.execute("PRAGMA busy_timeout=300"))
    ctx = ServiceContext(engine=engine, config=load_city_config(), data_dir=tmp_path)
    try:
        with pytest.raises(ServiceError) as caught:
            import_file(ctx, ImportRequest(kind="cases", path=data))
    finally:
        holder.kill()
        holder.wait(timeout=30)
        engine.dispose()
    assert caught.value.code == "store_busy"
    assert str(data) in str(caught.value)
    assert "\n" not in str(caught.value)
    assert _counts(url) == (0, 0)


def test_a_second_import_waits_on_postgresql(pg_engine: sa.engine.Engine, tmp_path: Path) -> None:
    url = pg_engine.url.render_as_string(hide_password=False)
    data = tmp_path / "cases.csv"
    data.write_text(CSV, encoding="utf-8")
    holder = _holder(f"""
        import time
        from cases.db import make_engine
        from cases.import_lock import import_lock
        with import_lock(make_engine({url!r})):
            print("held", flush=True)
            time.sleep(2)
    """)
    waited: list[bool] = []
    ctx = ServiceContext(engine=pg_engine, config=load_city_config(), data_dir=tmp_path)
    request = ImportRequest(kind="cases", path=data, on_wait=lambda: waited.append(True))
    result = import_file(ctx, request)
    assert holder.wait(timeout=30) == 0
    assert waited == [True]
    assert result.report.imported == 2
