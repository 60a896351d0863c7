"""Words of the Data page's imports (issue #22): field defects, expected columns, templates, reasons."""

from __future__ import annotations


def _w(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


TEXT = {
    "imp_file_named": _w("文件：{name}", "File: {name}"),
    "imp_imported_defects": _w(
        "导入 {imported} 行，其中 {defective} 行有字段缺陷（该字段已清空，案件已导入）。",
        "{imported} imported, of which {defective} with field defects (the field emptied, the case kept).",
    ),
    "imp_defects": _w("字段缺陷（已导入，字段已清空）", "Field defects (imported, field emptied)"),
    "imp_expected": _w("所需列", "Expected columns"),
    "imp_required_columns": _w("必填列：{columns}", "Required columns: {columns}"),
    "imp_optional_columns": _w("可选列：{columns}", "Optional columns: {columns}"),
    "imp_template": _w("下载模板", "Download a template"),
    "imp_recent": _w("最近的导入", "Latest imports"),
    "imp_crs_help": _w(
        "wgs84、gcj02、bd09，或 EPSG 代码（如 EPSG:4528）",
        "wgs84, gcj02, bd09, or an EPSG code (e.g. EPSG:4528)",
    ),
}

COLUMNS = {
    "imp_file": _w("文件", "File"),
    "imp_line": _w("行号", "Line"),
    "imp_field": _w("字段", "Field"),
    "imp_reason": _w("原因", "Reason"),
    "imp_detail": _w("说明", "Detail"),
    "imp_raw": _w("原始内容", "Raw value"),
    "imp_outcome": _w("处理结果", "Outcome"),
}

VALUES = {
    # quarantine / defect reasons of cases.validation (and the track and area readers)
    "missing_field": _w("缺少必填字段", "Missing field"),
    "unparseable_time": _w("时间无法解析", "Unparseable time"),
    "unparseable_number": _w("数字无法解析", "Unparseable number"),
    "coordinate_out_of_range": _w("坐标超出范围", "Coordinate out of range"),
    "lat_lon_swapped": _w("经纬度颠倒", "Latitude and longitude swapped"),
    "outside_city_area": _w("不在本市范围内", "Outside the city's areas"),
    "outside_crs_area": _w("超出坐标系适用范围", "Outside the coordinate system's area of use"),
    "closed_before_reported": _w("结案时间早于上报时间", "Closed before reported"),
    "unmapped_value": _w("值未在映射中", "Value not in the mapping"),
    "unknown_category": _w("未知类别", "Unknown category"),
    "unknown_department": _w("未知部门", "Unknown department"),
    "invalid_phone": _w("电话号码无效", "Invalid phone number"),
    "value_too_long": _w("内容过长", "Value too long"),
    "malformed_row": _w("行格式错误", "Malformed row"),
    "unknown_inspector": _w("未知巡查员", "Unknown inspector"),
    "invalid_cell": _w("网格编号无效", "Invalid cell"),
    "valid_to_before_valid_from": _w("结束早于开始", "Valid to before valid from"),
    "invalid_unit_grid_code": _w("单元网格编码无效", "Invalid unit-grid code"),
    "bad_time": _w("时间无效", "Bad time"),
    "bad_coordinates": _w("坐标无效", "Bad coordinates"),
    # how a case was located (cases.location_flag)
    "address_exact": _w("按地址精确定位", "Located by exact address"),
    "address_normalized": _w("按规范化地址定位", "Located by normalised address"),
    # outcome of a quarantine CSV row (cases.report)
    "quarantined": _w("已隔离（未导入）", "Quarantined"),
    "imported, field emptied": _w("已导入，字段已清空", "Imported, field emptied"),
    # the address table as an import kind
    "addresses": _w("地址库", "Address table"),
}
