"""``gridpatrol route``, ``beats`` and ``staffing``: suggested routes and deployment planning.

Each command reads the database by default (cases, assignments, inspectors, area cells) or, with
``--city DIR``, a demo-city folder written by ``gridpatrol demo-data`` (``cases/cases.parquet``,
``people/*.csv``, ``geo/cells.parquet``, ``geo/streets.parquet``, ``tracks/``). Walking times follow a street
graph when one is given (``--streets FILE`` of LineStrings, ``--osm FILE`` of OSM highway ways, or the demo
city's streets), else great-circle distance × ``--circuity``.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from typing import Any

import click

from app.commands._common import exit_on

TZ_OPTION = click.option(
    "--timezone", envvar="GRIDPATROL_TIMEZONE", default="Asia/Shanghai", show_default=True
)
MODEL_OPTION = click.option(
    "--model",
    default="baseline_mean",
    show_default=True,
    help="Forecast model of the demand (analytics.forecast; the long-run mean is the strongest baseline in "
    "the backtests and instant; `auto` backtests every model first and takes minutes).",
)
CITY_OPTION = click.option(
    "--city",
    "city_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Read a demo-city folder (gridpatrol demo-data --out DIR) instead of the database.",
)
_DURATION = re.compile(
    r"^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m(?:in)?)?\s*(?:(\d+(?:\.\d+)?)s)?\s*$"
)


class DeployError(Exception):
    """A user-facing failure (message printed, exit code 1)."""


def parse_duration(text: str) -> float:
    """Seconds of ``"4h"``, ``"3h30m"``, ``"90m"``, ``"5400s"`` or a bare number of hours."""
    try:
        return float(text) * 3600.0
    except ValueError:
        pass
    match = _DURATION.match(text.lower())
    if not match or not any(match.groups()):
        msg = f"cannot read the duration {text!r}; write e.g. 4h, 3h30m, 90m or 5400s"
        raise click.BadParameter(msg)
    h, m, s = (float(v) if v else 0.0 for v in match.groups())
    return h * 3600 + m * 60 + s


# --- inputs -----------------------------------------------------------------------------------------------


def _engine():
    from cases.db import init_db, make_engine

    engine = make_engine(click.get_current_context().find_root().obj["db_url"])
    init_db(engine)
    return engine


def _cases(city_dir: Path | None):
    """Cases with what routes need (status, deadline) from the city folder or the database."""
    if city_dir is not None:
        import pandas as pd

        return pd.read_parquet(city_dir / "cases" / "cases.parquet")
    from cases.store import CASE_COLUMNS, load_case_frame

    engine = _engine()
    try:
        return load_case_frame(engine, (*CASE_COLUMNS, "status", "deadline_at"))
    finally:
        engine.dispose()


def _assignments(city_dir: Path | None):
    import pandas as pd

    if city_dir is not None:
        from grid.cells import strings_to_cells

        frame = pd.read_csv(city_dir / "people" / "assignments.csv", dtype=str)
        frame["cell"] = strings_to_cells(frame["cell"].to_numpy())
    else:
        import sqlalchemy as sa

        from cases.models import Assignment

        engine = _engine()
        try:
            with engine.connect() as conn:
                frame = pd.read_sql_query(sa.select(Assignment.__table__), conn)
        finally:
            engine.dispose()
    for column in ("valid_from", "valid_to"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _cells(city_dir: Path | None):
    """The cells contract (``cell``, ``district``, ``street_m`` or ``area_m2``)."""
    if city_dir is not None:
        import geopandas as gpd

        return gpd.read_parquet(city_dir / "geo" / "cells.parquet")
    from cases.areas import load_areas
    from grid.build import cells_from_polygons

    engine = _engine()
    try:
        areas = load_areas(engine)
    finally:
        engine.dispose()
    if not len(areas):
        raise DeployError("no areas stored: import district polygons first (gridpatrol import areas …)")
    return cells_from_polygons(areas, res=10)


def _graph(city_dir: Path | None, streets: Path | None, osm: Path | None):
    from patrol.network import read_osm_walk_network, street_graph

    if osm is not None:
        return read_osm_walk_network(osm)
    if streets is None and city_dir is not None and (city_dir / "geo" / "streets.parquet").exists():
        streets = city_dir / "geo" / "streets.parquet"
    if streets is None:
        return None
    import geopandas as gpd

    lines = gpd.read_parquet(streets) if streets.suffix == ".parquet" else gpd.read_file(streets)
    return street_graph(lines.to_crs(4326) if lines.crs else lines, source=streets.name)


def _last_visit(tracks: Path | None, city_dir: Path | None, date: dt.date, days: int, timezone: str):
    from cases.db import data_dir
    from patrol.coverage import cell_summary
    from patrol.scale import fine_cube_from_store

    root = tracks or (city_dir / "tracks" if city_dir is not None else data_dir() / "tracks")
    if not root.exists():
        return None
    fine = fine_cube_from_store(
        root, date - dt.timedelta(days=days), date - dt.timedelta(days=1), timezone=timezone
    )
    return cell_summary(fine)[["cell", "last_visit"]] if len(fine) else None


# --- route ------------------------------------------------------------------------------------------------


@click.command(name="route")
@click.option("--inspector", required=True, help="Inspector id.")
@click.option(
    "--date", "date", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Shift date (city zone)."
)
@click.option("--budget", default="4h", show_default=True, help="Shift length: 4h, 3h30m, 90m …")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Output by suffix: .gpx (phone navigation), .geojson or .html (map).",
)
@click.option(
    "--start", default=None, help="Start and end point 'LAT,LON' (WGS-84); default the beat centre."
)
@click.option("--shift-start", default="08:00", show_default=True, help="Local start time HH:MM.")
@CITY_OPTION
@click.option(
    "--streets",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Street LineStrings (GeoParquet/GeoJSON/GPKG) for walking times.",
)
@click.option(
    "--osm",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="OSM highway ways (e.g. monaco_highways.geojson), walkable ways only.",
)
@click.option(
    "--tracks",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Track store for the time since each cell's last patrol [default: <data dir>/tracks].",
)
@click.option(
    "--coverage-days",
    type=click.IntRange(min=1),
    default=28,
    show_default=True,
    help="Days of tracks before the date read for last visits.",
)
@click.option("--speed", type=click.FloatRange(min=0.1), default=1.2, show_default=True, help="Walking m/s.")
@click.option(
    "--circuity",
    type=click.FloatRange(min=1.0),
    default=1.3,
    show_default=True,
    help="Street / straight-line distance without a street graph.",
)
@click.option(
    "--time-limit", type=click.FloatRange(min=0.01), default=1.0, show_default=True, help="Solver seconds."
)
@MODEL_OPTION
@TZ_OPTION
@click.option("--tiles", envvar="GRIDPATROL_TILES", default="osm", show_default=True, help="HTML base map.")
@exit_on(DeployError, ValueError)
def route_cmd(**opts: Any) -> None:
    """Suggest today's route for an inspector: the stops worth most within the shift, with reasons.

    Example: gridpatrol route --inspector NT0001 --date 2026-03-02 --budget 4h --out route.gpx
    """
    from patrol.routes import RouteOptions, suggest_route, write_route

    out: Path = opts["out"]
    if out.suffix.lower() not in (".gpx", ".geojson", ".html"):
        raise DeployError(f"--out must end in .gpx, .geojson or .html; got {out.name}")
    start = None
    if opts["start"]:
        try:
            lat, lon = (float(v) for v in opts["start"].split(","))
        except ValueError as exc:
            raise DeployError(f"--start must be 'LAT,LON'; got {opts['start']!r}") from exc
        start = (lat, lon)
    city, date = opts["city_dir"], opts["date"].date()
    options = RouteOptions(
        shift_start=opts["shift_start"],
        speed_mps=opts["speed"],
        circuity=opts["circuity"],
        time_limit_s=opts["time_limit"],
        timezone=opts["timezone"],
        forecast_model=opts["model"],
    )
    route = suggest_route(
        opts["inspector"],
        date,
        assignments=_assignments(city),
        cases=_cases(city),
        budget_s=parse_duration(opts["budget"]),
        start=start,
        graph=_graph(city, opts["streets"], opts["osm"]),
        last_visit=_last_visit(opts["tracks"], city, date, opts["coverage_days"], opts["timezone"]),
        options=options,
    )
    t = route.totals
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".html":
        out.write_text(_route_html(route, opts["tiles"]), encoding="utf-8")
    else:
        write_route(route, out)
    click.echo(
        f"{t['n_stops']} of {t['n_candidates']} cells, value {t['value']:.2f} of {t['value_available']:.2f}, "
        f"{t['distance_m'] / 1000:.1f} km, {t['duration_s'] / 60:.0f} of {t['budget_s'] / 60:.0f} min "
        f"(walk {t['walk_s'] / 60:.0f}, in cells {t['dwell_s'] / 60:.0f}); must-visit on time "
        f"{t['must_visited_on_time']}/{t['must_visit']}; network: {t['network']} → {out}"
    )
    for row in route.missed.itertuples():
        click.echo(f"  must-visit {row.h3} ({row.case_ids}): {row.reason}")


def _route_html(route: Any, tiles: str) -> str:
    import folium
    import shapely

    from app.maps import base_map, standalone_html

    stops = route.stops
    m = base_map(float(stops["lat"].mean()), float(stops["lon"].mean()), zoom=15, tiles=tiles)
    xy = shapely.get_coordinates(route.path)
    if tiles == "gaode":
        from grid.coords import wgs84_to_gcj02

        glat, glon = wgs84_to_gcj02(xy[:, 1], xy[:, 0])
        xy = xy.copy()
        xy[:, 0], xy[:, 1] = glon, glat
    folium.PolyLine([(y, x) for x, y in xy], color="#2b6cb0", weight=4, opacity=0.8).add_to(m)
    for r in stops.itertuples():  # tens of stops
        lat, lon = r.lat, r.lon
        if tiles == "gaode":
            from grid.coords import wgs84_to_gcj02

            glat, glon = wgs84_to_gcj02([lat], [lon])
            lat, lon = float(glat[0]), float(glon[0])
        colour = "#c53030" if r.must_visit else ("#2f855a" if r.kind == "stop" else "#1a202c")
        text = html.escape(
            f"{r.order}. {r.h3 or r.kind} — {r.arrival.tz_convert('Asia/Shanghai'):%H:%M} — {r.why}"
        )
        folium.CircleMarker(
            [lat, lon], radius=6, color=colour, fill=True, fill_opacity=0.9, tooltip=text
        ).add_to(m)
    return standalone_html(m)


# --- beats ------------------------------------------------------------------------------------------------


def _demand(city_dir: Path | None, cells, timezone: str, model: str):
    """Forecast expected cases per cell and week (``analytics.forecast.forecast_cells``) for ``cells``."""
    from analytics.forecast import forecast_cells

    cases = _cases(city_dir)
    if cases.empty:
        raise DeployError("no cases to forecast demand from (import cases first)")
    forecast = forecast_cells(cases, cells["cell"].to_numpy(), period="week", timezone=timezone, model=model)
    click.echo(f"demand: forecast {forecast['period'].iloc[0]} with model {forecast['model'].iloc[0]}")
    return forecast.set_index("cell")["expected"].reindex(cells["cell"].to_numpy()).fillna(0.0).to_numpy()


@click.command(name="beats")
@click.option("--district", required=True, help="District code (the cells' `district`).")
@click.option("--inspectors", "n_beats", type=click.IntRange(min=1), required=True, help="Number of beats.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Output by suffix: .csv, .geojson, .parquet (GeoParquet) or .html (map).",
)
@click.option(
    "--tolerance",
    type=click.FloatRange(0.01, 0.5),
    default=0.10,
    show_default=True,
    help="Allowed workload deviation from the mean beat.",
)
@click.option(
    "--hot-share",
    type=click.FloatRange(0, 1),
    default=0.10,
    show_default=True,
    help="Share of cells (top forecast) walked every working day; the rest weekly.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@CITY_OPTION
@MODEL_OPTION
@TZ_OPTION
@click.option("--tiles", envvar="GRIDPATROL_TILES", default="osm", show_default=True, help="HTML base map.")
@exit_on(DeployError, ValueError)
def beats_cmd(**opts: Any) -> None:
    """Cut a district into contiguous, compact patrol beats with workloads balanced within ±10 %.

    Example: gridpatrol beats --district 320613 --inspectors 49 --out beats.geojson
    """
    import numpy as np

    from grid.cells import cells_to_polygons, cells_to_strings
    from patrol.deployment import cell_workload, partition_beats

    out: Path = opts["out"]
    if out.suffix.lower() not in (".csv", ".geojson", ".parquet", ".html"):
        raise DeployError(f"--out must end in .csv, .geojson, .parquet or .html; got {out.name}")
    cells = _cells(opts["city_dir"])
    cells = cells[cells["district"].astype(str) == str(opts["district"])].reset_index(drop=True)
    if cells.empty:
        raise DeployError(f"no cells in district {opts['district']!r}")
    expected = _demand(opts["city_dir"], cells, opts["timezone"], opts["model"])
    hot = expected >= np.quantile(expected, 1 - opts["hot_share"]) if opts["hot_share"] > 0 else expected < 0
    work = cell_workload(cells, expected, visits_per_week=np.where(hot & (expected > 0), 5.0, 1.0))
    plan = partition_beats(
        cells["cell"].to_numpy(),
        work["workload_min"].to_numpy(),
        opts["n_beats"],
        tolerance=opts["tolerance"],
        seed=opts["seed"],
    )
    b = plan.beats
    click.echo(
        f"{opts['n_beats']} beats over {len(cells):,} cells in {plan.seconds:.2f} s: workload "
        f"{b['workload_min'].mean() / 60:.1f} h/week each, max deviation {plan.max_deviation:.1%} "
        f"({'within' if plan.balanced else 'NOT within'} ±{opts['tolerance']:.0%}), all contiguous: "
        f"{bool(b['contiguous'].all())}, mean compactness {b['compactness'].mean():.2f}"
        + (f", {plan.links} link(s) added between unconnected parts" if plan.links else "")
    )
    frame = work.assign(beat=plan.labels, h3=cells_to_strings(cells["cell"].to_numpy()))
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        frame.drop(columns="cell").to_csv(out, index=False)
    else:
        polygons = cells_to_polygons(frame["cell"].to_numpy())
        gdf = polygons[["geometry"]].join(frame.drop(columns="cell").reset_index(drop=True))
        if out.suffix.lower() == ".geojson":
            out.write_text(gdf.to_json(drop_id=True), encoding="utf-8")
        elif out.suffix.lower() == ".parquet":
            gdf.to_parquet(out, index=False)
        else:
            out.write_text(_beats_html(gdf, opts["tiles"]), encoding="utf-8")
    click.echo(f"wrote {len(frame):,} cells to {out}")


def _beats_html(gdf, tiles: str) -> str:
    import numpy as np
    import pandas as pd

    from app.maps import base_map, cells_layer, standalone_html

    palette = np.array(
        ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]
    )
    centroid = gdf.geometry.union_all().centroid
    m = base_map(centroid.y, centroid.x, zoom=13, tiles=tiles)
    fill = pd.Series(palette[gdf["beat"].to_numpy() % palette.size], index=gdf.index)
    shown = gdf.assign(workload_min=gdf["workload_min"].round(1))
    cells_layer(
        shown,
        fill=fill,
        tooltip={"h3": "H3", "beat": "beat", "workload_min": "min/week"},
        tiles=tiles,
        name="beats",
    ).add_to(m)
    return standalone_html(m)


# --- staffing ---------------------------------------------------------------------------------------------


@click.command(name="staffing")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="CSV of inspectors per district, working day and shift; the what-if goes to <out>-what-if.csv.",
)
@click.option(
    "--inspectors",
    "n_inspectors",
    type=click.IntRange(min=0),
    default=None,
    help="Inspectors today, the centre of the what-if [default: active inspectors].",
)
@click.option("--k", type=click.IntRange(min=0), default=5, show_default=True, help="What-if for N-k … N+k.")
@click.option(
    "--hot-share",
    type=click.FloatRange(0, 1),
    default=0.10,
    show_default=True,
    help="Share of each district's cells walked every working day; the rest weekly.",
)
@click.option("--minutes-per-case", type=click.FloatRange(min=0), default=15.0, show_default=True)
@click.option("--utilisation", type=click.FloatRange(0.05, 1.0), default=0.85, show_default=True)
@CITY_OPTION
@MODEL_OPTION
@TZ_OPTION
@exit_on(DeployError, ValueError)
def staffing_cmd(**opts: Any) -> None:
    """Inspectors needed per shift and district for forecast demand and a coverage target, with a what-if.

    Example: gridpatrol staffing --out staffing.csv --inspectors 80 --k 10
    """
    import pandas as pd

    from patrol.staffing import hour_profile, staffing_plan, staffing_what_if

    out: Path = opts["out"]
    if out.suffix.lower() != ".csv":
        raise DeployError(f"--out must end in .csv; got {out.name}")
    city = opts["city_dir"]
    cells = _cells(city)
    expected = _demand(city, cells, opts["timezone"], opts["model"])
    demand = pd.DataFrame(
        {
            "cell": cells["cell"].to_numpy(),
            "district": cells["district"].astype(str).to_numpy(),
            "expected": expected,
        }
    )
    for column in ("street_m", "area_m2"):
        if column in cells.columns:
            demand[column] = cells[column].to_numpy()
    profile = hour_profile(_cases(city), timezone=opts["timezone"])
    knobs = {"minutes_per_case": opts["minutes_per_case"], "utilisation": opts["utilisation"]}
    plan = staffing_plan(demand, profile, hot_share=opts["hot_share"], **knobs)
    n = opts["n_inspectors"]
    if n is None:
        n = _active_inspectors(city)
    what_if = staffing_what_if(demand, plan, n, k=opts["k"], **knobs)
    out.parent.mkdir(parents=True, exist_ok=True)
    plan.table.to_csv(out, index=False)
    side = out.with_name(out.stem + "-what-if.csv")
    what_if.to_csv(side, index=False)
    click.echo(plan.per_shift.to_string(index=False))
    need = plan.per_shift.groupby("district")["inspectors"].max().sum()
    click.echo(f"roster needed: {need} inspectors (each working every shift); what-if around {n}:")
    click.echo(what_if.round(3).to_string(index=False))
    click.echo(f"wrote {out} and {side}")


def _active_inspectors(city_dir: Path | None) -> int:
    import pandas as pd

    if city_dir is not None:
        people = pd.read_csv(city_dir / "people" / "inspectors.csv", dtype=str)
        return int(people["active"].str.lower().eq("true").sum())
    import sqlalchemy as sa

    from cases.models import Inspector

    engine = _engine()
    try:
        with engine.connect() as conn:
            query = sa.select(sa.func.count()).select_from(Inspector).where(Inspector.active.is_(True))
            return int(conn.execute(query).scalar_one())
    finally:
        engine.dispose()


COMMANDS = [route_cmd, beats_cmd, staffing_cmd]
