"""cases.mapping: loading and validating TOML mappings, and applying them to a chunk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from cases.mapping import CASE_FIELDS, Mapping, MappingError, apply_mapping, load_mapping, shipped_mappings
from tests.conftest import migrated_sqlite


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "city.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_mappings_load_by_name() -> None:
    assert {"boston311", "open311"} <= set(shipped_mappings())
    boston = load_mapping("boston311")
    assert boston.columns["category_code"] == "TYPE"  # "category" is an alias
    assert (boston.timezone, boston.crs, boston.date_format) == (
        "America/New_York",
        "wgs84",
        "%m/%d/%Y %I:%M:%S %p",
    )
    assert boston.values["source"]["Constituent Call"] == "hotline"
    assert "*" not in boston.values["source"]  # a new channel is quarantined, not silently "other"
    open311 = load_mapping("open311")
    assert (open311.columns["case_id"], open311.columns["lon"]) == ("service_request_id", "long")
    assert open311.defaults["source"] == "other"


def test_a_path_loads_with_every_option(tmp_path: Path) -> None:
    path = _toml(
        tmp_path,
        """
[columns]
case_id = "案件编号"
category_code = "小类"
[options]
timezone = "Asia/Shanghai"
crs = "gcj02"
date_format = "%Y/%m/%d %H:%M"
date_formats = { closed_at = "%Y-%m-%d" }
encoding = "GBK"
delimiter = ";"
sheet = "案件"
[values.source]
"12319" = "hotline"
"*" = "other"
[defaults]
category_standard = "GB/T 47678.5-2026"
kind = "event"
""",
    )
    mapping = load_mapping(str(path))
    assert mapping.origin == str(path)
    assert mapping.format_of("closed_at") == "%Y-%m-%d"
    assert mapping.format_of("reported_at") == "%Y/%m/%d %H:%M"
    assert (mapping.encoding, mapping.delimiter, mapping.sheet, mapping.crs) == ("gbk", ";", "案件", "gcj02")
    assert mapping.defaults == {"category_standard": "GB/T 47678.5-2026", "kind": "event"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[columns]\ncolour = "X"\n', "unknown field 'colour' in [columns]"),
        ('[options]\ncrs = "utm"\n', "options.crs 'utm' is not one of: wgs84, gcj02, bd09"),
        (
            '[options]\ntimezone = "Mars/Olympus"\n',
            "options.timezone 'Mars/Olympus' is not an IANA time zone",
        ),
        ('[options]\nencoding = "klingon"\n', "options.encoding 'klingon' is not a known text encoding"),
        ("[options]\nspeed = 1\n", "unknown option 'speed' in [options]"),
        ('[colums]\ncase_id = "x"\n', "unknown table 'colums'"),
        ('[values.source]\n"Phone" = "telephone"\n', "maps to 'telephone', but source must be one of"),
        ('[values.weather]\n"x" = "y"\n', "unknown field 'weather' in [values]"),
        ('[options.date_formats]\ncase_id = "%Y"\n', "unknown field 'case_id' in [options.date_formats]"),
        ('[columns]\ncategory = "A"\ncategory_code = "B"\n', "maps category_code twice"),
        ("[columns\n", "not valid TOML"),
    ],
)
def test_invalid_mappings_name_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = _toml(tmp_path, text)
    with pytest.raises(MappingError) as info:
        load_mapping(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_unknown_name_lists_the_shipped_mappings(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="shipped: boston311"):
        load_mapping("chengdu")
    with pytest.raises(MappingError, match="does not exist"):
        load_mapping(tmp_path / "missing.toml")


def _frame(**columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {k: pd.Series(pa.array(v), dtype=pd.ArrowDtype(pa.string())) for k, v in columns.items()}
    )


def test_apply_renames_strips_maps_and_defaults() -> None:
    mapping = Mapping(
        columns={"case_id": "编号"},
        values={"source": {"热线": "hotline", "*": "other"}, "kind": {"部件": "component", "事件": "event"}},
        defaults={"category_standard": "GB/T 47678.5-2026", "kind": "event"},
    )
    frame = _frame(
        编号=[" A1 ", "A2", "A3"], Source=["热线", "传真", ""], kind=["部件", "", "未知"], lat=["1", "2", "3"]
    )
    mapped = apply_mapping(frame, mapping, CASE_FIELDS)
    assert mapped.values["case_id"].tolist() == ["A1", "A2", "A3"]
    assert mapped.values["source"].tolist() == ["hotline", "other", ""]  # found case-insensitively
    assert mapped.values["kind"].tolist() == ["component", "event", ""]  # default fills the empty one
    np.testing.assert_array_equal(mapped.unmapped["kind"], [False, False, True])
    assert mapped.original["kind"].tolist() == ["部件", "", "未知"]
    assert mapped.values["category_standard"].tolist() == ["GB/T 47678.5-2026"] * 3
    assert mapped.sources == {"case_id": "编号", "source": "Source", "kind": "kind", "lat": "lat"}
    assert mapped.values["description"].tolist() == ["", "", ""]  # absent field: empty


def test_category_alias_is_found_as_a_column() -> None:
    mapped = apply_mapping(_frame(category=["06010"]), Mapping(), CASE_FIELDS)
    assert mapped.values["category_code"].tolist() == ["06010"]


def test_cli_reports_a_bad_mapping_without_a_traceback(tmp_path) -> None:
    from click.testing import CliRunner

    from app.cli import main

    bad = tmp_path / "bad.toml"
    bad.write_text('[columns]\nnot_a_field = "X"\n', encoding="utf-8")
    data = tmp_path / "cases.csv"
    data.write_text("case_id\n1\n", encoding="utf-8")
    url = migrated_sqlite(tmp_path / "t.db")
    for kind in ("cases", "inspectors", "assignments"):
        result = CliRunner().invoke(main, ["--db-url", url, "import", kind, str(data), "--mapping", str(bad)])
        assert result.exit_code == 2, result.output
        assert "error: mapping" in result.output
        assert "Traceback" not in result.output
    missing = CliRunner().invoke(main, ["--db-url", url, "import", "cases", str(data), "--mapping", "nope"])
    assert missing.exit_code == 2
