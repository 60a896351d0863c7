"""Imports: cases, inspectors, assignments, areas, unit grids and GPS tracks, for the administrator.

Thin wrappers over the store's importers (:func:`cases.importing.import_cases`,
:func:`cases.people.import_inspectors` / :func:`~cases.people.import_assignments`,
:func:`cases.areas.import_areas`, :func:`patrol.store.write_tracks`) that the ``gridpatrol import``
commands and the Data page both call, with the city configuration applied: times without an offset are
read in the city's zone when no mapping says otherwise, and track points are stored in day partitions of
that zone under ``<data dir>/tracks``. Nothing is lost: rejected rows are quarantined, and the field defects
of imported cases listed, in ``<data dir>/quarantine/<file>.<kind>.quarantine.csv`` unless the request names
another file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from services.context import ServiceContext
from services.errors import ServiceError

__all__ = [
    "KINDS",
    "ImportRequest",
    "ImportResult",
    "StoreStatus",
    "TrackImportRequest",
    "TrackImportResult",
    "import_file",
    "import_tracks",
    "store_status",
]

#: What :func:`import_file` imports.
KINDS = ("cases", "inspectors", "assignments", "areas", "unit_grids")
IMPORT_ROLES = ("admin",)
AREA_LEVELS = ("city", "district", "subdistrict", "community", "unit_grid")


@dataclasses.dataclass(frozen=True)
class ImportRequest:
    """One file to import.

    ``kind``: one of :data:`KINDS`. ``mapping``: a mapping file or shipped mapping name (cases,
    inspectors, assignments). ``on_duplicate`` (``skip`` / ``update``), ``categories`` (the city's
    category table) and ``strict`` (field-level reasons that quarantine the row instead of emptying the
    field, ``("all",)`` for every one; :mod:`cases.validation`): cases only. ``level``, ``crs``,
    ``id_field``, ``name_field``, ``parent_field``, ``layer``: areas and unit grids. ``quarantine_out``:
    where rejected rows (and field defects) go (None: the data folder's quarantine;
    ``write_quarantine=False``: nowhere, the result still holds them). ``time_window``: plausible report
    times (UTC) of cases, default 2000-01-01 … now + 1 day (:func:`cases.importing.import_cases`).
    """

    kind: str
    path: Path
    mapping: str | None = None
    on_duplicate: str = "skip"
    categories: Path | None = None
    strict: tuple[str, ...] = ()
    level: str | None = None
    crs: str = "wgs84"
    id_field: str | None = None
    name_field: str | None = None
    parent_field: str | None = None
    layer: str | None = None
    quarantine_out: Path | None = None
    write_quarantine: bool = True
    time_window: tuple[Any, Any] | None = None
    #: called once when another import holds the store's import lock (this one then waits for it)
    on_wait: Callable[[], None] | None = dataclasses.field(default=None, compare=False, repr=False)


@dataclasses.dataclass(frozen=True)
class ImportResult:
    """The importer's :class:`cases.report.ImportReport` and where its quarantine was written."""

    report: Any
    quarantine_file: Path | None = None

    def to_frame(self) -> pd.DataFrame:
        """One row: kind, file, read, imported, duplicates, quarantined, quarantine file."""
        r = self.report
        return pd.DataFrame(
            [
                {
                    "kind": r.kind,
                    "file": str(r.file),
                    "read": r.read,
                    "imported": r.imported,
                    "duplicates": r.duplicates,
                    "quarantined": r.quarantined,
                    "with_field_defects": getattr(r, "defective", 0),
                    "quarantine_file": str(self.quarantine_file) if self.quarantine_file else None,
                }
            ]
        )


@dataclasses.dataclass(frozen=True)
class TrackImportRequest:
    """GPS track files (GPX, CSV, .plt, GeoJSON/GPKG points, Parquet); ``inspector`` for files without
    one; ``mapping``: a track mapping TOML; ``crs`` of the file (default the mapping's, else WGS-84)."""

    files: tuple[Path, ...]
    inspector: str | None = None
    mapping: Path | None = None
    crs: str | None = None


@dataclasses.dataclass(frozen=True)
class TrackImportResult:
    """Per file: points read, stored, already stored, unusable, days touched, quarantine file."""

    files: pd.DataFrame
    root: Path

    def to_frame(self) -> pd.DataFrame:
        return self.files.copy()


def _mapping(ctx: ServiceContext, name: str | None) -> Any:
    from cases.mapping import Mapping, MappingError, load_mapping

    if not name:
        return Mapping(timezone=ctx.timezone)
    try:
        return load_mapping(name)
    except (MappingError, OSError) as exc:
        raise ServiceError("bad_mapping", f"mapping {name}: {exc}", mapping=name) from exc


def _run(ctx: ServiceContext, request: ImportRequest) -> Any:
    engine = ctx.engine
    if request.kind == "cases":
        from cases.importing import import_cases
        from cases.mapping import MappingError, parse_strict

        try:
            strict = True if "all" in request.strict else parse_strict(list(request.strict), "--strict")
        except MappingError as exc:
            raise ServiceError("bad_request", str(exc)) from exc
        return import_cases(
            request.path,
            engine,
            mapping=_mapping(ctx, request.mapping),
            on_duplicate=request.on_duplicate,
            categories=request.categories,
            strict=strict,
            time_window=request.time_window,
        )
    if request.kind in ("inspectors", "assignments"):
        from cases import people

        importer = people.import_inspectors if request.kind == "inspectors" else people.import_assignments
        return importer(request.path, engine, mapping=_mapping(ctx, request.mapping))
    from cases.areas import import_areas

    level = "unit_grid" if request.kind == "unit_grids" else request.level or "district"
    if level not in AREA_LEVELS:
        raise ServiceError(
            "bad_request", f"area level must be one of {', '.join(AREA_LEVELS)}, got {level!r}"
        )
    return import_areas(
        request.path,
        engine,
        level=level,
        crs=request.crs,
        id_field=request.id_field,
        name_field=request.name_field,
        parent_field=request.parent_field,
        layer=request.layer,
    )


def import_file(ctx: ServiceContext, request: ImportRequest) -> ImportResult:
    """Import one file of ``request.kind`` (administrator).

    Raises
    ------
    ServiceError
        ``bad_request`` (unknown kind or level), ``bad_mapping``, ``unreadable`` (the file cannot be read
        at all; a row-level problem is quarantined instead), ``store_busy`` (another writer held the
        database longer than the busy timeout). Nothing is written in any of these cases.
    """
    from sqlalchemy.exc import OperationalError

    from cases.import_lock import import_lock
    from cases.importing import ImportReadError

    ctx.require(f"import {request.kind}", *IMPORT_ROLES)
    if request.kind not in KINDS:
        raise ServiceError("bad_request", f"kind must be one of {', '.join(KINDS)}, got {request.kind!r}")
    try:
        with import_lock(ctx.engine, on_wait=request.on_wait):  # a second import waits for the first
            report = _run(ctx, request)
    except (ImportReadError, OSError) as exc:
        text = str(exc)
        named = text.startswith(str(request.path))
        msg = f"cannot read {text}" if named else f"cannot read {request.path}: {text}"
        raise ServiceError("unreadable", msg, path=str(request.path)) from exc
    except OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        msg = f"{request.path}: the database is busy with another writer (try again when it has finished)"
        raise ServiceError("store_busy", msg, path=str(request.path)) from exc
    written = None
    defects = getattr(report, "defects", None)
    if (report.quarantined or (defects is not None and len(defects))) and request.write_quarantine:
        name = f"{Path(report.file).name}.{report.kind}.quarantine.csv"
        written = request.quarantine_out or ctx.data_dir / "quarantine" / name
        report.write_quarantine(written)
    return ImportResult(report, written)


def import_tracks(ctx: ServiceContext, request: TrackImportRequest) -> TrackImportResult:
    """Import GPS tracks into the track store (``<data dir>/tracks``, day partitions of the city's zone);
    re-importing a file adds nothing (administrator)."""
    from cases.csv_safe import write_csv
    from patrol.readers import TrackReadError, load_track_mapping, read_tracks
    from patrol.store import write_tracks

    ctx.require("import tracks", *IMPORT_ROLES)
    root = ctx.data_dir / "tracks"
    try:
        mapping = load_track_mapping(request.mapping) if request.mapping else None
    except TrackReadError as exc:
        raise ServiceError("bad_mapping", str(exc)) from exc
    rows = []
    for file in request.files:
        try:
            points, problems = read_tracks(
                file, inspector=request.inspector, mapping=mapping, crs=request.crs
            )
        except TrackReadError as exc:
            raise ServiceError("unreadable", f"cannot read {file}: {exc}", path=str(file)) from exc
        stored = write_tracks(points, root, timezone=ctx.timezone)
        quarantine = None
        if len(problems):
            quarantine = ctx.data_dir / "quarantine" / f"{Path(file).name}.tracks.quarantine.csv"
            quarantine.parent.mkdir(parents=True, exist_ok=True)
            write_csv(problems, quarantine)
        rows.append(
            {
                "file": str(file),
                "read": len(points) + len(problems),
                "stored": stored.added,
                "duplicates": stored.duplicates,
                "unusable": len(problems),
                "days": len(stored.days),
                "quarantine_file": str(quarantine) if quarantine else None,
            }
        )
    return TrackImportResult(pd.DataFrame(rows), root)


@dataclasses.dataclass(frozen=True)
class StoreStatus:
    """What the store holds (``counts``: table → rows) and its latest imports (``imports``, newest first)."""

    counts: dict[str, int]
    imports: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """One row per table: ``table``, ``rows``."""
        return pd.DataFrame({"table": list(self.counts), "rows": list(self.counts.values())})


def store_status(ctx: ServiceContext, recent: int = 20) -> StoreStatus:
    """Row counts of the main tables and the ``recent`` latest import batches (any signed-in user)."""
    from cases import repository, repository_people

    return StoreStatus(
        repository.table_counts(ctx.engine), repository_people.recent_imports(ctx.engine, recent)
    )
