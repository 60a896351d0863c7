"""cases.addresses: normalisation known answers, the address import (quarantine, idempotency, CRS) and the
address lookup service."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from app.cli import main
from cases.addresses import chinese_number, import_addresses, normalize_address
from cases.mapping import Mapping
from cases.models import Address, QuarantineRow
from grid.config import load_city_config
from grid.coords import wgs84_to_gcj02
from services.addresses import AddressImportRequest, AddressQuery, lookup_address
from services.addresses import import_addresses as import_service
from services.context import Actor, ServiceContext
from services.errors import NotAllowedError, ServiceError

#: The district: lon 120.84–120.90, lat 32.00–32.04 (WGS-84).
BOX = [[120.84, 32.00], [120.90, 32.00], [120.90, 32.04], [120.84, 32.04], [120.84, 32.00]]
TABLE = (
    "name,address,lat,lon\n"
    ",人民路12号,32.0100,120.8600\n"
    ",人民路120号,32.0110,120.8610\n"
    "南通中学,青年路5号,32.0200,120.8700\n"
    ",工农路3幢,32.0300,120.8800\n"
    ",,32.0100,120.8600\n"  # line 6: no address
    ",城山路1号,north,120.86\n"  # line 7: lat not a number
    ",城山路2号,32.01,\n"  # line 8: no lon
    ",城山路3号,95.0,120.86\n"  # line 9: out of range
    ",城山路4号,31.5,120.86\n"  # line 10: outside the district
    ",人民路１２号,32.0100,120.8600\n"  # line 11: the same address as line 2, full-width digits
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("人民路十二号", "人民路12号"),
        ("人民路１２号", "人民路12号"),
        ("人 民 路 12 号", "人民路12号"),
        ("人民路12號", "人民路12号"),
        ("工农路5号楼", "工农路5幢"),
        ("工农路五栋", "工农路5幢"),
        ("工农路5#楼", "工农路5幢"),
        ("濠河路二十三号", "濠河路23号"),
        ("青年路一百零五弄", "青年路105弄"),
        ("南大街12#", "南大街12号"),
        ("十里铺路", "十里铺路"),  # a numeral that is part of a name stays
        ("Main Street, 12", "mainst12"),
        ("  ＡＢＣ大厦（北门）", "abc大厦北门"),
        (None, ""),
    ],
)
def test_normalize_address_known_answers(text: str | None, expected: str) -> None:
    assert normalize_address(text) == expected


def test_chinese_numbers() -> None:
    assert [chinese_number(t) for t in ("十", "十二", "二十", "二十三", "一百零五", "两百", "一二三")] == [
        10,
        12,
        20,
        23,
        105,
        200,
        123,
    ]


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ServiceContext:
    """A migrated SQLite store with one district (the box)."""
    from cases.db import init_db, make_engine
    from services.imports import ImportRequest, import_file

    folder = tmp_path / "data"
    folder.mkdir()
    url = f"sqlite:///{folder / 'gridpatrol.db'}"
    monkeypatch.setenv("GRIDPATROL_DATA_DIR", str(folder))
    monkeypatch.setenv("GRIDPATROL_DB_URL", url)
    engine = make_engine(url)
    init_db(engine)
    context = ServiceContext(engine=engine, config=load_city_config(), data_dir=folder)
    area = tmp_path / "district.geojson"
    feature = {"type": "Feature", "properties": {"id": "320602", "name": "崇川区"},
               "geometry": {"type": "Polygon", "coordinates": [BOX]}}  # fmt: skip
    area.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    import_file(context, ImportRequest(kind="areas", path=area, level="district", write_quarantine=False))
    return context


def _table(tmp_path: Path, text: str = TABLE) -> Path:
    path = tmp_path / "addresses.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_import_quarantines_with_line_and_field_and_is_idempotent(
    tmp_path: Path, ctx: ServiceContext
) -> None:
    engine: Engine = ctx.engine
    path = _table(tmp_path)
    report = import_addresses(path, engine)
    assert (report.read, report.imported, report.duplicates, report.quarantined) == (10, 4, 1, 5)
    assert report.quarantine[["line", "field", "reason"]].values.tolist() == [
        [6, "address", "missing_field"],
        [7, "lat", "unparseable_number"],
        [8, "lon", "missing_field"],
        [9, "lat", "coordinate_out_of_range"],
        [10, "lat", "outside_city_area"],
    ]
    with engine.connect() as conn:
        stored = conn.execute(sa.select(Address.__table__.c.normalized, Address.__table__.c.kind)).all()
        assert sorted(stored) == sorted(
            [
                ("人民路12号", "address"),
                ("人民路120号", "address"),
                ("青年路5号", "poi"),
                ("工农路3幢", "address"),
            ]
        )
        quarantined = conn.execute(sa.select(sa.func.count()).select_from(QuarantineRow.__table__)).scalar()
        assert quarantined == 5
    again = import_addresses(path, engine)
    assert (again.imported, again.duplicates, again.quarantined) == (0, 5, 5)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Address.__table__)).scalar() == 4


def test_gcj02_table_is_stored_in_wgs84(tmp_path: Path, ctx: ServiceContext) -> None:
    g_lat, g_lon = wgs84_to_gcj02(32.01, 120.86)
    path = _table(tmp_path, f"address,lat,lon\n人民路12号,{float(g_lat):.8f},{float(g_lon):.8f}\n")
    report = import_addresses(path, ctx.engine, mapping=Mapping(crs="gcj02"))
    assert report.imported == 1
    with ctx.engine.connect() as conn:
        lat, lon, crs = conn.execute(
            sa.select(Address.__table__.c.lat, Address.__table__.c.lon, Address.__table__.c.source_crs)
        ).one()
    assert abs(lat - 32.01) < 1e-6
    assert abs(lon - 120.86) < 1e-6
    assert crs == "gcj02"


def test_lookup_ranks_exact_then_contains_then_similar(tmp_path: Path, ctx: ServiceContext) -> None:
    import_addresses(_table(tmp_path), ctx.engine)
    found = lookup_address(ctx, AddressQuery("人民路十二号")).to_frame()
    assert found["address"].iloc[0] == "人民路12号"
    assert found["match"].iloc[0] == "exact"
    assert found["district_name"].iloc[0] == "崇川区"
    assert found["address"].tolist()[:2] == ["人民路12号", "人民路120号"]
    by_name = lookup_address(ctx, AddressQuery("南通中学")).to_frame()
    assert by_name[["name", "match"]].iloc[0].tolist() == ["南通中学", "exact"]
    prefixed = lookup_address(ctx, AddressQuery("江苏省南通市崇川区工农路3幢")).to_frame()
    assert prefixed["address"].iloc[0] == "工农路3幢"
    typo = lookup_address(ctx, AddressQuery("青年路五号楼")).to_frame()
    assert typo["address"].iloc[0] == "青年路5号"
    assert typo["match"].iloc[0] == "similar"
    assert lookup_address(ctx, AddressQuery("完全无关的地方")).to_frame().empty
    with pytest.raises(ServiceError) as err:
        lookup_address(ctx, AddressQuery("  "))
    assert err.value.code == "bad_request"


def test_roles(tmp_path: Path, ctx: ServiceContext) -> None:
    path = _table(tmp_path)
    with pytest.raises(NotAllowedError):
        import_service(ctx.as_actor(Actor("op", "operator")), AddressImportRequest(path))
    result = import_service(ctx.as_actor(Actor("root", "admin")), AddressImportRequest(path))
    assert result.report.imported == 4
    assert result.quarantine_file is not None
    assert result.quarantine_file.exists()
    with pytest.raises(NotAllowedError):
        lookup_address(ctx.as_actor(Actor("p", "planner")), AddressQuery("人民路"))
    assert not lookup_address(ctx.as_actor(Actor("op", "operator")), AddressQuery("人民路")).to_frame().empty


def test_cli_import_addresses(tmp_path: Path, ctx: ServiceContext) -> None:
    result = CliRunner().invoke(main, ["import", "addresses", str(_table(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "imported 4" in result.output
    assert "quarantined 5" in result.output


def _numeral(n: int) -> str:
    digits = "零一二三四五六七八九"
    tens, ones = divmod(n, 10)
    return ("" if tens == 0 else ("十" if tens == 1 else digits[tens] + "十")) + (
        digits[ones] if ones else ""
    )


def test_100_addresses_in_5_styles_are_located(tmp_path: Path, ctx: ServiceContext) -> None:
    """Issue #22: a city table and 100 addresses written in 5 styles, ≥ 95 % placed on the right point."""
    streets = ["人民路", "青年路", "工农路", "濠河路", "城山路"]
    rows = [
        (f"{s}{n}号", 32.001 + k * 0.007 + n * 0.0003, 120.841 + n * 0.002)
        for k, s in enumerate(streets)
        for n in range(1, 21)
    ]
    text = "address,lat,lon\n" + "".join(f"{a},{lat:.6f},{lon:.6f}\n" for a, lat, lon in rows)
    assert import_addresses(_table(tmp_path, text), ctx.engine).imported == 100
    styles = [
        lambda s, n: f"{s}{n}号",
        lambda s, n: f"{s}{str(n).translate(str.maketrans('0123456789', '０１２３４５６７８９'))}号",
        lambda s, n: f"{s}{_numeral(n)}号",
        lambda s, n: f"江苏省南通市崇川区{s}{n}号",
        lambda s, n: f"{s} {n} 号（北门）",
    ]
    right = 0
    for i, (_address, lat, lon) in enumerate(rows):
        street, number = streets[i // 20], i % 20 + 1
        best = lookup_address(ctx, AddressQuery(styles[i % 5](street, number))).located
        right += best is not None and (best["lat"], best["lon"]) == (round(lat, 6), round(lon, 6))
    assert right >= 95
