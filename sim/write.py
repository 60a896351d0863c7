"""Deterministic file writers: the same data always gives the same bytes.

Parquet files are written by pyarrow with a fixed row-group size, zstd compression, no pandas index and no
time stamps in the metadata (pyarrow writes none; ``created_by`` is the library version). GeoParquet files
carry the GeoParquet 1.0 ``geo`` metadata written here (WKB geometry, EPSG:4326). GeoJSON is written with
sorted keys and full-precision coordinates (shared
vertices stay identical, so the polygons keep tiling exactly). CSV uses ISO 8601 UTC times with a ``Z``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely


def write_parquet(
    table: pa.Table | pd.DataFrame,
    path: Path,
    *,
    row_group_size: int = 131_072,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Write a table deterministically (fixed row groups, zstd, byte-stream-split floats)."""
    if isinstance(table, pd.DataFrame):
        table = pa.Table.from_pandas(table, preserve_index=False)
    table = table.replace_schema_metadata({k.encode(): v.encode() for k, v in (metadata or {}).items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        table,
        path,
        row_group_size=row_group_size,
        compression="zstd",
        compression_level=3,
        use_dictionary=_dictionary_columns(table.schema),
        column_encoding=_encodings(table.schema),
        write_statistics=True,
        store_schema=True,
    )
    return path


def _dictionary_columns(schema: pa.Schema) -> list[str]:
    return [
        f.name
        for f in schema
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type) or pa.types.is_dictionary(f.type)
    ]


def _encodings(schema: pa.Schema) -> dict[str, str]:
    """Byte-stream-split for floats, delta for integers and times (both compress well with zstd)."""
    out = {}
    for f in schema:
        if pa.types.is_floating(f.type):
            out[f.name] = "BYTE_STREAM_SPLIT"
        elif (pa.types.is_integer(f.type) and f.type.bit_width >= 32) or pa.types.is_timestamp(f.type):
            out[f.name] = "DELTA_BINARY_PACKED"
    return out


def write_geoparquet(gdf: gpd.GeoDataFrame, path: Path, *, row_group_size: int = 131_072) -> Path:
    """Write a WGS-84 GeoDataFrame as GeoParquet 1.0 (WKB ``geometry`` column)."""
    if gdf.crs is None or gdf.crs.to_epsg() != 4326:
        msg = f"{path.name}: expected a GeoDataFrame in EPSG:4326, got {gdf.crs}"
        raise ValueError(msg)
    geoms = np.asarray(gdf.geometry.values)
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    frame["geometry"] = shapely.to_wkb(geoms, output_dimension=2)
    types = sorted(set(shapely.get_type_id(geoms).tolist())) if len(geoms) else []
    names = {0: "Point", 1: "LineString", 3: "Polygon", 6: "MultiPolygon", 5: "MultiLineString"}
    bounds = shapely.total_bounds(geoms).tolist() if len(gdf) else []
    geo = {
        "version": "1.0.0",
        "primary_column": "geometry",
        "columns": {
            "geometry": {
                "encoding": "WKB",
                "geometry_types": [names.get(t, "Unknown") for t in types],
                "bbox": bounds,
            }
        },
    }
    # no "crs" key: GeoParquet then means OGC:CRS84 (lon/lat WGS-84), exactly what we write
    return write_parquet(frame, path, row_group_size=row_group_size, metadata={"geo": json.dumps(geo)})


def write_geojson(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    """Write a WGS-84 GeoDataFrame as GeoJSON (sorted keys, full-precision coordinates)."""
    features = []
    props = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    for rec, geom in zip(props.to_dict("records"), gdf.geometry.values, strict=True):
        g = _lists(shapely.geometry.mapping(geom))
        features.append(
            {"type": "Feature", "properties": {k: _json(v) for k, v in rec.items()}, "geometry": g}
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, sort_keys=True)
    path.write_text(text, encoding="utf-8")
    return path


def _lists(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _lists(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_lists(v) for v in obj]
    return obj


def _json(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    return v


def iso_utc(values: pd.Series) -> pd.Series:
    """tz-aware times as ``YYYY-MM-DDTHH:MM:SSZ`` strings (empty for NaT)."""
    s = pd.to_datetime(values, utc=True)
    return s.dt.strftime("%Y-%m-%dT%H:%M:%SZ").fillna("")


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write a CSV (UTF-8, ``\\n`` line ends, datetimes as ISO UTC)."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = iso_utc(out[col])
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
    return path


def manifest(out_dir: Path) -> dict[str, str]:
    """sha256 of every file under ``out_dir`` (relative POSIX paths, sorted), excluding the manifest."""
    out = {}
    for p in sorted(out_dir.rglob("*")):
        if p.is_file() and p.name != "manifest.json":
            out[p.relative_to(out_dir).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def write_manifest(out_dir: Path) -> Path:
    """Write ``manifest.json`` with every file's sha256."""
    path = out_dir / "manifest.json"
    path.write_text(json.dumps(manifest(out_dir), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path
