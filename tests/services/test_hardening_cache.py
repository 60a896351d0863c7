"""Issue #25: an import is seen by the next read at once (service read cache and the app's cache keys)."""

from __future__ import annotations

from pathlib import Path

from services import study
from services.context import ServiceContext
from services.imports import ImportRequest, import_file


def _import_two(ctx: ServiceContext, tmp_path: Path, lat: float, lon: float) -> None:
    path = tmp_path / "more.csv"
    rows = [f"NEW-{k},2025-02-20 08:0{k},0101,{lat},{lon}" for k in (1, 2)]
    path.write_text("case_id,reported_at,category_code,lat,lon\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = import_file(ctx, ImportRequest(kind="cases", path=path, write_quarantine=False))
    assert result.report.imported == 2


def test_an_import_is_seen_by_the_next_read(ctx60: ServiceContext, tmp_path: Path) -> None:
    from app.context import db_key

    before = study.load_cases(ctx60)
    assert study.load_cases(ctx60) is before  # cached
    key = db_key()
    lat, lon = float(before["lat"].iloc[0]), float(before["lon"].iloc[0])
    _import_two(ctx60, tmp_path, lat, lon)
    after = study.load_cases(ctx60)
    assert len(after) == len(before) + 2
    assert {"NEW-1", "NEW-2"} <= set(after["case_id"])
    assert db_key() != key  # every st.cache_data read keyed by db_key() is recomputed
    assert db_key() == db_key()  # and stable while nothing changes
