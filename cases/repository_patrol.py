"""The data-access layer, patrol part: what coverage, beats, staffing, routes, effectiveness and the
inspector's field page read, from the store or from a demo-city folder.

Like :mod:`cases.repository` (whose "assignments valid at t" every function here relies on), front-ends
never call these: the services in :mod:`services.coverage`, :mod:`services.deployment` and
:mod:`services.field` do. :class:`CityFolder` reads a folder written by ``gridpatrol demo-data``
(``cases/cases.parquet``, ``people/*.csv``, ``geo/cells.parquet``, ``geo/streets.parquet``, ``tracks/``)
with the same columns as the store, so a service does not care where its inputs come from.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.lifecycle_frames import load_events
from cases.models import Case, Inspector
from cases.repository import ASSIGNMENT_COLUMNS, chunks, load_areas
from cases.store import CASE_COLUMNS, load_case_frame

__all__ = [
    "EFFECTIVENESS_CASE_COLUMNS",
    "ROUTE_CASE_COLUMNS",
    "TASK_COLUMNS",
    "CityFolder",
    "active_inspectors",
    "area_cells",
    "case_cell_status",
    "case_events",
    "open_cases_in_cells",
    "patrol_cases",
]

#: Cases with what routes need: the cube's columns, the status and the deadline (open tasks).
ROUTE_CASE_COLUMNS = (*CASE_COLUMNS, "status", "deadline_at")
#: Cases with what effectiveness needs: who reported a patrol find.
EFFECTIVENESS_CASE_COLUMNS = (*CASE_COLUMNS, "reported_by")
#: Columns of :func:`open_cases_in_cells` (the phone is masked by the service for the caller's role).
TASK_COLUMNS = (
    "case_id",
    "status",
    "category_code",
    "reported_at",
    "resolved_at",
    "deadline_at",
    "lat",
    "lon",
    "cell",
    "address",
    "description",
    "reporter_phone",
)


def patrol_cases(engine: Engine, columns: tuple[str, ...] = ROUTE_CASE_COLUMNS) -> pd.DataFrame:
    """The located cases with ``columns`` (:func:`cases.store.load_case_frame`), without the points flagged
    as a default-geocode cluster (``location_flag == "suspicious_cluster"``)."""
    frame = load_case_frame(engine, columns)
    if "location_flag" in frame.columns:
        frame = frame[frame["location_flag"].ne("suspicious_cluster").fillna(True).to_numpy()]
    return frame.reset_index(drop=True)


def case_events(engine: Engine) -> pd.DataFrame:
    """Every case event: ``case_id``, ``at`` (UTC), ``from_status``, ``to_status``, ``actor`` (text as plain
    objects, ``None`` when missing: what :mod:`patrol.effectiveness` compares)."""
    frame = load_events(engine)[["case_id", "at", "from_status", "to_status", "actor"]].copy()
    for column in ("case_id", "from_status", "to_status", "actor"):
        values = frame[column].astype(object)
        frame[column] = values.where(frame[column].notna().to_numpy(), None)
    return frame


def area_cells(engine: Engine, res: int = 10) -> pd.DataFrame:
    """The study area's cells with their areas (``cell``, ``district``, ``subdistrict``, ``area_m2``) from
    the stored area polygons; empty (with those columns) when no area is stored."""
    areas = load_areas(engine)
    if not len(areas):
        return pd.DataFrame(
            {
                "cell": np.array([], dtype=np.int64),
                "district": pd.Series([], dtype=object),
                "subdistrict": pd.Series([], dtype=object),
                "area_m2": np.array([], dtype=np.float64),
            }
        )
    from grid.build import cells_from_polygons

    grid = cells_from_polygons(areas, res=res)
    keep = [c for c in ("cell", "district", "subdistrict", "area_m2") if c in grid.columns]
    return pd.DataFrame(grid[keep]).reset_index(drop=True)


def active_inspectors(engine: Engine) -> pd.DataFrame:
    """The active inspectors: ``inspector_id``, ``name``, ``district``."""
    i = Inspector.__table__.c
    query = sa.select(i.inspector_id, i.name, i.district).where(i.active.is_(True)).order_by(i.inspector_id)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return pd.DataFrame(rows, columns=["inspector_id", "name", "district"])


def open_cases_in_cells(engine: Engine, cells: Sequence[int], statuses: Sequence[str]) -> pd.DataFrame:
    """Cases in ``cells`` whose status is one of ``statuses``, :data:`TASK_COLUMNS` (times UTC)."""
    table = Case.__table__
    selected = [table.c[name] for name in TASK_COLUMNS]
    rows: list[tuple] = []
    with engine.connect() as conn:
        for chunk in chunks([int(x) for x in cells]):
            query = sa.select(*selected).where(table.c.cell.in_(chunk), table.c.status.in_(list(statuses)))
            rows.extend(conn.execute(query).all())
    frame = pd.DataFrame(rows, columns=list(TASK_COLUMNS))
    for column in ("reported_at", "resolved_at", "deadline_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def case_cell_status(engine: Engine, case_id: str) -> tuple[int | None, str] | None:
    """``(cell, status)`` of case ``case_id``, or ``None`` when there is no such case."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(Case.cell, Case.status).where(Case.case_id == case_id)).one_or_none()
    if row is None:
        return None
    return (None if row[0] is None else int(row[0]), str(row[1]))


@dataclasses.dataclass(frozen=True)
class CityFolder:
    """A demo-city folder (``gridpatrol demo-data --out DIR``) read with the store's columns."""

    root: Path

    def cases(self) -> pd.DataFrame:
        """The cases (``reported_at`` … tz-aware UTC, ``cell`` int64)."""
        frame = pd.read_parquet(self.root / "cases" / "cases.parquet")
        for column in frame.columns:
            if column.endswith("_at"):
                frame[column] = pd.to_datetime(frame[column], utc=True)
        return frame

    def assignments(self) -> pd.DataFrame:
        """The assignments contract (``valid_to`` NaT = still valid)."""
        from grid.cells import strings_to_cells

        frame = pd.read_csv(self.root / "people" / "assignments.csv", dtype=str)
        frame["cell"] = strings_to_cells(frame["cell"].to_numpy())
        for column in ("valid_from", "valid_to"):
            frame[column] = pd.to_datetime(frame[column], utc=True)
        return frame[list(ASSIGNMENT_COLUMNS)]

    def cells(self) -> pd.DataFrame:
        """The cells contract (``cell``, ``district``, ``subdistrict``, ``street_m``, ``area_m2``)."""
        import geopandas as gpd

        grid = gpd.read_parquet(self.root / "geo" / "cells.parquet")
        keep = [c for c in ("cell", "district", "subdistrict", "street_m", "area_m2") if c in grid.columns]
        return pd.DataFrame(grid[keep]).reset_index(drop=True)

    def active_inspectors(self) -> pd.DataFrame:
        """The active inspectors: ``inspector_id``, ``name``, ``district``."""
        people = pd.read_csv(self.root / "people" / "inspectors.csv", dtype=str)
        active = people["active"].str.lower().eq("true").to_numpy()
        return people.loc[active, ["inspector_id", "name", "district"]].reset_index(drop=True)

    def streets(self) -> Path | None:
        """The street LineStrings of the city, if written."""
        path = self.root / "geo" / "streets.parquet"
        return path if path.exists() else None

    def tracks(self) -> Path | None:
        """The track store of the city, if written."""
        path = self.root / "tracks"
        return path if path.is_dir() else None
