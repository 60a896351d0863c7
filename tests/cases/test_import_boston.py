"""The Boston 311 (2015) extract through the CLI with the shipped mapping: counts, quarantine, clusters.

Facts checked against the dataset README (../shared/datasets/boston311_2015/README.md): 121,145 rows; 197 rows
close before they open (all by less than a minute, a clock skew between systems); 17,070 rows sit on the City
Hall default point (42.3594, -71.0587). Six of those 17,070 are among the 197, so they are quarantined and the
other 17,064 are imported with the suspicious-cluster flag; no other point is flagged.
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
    assert "read 121145, imported 120948, duplicates 0, quarantined 197 (flagged 17064)" in first.output
    assert "quarantined rows written to" in first.output
    assert "closed_before_reported 197" in first.output
    assert "17,064 of 120,948 located rows (14.1%) sit on exactly (42.3594, -71.0587)" in first.output
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
        on_point = conn.execute(
            sa.select(sa.func.count())
            .select_from(QuarantineRow)
            .where(QuarantineRow.raw.contains('"LATITUDE":"42.3594","LONGITUDE":"-71.0587"'))
        ).scalar_one()
        sources = dict(conn.execute(sa.select(Case.source, sa.func.count()).group_by(Case.source)).all())
    assert [tuple(r) for r in flagged] == [(SUSPICIOUS_CLUSTER, 42.3594, -71.0587, 17064)]
    assert [tuple(r) for r in reasons] == [("closed_before_reported", 197)]
    assert on_point == 6  # 17,064 + 6 = the README's 17,070 default-point rows
    assert set(sources) <= {"hotline", "patrol", "wechat", "video", "other"}
    assert sum(sources.values()) == 120948
    second = CliRunner().invoke(main, args)
    assert second.exit_code == 0, second.output
    assert "read 121145, imported 0, duplicates 120948, quarantined 197" in second.output
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Case)).scalar_one() == 120948
    engine.dispose()
