"""Area polygons in the SQL store: import from GIS files (idempotent, one transaction) and load them back.

Reading, CRS conversion and geometry checks are :func:`grid.areas.read_areas`; this module only decides
insert / update / duplicate against the ``areas`` table and records the run (``import_batches``,
``quarantine``). Geometry is stored as little-endian 2-D WKB of the WGS-84 (EPSG:4326) lon/lat polygon.
With a projected ``crs`` (``"EPSG:4528"`` …), an area reaching outside the system's area of use (±
:data:`cases.case_coords.CRS_AREA_MARGIN_DEG`) once converted is quarantined as ``outside_crs_area`` (wrong
``crs`` or a file in another zone), as points are by the case and track imports.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from cases.case_coords import CRS_AREA_MARGIN_DEG
from cases.importing import ImportReadError
from cases.models import AREA_LEVELS, Area, ImportBatch, QuarantineRow
from cases.report import ImportReport
from grid.areas import ATTR_DUPLICATES, ATTR_ROWS_READ, ATTR_WARNINGS, AreaFileError, read_areas
from grid.coords import crs_area_of_use, crs_is_geographic

#: Columns of :func:`load_areas`, in order.
LOADED_COLUMNS = ("area_id", "name", "level", "parent_id", "geometry", "area_m2", "source_crs", "source_file")
_COMPARED = ("name", "level", "parent_id")
_SELECT_CHUNK = 500  # ids per ``IN (…)`` query: well under SQLite's and PostgreSQL's parameter limits


def import_areas(
    path: str | Path,
    engine: Engine,
    *,
    level: str,
    crs: str = "wgs84",
    id_field: str | None = None,
    name_field: str | None = None,
    parent_field: str | None = None,
    layer: str | None = None,
) -> ImportReport:
    """Import area polygons from a GeoJSON, Shapefile or GeoPackage into ``areas`` (WGS-84 WKB, m²).

    Parameters
    ----------
    path
        The file (a Shapefile by its ``.shp``).
    engine
        The database, already migrated (``cases.db.init_db``).
    level, crs, id_field, name_field, parent_field, layer
        As in :func:`grid.areas.read_areas`: the administrative level of every polygon, the file's
        coordinate system (``wgs84``, ``gcj02``, ``bd09``), the columns of the code, name and parent code
        (default: detected), and the GeoPackage layer.

    Returns
    -------
    ImportReport
        ``kind="areas"``. ``imported`` counts new area ids. ``duplicates`` counts features whose id was
        already stored or appeared earlier in the file; of these, ``updated`` counts stored areas whose
        geometry, name, level or parent changed and were overwritten from the file. ``quarantine`` lists
        features without an id or with empty, non-polygonal or unrepairable geometry; ``warnings`` lists
        repaired geometries and other fallbacks.

    Raises
    ------
    cases.importing.ImportReadError
        The file cannot be read as area polygons (unreadable, unknown layer or field, no id column).

    Notes
    -----
    Idempotent: importing the same file again imports nothing and counts every feature as a duplicate.
    Everything (areas, the ``import_batches`` row, the quarantine rows) is written in one transaction.
    """
    started = dt.datetime.now(dt.UTC)
    try:
        areas, quarantine = read_areas(
            path,
            level=level,
            crs=crs,
            id_field=id_field,
            name_field=name_field,
            parent_field=parent_field,
            layer=layer,
        )
    except AreaFileError as exc:
        raise ImportReadError(str(exc)) from exc
    areas, quarantine = _outside_crs_area(areas, quarantine, crs, str(path))
    report = ImportReport(
        kind="areas",
        file=str(path),
        read=int(areas.attrs[ATTR_ROWS_READ]),
        duplicates=int(areas.attrs[ATTR_DUPLICATES]),
        quarantined=len(quarantine),
        quarantine=quarantine,
        warnings=list(areas.attrs[ATTR_WARNINGS]),
    )
    records = _records(areas, str(path))
    with Session(engine) as session, session.begin():
        batch = ImportBatch(kind="areas", source_file=str(path), sha256=_sha256(path), started_at=started)
        session.add(batch)
        session.flush()
        new, changed, unchanged = _split_by_store(session, records)
        if new:
            session.execute(sa.insert(Area), new)
        if changed:
            session.execute(sa.update(Area), changed)
        report.imported = len(new)
        report.duplicates += len(changed) + unchanged
        report.updated = len(changed)
        _add_quarantine(session, batch.batch_id, quarantine)
        batch.rows_read, batch.rows_imported = report.read, report.imported
        batch.rows_duplicate, batch.rows_quarantined = report.duplicates, report.quarantined
        batch.finished_at = dt.datetime.now(dt.UTC)
        report.batch_id = batch.batch_id
        report.check()  # inside the transaction: an importer bug rolls everything back
    return report


def load_areas(engine: Engine, level: str | None = None) -> gpd.GeoDataFrame:
    """Stored areas as a GeoDataFrame in EPSG:4326, ordered by ``area_id``.

    Parameters
    ----------
    engine
        The database.
    level
        Only areas of this level (one of ``cases.models.AREA_LEVELS``); default all.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``LOADED_COLUMNS``: ``area_id``, ``name``, ``level``, ``parent_id`` (null when unknown),
        ``geometry`` (Polygon/MultiPolygon, WGS-84 lon/lat), ``area_m2`` (geodesic, m²), ``source_crs``
        (the coordinate system of the imported file), ``source_file``. Empty (same columns) when nothing
        is stored.
    """
    if level is not None and level not in AREA_LEVELS:
        msg = f"`level` was {level!r} but is expected to be None or in {list(AREA_LEVELS)}"
        raise ValueError(msg)
    query = sa.select(Area).order_by(Area.area_id)
    if level is not None:
        query = query.where(Area.level == level)
    with Session(engine) as session:
        rows = session.scalars(query).all()
        frame = pd.DataFrame(
            {
                column: [getattr(row, column) for row in rows]
                for column in LOADED_COLUMNS
                if column != "geometry"
            }
        )
        wkb = np.array([row.geometry_wkb for row in rows], dtype=object)
    geometry = gpd.GeoSeries(shapely.from_wkb(wkb) if len(wkb) else [], crs="EPSG:4326")
    frame = frame.reindex(columns=[c for c in LOADED_COLUMNS if c != "geometry"])
    frame["area_m2"] = frame["area_m2"].astype("float64")
    out = gpd.GeoDataFrame(frame, geometry=geometry.to_numpy(), crs="EPSG:4326")
    return out[list(LOADED_COLUMNS)]


def _outside_crs_area(
    areas: gpd.GeoDataFrame, quarantine: pd.DataFrame, crs: str, file: str
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Move the areas outside a projected ``crs``'s area of use (± the margin) to the quarantine.

    ``line`` is the feature's number: the kept areas are the features not quarantined, in file order, when
    no feature repeats an earlier id (else 0, the area id being in ``detail``).
    """
    bounds = None if crs_is_geographic(crs) else crs_area_of_use(crs)
    if bounds is None or areas.empty:
        return areas, quarantine
    west, south, east, north = bounds
    m = CRS_AREA_MARGIN_DEG
    box = areas.geometry.bounds
    out = ~(
        (box["minx"] >= west - m)
        & (box["maxx"] <= east + m)
        & (box["miny"] >= south - m)
        & (box["maxy"] <= north + m)
    ).to_numpy()
    if not out.any():
        return areas, quarantine
    read = int(areas.attrs[ATTR_ROWS_READ])
    lines = np.zeros(len(areas), dtype=np.int64)
    if not int(areas.attrs[ATTR_DUPLICATES]):
        lines = np.setdiff1d(np.arange(1, read + 1), quarantine["line"].to_numpy(dtype=np.int64))
    moved = pd.DataFrame(
        {
            "file": file,
            "line": lines[out],
            "field": "geometry",
            "reason": "outside_crs_area",
            "detail": [
                f"area {a}: lon {b.minx:.4f}…{b.maxx:.4f}, lat {b.miny:.4f}…{b.maxy:.4f} is outside "
                f"the area of use of {crs}"
                for a, b in zip(areas["area_id"][out], box[out].itertuples(), strict=True)
            ],
            "raw": areas["area_id"][out].to_numpy(dtype=object),
        }
    )
    kept = areas.loc[~out].reset_index(drop=True)
    kept.attrs = areas.attrs
    merged = pd.concat([quarantine, moved], ignore_index=True) if len(quarantine) else moved
    return kept, merged.sort_values("line", kind="stable").reset_index(drop=True)


def _records(areas: gpd.GeoDataFrame, source_file: str) -> list[dict[str, Any]]:
    wkb = shapely.to_wkb(areas.geometry.to_numpy(), byte_order=1, output_dimension=2)
    return [
        {
            "area_id": area_id,
            "level": level,
            "name": name,
            "parent_id": parent_id if isinstance(parent_id, str) else None,
            "geometry_wkb": geometry_wkb,
            "area_m2": float(area_m2),
            "source_crs": source_crs,
            "source_file": source_file,
        }
        for area_id, level, name, parent_id, geometry_wkb, area_m2, source_crs in zip(
            areas["area_id"],
            areas["level"],
            areas["name"],
            areas["parent_id"],
            wkb,
            areas["area_m2"],
            areas["source_crs"],
            strict=True,
        )
    ]


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _split_by_store(
    session: Session, records: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """Split ``records`` into new ones, changed ones (to update) and the number of unchanged ones."""
    ids = [r["area_id"] for r in records]
    stored: dict[str, Any] = {}
    for chunk in _chunks(ids, _SELECT_CHUNK):
        query = sa.select(Area.area_id, Area.name, Area.level, Area.parent_id, Area.geometry_wkb)
        for row in session.execute(query.where(Area.area_id.in_(chunk))):
            stored[row.area_id] = row
    new = [r for r in records if r["area_id"] not in stored]
    old = [r for r in records if r["area_id"] in stored]
    if not old:
        return new, [], 0
    same_geometry = shapely.equals_exact(
        shapely.from_wkb([stored[r["area_id"]].geometry_wkb for r in old]),
        shapely.from_wkb([r["geometry_wkb"] for r in old]),
        tolerance=0.0,
    )
    changed = [
        r
        for r, same in zip(old, same_geometry, strict=True)
        if not same or any(getattr(stored[r["area_id"]], c) != r[c] for c in _COMPARED)
    ]
    return new, changed, len(old) - len(changed)


def _add_quarantine(session: Session, batch_id: int, quarantine: pd.DataFrame) -> None:
    if quarantine.empty:
        return
    rows = [
        {
            "batch_id": batch_id,
            "source_file": str(row.file),
            "line": int(row.line),
            "field": None if pd.isna(row.field) else str(row.field),
            "reason": str(row.reason),
            "detail": None if pd.isna(row.detail) else str(row.detail),
            "raw": None if pd.isna(row.raw) else str(row.raw),
        }
        for row in quarantine.itertuples(index=False)
    ]
    session.execute(sa.insert(QuarantineRow), rows)


def _sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
