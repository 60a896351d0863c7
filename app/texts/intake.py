"""Words of the intake page (受理登记) and the address lookup.

Page keys are prefixed ``ix_`` (column keys ``ix_col_*``) so that no key can clash with another feature's;
``ERRORS`` are the service error codes of :mod:`services.intake` and :mod:`services.addresses`.
"""


def _w(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


TEXT = {
    "ix_locate_by": _w("位置", "Location"),
    "ix_mode_map": _w("地图点选", "Click on the map"),
    "ix_mode_coords": _w("输入坐标", "Type coordinates"),
    "ix_mode_address": _w("地址查询", "Look up an address"),
    "ix_click_map": _w("在地图上点击问题所在位置。", "Click where the problem is."),
    "ix_picked": _w("已选位置：{lat}，{lon}（WGS-84）", "Chosen point: {lat}, {lon} (WGS-84)"),
    "ix_crs": _w("坐标系", "Coordinate system"),
    "ix_crs_wgs84": _w("WGS-84（GPS）", "WGS-84 (GPS)"),
    "ix_crs_gcj02": _w("GCJ-02（高德、腾讯地图）", "GCJ-02 (Gaode, Tencent maps)"),
    "ix_lat": _w("纬度", "Latitude"),
    "ix_lon": _w("经度", "Longitude"),
    "ix_address_search": _w("地址或地名（如：人民路12号、南通中学）", "Address or place name"),
    "ix_candidates": _w("匹配的地址", "Matching addresses"),
    "ix_no_address": _w(
        "地址库中没有匹配的地址，请在地图上点选或输入坐标。",
        "No matching address: click on the map or type coordinates.",
    ),
    "ix_match_exact": _w("完全匹配", "exact"),
    "ix_match_contains": _w("包含", "contains"),
    "ix_match_similar": _w("相似", "similar"),
    "ix_category_search": _w("搜索案件类别（名称或编码）", "Search the categories (name or code)"),
    "ix_category": _w("案件类别", "Category"),
    "ix_no_category": _w("没有符合的类别。", "No category matches."),
    "ix_description": _w("问题描述", "Description"),
    "ix_reporter_name": _w("来电人姓名", "Caller's name"),
    "ix_reporter_phone": _w("来电人电话", "Caller's phone"),
    "ix_urgency": _w("紧急程度", "Urgency"),
    "ix_urgency_normal": _w("一般", "Normal"),
    "ix_urgency_high": _w("较急", "High"),
    "ix_urgency_urgent": _w("紧急", "Urgent"),
    "ix_source": _w("来源", "Source"),
    "ix_photo": _w("现场照片（可选）", "Photo (optional)"),
    "ix_preview": _w("登记预览", "Before saving"),
    "ix_fill_in": _w(
        "请填写位置、类别和问题描述，系统将显示处置部门、时限和疑似重复案件。",
        "Give the location, the category and a description to see the department, the deadline "
        "and possible duplicates.",
    ),
    "ix_where": _w("所在区域", "Where"),
    "ix_department": _w("建议处置部门", "Suggested department"),
    "ix_no_department": _w("无匹配的派遣规则（由派遣员指定）", "No routing rule (the dispatcher names one)"),
    "ix_deadline": _w("处置时限（若现在派遣）", "Deadline (if dispatched now)"),
    "ix_time_limits": _w("该类别的处置时限", "Time limits of this category"),
    "ix_duplicates": _w(
        "疑似重复案件：{radius} 米内、{hours} 小时内的同类案件",
        "Possible duplicates: same category within {radius} m and {hours} h",
    ),
    "ix_no_duplicates": _w("没有疑似重复的案件。", "No possible duplicate."),
    "ix_save": _w("登记为新案件", "Register as a new case"),
    "ix_saved": _w("已登记案件 {case}。", "Case {case} registered."),
    "ix_photo_saved": _w("照片已保存。", "The photo was saved."),
    "ix_merge_into": _w("合并到已有案件（不新建案件）", "Merge into an existing case (no new case)"),
    "ix_merge": _w("合并", "Merge"),
    "ix_merged": _w(
        "已将来电记录合并到案件 {case}（共 {n} 次来电）。",
        "The call was recorded on case {case} ({n} call(s) merged).",
    ),
    "ix_open_case": _w("打开案件页", "Open the case page"),
    "ix_unit_working_hours": _w("{limit} 个工作小时", "{limit} working hours"),
    "ix_unit_working_days": _w("{limit} 个工作日", "{limit} working days"),
    "ix_unit_hours": _w("{limit} 小时（全天候）", "{limit} hours (round the clock)"),
}

COLUMNS = {
    "ix_col_case": _w("案件编号", "Case"),
    "ix_col_status": _w("状态", "Status"),
    "ix_col_distance": _w("距离（米）", "Distance (m)"),
    "ix_col_reported": _w("上报时间", "Reported"),
    "ix_col_department": _w("处置部门", "Department"),
    "ix_col_deadline": _w("处置时限", "Deadline"),
    "ix_col_description": _w("问题描述", "Description"),
    "ix_col_urgency": _w("紧急程度", "Urgency"),
    "ix_col_limit": _w("时限", "Time limit"),
}

ERRORS = {
    "location_required": _w(
        "请给出位置：地图点选、输入坐标或查询地址。",
        "Give a location: a map click, coordinates or an address.",
    ),
    "address_not_found": _w("地址库中没有“{address}”。", "“{address}” is not in the address table."),
    "description_required": _w("请填写问题描述。", "Describe the problem."),
    "unknown_category": _w("该类别不在类别表中。", "The category is not in the category table."),
    "invalid_phone": _w("电话号码格式不正确。", "The phone number is not a phone number."),
    "outside_city_area": _w("该位置不在本市范围内。", "The location is outside the city."),
    "coordinate_out_of_range": _w(
        "坐标超出范围（纬度 ±90，经度 ±180）。", "The coordinates are out of range (lat ±90, lon ±180)."
    ),
    "lat_lon_swapped": _w("经纬度似乎填反了。", "Latitude and longitude look swapped."),
    "unparseable_number": _w("坐标必须是数字。", "Coordinates must be numbers."),
    "value_too_long": _w("填写的内容过长。", "A field is too long."),
    "case_exists": _w("无法分配新的案件编号，请重试。", "No new case id could be allocated: try again."),
}
