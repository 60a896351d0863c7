"""cases.categories: the shipped standard category table and a city's own table."""

from __future__ import annotations

from pathlib import Path

import pytest

from cases.categories import CATEGORY_COLUMNS, load_categories
from cases.importing import ImportReadError

GB47678 = "GB/T 47678.5-2026"
GB30428 = "GB/T 30428.2-2013"


def test_shipped_table_holds_the_standard_codes() -> None:
    table = load_categories()
    assert tuple(table.columns) == CATEGORY_COLUMNS
    assert table["code"].is_unique
    new = table[table["standard"] == GB47678]
    events = new[new["kind"] == "event"]
    # DOMAIN.md §2.3: classes 06–10 as transcribed, with the standard's numbering gaps (06031, 07005, 09007)
    assert events.groupby("class_code").size().to_dict() == {"06": 51, "07": 7, "08": 16, "09": 21, "10": 2}
    assert "06031" not in set(events["code"])
    assert "09007" not in set(events["code"])
    names = dict(zip(table["code"], table["name_zh"], strict=True))
    assert (names["06010"], names["06011"], names["07001"], names["09006"]) == (
        "暴露垃圾", "积存垃圾渣土", "非法小广告", "占道经营"
    )  # fmt: skip
    assert set(events["class_name_zh"]) == {"市容环境", "宣传广告", "施工管理", "街面秩序", "其他事项"}
    manholes = new[new["code"].str.match(r"^010(0\d|1\d|2[0-3])$")]
    assert len(manholes) == 21
    assert set(manholes["kind"]) == {"component"}
    assert names["01002"] == "污水井盖异常"
    old = table[table["standard"] == GB30428]
    expected = {"0101", "0110", "0111", "0112", "0136", "0107", "0117", "0201", "0203", "0311",
                "0401", "0405", "0406", "0409", "0410", "0102"}  # fmt: skip
    assert set(old["code"]) == expected
    assert old.set_index("code").loc["0102", "kind"] == "component"


def test_city_table_needs_a_code_column(tmp_path: Path) -> None:
    own = tmp_path / "city.csv"
    own.write_bytes("Code,名称\n06010,暴露垃圾\nX1,本地扩展事件\n".encode("gbk"))
    table = load_categories(own)
    assert table["code"].tolist() == ["06010", "X1"]
    assert table["名称"].tolist() == ["暴露垃圾", "本地扩展事件"]
    bad = tmp_path / "bad.csv"
    bad.write_text("编号,名称\n1,x\n", encoding="utf-8")
    with pytest.raises(ImportReadError, match="needs a 'code' column"):
        load_categories(bad)


def test_shipped_table_names_every_category_in_english() -> None:
    table = load_categories()
    for column in ("name_en", "class_name_en"):
        assert table[column].notna().all()
        assert (table[column].str.len() > 0).all()
        assert not table[column].str.contains(r"[\u4e00-\u9fff]").any()
    names = dict(zip(table["code"], table["name_en"], strict=True))
    assert (names["06010"], names["09006"]) == ("Exposed rubbish", "Trading on the road")
    assert (table.groupby("class_name_zh")["class_name_en"].nunique() == 1).all()
