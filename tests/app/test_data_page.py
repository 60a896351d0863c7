"""The Data page's imports (issue #22): expected columns and a template per kind, "K imported, of which F with
field defects" in words, the uploaded file named, the latest imports in local time."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from cases.areas import import_areas
from cases.importing import import_cases
from grid.config import load_city_config
from services.context import ServiceContext
from services.import_guide import TEMPLATE_KINDS, TemplateRequest, import_template, recent_imports
from tests.app.test_words import _shown, _untranslated


def _ctx(engine: Engine, tmp_path: Path) -> ServiceContext:
    return ServiceContext(engine=engine, config=load_city_config(), data_dir=tmp_path)


def test_the_page_shows_expected_columns_per_kind(login) -> None:
    admin = login("admin")
    admin.switch_page("views/data.py").run()
    assert not admin.exception
    shown = " ".join(m.value for m in admin.markdown)
    assert "必填列" in shown
    assert "`case_id`" in shown
    assert "`reported_at`" in shown
    kind = next(s for s in admin.selectbox if s.label == "导入类型")
    kind.set_value("addresses").run()
    assert not admin.exception
    shown = " ".join(m.value for m in admin.markdown)
    assert "`aliases`" in shown
    kind.set_value("areas").run()
    crs = next(s for s in admin.selectbox if s.label == "坐标系")
    assert "EPSG:4528" in crs.options
    assert not _untranslated(_shown(admin), "zh")
    admin.sidebar.radio[0].set_value("en").run()
    assert not admin.exception
    assert not _untranslated(_shown(admin), "en")


def _outcome(report_path: str, db_url: str) -> None:  # runs as a Streamlit script (AppTest.from_function)
    from app.data_widgets import show_import_outcome
    from cases.db import make_engine
    from cases.importing import import_cases

    report = import_cases(report_path, make_engine(db_url))
    show_import_outcome(report, "城管案件.csv")


def test_outcome_says_imported_of_which_with_field_defects(tmp_path: Path, sqlite_engine: Engine) -> None:
    path = tmp_path / "cases.csv"
    path.write_text(
        "case_id,category,reported_at,closed_at,lat,lon\n"
        "A1,06010,2024-03-05 08:00:00,2024-03-05 07:00:00,32.01,120.86\n"  # closed before reported: a defect
        "A2,06010,2024-03-05 09:00:00,,32.01,120.86\n"
        "A3,06010,someday,,32.01,120.86\n",  # quarantined
        encoding="utf-8",
    )
    at = AppTest.from_function(_outcome, args=(str(path), str(sqlite_engine.url)), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.caption[0].value == "文件：城管案件.csv"
    assert at.info[0].value.startswith("导入 2 行，其中 1 行有字段缺陷")
    quarantine, defects = at.dataframe[0].value, at.dataframe[1].value
    assert quarantine["imp_reason"].tolist() == ["时间无法解析"]
    assert quarantine["imp_file"].tolist() == ["cases.csv"]
    assert defects["imp_reason"].tolist() == ["结案时间早于上报时间"]


def test_every_template_is_importable(tmp_path: Path, sqlite_engine: Engine) -> None:
    ctx = _ctx(sqlite_engine, tmp_path)
    for kind in TEMPLATE_KINDS:
        template = import_template(ctx, TemplateRequest(kind))
        assert template.to_frame()["required"].any(), kind
    cases = import_template(ctx, TemplateRequest("cases"))
    path = tmp_path / cases.file_name
    path.write_bytes(cases.content)
    assert set(cases.to_frame().query("required")["column"]) == {"case_id", "reported_at", "category_code"}
    report = import_cases(path, sqlite_engine)
    assert (report.imported, report.quarantined) == (1, 0)
    areas = import_template(ctx, TemplateRequest("unit_grids"))
    path = tmp_path / areas.file_name
    path.write_bytes(areas.content)
    assert import_areas(path, sqlite_engine, level="unit_grid").imported == 1
    recent = recent_imports(ctx).to_frame()
    assert recent["kind"].tolist() == ["areas", "cases"]
    assert isinstance(recent["finished_at"].dtype, pd.DatetimeTZDtype)
