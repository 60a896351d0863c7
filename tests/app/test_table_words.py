"""Tables in words (issue 19): categories by name in the page's language, no "None", "nan", "NaT" or
"Infinity" for a missing value, dated charts without English month names in Chinese mode."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from app.charts import time_bars
from app.i18n import speaking
from app.tables import MISSING, category_words, displayable
from services.study import DisplayNames, category_table


def _names() -> DisplayNames:
    table = category_table()
    return DisplayNames(
        {}, {}, dict(zip(table["code"], table["name_zh"], strict=True)),
        dict(zip(table["code"], table["name_en"], strict=True)),
    )  # fmt: skip


def test_categories_are_named_in_the_page_language() -> None:
    known = _names()
    with speaking("en"):
        words = category_words(known)
        assert words("06010") == "Exposed rubbish"
        assert words("暴露垃圾") == "Exposed rubbish"  # a name the service already looked up
        assert words("no-such-code") == "no-such-code"
    with speaking("zh"):
        words = category_words(known)
        assert words("06010") == "暴露垃圾"
        assert words("暴露垃圾") == "暴露垃圾"


def test_missing_values_are_missing_not_words() -> None:
    clean = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", None]})
    assert displayable(clean) is clean
    frame = pd.DataFrame(
        {
            "days": [1.0, np.inf, -np.inf],
            "text": ["nan", "ok", "NaT"],
            "n": [1, 2, 3],
            "who": ["None", "a", "b"],
        }
    )
    shown = displayable(frame)
    assert shown["days"].isna().tolist() == [False, True, True]
    assert shown["text"].isna().tolist() == [True, False, True]
    assert shown["who"].isna().tolist() == [True, False, False]
    assert frame["days"].isin([np.inf]).any()  # the data themselves are not changed
    coded = pd.DataFrame({"status": pd.Categorical(["open", "nan"]), "gi_class": pd.Categorical(["a", "b"])})
    shown = displayable(coded)
    assert isinstance(shown["status"].dtype, pd.CategoricalDtype)
    assert shown["status"].isna().tolist() == [False, True]
    assert MISSING == "–"


def test_dated_charts_speak_the_page_language() -> None:
    days = pd.DataFrame(
        {"day": pd.date_range("2025-12-28", periods=6, tz="Asia/Shanghai"), "count": range(6)}
    )
    with speaking("zh"):
        spec = json.dumps(
            time_bars(days, "day", "count", x_title="日期", y_title="案件数").to_dict(), ensure_ascii=False
        )
    assert "%-m月%-d日" in spec
    assert "%b" not in spec
    with speaking("en"):
        spec = json.dumps(
            time_bars(days, "day", "count", x_title="Date", y_title="Cases").to_dict(), ensure_ascii=False
        )
    assert "%b %-d" in spec


def test_english_mode_shows_english_category_names(city, login) -> None:
    at = login("planner")
    at.sidebar.radio[0].set_value("en").run()
    at.switch_page("views/forecast.py").run()  # the picked cell's cases: category code and name
    assert not at.exception
    shown = []
    for frame in at.dataframe:
        config = json.loads(frame.proto.columns or "{}")
        for name in ("category", "category_code", "category_name"):
            options = ((config.get(name) or {}).get("type_config") or {}).get("options") or []
            shown += [str(o.get("label", o.get("value"))) for o in options if isinstance(o, dict)]
    assert shown, "the forecast page's cell history shows no category"
    assert not [s for s in shown if any("\u4e00" <= ch <= "\u9fff" for ch in s)], shown
