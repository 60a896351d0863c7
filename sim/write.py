"""Deterministic file writers: the same data always gives the same bytes.

Parquet files are written by pyarrow with a fixed row-group size, zstd compression, no pandas index and no
time stamps in the metadata (pyarrow writes none; ``created_by`` is the library version). GeoParquet files
carry the GeoParquet 1.0 ``geo`` metadata written here (WKB geometry, EPSG:4326). GeoJSON is written with
sorted keys and full-precision coordinates (shared vertices stay identical, so the polygons keep tiling
exactly). CSV is written by pyarrow (UTF-8, ``\n`` line ends, every string quoted, empty field = null) with
ISO 8601 UTC times ending in ``Z``. Large files can be hashed while they are written
(:func:`write_parquet_hashed`) so the manifest does not read them again.
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
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import shapely


def write_parquet(
    table: pa.Table | pd.DataFrame,
    path: Path,
    *,
    row_group_size: int = 131_072,
    metadata: dict[str, str] | None = None,
    compression_level: int = 3,
) -> Path:
    """Write a table deterministically (fixed row groups, zstd, byte-stream-split floats)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(table, path, row_group_size, metadata, compression_level)
    return path


def write_parquet_hashed(
    table: pa.Table,
    path: Path,
    *,
    row_group_size: int = 131_072,
    compression_level: int = 3,
    statistics: bool | list[str] = True,
) -> str:
    """Write like :func:`write_parquet` through an in-memory buffer; return the file's sha256 (hex).

    ``statistics`` names the columns that get row-group min/max statistics (``True``: all).
    """
    sink = pa.BufferOutputStream()
    _write(table, sink, row_group_size, None, compression_level, statistics)
    data = sink.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        fh.write(data)
    return hashlib.sha256(data).hexdigest()


def _write(
    table: pa.Table | pd.DataFrame,
    where: Path | pa.NativeFile,
    row_group_size: int,
    metadata: dict[str, str] | None,
    compression_level: int,
    statistics: bool | list[str] = True,
) -> None:
    if isinstance(table, pd.DataFrame):
        table = pa.Table.from_pandas(table, preserve_index=False)
    table = table.replace_schema_metadata({k.encode(): v.encode() for k, v in (metadata or {}).items()})
    pq.write_table(
        table,
        where,
        row_group_size=row_group_size,
        compression="zstd",
        compression_level=compression_level,
        use_dictionary=_dictionary_columns(table.schema),
        column_encoding=_encodings(table.schema),
        write_statistics=statistics,
        store_schema=True,
    )


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


def iso_utc(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """tz-aware Arrow timestamps as ``YYYY-MM-DDTHH:MM:SSZ`` strings (whole seconds, UTC; null stays null)."""
    naive = pc.cast(values, pa.timestamp(values.type.unit, tz="UTC")).cast(pa.timestamp("s"), safe=False)
    text = pc.replace_substring(pc.cast(naive, pa.string()), " ", "T")
    return pc.binary_join_element_wise(text, "Z", "")


def write_csv(frame: pd.DataFrame | pa.Table, path: Path) -> Path:
    """Write a CSV with pyarrow: UTF-8, ``\\n`` line ends, strings quoted, tz-aware times as ISO UTC ``Z``."""
    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    for k, f in enumerate(table.schema):
        if pa.types.is_timestamp(f.type):
            if f.type.tz is None:
                msg = f"{path.name}: column {f.name!r} holds naive times; give tz-aware (UTC) times"
                raise ValueError(msg)
            table = table.set_column(k, f.name, iso_utc(table.column(k)))
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(table.replace_schema_metadata(None), path, pacsv.WriteOptions(quoting_style="needed"))
    return path


def manifest(out_dir: Path, known: dict[str, str] | None = None) -> dict[str, str]:
    """sha256 of every file under ``out_dir`` (relative POSIX paths, sorted), excluding the manifest.

    ``known`` maps relative paths to digests computed when those files were written (not read again).
    """
    known = known or {}
    out = {}
    for p in sorted(out_dir.rglob("*")):
        if p.is_file() and p.name != "manifest.json":
            rel = p.relative_to(out_dir).as_posix()
            out[rel] = known[rel] if rel in known else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def write_manifest(out_dir: Path, known: dict[str, str] | None = None) -> Path:
    """Write ``manifest.json`` with every file's sha256 (see :func:`manifest`)."""
    path = out_dir / "manifest.json"
    text = json.dumps(manifest(out_dir, known), indent=1, sort_keys=True) + "\n"
    path.write_text(text, encoding="utf-8")
    return path
