"""Words of the user administration page (``app/views/users.py``, ``app/admin_widgets.py``) and of the web
sessions (``app/context.py``)."""

TEXT = {
    # sessions (app/context.py)
    "session_role_changed": {
        "zh": "您的角色或权限范围已变更，已退出登录，请重新登录。",
        "en": "Your role or scope was changed: you were signed out. Please log in again.",
    },
    "session_expired": {
        "zh": "登录已过期，请重新登录。",
        "en": "Your session has expired. Please log in again.",
    },
    "session_revoked": {
        "zh": "登录已失效，请重新登录。",
        "en": "Your session has ended. Please log in again.",
    },
    "login_throttled": {
        "zh": "此设备登录失败次数过多，请几分钟后再试。",
        "en": "Too many failed logins from this device: please try again in a few minutes.",
    },
    # the administration page
    "admin_intro": {
        "zh": "创建账户、重置密码、解除锁定、更改角色与权限范围、停用或重新启用账户。每项更改立即生效，"
        "受影响用户的登录会话随即失效。",
        "en": "Create accounts, reset passwords, unlock, change role and scope, deactivate or reactivate. "
        "Every change applies at once and ends the affected user's sessions.",
    },
    "admin_tab_create": {"zh": "新建账户", "en": "New account"},
    "admin_tab_password": {"zh": "重置密码 / 解锁", "en": "Password / unlock"},
    "admin_tab_scope": {"zh": "角色与范围", "en": "Role and scope"},
    "admin_tab_status": {"zh": "停用 / 启用", "en": "Deactivate / reactivate"},
    "admin_account": {"zh": "账户", "en": "Account"},
    "admin_new_username": {"zh": "新用户名", "en": "New username"},
    "admin_department": {"zh": "所属部门（专业部门账户）", "en": "Department (department accounts)"},
    "admin_inspector": {"zh": "对应监督员（监督员账户）", "en": "Inspector (inspector accounts)"},
    "admin_district": {"zh": "权限范围", "en": "Scope"},
    "admin_citywide": {"zh": "全市", "en": "City-wide"},
    "admin_none": {"zh": "（无）", "en": "(none)"},
    "admin_create": {"zh": "创建账户", "en": "Create account"},
    "admin_created": {"zh": "已创建账户 {username}。", "en": "Account {username} created."},
    "admin_reset": {"zh": "生成新密码", "en": "Generate a new password"},
    "admin_reset_done": {"zh": "已为 {username} 生成新密码。", "en": "A new password for {username}."},
    "admin_unlock": {"zh": "解除锁定", "en": "Unlock"},
    "admin_unlocked": {"zh": "已解除 {username} 的锁定。", "en": "{username} is unlocked."},
    "admin_new_password": {
        "zh": "{username} 的新密码（仅显示这一次，请当面或通过安全渠道交给本人）：",
        "en": "New password of {username} (shown this once only; hand it over in person or securely):",
    },
    "admin_change": {"zh": "保存角色与范围", "en": "Save role and scope"},
    "admin_changed": {"zh": "{username} 的角色与范围已更改。", "en": "Role and scope of {username} changed."},
    "admin_deactivate": {"zh": "停用账户", "en": "Deactivate account"},
    "admin_reactivate": {"zh": "重新启用账户", "en": "Reactivate account"},
    "admin_deactivated": {"zh": "已停用 {username}。", "en": "{username} is deactivated."},
    "admin_reactivated": {"zh": "已重新启用 {username}。", "en": "{username} is active again."},
    "admin_yes": {"zh": "是", "en": "yes"},
    "admin_no": {"zh": "否", "en": "no"},
}

COLUMNS = {
    "user_scope": {"zh": "权限范围", "en": "Scope"},
    "user_locked": {"zh": "已锁定", "en": "Locked"},
    "user_active": {"zh": "已启用", "en": "Active"},
}

ERRORS = {
    "bad_username": {
        "zh": "用户名 {username} 无效：须为 3–64 个字母、数字或 _ . @ - 字符。",
        "en": "Username {username} is not valid: 3-64 letters, digits or _ . @ -.",
    },
    "bad_role": {"zh": "没有角色 {role}。", "en": "There is no role {role}."},
    "inspector_needed": {
        "zh": "监督员账户须指定对应的监督员。",
        "en": "An inspector account needs the inspector it is.",
    },
    "password_too_short": {
        "zh": "密码至少需要 {minimum} 个字符。",
        "en": "The password needs at least {minimum} characters.",
    },
    "user_exists": {"zh": "用户 {username} 已存在。", "en": "User {username} exists already."},
    "not_a_district": {"zh": "{district} 不是已登记的区。", "en": "{district} is not a stored district."},
}
