"""Words of the command centre's queues (dispatch, department, approvals) and the alerts digest.

Column keys are prefixed ``queue_`` (:mod:`app.queue_widgets` renames the service's columns to them for
display), coded values ``queue_stage_*`` / ``queue_alert_*``, so that no key can clash with another feature's.
"""


def _w(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


TEXT = {
    "q_filters": _w("筛选与排序", "Filter and sort"),
    "q_district": _w("区", "District"),
    "q_all": _w("全部", "All"),
    "q_categories": _w("案件小类", "Categories"),
    "q_statuses": _w("状态", "Statuses"),
    "q_sort": _w("排序", "Sort by"),
    "q_sort_deadline": _w("处置时限（最早在前）", "Deadline (soonest first)"),
    "q_sort_reported": _w("上报时间（最早在前）", "Reported (oldest first)"),
    "q_as_of": _w("计算时限的日期（今天 = 现在）", "Time limits as of (today = now)"),
    "q_count": _w("队列中 {n} 件", "{n} case(s) in the queue"),
    "q_empty": _w("队列为空。", "The queue is empty."),
    "q_table": _w("队列", "Queue"),
    "q_pick": _w("选择案件（或在表格中勾选行）", "Choose cases (or tick rows in the table)"),
    "q_pick_one": _w("选择案件", "Choose a case"),
    "q_selected": _w("已选 {n} 件", "{n} case(s) selected"),
    "q_open_case": _w("打开案件页", "Open the case page"),
    "q_bulk": _w("批量操作", "Bulk action"),
    "q_action": _w("操作", "Action"),
    "q_department": _w("派往部门", "Send to department"),
    "q_suggested": _w("建议部门（按派遣规则）", "Suggested department (routing rules)"),
    "q_run": _w("执行", "Apply"),
    "q_bulk_done": _w("完成 {done} 件，失败 {failed} 件。", "{done} done, {failed} failed."),
    "q_no_actions": _w("您的角色不能对所选案件进行操作。", "Your role has no action for the selected cases."),
    "q_reason": _w("理由", "Reason"),
    "q_new_deadline_day": _w("申请的新时限（日期）", "Requested deadline (date)"),
    "q_new_deadline_time": _w("申请的新时限（时间）", "Requested deadline (time)"),
    "q_history": _w("流转记录", "History"),
    "q_pick_department": _w("部门", "Department"),
    "q_no_department": _w(
        "您的账户未关联部门，请联系管理员。", "Your account has no department: ask the administrator."
    ),
    "q_to_verify": _w("待核实", "To verify"),
    "q_to_register": _w("待立案", "To register"),
    "q_to_dispatch": _w("待派遣", "To dispatch"),
    "q_returned": _w("被退回", "Returned"),
    "q_overdue": _w("超期", "Overdue"),
    "q_near": _w("临近时限", "Near the deadline"),
    "q_running": _w("处置中", "Open"),
    "q_requests": _w("待审批申请", "Requests waiting"),
    "q_map_note": _w(
        "颜色：绿 = 正常，橙 = 临近时限，红 = 超期。", "Colour: green ok, orange near, red overdue."
    ),
    "q_no_location": _w("所选案件都没有位置。", "None of these cases has a location."),
    "q_inspector_hint": _w(
        "待核实的案件会出现在其所在网格监督员的“我的网格”任务中（见“监督员”列）。",
        "Cases to verify appear in the tasks of the inspector whose cell it is (column Inspector).",
    ),
    "q_act_handle": _w("处置完成", "Handled"),
    "q_act_request_extension": _w("申请延期", "Ask for an extension"),
    "q_act_request_suspension": _w("申请挂账", "Ask for a suspension"),
    "q_act_return": _w("退回（非本部门职责）", "Return: not ours"),
    "q_act_dispatch": _w("派遣", "Dispatch"),
    "q_act_register": _w("立案", "Register"),
    "q_act_cancel": _w("作废", "Cancel"),
    "q_act_verify": _w("核实", "Verify"),
    "q_act_approve": _w("批准", "Approve"),
    "q_act_refuse": _w("驳回", "Refuse"),
    "q_done": _w("已记录：案件 {case} → {status}", "Recorded: case {case} → {status}"),
    "al_title_cases": _w("预警案件", "Flagged cases"),
    "al_by_department": _w("按部门督办", "Escalation by department"),
    "al_by_district": _w("按区督办", "Escalation by district"),
    "al_day": _w("日期（截至当天结束；今天 = 现在）", "Day (as of its end; today = now)"),
    "al_near_share": _w("临近阈值（已用时限比例）", "Near threshold (share of the time limit used)"),
    "al_download": _w("下载 CSV", "Download CSV"),
    "al_none": _w("没有临近或超期的案件。", "No case is near or past its deadline."),
    "al_as_of": _w("截至 {time}", "As of {time}"),
}

COLUMNS = {
    "queue_dispatched_at": _w("派遣时间", "Dispatched"),
    "queue_hours_left": _w("剩余工作时间（小时）", "Working hours left"),
    "queue_elapsed_share": _w("已用时限比例", "Time limit used"),
    "queue_alert": _w("预警", "Alert"),
    "queue_stage": _w("待办环节", "Waiting for"),
    "queue_suggested_department": _w("建议部门", "Suggested department"),
    "queue_inspector": _w("网格监督员", "Inspector"),
    "queue_request": _w("申请", "Request"),
    "queue_requested_at": _w("申请时间", "Requested"),
    "queue_requested_by": _w("申请人", "Requested by"),
    "queue_reason": _w("理由", "Reason"),
    "queue_requested_deadline": _w("申请的新时限", "Requested deadline"),
    "queue_near": _w("临近", "Near"),
    "queue_overdue": _w("超期", "Overdue"),
    "queue_oldest_overdue_case": _w("最早超期案件", "Oldest overdue case"),
    "queue_oldest_overdue_deadline": _w("最早超期时限", "Oldest overdue deadline"),
    "queue_max_hours_overdue": _w("最长超期（小时）", "Longest overdue (hours)"),
    "queue_ok": _w("成功", "Done"),
    "queue_message": _w("说明", "Message"),
    "queue_at": _w("时间", "Time"),
    "queue_actor": _w("操作人", "By"),
    "queue_role": _w("角色", "Role"),
    "queue_note": _w("备注", "Note"),
    "queue_from_status": _w("原状态", "From"),
    "queue_to_status": _w("新状态", "To"),
    "queue_event_deadline": _w("设定的时限", "Deadline set"),
}

VALUES = {
    "queue_stage_to_verify": _w("待核实", "To verify"),
    "queue_stage_to_register": _w("待立案", "To register"),
    "queue_stage_to_dispatch": _w("待派遣", "To dispatch"),
    "queue_stage_returned": _w("被退回，待重新派遣", "Returned, to dispatch again"),
    "queue_stage_overdue": _w("已派遣，超期", "Dispatched, overdue"),
    "queue_alert_ok": _w("正常", "OK"),
    "queue_alert_near": _w("临近时限", "Near"),
    "queue_alert_overdue": _w("超期", "Overdue"),
    "queue_request_extension_requested": _w("延期申请", "Extension"),
    "queue_request_suspension_requested": _w("挂账申请", "Suspension"),
}

ERRORS = {
    "queue_bad_sort": _w("未知的排序方式 {sort}。", "Unknown sort order {sort}."),
    "alert_bad_near_share": _w(
        "临近阈值必须在 0 与 1 之间，当前为 {value}。", "The threshold must be in (0, 1], got {value}."
    ),
    "alerts_bad_group": _w("未知的汇总方式 {by}。", "Unknown grouping {by}."),
}
