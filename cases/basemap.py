"""Base map layers of the city (streets, water, green, railway) from GIS files or an OSM extract.

Read by :func:`read_basemap`, stored by :func:`import_basemap` (SQL in :mod:`cases.repository_basemap`):

- GeoJSON, GeoPackage, Shapefile (pyogrio) and GeoParquet; every feature gets one kind, either ``kind=``
  for the whole file, a kind column (``kind_field``, else a column named ``kind``/``type``/``class``), or
  OSM tags (``highway`` → street, ``waterway`` / ``natural=water`` / ``landuse=reservoir`` → water,
  ``railway`` → railway, ``leisure=park`` / ``landuse=grass|forest`` → green), as an OSM extract written as
  GeoJSON lines (``osmium export -f geojsonseq``) carries them.
- Any coordinate system: the file's declared CRS, else ``crs`` (``wgs84``, ``gcj02``, ``bd09``, an EPSG
  code such as ``EPSG:4528`` or PROJ text; :mod:`grid.coords`). Stored as WGS-84 lon/lat.
- Simplified for display (:data:`SIMPLIFY_M` metres, topology kept) and reduced to lines and polygons.
- Idempotent: the features of a file are keyed by its name; importing it again replaces them.

Rows without a kind, or with empty, point or unrepairable geometry, are not stored and are reported
(``problems``: row, reason, detail).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy.engine import Engine

from cases.models import BASEMAP_KINDS
from grid.areas import AreaFileError
from grid.areas import _to_lonlat as to_lonlat  # the areas' CRS rules, shared on purpose
from grid.coords import CRS_NAMES, check_crs, crs_label, transform_geometries

#: Display tolerance of the stored geometry, metres (well under a pixel at street zoom levels).
SIMPLIFY_M = 2.0
_DEG_PER_M = 1 / 111_320
KIND_FIELDS = ("kind", "type", "class", "layer_kind", "类型")
NAME_FIELDS = ("name", "name_zh", "名称", "NAME")
#: Kind-column words besides :data:`cases.models.BASEMAP_KINDS` themselves.
KIND_SYNONYMS = {
    "road": "street", "roads": "street", "streets": "street", "highway": "street", "道路": "street",
    "river": "water", "rivers": "water", "lake": "water", "canal": "water", "水系": "water", "河流": "water",
    "park": "green", "parks": "green", "forest": "green", "grass": "green", "绿地": "green",
    "rail": "railway", "railways": "railway", "铁路": "railway",
    # the demo city's streets.parquet kinds
    "arterial": "street", "local": "street", "collector": "street",
}  # fmt: skip
_LINE_SUFFIXES = (".geojsonl", ".geojsons", ".geojsonseq", ".jsonl", ".ndjson")


class BasemapFileError(ValueError):
    """The file cannot be read as base map features (unreadable, no kind, unknown kind or CRS)."""


@dataclasses.dataclass(frozen=True)
class BasemapReport:
    """What an import did: features read, stored (``imported``), previous features of the same file
    ``replaced``, the rows not stored (``problems``: row, reason, detail) and notes."""

    file: str
    read: int
    imported: int
    replaced: int
    problems: pd.DataFrame
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line in the importers' format."""
        return (
            f"{self.file}: read {self.read}, imported {self.imported}, replaced {self.replaced}, "
            f"quarantined {len(self.problems)}"
        )


def read_basemap(
    path: str | Path,
    *,
    kind: str | None = None,
    crs: str = "wgs84",
    kind_field: str | None = None,
    name_field: str | None = None,
    layer: str | None = None,
    simplify_m: float = SIMPLIFY_M,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, list[str]]:
    """The features of ``path`` as (GeoDataFrame in EPSG:4326, problems, notes).

    The frame has ``kind``, ``subkind``, ``name``, ``geometry`` and ``source_crs``; problems one row per
    feature not kept (``row`` is its 0-based position in the file). Raises :class:`BasemapFileError`.
    """
    if kind is not None and kind not in BASEMAP_KINDS:
        raise BasemapFileError(f"`kind` was {kind!r} but is expected to be one of {list(BASEMAP_KINDS)}")
    if crs not in CRS_NAMES:
        try:
            check_crs(crs)
        except ValueError as exc:
            raise BasemapFileError(str(exc)) from exc
    file = Path(path)
    raw = _read(file, layer)
    notes: list[str] = []
    kinds, subkinds = _kinds(raw, file.name, kind, kind_field)
    names = _names(raw, name_field)
    try:
        lonlat = to_lonlat(raw, file.name, crs, notes)
    except AreaFileError as exc:
        raise BasemapFileError(str(exc)) from exc
    geoms = lonlat.to_numpy().copy()
    problems: list[dict[str, object]] = []
    keep = np.ones(len(raw), dtype=bool)
    for i, geom in enumerate(geoms):
        reason = _geometry_problem(geom)
        if reason is None and kinds[i] is None:
            reason, detail = "no_kind", "no kind: pass --kind, a kind column or OSM tags"
        else:
            detail = reason or ""
        if reason is None:
            fixed = _lines_or_polygons(geom)
            if fixed is None:
                reason, detail = "invalid_geometry", "not repairable into lines or polygons"
            geoms[i] = fixed
        if reason is not None:
            keep[i] = False
            problems.append({"row": i, "reason": reason, "detail": detail})
    if crs in CRS_NAMES and crs != "wgs84" and keep.any():
        geoms[keep] = transform_geometries(geoms[keep], crs, "wgs84")
    if simplify_m > 0 and keep.any():
        geoms[keep] = shapely.simplify(geoms[keep], simplify_m * _DEG_PER_M, preserve_topology=True)
    frame = gpd.GeoDataFrame(
        {
            "kind": pd.Series(kinds, dtype=object)[keep].to_numpy(),
            "subkind": pd.Series(subkinds, dtype=object)[keep].to_numpy(),
            "name": pd.Series(names, dtype=object)[keep].to_numpy(),
            "source_crs": crs_label(crs),
        },
        geometry=gpd.GeoSeries(list(geoms[keep]), crs="EPSG:4326"),
        crs="EPSG:4326",
    )
    return frame, pd.DataFrame(problems, columns=["row", "reason", "detail"]), notes


def import_basemap(path: str | Path, engine: Engine, **options: object) -> BasemapReport:
    """Read ``path`` (:func:`read_basemap` ``options``) and replace the file's stored features with it."""
    from cases.repository_basemap import replace_basemap_features

    frame, problems, notes = read_basemap(path, **options)  # type: ignore[arg-type]
    rows = pd.DataFrame(frame.drop(columns="geometry"))
    rows["geometry_wkb"] = shapely.to_wkb(frame.geometry.to_numpy(), output_dimension=2, byte_order=1)
    replaced = replace_basemap_features(engine, Path(path).name, rows)
    return BasemapReport(
        str(path), len(frame) + len(problems), len(frame), replaced, problems.reset_index(drop=True),
        tuple(notes),
    )  # fmt: skip


def _read(file: Path, layer: str | None) -> gpd.GeoDataFrame:
    if not file.is_file():
        raise BasemapFileError(f"{file}: no such file")
    try:
        if file.suffix.lower() == ".parquet":
            return gpd.read_parquet(file)
        if file.suffix.lower() in _LINE_SUFFIXES:
            return _read_lines(file)
        return gpd.read_file(file, engine="pyogrio", layer=layer)
    except BasemapFileError:
        raise
    except Exception as exc:  # pyogrio / pyarrow raise many kinds for a file they cannot open
        raise BasemapFileError(
            f"{file}: not a readable GeoJSON, GeoPackage, Shapefile or GeoParquet ({exc})"
        ) from exc


def _read_lines(file: Path) -> gpd.GeoDataFrame:
    """GeoJSON lines (one feature per line; OSM tags as properties or under ``properties.tags``)."""
    props, shapes = [], []
    with file.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            text = line.strip().lstrip("\x1e")  # RFC 8142 record separators
            if not text:
                continue
            try:
                feature = json.loads(text)
            except json.JSONDecodeError as exc:
                raise BasemapFileError(f"{file}:{number}: not a GeoJSON feature ({exc.msg})") from exc
            properties = dict(feature.get("properties") or {})
            tags = properties.pop("tags", None)
            if isinstance(tags, dict):
                properties = {**tags, **properties}
            props.append(properties)
            shapes.append(_shape(feature.get("geometry")))
    return gpd.GeoDataFrame(pd.DataFrame(props), geometry=gpd.GeoSeries(shapes), crs="EPSG:4326")


def _shape(geometry: object) -> shapely.Geometry | None:
    """One GeoJSON geometry, or None when missing or broken (reported per row, not for the file)."""
    if not geometry:
        return None
    try:
        return shapely.from_geojson(json.dumps(geometry))
    except (shapely.errors.GEOSException, ValueError, TypeError):
        return None


def _column(raw: gpd.GeoDataFrame, wanted: str | None, candidates: tuple[str, ...], what: str) -> str | None:
    columns = [str(c) for c in raw.columns if c != raw.geometry.name]
    if wanted is not None:
        if wanted not in columns:
            raise BasemapFileError(f"`{what}` was {wanted!r} but the file's fields are {columns}")
        return wanted
    folded = {c.casefold(): c for c in columns}
    return next((folded[c.casefold()] for c in candidates if c.casefold() in folded), None)


def _kinds(
    raw: gpd.GeoDataFrame, file: str, kind: str | None, kind_field: str | None
) -> tuple[list[str | None], list[str | None]]:
    n = len(raw)
    column = _column(raw, kind_field, KIND_FIELDS, "kind_field")
    values = _values(raw[column]) if column else [None] * n
    if kind is not None:
        return [kind] * n, [None if v is None else str(v)[:32] for v in values]
    if column is not None:
        mapped = [_kind_word(v) for v in values]
        unknown = sorted({str(v) for v, k in zip(values, mapped, strict=True) if v is not None and k is None})
        if unknown and all(k is None for k in mapped):
            raise BasemapFileError(
                f"{file}: the {column!r} values {unknown[:5]} are not base map kinds {list(BASEMAP_KINDS)}; "
                "pass --kind"
            )
        return mapped, [None if v is None else str(v)[:32] for v in values]
    return _osm_kinds(raw)


def _kind_word(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip().lower()
    return text if text in BASEMAP_KINDS else KIND_SYNONYMS.get(text)


def _osm_kinds(raw: gpd.GeoDataFrame) -> tuple[list[str | None], list[str | None]]:
    def tag(name: str) -> list[object]:
        return _values(raw[name]) if name in raw.columns else [None] * len(raw)

    highway, waterway, natural = tag("highway"), tag("waterway"), tag("natural")
    railway, landuse, leisure = tag("railway"), tag("landuse"), tag("leisure")
    kinds: list[str | None] = []
    subkinds: list[str | None] = []
    for hw, ww, nat, rw, lu, le in zip(highway, waterway, natural, railway, landuse, leisure, strict=True):
        if hw is not None:
            kinds.append("street"), subkinds.append(str(hw)[:32])
        elif ww is not None or nat == "water" or lu in ("reservoir", "basin"):
            kinds.append("water"), subkinds.append(str(ww or nat or lu)[:32])
        elif rw is not None:
            kinds.append("railway"), subkinds.append(str(rw)[:32])
        elif le == "park" or lu in ("grass", "forest", "park", "recreation_ground") or nat == "wood":
            kinds.append("green"), subkinds.append(str(le or lu or nat)[:32])
        else:
            kinds.append(None), subkinds.append(None)
    return kinds, subkinds


def _names(raw: gpd.GeoDataFrame, name_field: str | None) -> list[str | None]:
    column = _column(raw, name_field, NAME_FIELDS, "name_field")
    if column is None:
        return [None] * len(raw)
    return [None if v is None or v == "" else str(v)[:200] for v in _values(raw[column])]


def _values(column: pd.Series) -> list[object]:
    """The column's values with every missing one (None, NaN, NA) as None."""
    return [None if v is None or (not isinstance(v, str) and pd.isna(v)) else v for v in column.tolist()]


def _geometry_problem(geom: object) -> str | None:
    if geom is None or not isinstance(geom, shapely.Geometry) or geom.is_empty:
        return "empty_geometry"
    if shapely.get_type_id(geom) in (0, 4):  # Point, MultiPoint
        return "point_geometry"
    return None


def _lines_or_polygons(geom: shapely.Geometry) -> shapely.Geometry | None:
    """``geom`` repaired and reduced to its lines or polygons; None when nothing drawable is left."""
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    if shapely.get_type_id(geom) == 7:  # GeometryCollection: keep the polygonal, else the linear parts
        parts = [p for p in geom.geoms if shapely.get_type_id(p) in (3, 6)] or [
            p for p in geom.geoms if shapely.get_type_id(p) in (1, 2, 5)
        ]
        geom = shapely.union_all(parts) if parts else None
    if geom is None or geom.is_empty or shapely.get_type_id(geom) in (0, 4):
        return None
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        return None
    return geom
