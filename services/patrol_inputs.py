"""Where the patrol services read: the store of the context, or a demo-city folder (``--city DIR``).

One :class:`PatrolInputs` per call gives the cases, the assignments valid at an instant or over a range
(:func:`cases.repository.select_valid_at` / :func:`~cases.repository.select_overlapping`: the one
definition), the cells with their districts, the track store and the street file, from either source.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from cases import repository, repository_patrol
from cases.repository_patrol import CityFolder
from services.context import ServiceContext
from services.errors import ServiceError


def local_day_bounds(
    day_first: dt.date, day_last: dt.date, timezone: str
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``[start of day_first, end of day_last)`` in ``timezone``, as UTC instants."""
    start = pd.Timestamp(day_first).tz_localize(timezone)
    end = pd.Timestamp(day_last + dt.timedelta(days=1)).tz_localize(timezone)
    return start.tz_convert("UTC"), end.tz_convert("UTC")


def instant(value: dt.datetime | dt.date | str | pd.Timestamp | None, timezone: str) -> pd.Timestamp:
    """A tz-aware UTC instant: ``value`` (naive = city time; a date = its local midnight), or now."""
    if value is None:
        return pd.Timestamp.now(tz="UTC")
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize(timezone)
    return ts.tz_convert("UTC")


@dataclasses.dataclass(frozen=True)
class PatrolInputs:
    """The inputs of one patrol service call (``folder`` None: the store of ``ctx``)."""

    ctx: ServiceContext
    folder: CityFolder | None = None

    @classmethod
    def of(cls, ctx: ServiceContext, city_dir: str | Path | None) -> PatrolInputs:
        if city_dir is None:
            return cls(ctx)
        root = Path(city_dir)
        if not (root / "cases" / "cases.parquet").is_file():
            raise ServiceError("no_city", f"{root} is not a demo-city folder (no cases/cases.parquet)")
        return cls(ctx, CityFolder(root))

    def cases(self, columns: tuple[str, ...] = repository_patrol.ROUTE_CASE_COLUMNS) -> pd.DataFrame:
        if self.folder is not None:
            frame = self.folder.cases()
            return frame[[c for c in columns if c in frame.columns]]
        return repository_patrol.patrol_cases(self.ctx.engine, columns)

    def assignments(self) -> pd.DataFrame:
        if self.folder is not None:
            return self.folder.assignments()
        return repository.assignments(self.ctx.engine)

    def assignments_valid_at(self, at: pd.Timestamp) -> pd.DataFrame:
        return repository.select_valid_at(self.assignments(), at)

    def assignments_overlapping(self, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        return repository.select_overlapping(self.assignments(), start, end)

    def area_cells(self) -> pd.DataFrame:
        """The study area's cells (``cell``, ``district``, ``subdistrict``, ``street_m`` or ``area_m2``)."""
        if self.folder is not None:
            return self.folder.cells()
        return repository_patrol.area_cells(self.ctx.engine, self.ctx.config.store_resolution)

    def inspectors(self) -> pd.DataFrame:
        if self.folder is not None:
            return self.folder.active_inspectors()
        return repository_patrol.active_inspectors(self.ctx.engine)

    def tracks(self, explicit: str | Path | None = None) -> Path | None:
        """The track store: ``explicit``, else the folder's, else the context's (None when there is none)."""
        if explicit is not None:
            return Path(explicit) if Path(explicit).is_dir() else None
        if self.folder is not None:
            return self.folder.tracks()
        return self.ctx.tracks_root()

    def streets(self) -> Path | None:
        return self.folder.streets() if self.folder is not None else None


def cells_with_districts(inputs: PatrolInputs, live: pd.DataFrame) -> pd.DataFrame:
    """The distinct cells of the assignments ``live`` with ``district`` (the stored areas', else the
    inspector's, else ``"all"``) and ``street_m`` or ``area_m2``, sorted by cell."""
    from grid.cells import cells_to_polygons

    cells = np.unique(live["cell"].to_numpy(dtype=np.int64))
    frame = pd.DataFrame({"cell": cells})
    grid = inputs.area_cells()
    if len(grid):
        frame = frame.merge(grid.drop_duplicates("cell"), on="cell", how="left")
    else:
        frame["district"] = None
    owner = live.sort_values("inspector_id").drop_duplicates("cell").set_index("cell")["inspector_id"]
    people = inputs.inspectors().set_index("inspector_id")["district"]
    fallback = pd.Series(cells).map(owner).map(people).fillna("all").to_numpy(dtype=object)
    district = frame["district"].astype(object).to_numpy()
    frame["district"] = np.where(pd.isna(district), fallback, district).astype(str)
    if "street_m" not in frame.columns or frame["street_m"].isna().any():
        frame = frame.drop(columns=["street_m"], errors="ignore")
        frame["area_m2"] = cells_to_polygons(cells)["area_m2"].to_numpy()
    return frame
