"""Words of the closed case loop's additions: the calls merged into a case (case page) and the photo of a
department's handling (department page)."""


def _w(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


TEXT = {
    "cl_merged_calls": _w("合并的来电", "Calls merged into this case"),
    "cl_handle_photo": _w(
        "处置照片（仅用于处置反馈；JPEG / PNG / WebP）",
        "Photo of the work (for a handling; JPEG / PNG / WebP)",
    ),
}

COLUMNS = {
    "cl_merged_at": _w("来电时间", "Called"),
    "cl_merged_by": _w("受理人", "Taken by"),
}
