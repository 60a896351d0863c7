"""Load the demo city's files into the store through the product's public importers.

Areas (district → subdistrict → community GeoJSON) go through :func:`cases.areas.import_areas`, inspectors
and assignments through :func:`cases.people.import_inspectors` / :func:`~cases.people.import_assignments`,
cases (``cases/cases.csv`` in the contract's columns, no mapping) through
:func:`cases.importing.import_cases`. Departments and the case events have no importer: they are inserted
with SQLAlchemy Core (:func:`cases.bulk.insert_frame`) into the ``departments`` and ``case_events`` tables
of :mod:`cases.models`, only where missing (departments by id; events for stored cases that have none yet),
so loading twice adds nothing. Finally one demo user per role is created
(:func:`cases.users.ensure_demo_users`, the inspector account bound to the first inspector) and the new
passwords are appended to the users file, as ``gridpatrol users demo`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

#: (level, file under ``geo/``) in load order: parents before children.
AREA_FILES = (("district", "districts"), ("subdistrict", "subdistricts"), ("community", "communities"))


@dataclass(frozen=True)
class InsertReport:
    """Outcome of a plain insert of a file without an importer: rows read, inserted, already stored."""

    kind: str
    file: str
    read: int
    imported: int
    duplicates: int
    quarantined: int = 0

    def summary(self) -> str:
        """One line in the importers' format."""
        return (
            f"{self.file}: read {self.read}, imported {self.imported}, duplicates {self.duplicates}, "
            f"quarantined {self.quarantined}"
        )


def load_demo(out_dir: str | Path, engine: Engine, *, users_file: Path | None = None) -> dict[str, Any]:
    """Import the demo files under ``out_dir`` into the (migrated) database behind ``engine``.

    Parameters
    ----------
    out_dir
        A folder written by ``gridpatrol demo-data`` (:func:`sim.run.simulate`).
    engine
        The database, migrated already (:func:`cases.db.init_db`).
    users_file
        Where the passwords of newly created demo users are appended (``None``: no users are created).

    Returns
    -------
    dict
        Name → report (:class:`cases.report.ImportReport` or :class:`InsertReport`) in load order, plus
        ``"users"``: username → password of the demo users created by this call.
    """
    from cases.areas import import_areas
    from cases.importing import import_cases
    from cases.people import import_assignments, import_inspectors

    out = Path(out_dir)
    reports: dict[str, Any] = {}
    for level, name in AREA_FILES:
        reports[f"areas_{level}"] = import_areas(
            out / "geo" / f"{name}.geojson",
            engine,
            level=level,
            id_field="code",
            name_field="name",
            parent_field=None if level == "district" else "parent_code",
        )
    # --- addresses (H2): the address / POI table of sim.addresses; folders written before it lack it ---
    if (out / "geo" / "addresses.csv").exists():
        from cases.addresses import import_addresses

        reports["addresses"] = import_addresses(out / "geo" / "addresses.csv", engine)
    # --- end addresses ---
    reports["inspectors"] = import_inspectors(out / "people" / "inspectors.csv", engine)
    reports["assignments"] = import_assignments(out / "people" / "assignments.csv", engine)
    reports["departments"] = _load_departments(engine, out / "people" / "departments.csv")
    reports["cases"] = import_cases(out / "cases" / "cases.csv", engine, time_window=_demo_window(out))
    reports["events"] = _load_events(engine, out / "cases" / "case_events.parquet")
    # --- base map (H5): the demo city's streets and river, drawn under every map ---
    from cases.basemap import import_basemap

    reports["basemap_streets"] = import_basemap(out / "geo" / "streets.parquet", engine, kind="street")
    reports["basemap_water"] = import_basemap(out / "geo" / "river.geojson", engine, kind="water")
    # --- end base map ---
    reports["users"] = _demo_users(engine, out, users_file) if users_file is not None else {}
    return reports


def _load_departments(engine: Engine, path: Path) -> InsertReport:
    from cases.bulk import insert_frame
    from cases.models import Department

    table = Department.__table__
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)[["department_id", "name", "district"]]
    with engine.begin() as conn:
        stored = set(conn.execute(sa.select(table.c.department_id)).scalars())
        new = frame[~frame["department_id"].isin(stored)]
        insert_frame(conn, table, new)
    return InsertReport("departments", str(path), len(frame), len(new), len(frame) - len(new))


def _load_events(engine: Engine, path: Path) -> InsertReport:
    """Insert the events of stored cases that have no events yet (one transaction)."""
    from cases.bulk import deferred_indexes, fast_writes, insert_frame
    from cases.models import Case, CaseEvent

    events = pd.read_parquet(path)
    table = CaseEvent.__table__
    with engine.begin() as conn, fast_writes(conn):
        cases = set(conn.execute(sa.select(Case.__table__.c.case_id)).scalars())
        done = set(conn.execute(sa.select(table.c.case_id).distinct()).scalars())
        todo = events["case_id"].isin(cases - done).to_numpy()
        new = events[todo]
        if len(new):
            insert_frame(conn, table, new.iloc[:1])  # opens the transaction before any DDL
            with deferred_indexes(conn, table, len(new)):
                insert_frame(conn, table, new.iloc[1:])
    stored = events["case_id"].isin(cases).to_numpy()
    n_new, n_dup = int(todo.sum()), int((stored & ~todo).sum())
    return InsertReport("case_events", str(path), len(events), n_new, n_dup, int((~stored).sum()))


def _demo_users(engine: Engine, out: Path, users_file: Path) -> dict[str, str]:
    """Create the missing demo users; append their passwords to ``users_file`` (as ``users demo`` does)."""
    from cases.users import ensure_demo_users

    first = pd.read_csv(out / "people" / "inspectors.csv", dtype=str, nrows=1)["inspector_id"]
    created = ensure_demo_users(engine, inspector_id=first.iloc[0] if len(first) else None)
    if created:
        users_file.parent.mkdir(parents=True, exist_ok=True)
        with users_file.open("a", encoding="utf-8") as fh:
            for username, password in created.items():
                fh.write(f"{username} {password}\n")
    return created


def _demo_window(out: Path) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """A plausibility window covering the simulated days (``truth/config.json``): from the day before the
    first to 30 days after the last (or tomorrow, whichever is later); None (the default) without it."""
    import json

    path = out / "truth" / "config.json"
    if not path.is_file():
        return None
    config = json.loads(path.read_text(encoding="utf-8"))
    start = pd.Timestamp(config["start"], tz="UTC") - pd.Timedelta(days=1)
    end = start + pd.Timedelta(days=int(config["days"]) + 31)
    return start, max(end, pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=1))
