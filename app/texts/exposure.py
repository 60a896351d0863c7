"""Words of the analysis target switch (issue #24: exposure-aware rates; :mod:`services.exposure`).

Keys are prefixed ``xp_`` (values ``xp_target_*``) so that none can clash with another feature's.
"""

TEXT = {
    "xp_target": {"zh": "统计口径", "en": "What is counted"},
    "xp_target_help": {
        "zh": "上报数：全部案件（含监督员巡查发现，默认）；市民上报：不含巡查发现；"
        "估计发生率：市民上报与每巡查小时发现数合并估计（巡查多的地方不因巡查多而显得问题多）。",
        "en": "Reported: every case, patrol finds included (the default); citizen: patrol finds left out; "
        "estimated: citizen reports and patrol finds per patrol-hour combined (a cell does not look worse "
        "only because it was patrolled more).",
    },
    "xp_target_note": {
        "zh": "估计发生率以“每期市民上报数”为单位，依据轨迹中的巡查时长计算。",
        "en": "The estimated rate is in citizen reports per period, from the patrol time in the tracks.",
    },
}

COLUMNS = {
    "exposure_citizen": {"zh": "市民上报数", "en": "Citizen reports"},
    "exposure_finds": {"zh": "巡查发现数", "en": "Patrol finds"},
    "exposure_rate": {"zh": "估计发生率", "en": "Estimated rate"},
    "exposure_rate_lower": {"zh": "发生率下限", "en": "Rate (lower bound)"},
    "exposure_rate_upper": {"zh": "发生率上限", "en": "Rate (upper bound)"},
    "exposure_shrinkage": {"zh": "向全市均值收缩权重", "en": "Shrinkage to the city mean"},
}

VALUES = {
    "xp_target_reported": {"zh": "上报数（全部案件）", "en": "Reported (every case)"},
    "xp_target_citizen": {"zh": "市民上报（不含巡查发现）", "en": "Citizen reports (no patrol finds)"},
    "xp_target_estimated": {
        "zh": "估计发生率（按巡查时长校正）",
        "en": "Estimated rate (patrol time as exposure)",
    },
}

ERRORS = {
    "unknown_target": {
        "zh": "未知的统计口径 {target}，可选：{choices}。",
        "en": "Unknown target {target}; choose one of {choices}.",
    },
    "no_patrol_presence": {
        "zh": "{start} 至 {end} 没有巡查轨迹，无法按巡查时长校正巡查发现；请改用“市民上报”口径或导入轨迹。",
        "en": "No patrol track covers {start} … {end}: patrol finds cannot be put per patrol-hour; use the "
        "citizen target or load the tracks.",
    },
}
