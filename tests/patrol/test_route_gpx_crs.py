"""The route's GPX in WGS-84 or GCJ-02 (``gridpatrol route --gpx-crs``): Chinese map apps read GCJ-02, which
in China is hundreds of metres off WGS-84; shifted back with :mod:`grid.coords` it lands within 1 m."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio
import pytest
from click.testing import CliRunner

from grid.coords import gcj02_to_wgs84
from sim.config import DemoConfig
from sim.run import simulate

CITY = DemoConfig(
    days=14, n_inspectors=4, cases_per_day=40.0, area_km2=4.0, n_subdistricts=2, n_communities=4
)
DATE = "2025-01-15"  # the day after the simulated period


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gpx_city")
    simulate(CITY, out)
    return out


def _metres(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Haversine distance, metres."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * np.arcsin(np.sqrt(a))


def _route(city: Path, out: Path, *extra: str) -> Path:
    from app.cli import main

    args = ["route", "--inspector", "NT0001", "--date", DATE, "--budget", "1h", "--city", str(city)]
    result = CliRunner().invoke(main, [*args, "--time-limit", "0.2", "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return out


def test_gcj02_gpx_is_shifted_and_round_trips(city: Path, tmp_path: Path) -> None:
    wgs = _route(city, tmp_path / "wgs.gpx")  # the default
    gcj = _route(city, tmp_path / "gcj.gpx", "--gpx-crs", "gcj02")
    assert "GCJ02" in gcj.read_text(encoding="utf-8")  # the metadata says which coordinates
    for layer in ("waypoints", "route_points", "track_points"):
        a = pyogrio.read_dataframe(wgs, layer=layer)
        b = pyogrio.read_dataframe(gcj, layer=layer)
        assert len(a) == len(b) > 0
        offset = _metres(a.geometry.y, a.geometry.x, b.geometry.y, b.geometry.x)
        assert (offset > 100).all()  # the known GCJ-02 offset (~500 m in Nantong)
        assert (offset < 1000).all()
        lat, lon = gcj02_to_wgs84(b.geometry.y.to_numpy(), b.geometry.x.to_numpy())
        assert _metres(a.geometry.y, a.geometry.x, lat, lon).max() < 1.0


def test_unknown_gpx_crs_is_refused(city: Path, tmp_path: Path) -> None:
    from app.cli import main

    args = [
        "route",
        "--inspector",
        "NT0001",
        "--date",
        DATE,
        "--city",
        str(city),
        "--out",
        str(tmp_path / "r.gpx"),
    ]
    result = CliRunner().invoke(main, [*args, "--gpx-crs", "bd09"])
    assert result.exit_code == 2


def test_route_map_numbers_the_stops_and_has_a_legend(city: Path, tmp_path: Path) -> None:
    page = _route(city, tmp_path / "route.html", "--tiles", "none").read_text(encoding="utf-8")
    gpx = _route(city, tmp_path / "route.gpx").read_text(encoding="utf-8")
    n_stops = gpx.count("<wpt ")
    assert n_stops > 0
    assert page.count('"className": "gp-stop-icon"') == n_stops  # one numbered marker per stop
    assert "gp-legend" in page
    assert "OpenStreetMap" not in page  # tiles none: no tile credit
