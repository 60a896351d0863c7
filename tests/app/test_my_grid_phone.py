"""The inspector's phone-first page (views/my_grid.py): tasks first with a countdown, KPI tiles and the map
below; a report with a photo, a duplicate warning nearby, an empty description and a repeat refused; a
check with a photo (all through :mod:`services.field` / :mod:`services.photos`)."""

from __future__ import annotations

import io

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.models import Case, CasePhoto

INSIDE = (32.0101, 120.8601)  # inside I001's beat (tests/app/planted.py)
BAD_WORDS = ("nan", "NaT", "None")


def _png(colour: str = "red") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (20, 10), colour).save(out, "PNG")
    return out.getvalue()


def _open(login):
    at = login("inspector")
    at.switch_page("views/my_grid.py").run()
    assert not at.exception
    return at


def _texts(at) -> list[str]:
    return [e.value for e in (*at.markdown, *at.text, *at.caption)]


def _count(engine: Engine, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(Case).where(*where)).scalar_one()


def _place(at, description: str) -> None:
    at.number_input(key="report_lat").set_value(INSIDE[0])
    at.number_input(key="report_lon").set_value(INSIDE[1])
    at.text_area(key="report_description").input(description)


def test_tasks_come_first_with_a_countdown_and_no_missing_value_words(city, login) -> None:
    at = _open(login)
    heads = [h.value for h in at.subheader]
    assert heads[0] == "我的任务（2）"
    assert heads[1:] == ["地图", "上报问题"]  # the KPI tiles and the map come after the tasks
    cards = [m.value for m in at.markdown if m.value.startswith("**")]
    assert len(cards) == 2
    assert all(any(w in c for w in ("剩余", "已超时", "无处置时限")) for c in cards)
    assert {b.label for b in at.button if b.key and b.key.startswith("fp_open_")} <= {
        "处理此任务",
        "当前任务",
    }
    for text in _texts(at):
        assert not any(f": {w}" in text or text.strip() == w for w in BAD_WORDS), text
    assert "<img" in " ".join(t.value for t in at.text)  # the citizen's text, shown as text
    assert [m.label for m in at.metric][:2] == ["待核实", "待核查"]


def test_a_card_button_makes_its_case_current(city, login) -> None:
    at = _open(login)
    other = next(b for b in at.button if b.key and b.key.startswith("fp_open_") and not b.disabled)
    other.click().run()
    assert not at.exception
    chosen = at.selectbox(key="fp_case").value
    assert other.key == f"fp_open_{chosen}"


def test_report_with_a_photo_then_a_duplicate_warning_and_a_refused_repeat(
    city, login, app_db: Engine
) -> None:
    at = _open(login)
    _place(at, "井盖缺失")
    at.file_uploader(key="fp_report_photo").set_value(("well.png", _png(), "image/png"))
    at.button(key="report_submit").click().run()
    assert not at.exception
    assert "已上报" in at.success[0].value
    with app_db.connect() as conn:
        case_id = conn.execute(sa.select(Case.case_id).where(Case.description == "井盖缺失")).scalar_one()
        photos = conn.execute(sa.select(CasePhoto).where(CasePhoto.case_id == case_id)).all()
    assert len(photos) == 1
    # the same place and category again: the form warns before anything is filed …
    at = _open(login)
    _place(at, "井盖缺失")
    at.run()
    warnings = " ".join(w.value for w in at.warning)
    assert "附近已有 1 件同类案件" in warnings
    assert case_id in " ".join(t.value for t in at.text)
    # … and the same words are refused, naming the first report
    at.button(key="report_submit").click().run()
    assert f"案件 {case_id} 已在此处以相同描述上报过" in at.error[0].value
    with app_db.connect() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).where(Case.description == "井盖缺失")).scalar_one() == 1
        )


def test_an_empty_description_is_refused(city, login, app_db: Engine) -> None:
    at = _open(login)
    before = _count(app_db)
    _place(at, "   ")
    at.button(key="report_submit").click().run()
    assert not at.exception
    assert at.error[0].value == "请填写问题描述。"
    assert _count(app_db) == before


def test_a_verification_with_a_photo_stores_it_with_the_event(city, login, app_db: Engine) -> None:
    at = login("inspector")
    at.switch_page("views/my_grid.py")
    at.query_params["case"] = city["mine_verify"]
    at.run()
    at.file_uploader[0].set_value(("site.png", _png("green"), "image/png"))
    next(b for b in at.button if b.label == "提交").click().run()
    assert not at.exception
    assert "已记录" in at.success[0].value
    with app_db.connect() as conn:
        rows = conn.execute(sa.select(CasePhoto).where(CasePhoto.case_id == city["mine_verify"])).all()
    assert len(rows) == 1
    assert rows[0].event_id is not None
    # a file that is not an image is refused and nothing is recorded
    at.query_params["case"] = city["mine_check"]
    at.run()
    at.file_uploader[0].set_value(("x.png", b"not an image", "image/png"))
    next(b for b in at.button if b.label == "提交").click().run()
    assert "不是可读取的" in at.error[0].value


def test_the_page_speaks_english_too(city, login) -> None:
    at = login("inspector")
    at.sidebar.radio[0].set_value("en").run()
    at.switch_page("views/my_grid.py").run()
    assert not at.exception
    assert [h.value for h in at.subheader] == ["My tasks (2)", "Map", "Report a problem"]
    cards = [m.value for m in at.markdown if m.value.startswith("**")]
    assert all(any(w in c for w in ("left", "Overdue by", "No deadline")) for c in cards)
    assert not [c for c in cards if any("\u4e00" <= ch <= "\u9fff" for ch in c.split("**")[1])]
