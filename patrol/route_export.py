"""Writers of a suggested route: GPX 1.1 (:func:`write_gpx`), GeoJSON (:func:`route_to_geojson`) and
:func:`write_route` (by file extension)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from patrol.route_model import SuggestedRoute

GPX_NS = "http://www.topografix.com/GPX/1/1"


# --- writers ----------------------------------------------------------------------------------------------


def _iso(ts: pd.Timestamp) -> str:
    return ts.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


#: Coordinate systems a GPX may be written in: WGS-84 (GPS devices, international maps) or GCJ-02
#: (Chinese map apps: Gaode, Tencent), which are ~hundreds of metres apart in China.
GPX_CRSES = ("wgs84", "gcj02")


def write_gpx(route: SuggestedRoute, path: str | Path, *, crs: str = "wgs84") -> Path:
    """Write the route as GPX 1.1: a waypoint per stop, a ``<rte>`` through start, stops and end, and a
    ``<trk>`` with the walk along the streets (opens in phone navigation apps).

    ``crs``: ``wgs84`` (the GPX standard) or ``gcj02`` (every coordinate shifted for Chinese map apps;
    the metadata says so)."""
    if crs not in GPX_CRSES:
        msg = f"`crs` was {crs!r} but is expected to be one of {list(GPX_CRSES)}"
        raise ValueError(msg)
    ET.register_namespace("", GPX_NS)
    q = lambda tag: f"{{{GPX_NS}}}{tag}"  # noqa: E731
    root = ET.Element(q("gpx"), {"version": "1.1", "creator": "GridPatrol"})
    meta = ET.SubElement(root, q("metadata"))
    ET.SubElement(meta, q("name")).text = f"{route.inspector_id} {route.shift_start:%Y-%m-%d}"
    if crs != "wgs84":
        ET.SubElement(meta, q("desc")).text = f"coordinates in {crs.upper()}, not WGS-84"
    ET.SubElement(meta, q("time")).text = _iso(route.shift_start)
    stops = _shifted(route.stops, crs)
    label = [
        f"{o:02d} {h}" if k == "stop" else k
        for o, k, h in zip(stops["order"], stops["kind"], stops["h3"], strict=True)
    ]
    for r, name in zip(stops.itertuples(), label, strict=True):
        if r.kind == "stop":
            _point(root, q("wpt"), r, name, q)
    rte = ET.SubElement(root, q("rte"))
    ET.SubElement(rte, q("name")).text = f"patrol route {route.inspector_id}"
    for r, name in zip(stops.itertuples(), label, strict=True):
        _point(rte, q("rtept"), r, name, q)
    trk = ET.SubElement(root, q("trk"))
    ET.SubElement(trk, q("name")).text = f"walk {route.inspector_id}"
    seg = ET.SubElement(trk, q("trkseg"))
    xy = shapely.get_coordinates(route.path)
    if crs != "wgs84" and len(xy):
        from grid.coords import from_wgs84

        lat, lon = from_wgs84(xy[:, 1], xy[:, 0], crs)
        xy = np.column_stack([lon, lat])
    for x, y in xy:
        ET.SubElement(seg, q("trkpt"), {"lat": f"{y:.7f}", "lon": f"{x:.7f}"})
    out = Path(path)
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
    return out


def _shifted(stops: pd.DataFrame, crs: str) -> pd.DataFrame:
    if crs == "wgs84":
        return stops
    from grid.coords import from_wgs84

    lat, lon = from_wgs84(
        stops["lat"].to_numpy(dtype=np.float64), stops["lon"].to_numpy(dtype=np.float64), crs
    )
    return stops.assign(lat=lat, lon=lon)


def _point(parent: ET.Element, tag: str, r: Any, name: str, q: Any) -> None:
    pt = ET.SubElement(parent, tag, {"lat": f"{r.lat:.7f}", "lon": f"{r.lon:.7f}"})
    ET.SubElement(pt, q("time")).text = _iso(r.arrival)  # GPX 1.1 order: time before name and desc
    ET.SubElement(pt, q("name")).text = name
    ET.SubElement(pt, q("desc")).text = r.why


def route_to_geojson(route: SuggestedRoute) -> dict[str, Any]:
    """The route as a GeoJSON FeatureCollection (RFC 7946): one Point per node, then the path LineString
    with the totals as its properties."""
    stops = route.stops.copy()
    for c in ("arrival", "departure", "deadline"):
        stops[c] = [None if pd.isna(t) else _iso(t) for t in stops[c]]
    stops["cell"] = stops["cell"].astype(object).where(stops["cell"].notna(), None)
    stops["on_time"] = stops["on_time"].astype(object).where(stops["on_time"].notna(), None)
    stops["days_since_visit"] = [None if not np.isfinite(v) else float(v) for v in stops["days_since_visit"]]
    features = json.loads(stops.drop(columns="cell").to_json(drop_id=True))["features"]
    props = {k: v for k, v in route.totals.items()}
    props.update(kind="path", inspector_id=route.inspector_id, shift_start=_iso(route.shift_start))
    features.append(
        {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(route.path)}
    )
    return {"type": "FeatureCollection", "features": features}


def write_route(route: SuggestedRoute, path: str | Path, *, gpx_crs: str = "wgs84") -> Path:
    """Write ``route`` by suffix: ``.gpx`` (:func:`write_gpx` in ``gpx_crs``) or ``.geojson``
    (:func:`route_to_geojson`, WGS-84 as RFC 7946 requires)."""
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix == ".gpx":
        return write_gpx(route, out, crs=gpx_crs)
    if suffix == ".geojson":
        out.write_text(json.dumps(route_to_geojson(route), ensure_ascii=False), encoding="utf-8")
        return out
    msg = f"route output must end in .gpx or .geojson; got {out.name}"
    raise ValueError(msg)
