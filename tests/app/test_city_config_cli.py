"""The city configuration at the front-ends: ``gridpatrol init`` writes it once, the maps read its tiles."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from app.maps import default_tiles
from grid.config import CityConfig, load_city_config


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("GRIDPATROL_DATA_DIR", str(folder))
    for name in ("GRIDPATROL_DB_URL", "GRIDPATROL_CONFIG", "GRIDPATROL_TIMEZONE", "GRIDPATROL_TILES"):
        monkeypatch.delenv(name, raising=False)
    return folder


def test_init_writes_the_configuration_once_and_keeps_edits(data_dir: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["init"])
    assert first.exit_code == 0, first.output
    file = data_dir / "gridpatrol.toml"
    assert f"configuration {file} written" in first.output
    assert (data_dir / "gridpatrol.db").is_file()
    loaded = load_city_config(file)
    assert loaded.replace(source="") == CityConfig()
    assert loaded.source == str(file)

    edited = file.read_text(encoding="utf-8").replace(
        f'timezone = "{CityConfig().timezone}"', 'timezone = "Europe/Berlin"'
    )
    assert 'timezone = "Europe/Berlin"' in edited
    file.write_text(edited, encoding="utf-8")
    second = runner.invoke(main, ["init"])
    assert second.exit_code == 0, second.output
    assert f"configuration {file} kept" in second.output
    assert file.read_text(encoding="utf-8") == edited
    assert load_city_config(file).timezone == "Europe/Berlin"


def test_init_refuses_a_broken_configuration(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "gridpatrol.toml").write_text('timezone = "Mars/Olympus"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["init"])
    assert result.exit_code != 0
    assert "Mars/Olympus" in result.output
    assert "kept" in result.output


def test_default_tiles_from_the_configuration(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_tiles() == "osm"
    data_dir.mkdir(parents=True, exist_ok=True)
    file = data_dir / "gridpatrol.toml"
    file.write_text('tiles = "gaode"\n', encoding="utf-8")
    assert default_tiles() == "gaode"
    monkeypatch.setenv("GRIDPATROL_TILES", "none")  # the environment wins over the file
    assert default_tiles() == "none"
    monkeypatch.setenv("GRIDPATROL_TILES", "bing")
    with pytest.raises(ValueError, match="bing"):
        default_tiles()
