"""The intake page on the 60-day demo city: an operator finds an address, sees the preview, registers the
call, then merges a second call into it; other roles cannot open the page (and the service refuses them,
see tests/services/test_intake.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from cases.db import make_engine
from cases.models import Address, Case, CaseMerge
from cases.users import create_user
from grid.config import load_city_config
from services.context import ServiceContext
from tests.conftest import use_data_copy

APP = str(Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py")
PASSWORD = "demo-password-1"


@pytest.fixture
def intake_city(
    _demo60_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ServiceContext]:
    """A copy of the 60-day city with an operator and a dispatcher."""
    folder = use_data_copy(_demo60_dir, tmp_path / "data", monkeypatch)
    engine = make_engine(f"sqlite:///{(folder / 'gridpatrol.db').as_posix()}")
    create_user(engine, "operator1", "operator", password=PASSWORD)
    create_user(engine, "dispatcher1", "dispatcher", password=PASSWORD)
    yield ServiceContext(engine=engine, config=load_city_config(), data_dir=folder)
    engine.dispose()


def _login(username: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.text_input[0].input(username)
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    return at.run()


def _fill(at: AppTest, form: int, address: str) -> AppTest:
    at.text_input(key=f"ix_address_{form}").input(address).run()
    at.text_input(key=f"ix_cat_search_{form}").input("暴露垃圾").run()
    at.selectbox(key=f"ix_category_{form}").set_value("06010").run()
    at.text_area(key=f"ix_description_{form}").input("垃圾桶旁有暴露垃圾 <b>x</b>").run()
    at.text_input(key=f"ix_phone_{form}").input("13800001234").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _count(ctx: ServiceContext, table: sa.Table) -> int:
    with ctx.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_operator_registers_a_call_then_merges_the_next(intake_city: ServiceContext) -> None:
    a = Address.__table__.c
    with intake_city.engine.connect() as conn:
        address = conn.execute(sa.select(a.address).where(a.kind == "address").limit(1)).scalar_one()
    at = _login("operator1")
    at.switch_page("views/intake.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.info  # the form asks for location, category and description first
    _fill(at, 0, address)
    labels = [m.label for m in at.metric]
    assert "建议处置部门" in labels
    assert "处置时限（若现在派遣）" in labels
    cases = _count(intake_city, Case.__table__)
    at.button(key="ix_save_0").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.success, [e.value for e in at.error]
    assert _count(intake_city, Case.__table__) == cases + 1
    with intake_city.engine.connect() as conn:
        case_id = conn.execute(
            sa.select(sa.func.max(Case.__table__.c.case_id)).where(Case.__table__.c.case_id.like("RX%"))
        ).scalar_one()
    assert case_id in at.success[0].value
    # the same call again: the new case is offered as a duplicate and the call is merged into it
    _fill(at, 1, address)
    duplicates = [d.value for d in at.dataframe if "ix_col_case" in d.value.columns]
    assert duplicates
    assert case_id in set(duplicates[0]["ix_col_case"])
    at.selectbox(key="ix_merge_target_1").set_value(case_id).run()
    at.button(key="ix_merge_1").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.success, [e.value for e in at.error]
    assert _count(intake_city, Case.__table__) == cases + 1
    assert _count(intake_city, CaseMerge.__table__) == 1


def test_a_bad_phone_is_refused_on_the_page(intake_city: ServiceContext) -> None:
    a = Address.__table__.c
    with intake_city.engine.connect() as conn:
        address = conn.execute(sa.select(a.address).limit(1)).scalar_one()
    at = _login("operator1")
    at.switch_page("views/intake.py").run()
    at.text_input(key="ix_address_0").input(address).run()
    at.text_area(key="ix_description_0").input("x").run()
    at.text_input(key="ix_phone_0").input("call me maybe").run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == ["电话号码格式不正确。"]


@pytest.mark.parametrize("username", ["dispatcher1", "planner1", "inspector1"])
def test_other_roles_cannot_open_the_page(intake_city: ServiceContext, username: str) -> None:
    at = _login(username)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/intake.py")


def _words_checks():
    import importlib.util

    spec = importlib.util.spec_from_file_location("intake_words", Path(__file__).with_name("test_words.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._shown, module._untranslated


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_speaks_words_not_codes(intake_city: ServiceContext, lang: str) -> None:
    shown, untranslated = _words_checks()
    a = Address.__table__.c
    with intake_city.engine.connect() as conn:
        address = conn.execute(sa.select(a.address).where(a.kind == "address").limit(1)).scalar_one()
    at = _login("operator1")
    at.sidebar.radio[0].set_value(lang).run()
    at.switch_page("views/intake.py").run()
    _fill(at, 0, address)
    at.button(key="ix_save_0").click().run()
    _fill(at, 1, address)  # the preview now lists the first call as a duplicate
    assert not untranslated(shown(at), lang)


def test_typed_gcj02_coordinates_give_a_preview(intake_city: ServiceContext) -> None:
    from grid.coords import wgs84_to_gcj02

    a = Address.__table__.c
    with intake_city.engine.connect() as conn:
        lat, lon = conn.execute(sa.select(a.lat, a.lon).limit(1)).one()
    g_lat, g_lon = wgs84_to_gcj02(lat, lon)
    at = _login("operator1")
    at.switch_page("views/intake.py").run()
    at.radio(key="ix_mode_0").set_value("coords").run()
    at.radio(key="ix_crs_0").set_value("gcj02").run()
    at.number_input(key="ix_lat_0").set_value(round(float(g_lat), 6)).run()
    at.number_input(key="ix_lon_0").set_value(round(float(g_lon), 6)).run()
    at.text_area(key="ix_description_0").input("井盖缺失").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert "建议处置部门" in [m.label for m in at.metric]


def test_the_map_mode_asks_for_a_click(intake_city: ServiceContext) -> None:
    at = _login("operator1")
    at.switch_page("views/intake.py").run()
    at.radio(key="ix_mode_0").set_value("map").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "在地图上点击问题所在位置。" in [c.value for c in at.caption]


def test_an_empty_store_gives_plain_messages(login) -> None:
    """No areas, no address table, no departments: the admin's intake page says so, no traceback."""
    at = login("admin")
    at.switch_page("views/intake.py").run()
    assert not at.exception, [e.value for e in at.exception]
    at.text_input(key="ix_address_0").input("人民路12号").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.warning
    at.radio(key="ix_mode_0").set_value("coords").run()
    at.number_input(key="ix_lat_0").set_value(32.01).run()
    at.number_input(key="ix_lon_0").set_value(120.86).run()
    at.text_area(key="ix_description_0").input("x").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    at.button(key="ix_save_0").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.success, [e.value for e in at.error]
