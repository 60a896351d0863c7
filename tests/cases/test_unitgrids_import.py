"""Official unit grids import as the finest area level; malformed codes are quarantined."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.cli import main
from cases.areas import load_areas
from cases.models import Area
from tests.conftest import migrated_sqlite


def _square(lon: float, lat: float, d: float = 0.001) -> dict:
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def _write(path: Path, codes: list[object]) -> Path:
    features = [
        {
            "type": "Feature",
            "properties": {"code": code, "name": f"网格{i}"},
            "geometry": _square(120.86 + i * 0.001, 32.0),
        }
        for i, code in enumerate(codes)
    ]
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), "utf-8"
    )
    return path


def test_unit_grids_import_with_code_checks(tmp_path: Path) -> None:
    url = migrated_sqlite(tmp_path / "u.db")
    good15, good14 = "320613001002003", "32061300100204"
    src = _write(tmp_path / "ug.geojson", [good15, good14, "3206130010020", "320613000002001", good15])
    runner = CliRunner()
    result = runner.invoke(
        main, ["--db-url", url, "import", "unitgrids", str(src), "--quarantine-out", str(tmp_path / "q.csv")]
    )
    assert result.exit_code == 0, result.output
    assert "read 5, imported 2, duplicates 1, quarantined 2" in result.output
    from cases.db import make_engine

    stored = load_areas(make_engine(url), level="unit_grid")
    assert sorted(stored["area_id"]) == sorted([good14, good15])
    assert stored["parent_id"].tolist() == ["320613001002", "320613001002"]  # community from the code
    assert (stored["area_m2"] > 9_000).all()
    quarantine = (tmp_path / "q.csv").read_text(encoding="utf-8-sig")
    assert quarantine.count("invalid_unit_grid_code") == 2
    assert "bad_format" in quarantine
    assert "zero_part" in quarantine
    again = runner.invoke(main, ["--db-url", url, "import", "unitgrids", str(src)])
    assert "imported 0" in again.output


def test_area_level_constraint_admits_unit_grids_only_as_a_known_level(store_engine: Engine) -> None:
    import pytest

    with Session(store_engine) as session:
        session.add(
            Area(area_id="A1", level="unit_grid", name="g", geometry_wkb=b"", area_m2=1.0, source_crs="wgs84")
        )
        session.commit()
        session.add(
            Area(area_id="A2", level="block", name="g", geometry_wkb=b"", area_m2=1.0, source_crs="wgs84")
        )
        with pytest.raises(sa.exc.IntegrityError):
            session.commit()
