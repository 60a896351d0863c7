"""``gridpatrol route``, ``beats`` and ``staffing``: suggested routes and deployment planning.

Each command parses its options, calls one service (:func:`services.deployment.route`,
:func:`~services.deployment.beats_plan`, :func:`~services.deployment.staffing`) and writes the result. The
services read the database by default or, with ``--city DIR``, a demo-city folder written by
``gridpatrol demo-data``; the forecast model, the visit targets and the time zone come from the city
configuration (``gridpatrol.toml``, ``[patrol]``), never from a command.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

from app.commands._common import exit_on
from cases.csv_safe import write_csv
from services.errors import ServiceError

CITY_OPTION = click.option(
    "--city",
    "city_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Read a demo-city folder (gridpatrol demo-data --out DIR) instead of the database.",
)
TILES_OPTION = click.option(
    "--tiles", envvar="GRIDPATROL_TILES", default=None, help="HTML base map [default: the configured tiles]."
)
AS_OF_OPTION = click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M"]),
    default=None,
    help="Plan for the cells assigned at this local time [default: now].",
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


def command_context(city_dir: Path | None = None) -> Any:
    """The service context of a command: the ``--db-url`` store, the city configuration, the system.

    A store on an old schema (or none) is a :class:`ServiceError` saying "run gridpatrol init"; with
    ``city_dir`` (a demo-city folder the services read instead) the store is not needed, so not checked.
    """
    from cases.db import SchemaOutOfDateError, make_engine
    from grid.config import data_dir, load_city_config
    from services.context import ServiceContext, open_context

    url = click.get_current_context().find_root().obj.get("db_url")
    if city_dir is not None:
        return ServiceContext(engine=make_engine(url), config=load_city_config(), data_dir=data_dir())
    try:
        return open_context(url)
    except SchemaOutOfDateError as exc:
        raise ServiceError("schema", str(exc)) from exc


def check_suffix(out: Path, suffixes: tuple[str, ...], error: type[Exception] = DeployError) -> str:
    suffix = out.suffix.lower()
    if suffix not in suffixes:
        raise error(f"--out must end in {', '.join(suffixes)}; got {out.name}")
    out.parent.mkdir(parents=True, exist_ok=True)
    return suffix


def write_html(m: Any, out: Path) -> None:
    from app.maps import standalone_html

    out.write_text(standalone_html(m), encoding="utf-8")


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
    help="Output by suffix: .gpx (phone navigation), .geojson, .csv (the stops) or .html (map).",
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
    help="Track store for the time since each cell's last patrol [default: the data folder's].",
)
@click.option(
    "--coverage-days",
    type=click.IntRange(min=1),
    default=None,
    help="Days of tracks before the date read for last visits [default: patrol.never_visited_days].",
)
@click.option("--speed", type=click.FloatRange(min=0.1), default=None, help="Walking m/s [default 1.2].")
@click.option(
    "--circuity",
    type=click.FloatRange(min=1.0),
    default=None,
    help="Street / straight-line distance without a street graph [default 1.3].",
)
@click.option(
    "--time-limit", type=click.FloatRange(min=0.01), default=1.0, show_default=True, help="Solver seconds."
)
@TILES_OPTION
@click.option(
    "--gpx-crs",
    type=click.Choice(["wgs84", "gcj02"]),
    default="wgs84",
    show_default=True,
    help="Coordinates of a .gpx: wgs84 (GPS devices) or gcj02 (Chinese map apps: Gaode, Tencent).",
)
@exit_on(DeployError, ServiceError)
def route_cmd(**opts: Any) -> None:
    """Suggest today's route for an inspector: the stops worth most within the shift, with reasons.

    Example: gridpatrol route --inspector NT0001 --date 2026-03-02 --budget 4h --out route.gpx
    """
    from services.deployment import RouteRequest, route

    out: Path = opts["out"]
    suffix = check_suffix(out, (".gpx", ".geojson", ".csv", ".html"))
    start = None
    if opts["start"]:
        try:
            lat, lon = (float(v) for v in opts["start"].split(","))
        except ValueError as exc:
            raise DeployError(f"--start must be 'LAT,LON'; got {opts['start']!r}") from exc
        start = (lat, lon)
    ctx = command_context(opts["city_dir"])
    request = RouteRequest(
        date=opts["date"].date(), inspector_id=opts["inspector"], budget_s=parse_duration(opts["budget"]),
        shift_start=opts["shift_start"], start=start, coverage_days=opts["coverage_days"],
        speed_mps=opts["speed"], circuity=opts["circuity"], time_limit_s=opts["time_limit"],
        city_dir=opts["city_dir"], streets=opts["streets"], osm=opts["osm"], tracks=opts["tracks"],
    )  # fmt: skip
    result = route(ctx, request)
    if suffix == ".html":
        from app.patrol_maps import route_map
        from services.basemap import geography_or_none

        tiles = opts["tiles"] or ctx.config.tiles
        geography = geography_or_none(ctx)  # the city's outlines and streets, when the store has them
        write_html(route_map(result.route, tiles=tiles, timezone=ctx.timezone, geography=geography), out)
    else:
        result.write(out, gpx_crs=opts["gpx_crs"])
    t = result.totals
    click.echo(
        f"{t['n_stops']} of {t['n_candidates']} cells, value {t['value']:.2f} of {t['value_available']:.2f}, "
        f"{t['distance_m'] / 1000:.1f} km, {t['duration_s'] / 60:.0f} of {t['budget_s'] / 60:.0f} min "
        f"(walk {t['walk_s'] / 60:.0f}, in cells {t['dwell_s'] / 60:.0f}); must-visit on time "
        f"{t['must_visited_on_time']}/{t['must_visit']}; network: {t['network']} → {out}"
    )
    for row in result.missed.itertuples():
        click.echo(f"  must-visit {row.h3} ({row.case_ids}): {row.reason}")


# --- beats ------------------------------------------------------------------------------------------------


@click.command(name="beats")
@click.option("--district", default=None, help="District code (the cells' `district`) [default: all].")
@click.option(
    "--inspectors",
    "n_beats",
    type=click.IntRange(min=1),
    default=None,
    help="Number of beats [default: the inspectors holding the cells].",
)
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
@click.option("--seed", type=int, default=0, show_default=True)
@AS_OF_OPTION
@CITY_OPTION
@TILES_OPTION
@exit_on(DeployError, ServiceError)
def beats_cmd(**opts: Any) -> None:
    """Cut the assigned cells (of a district) into contiguous, compact beats of balanced workload.

    Example: gridpatrol beats --district 320613 --inspectors 49 --out beats.geojson
    """
    from grid.cells import with_cell_polygons
    from services.deployment import BeatsRequest, beats_plan

    out: Path = opts["out"]
    suffix = check_suffix(out, (".csv", ".geojson", ".parquet", ".html"))
    ctx = command_context(opts["city_dir"])
    request = BeatsRequest(
        n_beats=opts["n_beats"], district=opts["district"], as_of=opts["as_of"], tolerance=opts["tolerance"],
        seed=opts["seed"], city_dir=opts["city_dir"],
    )  # fmt: skip
    plan = beats_plan(ctx, request)
    b = plan.beats
    click.echo(f"demand: forecast {plan.forecast_period} with model {plan.model}")
    click.echo(
        f"{plan.n_beats} beats over {len(plan.cells):,} cells in {plan.seconds:.2f} s: workload "
        f"{b['workload_min'].mean() / 60:.1f} h/week each, max deviation {plan.max_deviation:.1%} "
        f"({'within' if plan.balanced else 'NOT within'} ±{request.tolerance:.0%}), all contiguous: "
        f"{bool(b['contiguous'].all())}, mean compactness {b['compactness'].mean():.2f}"
        + (f", {plan.links} link(s) added between unconnected parts" if plan.links else "")
    )
    frame = plan.to_frame()
    if suffix == ".csv":
        write_csv(frame, out)
    elif suffix == ".html":
        tooltip = {"h3": "H3", "beat": "beat", "workload_min": "min/week"}
        from app.patrol_maps import beats_map

        write_html(beats_map(frame, tooltip, tiles=opts["tiles"] or ctx.config.tiles), out)
    else:
        gdf = with_cell_polygons(frame).drop(columns="cell")
        if suffix == ".geojson":
            out.write_text(gdf.to_json(drop_id=True), encoding="utf-8")
        else:
            gdf.to_parquet(out, index=False)
    click.echo(f"wrote {len(frame):,} cells to {out}")


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
    help="Inspectors today, the centre of the what-if [default: those holding the assigned cells].",
)
@click.option("--k", type=click.IntRange(min=0), default=2, show_default=True, help="What-if for N-k … N+k.")
@click.option("--district", default=None, help="Only this district [default: all].")
@click.option("--minutes-per-case", type=click.FloatRange(min=0), default=15.0, show_default=True)
@click.option("--utilisation", type=click.FloatRange(0.05, 1.0), default=0.85, show_default=True)
@AS_OF_OPTION
@CITY_OPTION
@exit_on(DeployError, ServiceError)
def staffing_cmd(**opts: Any) -> None:
    """Inspectors needed per shift and district for forecast demand and a coverage target, with a what-if.

    Example: gridpatrol staffing --out staffing.csv --inspectors 80 --k 10
    """
    from services.deployment import StaffingRequest, staffing

    out: Path = opts["out"]
    check_suffix(out, (".csv",))
    request = StaffingRequest(
        n_inspectors=opts["n_inspectors"], k=opts["k"], district=opts["district"], as_of=opts["as_of"],
        minutes_per_case=opts["minutes_per_case"], utilisation=opts["utilisation"], city_dir=opts["city_dir"],
    )  # fmt: skip
    result = staffing(command_context(opts["city_dir"]), request)
    write_csv(result.to_frame(), out)
    side = out.with_name(out.stem + "-what-if.csv")
    write_csv(result.what_if, side)
    click.echo(result.per_shift.to_string(index=False))
    click.echo(
        f"roster needed: {result.roster} inspectors (each working every shift); "
        f"what-if around {result.n_inspectors}:"
    )
    click.echo(result.what_if.round(3).to_string(index=False))
    click.echo(f"wrote {out} and {side}")


COMMANDS = [route_cmd, beats_cmd, staffing_cmd]
