"""Open311 GeoReport v2 interop: cases exported as requests.json import back (open311 mapping) unchanged.

What GeoReport v2 carries survives exactly: id, service_code (category), agency (department), description,
address, WGS-84 point, requested (reported) and expected (deadline) times, open/closed. What it has no field
for is not carried: the intake channel (imported as ``other``), closed_at, the workflow times and urgency.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

from cases.db import init_db, make_engine
from cases.export import export_cases
from cases.importing import import_cases
from cases.lifecycle import load_lifecycle_frame, report_case, transition
from cases.mapping import load_mapping

T0 = dt.datetime(2025, 3, 3, 1, 0, tzinfo=dt.UTC)


def _store(engine: Engine) -> None:
    """Three cases: closed, dispatched (open), just reported; Chinese text and an XSS-looking description."""
    for k, description in enumerate(["暴露垃圾 <b>路边</b> & 桥下", "井盖缺失", "占道经营"]):
        report_case(engine, case_id=f"NT{k}", source="hotline", category_code=["06010", "01002", "09006"][k],
                    reported_at=T0 + dt.timedelta(minutes=k), actor="op", role="operator", lat=32.0 + k / 100,
                    lon=120.86, description=description, address=f"崇川区 {k} 号")  # fmt: skip
    steps = [("verify", "inspector"), ("register", "supervisor"), ("dispatch", "dispatcher")]
    for case, n in (("NT0", 3), ("NT1", 3)):
        for m, (action, role) in enumerate(steps[:n], start=1):
            extra = {"department": "320602-HW"} if action == "dispatch" else {}
            transition(engine, case, action, "x", role, T0 + dt.timedelta(minutes=10 * m), **extra)
    for m, (action, role) in enumerate(
        [("handle", "department"), ("check_pass", "inspector"), ("close", "supervisor")], start=4
    ):
        transition(engine, "NT0", action, "x", role, T0 + dt.timedelta(minutes=10 * m))


def test_open311_export_imports_back(sqlite_engine: Engine, tmp_path: Path) -> None:
    _store(sqlite_engine)
    out = tmp_path / "requests.json"
    assert export_cases(sqlite_engine, out, fmt="open311", timezone="Asia/Shanghai") == 3
    requests = {r["service_request_id"]: r for r in json.loads(out.read_text(encoding="utf-8"))}
    assert [requests[k]["status"] for k in ("NT0", "NT1", "NT2")] == ["closed", "open", "open"]
    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    init_db(other)
    report = import_cases(out, other, mapping=load_mapping("open311"))
    assert (report.read, report.imported, report.quarantined) == (3, 3, 0)
    before = load_lifecycle_frame(sqlite_engine).set_index("case_id")
    after = load_lifecycle_frame(other).set_index("case_id")
    other.dispose()
    assert list(after.index) == ["NT0", "NT1", "NT2"]
    for column in ("category_code", "department", "reported_at", "deadline_at", "lat", "lon", "cell"):
        pd.testing.assert_series_equal(after[column], before[column], check_dtype=False, obj=column)
    assert after["status"].tolist() == ["closed", "open", "open"]
    assert set(after["source"]) == {"other"}  # GeoReport v2 has no intake channel
    assert after["closed_at"].isna().all()  # nor a closing time (updated_datetime is any last change)
