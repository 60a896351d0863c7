"""Words of the importer's hardening (issue #25): new quarantine reasons and the busy-store error."""

VALUES = {
    "unterminated_quote": {"zh": "引号未闭合", "en": "Unterminated quote"},
    "undecodable_row": {"zh": "无法解码的行", "en": "Undecodable line"},
    "inexact_number": {"zh": "数字精度丢失（编号应为文本）", "en": "Inexact number (id typed as number)"},
    "implausible_time": {"zh": "时间不合理", "en": "Implausible time"},
}

ERRORS = {
    "store_busy": {
        "zh": "数据库正被另一导入占用，文件 {path} 未导入，请稍后重试。",
        "en": "The database is busy with another import; {path} was not imported. Try again later.",
    },
}
