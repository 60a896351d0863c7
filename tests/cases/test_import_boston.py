"""The Boston 311 (2015) extract through the CLI with the shipped mapping: counts, quarantine, clusters.

Facts checked against the dataset README (../shared/datasets/boston311_2015/README.md): 121,145 rows; 197 rows
close before they open (all by less than a minute, a clock skew between systems): they are imported with
``closed_at`` empty and a field defect (closed_before_reported); 17,070 rows sit on the City Hall default
point (42.3594, -71.0587): imported with the suspicious-cluster flag; no other point is flagged.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from app.cli import main
from cases.db import make_engine
from cases.importing import SUSPICIOUS_CLUSTER
from cases.models import Case, QuarantineRow
from tests.conftest import SHARED_DATASETS, migrated_sqlite

BOSTON = SHARED_DATASETS / "boston311_2015"
BOSTON_CSV = BOSTON / "boston311_2015.csv.gz"


@pytest.mark.shared_data
def test_boston_import_via_cli(tmp_path: Path) -> None:
    if not BOSTON_CSV.exists():
        pytest.skip(f"Boston 311 extract not found at {BOSTON_CSV.resolve()} (../shared/datasets is absent)")
    url = migrated_sqlite(tmp_path / "boston.db")
    args = ["--db-url", url, "import", "cases", str(BOSTON_CSV), "--mapping", "boston311"]
    args += ["--quarantine-out", str(tmp_path / "q.csv")]
    first = CliRunner().invoke(main, args)  # ~15 s of CPU on a slow laptop core
    assert first.exit_code == 0, first.output
    assert "read 121145, imported 121145, duplicates 0, quarantined 0 (flagged 17070)" in first.output
    assert "121145 imported, of which 197 with field defects" in first.output
    assert "closed_before_reported closed_at 197" in first.output
    assert "17,070 of 121,145 located rows (14.1%) sit on exactly (42.3594, -71.0587)" in first.output
    engine = make_engine(url)
    with engine.connect() as conn:
        flagged = conn.execute(
            sa.select(Case.location_flag, Case.lat, Case.lon, sa.func.count())
            .where(Case.location_flag.is_not(None))
            .group_by(Case.location_flag, Case.lat, Case.lon)
        ).all()
        reasons = conn.execute(
            sa.select(QuarantineRow.reason, sa.func.count()).group_by(QuarantineRow.reason)
        ).all()
        no_close = conn.execute(
            sa.select(sa.func.count())
            .select_from(Case)
            .where(Case.closed_at.is_(None), Case.status == "Closed")
        ).scalar_one()
        sources = dict(conn.execute(sa.select(Case.source, sa.func.count()).group_by(Case.source)).all())
    assert [tuple(r) for r in flagged] == [(SUSPICIOUS_CLUSTER, 42.3594, -71.0587, 17070)]
    assert [tuple(r) for r in reasons] == [("defect:closed_before_reported", 197)]
    assert no_close >= 197
    assert set(sources) <= {"hotline", "patrol", "wechat", "video", "other"}
    assert sum(sources.values()) == 121145
    second = CliRunner().invoke(main, args)
    assert second.exit_code == 0, second.output
    assert "read 121145, imported 0, duplicates 121145, quarantined 0" in second.output
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Case)).scalar_one() == 121145
    engine.dispose()
