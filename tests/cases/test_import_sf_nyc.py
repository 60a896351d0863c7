"""The shipped ``sf311`` and ``nyc311`` mappings on the shared samples (issue 22).

SF 311 sample (../shared/datasets/sf311_sample): 4,984 rows; 55 rows close before they open (the export's
12-hour clock slip in ``Closed``): imported with ``closed_at`` empty and a field defect, present in the cube.
NYC 311 micro-sample (../shared/datasets/nyc311_2011_micro): 2,000 rows, 598 without a location: imported
with ``location_flag = "no_location"``, counted by ``gridpatrol kpi`` and left out of the hot-spot cube,
both stated in the output.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from app.cli import main
from cases.db import make_engine
from cases.models import Case
from cases.repository import cases_frame
from tests.conftest import SHARED_DATASETS, migrated_sqlite

SF_CSV = SHARED_DATASETS / "sf311_sample" / "cases_sample.csv"
NYC_CSV = SHARED_DATASETS / "nyc311_2011_micro" / "311_subset_micro.csv"


def _need(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path.name} not found at {path.resolve()} (../shared/datasets is absent)")


@pytest.mark.shared_data
def test_sf311_sample_keeps_the_cases_closed_before_reported(tmp_path: Path) -> None:
    _need(SF_CSV)
    url = migrated_sqlite(tmp_path / "sf.db")
    args = ["--db-url", url, "import", "cases", str(SF_CSV), "--mapping", "sf311"]
    result = CliRunner().invoke(main, [*args, "--quarantine-out", str(tmp_path / "q.csv")])
    assert result.exit_code == 0, result.output
    assert "read 4984, imported 4984, duplicates 0, quarantined 0" in result.output
    assert "closed_before_reported closed_at 55" in result.output
    engine = make_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(Case)).scalar_one()
        emptied = (
            conn.execute(sa.select(Case.case_id).where(Case.status == "Closed", Case.closed_at.is_(None)))
            .scalars()
            .all()
        )
    located = cases_frame(engine)
    engine.dispose()
    assert stored == 4984
    table = pd.read_csv(tmp_path / "q.csv", encoding="utf-8-sig")
    assert table["outcome"].eq("imported, field emptied").all()
    assert (table["reason"] == "closed_before_reported").sum() == 55
    assert len(emptied) == 55  # every other closed case has its Closed time
    assert set(emptied) <= set(located["case_id"].astype(str))  # located: in the hot-spot cube's input
    strict = CliRunner().invoke(
        main,
        [
            "--db-url",
            migrated_sqlite(tmp_path / "sf2.db"),
            *args[2:],
            "--strict",
            "closed_before_reported",
            "--quarantine-out",
            str(tmp_path / "q2.csv"),
            "--quarantine-out",
            str(tmp_path / "q2.csv"),
        ],
    )
    assert "quarantined 55" in strict.output, strict.output


@pytest.mark.shared_data
def test_nyc311_micro_sample_cases_without_a_place(tmp_path: Path) -> None:
    _need(NYC_CSV)
    url = migrated_sqlite(tmp_path / "nyc.db")
    args = ["--db-url", url, "import", "cases", str(NYC_CSV), "--mapping", "nyc311"]
    result = CliRunner().invoke(main, [*args, "--quarantine-out", str(tmp_path / "q.csv")])
    assert result.exit_code == 0, result.output
    assert "read 2000, imported 2000, duplicates 0, quarantined 0" in result.output
    engine = make_engine(url)
    with engine.connect() as conn:
        flags = dict(
            conn.execute(sa.select(Case.location_flag, sa.func.count()).group_by(Case.location_flag)).all()
        )
    engine.dispose()
    assert flags == {None: 1402, "no_location": 598}
    kpi = CliRunner().invoke(main, ["--db-url", url, "kpi", "--by", "department"])
    assert kpi.exit_code == 0, kpi.output
    assert "2,000 filed case(s)" in kpi.output
    assert "598 of the filed case(s) have no location: counted here, not mapped" in kpi.output
    hot = CliRunner().invoke(main, ["--db-url", url, "hotspots", "--res", "8", "--period", "month"])
    assert hot.exit_code == 0, hot.output
    assert "1,402 case(s)" in hot.output
    assert "598 case(s) without a location not mapped" in hot.output
