"""Words of the precomputed results and the progress bars (``services.cache``, ``services.refresh``; the
Coverage and Forecast pages, :mod:`app.progress_widgets`)."""

TEXT = {
    "progress_step": {"zh": "正在计算：{step}（{percent}）", "en": "Working: {step} ({percent})"},
    "step_read_tracks": {"zh": "读取巡查轨迹", "en": "reading the patrol tracks"},
    "step_coverage_kpis": {"zh": "计算巡查覆盖率", "en": "measuring patrol coverage"},
    "step_read_cases": {"zh": "读取案件", "en": "reading the cases"},
    "step_expected_problems": {"zh": "估计预期问题数", "en": "estimating the expected problems"},
    "step_attribution": {"zh": "匹配巡查与案件", "en": "matching patrols with cases"},
    "step_allocation_gap": {"zh": "计算巡查配置差距", "en": "computing the allocation gap"},
    "step_fit_model": {"zh": "训练预测模型", "en": "fitting the forecast model"},
    "step_done": {"zh": "完成", "en": "done"},
    "step_other": {"zh": "计算中", "en": "computing"},
    "precomputed_note": {
        "zh": "较慢的结果可由 `gridpatrol refresh` 预先计算（导入后或每晚），页面即可直接读取。",
        "en": "Slow results can be precomputed with `gridpatrol refresh` (after an import or nightly); "
        "the page then reads them at once.",
    },
}
