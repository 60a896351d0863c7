"""Titles of the command centre's pages (the navigation)."""

TEXT = {
    "intake": {"zh": "受理登记", "en": "Intake"},
    "dispatch": {"zh": "派遣", "en": "Dispatch"},
    "department_queue": {"zh": "部门处置", "en": "Department queue"},
    "approvals": {"zh": "审批", "en": "Approvals"},
    "callbacks": {"zh": "回访", "en": "Callbacks"},
    "alerts": {"zh": "督办预警", "en": "Alerts"},
    "case_page": {"zh": "案件详情", "en": "Case"},
    "reporters": {"zh": "热心市民", "en": "Citizen reporters"},
    "user_admin": {"zh": "用户管理", "en": "Users"},
    "wall": {"zh": "指挥大屏", "en": "Wall display"},
}
