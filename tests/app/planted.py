"""The planted city of the app tests (AppTest and browser): two inspectors' beats, cases, tasks, tracks.

A plain module, loaded by path from both conftests (tests have no packages).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.models import Assignment, Case, Inspector
from grid.cells import grid_disk, latlng_to_cells

XSS = "<img src=x onerror=alert(1)>"
PHONE = "13812345678"
#: Centres of the two inspectors' beats (WGS-84): I001 owns the cells within 2 rings of the first.
BEATS = {"I001": (32.010, 120.860), "I002": (32.030, 120.890)}
#: The planted open cases: name → (inspector, status, description); case id ``T-<name>``.
PLANTED = {
    "mine_verify": ("I001", "reported", XSS),
    "mine_check": ("I001", "resolved", "路灯已修复"),
    "mine_closed": ("I001", "closed", "已结案"),
    "other": ("I002", "reported", "别人的案件"),
}
FIRST_DAY = dt.datetime(2025, 1, 6, 2, tzinfo=dt.UTC)  # a Monday, 10:00 in Nanjing time


def beat_cells(inspector_id: str) -> np.ndarray:
    """The res-10 cells of an inspector's beat: the centre cell and two rings around it (19 cells)."""
    lat, lon = BEATS[inspector_id]
    centre = latlng_to_cells(np.array([lat]), np.array([lon]), 10)
    return np.unique(grid_disk(centre, 2)["neighbour"].to_numpy())


def plant_city(engine: Engine, data_dir: Path) -> dict[str, str]:
    """Two inspectors with beats, 20 weeks of cases with a growing cluster in I001's beat, open tasks
    for both inspectors (one with an XSS description and a phone number), and two days of I001's tracks.

    Returns the ids of the planted open cases: ``mine_verify``, ``mine_check``, ``mine_closed``, ``other``.
    """
    from sqlalchemy.orm import Session

    from patrol.store import write_tracks

    with Session(engine) as session:
        session.add(Inspector(inspector_id="I002", name="李四", district="320613", active=True))
        session.commit()
    rows = [
        {
            "inspector_id": i,
            "cell": int(c),
            "valid_from": dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
            "valid_to": None,
        }
        for i in BEATS
        for c in beat_cells(i)
    ]
    rng = np.random.default_rng(9)
    cases = []
    # background over both beats and a cluster in I001's beat that grows week after week
    for week in range(20):
        n_back, n_cluster = 6, 2 + week
        lat = np.concatenate(
            [rng.uniform(32.0, 32.04, n_back), BEATS["I001"][0] + rng.normal(0, 3e-4, n_cluster)]
        )
        lon = np.concatenate(
            [rng.uniform(120.85, 120.90, n_back), BEATS["I001"][1] + rng.normal(0, 3e-4, n_cluster)]
        )
        cells = latlng_to_cells(lat, lon, 10)
        for j in range(lat.size):
            # Every history case went the whole way; 环卫 fixes in 10 h (on time), 城管 in 50 h (late).
            reported = FIRST_DAY + dt.timedelta(weeks=week, days=int(rng.integers(0, 7)))
            dispatched = reported + dt.timedelta(hours=2)
            resolved = dispatched + dt.timedelta(hours=10 if j % 2 else 50)
            cases.append(
                {
                    "case_id": f"H{week:02d}-{j:02d}",
                    "source": "hotline" if j % 3 else "patrol",
                    "category_code": "06010" if j % 2 else "09009",
                    "lat": float(lat[j]),
                    "lon": float(lon[j]),
                    "cell": int(cells[j]),
                    "reported_at": reported,
                    "registered_at": reported + dt.timedelta(hours=1),
                    "dispatched_at": dispatched,
                    "department": "环卫" if j % 2 else "城管",
                    "deadline_at": dispatched + dt.timedelta(hours=24),
                    "resolved_at": resolved,
                    "verified_at": resolved + dt.timedelta(hours=1),
                    "closed_at": resolved + dt.timedelta(hours=2),
                    "status": "closed",
                    "description": f"历史案件 {week}",
                    "reporter_phone": None,
                    "satisfaction": 1.0,
                    "version": 1,
                }
            )
    open_cases = PLANTED
    ids = {}
    for n, (name, (inspector, status, text)) in enumerate(open_cases.items()):
        lat, lon = BEATS[inspector]
        case_id = f"T-{name}"
        ids[name] = case_id
        cases.append(
            {
                "case_id": case_id,
                "source": "hotline",
                "category_code": "06010",
                "lat": lat + 1.5e-4 * n,
                "lon": lon,
                "cell": int(latlng_to_cells(np.array([lat + 1.5e-4 * n]), np.array([lon]), 10)[0]),
                "reported_at": FIRST_DAY + dt.timedelta(weeks=19, days=3),
                "resolved_at": FIRST_DAY + dt.timedelta(weeks=19, days=4) if status != "reported" else None,
                "deadline_at": FIRST_DAY + dt.timedelta(weeks=19, days=5),
                "status": status,
                "description": text,
                "reporter_phone": PHONE,
                "registered_at": None,
                "dispatched_at": None,
                "department": None,
                "verified_at": None,
                "closed_at": None,
                "satisfaction": None,
                "version": 1,
            }
        )
    with engine.begin() as conn:
        conn.execute(sa.insert(Assignment), rows)
        conn.execute(sa.insert(Case), cases)
    # I001 walks east through the middle of the beat on two days, a fix every 5 s at 1.2 m/s
    points = []
    for day in (FIRST_DAY + dt.timedelta(weeks=19, days=d) for d in (5, 6)):
        ts = pd.date_range(day, periods=60, freq="5s")
        points.append(
            pd.DataFrame(
                {
                    "inspector_id": "I001",
                    "ts": ts,
                    "lat": BEATS["I001"][0],
                    "lon": BEATS["I001"][1] - 0.002 + np.arange(60) * 6.0 / 94_400,
                    "accuracy_m": np.float32(5.0),
                }
            )
        )
    write_tracks(pd.concat(points, ignore_index=True), data_dir / "tracks")
    return ids


def add_case_today(engine: Engine) -> str:
    """One open case reported an hour ago (by the machine's clock) in I001's beat, or at the demo city's
    first inspector's first cell when the store has no I001 beat; returns its id."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    with engine.connect() as conn:
        cell = conn.execute(sa.select(Assignment.cell).order_by(Assignment.inspector_id).limit(1)).scalar()
    if cell is None:
        lat, lon = BEATS["I001"]
        cell = int(latlng_to_cells(np.array([lat]), np.array([lon]), 10)[0])
    else:
        from grid.cells import cell_centers

        lat_a, lon_a = cell_centers(np.array([cell], dtype=np.int64))
        lat, lon = float(lat_a[0]), float(lon_a[0])
    row = {
        "case_id": "T-today",
        "source": "hotline",
        "category_code": "06010",
        "lat": lat,
        "lon": lon,
        "cell": int(cell),
        "reported_at": now,
        "registered_at": now,
        "deadline_at": now + dt.timedelta(hours=24),
        "status": "reported",
        "description": "今天的案件",
        "version": 1,
    }
    with engine.begin() as conn:
        conn.execute(sa.insert(Case), [row])
    return row["case_id"]
