"""Write the demo city's files (besides the track partitions, written day by day by :mod:`sim.tracks`).

Layout under the output folder (documented column by column in ``data/geo/README.md``)::

    geo/      city, river, districts, subdistricts, communities (GeoJSON); blocks, streets, street_nodes,
              unit_grids, cells (GeoParquet)
    people/   inspectors.csv, assignments.csv, departments.csv
    cases/    cases.csv (contract columns, importable with no mapping), cases.parquet, case_events.parquet
    tracks/   day=YYYY-MM-DD/part.parquet
    gpx/      <inspector_id>_<day>.gpx for one sample day
    truth/    config.json, rates.json, hotspot_cells.csv, hotspot_periods.csv, routes.parquet,
              intensity.parquet, problems.parquet, patrol_finds.parquet
    manifest.json  sha256 of every file
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from sim import _h3
from sim.addresses import write_addresses
from sim.city import CASE_COLUMNS, DemoCity
from sim.hotspots import hotspot_tables
from sim.intensity import episode_tables, weekly_truth
from sim.people import assignments_frame
from sim.write import write_csv, write_geojson, write_geoparquet, write_manifest, write_parquet

WGS84 = "EPSG:4326"


def write_all(city: DemoCity, out: Path) -> None:
    """Write every non-track file and the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    _geo(city, out / "geo")
    _people(city, out / "people")
    _cases(city, out / "cases")
    _truth(city, out / "truth")
    write_addresses(city.geography, out / "geo" / "addresses.csv")  # the address / POI table (sim.addresses)
    write_manifest(out, known=city.tracks.sha256)


def _geo(city: DemoCity, d: Path) -> None:
    geo, cfg = city.geography, city.config
    fr = geo.frame
    rg = cfg.row_group_size
    write_geojson(
        gpd.GeoDataFrame(
            {"name": ["南通示范城区"], "area_m2": [geo.city.area]},
            geometry=fr.geoms_to_wgs84([geo.city]),
            crs=WGS84,
        ),
        d / "city.geojson",
    )
    write_geojson(
        gpd.GeoDataFrame(
            {"name": ["濠河（示意）"], "area_m2": [geo.river.area]},
            geometry=fr.geoms_to_wgs84([geo.river]),
            crs=WGS84,
        ),
        d / "river.geojson",
    )
    for level, gdf in geo.areas.items():
        write_geojson(gdf, d / f"{level}s.geojson" if level != "community" else d / "communities.geojson")
    b = geo.blocks
    write_geoparquet(
        gpd.GeoDataFrame(
            b[
                [
                    "block_id",
                    "landuse",
                    "population",
                    "open_day",
                    "district",
                    "subdistrict",
                    "community",
                    "area_m2",
                ]
            ],
            geometry=fr.geoms_to_wgs84(b.geometry.values),
            crs=WGS84,
        ),
        d / "blocks.parquet",
        row_group_size=rg,
    )
    n, e = geo.nodes, geo.edges
    lat, lon = fr.to_latlon(n["x"].to_numpy(), n["y"].to_numpy())
    write_parquet(
        pd.DataFrame({"node": n["node"], "lat": np.round(lat, 7), "lon": np.round(lon, 7)}),
        d / "street_nodes.parquet",
        row_group_size=rg,
    )
    u, v = e["u"].to_numpy(), e["v"].to_numpy()
    lines = shapely.linestrings(
        np.stack([np.column_stack([lon[u], lat[u]]), np.column_stack([lon[v], lat[v]])], axis=1)
    )
    write_geoparquet(
        gpd.GeoDataFrame(
            {"u": u, "v": v, "kind": e["kind"], "bridge": e["bridge"], "length_m": e["length_m"].round(2)},
            geometry=lines,
            crs=WGS84,
        ),
        d / "streets.parquet",
        row_group_size=rg,
    )
    write_geoparquet(geo.unit_grids, d / "unit_grids.parquet", row_group_size=rg)
    c = geo.cells
    polys, area = _h3.cell_polygons(c["cell"].to_numpy())
    write_geoparquet(
        gpd.GeoDataFrame(
            {
                "cell": c["cell"].to_numpy(),
                "h3": _h3.to_strings(c["cell"].to_numpy()),
                "district": c["district"],
                "subdistrict": c["subdistrict"],
                "community": c["community"],
                "unit_grid": c["unit_grid"],
                "area_m2": np.round(area, 2),
                "landuse": c["landuse"],
                "population": np.round(c["population"].to_numpy(), 1),
                "street_m": c["street_m"],
                "inspector_id": _owner(city),
            },
            geometry=polys,
            crs=WGS84,
        ),
        d / "cells.parquet",
        row_group_size=rg,
    )


def _owner(city: DemoCity) -> np.ndarray:
    ids = city.people.inspectors["inspector_id"].to_numpy()
    beat = city.people.beat
    return np.where(beat >= 0, ids[np.maximum(beat, 0)], None)


def _people(city: DemoCity, d: Path) -> None:
    insp = city.people.inspectors
    write_csv(
        insp[["inspector_id", "name", "district", "active"]].assign(
            active=insp["active"].map({True: "true", False: "false"})
        ),
        d / "inspectors.csv",
    )
    write_csv(assignments_frame(city.people, city.geography, city.config), d / "assignments.csv")
    write_csv(city.people.departments[["department_id", "name", "district"]], d / "departments.csv")


def case_frame(city: DemoCity) -> pd.DataFrame:
    """Cases in the contract's columns (``cell`` as H3 hex string, times UTC)."""
    c = city.cases.copy()
    c["cell"] = _h3.to_strings(c["cell"].to_numpy())
    return c[list(CASE_COLUMNS)]


def _cases(city: DemoCity, d: Path) -> None:
    frame = case_frame(city)
    write_csv(frame, d / "cases.csv")
    write_parquet(
        frame.assign(cell=city.cases["cell"].to_numpy()),
        d / "cases.parquet",
        row_group_size=city.config.row_group_size,
    )
    write_parquet(city.events, d / "case_events.parquet", row_group_size=city.config.row_group_size)


def _truth(city: DemoCity, d: Path) -> None:
    cfg, geo = city.config, city.geography
    d.mkdir(parents=True, exist_ok=True)
    cfg_out = cfg.to_dict()
    cfg_out["derived"] = {
        "category_shares": dict(zip(cfg.category_codes, cfg.category_shares.round(6).tolist(), strict=True)),
        "source_shares": cfg.source_share_map,
    }
    (d / "config.json").write_text(
        json.dumps(cfg_out, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8"
    )
    (d / "rates.json").write_text(json.dumps(city.rates, indent=1, sort_keys=True), encoding="utf-8")
    cells, periods = hotspot_tables(city.intensity.hotspots, geo, cfg)
    ep_cells, ep_periods = episode_tables(city.intensity, geo, cfg)
    cells = pd.concat([cells, ep_cells], ignore_index=True) if len(ep_cells) else cells
    periods = pd.concat([periods, ep_periods], ignore_index=True) if len(ep_periods) else periods
    write_csv(cells.assign(cell=_h3.to_strings(cells["cell"].to_numpy())), d / "hotspot_cells.csv")
    write_csv(periods, d / "hotspot_periods.csv")
    ids = city.people.inspectors["inspector_id"].to_numpy()
    lines = [shapely.LineString(np.column_stack(geo.frame.to_latlon(r.x, r.y))[:, ::-1]) for r in city.routes]
    write_geoparquet(
        gpd.GeoDataFrame(
            {"inspector_id": ids[: len(lines)], "length_m": [round(r.length_m, 2) for r in city.routes]},
            geometry=lines,
            crs=WGS84,
        ),
        d / "routes.parquet",
    )
    write_parquet(weekly_truth(city.intensity, geo, cfg), d / "intensity.parquet", row_group_size=1 << 20)
    _problems_truth(city, d)


def _problems_truth(city: DemoCity, d: Path) -> None:
    cfg, geo = city.config, city.geography
    p = city.problems
    case_of = city.cases.set_index("problem_id")["case_id"]
    codes = np.asarray(cfg.category_codes, dtype=object)
    write_parquet(
        pd.DataFrame(
            {
                "problem_id": p["problem_id"],
                "occurred_at": pd.to_datetime(p["occurred_ns"], utc=True).dt.floor("s"),
                "cell": geo.cells["cell"].to_numpy()[p["cell_idx"].to_numpy()],
                "category_code": codes[p["cat"].to_numpy()],
                "generation": p["generation"],
                "parent_id": p["parent"],
                "channel": p["channel"],
                "case_id": p["problem_id"].map(case_of),
            }
        ),
        d / "problems.parquet",
        row_group_size=cfg.row_group_size,
    )
    pc = city.cases[city.cases["source"] == "patrol"]
    occ = p.set_index("problem_id")["occurred_ns"]
    write_parquet(
        pd.DataFrame(
            {
                "case_id": pc["case_id"],
                "inspector_id": pc["reported_by"],
                "found_at": pc["reported_at"],
                "occurred_at": pd.to_datetime(pc["problem_id"].map(occ), utc=True).dt.floor("s"),
                "lat": pc["lat"],
                "lon": pc["lon"],
                "cell": pc["cell"],
                "problem_cell": geo.cells["cell"].to_numpy()[pc["cell_idx"].to_numpy()],
            }
        ),
        d / "patrol_finds.parquet",
        row_group_size=cfg.row_group_size,
    )
