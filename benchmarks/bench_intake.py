"""Command-centre speed on the 60-day demo city (quick: 14 days): intake to a saved case, and each queue.

The city is simulated and loaded into a throw-away SQLite store (:func:`sim.run.simulate`,
:func:`sim.load.load_demo`; as the ``demo60`` test fixture: 150 cases a day, 12 inspectors). Timed as
the server does it for a page, with the role's actor:

- ``intake_preview``: :func:`services.intake.preview_intake` of a hotline call (location, areas,
  department, deadline, duplicates within the radius and window);
- ``intake_register``: :func:`services.intake.register_intake` of a call to a saved case (the preview
  again, the row checks, the case and its first event written). Target (issue 20): ≤ 1 s server time;
- ``dispatch_queue``, ``department_queue`` (the busiest department), ``approvals_queue`` and ``alerts``
  (:mod:`services.queues`, :mod:`services.alerts`) as of the demo's last day.

Reported, not asserted: each row is the best of ``repeat`` runs.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks._measure import measure

BENCHMARK = "intake"
CATEGORY = "07001"
#: The demo60 fixture's city (tests/conftest.py DEMO60_CONFIG).
CITY = {
    "n_inspectors": 12,
    "cases_per_day": 150.0,
    "area_km2": 16.0,
    "n_subdistricts": 6,
    "n_communities": 20,
}


def _city(folder: Path, days: int) -> Any:
    """Simulate and load the demo city into ``folder``; a system service context on it."""
    from cases.db import init_db, make_engine
    from grid.config import load_city_config
    from services.context import ServiceContext
    from sim.config import DemoConfig
    from sim.load import load_demo
    from sim.run import simulate

    out = folder / "geo" / "demo"
    simulate(DemoConfig(days=days, **CITY), out)
    engine = make_engine(f"sqlite:///{(folder / 'gridpatrol.db').as_posix()}")
    init_db(engine)
    load_demo(out, engine)
    return ServiceContext(engine=engine, config=load_city_config(), data_dir=folder)


def _last_day(ctx: Any) -> dt.date:
    from cases.lifecycle import load_lifecycle_frame

    reported = pd.to_datetime(load_lifecycle_frame(ctx.engine)["reported_at"], utc=True)
    return reported.max().tz_convert(ctx.timezone).date()


def _row(subject: str, n: int, seconds: float, **extra: Any) -> dict[str, Any]:
    return {"benchmark": BENCHMARK, "subject": subject, "n": n, "seconds": seconds,
            "per_s": n / seconds if seconds else float("nan"), **extra}  # fmt: skip


def run(quick: bool = False) -> list[dict[str, Any]]:
    from cases import repository
    from cases.lifecycle import load_lifecycle_frame
    from grid.cells import cell_centers
    from services.alerts import AlertsRequest, alerts
    from services.context import Actor
    from services.intake import IntakeDraft, preview_intake, register_intake
    from services.queues import QueueRequest, approvals_queue, department_queue, dispatch_queue

    days, repeat = (14, 3) if quick else (60, 5)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp:
        ctx = _city(Path(tmp), days)
        try:
            day = _last_day(ctx)
            cells = repository.assignments(ctx.engine)["cell"].to_numpy(dtype=np.int64)
            lat, lon = cell_centers(np.sort(cells)[cells.size // 2 : cells.size // 2 + 1])
            operator = ctx.as_actor(Actor("bench-operator", "operator"))
            draft = IntakeDraft(
                CATEGORY, "垃圾桶满溢", lat=float(lat[0]), lon=float(lon[0]), reporter_phone="13812345678"
            )
            seconds, _, preview = measure(lambda: preview_intake(operator, draft), repeat=repeat)
            rows.append(_row("intake_preview", 1, seconds, duplicates=len(preview.duplicates)))
            seconds, _, saved = measure(lambda: register_intake(operator, draft), repeat=repeat)
            rows.append(_row("intake_register", 1, seconds, target_s=1.0, case=saved.case_id))

            request = QueueRequest(as_of=day)
            dispatcher = ctx.as_actor(Actor("bench-dispatcher", "dispatcher"))
            supervisor = ctx.as_actor(Actor("bench-supervisor", "supervisor"))
            seconds, _, queue = measure(lambda: dispatch_queue(dispatcher, request), repeat=repeat)
            rows.append(_row("dispatch_queue", len(queue.to_frame()), seconds))
            cases = load_lifecycle_frame(ctx.engine)
            running = cases[
                cases["status"].isin(["dispatched", "extension_requested", "suspension_requested"])
            ]
            busiest = str(running["department"].value_counts().index[0])
            department = ctx.as_actor(Actor("bench-department", "department", department=busiest))
            seconds, _, queue = measure(lambda: department_queue(department, request), repeat=repeat)
            rows.append(_row("department_queue", len(queue.to_frame()), seconds, department=busiest))
            seconds, _, queue = measure(lambda: approvals_queue(supervisor, request), repeat=repeat)
            rows.append(_row("approvals_queue", len(queue.to_frame()), seconds))
            seconds, _, flagged = measure(lambda: alerts(supervisor, AlertsRequest(as_of=day)), repeat=repeat)
            rows.append(_row("alerts", len(flagged.to_frame()), seconds))
        finally:
            ctx.engine.dispose()
    return rows
