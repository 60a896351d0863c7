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


def write_gpx(route: SuggestedRoute, path: str | Path) -> Path:
    """Write the route as GPX 1.1: a waypoint per stop, a ``<rte>`` through start, stops and end, and a
    ``<trk>`` with the walk along the streets (opens in phone navigation apps)."""
    ET.register_namespace("", GPX_NS)
    q = lambda tag: f"{{{GPX_NS}}}{tag}"  # noqa: E731
    root = ET.Element(q("gpx"), {"version": "1.1", "creator": "GridPatrol"})
    meta = ET.SubElement(root, q("metadata"))
    ET.SubElement(meta, q("name")).text = f"{route.inspector_id} {route.shift_start:%Y-%m-%d}"
    ET.SubElement(meta, q("time")).text = _iso(route.shift_start)
    stops = route.stops
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
    for x, y in shapely.get_coordinates(route.path):
        ET.SubElement(seg, q("trkpt"), {"lat": f"{y:.7f}", "lon": f"{x:.7f}"})
    out = Path(path)
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
    return out


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


def write_route(route: SuggestedRoute, path: str | Path) -> Path:
    """Write ``route`` by suffix: ``.gpx`` (:func:`write_gpx`) or ``.geojson`` (:func:`route_to_geojson`)."""
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix == ".gpx":
        return write_gpx(route, out)
    if suffix == ".geojson":
        out.write_text(json.dumps(route_to_geojson(route), ensure_ascii=False), encoding="utf-8")
        return out
    msg = f"route output must end in .gpx or .geojson; got {out.name}"
    raise ValueError(msg)
