"""UI text in Chinese and English. Pages call ``t(key)``; the language lives in the session."""

from __future__ import annotations

import streamlit as st

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
    "hotspots": {"zh": "热点分析", "en": "Hot spots"},
    "no_cases": {"zh": "数据库中还没有带位置的案件。", "en": "The database holds no located cases yet."},
    "resolution": {"zh": "H3 分辨率", "en": "H3 resolution"},
    "rings": {"zh": "邻域环数 k", "en": "Neighbourhood rings k"},
    "period": {"zh": "统计周期", "en": "Period"},
    "category_class": {"zh": "案件大类", "en": "Category class"},
    "date_range": {"zh": "日期范围", "en": "Date range"},
    "cases": {"zh": "案件数", "en": "cases"},
    "class": {"zh": "类别", "en": "class"},
    "not_allowed": {"zh": "您的角色无权访问此页面。", "en": "Your role may not open this page."},
}

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


def language() -> str:
    """The session's language code (``zh`` by default)."""
    return st.session_state.get("lang", "zh")


def t(key: str, **values: object) -> str:
    """The UI text for ``key`` in the session's language, formatted with ``values``."""
    text = TEXT[key][language()]
    return text.format(**values) if values else text


def label(table: dict[str, dict[str, str]], key: str) -> str:
    """A translated label from one of the label tables, or ``key`` itself when it has none."""
    return table.get(key, {}).get(language(), key)
