"""The plausibility window as a mapping option and ``--time-window`` (issue #25)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from app.cli import main
from cases.importing import import_cases
from cases.mapping import MappingError, load_mapping
from cases.time_window import WindowError, parse_window, resolve_window
from tests.conftest import migrated_sqlite

HEADER = "case_id,reported_at,category_code\n"
ROWS = "OLD,2005-06-01 08:00,road\nNEW,2029-06-01 08:00,road\nNOW,2025-06-01 08:00,road\n"


def _ids(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {r[0] for r in conn.execute(sa.text("SELECT case_id FROM cases"))}


def test_parse_and_resolve() -> None:
    assert parse_window(["2000-01-01", "+1d"]) == ("2000-01-01", "+1d")
    assert parse_window("2010-01-01, now") == ("2010-01-01", "now")
    assert parse_window(None) is None
    low, high = resolve_window(("2000-01-01", "+1d"), now="2026-12-07T12:00")
    assert (str(low), str(high)) == ("2000-01-01T00:00:00.000000", "2026-12-08T12:00:00.000000")
    low, _ = resolve_window(("-12h", "now"), now="2026-12-07T12:00+08:00")
    assert low == np.datetime64("2026-12-06T16:00:00", "us")
    for bad in (["2000-01-01"], ["soon", "+1d"], ["2030-01-01", "2020-01-01"], "x", [1, 2]):
        with pytest.raises(WindowError):
            parse_window(bad)


def _mapping(tmp_path: Path, window: str) -> Path:
    path = tmp_path / "m.toml"
    path.write_text(f'[options]\ntimezone = "UTC"\ntime_window = {window}\n', encoding="utf-8")
    return path


def test_the_mapping_option_sets_the_window(tmp_path: Path, sqlite_engine: Engine) -> None:
    data = tmp_path / "cases.csv"
    data.write_text(HEADER + ROWS, encoding="utf-8")
    mapping = load_mapping(_mapping(tmp_path, '["2010-01-01", "2030-01-01"]'))
    assert mapping.time_window == ("2010-01-01", "2030-01-01")
    report = import_cases(data, sqlite_engine, mapping=mapping)
    assert (report.read, report.imported, report.quarantined) == (3, 2, 1)
    assert report.quarantine["reason"].tolist() == ["implausible_time"]
    assert _ids(sqlite_engine) == {"NEW", "NOW"}  # 2029 inside this window, 2005 outside
    with pytest.raises(MappingError, match="time_window"):
        load_mapping(_mapping(tmp_path, '["2010-01-01"]'))


def test_the_command_option_wins(tmp_path: Path) -> None:
    data = tmp_path / "cases.csv"
    data.write_text(HEADER + ROWS, encoding="utf-8")
    url = migrated_sqlite(tmp_path / "t.db")
    args = ["--db-url", url, "import", "cases", str(data), "--time-window", "2020-01-01,2030-01-01"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    engine = sa.create_engine(url)
    assert _ids(engine) == {"NEW", "NOW"}
    engine.dispose()
    bad = CliRunner().invoke(main, ["--db-url", url, "import", "cases", str(data), "--time-window", "soon"])
    assert bad.exit_code == 2
    assert "--time-window" in bad.output
    assert "Traceback" not in bad.output
