"""Words of the inspector's phone-first page ("My grid"): task cards with countdowns, "use my position",
the report preview (address, same-category cases nearby) and photos.

Page keys are prefixed ``fp_`` so that no key can clash with another feature's; ``ERRORS`` are the
service error codes :mod:`services.field` adds.
"""


def _w(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


TEXT = {
    "fp_tasks_head": _w("我的任务（{n}）", "My tasks ({n})"),
    "fp_due_in": _w("剩余 {left}", "{left} left"),
    "fp_overdue": _w("已超时 {left}", "Overdue by {left}"),
    "fp_no_deadline": _w("无处置时限", "No deadline"),
    "fp_days_hours": _w("{d} 天 {h} 小时", "{d} d {h} h"),
    "fp_hours_minutes": _w("{h} 小时 {m} 分", "{h} h {m} min"),
    "fp_minutes": _w("{m} 分钟", "{m} min"),
    "fp_countdown_as_of": _w("倒计时截至 {when}", "Countdown as of {when}"),
    "fp_waiting_since": _w("等待自 {when}", "Waiting since {when}"),
    "fp_open_task": _w("处理此任务", "Work on this task"),
    "fp_chosen": _w("当前任务", "Current task"),
    "fp_act_head": _w("现场处理：{case}", "On site: {case}"),
    "fp_phone": _w("来电人电话", "Caller's phone"),
    "fp_all_fields": _w("任务表格（全部字段）", "Task table (all fields)"),
    "fp_kpis": _w("概况", "Overview"),
    "fp_map_head": _w("地图", "Map"),
    "fp_settings": _w("日期与设置", "Date and settings"),
    "fp_use_position": _w("使用我的位置", "Use my position"),
    "fp_locating": _w("正在定位……", "Locating…"),
    "fp_no_geolocation": _w("此浏览器不支持定位。", "This browser cannot locate you."),
    "fp_position": _w(
        "已定位：{lat}，{lon}（精度约 {accuracy} 米）",
        "Located: {lat}, {lon} (accuracy about {accuracy} m)",
    ),
    "fp_geo_denied": _w(
        "定位被拒绝：请在浏览器设置中允许本站获取位置。",
        "Location refused: allow this site to use your location in the browser's settings.",
    ),
    "fp_geo_unavailable": _w(
        "无法获取位置，请稍后重试或在地图上点选。", "No position: retry or click the map."
    ),
    "fp_geo_timeout": _w("定位超时，请重试。", "Locating timed out: try again."),
    "fp_geo_insecure": _w(
        "浏览器只在 https 或本机地址下提供定位。",
        "Browsers locate only on https:// or localhost.",
    ),
    "fp_address_at": _w("地址：{address}（距 {distance} 米）", "Address: {address} ({distance} m away)"),
    "fp_no_address_near": _w("地址库中附近没有地址。", "No stored address nearby."),
    "fp_area_at": _w("所在区域：{area}", "Area: {area}"),
    "fp_outside_cells": _w(
        "该位置不在您今天的网格内，无法上报。",
        "This point is not in your cells today: it cannot be reported.",
    ),
    "fp_duplicates": _w(
        "附近已有 {n} 件同类案件，请确认不是重复上报：",
        "{n} case(s) of this category nearby: make sure this is not a repeat:",
    ),
    "fp_duplicate_row": _w(
        "{case} · {status} · 距 {distance} 米 · {when}", "{case} · {status} · {distance} m · {when}"
    ),
    "fp_report_photo": _w("现场照片", "Photo"),
    "fp_take_photo": _w("拍照", "Take a photo"),
    "fp_photo_saved": _w("照片已保存（{n} 张）。", "Photo saved ({n})."),
    "fp_description_hint": _w("问题描述（必填）", "Description (required)"),
}

ERRORS = {
    "repeat_report": _w(
        "案件 {case} 已在此处以相同描述上报过，请勿重复上报。",
        "Case {case} already reports this here with the same description: not filed again.",
    ),
}
