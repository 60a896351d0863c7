"""Words of the case page, callbacks (回访), mediation (和谐调解) and the citizen reporters' list."""


def _w(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


#: Lifecycle actions (:data:`cases.workflow.TRANSITIONS`) and the opening report, as ``cw_act_<action>``.
ACTION_WORDS = {
    "report": _w("上报", "Reported"),
    "verify": _w("现场核实", "Verify on site"),
    "cancel": _w("核实不属实，作废", "Cancel (not true)"),
    "register": _w("立案", "Register"),
    "dispatch": _w("派遣", "Dispatch"),
    "return": _w("退回（非本部门职责）", "Return (not ours)"),
    "handle": _w("处置反馈", "Report handled"),
    "check_pass": _w("现场核查通过", "Check passed"),
    "check_fail": _w("核查未通过，返工", "Check failed (rework)"),
    "close": _w("结案", "Close"),
    "request_extension": _w("延期申请", "Ask for an extension"),
    "approve_extension": _w("延期批准", "Approve the extension"),
    "reject_extension": _w("延期驳回", "Refuse the extension"),
    "request_suspension": _w("挂账申请", "Ask to suspend"),
    "approve_suspension": _w("挂账批准", "Approve the suspension"),
    "reject_suspension": _w("挂账驳回", "Refuse the suspension"),
    "resume": _w("解除挂账", "Resume"),
    "reopen": _w("回访不满意，返工", "Reopen (reporter not satisfied)"),
    "mediate": _w("和谐调解结案", "Close by mediation"),
}

TEXT = {
    **{f"cw_act_{action}": words for action, words in ACTION_WORDS.items()},
    "cw_case_id": _w("案件编号", "Case id"),
    "cw_pick_case": _w(
        "请输入案件编号，或从队列中打开案件。", "Type a case id, or open a case from a queue."
    ),
    "cw_status": _w("状态", "Status"),
    "cw_deadline": _w("处置时限", "Deadline"),
    "cw_time_left": _w("剩余时间", "Time left"),
    "cw_hours": _w(
        "{hours:.1f} 小时（工作时间 {working:.1f} 小时）", "{hours:.1f} h ({working:.1f} working h)"
    ),
    "cw_overdue": _w("已超期 {hours:.1f} 小时", "Overdue by {hours:.1f} h"),
    "cw_no_deadline": _w("无", "None"),
    "cw_department": _w("责任部门", "Department"),
    "cw_category": _w("案件类别", "Category"),
    "cw_source": _w("来源", "Source"),
    "cw_reported_at": _w("上报时间", "Reported"),
    "cw_reporter_phone": _w("举报人电话", "Reporter's phone"),
    "cw_description": _w("问题描述", "Description"),
    "cw_address": _w("地址", "Address"),
    "cw_location": _w("位置", "Location"),
    "cw_no_location": _w("该案件没有位置。", "The case has no location."),
    "cw_timeline": _w("办理过程", "Timeline"),
    "cw_photos": _w("现场照片", "Photos"),
    "cw_no_photos": _w("暂无照片。", "No photo yet."),
    "cw_photo_caption": _w("{who} 上传于 {at}", "Uploaded by {who} at {at}"),
    "cw_actions": _w("可执行操作", "What you may do"),
    "cw_no_actions": _w("当前没有您可以执行的操作。", "There is nothing for you to do on this case now."),
    "cw_note": _w("备注", "Note"),
    "cw_photo_upload": _w("现场照片（JPEG / PNG / WebP）", "Photo (JPEG / PNG / WebP)"),
    "cw_new_deadline_day": _w("申请的新时限（日期）", "Requested deadline (date)"),
    "cw_new_deadline_time": _w("申请的新时限（时间）", "Requested deadline (time)"),
    "cw_dispatch_to": _w("派往部门", "Dispatch to"),
    "cw_submit": _w("执行", "Do it"),
    "cw_done": _w("已记录：案件 {case} → {status}", "Recorded: case {case} → {status}"),
    "cw_parties": _w("当事人", "Parties"),
    "cw_agreement": _w("调解协议", "Agreement"),
    "cw_mediation": _w("和谐调解", "Mediation"),
    "cw_mediated": _w(
        "调解结案：{parties}。协议：{agreement}", "Mediated: {parties}. Agreement: {agreement}"
    ),
    "cw_callbacks_done": _w("回访记录", "Callbacks"),
    "cw_callback_intro": _w(
        "已结案且举报人留有电话、尚未回访的案件。回访不满意的案件将按规定退回返工。",
        "Closed cases whose reporter left a phone and who was not called back yet. "
        "A case whose reporter is not satisfied goes back for rework, as the city's rule says.",
    ),
    "cw_closed_since": _w("结案日期不早于", "Closed on or after"),
    "cw_callback_none": _w("没有待回访的案件。", "No case waits for a callback."),
    "cw_callback_case": _w("回访案件", "Case to call back"),
    "cw_reached": _w("已联系到举报人", "Reporter reached"),
    "cw_satisfied": _w("满意", "Satisfied"),
    "cw_unsatisfied": _w("不满意", "Not satisfied"),
    "cw_satisfaction": _w("满意度", "Satisfaction"),
    "cw_callback_saved": _w("回访已记录：案件 {case}。", "Callback recorded: case {case}."),
    "cw_callback_reopened": _w(
        "举报人不满意：案件 {case} 已退回返工。", "Reporter not satisfied: case {case} went back for rework."
    ),
    "cw_open_case": _w("打开案件详情", "Open the case"),
    "cw_reporters_intro": _w(
        "本季度上报问题被受理最多的热心市民（电话已脱敏），用于奖励。",
        "The citizens whose reports were accepted most often in the quarter (phones masked), for rewards.",
    ),
    "cw_quarter": _w("季度（如 2025Q4；留空为全部）", "Quarter (e.g. 2025Q4; empty: all)"),
    "cw_top": _w("显示前几名", "How many"),
    "cw_reporters_none": _w(
        "该季度没有被受理的市民上报。", "No citizen report was accepted in that quarter."
    ),
    "cw_download_csv": _w("下载 CSV", "Download CSV"),
}

COLUMNS = {
    "cw_at": _w("时间", "Time"),
    "cw_actor": _w("操作人", "By"),
    "cw_role": _w("角色", "Role"),
    "cw_action": _w("操作", "Action"),
    "cw_note": _w("备注", "Note"),
    "cw_event_deadline": _w("设定时限", "Deadline set"),
    "closed_at": _w("结案时间", "Closed"),
    "accepted": _w("受理数", "Accepted reports"),
    "first_report": _w("首次上报", "First report"),
    "last_report": _w("最近上报", "Latest report"),
    "mediated": _w("调解结案数", "Closed by mediation"),
    "reporter_name": _w("姓名", "Name"),
}

ERRORS = {
    "case_not_found": _w("没有案件 {case_id}。", "There is no case {case_id}."),
    "invalid_transition": _w(
        "案件当前状态不允许该操作（可能已被他人处理），请刷新后重试。",
        "The case's status does not allow this (someone may have acted on it): reload and retry.",
    ),
    "stale_case": _w(
        "案件刚被他人修改，请刷新后重试。", "The case was just changed by someone else: reload and retry."
    ),
    "not_an_image": _w(
        "该文件不是可读取的 JPEG、PNG 或 WebP 图片。", "The file is not a readable JPEG, PNG or WebP image."
    ),
    "photo_too_large": _w(
        "照片过大（上限 {limit_mb} MB、4000 万像素）。",
        "The photo is too large (limit {limit_mb} MB, 40 Mpx).",
    ),
    "photo_not_found": _w("没有照片 {photo_id}。", "There is no photo {photo_id}."),
    "not_closed": _w(
        "案件 {case_id} 尚未结案：只回访已结案的案件。",
        "Case {case_id} is not closed: only closed cases are called back.",
    ),
    "mediation_incomplete": _w(
        "调解结案需填写当事人和调解协议。", "A mediation needs the parties and their agreement."
    ),
    "use_mediation": _w(
        "调解结案请使用“和谐调解”表单。", "Close a case by mediation with the mediation form."
    ),
    "bad_quarter": _w(
        "季度格式应为 2025Q4，而不是 {quarter}。", "A quarter is written like 2025Q4, not {quarter}."
    ),
}
