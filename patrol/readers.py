"""Read GPS tracks from GPX, CSV, GeoLife ``.plt``, GeoJSON/GeoPackage points and Parquet into track points.

Every reader returns ``(points, problems)``: ``points`` is the **track points** contract (``inspector_id``
str, ``ts`` datetime64[ms, UTC], ``lat``/``lon`` float64 WGS-84 degrees, ``accuracy_m`` float32, NaN when the
source has none), in file order; ``problems`` has one row per unusable record with ``file``, ``line``
(1-based line or feature number), ``field``, ``reason`` (``bad_time``, ``bad_coordinates``,
``outside_crs_area``) and ``raw``. ``len(points) + len(problems)`` is the number of records read.
Coordinates are converted to WGS-84 with :func:`grid.coords.to_wgs84`: GCJ-02/BD-09, or any EPSG code or PROJ
string (pyproj, always_xy). In a projected system (``crs = "EPSG:4528"``, State Plane …) ``lat``/``lon`` or
``y``/``x`` are northing/easting, and a point outside the system's area of use (± 1°,
:data:`cases.case_coords.CRS_AREA_MARGIN_DEG`) is ``outside_crs_area``, as in the case import.

A CSV is described by a small TOML mapping (a track-specific cousin of ``cases.mapping``)::

    [columns]                # field = "source column"; unlisted fields use a column of the same name
    inspector_id = "tracker"
    ts = "t"
    lat = "Y"                # or y = "北坐标" / x = "东坐标" (northing / easting of a projected crs)
    lon = "X"
    accuracy_m = "acc"       # optional
    [options]
    timezone = "Europe/Berlin"   # zone of times written without an offset (default: DEFAULT_TIMEZONE)
    crs = "wgs84"                # wgs84 | gcj02 | bd09 | an EPSG code ("EPSG:4528") | a PROJ string
    date_format = "%Y-%m-%d %H:%M:%S"   # strptime format (default: ISO 8601 / inferred)
    delimiter = ";"
    encoding = "utf-8"
    inspector = "I-007"          # constant inspector for a file without an inspector column
"""

from __future__ import annotations

import dataclasses
import tomllib
import xml.etree.ElementTree as ET
import zoneinfo
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cases.case_coords import CRS_AREA_MARGIN_DEG
from grid.config import DEFAULT_TIMEZONE
from grid.coords import check_crs, crs_area_of_use, crs_is_geographic, to_wgs84
from patrol.tracks import TRACK_COLUMNS

__all__ = [
    "PROBLEM_COLUMNS",
    "TrackMapping",
    "TrackReadError",
    "load_track_mapping",
    "read_csv_tracks",
    "read_gpx",
    "read_parquet_tracks",
    "read_plt",
    "read_point_features",
    "read_tracks",
]

PROBLEM_COLUMNS = ("file", "line", "field", "reason", "raw")
TRACK_FIELDS = ("inspector_id", "ts", "lat", "lon", "accuracy_m", "x", "y")
_OPTIONS = ("timezone", "crs", "date_format", "delimiter", "encoding", "inspector")
_TIME_PROPERTIES = ("ts", "time", "timestamp", "datetime", "t")
_PLT_NAMES = ("lat", "lon", "zero", "alt_ft", "days", "date", "time")


class TrackReadError(ValueError):
    """A track file cannot be read at all (format, missing column, bad mapping); the message names it."""


@dataclasses.dataclass(frozen=True)
class TrackMapping:
    """Columns and options of a track CSV (see the module docstring for the TOML shape)."""

    origin: str = "<default>"
    columns: dict[str, str] = dataclasses.field(default_factory=dict)
    timezone: str = DEFAULT_TIMEZONE
    crs: str = "wgs84"
    date_format: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    inspector: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "<dict>") -> TrackMapping:
        """Validate a parsed TOML document; raise :class:`TrackReadError` naming the origin and key."""
        for key in data:
            if key not in ("columns", "options"):
                msg = f"{origin}: unknown table {key!r} (expected columns, options)"
                raise TrackReadError(msg)
        columns, options = data.get("columns", {}), data.get("options", {})
        for key, value in columns.items():
            if key not in TRACK_FIELDS or not isinstance(value, str) or not value:
                msg = (
                    f"{origin}: [columns] {key} = {value!r}: fields are {list(TRACK_FIELDS)}, "
                    "values column names"
                )
                raise TrackReadError(msg)
        for key, value in options.items():
            if key not in _OPTIONS or not isinstance(value, str):
                msg = f"{origin}: [options] {key} = {value!r}: options are {list(_OPTIONS)}, values strings"
                raise TrackReadError(msg)
        try:
            check_crs(options.get("crs", "wgs84"))
        except ValueError as exc:
            raise TrackReadError(f"{origin}: [options] {exc}") from exc
        timezone = options.get("timezone", DEFAULT_TIMEZONE)
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            msg = f"{origin}: [options] timezone {timezone!r} is not an IANA time zone"
            raise TrackReadError(msg) from exc
        return cls(origin=origin, columns=dict(columns), **{k: v for k, v in options.items()})


def load_track_mapping(path: str | Path) -> TrackMapping:
    """Load a track mapping TOML file; raise :class:`TrackReadError` naming the file and key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"{path}: not a readable TOML mapping ({exc})"
        raise TrackReadError(msg) from exc
    return TrackMapping.from_dict(data, origin=str(path))


# --- assembling the contract ------------------------------------------------------------------------------


def _parse_times(text: pd.Series, timezone: str, date_format: str | None) -> pd.Series:
    """UTC times from text; naive values are read in ``timezone``; unparseable values give NaT."""
    values = text.astype(str).str.strip()
    kwargs: dict[str, Any] = {"format": date_format} if date_format else {"format": "ISO8601"}
    try:
        parsed = pd.to_datetime(values, errors="coerce", utc=False, **kwargs)
    except (ValueError, TypeError):
        parsed = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        return parsed.dt.tz_convert("UTC")
    if parsed.dtype == object:  # mixed offsets: let pandas convert each value
        return pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    return parsed.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")


def _assemble(
    file: str,
    inspector: pd.Series,
    ts: pd.Series,
    lat: Any,
    lon: Any,
    accuracy: Any,
    crs: str,
    raw: pd.DataFrame,
    line_offset: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    lat_a = pd.to_numeric(pd.Series(lat), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    lon_a = pd.to_numeric(pd.Series(lon), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad_time = ts.isna().to_numpy()
    try:
        geographic = crs_is_geographic(crs)
    except ValueError as exc:
        raise TrackReadError(f"{file}: {exc}") from exc
    bad_xy = ~(np.isfinite(lat_a) & np.isfinite(lon_a))
    if geographic:
        bad_xy |= ~((np.abs(lat_a) <= 90) & (np.abs(lon_a) <= 180))
    if crs != "wgs84":
        lat_a, lon_a = to_wgs84(lat_a, lon_a, crs)
    outside = ~bad_xy & _outside_area(lat_a, lon_a, crs)
    bad_xy |= outside
    acc = pd.to_numeric(pd.Series(accuracy), errors="coerce").to_numpy(dtype=np.float32, na_value=np.nan)
    bad = bad_time | bad_xy
    points = pd.DataFrame(
        {
            "inspector_id": pd.Series(inspector).astype(str).to_numpy()[~bad],
            "ts": pd.DatetimeIndex(ts[~bad]).as_unit("ms"),
            "lat": lat_a[~bad],
            "lon": lon_a[~bad],
            "accuracy_m": acc[~bad] if len(acc) == len(bad) else np.full((~bad).sum(), np.nan, np.float32),
        }
    )
    rows = np.flatnonzero(bad)
    problems = pd.DataFrame(
        {
            "file": file,
            "line": (rows + line_offset).astype(np.int64),
            "field": np.where(bad_time[rows], "ts", "lat/lon"),
            "reason": np.where(
                bad_time[rows], "bad_time", np.where(outside[rows], "outside_crs_area", "bad_coordinates")
            ),
            "raw": _raw_text(raw, rows),
        },
        columns=list(PROBLEM_COLUMNS),
    )
    return points[list(TRACK_COLUMNS)], problems


def _outside_area(lat: np.ndarray, lon: np.ndarray, crs: str) -> np.ndarray:
    """WGS-84 points outside the area of use of a projected ``crs`` (± the margin); all False otherwise."""
    bounds = None if crs_is_geographic(crs) else crs_area_of_use(crs)
    if bounds is None:
        return np.zeros(len(lat), dtype=bool)
    west, south, east, north = bounds
    m = CRS_AREA_MARGIN_DEG
    with np.errstate(invalid="ignore"):
        inside = (lon >= west - m) & (lon <= east + m) & (lat >= south - m) & (lat <= north + m)
    return ~inside


def _raw_text(raw: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """The source records of the problem rows only, as comma-joined text."""
    if len(rows) == 0:
        return np.array([], dtype=object)
    # missing fields (e.g. a GPX point without <time>) are empty; pandas' string dtype keeps NA through astype
    picked = raw.iloc[rows].astype(object).where(raw.iloc[rows].notna(), "")
    return np.array([",".join(map(str, values)) for values in picked.itertuples(index=False)], dtype=object)


def _require_inspector(inspector: str | None, default: str, file: str) -> str:
    value = inspector if inspector is not None else default
    if not value:
        msg = f"{file}: no inspector id; pass `inspector`"
        raise TrackReadError(msg)
    return value


# --- formats ----------------------------------------------------------------------------------------------


def read_gpx(
    path: str | Path, *, inspector: str | None = None, crs: str = "wgs84"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Track points of every ``<trkpt>`` of a GPX 1.0/1.1 file (one inspector per file).

    ``inspector`` defaults to the file's stem. Times are ISO 8601 (``Z`` or an offset; naive times are
    taken as UTC, as GPX requires); ``<hdop>`` × 5 m is used as ``accuracy_m`` when present. ``line`` in the
    problems is the track point's number (1-based).
    """
    file = str(path)
    who = _require_inspector(inspector, Path(path).stem, file)
    lats: list[str | None] = []
    lons: list[str | None] = []
    times: list[str | None] = []
    hdops: list[str | None] = []
    try:
        for _, elem in ET.iterparse(file, events=("end",)):
            if elem.tag.rsplit("}", 1)[-1] != "trkpt":
                continue
            lats.append(elem.get("lat"))
            lons.append(elem.get("lon"))
            fields = {child.tag.rsplit("}", 1)[-1]: child.text for child in elem}
            times.append(fields.get("time"))
            hdops.append(fields.get("hdop"))
            elem.clear()
    except (ET.ParseError, OSError) as exc:
        msg = f"{file}: not a readable GPX file ({exc})"
        raise TrackReadError(msg) from exc
    ts = _parse_times(pd.Series(times, dtype=object).fillna(""), "UTC", None)
    hdop = pd.to_numeric(pd.Series(hdops, dtype=object), errors="coerce") * 5.0
    raw = pd.DataFrame({"lat": lats, "lon": lons, "time": times})
    inspectors = pd.Series([who] * len(lats), dtype=object)
    return _assemble(file, inspectors, ts, lats, lons, hdop, crs, raw, 1)


def read_plt(path: str | Path, *, inspector: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Track points of a GeoLife ``.plt`` file (6 header lines; lat, lon, 0, alt_ft, days, date, time; GMT).

    ``inspector`` defaults to the GeoLife user folder (``<user>/Trajectory/<file>.plt``), else the stem.
    ``line`` in the problems is the file's line number.
    """
    file = str(path)
    p = Path(path)
    default = p.parent.parent.name if p.parent.name.lower() == "trajectory" else p.stem
    who = _require_inspector(inspector, default, file)
    try:
        frame = pd.read_csv(p, skiprows=6, header=None, names=list(_PLT_NAMES), dtype=str, engine="c")
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        msg = f"{file}: not a readable GeoLife .plt file ({exc})"
        raise TrackReadError(msg) from exc
    text = frame["date"].fillna("") + " " + frame["time"].fillna("")
    ts = _parse_times(text, "UTC", "%Y-%m-%d %H:%M:%S")
    inspectors = pd.Series([who] * len(frame), dtype=object)
    return _assemble(file, inspectors, ts, frame["lat"], frame["lon"], np.nan, "wgs84", frame, 7)


def _column(
    frame: pd.DataFrame, mapping: TrackMapping, field: str, file: str, *, required: bool
) -> pd.Series | None:
    wanted = mapping.columns.get(field, field)
    lookup = {str(c).lower(): c for c in frame.columns}
    if wanted in frame.columns:
        return frame[wanted]
    if wanted.lower() in lookup:
        return frame[lookup[wanted.lower()]]
    if required:
        msg = (
            f"{file}: no column {wanted!r} for field {field!r} (columns: {list(frame.columns)}); "
            "map it with [columns]"
        )
        raise TrackReadError(msg)
    return None


def read_csv_tracks(
    path: str | Path,
    *,
    mapping: TrackMapping | None = None,
    inspector: str | None = None,
    crs: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Track points of a CSV (``.gz`` ok) described by ``mapping`` (default: contract column names).

    ``inspector`` (or the mapping's ``inspector`` option) is used when the file has no inspector column;
    ``crs`` overrides the mapping's. ``line`` in the problems is the file's line number (header = 1).
    """
    mapping = mapping or TrackMapping()
    file = str(path)
    try:
        frame = pd.read_csv(
            path, dtype=str, sep=mapping.delimiter or None, engine="python" if not mapping.delimiter else "c",
            encoding=mapping.encoding or "utf-8-sig", keep_default_na=False,
        )  # fmt: skip
    except (OSError, pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        msg = f"{file}: not a readable CSV file ({exc})"
        raise TrackReadError(msg) from exc
    constant = inspector or mapping.inspector
    who = _column(frame, mapping, "inspector_id", file, required=constant is None)
    if constant is not None:
        who = pd.Series([constant] * len(frame), dtype=object)
    ts = _parse_times(
        _column(frame, mapping, "ts", file, required=True), mapping.timezone, mapping.date_format
    )
    acc = _column(frame, mapping, "accuracy_m", file, required=False)
    lat, lon = _lat_lon(frame, mapping, file)
    return _assemble(file, who, ts, lat, lon, np.nan if acc is None else acc, crs or mapping.crs, frame, 2)


def _lat_lon(frame: pd.DataFrame, mapping: TrackMapping, file: str) -> tuple[pd.Series, pd.Series]:
    """The ``lat``/``lon`` columns, else ``y``/``x`` (northing/easting) when the file has those only."""
    lat = _column(frame, mapping, "lat", file, required=False)
    lon = _column(frame, mapping, "lon", file, required=False)
    if lat is None and lon is None:
        y = _column(frame, mapping, "y", file, required=False)
        x = _column(frame, mapping, "x", file, required=False)
        if y is not None and x is not None:
            return y, x
    lat = lat if lat is not None else _column(frame, mapping, "lat", file, required=True)
    lon = lon if lon is not None else _column(frame, mapping, "lon", file, required=True)
    return lat, lon


def read_point_features(
    path: str | Path,
    *,
    inspector: str | None = None,
    mapping: TrackMapping | None = None,
    crs: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Track points from Point features (GeoJSON, GeoPackage, Shapefile) with a time property.

    The time is the mapping's ``ts`` column, else the first of ``ts``, ``time``, ``timestamp``,
    ``datetime``, ``t``; the inspector is ``inspector`` or the mapping's ``inspector_id`` column (default
    ``inspector_id``). A file with a projected CRS is reprojected to EPSG:4326 first.
    """
    import geopandas as gpd

    mapping = mapping or TrackMapping()
    file = str(path)
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several GDAL error types
        msg = f"{file}: not a readable GeoJSON/GeoPackage/Shapefile ({exc})"
        raise TrackReadError(msg) from exc
    if frame.crs is not None and not frame.crs.is_geographic:
        frame = frame.to_crs(4326)
        crs = crs if crs in ("gcj02", "bd09") else "wgs84"  # the declared system wins over a projected crs
    geom = frame.geometry
    if len(frame) and not (geom.geom_type.dropna() == "Point").all():
        msg = f"{file}: expected Point features; found {sorted(set(geom.geom_type.dropna()))}"
        raise TrackReadError(msg)
    time_field = mapping.columns.get("ts") or next(
        (c for c in frame.columns if str(c).lower() in _TIME_PROPERTIES), None
    )
    if time_field is None or time_field not in frame.columns:
        msg = f"{file}: no time property (looked for {list(_TIME_PROPERTIES)}); map one with [columns] ts"
        raise TrackReadError(msg)
    times = frame[time_field]
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        ts = times.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(times):
        ts = times.dt.tz_localize(mapping.timezone).dt.tz_convert("UTC")
    else:
        ts = _parse_times(times.astype(str), mapping.timezone, mapping.date_format)
    who = inspector or mapping.inspector
    ids = (
        pd.Series([who] * len(frame)) if who else _column(frame, mapping, "inspector_id", file, required=True)
    )
    acc = _column(frame, mapping, "accuracy_m", file, required=False)
    raw = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    return _assemble(
        file, ids, ts, geom.y, geom.x, np.nan if acc is None else acc, crs or mapping.crs, raw, 1
    )


def read_parquet_tracks(path: str | Path, *, crs: str = "wgs84") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Track points from a Parquet file (or hive-partitioned folder) with the contract's columns."""
    file = str(path)
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        msg = f"{file}: not a readable Parquet file ({exc})"
        raise TrackReadError(msg) from exc
    missing = [c for c in TRACK_COLUMNS[:4] if c not in frame.columns]
    if missing:
        msg = f"{file}: missing column(s) {missing}; the track points contract is {list(TRACK_COLUMNS)}"
        raise TrackReadError(msg)
    ts = frame["ts"]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        msg = f"{file}: column ts must be a UTC timestamp (tz-aware); got {ts.dtype}"
        raise TrackReadError(msg)
    acc = frame["accuracy_m"] if "accuracy_m" in frame.columns else np.nan
    return _assemble(
        file, frame["inspector_id"], ts.dt.tz_convert("UTC"), frame["lat"], frame["lon"], acc, crs, frame, 1
    )


def read_tracks(
    path: str | Path,
    *,
    inspector: str | None = None,
    mapping: TrackMapping | None = None,
    crs: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read any supported track file, choosing the reader by suffix.

    ``.gpx`` → :func:`read_gpx`; ``.plt`` → :func:`read_plt`; ``.csv``/``.txt``/``.gz`` →
    :func:`read_csv_tracks`; ``.geojson``/``.json``/``.gpkg``/``.shp`` → :func:`read_point_features`;
    ``.parquet`` → :func:`read_parquet_tracks`. ``crs`` (default: the mapping's, else ``wgs84``) names the
    source's coordinate system.
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".gpx":
        return read_gpx(path, inspector=inspector, crs=crs or "wgs84")
    if suffix == ".plt":
        return read_plt(path, inspector=inspector)
    if suffix in (".csv", ".txt", ".gz", ".tsv"):
        return read_csv_tracks(path, mapping=mapping, inspector=inspector, crs=crs)
    if suffix in (".geojson", ".json", ".gpkg", ".shp"):
        return read_point_features(path, inspector=inspector, mapping=mapping, crs=crs)
    if suffix == ".parquet":
        return read_parquet_tracks(path, crs=crs or "wgs84")
    msg = f"{path}: unknown track format {suffix!r} (gpx, plt, csv, geojson, gpkg, shp, parquet)"
    raise TrackReadError(msg)
