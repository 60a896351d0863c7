"""UI text in Chinese and English. Pages call ``t(key)``; the language lives in the session."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import streamlit as st

from app.labels import ERROR_TEXT, VALUE_LABELS
from app.texts import merged

LANGUAGES = {"zh": "中文", "en": "English"}

TEXT: dict[str, dict[str, str]] = {
    "app_title": {"zh": "GridPatrol 网格巡查", "en": "GridPatrol"},
    "tagline": {
        "zh": "网格化城市管理：网格、案件、巡查与热点。",
        "en": "Grid city management: cells, cases, patrols and hotspots.",
    },
    "login": {"zh": "登录", "en": "Log in"},
    "logout": {"zh": "退出登录", "en": "Log out"},
    "username": {"zh": "用户名", "en": "Username"},
    "password": {"zh": "密码", "en": "Password"},
    "login_failed": {"zh": "用户名或密码错误。", "en": "Wrong username or password."},
    "login_locked": {
        "zh": "登录失败次数过多，账户已锁定至 {until}（UTC）。",
        "en": "Too many failed attempts: the account is locked until {until} UTC.",
    },
    "login_inactive": {
        "zh": "该账户已停用，请联系管理员。",
        "en": "This account is deactivated: ask an administrator.",
    },
    "session_idle": {
        "zh": "长时间未操作，已自动退出登录，请重新登录。",
        "en": "You were signed out after a period of inactivity. Please log in again.",
    },
    "session_account_gone": {
        "zh": "您的账户已停用或删除，已退出登录。",
        "en": "Your account was deactivated or removed: you have been signed out.",
    },
    "signed_in_as": {"zh": "当前用户：{user}（{role}）", "en": "Signed in as {user} ({role})"},
    "home": {"zh": "概览", "en": "Overview"},
    "data": {"zh": "数据导入", "en": "Data"},
    "holds": {"zh": "数据库现有数据", "en": "What the database holds"},
    "imports": {"zh": "最近导入", "en": "Recent imports"},
    "no_imports": {
        "zh": "尚未导入数据。示例：`gridpatrol import cases FILE --mapping boston311`。",
        "en": "Nothing imported yet. Try: `gridpatrol import cases FILE --mapping boston311`.",
    },
    "database": {"zh": "数据库", "en": "Database"},
    "tiles": {"zh": "底图", "en": "Base map"},
    "import_kind": {"zh": "导入类型", "en": "What to import"},
    "upload": {"zh": "上传文件", "en": "Upload a file"},
    "mapping": {"zh": "字段映射", "en": "Column mapping"},
    "run_import": {"zh": "开始导入", "en": "Import"},
    "import_done": {
        "zh": "读取 {read} 行，导入 {imported}，重复 {duplicates}，隔离 {quarantined}。",
        "en": "Read {read}, imported {imported}, duplicates {duplicates}, quarantined {quarantined}.",
    },
    "quarantine": {"zh": "隔离行（未导入）及原因", "en": "Quarantined rows and why"},
    "import_failed": {"zh": "无法读取该文件：{error}", "en": "The file cannot be read: {error}"},
    "area_level": {"zh": "区域层级", "en": "Area level"},
    "coordinate_system": {"zh": "坐标系", "en": "Coordinate system"},
    "users": {"zh": "用户与角色", "en": "Users and roles"},
    "role": {"zh": "角色", "en": "Role"},
    "change_role": {"zh": "更改角色", "en": "Change role"},
    "deactivate_user": {"zh": "停用账户", "en": "Deactivate"},
    "reactivate_user": {"zh": "重新启用", "en": "Reactivate"},
    "hotspots": {"zh": "热点分析", "en": "Hot spots"},
    "no_cases": {"zh": "数据库中还没有带位置的案件。", "en": "The database holds no located cases yet."},
    "resolution": {"zh": "H3 分辨率", "en": "H3 resolution"},
    "recent_cases": {
        "zh": "最近的案件：近 7 天的网格分布，近 4 周的每日案件数",
        "en": "Latest cases: where in the last 7 days, per day over the last 4 weeks",
    },
    "date": {"zh": "日期", "en": "date"},
    "rings": {"zh": "邻域环数 k", "en": "Neighbourhood rings k"},
    "universe_areas": {
        "zh": "研究区域：{areas} 个已导入区域内的 {n} 个网格（分辨率 {res}）",
        "en": "Study area: {n} cells of the {areas} stored area(s) at res {res}",
    },
    "universe_hull": {
        "zh": "研究区域：案件所在网格及周围 {rings} 环，共 {n} 个网格（分辨率 {res}；尚未导入区域）",
        "en": "Study area: {n} cells at res {res}, the cases' cells and {rings} ring(s) around (no areas)",
    },
    "last_periods_all": {"zh": "0 = 全部周期", "en": "0 = every period"},
    "hotspot_areas": {
        "zh": "热点区域（相连的热点网格，至少 3 格）",
        "en": "Hot-spot areas (touching hot cells, 3 or more)",
    },
    "hotspot_areas_help": {
        "zh": "趋势：该区域占全部案件比例的 Mann–Kendall 趋势检验（上升 / 下降 / 平稳，p ≤ 0.05），"
        "全市案件量和季节变化不计入",
        "en": "trend: Mann–Kendall trend of the area's share of all cases per period (rising / falling / "
        "steady at p ≤ 0.05); the city's volume and seasons do not count",
    },
    "period": {"zh": "统计周期", "en": "Period"},
    "category_class": {"zh": "案件大类", "en": "Category class"},
    "date_range": {"zh": "日期范围", "en": "Date range"},
    "cases": {"zh": "案件数", "en": "cases"},
    "class": {"zh": "类别", "en": "class"},
    "gi_class": {"zh": "热点类别", "en": "Gi* class"},
    "cells": {"zh": "网格数", "en": "cells"},
    "not_allowed": {"zh": "您的角色无权访问此页面。", "en": "Your role may not open this page."},
    "schema_missing": {
        "zh": "数据库尚未建立 GridPatrol 数据结构：请在服务器上运行 `gridpatrol init`，然后刷新本页。",
        "en": "The database has no GridPatrol schema: run `gridpatrol init` on the server, then reload.",
    },
    "schema_old": {
        "zh": "数据库结构版本为 {revision}，本版 GridPatrol 需要 {head}：请在服务器上运行 `gridpatrol init`，"
        "然后刷新本页。",
        "en": "The database is at schema revision {revision}, this GridPatrol needs {head}: run "
        "`gridpatrol init` on the server, then reload.",
    },
    "source": {"zh": "案件来源", "en": "Source"},
    "cell_history_pick": {
        "zh": "查看网格历史（点击地图或在此选择）",
        "en": "Cell history (click the map or pick)",
    },
    "cell_history": {"zh": "网格 {cell} 的历史与案件", "en": "History and cases of cell {cell}"},
    "recurring": {"zh": "反复发生问题", "en": "Recurring problems"},
    "last_periods": {"zh": "最近周期数", "en": "Last periods"},
    "min_count": {"zh": "活跃周期最少案件数", "en": "Cases for an active period"},
    "min_share": {"zh": "最低活跃比例", "en": "Minimum active share"},
    "chronic_cells": {"zh": "反复发生网格", "en": "Chronic cells"},
    "share": {"zh": "活跃比例", "en": "active share"},
    "current_run": {"zh": "当前连续周期", "en": "current run"},
    "longest_run": {"zh": "最长连续周期", "en": "longest run"},
    "emerging": {"zh": "新兴热点", "en": "Emerging hot spots"},
    "time_step": {"zh": "时间邻域（前几个周期）", "en": "Time step (previous periods)"},
    "pattern": {"zh": "模式", "en": "pattern"},
    "too_few": {"zh": "数据不足：{error}", "en": "Not enough data: {error}"},
    "my_grid": {"zh": "我的网格", "en": "My grid"},
    "inspector": {"zh": "监督员", "en": "Inspector"},
    "no_inspector": {
        "zh": "此账户未关联监督员，无法显示网格。",
        "en": "This account is not linked to an inspector.",
    },
    "no_cells": {"zh": "{day} 没有分配给您的网格。", "en": "No cell is assigned to you on {day}."},
    "my_cells": {"zh": "我的网格数", "en": "My cells"},
    "assigned_cells": {"zh": "已分配网格数", "en": "Assigned cells"},
    "to_verify": {"zh": "待核实", "en": "To verify (核实)"},
    "to_check": {"zh": "待核查", "en": "To check (核查)"},
    "neglected": {"zh": "{n} 天未巡查网格", "en": "Not patrolled for {n} days"},
    "not_patrolled_days": {"zh": "未巡查天数 N", "en": "Days without patrol N"},
    "no_tracks": {"zh": "尚无巡查轨迹数据。", "en": "No patrol tracks are stored yet."},
    "as_of": {"zh": "截至", "en": "As of"},
    "tasks": {"zh": "任务", "en": "Tasks"},
    "map": {"zh": "地图", "en": "Map"},
    "report_problem": {"zh": "上报问题", "en": "Report a problem"},
    "task": {"zh": "任务", "en": "task"},
    "verify": {"zh": "核实", "en": "verify"},
    "check": {"zh": "核查", "en": "check"},
    "no_tasks": {
        "zh": "您的网格内没有待核实或待核查的案件。",
        "en": "No case in your cells needs verifying or checking.",
    },
    "case": {"zh": "案件", "en": "Case"},
    "action": {"zh": "处理结果", "en": "Outcome"},
    "action_verify": {"zh": "核实属实", "en": "Verified on site"},
    "action_check_pass": {"zh": "核查通过", "en": "Check passed"},
    "action_check_fail": {"zh": "核查未通过（返工）", "en": "Check failed (rework)"},
    "view_only": {
        "zh": "只读：只有监督员本人可以核实、核查和上报。",
        "en": "Read-only: only the inspector verifies, checks and reports.",
    },
    "note": {"zh": "备注", "en": "Note"},
    "photo": {"zh": "现场照片（上传）", "en": "Photo (upload)"},
    "camera": {"zh": "拍照", "en": "Take a photo"},
    "use_camera": {"zh": "使用相机", "en": "Use the camera"},
    "submit": {"zh": "提交", "en": "Submit"},
    "action_done": {"zh": "已记录：案件 {case} → {status}", "en": "Recorded: case {case} → {status}"},
    "action_failed": {"zh": "未能记录：{error}", "en": "Not recorded: {error}"},
    "case_refused": {
        "zh": "无权查看案件 {case}：它不在您的网格内。",
        "en": "Case {case} is not in your cells: refused.",
    },
    "case_not_open": {
        "zh": "案件 {case} 当前状态为 {status}，无需核实或核查。",
        "en": "Case {case} is {status}: nothing to verify or check.",
    },
    "latitude": {"zh": "纬度（WGS-84）", "en": "Latitude (WGS-84)"},
    "longitude": {"zh": "经度（WGS-84）", "en": "Longitude (WGS-84)"},
    "click_to_place": {
        "zh": "点击地图确定位置，或直接输入坐标。",
        "en": "Click the map to place the problem, or type the coordinates.",
    },
    "standard": {"zh": "标准", "en": "Standard"},
    "category": {"zh": "案件小类", "en": "Category"},
    "description": {"zh": "问题描述", "en": "Description"},
    "deadline": {"zh": "处置时限", "en": "Deadline"},
    "address": {"zh": "地址", "en": "Address"},
    "reported": {"zh": "已上报：案件 {case}", "en": "Reported: case {case}"},
    "coverage": {"zh": "巡查覆盖", "en": "Coverage"},
    "route_today": {"zh": "今日建议巡查路线（GPX）", "en": "Today's suggested route (GPX)"},
    "shift_start": {"zh": "班次开始", "en": "Shift start"},
    "shift_hours": {"zh": "班次时长（小时）", "en": "Shift length (hours)"},
    "suggest_route": {"zh": "生成路线", "en": "Suggest a route"},
    "route_totals": {
        "zh": "{stops} 个网格，步行 {km:.1f} 公里，共 {minutes:.0f} 分钟。",
        "en": "{stops} cells, {km:.1f} km on foot, {minutes:.0f} minutes in all.",
    },
    "forecast": {"zh": "风险预测", "en": "Forecast"},
    "dashboard": {"zh": "绩效看板", "en": "Dashboard"},
    "deployment": {"zh": "警力部署", "en": "Deployment"},
    "effectiveness": {"zh": "巡查成效", "en": "Patrol effectiveness"},
    "effectiveness_help": {
        "zh": "主动发现率、漏报（巡查经过后市民举报）、按时核实 / 核查，按监督员统计。",
        "en": "Share found by patrols, problems walked past (citizen reports after a patrol passed), "
        "on-time verification and re-check, per inspector.",
    },
    "allocation_gap": {"zh": "巡查投入与问题分布差距", "en": "Allocation gap"},
    "allocation_gap_help": {
        "zh": "每个网格的预计问题占比与巡查时间占比之差：红色巡查不足，蓝色巡查过多（预计来源：{source}）。",
        "en": "Per cell, its share of expected problems against its share of patrol minutes: "
        "red under-patrolled, blue over-patrolled (expected from: {source}).",
    },
    "gap_status": {"zh": "状态", "en": "status"},
    "gap_under": {"zh": "巡查不足网格", "en": "Under-patrolled cells"},
    "gap_balanced": {"zh": "均衡网格", "en": "Balanced cells"},
    "gap_over": {"zh": "巡查过多网格", "en": "Over-patrolled cells"},
    "minutes": {"zh": "巡查分钟", "en": "patrol minutes"},
    "beat": {"zh": "责任片区", "en": "beat"},
    "workload_min": {"zh": "每周工作量（分钟）", "en": "workload (min/week)"},
    "n_beats": {"zh": "片区数（监督员数）", "en": "Beats (inspectors)"},
    "beat_cells": {"zh": "各网格所属片区与工作量", "en": "Cells: beat and workload"},
    "max_deviation": {"zh": "最大工作量偏差", "en": "Largest workload deviation"},
    "not_balanced": {
        "zh": "未达到 ±10% 的均衡：有网格的工作量超过平均片区。",
        "en": "Not within ±10 %: some cell alone outweighs the mean beat.",
    },
    "staffing": {"zh": "各班次所需监督员与增减人员的影响", "en": "Staff per shift, and what if"},
    "inspectors_now": {"zh": "现有监督员数", "en": "Inspectors now"},
    "filed_range": {"zh": "立案日期范围", "en": "Filed between"},
    "closure_rate": {"zh": "结案率", "en": "Closure rate"},
    "on_time_closure_rate": {"zh": "按期结案率", "en": "On-time closure"},
    "rework_rate": {"zh": "返工率", "en": "Rework rate"},
    "satisfaction_rate": {"zh": "满意率", "en": "Satisfaction"},
    "cohort": {
        "zh": "立案 {cases} 件，应结案 {should_close} 件。",
        "en": "{cases} cases filed, {should_close} due.",
    },
    "trend": {"zh": "月度趋势", "en": "Monthly trend"},
    "department_ranking": {"zh": "专业部门综合评价排名", "en": "Department ranking"},
    "by_district": {"zh": "各区指标", "en": "By district"},
    "no_districts": {
        "zh": "尚未导入行政区域，无法按区统计（`gridpatrol import areas`）。",
        "en": "No district areas are imported (`gridpatrol import areas`).",
    },
    "model": {"zh": "模型", "en": "Model"},
    "horizon": {"zh": "预测第几个周期", "en": "Periods ahead"},
    "top_cells": {"zh": "显示前 N 个网格", "en": "Top N cells"},
    "slow_model": {
        "zh": "该模型需训练，可能需要一分钟以上。",
        "en": "This model trains first: a minute or more.",
    },
    "forecasting": {"zh": "正在预测…", "en": "Forecasting…"},
    "expected": {"zh": "预计案件数", "en": "expected cases"},
    "expected_total": {"zh": "预计案件总数", "en": "Expected cases in all"},
    "risk": {"zh": "风险", "en": "risk"},
    "rank": {"zh": "排名", "en": "rank"},
    "coverage_by_inspector": {"zh": "各监督员巡查覆盖率", "en": "Patrol coverage per inspector"},
    "neglected_map": {"zh": "被忽视网格地图", "en": "Map of neglected cells"},
    "frequency": {"zh": "汇总粒度", "en": "Per"},
    "day": {"zh": "日", "en": "day"},
    "week": {"zh": "周", "en": "week"},
    "no_assignments": {"zh": "尚无网格分配数据。", "en": "No assignments are stored yet."},
    "visited": {"zh": "已巡查", "en": "visited"},
    "days_since_visit": {"zh": "距上次巡查天数", "en": "days since visit"},
    "trend_z": {"zh": "趋势 z", "en": "trend z"},
    "hot_periods": {"zh": "热点周期数", "en": "hot periods"},
    "data_day": {
        "zh": "默认日期为有巡查轨迹的最后一天 {last}（不是今天）。",
        "en": "The default day is the last day with patrol tracks, {last} (not today).",
    },
    "why_verify": {"zh": "{n} 件待核实", "en": "{n} report(s) to verify"},
    "why_check": {"zh": "{n} 件待核查", "en": "{n} fix(es) to re-check"},
    "why_due": {"zh": "{time} 前到达", "en": "due by {time}"},
    "why_overdue": {"zh": "已超时（{time} 起）", "en": "overdue since {time}"},
    "why_risk": {"zh": "预测风险 {risk:.2f}", "en": "forecast risk {risk:.2f}"},
    "why_never": {"zh": "轨迹数据中从未巡查", "en": "never patrolled in the track data"},
    "why_days": {"zh": "{days:.0f} 天未巡查", "en": "not patrolled for {days:.0f} days"},
    "why_on_the_way": {"zh": "途经", "en": "on the way"},
    "deduction": {"zh": "扣分：{rule}", "en": "Deduction: {rule}"},
    "data_end": {
        "zh": "默认范围截至有数据的最后一天：{last}（而非今天的日期）。",
        "en": "The default range ends on the last day with data, {last}, not on today's date.",
    },
}
TEXT = merged("TEXT", TEXT)  # the features' own texts (app/texts)
TEXT.update({key: words for key, words in ERROR_TEXT.items() if key not in TEXT})

TABLE_LABELS = {
    "cases": {"zh": "案件", "en": "cases"},
    "case_events": {"zh": "案件流转记录", "en": "case events"},
    "inspectors": {"zh": "监督员", "en": "inspectors"},
    "assignments": {"zh": "网格分配", "en": "assignments"},
    "areas": {"zh": "行政区域", "en": "areas"},
    "departments": {"zh": "处置部门", "en": "departments"},
    "users": {"zh": "用户", "en": "users"},
}

ROLE_LABELS = {
    "inspector": {"zh": "监督员", "en": "inspector"},
    "operator": {"zh": "受理员", "en": "operator"},
    "dispatcher": {"zh": "派遣员", "en": "dispatcher"},
    "department": {"zh": "专业部门", "en": "department"},
    "supervisor": {"zh": "值班长", "en": "supervisor"},
    "planner": {"zh": "规划分析员", "en": "planner"},
    "manager": {"zh": "管理者", "en": "manager"},
    "admin": {"zh": "系统管理员", "en": "administrator"},
}


_forced = threading.local()


@contextlib.contextmanager
def speaking(lang: str) -> Iterator[None]:
    """Use ``lang`` for :func:`t` in this thread, outside a script run too (e.g. a deferred download)."""
    previous = getattr(_forced, "lang", None)
    _forced.lang = lang
    try:
        yield
    finally:
        _forced.lang = previous


def language() -> str:
    """The session's language code (``zh`` by default), or the one set by :func:`speaking`."""
    forced = getattr(_forced, "lang", None)
    return forced or st.session_state.get("lang", "zh")


def t(key: str, **values: object) -> str:
    """The UI text for ``key`` in the session's language, formatted with ``values``."""
    text = TEXT[key][language()]
    return text.format(**values) if values else text


def label(table: dict[str, dict[str, str]], key: str) -> str:
    """A translated label from one of the label tables, or ``key`` itself when it has none."""
    return table.get(key, {}).get(language(), key)


def worded(fn: Callable[[Any], str] | None = None) -> Callable[[Any], str]:
    """``fn`` (default :func:`word`) bound to this run's language: a widget's ``format_func`` may be called
    outside the script run (Streamlit's test harness does), where the session's language is unknown."""
    lang, fn = language(), fn or word

    def call(value: Any) -> str:
        with speaking(lang):
            return fn(value)

    return call


def word(code: object) -> str:
    """A coded value (a class, status, source, model, period …) in words; the code itself without them."""
    if not isinstance(code, str):
        return str(code)
    if code not in VALUE_LABELS and ":" in code:  # a composite such as ``forecast:baseline_ma4``
        return ("：" if language() == "zh" else ": ").join(label(VALUE_LABELS, p) for p in code.split(":"))
    return label(VALUE_LABELS, code)


def error_text(exc: Exception) -> str:
    """A service failure (:class:`services.errors.ServiceError`) in the page's language: the text of its
    ``code`` filled with its ``params``; a code without a text (or with params that do not fit) says the
    service's own message."""
    from app.safe_text import md, safe_t  # the params and the message are data: shown as text (#25)

    code, params = getattr(exc, "code", None), getattr(exc, "params", {}) or {}
    if code in TEXT:
        try:
            return safe_t(code, **params)
        except (KeyError, IndexError, ValueError):
            pass
    return t("service_failed", error=md(exc))
