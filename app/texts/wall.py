"""Words of the wall display (``app/views/wall.py``, ``app/wall_widgets.py``; ``services.wall``)."""

TEXT = {
    "wall_title": {"zh": "数字城管指挥大屏", "en": "City management command centre"},
    "wall_as_of": {
        "zh": "截至 {time}（每 {seconds} 秒自动刷新）",
        "en": "As of {time} (refreshes every {seconds} s)",
    },
    "wall_intake_today": {"zh": "今日受理", "en": "Reported today"},
    "wall_open": {"zh": "在办案件", "en": "Open cases"},
    "wall_overdue": {"zh": "超期案件", "en": "Overdue"},
    "wall_inspectors_out": {"zh": "今日在岗监督员", "en": "Inspectors out today"},
    "wall_by_source": {"zh": "今日受理来源", "en": "Today's reports by source"},
    "wall_by_district": {"zh": "各区在办 / 超期", "en": "Open / overdue by district"},
    "wall_by_department": {
        "zh": "各部门在办 / 超期（前 {n} 名）",
        "en": "Open / overdue by department (top {n})",
    },
    "wall_map": {"zh": "今日案件与监督员位置", "en": "Today's cases and inspectors"},
    "wall_no_cases_today": {"zh": "今日尚无案件上报。", "en": "No case has been reported today."},
    "wall_no_open": {"zh": "当前没有在办案件。", "en": "No case is open."},
    "wall_no_tracks": {
        "zh": "今日暂无监督员定位数据（轨迹库中没有今天的轨迹）。",
        "en": "No inspector positions today (the track store holds no points of today).",
    },
    "wall_inspector_dot": {"zh": "监督员最新位置", "en": "Inspector's last position"},
    "wall_no_access": {
        "zh": "大屏需要登录，或使用有效的显示令牌打开（…/wall?display=令牌）。",
        "en": "The wall needs a login or a valid display token (…/wall?display=TOKEN).",
    },
    "wall_open_short": {"zh": "在办", "en": "open"},
    "wall_overdue_short": {"zh": "超期", "en": "overdue"},
}

ERRORS = {
    "wall_token_configured": {
        "zh": "显示令牌已在城市配置（wall_token_sha256）中设定，请在配置中更换。",
        "en": "The display token is set in the city configuration (wall_token_sha256); change it there.",
    },
}
