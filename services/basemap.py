"""The city's own geography for every map: import base map layers, and read the layers a map draws.

:func:`import_basemap` (administrator) stores a file's streets, water, green and railway features
(:func:`cases.basemap.import_basemap`: any CRS, simplified, idempotent per file).
:func:`basemap_layers` returns what a map draws under its cells: the administrative outlines (district,
subdistrict, community from the ``areas`` table, with names and label points) and the stored base map
features, all as GeoDataFrames in EPSG:4326. They are read once per store and kept in memory until the next
import changes them (the cache key is the store and its feature count and highest id).
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from services.context import ServiceContext
from services.errors import ServiceError

__all__ = [
    "BasemapLayers",
    "ImportBasemapRequest",
    "ImportBasemapResult",
    "basemap_layers",
    "geography_or_none",
    "import_basemap",
]

#: Display tolerance of the administrative outlines, metres.
OUTLINE_SIMPLIFY_M = 5.0
_DEG_PER_M = 1 / 111_320
#: The geography layers (attributes of :class:`BasemapLayers`) in drawing order, bottom first.
FEATURE_LAYERS = ("green", "water", "railway", "streets")
OUTLINE_LAYERS = ("communities", "subdistricts", "districts")


@dataclasses.dataclass(frozen=True)
class ImportBasemapRequest:
    """One base map file: ``kind`` for every feature (else a kind column or OSM tags), the file's ``crs``
    when it declares none (``wgs84``, ``gcj02``, ``bd09``, ``EPSG:4528`` …), the kind and name columns,
    the GeoPackage layer."""

    path: Path
    kind: str | None = None
    crs: str = "wgs84"
    kind_field: str | None = None
    name_field: str | None = None
    layer: str | None = None


@dataclasses.dataclass(frozen=True)
class ImportBasemapResult:
    """The import's :class:`cases.basemap.BasemapReport`."""

    report: object

    def to_frame(self) -> pd.DataFrame:
        """One row: file, read, imported, replaced, quarantined."""
        r = self.report
        return pd.DataFrame(
            [{"file": r.file, "read": r.read, "imported": r.imported, "replaced": r.replaced,
              "quarantined": len(r.problems)}]
        )  # fmt: skip


def import_basemap(ctx: ServiceContext, request: ImportBasemapRequest) -> ImportBasemapResult:
    """Store the base map features of ``request.path`` (replacing the same file's earlier import).

    Raises
    ------
    ServiceError
        ``basemap_unreadable`` (file, error) when the file cannot be read as base map features;
        ``not_allowed`` for anyone but the administrator.
    """
    from cases.basemap import BasemapFileError
    from cases.basemap import import_basemap as store_basemap

    ctx.require("import base map layers", "admin")
    try:
        report = store_basemap(
            request.path, ctx.engine, kind=request.kind, crs=request.crs, kind_field=request.kind_field,
            name_field=request.name_field, layer=request.layer,
        )  # fmt: skip
    except BasemapFileError as exc:
        raise ServiceError("basemap_unreadable", str(exc), file=request.path.name, error=str(exc)) from exc
    _forget(ctx)
    return ImportBasemapResult(report)


@dataclasses.dataclass(frozen=True)
class BasemapLayers:
    """What maps draw under their cells, EPSG:4326.

    ``districts``, ``subdistricts``, ``communities``: ``area_id``, ``name``, ``label_lon``, ``label_lat``
    (a point inside the area for its name) and the polygon. ``streets``, ``water``, ``green``,
    ``railway``: ``subkind``, ``name`` and the lines or polygons (streets merged per subkind for drawing).
    """

    districts: gpd.GeoDataFrame
    subdistricts: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    water: gpd.GeoDataFrame
    green: gpd.GeoDataFrame
    railway: gpd.GeoDataFrame

    def layer_names(self) -> list[str]:
        """The layers that have something to draw, bottom first."""
        return [name for name in (*FEATURE_LAYERS, *OUTLINE_LAYERS) if len(getattr(self, name))]

    def to_frame(self) -> pd.DataFrame:
        """One row per layer: ``layer``, ``features``."""
        names = (*OUTLINE_LAYERS, *FEATURE_LAYERS)
        return pd.DataFrame({"layer": list(names), "features": [len(getattr(self, n)) for n in names]})


_CACHE: dict[str, tuple[tuple[int, int, int], BasemapLayers]] = {}
_LOCK = threading.Lock()


def basemap_layers(ctx: ServiceContext) -> BasemapLayers:
    """The geography layers of the store, read once and kept until they change.

    Any caller may read them (outlines, streets and water are not confidential: the wall display draws
    them before anyone signs in)."""
    from cases.repository_basemap import basemap_version

    key = str(ctx.engine.url)
    version = basemap_version(ctx.engine)
    with _LOCK:
        cached = _CACHE.get(key)
    if cached is not None and cached[0] == version:
        return cached[1]
    layers = _read_layers(ctx)
    with _LOCK:
        _CACHE[key] = (version, layers)
    return layers


def _forget(ctx: ServiceContext) -> None:
    with _LOCK:
        _CACHE.pop(str(ctx.engine.url), None)


def _read_layers(ctx: ServiceContext) -> BasemapLayers:
    from cases.areas import load_areas
    from cases.repository_basemap import basemap_features

    areas = load_areas(ctx.engine)
    outlines = {
        level: _outlines(areas[areas["level"] == level]) for level in ("district", "subdistrict", "community")
    }
    features = basemap_features(ctx.engine)
    geometry = (
        shapely.from_wkb(features["geometry_wkb"].to_numpy()) if len(features) else np.array([], dtype=object)
    )
    stored = gpd.GeoDataFrame(
        features[["kind", "subkind", "name"]],
        geometry=gpd.GeoSeries(geometry, crs="EPSG:4326"),
        crs="EPSG:4326",
    )
    return BasemapLayers(
        districts=outlines["district"],
        subdistricts=outlines["subdistrict"],
        communities=outlines["community"],
        streets=_merged(stored[stored["kind"] == "street"]),
        water=_plain(stored[stored["kind"] == "water"]),
        green=_plain(stored[stored["kind"] == "green"]),
        railway=_merged(stored[stored["kind"] == "railway"]),
    )


def _outlines(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geometry = shapely.simplify(
        areas.geometry.to_numpy(), OUTLINE_SIMPLIFY_M * _DEG_PER_M, preserve_topology=True
    )
    label = shapely.point_on_surface(areas.geometry.to_numpy()) if len(areas) else np.array([], dtype=object)
    frame = pd.DataFrame(
        {
            "area_id": areas["area_id"].astype(str).to_numpy(),
            "name": areas["name"].fillna(areas["area_id"]).astype(str).to_numpy(),
            "label_lon": shapely.get_x(label) if len(areas) else np.zeros(0),
            "label_lat": shapely.get_y(label) if len(areas) else np.zeros(0),
        }
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, crs="EPSG:4326"), crs="EPSG:4326")


def _plain(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(frame[["subkind", "name", "geometry"]].reset_index(drop=True), crs="EPSG:4326")


def _merged(lines: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Lines merged per subkind (thousands of street segments become a few multi-lines: a lighter map)."""
    if lines.empty:
        return _plain(lines)
    subkind = lines["subkind"].fillna("")
    rows = []
    for value, group in lines.groupby(subkind, sort=True):
        merged = shapely.line_merge(shapely.multilinestrings(_parts(group.geometry.to_numpy())))
        rows.append({"subkind": value or None, "name": None, "geometry": merged})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def _parts(geoms: np.ndarray) -> np.ndarray:
    """The single lines of ``geoms`` (multi-lines split; polygons' rings as lines)."""
    lines = shapely.get_parts(geoms)
    polygonal = np.isin(shapely.get_type_id(lines), (3,))
    if polygonal.any():
        lines = np.concatenate([lines[~polygonal], shapely.get_parts(shapely.boundary(lines[polygonal]))])
    return lines


def geography_or_none(ctx: ServiceContext) -> BasemapLayers | None:
    """:func:`basemap_layers` for a page's or a command's map, or None when the store cannot give them (no
    store, an old schema): the map is then drawn without geography rather than not at all."""
    import sqlalchemy.exc

    try:
        return basemap_layers(ctx)
    except (sqlalchemy.exc.SQLAlchemyError, ServiceError, OSError):
        return None
