"""services.imports and services.study with field defects and cases without a place (issue 22)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cases.db import init_db, make_engine
from grid.config import load_city_config
from services.context import ServiceContext
from services.errors import ServiceError
from services.imports import ImportRequest, import_file
from services.study import AnalysisFilters, analysis_cube, summary_of, unlocated_count

BODY = (
    "case_id,source,category,lat,lon,reported_at,closed_at\n"
    "C1,hotline,06010,32.0100,120.8600,2024-03-05 08:00:00,2024-03-05 10:00:00\n"
    "C2,hotline,06010,32.0110,120.8610,2024-03-05 09:00:00,2024-03-05 08:00:00\n"
    "C3,patrol,06011,,,2024-03-06 09:00:00,\n"
)


@pytest.fixture
def ctx(tmp_path: Path) -> ServiceContext:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    init_db(engine)
    yield ServiceContext(engine, load_city_config(), tmp_path)
    engine.dispose()


def test_import_file_lists_defects_and_honours_strict(ctx: ServiceContext, tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text(BODY, encoding="utf-8")
    result = import_file(ctx, ImportRequest(kind="cases", path=path))
    assert (result.report.imported, result.report.quarantined, result.report.defective) == (3, 0, 1)
    assert result.to_frame()["with_field_defects"].tolist() == [1]
    written = pd.read_csv(result.quarantine_file, encoding="utf-8-sig")
    assert written[["outcome", "field", "reason"]].values.tolist() == [
        ["imported, field emptied", "closed_at", "closed_before_reported"]
    ]
    strict = import_file(
        ctx,
        ImportRequest(kind="cases", path=path, strict=("closed_before_reported",), write_quarantine=False),
    )
    assert (strict.report.duplicates, strict.report.quarantined) == (2, 1)  # C2 quarantined, not a duplicate
    with pytest.raises(ServiceError) as info:
        import_file(ctx, ImportRequest(kind="cases", path=path, strict=("lat_lon_swapped",)))
    assert info.value.code == "bad_request"


def test_cube_summary_counts_the_cases_without_a_place(ctx: ServiceContext, tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text(BODY, encoding="utf-8")
    import_file(ctx, ImportRequest(kind="cases", path=path, write_quarantine=False))
    filters = AnalysisFilters(period="day").resolved(ctx)
    cube, _ = analysis_cube(ctx, filters, rings=1)
    summary = summary_of(cube)
    assert (summary.n_cases, summary.n_unlocated) == (2, 1)
    assert "1 case(s) without a location not mapped" in summary.describe()
    assert unlocated_count(ctx, AnalysisFilters(categories=("06010",))) == 0
    assert unlocated_count(ctx, AnalysisFilters(sources=("patrol",))) == 1
