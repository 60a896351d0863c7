"""The city configuration and the service context on the 60-day demo city."""

from __future__ import annotations

from pathlib import Path

import pytest

from cases import repository
from grid.config import ConfigError, load_city_config, write_default_config
from services.context import Actor, ServiceContext
from services.errors import NotAllowedError


def test_demo60_has_cases_assignments_and_tracks(ctx60: ServiceContext) -> None:
    cases = repository.cases_frame(ctx60.engine)
    assert len(cases) > 5_000
    assert repository.assignments(ctx60.engine)["cell"].dtype == "int64"
    assert ctx60.tracks_root() is not None


def test_assignments_valid_at_is_half_open(ctx60: ServiceContext) -> None:
    every = repository.assignments(ctx60.engine)
    start = every["valid_from"].min()
    assert len(repository.assignments_valid_at(ctx60.engine, start)) > 0
    assert (
        len(repository.assignments_valid_at(ctx60.engine, start - __import__("pandas").Timedelta("1s"))) == 0
    )


def test_require_refuses_other_roles(ctx60: ServiceContext) -> None:
    inspector = ctx60.as_actor(Actor("i1", "inspector", inspector_id="I001"))
    with pytest.raises(NotAllowedError):
        inspector.require("plan beats", "manager", "admin")
    assert ctx60.require("plan beats", "manager").role == "system"


def test_config_file_environment_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRIDPATROL_TIMEZONE", raising=False)
    path = write_default_config(tmp_path / "gridpatrol.toml")
    assert path is not None
    assert write_default_config(path) is None  # never overwrites a city's edits
    assert load_city_config(path).timezone == "Asia/Shanghai"
    path.write_text(path.read_text().replace('"Asia/Shanghai"', '"Europe/Paris"'))
    assert load_city_config(path).timezone == "Europe/Paris"
    monkeypatch.setenv("GRIDPATROL_PATROL_HOT_SHARE", "0.2")
    monkeypatch.setenv("GRIDPATROL_TIMEZONE", "America/New_York")
    config = load_city_config(path)
    assert (config.timezone, config.patrol.hot_share) == ("America/New_York", 0.2)
    monkeypatch.setenv("GRIDPATROL_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ConfigError, match="Mars/Olympus"):
        load_city_config(path)
    monkeypatch.delenv("GRIDPATROL_TIMEZONE")
    path.write_text("colour = 1\n")
    with pytest.raises(ConfigError, match="unknown key colour"):
        load_city_config(path)
