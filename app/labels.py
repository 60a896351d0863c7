"""Words for codes, in Chinese and English: class names, statuses, sources, column headers, service errors.

Plain tables (no Streamlit): :mod:`app.i18n` merges :data:`ERROR_TEXT` into its texts and
:mod:`app.tables` uses the rest to show a result table in words. A code with no entry here is shown as it
is (the page test ``tests/app/test_words.py`` fails on an untranslated snake_case token).
"""

from __future__ import annotations

from app.texts import merged

Words = dict[str, dict[str, str]]


def _w(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


_LEVELS = {"99": "99%", "95": "95%", "90": "90%"}
#: Getis-Ord Gi* classes (:data:`analytics.hotspots.GI_CLASSES`) and Local Moran clusters.
GI_CLASS_LABELS: Words = {
    **{f"hot_{n}": _w(f"热点（{p} 置信）", f"Hot spot ({p} confidence)") for n, p in _LEVELS.items()},
    **{f"cold_{n}": _w(f"冷点（{p} 置信）", f"Cold spot ({p} confidence)") for n, p in _LEVELS.items()},
    "not_significant": _w("不显著", "Not significant"),
    "HH": _w("高-高聚集", "High–high"),
    "LL": _w("低-低聚集", "Low–low"),
    "HL": _w("高值异常（周边低）", "High among low"),
    "LH": _w("低值异常（周边高）", "Low among high"),
}
_KINDS = {
    "new": ("新增", "New"),
    "consecutive": ("连续", "Consecutive"),
    "intensifying": ("加剧", "Intensifying"),
    "persistent": ("持续", "Persistent"),
    "diminishing": ("减弱", "Diminishing"),
    "sporadic": ("零星", "Sporadic"),
    "oscillating": ("振荡", "Oscillating"),
    "historical": ("历史", "Historical"),
}
#: Emerging hot spot patterns (:data:`analytics.emerging.PATTERNS`).
PATTERN_LABELS: Words = {
    **{f"{k}_hot_spot": _w(f"{zh}热点", f"{en} hot spot") for k, (zh, en) in _KINDS.items()},
    **{f"{k}_cold_spot": _w(f"{zh}冷点", f"{en} cold spot") for k, (zh, en) in _KINDS.items()},
    "no_pattern": _w("无明显模式", "No pattern"),
}
#: Case statuses (:data:`cases.workflow.STATUSES`).
STATUS_LABELS: Words = {
    "reported": _w("待核实", "Reported"),
    "verified": _w("已核实", "Verified"),
    "cancelled": _w("已作废", "Cancelled"),
    "registered": _w("已立案", "Registered"),
    "dispatched": _w("已派遣", "Dispatched"),
    "resolved": _w("已处置", "Resolved"),
    "checked": _w("已核查", "Checked"),
    "closed": _w("已结案", "Closed"),
    "extension_requested": _w("延期申请中", "Extension requested"),
    "suspension_requested": _w("挂账申请中", "Suspension requested"),
    "suspended": _w("已挂账", "Suspended"),
}
#: Case sources (:data:`cases.models.CASE_SOURCES`).
SOURCE_LABELS: Words = {
    "hotline": _w("热线", "Hotline"),
    "patrol": _w("监督员巡查", "Patrol"),
    "wechat": _w("微信", "WeChat"),
    "video": _w("视频监控", "Video"),
    "other": _w("其他", "Other"),
}
#: Other class values shown in tables: area trends, allocation-gap status, route stops, coverage.
OTHER_LABELS: Words = {
    "rising": _w("上升", "Rising"),
    "falling": _w("下降", "Falling"),
    "steady": _w("平稳", "Steady"),
    "under": _w("巡查不足", "Under-patrolled"),
    "balanced": _w("均衡", "Balanced"),
    "over": _w("巡查过多", "Over-patrolled"),
    "idle": _w("无问题无巡查", "Idle"),
    "verify": _w("核实", "Verify"),
    "check": _w("核查", "Check"),
    "case_hull": _w("案件周边", "Around the cases"),
    "history": _w("历史均值", "History"),
    "none": _w("无", "None"),
    "(none)": _w("（未指定）", "(unassigned)"),
}
#: Choices offered by the pages' widgets: forecast models, periods, import kinds, area levels, base maps.
OPTION_LABELS: Words = {
    "baseline_last": _w("上一周期", "Last period"),
    "baseline_ma4": _w("近 4 期平均", "Mean of the last 4"),
    "baseline_mean": _w("历史平均", "Long-run mean"),
    "baseline_kde": _w("核密度", "Kernel density"),
    "poisson_gbm": _w("梯度提升（泊松）", "Gradient boosting (Poisson)"),
    "ensemble": _w("组合模型", "Ensemble"),
    "auto": _w("自动选择（回测最佳）", "Automatic (best in backtest)"),
    "forecast": _w("预测", "Forecast"),
    "day": _w("日", "Day"),
    "week": _w("周", "Week"),
    "month": _w("月", "Month"),
    "quarter": _w("季度", "Quarter"),
    "year": _w("年", "Year"),
    "cases": _w("案件", "Cases"),
    "inspectors": _w("监督员", "Inspectors"),
    "assignments": _w("网格分配", "Assignments"),
    "areas": _w("行政区域", "Areas"),
    "unit_grids": _w("单元网格", "Unit grids"),
    "city": _w("市", "City"),
    "district": _w("区", "District"),
    "subdistrict": _w("街道", "Subdistrict"),
    "community": _w("社区", "Community"),
    "osm": _w("OpenStreetMap", "OpenStreetMap"),
    "gaode": _w("高德地图", "Gaode"),
    "tianditu": _w("天地图", "Tianditu"),
}
#: Columns whose values are codes translated by :data:`VALUE_LABELS`.
VALUE_LABELS: Words = {
    **OPTION_LABELS,
    **GI_CLASS_LABELS,
    **PATTERN_LABELS,
    **STATUS_LABELS,
    **SOURCE_LABELS,
    **OTHER_LABELS,
}
VALUE_LABELS = merged("VALUES", VALUE_LABELS)
CODED_COLUMNS = (
    "gi_class", "lisa_quadrant", "lisa_cluster", "pattern", "status", "source", "trend", "task",
    "expected_source", "kind", "model",
)  # fmt: skip

#: Column headers of the tables the pages show (a column not listed keeps its name).
COLUMN_LABELS: Words = {
    "h3": _w("H3 网格", "H3 cell"),
    "cell": _w("网格", "Cell"),
    "count": _w("案件数", "Cases"),
    "cases": _w("案件数", "Cases"),
    "gi_z": _w("Gi* z 值", "Gi* z"),
    "gi_p": _w("Gi* p 值", "Gi* p"),
    "gi_q": _w("Gi* q 值（FDR）", "Gi* q (FDR)"),
    "gi_class": _w("热点类别", "Gi* class"),
    "lisa_quadrant": _w("局部莫兰象限", "Local Moran quadrant"),
    "lisa_cluster": _w("局部莫兰聚类", "Local Moran cluster"),
    "lisa_p": _w("局部莫兰 p 值", "Local Moran p"),
    "area_id": _w("区域", "Area"),
    "area": _w("区域", "Area"),
    "n_cells": _w("网格数", "Cells"),
    "peak_h3": _w("峰值网格", "Peak cell"),
    "peak_z": _w("峰值 z", "Peak z"),
    "lat": _w("纬度", "Latitude"),
    "lon": _w("经度", "Longitude"),
    "trend": _w("趋势", "Trend"),
    "trend_tau": _w("趋势 τ", "Trend τ"),
    "trend_z": _w("趋势 z", "Trend z"),
    "trend_p": _w("趋势 p 值", "Trend p"),
    "rank": _w("排名", "Rank"),
    "active_periods": _w("活跃周期数", "Active periods"),
    "n_periods": _w("周期数", "Periods"),
    "share": _w("活跃比例", "Active share"),
    "longest_run": _w("最长连续周期", "Longest run"),
    "current_run": _w("当前连续周期", "Current run"),
    "pattern": _w("模式", "Pattern"),
    "hot_periods": _w("热点周期数", "Hot periods"),
    "cold_periods": _w("冷点周期数", "Cold periods"),
    "expected": _w("预计案件数", "Expected cases"),
    "risk": _w("风险", "Risk"),
    "case_id": _w("案件编号", "Case"),
    "category": _w("案件小类", "Category"),
    "category_code": _w("小类代码", "Category code"),
    "source": _w("来源", "Source"),
    "status": _w("状态", "Status"),
    "description": _w("问题描述", "Description"),
    "address": _w("地址", "Address"),
    "reported_at": _w("上报时间", "Reported"),
    "deadline_at": _w("处置时限", "Deadline"),
    "waiting_since": _w("等待自", "Waiting since"),
    "reporter_phone": _w("举报人电话", "Reporter's phone"),
    "task": _w("任务", "Task"),
    "department": _w("专业部门", "Department"),
    "district": _w("区", "District"),
    "subdistrict": _w("街道", "Subdistrict"),
    "inspector": _w("监督员", "Inspector"),
    "inspector_id": _w("监督员", "Inspector"),
    "name": _w("姓名", "Name"),
    "username": _w("用户名", "Username"),
    "role": _w("角色", "Role"),
    "active": _w("启用", "Active"),
    "grade": _w("等级", "Grade"),
    "score": _w("综合得分", "Score"),
    "base_score": _w("基础得分", "Base score"),
    "should_close": _w("应结案数", "Due"),
    "closed": _w("结案数", "Closed"),
    "closed_on_time": _w("按期结案数", "Closed on time"),
    "closure_rate": _w("结案率", "Closure rate"),
    "on_time_closure_rate": _w("按期结案率", "On-time closure"),
    "on_time_handling_rate": _w("按期处置率", "On-time handling"),
    "rework_rate": _w("返工率", "Rework rate"),
    "satisfaction_rate": _w("满意率", "Satisfaction"),
    "handling_hours_mean": _w("平均处置时长（小时）", "Mean handling (h)"),
    "handling_hours_p90": _w("90% 处置时长（小时）", "Handling p90 (h)"),
    "coverage_share": _w("覆盖率", "Coverage"),
    "assigned_cells": _w("分配网格数", "Assigned cells"),
    "visited_cells": _w("已巡查网格数", "Visited cells"),
    "patrol_minutes": _w("巡查分钟", "Patrol minutes"),
    "patrol_hours": _w("巡查小时", "Patrol hours"),
    "patrol_km": _w("巡查公里", "Patrol km"),
    "last_visit": _w("上次巡查", "Last visit"),
    "days_since_visit": _w("距上次巡查天数", "Days since visit"),
    "visit_days": _w("巡查天数", "Days visited"),
    "neglected": _w("被忽视", "Neglected"),
    "period": _w("周期", "Period"),
    "period_start": _w("周期开始", "Period start"),
    "expected_share": _w("预计问题占比", "Share of expected problems"),
    "patrol_share": _w("巡查时间占比", "Share of patrol time"),
    "gap": _w("差距", "Gap"),
    "expected_source": _w("预计来源", "Expected from"),
    "beat": _w("责任片区", "Beat"),
    "workload_min": _w("每周工作量（分钟）", "Workload (min/week)"),
    "deviation": _w("工作量偏差", "Workload deviation"),
    "contiguous": _w("连片", "Contiguous"),
    "expected_cases": _w("预计案件数", "Expected cases"),
    "inspectors": _w("监督员数", "Inspectors"),
    "order": _w("顺序", "Stop"),
    "arrival": _w("到达时间", "Arrival"),
    "case_ids": _w("案件", "Cases"),
    "must_visit": _w("必到", "Must visit"),
    "why": _w("原因", "Why"),
    "kind": _w("类型", "Kind"),
    "model": _w("模型", "Model"),
    # Gi* internals (the hot-spot table)
    "gi": _w("Gi*", "Gi*"),
    "gi_expected": _w("Gi* 期望值", "Gi* expected"),
    "gi_variance": _w("Gi* 方差", "Gi* variance"),
    "gi_p_sim": _w("Gi* 置换检验 p 值", "Gi* permutation p"),
    "gi_significant": _w("显著", "Significant"),
    "local_sum": _w("邻域案件数", "Cases around"),
    "n_neighbours": _w("邻居网格数", "Neighbours"),
    # KPI tables (the dashboard)
    "handling_rate": _w("处置率", "Handling rate"),
    "extension_rate": _w("延期率", "Extension rate"),
    "should_handle": _w("应处置数", "Due for handling"),
    "handled": _w("处置数", "Handled"),
    "handled_on_time": _w("按期处置数", "Handled on time"),
    "overdue": _w("超期数", "Overdue"),
    "reworked": _w("返工数", "Reworked"),
    "extended": _w("延期数", "Extended"),
    "suspended": _w("挂账数", "Suspended"),
    "callbacks": _w("回访数", "Callbacks"),
    "satisfied": _w("满意数", "Satisfied"),
    # coverage and effectiveness
    "idle_minutes": _w("静止分钟", "Idle minutes"),
    "moving_share": _w("移动时间占比", "Moving share"),
    "cells_outside_assignment": _w("责任区外网格数", "Cells outside the beat"),
    "median_revisit_days": _w("重访间隔中位数（天）", "Median revisit (days)"),
    "hotline": _w("热线", "Hotline"),
    "patrol": _w("监督员巡查", "Patrol"),
    "wechat": _w("微信", "WeChat"),
    "video": _w("视频监控", "Video"),
    "other": _w("其他", "Other"),
    "discovery_rate": _w("主动发现率", "Discovery rate"),
    "citizen_rate": _w("市民举报占比", "Citizen share"),
    "finds_per_hour": _w("每小时发现数", "Finds per hour"),
    "finds_per_km": _w("每公里发现数", "Finds per km"),
    "citizen_cases": _w("市民举报数", "Citizen reports"),
    "missed": _w("漏报数", "Walked past"),
    "missed_share": _w("漏报占比", "Walked-past share"),
    "attributed_share": _w("可归属占比", "Attributed share"),
    "far_reports": _w("远程上报数", "Far reports"),
    "verify_n": _w("核实数", "Verifications"),
    "verify_on_time_rate": _w("按时核实率", "On-time verification"),
    "verify_median_h": _w("核实用时中位数（小时）", "Median verification (h)"),
    "check_n": _w("核查数", "Checks"),
    "check_on_time_rate": _w("按时核查率", "On-time check"),
    "check_median_h": _w("核查用时中位数（小时）", "Median check (h)"),
    "minutes_per_expected": _w("每件预计问题巡查分钟", "Minutes per expected problem"),
    # deployment
    "compactness": _w("紧凑度", "Compactness"),
    "case_min": _w("案件处理分钟", "Case minutes"),
    "patrol_min": _w("巡查分钟", "Patrol minutes"),
    "shift": _w("班次", "Shift"),
    "case_share": _w("案件覆盖占比", "Share of cases"),
    "hot_daily_share": _w("热点每日巡查占比", "Hot cells walked daily"),
    "weekly_share": _w("每周巡查到的占比", "Share walked weekly"),
    "value": _w("预计发现价值", "Value"),
    "value_share": _w("价值占比", "Share of value"),
    "value_change": _w("价值变化", "Change in value"),
    # imports and users
    "source_file": _w("文件", "File"),
    "started_at": _w("开始时间", "Started"),
    "finished_at": _w("完成时间", "Finished"),
    "rows_read": _w("读取行数", "Rows read"),
    "rows_imported": _w("导入行数", "Imported"),
    "rows_duplicate": _w("重复行数", "Duplicates"),
    "rows_quarantined": _w("隔离行数", "Quarantined"),
    "batch_id": _w("批次", "Batch"),
    "locked_until": _w("锁定至", "Locked until"),
    "created_at": _w("创建时间", "Created"),
    "last_login_at": _w("上次登录", "Last login"),
    "failed_logins": _w("失败登录次数", "Failed logins"),
    "department_id": _w("部门", "Department"),
    "row": _w("行", "Row"),
}
COLUMN_LABELS = merged("COLUMNS", COLUMN_LABELS)  # and the features' own (app/texts)
#: Names of the KPI scoring deductions (the ``deduct_<name>`` columns).
DEDUCTION_LABELS: Words = {
    "overdue": _w("超期", "overdue"),
    "rework": _w("返工", "rework"),
    "extension": _w("延期", "extension"),
}

#: Texts of :class:`services.errors.ServiceError` codes (merged into :data:`app.i18n.TEXT`): the params
#: a service passes fill them; a code whose params do not fit falls back to ``service_failed``.
ERROR_TEXT: Words = {
    "service_failed": _w("无法完成：{error}", "Could not be done: {error}"),
    "no_cases_in_range": _w(
        "{start} 至 {end} 没有立案的案件：请选择有数据的日期范围。",
        "No case was filed between {start} and {end}: choose a range with data.",
    ),
    "no_cases_range": _w(
        "{start} 至 {end} 没有带位置的案件。", "No located case was reported between {start} and {end}."
    ),
    "bad_range": _w("日期范围的结束早于开始。", "The range ends before it starts."),
    "bad_request": _w("请求无效：{error}", "Invalid request: {error}"),
    "too_few_periods": _w(
        "数据不足：所选范围只有 {periods} 个周期，至少需要 {needed} 个。请选择更长的范围或更短的周期。",
        "Not enough data: the range holds {periods} periods, {needed} are needed. "
        "Choose a longer range or a shorter period.",
    ),
    "too_few_cases": _w(
        "数据不足：所选范围只有 {cases} 件案件，至少需要 {needed} 件。",
        "Not enough data: the range holds {cases} cases, {needed} are needed.",
    ),
    "empty_selection": _w(
        "所选条件下没有案件：请放宽日期、类别或来源。",
        "No case matches the selection: widen the dates, categories or sources.",
    ),
    "no_complete_period": _w(
        "所选范围内没有一个完整的统计周期，无法预测：请选择更长的日期范围或更短的周期。",
        "The range holds no complete period to forecast from: choose a longer range or a shorter period.",
    ),
    "last_exceeds_periods": _w(
        "最近 {last} 个周期超过了所选范围的 {n_periods} 个周期。",
        "The last {last} periods exceed the {n_periods} periods selected.",
    ),
    "no_areas": _w(
        "尚未导入行政区域（`gridpatrol import areas`）。",
        "No areas are imported (`gridpatrol import areas`).",
    ),
    "unknown_model": _w("未知的预测模型 {model}。", "Unknown forecast model {model}."),
    "no_assignments": _w("该日没有网格分配。", "No cell is assigned on that day."),
    "not_allowed": _w("您的角色无权访问此页面。", "Your role may not open this page."),
    "bad_scoring": _w("绩效评分表无法读取。", "The KPI scoring table cannot be read."),
    "no_route": _w("无法生成路线：{error}", "No route: {error}"),
    "no_such_user": _w("没有用户 {username}。", "There is no user {username}."),
    "own_account": _w("管理员不能停用自己的账户。", "An administrator may not deactivate their own account."),
    "unreadable": _w("无法读取文件 {path}。", "Cannot read the file {path}."),
}
ERROR_TEXT = merged("ERRORS", ERROR_TEXT)
