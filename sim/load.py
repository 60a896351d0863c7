"""Load the demo city's files into the store through the product's public importers.

Areas (district → subdistrict → community GeoJSON), inspectors, assignments and cases (``cases.csv`` in the
contract's columns, imported with no mapping) go through ``cases.areas.import_areas``,
``cases.people.import_inspectors`` / ``import_assignments`` and ``cases.importing.import_cases``.
Departments and the case events have no importer: they are inserted with SQLAlchemy Core into the tables
of ``cases.models`` (events only when the case importer did not write any).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine


def load_demo(out_dir: str | Path, engine: Engine) -> dict[str, Any]:
    """Import the demo files under ``out_dir`` into the database behind ``engine``; returns the reports."""
    from cases.areas import import_areas
    from cases.models import CaseEvent, Department

    out = Path(out_dir)
    reports: dict[str, Any] = {}
    for level, name in (
        ("district", "districts"),
        ("subdistrict", "subdistricts"),
        ("community", "communities"),
    ):
        reports[f"areas_{level}"] = import_areas(
            out / "geo" / f"{name}.geojson",
            engine,
            level=level,
            id_field="code",
            name_field="name",
            parent_field=None if level == "district" else "parent_code",
        )
    from cases.people import import_assignments, import_inspectors

    reports["inspectors"] = import_inspectors(out / "people" / "inspectors.csv", engine)
    reports["assignments"] = import_assignments(out / "people" / "assignments.csv", engine)
    _upsert_departments(engine, pd.read_csv(out / "people" / "departments.csv", dtype=str), Department)
    from cases.importing import import_cases

    reports["cases"] = import_cases(out / "cases" / "cases.csv", engine)
    with engine.connect() as conn:
        has_events = conn.execute(sa.select(sa.func.count()).select_from(CaseEvent.__table__)).scalar_one()
    if not has_events:
        events = pd.read_parquet(out / "cases" / "case_events.parquet")
        _insert_events(engine, events, CaseEvent)
    reports["events"] = "inserted" if not has_events else "written by the importer"
    return reports


def _upsert_departments(engine: Engine, frame: pd.DataFrame, model: Any) -> None:
    table = model.__table__
    with engine.begin() as conn:
        existing = set(conn.execute(sa.select(table.c.department_id)).scalars())
        rows = [r for r in frame.to_dict("records") if r["department_id"] not in existing]
        if rows:
            conn.execute(table.insert(), rows)


def _insert_events(engine: Engine, events: pd.DataFrame, model: Any, chunk: int = 50_000) -> None:
    table = model.__table__
    events = events.astype(object).where(events.notna(), None)
    records = events[["case_id", "at", "from_status", "to_status", "actor", "note"]].to_dict("records")
    for r in records:
        r["at"] = pd.Timestamp(r["at"]).to_pydatetime()
    with engine.begin() as conn:
        for k in range(0, len(records), chunk):
            conn.execute(table.insert(), records[k : k + chunk])
